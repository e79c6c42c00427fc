// Shared test support: temporary folders, free ports, real processes, and real loopback peers
// (an HTTP collector, a systemd notify socket; a ZPL printer in zpl_printer.hpp).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace packbench::testing {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

// Standard base64 with padding (RFC 4648 section 4): how an order carries a PNG or PDF.
std::string base64(const std::string& bytes);

// A loopback port, below the ephemeral range, that bound a moment ago and that no other test
// process gets while this one runs.
std::uint16_t free_port();

// Polls `pred` until it holds or `timeout` passes. For state that only shows by looking.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s);

// A child process: the real stationd or stationctl. stdout and stderr go to files.
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env,
          const std::filesystem::path& log_dir, const std::string& log_name);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit; returns the exit code, 128+signal when killed, or nullopt on time-out.
  std::optional<int> wait(std::chrono::milliseconds timeout = 30s);
  bool running();
  std::string output() const;  // stdout
  std::string errors() const;  // stderr

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
};

// Runs a command to its end and returns {exit code, stdout, stderr}.
struct RunResult {
  int code;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, const std::filesystem::path& log_dir,
                      std::map<std::string, std::string> env = {});

struct HttpExchange {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// An HTTP/1.1 server on loopback that records every request and answers with `status`.
class HttpCollector {
 public:
  explicit HttpCollector(std::uint16_t port = 0, int status = 200);
  ~HttpCollector();
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/events") const;
  std::vector<HttpExchange> requests();
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = 30s);
  void set_status(int status) { status_ = status; }

 private:
  void run();
  void serve(int fd);
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> status_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpExchange> requests_;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// Every CloudEvent in the collector's requests (each body a batch: a JSON array), in order.
std::vector<boost::json::object> cloudevents_in(const std::vector<HttpExchange>& requests);

// A blocking HTTP GET on loopback; returns {status, body} or nullopt when nothing answers.
std::optional<std::pair<int, std::string>> http_get(std::uint16_t port, const std::string& target);

// Any HTTP/1.1 request on loopback; returns {status, body} or nullopt when nothing answers.
std::optional<std::pair<int, std::string>> http_request(std::uint16_t port,
                                                        const std::string& method,
                                                        const std::string& target,
                                                        const std::string& body = "",
                                                        const std::string& content_type = "");

// Sends bytes to a TCP port on loopback and closes the connection.
bool tcp_send(std::uint16_t port, const std::string& bytes);

// The systemd side of sd_notify: a datagram socket whose path goes in NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path);
  ~NotifySocket();
  const std::filesystem::path& path() const { return path_; }
  // Waits for a datagram containing `text`; earlier datagrams are consumed.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout = 30s);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Plain loopback sockets for peers written in tests: a listening socket on 127.0.0.1:port (0:
// any; the bound port goes to *bound), a connected one (-1 on failure), a blocking send of all.
int listen_loopback_fd(std::uint16_t port, std::uint16_t* bound);
int connect_loopback_fd(std::uint16_t port);
bool send_all_fd(int fd, const std::string& bytes);

// Paths of the built programs, set by CMake.
std::filesystem::path stationd_path();
std::filesystem::path stationctl_path();

}  // namespace packbench::testing

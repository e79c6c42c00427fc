// A Zebra-style label printer on loopback (port 9100 style) that speaks the real bytes: a ~HS on
// any connection is answered with the three <STX>...<ETX><CR><LF> strings of the ZPL II
// Programming Guide ("~HS Host Status Return"), built from the flags set here; everything else a
// connection carries is one job, recorded once the station closes its side. The printer closes
// its own side then, as a real one does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace packbench::testing {

class VirtualZplPrinter {
 public:
  struct Flags {
    bool paper_out = false;
    bool head_open = false;  // string 2's "head up" flag
    bool ribbon_out = false;
    bool paused = false;
  };

  // Listens on 127.0.0.1:port (0: any free port).
  explicit VirtualZplPrinter(std::uint16_t port = 0);
  ~VirtualZplPrinter();
  VirtualZplPrinter(const VirtualZplPrinter&) = delete;
  VirtualZplPrinter& operator=(const VirtualZplPrinter&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Jobs received whole, ~HS taken out, in the order they ended.
  std::vector<std::string> jobs();
  bool wait_for_jobs(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // ~HS commands heard so far, answered or not.
  std::size_t status_queries();
  bool wait_for_status_queries(std::size_t n,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

  void set_flags(Flags flags);
  void set_paper_out(bool on);
  void set_head_open(bool on);
  void set_paused(bool on);
  // Hears ~HS and says nothing, as a Zebra out of media or with its head open may.
  void set_silent(bool on);
  // Answers ~HS with these bytes instead of the real answer (garbage, half an answer);
  // nullopt goes back to the real one.
  void set_answer(std::optional<std::string> raw);

  // The answer the current flags make, byte for byte.
  std::string host_status_answer();

 private:
  struct Connection {
    int fd;
    std::string data;
    std::size_t scanned = 0;  // bytes before this hold no ~HS
  };
  void run();
  bool serve(Connection& c);  // false once the connection is over
  std::string answer_locked() const;

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  Flags flags_;
  bool silent_ = false;
  std::optional<std::string> raw_answer_;
  std::size_t queries_ = 0;
  std::vector<std::string> jobs_;
  std::thread thread_;
};

}  // namespace packbench::testing

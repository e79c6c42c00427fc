#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

namespace packbench::testing {

namespace {

// A TCP socket with SO_REUSEADDR; -1 when none can be made.
int reusable_tcp_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  return fd;
}

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

int listen_loopback(std::uint16_t port, std::uint16_t* bound) {
  const int fd = reusable_tcp_socket();
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in addr = loopback_address(port);
  // A port a test chose earlier can be busy for a moment: another test's ephemeral port, or a
  // station's own connect to it that the kernel turned into a self-connection (a connect to an
  // unused loopback port can get that very port as its source). Wait for it, within bounds.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int rc = 0;
  for (;;) {
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc == 0 || port == 0 || errno != EADDRINUSE ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  if (rc != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = ntohs(addr.sin_port);
  return fd;
}

// Waits up to `ms` for `fd` to become readable; false on time-out.
bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in addr = loopback_address(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

// --- files and folders ---------------------------------------------------------------------

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("packbench-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) {
      break;
    }
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Ports are chosen below the kernel's ephemeral range (32768 and up here, see
// /proc/sys/net/ipv4/ip_local_port_range), so that no outgoing connection of this or any other
// test can be given one as its source port, and a station connecting to a port nobody listens
// on yet cannot connect to itself. Each port handed out is held by an advisory lock file for the
// life of the process, so two tests running side by side (ctest -j) never get the same one, and
// it must bind at the moment it is chosen.
std::uint16_t free_port() {
  constexpr std::uint16_t kLow = 20000;
  constexpr std::uint16_t kHigh = 32000;
  static std::mutex mutex;
  static std::set<std::uint16_t> given;
  static const std::filesystem::path locks = [] {
    auto dir = std::filesystem::temp_directory_path() / "packbench-test-ports";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::all, ec);
    return dir;
  }();
  std::lock_guard lock(mutex);
  std::random_device rd;
  const std::uint16_t start = kLow + static_cast<std::uint16_t>(rd() % (kHigh - kLow));
  for (std::uint32_t i = 0; i < kHigh - kLow; ++i) {
    const auto port = static_cast<std::uint16_t>(kLow + (start - kLow + i) % (kHigh - kLow));
    if (given.contains(port)) {
      continue;
    }
    const auto path = locks / (std::to_string(port) + ".lock");
    const int lfd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lfd < 0) {
      continue;
    }
    if (::flock(lfd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lfd);  // another test process holds it
      continue;
    }
    const int fd = reusable_tcp_socket();
    const sockaddr_in addr = loopback_address(port);
    const bool bound =
        fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) {
      ::close(fd);
    }
    if (!bound) {
      ::close(lfd);  // someone outside the tests uses it
      continue;
    }
    given.insert(port);  // the lock file stays open (and locked) until the process exits
    return port;
  }
  throw std::runtime_error("no free loopback port between 20000 and 32000");
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// --- processes -----------------------------------------------------------------------------

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                 const std::filesystem::path& log_dir, const std::string& log_name)
    : out_path_(log_dir / (log_name + ".out")), err_path_(log_dir / (log_name + ".err")) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('='));
    if (!env.count(name)) {
      env_strings.push_back(entry);
    }
  }
  for (const auto& [k, v] : env) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> cargv;
  for (auto& a : argv) {
    cargv.push_back(a.data());
  }
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env_strings) {
    cenv.push_back(e.data());
  }
  cenv.push_back(nullptr);
  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
}

Process::~Process() {
  if (running()) {
    signal(SIGKILL);
    wait(10s);
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

bool Process::running() {
  if (status_ || pid_ <= 0) {
    return false;
  }
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  wait_until([&] { return !running(); }, timeout);
  return status_;
}

std::string Process::output() const {
  return read_file(out_path_);
}
std::string Process::errors() const {
  return read_file(err_path_);
}

RunResult run_command(std::vector<std::string> argv, const std::filesystem::path& log_dir,
                      std::map<std::string, std::string> env) {
  static int counter = 0;
  const std::string name = "cmd-" + std::to_string(++counter);
  std::filesystem::remove(log_dir / (name + ".out"));
  std::filesystem::remove(log_dir / (name + ".err"));
  Process p(std::move(argv), std::move(env), log_dir, name);
  const auto code = p.wait(120s);
  return {code.value_or(-1), p.output(), p.errors()};
}

// --- HTTP collector ------------------------------------------------------------------------

HttpCollector::HttpCollector(std::uint16_t port, int status) : status_(status) {
  listen_fd_ = listen_loopback(port, &port_);
  thread_ = std::thread([this] { run(); });
}

HttpCollector::~HttpCollector() {
  stop_ = true;
  thread_.join();
  for (auto& w : workers_) {
    w.join();
  }
  ::close(listen_fd_);
}

std::string HttpCollector::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpCollector::run() {
  while (!stop_) {
    if (!readable(listen_fd_, 50)) {
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
}

void HttpCollector::serve(int fd) {
  std::string buf;
  char chunk[8192];
  while (!stop_) {
    const auto head_end = buf.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (!readable(fd, 50)) {
        continue;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    HttpExchange ex;
    std::istringstream head(buf.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    first >> ex.method >> ex.target;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      ex.headers[name] = value;
    }
    const std::size_t length =
        ex.headers.count("content-length") ? std::stoul(ex.headers["content-length"]) : 0;
    while (!stop_ && buf.size() < head_end + 4 + length) {
      if (!readable(fd, 50)) {
        continue;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    ex.body = buf.substr(head_end + 4, length);
    buf.erase(0, head_end + 4 + length);
    const int status = status_;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(ex));
    }
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 " Status\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n";
    send_all(fd, response);
    cv_.notify_all();
  }
  ::close(fd);
}

std::vector<HttpExchange> HttpCollector::requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

bool HttpCollector::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

std::vector<boost::json::object> cloudevents_in(const std::vector<HttpExchange>& requests) {
  std::vector<boost::json::object> out;
  for (const auto& r : requests) {
    const boost::json::value batch = boost::json::parse(r.body);
    for (const auto& v : batch.as_array()) {
      out.push_back(v.as_object());
    }
  }
  return out;
}

// --- clients -------------------------------------------------------------------------------

std::optional<std::pair<int, std::string>> http_get(std::uint16_t port, const std::string& target) {
  return http_request(port, "GET", target);
}

std::optional<std::pair<int, std::string>> http_request(std::uint16_t port,
                                                        const std::string& method,
                                                        const std::string& target,
                                                        const std::string& body,
                                                        const std::string& content_type) {
  const int fd = connect_loopback(port);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string req = method + " " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  if (!content_type.empty()) {
    req += "Content-Type: " + content_type + "\r\n";
  }
  req += "\r\n" + body;
  if (!send_all(fd, req)) {
    ::close(fd);
    return std::nullopt;
  }
  std::string response;
  char chunk[8192];
  while (readable(fd, 10000)) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      break;
    }
    response.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(std::stoi(response.substr(9, 3)), response.substr(head_end + 4));
}

bool tcp_send(std::uint16_t port, const std::string& bytes) {
  const int fd = connect_loopback(port);
  if (fd < 0) {
    return false;
  }
  const bool ok = send_all(fd, bytes);
  ::close(fd);
  return ok;
}

// --- sd_notify -----------------------------------------------------------------------------

NotifySocket::NotifySocket(const std::filesystem::path& path) : path_(path) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("cannot bind notify socket " + path.string());
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

bool NotifySocket::wait_for(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd_, static_cast<int>(left.count()))) {
      return false;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0 && std::string(buf, static_cast<std::size_t>(n)).find(text) != std::string::npos) {
      return true;
    }
  }
}

int listen_loopback_fd(std::uint16_t port, std::uint16_t* bound) {
  return listen_loopback(port, bound);
}
int connect_loopback_fd(std::uint16_t port) {
  return connect_loopback(port);
}
bool send_all_fd(int fd, const std::string& bytes) {
  return send_all(fd, bytes);
}

std::filesystem::path stationd_path() {
  return PACKBENCH_STATIOND;
}
std::filesystem::path stationctl_path() {
  return PACKBENCH_STATIONCTL;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace packbench::testing

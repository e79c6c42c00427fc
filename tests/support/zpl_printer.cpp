#include "zpl_printer.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.hpp"

namespace packbench::testing {

VirtualZplPrinter::VirtualZplPrinter(std::uint16_t port) {
  listen_fd_ = listen_loopback_fd(port, &port_);
  thread_ = std::thread([this] { run(); });
}

VirtualZplPrinter::~VirtualZplPrinter() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string VirtualZplPrinter::answer_locked() const {
  if (raw_answer_) {
    return *raw_answer_;
  }
  auto line = [](const std::string& fields) { return "\x02" + fields + "\x03\r\n"; };
  auto bit = [](bool b) { return b ? std::string("1") : std::string("0"); };
  // String 1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l (b paper out, c pause).
  // String 2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www (o head up, p ribbon out; thermal transfer,
  // tear-off mode). String 3: xxxx,y (password, static RAM).
  return line("030," + bit(flags_.paper_out) + "," + bit(flags_.paused) +
              ",1218,000,0,0,0,000,0,0,0") +
         line("001,0," + bit(flags_.head_open) + "," + bit(flags_.ribbon_out) +
              ",1,2,6,0,00000000,1,000") +
         line("1234,0");
}

std::string VirtualZplPrinter::host_status_answer() {
  std::lock_guard lock(mu_);
  return answer_locked();
}

void VirtualZplPrinter::run() {
  std::vector<Connection> conns;
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& c : conns) {
      fds.push_back({c.fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0) {
      continue;
    }
    std::vector<Connection> next;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      if (fds[i + 1].revents == 0 || serve(conns[i])) {
        next.push_back(std::move(conns[i]));
      }
    }
    conns = std::move(next);
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        conns.push_back({fd, {}, 0});
      }
    }
  }
  for (const auto& c : conns) {
    ::close(c.fd);
  }
}

bool VirtualZplPrinter::serve(Connection& c) {
  char buf[4096];
  const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
  if (n <= 0) {
    // The station closed its side (or the connection broke): what it sent is one job.
    ::close(c.fd);
    if (n == 0 && !c.data.empty()) {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(c.data));
      cv_.notify_all();
    }
    return false;
  }
  c.data.append(buf, static_cast<std::size_t>(n));
  // A ~ command acts as soon as it is read, wherever it is in the stream.
  for (;;) {
    const auto at = c.data.find("~HS", c.scanned);
    if (at == std::string::npos) {
      break;
    }
    c.data.erase(at, 3);
    c.scanned = at;
    std::string answer;
    {
      std::lock_guard lock(mu_);
      ++queries_;
      if (!silent_) {
        answer = answer_locked();
      }
      cv_.notify_all();
    }
    if (!answer.empty()) {
      send_all_fd(c.fd, answer);
    }
  }
  // The last two bytes may start a ~HS that the next read completes.
  c.scanned = c.data.size() >= 2 ? c.data.size() - 2 : 0;
  return true;
}

std::vector<std::string> VirtualZplPrinter::jobs() {
  std::lock_guard lock(mu_);
  return jobs_;
}

bool VirtualZplPrinter::wait_for_jobs(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return jobs_.size() >= n; });
}

std::size_t VirtualZplPrinter::status_queries() {
  std::lock_guard lock(mu_);
  return queries_;
}

bool VirtualZplPrinter::wait_for_status_queries(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return queries_ >= n; });
}

void VirtualZplPrinter::set_flags(Flags flags) {
  std::lock_guard lock(mu_);
  flags_ = flags;
}

void VirtualZplPrinter::set_paper_out(bool on) {
  std::lock_guard lock(mu_);
  flags_.paper_out = on;
}

void VirtualZplPrinter::set_head_open(bool on) {
  std::lock_guard lock(mu_);
  flags_.head_open = on;
}

void VirtualZplPrinter::set_paused(bool on) {
  std::lock_guard lock(mu_);
  flags_.paused = on;
}

void VirtualZplPrinter::set_silent(bool on) {
  std::lock_guard lock(mu_);
  silent_ = on;
}

void VirtualZplPrinter::set_answer(std::optional<std::string> raw) {
  std::lock_guard lock(mu_);
  raw_answer_ = std::move(raw);
}

}  // namespace packbench::testing

#include "station/daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace packbench::station {

bool systemd_notify(std::string_view message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    return false;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return sent == static_cast<ssize_t>(message.size());
}

std::optional<std::chrono::microseconds> systemd_watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (!usec || !*usec) {
    return std::nullopt;
  }
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
    if (std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid())) {
      return std::nullopt;
    }
  }
  const long long value = std::strtoll(usec, nullptr, 10);
  if (value <= 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(value / 2);
}

}  // namespace packbench::station

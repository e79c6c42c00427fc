#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "station/daemon/demo.hpp"

namespace packbench::station {

Result<void> make_demo_key(const std::filesystem::path& path) {
  if (std::filesystem::exists(path)) {
    return {};
  }
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Error{"cannot make the demo's discount key: no random bytes"};
  }
  std::string hex;
  for (unsigned char b : bytes) {
    hex += fmt::format("{:02x}", b);
  }
  hex += "\n";
  // O_EXCL: a second process making it at the same moment keeps the first one's key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return {};
    }
    return Error{"cannot write the demo's discount key " + path.string()};
  }
  const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!ok) {
    std::filesystem::remove(path, ec);
    return Error{"cannot write the demo's discount key " + path.string()};
  }
  return {};
}

}  // namespace packbench::station

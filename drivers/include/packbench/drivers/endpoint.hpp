// host:port parsing shared by every network backend and by configuration validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace packbench::drivers {

struct Endpoint {
  std::string host;  // an IPv4 or IPv6 literal; IPv6 without brackets
  std::uint16_t port = 0;
};

// Parses "127.0.0.1:7001", "[::1]:7001" or "localhost:7001" (localhost means 127.0.0.1).
// Returns nullopt with a reason in `why` when the text is not a usable address.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr);

}  // namespace packbench::drivers

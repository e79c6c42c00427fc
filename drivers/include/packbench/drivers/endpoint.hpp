// host:port parsing shared by every network backend and by configuration validation.
#pragma once

#include <boost/asio/ip/tcp.hpp>
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

boost::asio::ip::tcp::endpoint to_tcp(const Endpoint& ep);

// Opens, binds and listens `acceptor` on `address` (host:port). On failure the acceptor is
// closed and the error says what and where, e.g. "cannot listen on 127.0.0.1:7001: Address
// already in use".
std::optional<std::string> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                     std::string_view address);

}  // namespace packbench::drivers

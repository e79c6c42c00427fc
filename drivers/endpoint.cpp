#include "packbench/drivers/endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace packbench::drivers {

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* why) {
  auto fail = [why](std::string reason) -> std::optional<Endpoint> {
    if (why) {
      *why = std::move(reason);
    }
    return std::nullopt;
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail("expected host:port");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 address needs brackets: [::1]:port");
    }
  }
  if (host.empty()) {
    return fail("the host is empty");
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return fail("the port must be a number from 1 to 65535");
  }
  Endpoint ep;
  ep.port = static_cast<std::uint16_t>(value);
  if (host == "localhost") {
    ep.host = "127.0.0.1";
    return ep;
  }
  boost::system::error_code addr_ec;
  boost::asio::ip::make_address(std::string(host), addr_ec);
  if (addr_ec) {
    return fail("'" + std::string(host) + "' is not an IP address");
  }
  ep.host = std::string(host);
  return ep;
}

boost::asio::ip::tcp::endpoint to_tcp(const Endpoint& ep) {
  return {boost::asio::ip::make_address(ep.host), ep.port};
}

std::optional<std::string> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                     std::string_view address) {
  std::string why;
  const auto ep = parse_endpoint(address, &why);
  if (!ep) {
    return "address '" + std::string(address) + "': " + why;
  }
  const auto endpoint = to_tcp(*ep);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return "cannot listen on " + std::string(address) + ": " + ec.message();
  }
  return std::nullopt;
}

}  // namespace packbench::drivers

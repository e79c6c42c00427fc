#include "scanner/tcp_connect/tcp_connect_scanner.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "packbench/drivers/endpoint.hpp"
#include "scanner/framed_input.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A connection that lasted less than this taught us nothing about the peer being healthy, so
// the back-off keeps growing (a reader that accepts and hangs up at once must not be hammered).
constexpr std::chrono::seconds kHealthyAfter{1};

// A scanner that loses power sends no FIN: without keep-alive the connection would look up for
// hours. These make a dead peer show within about 25 s.
void enable_keepalive(tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(tcp::socket::keep_alive(true), ignored);
  const int fd = s.native_handle();
  const int idle = 10;
  const int interval = 5;
  const int count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

}  // namespace

struct TcpConnectScanner::Link : std::enable_shared_from_this<Link> {
  Link(asio::any_io_executor ex, ScannerOptions opts)
      : options(std::move(opts)),
        socket(ex),
        connect_timer(ex),
        retry(ex),
        sink(std::make_shared<ScanSink>(ex, options.name, options.max_scans_per_second)),
        backoff(options.retry_base, options.retry_cap) {}

  ScannerOptions options;
  tcp::endpoint endpoint;
  tcp::socket socket;
  asio::steady_timer connect_timer;
  asio::steady_timer retry;
  std::shared_ptr<ScanSink> sink;
  std::shared_ptr<FramedInput> input;  // one per connection
  Backoff backoff;
  DeviceStatus status;
  bool active = false;
  unsigned attempt = 0;  // tells a stale time-out from the current one
  bool timed_out = false;
  std::chrono::steady_clock::time_point connected_at;
  std::string last_failure;
  std::array<char, 4096> chunk{};

  void connect() {
    if (!active) {
      return;
    }
    ++attempt;
    timed_out = false;
    status = {DeviceState::connecting, "connecting to " + options.address};
    connect_timer.expires_after(options.connect_timeout);
    connect_timer.async_wait(
        [self = shared_from_this(), a = attempt](boost::system::error_code ec) {
          if (ec || !self->active || a != self->attempt) {
            return;
          }
          // Closing makes the pending connect complete with operation_aborted.
          self->timed_out = true;
          boost::system::error_code ignored;
          self->socket.close(ignored);
        });
    socket.async_connect(
        endpoint, [self = shared_from_this(), a = attempt](boost::system::error_code ec) {
          if (!self->active || a != self->attempt) {
            return;
          }
          self->connect_timer.cancel();
          if (ec) {
            const std::string why =
                self->timed_out ? "timed out after " + describe_delay(self->options.connect_timeout)
                                : ec.message();
            boost::system::error_code ignored;
            self->socket.close(ignored);
            self->fail("cannot connect to " + self->options.address + ": " + why);
            return;
          }
          self->connected();
        });
  }

  void connected() {
    enable_keepalive(socket);
    connected_at = std::chrono::steady_clock::now();
    last_failure.clear();
    input =
        std::make_shared<FramedInput>(socket.get_executor(), FramerOptions::from(options), sink);
    status = {DeviceState::ready, "connected to " + options.address};
    spdlog::info("scanner {}: {}", options.name, status.detail);
    read_next();
  }

  void fail(const std::string& why) {
    const auto delay = backoff.next();
    status = {DeviceState::offline, why + "; retrying in " + describe_delay(delay)};
    if (why != last_failure) {
      // Once per distinct problem: a reader that is switched off must not fill the journal.
      spdlog::warn("scanner {}: {}; retrying with back-off", options.name, why);
      last_failure = why;
    }
    retry.expires_after(delay);
    retry.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->active) {
        self->connect();
      }
    });
  }

  void read_next() {
    socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](
                                                    boost::system::error_code ec, std::size_t n) {
      if (!self->active) {
        return;
      }
      if (n > 0) {
        self->input->feed(std::string_view(self->chunk.data(), n));
      }
      if (!self->active) {
        return;  // the scan handler deactivated the scanner
      }
      if (ec) {
        self->lost(ec);
        return;
      }
      self->read_next();
    });
  }

  void lost(boost::system::error_code ec) {
    // The reader's connection is long-lived: when it ends, a line without its terminator was
    // cut off, not finished.
    const std::string why = ec == asio::error::eof ? "closed by the scanner" : ec.message();
    input->abort("the connection dropped in the middle of a scan (" + why + ")");
    input->stop();
    input.reset();
    boost::system::error_code ignored;
    socket.close(ignored);
    if (std::chrono::steady_clock::now() - connected_at >= kHealthyAfter) {
      backoff.reset();
    }
    fail("connection to " + options.address + " lost: " + why);
  }
};

TcpConnectScanner::TcpConnectScanner(asio::any_io_executor ex, ScannerOptions options)
    : link_(std::make_shared<Link>(std::move(ex), std::move(options))) {}

TcpConnectScanner::~TcpConnectScanner() {
  deactivate();
}

const std::string& TcpConnectScanner::name() const {
  return link_->options.name;
}

DeviceStatus TcpConnectScanner::status() const {
  return link_->status;
}

Result<void> TcpConnectScanner::activate(ScanHandler on_scan) {
  auto& l = *link_;
  if (l.active) {
    return Error{"scanner " + l.options.name + ": already active"};
  }
  std::string why;
  const auto ep = parse_endpoint(l.options.address, &why);
  if (!ep) {
    l.status = {DeviceState::fault, "address '" + l.options.address + "': " + why};
    return Error{"scanner " + l.options.name + ": " + l.status.detail};
  }
  l.endpoint = to_tcp(*ep);
  l.sink->start(std::move(on_scan));
  l.active = true;
  l.connect();
  return {};
}

void TcpConnectScanner::deactivate() {
  auto& l = *link_;
  if (!l.active) {
    return;
  }
  l.active = false;
  l.sink->stop();
  l.connect_timer.cancel();
  l.retry.cancel();
  if (l.input) {
    l.input->stop();
    l.input.reset();
  }
  boost::system::error_code ignored;
  l.socket.close(ignored);
  l.status = {DeviceState::inactive, "stopped"};
}

}  // namespace packbench::drivers

#include "scanner/tcp_listen/tcp_listen_scanner.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <list>

#include "packbench/drivers/endpoint.hpp"
#include "scanner/framed_input.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One client. Each has its own framer: lines from two clients must never mix.
struct Connection {
  Connection(tcp::socket s, std::shared_ptr<FramedInput> in)
      : socket(std::move(s)), input(std::move(in)) {}
  tcp::socket socket;
  std::shared_ptr<FramedInput> input;
  std::array<char, 4096> chunk{};
};

}  // namespace

struct TcpListenScanner::Listener : std::enable_shared_from_this<Listener> {
  Listener(asio::any_io_executor ex, ScannerOptions opts)
      : options(std::move(opts)),
        acceptor(ex),
        sink(std::make_shared<ScanSink>(ex, options.name, options.max_scans_per_second)) {}

  ScannerOptions options;
  tcp::acceptor acceptor;
  // One sink for all clients, so that the flood limit is the scanner's, not each client's.
  std::shared_ptr<ScanSink> sink;
  std::list<std::weak_ptr<Connection>> connections;
  DeviceStatus status;
  bool active = false;

  void accept_next() {
    acceptor.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (!self->active) {
            return;
          }
          if (ec) {
            spdlog::warn("scanner {}: accept failed: {}", self->options.name, ec.message());
          } else {
            auto input = std::make_shared<FramedInput>(
                self->acceptor.get_executor(), FramerOptions::from(self->options), self->sink);
            auto conn = std::make_shared<Connection>(std::move(socket), std::move(input));
            self->connections.remove_if([](const auto& w) { return w.expired(); });
            self->connections.push_back(conn);
            self->read_next(std::move(conn));
          }
          self->accept_next();
        });
  }

  void read_next(std::shared_ptr<Connection> conn) {
    auto* c = conn.get();
    c->socket.async_read_some(
        asio::buffer(c->chunk), [self = shared_from_this(), conn = std::move(conn)](
                                    boost::system::error_code ec, std::size_t n) mutable {
          if (!self->active) {
            return;
          }
          if (ec) {
            // The client hung up. A line it did not terminate is still a scan: `printf X | nc`
            // and some readers end the last code with the connection instead of a newline. A
            // reset is not a clean end, so a line cut off by one is rejected instead.
            if (ec == asio::error::eof) {
              conn->input->finish();
            } else {
              conn->input->abort("the connection broke in the middle of a line (" + ec.message() +
                                 ")");
            }
            conn->input->stop();
            return;
          }
          conn->input->feed(std::string_view(conn->chunk.data(), n));
          if (self->active) {
            self->read_next(std::move(conn));
          }
        });
  }
};

TcpListenScanner::TcpListenScanner(asio::any_io_executor ex, ScannerOptions options)
    : listener_(std::make_shared<Listener>(std::move(ex), std::move(options))) {}

TcpListenScanner::~TcpListenScanner() {
  deactivate();
}

const std::string& TcpListenScanner::name() const {
  return listener_->options.name;
}

DeviceStatus TcpListenScanner::status() const {
  return listener_->status;
}

Result<void> TcpListenScanner::activate(ScanHandler on_scan) {
  auto& l = *listener_;
  if (auto failed = listen_on(l.acceptor, l.options.address)) {
    l.status = {DeviceState::fault, *failed};
    return Error{"scanner " + l.options.name + ": " + *failed};
  }
  l.sink->start(std::move(on_scan));
  l.active = true;
  l.status = {DeviceState::ready, "listening on " + l.options.address};
  l.accept_next();
  return {};
}

void TcpListenScanner::deactivate() {
  auto& l = *listener_;
  if (!l.active) {
    return;
  }
  l.active = false;
  l.sink->stop();
  boost::system::error_code ignored;
  l.acceptor.close(ignored);
  for (auto& weak : l.connections) {
    if (auto conn = weak.lock()) {
      conn->input->stop();
      conn->socket.close(ignored);
    }
  }
  l.connections.clear();
  l.status = {DeviceState::inactive, "stopped"};
}

}  // namespace packbench::drivers

#include "scanner/tcp_listen/tcp_listen_scanner.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <list>

#include "packbench/drivers/endpoint.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::string pending;      // bytes of the line not yet terminated
  bool discarding = false;  // inside a line that grew past the limit
  std::array<char, 4096> chunk{};
};

}  // namespace

struct TcpListenScanner::Listener : std::enable_shared_from_this<Listener> {
  Listener(asio::any_io_executor ex, ScannerOptions opts)
      : options(std::move(opts)), acceptor(ex) {}

  ScannerOptions options;
  tcp::acceptor acceptor;
  ScanHandler on_scan;
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
            auto conn = std::make_shared<Connection>(std::move(socket));
            self->connections.remove_if([](const auto& w) { return w.expired(); });
            self->connections.push_back(conn);
            self->read_next(std::move(conn));
          }
          self->accept_next();
        });
  }

  void read_next(std::shared_ptr<Connection> conn) {
    auto* c = conn.get();
    c->socket.async_read_some(asio::buffer(c->chunk),
                              [self = shared_from_this(), conn = std::move(conn)](
                                  boost::system::error_code ec, std::size_t n) mutable {
                                if (!self->active) {
                                  return;
                                }
                                if (ec) {
                                  // The client hung up. A line it did not terminate is still a
                                  // scan: `printf X | nc` and some readers end the last code with
                                  // the connection instead of a newline.
                                  if (!conn->pending.empty() && !conn->discarding) {
                                    self->deliver(std::move(conn->pending));
                                  }
                                  return;
                                }
                                self->consume(*conn, std::string_view(conn->chunk.data(), n));
                                self->read_next(std::move(conn));
                              });
  }

  void consume(Connection& c, std::string_view bytes) {
    for (char ch : bytes) {
      if (ch == '\n' || ch == '\r') {
        if (!c.discarding && !c.pending.empty()) {
          deliver(std::move(c.pending));
        }
        c.pending.clear();
        c.discarding = false;
        continue;
      }
      if (c.discarding) {
        continue;
      }
      if (c.pending.size() >= options.max_line_bytes) {
        spdlog::warn("scanner {}: dropped a line longer than {} bytes", options.name,
                     options.max_line_bytes);
        c.pending.clear();
        c.discarding = true;
        continue;
      }
      c.pending.push_back(ch);
    }
  }

  void deliver(std::string data) {
    Scan scan;
    scan.scanner = options.name;
    scan.data = std::move(data);
    scan.received_at = std::chrono::system_clock::now();
    scan.received_mono = std::chrono::steady_clock::now();
    if (on_scan) {
      on_scan(std::move(scan));
    }
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
  l.on_scan = std::move(on_scan);
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
  l.on_scan = nullptr;
  boost::system::error_code ignored;
  l.acceptor.close(ignored);
  for (auto& weak : l.connections) {
    if (auto conn = weak.lock()) {
      conn->socket.close(ignored);
    }
  }
  l.connections.clear();
  l.status = {DeviceState::inactive, "stopped"};
}

}  // namespace packbench::drivers

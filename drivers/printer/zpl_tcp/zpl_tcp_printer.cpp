#include "printer/zpl_tcp/zpl_tcp_printer.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "packbench/drivers/endpoint.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ZplTcpPrinter::Link : std::enable_shared_from_this<Link> {
  Link(asio::any_io_executor e, PrinterOptions opts) : ex(std::move(e)), options(std::move(opts)) {}

  asio::any_io_executor ex;
  PrinterOptions options;
  tcp::endpoint endpoint;
  DeviceStatus status;
  bool active = false;
  std::shared_ptr<tcp::socket> socket;  // the job in flight, if any

  // Like CUPS' socket backend with waiteof: the job is delivered when the printer, having read
  // everything, closes its side. Anything it says on the way (status bytes) is read and ignored.
  template <class Finish>
  static void drain_until_closed(std::shared_ptr<tcp::socket> sock, Finish finish) {
    auto buf = std::make_shared<std::array<char, 512>>();
    sock->async_read_some(asio::buffer(*buf),
                          [sock, buf, finish](boost::system::error_code ec, std::size_t) mutable {
                            if (ec == asio::error::eof) {
                              return finish({}, "");
                            }
                            if (ec) {
                              return finish(ec, "waiting for the printer to finish reading");
                            }
                            drain_until_closed(std::move(sock), std::move(finish));
                          });
  }

  // One attempt: connect, write everything, half-close and wait for the printer to close, all
  // under one deadline. The printer has the bytes once it has read them to the end.
  void run(PrintJob job, PrintDone done) {
    auto sock = std::make_shared<tcp::socket>(ex);
    socket = sock;
    auto timer = std::make_shared<asio::steady_timer>(ex, options.timeout);
    auto data = std::make_shared<std::string>(std::move(job.data));
    auto finished = std::make_shared<bool>(false);
    auto finish = [self = shared_from_this(), sock, timer, finished, done = std::move(done)](
                      boost::system::error_code ec, const char* step) {
      if (*finished) {
        return;
      }
      *finished = true;
      timer->cancel();
      boost::system::error_code ignored;
      sock->close(ignored);
      if (self->socket == sock) {
        self->socket.reset();
      }
      if (ec) {
        self->status = {DeviceState::offline, std::string(step) + ": " + ec.message()};
        done(Error{"printer " + self->options.name + ": " + self->status.detail});
      } else {
        self->status = {DeviceState::ready, "last job delivered"};
        done({});
      }
    };
    status = {DeviceState::busy, "printing " + job.name};
    timer->async_wait([sock, finish](boost::system::error_code ec) mutable {
      if (!ec) {
        finish(asio::error::timed_out, "no answer in time");
      }
    });
    sock->async_connect(endpoint, [sock, data, finish](boost::system::error_code ec) mutable {
      if (ec) {
        return finish(ec, "connect");
      }
      asio::async_write(*sock, asio::buffer(*data),
                        [sock, data, finish](boost::system::error_code ec, std::size_t) mutable {
                          if (ec) {
                            return finish(ec, "write");
                          }
                          boost::system::error_code ignored;
                          sock->shutdown(tcp::socket::shutdown_send, ignored);
                          drain_until_closed(sock, finish);
                        });
    });
  }
};

ZplTcpPrinter::ZplTcpPrinter(asio::any_io_executor ex, PrinterOptions options)
    : link_(std::make_shared<Link>(std::move(ex), std::move(options))) {}

ZplTcpPrinter::~ZplTcpPrinter() {
  deactivate();
}

const std::string& ZplTcpPrinter::name() const {
  return link_->options.name;
}

DeviceStatus ZplTcpPrinter::status() const {
  return link_->status;
}

Result<void> ZplTcpPrinter::activate() {
  std::string why;
  const auto ep = parse_endpoint(link_->options.address, &why);
  if (!ep) {
    return Error{"printer " + link_->options.name + ": address '" + link_->options.address +
                 "': " + why};
  }
  link_->endpoint = to_tcp(*ep);
  link_->active = true;
  link_->status = {DeviceState::ready, "not contacted yet"};
  return {};
}

void ZplTcpPrinter::deactivate() {
  link_->active = false;
  if (link_->socket) {
    boost::system::error_code ignored;
    link_->socket->close(ignored);
  }
  link_->status = {DeviceState::inactive, "stopped"};
}

void ZplTcpPrinter::print(PrintJob job, PrintDone done) {
  if (!link_->active) {
    asio::post(link_->ex, [done = std::move(done), n = link_->options.name] {
      done(Error{"printer " + n + " is not active"});
    });
    return;
  }
  link_->run(std::move(job), std::move(done));
}

}  // namespace packbench::drivers

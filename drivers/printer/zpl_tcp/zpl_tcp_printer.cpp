#include "printer/zpl_tcp/zpl_tcp_printer.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "packbench/drivers/endpoint.hpp"
#include "printer/zpl_tcp/host_status.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string duration_words(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + " s";
  }
  return std::to_string(d.count()) + " ms";
}

// Closes the socket when time is up, so that whatever waits on it ends with an error; says
// afterwards whether that is why it ended.
class Deadline {
 public:
  Deadline(const asio::any_io_executor& ex, std::shared_ptr<tcp::socket> sock,
           std::chrono::milliseconds limit)
      : timer_(ex, limit) {
    timer_.async_wait([sock = std::move(sock), expired = expired_](boost::system::error_code ec) {
      if (!ec) {
        *expired = true;
        boost::system::error_code ignored;
        sock->close(ignored);
      }
    });
  }
  ~Deadline() { timer_.cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool expired() const { return *expired_; }

 private:
  std::shared_ptr<bool> expired_ = std::make_shared<bool>(false);
  asio::steady_timer timer_;
};

void close(tcp::socket& sock) {
  boost::system::error_code ignored;
  sock.close(ignored);
}

}  // namespace

// One worker coroutine per activation holds every conversation with the printer, one at a time:
// a job (its own ~HS, then the format) whenever one is waiting, else a ~HS when the status
// interval is up. A printer only ever sees one connection from the station.
struct ZplTcpPrinter::Link : std::enable_shared_from_this<Link> {
  Link(asio::any_io_executor e, PrinterOptions opts)
      : ex(std::move(e)), options(std::move(opts)), wake(ex) {}

  struct Waiting {
    PrintJob job;
    PrintDone done;
  };

  asio::any_io_executor ex;
  PrinterOptions options;
  tcp::endpoint endpoint;
  DeviceStatus status;
  StatusListener listener;
  bool active = false;
  unsigned generation = 0;  // each activation's worker; an older one stops
  asio::steady_timer wake;  // the worker sleeps on it until a job or the next ~HS is due
  std::shared_ptr<tcp::socket> socket;  // the conversation in flight, if any
  std::optional<Waiting> waiting;

  bool asks_status() const { return options.status_interval.count() > 0; }
  std::string who() const { return "printer " + options.name; }

  void set(DeviceStatus s) {
    if (!active || s == status) {
      return;
    }
    status = std::move(s);
    if (listener) {
      const DeviceStatus copy = status;  // the listener may queue a job, which changes nothing
      listener(copy);                    // here, but must not see a status torn under it
    }
  }

  Error failed() const { return Error{who() + ": " + status.detail}; }

  static asio::awaitable<void> work(std::shared_ptr<Link> self, unsigned gen) {
    using clock = std::chrono::steady_clock;
    auto next_ask = clock::now();
    while (self->active && self->generation == gen) {
      if (self->waiting) {
        Waiting w = std::move(*self->waiting);
        self->waiting.reset();
        Result<void> r = co_await self->deliver(std::move(w.job));
        next_ask = clock::now() + self->options.status_interval;  // the job asked just now
        w.done(std::move(r));
        continue;
      }
      if (self->asks_status() && clock::now() >= next_ask) {
        co_await self->poll();
        next_ask = clock::now() + self->options.status_interval;
        continue;
      }
      self->wake.expires_at(self->asks_status() ? next_ask : clock::time_point::max());
      co_await self->wake.async_wait(kAwait);
    }
  }

  // A fresh connection within `limit`; on failure the printer shows offline and nullptr comes
  // back.
  asio::awaitable<std::shared_ptr<tcp::socket>> connect(std::chrono::milliseconds limit) {
    auto sock = std::make_shared<tcp::socket>(ex);
    socket = sock;
    Deadline deadline(ex, sock, limit);
    auto [ec] = co_await sock->async_connect(endpoint, kAwait);
    if (!ec && !deadline.expired()) {
      co_return sock;
    }
    set({DeviceState::offline, deadline.expired()
                                   ? "no connection within " + duration_words(limit)
                                   : "cannot connect to " + options.address + ": " + ec.message()});
    co_return nullptr;
  }

  // Sends ~HS and reads the three strings. Whatever goes wrong shows in the status: silence and
  // garbage from a printer that took the connection are faults (it is there, it does not work),
  // a broken connection is offline.
  asio::awaitable<Result<zpl::HostStatus>> ask(std::shared_ptr<tcp::socket> sock) {
    Deadline deadline(ex, sock, options.status_timeout);
    const std::string within = " within " + duration_words(options.status_timeout);
    auto [wec, written] =
        co_await asio::async_write(*sock, asio::buffer(zpl::kHostStatusQuery), kAwait);
    if (wec) {
      set({DeviceState::offline,
           deadline.expired() ? "could not send ~HS" + within : "sending ~HS: " + wec.message()});
      co_return failed();
    }
    std::string answer;
    std::array<char, 256> chunk{};
    for (;;) {
      auto parsed = zpl::parse_host_status(answer);
      if (!parsed) {
        set({DeviceState::fault,
             "garbled answer to ~HS: " + parsed.error().message,
             {"bad_status_answer"}});
        co_return failed();
      }
      if (*parsed) {
        co_return **parsed;
      }
      if (answer.size() >= zpl::kHostStatusMaxBytes) {
        set({DeviceState::fault,
             "garbled answer to ~HS: no end after " + std::to_string(answer.size()) + " bytes",
             {"bad_status_answer"}});
        co_return failed();
      }
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(chunk), kAwait);
      answer.append(chunk.data(), n);
      if (!ec) {
        continue;
      }
      if (deadline.expired() || ec == asio::error::eof) {
        const std::string how = deadline.expired() ? within : " before the printer hung up";
        if (answer.empty()) {
          // ZPL II Programming Guide, ~HS: a printer out of media or ribbon, or with its head
          // open, may not answer at all.
          set({DeviceState::fault,
               "no answer to ~HS" + how + ": check paper, ribbon and head",
               {"no_status_answer"}});
        } else {
          set({DeviceState::fault,
               "incomplete answer to ~HS" + how + " (" + std::to_string(answer.size()) + " bytes)",
               {"bad_status_answer"}});
        }
        co_return failed();
      }
      set({DeviceState::offline, "reading the answer to ~HS: " + ec.message()});
      co_return failed();
    }
  }

  asio::awaitable<void> poll() {
    auto sock = co_await connect(options.status_timeout);
    if (!sock) {
      co_return;
    }
    auto hs = co_await ask(sock);
    close(*sock);
    if (hs) {
      set(zpl::describe(*hs));
    }
  }

  // One job: connect, ask ~HS, and only if the printer can print, write everything, half-close
  // and wait for the printer to close, all under the job's deadline.
  asio::awaitable<Result<void>> deliver(PrintJob job) {
    auto sock = co_await connect(asks_status() ? options.status_timeout : options.timeout);
    if (!sock) {
      co_return failed();
    }
    if (asks_status()) {
      auto hs = co_await ask(sock);
      if (!hs) {
        close(*sock);
        co_return Error{hs.error().message + "; " + job.name + " held"};
      }
      auto now = zpl::describe(*hs);
      const bool can_print = now.state == DeviceState::ready;
      set(std::move(now));
      if (!can_print) {
        close(*sock);
        co_return Error{failed().message + "; " + job.name + " held until it is ready"};
      }
    }
    set({DeviceState::busy, "printing " + job.name});
    Deadline deadline(ex, sock, options.timeout);
    const auto lost = [&](const char* step, boost::system::error_code ec) {
      set({DeviceState::offline, deadline.expired() ? std::string(step) + ": no progress within " +
                                                          duration_words(options.timeout)
                                                    : std::string(step) + ": " + ec.message()});
      close(*sock);
      return failed();
    };
    auto [wec, written] = co_await asio::async_write(*sock, asio::buffer(job.data), kAwait);
    if (wec) {
      co_return lost("writing the job", wec);
    }
    boost::system::error_code ignored;
    sock->shutdown(tcp::socket::shutdown_send, ignored);
    // Like CUPS' socket backend with waiteof: the job is delivered when the printer, having read
    // everything, closes its side. Anything it says on the way is read and ignored.
    std::array<char, 512> chunk{};
    for (;;) {
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(chunk), kAwait);
      if (ec == asio::error::eof) {
        break;
      }
      if (ec) {
        co_return lost("waiting for the printer to finish reading", ec);
      }
    }
    close(*sock);
    set({DeviceState::ready, asks_status() ? "ready; last job " + job.name : "last job delivered"});
    co_return Result<void>{};
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

void ZplTcpPrinter::on_status_change(StatusListener listener) {
  link_->listener = std::move(listener);
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
  link_->status = link_->asks_status() ? DeviceStatus{DeviceState::connecting, "asking ~HS"}
                                       : DeviceStatus{DeviceState::ready, "not contacted yet"};
  asio::co_spawn(link_->ex, Link::work(link_, ++link_->generation), asio::detached);
  return {};
}

void ZplTcpPrinter::deactivate() {
  auto& l = *link_;
  if (!l.active) {
    l.status = {DeviceState::inactive, "stopped"};
    return;
  }
  l.active = false;
  l.wake.cancel();
  if (l.socket) {
    close(*l.socket);
  }
  if (l.waiting) {
    asio::post(l.ex, [done = std::move(l.waiting->done), n = l.options.name] {
      done(Error{"printer " + n + " stopped before the job was sent"});
    });
    l.waiting.reset();
  }
  l.status = {DeviceState::inactive, "stopped"};
}

void ZplTcpPrinter::print(PrintJob job, PrintDone done) {
  auto& l = *link_;
  if (!l.active || l.waiting) {
    asio::post(l.ex, [done = std::move(done), n = l.options.name, active = l.active] {
      done(Error{"printer " + n + (active ? " already has a job waiting" : " is not active")});
    });
    return;
  }
  l.waiting = Link::Waiting{std::move(job), std::move(done)};
  l.wake.cancel();
}

}  // namespace packbench::drivers

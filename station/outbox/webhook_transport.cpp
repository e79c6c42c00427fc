#include "station/outbox/webhook_transport.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <random>

#include "station/common/clock.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct WebhookTransport::State {
  State(asio::any_io_executor e, Outbox& o, SyncConfig c)
      : ex(e), outbox(o), config(std::move(c)), wake_timer(e), backoff_timer(e) {}

  asio::any_io_executor ex;
  Outbox& outbox;
  SyncConfig config;
  asio::steady_timer wake_timer;
  asio::steady_timer backoff_timer;
  std::optional<beast::tcp_stream> stream;  // kept open between batches when the peer allows
  std::string host;
  std::string port;
  std::string target;
  TransportStatus status;
  bool running = false;
  int failures = 0;
  std::mt19937_64 rng{std::random_device{}()};

  // Full jitter (a uniformly random wait up to the exponential bound) keeps a fleet of stations
  // that lost the network together from all retrying in the same second.
  std::chrono::milliseconds next_backoff() {
    const int shift = std::min(failures, 30);
    const auto bound = std::min<std::int64_t>(
        config.retry_cap.count(), config.retry_base.count() * (std::int64_t{1} << shift));
    ++failures;
    std::uniform_int_distribution<std::int64_t> dist(0, bound);
    return std::chrono::milliseconds(dist(rng));
  }

  // One batch, one POST. Returns an empty string on a 2xx, else what went wrong. A kept-alive
  // connection the peer has meanwhile closed gets one fresh retry before it counts as a failure.
  asio::awaitable<std::string> post(const std::string& body, std::size_t count) {
    const bool reused = stream.has_value();
    std::string error = co_await post_once(body, count);
    if (!error.empty() && reused && !stream && running) {
      error = co_await post_once(body, count);
    }
    co_return error;
  }

  asio::awaitable<std::string> post_once(const std::string& body, std::size_t count) {
    if (!stream) {
      tcp::resolver resolver(ex);
      auto [rec, results] = co_await resolver.async_resolve(host, port, tuple_awaitable);
      if (rec) {
        co_return "resolve " + host + ": " + rec.message();
      }
      stream.emplace(ex);
      stream->expires_after(config.timeout);
      auto [cec, ep] = co_await stream->async_connect(results, tuple_awaitable);
      if (cec) {
        stream.reset();
        co_return "connect " + host + ":" + port + ": " + cec.message();
      }
    }
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host + ":" + port);
    req.set(http::field::user_agent, "packbench-station/" PACKBENCH_VERSION);
    req.set(http::field::content_type, "application/cloudevents-batch+json; charset=utf-8");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    stream->expires_after(config.timeout);
    auto [wec, wn] = co_await http::async_write(*stream, req, tuple_awaitable);
    if (wec) {
      stream.reset();
      co_return "send: " + wec.message();
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [rec2, rn] = co_await http::async_read(*stream, buffer, res, tuple_awaitable);
    if (rec2) {
      stream.reset();
      co_return "no answer: " + rec2.message();
    }
    if (!res.keep_alive()) {
      stream.reset();
    }
    const unsigned code = res.result_int();
    if (code >= 200 && code < 300) {
      co_return std::string();
    }
    std::string snippet = res.body().substr(0, 200);
    co_return fmt::format("HTTP {} for a batch of {} event{}{}{}", code, count,
                          count == 1 ? "" : "s", snippet.empty() ? "" : ": ", snippet);
  }
};

WebhookTransport::WebhookTransport(asio::any_io_executor ex, Outbox& outbox, SyncConfig config)
    : state_(std::make_shared<State>(std::move(ex), outbox, std::move(config))) {}

WebhookTransport::~WebhookTransport() {
  stop();
}

void WebhookTransport::start() {
  auto url = boost::urls::parse_absolute_uri(state_->config.url);
  if (!url) {
    spdlog::error("sync: cannot use url '{}'", state_->config.url);
    return;
  }
  state_->host = std::string(url->host());
  state_->port = url->has_port() ? std::string(url->port()) : "80";
  state_->target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
  if (state_->target.front() != '/') {
    state_->target = "/" + state_->target;
  }
  state_->running = true;
  asio::co_spawn(state_->ex, run(state_), asio::detached);
}

void WebhookTransport::stop() {
  if (!state_->running) {
    return;
  }
  state_->running = false;
  state_->wake_timer.cancel();
  state_->backoff_timer.cancel();
  if (state_->stream) {
    beast::error_code ignored;
    state_->stream->socket().close(ignored);
  }
}

const TransportStatus& WebhookTransport::status() const {
  return state_->status;
}

void WebhookTransport::wake() {
  state_->wake_timer.cancel();
}

asio::awaitable<void> WebhookTransport::run(std::shared_ptr<State> s) {
  while (s->running) {
    auto batch = s->outbox.next_batch(static_cast<std::size_t>(s->config.batch_max_events),
                                      static_cast<std::size_t>(s->config.batch_max_bytes));
    if (!batch) {
      spdlog::error("sync: cannot read the outbox: {}", batch.error().message);
    }
    if (!batch || batch->empty()) {
      s->wake_timer.expires_after(batch ? std::chrono::hours(24) : std::chrono::seconds(5));
      co_await s->wake_timer.async_wait(tuple_awaitable);
      continue;
    }
    std::string body = "[";
    for (std::size_t i = 0; i < batch->size(); ++i) {
      body += (i ? "," : "") + (*batch)[i].json;
    }
    body += "]";
    const std::string error = co_await s->post(body, batch->size());
    if (!s->running) {
      break;
    }
    if (error.empty()) {
      if (auto ack = s->outbox.acknowledge(*batch); !ack) {
        // The peer has them; they stay and go again (the peer dedupes by id), but not at once:
        // a store that cannot write now would turn this loop into a flood.
        spdlog::error("sync: delivered but could not record it: {}", ack.error().message);
        s->backoff_timer.expires_after(s->next_backoff());
        co_await s->backoff_timer.async_wait(tuple_awaitable);
        continue;
      }
      if (s->status.online != true) {
        spdlog::info("sync: online, delivering to {}", s->config.url);
      }
      s->failures = 0;
      s->status.online = true;
      s->status.last_error.clear();
      s->status.last_success = now_utc();
      s->status.sent += static_cast<std::int64_t>(batch->size());
      continue;
    }
    (void)s->outbox.record_failure(*batch, error);
    const auto wait = s->next_backoff();
    if (s->status.online != false || s->status.last_error != error) {
      spdlog::warn("sync: {}; {} event(s) kept, retrying in {} ms", error, batch->size(),
                   wait.count());
    }
    s->status.online = false;
    s->status.last_error = error;
    s->backoff_timer.expires_after(wait);
    co_await s->backoff_timer.async_wait(tuple_awaitable);
  }
}

}  // namespace packbench::station

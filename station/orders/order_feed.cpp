#include "station/orders/order_feed.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "station/common/backoff.hpp"
#include "station/http/http_client.hpp"
#include "station/orders/feed_page.hpp"
#include "station/pack/pack_metrics.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr auto kStoreRetry = std::chrono::seconds(5);

json::object counts(const std::map<std::string, std::int64_t>& m) {
  json::object out;
  for (const auto& [k, v] : m) {
    out[k] = v;
  }
  return out;
}

template <class Map>
void add_counts(Map& into, const Map& from) {
  for (const auto& [k, v] : from) {
    into[k] += v;
  }
}

}  // namespace

std::string feed_request_target(const std::string& feed_url, const std::string& cursor, int limit,
                                const std::string& station_id, const std::string& site) {
  auto parsed = boost::urls::parse_absolute_uri(feed_url);
  if (!parsed) {
    return "/";
  }
  boost::urls::url u(*parsed);
  auto params = u.params();
  if (!cursor.empty()) {
    params.set("cursor", cursor);
  } else {
    params.erase("cursor");
  }
  params.set("limit", std::to_string(limit));
  params.set("station", station_id);
  params.set("site", site);
  std::string target(u.encoded_target());
  if (target.empty() || target.front() != '/') {
    target = "/" + target;
  }
  return target;
}

struct OrderFeed::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor e, Database& d, OrderBook& o, Outbox& ob, OrdersConfig c,
        FeedIdentity id, const WallClock& w, std::unique_ptr<HttpClient> cl)
      : ex(e),
        db(d),
        changes(d, o, ob, id.station_id, id.site),
        config(std::move(c)),
        identity(std::move(id)),
        clock(w),
        client(std::move(cl)),
        timer(e),
        backoff(config.retry_base, config.retry_cap) {}

  asio::any_io_executor ex;
  Database& db;
  OrderChanges changes;
  OrdersConfig config;
  FeedIdentity identity;
  const WallClock& clock;
  std::unique_ptr<HttpClient> client;
  asio::steady_timer timer;
  Backoff backoff;
  OrderFeedStatus status;
  FeedPosition position;
  bool running = false;
  bool waiting_poll = false;  // in the poll interval (poll_now() may cut it short)
  std::vector<HeldChangesListener> listeners;
  std::string last_store_error;

  void record(const FeedApplyReport& r) {
    add_counts(status.orders, r.orders);
    add_counts(status.cancellations, r.cancellations);
    add_counts(status.settled, r.settled);
    for (const auto& w : r.warnings) {
      spdlog::warn("orders feed: {}", w);
    }
    if (r.held_changed) {
      refresh_held();
    }
  }

  void refresh_held() {
    auto held = changes.held();
    if (!held) {
      spdlog::error("orders feed: cannot read the held changes: {}", held.error().message);
      return;
    }
    status.held = std::move(*held);
    for (const auto& l : listeners) {
      l(status.held);
    }
  }

  void settle(const std::optional<std::string>& order_id) {
    auto r = changes.settle(order_id);
    if (!r) {
      spdlog::error("orders feed: cannot apply the changes held{}: {}",
                    order_id ? " for order " + *order_id : std::string(), r.error().message);
      return;
    }
    for (const auto& [what, n] : r->settled) {
      spdlog::info("orders feed: {} held change(s) settled: {}", n, what);
    }
    record(*r);
  }

  void fail(const std::string& reason, const std::string& message) {
    ++status.polls;
    ++status.errors[reason];
    if (status.online != false || status.last_error != message) {
      spdlog::warn("orders feed: {}; nothing applied, the cursor stays; trying again", message);
    }
    status.online = false;
    status.last_error = message;
  }

  void succeeded() {
    ++status.polls;
    if (status.online != true) {
      spdlog::info("orders feed: online, polling {}", client->url());
    }
    status.online = true;
    status.last_error.clear();
    const auto wall = clock.now();
    status.last_success = format_utc(wall);
    status.last_success_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
    backoff.reset();
  }

  asio::awaitable<void> wait(std::chrono::milliseconds how_long, bool poll_interval = false) {
    waiting_poll = poll_interval;
    timer.expires_after(how_long);
    co_await timer.async_wait(tuple_awaitable);
    waiting_poll = false;
  }

  asio::awaitable<void> back_off(std::optional<std::chrono::milliseconds> asked = std::nullopt) {
    auto how_long = backoff.next();
    if (asked) {
      how_long = std::min(*asked, config.retry_cap);
    }
    status.retry_in_ms = how_long.count();
    co_await wait(how_long);
    status.retry_in_ms.reset();
  }

  struct Poll {
    bool ok = false;                                       // answered 200 (applied) or 304
    bool more = false;                                     // another page follows at once
    std::optional<std::chrono::milliseconds> retry_after;  // 429, 503: as the server asked
  };

  // One request, and what is done with its answer.
  asio::awaitable<Poll> poll_once() {
    const std::string request_cursor = position.cursor;
    auto req = client->make_request(
        http::verb::get, feed_request_target(config.feed_url, request_cursor, config.page_limit,
                                             identity.station_id, identity.site));
    req.set(http::field::accept, "application/json");
    if (!position.etag.empty() && position.etag_cursor == request_cursor) {
      req.set(http::field::if_none_match, position.etag);
    }
    auto outcome = co_await client->send(req);
    if (!running) {
      co_return Poll{};
    }
    if (auto* f = std::get_if<HttpFailure>(&outcome)) {
      fail(f->reason, f->message);
      co_return Poll{};
    }
    auto& res = std::get<HttpClientResponse>(outcome);
    const unsigned code = res.result_int();
    if (code == 304) {
      ++status.not_modified;
      succeeded();
      co_return Poll{true, false, std::nullopt};
    }
    if (code != 200) {
      std::string snippet(res.body().substr(0, 200));
      for (auto& c : snippet) {
        if (static_cast<unsigned char>(c) < 0x20) {
          c = ' ';
        }
      }
      fail(fmt::format("http_{}", code), fmt::format("GET {}: HTTP {}{}{}", client->url(), code,
                                                     snippet.empty() ? "" : ": ", snippet));
      Poll p;
      if (code == 429 || code == 503) {
        p.retry_after = parse_retry_after(res[http::field::retry_after], clock.now());
      }
      co_return p;
    }
    auto parsed = parse_feed_page(res.body(), identity.reserved_prefixes);
    if (!parsed.page) {
      fail(parsed.problem.reason, fmt::format("the page at cursor '{}' was refused: {}",
                                              request_cursor, parsed.problem.message));
      co_return Poll{};
    }
    const std::string etag(res[http::field::etag]);
    auto applied = changes.apply(*parsed.page, config.feed_url, request_cursor, etag);
    if (!applied) {
      fail(db.last_error_code() == SQLITE_FULL ? "store_full" : "store",
           "cannot store the page: " + applied.error().message);
      co_return Poll{};
    }
    succeeded();
    ++status.pages;
    record(*applied);
    position.cursor = parsed.page->cursor;
    position.etag = etag;
    position.etag_cursor = request_cursor;
    ++position.pages;
    status.cursor = position.cursor;
    const auto& page = *parsed.page;
    if (!page.orders.empty() || !page.cancelled.empty()) {
      spdlog::info("orders feed: page of {} order(s) and {} cancellation(s) applied; cursor '{}'",
                   page.orders.size(), page.cancelled.size(), page.cursor);
    }
    if (page.more && page.cursor == request_cursor) {
      spdlog::warn(
          "orders feed: the back office says more pages follow but gave the same cursor '{}'; "
          "polling again after the interval",
          page.cursor);
      co_return Poll{true, false, std::nullopt};
    }
    co_return Poll{true, page.more, std::nullopt};
  }
};

Result<std::unique_ptr<OrderFeed>> OrderFeed::create(asio::any_io_executor ex, Database& db,
                                                     OrderBook& orders, Outbox& outbox,
                                                     OrdersConfig config, FeedIdentity identity,
                                                     const WallClock& clock) {
  HttpClientOptions options;
  options.url = config.feed_url;
  options.ca_file = config.ca_file;
  options.bearer_token_file = config.bearer_token_file;
  options.timeout = config.timeout;
  options.max_body_bytes = static_cast<std::size_t>(config.page_max_bytes);
  options.config_section = "orders";
  auto client = HttpClient::create(ex, std::move(options));
  if (!client) {
    return client.error();
  }
  auto state = std::make_shared<State>(ex, db, orders, outbox, std::move(config),
                                       std::move(identity), clock, std::move(*client));
  return std::unique_ptr<OrderFeed>(new OrderFeed(std::move(state)));
}

OrderFeed::OrderFeed(std::shared_ptr<State> state) : state_(std::move(state)) {}

OrderFeed::~OrderFeed() {
  stop();
}

void OrderFeed::start() {
  if (state_->running) {
    return;
  }
  state_->running = true;
  asio::co_spawn(state_->ex, run(state_), asio::detached);
}

void OrderFeed::stop() {
  if (!state_->running) {
    return;
  }
  state_->running = false;
  state_->timer.cancel();
  state_->client->close();
}

void OrderFeed::poll_now() {
  if (state_->waiting_poll) {
    state_->timer.cancel();
  }
}

void OrderFeed::pack_closed(const std::string& order_id) {
  asio::post(state_->ex, [weak = std::weak_ptr<State>(state_), order_id] {
    auto s = weak.lock();
    if (!s || !s->running || s->status.held.empty()) {
      return;
    }
    // Every held change whose order is off the bench now (this one, normally).
    (void)order_id;
    s->settle(std::nullopt);
  });
}

void OrderFeed::add_listener(HeldChangesListener listener) {
  state_->listeners.push_back(std::move(listener));
}

const OrderFeedStatus& OrderFeed::status() const {
  return state_->status;
}

const std::string& OrderFeed::url() const {
  return state_->config.feed_url;
}

asio::awaitable<void> OrderFeed::run(std::shared_ptr<State> s) {
  // Where the feed is; a store that cannot say is asked again.
  while (s->running) {
    auto position = s->changes.position(s->config.feed_url);
    if (position) {
      s->position = std::move(*position);
      break;
    }
    spdlog::error("orders feed: cannot read the feed's cursor: {}", position.error().message);
    co_await s->wait(kStoreRetry);
  }
  if (!s->running) {
    co_return;
  }
  if (s->position.reset) {
    spdlog::warn(
        "orders feed: the stored cursor belonged to another feed; reading {} from its start",
        s->config.feed_url);
  }
  s->status.cursor = s->position.cursor;
  // Changes held when the station stopped whose pack sessions have closed since.
  s->refresh_held();
  s->settle(std::nullopt);

  while (s->running) {
    const auto poll = co_await s->poll_once();
    if (!s->running) {
      break;
    }
    if (!poll.ok) {
      co_await s->back_off(poll.retry_after);
      continue;
    }
    if (poll.more) {
      // The next page at once, but let the bench's own work in first.
      co_await asio::post(s->ex, asio::use_awaitable);
      continue;
    }
    co_await s->wait(s->config.poll_interval, true);
  }
}

// --- figures -------------------------------------------------------------------------------

json::object OrderFeed::to_json() const {
  const auto& st = state_->status;
  json::object o;
  o["url"] = state_->config.feed_url;
  o["state"] = !st.online.has_value() ? "unknown" : *st.online ? "online" : "offline";
  o["online"] = st.online ? json::value(*st.online) : json::value();
  o["last_error"] = st.last_error;
  o["last_success"] = st.last_success.empty() ? json::value() : json::value(st.last_success);
  o["cursor"] = st.cursor;
  o["poll_interval_s"] = state_->config.poll_interval.count() / 1000;
  o["polls"] = st.polls;
  o["pages"] = st.pages;
  o["not_modified"] = st.not_modified;
  o["errors"] = counts(st.errors);
  o["orders"] = counts(st.orders);
  o["cancellations"] = counts(st.cancellations);
  o["settled"] = counts(st.settled);
  json::array held;
  for (const auto& h : st.held) {
    held.push_back(h.to_json());
  }
  o["held"] = std::move(held);
  o["retry_in_ms"] = st.retry_in_ms ? json::value(*st.retry_in_ms) : json::value();
  return o;
}

void OrderFeed::append_prometheus(std::string& out, const std::string& station) const {
  const auto& st = state_->status;
  out += fmt::format(
      "# HELP packbench_orders_feed_online Whether the last poll of the order feed got an answer "
      "(1) or not (0).\n# TYPE packbench_orders_feed_online gauge\n"
      "packbench_orders_feed_online{{station=\"{}\"}} {}\n",
      station, st.online.value_or(false) ? 1 : 0);
  out += fmt::format(
      "# HELP packbench_orders_feed_last_success_timestamp_seconds Wall-clock time of the last "
      "poll answered 200 or 304 (0: none yet).\n"
      "# TYPE packbench_orders_feed_last_success_timestamp_seconds gauge\n"
      "packbench_orders_feed_last_success_timestamp_seconds{{station=\"{}\"}} {}\n",
      station, fmt::format("{}", static_cast<double>(st.last_success_unix_ms) / 1000.0));
  out += fmt::format(
      "# HELP packbench_orders_feed_pages_total Pages of the order feed applied.\n"
      "# TYPE packbench_orders_feed_pages_total counter\n"
      "packbench_orders_feed_pages_total{{station=\"{}\"}} {}\n"
      "# HELP packbench_orders_feed_not_modified_total Polls answered 304 Not Modified.\n"
      "# TYPE packbench_orders_feed_not_modified_total counter\n"
      "packbench_orders_feed_not_modified_total{{station=\"{}\"}} {}\n",
      station, st.pages, station, st.not_modified);
  out += fmt::format(
      "# HELP packbench_orders_feed_held Changes from the back office held while their order is "
      "on the bench.\n# TYPE packbench_orders_feed_held gauge\n"
      "packbench_orders_feed_held{{station=\"{}\"}} {}\n",
      station, st.held.size());
  auto by = [&](const char* name, const char* help, const char* label,
                const std::map<std::string, std::int64_t>& m) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& [k, v] : m) {
      out += fmt::format("{}{{station=\"{}\",{}=\"{}\"}} {}\n", name, station, label,
                         prometheus_label(k), v);
    }
  };
  by("packbench_orders_feed_errors_total",
     "Polls of the order feed that applied nothing, by reason (connect, timeout, tls, http_503, "
     "bad_json, bad_page, too_large, store, ...).",
     "reason", st.errors);
  by("packbench_orders_feed_orders_total",
     "Orders received from the feed, by outcome (added, updated, stale, held, rejected, "
     "cancelled).",
     "outcome", st.orders);
  by("packbench_orders_feed_cancellations_total",
     "Cancellations received from the feed, by outcome (applied, held, rejected, early, "
     "duplicate).",
     "outcome", st.cancellations);
  by("packbench_orders_feed_settled_total",
     "Held changes settled once their pack session closed, by outcome (cancel_applied, "
     "cancel_rejected, edit_applied, edit_rejected, dropped).",
     "outcome", st.settled);
}

}  // namespace packbench::station

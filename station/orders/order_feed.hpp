// The order feed: polls the back office's `[orders] feed_url` for new orders, edits and
// cancellations, a page at a time with a cursor, and applies each page in one transaction with
// its cursor (OrderChanges), so the station's orders stay cached in SQLite and packing goes on
// when the back office cannot be reached.
//
//   GET feed_url?cursor=C&limit=N&station=ID&site=SITE      (If-None-Match when asked before)
//   200 {"orders": [...], "cancelled": [...], "cursor": "C2", "more": false}   -> applied
//   304                                                                      -> nothing new
//
// A page with `more` is followed at once; otherwise the next poll comes after poll_interval.
// Failures (no connection, TLS refused, a status other than 200 and 304, a page that cannot be
// read or is too large) apply nothing and leave the cursor where it was; the feed tries again
// after a back-off with full jitter (429 and 503 wait as Retry-After says). The protocol is in
// docs/sync.md, "Order feed".
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "station/common/clock.hpp"
#include "station/config/config.hpp"
#include "station/orders/order_changes.hpp"

namespace packbench::station {

struct OrderFeedStatus {
  std::optional<bool> online;  // nullopt until the first answer (or failure)
  std::string last_error;
  std::string last_success;  // UTC, wall clock: the last 200 or 304
  std::int64_t last_success_unix_ms = 0;
  std::string cursor;
  std::int64_t polls = 0;                             // requests answered 200 or 304, or failed
  std::int64_t pages = 0;                             // pages applied since the start
  std::int64_t not_modified = 0;                      // 304s
  std::map<std::string, std::int64_t> errors;         // failed polls by reason
  std::map<std::string, std::int64_t> orders;         // order entries by outcome
  std::map<std::string, std::int64_t> cancellations;  // cancellations by outcome
  std::map<std::string, std::int64_t> settled;        // held changes settled, by outcome
  std::vector<HeldChange> held;                       // held now
  std::optional<std::int64_t> retry_in_ms;  // while waiting out a back-off: how long, at its start
};

struct FeedIdentity {
  std::string station_id;
  std::string site;
  std::vector<std::string> reserved_prefixes;  // the bench's codes: no order id starts so
};

// Hears the changes held for orders on the bench, whenever that set changes (a new one, or one
// settled when its pack session closed).
using HeldChangesListener = std::function<void(const std::vector<HeldChange>&)>;

class OrderFeed {
 public:
  // Builds the HTTP client (same TLS and token handling as the webhook transport). Errors name
  // the key or file at fault.
  static Result<std::unique_ptr<OrderFeed>> create(boost::asio::any_io_executor ex, Database& db,
                                                   OrderBook& orders, Outbox& outbox,
                                                   OrdersConfig config, FeedIdentity identity,
                                                   const WallClock& clock = system_wall_clock());
  ~OrderFeed();
  OrderFeed(const OrderFeed&) = delete;
  OrderFeed& operator=(const OrderFeed&) = delete;

  void start();
  void stop();
  // Polls now instead of at the end of the interval (not during a back-off).
  void poll_now();
  // An order's pack session closed (complete, short, cancelled): its held change is settled
  // now. Posted to the executor; safe to call from a verdict listener.
  void pack_closed(const std::string& order_id);

  void add_listener(HeldChangesListener listener);

  const OrderFeedStatus& status() const;
  const std::string& url() const;
  // The feed's part of /healthz, and its lines in /metrics.
  boost::json::object to_json() const;
  void append_prometheus(std::string& out, const std::string& station_label) const;

 private:
  struct State;
  explicit OrderFeed(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> run(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The feed's request target: the URL's own path and query, then cursor (when there is one),
// limit, station and site, percent-encoded.
std::string feed_request_target(const std::string& feed_url, const std::string& cursor, int limit,
                                const std::string& station_id, const std::string& site);

}  // namespace packbench::station

#include "station/orders/order_changes.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "station/common/clock.hpp"

namespace packbench::station {

namespace json = boost::json;

namespace {

std::optional<OrderStatus> status_of(Database& db, const std::string& id) {
  auto sel = db.statement("SELECT status FROM orders WHERE id = ?1");
  sel.bind_all(id);
  if (!sel.step()) {
    return std::nullopt;
  }
  const std::string s = sel.column_text(0);
  if (s == "packing") {
    return OrderStatus::packing;
  }
  if (s == "packed") {
    return OrderStatus::packed;
  }
  if (s == "cancelled") {
    return OrderStatus::cancelled;
  }
  return OrderStatus::ready;
}

json::value version_json(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value();
}

}  // namespace

struct OrderChanges::ChangeRow {
  std::string change;  // "cancel" or "edit"
  std::string state;   // "held", "applied", "rejected", "early"
  std::optional<std::int64_t> version;
  std::string reason;
};

std::optional<OrderChanges::ChangeRow> OrderChanges::change_row(const std::string& order_id) {
  auto sel = db_.statement(
      "SELECT change, state, version, reason FROM order_feed_changes WHERE order_id = ?1");
  sel.bind_all(order_id);
  if (!sel.step()) {
    return std::nullopt;
  }
  ChangeRow row{sel.column_text(0), sel.column_text(1), std::nullopt,
                sel.column_optional_text(3).value_or("")};
  if (!sel.column_is_null(2)) {
    row.version = sel.column_int(2);
  }
  return row;
}

struct OrderChanges::Now {
  std::string utc = now_utc();
  std::int64_t mono_ns = monotonic_now_ns();
};

json::object HeldChange::to_json() const {
  return json::object{{"order", order_id},
                      {"change", change},
                      {"version", version_json(version)},
                      {"reason", reason},
                      {"received_at", received_at}};
}

OrderChanges::OrderChanges(Database& db, OrderBook& orders, Outbox& outbox, std::string station_id,
                           std::string site)
    : db_(db),
      orders_(orders),
      outbox_(outbox),
      station_id_(std::move(station_id)),
      site_(std::move(site)) {}

Result<FeedPosition> OrderChanges::position(const std::string& url) {
  return db_.write([&] {
    FeedPosition p;
    p.url = url;
    auto sel = db_.statement(
        "SELECT url, cursor, etag, etag_cursor, pages, applied_at FROM order_feed WHERE id = 1");
    if (!sel.step()) {
      db_.statement("INSERT INTO order_feed (id, url, cursor) VALUES (1, ?1, '')")
          .bind_all(url)
          .run();
      return p;
    }
    if (sel.column_text(0) != url) {
      // A cursor means nothing to another feed: start that one from its beginning.
      db_.statement(
             "UPDATE order_feed SET url = ?1, cursor = '', etag = NULL, etag_cursor = NULL, "
             "pages = 0 WHERE id = 1")
          .bind_all(url)
          .run();
      p.reset = true;
      return p;
    }
    p.cursor = sel.column_text(1);
    p.etag = sel.column_optional_text(2).value_or("");
    p.etag_cursor = sel.column_optional_text(3).value_or("");
    p.pages = sel.column_int(4);
    p.applied_at = sel.column_optional_text(5).value_or("");
    return p;
  });
}

Result<FeedApplyReport> OrderChanges::apply(const FeedPage& page, const std::string& url,
                                            const std::string& request_cursor,
                                            const std::string& etag) {
  auto report = db_.write([&] {
    auto sel = db_.statement("SELECT url, cursor FROM order_feed WHERE id = 1");
    if (!sel.step() || sel.column_text(0) != url || sel.column_text(1) != request_cursor) {
      throw StoreError(0, "the feed's stored cursor is no longer the one this page was asked for");
    }
    FeedApplyReport r;
    const Now now;
    for (const auto& entry : page.orders) {
      apply_order(entry, r, now);
    }
    // After the orders: a page that adds an order and cancels it leaves it cancelled.
    for (const auto& entry : page.cancelled) {
      apply_cancellation(entry, r, now);
    }
    db_.statement(
           "UPDATE order_feed SET cursor = ?1, etag = ?2, etag_cursor = ?3, pages = pages + 1, "
           "applied_at = ?4 WHERE id = 1")
        .bind_all(page.cursor, etag.empty() ? std::optional<std::string>() : etag, request_cursor,
                  now.utc)
        .run();
    return r;
  });
  if (report && report->events) {
    outbox_.committed();
  }
  return report;
}

bool OrderChanges::being_packed(const std::string& order_id) {
  auto sel = db_.statement(
      "SELECT coalesce((SELECT status FROM orders WHERE id = ?1) = 'packing', 0) OR "
      "EXISTS (SELECT 1 FROM pack_sessions WHERE order_id = ?1 AND state = 'open')");
  sel.bind_all(order_id);
  return sel.step() && sel.column_int(0) != 0;
}

void OrderChanges::audit(const std::string& order_id, json::object detail, const Now& now) {
  db_.statement(
         "INSERT INTO audit (at, mono_ns, station, packer, kind, order_id, detail) "
         "VALUES (?1, ?2, ?3, NULL, 'state', ?4, ?5)")
      .bind_all(now.utc, now.mono_ns, station_id_, order_id, json::serialize(detail))
      .run();
}

void OrderChanges::hold(const std::string& order_id, const std::string& change,
                        std::optional<std::int64_t> version, const std::string& doc,
                        const std::string& reason, const Now& now) {
  db_.statement(
         "INSERT OR REPLACE INTO order_feed_changes "
         "(order_id, change, state, version, doc, reason, received_at, settled_at) "
         "VALUES (?1, ?2, 'held', ?3, ?4, ?5, ?6, NULL)")
      .bind_all(order_id, change, version,
                doc.empty() ? std::optional<std::string>() : std::optional<std::string>(doc),
                reason.empty() ? std::optional<std::string>() : std::optional<std::string>(reason),
                now.utc)
      .run();
  audit(order_id,
        json::object{{"event", change == "cancel" ? "feed_cancel_held" : "feed_edit_held"},
                     {"version", version_json(version)},
                     {"reason", reason}},
        now);
}

void OrderChanges::reject(const std::string& order_id, const std::string& change,
                          std::optional<std::int64_t> version, const std::string& reason,
                          OrderStatus status, FeedApplyReport& report, const Now& now) {
  if (change == "cancel") {
    db_.statement(
           "INSERT OR REPLACE INTO order_feed_changes "
           "(order_id, change, state, version, reason, received_at, settled_at) "
           "VALUES (?1, 'cancel', 'rejected', ?2, ?3, ?4, ?4)")
        .bind_all(
            order_id, version,
            reason.empty() ? std::optional<std::string>() : std::optional<std::string>(reason),
            now.utc)
        .run();
  } else {
    db_.statement("DELETE FROM order_feed_changes WHERE order_id = ?1 AND change = 'edit'")
        .bind_all(order_id)
        .run();
    if (version) {
      orders_.set_version(order_id, *version);
    }
  }
  std::optional<std::string> packed_at;
  auto sel = db_.statement(
      "SELECT closed_at FROM pack_sessions WHERE order_id = ?1 AND state = 'complete' "
      "ORDER BY id DESC LIMIT 1");
  sel.bind_all(order_id);
  if (sel.step()) {
    packed_at = sel.column_optional_text(0);
  }
  json::object data{{"order_id", order_id},
                    {"station", station_id_},
                    {"site", site_},
                    {"change", change},
                    {"version", version_json(version)},
                    {"status", to_string(status)},
                    {"packed_at", packed_at ? json::value(*packed_at) : json::value()},
                    {"received_at", now.utc}};
  if (change == "cancel") {
    data["reason"] = reason;
  }
  // A type the outbox refuses is a bug of ours: the page's transaction rolls back with it.
  outbox_
      .enqueue({change == "cancel" ? kCancelRejectedType : kUpdateRejectedType, order_id,
                std::move(data)})
      .value();
  report.events = true;
  audit(order_id,
        json::object{{"event", change == "cancel" ? "feed_cancel_rejected" : "feed_edit_rejected"},
                     {"version", version_json(version)},
                     {"status", to_string(status)},
                     {"reason", reason}},
        now);
  report.warnings.push_back(
      change == "cancel"
          ? fmt::format("order {} is already {}: the back office's cancellation{} cannot be "
                        "applied; reported to the back office ({})",
                        order_id, to_string(status), reason.empty() ? "" : " (" + reason + ")",
                        kCancelRejectedType)
          : fmt::format("order {} is already {}: the back office's edit (version {}) is not "
                        "applied; reported to the back office ({})",
                        order_id, to_string(status), version ? std::to_string(*version) : "?",
                        kUpdateRejectedType));
}

void OrderChanges::apply_order(const FeedOrder& entry, FeedApplyReport& r, const Now& now) {
  const Order& order = entry.order;
  const std::string& id = order.id;
  if (auto row = change_row(id); row && row->change == "cancel") {
    if (row->state == "early") {
      if (!status_of(db_, id)) {
        // Its cancellation came first: the order is known from now on, as cancelled.
        orders_.put(order, "feed", OrderStatus::cancelled, entry.version);
        db_.statement(
               "UPDATE order_feed_changes SET state = 'applied', settled_at = ?2 "
               "WHERE order_id = ?1")
            .bind_all(id, now.utc)
            .run();
        audit(id, json::object{{"event", "feed_order_cancelled"}, {"version", entry.version}}, now);
      } else {
        settle_early(id, *row, r, now);
      }
    }
    ++r.orders["cancelled"];
    return;
  }
  const auto status = status_of(db_, id);
  if (!status) {
    orders_.put(order, "feed", OrderStatus::ready, entry.version);
    ++r.orders["added"];
    return;
  }
  if (const auto stored = orders_.version(id); stored && entry.version <= *stored) {
    ++r.orders["stale"];
    return;
  }
  if (being_packed(id)) {
    if (auto row = change_row(id); row && row->version && entry.version <= *row->version) {
      ++r.orders["stale"];
      return;
    }
    hold(id, "edit", entry.version, json::serialize(order.doc), "", now);
    ++r.orders["held"];
    r.held_changed = true;
    r.warnings.push_back(fmt::format(
        "order {} is on the bench: the back office's edit (version {}) is held until its pack "
        "session closes; the packer is told",
        id, entry.version));
    return;
  }
  switch (*status) {
    case OrderStatus::ready:
    case OrderStatus::packing:  // not on the bench after all (no open session): as ready
      orders_.put(order, "feed", OrderStatus::ready, entry.version);
      ++r.orders["updated"];
      return;
    case OrderStatus::packed:
      reject(id, "edit", entry.version, "", OrderStatus::packed, r, now);
      ++r.orders["rejected"];
      return;
    case OrderStatus::cancelled:
      ++r.orders["cancelled"];
      return;
  }
}

void OrderChanges::apply_cancellation(const FeedCancellation& entry, FeedApplyReport& r,
                                      const Now& now) {
  const std::string& id = entry.id;
  if (auto row = change_row(id); row && row->change == "cancel") {
    ++r.cancellations["duplicate"];
    return;
  }
  const auto status = status_of(db_, id);
  if (!status) {
    db_.statement(
           "INSERT INTO order_feed_changes (order_id, change, state, version, reason, received_at) "
           "VALUES (?1, 'cancel', 'early', ?2, ?3, ?4)")
        .bind_all(id, entry.version,
                  entry.reason.empty() ? std::optional<std::string>()
                                       : std::optional<std::string>(entry.reason),
                  now.utc)
        .run();
    ++r.cancellations["early"];
    return;
  }
  if (being_packed(id)) {
    hold(id, "cancel", entry.version, "", entry.reason, now);
    ++r.cancellations["held"];
    r.held_changed = true;
    r.warnings.push_back(
        fmt::format("order {} is on the bench: the back office cancelled it{}; the cancellation "
                    "is held until its pack session closes and the packer is told",
                    id, entry.reason.empty() ? "" : " (" + entry.reason + ")"));
    return;
  }
  switch (*status) {
    case OrderStatus::ready:
    case OrderStatus::packing:
    case OrderStatus::cancelled: {
      const bool already = *status == OrderStatus::cancelled;
      orders_.set_status(id, OrderStatus::cancelled);
      db_.statement(
             "INSERT OR REPLACE INTO order_feed_changes "
             "(order_id, change, state, version, reason, received_at, settled_at) "
             "VALUES (?1, 'cancel', 'applied', ?2, ?3, ?4, ?4)")
          .bind_all(id, entry.version,
                    entry.reason.empty() ? std::optional<std::string>()
                                         : std::optional<std::string>(entry.reason),
                    now.utc)
          .run();
      if (already) {
        ++r.cancellations["duplicate"];
        return;
      }
      audit(id,
            json::object{{"event", "feed_order_cancelled"},
                         {"version", version_json(entry.version)},
                         {"reason", entry.reason}},
            now);
      ++r.cancellations["applied"];
      return;
    }
    case OrderStatus::packed:
      reject(id, "cancel", entry.version, entry.reason, OrderStatus::packed, r, now);
      ++r.cancellations["rejected"];
      return;
  }
}

void OrderChanges::settle_early(const std::string& order_id, const ChangeRow& row,
                                FeedApplyReport& r, const Now& now) {
  // The order came from elsewhere (a file) after its cancellation: cancel it as if the
  // cancellation arrived now.
  db_.statement("DELETE FROM order_feed_changes WHERE order_id = ?1").bind_all(order_id).run();
  FeedCancellation c;
  c.id = order_id;
  c.version = row.version;
  c.reason = row.reason;
  apply_cancellation(c, r, now);
}

Result<FeedApplyReport> OrderChanges::settle(const std::optional<std::string>& order_id) {
  auto report = db_.write([&] {
    FeedApplyReport r;
    const Now now;
    struct Held {
      std::string order_id;
      std::string change;
      std::optional<std::int64_t> version;
      std::string doc;
      std::string reason;
    };
    std::vector<Held> held;
    {
      auto sel = db_.statement(
          "SELECT order_id, change, version, doc, reason FROM order_feed_changes "
          "WHERE state = 'held' AND (?1 IS NULL OR order_id = ?1) ORDER BY received_at");
      sel.bind_all(order_id);
      while (sel.step()) {
        Held h{sel.column_text(0), sel.column_text(1), std::nullopt,
               sel.column_optional_text(3).value_or(""), sel.column_optional_text(4).value_or("")};
        if (!sel.column_is_null(2)) {
          h.version = sel.column_int(2);
        }
        held.push_back(std::move(h));
      }
    }
    {
      std::vector<std::string> early;
      auto sel = db_.statement(
          "SELECT c.order_id FROM order_feed_changes c JOIN orders o ON o.id = c.order_id "
          "WHERE c.state = 'early' AND (?1 IS NULL OR c.order_id = ?1)");
      sel.bind_all(order_id);
      while (sel.step()) {
        early.push_back(sel.column_text(0));
      }
      for (const auto& id : early) {
        if (auto row = change_row(id)) {
          settle_early(id, *row, r, now);
        }
      }
    }
    for (const auto& h : held) {
      if (being_packed(h.order_id)) {
        continue;
      }
      r.held_changed = true;
      const auto status = status_of(db_, h.order_id).value_or(OrderStatus::cancelled);
      if (h.change == "cancel") {
        if (status == OrderStatus::packed) {
          reject(h.order_id, "cancel", h.version, h.reason, status, r, now);
          ++r.settled["cancel_rejected"];
          continue;
        }
        const bool cancel_now = status != OrderStatus::cancelled;
        if (cancel_now) {
          orders_.set_status(h.order_id, OrderStatus::cancelled);
          audit(h.order_id,
                json::object{{"event", "feed_order_cancelled"},
                             {"version", version_json(h.version)},
                             {"reason", h.reason},
                             {"held", true}},
                now);
        }
        db_.statement(
               "UPDATE order_feed_changes SET state = 'applied', settled_at = ?2 "
               "WHERE order_id = ?1")
            .bind_all(h.order_id, now.utc)
            .run();
        ++r.settled[cancel_now ? "cancel_applied" : "dropped"];
        continue;
      }
      // An edit.
      if (status == OrderStatus::packed) {
        reject(h.order_id, "edit", h.version, "", status, r, now);
        ++r.settled["edit_rejected"];
        continue;
      }
      db_.statement("DELETE FROM order_feed_changes WHERE order_id = ?1")
          .bind_all(h.order_id)
          .run();
      if (status == OrderStatus::cancelled) {
        ++r.settled["dropped"];
        continue;
      }
      boost::system::error_code ec;
      auto doc = json::parse(h.doc, ec);
      auto order = !ec && doc.is_object() ? order_from_json(doc.as_object())
                                          : Result<Order>(Error{"unreadable"});
      if (!order) {
        throw StoreError(0, "the held edit of order " + h.order_id + " is stored unreadably");
      }
      orders_.put(*order, "feed", OrderStatus::ready, h.version);
      audit(
          h.order_id,
          json::object{
              {"event", "feed_edit_applied"}, {"version", version_json(h.version)}, {"held", true}},
          now);
      ++r.settled["edit_applied"];
    }
    return r;
  });
  if (report && report->events) {
    outbox_.committed();
  }
  return report;
}

Result<std::vector<HeldChange>> OrderChanges::held() {
  return db_.read([&] {
    std::vector<HeldChange> out;
    auto sel = db_.statement(
        "SELECT order_id, change, version, reason, received_at FROM order_feed_changes "
        "WHERE state = 'held' ORDER BY received_at, order_id");
    while (sel.step()) {
      HeldChange h;
      h.order_id = sel.column_text(0);
      h.change = sel.column_text(1);
      if (!sel.column_is_null(2)) {
        h.version = sel.column_int(2);
      }
      h.reason = sel.column_optional_text(3).value_or("");
      h.received_at = sel.column_text(4);
      out.push_back(std::move(h));
    }
    return out;
  });
}

}  // namespace packbench::station

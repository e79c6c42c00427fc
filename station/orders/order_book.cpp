#include "station/orders/order_book.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "station/common/clock.hpp"

namespace packbench::station {

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::ready:
      return "ready";
    case OrderStatus::packing:
      return "packing";
    case OrderStatus::packed:
      return "packed";
    case OrderStatus::cancelled:
      return "cancelled";
  }
  return "ready";
}

namespace {
OrderStatus status_from(std::string_view s) {
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
}  // namespace

Result<ImportReport> OrderBook::import(const std::vector<Order>& orders,
                                       const std::string& source) {
  return db_.write([&] {
    ImportReport report;
    const std::string now = now_utc();
    for (const auto& order : orders) {
      const std::string doc = boost::json::serialize(order.doc);
      auto sel = db_.statement("SELECT status, doc FROM orders WHERE id = ?1");
      sel.bind_all(order.id);
      if (!sel.step()) {
        db_.statement(
               "INSERT INTO orders (id, doc, status, source, imported_at, updated_at) "
               "VALUES (?1, ?2, 'ready', ?3, ?4, ?4)")
            .bind_all(order.id, doc, source, now)
            .run();
        index(order);
        ++report.added;
        continue;
      }
      const auto status = status_from(sel.column_text(0));
      const bool same = sel.column_text(1) == doc;
      if (same) {
        ++report.unchanged;
      } else if (status == OrderStatus::ready) {
        db_.statement("UPDATE orders SET doc = ?2, source = ?3, updated_at = ?4 WHERE id = ?1")
            .bind_all(order.id, doc, source, now)
            .run();
        index(order);
        ++report.updated;
      } else {
        report.kept.push_back(order.id + " is " + std::string(to_string(status)) +
                              "; the new version was not applied");
      }
    }
    return report;
  });
}

std::optional<std::pair<Order, OrderStatus>> OrderBook::find(const std::string& id) {
  auto sel = db_.statement("SELECT doc, status FROM orders WHERE id = ?1");
  sel.bind_all(id);
  if (!sel.step()) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(sel.column_text(0), ec);
  if (ec || !value.is_object()) {
    throw StoreError(0, "order " + id + " is stored unreadably");
  }
  auto order = order_from_json(value.as_object());
  if (!order) {
    throw StoreError(0, "order " + id + " is stored invalid: " + order.error().message);
  }
  return std::make_pair(std::move(*order), status_from(sel.column_text(1)));
}

void OrderBook::index(const Order& order) {
  db_.statement("DELETE FROM order_barcodes WHERE order_id = ?1").bind_all(order.id).run();
  for (const auto& line : order.lines) {
    for (const auto& code : line.barcodes) {
      db_.statement("INSERT OR IGNORE INTO order_barcodes (key, order_id) VALUES (?1, ?2)")
          .bind_all(barcode_key(code), order.id)
          .run();
    }
  }
}

bool OrderBook::knows_barcode(const std::string& key) {
  auto sel = db_.statement("SELECT 1 FROM order_barcodes WHERE key = ?1 LIMIT 1");
  sel.bind_all(key);
  return sel.step();
}

std::optional<std::string> OrderBook::order_with_barcode(const std::string& key) {
  auto sel = db_.statement("SELECT order_id FROM order_barcodes WHERE key = ?1 LIMIT 1");
  sel.bind_all(key);
  if (!sel.step()) {
    return std::nullopt;
  }
  return sel.column_text(0);
}

Result<int> OrderBook::index_barcodes() {
  return db_.write([&] {
    std::vector<std::string> missing;
    auto sel = db_.statement(
        "SELECT id FROM orders WHERE id NOT IN (SELECT order_id FROM order_barcodes)");
    while (sel.step()) {
      missing.push_back(sel.column_text(0));
    }
    for (const auto& id : missing) {
      if (auto found = find(id)) {
        index(found->first);
      }
    }
    return static_cast<int>(missing.size());
  });
}

void OrderBook::put(const Order& order, const std::string& source, OrderStatus status,
                    std::optional<std::int64_t> version) {
  const std::string now = now_utc();
  db_.statement(
         "INSERT INTO orders (id, doc, status, source, imported_at, updated_at, version) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
         "ON CONFLICT (id) DO UPDATE SET doc = ?2, source = ?4, updated_at = ?5, version = ?6")
      .bind_all(order.id, boost::json::serialize(order.doc), std::string(to_string(status)), source,
                now, version)
      .run();
  index(order);
}

std::optional<std::int64_t> OrderBook::version(const std::string& id) {
  auto sel = db_.statement("SELECT version FROM orders WHERE id = ?1");
  sel.bind_all(id);
  if (!sel.step() || sel.column_is_null(0)) {
    return std::nullopt;
  }
  return sel.column_int(0);
}

void OrderBook::set_version(const std::string& id, std::int64_t version) {
  db_.statement("UPDATE orders SET version = ?2 WHERE id = ?1").bind_all(id, version).run();
}

void OrderBook::set_status(const std::string& id, OrderStatus status) {
  db_.statement("UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1")
      .bind_all(id, std::string(to_string(status)), now_utc())
      .run();
}

}  // namespace packbench::station

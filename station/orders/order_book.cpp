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

void OrderBook::set_status(const std::string& id, OrderStatus status) {
  db_.statement("UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1")
      .bind_all(id, std::string(to_string(status)), now_utc())
      .run();
}

}  // namespace packbench::station

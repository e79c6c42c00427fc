// The orders the station knows, cached in the store so that packing goes on offline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "station/orders/order.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

enum class OrderStatus { ready, packing, packed, cancelled };
std::string_view to_string(OrderStatus s);

struct ImportReport {
  int added = 0;
  int updated = 0;
  int unchanged = 0;
  std::vector<std::string> kept;  // orders left as they were, with the reason
};

class OrderBook {
 public:
  explicit OrderBook(Database& db) : db_(db) {}

  // Adds new orders and updates those not yet started. An order being packed or already packed
  // is left as it is and reported in `kept`. All in one transaction.
  Result<ImportReport> import(const std::vector<Order>& orders, const std::string& source);

  // Inside a transaction:
  std::optional<std::pair<Order, OrderStatus>> find(const std::string& id);
  void set_status(const std::string& id, OrderStatus status);
  // Whether any known order has a line with this barcode (as barcode_key gives it).
  bool knows_barcode(const std::string& key);
  // An order that has a line with this barcode (as barcode_key gives it), if any.
  std::optional<std::string> order_with_barcode(const std::string& key);
  // Inside a transaction: stores an order as the back office's feed sent it — a new one with
  // `status`, a known one with its new content (its status unchanged) — with the feed's version,
  // and indexes its barcodes.
  void put(const Order& order, const std::string& source, OrderStatus status,
           std::optional<std::int64_t> version);
  // The feed's version of an order (nullopt: unknown order, or loaded from a file).
  std::optional<std::int64_t> version(const std::string& id);
  void set_version(const std::string& id, std::int64_t version);
  // Indexes the barcodes of orders stored before the index existed. Idempotent.
  Result<int> index_barcodes();

 private:
  void index(const Order& order);
  Database& db_;
};

}  // namespace packbench::station

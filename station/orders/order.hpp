// Orders as the back office sends them down, and the JSON file format they arrive in.
//
//   {"orders": [{"id": "DEMO-1001",
//                "customer": {"name": "...", "locale": "ja", "first_order": true},
//                "lines": [{"sku": "...", "name": "...", "qty": 2, "barcodes": ["..."]}]}]}
//
// Keys this version does not use are kept with the order (later features read them).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "packbench/result.hpp"

namespace packbench::station {

struct OrderLine {
  std::string sku;
  std::string name;
  int qty = 1;
  std::vector<std::string> barcodes;
  bool serial_required = false;  // each item needs its serial (AI 21, or a serial scan after it)
  bool lot_required = false;     // each item needs its lot (AI 10, or a lot scan after it)
  bool expiry_required = false;  // each item needs its expiry date (AI 17, or a date scan after
                                 // it); an expired item is refused
};

struct Customer {
  std::string name;
  std::string locale = "en";
  bool first_order = false;
};

struct Order {
  std::string id;
  Customer customer;
  std::vector<OrderLine> lines;
  boost::json::object doc;  // the whole order as received

  int total_items() const;
};

struct OrderProblem {
  std::string where;  // "orders[2].lines[0].qty"
  std::string message;
  std::string to_string() const { return where + ": " + message; }
};

struct ParsedOrders {
  std::vector<Order> orders;
  std::vector<OrderProblem> problems;  // one entry per order (or file) that could not be read
};

// Reads an orders file: {"orders": [...]} or a bare array. Valid orders are returned even when
// others in the same file are not; each invalid one is reported with the path of its fault.
ParsedOrders parse_orders_json(std::string_view text);

// One order from its JSON object (as stored).
Result<Order> order_from_json(const boost::json::object& obj, const std::string& where = "order");

// A barcode the way scans are matched: a GTIN of 8, 12, 13 or 14 digits with a good check digit
// becomes its GTIN-14 (a UPC-A scan matches the EAN-13 in an order), anything else stays as is.
std::string barcode_key(std::string_view code);

// Order ids are scanned from a barcode and printed in Code 128: printable ASCII, no spaces.
bool is_valid_order_id(std::string_view id);

}  // namespace packbench::station

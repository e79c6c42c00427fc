#include "station/orders/order.hpp"

#include <boost/json/parse.hpp>
#include <set>

#include "station/gs1/gs1.hpp"

namespace packbench::station {

namespace json = boost::json;

int Order::total_items() const {
  int n = 0;
  for (const auto& l : lines) {
    n += l.qty;
  }
  return n;
}

std::string barcode_key(std::string_view code) {
  if (auto g = gs1::gtin14(code)) {
    return *g;
  }
  return std::string(code);
}

bool is_valid_order_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7F) {
      return false;
    }
  }
  return true;
}

namespace {

struct Fault {
  std::string where;
  std::string message;
};

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

std::string text_field(const json::object& o, std::string_view key, const std::string& where,
                       bool required) {
  const json::value* v = field(o, key);
  if (!v || v->is_null()) {
    if (required) {
      throw Fault{where + "." + std::string(key), "missing"};
    }
    return {};
  }
  if (!v->is_string()) {
    throw Fault{where + "." + std::string(key), "must be a string"};
  }
  return std::string(v->as_string());
}

Order read_order(const json::value& v, const std::string& where) {
  if (!v.is_object()) {
    throw Fault{where, "must be an object"};
  }
  const auto& o = v.as_object();
  Order order;
  order.doc = o;
  order.id = text_field(o, "id", where, true);
  if (!is_valid_order_id(order.id)) {
    throw Fault{where + ".id",
                "'" + order.id + "' must be 1 to 64 printable ASCII characters without spaces"};
  }
  if (const json::value* c = field(o, "customer"); c && !c->is_null()) {
    if (!c->is_object()) {
      throw Fault{where + ".customer", "must be an object"};
    }
    const auto& co = c->as_object();
    order.customer.name = text_field(co, "name", where + ".customer", false);
    const std::string locale = text_field(co, "locale", where + ".customer", false);
    if (!locale.empty()) {
      order.customer.locale = locale;
    }
    if (const json::value* f = field(co, "first_order"); f && !f->is_null()) {
      if (!f->is_bool()) {
        throw Fault{where + ".customer.first_order", "must be true or false"};
      }
      order.customer.first_order = f->as_bool();
    }
  }
  const json::value* lines = field(o, "lines");
  if (!lines || !lines->is_array() || lines->as_array().empty()) {
    throw Fault{where + ".lines", "must be a non-empty array"};
  }
  std::set<std::string> seen_barcodes;
  std::size_t i = 0;
  for (const auto& lv : lines->as_array()) {
    const std::string lw = where + ".lines[" + std::to_string(i++) + "]";
    if (!lv.is_object()) {
      throw Fault{lw, "must be an object"};
    }
    const auto& lo = lv.as_object();
    OrderLine line;
    line.sku = text_field(lo, "sku", lw, true);
    if (line.sku.empty()) {
      throw Fault{lw + ".sku", "must not be empty"};
    }
    line.name = text_field(lo, "name", lw, false);
    if (line.name.empty()) {
      line.name = line.sku;
    }
    const json::value* q = field(lo, "qty");
    if (q) {
      if (!q->is_int64() || q->as_int64() < 1 || q->as_int64() > 9999) {
        throw Fault{lw + ".qty", "must be a whole number from 1 to 9999"};
      }
      line.qty = static_cast<int>(q->as_int64());
    }
    for (auto [key, flag] :
         {std::pair<const char*, bool*>{"serial_required", &line.serial_required},
          std::pair<const char*, bool*>{"lot_required", &line.lot_required},
          std::pair<const char*, bool*>{"expiry_required", &line.expiry_required}}) {
      if (const json::value* f = field(lo, key); f && !f->is_null()) {
        if (!f->is_bool()) {
          throw Fault{lw + "." + key, "must be true or false"};
        }
        *flag = f->as_bool();
      }
    }
    const json::value* b = field(lo, "barcodes");
    if (!b || !b->is_array() || b->as_array().empty()) {
      throw Fault{lw + ".barcodes", "must be a non-empty array of strings"};
    }
    for (const auto& bv : b->as_array()) {
      if (!bv.is_string() || bv.as_string().empty()) {
        throw Fault{lw + ".barcodes", "must hold only non-empty strings"};
      }
      std::string code(bv.as_string());
      if (code == order.id) {
        throw Fault{lw + ".barcodes", "'" + code + "' is the order's own id"};
      }
      if (!seen_barcodes.insert(code).second) {
        // Two lines answering to one barcode would make every scan of it ambiguous.
        throw Fault{lw + ".barcodes", "'" + code + "' belongs to another line of this order"};
      }
      line.barcodes.push_back(std::move(code));
    }
    order.lines.push_back(std::move(line));
  }
  return order;
}

}  // namespace

Result<Order> order_from_json(const json::object& obj, const std::string& where) {
  try {
    return read_order(json::value(obj), where);
  } catch (const Fault& f) {
    return Error{f.where + ": " + f.message};
  }
}

ParsedOrders parse_orders_json(std::string_view text) {
  ParsedOrders out;
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) {
    out.problems.push_back({"file", "not valid JSON: " + ec.message()});
    return out;
  }
  const json::array* list = nullptr;
  if (root.is_array()) {
    list = &root.as_array();
  } else if (root.is_object() && root.as_object().contains("orders") &&
             root.as_object().at("orders").is_array()) {
    list = &root.as_object().at("orders").as_array();
  } else {
    out.problems.push_back({"file", "expected {\"orders\": [...]} or an array of orders"});
    return out;
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = "orders[" + std::to_string(i) + "]";
    try {
      Order order = read_order((*list)[i], where);
      if (!ids.insert(order.id).second) {
        throw Fault{where + ".id", "'" + order.id + "' appears twice in this file"};
      }
      out.orders.push_back(std::move(order));
    } catch (const Fault& f) {
      out.problems.push_back({f.where, f.message});
    }
  }
  return out;
}

}  // namespace packbench::station

#include "station/orders/feed_page.hpp"

#include <boost/json/parse.hpp>

namespace packbench::station {

namespace json = boost::json;

namespace {

struct Fault {
  std::string where;
  std::string message;
};

std::optional<std::int64_t> version_of(const json::object& o, const std::string& where,
                                       bool required) {
  const auto* v = o.if_contains("version");
  if (!v || v->is_null()) {
    if (required) {
      throw Fault{where + ".version", "missing: every order needs the version it is at"};
    }
    return std::nullopt;
  }
  if (v->is_int64() && v->as_int64() >= 0) {
    return v->as_int64();
  }
  throw Fault{where + ".version", "must be a whole number from 0 to 9223372036854775807"};
}

std::string optional_text(const json::object& o, std::string_view key, const std::string& where,
                          std::size_t max_bytes = 200) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    return {};
  }
  if (!v->is_string()) {
    throw Fault{where + "." + std::string(key), "must be a string"};
  }
  if (v->as_string().size() > max_bytes) {
    throw Fault{where + "." + std::string(key),
                "must be at most " + std::to_string(max_bytes) + " bytes"};
  }
  return std::string(v->as_string());
}

const json::array* optional_array(const json::object& root, std::string_view key) {
  const auto* v = root.if_contains(key);
  if (!v || v->is_null()) {
    return nullptr;
  }
  if (!v->is_array()) {
    throw Fault{std::string(key), "must be an array"};
  }
  return &v->as_array();
}

void check_prefixes(const std::string& id, const std::string& where,
                    const std::vector<std::string>& reserved) {
  for (const auto& prefix : reserved) {
    if (!prefix.empty() && id.rfind(prefix, 0) == 0) {
      throw Fault{where + ".id", "'" + id + "' starts with the bench code prefix '" + prefix +
                                     "' and could not be scanned"};
    }
  }
}

}  // namespace

ParsedFeedPage parse_feed_page(std::string_view body,
                               const std::vector<std::string>& reserved_prefixes) {
  ParsedFeedPage out;
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) {
    out.problem = {"bad_json", "the page is not valid JSON: " + ec.message()};
    return out;
  }
  try {
    if (!root.is_object()) {
      throw Fault{"page",
                  "must be a JSON object {\"orders\", \"cancelled\", \"cursor\", \"more\"}"};
    }
    const auto& o = root.as_object();
    FeedPage page;
    const auto* cursor = o.if_contains("cursor");
    if (!cursor || !cursor->is_string()) {
      throw Fault{"cursor", "missing: every page says where the next one starts (a string)"};
    }
    if (cursor->as_string().size() > kMaxFeedCursorBytes) {
      throw Fault{"cursor", "must be at most " + std::to_string(kMaxFeedCursorBytes) + " bytes"};
    }
    page.cursor = std::string(cursor->as_string());
    if (const auto* more = o.if_contains("more"); more && !more->is_null()) {
      if (!more->is_bool()) {
        throw Fault{"more", "must be true or false"};
      }
      page.more = more->as_bool();
    }
    if (const auto* orders = optional_array(o, "orders")) {
      for (std::size_t i = 0; i < orders->size(); ++i) {
        const std::string where = "orders[" + std::to_string(i) + "]";
        const auto& v = (*orders)[i];
        if (!v.is_object()) {
          throw Fault{where, "must be an object"};
        }
        auto order = order_from_json(v.as_object(), where);
        if (!order) {
          // order_from_json already says where: "orders[2].lines[0].qty: ...".
          throw Fault{"", order.error().message};
        }
        check_prefixes(order->id, where, reserved_prefixes);
        FeedOrder entry;
        entry.version = *version_of(v.as_object(), where, true);
        entry.updated_at = optional_text(v.as_object(), "updated_at", where);
        entry.order = std::move(*order);
        page.orders.push_back(std::move(entry));
      }
    }
    if (const auto* cancelled = optional_array(o, "cancelled")) {
      for (std::size_t i = 0; i < cancelled->size(); ++i) {
        const std::string where = "cancelled[" + std::to_string(i) + "]";
        const auto& v = (*cancelled)[i];
        FeedCancellation c;
        if (v.is_string()) {
          c.id = std::string(v.as_string());
        } else if (v.is_object()) {
          const auto& co = v.as_object();
          const auto* id = co.if_contains("id");
          if (!id || !id->is_string()) {
            throw Fault{where + ".id", "missing: the id of the order to cancel (a string)"};
          }
          c.id = std::string(id->as_string());
          c.version = version_of(co, where, false);
          c.reason = optional_text(co, "reason", where, kMaxCancelReasonBytes);
          c.updated_at = optional_text(co, "updated_at", where);
        } else {
          throw Fault{where, "must be an order id or an object {\"id\", \"version\", \"reason\"}"};
        }
        if (!is_valid_order_id(c.id)) {
          throw Fault{where + (v.is_string() ? "" : ".id"),
                      "'" + c.id + "' is no order id (1 to 64 printable ASCII characters)"};
        }
        page.cancelled.push_back(std::move(c));
      }
    }
    out.page = std::move(page);
  } catch (const Fault& f) {
    out.problem = {"bad_page", f.where.empty() ? f.message : f.where + ": " + f.message};
  }
  return out;
}

}  // namespace packbench::station

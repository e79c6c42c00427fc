#include "station/discount/campaign.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "station/discount/signed_code.hpp"

namespace packbench::station::discount {
namespace {

namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool matches_sku(const std::string& pattern, const std::string& sku) {
  if (!pattern.empty() && pattern.back() == '*') {
    return sku.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == sku;
}

bool any_sku(const std::vector<std::string>& patterns, const std::vector<std::string>& skus,
             std::string* which = nullptr) {
  for (const auto& s : skus) {
    for (const auto& p : patterns) {
      if (matches_sku(p, s)) {
        if (which) {
          *which = s;
        }
        return true;
      }
    }
  }
  return false;
}

// Categories and customer tags compare without regard to case, as shops treat them.
bool any_word(const std::vector<std::string>& wanted, const std::vector<std::string>& have,
              std::string* which = nullptr) {
  for (const auto& h : have) {
    const std::string lh = lower(h);
    for (const auto& w : wanted) {
      if (lower(w) == lh) {
        if (which) {
          *which = h;
        }
        return true;
      }
    }
  }
  return false;
}

std::string list(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

std::string format_amount(std::int64_t micros) {
  std::string out = std::to_string(micros / 1000000);
  std::int64_t frac = micros % 1000000;
  if (frac != 0) {
    std::string f = fmt::format("{:06d}", frac);
    while (!f.empty() && f.back() == '0') {
      f.pop_back();
    }
    out += "." + f;
  }
  return out;
}

bool is_currency(std::string_view s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

std::string_view to_string(Eligibility e) {
  switch (e) {
    case Eligibility::all:
      return "all";
    case Eligibility::first_order:
      return "first_order";
    case Eligibility::repeat_customer:
      return "repeat_customer";
  }
  return "all";
}

std::string_view to_string(CodeSource s) {
  return s == CodeSource::pool ? "pool" : "signed";
}

std::string_view to_string(Fallback f) {
  return f == Fallback::none ? "none" : "signed";
}

std::optional<std::int64_t> parse_amount(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view frac =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 12 || !digits(whole) || frac.size() > 6 || !digits(frac) ||
      (point != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  for (char c : whole) {
    v = v * 10 + (c - '0');
  }
  std::int64_t f = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    f = f * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  }
  return v * 1000000 + f;
}

const std::map<std::string, std::string>* Campaign::wording_for(std::string_view locale) const {
  if (auto it = wording.find(std::string(locale)); it != wording.end()) {
    return &it->second;
  }
  // "ja-JP" falls back to "ja".
  if (const auto dash = locale.find('-'); dash != std::string_view::npos) {
    if (auto it = wording.find(std::string(locale.substr(0, dash))); it != wording.end()) {
      return &it->second;
    }
  }
  if (auto it = wording.find("en"); it != wording.end()) {
    return &it->second;
  }
  return wording.empty() ? nullptr : &wording.begin()->second;
}

Result<std::string> Campaign::link_for(std::string_view code) const {
  const LinkValues values{shop, std::string(code), redirect, id};
  // A campaign made in code rather than read from a file has its format unchecked yet.
  return link_format.pieces.empty() ? format_link(link, values) : format_link(link_format, values);
}

OrderFacts order_facts(const Order& order) {
  OrderFacts f;
  const json::object& doc = order.doc;
  if (const auto* customer = doc.if_contains("customer"); customer && customer->is_object()) {
    const auto& c = customer->as_object();
    if (const auto* first = c.if_contains("first_order"); first && first->is_bool()) {
      f.first_order = first->as_bool();
    }
    if (const auto* tags = c.if_contains("tags"); tags && tags->is_array()) {
      for (const auto& tag : tags->as_array()) {
        if (tag.is_string()) {
          f.tags.emplace_back(tag.as_string());
        }
      }
    }
  }
  if (const auto* total = doc.if_contains("total"); total && total->is_object()) {
    const auto& t = total->as_object();
    const auto* amount = t.if_contains("amount");
    const auto* currency = t.if_contains("currency");
    std::optional<std::int64_t> micros;
    if (amount && amount->is_string()) {
      micros = parse_amount(amount->as_string());
    } else if (amount && amount->is_int64() && amount->as_int64() >= 0) {
      micros = parse_amount(std::to_string(amount->as_int64()));
    } else if (amount && amount->is_uint64()) {
      micros = parse_amount(std::to_string(amount->as_uint64()));
    } else if (amount && amount->is_double()) {
      // The shortest text that reads back as the same number: 49.99, not 49.990000000000002.
      micros = parse_amount(fmt::format("{}", amount->as_double()));
    }
    if (micros && currency && currency->is_string() && is_currency(currency->as_string())) {
      f.total = Money{*micros, std::string(currency->as_string())};
    }
  }
  for (const auto& line : order.lines) {
    f.skus.push_back(line.sku);
  }
  if (const auto* lines = doc.if_contains("lines"); lines && lines->is_array()) {
    for (const auto& line : lines->as_array()) {
      if (!line.is_object()) {
        continue;
      }
      if (const auto* cat = line.as_object().if_contains("category"); cat && cat->is_string()) {
        f.categories.emplace_back(cat->as_string());
      }
    }
  }
  return f;
}

std::optional<std::string> why_not_eligible(const Campaign& c, const OrderFacts& o, Day today) {
  if (c.starts && today < *c.starts) {
    return "the campaign starts on " + format_day(*c.starts);
  }
  if (c.ends && today > *c.ends) {
    return "the campaign ended on " + format_day(*c.ends);
  }
  if (c.eligibility == Eligibility::first_order && o.first_order != true) {
    return o.first_order ? "not a first order" : "not known to be a first order";
  }
  if (c.eligibility == Eligibility::repeat_customer && o.first_order != false) {
    return o.first_order ? "a first order, not a repeat customer"
                         : "not known to be a repeat customer";
  }
  if (c.min_order) {
    if (!o.total) {
      return "the order has no total to compare with the minimum";
    }
    if (o.total->currency != c.min_order->currency) {
      return "the order total is in " + o.total->currency + ", the minimum in " +
             c.min_order->currency;
    }
    if (o.total->micros < c.min_order->micros) {
      return "the order total " + format_amount(o.total->micros) + " " + o.total->currency +
             " is below the minimum " + format_amount(c.min_order->micros);
    }
  }
  std::string which;
  if (!c.skus.empty() && !any_sku(c.skus, o.skus)) {
    return "no line has one of the SKUs " + list(c.skus);
  }
  if (any_sku(c.exclude_skus, o.skus, &which)) {
    return "the SKU " + which + " is excluded";
  }
  if (!c.categories.empty() && !any_word(c.categories, o.categories)) {
    return "no line is in one of the categories " + list(c.categories);
  }
  if (any_word(c.exclude_categories, o.categories, &which)) {
    return "the category " + which + " is excluded";
  }
  if (!c.customer_tags.empty() && !any_word(c.customer_tags, o.tags)) {
    return "the customer has none of the tags " + list(c.customer_tags);
  }
  if (any_word(c.exclude_customer_tags, o.tags, &which)) {
    return "the customer tag " + which + " is excluded";
  }
  return std::nullopt;
}

const Campaign* choose_campaign(const std::vector<Campaign>& campaigns, const Order& order,
                                Day today) {
  const OrderFacts facts = order_facts(order);
  const Campaign* best = nullptr;
  for (const auto& c : campaigns) {
    if ((!best || c.priority > best->priority) && !why_not_eligible(c, facts, today)) {
      best = &c;
    }
  }
  return best;
}

}  // namespace packbench::station::discount

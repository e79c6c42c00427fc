#include "station/print/label_data.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/json.hpp>

namespace packbench::station {
namespace {

std::string scalar_text(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return std::string(v.get_string());
    case boost::json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64:
      return std::to_string(v.get_int64());
    case boost::json::kind::uint64:
      return std::to_string(v.get_uint64());
    case boost::json::kind::double_:
      return fmt::format("{}", v.get_double());
    default:
      return {};
  }
}

// Every scalar under `obj` as prefix.key.subkey; arrays of strings as lines joined by '\n'.
void flatten(const boost::json::object& obj, const std::string& prefix, labels::LabelData& out,
             int depth = 0) {
  if (depth > 4) {
    return;
  }
  for (const auto& [key, value] : obj) {
    const std::string name = prefix + "." + std::string(key);
    if (value.is_object()) {
      flatten(value.get_object(), name, out, depth + 1);
    } else if (value.is_array()) {
      std::string joined;
      bool all_strings = true;
      for (const auto& item : value.get_array()) {
        if (!item.is_string()) {
          all_strings = false;
          break;
        }
        joined += joined.empty() ? "" : "\n";
        joined += item.get_string();
      }
      if (all_strings) {
        out.values[name] = joined;
      }
    } else if (!value.is_null()) {
      out.values[name] = scalar_text(value);
    }
  }
}

// An address as lines: "address" as written, or "lines" and then "postal_code city region" and
// "country".
void address(const boost::json::object* obj, const std::string& prefix, labels::LabelData& out) {
  if (!obj) {
    return;
  }
  flatten(*obj, prefix, out);
  if (obj->contains("address")) {
    return;
  }
  std::string text;
  auto add_line = [&](const std::string& line) {
    if (!line.empty()) {
      text += text.empty() ? "" : "\n";
      text += line;
    }
  };
  auto field = [&](const char* key) {
    const auto* v = obj->if_contains(key);
    return v ? scalar_text(*v) : std::string();
  };
  if (const auto* lines = obj->if_contains("lines"); lines && lines->is_array()) {
    for (const auto& l : lines->get_array()) {
      add_line(scalar_text(l));
    }
  }
  std::string place;
  for (const char* key : {"postal_code", "city", "region"}) {
    if (auto f = field(key); !f.empty()) {
      place += place.empty() ? "" : " ";
      place += f;
    }
  }
  add_line(place);
  add_line(field("country"));
  out.values[prefix + ".address"] = text;
}

const boost::json::object* object_at(const boost::json::object& doc, std::string_view key) {
  const auto* v = doc.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace

labels::LabelData label_data(const Order& order, const LabelContext& context) {
  labels::LabelData out;
  for (const auto& [key, value] : order.doc) {
    if (key == "lines" || key == "customer" || key == "ship_to" || key == "ship_from" ||
        key == "discount" || key == "carrier_label") {
      continue;
    }
    if (value.is_object()) {
      flatten(value.get_object(), "order." + std::string(key), out);
    } else if (!value.is_array() && !value.is_null()) {
      out.values["order." + std::string(key)] = scalar_text(value);
    }
  }
  if (const auto* customer = object_at(order.doc, "customer")) {
    flatten(*customer, "customer", out);
  }
  if (const auto* shop = object_at(order.doc, "shop")) {
    flatten(*shop, "shop", out);
  }
  out.values["order.id"] = order.id;
  out.values["customer.name"] = order.customer.name;
  out.values["customer.locale"] = order.customer.locale;
  out.values["customer.first_order"] = order.customer.first_order ? "true" : "false";
  out.values["customer.returning"] = order.customer.first_order ? "false" : "true";
  out.values["order.item_count"] = std::to_string(order.total_items());
  out.values["order.line_count"] = std::to_string(order.lines.size());
  address(object_at(order.doc, "ship_to"), "ship_to", out);
  address(object_at(order.doc, "ship_from"), "ship_from", out);
  if (const auto* discount = object_at(order.doc, "discount")) {
    flatten(*discount, "discount", out);
  }
  out.values["station.id"] = context.station_id;
  out.values["station.site"] = context.site;
  out.values["box.number"] = std::to_string(context.box_number);
  if (context.box_count > 0) {
    out.values["box.count"] = std::to_string(context.box_count);
  }
  if (context.box_items > 0) {
    out.values["box.items"] = std::to_string(context.box_items);
  }
  if (!context.packed_at.empty()) {
    out.values["order.packed_at"] = context.packed_at;
    out.values["order.date"] = context.packed_at.substr(0, 10);
  }
  if (!context.sscc.empty()) {
    out.values["shipment.sscc"] = context.sscc;
  } else if (const auto* s = order.doc.if_contains("sscc"); s && s->is_string()) {
    out.values["shipment.sscc"] = std::string(s->get_string());
  }
  auto& rows = out.lists["lines"];
  for (const OrderLine& line : order.lines) {
    labels::LabelRow row;
    row["sku"] = line.sku;
    row["name"] = line.name;
    row["qty"] = std::to_string(line.qty);
    row["barcode"] = line.barcodes.empty() ? "" : line.barcodes.front();
    rows.push_back(std::move(row));
  }
  out.locale = order.customer.locale;
  return out;
}

Result<std::string> make_sscc(int extension, std::string_view company_prefix,
                              std::uint64_t serial) {
  if (extension < 0 || extension > 9) {
    return Error{"the SSCC extension digit is 0 to 9"};
  }
  if (company_prefix.size() < 7 || company_prefix.size() > 10 ||
      company_prefix.find_first_not_of("0123456789") != std::string_view::npos) {
    return Error{fmt::format("a GS1 company prefix is 7 to 10 digits, not \"{}\"", company_prefix)};
  }
  const std::size_t serial_digits = 16 - company_prefix.size();
  std::string serial_text = std::to_string(serial);
  if (serial_text.size() > serial_digits) {
    return Error{
        fmt::format("serial {} does not fit the {} digits a {}-digit company prefix leaves", serial,
                    serial_digits, company_prefix.size())};
  }
  std::string digits = std::to_string(extension) + std::string(company_prefix) +
                       std::string(serial_digits - serial_text.size(), '0') + serial_text;
  int sum = 0;
  int weight = 3;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  digits += static_cast<char>('0' + (10 - sum % 10) % 10);
  return Result<std::string>(boost::system::in_place_value, std::move(digits));
}

Result<std::optional<CarrierLabel>> carrier_label(const Order& order) {
  const auto* v = order.doc.if_contains("carrier_label");
  if (!v || v->is_null()) {
    return std::optional<CarrierLabel>();
  }
  if (!v->is_object()) {
    return Error{"carrier_label must be an object: {\"format\": ..., \"data\" or \"base64\": ...}"};
  }
  const auto& obj = v->get_object();
  const auto* format = obj.if_contains("format");
  if (!format || !format->is_string()) {
    return Error{"carrier_label.format must be \"zpl\", \"png\" or \"pdf\""};
  }
  CarrierLabel out;
  const auto kind = labels::parse_carrier_label_format(format->get_string());
  if (!kind) {
    return Error{fmt::format("carrier_label.format \"{}\" is not zpl, png or pdf",
                             std::string_view(format->get_string()))};
  }
  out.format = *kind;
  if (const auto* data = obj.if_contains("data"); data && data->is_string()) {
    out.bytes.assign(data->get_string().begin(), data->get_string().end());
  } else if (const auto* b64 = obj.if_contains("base64"); b64 && b64->is_string()) {
    std::string text(b64->get_string());
    std::erase_if(text, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
    if (text.size() % 4 != 0) {
      return Error{"carrier_label.base64 is not base64 (its length is not a multiple of 4)"};
    }
    out.bytes.resize(text.size() / 4 * 3);
    const int n =
        EVP_DecodeBlock(out.bytes.data(), reinterpret_cast<const unsigned char*>(text.data()),
                        static_cast<int>(text.size()));
    if (n < 0) {
      return Error{"carrier_label.base64 is not base64"};
    }
    std::size_t size = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    if (text.ends_with("==")) {
      size -= 2;
    } else if (text.ends_with("=")) {
      size -= 1;
    }
    out.bytes.resize(size);
  } else {
    return Error{"carrier_label needs \"data\" (ZPL text) or \"base64\" (PNG or PDF bytes)"};
  }
  if (out.bytes.empty()) {
    return Error{"carrier_label is empty"};
  }
  return std::optional<CarrierLabel>(std::move(out));
}

}  // namespace packbench::station

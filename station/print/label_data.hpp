// What the label templates see of an order: the values and lists a template names
// ({customer.name}, {order.id}, {ship_to.address}, the "lines" list, ...), made from an order as
// the back office sent it and the station's own facts. docs/labels.md lists every name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/template.hpp"
#include "packbench/result.hpp"
#include "station/orders/order.hpp"

namespace packbench::station {

struct LabelContext {
  std::string station_id;
  std::string site;
  int box_number = 1;
  int box_count = 1;      // 0 while it is not known yet (a box closed before the order is done)
  int box_items = 0;      // the items in this box; 0: not said
  std::string packed_at;  // ISO 8601; its date part is order.date
  // The parcel's SSCC, 18 digits with its check digit. Empty: the order's "sscc", if any.
  std::string sscc;
};

// The label values of `order`. Every scalar of the order document is there under "order."
// (nested objects by dotted path), the customer's under "customer.", the addresses under
// "ship_to." and "ship_from.", an order's "discount" object under "discount.", and the lines as
// the list "lines" (sku, name, qty, barcode).
labels::LabelData label_data(const Order& order, const LabelContext& context);

// An SSCC (GS1 General Specifications 2.2): extension digit, GS1 company prefix and serial
// reference filling 17 digits, then the mod-10 check digit. An error when the prefix is not 7
// to 10 digits or the serial does not fit.
Result<std::string> make_sscc(int extension, std::string_view company_prefix, std::uint64_t serial);

// The carrier label an order carries ("carrier_label": {"format": "zpl", "data": "^XA..."} or
// {"format": "png"|"pdf", "base64": "..."}), or nullopt when it has none; an error when it is
// malformed.
struct CarrierLabel {
  labels::CarrierLabelFormat format = labels::CarrierLabelFormat::zpl;
  std::vector<std::uint8_t> bytes;
};
Result<std::optional<CarrierLabel>> carrier_label(const Order& order);

}  // namespace packbench::station

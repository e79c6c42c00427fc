// The station's shipping label: what a parcel carries when the order has no carrier label.
#pragma once

#include <string>

#include "packbench/labels/zpl.hpp"

namespace packbench::labels {

struct ShippingLabel {
  std::string order_id;
  std::string station_id;
  std::string site;
  int box_number = 1;
  int item_count = 0;
  std::string packed_at;  // ISO 8601, as printed
};

// One complete ZPL format (^XA ... ^XZ): the order id as text and as Code 128, the station,
// the box and item count and the time it was packed.
std::string render_shipping_label_zpl(const ShippingLabel& label, const LabelSize& size = {});

}  // namespace packbench::labels

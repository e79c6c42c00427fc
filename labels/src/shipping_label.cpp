#include "packbench/labels/shipping_label.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace packbench::labels {

std::string render_shipping_label_zpl(const ShippingLabel& label, const LabelSize& size) {
  // Positions are laid out for a 4x6 in label and scaled to the printer's resolution.
  const double s = size.dpi / 203.0;
  auto d = [s](int dots203) { return static_cast<int>(dots203 * s + 0.5); };

  std::string z = zpl_begin_format(size);
  z += fmt::format("^FO{},{}^A0N,{},{}^FDORDER^FS\n", d(40), d(40), d(40), d(40));
  z += fmt::format("^FO{},{}^A0N,{},{}^FH_^FD{}^FS\n", d(40), d(90), d(90), d(80),
                   zpl_escape_field(label.order_id, 64));
  if (const std::string code = zpl_code128_field(label.order_id, 64); !code.empty()) {
    // Code 128 subset B takes 11 modules a character plus start, check and stop; pick the widest
    // whole-dot module that keeps the symbol inside the label's margins.
    const int modules = 11 * (static_cast<int>(label.order_id.size()) + 3) + 2;
    const int module_dots = std::clamp(d(732) / modules, 1, d(4));
    z += fmt::format("^FO{},{}^BY{},3,{}^BCN,{},N,N,N^FH_^FD{}^FS\n", d(40), d(220), module_dots,
                     d(160), d(160), code);
  }
  z += fmt::format("^FO{},{}^GB{},{},{}^FS\n", d(40), d(430), d(732), 0, std::max(2, d(3)));
  z += fmt::format("^FO{},{}^A0N,{},{}^FH_^FDBox {}  Items {}^FS\n", d(40), d(460), d(40), d(40),
                   label.box_number, label.item_count);
  z += fmt::format("^FO{},{}^A0N,{},{}^FH_^FDStation {} / {}^FS\n", d(40), d(520), d(30), d(30),
                   zpl_escape_field(label.station_id, 64), zpl_escape_field(label.site, 64));
  z += fmt::format("^FO{},{}^A0N,{},{}^FH_^FDPacked {}^FS\n", d(40), d(565), d(30), d(30),
                   zpl_escape_field(label.packed_at, 40));
  z += zpl_end_format();
  return z;
}

}  // namespace packbench::labels

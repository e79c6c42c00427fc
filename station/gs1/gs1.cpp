// Interim reader for the pack session's own tests until the full GS1 reader lands.
#include "station/gs1/gs1.hpp"

#include <algorithm>

namespace packbench::station::gs1 {

const Element* Reading::find(std::string_view ai) const {
  for (const auto& e : elements) {
    if (e.ai == ai) {
      return &e;
    }
  }
  return nullptr;
}

bool valid_check_digit(std::string_view d) {
  if (d.size() < 2 ||
      !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int sum = 0;
  bool three = true;
  for (std::size_t i = d.size() - 1; i-- > 0;) {
    sum += (d[i] - '0') * (three ? 3 : 1);
    three = !three;
  }
  return (10 - sum % 10) % 10 == d.back() - '0';
}

std::optional<std::string> gtin14(std::string_view d) {
  if ((d.size() == 8 || d.size() == 12 || d.size() == 13 || d.size() == 14) &&
      valid_check_digit(d)) {
    return std::string(14 - d.size(), '0') + std::string(d);
  }
  return std::nullopt;
}

Reading read(std::string_view data, std::string_view symbology) {
  Reading r;
  r.input = std::string(data);
  r.symbology = std::string(symbology);
  if (auto g = gtin14(data)) {
    r.kind = Reading::Kind::gtin;
    r.gtin14 = g;
    return r;
  }
  if (data.size() > 2 && data.substr(0, 2) == "01") {
    r.kind = Reading::Kind::element_string;
    std::size_t i = 0;
    while (i + 2 <= data.size()) {
      const std::string ai(data.substr(i, 2));
      i += 2;
      std::size_t len = ai == "01" ? 14 : ai == "17" ? 6 : std::string_view::npos;
      if (len == std::string_view::npos) {
        const auto gs = data.find('\x1d', i);
        len = (gs == std::string_view::npos ? data.size() : gs) - i;
      }
      r.elements.push_back({ai, "", std::string(data.substr(i, len))});
      i += len;
      if (i < data.size() && data[i] == '\x1d') {
        ++i;
      }
    }
    if (const Element* e = r.find("01")) {
      r.gtin14 = gtin14(e->value);
    }
  }
  return r;
}

boost::json::object to_json(const Reading& r) {
  return boost::json::object{{"input", r.input}};
}

}  // namespace packbench::station::gs1

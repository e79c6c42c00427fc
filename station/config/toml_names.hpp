// Words for TOML value types in configuration messages ("must be a string, not an integer"),
// shared by every reader of the station's configuration file.
#pragma once

#include <toml++/toml.h>

#include <string_view>

namespace packbench::station {

inline std::string_view toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

}  // namespace packbench::station

// Words for TOML value types in the messages of the labels' TOML readers (templates, printer
// profiles): "must be a string, not an integer".
#pragma once

#include <toml++/toml.h>

namespace packbench::labels {

inline const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "true or false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

}  // namespace packbench::labels

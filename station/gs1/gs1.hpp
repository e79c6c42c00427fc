// GS1: reading what a scanner sent as GS1 data (element strings, Digital Link URIs, plain GTINs).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packbench::station::gs1 {

struct Element {
  std::string ai;
  std::string title;
  std::string value;
};

struct Reading {
  std::string input;
  std::string symbology;
  enum class Kind { gtin, element_string, digital_link, other } kind = Kind::other;
  std::optional<std::string> gtin14;
  std::vector<Element> elements;
  std::vector<std::string> problems;
  bool recovered_gs = false;
  bool ok() const { return problems.empty(); }
  const Element* find(std::string_view ai) const;
};

Reading read(std::string_view data, std::string_view symbology = {});
std::optional<std::string> gtin14(std::string_view digits);
bool valid_check_digit(std::string_view digits);
boost::json::object to_json(const Reading& r);

}  // namespace packbench::station::gs1

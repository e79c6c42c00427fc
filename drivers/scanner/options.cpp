// Scanner option words as configuration spells them, both ways.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

namespace {

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N>& words,
                        std::string_view word) {
  for (const auto& [w, e] : words) {
    if (same(w, word)) {
      return e;
    }
  }
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, Terminator>, 6> kTerminators{{
    {"auto", Terminator::any},
    {"cr", Terminator::cr},
    {"enter", Terminator::cr},
    {"lf", Terminator::lf},
    {"crlf", Terminator::crlf},
    {"tab", Terminator::tab},
}};

constexpr std::array<std::pair<std::string_view, Parity>, 3> kParities{{
    {"none", Parity::none},
    {"even", Parity::even},
    {"odd", Parity::odd},
}};

constexpr std::array<std::pair<std::string_view, FlowControl>, 3> kFlows{{
    {"none", FlowControl::none},
    {"software", FlowControl::software},
    {"hardware", FlowControl::hardware},
}};

constexpr std::array<std::pair<std::string_view, KeyboardLayout>, 2> kLayouts{{
    {"us", KeyboardLayout::us},
    {"jp", KeyboardLayout::jp},
}};

constexpr std::array<unsigned, 9> kBauds{1200,  2400,  4800,   9600,  19200,
                                         38400, 57600, 115200, 230400};

}  // namespace

std::optional<Terminator> parse_terminator(std::string_view word) {
  return lookup(kTerminators, word);
}
std::optional<Parity> parse_parity(std::string_view word) {
  return lookup(kParities, word);
}
std::optional<FlowControl> parse_flow_control(std::string_view word) {
  return lookup(kFlows, word);
}
std::optional<KeyboardLayout> parse_keyboard_layout(std::string_view word) {
  return lookup(kLayouts, word);
}

std::string_view to_string(Terminator t) {
  switch (t) {
    case Terminator::any:
      return "auto";
    case Terminator::cr:
      return "cr";
    case Terminator::lf:
      return "lf";
    case Terminator::crlf:
      return "crlf";
    case Terminator::tab:
      return "tab";
  }
  return "?";
}

std::string_view to_string(Parity p) {
  switch (p) {
    case Parity::none:
      return "none";
    case Parity::even:
      return "even";
    case Parity::odd:
      return "odd";
  }
  return "?";
}

std::string_view to_string(FlowControl f) {
  switch (f) {
    case FlowControl::none:
      return "none";
    case FlowControl::software:
      return "software";
    case FlowControl::hardware:
      return "hardware";
  }
  return "?";
}

std::string_view to_string(KeyboardLayout l) {
  switch (l) {
    case KeyboardLayout::us:
      return "us";
    case KeyboardLayout::jp:
      return "jp";
  }
  return "?";
}

std::span<const unsigned> serial_baud_rates() {
  return kBauds;
}

}  // namespace packbench::drivers

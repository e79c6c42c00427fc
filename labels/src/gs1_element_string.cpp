#include "gs1_element_string.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <vector>

namespace packbench::labels {
namespace {

constexpr char kGs = '\x1d';

struct ElementString {
  std::string text;  // AI and value
  bool predefined_length = false;
};

// GS1 General Specifications Figure 7.8.5-2: the element strings of predefined length, by the
// first two digits of their AI, as (AI digits, AI and value digits). Every one is all digits.
struct Predefined {
  std::size_t ai_length = 0;
  std::size_t length = 0;
};

std::optional<Predefined> predefined_length(std::string_view two) {
  if (two.size() != 2 || two[0] < '0' || two[0] > '9' || two[1] < '0' || two[1] > '9') {
    return std::nullopt;
  }
  const int p = (two[0] - '0') * 10 + (two[1] - '0');
  if (p == 0) {
    return Predefined{2, 20};
  }
  if (p >= 1 && p <= 3) {
    return Predefined{2, 16};
  }
  if (p == 4) {
    return Predefined{2, 18};
  }
  if (p >= 11 && p <= 19) {
    return Predefined{2, 8};
  }
  if (p == 20) {
    return Predefined{2, 4};
  }
  if (p >= 31 && p <= 36) {
    return Predefined{4, 10};
  }
  if (p == 41) {
    return Predefined{3, 16};
  }
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool printable(char c) {
  return c > 0x20 && c < 0x7F;
}

// "(AI)" at `pos`: two to four digits in parentheses. Returns the AI's digits.
std::optional<std::string_view> ai_at(std::string_view data, std::size_t pos) {
  if (pos >= data.size() || data[pos] != '(') {
    return std::nullopt;
  }
  std::size_t end = pos + 1;
  while (end < data.size() && end - pos - 1 < 5 && data[end] >= '0' && data[end] <= '9') {
    ++end;
  }
  const std::size_t digits = end - pos - 1;
  if (digits < 2 || digits > 4 || end >= data.size() || data[end] != ')') {
    return std::nullopt;
  }
  return data.substr(pos + 1, digits);
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

bool check_predefined(std::string_view text, const Predefined& p, std::string_view shown,
                      std::string& error) {
  if (text.size() != p.length || !all_digits(text)) {
    error = fmt::format("({}) takes {} digits after the AI, got \"{}\"",
                        text.substr(0, p.ai_length), p.length - p.ai_length, shown);
    return false;
  }
  return true;
}

// The check digits a wrong one of which no scanner in the chain accepts.
bool check_key(std::string_view text, std::string& error) {
  const char* what = nullptr;
  if (text.starts_with("00")) {
    what = "SSCC";
  } else if (text.starts_with("01") || text.starts_with("02")) {
    what = "GTIN";
  } else {
    return true;
  }
  const std::string_view key = text.substr(2);
  const char check = gs1_check_digit(key.substr(0, key.size() - 1));
  if (key.back() != check) {
    error = fmt::format("({}) {} \"{}\": check digit should be {}", text.substr(0, 2), what, key,
                        check);
    return false;
  }
  return true;
}

std::optional<std::vector<ElementString>> parse_parenthesised(std::string_view data,
                                                              std::string& error) {
  std::vector<ElementString> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto ai = ai_at(data, pos);
    if (!ai) {
      error = fmt::format("expected an AI in parentheses, such as (01), at \"{}\"",
                          data.substr(pos, 20));
      return std::nullopt;
    }
    std::size_t end = pos + ai->size() + 2;
    while (end < data.size() && !ai_at(data, end)) {
      ++end;
    }
    const std::string_view raw_value =
        data.substr(pos + ai->size() + 2, end - pos - ai->size() - 2);
    const std::string_view value = trim_spaces(raw_value);
    if (value.empty()) {
      error = fmt::format("({}) has no value", *ai);
      return std::nullopt;
    }
    for (const char c : value) {
      if (!printable(c)) {
        error = fmt::format(
            "({}) value \"{}\": GS1 values are printable ASCII, without spaces or control "
            "characters",
            *ai, value);
        return std::nullopt;
      }
    }
    ElementString e;
    e.text = std::string(*ai) + std::string(value);
    if (const auto p = predefined_length(ai->substr(0, 2))) {
      if (ai->size() != p->ai_length) {
        error = fmt::format("({}): AIs beginning {} have {} digits", *ai, ai->substr(0, 2),
                            p->ai_length);
        return std::nullopt;
      }
      if (!check_predefined(e.text, *p, value, error)) {
        return std::nullopt;
      }
      e.predefined_length = true;
    }
    out.push_back(std::move(e));
    pos = end;
  }
  return out;
}

std::optional<std::vector<ElementString>> parse_transmitted(std::string_view data,
                                                            std::string& error) {
  std::vector<ElementString> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] == kGs) {
      error = pos == 0 ? "a GS (ASCII 29) before the first element string"
                       : fmt::format("two GS (ASCII 29) in a row at byte {}", pos);
      return std::nullopt;
    }
    const std::string_view two = data.substr(pos, 2);
    if (!all_digits(two) || two.size() != 2) {
      error = fmt::format("element string \"{}\" does not begin with an AI (two or more digits)",
                          data.substr(pos, 20));
      return std::nullopt;
    }
    ElementString e;
    if (const auto p = predefined_length(two)) {
      const std::string_view text = data.substr(pos, p->length);
      if (!check_predefined(text, *p, text.substr(std::min(p->ai_length, text.size())), error)) {
        return std::nullopt;
      }
      e.text = std::string(text);
      e.predefined_length = true;
      pos += p->length;
      if (pos < data.size() && data[pos] == kGs) {
        ++pos;  // not needed after a predefined length; harmless, dropped
        if (pos == data.size()) {
          error = "a GS (ASCII 29) after the last element string";
          return std::nullopt;
        }
      }
    } else {
      const std::size_t gs = data.find(kGs, pos);
      const std::string_view text =
          data.substr(pos, gs == std::string_view::npos ? std::string_view::npos : gs - pos);
      if (text.size() < 3) {
        error = fmt::format("element string \"{}\" has no value", text);
        return std::nullopt;
      }
      e.text = std::string(text);
      pos = gs == std::string_view::npos ? data.size() : gs + 1;
      if (gs != std::string_view::npos && pos == data.size()) {
        error = "a GS (ASCII 29) after the last element string";
        return std::nullopt;
      }
    }
    for (const char c : e.text) {
      if (!printable(c)) {
        error = fmt::format(
            "element string \"{}\": GS1 data is printable ASCII, without spaces or control "
            "characters but the GS (ASCII 29) that ends a variable-length element string",
            e.text);
        return std::nullopt;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

char gs1_check_digit(std::string_view digits) {
  int sum = 0;
  int weight = 3;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::optional<std::string> gs1_element_strings(std::string_view data, std::string& error) {
  if (data.empty()) {
    error = "no element strings";
    return std::nullopt;
  }
  const auto elements =
      data.front() == '(' ? parse_parenthesised(data, error) : parse_transmitted(data, error);
  if (!elements) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(data.size());
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const ElementString& e = (*elements)[i];
    if (!check_key(e.text, error)) {
      return std::nullopt;
    }
    out += e.text;
    if (!e.predefined_length && i + 1 < elements->size()) {
      out += kGs;
    }
  }
  return out;
}

}  // namespace packbench::labels

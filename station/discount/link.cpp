#include "station/discount/link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>

namespace packbench::station::discount {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) {
        return false;
      }
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

constexpr std::string_view kKnown = "{shop}, {code}, {path}, {campaign}";

}  // namespace

std::string percent_encode(std::string_view value, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool is_valid_shop_host(std::string_view shop) {
  std::string_view host = shop;
  if (const auto colon = shop.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = shop.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
      return false;
    }
    host = shop.substr(0, colon);
  }
  if (host.empty() || host.size() > 253 || host.front() == '.') {
    return false;
  }
  if (host.back() == '.') {
    host.remove_suffix(1);  // the root label
  }
  std::size_t start = 0;
  while (start <= host.size()) {
    const auto dot = host.find('.', start);
    const std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

Result<LinkFormat> parse_link_format(std::string_view format) {
  LinkFormat out;
  out.text = std::string(format);
  std::size_t pos = 0;
  if (format.rfind("https://", 0) == 0) {
    pos = 8;
  } else if (format.rfind("http://", 0) == 0) {
    pos = 7;
  } else {
    return Error{"a link starts with https:// (or http://)"};
  }
  out.pieces.push_back({std::string(format.substr(0, pos)), "", LinkPart::host, false});

  // The host: exactly {shop}, or a literal host name; then the path, the query or the fragment,
  // or {path} standing for the whole path.
  std::size_t host_end = 0;
  if (format.substr(pos, 6) == "{shop}") {
    host_end = pos + 6;
    out.pieces.push_back({"", "shop", LinkPart::host, false});
  } else {
    host_end = std::min(format.find_first_of("/?#{", pos), format.size());
    const std::string_view host = format.substr(pos, host_end - pos);
    if (host.find('}') != std::string_view::npos ||
        (host_end < format.size() && format[host_end] == '{' &&
         format.substr(host_end, 6) != "{path}")) {
      return Error{fmt::format(
          "the host of the link must be {{shop}} or a host name, not '{}' (no other placeholder "
          "can stand there)",
          format.substr(pos, std::min(format.find_first_of("/?#", pos), format.size()) - pos))};
    }
    if (!is_valid_shop_host(host)) {
      return Error{fmt::format("'{}' is not a host name", host)};
    }
    out.pieces.push_back({std::string(host), "", LinkPart::host, false});
  }
  if (host_end < format.size() && format.find_first_of("/?#", host_end) != host_end &&
      format.substr(host_end, 6) != "{path}") {
    return Error{fmt::format(
        "the host of the link must be {{shop}} or a host name, not '{}' (no other placeholder "
        "can stand there)",
        format.substr(pos, std::min(format.find_first_of("/?#", pos), format.size()) - pos))};
  }
  pos = host_end;

  LinkPart part = LinkPart::path;
  bool has_code = false;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) {
      out.pieces.push_back({std::move(literal), "", part, false});
      literal.clear();
    }
  };
  while (pos < format.size()) {
    const char c = format[pos];
    if (c == '}') {
      return Error{fmt::format("a '}}' without its '{{' at character {}", pos + 1)};
    }
    if (c != '{') {
      if (c == '?' && part == LinkPart::path) {
        flush();
        part = LinkPart::query;
      } else if (c == '#' && part != LinkPart::fragment) {
        flush();
        part = LinkPart::fragment;
      }
      literal += c;
      ++pos;
      continue;
    }
    const auto close = format.find('}', pos);
    if (close == std::string_view::npos) {
      return Error{fmt::format("the '{{' at character {} is never closed", pos + 1)};
    }
    const std::string name(format.substr(pos + 1, close - pos - 1));
    if (name == "shop") {
      return Error{"{shop} can only be the host of the link (https://{shop}/...)"};
    }
    if (name != "code" && name != "path" && name != "campaign") {
      return Error{fmt::format("unknown placeholder {{{}}} (known: {})", name, kKnown)};
    }
    flush();
    // {path} in the path part stands for path segments; anywhere else every value is one
    // segment, one query value or fragment text.
    out.pieces.push_back({"", name, part, name == "path" && part == LinkPart::path});
    has_code = has_code || name == "code";
    pos = close + 1;
  }
  flush();
  // A '%' in the text must start its own escape: one that takes its hex digits from a value
  // would change meaning with the value.
  for (const auto& piece : out.pieces) {
    const std::string& t = piece.literal;
    for (std::size_t i = t.find('%'); i != std::string::npos; i = t.find('%', i + 1)) {
      if (i + 2 >= t.size() || !std::isxdigit(static_cast<unsigned char>(t[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(t[i + 2]))) {
        return Error{"a '%' in the link must be followed by two hex digits (write %25 for '%')"};
      }
    }
  }
  if (!has_code) {
    return Error{"the link has no {code}: the shop could not tell which discount it is"};
  }
  // Whatever the literal text is, the filled-in link must be a URL.
  auto sample = format_link(out, LinkValues{"shop.example", "CODE", "/p", "campaign"});
  if (!sample) {
    return sample.error();
  }
  if (auto parsed = boost::urls::parse_uri(*sample); !parsed) {
    return Error{fmt::format("the link is not a URL once filled in ({}): {}", *sample,
                             parsed.error().message())};
  }
  return out;
}

Result<std::string> format_link(const LinkFormat& format, const LinkValues& values) {
  std::string out;
  for (std::size_t i = 0; i < format.pieces.size(); ++i) {
    const auto& piece = format.pieces[i];
    if (piece.placeholder.empty()) {
      out += piece.literal;
      continue;
    }
    if (piece.placeholder == "shop") {
      if (!is_valid_shop_host(values.shop)) {
        return Error{fmt::format(
            "the shop '{}' is not a host name (letters, digits, hyphens and dots, optionally "
            ":port; no scheme, spaces or slashes)",
            values.shop)};
      }
      out += values.shop;
      continue;
    }
    const std::string& value = piece.placeholder == "code"   ? values.code
                               : piece.placeholder == "path" ? values.path
                                                             : values.campaign;
    if (!is_utf8(value)) {
      return Error{fmt::format("the {} for the link is not valid UTF-8", piece.placeholder)};
    }
    if (piece.part == LinkPart::path && !piece.whole_path && (value == "." || value == "..")) {
      // A dot segment is removed by URL resolution (RFC 3986 section 5.2.4), encoded or not.
      return Error{
          fmt::format("the {} '{}' cannot stand in a link's path: only dots is a dot "
                      "segment, which browsers remove",
                      piece.placeholder, value)};
    }
    if (piece.whole_path) {
      // pieces[0] is the scheme, pieces[1] the host: a path right after the host that does not
      // start with '/' would run into it.
      if (i == 2 && (value.empty() || value.front() != '/')) {
        out += '/';
      }
      out += percent_encode(value, true);
    } else {
      out += percent_encode(value);
    }
  }
  return Result<std::string>(boost::system::in_place_value, std::move(out));
}

Result<std::string> format_link(std::string_view format, const LinkValues& values) {
  auto parsed = parse_link_format(format);
  if (!parsed) {
    return parsed.error();
  }
  return format_link(*parsed, values);
}

}  // namespace packbench::station::discount

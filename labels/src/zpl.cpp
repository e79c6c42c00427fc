#include "packbench/labels/zpl.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace packbench::labels {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not a valid one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<std::uint8_t>(s[i]);
  std::size_t len = 0;
  std::uint32_t min = 0;
  std::uint32_t cp = 0;
  if (b0 < 0x80) {
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<std::uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

void append_hex(std::string& out, std::uint8_t byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('_');
  out.push_back(kHex[byte >> 4]);
  out.push_back(kHex[byte & 0x0F]);
}

bool needs_escape(std::uint8_t byte) {
  return byte < 0x20 || byte == 0x7F || byte == '^' || byte == '~' || byte == '_' || byte == '\\';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

}  // namespace

std::string zpl_escape_field(std::string_view data, std::size_t max_bytes) {
  std::string out;
  out.reserve(data.size() < max_bytes ? data.size() : max_bytes);
  std::size_t used = 0;
  std::size_t i = 0;
  while (i < data.size()) {
    const std::size_t len = utf8_sequence_length(data, i);
    if (len == 0) {
      // Not UTF-8: print a visible replacement rather than a byte the printer would misread.
      if (used + 1 > max_bytes) {
        break;
      }
      out.push_back('?');
      used += 1;
      i += 1;
      continue;
    }
    if (used + len > max_bytes) {
      break;
    }
    const auto byte = static_cast<std::uint8_t>(data[i]);
    if (len == 1 && needs_escape(byte)) {
      append_hex(out, byte);
    } else {
      out.append(data.substr(i, len));
    }
    used += len;
    i += len;
  }
  return out;
}

std::string zpl_code128_field(std::string_view data, std::size_t max_bytes) {
  std::string raw;
  for (std::size_t i = 0; i < data.size() && i < max_bytes; ++i) {
    const auto byte = static_cast<std::uint8_t>(data[i]);
    if (byte < 0x20 || byte > 0x7E) {
      return {};
    }
    if (byte == '>') {
      raw += "><";
    } else {
      raw.push_back(static_cast<char>(byte));
    }
  }
  // "><" is ASCII and needs no hex escape; the rest goes through the usual escaping.
  return zpl_escape_field(raw, raw.size());
}

std::string zpl_begin_format(const LabelSize& size) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "^XA^PW%d^LL%d^LH0,0^LS0^LT0^PON^PMN^CI28^FWN\n",
                size.width_dots(), size.height_dots());
  return buf;
}

std::string zpl_end_format() {
  return "^PQ1,0,1,N^XZ\n";
}

std::vector<ZplCommand> zpl_tokenize(std::string_view zpl) {
  std::vector<ZplCommand> out;
  std::size_t i = 0;
  auto is_prefix = [](char c) { return c == '^' || c == '~'; };
  while (i < zpl.size()) {
    ZplCommand cmd;
    if (is_prefix(zpl[i])) {
      const std::size_t name_len = std::min<std::size_t>(3, zpl.size() - i);
      cmd.name = std::string(zpl.substr(i, name_len));
      i += name_len;
    }
    const std::size_t start = i;
    while (i < zpl.size() && !is_prefix(zpl[i])) {
      ++i;
    }
    cmd.params = std::string(zpl.substr(start, i - start));
    // Line breaks between commands are layout, not data.
    while (!cmd.params.empty() && (cmd.params.back() == '\n' || cmd.params.back() == '\r')) {
      cmd.params.pop_back();
    }
    if (cmd.name.empty() && cmd.params.empty()) {
      continue;
    }
    out.push_back(std::move(cmd));
  }
  return out;
}

std::string zpl_unescape_field(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '_' && i + 2 < escaped.size()) {
      const int hi = hex_value(escaped[i + 1]);
      const int lo = hex_value(escaped[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(escaped[i]);
  }
  return out;
}

}  // namespace packbench::labels

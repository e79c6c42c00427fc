#include "packbench/labels/zpl_graphic.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace packbench::labels {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    auto crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[static_cast<std::size_t>(i)] = crc;
  }
  return table;
}
constexpr auto kCrc16Table = make_crc16_table();

// RFC 4648 §4 base64 with '=' padding, the alphabet ZB64 uses.
void append_base64(std::string& out, const std::uint8_t* data, std::size_t size) {
  out.reserve(out.size() + (size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  if (i < size) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) {
      v |= std::uint32_t{data[i + 1]} << 8;
    }
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < size ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const int v = base64_value(text[i]);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') {
      return std::nullopt;
    }
  }
  return out;
}

int hex_nibble(char c) {
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

std::string crc_hex(std::uint16_t crc) {
  std::string s(4, '0');
  for (int i = 3; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = kHexDigits[crc & 0x0F];
    crc = static_cast<std::uint16_t>(crc >> 4);
  }
  return s;
}

void append_int(std::string& out, long long v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// ACS repeat count for `count` (1..419) nibbles: one of g..z (20..400 in steps of 20) and one
// of G..Y (1..19), per the guide's "Alternative Data Compression Scheme".
void append_acs_count(std::string& out, int count) {
  if (count >= 20) {
    out.push_back(static_cast<char>('f' + count / 20));
  }
  if (count % 20 != 0) {
    out.push_back(static_cast<char>('F' + count % 20));
  }
}

void append_acs_run(std::string& out, int run, int nibble) {
  constexpr int kMaxRun = 419;  // 'z' (400) + 'Y' (19): the longest one group can say
  while (run > 0) {
    const int chunk = std::min(run, kMaxRun);
    if (chunk <= 2) {
      // A count letter would be no shorter than the digits themselves.
      out.append(static_cast<std::size_t>(chunk), kHexDigits[nibble]);
    } else {
      append_acs_count(out, chunk);
      out.push_back(kHexDigits[nibble]);
    }
    run -= chunk;
  }
}

struct Bounds {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // half-open
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};

// The smallest rectangle holding every black dot of rows [y_begin, y_end).
// The first byte of `row[0, n)` that is not 0, or n; eight bytes at a time over the white.
int first_inked_byte(const std::uint8_t* row, int n) {
  int i = 0;
  for (std::uint64_t word = 0; i + 8 <= n; i += 8) {
    std::memcpy(&word, row + i, 8);
    if (word != 0) {
      break;
    }
  }
  while (i < n && row[i] == 0) {
    ++i;
  }
  return i;
}

// The last byte of `row[0, n)` that is not 0 (the row has one).
int last_inked_byte(const std::uint8_t* row, int n) {
  int end = n;
  for (std::uint64_t word = 0; end >= 8; end -= 8) {
    std::memcpy(&word, row + end - 8, 8);
    if (word != 0) {
      break;
    }
  }
  while (row[end - 1] == 0) {
    --end;
  }
  return end - 1;
}

Bounds black_bounds(const Bitmap& bm, int y_begin, int y_end) {
  Bounds b{bm.width(), 0, 0, 0};
  bool any = false;
  const int stride = bm.stride();
  for (int y = y_begin; y < y_end; ++y) {
    const std::uint8_t* row = bm.row(y);
    const int first = first_inked_byte(row, stride);
    if (first == stride) {
      continue;
    }
    const int last = last_inked_byte(row, stride);
    const int left = first * 8 + std::countl_zero(row[first]);
    const int right = last * 8 + 8 - std::countr_zero(row[last]);
    if (!any) {
      b.y0 = y;
      any = true;
    }
    b.y1 = y + 1;
    b.x0 = std::min(b.x0, left);
    b.x1 = std::max(b.x1, right);
  }
  if (!any) {
    return {};
  }
  return b;
}

Bitmap crop(const Bitmap& src, const Bounds& b) {
  const int w = b.x1 - b.x0;
  const int h = b.y1 - b.y0;
  Bitmap out(w, h);
  const int shift = b.x0 & 7;
  const int first_byte = b.x0 >> 3;
  const int out_stride = out.stride();
  const int src_stride = src.stride();
  // Output bytes that take bits from two source bytes; the rest (at the row's end) from one.
  const int paired = std::max(0, std::min(out_stride, src_stride - first_byte - 1));
  const auto tail_mask = static_cast<std::uint8_t>((w & 7) ? 0xFF << (8 - (w & 7)) : 0xFF);
  for (int r = 0; r < h; ++r) {
    const std::uint8_t* in = src.row(b.y0 + r) + first_byte;
    std::uint8_t* o = out.row(r);
    if (shift == 0) {
      std::memcpy(o, in, static_cast<std::size_t>(out_stride));
    } else {
      for (int k = 0; k < paired; ++k) {
        o[k] = static_cast<std::uint8_t>((in[k] << shift) | (in[k + 1] >> (8 - shift)));
      }
      for (int k = paired; k < out_stride; ++k) {
        o[k] = static_cast<std::uint8_t>(in[k] << shift);
      }
    }
    // Pad bits print on a ZPL printer, so they must be white. Cropping to the ink already
    // leaves them so; the mask keeps it true for any rectangle.
    o[out_stride - 1] &= tail_mask;
  }
  return out;
}

void append_graphic_field(std::string& out, const Bitmap& band, int x, int y,
                          const ZplGraphicOptions& options) {
  const long long total = static_cast<long long>(band.stride()) * band.height();
  // ^FO x,y: field origin; ^GF a,b,c,d,data with a = A (ASCII), b = c = total bytes (for ASCII
  // and compressed ASCII data b "should match c"), d = bytes per row.
  out += "^FO";
  append_int(out, x);
  out.push_back(',');
  append_int(out, y);
  out += "^GFA,";
  append_int(out, total);
  out.push_back(',');
  append_int(out, total);
  out.push_back(',');
  append_int(out, band.stride());
  out.push_back(',');
  std::string data;
  if (options.compression == ZplCompression::kZ64) {
    data = zpl_z64_data(band, options.z64_level);
  }
  // ACS when asked for, or when deflate could not compress (it fails only without memory).
  out += data.empty() ? zpl_acs_data(band) : data;
  out += "^FS\n";
}

ZplRaster fail(std::string why) {
  ZplRaster r;
  r.error = std::move(why);
  return r;
}

// ACS (a superset of plain hex): fills `out` (c bytes, rows of d bytes) from `data`.
std::string decode_acs(std::string_view data, std::vector<std::uint8_t>& out, int d) {
  const std::size_t row_nibbles = static_cast<std::size_t>(d) * 2;
  const std::size_t total_nibbles = out.size() * 2;
  std::size_t pos = 0;  // in nibbles
  int count = 0;
  auto put = [&](int nibble, std::size_t n) -> bool {
    if (pos + n > total_nibbles) {
      return false;
    }
    for (std::size_t k = 0; k < n; ++k, ++pos) {
      std::uint8_t& byte = out[pos / 2];
      byte = static_cast<std::uint8_t>(pos % 2 ? (byte & 0xF0) | nibble : nibble << 4);
    }
    return true;
  };
  for (const char c : data) {
    if (c >= 'G' && c <= 'Y') {
      count += c - 'F';
    } else if (c >= 'g' && c <= 'z') {
      count += (c - 'f') * 20;
    } else if (const int v = hex_nibble(c); v >= 0) {
      if (!put(v, count > 0 ? static_cast<std::size_t>(count) : 1)) {
        return "ACS data runs past the field's byte count";
      }
      count = 0;
    } else if (c == ',' || c == '!') {
      if (count != 0) {
        return "ACS repeat count before ',' or '!'";
      }
      // Fills the rest of the current row; at a row start, the whole row.
      const std::size_t rest = row_nibbles - pos % row_nibbles;
      if (!put(c == ',' ? 0 : 15, rest)) {
        return "ACS row fill past the field's byte count";
      }
    } else if (c == ':') {
      if (count != 0 || pos % row_nibbles != 0 || pos == 0) {
        return "ACS ':' not at the start of a row after the first";
      }
      if (pos + row_nibbles > total_nibbles) {
        return "ACS row repeat past the field's byte count";
      }
      const std::size_t row_start = pos / 2;
      std::memcpy(out.data() + row_start, out.data() + row_start - static_cast<std::size_t>(d),
                  static_cast<std::size_t>(d));
      pos += row_nibbles;
    } else if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
      continue;
    } else {
      return std::string("unexpected character in ^GF data: '") + c + "'";
    }
  }
  if (count != 0) {
    return "ACS repeat count at the end of the data";
  }
  if (pos != total_nibbles) {
    return "^GF data holds " + std::to_string(pos / 2) + " bytes, the field says " +
           std::to_string(out.size());
  }
  return {};
}

// ":Z64:" or ":B64:" data (prefix included), checking the CRC when one is given.
std::string decode_b64(std::string_view data, std::vector<std::uint8_t>& out) {
  const bool zlib = data.substr(0, 5) == ":Z64:";
  data.remove_prefix(5);
  const std::size_t colon = data.find(':');
  const std::string_view text = data.substr(0, colon);
  if (colon != std::string_view::npos) {
    // Four hex digits in either case: we send upper case, other encoders (zpl-image among
    // them) send lower case, and printers take both.
    const std::string_view crc = data.substr(colon + 1);
    int given = crc.size() == 4 ? 0 : -1;
    for (std::size_t i = 0; given >= 0 && i < crc.size(); ++i) {
      const int v = hex_nibble(crc[i]);
      given = v < 0 ? -1 : given * 16 + v;
    }
    if (given != crc16_xmodem(text)) {
      return "Z64/B64 CRC mismatch: data says '" + std::string(crc) + "', computed " +
             crc_hex(crc16_xmodem(text));
    }
  } else if (zlib) {
    return "Z64 data without its CRC";
  }
  const auto raw = decode_base64(text);
  if (!raw) {
    return "invalid base64 in ^GF data";
  }
  if (!zlib) {
    if (raw->size() != out.size()) {
      return "B64 data size differs from the field's byte count";
    }
    std::copy(raw->begin(), raw->end(), out.begin());
    return {};
  }
  // One more byte than expected, so that too much data is seen rather than cut.
  std::vector<std::uint8_t> buffer(out.size() + 1);
  uLongf size = static_cast<uLongf>(buffer.size());
  const int rc = uncompress(buffer.data(), &size, raw->data(), static_cast<uLong>(raw->size()));
  if (rc != Z_OK) {
    return "Z64 data does not inflate (zlib error " + std::to_string(rc) + ")";
  }
  if (size != out.size()) {
    return "Z64 data inflates to " + std::to_string(size) + " bytes, the field says " +
           std::to_string(out.size());
  }
  std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size), out.begin());
  return {};
}

std::optional<long long> parse_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  long long v = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// "x,y[,...]" of ^FO, ^LH and ^FT; an omitted value is 0.
std::pair<int, int> parse_xy(std::string_view params) {
  const std::size_t comma = params.find(',');
  const auto x = parse_int(params.substr(0, comma));
  std::optional<long long> y;
  if (comma != std::string_view::npos) {
    const std::string_view rest = params.substr(comma + 1);
    y = parse_int(rest.substr(0, rest.find(',')));
  }
  return {static_cast<int>(x.value_or(0)), static_cast<int>(y.value_or(0))};
}

}  // namespace

std::uint16_t crc16_xmodem(std::string_view data) {
  std::uint16_t crc = 0;
  for (const char c : data) {
    const auto index = static_cast<std::uint8_t>((crc >> 8) ^ static_cast<std::uint8_t>(c));
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[index]);
  }
  return crc;
}

int zpl_band_rows(int bytes_per_row, int max_field_bytes) {
  if (bytes_per_row <= 0) {
    return 0;
  }
  return max_field_bytes / bytes_per_row;
}

std::string zpl_z64_data(const Bitmap& bitmap, int level) {
  const auto& bytes = bitmap.bytes();
  // libdeflate compressors are costly to make (hundreds of KB of tables) and cheap to reuse:
  // one per thread and level.
  struct CompressorDeleter {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
  };
  thread_local std::map<int, std::unique_ptr<libdeflate_compressor, CompressorDeleter>> compressors;
  level = std::clamp(level, 1, 12);
  auto& compressor = compressors[level];
  if (!compressor) {
    compressor.reset(libdeflate_alloc_compressor(level));
    if (!compressor) {
      return {};
    }
  }
  std::vector<std::uint8_t> packed(libdeflate_zlib_compress_bound(compressor.get(), bytes.size()));
  // A zlib stream (RFC 1950 header and Adler-32), which is what Z64 inflates.
  const std::size_t packed_size = libdeflate_zlib_compress(
      compressor.get(), bytes.data(), bytes.size(), packed.data(), packed.size());
  if (packed_size == 0) {
    return {};
  }
  std::string out = ":Z64:";
  append_base64(out, packed.data(), packed_size);
  // The CRC covers the base64 text only, not the ":Z64:" prefix.
  const std::uint16_t crc = crc16_xmodem(std::string_view(out).substr(5));
  out.push_back(':');
  out += crc_hex(crc);
  return out;
}

std::string zpl_acs_data(const Bitmap& bitmap) {
  std::string out;
  const int stride = bitmap.stride();
  const int nibbles = stride * 2;
  for (int y = 0; y < bitmap.height(); ++y) {
    const std::uint8_t* row = bitmap.row(y);
    if (y > 0 && std::memcmp(row, bitmap.row(y - 1), static_cast<std::size_t>(stride)) == 0) {
      out.push_back(':');  // repeats the previous row
      continue;
    }
    auto nibble = [row](int i) { return (i & 1) ? row[i >> 1] & 0x0F : row[i >> 1] >> 4; };
    int i = 0;
    while (i < nibbles) {
      const int v = nibble(i);
      int j = i + 1;
      while (j < nibbles && nibble(j) == v) {
        ++j;
      }
      if (j == nibbles && v == 0) {
        out.push_back(',');  // zeros to the end of the row
        break;
      }
      if (j == nibbles && v == 0xF) {
        out.push_back('!');  // ones to the end of the row
        break;
      }
      append_acs_run(out, j - i, v);
      i = j;
    }
  }
  return out;
}

std::string zpl_graphic_field(const Bitmap& bitmap, int x, int y,
                              const ZplGraphicOptions& options) {
  std::string out;
  if (bitmap.width() <= 0 || bitmap.height() <= 0) {
    return out;
  }
  if (!options.trim_white) {
    const int rows = std::max(1, zpl_band_rows(bitmap.stride(), options.max_field_bytes));
    for (int top = 0; top < bitmap.height(); top += rows) {
      const Bounds band{0, top, bitmap.width(), std::min(bitmap.height(), top + rows)};
      append_graphic_field(out, crop(bitmap, band), x, y + top, options);
    }
    return out;
  }
  const Bounds all = black_bounds(bitmap, 0, bitmap.height());
  if (all.empty()) {
    return out;
  }
  // Band height from the trimmed width; each band is then trimmed again, which only narrows it.
  const int rows = std::max(1, zpl_band_rows((all.x1 - all.x0 + 7) / 8, options.max_field_bytes));
  for (int top = all.y0; top < all.y1; top += rows) {
    const Bounds band = black_bounds(bitmap, top, std::min(all.y1, top + rows));
    if (band.empty()) {
      continue;
    }
    append_graphic_field(out, crop(bitmap, band), x + band.x0, y + band.y0, options);
  }
  return out;
}

std::string zpl_format(const LabelSize& size, std::string_view body) {
  std::string out = zpl_begin_format(size);
  out += body;
  out += zpl_end_format();
  return out;
}

std::string zpl_graphic_format(const Bitmap& bitmap, const LabelSize& size,
                               const ZplGraphicOptions& options) {
  return zpl_format(size, zpl_graphic_field(bitmap, 0, 0, options));
}

ZplRaster zpl_decode_graphic_field(std::string_view params) {
  // ^GFa,b,c,d,data: the data may itself hold commas (ACS), so split only the first four.
  std::string_view fields[4];
  for (auto& field : fields) {
    const std::size_t comma = params.find(',');
    if (comma == std::string_view::npos) {
      return fail("^GF with fewer than five parameters");
    }
    field = params.substr(0, comma);
    params.remove_prefix(comma + 1);
  }
  if (fields[0] != "A") {
    return fail("^GF compression type '" + std::string(fields[0]) + "' is not A (ASCII)");
  }
  const auto b = parse_int(fields[1]);
  const auto c = parse_int(fields[2]);
  const auto d = parse_int(fields[3]);
  if (!b || !c || !d || *c < 1 || *c > kGfMaxBytes || *b < 1 || *b > kGfMaxBytes || *d < 1 ||
      *c % *d != 0) {
    return fail("^GF byte counts out of range or c not a multiple of d");
  }
  std::string data;
  data.reserve(params.size());
  for (const char ch : params) {
    if (ch != '\r' && ch != '\n' && ch != ' ' && ch != '\t') {
      data.push_back(ch);
    }
  }
  const int width = static_cast<int>(*d) * 8;
  const int height = static_cast<int>(*c / *d);
  ZplRaster result;
  result.bitmap = Bitmap(width, height);
  auto& bytes = result.bitmap.bytes();
  const std::string_view view = data;
  if (view.substr(0, 5) == ":Z64:" || view.substr(0, 5) == ":B64:") {
    result.error = decode_b64(view, bytes);
  } else {
    result.error = decode_acs(view, bytes, static_cast<int>(*d));
  }
  result.graphic_fields = 1;
  return result;
}

ZplRaster zpl_decode_graphics(std::string_view zpl, int width, int height) {
  struct Placed {
    Bitmap bitmap;
    int x, y;
  };
  std::vector<Placed> placed;
  std::pair<int, int> home{0, 0};
  std::pair<int, int> origin{0, 0};
  bool typeset_origin = false;
  int print_width = 0;
  int label_length = 0;
  for (const auto& cmd : zpl_tokenize(zpl)) {
    if (cmd.name == "^XZ") {
      break;  // the first format only
    } else if (cmd.name == "^PW") {
      print_width = static_cast<int>(parse_int(cmd.params).value_or(0));
    } else if (cmd.name == "^LL") {
      label_length =
          static_cast<int>(parse_int(cmd.params.substr(0, cmd.params.find(','))).value_or(0));
    } else if (cmd.name == "^LH") {
      home = parse_xy(cmd.params);
    } else if (cmd.name == "^FO") {
      origin = parse_xy(cmd.params);
      typeset_origin = false;
    } else if (cmd.name == "^FT") {
      typeset_origin = true;
    } else if (cmd.name == "^FS") {
      origin = {0, 0};  // a field's origin does not carry over to the next field
      typeset_origin = false;
    } else if (cmd.name == "^GF") {
      if (typeset_origin) {
        return fail("^GF placed with ^FT, which this decoder does not place");
      }
      ZplRaster field = zpl_decode_graphic_field(cmd.params);
      if (!field.ok()) {
        field.error = "^GF #" + std::to_string(placed.size() + 1) + ": " + field.error;
        return field;
      }
      placed.push_back(
          {std::move(field.bitmap), home.first + origin.first, home.second + origin.second});
    }
  }
  int extent_w = 0;
  int extent_h = 0;
  for (const auto& p : placed) {
    extent_w = std::max(extent_w, p.x + p.bitmap.width());
    extent_h = std::max(extent_h, p.y + p.bitmap.height());
  }
  ZplRaster result;
  result.bitmap = Bitmap(width > 0 ? width : (print_width > 0 ? print_width : extent_w),
                         height > 0 ? height : (label_length > 0 ? label_length : extent_h));
  for (const auto& p : placed) {
    result.bitmap.draw(p.bitmap, p.x, p.y);
  }
  result.graphic_fields = static_cast<int>(placed.size());
  return result;
}

}  // namespace packbench::labels

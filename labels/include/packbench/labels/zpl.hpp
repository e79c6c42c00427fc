// ZPL II building blocks: field escaping, format framing and a tokenizer.
//
// Every format we emit starts with ^XA, restates the full label state (^PW, ^LL, ^LH0,0, ^CI28)
// and ends with ^XZ, so that a printer left in any state by an earlier job prints it the same.
// Order data never reaches the printer raw: it goes through ^FH hex escaping, because a '^' or
// '~' in a customer's name would otherwise be read as a command (~JA cancels every queued job).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace packbench::labels {

// Longest order-data field we pass to the printer, in bytes before escaping. ^FD accepts up to
// 3072 bytes; nothing on a pack-station label needs more than this, and a cap keeps one runaway
// field from pushing the rest of the label off the media.
inline constexpr std::size_t kDefaultFieldCap = 256;

// Escapes field data for use after ^FH (hex indicator '_'): '^', '~', '_', '\\' and every
// control byte become _XX. UTF-8 text passes through (the format selects ^CI28). The input is
// first cut to at most `max_bytes` bytes, never inside a UTF-8 sequence.
std::string zpl_escape_field(std::string_view data, std::size_t max_bytes = kDefaultFieldCap);

// Code 128 field data for ^BC in its default (no mode) setting. '>' starts an invocation code
// in ^BC data (">:" switches subset, ">8" is FNC1), so a literal '>' is written "><" before
// the hex escaping. Returns an empty string when the data holds bytes Code 128 cannot carry.
std::string zpl_code128_field(std::string_view data, std::size_t max_bytes = kDefaultFieldCap);

struct LabelSize {
  int dpi = 203;
  double width_in = 4.0;
  double height_in = 6.0;

  int width_dots() const { return static_cast<int>(width_in * dpi + 0.5); }
  int height_dots() const { return static_cast<int>(height_in * dpi + 0.5); }
};

// The opening of a format: ^XA and the full state for a label of `size`.
std::string zpl_begin_format(const LabelSize& size);
// The close of a format, with a print quantity of one.
std::string zpl_end_format();

// One command of a ZPL stream: its prefix and two-letter name ("^FD", "~JA", "^A0") and the
// parameters or data that follow it up to the next command prefix.
struct ZplCommand {
  std::string name;
  std::string params;

  friend bool operator==(const ZplCommand&, const ZplCommand&) = default;
};

// Splits a ZPL stream into commands the way a printer reads it with the default prefixes.
// Bytes before the first command are returned as a command with an empty name.
std::vector<ZplCommand> zpl_tokenize(std::string_view zpl);

// Reverses ^FH escaping (indicator '_') on field data.
std::string zpl_unescape_field(std::string_view escaped);

}  // namespace packbench::labels

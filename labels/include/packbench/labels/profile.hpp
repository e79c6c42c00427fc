// Printer profiles: what a printer is (its language, resolution and media width) and what it may
// be asked to do itself (printer-font text, QR codes). Built-in profiles for the usual printers,
// and profiles written by IT as TOML — a file of their own, or the keys of a station's
// [[printer]] — checked key by key. docs/labels.md describes the keys.
//
// Pure, like the rest of labels/: parse_profile takes the file's text; reading it is the
// caller's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/escpos.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace packbench::labels {

enum class OutputFormat { zpl, escpos, png, pdf };

std::optional<OutputFormat> parse_output_format(std::string_view name);
const char* to_string(OutputFormat format);

struct PrinterProfile {
  std::string name;
  // The format the printer speaks; encode_label may still be asked for a PNG or PDF preview of
  // what this printer would print.
  OutputFormat language = OutputFormat::zpl;
  int dpi = 203;
  // Printable width of the media.
  double width_mm = 101.6;
  // Fixed media length (a PDF page, a die-cut label the printer cannot change); 0 when the
  // length follows the template (ZPL ^LL, a receipt roll).
  double height_mm = 0;
  ZplCompression zpl_compression = ZplCompression::kZ64;
  // ZPL: text in printable ASCII that fits its box goes as a printer-font field (^A0 in an ^FB
  // block, ^FH escaped) instead of a graphic: crisper and smaller. Other text is rasterised.
  bool native_text = false;
  // ESC/POS: a QR code with nothing beside it is sent as GS ( k for the printer to draw. ZPL
  // QR codes are always graphics (no ^BQ): see docs/labels.md.
  bool native_qr = false;
  EscposCut cut = EscposCut::kPartial;
};

// zpl-203, zpl-300, zpl-600 (4 in wide, Z64, native text), escpos-80mm (72 mm printable at
// 203 dpi, native QR), pdf-a6 (an A6 page at 300 dpi).
std::optional<PrinterProfile> builtin_profile(std::string_view name);
std::vector<std::string> builtin_profile_names();

// The resolutions a profile may have: those the raster, codes and golden files are made for.
bool is_supported_dpi(int dpi);

// The keys of a profile as written, each absent unless given. Words stay words here so that a
// problem can name the key and the bad word.
struct ProfileSettings {
  std::optional<std::string> name;
  std::optional<std::string> language;  // zpl, escpos, pdf
  std::optional<std::int64_t> dpi;      // 203, 300, 600
  std::optional<double> width_mm;
  std::optional<double> height_mm;
  std::optional<std::string> zpl_compression;  // z64, acs (zpl only)
  std::optional<bool> native_text;             // zpl only
  std::optional<bool> native_qr;               // escpos only
  std::optional<std::string> cut;              // partial, full, none (escpos only)

  bool empty() const;
};

// The key names above, in order: for messages and for readers of other TOML.
const std::vector<std::string_view>& profile_keys();

struct ProfileProblem {
  std::string source;  // the profile file, or what the caller says
  int line = 0;        // 1-based; 0 when the problem has no place in a file
  int column = 0;
  std::string key;  // "zpl_compression"; empty for the file as a whole
  std::string message;
  std::string to_string() const;  // "zebra.toml:4:1: zpl_compression: 'lzw' is not ..."
};

struct ParsedProfile {
  std::optional<PrinterProfile> value;
  std::vector<ProfileProblem> problems;  // every problem, not just the first
  explicit operator bool() const { return value.has_value(); }
};

// `settings` over `base`: every key given replaces the base's. When the language changes, what
// only the base's language had (native text, native QR) is dropped. Checked: the words, dpi and
// sizes, and that a key is given only for a language that reads it (zpl_compression and
// native_text for zpl, native_qr and cut for escpos). Problems carry the key, no place.
ParsedProfile apply_profile_settings(const PrinterProfile& base, const ProfileSettings& settings,
                                     std::string_view source = {});

// A profile file (TOML, top-level keys):
//
//   name = "zebra-zd421-acs"     # default: the file's name without .toml
//   base = "zpl-203"             # optional: a built-in profile the keys below change
//   language = "zpl"             # without base: required, with dpi and width_mm
//   dpi = 203
//   width_mm = 104
//   zpl_compression = "acs"
//
// Problems carry the file's line, column and key.
ParsedProfile parse_profile(std::string_view toml, std::string_view source_name);

}  // namespace packbench::labels

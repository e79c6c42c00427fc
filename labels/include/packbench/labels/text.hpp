// Text rasterised on the station, at the printer's resolution.
//
// Printer-resident fonts have no CJK glyphs, so every piece of text that may be Japanese (a
// customer's name, a thank-you note) is laid out here with Pango, drawn with Cairo into an 8-bit
// coverage mask and thresholded to the 1-bit raster the encoders send. The fonts come from
// fontconfig; the default is Noto Sans CJK JP (Debian's fonts-noto-cjk), which also carries
// Latin, Greek, Cyrillic and full-width forms.
//
// Nothing reaches paper as tofu: before drawing, every character is checked against the chosen
// fonts, and a character none of them has a glyph for fails the whole block, naming it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

inline constexpr const char* kDefaultFontFamily = "Noto Sans CJK JP";

enum class FontWeight { regular, bold };
enum class TextAlign { left, center, right };

struct TextStyle {
  // One family, or a comma-separated list tried in order ("Noto Sans CJK JP, DejaVu Sans").
  // Only these fonts may draw the text: fontconfig's fallback to whatever else is installed is
  // not trusted, so a label renders the same on every station that passes the glyph check.
  std::string font_family = kDefaultFontFamily;
  // Size in typographic points (1/72 in), turned into dots with the device's dpi.
  double size_pt = 10.0;
  FontWeight weight = FontWeight::regular;
  TextAlign align = TextAlign::left;
};

// The area the text may occupy, in dots of the device.
struct TextBox {
  int width = 0;
  // Limits on the block's height; 0 means no limit. When both are given, the tighter one wins.
  int max_height = 0;
  int max_lines = 0;
  // Text that does not fit the limits is cut with an ellipsis (…) at the end of the last line
  // that fits. With `ellipsize` false it is an error instead, for text that must never be cut
  // (a discount code printed under its QR).
  bool ellipsize = true;
};

struct TextRaster {
  bool ok = false;
  // Why not ok, written for the person reading the log.
  std::string error;
  // The characters with no glyph in the chosen fonts, in order of first appearance, when that is
  // why the text failed.
  std::vector<char32_t> missing_glyphs;

  // `box.width` dots wide and `height` dots high; the text's first line starts at the top.
  Bitmap bitmap;
  // Height used by the laid-out lines, in dots (the logical extent, line spacing included).
  int height = 0;
  int lines = 0;
  // True when the text was cut to fit and ends in an ellipsis.
  bool ellipsized = false;

  explicit operator bool() const { return ok; }
};

// Lays out UTF-8 `text` in `box` and draws it at `dpi` (dots per inch of the device). Wraps at
// word boundaries, falling back to character boundaries for words wider than the box and for
// Japanese, which has no spaces (Pango's word-char wrap, following UAX #14 line breaking).
// Explicit line breaks ('\n') are kept.
TextRaster render_text(std::string_view text, const TextBox& box, const TextStyle& style, int dpi);

// The characters of UTF-8 `text` that none of `font_family`'s fonts (comma-separated list) at
// `weight` has a glyph for, in order of first appearance. Control characters and the invisible
// format characters Pango does not draw are not counted. A family that is not installed has no
// glyphs: every drawable character is reported. Invalid UTF-8 is reported as U+FFFD.
std::vector<char32_t> missing_glyphs(std::string_view text,
                                     const std::string& font_family = kDefaultFontFamily,
                                     FontWeight weight = FontWeight::regular);

// "U+1F381 U+0E02": code points as the Unicode standard writes them, for messages.
std::string format_code_points(const std::vector<char32_t>& code_points);

}  // namespace packbench::labels

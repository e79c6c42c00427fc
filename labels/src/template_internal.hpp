// The parsed form of a label template, shared by the parser, the renderer and the built-ins.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/codes.hpp"
#include "packbench/labels/image.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/text.hpp"

namespace packbench::labels {

enum class ElementKind { text, qr, barcode, image, line, box, table };

struct TextElementStyle {
  double size_pt = 10;
  FontWeight weight = FontWeight::regular;
  // For text: the text's alignment. For qr, barcode and image: where the symbol sits in its box.
  TextAlign align = TextAlign::left;
  std::string font = kDefaultFontFamily;
};

struct Column {
  std::string header;
  std::string text;
  double width = 0;
  TextAlign align = TextAlign::left;
};

struct Element {
  ElementKind kind = ElementKind::text;
  int index = 0;
  int line = 0;
  std::string where;                  // "element[3] (text)"
  double x = 0, y = 0, w = 0, h = 0;  // mm
  std::string when;
  std::size_t max_chars = kMaxValueBytes;
  // text and table
  std::string text;
  TextElementStyle style;
  int max_lines = 0;
  bool ellipsize = true;
  bool native = true;
  // qr and barcode
  std::string data;
  QrEcc ecc = QrEcc::M;
  QrEcc min_ecc = QrEcc::M;  // stepped down to, level by level, when the box is too small
  BarcodeType symbology = BarcodeType::code128;
  double module_mm = 0;
  double min_module_mm = 0;
  DataMatrixShape shape = DataMatrixShape::square;
  // image
  std::string image_ref;
  std::vector<std::uint8_t> image_bytes;
  Reduction reduction = Reduction::threshold;
  int threshold = 128;
  // The image as drawn, by the box it was fitted to: the shop's logo on every insert is decoded,
  // scaled and reduced once per printer resolution, not once per order. Shared by the copies
  // of a template, and locked, since labels may be drawn on a pool.
  struct DrawnImages {
    std::mutex mutex;
    std::vector<std::pair<std::pair<int, int>, Bitmap>> by_box;  // (width, height) in dots
  };
  std::shared_ptr<DrawnImages> drawn = std::make_shared<DrawnImages>();
  // line and box
  double x2 = 0, y2 = 0;
  double thickness = 0.3;
  bool fill = false;
  // table
  std::string rows;
  double row_height = 0;
  bool header = false;
  std::string overflow;
  std::vector<Column> columns;
};

struct TemplateDefinition {
  std::string name;
  std::string source;
  double width_mm = 0;
  double height_mm = 0;
  std::string default_locale = "en";
  // locale -> name -> text, as written (references resolved when drawn)
  std::map<std::string, std::map<std::string, std::string>> texts;
  std::vector<Element> elements;
};

// Letters, digits, '.', '_', '-'; not starting or ending with '.'.
bool is_reference_name(std::string_view name);

// Calls fn(name, optional) for each {name} or {name?} of `s`; "{{" and "}}" are literal braces.
// Sets `error` (and stops) on an unbalanced brace or a bad name.
template <class Fn>
void for_each_reference(std::string_view s, std::string& error, Fn&& fn) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{') {
      if (i + 1 < s.size() && s[i + 1] == '{') {
        ++i;
        continue;
      }
      const std::size_t end = s.find('}', i + 1);
      if (end == std::string_view::npos) {
        error = "a '{' without its '}' (write {{ for a literal brace)";
        return;
      }
      std::string_view name = s.substr(i + 1, end - i - 1);
      bool optional = false;
      if (name.ends_with('?')) {
        optional = true;
        name.remove_suffix(1);
      }
      if (!is_reference_name(name)) {
        error = "'{" + std::string(s.substr(i + 1, end - i - 1)) +
                "}' is not a value name (letters, digits, '.', '_', '-', and an optional '?')";
        return;
      }
      fn(name, optional);
      i = end;
    } else if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}') {
        ++i;
        continue;
      }
      error = "a '}' without its '{' (write }} for a literal brace)";
      return;
    }
  }
}

// The bytes of a built-in image ("logo"), or nullopt.
std::optional<std::span<const std::uint8_t>> builtin_image(std::string_view name);

}  // namespace packbench::labels

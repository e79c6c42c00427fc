// Label templates: a declarative layout (TOML) of elements placed in millimetres, filled with
// values from the order and the station, drawn at a printer profile's resolution and encoded
// for its language. docs/labels.md describes the file format for the people who write them.
//
//   render_label(template, data, profile)  ->  RenderedLabel (the placed ink, a preview raster)
//   encode_label(rendered, profile, format) ->  the bytes for the printer or the file
//
// Values never become layout: a substituted value is inserted as text, never read again for
// `{...}` references, cut to a length cap, and reaches a printer command only through the
// encoder's escaping (ZPL ^FH), so a customer called "^XA~JA" prints as those characters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/bitmap.hpp"
#include "packbench/labels/escpos.hpp"
#include "packbench/labels/pdf.hpp"
#include "packbench/labels/profile.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace packbench::labels {

// ---------------------------------------------------------------------------------------------
// The values a template draws from

// One row of a list ("lines" of an order): its values by name ("sku", "qty").
using LabelRow = std::map<std::string, std::string, std::less<>>;

struct LabelData {
  // Dotted names, as templates write them: "customer.name", "order.id", "discount.url".
  std::map<std::string, std::string, std::less<>> values;
  // Lists a table element repeats over: "lines" -> one row per order line.
  std::map<std::string, std::vector<LabelRow>, std::less<>> lists;
  // The order's locale ("ja", "en"); empty for the template's default.
  std::string locale;
};

// Longest value substituted into a template, in bytes (cut at a UTF-8 boundary): a 10 KB
// customer name costs no more than a long one. An element may ask for less with `max_chars`.
inline constexpr std::size_t kMaxValueBytes = 256;

// ---------------------------------------------------------------------------------------------
// Templates

struct TemplateProblem {
  std::string source;  // file name or "builtin:NAME"
  int line = 0;        // 1-based; 0 when the problem has no place in the file
  int column = 0;
  std::string message;
  std::string to_string() const;
};

struct TemplateDefinition;  // the parsed layout; see template.cpp

class Template {
 public:
  Template();
  explicit Template(std::shared_ptr<const TemplateDefinition> definition);
  const std::string& name() const;
  double width_mm() const;
  double height_mm() const;
  // Locales with text blocks, the default first.
  std::vector<std::string> locales() const;
  const TemplateDefinition& definition() const { return *definition_; }

 private:
  std::shared_ptr<const TemplateDefinition> definition_;
};

struct ParsedTemplate {
  std::optional<Template> value;
  // Every problem found, not just the first.
  std::vector<TemplateProblem> problems;
  explicit operator bool() const { return value.has_value(); }
};

// Parses a template from TOML text. Image elements name files relative to `base_dir`; an empty
// `base_dir` refuses them (only "builtin:" images), so text from an untrusted place can never
// make the library read a file.
ParsedTemplate parse_template(std::string_view toml, std::string_view source_name,
                              const std::filesystem::path& base_dir = {});
// Reads and parses a template file (its folder is the base for image files).
ParsedTemplate load_template_file(const std::filesystem::path& path);

// thank-you (ja, en), discount-card, packing-slip, shipping-label.
ParsedTemplate builtin_template(std::string_view name);
std::vector<std::string> builtin_template_names();
// The TOML source of a built-in template, for people who want to start their own from it.
std::optional<std::string_view> builtin_template_source(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Rendering

// A text element the printer may draw with its own font (ZPL ^A0 within ^FB).
struct NativeText {
  int x = 0, y = 0;  // top-left, dots
  int width = 0;     // the block's width, dots
  int font_dots = 0;
  int max_lines = 1;
  char align = 'L';  // L, C, R as ^FB takes them
  std::string text;  // raw value; the encoder escapes it
};

// A QR code a printer may draw itself (ESC/POS GS ( k).
struct NativeQr {
  int x = 0, y = 0, width = 0, height = 0;  // the symbol's box, quiet zone included, dots
  std::string data;
  int module_dots = 0;
  char ecc = 'M';
};

// One element's ink, where it goes, and the native form it may take instead.
struct PlacedInk {
  std::string element;  // "element[3] (text)", for messages
  int x = 0, y = 0;
  Bitmap ink;
  std::optional<NativeText> native_text;
  std::optional<NativeQr> native_qr;
};

struct RenderedLabel {
  bool ok = false;
  std::string error;  // why not ok: the element and the reason, for the log

  int dpi = 0;
  int width = 0;   // dots
  int height = 0;  // dots
  double scale = 1;
  std::string locale;  // the text blocks used
  std::vector<PlacedInk> inks;
  // Every element drawn as the person looking at the preview sees it.
  Bitmap preview;

  explicit operator bool() const { return ok; }
};

// Draws `tmpl` with `data` for `profile`. The layout keeps its proportions and is scaled down
// (never up) to the profile's printable width, and to its fixed length when it has one. An
// element that cannot be drawn right — a variable the data lacks, text with a character no font
// has, a QR that does not fit its box at whole-dot modules, a code that must not be cut — fails
// the whole label with the element and the reason: a label is printed right or not at all.
RenderedLabel render_label(const Template& tmpl, const LabelData& data,
                           const PrinterProfile& profile);

struct LabelOutput {
  bool ok = false;
  std::string error;
  std::string bytes;
  explicit operator bool() const { return ok; }
};

// The printer's bytes (zpl, escpos) or a file a person or an office printer takes (png, pdf).
LabelOutput encode_label(const RenderedLabel& label, const PrinterProfile& profile,
                         OutputFormat format);

// ---------------------------------------------------------------------------------------------
// Carrier labels: printed as given

enum class CarrierLabelFormat { zpl, png, pdf };
std::optional<CarrierLabelFormat> parse_carrier_label_format(std::string_view name);

// ZPL goes to a ZPL printer byte for byte (it was made for it; its PNG or PDF preview shows
// only its graphic fields). PNG and PDF (first page) are rasterised to the profile's width at
// its dpi, by threshold, and encoded like a template.
LabelOutput render_carrier_label(std::span<const std::uint8_t> bytes, CarrierLabelFormat kind,
                                 const PrinterProfile& profile, OutputFormat format);

}  // namespace packbench::labels

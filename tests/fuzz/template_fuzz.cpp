// Fuzz target for label templates: whatever bytes are handed to parse_template, it must not
// crash, must not read a file (the base folder is empty), and must say what is wrong; whatever
// template parses must render for real printer profiles, with hostile order data, and encode to
// every format without crashing, without letting a value become a printer command, and with
// every encoding showing the same dots.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/escpos.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace labels = packbench::labels;

namespace {

std::string_view g_input;

void require(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) {
    return;
  }
  std::fprintf(stderr, "template_fuzz: broken promise: %s\n", what);
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(std::min<std::size_t>(detail.size(), 2000)),
                 detail.data());
  }
  std::fprintf(stderr, "input (%zu bytes):\n%.*s\n", g_input.size(),
               static_cast<int>(g_input.size()), g_input.data());
  std::abort();
}

// The order and station values a template may name, with the hostile ones an order can carry:
// printer commands, ^FH's own indicator, control bytes, invalid UTF-8 and 10 KB strings.
labels::LabelData make_data(std::string locale) {
  labels::LabelData d;
  const std::string commands = "^XA^FO0,0^FDx^FS^XZ~JA~JR_5E\\&";
  const std::string controls = std::string("a\x01\x02\x1b\x7f\r\n\tb") + '\0' + "c";
  std::string ten_kb;
  while (ten_kb.size() < 10240) {
    ten_kb += "^XA~JA_\\& 長い名前 ";
  }
  d.values = {
      {"customer.name", "山田 花子 " + commands},
      {"customer.locale", "ja"},
      {"customer.first_order", "true"},
      {"customer.returning", "false"},
      {"customer.note", ten_kb},
      {"customer.controls", controls},
      {"customer.invalid_utf8", "\xff\xfe\xc3\x28\xed\xa0\x80 ok"},
      {"customer.gift", "\xF0\x9F\x8E\x81"},  // no font has it: the label must fail, not tofu
      {"order.id", "DEMO-1001"},
      {"order.hostile_id", "A^XZ~JA_1"},
      {"order.item_count", "3"},
      {"order.line_count", "2"},
      {"order.date", "2026-05-01"},
      {"order.packed_at", "2026-05-01T10:00:00Z"},
      {"discount.code", "THANKS-7Q2M-K9XD"},
      {"discount.url", "https://shop.example.jp/discount/THANKS-7Q2M-K9XD?utm_source=insert"},
      {"discount.expires", "2027-01-31"},
      {"discount.offer", "次回 10% OFF"},
      {"shop.name", ""},
      {"ship_to.name", "Alex ^FS Morgan"},
      {"ship_to.address", "221 Baker Street\nFlat 2\n" + ten_kb},
      {"ship_from.name", "Packbench Tea Co."},
      {"ship_from.address", "静岡県静岡市葵区追手町9-6"},
      {"box.number", "1"},
      {"box.count", "2"},
      {"shipment.sscc", "095200000000000018"},
      {"station.id", "station-1"},
      {"station.site", ""},
  };
  d.lists["lines"] = {
      {{"sku", "TEA-SENCHA-100"},
       {"name", "煎茶 100 g"},
       {"qty", "2"},
       {"barcode", "4901234567894"}},
      {{"sku", "^XA~JA"}, {"name", ten_kb}, {"qty", "1"}, {"barcode", controls}},
      {{"sku", "CUP"}, {"name", "湯呑み 青"}, {"qty", "1"}, {"barcode", ""}},
  };
  d.locale = std::move(locale);
  return d;
}

// The commands our ZPL encoder writes. Anything else in its output came from data that escaped.
const std::set<std::string, std::less<>> kZplCommands = {
    "^XA", "^PW", "^LL", "^LH", "^LS", "^LT", "^PO", "^PM", "^CI", "^FW",
    "^FO", "^GF", "^FS", "^A0", "^FB", "^FH", "^FD", "^PQ", "^XZ"};

void check_zpl(const labels::RenderedLabel& r, const labels::PrinterProfile& p,
               const std::string& zpl) {
  const auto commands = labels::zpl_tokenize(zpl);
  require(!commands.empty() && commands.front().name == "^XA", "ZPL starts with ^XA", zpl);
  std::size_t last = commands.size() - 1;
  // A trailing newline is bytes after the last command's name: part of its parameters.
  require(commands[last].name == "^XZ", "ZPL ends with ^XZ", zpl);
  int starts = 0, ends = 0;
  for (const auto& c : commands) {
    require(kZplCommands.contains(c.name), "ZPL holds only the encoder's own commands", c.name);
    starts += c.name == "^XA";
    ends += c.name == "^XZ";
    if (c.name == "^FD") {
      // Order data is ^FH escaped: no prefix character, no control byte.
      for (const char ch : c.params) {
        require(static_cast<unsigned char>(ch) >= 0x20 || ch == '\n',
                "^FD data holds no control bytes", c.params);
      }
      require(labels::zpl_unescape_field(c.params).size() <= labels::kDefaultFieldCap,
              "a field is cut to the cap", c.params);
    }
  }
  require(starts == 1 && ends == 1, "ZPL is one format");
  const labels::ZplRaster g = labels::zpl_decode_graphics(zpl);
  require(g.ok(), "the emitted ^GF fields decode", g.error);
  require(g.bitmap.width() == r.width && g.bitmap.height() == r.height,
          "the ^GF canvas is the label's size (^PW, ^LL)");
  bool any_native = false;
  for (const auto& ink : r.inks) {
    any_native = any_native || (ink.native_text && p.native_text);
  }
  if (!any_native) {
    require(g.bitmap == r.preview, "without printer fonts, the ^GF dots are the preview's");
  } else {
    // Text the printer draws is missing from the graphic, nothing else.
    for (int y = 0; y < g.bitmap.height(); ++y) {
      for (int x = 0; x < g.bitmap.width(); ++x) {
        require(!g.bitmap.get(x, y) || r.preview.get(x, y), "every ^GF dot is in the preview");
      }
    }
  }
}

void check_escpos(const labels::RenderedLabel& r, const std::string& bytes) {
  const labels::EscposParsed e = labels::escpos_parse(bytes);
  require(e.ok(), "the ESC/POS job parses", e.error);
  require(e.initialisations == 1, "the job initialises the printer once");
  require(e.cuts == 1 && e.cut_at_line_start, "the job cuts once, at a line start");
  if (e.qr_data.empty()) {
    // Bands stacked top to bottom are the preview, in whole bytes a row; trailing white rows
    // may be left out.
    require(e.raster.width() <= (r.width + 7) / 8 * 8 && e.raster.height() <= r.height,
            "the raster is no larger than the label");
    for (int y = 0; y < e.raster.height(); ++y) {
      for (int x = r.width; x < e.raster.width(); ++x) {
        require(!e.raster.get(x, y), "the padding of a raster row is white");
      }
    }
    for (int y = 0; y < r.height; ++y) {
      for (int x = 0; x < r.width; ++x) {
        const bool dot = x < e.raster.width() && y < e.raster.height() && e.raster.get(x, y);
        require(dot == r.preview.get(x, y), "the ESC/POS raster is the preview");
      }
    }
  }
}

void check_label(const labels::Template& tmpl, const labels::LabelData& data,
                 const labels::PrinterProfile& p) {
  const labels::RenderedLabel r = labels::render_label(tmpl, data, p);
  if (!r) {
    require(!r.error.empty(), "a label that does not render says why");
    require(r.inks.empty(), "a failed label holds no ink");
    return;
  }
  const int width = static_cast<int>(std::lround(p.width_mm * p.dpi / 25.4));
  require(r.dpi == p.dpi && r.width == width, "the label is the profile's width at its dpi");
  require(r.preview.width() == r.width && r.preview.height() == r.height,
          "the preview is the label's size");
  require(r.scale > 0 && r.scale <= 1, "a layout is scaled down, never up");
  for (const auto format : {labels::OutputFormat::zpl, labels::OutputFormat::escpos,
                            labels::OutputFormat::png, labels::OutputFormat::pdf}) {
    const labels::LabelOutput out = labels::encode_label(r, p, format);
    if (!out) {
      require(!out.error.empty(), "an encoding that fails says why");
      // Only an empty raster has no PNG.
      require(format == labels::OutputFormat::png && r.height == 0,
              "a rendered label encodes to every format", out.error);
      continue;
    }
    switch (format) {
      case labels::OutputFormat::zpl:
        check_zpl(r, p, out.bytes);
        break;
      case labels::OutputFormat::escpos:
        check_escpos(r, out.bytes);
        break;
      case labels::OutputFormat::png: {
        const labels::PngDecoded png = labels::png_decode(out.bytes);
        require(png.ok(), "the PNG decodes", png.error);
        require(png.bitmap == r.preview, "the PNG is the preview");
        break;
      }
      case labels::OutputFormat::pdf:
        require(out.bytes.starts_with("%PDF-"), "a PDF starts with %PDF-");
        require(out.bytes.find("%%EOF",
                               out.bytes.size() - std::min<std::size_t>(out.bytes.size(), 8)) !=
                    std::string::npos,
                "a PDF ends with %%EOF");
        break;
    }
  }
}

std::vector<std::string> problem_texts(const labels::ParsedTemplate& t) {
  std::vector<std::string> out;
  for (const auto& p : t.problems) {
    out.push_back(p.to_string());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  g_input = input;
  // No base folder: an image file named by the template must be refused, never read.
  const labels::ParsedTemplate parsed = labels::parse_template(input, "fuzz.toml", {});
  require(parsed.value.has_value() == parsed.problems.empty(),
          "a template parses exactly when it has no problems");
  for (const auto& p : parsed.problems) {
    require(p.source == "fuzz.toml", "a problem names its source");
    require(!p.message.empty(), "a problem is said in words");
    require(p.line >= 0 && p.column >= 0, "a problem's place is not negative");
  }
  require(problem_texts(labels::parse_template(input, "fuzz.toml", {})) == problem_texts(parsed),
          "parsing is deterministic");
  if (!parsed) {
    return 0;
  }
  const labels::Template& tmpl = *parsed.value;
  require(tmpl.width_mm() > 0 && tmpl.width_mm() <= 1000 && tmpl.height_mm() > 0 &&
              tmpl.height_mm() <= 1000,
          "a template's size is within the limits");
  require(!tmpl.locales().empty(), "a template has a default locale");

  // The locale follows the input, so both the ja and the fallback path are taken.
  static const labels::LabelData kJa = make_data("ja");
  static const labels::LabelData kFallback = make_data("fr-CA");
  const labels::LabelData& data = size % 2 == 0 ? kJa : kFallback;

  // A ZPL printer with its own fonts and Z64; an 80 mm receipt printer with native QR; and an A6
  // page at 300 dpi (fixed length) whose ZPL goes as ACS.
  static const labels::PrinterProfile kZpl = *labels::builtin_profile("zpl-203");
  static const labels::PrinterProfile kEscpos = *labels::builtin_profile("escpos-80mm");
  static const labels::PrinterProfile kPdf = [] {
    labels::PrinterProfile p = *labels::builtin_profile("pdf-a6");
    p.zpl_compression = labels::ZplCompression::kAcs;
    return p;
  }();
  check_label(tmpl, data, kZpl);
  check_label(tmpl, data, kEscpos);
  check_label(tmpl, data, kPdf);
  return 0;
}

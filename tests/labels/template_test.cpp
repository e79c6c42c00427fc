// Label templates: the file format, values, locales, the built-ins in every format (golden
// files), codes read back from what would be printed, and order data that tries to be ZPL.
#include "packbench/labels/template.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "packbench/labels/escpos.hpp"
#include "packbench/labels/pdf.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace packbench::labels {
namespace {

namespace fs = std::filesystem;

ZXing::Result decode(const Bitmap& b, ZXing::BarcodeFormat format) {
  std::vector<std::uint8_t> lum(static_cast<std::size_t>(b.width()) * b.height(), 255);
  for (int y = 0; y < b.height(); ++y) {
    for (int x = 0; x < b.width(); ++x) {
      if (b.get(x, y)) {
        lum[static_cast<std::size_t>(y) * b.width() + x] = 0;
      }
    }
  }
  const ZXing::ImageView image(lum.data(), b.width(), b.height(), ZXing::ImageFormat::Lum);
  return ZXing::ReadBarcode(image, ZXing::DecodeHints().setFormats(format));
}

const std::string kUrlJa =
    "https://shop.example.jp/discount/THANKS-7Q2M-K9XD?redirect=%2Fcollections%2Ftea&utm_source="
    "insert&utm_medium=qr&utm_campaign=thanks";
const std::string kSscc = "095200000000000011";  // GS1 prefix 952: for examples

// What the station gives a template for the demo's Japanese first-time customer and its
// returning English one: the golden files' inputs.
LabelData load_values(const std::string& locale) {
  const std::filesystem::path file =
      std::filesystem::path(PACKBENCH_GOLDEN_DIR) / ("values-" + locale + ".json");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const boost::json::object doc = boost::json::parse(ss.str()).as_object();
  LabelData d;
  d.locale = std::string(doc.at("locale").as_string());
  for (const auto& [k, v] : doc.at("values").as_object()) {
    d.values[std::string(k)] = std::string(v.as_string());
  }
  for (const auto& [name, rows] : doc.at("lists").as_object()) {
    for (const auto& row : rows.as_array()) {
      LabelRow r;
      for (const auto& [k, v] : row.as_object()) {
        r[std::string(k)] = std::string(v.as_string());
      }
      d.lists[std::string(name)].push_back(std::move(r));
    }
  }
  return d;
}

LabelData order_ja() {
  static const LabelData d = load_values("ja");
  return d;
}

LabelData order_en() {
  static const LabelData d = load_values("en");
  return d;
}

Template builtin(const std::string& name) {
  ParsedTemplate t = builtin_template(name);
  EXPECT_TRUE(t) << (t.problems.empty() ? "" : t.problems.front().to_string());
  return *t.value;
}

Template parse_ok(std::string_view toml) {
  ParsedTemplate t = parse_template(toml, "test.toml");
  EXPECT_TRUE(t) << (t.problems.empty() ? "" : t.problems.front().to_string());
  return t ? *t.value : Template();
}

std::vector<std::string> problems_of(std::string_view toml) {
  std::vector<std::string> out;
  for (const auto& p : parse_template(toml, "test.toml").problems) {
    out.push_back(p.to_string());
  }
  return out;
}

bool any_contains(const std::vector<std::string>& v, std::string_view needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

PrinterProfile profile(const std::string& name) {
  return *builtin_profile(name);
}

std::string render_to(const Template& t, const LabelData& d, const std::string& profile_name,
                      OutputFormat format) {
  const PrinterProfile p = profile(profile_name);
  const RenderedLabel r = render_label(t, d, p);
  EXPECT_TRUE(r) << r.error;
  const LabelOutput out = encode_label(r, p, format);
  EXPECT_TRUE(out) << out.error;
  return out.bytes;
}

std::vector<std::string> command_names(std::string_view zpl) {
  std::vector<std::string> out;
  for (const auto& c : zpl_tokenize(zpl)) {
    if (!c.name.empty()) {
      out.push_back(c.name);
    }
  }
  return out;
}

// --- the file format -----------------------------------------------------------------------

constexpr std::string_view kSmall = R"(
[label]
name = "small"
width_mm = 80
height_mm = 30
default_locale = "en"

[text.en]
hello = "Hello, {customer.name}!"
[text.ja]
hello = "{customer.name} 様"

[[element]]
type = "text"
text = "{text.hello}"
x_mm = 2
y_mm = 2
width_mm = 76
height_mm = 12
size_pt = 10

[[element]]
type = "text"
when = "discount.code"
text = "{discount.code}"
x_mm = 2
y_mm = 14
width_mm = 46
height_mm = 8
size_pt = 10
ellipsize = false

[[element]]
type = "box"
when = "!discount.code"
x_mm = 2
y_mm = 14
width_mm = 10
height_mm = 10
fill = true
)";

TEST(TemplateParse, EveryBuiltinParsesWithBothLocales) {
  for (const auto& name : builtin_template_names()) {
    const Template t = builtin(name);
    EXPECT_EQ(t.name(), name);
    const auto locales = t.locales();
    EXPECT_EQ(locales.front(), "en") << name;
    EXPECT_NE(std::find(locales.begin(), locales.end(), "ja"), locales.end()) << name;
  }
  EXPECT_FALSE(builtin_template("no-such"));
}

TEST(TemplateParse, ReportsEveryProblemWithItsPlace) {
  const auto problems = problems_of(R"([label]
name = "x"
width_mm = 50
height_mm = "tall"
colour = "red"

[text.en]
a = "A"
[text.ja]
b = "B"

[[element]]
type = "text"
text = "{text.a} {unclosed"
x_mm = 1
y_mm = 1
width_mm = 10
height_mm = 10

[[element]]
type = "sparkle"

[[element]]
type = "qr"
x_mm = 1
y_mm = 1
width_mm = 10
height_mm = 10
ecc = "Z"

[[element]]
type = "image"
image = "logo.png"
x_mm = 1
y_mm = 1
width_mm = 10
height_mm = 10
)");
  EXPECT_TRUE(any_contains(problems, "test.toml:4:13: label.height_mm must be a number"));
  EXPECT_TRUE(any_contains(problems, "test.toml:5:10: label: unknown key 'colour'"));
  EXPECT_TRUE(any_contains(problems, "a '{' without its '}'"));
  EXPECT_TRUE(any_contains(problems, "unknown type 'sparkle'"));
  EXPECT_TRUE(any_contains(problems, "'data' is required"));
  EXPECT_TRUE(any_contains(problems, "ecc: 'Z' is not one of L, M, Q, H"));
  EXPECT_TRUE(any_contains(problems, "image files are not allowed here"));
  EXPECT_GE(problems.size(), 7u);
}

TEST(TemplateParse, ATextBlockUsedMustExistInEveryLocale) {
  const auto problems = problems_of(R"([label]
name = "x"
width_mm = 50
height_mm = 30
[text.en]
hello = "Hello"
[text.ja]
bye = "さようなら"
[[element]]
type = "text"
text = "{text.hello}"
x_mm = 1
y_mm = 1
width_mm = 10
height_mm = 10
)");
  EXPECT_TRUE(any_contains(problems, "{text.hello} is used but [text.ja] has no 'hello'"));
}

TEST(TemplateParse, SyntaxErrorsAndAbsurdSizesAreRefused) {
  EXPECT_TRUE(any_contains(problems_of("[label\nname = 1"), "test.toml:1:"));
  EXPECT_TRUE(any_contains(problems_of("[label]\nname=\"x\"\nwidth_mm=1e9\nheight_mm=10\n"),
                           "label.width_mm must be above 0 and at most 1000 mm"));
  EXPECT_TRUE(any_contains(problems_of(""), "no [label] section"));
}

TEST(TemplateParse, ImageFilesAreReadFromTheTemplatesFolder) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("pb-template-{}", ::getpid());
  fs::create_directories(dir);
  Bitmap square(40, 40);
  square.fill(0, 0, 40, 40);
  ASSERT_FALSE(png_write_file(square, (dir / "square.png").string()));
  {
    std::ofstream(dir / "card.toml") << R"([label]
name = "card"
width_mm = 20
height_mm = 20
[[element]]
type = "image"
image = "square.png"
x_mm = 0
y_mm = 0
width_mm = 10
height_mm = 10
)";
  }
  ParsedTemplate t = load_template_file(dir / "card.toml");
  ASSERT_TRUE(t) << t.problems.front().to_string();
  const RenderedLabel r = render_label(*t.value, {}, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.preview.get(5, 5));
  EXPECT_FALSE(r.preview.get(100, 100));
  fs::remove_all(dir);
}

// The image element's `reduction` reaches the drawing: a grey ramp thresholded is black up to the
// middle and white after it, in whole columns; diffused, the share of black dots follows the grey.
TEST(TemplateRender, TheImagesReductionKeyChoosesThresholdOrDiffusion) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("pb-reduction-{}", ::getpid());
  fs::create_directories(dir);
  cv::Mat ramp(64, 256, CV_8U);
  for (int x = 0; x < 256; ++x) {
    ramp.col(x).setTo(cv::Scalar(x));
  }
  ASSERT_TRUE(cv::imwrite((dir / "ramp.png").string(), ramp));
  auto card = [&](const std::string& image, const std::string& reduction) {
    const std::string toml = fmt::format(R"([label]
name = "ramp"
width_mm = 40
height_mm = 12
[[element]]
type = "image"
image = "{}"
reduction = "{}"
x_mm = 0
y_mm = 0
width_mm = 32.08
height_mm = 8.02
)",
                                         image, reduction);
    ParsedTemplate t = parse_template(toml, "ramp.toml", dir);
    EXPECT_TRUE(t) << (t.problems.empty() ? "" : t.problems.front().to_string());
    const RenderedLabel r = render_label(*t.value, {}, profile("zpl-203"));
    EXPECT_TRUE(r) << r.error;
    EXPECT_EQ(r.inks.size(), 1u);
    return r.inks.at(0).ink;
  };
  const Bitmap threshold = card("ramp.png", "threshold");
  const Bitmap diffused = card("ramp.png", "floyd-steinberg");
  // 256 x 64 pixels into a 256 x 64-dot box at 203 dpi: one dot per pixel.
  ASSERT_EQ(threshold.width(), 256);
  ASSERT_EQ(threshold.height(), 64);
  ASSERT_EQ(diffused.width(), 256);
  EXPECT_FALSE(threshold == diffused);
  auto black_in = [](const Bitmap& b, int x0, int x1) {
    int n = 0;
    for (int y = 0; y < b.height(); ++y) {
      for (int x = x0; x < x1; ++x) {
        n += b.get(x, y) ? 1 : 0;
      }
    }
    return static_cast<double>(n) / ((x1 - x0) * b.height());
  };
  // Thresholded: every column is all black (grey below 128) or all white.
  EXPECT_EQ(black_in(threshold, 0, 128), 1.0);
  EXPECT_EQ(black_in(threshold, 128, 256), 0.0);
  // Diffused: a quarter of the way along (grey ~48) mostly black, three quarters (~208) mostly
  // white, but neither solid, and black in proportion to the darkness overall.
  EXPECT_GT(black_in(diffused, 32, 64), 0.6);
  EXPECT_LT(black_in(diffused, 32, 64), 0.95);
  EXPECT_GT(black_in(diffused, 192, 224), 0.05);
  EXPECT_LT(black_in(diffused, 192, 224), 0.4);
  EXPECT_NEAR(black_in(diffused, 0, 256), 0.5, 0.05);

  // The grey built-in logo the thank-you insert prints differs between the two as well.
  EXPECT_FALSE(card("builtin:logo", "threshold") == card("builtin:logo", "floyd-steinberg"));
  fs::remove_all(dir);
}

// A built-in at 600 dpi: the layout is the same size on paper, and the QR code still has whole-dot
// modules (12 dots, 0.5 mm, at least) and reads back from the preview and the ZPL.
TEST(TemplateRender, TheInsertAtSixHundredDpiKeepsWholeDotQrModules) {
  const PrinterProfile p = profile("zpl-600");
  const RenderedLabel r = render_label(builtin("thank-you"), order_ja(), p);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.width, 2400);   // 4 in
  EXPECT_EQ(r.height, 3600);  // 6 in
  ZXing::Result read = decode(r.preview, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), kUrlJa);
  const std::string zpl = encode_label(r, p, OutputFormat::zpl).bytes;
  const ZplRaster printed = zpl_decode_graphics(zpl);
  ASSERT_TRUE(printed.ok()) << printed.error;
  read = decode(printed.bitmap, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), kUrlJa);
  // Every ^GF band stays within the printer's limit: 11 bands for a 4 x 6 in raster.
  for (const auto& c : zpl_tokenize(zpl)) {
    if (c.name == "^GF") {
      const ZplRaster band = zpl_decode_graphic_field(c.params);
      ASSERT_TRUE(band.ok()) << band.error;
      EXPECT_LE(static_cast<long>(band.bitmap.stride()) * band.bitmap.height(), kGfMaxBytes);
    }
  }

  const PlacedInk* qr = nullptr;
  for (const auto& ink : r.inks) {
    if (ink.element.find("(qr)") != std::string::npos) {
      qr = &ink;
    }
  }
  ASSERT_TRUE(qr);
  const Bitmap& q = qr->ink;
  ASSERT_EQ(q.width(), q.height());
  // The top-left finder pattern starts after the 4-module quiet zone with 7 black modules.
  int top = -1;
  for (int y = 0; y < q.height() && top < 0; ++y) {
    for (int x = 0; x < q.width(); ++x) {
      if (q.get(x, y)) {
        top = y;
        break;
      }
    }
  }
  ASSERT_GT(top, 0);
  int left = 0;
  while (!q.get(left, top)) {
    ++left;
  }
  int run = 0;
  while (q.get(left + run, top)) {
    ++run;
  }
  ASSERT_EQ(run % 7, 0);
  const int module = run / 7;
  EXPECT_GE(module, 12);  // 0.5 mm at 600 dpi
  EXPECT_EQ(left, 4 * module);
  EXPECT_EQ(top, 4 * module);
  ASSERT_EQ(q.width() % module, 0);
  const int modules = q.width() / module - 8;
  EXPECT_EQ((modules - 17) % 4, 0);  // a QR version's size
  // Whole dots: every module is one colour throughout.
  for (int my = 0; my < modules + 8; ++my) {
    for (int mx = 0; mx < modules + 8; ++mx) {
      const bool colour = q.get(mx * module, my * module);
      for (int y = 0; y < module; ++y) {
        for (int x = 0; x < module; ++x) {
          ASSERT_EQ(q.get(mx * module + x, my * module + y), colour)
              << "module " << mx << "," << my;
        }
      }
    }
  }
}

// --- values, conditions, locales ------------------------------------------------------------

TEST(TemplateRender, ChoosesTheOrdersLocaleAndFallsBackToTheDefault) {
  const Template t = parse_ok(kSmall);
  LabelData d;
  d.values["customer.name"] = "Ann";
  for (auto [asked, used] : {std::pair{"ja", "ja"},
                             {"ja-JP", "ja"},
                             {"ja_JP", "ja"},
                             {"fr", "en"},
                             {"", "en"},
                             {"en", "en"}}) {
    d.locale = asked;
    const RenderedLabel r = render_label(t, d, profile("zpl-203"));
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.locale, used) << asked;
  }
}

TEST(TemplateRender, WhenChoosesElementsByValue) {
  const Template t = parse_ok(kSmall);
  LabelData d;
  d.values["customer.name"] = "Ann";
  RenderedLabel r = render_label(t, d, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  ASSERT_EQ(r.inks.size(), 2u);  // greeting, filled box
  EXPECT_EQ(r.inks[1].element, "element[2] (box)");
  d.values["discount.code"] = "SAVE-10";
  r = render_label(t, d, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  ASSERT_EQ(r.inks.size(), 2u);
  EXPECT_EQ(r.inks[1].element, "element[1] (text)");
  EXPECT_EQ(r.inks[1].native_text->text, "SAVE-10");
}

TEST(TemplateRender, AMissingValueFailsTheLabelNamingIt) {
  const Template t = parse_ok(kSmall);
  const RenderedLabel r = render_label(t, {}, profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("element[0] (text)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("no value for {customer.name}"), std::string::npos) << r.error;
}

TEST(TemplateRender, ValuesAreNeverReadAsReferences) {
  const Template t = parse_ok(kSmall);
  LabelData d;
  d.values["customer.name"] = "{text.hello} {discount.code} {{";
  d.values["discount.code"] = "X";
  const RenderedLabel r = render_label(t, d, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  ASSERT_TRUE(r.inks[0].native_text);
  EXPECT_EQ(r.inks[0].native_text->text, "Hello, {text.hello} {discount.code} {{!");
}

TEST(TemplateRender, TextThatMustNotBeCutFailsInsteadOfEllipsis) {
  const Template t = parse_ok(kSmall);
  LabelData d;
  d.values["customer.name"] = "Ann";
  d.values["discount.code"] = std::string(60, 'W');
  const RenderedLabel r = render_label(t, d, profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("element[1] (text)"), std::string::npos) << r.error;
}

TEST(TemplateRender, ACodeValueOverItsCapIsAnErrorNotACut) {
  const Template t = builtin("discount-card");
  LabelData d = order_en();
  d.values["discount.url"] = "https://shop.example.com/" + std::string(2000, 'a');
  const RenderedLabel r = render_label(t, d, profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("over the 1024-byte cap"), std::string::npos) << r.error;
}

TEST(TemplateRender, BadBytesInValuesPrintAsReplacementCharacters) {
  const Template t = parse_ok(kSmall);
  LabelData d;
  d.values["customer.name"] = std::string("An\xff\x01n\x1b");
  const RenderedLabel r = render_label(t, d, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  ASSERT_TRUE(r.inks[0].native_text);
  EXPECT_EQ(r.inks[0].native_text->text, "Hello, An?n!");
}

TEST(TemplateRender, ScalesDownToNarrowMediaButKeepsWholeDotCodes) {
  const Template t = builtin("thank-you");
  const RenderedLabel wide = render_label(t, order_ja(), profile("zpl-203"));
  const RenderedLabel narrow = render_label(t, order_ja(), profile("escpos-80mm"));
  ASSERT_TRUE(wide) << wide.error;
  ASSERT_TRUE(narrow) << narrow.error;
  EXPECT_EQ(wide.width, 812);  // 4 in
  EXPECT_EQ(narrow.width, 576);
  EXPECT_NEAR(narrow.scale, (576 * 25.4 / 203) / 101.6, 1e-9);
  EXPECT_EQ(narrow.height, static_cast<int>(std::lround(152.4 * narrow.scale * 203 / 25.4)));
  EXPECT_TRUE(decode(narrow.preview, ZXing::BarcodeFormat::QRCode).isValid());
}

TEST(TemplateRender, PackingSlipEndsALongOrderWithAMoreLine) {
  const Template t = builtin("packing-slip");
  LabelData d = order_en();
  d.lists["lines"].clear();
  for (int i = 0; i < 40; ++i) {
    d.lists["lines"].push_back({{"sku", fmt::format("SKU-{}", i)}, {"name", "Tea"}, {"qty", "1"}});
  }
  const RenderedLabel r = render_label(t, d, profile("zpl-203"));
  ASSERT_TRUE(r) << r.error;
  std::vector<std::string> texts;
  for (const auto& ink : r.inks) {
    if (ink.native_text) {
      texts.push_back(ink.native_text->text);
    }
  }
  // 92 mm of 6 mm rows: 15 rows, a header and 13 lines, then the line that says what is left.
  EXPECT_TRUE(any_contains(texts, "SKU-12"));
  EXPECT_FALSE(any_contains(texts, "SKU-13"));
  EXPECT_TRUE(any_contains(texts, "+ 27 more lines"));
}

// --- codes read back from what would be printed -----------------------------------------------

TEST(TemplateCodes, TheInsertsQrReadsBackFromThePreviewAndFromTheZpl) {
  for (const auto& name : {"zpl-203", "zpl-300"}) {
    const Template t = builtin("thank-you");
    const LabelData d = order_ja();
    const RenderedLabel r = render_label(t, d, profile(name));
    ASSERT_TRUE(r) << r.error;
    ZXing::Result read = decode(r.preview, ZXing::BarcodeFormat::QRCode);
    ASSERT_TRUE(read.isValid()) << name;
    EXPECT_EQ(read.text(), kUrlJa);

    const std::string zpl = encode_label(r, profile(name), OutputFormat::zpl).bytes;
    const ZplRaster printed = zpl_decode_graphics(zpl);
    ASSERT_TRUE(printed.ok()) << printed.error;
    read = decode(printed.bitmap, ZXing::BarcodeFormat::QRCode);
    ASSERT_TRUE(read.isValid()) << name;
    EXPECT_EQ(read.text(), kUrlJa);
  }
}

// The discount card asks for ECC Q (a card lives in a wallet) and takes M where its box is too
// small for Q: scaled onto an 80 mm roll. Either way the link reads back whole.
TEST(TemplateCodes, TheCardsQrStepsDownToItsMinimumEccOnlyWhereQCannotFit) {
  const Template t = builtin("discount-card");
  for (const auto& [name, level] : std::vector<std::pair<std::string, std::string>>{
           {"zpl-203", "Q"}, {"zpl-300", "Q"}, {"escpos-80mm", "M"}}) {
    const RenderedLabel r = render_label(t, order_en(), profile(name));
    ASSERT_TRUE(r) << name << ": " << r.error;
    const ZXing::Result read = decode(r.preview, ZXing::BarcodeFormat::QRCode);
    ASSERT_TRUE(read.isValid()) << name;
    EXPECT_EQ(read.text(), order_en().values.at("discount.url")) << name;
    EXPECT_EQ(read.ecLevel(), level) << name;
  }
  // Without min_ecc, a box too small for the level asked is an error naming that level.
  const Template strict = parse_ok(R"([label]
name = "x"
width_mm = 30
height_mm = 30
[[element]]
type = "qr"
data = "https://shop.example.com/discount/THANKS-4HJ8-WP3T?redirect=%2Fcollections%2Ftea&utm_source=insert"
ecc = "H"
x_mm = 0
y_mm = 0
width_mm = 24
height_mm = 24
)");
  const RenderedLabel refused = render_label(strict, order_en(), profile("zpl-203"));
  EXPECT_FALSE(refused);
  EXPECT_NE(refused.error.find("at ECC H"), std::string::npos) << refused.error;
  EXPECT_TRUE(any_contains(problems_of(R"([label]
name = "x"
width_mm = 30
height_mm = 30
[[element]]
type = "qr"
data = "x"
ecc = "M"
min_ecc = "H"
x_mm = 0
y_mm = 0
width_mm = 24
height_mm = 24
)"),
                           "test.toml:9:11: element[0] (qr).min_ecc must not be above ecc"));
}

TEST(TemplateCodes, TheShippingLabelsSsccAndOrderIdReadBack) {
  const Template t = builtin("shipping-label");
  for (const auto& name : {"zpl-203", "zpl-300", "escpos-80mm", "pdf-a6"}) {
    const RenderedLabel r = render_label(t, order_en(), profile(name));
    ASSERT_TRUE(r) << name << ": " << r.error;
    // The two Code 128 symbols: read each from its own ink.
    std::vector<std::string> read;
    for (const auto& ink : r.inks) {
      if (ink.element.find("(barcode)") != std::string::npos) {
        const ZXing::Result res = decode(ink.ink, ZXing::BarcodeFormat::Code128);
        ASSERT_TRUE(res.isValid()) << name << " " << ink.element;
        read.push_back(res.symbologyIdentifier() + res.text());
      }
    }
    EXPECT_EQ(read, (std::vector<std::string>{"]C0DEMO-1002", "]C100" + kSscc})) << name;
  }
  // And from the ^GF fields of the ZPL, where the whole label is one raster.
  const RenderedLabel r = render_label(t, order_en(), profile("zpl-203"));
  const ZplRaster printed =
      zpl_decode_graphics(encode_label(r, profile("zpl-203"), OutputFormat::zpl).bytes);
  ASSERT_TRUE(printed.ok()) << printed.error;
  const int cut = static_cast<int>(std::lround(92 * 203 / 25.4));  // the rule above the SSCC
  Bitmap lower(printed.bitmap.width(), printed.bitmap.height() - cut);
  for (int y = 0; y < lower.height(); ++y) {
    for (int x = 0; x < lower.width(); ++x) {
      lower.set(x, y, printed.bitmap.get(x, y + cut));
    }
  }
  const ZXing::Result sscc = decode(lower, ZXing::BarcodeFormat::Code128);
  ASSERT_TRUE(sscc.isValid());
  EXPECT_EQ(sscc.text(), "00" + kSscc);
  EXPECT_EQ(sscc.symbologyIdentifier(), "]C1");
}

// The dots of `ink`'s place in what the printer would draw: a code read from here was read out
// of the emitted ZPL, not from our own raster.
Bitmap printed_region(const ZplRaster& printed, const PlacedInk& ink) {
  Bitmap out(ink.ink.width(), ink.ink.height());
  for (int y = 0; y < out.height(); ++y) {
    for (int x = 0; x < out.width(); ++x) {
      out.set(x, y, printed.bitmap.get(ink.x + x, ink.y + y));
    }
  }
  return out;
}

const PlacedInk* find_ink(const RenderedLabel& r, std::string_view kind, int nth = 0) {
  for (const auto& ink : r.inks) {
    if (ink.element.find(kind) != std::string::npos && nth-- == 0) {
      return &ink;
    }
  }
  return nullptr;
}

TEST(TemplateCodes, RetailBarcodesReadBackFromTheZplGraphics) {
  const Template t = parse_ok(R"([label]
name = "shelf"
width_mm = 101.6
height_mm = 70
[[element]]
type = "barcode"
symbology = "ean13"
data = "{product.ean}"
x_mm = 4
y_mm = 4
width_mm = 93.6
height_mm = 25
[[element]]
type = "barcode"
symbology = "upca"
data = "{product.upc}"
x_mm = 4
y_mm = 38
width_mm = 93.6
height_mm = 25
)");
  LabelData d;
  d.values["product.ean"] = "400638133393";  // the check digit (1) is added
  d.values["product.upc"] = "036000291452";  // with its check digit, verified
  for (const auto& name : {"zpl-203", "zpl-300", "zpl-600"}) {
    const RenderedLabel r = render_label(t, d, profile(name));
    ASSERT_TRUE(r) << name << ": " << r.error;
    const ZplRaster printed =
        zpl_decode_graphics(encode_label(r, profile(name), OutputFormat::zpl).bytes);
    ASSERT_TRUE(printed.ok()) << printed.error;
    const ZXing::Result ean =
        decode(printed_region(printed, *find_ink(r, "(barcode)", 0)), ZXing::BarcodeFormat::EAN13);
    ASSERT_TRUE(ean.isValid()) << name;
    EXPECT_EQ(ean.text(), "4006381333931") << name;
    const ZXing::Result upc =
        decode(printed_region(printed, *find_ink(r, "(barcode)", 1)), ZXing::BarcodeFormat::UPCA);
    ASSERT_TRUE(upc.isValid()) << name;
    EXPECT_EQ(upc.text(), "036000291452") << name;
    // And the whole printed label holds exactly these two symbols.
    EXPECT_TRUE(printed.bitmap == r.preview) << name;
  }
}

TEST(TemplateCodes, TheShippingLabelsOrderIdReadsBackFromTheZplGraphics) {
  const Template t = builtin("shipping-label");
  for (const auto& name : {"zpl-203", "zpl-300"}) {
    const RenderedLabel r = render_label(t, order_en(), profile(name));
    ASSERT_TRUE(r) << name << ": " << r.error;
    const ZplRaster printed =
        zpl_decode_graphics(encode_label(r, profile(name), OutputFormat::zpl).bytes);
    ASSERT_TRUE(printed.ok()) << printed.error;
    const PlacedInk* code = find_ink(r, "(barcode)", 0);
    ASSERT_TRUE(code);
    const ZXing::Result read =
        decode(printed_region(printed, *code), ZXing::BarcodeFormat::Code128);
    ASSERT_TRUE(read.isValid()) << name;
    // Plain Code 128 (]C0), not GS1: the order id, exactly.
    EXPECT_EQ(read.symbologyIdentifier() + read.text(), "]C0DEMO-1002") << name;
  }
}

TEST(TemplateCodes, AQrSentAsAcsReadsBackFromTheZplGraphics) {
  PrinterProfile acs = profile("zpl-203");
  acs.zpl_compression = ZplCompression::kAcs;
  const RenderedLabel r = render_label(builtin("thank-you"), order_ja(), acs);
  ASSERT_TRUE(r) << r.error;
  const std::string zpl = encode_label(r, acs, OutputFormat::zpl).bytes;
  EXPECT_EQ(zpl.find(":Z64:"), std::string::npos);
  int fields = 0;
  for (const auto& c : zpl_tokenize(zpl)) {
    fields += c.name == "^GF" ? 1 : 0;
  }
  EXPECT_GE(fields, 1);
  const ZplRaster printed = zpl_decode_graphics(zpl);
  ASSERT_TRUE(printed.ok()) << printed.error;
  const ZXing::Result read = decode(printed.bitmap, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), kUrlJa);
  // The QR's own dots came through the run-length code unchanged.
  const PlacedInk* qr = find_ink(r, "(qr)");
  ASSERT_TRUE(qr);
  EXPECT_TRUE(printed_region(printed, *qr) == qr->ink);
}

TEST(TemplateCodes, Gs1DataMatrixReadsBackFromThePreviewAndFromTheZpl) {
  const Template t = parse_ok(R"([label]
name = "gs1-datamatrix"
width_mm = 101.6
height_mm = 50

[[element]]
type = "barcode"
symbology = "gs1-datamatrix"
data = "(01)09506000134352(17)261231(10){order.id}(21){box.number}"
x_mm = 4
y_mm = 4
width_mm = 30
height_mm = 30

[[element]]
type = "barcode"
symbology = "gs1-datamatrix"
shape = "rectangle"
data = "(01)09506000134352(10){order.id}"
x_mm = 40
y_mm = 4
width_mm = 50
height_mm = 12

[[element]]
type = "barcode"
symbology = "datamatrix"
data = "{order.id} {customer.name}"
x_mm = 40
y_mm = 20
width_mm = 28
height_mm = 28
)");
  const LabelData d = order_en();
  const std::string id = d.values.at("order.id");
  const std::string box = d.values.at("box.number");
  const std::vector<std::string> expected = {
      "]d2" + std::string("0109506000134352") + "17261231" + "10" + id + "\x1d" + "21" + box,
      "]d2" + std::string("0109506000134352") + "10" + id,
      "]d1" + id + " " + d.values.at("customer.name")};
  for (const auto& name : {"zpl-203", "zpl-300", "escpos-80mm", "pdf-a6"}) {
    const RenderedLabel r = render_label(t, d, profile(name));
    ASSERT_TRUE(r) << name << ": " << r.error;
    std::vector<std::string> read;
    for (const auto& ink : r.inks) {
      const ZXing::Result res = decode(ink.ink, ZXing::BarcodeFormat::DataMatrix);
      ASSERT_TRUE(res.isValid()) << name << " " << ink.element;
      read.push_back(res.symbologyIdentifier() + res.text());
    }
    EXPECT_EQ(read, expected) << name;
  }
  // The label as the printer rebuilds it from the ^GF fields, each symbol read where its ink
  // was placed (with some of the white around it: ZXing-C++ 1.4 reads one DataMatrix per image,
  // found from the image's centre).
  for (const auto& name : {"zpl-203", "zpl-300"}) {
    const RenderedLabel r = render_label(t, d, profile(name));
    ASSERT_TRUE(r) << r.error;
    const ZplRaster printed =
        zpl_decode_graphics(encode_label(r, profile(name), OutputFormat::zpl).bytes);
    ASSERT_TRUE(printed.ok()) << printed.error;
    std::vector<std::string> read;
    for (const auto& ink : r.inks) {
      const int margin = 8;
      Bitmap crop(ink.ink.width() + 2 * margin, ink.ink.height() + 2 * margin);
      for (int y = 0; y < crop.height(); ++y) {
        for (int x = 0; x < crop.width(); ++x) {
          crop.set(x, y, printed.bitmap.get(ink.x - margin + x, ink.y - margin + y));
        }
      }
      const ZXing::Result res = decode(crop, ZXing::BarcodeFormat::DataMatrix);
      ASSERT_TRUE(res.isValid()) << name << " " << ink.element;
      read.push_back(res.symbologyIdentifier() + res.text());
    }
    EXPECT_EQ(read, expected) << name;
  }
}

TEST(TemplateCodes, DataMatrixShapeAndBoxAreChecked) {
  EXPECT_TRUE(any_contains(problems_of(R"([label]
name = "x"
width_mm = 50
height_mm = 50
[[element]]
type = "barcode"
symbology = "code128"
shape = "rectangle"
data = "A"
x_mm = 1
y_mm = 1
width_mm = 40
height_mm = 10
[[element]]
type = "barcode"
symbology = "datamatrix"
shape = "round"
data = "A"
x_mm = 1
y_mm = 20
width_mm = 20
height_mm = 20
)"),
                           "'shape' is for DataMatrix symbologies only"));
  EXPECT_TRUE(any_contains(problems_of(R"([label]
name = "x"
width_mm = 50
height_mm = 50
[[element]]
type = "barcode"
symbology = "datamatrix"
shape = "round"
data = "A"
x_mm = 1
y_mm = 20
width_mm = 20
height_mm = 20
)"),
                           "shape: 'round' is not one of square, rectangle"));
  // A box lower than the symbol: the label fails naming the element, whatever its width.
  const Template low = parse_ok(R"([label]
name = "x"
width_mm = 50
height_mm = 50
[[element]]
type = "barcode"
symbology = "gs1-datamatrix"
data = "(01)09506000134352(10)LOT-12345678"
x_mm = 1
y_mm = 1
width_mm = 48
height_mm = 9
)");
  const RenderedLabel r = render_label(low, order_en(), profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("element[0] (barcode)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("the box allows"), std::string::npos) << r.error;

  // With min_module_mm the same box takes it at a narrower whole-dot module: 20 modules with
  // the quiet zone at 3 dots (60 dots, 7.5 mm) fit 9 mm (72 dots); 4 dots (80) did not.
  const Template narrower = parse_ok(R"([label]
name = "x"
width_mm = 50
height_mm = 50
[[element]]
type = "barcode"
symbology = "gs1-datamatrix"
data = "(01)09506000134352(10)LOT-12345678"
min_module_mm = 0.25
x_mm = 1
y_mm = 1
width_mm = 48
height_mm = 9
)");
  const RenderedLabel ok = render_label(narrower, order_en(), profile("zpl-203"));
  ASSERT_TRUE(ok) << ok.error;
  ASSERT_EQ(ok.inks.size(), 1u);
  EXPECT_EQ(ok.inks[0].ink.height(), 60);
  const ZXing::Result read = decode(ok.inks[0].ink, ZXing::BarcodeFormat::DataMatrix);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), "010950600013435210LOT-12345678");
  EXPECT_EQ(read.symbologyIdentifier(), "]d2");
}

TEST(TemplateCodes, AWrongSsccCheckDigitIsRefused) {
  LabelData d = order_en();
  d.values["shipment.sscc"] = "095200000000000018";
  const RenderedLabel r = render_label(builtin("shipping-label"), d, profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("check digit should be 1"), std::string::npos) << r.error;
}

TEST(TemplateCodes, EscposSendsALoneQrForThePrinterToDraw) {
  const Template t = builtin("thank-you");
  const std::string bytes = render_to(t, order_ja(), "escpos-80mm", OutputFormat::escpos);
  const EscposParsed parsed = escpos_parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.qr_data, (std::vector<std::string>{kUrlJa}));
  EXPECT_EQ(parsed.cuts, 1);
  // The raster around it carries no QR of its own.
  EXPECT_FALSE(decode(parsed.raster, ZXing::BarcodeFormat::QRCode).isValid());
  // A profile without native QR rasterises it.
  PrinterProfile plain = profile("escpos-80mm");
  plain.native_qr = false;
  const RenderedLabel r = render_label(t, order_ja(), plain);
  const EscposParsed raster = escpos_parse(encode_label(r, plain, OutputFormat::escpos).bytes);
  ASSERT_TRUE(raster.ok()) << raster.error;
  EXPECT_TRUE(raster.qr_data.empty());
  const ZXing::Result read = decode(raster.raster, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), kUrlJa);
}

TEST(TemplateCodes, JapaneseTextHasEveryGlyph) {
  for (const auto& name : builtin_template_names()) {
    const RenderedLabel r = render_label(builtin(name), order_ja(), profile("zpl-203"));
    EXPECT_TRUE(r) << name << ": " << r.error;
  }
  // A character no font has fails the label, naming it.
  LabelData d = order_ja();
  d.values["customer.name"] = "山田 \xF0\x9F\x9B\xB8";  // U+1F6F8 FLYING SAUCER
  const RenderedLabel r = render_label(builtin("thank-you"), d, profile("zpl-203"));
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("U+1F6F8"), std::string::npos) << r.error;
}

// --- order data that tries to be ZPL ----------------------------------------------------------

constexpr std::string_view kInjection = R"(
[label]
name = "injection"
width_mm = 101.6
height_mm = 152.4
[[element]]
type = "line"
x_mm = 0
y_mm = 1
x2_mm = 101.6
y2_mm = 1
thickness_mm = 0.5
[[element]]
type = "text"
text = "{customer.name}"
x_mm = 2
y_mm = 5
width_mm = 97
height_mm = 45
size_pt = 5
[[element]]
type = "text"
text = "{ship_to.name}"
x_mm = 2
y_mm = 55
width_mm = 97
height_mm = 45
size_pt = 5
)";

TEST(TemplateInjection, OrderDataNeverBecomesACommand) {
  const Template t = parse_ok(kInjection);
  const std::vector<std::string> hostile = {
      "^XA^FO0,0^GB800,800,800^FS^XZ",
      "~JA",
      "Smith^XZ~JA_\\&^FS",
      "_5E_7E tilde and caret already escaped",
      std::string("control\x01\x02\x03\x1b bytes\x7f"),
      "\\&line\\&break",
      std::string(10 * 1024, '^'),
      std::string(10 * 1024, '~'),
  };
  const std::vector<std::string> expected = {
      "^XA", "^PW", "^LL", "^LH", "^LS", "^LT", "^PO", "^PM", "^CI", "^FW",  // the full state
      "^FO", "^GF", "^FS",                                                   // the rule
      "^FO", "^A0", "^FB", "^FH", "^FD", "^FS",                              // the name
      "^FO", "^A0", "^FB", "^FH", "^FD", "^FS",                              // the order line
      "^PQ", "^XZ"};
  for (const auto& value : hostile) {
    LabelData d;
    d.values = {{"customer.name", value}, {"order.id", value}, {"ship_to.name", value}};
    const std::string zpl = render_to(t, d, "zpl-203", OutputFormat::zpl);
    EXPECT_EQ(command_names(zpl), expected) << value.substr(0, 40);
    // What the printer draws is the value as text: cleaned of control bytes and capped.
    std::string shown;
    for (char c : value) {
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) {
        shown += c;
      }
    }
    shown = shown.substr(0, kMaxValueBytes);
    std::vector<std::string> fields;
    for (const auto& c : zpl_tokenize(zpl)) {
      if (c.name == "^FD") {
        fields.push_back(zpl_unescape_field(c.params));
      }
    }
    ASSERT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields[0], shown);
    EXPECT_LE(fields[0].size(), kDefaultFieldCap);
  }
}

TEST(TemplateInjection, BuiltinsTakeHostileOrdersInEveryFormat) {
  LabelData d = order_en();
  for (auto& [k, v] : d.values) {
    if (k != "shipment.sscc" && k != "discount.url" && k != "discount.code" && k != "order.id") {
      v = "^XA~JA_\\&" + std::string(3000, '^') + "\x01\x1b";
    }
  }
  d.values["order.id"] = "A^XZ~JA";
  for (const auto& name : builtin_template_names()) {
    const Template t = builtin(name);
    const RenderedLabel r = render_label(t, d, profile("zpl-203"));
    ASSERT_TRUE(r) << name << ": " << r.error;
    const std::string zpl = encode_label(r, profile("zpl-203"), OutputFormat::zpl).bytes;
    const auto names = command_names(zpl);
    EXPECT_EQ(std::count(names.begin(), names.end(), "^XA"), 1) << name;
    EXPECT_EQ(std::count(names.begin(), names.end(), "^XZ"), 1) << name;
    EXPECT_EQ(names.back(), "^XZ") << name;
    for (const auto& n : names) {
      EXPECT_TRUE(n.starts_with("^")) << name << " emitted " << n;
    }
  }
}

// --- carrier labels -------------------------------------------------------------------------

TEST(CarrierLabel, ZplGoesToAZplPrinterByteForByte) {
  const std::string zpl = "^XA^FO50,50^A0N,40,40^FDUPS 1Z999AA10123456784^FS^XZ";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(zpl.data()),
                                            zpl.size());
  LabelOutput out =
      render_carrier_label(bytes, CarrierLabelFormat::zpl, profile("zpl-203"), OutputFormat::zpl);
  ASSERT_TRUE(out) << out.error;
  EXPECT_EQ(out.bytes, zpl);
  out = render_carrier_label(bytes, CarrierLabelFormat::zpl, profile("escpos-80mm"),
                             OutputFormat::escpos);
  EXPECT_FALSE(out);
  EXPECT_NE(out.error.find("needs a ZPL printer"), std::string::npos);
  const std::string text = "not a label";
  out = render_carrier_label(
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
      CarrierLabelFormat::zpl, profile("zpl-203"), OutputFormat::zpl);
  EXPECT_FALSE(out);
}

TEST(CarrierLabel, PngAndPdfAreRasterisedToTheProfile) {
  // A 4 x 6 in label at 100 dpi: a black square in its top-left quarter.
  Bitmap carrier(400, 600);
  carrier.fill(0, 0, 200, 300);
  const std::string png = *png_encode(carrier, 100);
  const std::string pdf = pdf_document(carrier, 100);
  for (const auto& [kind, bytes] :
       {std::pair{CarrierLabelFormat::png, png}, {CarrierLabelFormat::pdf, pdf}}) {
    const std::span<const std::uint8_t> span(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                             bytes.size());
    const LabelOutput out = render_carrier_label(span, kind, profile("zpl-203"), OutputFormat::zpl);
    ASSERT_TRUE(out) << out.error;
    const ZplRaster printed = zpl_decode_graphics(out.bytes);
    ASSERT_TRUE(printed.ok()) << printed.error;
    ASSERT_EQ(printed.bitmap.width(), 812);
    // Scaled to 812 dots wide: the square covers 406 x 609 dots.
    EXPECT_TRUE(printed.bitmap.get(200, 300));
    EXPECT_TRUE(printed.bitmap.get(395, 595));
    EXPECT_FALSE(printed.bitmap.get(420, 300));
    EXPECT_FALSE(printed.bitmap.get(200, 630));
  }
  const std::string junk = "%PDF-1.4 junk";
  const LabelOutput bad = render_carrier_label(
      std::span(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()),
      CarrierLabelFormat::pdf, profile("zpl-203"), OutputFormat::zpl);
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.error.find("PDF"), std::string::npos);
}

// --- golden files ---------------------------------------------------------------------------

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each built-in template, in each locale, in each format: the bytes must not change without
// someone looking. PACKBENCH_UPDATE_GOLDEN=1 rewrites them (then look at the PNGs).
TEST(TemplateGolden, EveryBuiltinInEveryFormat) {
  const fs::path dir = PACKBENCH_GOLDEN_DIR;
  const bool update = std::getenv("PACKBENCH_UPDATE_GOLDEN") != nullptr;
  struct Case {
    std::string profile;
    OutputFormat format;
    std::string ext;
  };
  const std::vector<Case> cases = {{"zpl-203", OutputFormat::zpl, "zpl"},
                                   {"escpos-80mm", OutputFormat::escpos, "escpos"},
                                   {"zpl-203", OutputFormat::png, "png"},
                                   {"pdf-a6", OutputFormat::pdf, "pdf"}};
  for (const auto& name : builtin_template_names()) {
    for (const auto& [locale, data] : {std::pair{"ja", order_ja()}, {"en", order_en()}}) {
      for (const auto& c : cases) {
        const std::string bytes = render_to(builtin(name), data, c.profile, c.format);
        const fs::path file = dir / fmt::format("{}-{}.{}", name, locale, c.ext);
        if (update) {
          std::ofstream(file, std::ios::binary) << bytes;
          continue;
        }
        const auto expected = read_file(file);
        ASSERT_TRUE(expected) << "missing " << file << " (PACKBENCH_UPDATE_GOLDEN=1 makes it)";
        if (*expected != bytes) {
          const fs::path actual = fs::path(PACKBENCH_GOLDEN_ACTUAL_DIR) / file.filename();
          std::ofstream(actual, std::ios::binary) << bytes;
          ADD_FAILURE() << file << " differs; this build's output is in " << actual;
        }
      }
    }
  }
}

}  // namespace
}  // namespace packbench::labels

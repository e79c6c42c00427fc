// Printer profiles: the built-ins, profile files and their errors, and what a profile's keys do
// to the bytes — ACS graphics that decode back to the raster, no native QR where it is forbidden.
#include "packbench/labels/profile.hpp"

#include <gtest/gtest.h>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include <algorithm>

#include "packbench/labels/escpos.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace packbench::labels {
namespace {

std::vector<std::string> problems_of(std::string_view toml, std::string_view source = "p.toml") {
  std::vector<std::string> out;
  for (const auto& p : parse_profile(toml, source).problems) {
    out.push_back(p.to_string());
  }
  return out;
}

bool has(const std::vector<std::string>& v, std::string_view needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

std::string all(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += s + "\n";
  }
  return out;
}

PrinterProfile parse_ok(std::string_view toml, std::string_view source = "p.toml") {
  ParsedProfile p = parse_profile(toml, source);
  std::vector<std::string> problems;
  for (const auto& pr : p.problems) {
    problems.push_back(pr.to_string());
  }
  EXPECT_TRUE(p) << all(problems);
  return p ? *p.value : PrinterProfile{};
}

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

// A card with text (printable ASCII, so a ZPL profile with native text would use a printer font)
// and a QR code alone on its rows, so an ESC/POS profile with native QR would send GS ( k.
constexpr std::string_view kCard = R"(
[label]
name = "card"
width_mm = 72
height_mm = 60

[[element]]
type = "text"
text = "Order {order.id}"
x_mm = 2
y_mm = 2
width_mm = 68
height_mm = 8
size_pt = 12

[[element]]
type = "qr"
data = "{discount.url}"
x_mm = 16
y_mm = 14
width_mm = 40
height_mm = 40
)";

const std::string kUrl = "https://shop.example.com/discount/THANKS-4HJ8-WP3T?redirect=%2Ftea";

LabelData card_data() {
  LabelData d;
  d.values["order.id"] = "DEMO-1002";
  d.values["discount.url"] = kUrl;
  return d;
}

Template card() {
  ParsedTemplate t = parse_template(kCard, "card.toml");
  EXPECT_TRUE(t) << (t.problems.empty() ? "" : t.problems.front().to_string());
  return *t.value;
}

TEST(PrinterProfiles, BuiltinsIncludeSixHundredDpi) {
  EXPECT_EQ(builtin_profile_names(),
            (std::vector<std::string>{"zpl-203", "zpl-300", "zpl-600", "escpos-80mm", "pdf-a6"}));
  const PrinterProfile p = *builtin_profile("zpl-600");
  EXPECT_EQ(p.language, OutputFormat::zpl);
  EXPECT_EQ(p.dpi, 600);
  EXPECT_DOUBLE_EQ(p.width_mm, 101.6);
  EXPECT_TRUE(p.native_text);
  EXPECT_FALSE(builtin_profile("zpl-1200"));
}

TEST(PrinterProfiles, AFileStartsFromABuiltinAndChangesItsKeys) {
  const PrinterProfile p = parse_ok(R"(
name = "zebra-old-firmware"
base = "zpl-300"
width_mm = 104
zpl_compression = "acs"
native_text = false
)");
  EXPECT_EQ(p.name, "zebra-old-firmware");
  EXPECT_EQ(p.language, OutputFormat::zpl);
  EXPECT_EQ(p.dpi, 300);
  EXPECT_DOUBLE_EQ(p.width_mm, 104);
  EXPECT_EQ(p.zpl_compression, ZplCompression::kAcs);
  EXPECT_FALSE(p.native_text);

  // Without a base, what the printer is must be written out; the name is the file's.
  const PrinterProfile q = parse_ok(R"(
language = "escpos"
dpi = 203
width_mm = 48
native_qr = false
cut = "full"
)",
                                    "/etc/packbench/receipt-58mm.toml");
  EXPECT_EQ(q.name, "receipt-58mm");
  EXPECT_EQ(q.language, OutputFormat::escpos);
  EXPECT_DOUBLE_EQ(q.width_mm, 48);
  EXPECT_FALSE(q.native_qr);
  EXPECT_EQ(q.cut, EscposCut::kFull);
  EXPECT_DOUBLE_EQ(q.height_mm, 0);

  // A language other than the base's drops what only the base's language could do.
  const PrinterProfile r = parse_ok("base = \"escpos-80mm\"\nlanguage = \"zpl\"\n");
  EXPECT_EQ(r.language, OutputFormat::zpl);
  EXPECT_FALSE(r.native_qr);
  EXPECT_FALSE(r.native_text);
}

TEST(PrinterProfiles, EveryProblemNamesItsFileLineAndKey) {
  const auto problems = problems_of(R"(name = "bad"
base = "zpl-203"
dpi = 250
width_mm = "wide"
zpl_compression = "lzw"
native_qr = true
colour = "red"
height_mm = -1
)",
                                    "bad.toml");
  EXPECT_TRUE(has(problems, "bad.toml:3:7: dpi: must be 203, 300 or 600, not 250"))
      << all(problems);
  EXPECT_TRUE(has(problems, "bad.toml:4:12: width_mm: must be a number, not a string"))
      << all(problems);
  EXPECT_TRUE(has(problems, "bad.toml:5:19: zpl_compression: 'lzw' is not one of z64, acs"))
      << all(problems);
  EXPECT_TRUE(has(problems, "bad.toml:6:13: native_qr: QR codes go to ZPL printers as graphics"))
      << all(problems);
  EXPECT_TRUE(has(problems, "bad.toml:7:10: colour: unknown key")) << all(problems);
  EXPECT_TRUE(has(problems, "bad.toml:8:13: height_mm: must be 0")) << all(problems);

  const auto keys_for_others = problems_of(R"(base = "escpos-80mm"
zpl_compression = "acs"
native_text = true
)");
  EXPECT_TRUE(has(keys_for_others,
                  "p.toml:2:19: zpl_compression: applies only to zpl profiles, "
                  "not escpos"))
      << all(keys_for_others);
  EXPECT_TRUE(has(keys_for_others, "p.toml:3:15: native_text: printer-font text is for zpl"))
      << all(keys_for_others);

  EXPECT_TRUE(has(problems_of("base = \"zpl-1200\"\n"),
                  "p.toml:1:8: base: 'zpl-1200' is no "
                  "built-in profile (zpl-203, zpl-300"));
  const auto bare = problems_of("language = \"zpl\"\n");
  EXPECT_TRUE(has(bare, "p.toml: dpi: is required")) << all(bare);
  EXPECT_TRUE(has(bare, "p.toml: width_mm: is required")) << all(bare);
  EXPECT_TRUE(has(problems_of("base = \"pdf-a6\"\nheight_mm = 0\n"),
                  "p.toml:2:13: height_mm: a pdf profile needs its page's height_mm"));
  EXPECT_TRUE(has(problems_of("dpi = \n"), "p.toml:1:"));  // TOML syntax, with its place
}

TEST(PrinterProfiles, SettingsFromElsewhereNameTheirKeys) {
  // A station's [[printer]] reads its keys itself and hands them over.
  ProfileSettings s;
  s.language = "escpos";
  s.zpl_compression = "acs";
  s.dpi = 180;
  const ParsedProfile p = apply_profile_settings(*builtin_profile("zpl-203"), s, "station.toml");
  ASSERT_FALSE(p);
  ASSERT_EQ(p.problems.size(), 2u);
  EXPECT_EQ(p.problems[0].key, "dpi");
  EXPECT_EQ(p.problems[1].key, "zpl_compression");
  EXPECT_EQ(p.problems[1].to_string(),
            "station.toml: zpl_compression: applies only to zpl profiles, not escpos");
  EXPECT_TRUE(ProfileSettings{}.empty());
  EXPECT_EQ(apply_profile_settings(*builtin_profile("zpl-203"), {}).value->name, "zpl-203");
}

TEST(PrinterProfiles, AnAcsProfileSendsAcsGraphicsThatDecodeToTheRaster) {
  const PrinterProfile acs = parse_ok(R"(
base = "zpl-203"
zpl_compression = "acs"
native_text = false
)");
  const RenderedLabel r = render_label(card(), card_data(), acs);
  ASSERT_TRUE(r) << r.error;
  const LabelOutput out = encode_label(r, acs, OutputFormat::zpl);
  ASSERT_TRUE(out) << out.error;
  int fields = 0;
  for (const auto& c : zpl_tokenize(out.bytes)) {
    if (c.name == "^GF") {
      ++fields;
      // A,b,c,d,data: ACS data is run-length hex, never ":Z64:" or ":B64:".
      const auto data = c.params.substr(c.params.find(',', c.params.find(',', 2) + 1));
      EXPECT_EQ(data.find(":Z64:"), std::string::npos);
      EXPECT_EQ(data.find(":B64:"), std::string::npos);
      EXPECT_TRUE(c.params.starts_with("A,"));
    }
    EXPECT_NE(c.name, "^A0");  // native text off: the text is raster too
  }
  EXPECT_GE(fields, 1);
  const ZplRaster back = zpl_decode_graphics(out.bytes);
  ASSERT_TRUE(back.ok()) << back.error;
  EXPECT_TRUE(back.bitmap == r.preview);

  // The same label with Z64 is the same raster in other bytes.
  PrinterProfile z64 = acs;
  z64.zpl_compression = ZplCompression::kZ64;
  const std::string z = encode_label(r, z64, OutputFormat::zpl).bytes;
  EXPECT_NE(z.find(":Z64:"), std::string::npos);
  EXPECT_TRUE(zpl_decode_graphics(z).bitmap == r.preview);
}

TEST(PrinterProfiles, AProfileForbiddingNativeQrNeverSendsOne) {
  // ESC/POS: the built-in lets the printer draw the lone QR; a profile file that forbids it
  // gets the QR as raster, which reads back the same.
  const PrinterProfile allowed = *builtin_profile("escpos-80mm");
  const std::string native =
      encode_label(render_label(card(), card_data(), allowed), allowed, OutputFormat::escpos).bytes;
  EXPECT_NE(native.find("\x1d(k"), std::string::npos);
  EXPECT_EQ(escpos_parse(native).qr_data, (std::vector<std::string>{kUrl}));

  const PrinterProfile forbidden = parse_ok("base = \"escpos-80mm\"\nnative_qr = false\n");
  const RenderedLabel r = render_label(card(), card_data(), forbidden);
  ASSERT_TRUE(r) << r.error;
  const std::string bytes = encode_label(r, forbidden, OutputFormat::escpos).bytes;
  EXPECT_EQ(bytes.find("\x1d(k"), std::string::npos);  // no GS ( k at all
  const EscposParsed parsed = escpos_parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_TRUE(parsed.qr_data.empty());
  const ZXing::Result read = decode(parsed.raster, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), kUrl);

  // ZPL: no profile sends ^BQ; the QR is always a graphic.
  for (const auto& name : {"zpl-203", "zpl-300", "zpl-600"}) {
    const PrinterProfile zpl = *builtin_profile(name);
    const std::string z =
        encode_label(render_label(card(), card_data(), zpl), zpl, OutputFormat::zpl).bytes;
    for (const auto& c : zpl_tokenize(z)) {
      EXPECT_NE(c.name, "^BQ") << name;
    }
    const ZXing::Result qr = decode(zpl_decode_graphics(z).bitmap, ZXing::BarcodeFormat::QRCode);
    ASSERT_TRUE(qr.isValid()) << name;
    EXPECT_EQ(qr.text(), kUrl);
  }
}

}  // namespace
}  // namespace packbench::labels

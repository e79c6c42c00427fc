// stationctl label, end to end: the real program renders every built-in template for every
// built-in printer profile, and the bytes it writes are checked with our own decoders (PNG,
// ZPL ^GF, ESC/POS) and ZXing, as a printer or a scanner would read them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "packbench/labels/bitmap.hpp"
#include "packbench/labels/escpos.hpp"
#include "packbench/labels/pdf.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace pl = packbench::labels;
namespace fs = std::filesystem;

namespace {

// The sample orders beside the label golden files.
fs::path sample_order(const std::string& name) {
  return fs::path(__FILE__).parent_path().parent_path() / "labels" / "golden" / name;
}

boost::json::object read_json(const fs::path& path) {
  return boost::json::parse(pt::read_file(path)).as_object();
}

std::string discount_url(const fs::path& order) {
  return std::string(read_json(order).at("discount").at("url").as_string());
}

pt::RunResult stationctl(std::vector<std::string> args, const fs::path& log_dir) {
  args.insert(args.begin(), pt::stationctl_path().string());
  return pt::run_command(std::move(args), log_dir);
}

pt::RunResult render(const std::string& tmpl, const fs::path& order, const std::string& profile,
                     const std::string& format, const fs::path& out, const fs::path& log_dir,
                     std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"label",       "render",
                                   "--template",  tmpl,
                                   "--order",     order.string(),
                                   "--profile",   profile,
                                   "--format",    format,
                                   "--out",       out.string(),
                                   "--packed-at", "2026-05-01T10:00:00Z"};
  args.insert(args.end(), more.begin(), more.end());
  return stationctl(std::move(args), log_dir);
}

int width_dots(const pl::PrinterProfile& p) {
  return static_cast<int>(std::lround(p.width_mm * p.dpi / 25.4));
}

// Every QR code ZXing finds in the raster, as a scanner would see the paper: black 0, white 255.
std::vector<std::string> read_qr_codes(const pl::Bitmap& b) {
  std::vector<std::uint8_t> lum(static_cast<std::size_t>(b.width()) * b.height(), 255);
  for (int y = 0; y < b.height(); ++y) {
    for (int x = 0; x < b.width(); ++x) {
      if (b.get(x, y)) {
        lum[static_cast<std::size_t>(y) * b.width() + x] = 0;
      }
    }
  }
  const ZXing::ImageView image(lum.data(), b.width(), b.height(), ZXing::ImageFormat::Lum);
  std::vector<std::string> out;
  for (const auto& r :
       ZXing::ReadBarcodes(image, ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::QRCode))) {
    if (r.isValid()) {
      out.push_back(r.text());
    }
  }
  return out;
}

// One number from the store, read as another process would.
std::int64_t count_rows(const fs::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

bool any_black(const pl::Bitmap& b) {
  return std::any_of(b.bytes().begin(), b.bytes().end(), [](auto byte) { return byte != 0; });
}

// The PNG a person looks at: it decodes, and it is the printer's width at its dpi.
pl::Bitmap check_png(const std::string& bytes, const pl::PrinterProfile& p) {
  const pl::PngDecoded png = pl::png_decode(bytes);
  EXPECT_TRUE(png.ok()) << png.error;
  EXPECT_EQ(png.bitmap.width(), width_dots(p));
  EXPECT_GT(png.bitmap.height(), 0);
  // pHYs holds dots per metre: the dpi comes back within rounding.
  EXPECT_NEAR(png.dpi, p.dpi, 1);
  EXPECT_TRUE(any_black(png.bitmap));
  return png.bitmap;
}

void check_pdf(const std::string& bytes) {
  EXPECT_TRUE(bytes.starts_with("%PDF-")) << bytes.substr(0, 16);
  std::string tail = bytes.substr(bytes.size() - std::min<std::size_t>(bytes.size(), 16));
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) {
    tail.pop_back();
  }
  EXPECT_TRUE(tail.ends_with("%%EOF")) << tail;
}

// One ZPL format whose graphic fields decode; returns what the printer would draw of them.
pl::Bitmap check_zpl(const std::string& bytes, const pl::PrinterProfile& p) {
  const auto commands = pl::zpl_tokenize(bytes);
  EXPECT_FALSE(commands.empty());
  if (commands.empty()) {
    return {};
  }
  EXPECT_EQ(commands.front().name, "^XA");
  EXPECT_EQ(commands.back().name, "^XZ");
  EXPECT_EQ(std::count_if(commands.begin(), commands.end(),
                          [](const auto& c) { return c.name == "^XA"; }),
            1);
  const auto pw =
      std::find_if(commands.begin(), commands.end(), [](const auto& c) { return c.name == "^PW"; });
  EXPECT_TRUE(pw != commands.end() && pw->params == std::to_string(width_dots(p)));
  const pl::ZplRaster g = pl::zpl_decode_graphics(bytes);
  EXPECT_TRUE(g.ok()) << g.error;
  EXPECT_GE(g.graphic_fields, 1);
  EXPECT_EQ(g.bitmap.width(), width_dots(p));
  return g.bitmap;
}

pl::EscposParsed check_escpos(const std::string& bytes, const pl::PrinterProfile& p) {
  pl::EscposParsed e = pl::escpos_parse(bytes);
  EXPECT_TRUE(e.ok()) << e.error;
  EXPECT_EQ(e.initialisations, 1);
  EXPECT_EQ(e.cuts, 1);
  EXPECT_TRUE(e.cut_at_line_start);
  EXPECT_LE(e.raster.width(), width_dots(p));
  return e;
}

const std::vector<std::string> kTemplates = {"thank-you", "discount-card", "packing-slip",
                                             "shipping-label"};
const std::vector<std::string> kProfiles = {"zpl-203", "zpl-300", "escpos-80mm", "pdf-a6"};

}  // namespace

// --- every built-in template for every built-in profile ------------------------------------

class LabelRender : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(LabelRender, OwnFormatPngAndPdfAreWhatTheyClaim) {
  const auto& [tmpl, profile_name] = GetParam();
  const pl::PrinterProfile profile = *pl::builtin_profile(profile_name);
  pt::TempDir dir;
  // The printer's own format for both orders (Japanese text is drawn, English may go as printer
  // fonts); the PNG and PDF previews for the Japanese one.
  std::vector<std::pair<std::string, std::string>> runs = {
      {pl::to_string(profile.language), "order-ja.json"},
      {pl::to_string(profile.language), "order-en.json"}};
  for (const std::string preview : {"png", "pdf"}) {
    if (preview != pl::to_string(profile.language)) {
      runs.emplace_back(preview, "order-ja.json");
    }
  }
  for (const auto& [format, order] : runs) {
    SCOPED_TRACE(tmpl + " " + profile_name + " " + format + " " + order);
    const fs::path out = dir / (tmpl + "-" + order + "." + format);
    const auto r = render(tmpl, sample_order(order), profile_name, format, out, dir.path());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
    const std::string bytes = pt::read_file(out);
    ASSERT_FALSE(bytes.empty());
    EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
    if (format == "png") {
      check_png(bytes, profile);
    } else if (format == "pdf") {
      check_pdf(bytes);
    } else if (format == "zpl") {
      check_zpl(bytes, profile);
    } else {
      check_escpos(bytes, profile);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryTemplateAndProfile, LabelRender,
                         ::testing::Combine(::testing::ValuesIn(kTemplates),
                                            ::testing::ValuesIn(kProfiles)),
                         [](const auto& info) {
                           std::string name =
                               std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// --- the thank-you QR scans to the order's discount URL --------------------------------------

class ThankYouQr : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ThankYouQr, DecodesToTheDiscountUrlFromThePngAndFromTheZplGraphics) {
  const auto& [order_name, profile_name] = GetParam();
  const pl::PrinterProfile profile = *pl::builtin_profile(profile_name);
  const fs::path order = sample_order(order_name);
  const std::string url = discount_url(order);
  pt::TempDir dir;

  const auto png = render("thank-you", order, profile_name, "png", dir / "t.png", dir.path());
  ASSERT_EQ(png.code, 0) << png.err;
  EXPECT_EQ(read_qr_codes(check_png(pt::read_file(dir / "t.png"), profile)),
            std::vector<std::string>{url});

  const auto zpl = render("thank-you", order, profile_name, "zpl", dir / "t.zpl", dir.path());
  ASSERT_EQ(zpl.code, 0) << zpl.err;
  EXPECT_EQ(read_qr_codes(check_zpl(pt::read_file(dir / "t.zpl"), profile)),
            std::vector<std::string>{url});
}

INSTANTIATE_TEST_SUITE_P(BothOrders, ThankYouQr,
                         ::testing::Combine(::testing::Values("order-ja.json", "order-en.json"),
                                            ::testing::Values("zpl-203", "zpl-300")),
                         [](const auto& info) {
                           std::string name =
                               std::get<0>(info.param).substr(0, 8) + "_" + std::get<1>(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(LabelCli, TheEscposThankYouCarriesTheDiscountUrlAsAPrinterQrOrInItsRaster) {
  const pl::PrinterProfile profile = *pl::builtin_profile("escpos-80mm");
  const fs::path order = sample_order("order-ja.json");
  pt::TempDir dir;
  const auto r = render("thank-you", order, "escpos-80mm", "escpos", dir / "t.bin", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const pl::EscposParsed e = check_escpos(pt::read_file(dir / "t.bin"), profile);
  std::vector<std::string> found = e.qr_data;
  for (const auto& text : read_qr_codes(e.raster)) {
    found.push_back(text);
  }
  EXPECT_EQ(found, std::vector<std::string>{discount_url(order)});
}

// --- carrier labels: printed as given --------------------------------------------------------

namespace {

// An order (one of the samples) with a carrier label.
fs::path order_with_carrier(const pt::TempDir& dir, boost::json::object carrier) {
  boost::json::object order = read_json(sample_order("order-en.json"));
  order["carrier_label"] = std::move(carrier);
  const fs::path path = dir / "carrier-order.json";
  pt::write_file(path, boost::json::serialize(order));
  return path;
}

// A carrier's label drawing: 400 x 600 dots at 100 dpi (4 x 6 in), white, with three black
// squares of 40 dots whose top-left corners are at (40, 40), (320, 40) and (180, 500).
struct Square {
  int x, y;
};
constexpr int kCarrierWidth = 400, kCarrierHeight = 600, kCarrierDpi = 100, kSide = 40;
constexpr Square kSquares[] = {{40, 40}, {320, 40}, {180, 500}};

// How much the drawing grows on `profile`: to its width, and no longer than its fixed length.
double carrier_scale(const pl::PrinterProfile& profile) {
  double scale = static_cast<double>(width_dots(profile)) / kCarrierWidth;
  if (profile.height_mm > 0) {
    scale = std::min(scale, std::lround(profile.height_mm * profile.dpi / 25.4) /
                                static_cast<double>(kCarrierHeight));
  }
  return scale;
}

pl::Bitmap carrier_drawing() {
  pl::Bitmap b(kCarrierWidth, kCarrierHeight);
  for (const auto& s : kSquares) {
    b.fill(s.x, s.y, kSide, kSide);
  }
  return b;
}

// The drawing scaled by `scale`: black at each square's centre, white half-way between squares
// and in the blank middle of the label.
void expect_squares(const pl::Bitmap& b, double scale) {
  auto at = [&](double x, double y) {
    const int bx = static_cast<int>(std::lround(x * scale));
    const int by = static_cast<int>(std::lround(y * scale));
    return bx < b.width() && by < b.height() && b.get(bx, by);
  };
  for (const auto& s : kSquares) {
    SCOPED_TRACE("square at " + std::to_string(s.x) + "," + std::to_string(s.y));
    // The square's inner part (a margin of a quarter side for the scaling's rounding).
    for (double dy = kSide * 0.25; dy <= kSide * 0.75; dy += kSide * 0.25) {
      for (double dx = kSide * 0.25; dx <= kSide * 0.75; dx += kSide * 0.25) {
        EXPECT_TRUE(at(s.x + dx, s.y + dy)) << "white inside the square";
      }
    }
    // Just outside each side.
    EXPECT_FALSE(at(s.x - kSide * 0.25, s.y + kSide * 0.5));
    EXPECT_FALSE(at(s.x + kSide * 1.25, s.y + kSide * 0.5));
    EXPECT_FALSE(at(s.x + kSide * 0.5, s.y - kSide * 0.25));
    EXPECT_FALSE(at(s.x + kSide * 0.5, s.y + kSide * 1.25));
  }
  EXPECT_FALSE(at(200, 300));
  EXPECT_FALSE(at(200, 60));
}

}  // namespace

TEST(LabelCli, AZplCarrierLabelGoesOutByteForByte) {
  pt::TempDir dir;
  // What a carrier's API returns: its own state, printer fonts, a barcode, odd spacing, a '~'
  // command and UTF-8; none of it is ours to change.
  const std::string zpl =
      "^XA^MMT^PW812^LL1218^LS0\r\n^FO50,50^A0N,40,40^FDYAMATO 宅急便^FS\n"
      "^FO50,120^BY3^BCN,120,Y,N,N^FD123456789012^FS\n~SD25\n^PQ1,0,1,Y^XZ\n";
  const fs::path order = order_with_carrier(dir, {{"format", "zpl"}, {"data", zpl}});
  const auto r = render("carrier", order, "zpl-203", "zpl", dir / "c.zpl", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(pt::read_file(dir / "c.zpl"), zpl);

  // A receipt printer cannot take it, and says so.
  const auto e = render("carrier", order, "escpos-80mm", "escpos", dir / "c.bin", dir.path());
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("needs a ZPL printer"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(dir / "c.bin"));
}

TEST(LabelCli, APngCarrierLabelIsRasterisedToTheProfileWidth) {
  pt::TempDir dir;
  const auto png = pl::png_encode(carrier_drawing(), kCarrierDpi);
  ASSERT_TRUE(png);
  const fs::path order = order_with_carrier(dir, {{"format", "png"}, {"base64", pt::base64(*png)}});
  for (const auto& profile_name : {"zpl-203", "zpl-300", "pdf-a6"}) {
    SCOPED_TRACE(profile_name);
    const pl::PrinterProfile profile = *pl::builtin_profile(profile_name);
    const double scale = carrier_scale(profile);

    const auto r = render("carrier", order, profile_name, "png", dir / "c.png", dir.path());
    ASSERT_EQ(r.code, 0) << r.err;
    const pl::Bitmap out = check_png(pt::read_file(dir / "c.png"), profile);
    ASSERT_GE(out.height(), static_cast<int>(kCarrierHeight * scale) - 2);
    expect_squares(out, scale);

    const auto z = render("carrier", order, profile_name, "zpl", dir / "c.zpl", dir.path());
    ASSERT_EQ(z.code, 0) << z.err;
    const pl::Bitmap printed = check_zpl(pt::read_file(dir / "c.zpl"), profile);
    expect_squares(printed, scale);
  }
}

TEST(LabelCli, APdfCarrierLabelIsRasterisedToTheProfileWidth) {
  pt::TempDir dir;
  // A 4 x 6 in page: the drawing at 100 dpi fills it.
  const std::string pdf = pl::pdf_document(carrier_drawing(), kCarrierDpi);
  const fs::path order = order_with_carrier(dir, {{"format", "pdf"}, {"base64", pt::base64(pdf)}});
  // An A6 page is longer than the label: there the page's length limits the scale.
  for (const auto& profile_name : {"zpl-203", "zpl-300", "pdf-a6"}) {
    SCOPED_TRACE(profile_name);
    const pl::PrinterProfile profile = *pl::builtin_profile(profile_name);
    const double scale = carrier_scale(profile);
    const auto r = render("carrier", order, profile_name, "png", dir / "c.png", dir.path());
    ASSERT_EQ(r.code, 0) << r.err;
    const pl::Bitmap out = check_png(pt::read_file(dir / "c.png"), profile);
    ASSERT_GE(out.height(), static_cast<int>(kCarrierHeight * scale) - 2);
    expect_squares(out, scale);

    const auto z = render("carrier", order, profile_name, "zpl", dir / "c.zpl", dir.path());
    ASSERT_EQ(z.code, 0) << z.err;
    expect_squares(check_zpl(pt::read_file(dir / "c.zpl"), profile), scale);
  }
}

TEST(LabelCli, AnOrderWithoutACarrierLabelOrWithABrokenOneSaysSo) {
  pt::TempDir dir;
  const auto none =
      render("carrier", sample_order("order-en.json"), "zpl-203", "zpl", dir / "c.zpl", dir.path());
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("has no carrier_label"), std::string::npos) << none.err;

  const fs::path order = order_with_carrier(dir, {{"format", "pdf"}, {"base64", "bm90IGEgcGRm"}});
  const auto bad = render("carrier", order, "zpl-203", "png", dir / "c.png", dir.path());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("PDF"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "c.zpl"));
  EXPECT_FALSE(fs::exists(dir / "c.png"));
}

// --- errors: said clearly, nothing written ---------------------------------------------------

TEST(LabelCli, AnUnknownTemplateIsNamed) {
  pt::TempDir dir;
  const auto r = render("thank-me", sample_order("order-ja.json"), "zpl-203", "zpl", dir / "o.zpl",
                        dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no built-in template 'thank-me'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));

  const auto f = render((dir / "nowhere.toml").string(), sample_order("order-ja.json"), "zpl-203",
                        "zpl", dir / "o.zpl", dir.path());
  EXPECT_EQ(f.code, 1);
  EXPECT_NE(f.err.find((dir / "nowhere.toml").string()), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("cannot read"), std::string::npos) << f.err;
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));
}

TEST(LabelCli, AnUnknownProfileListsTheKnownOnes) {
  pt::TempDir dir;
  const auto r = render("thank-you", sample_order("order-ja.json"), "zpl-1200", "zpl",
                        dir / "o.zpl", dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no profile zpl-1200"), std::string::npos) << r.err;
  for (const auto& p : pl::builtin_profile_names()) {
    EXPECT_NE(r.err.find(p), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));

  const auto f = render("thank-you", sample_order("order-ja.json"), "zpl-203", "bmp", dir / "o.zpl",
                        dir.path());
  EXPECT_EQ(f.code, 2);
  EXPECT_NE(f.err.find("--format"), std::string::npos) << f.err;
}

// --profile FILE: a profile of IT's own, as a TOML file beside the built-ins.
TEST(LabelCli, AProfileFileChangesWhatThePrinterGets) {
  pt::TempDir dir;
  const fs::path file = dir / "zebra-acs.toml";
  pt::write_file(file,
                 "# an older Zebra without Z64, and its resident font not wanted\n"
                 "base = \"zpl-300\"\n"
                 "zpl_compression = \"acs\"\n"
                 "native_text = false\n");
  const fs::path order = sample_order("order-ja.json");
  const auto r = render("thank-you", order, file.string(), "zpl", dir / "o.zpl", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("for zebra-acs)"), std::string::npos) << r.err;
  const std::string zpl = pt::read_file(dir / "o.zpl");
  EXPECT_EQ(zpl.find(":Z64:"), std::string::npos);
  pl::PrinterProfile p = *pl::builtin_profile("zpl-300");
  const pl::Bitmap printed = check_zpl(zpl, p);
  EXPECT_EQ(read_qr_codes(printed), (std::vector<std::string>{discount_url(order)}));
  for (const auto& c : pl::zpl_tokenize(zpl)) {
    EXPECT_NE(c.name, "^A0");  // every text drawn on the station
  }

  // A profile file with problems: each with the file, line and key; nothing written.
  pt::write_file(file,
                 "base = \"zpl-300\"\n"
                 "zpl_compression = \"lzw\"\n"
                 "native_qr = true\n");
  const auto bad = render("thank-you", order, file.string(), "zpl", dir / "b.zpl", dir.path());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find(file.string() + ":2:19: zpl_compression: 'lzw' is not one of z64, acs"),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find(file.string() + ":3:13: native_qr: "), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "b.zpl"));
  const auto missing =
      render("thank-you", order, (dir / "none.toml").string(), "zpl", dir / "b.zpl", dir.path());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("cannot read the profile"), std::string::npos) << missing.err;
}

TEST(LabelCli, ATemplateFileWithASyntaxErrorShowsFileLineAndColumn) {
  pt::TempDir dir;
  const fs::path file = dir / "broken.toml";
  pt::write_file(file,
                 "[label]\n"
                 "name = \"broken\"\n"
                 "width_mm = 50\n"
                 "height_mm = = 30\n");
  const auto r = render(file.string(), sample_order("order-ja.json"), "zpl-203", "zpl",
                        dir / "o.zpl", dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(file.string() + ":4:"), std::string::npos) << r.err;
  // file:line:col: message
  const auto at = r.err.find(file.string() + ":4:");
  ASSERT_NE(at, std::string::npos);
  const std::string rest = r.err.substr(at + file.string().size() + 3);
  ASSERT_FALSE(rest.empty());
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(rest[0]))) << rest;
  EXPECT_NE(rest.find(": "), std::string::npos) << rest;
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));

  // A template that is TOML but not a template: every problem, each at its place.
  pt::write_file(file,
                 "[label]\n"
                 "name = \"broken\"\n"
                 "width_mm = 50\n"
                 "height_mm = 30\n"
                 "\n"
                 "[[element]]\n"
                 "type = \"text\"\n"
                 "text = \"hello\"\n"
                 "colour = \"red\"\n"
                 "x_mm = 1\n"
                 "y_mm = 1\n"
                 "width_mm = 10\n"
                 "height_mm = 5\n"
                 "\n"
                 "[[element]]\n"
                 "type = \"sparkle\"\n");
  const auto s = render(file.string(), sample_order("order-ja.json"), "zpl-203", "zpl",
                        dir / "o.zpl", dir.path());
  EXPECT_EQ(s.code, 1);
  EXPECT_NE(s.err.find(file.string() + ":9:"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("element[0] (text): unknown key 'colour'"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find(file.string() + ":16:"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("unknown type 'sparkle'"), std::string::npos) << s.err;
}

TEST(LabelCli, AMissingValueNamesTheElementAndTheValue) {
  pt::TempDir dir;
  const fs::path file = dir / "shoe.toml";
  pt::write_file(file,
                 "[label]\n"
                 "name = \"shoe\"\n"
                 "width_mm = 50\n"
                 "height_mm = 30\n"
                 "[[element]]\n"
                 "type = \"box\"\n"
                 "x_mm = 0\n"
                 "y_mm = 0\n"
                 "width_mm = 50\n"
                 "height_mm = 30\n"
                 "[[element]]\n"
                 "type = \"text\"\n"
                 "text = \"Size {customer.shoe_size}\"\n"
                 "x_mm = 2\n"
                 "y_mm = 2\n"
                 "width_mm = 40\n"
                 "height_mm = 10\n");
  const auto r = render(file.string(), sample_order("order-en.json"), "zpl-203", "zpl",
                        dir / "o.zpl", dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("element[1] (text)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("{customer.shoe_size}"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));

  // The value given on the command line fills it.
  const auto v = render(file.string(), sample_order("order-en.json"), "zpl-203", "zpl",
                        dir / "o.zpl", dir.path(), {"--var", "customer.shoe_size=42"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_TRUE(fs::exists(dir / "o.zpl"));

  // A built-in template and an order without a discount: the discount card's QR has no data.
  boost::json::object order = read_json(sample_order("order-en.json"));
  order.erase("discount");
  pt::write_file(dir / "no-discount.json", boost::json::serialize(order));
  const auto d = render("discount-card", dir / "no-discount.json", "zpl-203", "zpl", dir / "d.zpl",
                        dir.path());
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.err.find("(qr)"), std::string::npos) << d.err;
  EXPECT_NE(d.err.find("{discount.url}"), std::string::npos) << d.err;
  EXPECT_FALSE(fs::exists(dir / "d.zpl"));
}

TEST(LabelCli, ATemplateThatAsksForTooMuchIsRefusedWithTheReason) {
  pt::TempDir dir;
  const fs::path order = sample_order("order-en.json");
  const std::string head =
      "[label]\nname = \"big\"\nwidth_mm = 100\nheight_mm = 300\ndefault_locale = \"en\"\n";

  // An element past the label's edge would never print.
  pt::write_file(dir / "outside.toml", head +
                                           "[[element]]\ntype = \"box\"\n"
                                           "x_mm = 10\ny_mm = 0\nwidth_mm = 95\nheight_mm = 10\n");
  const auto o =
      render((dir / "outside.toml").string(), order, "zpl-203", "zpl", dir / "o.zpl", dir.path());
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find((dir / "outside.toml").string() + ":6:"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("element[0] (box): reaches 105 mm across, past the label's width (100 mm)"),
            std::string::npos)
      << o.err;

  // Text blocks that use each other over and over: 40 * 40 * 40 copies of 100 bytes.
  std::string blocks = "[text.en]\n";
  for (const auto& [name, next] : {std::pair{"a", "b"}, {"b", "c"}, {"c", "d"}}) {
    blocks += std::string(name) + " = \"";
    for (int i = 0; i < 40; ++i) {
      blocks += std::string("{text.") + next + "}";
    }
    blocks += "\"\n";
  }
  blocks += "d = \"" + std::string(100, 'x') + "\"\n";
  pt::write_file(dir / "expanding.toml",
                 head + blocks +
                     "[[element]]\ntype = \"text\"\ntext = \"{text.a}\"\n"
                     "x_mm = 0\ny_mm = 0\nwidth_mm = 100\nheight_mm = 100\n");
  const auto e =
      render((dir / "expanding.toml").string(), order, "zpl-203", "zpl", dir / "o.zpl", dir.path());
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("element[0] (text)"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("more than 65536 bytes"), std::string::npos) << e.err;

  // Hundreds of elements as large as the label.
  std::string boxes = head;
  for (int i = 0; i < 100; ++i) {
    boxes +=
        "[[element]]\ntype = \"box\"\nfill = true\n"
        "x_mm = 0\ny_mm = 0\nwidth_mm = 100\nheight_mm = 300\n";
  }
  pt::write_file(dir / "boxes.toml", boxes);
  const auto b =
      render((dir / "boxes.toml").string(), order, "zpl-203", "zpl", dir / "o.zpl", dir.path());
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.err.find("more ink than 16 times the label's area"), std::string::npos) << b.err;
  EXPECT_FALSE(fs::exists(dir / "o.zpl"));
}

TEST(LabelCli, AFileOfSeveralOrdersNeedsTheOrderId) {
  pt::TempDir dir;
  boost::json::array orders = {read_json(sample_order("order-ja.json")),
                               read_json(sample_order("order-en.json"))};
  pt::write_file(dir / "orders.json",
                 boost::json::serialize(boost::json::object{{"orders", orders}}));
  const auto r =
      render("thank-you", dir / "orders.json", "zpl-203", "png", dir / "o.png", dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("holds 2 orders"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--order-id"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.png"));

  const auto unknown = render("thank-you", dir / "orders.json", "zpl-203", "png", dir / "o.png",
                              dir.path(), {"--order-id", "DEMO-9999"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("no order DEMO-9999"), std::string::npos) << unknown.err;

  // Named, the second order is the one printed: its QR holds its own discount URL.
  const auto named = render("thank-you", dir / "orders.json", "zpl-203", "png", dir / "o.png",
                            dir.path(), {"--order-id", "DEMO-1002"});
  ASSERT_EQ(named.code, 0) << named.err;
  EXPECT_EQ(read_qr_codes(check_png(pt::read_file(dir / "o.png"), *pl::builtin_profile("zpl-203"))),
            std::vector<std::string>{discount_url(sample_order("order-en.json"))});
}

TEST(LabelCli, AnUnwritableOutputPathFailsAndLeavesNoPartFile) {
  pt::TempDir dir;
  const fs::path order = sample_order("order-ja.json");
  // A folder that does not exist.
  const fs::path missing = dir / "no-such-folder" / "label.zpl";
  const auto r = render("thank-you", order, "zpl-203", "zpl", missing, dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "no-such-folder"));

  // A path that is a folder: the folder is left as it was, with no part file beside it.
  fs::create_directory(dir / "out");
  const auto f = render("thank-you", order, "zpl-203", "zpl", dir / "out", dir.path());
  EXPECT_EQ(f.code, 1);
  EXPECT_NE(f.err.find("cannot write"), std::string::npos) << f.err;
  EXPECT_TRUE(fs::is_directory(dir / "out"));
  EXPECT_TRUE(fs::is_empty(dir / "out"));
  EXPECT_FALSE(fs::exists(dir / "out.tmp"));

  // A label that fails leaves an earlier file of the same name as it was.
  pt::write_file(dir / "kept.zpl", "^XA^FDearlier^FS^XZ");
  const auto k = render("no-such-template", order, "zpl-203", "zpl", dir / "kept.zpl", dir.path());
  EXPECT_EQ(k.code, 1);
  EXPECT_EQ(pt::read_file(dir / "kept.zpl"), "^XA^FDearlier^FS^XZ");
  EXPECT_FALSE(fs::exists(dir / "kept.zpl.tmp"));
}

TEST(LabelCli, RenderToStdoutWritesTheBytesThere) {
  pt::TempDir dir;
  const auto r =
      render("packing-slip", sample_order("order-en.json"), "zpl-203", "zpl", "-", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  check_zpl(r.out, *pl::builtin_profile("zpl-203"));
}

// --- list and show ---------------------------------------------------------------------------

TEST(LabelCli, ListNamesEveryTemplateAndProfile) {
  pt::TempDir dir;
  const auto r = stationctl({"label", "list"}, dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& t : kTemplates) {
    EXPECT_NE(r.out.find("\n  " + t + " ("), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("\n  carrier "), std::string::npos) << r.out;
  for (const auto& p : kProfiles) {
    EXPECT_NE(r.out.find("\n  " + p + " ("), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("\n  zpl-600 (zpl, 600 dpi, 101.6 mm wide)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("thank-you (101.6 x 152.4 mm; en, ja)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("escpos-80mm (escpos, 203 dpi, 72"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pdf-a6 (pdf, 300 dpi, 105 mm wide, 148 mm long)"), std::string::npos)
      << r.out;
}

TEST(LabelCli, ShowPrintsABuiltInTemplateThatParsesBack) {
  pt::TempDir dir;
  const auto r = stationctl({"label", "show", "thank-you"}, dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(*pl::builtin_template_source("thank-you")));
  EXPECT_NE(r.out.find("name = \"thank-you\""), std::string::npos);

  // Saved as a file, it renders as the built-in does.
  pt::write_file(dir / "mine.toml", r.out);
  const fs::path order = sample_order("order-ja.json");
  const auto a = render("thank-you", order, "zpl-203", "zpl", dir / "a.zpl", dir.path());
  const auto b =
      render((dir / "mine.toml").string(), order, "zpl-203", "zpl", dir / "b.zpl", dir.path());
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(pt::read_file(dir / "a.zpl"), pt::read_file(dir / "b.zpl"));

  const auto none = stationctl({"label", "show", "thank-me"}, dir.path());
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("thank-me"), std::string::npos) << none.err;
}

// stationctl inserts preview: what completing the orders would print, as PNGs a person opens,
// with the discount each would be given — and nothing issued.
TEST(InsertsPreview, WritesEachOrdersInsertCardAndSlipWithTheCodeItWouldGetAndIssuesNothing) {
  pt::TempDir dir;
  pt::write_file(dir / "discount.key",
                 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  fs::permissions(dir / "discount.key", fs::perms::owner_read | fs::perms::owner_write);
  pt::write_file(dir / "orders.json", R"({"orders": [
    {"id": "P-1", "customer": {"name": "山田 花子", "locale": "ja", "first_order": true},
     "lines": [{"sku": "TEA-SENCHA-100", "name": "Sencha", "qty": 1, "barcodes": ["4901234567894"]}]},
    {"id": "P-2", "customer": {"name": "Alex Morgan", "locale": "en", "first_order": false},
     "lines": [{"sku": "CUP", "category": "Teaware", "name": "Cup", "qty": 1, "barcodes": ["222"]}]}
  ]})");
  pt::write_file(dir / "station.toml", R"(
[station]
id = "pack-01"
state_dir = "state"
[[printer]]
name = "label"
type = "file"
roles = ["shipping-label"]
[[printer]]
name = "inserts"
type = "file"
dpi = 300
roles = ["insert", "discount-card", "packing-slip"]
[inserts]
shop_name = "Packbench Tea Co."
review_url = "https://shop.example.com/reviews/new?order={order}"
[[inserts.tip]]
skus = ["TEA-SENCHA-*"]
url = "https://shop.example.com/pages/sencha"
text.en = "Brew sencha at 70-80 °C."
text.ja = "煎茶は70〜80℃のお湯で。"
[[inserts.tip]]
categories = ["teaware"]
text.en = "Rinse the cup with warm water only."
[discounts]
key_file = "discount.key"
station_number = 7
[[campaign]]
id = "welcome"
eligibility = "first_order"
priority = 5
source = "signed"
code_prefix = "WELCOME"
shop = "shop.example.com"
wording.en.offer = "10% off"
[[campaign]]
id = "thanks"
source = "signed"
code_prefix = "THANKS"
shop = "shop.example.com"
)");
  const fs::path out = dir / "previews";
  const auto r = stationctl({"inserts", "preview", "--config", (dir / "station.toml").string(),
                             "--orders", (dir / "orders.json").string(), "--out", out.string()},
                            dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("would issue WELCOME-"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would issue THANKS-"), std::string::npos) << r.out;

  for (const std::string order : {"P-1", "P-2"}) {
    for (const std::string role : {"insert", "discount-card", "packing-slip"}) {
      const fs::path file = out / ("preview-" + order + "-" + role + ".png");
      ASSERT_TRUE(fs::exists(file)) << file;
      const pl::PngDecoded png = pl::png_decode(pt::read_file(file));
      ASSERT_TRUE(png.ok()) << png.error;
      EXPECT_NEAR(png.dpi, 300, 1);
    }
    // The card's QR is the campaign's link for the code the order would get.
    const auto card =
        pl::png_decode(pt::read_file(out / ("preview-" + order + "-discount-card.png")));
    const auto card_codes = read_qr_codes(card.bitmap);
    ASSERT_EQ(card_codes.size(), 1u) << order;
    EXPECT_TRUE(card_codes[0].starts_with(order == "P-1"
                                              ? "https://shop.example.com/discount/WELCOME-"
                                              : "https://shop.example.com/discount/THANKS-"))
        << card_codes[0];
  }
  // The card prints on its own, so the insert has the tip (with its QR when it has a link) and
  // the review request; the review link names the order.
  const auto insert1 =
      read_qr_codes(pl::png_decode(pt::read_file(out / "preview-P-1-insert.png")).bitmap);
  EXPECT_EQ(std::count(insert1.begin(), insert1.end(), "https://shop.example.com/pages/sencha"), 1);
  EXPECT_EQ(
      std::count(insert1.begin(), insert1.end(), "https://shop.example.com/reviews/new?order=P-1"),
      1);
  const auto insert2 =
      read_qr_codes(pl::png_decode(pt::read_file(out / "preview-P-2-insert.png")).bitmap);
  EXPECT_EQ(insert2, std::vector<std::string>{"https://shop.example.com/reviews/new?order=P-2"});

  // Nothing was issued: no code in the store, no serial used. A second preview shows the same.
  EXPECT_EQ(count_rows(dir / "state" / "station.db", "SELECT count(*) FROM discount_codes"), 0);
  EXPECT_EQ(count_rows(dir / "state" / "station.db", "SELECT count(*) FROM discount_serials"), 0);
  const auto again = stationctl({"inserts", "preview", "--config", (dir / "station.toml").string(),
                                 "--orders", (dir / "orders.json").string(), "--out", out.string()},
                                dir.path());
  EXPECT_EQ(again.out, r.out);
}

TEST(InsertsPreview, UsageErrorsExit2) {
  pt::TempDir dir;
  EXPECT_EQ(stationctl({"inserts"}, dir.path()).code, 2);
  EXPECT_EQ(stationctl({"inserts", "preview"}, dir.path()).code, 2);
  EXPECT_EQ(stationctl({"inserts", "preview", "--out", "x", "--bogus"}, dir.path()).code, 2);
  pt::write_file(dir / "bad.toml", "[inserts]\ntemplate = \"nope\"\n");
  const auto r = stationctl(
      {"inserts", "preview", "--config", (dir / "bad.toml").string(), "--out", "x"}, dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("inserts.template"), std::string::npos) << r.err;
}

// The demo, as `tools/dev run` calls it: in the folder the demo runs in, it makes the demo's
// discount key (for this user only) and previews the sample orders.
TEST(InsertsPreview, TheDemoPreviewsItsSampleOrders) {
  pt::TempDir dir;
  // Run from the temporary folder, as tools/dev runs it from the checkout.
  const auto ctl =
      pt::run_command({"/bin/sh", "-c", "cd \"$1\" && exec \"$2\" inserts preview --out var/prints",
                       "sh", dir.path().string(), pt::stationctl_path().string()},
                      dir.path());
  ASSERT_EQ(ctl.code, 0) << ctl.err;
  const auto perms = fs::status(dir / "var" / "demo-discount.key").permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  for (const char* file : {"preview-DEMO-1001-insert.png", "preview-DEMO-1001-discount-card.png",
                           "preview-DEMO-1002-insert.png", "preview-DEMO-1002-discount-card.png"}) {
    const auto png = pl::png_decode(pt::read_file(dir / "var" / "prints" / file));
    EXPECT_TRUE(png.ok()) << file << ": " << png.error;
  }
  // The first-time Japanese customer gets the welcome campaign, the returning English one thanks.
  EXPECT_NE(ctl.out.find("preview-DEMO-1001-discount-card.png  discount-card, ja; would "
                         "issue WELCOME-"),
            std::string::npos)
      << ctl.out;
  EXPECT_NE(ctl.out.find("preview-DEMO-1002-discount-card.png  discount-card, en; would "
                         "issue THANKS-"),
            std::string::npos)
      << ctl.out;
}

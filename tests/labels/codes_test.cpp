#include "packbench/labels/codes.hpp"

#include <gtest/gtest.h>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace packbench::labels {
namespace {

// The bitmap as a scanner would see it: 8-bit luminance, black 0 and white 255. No margin is
// added: the quiet zone must already be in the bitmap.
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

bool area_is_white(const Bitmap& b, int x0, int y0, int w, int h) {
  for (int y = y0; y < y0 + h; ++y) {
    for (int x = x0; x < x0 + w; ++x) {
      if (b.get(x, y)) {
        return false;
      }
    }
  }
  return true;
}

// Every module is a solid square of module_dots: nothing scaled or dithered.
bool modules_are_solid(const CodeRaster& r) {
  const int m = r.module_dots;
  for (int my = 0; my < r.bitmap.height() / m; ++my) {
    for (int mx = 0; mx < r.bitmap.width() / m; ++mx) {
      const bool black = r.bitmap.get(mx * m, my * m);
      for (int y = my * m; y < (my + 1) * m; ++y) {
        for (int x = mx * m; x < (mx + 1) * m; ++x) {
          if (r.bitmap.get(x, y) != black) {
            return false;
          }
        }
      }
    }
  }
  return true;
}

const std::string kDiscountUrl =
    "https://shop.example.jp/discount/PB7Q-K9XM-3HWT?redirect=/collections/新作&utm_source="
    "packbench&utm_medium=insert&utm_campaign=thanks";

TEST(QrRender, DecodesToTheExactBytesAtEveryEccLevel) {
  const std::pair<QrEcc, const char*> levels[] = {
      {QrEcc::L, "L"}, {QrEcc::M, "M"}, {QrEcc::Q, "Q"}, {QrEcc::H, "H"}};
  for (const auto& [ecc, name] : levels) {
    const CodeRaster r =
        render_qr(kDiscountUrl, QrSpec{.ecc = ecc, .max_width = 400, .max_height = 400});
    ASSERT_TRUE(r) << r.error;
    const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::QRCode);
    ASSERT_TRUE(read.isValid()) << name;
    EXPECT_EQ(read.text(), kDiscountUrl) << name;
    EXPECT_EQ(std::string(read.bytes().begin(), read.bytes().end()), kDiscountUrl) << name;
    EXPECT_EQ(read.ecLevel(), name);
  }
}

TEST(QrRender, BinaryPayloadSurvivesByteForByte) {
  const std::string payload("PB\0\x01\x7f\xfe\xff end", 11);
  const CodeRaster r = render_qr(payload, QrSpec{.max_width = 300, .max_height = 300});
  ASSERT_TRUE(r) << r.error;
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::QRCode);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(std::string(read.bytes().begin(), read.bytes().end()), payload);
}

TEST(QrRender, LargestWholeDotModuleThatFitsWithItsQuietZone) {
  const QrSpec spec{.ecc = QrEcc::Q, .dpi = 203, .max_width = 330, .max_height = 500};
  const CodeRaster r = render_qr(kDiscountUrl, spec);
  ASSERT_TRUE(r) << r.error;
  EXPECT_GE(r.module_dots, 4);
  EXPECT_EQ(r.modules_wide, r.modules_high);
  EXPECT_EQ((r.modules_wide - 17) % 4, 0);  // a real QR size: 21, 25, ... 177 modules
  const int side = (r.modules_wide + 8) * r.module_dots;
  EXPECT_EQ(r.bitmap.width(), side);
  EXPECT_EQ(r.bitmap.height(), side);
  EXPECT_LE(side, 330);
  EXPECT_GT((r.modules_wide + 8) * (r.module_dots + 1), 330);  // one dot more would not fit
  // The 4-module quiet zone is in the bitmap, white on every side.
  const int q = 4 * r.module_dots;
  EXPECT_EQ(r.quiet_zone_dots, q);
  EXPECT_TRUE(area_is_white(r.bitmap, 0, 0, side, q));
  EXPECT_TRUE(area_is_white(r.bitmap, 0, side - q, side, q));
  EXPECT_TRUE(area_is_white(r.bitmap, 0, 0, q, side));
  EXPECT_TRUE(area_is_white(r.bitmap, side - q, 0, q, side));
  // The finder pattern's corner sits just inside the quiet zone.
  EXPECT_TRUE(r.bitmap.get(q, q));
  EXPECT_TRUE(modules_are_solid(r));
}

TEST(QrRender, MinimumModuleIsHalfAMillimetreAtEveryDpi) {
  EXPECT_EQ(min_qr_module_dots(203), 4);
  EXPECT_EQ(min_qr_module_dots(300), 6);
  EXPECT_EQ(min_qr_module_dots(600), 12);
  // A box that holds the symbol at 5 dots per module at 203 dpi is too small at 300 dpi.
  const CodeRaster at203 =
      render_qr("PB-1234", QrSpec{.dpi = 203, .max_width = 29 * 5, .max_height = 29 * 5});
  ASSERT_TRUE(at203) << at203.error;
  EXPECT_EQ(at203.modules_wide, 21);
  EXPECT_EQ(at203.module_dots, 5);
  EXPECT_FALSE(render_qr("PB-1234", QrSpec{.dpi = 300, .max_width = 29 * 5, .max_height = 29 * 5}));
  const CodeRaster at300 =
      render_qr("PB-1234", QrSpec{.dpi = 300, .max_width = 29 * 6, .max_height = 29 * 6});
  ASSERT_TRUE(at300) << at300.error;
  EXPECT_EQ(at300.module_dots, 6);
  EXPECT_TRUE(decode(at300.bitmap, ZXing::BarcodeFormat::QRCode).isValid());
}

TEST(QrRender, APayloadTooLargeForTheBoxIsAClearError) {
  const std::string payload(400, 'x');
  const CodeRaster r =
      render_qr(payload, QrSpec{.ecc = QrEcc::M, .max_width = 200, .max_height = 200});
  EXPECT_FALSE(r);
  EXPECT_EQ(r.bitmap.width(), 0);
  EXPECT_NE(r.error.find("400 bytes"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("the box is 200x200"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("4 dots per module"), std::string::npos) << r.error;

  const CodeRaster huge = render_qr(std::string(3000, 'x'),
                                    QrSpec{.ecc = QrEcc::H, .max_width = 5000, .max_height = 5000});
  EXPECT_FALSE(huge);
  EXPECT_NE(huge.error.find("too large for any QR version at ECC H"), std::string::npos)
      << huge.error;
  EXPECT_FALSE(render_qr("", QrSpec{.max_width = 200, .max_height = 200}));
  EXPECT_FALSE(render_qr("x", QrSpec{}));
}

void expect_linear_layout(const CodeRaster& r, int quiet_left_modules, int quiet_right_modules) {
  const int m = r.module_dots;
  EXPECT_EQ(r.bitmap.width(), (quiet_left_modules + r.modules_wide + quiet_right_modules) * m);
  EXPECT_EQ(r.quiet_zone_dots, quiet_left_modules * m);
  EXPECT_TRUE(area_is_white(r.bitmap, 0, 0, quiet_left_modules * m, r.bitmap.height()));
  EXPECT_TRUE(area_is_white(r.bitmap, r.bitmap.width() - quiet_right_modules * m, 0,
                            quiet_right_modules * m, r.bitmap.height()));
  EXPECT_TRUE(r.bitmap.get(quiet_left_modules * m, 0));  // every symbol starts with a bar
  // Every row is the same: bars run the full height.
  for (int y = 1; y < r.bitmap.height(); ++y) {
    ASSERT_TRUE(std::equal(r.bitmap.row(0), r.bitmap.row(0) + r.bitmap.stride(), r.bitmap.row(y)))
        << "row " << y;
  }
  // Bars and spaces are whole modules: every run of equal dots is a multiple of the module.
  int run = 1;
  for (int x = 1; x <= r.bitmap.width(); ++x) {
    if (x == r.bitmap.width() || r.bitmap.get(x, 0) != r.bitmap.get(x - 1, 0)) {
      ASSERT_EQ(run % m, 0) << "run ending at " << x;
      run = 1;
    } else {
      ++run;
    }
  }
}

TEST(BarcodeRender, Code128RoundTrip) {
  const std::string data = "ORDER-2024-000123/b";
  const CodeRaster r = render_barcode(data, BarcodeSpec{.type = BarcodeType::code128, .dpi = 203});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.module_dots, 2);       // 0.25 mm at 203 dpi
  EXPECT_GE(r.bitmap.height(), 51);  // at least 1/4 in
  expect_linear_layout(r, 10, 10);
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::Code128);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), data);
  EXPECT_EQ(read.symbologyIdentifier(), "]C0");  // plain Code 128, not GS1
}

TEST(BarcodeRender, Gs1_128PutsFnc1FirstAndBetweenElementStrings) {
  // SSCC (AI 00), fixed length: FNC1 first only.
  const std::string sscc = "00106141411234567897";
  const CodeRaster r = render_barcode(sscc, BarcodeSpec{.type = BarcodeType::gs1_128});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.module_dots, 4);  // 0.495 mm logistic minimum at 203 dpi
  expect_linear_layout(r, 10, 10);
  ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::Code128);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), sscc);
  EXPECT_EQ(read.symbologyIdentifier(), "]C1");
  EXPECT_EQ(read.contentType(), ZXing::ContentType::GS1);

  // GTIN, then a batch (variable length, so ended by FNC1, read back as GS), then a serial.
  const std::string element_strings =
      "0109501101530003"
      "10ABC123"
      "\x1d"
      "21XYZ";
  const CodeRaster v =
      render_barcode(element_strings, BarcodeSpec{.type = BarcodeType::gs1_128, .module_dots = 3});
  ASSERT_TRUE(v) << v.error;
  EXPECT_EQ(v.module_dots, 3);
  read = decode(v.bitmap, ZXing::BarcodeFormat::Code128);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), element_strings);
  EXPECT_EQ(read.symbologyIdentifier(), "]C1");

  EXPECT_FALSE(
      render_barcode("\x1d"
                     "0109501101530003",
                     BarcodeSpec{.type = BarcodeType::gs1_128}));
  EXPECT_FALSE(
      render_barcode("10AB\x1d\x1d"
                     "21X",
                     BarcodeSpec{.type = BarcodeType::gs1_128}));
}

TEST(BarcodeRender, Ean13AddsOrVerifiesTheCheckDigit) {
  const CodeRaster r = render_barcode("4901234567894", BarcodeSpec{.type = BarcodeType::ean13});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.module_dots, 3);  // 0.33 mm at 203 dpi, rounded up to whole dots
  EXPECT_EQ(r.modules_wide, 95);
  EXPECT_EQ(r.bitmap.height(), 69 * 3);
  expect_linear_layout(r, 11, 7);
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::EAN13);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), "4901234567894");
  EXPECT_EQ(read.format(), ZXing::BarcodeFormat::EAN13);

  const CodeRaster twelve = render_barcode("490123456789", BarcodeSpec{.type = BarcodeType::ean13});
  ASSERT_TRUE(twelve) << twelve.error;
  EXPECT_EQ(twelve.bitmap, r.bitmap);

  const CodeRaster wrong = render_barcode("4901234567890", BarcodeSpec{.type = BarcodeType::ean13});
  EXPECT_FALSE(wrong);
  EXPECT_NE(wrong.error.find("should be 4"), std::string::npos) << wrong.error;
  EXPECT_FALSE(render_barcode("49012345678A4", BarcodeSpec{.type = BarcodeType::ean13}));
}

TEST(BarcodeRender, UpcaRoundTrip) {
  const CodeRaster r =
      render_barcode("03600029145", BarcodeSpec{.type = BarcodeType::upca, .height = 120});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.bitmap.height(), 120);
  expect_linear_layout(r, 9, 9);
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::UPCA);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), "036000291452");
  EXPECT_EQ(read.format(), ZXing::BarcodeFormat::UPCA);
  EXPECT_FALSE(render_barcode("036000291453", BarcodeSpec{.type = BarcodeType::upca}));
}

TEST(BarcodeRender, DataMatrixRoundTrip) {
  const std::string data = "PB-ORDER-000123 box 2/3";
  const CodeRaster r = render_barcode(data, BarcodeSpec{.type = BarcodeType::datamatrix});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.module_dots, 4);
  EXPECT_EQ(r.bitmap.width(), (r.modules_wide + 2) * 4);
  EXPECT_EQ(r.bitmap.height(), (r.modules_high + 2) * 4);
  EXPECT_TRUE(modules_are_solid(r));
  // The L-shaped finder: the left column and bottom row of the symbol are solid black.
  EXPECT_TRUE(r.bitmap.get(4, 4));
  EXPECT_TRUE(r.bitmap.get(4, r.bitmap.height() - 5));
  EXPECT_TRUE(r.bitmap.get(r.bitmap.width() - 5, r.bitmap.height() - 5));
  EXPECT_TRUE(area_is_white(r.bitmap, 0, 0, r.bitmap.width(), 4));
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::DataMatrix);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(), data);
  EXPECT_EQ(read.symbologyIdentifier(), "]d1");
}

TEST(BarcodeRender, Gs1_128TakesTheHumanReadableFormToo) {
  // AIs in parentheses: FNC1 after the variable-length batch, none after the fixed-length GTIN.
  const CodeRaster r = render_barcode("(01)09501101530003(10)ABC123(21)XYZ",
                                      BarcodeSpec{.type = BarcodeType::gs1_128, .module_dots = 3});
  ASSERT_TRUE(r) << r.error;
  const ZXing::Result read = decode(r.bitmap, ZXing::BarcodeFormat::Code128);
  ASSERT_TRUE(read.isValid());
  EXPECT_EQ(read.text(),
            "0109501101530003"
            "10ABC123"
            "\x1d"
            "21XYZ");
  EXPECT_EQ(read.symbologyIdentifier(), "]C1");
  const CodeRaster wrong =
      render_barcode("(01)09501101530004", BarcodeSpec{.type = BarcodeType::gs1_128});
  EXPECT_FALSE(wrong);
  EXPECT_NE(wrong.error.find("check digit should be 3"), std::string::npos) << wrong.error;
}

TEST(BarcodeRender, DataMatrixKeepsToTheBoxHeightToo) {
  // 16x16 plus the quiet zone at 4 dots: 72 dots; a box 71 dots high refuses it.
  const std::string data = "PB-ORDER-0001";
  const CodeRaster fits = render_barcode(
      data, BarcodeSpec{.type = BarcodeType::datamatrix, .height = 72, .max_width = 72});
  ASSERT_TRUE(fits) << fits.error;
  EXPECT_EQ(fits.modules_high, 16);
  const CodeRaster low = render_barcode(
      data, BarcodeSpec{.type = BarcodeType::datamatrix, .height = 71, .max_width = 72});
  EXPECT_FALSE(low);
  EXPECT_NE(low.error.find("the box allows 72x71"), std::string::npos) << low.error;
}

TEST(BarcodeRender, ModulesFollowTheDpiAndTheBoxIsRespected) {
  const CodeRaster at300 =
      render_barcode("PB-1234", BarcodeSpec{.type = BarcodeType::code128, .dpi = 300});
  ASSERT_TRUE(at300) << at300.error;
  EXPECT_EQ(at300.module_dots, 3);
  EXPECT_TRUE(decode(at300.bitmap, ZXing::BarcodeFormat::Code128).isValid());

  const CodeRaster narrow =
      render_barcode("PB-1234567890", BarcodeSpec{.type = BarcodeType::code128, .max_width = 150});
  EXPECT_FALSE(narrow);
  EXPECT_NE(narrow.error.find("the box allows 150"), std::string::npos) << narrow.error;

  const CodeRaster japanese = render_barcode("山田", BarcodeSpec{.type = BarcodeType::code128});
  EXPECT_FALSE(japanese);
  EXPECT_NE(japanese.error.find("ASCII"), std::string::npos);
  EXPECT_FALSE(render_barcode("", BarcodeSpec{}));
  // ZXing's own limit surfaces as an error, not an exception.
  EXPECT_FALSE(render_barcode(std::string(100, 'A'), BarcodeSpec{}));
}

}  // namespace
}  // namespace packbench::labels

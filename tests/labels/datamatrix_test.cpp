// DataMatrix ECC 200, plain and GS1: the codewords against ISO/IEC 16022's own example, and
// every symbol read back by ZXing-C++ from the raster and from the raster a printer would rebuild
// out of the emitted ZPL.
#include <gtest/gtest.h>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include <string>
#include <vector>

#include "datamatrix.hpp"
#include "packbench/labels/codes.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/zpl_graphic.hpp"

namespace packbench::labels {
namespace {

namespace dm = datamatrix;
using Codewords = std::vector<std::uint8_t>;

constexpr char kGs = '\x1d';

ZXing::Result read_datamatrix(const Bitmap& b) {
  std::vector<std::uint8_t> lum(static_cast<std::size_t>(b.width()) * b.height(), 255);
  for (int y = 0; y < b.height(); ++y) {
    for (int x = 0; x < b.width(); ++x) {
      if (b.get(x, y)) {
        lum[static_cast<std::size_t>(y) * b.width() + x] = 0;
      }
    }
  }
  const ZXing::ImageView image(lum.data(), b.width(), b.height(), ZXing::ImageFormat::Lum);
  return ZXing::ReadBarcode(image,
                            ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::DataMatrix));
}

std::string bytes_of(const ZXing::Result& r) {
  return {r.bytes().begin(), r.bytes().end()};
}

// The symbol as a printer draws it: placed on a label with a margin, encoded as ^GF fields
// (Z64 or ACS) and decoded back by our ^GF decoder.
Bitmap through_zpl(const Bitmap& symbol, ZplCompression compression) {
  const int dpi = 203;
  const LabelSize size{dpi, (symbol.width() + 37) / static_cast<double>(dpi),
                       (symbol.height() + 21) / static_cast<double>(dpi)};
  Bitmap label(size.width_dots(), size.height_dots());
  label.draw(symbol, 17, 9);
  ZplGraphicOptions options;
  options.compression = compression;
  const ZplRaster printed = zpl_decode_graphics(zpl_graphic_format(label, size, options));
  EXPECT_TRUE(printed.ok()) << printed.error;
  EXPECT_EQ(printed.bitmap, label);
  return printed.bitmap;
}

// Reads `r` from its raster and from its ZPL and checks the payload byte for byte, the
// symbology identifier (]d1 plain, ]d2 GS1) and, for GS1, that the reader calls it GS1.
void expect_reads_back(const CodeRaster& r, const std::string& payload, bool gs1,
                       const std::string& what, ZplCompression compression) {
  ASSERT_TRUE(r) << what << ": " << r.error;
  const Bitmap printed = through_zpl(r.bitmap, compression);
  for (const Bitmap* b : {&r.bitmap, &printed}) {
    const char* from = b == &r.bitmap ? "raster" : "ZPL";
    const ZXing::Result read = read_datamatrix(*b);
    ASSERT_TRUE(read.isValid()) << what << " from the " << from;
    EXPECT_EQ(bytes_of(read), payload) << what << " from the " << from;
    EXPECT_EQ(read.symbologyIdentifier(), gs1 ? "]d2" : "]d1") << what << " from the " << from;
    if (gs1) {
      EXPECT_EQ(read.contentType(), ZXing::ContentType::GS1) << what << " from the " << from;
    }
  }
}

// The symbol's own layout: whole-dot modules, a white quiet zone of one module, the solid L
// on the left and bottom of each data region, the clock tracks on its top and right.
void expect_layout(const CodeRaster& r, const dm::SymbolSize& size, const std::string& what) {
  ASSERT_TRUE(r) << what << ": " << r.error;
  const int m = r.module_dots;
  ASSERT_EQ(r.modules_high, size.rows) << what;
  ASSERT_EQ(r.modules_wide, size.cols) << what;
  ASSERT_EQ(r.quiet_zone_dots, m) << what;
  ASSERT_EQ(r.bitmap.width(), (size.cols + 2) * m) << what;
  ASSERT_EQ(r.bitmap.height(), (size.rows + 2) * m) << what;
  const auto module = [&](int row, int col) { return r.bitmap.get((col + 1) * m, (row + 1) * m); };
  for (int col = -1; col <= size.cols; ++col) {
    EXPECT_FALSE(module(-1, col)) << what;
    EXPECT_FALSE(module(size.rows, col)) << what;
  }
  const int rh = size.region_rows + 2;
  const int rw = size.region_cols + 2;
  for (int row = 0; row < size.rows; ++row) {
    EXPECT_FALSE(module(row, -1)) << what;
    EXPECT_FALSE(module(row, size.cols)) << what;
    for (int col = 0; col < size.cols; ++col) {
      const int y = row % rh;
      const int x = col % rw;
      if (x == 0 || y == rh - 1) {
        ASSERT_TRUE(module(row, col)) << what << " L at " << row << "," << col;
      } else if (y == 0) {
        ASSERT_EQ(module(row, col), x % 2 == 0) << what << " clock at " << row << "," << col;
      } else if (x == rw - 1) {
        ASSERT_EQ(module(row, col), y % 2 == 1) << what << " clock at " << row << "," << col;
      }
    }
  }
}

// A GS1 element string that takes exactly `codewords` codewords: FNC1, then company-internal
// element strings (AI 91, up to 90 characters; 89 here, so one more fits) of capital letters, one
// codeword each, with the FNC1 that separates them.
std::string gs1_filling(int codewords) {
  std::string out;
  int left = codewords - 1;  // FNC1 in first position
  char letter = 'A';
  while (left > 0) {
    if (!out.empty()) {
      out += kGs;
      --left;
    }
    int value = std::min(left - 1, 89);
    if (left - 1 - value > 0 && left - 1 - value < 3) {
      value -= 3;  // leave room for a whole element string after this one
    }
    out += "91";
    for (int i = 0; i < value; ++i) {
      out += letter;
      letter = letter == 'Z' ? 'A' : static_cast<char>(letter + 1);
    }
    left -= 1 + value;
  }
  return out;
}

// --- codewords ------------------------------------------------------------------------------

TEST(DataMatrixCodewords, ReedSolomonKnownAnswerFromIso16022) {
  // ISO/IEC 16022 Annex R: "123456" in a 10x10 symbol.
  EXPECT_EQ(dm::reed_solomon(Codewords{142, 164, 186}, 5), (Codewords{114, 25, 5, 88, 102}));
  const dm::Symbol s = dm::encode("123456", false, false);
  ASSERT_TRUE(s) << s.error;
  EXPECT_EQ(s.size->rows, 10);
  EXPECT_EQ(s.codewords, (Codewords{142, 164, 186, 114, 25, 5, 88, 102}));
  // "A" with its two pad codewords.
  const dm::Symbol a = dm::encode("A", false, false);
  ASSERT_TRUE(a) << a.error;
  EXPECT_EQ(a.codewords, (Codewords{66, 129, 70, 138, 234, 82, 82, 95}));
}

TEST(DataMatrixCodewords, AsciiEncodation) {
  // Digit pairs in one codeword; a lone digit on its own.
  EXPECT_EQ(dm::ascii_codewords("123456", false), (Codewords{142, 164, 186}));
  EXPECT_EQ(dm::ascii_codewords("12345", false), (Codewords{142, 164, 54}));
  EXPECT_EQ(dm::ascii_codewords("A1B22", false), (Codewords{66, 50, 67, 152}));
  // Bytes over 127: Upper Shift, then the byte less 128, plus 1.
  EXPECT_EQ(dm::ascii_codewords("\x80\xe9\xff", false), (Codewords{235, 1, 235, 106, 235, 128}));
  // Control bytes are data: NUL is 1, and in a plain symbol GS is just 30.
  EXPECT_EQ(dm::ascii_codewords(std::string("\0\x1d", 2), false), (Codewords{1, 30}));
  // GS1: FNC1 first and in place of GS; a digit pair never spans the separator.
  EXPECT_EQ(dm::ascii_codewords("1012\x1d"
                                "2134",
                                true),
            (Codewords{232, 140, 142, 232, 151, 164}));
  EXPECT_EQ(dm::ascii_codewords("101\x1d"
                                "21",
                                true),
            (Codewords{232, 140, 50, 232, 151}));
}

TEST(DataMatrixCodewords, PadCodewordsAre253StateRandomised) {
  Codewords c{66};
  dm::pad_codewords(c, 5);
  // 129 first, then 129 + ((149 * position) mod 253) + 1, less 254 when over 254.
  EXPECT_EQ(c, (Codewords{66, 129, 70, 220, 115}));
  Codewords full{1, 2, 3};
  dm::pad_codewords(full, 3);
  EXPECT_EQ(full, (Codewords{1, 2, 3}));
}

TEST(DataMatrixCodewords, InterleavedBlocksOf144x144) {
  const dm::SymbolSize& big = dm::square_sizes().back();
  ASSERT_EQ(big.rows, 144);
  ASSERT_EQ(big.blocks, 10);
  Codewords data;
  for (int i = 0; i < big.data_codewords; ++i) {
    data.push_back(static_cast<std::uint8_t>(i * 7 + 3));
  }
  const Codewords all = dm::with_error_correction(data, big);
  ASSERT_EQ(all.size(), std::size_t{1558 + 620});
  EXPECT_TRUE(std::equal(data.begin(), data.end(), all.begin()));
  // Block b: data codewords b, b + 10, ... (156 of them in blocks 0-7, 155 in 8 and 9). Its 62
  // check codewords follow the data 10 apart, each row of ten beginning with the two shorter
  // blocks': block 8's first check codeword is at 1558, block 9's at 1559, block 0's at 1560.
  for (int b = 0; b < 10; ++b) {
    Codewords block;
    for (int i = b; i < big.data_codewords; i += 10) {
      block.push_back(data[static_cast<std::size_t>(i)]);
    }
    EXPECT_EQ(block.size(), b < 8 ? 156u : 155u);
    const Codewords ecc = dm::reed_solomon(block, 62);
    for (int j = 0; j < 62; ++j) {
      ASSERT_EQ(all[static_cast<std::size_t>(1558 + j * 10 + (b + 2) % 10)],
                ecc[static_cast<std::size_t>(j)])
          << "block " << b << " check codeword " << j;
    }
  }
}

// --- symbols read back ----------------------------------------------------------------------

TEST(DataMatrixRender, EverySquareSizeFromItsBoundaryReadsBack) {
  const auto sizes = dm::square_sizes();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const dm::SymbolSize& size = sizes[i];
    const std::string what = std::to_string(size.rows) + "x" + std::to_string(size.cols);
    const auto compression = i % 2 == 0 ? ZplCompression::kZ64 : ZplCompression::kAcs;
    // Digits two to a codeword: exactly full, then one digit over.
    std::string digits;
    for (int d = 0; d < 2 * size.data_codewords; ++d) {
      digits += static_cast<char>('0' + (d * 7 + d / 10) % 10);
    }
    const CodeRaster full = render_barcode(digits, BarcodeSpec{.type = BarcodeType::datamatrix});
    expect_layout(full, size, what + " full of digits");
    expect_reads_back(full, digits, false, what + " full of digits", compression);

    const CodeRaster over =
        render_barcode(digits + "7", BarcodeSpec{.type = BarcodeType::datamatrix});
    if (i + 1 < sizes.size()) {
      expect_layout(over, sizes[i + 1], what + " and one digit");
      expect_reads_back(over, digits + "7", false, what + " and one digit", compression);
    } else {
      EXPECT_FALSE(over);
      EXPECT_NE(over.error.find("largest square DataMatrix (144x144) holds: 1558"),
                std::string::npos)
          << over.error;
    }

    // GS1: FNC1 first and between element strings, exactly full, then one letter over.
    const std::string gs1 = gs1_filling(size.data_codewords);
    ASSERT_EQ(dm::ascii_codewords(gs1, true).size(), static_cast<std::size_t>(size.data_codewords));
    const CodeRaster gs1_full =
        render_barcode(gs1, BarcodeSpec{.type = BarcodeType::gs1_datamatrix});
    expect_layout(gs1_full, size, what + " GS1 full");
    expect_reads_back(gs1_full, gs1, true, what + " GS1 full", compression);
    const CodeRaster gs1_over =
        render_barcode(gs1 + "Q", BarcodeSpec{.type = BarcodeType::gs1_datamatrix});
    if (i + 1 < sizes.size()) {
      expect_layout(gs1_over, sizes[i + 1], what + " GS1 and one letter");
      expect_reads_back(gs1_over, gs1 + "Q", true, what + " GS1 and one letter", compression);
    } else {
      EXPECT_FALSE(gs1_over);
      EXPECT_NE(gs1_over.error.find("GS1 DataMatrix: "), std::string::npos) << gs1_over.error;
      EXPECT_NE(gs1_over.error.find("1559 data codewords"), std::string::npos) << gs1_over.error;
    }
  }
}

TEST(DataMatrixRender, EveryRectangularSizeFromItsBoundaryReadsBack) {
  const auto sizes = dm::rectangular_sizes();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const dm::SymbolSize& size = sizes[i];
    const std::string what = std::to_string(size.rows) + "x" + std::to_string(size.cols);
    std::string text;
    for (int c = 0; c < size.data_codewords; ++c) {
      text += static_cast<char>('a' + c % 26);
    }
    const BarcodeSpec spec{.type = BarcodeType::datamatrix, .shape = DataMatrixShape::rectangle};
    const CodeRaster full = render_barcode(text, spec);
    expect_layout(full, size, what);
    expect_reads_back(full, text, false, what, ZplCompression::kZ64);
    const CodeRaster over = render_barcode(text + "z", spec);
    if (i + 1 < sizes.size()) {
      expect_layout(over, sizes[i + 1], what + " and one");
    } else {
      EXPECT_FALSE(over);
      EXPECT_NE(over.error.find("largest rectangular DataMatrix (16x48) holds: 49"),
                std::string::npos)
          << over.error;
    }
  }
  // GS1 in a rectangle: a GTIN and a batch, 1 + 8 + 4 codewords, in 12x26 (16).
  const std::string gs1 =
      "0109506000134352"
      "10ABC";
  const CodeRaster r = render_barcode(
      gs1, BarcodeSpec{.type = BarcodeType::gs1_datamatrix, .shape = DataMatrixShape::rectangle});
  expect_layout(r, sizes[2], "GS1 rectangle");
  expect_reads_back(r, gs1, true, "GS1 rectangle", ZplCompression::kAcs);
}

TEST(DataMatrixRender, Gs1ElementStringsGetFnc1WhereAVariableLengthOneEnds) {
  // GTIN and expiry have predefined lengths: no separator after them. The batch is variable:
  // FNC1 after it, read back as GS. The serial is last: nothing after it.
  const std::string expected =
      std::string("0109506000134352") + "17261231" + "10ABC123" + kGs + "21XYZ-9/8";
  const BarcodeSpec spec{.type = BarcodeType::gs1_datamatrix};
  const CodeRaster hri = render_barcode("(01)09506000134352(17)261231(10)ABC123(21)XYZ-9/8", spec);
  expect_reads_back(hri, expected, true, "human-readable form", ZplCompression::kZ64);
  ZXing::Result read = read_datamatrix(hri.bitmap);
  EXPECT_EQ(read.text(), expected);

  // The same data as a scanner sends it, and with a needless GS after the GTIN (dropped), and
  // with spaces around the values of the human-readable form: the same symbol.
  for (const std::string& same :
       {expected,
        std::string("0109506000134352") + kGs + "17261231" + "10ABC123" + kGs + "21XYZ-9/8",
        std::string("(01) 09506000134352 (17) 261231 (10) ABC123 (21) XYZ-9/8")}) {
    const CodeRaster r = render_barcode(same, spec);
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.bitmap, hri.bitmap) << same;
  }

  // Two variable-length element strings in a row, and 4-digit and 3-digit AIs.
  const std::string mixed = std::string("3103000750") + "10LOT7" + kGs + "240PART-1" + kGs +
                            "4100614141000015" + "91internal";
  const CodeRaster m =
      render_barcode("(3103)000750(10)LOT7(240)PART-1(410)0614141000015(91)internal", spec);
  expect_reads_back(m, mixed, true, "mixed AIs", ZplCompression::kAcs);

  // A plain DataMatrix of the same bytes is no GS1 symbol: GS is data there.
  const CodeRaster plain = render_barcode(expected, BarcodeSpec{.type = BarcodeType::datamatrix});
  expect_reads_back(plain, expected, false, "plain with GS", ZplCompression::kZ64);
}

TEST(DataMatrixRender, Gs1DataThatIsNotGs1IsAClearError) {
  const BarcodeSpec spec{.type = BarcodeType::gs1_datamatrix};
  const auto error_of = [&](std::string_view data) {
    const CodeRaster r = render_barcode(data, spec);
    EXPECT_FALSE(r) << data;
    return r.error;
  };
  EXPECT_NE(error_of("(01)09506000134353")
                .find("(01) GTIN \"09506000134353\": check digit "
                      "should be 2"),
            std::string::npos);
  EXPECT_NE(error_of("(00)095200000000000018").find("check digit should be 1"), std::string::npos);
  EXPECT_NE(error_of("(01)0950600013435").find("(01) takes 14 digits after the AI"),
            std::string::npos);
  EXPECT_NE(error_of("0109506000134352"
                     "17261")
                .find("(17) takes 6 digits after the AI"),
            std::string::npos);
  EXPECT_NE(error_of("(31)000750").find("AIs beginning 31 have 4 digits"), std::string::npos);
  EXPECT_NE(error_of("(10)(21)X").find("(10) has no value"), std::string::npos);
  EXPECT_NE(error_of("(10)AB C").find("without spaces"), std::string::npos);
  EXPECT_NE(error_of("(10)ABÉ").find("printable ASCII"), std::string::npos);
  EXPECT_NE(error_of("10ABC\x1d").find("after the last element string"), std::string::npos);
  EXPECT_NE(error_of("\x1d"
                     "10ABC")
                .find("before the first"),
            std::string::npos);
  EXPECT_NE(error_of("10AB\x1d\x1d"
                     "21X")
                .find("two GS"),
            std::string::npos);
  EXPECT_NE(error_of("ABC").find("does not begin with an AI"), std::string::npos);
  EXPECT_NE(error_of("(1)ABC").find("expected an AI in parentheses"), std::string::npos);
  EXPECT_TRUE(error_of("(10)").starts_with("GS1 DataMatrix data: (10) has no value"));
}

TEST(DataMatrixRender, ExtendedBytesGoThroughUpperShift) {
  // Latin-1 and UTF-8 bytes, as given: a plain DataMatrix has no character set of its own.
  std::string latin1;
  for (int c = 0x80; c <= 0xFF; c += 5) {
    latin1 += static_cast<char>(c);
  }
  const BarcodeSpec spec{.type = BarcodeType::datamatrix};
  expect_reads_back(render_barcode(latin1, spec), latin1, false, "Latin-1", ZplCompression::kZ64);
  const std::string japanese = "山田 花子 様 PB-1001";
  expect_reads_back(render_barcode(japanese, spec), japanese, false, "UTF-8", ZplCompression::kAcs);
  // Each of those bytes costs two codewords.
  EXPECT_EQ(dm::encode("\xe9\xe9\xe9\xe9", false, false).data_codewords_used, 8);
}

TEST(DataMatrixRender, SurvivesDamageAcrossItsInterleavedBlocks) {
  // Error correction that reads back a scuffed symbol is right in every block: blacken a
  // 10x10-module patch inside the data of the 144x144 and 52x52 symbols.
  for (const int target : {52, 144}) {
    const dm::SymbolSize* size = nullptr;
    for (const auto& s : dm::square_sizes()) {
      if (s.rows == target) {
        size = &s;
      }
    }
    ASSERT_NE(size, nullptr);
    const std::string data = gs1_filling(size->data_codewords - 20);
    CodeRaster r =
        render_barcode(data, BarcodeSpec{.type = BarcodeType::gs1_datamatrix, .module_dots = 3});
    expect_layout(r, *size, std::to_string(target));
    const int m = r.module_dots;
    r.bitmap.fill((1 + 5) * m, (1 + 9) * m, 10 * m, 10 * m);
    const ZXing::Result read = read_datamatrix(r.bitmap);
    ASSERT_TRUE(read.isValid()) << target;
    EXPECT_EQ(bytes_of(read), data);
    EXPECT_EQ(read.symbologyIdentifier(), "]d2");
  }
}

TEST(DataMatrixRender, WholeDotModulesInsideTheBox) {
  const std::string data = "(01)09506000134352(10)ABC";
  // 1 + 8 + 4 codewords: 18x18 at 0.5 mm, 4 dots at 203 dpi and 6 at 300.
  const CodeRaster at203 = render_barcode(data, BarcodeSpec{.type = BarcodeType::gs1_datamatrix});
  ASSERT_TRUE(at203) << at203.error;
  EXPECT_EQ(at203.module_dots, 4);
  EXPECT_EQ(at203.bitmap.width(), 20 * 4);
  const CodeRaster at300 =
      render_barcode(data, BarcodeSpec{.type = BarcodeType::gs1_datamatrix, .dpi = 300});
  ASSERT_TRUE(at300) << at300.error;
  EXPECT_EQ(at300.module_dots, 6);
  EXPECT_TRUE(read_datamatrix(at300.bitmap).isValid());

  // Just fits the box both ways; one dot less either way is an error, never a smaller module.
  const BarcodeSpec exact{.type = BarcodeType::gs1_datamatrix, .height = 80, .max_width = 80};
  EXPECT_TRUE(render_barcode(data, exact));
  for (const auto& [w, h] : {std::pair{79, 80}, std::pair{80, 79}}) {
    const CodeRaster r = render_barcode(
        data, BarcodeSpec{.type = BarcodeType::gs1_datamatrix, .height = h, .max_width = w});
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("18x18 modules"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("the box allows " + std::to_string(w) + "x" + std::to_string(h)),
              std::string::npos)
        << r.error;
  }
  // A module size asked for is kept.
  const CodeRaster big =
      render_barcode(data, BarcodeSpec{.type = BarcodeType::gs1_datamatrix, .module_dots = 7});
  ASSERT_TRUE(big) << big.error;
  EXPECT_EQ(big.bitmap.width(), 20 * 7);
}

}  // namespace
}  // namespace packbench::labels

#include "packbench/labels/zpl_graphic.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace pl = packbench::labels;

namespace {

// A label-like raster: a border, text-like blocks of short strokes, a barcode-like band and a
// QR-like checkerboard of modules, so that both compressors see realistic runs.
pl::Bitmap label_like(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  pl::Bitmap bm(width, height);
  bm.fill(0, 0, width, 3);
  bm.fill(0, height - 3, width, 3);
  bm.fill(0, 0, 3, height);
  bm.fill(width - 3, 0, 3, height);
  const int line = std::max(8, height / 60);
  for (int y = height / 20; y < height / 2; y += line + line / 2) {
    int x = width / 20;
    while (x < width * 9 / 10) {
      const int glyph = line / 2 + static_cast<int>(rng() % static_cast<unsigned>(line));
      if (rng() % 5 != 0) {
        for (int k = 0; k < 4; ++k) {
          bm.fill(x + static_cast<int>(rng() % static_cast<unsigned>(glyph)), y,
                  1 + static_cast<int>(rng() % 3), line);
          bm.fill(x, y + static_cast<int>(rng() % static_cast<unsigned>(line)), glyph, 2);
        }
      }
      x += glyph + 2;
    }
  }
  const int module = std::max(4, width / 200);
  const int qr_x = width / 10;
  const int qr_y = height * 6 / 10;
  for (int my = 0; my < 33; ++my) {
    for (int mx = 0; mx < 33; ++mx) {
      if (rng() & 1) {
        bm.fill(qr_x + mx * module, qr_y + my * module, module, module);
      }
    }
  }
  for (int x = width / 2; x < width * 9 / 10; x += 2 + static_cast<int>(rng() % 6)) {
    bm.fill(x, height * 6 / 10, 1 + static_cast<int>(rng() % 4), height / 8);
  }
  return bm;
}

pl::Bitmap random_bitmap(std::mt19937& rng, int width, int height, double density) {
  pl::Bitmap bm(width, height);
  std::bernoulli_distribution black(density);
  for (int y = 0; y < height; ++y) {
    if (y > 0 && rng() % 4 == 0) {
      // Repeated rows exercise ':'.
      for (int x = 0; x < width; ++x) {
        bm.set(x, y, bm.get(x, y - 1));
      }
      continue;
    }
    // Long runs with occasional flips, so runs of every length appear.
    bool colour = black(rng);
    for (int x = 0; x < width; ++x) {
      if (rng() % 16 == 0) {
        colour = black(rng);
      }
      bm.set(x, y, colour);
    }
  }
  return bm;
}

// Decodes bare ^GF data for a bitmap the size of `like`.
pl::ZplRaster decode_data(const pl::Bitmap& like, const std::string& data) {
  const long long total = static_cast<long long>(like.stride()) * like.height();
  return pl::zpl_decode_graphic_field("A," + std::to_string(total) + "," + std::to_string(total) +
                                      "," + std::to_string(like.stride()) + "," + data);
}

// The decoded field is d * 8 dots wide; its rows must match the bitmap's bytes exactly (pad
// bits included, which must stay white or they print).
void expect_same_bytes(const pl::Bitmap& decoded, const pl::Bitmap& original) {
  ASSERT_EQ(decoded.stride(), original.stride());
  ASSERT_EQ(decoded.height(), original.height());
  EXPECT_EQ(decoded.bytes(), original.bytes());
}

struct GfHeader {
  long long b, c, d;
};

std::vector<GfHeader> gf_headers(const std::string& zpl) {
  std::vector<GfHeader> out;
  for (const auto& cmd : pl::zpl_tokenize(zpl)) {
    if (cmd.name == "^GF") {
      GfHeader h{};
      EXPECT_EQ(std::sscanf(cmd.params.c_str(), "A,%lld,%lld,%lld,", &h.b, &h.c, &h.d), 3);
      out.push_back(h);
    }
  }
  return out;
}

}  // namespace

TEST(Crc16Xmodem, KnownAnswer) {
  EXPECT_EQ(pl::crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(pl::crc16_xmodem(""), 0x0000);
  EXPECT_EQ(pl::crc16_xmodem("A"), 0x58E5);
}

TEST(ZplZ64, DataCarriesTheCrcOfItsBase64Text) {
  std::mt19937 rng(7);
  const auto bm = random_bitmap(rng, 61, 40, 0.3);
  const std::string data = pl::zpl_z64_data(bm);
  ASSERT_EQ(data.substr(0, 5), ":Z64:");
  const std::size_t colon = data.rfind(':');
  ASSERT_EQ(data.size() - colon, 5u);
  const std::string text = data.substr(5, colon - 5);
  char crc[5];
  std::snprintf(crc, sizeof crc, "%04X", pl::crc16_xmodem(text));
  EXPECT_EQ(data.substr(colon + 1), crc);
  expect_same_bytes(decode_data(bm, data).bitmap, bm);
}

TEST(ZplZ64, DecoderRejectsABadCrcOrATamperedText) {
  std::mt19937 rng(8);
  const auto bm = random_bitmap(rng, 64, 16, 0.5);
  std::string data = pl::zpl_z64_data(bm);
  ASSERT_TRUE(decode_data(bm, data).ok());
  std::string bad_crc = data;
  bad_crc.back() = bad_crc.back() == '0' ? '1' : '0';
  EXPECT_FALSE(decode_data(bm, bad_crc).ok());
  std::string tampered = data;
  tampered[6] = tampered[6] == 'A' ? 'B' : 'A';
  const auto r = decode_data(bm, tampered);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("CRC"), std::string::npos) << r.error;
}

TEST(ZplZ64, DecoderTakesTheCrcInEitherCaseButOnlyAsFourHexDigits) {
  std::mt19937 rng(9);
  const auto bm = random_bitmap(rng, 53, 21, 0.4);
  const std::string data = pl::zpl_z64_data(bm);
  const std::size_t colon = data.rfind(':');
  std::string lower = data;
  for (std::size_t i = colon + 1; i < lower.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i])));
  }
  const auto r = decode_data(bm, lower);
  EXPECT_TRUE(r.ok()) << r.error;
  expect_same_bytes(r.bitmap, bm);
  EXPECT_FALSE(decode_data(bm, data.substr(0, data.size() - 1)).ok());
  EXPECT_FALSE(decode_data(bm, data + "0").ok());
  EXPECT_FALSE(decode_data(bm, data.substr(0, colon + 1) + "+" + data.substr(colon + 2)).ok());
}

class ZplFullLabel : public ::testing::TestWithParam<int> {};

TEST_P(ZplFullLabel, RoundTripsThroughTheDecoderInBandsWithinTheLimits) {
  const pl::LabelSize size{GetParam(), 4.0, 6.0};
  const auto bm = label_like(size.width_dots(), size.height_dots(), 42);
  // A full-width border means trimming cannot narrow it: the bands are the full label width.
  const int d = (size.width_dots() + 7) / 8;
  const int rows = pl::zpl_band_rows(d);
  const int expected_bands = (size.height_dots() + rows - 1) / rows;
  for (const auto compression : {pl::ZplCompression::kZ64, pl::ZplCompression::kAcs}) {
    pl::ZplGraphicOptions options;
    options.compression = compression;
    const std::string zpl = pl::zpl_graphic_format(bm, size, options);
    const auto headers = gf_headers(zpl);
    EXPECT_EQ(static_cast<int>(headers.size()), expected_bands);
    long long rows_total = 0;
    for (const auto& h : headers) {
      EXPECT_EQ(h.b, h.c);
      EXPECT_LE(h.c, pl::kGfMaxBytes);
      EXPECT_EQ(h.d, d);
      EXPECT_EQ(h.c % h.d, 0);
      rows_total += h.c / h.d;
    }
    EXPECT_EQ(rows_total, size.height_dots());
    const auto decoded = pl::zpl_decode_graphics(zpl);
    ASSERT_TRUE(decoded.ok()) << decoded.error;
    EXPECT_EQ(decoded.graphic_fields, expected_bands);
    EXPECT_TRUE(decoded.bitmap == bm) << "dpi " << size.dpi;
  }
}

INSTANTIATE_TEST_SUITE_P(Dpi, ZplFullLabel, ::testing::Values(203, 300, 600));

TEST(ZplBands, FullLabelBandCountsPerDpi) {
  // d = 102, 150, 300 bytes: 980, 666 and 333 rows per ^GF.
  EXPECT_EQ(pl::zpl_band_rows(102), 980);
  EXPECT_EQ(pl::zpl_band_rows(150), 666);
  EXPECT_EQ(pl::zpl_band_rows(300), 333);
  EXPECT_EQ(pl::zpl_band_rows(100'000), 0);
}

TEST(ZplBands, SmallerLimitGivesMoreBandsEachWithinIt) {
  std::mt19937 rng(3);
  auto bm = random_bitmap(rng, 203, 97, 0.4);
  bm.fill(0, 0, 203, 1);  // full width in the first row and black in the last: no trimming
  bm.fill(0, 96, 1, 1);
  pl::ZplGraphicOptions options;
  options.max_field_bytes = 26 * 10;  // d = 26: ten rows per band
  options.compression = pl::ZplCompression::kAcs;
  const std::string zpl = pl::zpl_graphic_field(bm, 5, 7, options);
  const auto headers = gf_headers(zpl);
  EXPECT_EQ(headers.size(), 10u);
  for (const auto& h : headers) {
    EXPECT_LE(h.c, options.max_field_bytes);
  }
  const auto decoded = pl::zpl_decode_graphics(zpl, 5 + 203, 7 + 97);
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  pl::Bitmap expected(5 + 203, 7 + 97);
  expected.draw(bm, 5, 7);
  EXPECT_TRUE(decoded.bitmap == expected);
}

TEST(ZplGraphic, OddWidthsAndOffsetsRoundTripWithBothCompressionsTrimmedOrNot) {
  std::mt19937 rng(11);
  for (const int width : {1, 7, 9, 13, 63, 65, 203, 801}) {
    for (const auto compression : {pl::ZplCompression::kZ64, pl::ZplCompression::kAcs}) {
      for (const bool trim : {true, false}) {
        const auto bm = random_bitmap(rng, width, 37, 0.35);
        pl::ZplGraphicOptions options;
        options.compression = compression;
        options.trim_white = trim;
        const std::string zpl = pl::zpl_graphic_field(bm, 3, 11, options);
        const auto decoded = pl::zpl_decode_graphics(zpl, width + 3, 37 + 11);
        ASSERT_TRUE(decoded.ok()) << decoded.error;
        pl::Bitmap expected(width + 3, 37 + 11);
        expected.draw(bm, 3, 11);
        EXPECT_TRUE(decoded.bitmap == expected) << "width " << width << " trim " << trim;
      }
    }
  }
}

TEST(ZplGraphic, TrimmingMovesTheOriginToTheInk) {
  pl::Bitmap bm(100, 50);
  bm.fill(37, 20, 10, 5);
  const std::string zpl = pl::zpl_graphic_field(bm, 10, 10);
  const auto cmds = pl::zpl_tokenize(zpl);
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0], (pl::ZplCommand{"^FO", "47,30"}));
  EXPECT_EQ(cmds[1].params.substr(0, 9), "A,10,10,2");
  EXPECT_EQ(pl::zpl_graphic_field(pl::Bitmap(100, 50), 0, 0), "");
}

TEST(ZplGraphic, FormatTokenisesToExactlyTheExpectedCommands) {
  pl::Bitmap bm(16, 4);
  bm.fill(0, 0, 16, 4);
  pl::ZplGraphicOptions options;
  options.compression = pl::ZplCompression::kAcs;
  options.max_field_bytes = 4;  // two rows of two bytes per band: two bands
  const pl::LabelSize size{203, 2.0, 1.0};
  const auto cmds = pl::zpl_tokenize(pl::zpl_graphic_format(bm, size, options));
  const std::vector<pl::ZplCommand> expected{
      {"^XA", ""},    {"^PW", "406"},        {"^LL", "203"}, {"^LH", "0,0"}, {"^LS", "0"},
      {"^LT", "0"},   {"^PO", "N"},          {"^PM", "N"},   {"^CI", "28"},  {"^FW", "N"},
      {"^FO", "0,0"}, {"^GF", "A,4,4,2,!:"}, {"^FS", ""},    {"^FO", "0,2"}, {"^GF", "A,4,4,2,!:"},
      {"^FS", ""},    {"^PQ", "1,0,1,N"},    {"^XZ", ""}};
  EXPECT_EQ(cmds, expected);
}

TEST(ZplAcs, HandComputedEncoding) {
  pl::Bitmap bm(16, 4);
  bm.fill(0, 0, 16, 2);  // FF FF, FF FF
  bm.fill(4, 3, 8, 1);   // row 2 white; row 3: 0F F0
  EXPECT_EQ(pl::zpl_acs_data(bm), "!:,0FF,");

  // 250 bytes of FF then 50 of 00: 500 'F' nibbles = 419 (zY) + 81 (jG), then the row fill.
  pl::Bitmap wide(2400, 1);
  wide.fill(0, 0, 2000, 1);
  EXPECT_EQ(pl::zpl_acs_data(wide), "zYFjGF,");
  expect_same_bytes(decode_data(wide, pl::zpl_acs_data(wide)).bitmap, wide);
}

TEST(ZplAcs, DecodesTheGuidesExamples) {
  // "vMB": v = 320, M = 7: 327 'B' nibbles; ',' whites the rest of the 400-nibble row.
  const auto r = pl::zpl_decode_graphic_field("A,200,200,200,vMB,");
  ASSERT_TRUE(r.ok()) << r.error;
  const auto& bytes = r.bitmap.bytes();
  for (int i = 0; i < 163; ++i) {
    ASSERT_EQ(bytes[static_cast<std::size_t>(i)], 0xBB) << i;
  }
  EXPECT_EQ(bytes[163], 0xB0);
  EXPECT_EQ(bytes[164], 0x00);
  // "M6": seven '6' nibbles.
  const auto m6 = pl::zpl_decode_graphic_field("A,4,4,4,M60");
  ASSERT_TRUE(m6.ok()) << m6.error;
  EXPECT_EQ(m6.bitmap.bytes(), (std::vector<std::uint8_t>{0x66, 0x66, 0x66, 0x60}));
  // Plain hex, with line breaks between rows.
  const auto hex = pl::zpl_decode_graphic_field("A,4,4,2,F00F\n8001");
  ASSERT_TRUE(hex.ok()) << hex.error;
  EXPECT_EQ(hex.bitmap.bytes(), (std::vector<std::uint8_t>{0xF0, 0x0F, 0x80, 0x01}));
}

TEST(ZplAcs, DecoderRejectsTooMuchOrTooLittleData) {
  EXPECT_FALSE(pl::zpl_decode_graphic_field("A,4,4,2,FFFF").ok());
  EXPECT_FALSE(pl::zpl_decode_graphic_field("A,4,4,2,FFFFFFFF00").ok());
  EXPECT_FALSE(pl::zpl_decode_graphic_field("A,4,4,2,:FFFF").ok());
  EXPECT_FALSE(pl::zpl_decode_graphic_field("A,4,4,3,FFFFFF").ok());
  EXPECT_FALSE(pl::zpl_decode_graphic_field("A,4,4,2,FFFFFFFG").ok());
}

TEST(ZplAcs, PropertyRandomBitmapsRoundTrip) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 300; ++i) {
    const int width = 1 + static_cast<int>(rng() % 700);
    const int height = 1 + static_cast<int>(rng() % 40);
    const double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const auto bm = random_bitmap(rng, width, height, density);
    const auto decoded = decode_data(bm, pl::zpl_acs_data(bm));
    ASSERT_TRUE(decoded.ok()) << decoded.error << " width " << width;
    expect_same_bytes(decoded.bitmap, bm);
  }
}

TEST(ZplAcs, AllWhiteAllBlackAndLongRuns) {
  for (const int width : {5, 8, 12, 203, 812, 3203, 4000}) {
    pl::Bitmap white(width, 9);
    const std::string w = pl::zpl_acs_data(white);
    EXPECT_EQ(w, ",::::::::");
    expect_same_bytes(decode_data(white, w).bitmap, white);

    pl::Bitmap black(width, 9);
    black.fill(0, 0, width, 9);
    const std::string b = pl::zpl_acs_data(black);
    // The pad bits of a width that is not a multiple of 8 stay white: they would print.
    EXPECT_EQ(b.front() == '!', width % 8 == 0) << b.substr(0, 20);
    expect_same_bytes(decode_data(black, b).bitmap, black);

    // One black dot at the right end: a white run far over 400 nibbles before it.
    pl::Bitmap dot(width, 3);
    dot.set(width - 1, 1);
    const std::string d = pl::zpl_acs_data(dot);
    if (width >= 1700) {
      EXPECT_NE(d.find('z'), std::string::npos) << d;
    }
    expect_same_bytes(decode_data(dot, d).bitmap, dot);
  }
}

TEST(ZplDecode, HonoursLabelHomeAndRejectsTypesetOrigins) {
  const auto r = pl::zpl_decode_graphics("^XA^PW20^LL10^LH4,2^FO1,1^GFA,1,1,1,FF^FS^XZ");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.bitmap.width(), 20);
  EXPECT_EQ(r.bitmap.height(), 10);
  pl::Bitmap expected(20, 10);
  expected.fill(5, 3, 8, 1);
  EXPECT_TRUE(r.bitmap == expected);
  EXPECT_FALSE(pl::zpl_decode_graphics("^XA^FT1,1^GFA,1,1,1,FF^FS^XZ").ok());
  // Only the first format is drawn.
  const auto first = pl::zpl_decode_graphics("^XA^GFA,1,1,1,80^FS^XZ^XA^FO2,0^GFA,1,1,1,80^XZ");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.graphic_fields, 1);
}

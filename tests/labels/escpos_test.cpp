#include "packbench/labels/escpos.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace pl = packbench::labels;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

pl::Bitmap random_bitmap(unsigned seed, int width, int height) {
  std::mt19937 rng(seed);
  pl::Bitmap bm(width, height);
  for (auto& b : bm.bytes()) {
    b = static_cast<std::uint8_t>(rng());
  }
  // Keep the pad bits past the width white, as every Bitmap has them.
  for (int y = 0; y < height; ++y) {
    for (int x = width; x < bm.stride() * 8; ++x) {
      bm.set(x, y, false);
    }
  }
  return bm;
}

}  // namespace

TEST(Escpos, SmallRasterHasTheHandComputedBytes) {
  pl::Bitmap bm(10, 3);
  bm.set(0, 0);
  bm.set(9, 0);          // row 0: 1000 0000 | 01.. ....  = 80 40
  bm.fill(0, 1, 10, 1);  // row 1: FF C0 (the six pad bits stay white)
  // Two rows per band: a band of two rows and a band of one.
  EXPECT_EQ(pl::escpos_raster(bm, 2),
            bytes({0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x40, 0xFF, 0xC0,  //
                   0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00}));

  pl::EscposProfile profile;
  profile.band_rows = 3;
  const auto job = pl::escpos_job(bm, profile);
  ASSERT_TRUE(job.ok()) << job.error;
  EXPECT_EQ(job.bytes, bytes({0x1B, 0x40,                                      // ESC @
                              0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x03, 0x00,  // GS v 0
                              0x80, 0x40, 0xFF, 0xC0, 0x00, 0x00,              //
                              0x1D, 0x56, 0x42, 0x00}));                       // GS V B 0
}

TEST(Escpos, BandsRoundTripThroughTheParser) {
  for (const int width : {576, 573, 8, 1}) {
    const auto bm = random_bitmap(static_cast<unsigned>(width), width, 1000);
    const auto job = pl::escpos_job(bm);
    ASSERT_TRUE(job.ok()) << job.error;
    const auto parsed = pl::escpos_parse(job.bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error;
    EXPECT_EQ(parsed.initialisations, 1);
    EXPECT_EQ(parsed.cuts, 1);
    EXPECT_TRUE(parsed.cut_at_line_start);
    std::vector<int> expected_bands(7, pl::kEscposBandRows);
    expected_bands.push_back(1000 - 7 * pl::kEscposBandRows);
    EXPECT_EQ(parsed.band_heights, expected_bands);
    ASSERT_EQ(parsed.raster.stride(), bm.stride());
    EXPECT_EQ(parsed.raster.bytes(), bm.bytes()) << "width " << width;
  }
}

TEST(Escpos, NativeQrCommandBytes) {
  pl::EscposQr qr;
  qr.data = "HELLO";
  qr.module_dots = 6;
  qr.ecc = pl::EscposQrEcc::kM;
  const auto out = pl::escpos_qr(qr);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, bytes({0x1B, 0x61, 0x01,                                      // ESC a 1
                         0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00,  // fn 165: model 2
                         0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06,        // fn 167: 6 dots
                         0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31,        // fn 169: ECC M
                         0x1D, 0x28, 0x6B, 0x08, 0x00, 0x31, 0x50, 0x30,        // fn 180: store
                         'H',  'E',  'L',  'L',  'O',                           //
                         0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30,        // fn 181: print
                         0x1B, 0x61, 0x00}));                                   // ESC a 0
}

TEST(Escpos, QrRangesFollowTheReference) {
  pl::EscposQr qr;
  qr.data = std::string(7089, 'A');
  const auto longest = pl::escpos_qr(qr);
  ASSERT_TRUE(longest.has_value());
  // pL pH = 7092 = 0x1BB4 for the store function.
  EXPECT_NE(longest->find(bytes({0x1D, 0x28, 0x6B, 0xB4, 0x1B, 0x31, 0x50, 0x30})),
            std::string::npos);
  qr.data.push_back('A');
  EXPECT_FALSE(pl::escpos_qr(qr).has_value());
  qr.data = "x";
  qr.module_dots = 17;
  EXPECT_FALSE(pl::escpos_qr(qr).has_value());
  qr.module_dots = 0;
  EXPECT_FALSE(pl::escpos_qr(qr).has_value());
  qr.module_dots = 16;
  EXPECT_TRUE(pl::escpos_qr(qr).has_value());
  qr.data.clear();
  EXPECT_FALSE(pl::escpos_qr(qr).has_value());
}

TEST(Escpos, MixedJobWithNativeQrParsesBackInOrder) {
  const auto top = random_bitmap(1, 576, 200);
  const auto bottom = random_bitmap(2, 576, 50);
  pl::EscposQr qr;
  qr.data = "https://shop.example/discount/ABC123?redirect=/";
  qr.ecc = pl::EscposQrEcc::kQ;
  qr.module_dots = 8;
  const std::vector<pl::EscposBlock> blocks{top, qr, bottom};
  pl::EscposProfile profile;
  profile.native_qr = true;
  profile.cut = pl::EscposCut::kFull;
  const auto job = pl::escpos_job(blocks, profile);
  ASSERT_TRUE(job.ok()) << job.error;
  EXPECT_EQ(job.bytes.substr(job.bytes.size() - 4), bytes({0x1D, 0x56, 0x41, 0x00}));
  const auto parsed = pl::escpos_parse(job.bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.qr_data, std::vector<std::string>{qr.data});
  EXPECT_EQ(parsed.qr_module_dots, 8);
  EXPECT_EQ(parsed.qr_ecc, 50);
  EXPECT_EQ(parsed.cuts, 1);
  EXPECT_TRUE(parsed.cut_at_line_start);
  pl::Bitmap expected(576, 250);
  expected.draw(top, 0, 0);
  expected.draw(bottom, 0, 200);
  EXPECT_TRUE(parsed.raster == expected);
}

TEST(Escpos, ProfileRefusesWhatThePrinterCannotDo) {
  pl::EscposQr qr;
  qr.data = "x";
  const std::vector<pl::EscposBlock> blocks{qr};
  const auto no_native = pl::escpos_job(blocks, pl::EscposProfile{});
  EXPECT_FALSE(no_native.ok());
  EXPECT_NE(no_native.error.find("native QR"), std::string::npos);

  const auto too_wide = pl::escpos_job(pl::Bitmap(577, 10));
  EXPECT_FALSE(too_wide.ok());
  EXPECT_TRUE(pl::escpos_job(pl::Bitmap(576, 10)).ok());
}

TEST(Escpos, ParserSeesACutThatIsNotAtALineStartAndRejectsGarbage) {
  const auto parsed = pl::escpos_parse(bytes({0x1B, 0x40, 'a', 'b', 0x1D, 0x56, 0x00}));
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_FALSE(parsed.cut_at_line_start);
  const auto after_lf = pl::escpos_parse(bytes({'a', 0x0A, 0x1D, 0x56, 0x01}));
  EXPECT_TRUE(after_lf.cut_at_line_start);
  EXPECT_FALSE(
      pl::escpos_parse(bytes({0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0xFF})).ok());
  EXPECT_FALSE(pl::escpos_parse(bytes({0x1C, 0x00})).ok());
}

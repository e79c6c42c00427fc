#include "packbench/labels/png.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace pl = packbench::labels;

namespace {

pl::Bitmap random_bitmap(unsigned seed, int width, int height) {
  std::mt19937 rng(seed);
  pl::Bitmap bm(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      bm.set(x, y, rng() % 3 == 0);
    }
  }
  return bm;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at])) << 24 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 1])) << 16 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 2])) << 8 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 3]));
}

}  // namespace

TEST(Png, RoundTripsExactlyAtOddWidths) {
  for (const int width : {1, 7, 8, 13, 576, 812}) {
    const auto bm = random_bitmap(static_cast<unsigned>(width), width, 31);
    const auto png = pl::png_encode(bm, 203);
    ASSERT_TRUE(png.has_value());
    const auto back = pl::png_decode(*png);
    ASSERT_TRUE(back.ok()) << back.error;
    EXPECT_TRUE(back.bitmap == bm) << "width " << width;
    EXPECT_EQ(back.dpi, 203);
  }
}

TEST(Png, IsOneBitGreyWithTheDpiInPhys) {
  pl::Bitmap bm(20, 10);
  bm.fill(0, 0, 20, 1);
  const auto png = pl::png_encode(bm, 300);
  ASSERT_TRUE(png.has_value());
  ASSERT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1a\n");
  // IHDR is the first chunk: length 13, then width, height, bit depth, colour type.
  ASSERT_EQ(png->substr(12, 4), "IHDR");
  EXPECT_EQ(be32(*png, 16), 20u);
  EXPECT_EQ(be32(*png, 20), 10u);
  EXPECT_EQ((*png)[24], 1);  // bit depth
  EXPECT_EQ((*png)[25], 0);  // greyscale
  const std::size_t phys = png->find("pHYs");
  ASSERT_NE(phys, std::string::npos);
  EXPECT_EQ(be32(*png, phys + 4), 11811u);  // 300 dpi in dots per metre
  EXPECT_EQ((*png)[phys + 12], 1);          // unit: metre
  EXPECT_EQ(pl::png_encode(bm).value().find("pHYs"), std::string::npos);
  EXPECT_FALSE(pl::png_encode(pl::Bitmap()).has_value());
}

TEST(Png, WritesTheFileItIsHandedAndReportsWhyItCannot) {
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("packbench_png_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "preview.png").string();
  const auto bm = random_bitmap(5, 100, 40);
  EXPECT_FALSE(pl::png_write_file(bm, path, 203).has_value());
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  const auto back = pl::png_decode(content.str());
  ASSERT_TRUE(back.ok()) << back.error;
  EXPECT_TRUE(back.bitmap == bm);
  const auto error = pl::png_write_file(bm, (dir / "missing" / "x.png").string());
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Png, DecoderRejectsWhatIsNotAPng) {
  EXPECT_FALSE(pl::png_decode("GIF89a").ok());
  const auto png = pl::png_encode(random_bitmap(9, 30, 30)).value();
  EXPECT_FALSE(pl::png_decode(png.substr(0, png.size() / 2)).ok());
}

#include "packbench/labels/image.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "support.hpp"

namespace packbench::labels {
namespace {

std::vector<std::uint8_t> encode(const cv::Mat& image, const std::string& ext = ".png") {
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return bytes;
}

// 256 columns, each the grey level of its index: 0 black on the left to 255 white on the right.
cv::Mat gradient(int height) {
  cv::Mat image(height, 256, CV_8U);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < 256; ++x) {
      image.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(x);
    }
  }
  return image;
}

double black_ratio(const Bitmap& b, int x0, int x1) {
  int black = 0;
  for (int y = 0; y < b.height(); ++y) {
    for (int x = x0; x < x1; ++x) {
      black += b.get(x, y) ? 1 : 0;
    }
  }
  return static_cast<double>(black) / ((x1 - x0) * b.height());
}

TEST(ImageReduce, GradientDithersToAboutTheRightBlackRatio) {
  const ImageRaster r = render_image(
      encode(gradient(128)),
      ImageFit{.max_width = 256, .max_height = 128, .reduction = Reduction::floyd_steinberg});
  ASSERT_TRUE(r) << r.error;
  ASSERT_EQ(r.bitmap.width(), 256);
  ASSERT_EQ(r.bitmap.height(), 128);
  EXPECT_NEAR(black_ratio(r.bitmap, 0, 256), 0.5, 0.02);
  // In each band of 32 grey levels, the share of black dots is one minus the mean grey.
  for (int band = 0; band < 8; ++band) {
    const int x0 = band * 32;
    const double mean_grey = (x0 + 15.5) / 255.0;
    EXPECT_NEAR(black_ratio(r.bitmap, x0, x0 + 32), 1.0 - mean_grey, 0.04) << "band " << band;
  }
  // Dithered, not thresholded: mid-grey columns hold both black and white dots.
  EXPECT_GT(black_ratio(r.bitmap, 120, 136), 0.3);
  EXPECT_LT(black_ratio(r.bitmap, 120, 136), 0.7);
}

TEST(ImageReduce, ThresholdSplitsAtTheLevel) {
  for (int level : {100, 128, 200}) {
    const ImageRaster r =
        render_image(encode(gradient(16)), ImageFit{.max_width = 256,
                                                    .max_height = 16,
                                                    .reduction = Reduction::threshold,
                                                    .threshold = level});
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(black_ratio(r.bitmap, 0, level), 1.0) << level;
    EXPECT_EQ(black_ratio(r.bitmap, level, 256), 0.0) << level;
  }
}

TEST(ImageLoad, TransparentPixelsBecomeWhite) {
  // Three bands, all black in colour: opaque, fully transparent, and a quarter opaque.
  cv::Mat image(30, 90, CV_8UC4, cv::Scalar(0, 0, 0, 255));
  image(cv::Rect(30, 0, 30, 30)).setTo(cv::Scalar(0, 0, 0, 0));
  image(cv::Rect(60, 0, 30, 30)).setTo(cv::Scalar(0, 0, 0, 64));
  const auto png = encode(image);
  const ImageRaster r = render_image(png, ImageFit{.max_width = 90, .max_height = 30});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(black_ratio(r.bitmap, 0, 30), 1.0);
  EXPECT_EQ(black_ratio(r.bitmap, 30, 60), 0.0);
  // A quarter of black over white paper is a light grey (191): white at 128, black at 200.
  EXPECT_EQ(black_ratio(r.bitmap, 60, 90), 0.0);
  const ImageRaster dark =
      render_image(png, ImageFit{.max_width = 90, .max_height = 30, .threshold = 200});
  ASSERT_TRUE(dark) << dark.error;
  EXPECT_EQ(black_ratio(dark.bitmap, 60, 90), 1.0);
  EXPECT_EQ(black_ratio(dark.bitmap, 30, 60), 0.0);
}

TEST(ImageLoad, ScalesIntoTheBoxKeepingItsAspect) {
  // 400x100, left half black: into a 200x200 box it becomes 200x50.
  cv::Mat image(100, 400, CV_8U, cv::Scalar(255));
  image(cv::Rect(0, 0, 200, 100)).setTo(cv::Scalar(0));
  const ImageRaster r = render_image(encode(image), ImageFit{.max_width = 200, .max_height = 200});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.source_width, 400);
  EXPECT_EQ(r.source_height, 100);
  EXPECT_EQ(r.bitmap.width(), 200);
  EXPECT_EQ(r.bitmap.height(), 50);
  EXPECT_EQ(black_ratio(r.bitmap, 0, 100), 1.0);
  EXPECT_EQ(black_ratio(r.bitmap, 100, 200), 0.0);

  // Area averaging: a one-pixel checkerboard halved is an even mid grey, which dithers to about
  // half black rather than aliasing into solid black or white.
  cv::Mat checker(200, 200, CV_8U);
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 200; ++x) {
      checker.at<std::uint8_t>(y, x) = ((x + y) % 2) ? 255 : 0;
    }
  }
  const ImageRaster half = render_image(
      encode(checker),
      ImageFit{.max_width = 100, .max_height = 0, .reduction = Reduction::floyd_steinberg});
  ASSERT_TRUE(half) << half.error;
  EXPECT_EQ(half.bitmap.width(), 100);
  EXPECT_EQ(half.bitmap.height(), 100);
  EXPECT_NEAR(black_ratio(half.bitmap, 0, 100), 0.5, 0.03);

  // Enlarged to fit a taller box, by height.
  const ImageRaster big = render_image(encode(image), ImageFit{.max_width = 0, .max_height = 200});
  ASSERT_TRUE(big) << big.error;
  EXPECT_EQ(big.bitmap.width(), 800);
  EXPECT_EQ(big.bitmap.height(), 200);
}

TEST(ImageLoad, JpegFromAFileTheCallerNames) {
  cv::Mat image(60, 120, CV_8UC3, cv::Scalar(255, 255, 255));
  image(cv::Rect(0, 0, 60, 60)).setTo(cv::Scalar(0, 0, 0));
  const auto jpeg = encode(image, ".jpg");
  packbench::testing::TempDir dir;
  const auto path = dir / "logo.jpg";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  const ImageRaster r = render_image_file(path, ImageFit{.max_width = 120, .max_height = 60});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.bitmap.width(), 120);
  EXPECT_GT(black_ratio(r.bitmap, 2, 58), 0.99);
  EXPECT_LT(black_ratio(r.bitmap, 62, 118), 0.01);

  const ImageRaster missing = render_image_file(dir / "nope.png", ImageFit{.max_width = 10});
  EXPECT_FALSE(missing);
  EXPECT_NE(missing.error.find("nope.png"), std::string::npos) << missing.error;
}

TEST(ImageLoad, CorruptOrForeignBytesAreAClearError) {
  cv::Mat image(50, 50, CV_8U, cv::Scalar(0));
  auto png = encode(image);

  // The PNG signature, then garbage.
  std::vector<std::uint8_t> corrupt(png.begin(), png.begin() + 8);
  corrupt.resize(200, 0x5A);
  ImageRaster r = render_image(corrupt, ImageFit{.max_width = 50, .max_height = 50});
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("PNG image of 200 bytes"), std::string::npos) << r.error;

  // Not an image at all, or a format we do not take.
  const std::string text = "GIF89a not really";
  r = render_image(std::vector<std::uint8_t>(text.begin(), text.end()),
                   ImageFit{.max_width = 50, .max_height = 50});
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("neither PNG nor JPEG"), std::string::npos) << r.error;
  EXPECT_FALSE(render_image({}, ImageFit{.max_width = 50}));

  // A valid image into no box.
  EXPECT_FALSE(render_image(png, ImageFit{}));
}

}  // namespace
}  // namespace packbench::labels

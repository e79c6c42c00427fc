#include "packbench/labels/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace packbench::labels {
namespace {

ImageRaster fail(std::string message) {
  ImageRaster r;
  r.error = std::move(message);
  return r;
}

bool is_png(std::span<const std::uint8_t> b) {
  static constexpr std::uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return b.size() >= sizeof kSignature && std::memcmp(b.data(), kSignature, sizeof kSignature) == 0;
}

bool is_jpeg(std::span<const std::uint8_t> b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// One 8-bit grey channel, 0 black .. 255 white, with transparency composited over white paper.
cv::Mat to_grey_on_white(const cv::Mat& decoded) {
  cv::Mat image = decoded;
  if (image.depth() == CV_16U) {
    image.convertTo(image, CV_8U, 1.0 / 257.0);
  } else if (image.depth() != CV_8U) {
    return {};
  }
  cv::Mat grey;
  cv::Mat alpha;
  switch (image.channels()) {
    case 1:
      return image;
    case 2: {  // grey and alpha
      std::vector<cv::Mat> planes;
      cv::split(image, planes);
      grey = planes[0];
      alpha = planes[1];
      break;
    }
    case 3:
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
      return grey;
    case 4:
      cv::cvtColor(image, grey, cv::COLOR_BGRA2GRAY);
      cv::extractChannel(image, alpha, 3);
      break;
    default:
      return {};
  }
  // Over white: out = grey * a + 255 * (1 - a), with a = alpha / 255.
  cv::Mat out(grey.size(), CV_8U);
  for (int y = 0; y < grey.rows; ++y) {
    const std::uint8_t* g = grey.ptr<std::uint8_t>(y);
    const std::uint8_t* a = alpha.ptr<std::uint8_t>(y);
    std::uint8_t* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x) {
      o[x] = static_cast<std::uint8_t>((g[x] * a[x] + 255 * (255 - a[x]) + 127) / 255);
    }
  }
  return out;
}

Bitmap threshold(const cv::Mat& grey, int level) {
  Bitmap out(grey.cols, grey.rows);
  for (int y = 0; y < grey.rows; ++y) {
    const std::uint8_t* g = grey.ptr<std::uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x) {
      if (g[x] < level) {
        out.set(x, y);
      }
    }
  }
  return out;
}

// Floyd–Steinberg on the grey levels as stored (sRGB-encoded, so perceptually even), each
// dot's quantisation error pushed 7/16 ahead, 3/16 behind-below, 5/16 below, 1/16 ahead-below.
// Rows alternate direction (serpentine), which avoids the diagonal "worms" of one-way scans.
Bitmap floyd_steinberg(const cv::Mat& grey) {
  const int w = grey.cols;
  const int h = grey.rows;
  Bitmap out(w, h);
  // Two rows of accumulated error, with a guard cell each side.
  std::vector<float> current(static_cast<std::size_t>(w) + 2, 0.0f);
  std::vector<float> next(static_cast<std::size_t>(w) + 2, 0.0f);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* g = grey.ptr<std::uint8_t>(y);
    const bool forward = (y % 2) == 0;
    const int step = forward ? 1 : -1;
    for (int i = 0; i < w; ++i) {
      const int x = forward ? i : w - 1 - i;
      const std::size_t c = static_cast<std::size_t>(x) + 1;
      const float value = static_cast<float>(g[x]) + current[c];
      const bool black = value < 128.0f;
      if (black) {
        out.set(x, y);
      }
      const float error = value - (black ? 0.0f : 255.0f);
      current[c + step] += error * (7.0f / 16.0f);
      next[c - step] += error * (3.0f / 16.0f);
      next[c] += error * (5.0f / 16.0f);
      next[c + step] += error * (1.0f / 16.0f);
    }
    std::swap(current, next);
    std::fill(next.begin(), next.end(), 0.0f);
  }
  return out;
}

}  // namespace

ImageRaster render_image(std::span<const std::uint8_t> encoded, const ImageFit& fit) {
  if (fit.max_width < 0 || fit.max_height < 0 || (fit.max_width == 0 && fit.max_height == 0)) {
    return fail(
        fmt::format("image box {}x{} dots is not a drawable area", fit.max_width, fit.max_height));
  }
  if (fit.threshold < 0 || fit.threshold > 256) {
    return fail(fmt::format("threshold {} is outside 0..256", fit.threshold));
  }
  const bool png = is_png(encoded);
  if (!png && !is_jpeg(encoded)) {
    return fail(fmt::format("image of {} bytes is neither PNG nor JPEG", encoded.size()));
  }
  cv::Mat decoded;
  try {
    const cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8U,
                         const_cast<std::uint8_t*>(encoded.data()));
    // PNG unchanged, to keep its alpha; JPEG has none, and grey decoding applies its EXIF
    // orientation.
    decoded = cv::imdecode(buffer, png ? cv::IMREAD_UNCHANGED : cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& e) {
    return fail(fmt::format("{} image of {} bytes cannot be decoded: {}", png ? "PNG" : "JPEG",
                            encoded.size(), e.what()));
  }
  if (decoded.empty()) {
    return fail(fmt::format("{} image of {} bytes is corrupt or truncated", png ? "PNG" : "JPEG",
                            encoded.size()));
  }
  const cv::Mat grey = to_grey_on_white(decoded);
  if (grey.empty()) {
    return fail(fmt::format("{} image with {} channels of depth {} is not supported",
                            png ? "PNG" : "JPEG", decoded.channels(), decoded.depth()));
  }

  // The largest size inside the box with the image's aspect ratio, at least one dot each way.
  const double sx = fit.max_width > 0 ? static_cast<double>(fit.max_width) / grey.cols : 1e18;
  const double sy = fit.max_height > 0 ? static_cast<double>(fit.max_height) / grey.rows : 1e18;
  const double scale = std::min(sx, sy);
  const int width = std::clamp(static_cast<int>(std::floor(grey.cols * scale + 1e-6)), 1,
                               fit.max_width > 0 ? fit.max_width : 1 << 20);
  const int height = std::clamp(static_cast<int>(std::floor(grey.rows * scale + 1e-6)), 1,
                                fit.max_height > 0 ? fit.max_height : 1 << 20);
  cv::Mat sized;
  if (width == grey.cols && height == grey.rows) {
    sized = grey;
  } else {
    try {
      // Area averaging when shrinking (no aliasing, each dot the mean of the pixels it covers);
      // bilinear when enlarging, where area interpolation would only repeat pixels as blocks.
      cv::resize(grey, sized, cv::Size(width, height), 0, 0,
                 scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    } catch (const cv::Exception& e) {
      return fail(fmt::format("image cannot be scaled to {}x{}: {}", width, height, e.what()));
    }
  }

  ImageRaster r;
  r.ok = true;
  r.source_width = grey.cols;
  r.source_height = grey.rows;
  r.bitmap = fit.reduction == Reduction::floyd_steinberg ? floyd_steinberg(sized)
                                                         : threshold(sized, fit.threshold);
  return r;
}

ImageRaster render_image_file(const std::filesystem::path& path, const ImageFit& fit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(fmt::format("cannot open image {}: {}", path.string(), std::strerror(errno)));
  }
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  if (in.bad()) {
    return fail(fmt::format("cannot read image {}", path.string()));
  }
  ImageRaster r = render_image(bytes, fit);
  if (!r) {
    r.error = path.string() + ": " + r.error;
  }
  return r;
}

}  // namespace packbench::labels

// Logos and pictures (PNG or JPEG) reduced to the 1-bit raster of a thermal printer.
//
// The image is decoded with OpenCV, made grey (transparent pixels count as the white of the
// paper), scaled to fit a box in dots keeping its aspect ratio, and reduced to black and white,
// by a threshold for line art and logos, or by Floyd–Steinberg error diffusion for photographs
// and gradients. The library reads a file only when handed its path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

enum class Reduction {
  // A dot is black where the grey level is below `threshold`: crisp edges for logos and text.
  threshold,
  // Floyd–Steinberg error diffusion (1976; weights 7/16, 3/16, 5/16, 1/16), serpentine: the
  // share of black dots follows the grey level, for photographs and gradients.
  floyd_steinberg,
};

struct ImageFit {
  // The box the image is scaled to fit, in dots; the aspect ratio is kept, so one side may come
  // out shorter. 0 for one side means "as the other side and the aspect ratio allow".
  int max_width = 0;
  int max_height = 0;
  Reduction reduction = Reduction::threshold;
  // Grey level (0 black .. 255 white) under which a dot is black, for Reduction::threshold.
  int threshold = 128;
};

struct ImageRaster {
  bool ok = false;
  std::string error;  // why not ok, written for the person reading the log

  Bitmap bitmap;
  int source_width = 0;  // the decoded image's size, in pixels
  int source_height = 0;

  explicit operator bool() const { return ok; }
};

// From the bytes of a PNG or JPEG file.
ImageRaster render_image(std::span<const std::uint8_t> encoded, const ImageFit& fit);
// From a file the caller names.
ImageRaster render_image_file(const std::filesystem::path& path, const ImageFit& fit);

}  // namespace packbench::labels

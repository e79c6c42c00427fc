// PNG of a Bitmap: the preview a person looks at (a file printer's output, the admin UI, a
// golden file a reviewer opens). 1-bit greyscale at the printer's dots, with the dpi recorded,
// so it shows exactly the dots the printer gets, at their real size.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

// The PNG file bytes (W3C PNG 2nd ed.: IHDR colour type 0, bit depth 1; pHYs from `dpi` when
// it is above 0). nullopt only when libpng fails (out of memory) or the bitmap is empty.
std::optional<std::string> png_encode(const Bitmap& bitmap, int dpi = 0);

// Writes png_encode's bytes to `path`, which the caller chose. Returns why it failed, or
// nullopt when the file was written.
std::optional<std::string> png_write_file(const Bitmap& bitmap, const std::string& path,
                                          int dpi = 0);

struct PngDecoded {
  Bitmap bitmap;
  int dpi = 0;        // from pHYs, 0 when the file has none in metres
  std::string error;  // empty when decoded

  bool ok() const { return error.empty(); }
};

// Any PNG back to a Bitmap: composited on white, converted to grey, and a dot is black when
// its grey is below half. For tests and for previews handed back to us.
PngDecoded png_decode(std::string_view png);

}  // namespace packbench::labels

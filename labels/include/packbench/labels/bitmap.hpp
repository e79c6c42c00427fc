// The one raster everything in labels/ draws into and every encoder reads: 1 bit per dot, at the
// printer's resolution. 1 is a black (printed) dot, as ZPL ^GF and ESC/POS GS v 0 both want.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace packbench::labels {

class Bitmap {
 public:
  Bitmap() = default;
  Bitmap(int width, int height)
      : width_(width),
        height_(height),
        stride_((width + 7) / 8),
        bits_(static_cast<std::size_t>(stride_) * static_cast<std::size_t>(height), 0) {}

  int width() const { return width_; }
  int height() const { return height_; }
  // Bytes per row: ceil(width / 8). The bits past `width` in the last byte stay 0.
  int stride() const { return stride_; }
  const std::vector<std::uint8_t>& bytes() const { return bits_; }
  std::vector<std::uint8_t>& bytes() { return bits_; }
  const std::uint8_t* row(int y) const {
    return bits_.data() + static_cast<std::size_t>(y) * stride_;
  }
  std::uint8_t* row(int y) { return bits_.data() + static_cast<std::size_t>(y) * stride_; }

  bool get(int x, int y) const { return (row(y)[x >> 3] >> (7 - (x & 7))) & 1; }
  void set(int x, int y, bool black = true) {
    std::uint8_t& b = row(y)[x >> 3];
    const std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (x & 7));
    b = black ? static_cast<std::uint8_t>(b | mask) : static_cast<std::uint8_t>(b & ~mask);
  }
  // Sets every dot of the rectangle, clipped to the bitmap.
  void fill(int x, int y, int w, int h, bool black = true) {
    for (int yy = std::max(0, y); yy < std::min(height_, y + h); ++yy) {
      for (int xx = std::max(0, x); xx < std::min(width_, x + w); ++xx) {
        set(xx, yy, black);
      }
    }
  }
  // Copies the black dots of `src` with its top-left corner at (x, y), clipped.
  void draw(const Bitmap& src, int x, int y) {
    for (int sy = 0; sy < src.height(); ++sy) {
      const int ty = y + sy;
      if (ty < 0 || ty >= height_) {
        continue;
      }
      for (int sx = 0; sx < src.width(); ++sx) {
        const int tx = x + sx;
        if (tx >= 0 && tx < width_ && src.get(sx, sy)) {
          set(tx, ty);
        }
      }
    }
  }
  friend bool operator==(const Bitmap&, const Bitmap&) = default;

 private:
  int width_ = 0;
  int height_ = 0;
  int stride_ = 0;
  std::vector<std::uint8_t> bits_;
};

}  // namespace packbench::labels

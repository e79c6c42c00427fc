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
  // Copies the black dots of `src` with its top-left corner at (x, y), clipped. Whole bytes
  // at a time: each source byte is shifted into the one or two target bytes it straddles.
  void draw(const Bitmap& src, int x, int y) {
    const int x_begin = std::max(0, -x);                  // first source column drawn
    const int x_end = std::min(src.width(), width_ - x);  // one past the last
    if (x_begin >= x_end) {
      return;
    }
    for (int sy = std::max(0, -y); sy < std::min(src.height(), height_ - y); ++sy) {
      const std::uint8_t* in = src.row(sy);
      std::uint8_t* out = row(y + sy);
      for (int sb = x_begin >> 3; sb <= (x_end - 1) >> 3; ++sb) {
        std::uint8_t bits = in[sb];
        if (bits == 0) {
          continue;
        }
        // Keep only the columns inside [x_begin, x_end) of this byte.
        const int first = sb * 8;
        if (first < x_begin) {
          bits &= static_cast<std::uint8_t>(0xFF >> (x_begin - first));
        }
        if (first + 8 > x_end) {
          bits &= static_cast<std::uint8_t>(0xFF << (first + 8 - x_end));
        }
        const int tx = x + first;  // target column of the byte's first bit (may be < 0)
        const int shift = ((tx % 8) + 8) % 8;
        const int tb = (tx - shift) / 8;
        if (tb >= 0 && tb < stride_) {
          out[tb] |= static_cast<std::uint8_t>(bits >> shift);
        }
        if (shift != 0 && tb + 1 >= 0 && tb + 1 < stride_) {
          out[tb + 1] |= static_cast<std::uint8_t>(bits << (8 - shift));
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

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
  // Sets every dot of the rectangle, clipped to the bitmap: a row's first and last bytes
  // through masks, the bytes between whole.
  void fill(int x, int y, int w, int h, bool black = true) {
    const int x0 = std::max(0, x);
    const int x1 = std::min(width_, x + w);
    if (x0 >= x1) {
      return;
    }
    const int b0 = x0 >> 3;
    const int b1 = (x1 - 1) >> 3;
    const auto head = static_cast<std::uint8_t>(0xFF >> (x0 & 7));              // x0 on
    const auto tail = static_cast<std::uint8_t>(0xFF << (7 - ((x1 - 1) & 7)));  // to x1 - 1
    const std::uint8_t whole = black ? 0xFF : 0x00;
    for (int yy = std::max(0, y); yy < std::min(height_, y + h); ++yy) {
      std::uint8_t* r = row(yy);
      const std::uint8_t mask = b0 == b1 ? static_cast<std::uint8_t>(head & tail) : head;
      r[b0] = black ? static_cast<std::uint8_t>(r[b0] | mask)
                    : static_cast<std::uint8_t>(r[b0] & ~mask);
      if (b1 == b0) {
        continue;
      }
      std::fill(r + b0 + 1, r + b1, whole);
      r[b1] = black ? static_cast<std::uint8_t>(r[b1] | tail)
                    : static_cast<std::uint8_t>(r[b1] & ~tail);
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
    const int y_begin = std::max(0, -y);
    const int y_end = std::min(src.height(), height_ - y);
    if (x_begin == 0 && x_end == src.width()) {
      // Every column lands inside: whole rows of bytes, without a test per byte.
      const int n = src.stride();
      const int shift = x & 7;
      const int tb = x >> 3;
      // The bits past the source's width are 0, so spilling them past our last byte is skipped.
      const int spill = std::min(n, stride_ - tb - 1);
      for (int sy = y_begin; sy < y_end; ++sy) {
        const std::uint8_t* in = src.row(sy);
        std::uint8_t* out = row(y + sy) + tb;
        if (shift == 0) {
          for (int k = 0; k < n; ++k) {
            out[k] |= in[k];
          }
          continue;
        }
        for (int k = 0; k < n; ++k) {
          out[k] |= static_cast<std::uint8_t>(in[k] >> shift);
        }
        for (int k = 0; k < spill; ++k) {
          out[k + 1] |= static_cast<std::uint8_t>(in[k] << (8 - shift));
        }
      }
      return;
    }
    for (int sy = y_begin; sy < y_end; ++sy) {
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

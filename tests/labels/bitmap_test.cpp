// Bitmap::draw copies whole bytes with shifts; it must put every dot exactly where drawing dot
// by dot would, at any offset, clipped on every side.
#include "packbench/labels/bitmap.hpp"

#include <gtest/gtest.h>

#include <random>

namespace packbench::labels {
namespace {

Bitmap random_bitmap(std::mt19937& rng, int w, int h) {
  Bitmap b(w, h);
  std::bernoulli_distribution black(0.4);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      b.set(x, y, black(rng));
    }
  }
  return b;
}

Bitmap draw_dot_by_dot(Bitmap target, const Bitmap& src, int x, int y) {
  for (int sy = 0; sy < src.height(); ++sy) {
    for (int sx = 0; sx < src.width(); ++sx) {
      const int tx = x + sx, ty = y + sy;
      if (tx >= 0 && ty >= 0 && tx < target.width() && ty < target.height() && src.get(sx, sy)) {
        target.set(tx, ty);
      }
    }
  }
  return target;
}

TEST(BitmapDraw, EqualsDrawingDotByDotAtEveryOffset) {
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> size(1, 40);
  for (int round = 0; round < 3000; ++round) {
    const Bitmap target = random_bitmap(rng, size(rng), size(rng));
    const Bitmap src = random_bitmap(rng, size(rng), size(rng));
    std::uniform_int_distribution<int> ox(-src.width() - 2, target.width() + 2);
    std::uniform_int_distribution<int> oy(-src.height() - 2, target.height() + 2);
    const int x = ox(rng), y = oy(rng);
    Bitmap fast = target;
    fast.draw(src, x, y);
    ASSERT_EQ(fast, draw_dot_by_dot(target, src, x, y))
        << "target " << target.width() << "x" << target.height() << ", src " << src.width() << "x"
        << src.height() << " at " << x << "," << y;
  }
}

TEST(BitmapDraw, LeavesThePaddingBitsWhite) {
  Bitmap target(13, 2);  // 3 bits of padding in each row's second byte
  Bitmap src(16, 2);
  src.fill(0, 0, 16, 2);
  target.draw(src, 0, 0);
  EXPECT_EQ(target.row(0)[1], 0xF8);
  EXPECT_EQ(target.row(1)[1], 0xF8);
}

}  // namespace
}  // namespace packbench::labels

// The benchmark's peer encodes the very dots we encode: zpl-image's ^GF output, read back by our
// own decoder, is our bitmap bit for bit (and, trimmed, its inked rectangle). Without this the
// side-by-side in tools/dev bench labels could compare two different pictures.
//
// Needs Node.js and the pinned npm package (tools/dev setup and tools/dev test install both).
// Without them the test is skipped on a developer's machine and fails under CI.
#include "zpl_image_peer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "packbench/labels/codes.hpp"
#include "packbench/labels/text.hpp"

namespace pb = packbench::bench;
namespace pl = packbench::labels;
namespace pt = packbench::testing;

namespace {

// 203 dots wide (not a multiple of 8: the last byte of each row is padded), white margins on
// three sides, ink in the last column on the fourth; Japanese text and a QR code.
pl::Bitmap sample() {
  pl::Bitmap bm(203, 250);
  const auto text = pl::render_text("ありがとうございました Thank you", pl::TextBox{.width = 170},
                                    pl::TextStyle{.size_pt = 8}, 203);
  EXPECT_TRUE(text) << text.error;
  bm.draw(text.bitmap, 9, 6);
  const auto qr = pl::render_qr("https://shop.example.jp/d/THANKS-7Q4K",
                                pl::QrSpec{.dpi = 203, .max_width = 170, .max_height = 170});
  EXPECT_TRUE(qr) << qr.error;
  bm.draw(qr.bitmap, 15, 70);
  bm.fill(196, 60, 7, 120);
  return bm;
}

}  // namespace

// tools/dev installs Node.js and the package before any test runs, so a missing peer is a broken
// set-up and fails the test rather than skipping it.
#define REQUIRE_PEER(peer)                     \
  const auto peer = pb::find_zpl_image_peer(); \
  if (!peer.ok()) {                            \
    FAIL() << peer.error;                      \
  }

TEST(ZplImagePeer, ItsZ64DecodesWithOurDecoderToOurBitmap) {
  REQUIRE_PEER(peer);
  pt::TempDir dir;
  const pl::Bitmap bm = sample();
  pb::ZplImageProcess process(peer, bm, dir.path(), 0);
  ASSERT_TRUE(process.ok()) << process.error();
  const auto& run = process.outputs();
  EXPECT_EQ(run.version, pb::kZplImageVersion);

  // notrim: the whole bitmap.
  EXPECT_EQ(run.whole.width, bm.width());
  EXPECT_EQ(run.whole.height, bm.height());
  const auto whole = pb::decode_lone_gf(run.whole.gf);
  ASSERT_TRUE(whole.ok()) << whole.error;
  EXPECT_TRUE(pb::same_dots(whole.bitmap, bm));

  // Its default trim keeps the rectangle that holds every black dot.
  const auto box = pb::ink_bounds(bm);
  ASSERT_EQ(box.x + box.width, bm.width());
  ASSERT_GT(box.x, 0);
  ASSERT_GT(box.y, 0);
  ASSERT_LT(box.y + box.height, bm.height());
  EXPECT_EQ(run.trimmed.width, box.width);
  EXPECT_EQ(run.trimmed.height, box.height);
  const auto trimmed = pb::decode_lone_gf(run.trimmed.gf);
  ASSERT_TRUE(trimmed.ok()) << trimmed.error;
  EXPECT_TRUE(pb::same_dots(trimmed.bitmap, pb::crop(bm, box)));

  // And ours, banded and trimmed its own way, draws the same bitmap.
  const pl::LabelSize size{.dpi = 203, .width_in = 1.0, .height_in = 250.0 / 203};
  const auto ours = pl::zpl_decode_graphics(pl::zpl_graphic_format(bm, size), 203, 250);
  ASSERT_TRUE(ours.ok()) << ours.error;
  EXPECT_EQ(ours.bitmap, bm);
}

// A whole 4 x 6 in label at 203 dpi is 124,236 bytes of rows: over the 99,999 a ^GF may hold.
// zpl-image makes one ^GF of it anyway, which our decoder refuses (a printer would cut the
// graphic); its data still holds our dots, and banded it decodes like ours.
TEST(ZplImagePeer, OverTheGfLimitItsOneFieldHoldsOurDotsAndItsBandsDecode) {
  REQUIRE_PEER(peer);
  pt::TempDir dir;
  const pl::Bitmap part = sample();
  pl::Bitmap bm(812, 1218);
  for (int y = 0; y + part.height() <= bm.height(); y += part.height() + 30) {
    for (int x = 0; x + part.width() <= bm.width(); x += part.width() + 1) {
      bm.draw(part, x, y);
    }
  }
  bm.fill(0, 1217, 812, 1);
  ASSERT_GT(static_cast<long>(bm.bytes().size()), pl::kGfMaxBytes);
  const int band_rows = pl::zpl_band_rows(bm.stride());
  pb::ZplImageProcess process(peer, bm, dir.path(), band_rows);
  ASSERT_TRUE(process.ok()) << process.error();
  const auto& run = process.outputs();

  EXPECT_FALSE(pb::decode_lone_gf(run.whole.gf).ok());
  EXPECT_EQ(pb::check_oversized_z64(run.whole.gf, bm), "");
  pl::Bitmap other = bm;
  other.set(5, 1000, !other.get(5, 1000));
  EXPECT_NE(pb::check_oversized_z64(run.whole.gf, other), "");

  EXPECT_EQ(run.bands, (bm.height() + band_rows - 1) / band_rows);
  const pl::LabelSize size{.dpi = 203};
  const auto banded = pl::zpl_decode_graphics(pl::zpl_format(size, run.banded.gf), 812, 1218);
  ASSERT_TRUE(banded.ok()) << banded.error;
  EXPECT_EQ(banded.graphic_fields, run.bands);
  EXPECT_EQ(banded.bitmap, bm);

  // Asked again, it runs each encoding once more and says how long that took.
  for (const char* encoding : {"whole", "trimmed", "banded", "deflate"}) {
    const auto t = process.time(encoding);
    ASSERT_TRUE(t.has_value()) << encoding << ": " << process.error();
    EXPECT_GT(t->wall_ms, 0) << encoding;
  }
  EXPECT_FALSE(process.time("no-such-encoding").has_value());
  EXPECT_NE(process.error().find("unknown encoding"), std::string::npos) << process.error();
}

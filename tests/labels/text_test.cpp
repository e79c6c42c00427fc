#include "packbench/labels/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace packbench::labels {
namespace {

struct Ink {
  int count = 0;
  int min_x = 1 << 30;
  int min_y = 1 << 30;
  int max_x = -1;
  int max_y = -1;
};

Ink ink_of(const Bitmap& b) {
  Ink ink;
  for (int y = 0; y < b.height(); ++y) {
    for (int x = 0; x < b.width(); ++x) {
      if (b.get(x, y)) {
        ++ink.count;
        ink.min_x = std::min(ink.min_x, x);
        ink.min_y = std::min(ink.min_y, y);
        ink.max_x = std::max(ink.max_x, x);
        ink.max_y = std::max(ink.max_y, y);
      }
    }
  }
  return ink;
}

// Bits past the width in each row's last byte must stay 0: the encoders send whole bytes.
bool padding_is_white(const Bitmap& b) {
  const int spare = b.stride() * 8 - b.width();
  if (spare == 0) {
    return true;
  }
  const std::uint8_t mask = static_cast<std::uint8_t>((1u << spare) - 1);
  for (int y = 0; y < b.height(); ++y) {
    if (b.row(y)[b.stride() - 1] & mask) {
      return false;
    }
  }
  return true;
}

const std::string kThanks =
    "「山田 花子 様」\nこの度はご注文いただき、誠にありがとうございます。"
    "またのご利用を心よりお待ちしております。（株）パックベンチ";

TEST(TextRender, JapaneseHasEveryGlyphAndStaysInItsBox) {
  const TextBox box{.width = 600, .max_height = 400};
  const TextRaster r = render_text(kThanks, box, TextStyle{.size_pt = 10}, 203);
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(r.missing_glyphs.empty());
  EXPECT_FALSE(r.ellipsized);
  EXPECT_EQ(r.bitmap.width(), 600);
  EXPECT_EQ(r.bitmap.height(), r.height);
  EXPECT_LE(r.height, 400);
  EXPECT_GE(r.lines, 3);  // the explicit break, then wrapping of the long sentence
  const Ink ink = ink_of(r.bitmap);
  // Japanese text at 10 pt, 203 dpi: a block of real strokes, neither empty nor a black slab.
  EXPECT_GT(ink.count, 3000);
  EXPECT_LT(ink.count, 600 * r.height / 3);
  EXPECT_GE(ink.min_x, 0);
  EXPECT_LT(ink.max_x, 600);
  EXPECT_LT(ink.max_y, r.height);
  EXPECT_TRUE(padding_is_white(r.bitmap));
}

TEST(TextRender, KnownCharactersHaveGlyphs) {
  // Hiragana, katakana, kanji, full-width punctuation and forms, Latin and a yen sign.
  EXPECT_TRUE(
      missing_glyphs("ありがとうございます カタカナ 山田花子様 「」『』、。！？（）ＡＢＣ１２３ "
                     "¥1,980 Thank you")
          .empty());
}

TEST(TextGlyphCheck, EmojiAndThaiAreReportedMissing) {
  // U+1F381 WRAPPED PRESENT and Thai KHO KHAI (U+0E02): no installed font has either.
  const std::string text = "ありがとう\U0001F381 ขอบคุณ";
  const auto missing = missing_glyphs(text);
  ASSERT_FALSE(missing.empty());
  EXPECT_EQ(missing.front(), U'\U0001F381');
  EXPECT_NE(std::find(missing.begin(), missing.end(), U'\u0E02'), missing.end());
  EXPECT_EQ(std::find(missing.begin(), missing.end(), U'あ'), missing.end());

  const TextRaster r = render_text(text, TextBox{.width = 400}, TextStyle{}, 203);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.missing_glyphs, missing);
  EXPECT_NE(r.error.find("U+1F381"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("U+0E02"), std::string::npos) << r.error;
  EXPECT_EQ(r.bitmap.height(), 0);  // nothing drawn
}

TEST(TextGlyphCheck, AFamilyNotInstalledHasNoGlyphs) {
  const TextRaster r =
      render_text("abc", TextBox{.width = 200}, TextStyle{.font_family = "No Such Font"}, 203);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.missing_glyphs, (std::vector<char32_t>{U'a', U'b', U'c'}));
}

TEST(TextGlyphCheck, AFamilyListAddsCoverage) {
  // Noto Sans CJK lacks the Hebrew alphabet; DejaVu Sans has it.
  const std::string text = "シャローム שלום";
  EXPECT_FALSE(missing_glyphs(text).empty());
  EXPECT_TRUE(missing_glyphs(text, "Noto Sans CJK JP, DejaVu Sans").empty());
  const TextRaster r = render_text(text, TextBox{.width = 400},
                                   TextStyle{.font_family = "Noto Sans CJK JP, DejaVu Sans"}, 203);
  EXPECT_TRUE(r) << r.error;
}

TEST(TextGlyphCheck, ControlsAndInvisibleFormattingNeedNoGlyph) {
  EXPECT_TRUE(missing_glyphs("山田\n花子\t様\u200B\uFE0F").empty());
  EXPECT_EQ(missing_glyphs("ab\xFF"), std::vector<char32_t>{0xFFFD});
  EXPECT_FALSE(render_text("ab\xFF", TextBox{.width = 100}, TextStyle{}, 203));
}

TEST(TextLayout, ANarrowerBoxWrapsToMoreLines) {
  const std::string text = "ありがとうございます。またのご利用をお待ちしております。";
  const TextRaster wide = render_text(text, TextBox{.width = 800}, TextStyle{}, 203);
  const TextRaster narrow = render_text(text, TextBox{.width = 200}, TextStyle{}, 203);
  ASSERT_TRUE(wide) << wide.error;
  ASSERT_TRUE(narrow) << narrow.error;
  EXPECT_EQ(wide.lines, 1);
  EXPECT_GE(narrow.lines, 3);
  EXPECT_GT(narrow.height, wide.height);
  // Japanese has no spaces: the narrow box is filled by breaking between characters.
  EXPECT_GT(ink_of(narrow.bitmap).max_x, 200 * 3 / 4);
}

TEST(TextLayout, EllipsisKeepsWithinMaxLines) {
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "ありがとうございます。";
  }
  const TextRaster r = render_text(text, TextBox{.width = 300, .max_lines = 2}, TextStyle{}, 203);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.lines, 2);
  EXPECT_TRUE(r.ellipsized);
  const TextRaster one = render_text(text, TextBox{.width = 300, .max_lines = 1}, TextStyle{}, 203);
  ASSERT_TRUE(one) << one.error;
  EXPECT_EQ(one.lines, 1);
  EXPECT_LT(one.height, r.height);

  // Explicit line breaks count too.
  const TextRaster breaks =
      render_text("一\n二\n三\n四\n五", TextBox{.width = 300, .max_lines = 3}, TextStyle{}, 203);
  ASSERT_TRUE(breaks) << breaks.error;
  EXPECT_EQ(breaks.lines, 3);
  EXPECT_TRUE(breaks.ellipsized);
}

TEST(TextLayout, HeightLimitAndTheTighterLimitWins) {
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "ありがとうございます。";
  }
  const TextRaster line = render_text("あ", TextBox{.width = 300}, TextStyle{}, 203);
  ASSERT_TRUE(line);
  const int line_height = line.height;
  const TextRaster r = render_text(
      text, TextBox{.width = 300, .max_height = line_height * 3 + line_height / 2, .max_lines = 5},
      TextStyle{}, 203);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.lines, 3);
  EXPECT_LE(r.height, line_height * 3 + line_height / 2);
  EXPECT_TRUE(r.ellipsized);
}

TEST(TextLayout, WithoutEllipsisOverflowIsAnError) {
  const TextRaster r =
      render_text("ありがとうございます。ありがとうございます。",
                  TextBox{.width = 100, .max_lines = 1, .ellipsize = false}, TextStyle{}, 203);
  EXPECT_FALSE(r);
  EXPECT_NE(r.error.find("box allows 1 lines"), std::string::npos) << r.error;
}

TEST(TextLayout, AlignmentPlacesTheInk) {
  const TextBox box{.width = 600};
  const TextRaster left = render_text("様", box, TextStyle{.align = TextAlign::left}, 203);
  const TextRaster center = render_text("様", box, TextStyle{.align = TextAlign::center}, 203);
  const TextRaster right = render_text("様", box, TextStyle{.align = TextAlign::right}, 203);
  ASSERT_TRUE(left && center && right);
  EXPECT_LT(ink_of(left.bitmap).max_x, 100);
  EXPECT_NEAR((ink_of(center.bitmap).min_x + ink_of(center.bitmap).max_x) / 2, 300, 10);
  EXPECT_GT(ink_of(right.bitmap).min_x, 500);
}

TEST(TextLayout, SizeScalesWithDpi) {
  const TextStyle style{.size_pt = 12};
  const TextRaster at203 = render_text("山田 花子 様", TextBox{.width = 2000}, style, 203);
  const TextRaster at300 = render_text("山田 花子 様", TextBox{.width = 2000}, style, 300);
  const TextRaster at600 = render_text("山田 花子 様", TextBox{.width = 2000}, style, 600);
  ASSERT_TRUE(at203 && at300 && at600);
  const Ink a = ink_of(at203.bitmap);
  const Ink b = ink_of(at600.bitmap);
  // 12 pt is 1/6 in: about 34 dots at 203 dpi, 100 at 600; the ink's width scales the same way.
  const double ratio = static_cast<double>(b.max_x - b.min_x) / (a.max_x - a.min_x);
  EXPECT_NEAR(ratio, 600.0 / 203.0, 0.15);
  EXPECT_NEAR(static_cast<double>(at600.height) / at203.height, 600.0 / 203.0, 0.2);
  EXPECT_GT(at300.height, at203.height);
  EXPECT_LT(at300.height, at600.height);
  // The em box of a CJK glyph is the font size: 様 is nearly a full em high.
  EXPECT_NEAR(a.max_y - a.min_y + 1, 12 * 203 / 72.0, 5);
}

TEST(TextLayout, BoldIsDarker) {
  const TextRaster regular = render_text("山田 花子 様", TextBox{.width = 600}, TextStyle{}, 203);
  const TextRaster bold = render_text("山田 花子 様", TextBox{.width = 600},
                                      TextStyle{.weight = FontWeight::bold}, 203);
  ASSERT_TRUE(regular && bold);
  EXPECT_GT(ink_of(bold.bitmap).count, ink_of(regular.bitmap).count * 5 / 4);
}

TEST(TextLayout, RejectsAnEmptyBox) {
  EXPECT_FALSE(render_text("a", TextBox{.width = 0}, TextStyle{}, 203));
  EXPECT_FALSE(render_text("a", TextBox{.width = 100}, TextStyle{.size_pt = 0}, 203));
  EXPECT_FALSE(render_text("a", TextBox{.width = 100}, TextStyle{}, 0));
}

}  // namespace
}  // namespace packbench::labels

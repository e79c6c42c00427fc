#include "packbench/labels/text.hpp"

#include <cairo.h>
#include <fmt/format.h>
#include <fontconfig/fontconfig.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

namespace packbench::labels {
namespace {

// A dot is black when the glyphs cover at least half of it (alpha 128 of 255 in the A8 mask).
// Half coverage keeps the printed black area equal to the glyph's area on average, so strokes
// neither fatten nor thin; slight hinting (below) snaps horizontal stems to whole dots, which
// is what keeps the thin strokes of small kanji from straddling two rows at 50 % and vanishing.
constexpr std::uint8_t kInkThreshold = 128;

struct GObjectDeleter {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter>;

struct FontDescriptionDeleter {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
struct CairoSurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct FontOptionsDeleter {
  void operator()(cairo_font_options_t* o) const { cairo_font_options_destroy(o); }
};
struct LayoutIterDeleter {
  void operator()(PangoLayoutIter* i) const { pango_layout_iter_free(i); }
};

std::vector<std::string> split_families(const std::string& list) {
  std::vector<std::string> families;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) {
      end = list.size();
    }
    std::string family = list.substr(start, end - start);
    const auto first = family.find_first_not_of(" \t");
    const auto last = family.find_last_not_of(" \t");
    if (first != std::string::npos) {
      families.push_back(family.substr(first, last - first + 1));
    }
    start = end + 1;
  }
  return families;
}

bool same_family(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return g_ascii_tolower(x) == g_ascii_tolower(y); });
}

// The characters a family list can draw: the union of the charsets of the font fontconfig
// resolves for each family at the weight. A family whose best match is another family (what
// fontconfig does for a name it does not know) contributes nothing. Resolved once per
// (families, weight) for the life of the process; fontconfig's own lookups are thread-safe.
const FcCharSet* coverage(const std::string& family_list, FontWeight weight) {
  struct CharSetFree {
    void operator()(FcCharSet* c) const { FcCharSetDestroy(c); }
  };
  static std::mutex mutex;
  static std::map<std::pair<std::string, FontWeight>, std::unique_ptr<FcCharSet, CharSetFree>>
      cache;
  std::lock_guard lock(mutex);
  const auto key = std::make_pair(family_list, weight);
  if (auto it = cache.find(key); it != cache.end()) {
    return it->second.get();
  }
  FcCharSet* all = FcCharSetCreate();
  for (const std::string& family : split_families(family_list)) {
    FcPattern* pattern = FcPatternCreate();
    FcPatternAddString(pattern, FC_FAMILY, reinterpret_cast<const FcChar8*>(family.c_str()));
    FcPatternAddInteger(pattern, FC_WEIGHT,
                        weight == FontWeight::bold ? FC_WEIGHT_BOLD : FC_WEIGHT_REGULAR);
    FcConfigSubstitute(nullptr, pattern, FcMatchPattern);
    FcDefaultSubstitute(pattern);
    FcResult result = FcResultNoMatch;
    FcPattern* match = FcFontMatch(nullptr, pattern, &result);
    FcPatternDestroy(pattern);
    if (match == nullptr) {
      continue;
    }
    bool installed = false;
    FcChar8* name = nullptr;
    // A font lists its family under several names (English first, then localised ones).
    for (int i = 0; FcPatternGetString(match, FC_FAMILY, i, &name) == FcResultMatch; ++i) {
      if (same_family(reinterpret_cast<const char*>(name), family)) {
        installed = true;
        break;
      }
    }
    FcCharSet* charset = nullptr;
    if (installed && FcPatternGetCharSet(match, FC_CHARSET, 0, &charset) == FcResultMatch) {
      FcCharSetMerge(all, charset, nullptr);
    }
    FcPatternDestroy(match);
  }
  cache.emplace(key, std::unique_ptr<FcCharSet, CharSetFree>(all));
  return all;
}

// Characters that take no glyph: controls (line breaks are handled by the layout), format
// characters such as zero-width spaces and joiners, and variation selectors, which Pango
// draws as nothing (Unicode's Default_Ignorable_Code_Point, the parts of it a label may meet).
bool needs_glyph(gunichar c) {
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
    return false;
  }
  if ((c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) ||
      (c >= 0x180B && c <= 0x180F) || c == 0x034F) {
    return false;
  }
  const GUnicodeType type = g_unichar_type(c);
  return type != G_UNICODE_FORMAT && type != G_UNICODE_LINE_SEPARATOR &&
         type != G_UNICODE_PARAGRAPH_SEPARATOR;
}

void add_unique(std::vector<char32_t>& list, char32_t c) {
  if (std::find(list.begin(), list.end(), c) == list.end()) {
    list.push_back(c);
  }
}

TextRaster fail(std::string message, std::vector<char32_t> missing = {}) {
  TextRaster r;
  r.error = std::move(message);
  r.missing_glyphs = std::move(missing);
  return r;
}

}  // namespace

std::string format_code_points(const std::vector<char32_t>& code_points) {
  std::string out;
  for (char32_t c : code_points) {
    if (!out.empty()) {
      out += ' ';
    }
    out += fmt::format("U+{:04X}", static_cast<std::uint32_t>(c));
  }
  return out;
}

std::vector<char32_t> missing_glyphs(std::string_view text, const std::string& font_family,
                                     FontWeight weight) {
  std::vector<char32_t> missing;
  const FcCharSet* charset = coverage(font_family, weight);
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    const gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      add_unique(missing, 0xFFFD);
      ++p;
      continue;
    }
    if (needs_glyph(c) && !FcCharSetHasChar(charset, c)) {
      add_unique(missing, c);
    }
    p = g_utf8_next_char(p);
  }
  return missing;
}

TextRaster render_text(std::string_view text, const TextBox& box, const TextStyle& style, int dpi) {
  if (dpi <= 0 || box.width <= 0 || box.max_height < 0 || box.max_lines < 0) {
    return fail(fmt::format("text box {}x{} dots ({} lines) at {} dpi is not a drawable area",
                            box.width, box.max_height, box.max_lines, dpi));
  }
  if (!(style.size_pt > 0.0) || style.size_pt > 1000.0) {
    return fail(fmt::format("font size {} pt is out of range", style.size_pt));
  }
  const char* invalid = nullptr;
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), &invalid)) {
    return fail(fmt::format("text is not valid UTF-8 (byte {})", invalid - text.data()));
  }
  const std::vector<std::string> families = split_families(style.font_family);
  if (families.empty()) {
    return fail("no font family given");
  }

  // The glyph check comes first: nothing is drawn when any character would come out as tofu.
  if (auto missing = missing_glyphs(text, style.font_family, style.weight); !missing.empty()) {
    std::string message =
        fmt::format("no glyph in \"{}\" for {}", style.font_family, format_code_points(missing));
    return fail(std::move(message), std::move(missing));
  }

  // The default font map is per thread, so labels can be rasterised on a pool.
  PangoFontMap* font_map = pango_cairo_font_map_get_default();
  GObjectPtr<PangoContext> context(pango_font_map_create_context(font_map));
  std::unique_ptr<cairo_font_options_t, FontOptionsDeleter> options(cairo_font_options_create());
  cairo_font_options_set_antialias(options.get(), CAIRO_ANTIALIAS_GRAY);
  // Slight hinting snaps vertical metrics and horizontal stems to whole dots without distorting
  // the glyph shapes; whole-dot advances keep the layout the same from run to run.
  cairo_font_options_set_hint_style(options.get(), CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_hint_metrics(options.get(), CAIRO_HINT_METRICS_ON);
  pango_cairo_context_set_font_options(context.get(), options.get());
  pango_context_set_language(context.get(), pango_language_from_string("ja"));

  std::unique_ptr<PangoFontDescription, FontDescriptionDeleter> font(pango_font_description_new());
  pango_font_description_set_family(font.get(), style.font_family.c_str());
  pango_font_description_set_weight(
      font.get(), style.weight == FontWeight::bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  // Points to dots: 1 pt is 1/72 in, so a size in pt covers size * dpi / 72 dots.
  pango_font_description_set_absolute_size(font.get(), style.size_pt * dpi / 72.0 * PANGO_SCALE);

  GObjectPtr<PangoLayout> layout(pango_layout_new(context.get()));
  pango_layout_set_font_description(layout.get(), font.get());
  pango_layout_set_width(layout.get(), box.width * PANGO_SCALE);
  pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment(layout.get(), style.align == TextAlign::center  ? PANGO_ALIGN_CENTER
                                           : style.align == TextAlign::right ? PANGO_ALIGN_RIGHT
                                                                             : PANGO_ALIGN_LEFT);
  pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));

  PangoRectangle logical{};
  pango_layout_get_pixel_extents(layout.get(), nullptr, &logical);
  int lines = pango_layout_get_line_count(layout.get());
  int height = std::max(0, logical.y + logical.height);
  const auto fits = [&] {
    return (box.max_lines == 0 || lines <= box.max_lines) &&
           (box.max_height == 0 || height <= box.max_height);
  };
  bool cut = false;
  if (!fits() && box.ellipsize) {
    // Pango's own limits apply per paragraph, so the lines that fit are found here: the text is
    // cut after the last of them and an ellipsis (U+2026) appended. Where the ellipsis does not
    // fit on that line, Pango ellipsizes the line itself, held to the height the kept lines take.
    int keep = 0;
    int keep_bottom = 0;
    int keep_end = 0;
    std::unique_ptr<PangoLayoutIter, LayoutIterDeleter> line_iter(
        pango_layout_get_iter(layout.get()));
    do {
      PangoRectangle line_rect{};
      pango_layout_iter_get_line_extents(line_iter.get(), nullptr, &line_rect);
      const int bottom = line_rect.y + line_rect.height;
      if ((box.max_lines > 0 && keep >= box.max_lines) ||
          (box.max_height > 0 && bottom > box.max_height * PANGO_SCALE)) {
        break;
      }
      ++keep;
      keep_bottom = bottom;
      const PangoLayoutLine* line = pango_layout_iter_get_line_readonly(line_iter.get());
      keep_end = line->start_index + line->length;
    } while (pango_layout_iter_next_line(line_iter.get()));
    if (keep > 0) {
      std::string shortened(text.substr(0, static_cast<std::size_t>(keep_end)));
      while (!shortened.empty() && (shortened.back() == ' ' || shortened.back() == '\t')) {
        shortened.pop_back();
      }
      shortened += "\u2026";
      pango_layout_set_text(layout.get(), shortened.data(), static_cast<int>(shortened.size()));
      pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);
      pango_layout_set_height(layout.get(), keep_bottom);
      pango_layout_get_pixel_extents(layout.get(), nullptr, &logical);
      lines = pango_layout_get_line_count(layout.get());
      height = std::max(0, logical.y + logical.height);
      cut = true;
    }
  }
  if (!fits()) {
    // Without ellipsis the text simply does not fit; with it, not even one line does.
    return fail(
        fmt::format("text needs {} lines, {} dots high, at {} pt and {} dpi; the box "
                    "allows {} lines, {} dots high",
                    lines, height, style.size_pt, dpi, box.max_lines, box.max_height));
  }

  // Second check, on what Pango actually shaped: a glyph it could not find in any font, or a
  // run it handed to a fallback font outside the chosen families.
  std::vector<char32_t> missing;
  std::set<std::string> fallbacks;
  std::unique_ptr<PangoLayoutIter, LayoutIterDeleter> iter(pango_layout_get_iter(layout.get()));
  do {
    PangoLayoutRun* run = pango_layout_iter_get_run_readonly(iter.get());
    if (run == nullptr) {
      continue;
    }
    for (int i = 0; i < run->glyphs->num_glyphs; ++i) {
      const PangoGlyph glyph = run->glyphs->glyphs[i].glyph;
      if (glyph & PANGO_GLYPH_UNKNOWN_FLAG) {
        add_unique(missing, glyph & ~PANGO_GLYPH_UNKNOWN_FLAG);
      }
    }
    if (run->item->analysis.font != nullptr) {
      std::unique_ptr<PangoFontDescription, FontDescriptionDeleter> used(
          pango_font_describe(run->item->analysis.font));
      const char* used_family = pango_font_description_get_family(used.get());
      const bool chosen = used_family != nullptr &&
                          std::any_of(families.begin(), families.end(), [&](const std::string& f) {
                            return same_family(f, used_family);
                          });
      if (!chosen) {
        fallbacks.insert(used_family != nullptr ? used_family : "?");
        const char* p = pango_layout_get_text(layout.get()) + run->item->offset;
        const char* end = p + run->item->length;
        for (; p < end; p = g_utf8_next_char(p)) {
          if (needs_glyph(g_utf8_get_char(p))) {
            add_unique(missing, g_utf8_get_char(p));
          }
        }
      }
    }
  } while (pango_layout_iter_next_run(iter.get()));
  if (!missing.empty()) {
    std::string via;
    for (const auto& f : fallbacks) {
      via += fmt::format(" (drawn by fallback font \"{}\")", f);
    }
    std::string message = fmt::format("no glyph in \"{}\" for {}{}", style.font_family,
                                      format_code_points(missing), via);
    return fail(std::move(message), std::move(missing));
  }

  TextRaster result;
  result.ok = true;
  result.height = height;
  result.lines = lines;
  result.ellipsized = cut;
  result.bitmap = Bitmap(box.width, height);
  if (height == 0) {
    return result;
  }

  // An 8-bit coverage mask: alpha is how much of each dot the glyphs cover.
  std::unique_ptr<cairo_surface_t, CairoSurfaceDeleter> surface(
      cairo_image_surface_create(CAIRO_FORMAT_A8, box.width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return fail(fmt::format("cannot allocate a {}x{} text surface", box.width, height));
  }
  {
    std::unique_ptr<cairo_t, CairoDeleter> cr(cairo_create(surface.get()));
    cairo_set_source_rgba(cr.get(), 0, 0, 0, 1);
    cairo_move_to(cr.get(), 0, 0);
    pango_cairo_show_layout(cr.get(), layout.get());
  }
  cairo_surface_flush(surface.get());
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  // Eight dots at a time: with the threshold at 128, a dot is black when its alpha's top bit is
  // set, and the multiply gathers the top bits of eight bytes into one, the first dot highest.
  static_assert(kInkThreshold == 128);
  const int whole = box.width / 8;
  for (int y = 0; y < height; ++y) {
    const unsigned char* alpha = data + static_cast<std::ptrdiff_t>(y) * stride;
    std::uint8_t* out = result.bitmap.row(y);
    for (int b = 0; b < whole; ++b) {
      std::uint64_t eight;
      std::memcpy(&eight, alpha + b * 8, 8);
      if constexpr (std::endian::native == std::endian::little) {
        eight = __builtin_bswap64(eight);  // the first dot in the top byte
      }
      out[b] =
          static_cast<std::uint8_t>(((eight & 0x8080808080808080ULL) * 0x02040810204081ULL) >> 56);
    }
    for (int x = whole * 8; x < box.width; ++x) {
      if (alpha[x] >= kInkThreshold) {
        out[x >> 3] = static_cast<std::uint8_t>(out[x >> 3] | (0x80 >> (x & 7)));
      }
    }
  }
  return result;
}

}  // namespace packbench::labels

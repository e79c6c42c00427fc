// Drawing a parsed template: values substituted, elements rasterised at the profile's dpi.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "packbench/labels/zpl.hpp"
#include "template_internal.hpp"

namespace packbench::labels {
namespace {

// Cuts `s` to at most `max` bytes, never inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) {
    return s;
  }
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;
  }
  return s.substr(0, n);
}

// A value as text may show it: invalid UTF-8 becomes '?' (visible, never a crash: the fonts have
// no glyph for U+FFFD, and a label must still print), control
// characters are dropped, and line breaks become spaces unless `keep_newlines`.
std::string printable_text(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\n' || c == '\r' || c == '\t') {
        if (c == '\n' && keep_newlines) {
          out += '\n';
        } else if (c != '\r' || !keep_newlines) {
          out += ' ';
        }
      } else if (c >= 0x20 && c != 0x7F) {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool valid = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    char32_t cp = 0;
    if (valid) {
      cp = c & (0x7F >> len);
      for (int k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((cc & 0xC0) != 0x80) {
          valid = false;
          break;
        }
        cp = (cp << 6) | (cc & 0x3F);
      }
      // Overlong forms, surrogates and values past U+10FFFF are not characters.
      const char32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
      valid = valid && cp >= min[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!valid) {
      out += '?';
      ++i;
      continue;
    }
    // C1 controls are as invisible as C0 ones.
    if (!(cp >= 0x80 && cp < 0xA0)) {
      out.append(s.substr(i, static_cast<std::size_t>(len)));
    }
    i += static_cast<std::size_t>(len);
  }
  return out;
}

bool truthy(std::string_view v) {
  return !v.empty() && v != "false" && v != "0" && v != "no";
}

struct Scope {
  const TemplateDefinition& def;
  const LabelData& data;
  const std::map<std::string, std::string>* texts = nullptr;  // the locale's blocks
  const LabelRow* row = nullptr;
  std::map<std::string, std::string, std::less<>> extra;  // table.more

  // The raw value of a name, or nullopt when it has none.
  std::optional<std::string_view> value(std::string_view name) const {
    if (name.starts_with("row.") && row) {
      if (auto it = row->find(name.substr(4)); it != row->end()) {
        return it->second;
      }
      return std::nullopt;
    }
    if (auto it = extra.find(name); it != extra.end()) {
      return it->second;
    }
    if (auto it = data.values.find(name); it != data.values.end()) {
      return it->second;
    }
    return std::nullopt;
  }
};

enum class ValueUse {
  text,  // printable text: cut to the cap, cleaned
  code,  // the exact bytes of a QR or barcode: over the cap is an error, never a cut
};

// What one label may fill in, over all its elements and table cells. A text block may use
// other text blocks many times over, so a small template could otherwise ask for gigabytes of
// text ({text.a} holding a thousand {text.b}, each a thousand {text.c}, ...) or a billion empty
// substitutions; no real label comes near these.
constexpr std::size_t kMaxLabelTextBytes = 64 * 1024;
constexpr std::size_t kMaxLabelReferences = 16 * 1024;

struct TextBudget {
  std::size_t bytes = kMaxLabelTextBytes;  // text and values still allowed in
  std::size_t references = kMaxLabelReferences;
};

// Substitutes the {references} of a template string. Values go in literally: they are never
// read again for references. Text blocks ({text.NAME}) are the template's own and are expanded
// in turn, to a small depth. Every byte of text or value put in, and every reference, is taken
// from `budget`.
std::optional<std::string> interpolate(std::string_view s, const Scope& scope, ValueUse use,
                                       std::size_t cap, TextBudget& budget, std::string& error,
                                       int depth = 0) {
  if (depth > 4) {
    error = "text blocks refer to each other more than 4 deep";
    return std::nullopt;
  }
  std::string out;
  auto put = [&](std::string_view piece) {
    if (piece.size() > budget.bytes) {
      error = fmt::format(
          "the label's texts and values come to more than {} bytes (a text block used too often?)",
          kMaxLabelTextBytes);
      return false;
    }
    budget.bytes -= piece.size();
    out.append(piece);
    return true;
  };
  std::size_t last = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '{' || c == '}') && i + 1 < s.size() && s[i + 1] == c) {
      if (!put(s.substr(last, i - last + 1))) {
        return std::nullopt;
      }
      ++i;
      last = i + 1;
      continue;
    }
    if (c != '{') {
      continue;
    }
    const std::size_t end = s.find('}', i + 1);
    if (end == std::string_view::npos) {
      error = "unbalanced '{'";
      return std::nullopt;
    }
    if (!put(s.substr(last, i - last))) {
      return std::nullopt;
    }
    if (budget.references == 0) {
      error = fmt::format("the label fills in more than {} values and text blocks",
                          kMaxLabelReferences);
      return std::nullopt;
    }
    --budget.references;
    std::string_view name = s.substr(i + 1, end - i - 1);
    bool optional = false;
    if (name.ends_with('?')) {
      optional = true;
      name.remove_suffix(1);
    }
    if (name.starts_with("text.")) {
      const std::string key(name.substr(5));
      if (!scope.texts || !scope.texts->contains(key)) {
        if (!optional) {
          error = fmt::format("no text block '{}'", key);
          return std::nullopt;
        }
      } else {
        auto expanded =
            interpolate(scope.texts->at(key), scope, use, cap, budget, error, depth + 1);
        if (!expanded) {
          return std::nullopt;
        }
        out += *expanded;  // its bytes were taken from the budget as it was made
      }
    } else if (const auto v = scope.value(name)) {
      if (use == ValueUse::code) {
        if (v->size() > cap) {
          error = fmt::format("the value of {} is {} bytes, over the {}-byte cap for codes", name,
                              v->size(), cap);
          return std::nullopt;
        }
        if (!put(*v)) {
          return std::nullopt;
        }
      } else if (!put(printable_text(utf8_prefix(*v, cap), true))) {
        return std::nullopt;
      }
    } else if (!optional) {
      error = fmt::format("no value for {{{}}} (write {{{}?}} if it may be missing)", name, name);
      return std::nullopt;
    }
    i = end;
    last = end + 1;
  }
  if (!put(s.substr(std::min(last, s.size())))) {
    return std::nullopt;
  }
  return out;
}

// The ink (the bitmaps of all elements, before they are put together) one label may hold: so
// many times the label's area, and at least so many dots for the smallest labels.
constexpr std::size_t kMaxInkLabelAreas = 16;
constexpr std::size_t kMinInkBudgetDots = std::size_t{8} << 20;

class Renderer {
 public:
  Renderer(const TemplateDefinition& def, const LabelData& data, const PrinterProfile& profile)
      : def_(def), data_(data), profile_(profile), scope_{def, data, nullptr, nullptr, {}} {}

  RenderedLabel run() {
    RenderedLabel out;
    if (profile_.dpi < 100 || profile_.dpi > 1200 || profile_.width_mm <= 0 ||
        profile_.width_mm > 1000 || profile_.height_mm < 0 || profile_.height_mm > 1000) {
      out.error =
          fmt::format("profile {}: dpi must be 100-1200 and sizes 0-1000 mm", profile_.name);
      return out;
    }
    choose_locale(out);
    scale_ = std::min(1.0, profile_.width_mm / def_.width_mm);
    if (profile_.height_mm > 0) {
      scale_ = std::min(scale_, profile_.height_mm / def_.height_mm);
    }
    out.dpi = profile_.dpi;
    out.scale = scale_;
    out.width = mm_to_dots_unscaled(profile_.width_mm);
    out.height =
        profile_.height_mm > 0 ? mm_to_dots_unscaled(profile_.height_mm) : dots(def_.height_mm);
    out.preview = Bitmap(out.width, out.height);
    // Every element lies within the label, but 500 of them the label's size each would still be
    // hundreds of megabytes of ink, drawn dot by dot.
    const std::size_t ink_budget =
        std::max(kMaxInkLabelAreas * static_cast<std::size_t>(out.width) *
                     static_cast<std::size_t>(std::max(out.height, 1)),
                 kMinInkBudgetDots);
    std::size_t ink_dots = 0;
    for (const Element& e : def_.elements) {
      if (!e.when.empty()) {
        std::string_view name = e.when;
        const bool negate = name.starts_with('!');
        if (negate) {
          name.remove_prefix(1);
        }
        const auto v = scope_.value(name);
        if (truthy(v.value_or("")) == negate) {
          continue;
        }
      }
      std::string error;
      const std::size_t before = out.inks.size();
      bool drawn = draw(e, out, error);
      for (std::size_t i = before; drawn && i < out.inks.size(); ++i) {
        ink_dots += static_cast<std::size_t>(out.inks[i].ink.width()) *
                    static_cast<std::size_t>(out.inks[i].ink.height());
        if (ink_dots > ink_budget) {
          error = fmt::format(
              "the elements hold more ink than {} times the label's area (large elements drawn "
              "many times over?)",
              kMaxInkLabelAreas);
          drawn = false;
        }
      }
      if (!drawn) {
        out.inks.clear();
        out.error = fmt::format("{} ({}): {}", def_.name, e.where, error);
        return out;
      }
    }
    for (const PlacedInk& ink : out.inks) {
      out.preview.draw(ink.ink, ink.x, ink.y);
    }
    out.ok = true;
    return out;
  }

 private:
  const TemplateDefinition& def_;
  const LabelData& data_;
  const PrinterProfile& profile_;
  Scope scope_;
  TextBudget budget_;
  double scale_ = 1;

  void choose_locale(RenderedLabel& out) {
    std::string want = data_.locale;
    auto pick = [&](const std::string& l) {
      if (def_.texts.contains(l)) {
        out.locale = l;
        scope_.texts = &def_.texts.at(l);
        return true;
      }
      return false;
    };
    // "ja-JP" and "ja_JP" fall back to "ja"; anything else to the template's default.
    if (!want.empty() && (pick(want) || pick(want.substr(0, want.find_first_of("-_"))))) {
      return;
    }
    if (!pick(def_.default_locale)) {
      out.locale = def_.default_locale;
    }
  }

  int mm_to_dots_unscaled(double mm) const {
    return static_cast<int>(std::lround(mm * profile_.dpi / 25.4));
  }
  int dots(double mm) const {
    return static_cast<int>(std::lround(mm * scale_ * profile_.dpi / 25.4));
  }

  static int aligned_x(int box_x, int box_w, int ink_w, TextAlign align) {
    switch (align) {
      case TextAlign::left:
        return box_x;
      case TextAlign::center:
        return box_x + std::max(0, (box_w - ink_w) / 2);
      case TextAlign::right:
        return box_x + std::max(0, box_w - ink_w);
    }
    return box_x;
  }

  bool draw(const Element& e, RenderedLabel& out, std::string& error) {
    const int x = dots(e.x), y = dots(e.y), w = dots(e.w), h = dots(e.h);
    switch (e.kind) {
      case ElementKind::text: {
        auto text = interpolate(e.text, scope_, ValueUse::text, e.max_chars, budget_, error);
        if (!text) {
          return false;
        }
        return draw_text(e.where, *text, x, y, w, h, e.style, e.max_lines, e.ellipsize, e.native,
                         out, error);
      }
      case ElementKind::qr:
        return draw_qr(e, x, y, w, h, out, error);
      case ElementKind::barcode:
        return draw_barcode(e, x, y, w, h, out, error);
      case ElementKind::image: {
        std::optional<Bitmap> drawn = drawn_image(e, w, h, error);
        if (!drawn) {
          return false;
        }
        const int ix = aligned_x(x, w, drawn->width(), e.style.align);
        const int iy = y + std::max(0, (h - drawn->height()) / 2);
        out.inks.push_back({e.where, ix, iy, std::move(*drawn), std::nullopt, std::nullopt});
        return true;
      }
      case ElementKind::line:
        draw_line(e, out);
        return true;
      case ElementKind::box: {
        const int t = std::max(1, dots(e.thickness));
        Bitmap b(std::max(1, w), std::max(1, h));
        if (e.fill) {
          b.fill(0, 0, w, h);
        } else {
          b.fill(0, 0, w, t);
          b.fill(0, h - t, w, t);
          b.fill(0, 0, t, h);
          b.fill(w - t, 0, t, h);
        }
        out.inks.push_back({e.where, x, y, std::move(b), std::nullopt, std::nullopt});
        return true;
      }
      case ElementKind::table:
        return draw_table(e, x, y, w, h, out, error);
    }
    return true;
  }

  // The element's image fitted to a w x h box, from the element's cache when it was drawn at
  // that size before. The bytes are the template's own, so the result only depends on the box.
  static std::optional<Bitmap> drawn_image(const Element& e, int w, int h, std::string& error) {
    constexpr std::size_t kSizesKept = 8;  // a few printer resolutions and media widths
    const std::pair<int, int> box{w, h};
    if (e.drawn) {
      std::lock_guard lock(e.drawn->mutex);
      for (const auto& [size, bitmap] : e.drawn->by_box) {
        if (size == box) {
          return bitmap;
        }
      }
    }
    ImageFit fit;
    fit.max_width = w;
    fit.max_height = h;
    fit.reduction = e.reduction;
    fit.threshold = e.threshold;
    ImageRaster r = render_image(e.image_bytes, fit);
    if (!r) {
      error = r.error;
      return std::nullopt;
    }
    if (e.drawn) {
      std::lock_guard lock(e.drawn->mutex);
      if (e.drawn->by_box.size() < kSizesKept) {
        e.drawn->by_box.emplace_back(box, r.bitmap);
      }
    }
    return std::move(r.bitmap);
  }

  bool draw_text(const std::string& where, const std::string& text, int x, int y, int w, int h,
                 const TextElementStyle& style, int max_lines, bool ellipsize, bool native_ok,
                 RenderedLabel& out, std::string& error) {
    if (text.empty()) {
      return true;
    }
    TextBox box;
    box.width = w;
    // A box a few hundredths of a millimetre high is 0 dots: no room, not "no limit".
    box.max_height = std::max(1, h);
    box.max_lines = max_lines;
    box.ellipsize = ellipsize;
    TextStyle ts;
    ts.font_family = style.font;
    ts.size_pt = style.size_pt * scale_;
    ts.weight = style.weight;
    ts.align = style.align;
    TextRaster r = render_text(text, box, ts, profile_.dpi);
    if (!r) {
      error = r.error;
      return false;
    }
    PlacedInk ink{where, x, y, std::move(r.bitmap), std::nullopt, std::nullopt};
    if (profile_.native_text && native_ok && !r.ellipsized && text.size() <= kDefaultFieldCap &&
        is_native_text(text)) {
      NativeText n;
      n.x = x;
      n.y = y;
      n.width = w;
      n.font_dots = std::max(10, static_cast<int>(std::lround(ts.size_pt * profile_.dpi / 72.0)));
      // As many lines as the box holds, and at least as many as our layout used, so the
      // printer's narrower font never runs out of lines where ours did not.
      const int fit = h > 0 ? h / n.font_dots : r.lines;
      n.max_lines = std::max({1, r.lines, max_lines > 0 ? std::min(fit, max_lines) : fit});
      n.align = style.align == TextAlign::center  ? 'C'
                : style.align == TextAlign::right ? 'R'
                                                  : 'L';
      n.text = text;
      ink.native_text = std::move(n);
    }
    out.inks.push_back(std::move(ink));
    return true;
  }

  // Printer fonts carry printable ASCII only, on one line (a ^FB line break is written "\&").
  static bool is_native_text(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  }

  bool draw_qr(const Element& e, int x, int y, int w, int h, RenderedLabel& out,
               std::string& error) {
    auto data = interpolate(e.data, scope_, ValueUse::code, e.max_chars * 4, budget_, error);
    if (!data) {
      return false;
    }
    if (data->empty()) {
      error = "the QR code's data is empty";
      return false;
    }
    QrSpec spec;
    spec.ecc = e.ecc;
    spec.dpi = profile_.dpi;
    spec.max_width = w;
    spec.max_height = h;
    CodeRaster r = render_qr(*data, spec);
    // The highest level the box holds, down to min_ecc; the error names the level asked for.
    while (!r && spec.ecc > e.min_ecc) {
      spec.ecc = static_cast<QrEcc>(static_cast<int>(spec.ecc) - 1);
      CodeRaster lower = render_qr(*data, spec);
      if (lower) {
        r = std::move(lower);
      }
    }
    if (!r) {
      error = r.error;
      return false;
    }
    const int qx = aligned_x(x, w, r.bitmap.width(), e.style.align);
    const int qy = y + std::max(0, (h - r.bitmap.height()) / 2);
    PlacedInk ink{e.where, qx, qy, std::move(r.bitmap), std::nullopt, std::nullopt};
    if (profile_.native_qr && e.native && r.module_dots <= 16) {
      NativeQr q;
      q.x = qx;
      q.y = qy;
      q.width = ink.ink.width();
      q.height = ink.ink.height();
      q.data = *data;
      q.module_dots = r.module_dots;
      q.ecc = "LMQH"[static_cast<int>(spec.ecc)];
      ink.native_qr = std::move(q);
    }
    out.inks.push_back(std::move(ink));
    return true;
  }

  bool draw_barcode(const Element& e, int x, int y, int w, int h, RenderedLabel& out,
                    std::string& error) {
    auto data = interpolate(e.data, scope_, ValueUse::code, e.max_chars, budget_, error);
    if (!data) {
      return false;
    }
    if (data->empty()) {
      error = "the barcode's data is empty";
      return false;
    }
    BarcodeSpec spec;
    spec.type = e.symbology;
    spec.dpi = profile_.dpi;
    spec.height = h;
    spec.max_width = w;
    spec.shape = e.shape;
    spec.module_dots =
        e.module_mm > 0
            ? std::max(1, static_cast<int>(std::lround(e.module_mm * profile_.dpi / 25.4)))
            : 0;
    CodeRaster r = render_barcode(*data, spec);
    // Too wide at the preferred module: narrower whole-dot modules, down to the element's floor.
    if (!r && e.min_module_mm > 0) {
      const int floor_dots =
          std::max(1, static_cast<int>(std::ceil(e.min_module_mm * profile_.dpi / 25.4 - 1e-9)));
      int start = spec.module_dots;
      if (start == 0) {
        // Only its module size is wanted: one row of it (a DataMatrix: the whole symbol),
        // however large the symbol is.
        BarcodeSpec probe = spec;
        probe.max_width = 0;
        probe.height =
            e.symbology == BarcodeType::datamatrix || e.symbology == BarcodeType::gs1_datamatrix
                ? 0
                : 1;
        CodeRaster wide = render_barcode(*data, probe);
        start = wide ? wide.module_dots : 0;
      }
      for (int m = start - 1; m >= floor_dots && !r; --m) {
        spec.module_dots = m;
        r = render_barcode(*data, spec);
      }
    }
    if (!r) {
      error = r.error;
      return false;
    }
    const int bx = aligned_x(x, w, r.bitmap.width(), e.style.align);
    out.inks.push_back({e.where, bx, y + std::max(0, (h - r.bitmap.height()) / 2),
                        std::move(r.bitmap), std::nullopt, std::nullopt});
    return true;
  }

  void draw_line(const Element& e, RenderedLabel& out) {
    const int x1 = dots(e.x), y1 = dots(e.y), x2 = dots(e.x2), y2 = dots(e.y2);
    const int t = std::max(1, dots(e.thickness));
    const int left = std::min(x1, x2), top = std::min(y1, y2);
    Bitmap b(std::abs(x2 - x1) + t, std::abs(y2 - y1) + t);
    // A square brush of side t along the line, one step per dot of its longer extent. A step
    // moves at most one dot each way, so the squares over a row always join into one run: the
    // rows' runs are found first and filled once, rather than t * t dots at every step.
    const int steps = std::max({std::abs(x2 - x1), std::abs(y2 - y1), 1});
    std::vector<int> run_from(static_cast<std::size_t>(b.height()), b.width());
    std::vector<int> run_to(static_cast<std::size_t>(b.height()), 0);
    for (int i = 0; i <= steps; ++i) {
      const int px = x1 + static_cast<int>(std::lround((x2 - x1) * static_cast<double>(i) / steps));
      const int py = y1 + static_cast<int>(std::lround((y2 - y1) * static_cast<double>(i) / steps));
      for (int row = py - top; row < py - top + t; ++row) {
        const auto r = static_cast<std::size_t>(row);
        run_from[r] = std::min(run_from[r], px - left);
        run_to[r] = std::max(run_to[r], px - left + t);
      }
    }
    for (int row = 0; row < b.height(); ++row) {
      const auto r = static_cast<std::size_t>(row);
      if (run_from[r] < run_to[r]) {
        b.fill(run_from[r], row, run_to[r] - run_from[r], 1);
      }
    }
    out.inks.push_back({e.where, left, top - t / 2, std::move(b), std::nullopt, std::nullopt});
  }

  bool draw_table(const Element& e, int x, int y, int w, int h, RenderedLabel& out,
                  std::string& error) {
    (void)w;
    const int row_h = std::max(1, dots(e.row_height));
    int capacity = h / row_h - (e.header ? 1 : 0);
    if (capacity < 1) {
      error = "the table has no room for a row";
      return false;
    }
    static const std::vector<LabelRow> kNoRows;
    auto it = data_.lists.find(e.rows);
    const std::vector<LabelRow>& rows = it != data_.lists.end() ? it->second : kNoRows;
    const bool overflow = static_cast<int>(rows.size()) > capacity;
    const int shown = overflow ? capacity - 1 : static_cast<int>(rows.size());
    int cy = y;
    auto draw_row = [&](auto&& cell_text, bool bold) {
      int cx = x;
      for (const Column& col : e.columns) {
        const int cw = dots(col.width);
        auto text = cell_text(col);
        if (!text) {
          return false;
        }
        TextElementStyle style = e.style;
        style.align = col.align;
        if (bold) {
          style.weight = FontWeight::bold;
        }
        // A cell is one line; a little padding keeps neighbouring columns apart.
        const int pad = std::min(cw / 8, dots(1.0));
        if (!draw_text(e.where, *text, cx + (col.align == TextAlign::right ? 0 : pad), cy, cw - pad,
                       row_h, style, 1, true, e.native, out, error)) {
          return false;
        }
        cx += cw;
      }
      cy += row_h;
      return true;
    };
    if (e.header && !draw_row(
                        [&](const Column& c) {
                          return interpolate(c.header, scope_, ValueUse::text, e.max_chars, budget_,
                                             error);
                        },
                        true)) {
      return false;
    }
    for (int i = 0; i < shown; ++i) {
      Scope row_scope = scope_;
      row_scope.row = &rows[static_cast<std::size_t>(i)];
      if (!draw_row(
              [&](const Column& c) {
                return interpolate(c.text, row_scope, ValueUse::text, e.max_chars, budget_, error);
              },
              false)) {
        return false;
      }
    }
    if (overflow) {
      Scope more_scope = scope_;
      more_scope.extra["table.more"] =
          std::to_string(rows.size() - static_cast<std::size_t>(shown));
      auto text = interpolate(e.overflow.empty() ? "… +{table.more}" : e.overflow, more_scope,
                              ValueUse::text, e.max_chars, budget_, error);
      if (!text) {
        return false;
      }
      TextElementStyle style = e.style;
      if (!draw_text(e.where, *text, x, cy, w, row_h, style, 1, true, e.native, out, error)) {
        return false;
      }
    }
    return true;
  }
};

}  // namespace

RenderedLabel render_label(const Template& tmpl, const LabelData& data,
                           const PrinterProfile& profile) {
  return Renderer(tmpl.definition(), data, profile).run();
}

}  // namespace packbench::labels

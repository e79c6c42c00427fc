// A rendered label in the printer's language, and carrier labels printed as given.
#include <cairo.h>
#include <fmt/format.h>
#include <glib.h>
#include <poppler.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "packbench/labels/image.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/zpl.hpp"
#include "template_internal.hpp"

namespace packbench::labels {
namespace {

LabelOutput fail(std::string message) {
  LabelOutput out;
  out.error = std::move(message);
  return out;
}

LabelOutput done(std::string bytes) {
  LabelOutput out;
  out.ok = true;
  out.bytes = std::move(bytes);
  return out;
}

std::string zpl_text_field(const NativeText& t) {
  // ^A0 is the printer's scalable font; ^FB wraps it in the box with the template's alignment.
  // The data goes through ^FH, capped, so nothing in it can be read as a command.
  return fmt::format("^FO{},{}^A0N,{},{}^FB{},{},0,{},0^FH_^FD{}^FS\n", t.x, t.y, t.font_dots,
                     t.font_dots, t.width, t.max_lines, t.align, zpl_escape_field(t.text));
}

bool overlaps(const PlacedInk& a, const PlacedInk& b) {
  return a.x < b.x + b.ink.width() && b.x < a.x + a.ink.width() && a.y < b.y + b.ink.height() &&
         b.y < a.y + a.ink.height();
}

// Whites out the rectangle of `ink` in `canvas`, whole bytes where it can.
void clear_rect(Bitmap& canvas, const PlacedInk& ink) {
  const int x0 = std::max(0, ink.x);
  const int x1 = std::min(canvas.width(), ink.x + ink.ink.width());
  const int y0 = std::max(0, ink.y);
  const int y1 = std::min(canvas.height(), ink.y + ink.ink.height());
  if (x0 >= x1) {
    return;
  }
  const int b0 = x0 >> 3;
  const int b1 = (x1 - 1) >> 3;
  const auto keep_first = static_cast<std::uint8_t>(0xFF << (8 - (x0 & 7)));       // bits before x0
  const auto keep_last = static_cast<std::uint8_t>(0xFF >> (((x1 - 1) & 7) + 1));  // after x1
  for (int y = y0; y < y1; ++y) {
    std::uint8_t* row = canvas.row(y);
    if (b0 == b1) {
      row[b0] &= static_cast<std::uint8_t>((x0 & 7 ? keep_first : 0) | keep_last);
      continue;
    }
    row[b0] &= (x0 & 7) ? keep_first : 0;
    std::fill(row + b0 + 1, row + b1, 0);
    row[b1] &= keep_last;
  }
}

// The raster the printer draws: the preview without the text it draws in its own font. Where
// that text shares no space with other ink, its rectangle is whited out of a copy of the
// preview; otherwise the raster is composed again from the other inks.
Bitmap zpl_raster(const RenderedLabel& label, const PrinterProfile& profile) {
  std::vector<const PlacedInk*> native;
  for (const PlacedInk& ink : label.inks) {
    if (ink.native_text && profile.native_text) {
      native.push_back(&ink);
    }
  }
  const bool apart = std::all_of(native.begin(), native.end(), [&](const PlacedInk* n) {
    return std::none_of(label.inks.begin(), label.inks.end(),
                        [&](const PlacedInk& o) { return &o != n && overlaps(*n, o); });
  });
  if (apart && label.preview.width() == label.width && label.preview.height() == label.height) {
    Bitmap canvas = label.preview;
    for (const PlacedInk* n : native) {
      clear_rect(canvas, *n);
    }
    return canvas;
  }
  Bitmap canvas(label.width, label.height);
  for (const PlacedInk& ink : label.inks) {
    if (!(ink.native_text && profile.native_text)) {
      canvas.draw(ink.ink, ink.x, ink.y);
    }
  }
  return canvas;
}

LabelOutput encode_zpl(const RenderedLabel& label, const PrinterProfile& profile) {
  const Bitmap canvas = zpl_raster(label, profile);
  std::string fields;
  for (const PlacedInk& ink : label.inks) {
    if (ink.native_text && profile.native_text) {
      fields += zpl_text_field(*ink.native_text);
    }
  }
  ZplGraphicOptions options;
  options.compression = profile.zpl_compression;
  LabelSize size;
  size.dpi = label.dpi;
  size.width_in = static_cast<double>(label.width) / label.dpi;
  size.height_in = static_cast<double>(label.height) / label.dpi;
  return done(zpl_format(size, zpl_graphic_field(canvas, 0, 0, options) + fields));
}

Bitmap crop_rows(const Bitmap& src, int top, int bottom) {
  top = std::clamp(top, 0, src.height());
  bottom = std::clamp(bottom, top, src.height());
  Bitmap out(src.width(), bottom - top);
  std::copy(src.row(top), src.row(top) + static_cast<std::ptrdiff_t>(out.bytes().size()),
            out.bytes().begin());
  return out;
}

LabelOutput encode_escpos(const RenderedLabel& label, const PrinterProfile& profile) {
  EscposProfile ep;
  ep.print_width_dots = std::max(label.width, 1);
  ep.native_qr = profile.native_qr;
  ep.cut = profile.cut;
  if (label.width > kEscposPrintWidth80mm) {
    // Wider printers exist (112 mm paper: 832 dots); the profile says what this one takes.
    ep.print_width_dots = label.width;
  }
  // A QR the printer may draw itself goes as GS ( k when nothing else shares its rows: ESC/POS
  // prints top to bottom in blocks, and GS ( k cannot sit beside other ink.
  std::vector<const NativeQr*> natives;
  if (profile.native_qr) {
    for (const PlacedInk& ink : label.inks) {
      if (!ink.native_qr) {
        continue;
      }
      const NativeQr& q = *ink.native_qr;
      const bool alone =
          std::none_of(label.inks.begin(), label.inks.end(), [&](const PlacedInk& o) {
            return &o != &ink && o.y < q.y + q.height && o.y + o.ink.height() > q.y &&
                   std::any_of(o.ink.bytes().begin(), o.ink.bytes().end(),
                               [](auto b) { return b; });
          });
      if (alone) {
        natives.push_back(&q);
      }
    }
    std::sort(natives.begin(), natives.end(),
              [](const NativeQr* a, const NativeQr* b) { return a->y < b->y; });
  }
  Bitmap canvas(label.width, label.height);
  for (const PlacedInk& ink : label.inks) {
    const bool native = ink.native_qr &&
                        std::find(natives.begin(), natives.end(), &*ink.native_qr) != natives.end();
    if (!native) {
      canvas.draw(ink.ink, ink.x, ink.y);
    }
  }
  std::vector<EscposBlock> blocks;
  int cursor = 0;
  for (const NativeQr* q : natives) {
    // The printer adds no quiet zone: the white rows above and below come from the raster.
    const int modules = (q->height / q->module_dots) - 8;
    const int quiet = 4 * q->module_dots;
    if (q->y + quiet < cursor || modules <= 0) {
      continue;
    }
    if (q->y + quiet > cursor) {
      blocks.emplace_back(crop_rows(canvas, cursor, q->y + quiet));
    }
    EscposQr qr;
    qr.data = q->data;
    qr.module_dots = q->module_dots;
    qr.ecc = q->ecc == 'L'   ? EscposQrEcc::kL
             : q->ecc == 'Q' ? EscposQrEcc::kQ
             : q->ecc == 'H' ? EscposQrEcc::kH
                             : EscposQrEcc::kM;
    const int centre = q->x + q->width / 2;
    qr.align = std::abs(centre - label.width / 2) <= q->module_dots * 2 ? EscposAlign::kCenter
               : centre < label.width / 2                               ? EscposAlign::kLeft
                                                                        : EscposAlign::kRight;
    blocks.emplace_back(std::move(qr));
    cursor = q->y + q->height - quiet;
  }
  if (cursor < canvas.height()) {
    blocks.emplace_back(crop_rows(canvas, cursor, canvas.height()));
  }
  EscposJob job = escpos_job(blocks, ep);
  if (!job.ok()) {
    return fail(job.error);
  }
  return done(std::move(job.bytes));
}

LabelOutput encode_raster(const Bitmap& bitmap, int dpi, const PrinterProfile& profile,
                          OutputFormat format) {
  switch (format) {
    case OutputFormat::png: {
      auto png = png_encode(bitmap, dpi);
      return png ? done(std::move(*png)) : fail("the PNG could not be encoded");
    }
    case OutputFormat::pdf: {
      std::optional<PdfPageSize> page;
      if (profile.height_mm > 0) {
        page = PdfPageSize{profile.width_mm * kPointsPerMm, profile.height_mm * kPointsPerMm};
      }
      return done(pdf_document(bitmap, dpi, page));
    }
    default:
      return fail("not a raster format");
  }
}

}  // namespace

LabelOutput encode_label(const RenderedLabel& label, const PrinterProfile& profile,
                         OutputFormat format) {
  if (!label.ok) {
    return fail(label.error.empty() ? "the label was not rendered" : label.error);
  }
  switch (format) {
    case OutputFormat::zpl:
      return encode_zpl(label, profile);
    case OutputFormat::escpos:
      return encode_escpos(label, profile);
    case OutputFormat::png:
    case OutputFormat::pdf:
      return encode_raster(label.preview, label.dpi, profile, format);
  }
  return fail("unknown format");
}

std::optional<CarrierLabelFormat> parse_carrier_label_format(std::string_view name) {
  if (name == "zpl")
    return CarrierLabelFormat::zpl;
  if (name == "png")
    return CarrierLabelFormat::png;
  if (name == "pdf")
    return CarrierLabelFormat::pdf;
  return std::nullopt;
}

namespace {

// The first page of a PDF drawn with Poppler into a grey raster `width` dots wide (and no higher
// than `max_height` when that is above 0), then thresholded.
std::optional<Bitmap> rasterise_pdf(std::span<const std::uint8_t> bytes, int width, int max_height,
                                    std::string& error) {
  GBytes* gbytes = g_bytes_new(bytes.data(), bytes.size());
  GError* gerror = nullptr;
  PopplerDocument* doc = poppler_document_new_from_bytes(gbytes, nullptr, &gerror);
  g_bytes_unref(gbytes);
  if (!doc) {
    error = fmt::format("the PDF cannot be read: {}", gerror ? gerror->message : "unknown error");
    if (gerror) {
      g_error_free(gerror);
    }
    return std::nullopt;
  }
  std::unique_ptr<PopplerDocument, decltype(&g_object_unref)> doc_guard(doc, g_object_unref);
  if (poppler_document_get_n_pages(doc) < 1) {
    error = "the PDF has no pages";
    return std::nullopt;
  }
  PopplerPage* page = poppler_document_get_page(doc, 0);
  std::unique_ptr<PopplerPage, decltype(&g_object_unref)> page_guard(page, g_object_unref);
  double pw = 0, ph = 0;
  poppler_page_get_size(page, &pw, &ph);
  if (pw <= 0 || ph <= 0) {
    error = "the PDF's first page has no size";
    return std::nullopt;
  }
  double scale = width / pw;
  if (max_height > 0) {
    scale = std::min(scale, max_height / ph);
  }
  const int w = std::max(1, static_cast<int>(std::floor(pw * scale)));
  const int h = std::max(1, static_cast<int>(std::floor(ph * scale)));
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, scale, scale);
  poppler_page_render_for_printing(page, cr);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  Bitmap out(w, h);
  for (int y = 0; y < h; ++y) {
    const auto* row =
        reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      const std::uint32_t p = row[x];
      const int grey =
          (static_cast<int>((p >> 16) & 0xFF) * 299 + static_cast<int>((p >> 8) & 0xFF) * 587 +
           static_cast<int>(p & 0xFF) * 114) /
          1000;
      if (grey < 128) {
        out.set(x, y);
      }
    }
  }
  cairo_surface_destroy(surface);
  return out;
}

}  // namespace

LabelOutput render_carrier_label(std::span<const std::uint8_t> bytes, CarrierLabelFormat kind,
                                 const PrinterProfile& profile, OutputFormat format) {
  if (bytes.empty()) {
    return fail("the carrier label is empty");
  }
  const int width = static_cast<int>(std::lround(profile.width_mm * profile.dpi / 25.4));
  const int height = profile.height_mm > 0
                         ? static_cast<int>(std::lround(profile.height_mm * profile.dpi / 25.4))
                         : 0;
  Bitmap raster;
  switch (kind) {
    case CarrierLabelFormat::zpl: {
      const std::string_view zpl(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (format == OutputFormat::zpl) {
        // The carrier made it for a ZPL printer: it goes as given, byte for byte.
        if (zpl.find("^XA") == std::string_view::npos ||
            zpl.find("^XZ") == std::string_view::npos) {
          return fail("the carrier label is not ZPL (no ^XA ... ^XZ format)");
        }
        return done(std::string(zpl));
      }
      if (format == OutputFormat::escpos) {
        return fail("a ZPL carrier label needs a ZPL printer");
      }
      ZplRaster r = zpl_decode_graphics(zpl);
      if (!r.ok()) {
        return fail(fmt::format("the carrier label's graphics cannot be previewed: {}", r.error));
      }
      if (r.graphic_fields == 0) {
        return fail(
            "the carrier label has no graphic fields to preview (its text and barcodes "
            "are drawn by the printer)");
      }
      return encode_raster(r.bitmap, profile.dpi, profile, format);
    }
    case CarrierLabelFormat::png: {
      ImageFit fit;
      fit.max_width = width;
      fit.max_height = height;
      ImageRaster r = render_image(bytes, fit);
      if (!r) {
        return fail(fmt::format("the carrier label's PNG cannot be read: {}", r.error));
      }
      raster = std::move(r.bitmap);
      break;
    }
    case CarrierLabelFormat::pdf: {
      std::string error;
      auto r = rasterise_pdf(bytes, width, height, error);
      if (!r) {
        return fail(error);
      }
      raster = std::move(*r);
      break;
    }
  }
  RenderedLabel label;
  label.ok = true;
  label.dpi = profile.dpi;
  label.width = width;
  label.height = height > 0 ? height : raster.height();
  label.preview = Bitmap(label.width, label.height);
  label.preview.draw(raster, 0, 0);
  label.inks.push_back({"carrier label", 0, 0, std::move(raster), std::nullopt, std::nullopt});
  return encode_label(label, profile, format);
}

}  // namespace packbench::labels

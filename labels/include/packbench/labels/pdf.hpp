// A one-page PDF of a Bitmap, for CUPS and office printers: the raster as a 1-bit image at its
// real size, so a label made at the printer's dpi prints dot for dot. Written directly against
// ISO 32000-1 (PDF 1.7, using only what PDF 1.4 has): §7.5 file structure, §8.9 images.
#pragma once

#include <optional>
#include <string>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

// A page size in PDF points (1/72 in).
struct PdfPageSize {
  double width_pt = 0;
  double height_pt = 0;
};

inline constexpr double kPointsPerMm = 72.0 / 25.4;
// ISO 216 A6, 105 x 148 mm: the office-printer insert.
inline constexpr PdfPageSize kPdfA6{105 * kPointsPerMm, 148 * kPointsPerMm};
// 4 x 6 in: the shipping label.
inline constexpr PdfPageSize kPdf4x6In{4 * 72.0, 6 * 72.0};

// The PDF file bytes. The image is drawn at `dpi` (its real size) from the page's top-left
// corner, scaled down only when it would not fit the page. Without `page`, the page is the
// image's own size. Deterministic: the same bitmap gives the same bytes (no dates, no ids).
std::string pdf_document(const Bitmap& bitmap, int dpi,
                         std::optional<PdfPageSize> page = std::nullopt);

}  // namespace packbench::labels

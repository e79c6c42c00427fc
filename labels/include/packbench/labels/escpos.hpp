// ESC/POS for 80 mm receipt printers: a label or insert as GS v 0 raster bands, native QR codes
// through GS ( k where the printer has them, and a cut. Command names and ranges follow the
// Epson "ESC/POS Command Reference" (TM series), sections noted at each command.
//
// And a small parser of the same subset, so tests can rebuild what a printer would print.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

// Printable width of an 80 mm printer at 203 dpi (8 dots/mm): 72 mm, 576 dots, 72 bytes a row.
inline constexpr int kEscposPrintWidth80mm = 576;

// Rows per GS v 0 band. One band of a full 576-dot row is 72 * 128 = 9,216 bytes, which:
// - stays far below GS v 0's row limit (yL + yH * 256 <= 2303 on TM-T88 printers; clones
//   often less), and keeps yH = 0, a byte some clone firmwares mis-handle;
// - fits the receive buffer of common printers, so the head keeps printing while the next
//   band arrives instead of stopping mid-image (stops leave pale lines on thermal paper);
// - is 16 mm of paper at 203 dpi: a paper-out or cover-open mid-job loses at most one band.
inline constexpr int kEscposBandRows = 128;

enum class EscposQrEcc : std::uint8_t { kL = 48, kM = 49, kQ = 50, kH = 51 };
enum class EscposAlign : std::uint8_t { kLeft = 0, kCenter = 1, kRight = 2 };
enum class EscposCut { kNone, kFull, kPartial };

// A QR code the printer draws itself (GS ( k, cn = 49). The printer adds no quiet zone: the
// caller leaves white above and below (the blocks around it) and the alignment leaves the sides.
struct EscposQr {
  std::string data;     // bytes as encoded, at most 7,089 (Function 180's range)
  int module_dots = 6;  // 1..16 (Function 167); 6 dots is 0.75 mm at 203 dpi
  EscposQrEcc ecc = EscposQrEcc::kM;
  EscposAlign align = EscposAlign::kCenter;
};

// One piece of a receipt, top to bottom.
using EscposBlock = std::variant<Bitmap, EscposQr>;

struct EscposProfile {
  int print_width_dots = kEscposPrintWidth80mm;
  int band_rows = kEscposBandRows;
  // Whether the model has GS ( k QR (most TM-T88IV and later, and many clones, do; some do
  // not, and print the parameters as garbage). Without it, rasterise the QR into a Bitmap.
  bool native_qr = false;
  EscposCut cut = EscposCut::kPartial;
};

struct EscposJob {
  std::string bytes;
  std::string error;  // empty when the job was built

  bool ok() const { return error.empty(); }
};

// GS v 0 bands for `bitmap` (rows of stride() bytes, 1 = black as GS v 0 wants), each band at
// most `band_rows` rows. No initialise or cut: for composing jobs.
std::string escpos_raster(const Bitmap& bitmap, int band_rows = kEscposBandRows);

// GS ( k Functions 165 (model 2), 167 (module size), 169 (ECC level), 180 (store) and
// 181 (print), framed by ESC a alignment. nullopt when the data or module size is out of range.
std::optional<std::string> escpos_qr(const EscposQr& qr);

// GS V at a line start, feeding the last printed row past the cutter first. Empty for kNone.
std::string escpos_cut(EscposCut cut);

// A whole job: ESC @ (initialise), each block in order, the profile's cut. An error when a
// bitmap is wider than the print width, or a QR is asked of a profile without native QR.
EscposJob escpos_job(std::span<const EscposBlock> blocks, const EscposProfile& profile = {});
EscposJob escpos_job(const Bitmap& bitmap, const EscposProfile& profile = {});

// What a printer would do with the subset above.
struct EscposParsed {
  Bitmap raster;  // every GS v 0 band stacked top to bottom, as wide as the widest
  std::vector<int> band_heights;
  std::vector<std::string> qr_data;  // each printed QR's data (stored, then printed)
  int qr_module_dots = 0;            // of the last QR printed
  int qr_ecc = 0;                    // 48..51, of the last QR printed
  int initialisations = 0;           // ESC @
  int cuts = 0;                      // GS V
  bool cut_at_line_start = true;     // false when a GS V followed unprinted data
  std::string error;                 // empty when every byte was understood

  bool ok() const { return error.empty(); }
};

EscposParsed escpos_parse(std::string_view bytes);

}  // namespace packbench::labels

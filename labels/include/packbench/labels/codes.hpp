// QR codes and barcodes drawn dot for dot at the printer's resolution.
//
// A thermal head prints whole dots, so every module (the smallest bar, space or square of a
// symbol) is a whole number of dots, the same number everywhere in the symbol. A code that would
// need a fractional module is never scaled or dithered to fit: it fails, and says what box it
// would need. Every returned bitmap includes the symbol's quiet zone, so the caller can place it
// next to other ink without measuring the margin again.
#pragma once

#include <string>
#include <string_view>

#include "packbench/labels/bitmap.hpp"

namespace packbench::labels {

// A symbol drawn into a bitmap, or why it could not be.
struct CodeRaster {
  bool ok = false;
  std::string error;  // why not ok, written for the person reading the log

  Bitmap bitmap;            // the symbol with its quiet zone, white around black
  int module_dots = 0;      // dots per module (the X dimension)
  int modules_wide = 0;     // the symbol's width in modules, quiet zone excluded
  int modules_high = 0;     // the same for its height (1 for linear barcodes)
  int quiet_zone_dots = 0;  // white on the left (and, for QR and DataMatrix, on every side)

  explicit operator bool() const { return ok; }
};

// Error-correction level of a QR symbol (ISO/IEC 18004): about 7, 15, 25 and 30 % of the
// codewords can be restored. M for most labels; Q for cards that get scuffed in a parcel.
enum class QrEcc { L, M, Q, H };

struct QrSpec {
  QrEcc ecc = QrEcc::M;
  int dpi = 203;
  // The box the symbol, quiet zone included, must fit in, in dots. The module size is the
  // largest whole number of dots that fits both ways.
  int max_width = 0;
  int max_height = 0;
  // Smallest module allowed, in dots. 0 means the thermal-printing floor: 4 dots at 203 dpi
  // (0.5 mm), the same 0.5 mm at other resolutions (6 dots at 300 dpi, 12 at 600).
  int min_module_dots = 0;
};

// The smallest module the thermal-printing rule allows at `dpi`: ceil(4 * dpi / 203).
int min_qr_module_dots(int dpi);

// The QR symbol for `payload`, its bytes exactly as given (UTF-8 text stays UTF-8), in 8-bit
// byte mode at the smallest version (1-40) that holds it at `spec.ecc`, with the 4-module quiet
// zone ISO/IEC 18004 asks for on every side included in the bitmap.
CodeRaster render_qr(std::string_view payload, const QrSpec& spec);

enum class BarcodeType {
  code128,         // ISO/IEC 15417; data in ASCII 0-127
  gs1_128,         // Code 128 with FNC1 in first position (GS1 General Specifications)
  ean13,           // 12 digits (check digit added) or 13 (check digit verified)
  upca,            // 11 digits (check digit added) or 12 (check digit verified)
  datamatrix,      // ISO/IEC 16022 ECC 200; any bytes
  gs1_datamatrix,  // ECC 200 with FNC1 in first position (GS1 DataMatrix, read as ]d2)
};

// The sizes a DataMatrix may take: the 24 square ones (10x10 to 144x144) or the 6 rectangular
// ones (8x18 to 16x48, for a long narrow space; at most 49 data codewords).
enum class DataMatrixShape { square, rectangle };

struct BarcodeSpec {
  BarcodeType type = BarcodeType::code128;
  int dpi = 203;
  // Dots per module. 0 chooses, per type, the smallest whole number of dots at least as wide as
  // the type's usual X dimension: 0.25 mm for Code 128, 0.495 mm for GS1-128 (GS1's minimum
  // for logistic labels), 0.33 mm (100 % magnification) for EAN-13 and UPC-A, 0.5 mm for
  // DataMatrix. At 203 dpi: 2, 4, 3 and 4 dots.
  int module_dots = 0;
  // Bar height in dots for linear barcodes. 0 chooses 69 modules for EAN-13 and UPC-A (GS1's
  // 22.85 mm at 0.33 mm X) and, for Code 128, 15 % of the symbol's width or 6.35 mm (1/4 in),
  // whichever is more. For DataMatrix, whose modules are square, it is the most height the
  // symbol may take, quiet zone included (0: no limit); a taller symbol is an error.
  int height = 0;
  // Optional limit on the width, quiet zones included; 0 means none. A symbol wider than this at
  // the chosen module size is an error, never a narrower module.
  int max_width = 0;
  // DataMatrix only: square or rectangular sizes.
  DataMatrixShape shape = DataMatrixShape::square;
};

// The barcode for `data`, with its quiet zones: 10 modules either side for Code 128 (ISO/IEC
// 15417), 11 left and 7 right for EAN-13 and 9 either side for UPC-A (GS1 General
// Specifications), 1 module on every side for DataMatrix (ISO/IEC 16022). No human-readable
// line: a template draws that as text, in the font it chooses.
//
// GS1-128 and GS1 DataMatrix data is GS1 element strings, written either in the human-readable
// form with each AI in parentheses, "(01)09501101530003(10)ABC(21)XYZ", or as a scanner
// transmits them, with ASCII 29 (GS) ending each variable-length element string that is not the
// last: "0109501101530003" "10ABC" "\x1d" "21XYZ". FNC1 is put in first position and wherever a
// variable-length element string ends before another (see gs1_element_string.hpp for the checks).
//
// Code 128, GS1-128, EAN-13 and UPC-A are drawn with ZXing-C++'s writer; DataMatrix with our own
// ECC 200 encoder (ZXing-C++ 1.4's writer cannot put FNC1 in first position), in ASCII
// encodation at the smallest size of the shape that holds the data. Plain DataMatrix carries the
// bytes as given, those over 127 through Upper Shift, without an ECI.
CodeRaster render_barcode(std::string_view data, const BarcodeSpec& spec);

}  // namespace packbench::labels

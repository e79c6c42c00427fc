// ZPL II graphic fields: a Bitmap as ^GFA data, placed with ^FO, in bands within the ^GF limits,
// and the way back (a ^GF decoder) so tests can check the printer would draw what we drew.
//
// References are to the Zebra "ZPL II Programming Guide" (P1012728): ^GF "Graphic Field",
// "Alternative Data Compression Scheme for ~DG and ~DB Commands" (ACS) and the Z64/B64 section
// of "ZB64 Encoding and Compression".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "packbench/labels/bitmap.hpp"
#include "packbench/labels/zpl.hpp"

namespace packbench::labels {

// ^GF: "b" (bytes sent) and "c" (graphic field count, d * rows) both range 1 to 99,999; the
// printer clamps larger values, which silently cuts the graphic. Every ^GF we emit keeps
// c = d * rows within this.
inline constexpr int kGfMaxBytes = 99'999;

enum class ZplCompression {
  // ":Z64:" + base64(zlib deflate) + ":" + CRC. Smallest; needs firmware x.14 or later.
  kZ64,
  // ACS run-length hex. The fallback for printers without Z64 (older firmware, some clones).
  kAcs,
};

struct ZplGraphicOptions {
  ZplCompression compression = ZplCompression::kZ64;
  // Deflate level for Z64 (libdeflate, 1-12). On a 4 x 6 in insert, 7 packs 1 % tighter than
  // zlib's default level 6 in a third of its time; 8 is 3 % tighter in about zlib's time, and
  // 10 and up gain a few percent more at 6 to 12 times the cost.
  int z64_level = 7;
  // Upper bound of c = d * rows per ^GF. Lower it only for printers with smaller graphic memory.
  int max_field_bytes = kGfMaxBytes;
  // Crop white margins from each band before encoding (and move its ^FO to match): white costs
  // bytes and printer time but prints nothing, and a band with no black dot is left out.
  bool trim_white = true;
};

// CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final xor): the check Z64 data carries
// over its base64 text. crc16_xmodem("123456789") == 0x31C3.
std::uint16_t crc16_xmodem(std::string_view data);

// Rows per ^GF band for rows of `bytes_per_row` bytes so that d * rows <= max_field_bytes.
// 0 when a single row is already over the limit (800,000 dots: no printer has such a head);
// zpl_graphic_field then sends one row per band.
int zpl_band_rows(int bytes_per_row, int max_field_bytes = kGfMaxBytes);

// The data parameter of one ^GFA for the whole bitmap (rows of stride() bytes):
// ":Z64:<base64>:<CRC as 4 uppercase hex digits>". Empty only when deflate fails (out of memory);
// zpl_graphic_field then falls back to ACS.
std::string zpl_z64_data(const Bitmap& bitmap, int level = 7);
// The same bitmap as ACS run-length hex (no commas between rows; ',' '!' ':' as the scheme has).
std::string zpl_acs_data(const Bitmap& bitmap);

// Places `bitmap` with its top-left corner at (x, y) dots of the current format: one
// "^FOx,y^GFA,b,c,d,data^FS" per band, bands as tall as the ^GF limits allow. No ^XA/^XZ.
// An all-white bitmap gives an empty string when trim_white is on (there is nothing to print).
std::string zpl_graphic_field(const Bitmap& bitmap, int x, int y,
                              const ZplGraphicOptions& options = {});

// A complete format: zpl_begin_format(size) (^XA and the full state), `body`, zpl_end_format()
// (^PQ and ^XZ). For formats made of graphic fields and other fields.
std::string zpl_format(const LabelSize& size, std::string_view body);
// A complete format that prints `bitmap` at the label's home (0, 0).
std::string zpl_graphic_format(const Bitmap& bitmap, const LabelSize& size,
                               const ZplGraphicOptions& options = {});

// What a printer would draw from the ^GF fields of a ZPL stream.
struct ZplRaster {
  Bitmap bitmap;
  int graphic_fields = 0;  // ^GF commands decoded
  std::string error;       // empty when every ^GF decoded cleanly

  bool ok() const { return error.empty(); }
};

// Decodes one ^GF parameter string ("A,b,c,d,data" as zpl_tokenize gives it) into a bitmap of
// d * 8 dots by c / d rows. Accepts plain hex, ACS and Z64/B64 data (checking the CRC). Strict:
// data that does not fill exactly c bytes, or a bad CRC, is an error rather than a guess.
ZplRaster zpl_decode_graphic_field(std::string_view gf_params);

// Rebuilds the raster of the first format (^XA ... ^XZ) of `zpl` from its ^GFA fields, each at
// its ^LH + ^FO origin. The canvas is width x height dots; 0 takes ^PW / ^LL from the stream,
// or else the extent of the graphics. Other fields (text, barcodes) are not drawn. ^FT origins
// are reported as errors rather than misplaced.
ZplRaster zpl_decode_graphics(std::string_view zpl, int width = 0, int height = 0);

}  // namespace packbench::labels

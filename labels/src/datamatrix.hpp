// DataMatrix ECC 200 (ISO/IEC 16022:2006): data codewords in ASCII encodation, Reed-Solomon
// error correction, and the module placement into finder, clock tracks and data regions.
//
// Internal to labels/: render_barcode (codes.cpp) draws the modules into a bitmap.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace packbench::labels::datamatrix {

// One ECC 200 symbol size (ISO/IEC 16022 Table 7).
struct SymbolSize {
  int rows = 0;  // the symbol's modules, finder and clock tracks included
  int cols = 0;
  int region_rows = 0;  // data modules of one data region
  int region_cols = 0;
  int data_codewords = 0;  // the whole symbol's
  int ecc_codewords = 0;   // the whole symbol's, split evenly over the blocks
  int blocks = 1;          // Reed-Solomon blocks, interleaved codeword by codeword

  int regions_down() const { return rows / (region_rows + 2); }
  int regions_across() const { return cols / (region_cols + 2); }
  bool square() const { return rows == cols; }
};

// The 24 square sizes, 10x10 to 144x144, smallest first.
std::span<const SymbolSize> square_sizes();
// The 6 rectangular sizes, 8x18 to 16x48, smallest capacity first.
std::span<const SymbolSize> rectangular_sizes();

// The special codewords of ASCII encodation (ISO/IEC 16022 5.2.3, Table 2).
inline constexpr std::uint8_t kPad = 129;
inline constexpr std::uint8_t kFnc1 = 232;
inline constexpr std::uint8_t kUpperShift = 235;

// ASCII encodation of `data`: two digits in one codeword (130-229), bytes 0-127 as their value
// plus 1, bytes 128-255 as Upper Shift and then the value minus 127. With `gs1`, FNC1 comes first
// (which makes the symbol GS1 DataMatrix, read as ]d2) and every GS (ASCII 29) is written as
// FNC1, the separator after a variable-length element string.
std::vector<std::uint8_t> ascii_codewords(std::string_view data, bool gs1);

// Fills `codewords` up to `capacity`: first 129, then pad codewords scrambled by the 253-state
// algorithm (5.2.3, Annex B.1), so that long runs of padding do not print as a flat pattern.
void pad_codewords(std::vector<std::uint8_t>& codewords, int capacity);

// The `count` Reed-Solomon check codewords of one block: GF(256) with the field polynomial
// x^8 + x^5 + x^3 + x^2 + 1 (0x12D), generator polynomial with the roots 2^1 ... 2^count
// (ISO/IEC 16022 5.7, Annex E).
std::vector<std::uint8_t> reed_solomon(std::span<const std::uint8_t> data, int count);

// `data` (exactly size.data_codewords) followed by the check codewords. Codeword i of the data
// belongs to block i mod blocks, and check codeword j of block b goes to data_codewords +
// j * blocks + b (5.7.2): the interleaving of the sizes from 52x52 on. In 144x144, whose last
// two blocks hold one data codeword less, each row of check codewords starts with those two
// blocks' (b + 2 mod 10 for block b), the order readers (and ISO/IEC 16022's block reading)
// expect.
std::vector<std::uint8_t> with_error_correction(std::span<const std::uint8_t> data,
                                                const SymbolSize& size);

// The symbol's modules, row by row from the top, 1 = dark: every codeword bit placed by the
// algorithm of Annex F in the mapping matrix, which is then split into the data regions, each
// with its solid L (left column, bottom row) and its clock tracks (top row, right column).
std::vector<std::uint8_t> place_modules(std::span<const std::uint8_t> codewords,
                                        const SymbolSize& size);

struct Symbol {
  const SymbolSize* size = nullptr;     // null when the data does not fit
  std::vector<std::uint8_t> modules;    // size->rows * size->cols, row by row, 1 = dark
  std::vector<std::uint8_t> codewords;  // data (padded) and check codewords, as placed
  int data_codewords_used = 0;          // before padding
  std::string error;

  explicit operator bool() const { return size != nullptr; }
};

// The smallest symbol of the shape that holds `data` (see ascii_codewords for `gs1`).
Symbol encode(std::string_view data, bool gs1, bool rectangular);

}  // namespace packbench::labels::datamatrix

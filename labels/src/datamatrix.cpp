#include "datamatrix.hpp"

#include <fmt/format.h>

#include <array>
#include <cstddef>

namespace packbench::labels::datamatrix {
namespace {

// ISO/IEC 16022:2006 Table 7: symbol size, data region size, data codewords, check codewords
// and interleaved blocks. 144x144 splits its 1558 data codewords 156 per block for the first
// eight blocks and 155 for the last two; codeword-by-codeword interleaving gives that split.
constexpr std::array<SymbolSize, 24> kSquare{{
    {10, 10, 8, 8, 3, 5, 1},          {12, 12, 10, 10, 5, 7, 1},
    {14, 14, 12, 12, 8, 10, 1},       {16, 16, 14, 14, 12, 12, 1},
    {18, 18, 16, 16, 18, 14, 1},      {20, 20, 18, 18, 22, 18, 1},
    {22, 22, 20, 20, 30, 20, 1},      {24, 24, 22, 22, 36, 24, 1},
    {26, 26, 24, 24, 44, 28, 1},      {32, 32, 14, 14, 62, 36, 1},
    {36, 36, 16, 16, 86, 42, 1},      {40, 40, 18, 18, 114, 48, 1},
    {44, 44, 20, 20, 144, 56, 1},     {48, 48, 22, 22, 174, 68, 1},
    {52, 52, 24, 24, 204, 84, 2},     {64, 64, 14, 14, 280, 112, 2},
    {72, 72, 16, 16, 368, 144, 4},    {80, 80, 18, 18, 456, 192, 4},
    {88, 88, 20, 20, 576, 224, 4},    {96, 96, 22, 22, 696, 272, 4},
    {104, 104, 24, 24, 816, 336, 6},  {120, 120, 18, 18, 1050, 408, 6},
    {132, 132, 20, 20, 1304, 496, 8}, {144, 144, 22, 22, 1558, 620, 10},
}};

constexpr std::array<SymbolSize, 6> kRectangular{{
    {8, 18, 6, 16, 5, 7, 1},
    {8, 32, 6, 14, 10, 11, 1},
    {12, 26, 10, 24, 16, 14, 1},
    {12, 36, 10, 16, 22, 18, 1},
    {16, 36, 14, 16, 32, 24, 1},
    {16, 48, 14, 22, 49, 28, 1},
}};

// GF(256) over x^8 + x^5 + x^3 + x^2 + 1, with 2 as the primitive element.
struct Field {
  std::array<std::uint8_t, 255> exp{};
  std::array<int, 256> log{};

  constexpr Field() {
    int x = 1;
    for (int i = 0; i < 255; ++i) {
      exp[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(x);
      log[static_cast<std::size_t>(x)] = i;
      x <<= 1;
      if (x & 0x100) {
        x ^= 0x12D;
      }
    }
  }

  constexpr std::uint8_t mul(std::uint8_t a, std::uint8_t b) const {
    if (a == 0 || b == 0) {
      return 0;
    }
    return exp[static_cast<std::size_t>((log[a] + log[b]) % 255)];
  }
};

constexpr Field kField;

// Annex F: the mapping matrix of nrow x ncol modules, each naming the codeword and bit that
// goes there (or a fixed dark or light module in the bottom-right corner when the codewords
// leave four modules over).
class Placement {
 public:
  Placement(int nrow, int ncol)
      : nrow_(nrow), ncol_(ncol), cells_(static_cast<std::size_t>(nrow) * ncol, kUnset) {}

  void run() {
    int chr = 0;
    int row = 4;
    int col = 0;
    do {
      // The four corner shapes, each where the diagonal sweep would leave the matrix.
      if (row == nrow_ && col == 0) {
        corner1(chr++);
      }
      if (row == nrow_ - 2 && col == 0 && ncol_ % 4 != 0) {
        corner2(chr++);
      }
      if (row == nrow_ - 2 && col == 0 && ncol_ % 8 == 4) {
        corner3(chr++);
      }
      if (row == nrow_ + 4 && col == 2 && ncol_ % 8 == 0) {
        corner4(chr++);
      }
      // Up and to the right...
      do {
        if (row < nrow_ && col >= 0 && at(row, col) == kUnset) {
          utah(row, col, chr++);
        }
        row -= 2;
        col += 2;
      } while (row >= 0 && col < ncol_);
      row += 1;
      col += 3;
      // ...then down and to the left.
      do {
        if (row >= 0 && col < ncol_ && at(row, col) == kUnset) {
          utah(row, col, chr++);
        }
        row += 2;
        col -= 2;
      } while (row < nrow_ && col >= 0);
      row += 3;
      col += 1;
    } while (row < nrow_ || col < ncol_);
    // Sizes whose module count is not a multiple of 8 keep a 2x2 corner: dark on its diagonal.
    if (at(nrow_ - 1, ncol_ - 1) == kUnset) {
      at(nrow_ - 1, ncol_ - 1) = kDark;
      at(nrow_ - 2, ncol_ - 2) = kDark;
    }
  }

  // Dark or light, given the codewords.
  bool dark(int row, int col, std::span<const std::uint8_t> codewords) const {
    const int cell = cells_[static_cast<std::size_t>(row) * ncol_ + col];
    if (cell == kDark) {
      return true;
    }
    if (cell < 0) {
      return false;  // kUnset: a light module of the corner pattern
    }
    const int chr = cell / 8;
    const int bit = cell % 8;  // 0 is the most significant bit
    return (codewords[static_cast<std::size_t>(chr)] >> (7 - bit)) & 1;
  }

 private:
  static constexpr int kUnset = -1;
  static constexpr int kDark = -2;

  int& at(int row, int col) { return cells_[static_cast<std::size_t>(row) * ncol_ + col]; }

  // Bit `bit` (1 = most significant, as Annex F counts) of codeword `chr` at (row, col), which
  // wraps around the matrix's edges as Annex F prescribes.
  void module(int row, int col, int chr, int bit) {
    if (row < 0) {
      row += nrow_;
      col += 4 - ((nrow_ + 4) % 8);
    }
    if (col < 0) {
      col += ncol_;
      row += 4 - ((ncol_ + 4) % 8);
    }
    at(row, col) = chr * 8 + bit - 1;
  }

  // The usual shape of a codeword: bits 1-8 in the 3x3 block ending at (row, col), less its
  // top-right module.
  void utah(int row, int col, int chr) {
    module(row - 2, col - 2, chr, 1);
    module(row - 2, col - 1, chr, 2);
    module(row - 1, col - 2, chr, 3);
    module(row - 1, col - 1, chr, 4);
    module(row - 1, col, chr, 5);
    module(row, col - 2, chr, 6);
    module(row, col - 1, chr, 7);
    module(row, col, chr, 8);
  }

  void corner1(int chr) {
    module(nrow_ - 1, 0, chr, 1);
    module(nrow_ - 1, 1, chr, 2);
    module(nrow_ - 1, 2, chr, 3);
    module(0, ncol_ - 2, chr, 4);
    module(0, ncol_ - 1, chr, 5);
    module(1, ncol_ - 1, chr, 6);
    module(2, ncol_ - 1, chr, 7);
    module(3, ncol_ - 1, chr, 8);
  }

  void corner2(int chr) {
    module(nrow_ - 3, 0, chr, 1);
    module(nrow_ - 2, 0, chr, 2);
    module(nrow_ - 1, 0, chr, 3);
    module(0, ncol_ - 4, chr, 4);
    module(0, ncol_ - 3, chr, 5);
    module(0, ncol_ - 2, chr, 6);
    module(0, ncol_ - 1, chr, 7);
    module(1, ncol_ - 1, chr, 8);
  }

  void corner3(int chr) {
    module(nrow_ - 3, 0, chr, 1);
    module(nrow_ - 2, 0, chr, 2);
    module(nrow_ - 1, 0, chr, 3);
    module(0, ncol_ - 2, chr, 4);
    module(0, ncol_ - 1, chr, 5);
    module(1, ncol_ - 1, chr, 6);
    module(2, ncol_ - 1, chr, 7);
    module(3, ncol_ - 1, chr, 8);
  }

  void corner4(int chr) {
    module(nrow_ - 1, 0, chr, 1);
    module(nrow_ - 1, ncol_ - 1, chr, 2);
    module(0, ncol_ - 3, chr, 3);
    module(0, ncol_ - 2, chr, 4);
    module(0, ncol_ - 1, chr, 5);
    module(1, ncol_ - 3, chr, 6);
    module(1, ncol_ - 2, chr, 7);
    module(1, ncol_ - 1, chr, 8);
  }

  int nrow_;
  int ncol_;
  std::vector<int> cells_;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::span<const SymbolSize> square_sizes() {
  return kSquare;
}

std::span<const SymbolSize> rectangular_sizes() {
  return kRectangular;
}

std::vector<std::uint8_t> ascii_codewords(std::string_view data, bool gs1) {
  std::vector<std::uint8_t> out;
  out.reserve(data.size() + 1);
  if (gs1) {
    out.push_back(kFnc1);
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (gs1 && c == 0x1D) {
      out.push_back(kFnc1);
    } else if (is_digit(data[i]) && i + 1 < data.size() && is_digit(data[i + 1])) {
      out.push_back(static_cast<std::uint8_t>(130 + (c - '0') * 10 + (data[i + 1] - '0')));
      ++i;
    } else if (c > 127) {
      out.push_back(kUpperShift);
      out.push_back(static_cast<std::uint8_t>(c - 127));
    } else {
      out.push_back(static_cast<std::uint8_t>(c + 1));
    }
  }
  return out;
}

void pad_codewords(std::vector<std::uint8_t>& codewords, int capacity) {
  const auto target = static_cast<std::size_t>(capacity);
  if (codewords.size() < target) {
    codewords.push_back(kPad);
  }
  while (codewords.size() < target) {
    // 253-state randomising of the pad value 129 at its 1-based position in the data.
    const int position = static_cast<int>(codewords.size()) + 1;
    int value = kPad + (149 * position) % 253 + 1;
    if (value > 254) {
      value -= 254;
    }
    codewords.push_back(static_cast<std::uint8_t>(value));
  }
}

std::vector<std::uint8_t> reed_solomon(std::span<const std::uint8_t> data, int count) {
  const auto n = static_cast<std::size_t>(count);
  // The generator (x - 2^1)(x - 2^2)...(x - 2^n), highest power first; minus is plus in GF(2^8).
  std::vector<std::uint8_t> gen(n + 1, 0);
  gen[0] = 1;
  for (std::size_t i = 1; i <= n; ++i) {
    const std::uint8_t root = kField.exp[i % 255];
    for (std::size_t j = i; j >= 1; --j) {
      gen[j] = static_cast<std::uint8_t>(gen[j] ^ kField.mul(gen[j - 1], root));
    }
  }
  // The remainder of data(x) * x^n divided by the generator, as a shift register.
  std::vector<std::uint8_t> ecc(n, 0);
  for (const std::uint8_t d : data) {
    const std::uint8_t factor = static_cast<std::uint8_t>(d ^ ecc[0]);
    for (std::size_t j = 0; j + 1 < n; ++j) {
      ecc[j] = static_cast<std::uint8_t>(ecc[j + 1] ^ kField.mul(factor, gen[j + 1]));
    }
    ecc[n - 1] = kField.mul(factor, gen[n]);
  }
  return ecc;
}

std::vector<std::uint8_t> with_error_correction(std::span<const std::uint8_t> data,
                                                const SymbolSize& size) {
  const auto blocks = static_cast<std::size_t>(size.blocks);
  const auto data_total = static_cast<std::size_t>(size.data_codewords);
  const int ecc_per_block = size.ecc_codewords / size.blocks;
  // The codewords are the blocks, each its data then its check codewords, read across codeword
  // by codeword. When the data does not split evenly (144x144: blocks 0-7 have 156 data
  // codewords, 8 and 9 have 155), the shorter blocks reach their check codewords one step
  // earlier, so every row of check codewords begins with theirs: the first check codeword
  // after the data is block 8's, then block 9's, then block 0's.
  const std::size_t longer = data_total % blocks;
  std::vector<std::uint8_t> out(data.begin(), data.end());
  out.resize(data_total + static_cast<std::size_t>(size.ecc_codewords), 0);
  std::vector<std::uint8_t> block;
  for (std::size_t b = 0; b < blocks; ++b) {
    block.clear();
    for (std::size_t i = b; i < data_total; i += blocks) {
      block.push_back(data[i]);
    }
    const std::vector<std::uint8_t> ecc = reed_solomon(block, ecc_per_block);
    for (std::size_t j = 0; j < ecc.size(); ++j) {
      out[data_total + j * blocks + (b + blocks - longer) % blocks] = ecc[j];
    }
  }
  return out;
}

std::vector<std::uint8_t> place_modules(std::span<const std::uint8_t> codewords,
                                        const SymbolSize& size) {
  const int across = size.regions_across();
  const int down = size.regions_down();
  Placement placement(down * size.region_rows, across * size.region_cols);
  placement.run();

  std::vector<std::uint8_t> modules(static_cast<std::size_t>(size.rows) * size.cols, 0);
  const int region_h = size.region_rows + 2;
  const int region_w = size.region_cols + 2;
  for (int y = 0; y < size.rows; ++y) {
    const int ry = y % region_h;  // row within its region, finder and clock included
    for (int x = 0; x < size.cols; ++x) {
      const int rx = x % region_w;
      bool dark = false;
      if (rx == 0 || ry == region_h - 1) {
        dark = true;  // the solid L: left column, bottom row
      } else if (ry == 0) {
        dark = rx % 2 == 0;  // the clock track along the top, dark first
      } else if (rx == region_w - 1) {
        dark = ry % 2 == 1;  // the clock track down the right, light first
      } else {
        dark = placement.dark((y / region_h) * size.region_rows + ry - 1,
                              (x / region_w) * size.region_cols + rx - 1, codewords);
      }
      modules[static_cast<std::size_t>(y) * size.cols + x] = dark ? 1 : 0;
    }
  }
  return modules;
}

Symbol encode(std::string_view data, bool gs1, bool rectangular) {
  Symbol s;
  std::vector<std::uint8_t> codewords = ascii_codewords(data, gs1);
  const std::span<const SymbolSize> sizes = rectangular ? rectangular_sizes() : square_sizes();
  for (const SymbolSize& size : sizes) {
    if (static_cast<int>(codewords.size()) <= size.data_codewords) {
      s.size = &size;
      break;
    }
  }
  s.data_codewords_used = static_cast<int>(codewords.size());
  if (s.size == nullptr) {
    const SymbolSize& largest = sizes.back();
    s.error = fmt::format(
        "{} bytes make {} data codewords, more than the largest {} DataMatrix ({}x{}) holds: {}",
        data.size(), codewords.size(), rectangular ? "rectangular" : "square", largest.rows,
        largest.cols, largest.data_codewords);
    return s;
  }
  pad_codewords(codewords, s.size->data_codewords);
  s.codewords = with_error_correction(codewords, *s.size);
  s.modules = place_modules(s.codewords, *s.size);
  return s;
}

}  // namespace packbench::labels::datamatrix

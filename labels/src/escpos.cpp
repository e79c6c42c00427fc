#include "packbench/labels/escpos.hpp"

#include <algorithm>
#include <cstring>

namespace packbench::labels {
namespace {

constexpr char kEsc = 0x1B;
constexpr char kGs = 0x1D;
constexpr char kLf = 0x0A;

// GS ( k with cn = 49 (QR Code): pL pH count the bytes after them (cn, fn and parameters).
void append_qr_function(std::string& out, char fn, std::string_view params) {
  const std::size_t size = 2 + params.size();
  out += {kGs, '(', 'k', static_cast<char>(size & 0xFF), static_cast<char>(size >> 8), '1', fn};
  out += params;
}

}  // namespace

std::string escpos_raster(const Bitmap& bitmap, int band_rows) {
  std::string out;
  if (bitmap.width() <= 0 || bitmap.height() <= 0) {
    return out;
  }
  band_rows = std::clamp(band_rows, 1, 2303);
  const int stride = bitmap.stride();
  out.reserve(bitmap.bytes().size() +
              8 * static_cast<std::size_t>(bitmap.height() / band_rows + 1));
  for (int top = 0; top < bitmap.height(); top += band_rows) {
    const int rows = std::min(band_rows, bitmap.height() - top);
    // GS v 0 m xL xH yL yH d1...dk ("Print raster bit image"): m = 0 normal density,
    // x = bytes per row, y = rows; each byte's MSB is the leftmost dot, 1 prints.
    out += {kGs,
            'v',
            '0',
            0,
            static_cast<char>(stride & 0xFF),
            static_cast<char>(stride >> 8),
            static_cast<char>(rows & 0xFF),
            static_cast<char>(rows >> 8)};
    out.append(reinterpret_cast<const char*>(bitmap.row(top)),
               static_cast<std::size_t>(stride) * static_cast<std::size_t>(rows));
  }
  return out;
}

std::optional<std::string> escpos_qr(const EscposQr& qr) {
  // Function 180's range: 4 <= pL + pH * 256 <= 7092, so 1 to 7089 bytes of data.
  if (qr.data.empty() || qr.data.size() > 7089 || qr.module_dots < 1 || qr.module_dots > 16) {
    return std::nullopt;
  }
  std::string out;
  // ESC a n: justification, which applies to 2D symbols printed from the line start.
  out += {kEsc, 'a', static_cast<char>(qr.align)};
  // Function 165: select model; n1 = 50 (model 2), n2 = 0.
  append_qr_function(out, 'A', std::string_view("2\0", 2));
  // Function 167: module size in dots.
  append_qr_function(out, 'C', std::string(1, static_cast<char>(qr.module_dots)));
  // Function 169: error correction level, 48..51 = L, M, Q, H.
  append_qr_function(out, 'E', std::string(1, static_cast<char>(qr.ecc)));
  // Function 180: store the data in the symbol storage area; m = 48.
  append_qr_function(out, 'P', "0" + qr.data);
  // Function 181: print the stored symbol; m = 48.
  append_qr_function(out, 'Q', "0");
  // Back to left justification, which raster bands after this expect.
  out += {kEsc, 'a', 0};
  return out;
}

std::string escpos_cut(EscposCut cut) {
  // GS V m n, Function B (m = 65 full, 66 partial): feeds to the cutting position plus n
  // motion units, then cuts, so the last rows printed clear the cutter. Epson processes GS V
  // only at the beginning of a line; every block we emit ends at one.
  switch (cut) {
    case EscposCut::kNone:
      return {};
    case EscposCut::kFull:
      return {kGs, 'V', 'A', 0};
    case EscposCut::kPartial:
      return {kGs, 'V', 'B', 0};
  }
  return {};
}

EscposJob escpos_job(std::span<const EscposBlock> blocks, const EscposProfile& profile) {
  EscposJob job;
  // ESC @: initialise, clearing modes an earlier job may have left (justification, line
  // spacing, a stored QR).
  job.bytes += {kEsc, '@'};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (const auto* bitmap = std::get_if<Bitmap>(&blocks[i])) {
      if (bitmap->width() > profile.print_width_dots) {
        job.error = "block " + std::to_string(i) + ": bitmap is " +
                    std::to_string(bitmap->width()) + " dots wide, the printer prints " +
                    std::to_string(profile.print_width_dots);
        return job;
      }
      job.bytes += escpos_raster(*bitmap, profile.band_rows);
    } else {
      const auto& qr = std::get<EscposQr>(blocks[i]);
      if (!profile.native_qr) {
        job.error = "block " + std::to_string(i) +
                    ": native QR asked of a profile without it; rasterise the QR instead";
        return job;
      }
      const auto bytes = escpos_qr(qr);
      if (!bytes) {
        job.error = "block " + std::to_string(i) + ": QR data or module size out of range";
        return job;
      }
      job.bytes += *bytes;
    }
  }
  job.bytes += escpos_cut(profile.cut);
  return job;
}

EscposJob escpos_job(const Bitmap& bitmap, const EscposProfile& profile) {
  const EscposBlock block = bitmap;
  return escpos_job(std::span<const EscposBlock>(&block, 1), profile);
}

EscposParsed escpos_parse(std::string_view in) {
  EscposParsed out;
  struct Band {
    int stride, rows;
    std::string_view data;
  };
  std::vector<Band> bands;
  std::string stored_qr;
  bool line_pending = false;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(in[i]); };
  auto fail = [&](std::size_t at, const std::string& why) {
    out.error = "byte " + std::to_string(at) + ": " + why;
  };
  std::size_t i = 0;
  while (i < in.size() && out.error.empty()) {
    const std::size_t left = in.size() - i;
    if (in[i] == kEsc && left >= 2 && in[i + 1] == '@') {
      ++out.initialisations;
      stored_qr.clear();
      line_pending = false;
      i += 2;
    } else if (in[i] == kEsc && left >= 3 && in[i + 1] == 'a') {
      if (byte(i + 2) > 2 && (byte(i + 2) < 48 || byte(i + 2) > 50)) {
        fail(i, "ESC a with n out of range");
      }
      i += 3;
    } else if (in[i] == kGs && left >= 8 && in[i + 1] == 'v' && in[i + 2] == '0') {
      const int stride = byte(i + 4) | (byte(i + 5) << 8);
      const int rows = byte(i + 6) | (byte(i + 7) << 8);
      const std::size_t size = static_cast<std::size_t>(stride) * static_cast<std::size_t>(rows);
      if (stride == 0 || rows == 0 || left - 8 < size) {
        fail(i, "GS v 0 with an empty or truncated raster");
        break;
      }
      bands.push_back({stride, rows, in.substr(i + 8, size)});
      out.band_heights.push_back(rows);
      i += 8 + size;
    } else if (in[i] == kGs && left >= 7 && in[i + 1] == '(' && in[i + 2] == 'k') {
      const std::size_t size = byte(i + 3) | (byte(i + 4) << 8);
      if (size < 2 || left - 5 < size || in[i + 5] != '1') {
        fail(i, "GS ( k truncated or not a QR function");
        break;
      }
      const char fn = in[i + 6];
      const std::string_view params = in.substr(i + 7, size - 2);
      if (fn == 'A' && params.size() == 2) {
        // model: nothing to record beyond accepting it
      } else if (fn == 'C' && params.size() == 1) {
        out.qr_module_dots = static_cast<std::uint8_t>(params[0]);
      } else if (fn == 'E' && params.size() == 1) {
        out.qr_ecc = static_cast<std::uint8_t>(params[0]);
      } else if (fn == 'P' && !params.empty() && params[0] == '0') {
        stored_qr = std::string(params.substr(1));
      } else if (fn == 'Q' && params == "0") {
        out.qr_data.push_back(stored_qr);
      } else {
        fail(i, "GS ( k QR function not understood");
      }
      i += 5 + size;
    } else if (in[i] == kGs && left >= 3 && in[i + 1] == 'V') {
      const std::uint8_t m = byte(i + 2);
      std::size_t length = 3;
      if (m == 65 || m == 66) {
        length = 4;
      } else if (m != 0 && m != 1 && m != 48 && m != 49) {
        fail(i, "GS V with m out of range");
      }
      if (left < length) {
        fail(i, "GS V truncated");
        break;
      }
      ++out.cuts;
      out.cut_at_line_start = out.cut_at_line_start && !line_pending;
      i += length;
    } else if (in[i] == kLf) {
      line_pending = false;
      ++i;
    } else if (byte(i) >= 0x20 && byte(i) < 0x7F) {
      line_pending = true;  // text waits in the line buffer until LF
      ++i;
    } else {
      fail(i, "command not understood");
    }
  }
  int width_bytes = 0;
  int height = 0;
  for (const auto& band : bands) {
    width_bytes = std::max(width_bytes, band.stride);
    height += band.rows;
  }
  out.raster = Bitmap(width_bytes * 8, height);
  int y = 0;
  for (const auto& band : bands) {
    for (int r = 0; r < band.rows; ++r, ++y) {
      std::memcpy(
          out.raster.row(y),
          band.data.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(band.stride),
          static_cast<std::size_t>(band.stride));
    }
  }
  return out;
}

}  // namespace packbench::labels

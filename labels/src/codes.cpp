#include "packbench/labels/codes.hpp"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <fmt/format.h>
#include <qrencode.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "datamatrix.hpp"
#include "gs1_element_string.hpp"

namespace packbench::labels {
namespace {

// ISO/IEC 18004: the quiet zone around a QR symbol is 4 modules wide on every side.
constexpr int kQrQuietModules = 4;

CodeRaster fail(std::string message) {
  CodeRaster r;
  r.error = std::move(message);
  return r;
}

// Smallest whole number of dots at least `mm` wide; the tolerance keeps 0.25 mm at 203 dpi
// (1.998 dots) at 2 rather than 3.
int dots_for_mm(double mm, int dpi) {
  return static_cast<int>(std::ceil(mm * dpi / 25.4 - 1e-2));
}

const char* ecc_name(QrEcc ecc) {
  switch (ecc) {
    case QrEcc::L:
      return "L";
    case QrEcc::M:
      return "M";
    case QrEcc::Q:
      return "Q";
    case QrEcc::H:
      return "H";
  }
  return "?";
}

QRecLevel qr_level(QrEcc ecc) {
  switch (ecc) {
    case QrEcc::L:
      return QR_ECLEVEL_L;
    case QrEcc::M:
      return QR_ECLEVEL_M;
    case QrEcc::Q:
      return QR_ECLEVEL_Q;
    case QrEcc::H:
      return QR_ECLEVEL_H;
  }
  return QR_ECLEVEL_M;
}

const char* type_name(BarcodeType type) {
  switch (type) {
    case BarcodeType::code128:
      return "Code 128";
    case BarcodeType::gs1_128:
      return "GS1-128";
    case BarcodeType::ean13:
      return "EAN-13";
    case BarcodeType::upca:
      return "UPC-A";
    case BarcodeType::datamatrix:
      return "DataMatrix";
    case BarcodeType::gs1_datamatrix:
      return "GS1 DataMatrix";
  }
  return "barcode";
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool all_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c > 127) {
      return false;
    }
  }
  return true;
}

// EAN-13 and UPC-A data with the check digit: added when `length - 1` digits are given,
// verified when `length` are.
std::optional<std::string> with_check_digit(std::string_view data, std::size_t length,
                                            std::string& error) {
  if (!all_digits(data) || (data.size() != length && data.size() != length - 1)) {
    error = fmt::format("needs {} or {} digits, got \"{}\"", length - 1, length, data);
    return std::nullopt;
  }
  const char check = gs1_check_digit(data.substr(0, length - 1));
  if (data.size() == length && data.back() != check) {
    error = fmt::format("check digit of \"{}\" should be {}", data, check);
    return std::nullopt;
  }
  return std::string(data.substr(0, length - 1)) + check;
}

// ISO/IEC 16022 asks for a quiet zone of one module on every side of a DataMatrix symbol.
constexpr int kDataMatrixQuietModules = 1;

CodeRaster render_datamatrix(std::string_view data, const BarcodeSpec& spec) {
  const bool gs1 = spec.type == BarcodeType::gs1_datamatrix;
  const char* name = type_name(spec.type);
  std::string payload;
  if (gs1) {
    std::string error;
    auto elements = gs1_element_strings(data, error);
    if (!elements) {
      return fail(fmt::format("{} data: {}", name, error));
    }
    payload = std::move(*elements);
  } else {
    payload = data;
  }
  const datamatrix::Symbol symbol =
      datamatrix::encode(payload, gs1, spec.shape == DataMatrixShape::rectangle);
  if (!symbol) {
    return fail(fmt::format("{}: {}", name, symbol.error));
  }
  const int rows = symbol.size->rows;
  const int cols = symbol.size->cols;
  const int module =
      spec.module_dots > 0 ? spec.module_dots : std::max(1, dots_for_mm(0.5, spec.dpi));
  const int width = (cols + 2 * kDataMatrixQuietModules) * module;
  const int height = (rows + 2 * kDataMatrixQuietModules) * module;
  if ((spec.max_width > 0 && width > spec.max_width) || (spec.height > 0 && height > spec.height)) {
    return fail(fmt::format(
        "{} of {} bytes is {}x{} modules ({} of its {} data codewords used) plus a {}-module "
        "quiet zone each side; at {} dots per module that is {}x{} dots, but the box allows {}x{}",
        name, data.size(), rows, cols, symbol.data_codewords_used, symbol.size->data_codewords,
        kDataMatrixQuietModules, module, width, height,
        spec.max_width > 0 ? std::to_string(spec.max_width) : "any",
        spec.height > 0 ? std::to_string(spec.height) : "any"));
  }

  CodeRaster r;
  r.ok = true;
  r.module_dots = module;
  r.modules_wide = cols;
  r.modules_high = rows;
  r.quiet_zone_dots = kDataMatrixQuietModules * module;
  r.bitmap = Bitmap(width, height);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      if (symbol.modules[static_cast<std::size_t>(y) * cols + x]) {
        r.bitmap.fill(r.quiet_zone_dots + x * module, r.quiet_zone_dots + y * module, module,
                      module);
      }
    }
  }
  return r;
}

}  // namespace

int min_qr_module_dots(int dpi) {
  return std::max(1, (4 * dpi + 202) / 203);
}

CodeRaster render_qr(std::string_view payload, const QrSpec& spec) {
  if (spec.dpi <= 0 || spec.max_width <= 0 || spec.max_height <= 0) {
    return fail(fmt::format("QR box {}x{} dots at {} dpi is not a drawable area", spec.max_width,
                            spec.max_height, spec.dpi));
  }
  if (payload.empty()) {
    return fail("QR payload is empty");
  }
  // 8-bit byte mode over the exact bytes: no mode switching, no Kanji mode, so what a phone
  // reads is byte for byte what was given.
  errno = 0;
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(payload.size()),
                        reinterpret_cast<const unsigned char*>(payload.data()), 0,
                        qr_level(spec.ecc)),
      &QRcode_free);
  if (!code) {
    if (errno == ERANGE) {
      return fail(fmt::format("QR payload of {} bytes is too large for any QR version at ECC {}",
                              payload.size(), ecc_name(spec.ecc)));
    }
    return fail(fmt::format("QR encoding of {} bytes failed (errno {})", payload.size(), errno));
  }
  const int modules = code->width;
  const int with_quiet = modules + 2 * kQrQuietModules;
  const int min_module =
      spec.min_module_dots > 0 ? spec.min_module_dots : min_qr_module_dots(spec.dpi);
  const int module = std::min(spec.max_width, spec.max_height) / with_quiet;
  if (module < min_module) {
    return fail(fmt::format(
        "QR of {} bytes at ECC {} is version {}, {} modules plus a {}-module quiet zone each "
        "side; at the minimum of {} dots per module at {} dpi it needs {}x{} dots, but the box "
        "is {}x{}",
        payload.size(), ecc_name(spec.ecc), code->version, modules, kQrQuietModules, min_module,
        spec.dpi, with_quiet * min_module, with_quiet * min_module, spec.max_width,
        spec.max_height));
  }

  CodeRaster r;
  r.ok = true;
  r.module_dots = module;
  r.modules_wide = modules;
  r.modules_high = modules;
  r.quiet_zone_dots = kQrQuietModules * module;
  r.bitmap = Bitmap(with_quiet * module, with_quiet * module);
  for (int y = 0; y < modules; ++y) {
    for (int x = 0; x < modules; ++x) {
      // libqrencode: bit 0 of each byte is the module's colour, 1 = dark.
      if (code->data[y * modules + x] & 1) {
        r.bitmap.fill(r.quiet_zone_dots + x * module, r.quiet_zone_dots + y * module, module,
                      module);
      }
    }
  }
  return r;
}

CodeRaster render_barcode(std::string_view data, const BarcodeSpec& spec) {
  const char* name = type_name(spec.type);
  if (spec.dpi <= 0 || spec.module_dots < 0 || spec.height < 0 || spec.max_width < 0) {
    return fail(fmt::format("{}: module {} dots, height {} dots at {} dpi is not drawable", name,
                            spec.module_dots, spec.height, spec.dpi));
  }
  if (data.empty()) {
    return fail(fmt::format("{} data is empty", name));
  }

  ZXing::BarcodeFormat format = ZXing::BarcodeFormat::Code128;
  std::wstring contents;
  double default_module_mm = 0.25;
  int quiet_left = 10;
  int quiet_right = 10;
  std::string error;
  switch (spec.type) {
    case BarcodeType::code128:
      if (!all_ascii(data)) {
        return fail(fmt::format("Code 128 carries ASCII only, got \"{}\"", data));
      }
      contents.assign(data.begin(), data.end());
      break;
    case BarcodeType::gs1_128: {
      const auto elements = gs1_element_strings(data, error);
      if (!elements) {
        return fail("GS1-128 data: " + error);
      }
      // ZXing-C++'s Code 128 writer takes U+00F1 as FNC1; first, it makes the symbol GS1-128
      // (symbology identifier ]C1), and in place of GS it separates element strings.
      contents.push_back(L'\u00f1');
      for (char c : *elements) {
        contents.push_back(c == '\x1d' ? L'\u00f1' : static_cast<wchar_t>(c));
      }
      default_module_mm = 0.495;
      break;
    }
    case BarcodeType::ean13: {
      const auto digits = with_check_digit(data, 13, error);
      if (!digits) {
        return fail("EAN-13 " + error);
      }
      contents.assign(digits->begin(), digits->end());
      format = ZXing::BarcodeFormat::EAN13;
      default_module_mm = 0.33;
      quiet_left = 11;
      quiet_right = 7;
      break;
    }
    case BarcodeType::upca: {
      const auto digits = with_check_digit(data, 12, error);
      if (!digits) {
        return fail("UPC-A " + error);
      }
      contents.assign(digits->begin(), digits->end());
      format = ZXing::BarcodeFormat::UPCA;
      default_module_mm = 0.33;
      quiet_left = 9;
      quiet_right = 9;
      break;
    }
    case BarcodeType::datamatrix:
    case BarcodeType::gs1_datamatrix:
      return render_datamatrix(data, spec);
  }

  ZXing::BitMatrix matrix;
  try {
    // Margin 0 and size 0: one element per module, quiet zones added below in whole modules.
    matrix = ZXing::MultiFormatWriter(format).setMargin(0).encode(contents, 0, 0);
  } catch (const std::exception& e) {
    return fail(fmt::format("{} cannot encode \"{}\": {}", name, data, e.what()));
  }
  const int modules_wide = matrix.width();
  if (modules_wide <= 0) {
    return fail(fmt::format("{} produced an empty symbol for \"{}\"", name, data));
  }

  const int module = spec.module_dots > 0 ? spec.module_dots
                                          : std::max(1, dots_for_mm(default_module_mm, spec.dpi));
  const int width = (quiet_left + modules_wide + quiet_right) * module;
  if (spec.max_width > 0 && width > spec.max_width) {
    return fail(
        fmt::format("{} of \"{}\" is {} modules plus quiet zones, {} dots wide at {} dots "
                    "per module; the box allows {}",
                    name, data, modules_wide, width, module, spec.max_width));
  }
  int bar_height = spec.height;
  if (bar_height == 0) {
    bar_height =
        format == ZXing::BarcodeFormat::Code128
            ? std::max((modules_wide * module * 15 + 99) / 100, dots_for_mm(6.35, spec.dpi))
            : 69 * module;
  }

  CodeRaster r;
  r.ok = true;
  r.module_dots = module;
  r.modules_wide = modules_wide;
  r.modules_high = 1;
  r.quiet_zone_dots = quiet_left * module;
  // A linear symbol's quiet zones are left and right only: above and below is the caller's.
  r.bitmap = Bitmap(width, bar_height);
  for (int x = 0; x < modules_wide; ++x) {
    if (matrix.get(x, 0)) {
      r.bitmap.fill((quiet_left + x) * module, 0, module, bar_height);
    }
  }
  return r;
}

}  // namespace packbench::labels

#include "packbench/labels/png.hpp"

#include <png.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace packbench::labels {
namespace {

void write_to_string(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), size);
}

void flush_nothing(png_structp) {}

// libpng's default handlers print to stderr; the caller gets the failure as a value instead.
[[noreturn]] void error_quietly(png_structp png, png_const_charp) {
  png_longjmp(png, 1);
}
void warn_quietly(png_structp, png_const_charp) {}

struct ReadCursor {
  std::string_view data;
  std::size_t pos = 0;
};

void read_from_view(png_structp png, png_bytep out, png_size_t size) {
  auto* cursor = static_cast<ReadCursor*>(png_get_io_ptr(png));
  if (cursor->data.size() - cursor->pos < size) {
    png_error(png, "PNG data ends early");
  }
  std::memcpy(out, cursor->data.data() + cursor->pos, size);
  cursor->pos += size;
}

// libpng reports errors by longjmp; everything it touches between setjmp and the jump must be
// plain data, so the C++ objects live outside the functions that call setjmp.
bool encode_rows(const Bitmap& bitmap, int dpi, const std::vector<std::uint8_t>& inverted,
                 std::string& out) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, error_quietly, warn_quietly);
  if (png == nullptr) {
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &out, write_to_string, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(bitmap.width()),
               static_cast<png_uint_32>(bitmap.height()), 1, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (dpi > 0) {
    // pHYs counts pixels per metre: 203 dpi is 7992.
    const auto per_metre = static_cast<png_uint_32>(std::lround(dpi / 0.0254));
    png_set_pHYs(png, info, per_metre, per_metre, PNG_RESOLUTION_METER);
  }
  // Row filters rarely pay on 1-bit images (PNG spec §12.8 recommends none below 8 bits).
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_write_info(png, info);
  for (int y = 0; y < bitmap.height(); ++y) {
    png_write_row(png, inverted.data() + static_cast<std::size_t>(y) * bitmap.stride());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::optional<std::string> png_encode(const Bitmap& bitmap, int dpi) {
  if (bitmap.width() <= 0 || bitmap.height() <= 0) {
    return std::nullopt;
  }
  // 1-bit greyscale PNG has 0 = black; our 1 is black, so every bit flips (pad bits included,
  // which PNG ignores).
  std::vector<std::uint8_t> inverted(bitmap.bytes());
  for (auto& b : inverted) {
    b = static_cast<std::uint8_t>(~b);
  }
  std::string out;
  if (!encode_rows(bitmap, dpi, inverted, out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> png_write_file(const Bitmap& bitmap, const std::string& path, int dpi) {
  const auto bytes = png_encode(bitmap, dpi);
  if (!bytes) {
    return "PNG encoding failed";
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"),
                                                       &std::fclose);
  if (!file) {
    return "cannot open " + path + ": " + std::strerror(errno);
  }
  if (std::fwrite(bytes->data(), 1, bytes->size(), file.get()) != bytes->size()) {
    return "cannot write " + path + ": " + std::strerror(errno);
  }
  if (std::fclose(file.release()) != 0) {
    return "cannot close " + path + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

namespace {

// Reads into `grey` (8-bit, width * height); false with `error` set on failure.
bool decode_grey(ReadCursor& cursor, std::vector<std::uint8_t>& grey, png_uint_32& width,
                 png_uint_32& height, png_uint_32& per_metre, std::string& error) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, error_quietly, warn_quietly);
  if (png == nullptr) {
    error = "libpng could not start";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    error = "not a readable PNG";
    return false;
  }
  png_set_read_fn(png, &cursor, read_from_view);
  png_read_info(png, info);
  width = png_get_image_width(png, info);
  height = png_get_image_height(png, info);
  int unit = 0;
  png_uint_32 res_x = 0;
  png_uint_32 res_y = 0;
  if (png_get_pHYs(png, info, &res_x, &res_y, &unit) != 0 && unit == PNG_RESOLUTION_METER) {
    per_metre = res_x;
  }
  // Everything to 8-bit grey with alpha, so one loop reads any colour type.
  const int colour = png_get_color_type(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  if (colour == PNG_COLOR_TYPE_RGB || colour == PNG_COLOR_TYPE_RGB_ALPHA ||
      colour == PNG_COLOR_TYPE_PALETTE) {
    png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  }
  if ((colour & PNG_COLOR_MASK_ALPHA) == 0) {
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
  }
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<png_size_t>(width) * 2) {
    png_error(png, "unexpected row layout");
  }
  // Row by row into the caller's buffer: no local C++ object for a longjmp to skip.
  grey.resize(static_cast<std::size_t>(width) * height * 2);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, grey.data() + static_cast<std::size_t>(y) * width * 2, nullptr);
    }
  }
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

PngDecoded png_decode(std::string_view data) {
  PngDecoded out;
  if (data.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(data.data()), 0, 8) != 0) {
    out.error = "not a PNG (signature)";
    return out;
  }
  ReadCursor cursor{data, 0};
  std::vector<std::uint8_t> grey_alpha;
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  png_uint_32 per_metre = 0;
  if (!decode_grey(cursor, grey_alpha, width, height, per_metre, out.error)) {
    return out;
  }
  if (per_metre > 0) {
    out.dpi = static_cast<int>(std::lround(per_metre * 0.0254));
  }
  out.bitmap = Bitmap(static_cast<int>(width), static_cast<int>(height));
  for (png_uint_32 y = 0; y < height; ++y) {
    const std::uint8_t* px = grey_alpha.data() + static_cast<std::size_t>(y) * width * 2;
    for (png_uint_32 x = 0; x < width; ++x) {
      // Composite on white paper: a transparent dot is white.
      const unsigned grey = px[2 * x];
      const unsigned alpha = px[2 * x + 1];
      const unsigned on_white = (grey * alpha + 255 * (255 - alpha)) / 255;
      if (on_white < 128) {
        out.bitmap.set(static_cast<int>(x), static_cast<int>(y));
      }
    }
  }
  return out;
}

}  // namespace packbench::labels

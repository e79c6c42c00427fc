#include "packbench/labels/pdf.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <vector>

namespace packbench::labels {
namespace {

// A PDF real (§7.3.3): plain decimal, never an exponent, at most three decimals.
std::string real(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
  std::string s(buf, res.ptr);
  while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
    const bool dot = s.back() == '.';
    s.pop_back();
    if (dot) {
      break;
    }
  }
  return s == "-0" ? "0" : s;
}

// zlib stream for /FlateDecode (§7.4.4); nullopt only when zlib fails (out of memory).
std::optional<std::string> deflate(const std::vector<std::uint8_t>& bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size, bytes.data(),
                static_cast<uLong>(bytes.size()), 9) != Z_OK) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

class PdfWriter {
 public:
  PdfWriter() {
    // §7.5.2: the header, then a comment of bytes above 127 so transfer tools treat the file
    // as binary.
    out_ = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  }

  void object(int number, const std::string& body) {
    begin(number);
    out_ += body;
    out_ += "\nendobj\n";
  }

  void stream(int number, const std::string& dictionary, const std::string& data) {
    begin(number);
    // §7.3.8: /Length is the exact byte count between "stream\n" and "\nendstream".
    out_ += "<< " + dictionary + " /Length " + std::to_string(data.size()) + " >>\nstream\n";
    out_ += data;
    out_ += "\nendstream\nendobj\n";
  }

  std::string finish(int root, int info) {
    const std::size_t xref = out_.size();
    const int size = static_cast<int>(offsets_.size()) + 1;
    // §7.5.4: one subsection from object 0; every entry exactly 20 bytes, EOL included.
    out_ += "xref\n0 " + std::to_string(size) + "\n";
    out_ += "0000000000 65535 f\r\n";
    for (const std::size_t offset : offsets_) {
      char entry[21];
      std::snprintf(entry, sizeof entry, "%010zu 00000 n\r\n", offset);
      out_ += entry;
    }
    // §7.5.5: trailer, then the byte offset of the xref keyword.
    out_ += "trailer\n<< /Size " + std::to_string(size) + " /Root " + std::to_string(root) +
            " 0 R /Info " + std::to_string(info) + " 0 R >>\nstartxref\n" + std::to_string(xref) +
            "\n%%EOF\n";
    return std::move(out_);
  }

 private:
  void begin(int number) {
    // Objects are written in order 1, 2, 3...: the xref lists them by number.
    offsets_.push_back(out_.size());
    out_ += std::to_string(number) + " 0 obj\n";
  }

  std::string out_;
  std::vector<std::size_t> offsets_;
};

}  // namespace

std::string pdf_document(const Bitmap& bitmap, int dpi, std::optional<PdfPageSize> page) {
  dpi = dpi > 0 ? dpi : 72;
  const double image_w = bitmap.width() * 72.0 / dpi;
  const double image_h = bitmap.height() * 72.0 / dpi;
  const PdfPageSize size = page.value_or(PdfPageSize{image_w, image_h});
  double scale = 1.0;
  if (image_w > 0 && image_h > 0) {
    scale = std::min({1.0, size.width_pt / image_w, size.height_pt / image_h});
  }
  const double draw_w = image_w * scale;
  const double draw_h = image_h * scale;

  PdfWriter pdf;
  pdf.object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  pdf.object(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
  pdf.object(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + real(size.width_pt) + " " +
                    real(size.height_pt) +
                    "] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>");
  // §8.9.5: a 1-bit DeviceGray image; rows padded to whole bytes, as Bitmap rows are. Our 1 is
  // black but DeviceGray 1 is white, so /Decode [1 0] flips the samples rather than the data.
  // No /Interpolate: viewers must not smooth dots into grey.
  const auto packed = deflate(bitmap.bytes());
  pdf.stream(4,
             "/Type /XObject /Subtype /Image /Width " + std::to_string(bitmap.width()) +
                 " /Height " + std::to_string(bitmap.height()) +
                 " /ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0]" +
                 (packed ? " /Filter /FlateDecode" : ""),
             packed ? *packed : std::string(bitmap.bytes().begin(), bitmap.bytes().end()));
  // §8.3.4: the image space is the unit square; cm scales it to the drawn size, its bottom
  // edge at page height minus its height so its top-left meets the page's.
  pdf.stream(5, "",
             "q " + real(draw_w) + " 0 0 " + real(draw_h) + " 0 " + real(size.height_pt - draw_h) +
                 " cm /Im1 Do Q");
  pdf.object(6, "<< /Producer (Packbench) >>");
  return pdf.finish(1, 6);
}

}  // namespace packbench::labels

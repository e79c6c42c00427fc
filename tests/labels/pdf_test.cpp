#include "packbench/labels/pdf.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

namespace pl = packbench::labels;

namespace {

pl::Bitmap random_bitmap(unsigned seed, int width, int height) {
  std::mt19937 rng(seed);
  pl::Bitmap bm(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      bm.set(x, y, rng() % 4 == 0);
    }
  }
  return bm;
}

// The object offsets the xref table gives, checked against the file's own structure.
std::vector<std::size_t> xref_offsets(const std::string& pdf) {
  const std::size_t startxref = pdf.rfind("startxref\n");
  EXPECT_NE(startxref, std::string::npos);
  const std::size_t xref = std::stoul(pdf.substr(startxref + 10));
  EXPECT_EQ(pdf.compare(xref, 5, "xref\n"), 0) << "startxref does not point at xref";
  std::size_t pos = xref + 5;
  const std::size_t line_end = pdf.find('\n', pos);
  int first = -1;
  int count = -1;
  EXPECT_EQ(std::sscanf(pdf.substr(pos, line_end - pos).c_str(), "%d %d", &first, &count), 2);
  EXPECT_EQ(first, 0);
  pos = line_end + 1;
  std::vector<std::size_t> offsets;
  for (int i = 0; i < count; ++i) {
    const std::string entry = pdf.substr(pos, 20);
    EXPECT_TRUE(std::regex_match(entry, std::regex(R"(\d{10} \d{5} [nf]\r\n)"))) << entry;
    if (i == 0) {
      EXPECT_EQ(entry, "0000000000 65535 f\r\n");
    } else {
      offsets.push_back(std::stoul(entry.substr(0, 10)));
    }
    pos += 20;
  }
  EXPECT_EQ(pdf.compare(pos, 8, "trailer\n"), 0);
  return offsets;
}

std::string inflate(const std::string& data, std::size_t expected) {
  std::string out(expected + 1, '\0');
  uLongf size = static_cast<uLongf>(out.size());
  EXPECT_EQ(
      uncompress(reinterpret_cast<Bytef*>(out.data()), &size,
                 reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size())),
      Z_OK);
  out.resize(size);
  return out;
}

// The data of object `number`'s stream, by its /Length.
std::string stream_of(const std::string& pdf, std::size_t object_offset) {
  const std::size_t length_at = pdf.find("/Length ", object_offset);
  const std::size_t length = std::stoul(pdf.substr(length_at + 8));
  const std::size_t start = pdf.find(">>\nstream\n", object_offset) + 10;
  EXPECT_EQ(pdf.compare(start + length, 10, "\nendstream"), 0) << "/Length is not exact";
  return pdf.substr(start, length);
}

}  // namespace

TEST(Pdf, XrefOffsetsPointAtTheirObjects) {
  const auto bm = random_bitmap(1, 812, 1218);
  const std::string pdf = pl::pdf_document(bm, 203);
  EXPECT_EQ(pdf.substr(0, 9), "%PDF-1.4\n");
  EXPECT_EQ(pdf.substr(pdf.size() - 6), "%%EOF\n");
  const auto offsets = xref_offsets(pdf);
  ASSERT_EQ(offsets.size(), 6u);
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::string header = std::to_string(i + 1) + " 0 obj\n";
    EXPECT_EQ(pdf.compare(offsets[i], header.size(), header), 0) << "object " << i + 1;
  }
  EXPECT_NE(pdf.find("trailer\n<< /Size 7 /Root 1 0 R"), std::string::npos);
}

TEST(Pdf, ImageStreamInflatesToTheBitmapRows) {
  for (const int width : {13, 576, 812}) {
    const auto bm = random_bitmap(static_cast<unsigned>(width), width, 77);
    const std::string pdf = pl::pdf_document(bm, 203);
    const auto offsets = xref_offsets(pdf);
    ASSERT_EQ(offsets.size(), 6u);
    const std::string dict = pdf.substr(offsets[3], pdf.find("stream\n", offsets[3]) - offsets[3]);
    EXPECT_NE(dict.find("/Width " + std::to_string(width) + " /Height 77"), std::string::npos);
    EXPECT_NE(dict.find("/BitsPerComponent 1 /Decode [1 0] /Filter /FlateDecode"),
              std::string::npos);
    const std::string rows = inflate(stream_of(pdf, offsets[3]), bm.bytes().size());
    EXPECT_EQ(rows, std::string(bm.bytes().begin(), bm.bytes().end()));
  }
}

TEST(Pdf, PageSizeFromTheLabelAndTheImageAtItsRealSize) {
  const pl::Bitmap label(812, 1218);  // 4 x 6 in at 203 dpi
  const std::string own = pl::pdf_document(label, 203);
  EXPECT_NE(own.find("/MediaBox [0 0 288 432]"), std::string::npos);
  const auto offsets = xref_offsets(own);
  EXPECT_EQ(stream_of(own, offsets[4]), "q 288 0 0 432 0 0 cm /Im1 Do Q");

  // A6 (105 x 148 mm) at 300 dpi is 1240 x 1748 dots: drawn at its size from the top-left.
  const pl::Bitmap a6(1240, 1748);
  const std::string pdf = pl::pdf_document(a6, 300, pl::kPdfA6);
  EXPECT_NE(pdf.find("/MediaBox [0 0 297.638 419.528]"), std::string::npos);
  const auto a6_offsets = xref_offsets(pdf);
  EXPECT_EQ(stream_of(pdf, a6_offsets[4]), "q 297.6 0 0 419.52 0 0.008 cm /Im1 Do Q");

  // Too big for the page: scaled down to fit, never cut off.
  const std::string shrunk = pl::pdf_document(label, 100, pl::kPdf4x6In);
  EXPECT_EQ(stream_of(shrunk, xref_offsets(shrunk)[4]), "q 288 0 0 432 0 0 cm /Im1 Do Q");
}

TEST(Pdf, IsDeterministic) {
  const auto bm = random_bitmap(3, 100, 100);
  EXPECT_EQ(pl::pdf_document(bm, 203), pl::pdf_document(bm, 203));
  EXPECT_NE(pl::pdf_document(bm, 203), pl::pdf_document(random_bitmap(4, 100, 100), 203));
}

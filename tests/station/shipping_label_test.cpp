// Shipping labels from the pack session: the [shipping] template through the printer's profile,
// each parcel's SSCC from the store's counter, the order's carrier label as given, and the plain
// label when the template cannot be drawn. Read back as a scanner would: ZXing on the raster
// our own ^GF decoder rebuilds from the ZPL the printer gets.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include "pack_fixture.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"
#include "station/print/label_data.hpp"
#include "station/print/order_prints.hpp"
#include "station/print/parcels.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace pl = packbench::labels;
namespace json = boost::json;
using ps::Verdict;

namespace {

const char* kOrders = R"([
  {"id": "S-1", "lines": [{"sku": "TEA", "name": "Tea", "qty": 1, "barcodes": ["111"]}],
   "ship_to": {"name": "Alex Morgan", "lines": ["221 Baker Street"], "city": "London",
               "postal_code": "NW1 6XE", "country": "United Kingdom"}},
  {"id": "S-2", "lines": [{"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]},
  {"id": "S-3", "sscc": "095200000000000011",
   "lines": [{"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]}
])";

// The rows of `zpl`'s graphics between two heights on the label (mm at `dpi`), for one symbol.
pl::Bitmap rows_of(const std::string& zpl, int dpi, double from_mm, double to_mm) {
  const pl::ZplRaster printed = pl::zpl_decode_graphics(zpl);
  EXPECT_TRUE(printed.ok()) << printed.error;
  const int top = static_cast<int>(from_mm * dpi / 25.4);
  const int bottom = std::min(printed.bitmap.height(), static_cast<int>(to_mm * dpi / 25.4));
  pl::Bitmap out(printed.bitmap.width(), std::max(1, bottom - top));
  for (int y = 0; y < out.height(); ++y) {
    for (int x = 0; x < out.width(); ++x) {
      out.set(x, y, printed.bitmap.get(x, top + y));
    }
  }
  return out;
}

// The Code 128 in those rows, as "]C0DATA" (plain) or "]C1DATA" (GS1-128); "" when none reads.
std::string code128_in(const pl::Bitmap& b) {
  std::vector<std::uint8_t> lum(static_cast<std::size_t>(b.width()) * b.height(), 255);
  for (int y = 0; y < b.height(); ++y) {
    for (int x = 0; x < b.width(); ++x) {
      if (b.get(x, y)) {
        lum[static_cast<std::size_t>(y) * b.width() + x] = 0;
      }
    }
  }
  const ZXing::ImageView image(lum.data(), b.width(), b.height(), ZXing::ImageFormat::Lum);
  const auto r =
      ZXing::ReadBarcode(image, ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::Code128));
  return r.isValid() ? r.symbologyIdentifier() + r.text() : "";
}

// The built-in shipping label's two symbols, from the bands the template puts them in.
std::string order_id_code(const std::string& zpl, int dpi = 203) {
  return code128_in(rows_of(zpl, dpi, 73, 89));
}
std::string sscc_code(const std::string& zpl, int dpi = 203) {
  return code128_in(rows_of(zpl, dpi, 99, 133));
}

struct Shipping {
  ps::OrderPrinter printer;
  Shipping(ps::ShippingConfig shipping, pl::PrinterProfile profile)
      : printer(ps::InsertsConfig{}, std::move(shipping), {}, std::nullopt, std::nullopt, "pack-01",
                "site-1",
                {{"shipping-label", ps::PrintTarget{std::move(profile), pl::OutputFormat::zpl}}}) {}
};

ps::ShippingConfig with_prefix() {
  ps::ShippingConfig c;
  c.gs1_company_prefix = "9520000";  // GS1 952: reserved for examples
  c.sscc_serial_prefix = "7";
  return c;
}

std::string sscc(std::uint64_t serial) {
  return ps::make_sscc(0, "9520000", serial).value();
}

std::string job(pt::Station& st, int id) {
  return st.text("SELECT data FROM print_jobs WHERE id = " + std::to_string(id));
}

}  // namespace

TEST(ShippingLabel, EachParcelGetsTheNextSsccInGs1128WithItsOrderId) {
  pt::Station st(kOrders);
  Shipping shipping(with_prefix(), *pl::builtin_profile("zpl-203"));
  st.session->set_order_printer(&shipping.printer);
  st.scan("S-2");
  st.scan("222");
  EXPECT_EQ(st.scan("CMD-CLOSE-BOX").verdict, Verdict::box_closed);
  EXPECT_EQ(st.scan("222").verdict, Verdict::order_complete);
  st.scan("S-1");
  EXPECT_EQ(st.scan("111").verdict, Verdict::order_complete);

  // 0 9520000 7 00000001 and its check digit: extension, prefix, serial prefix, counter.
  EXPECT_EQ(sscc(700000001), "095200007000000010");
  const std::vector<std::string> expected = {sscc(700000001), sscc(700000002), sscc(700000003)};
  ASSERT_EQ(st.count("SELECT count(*) FROM print_jobs"), 3);
  for (int i = 0; i < 3; ++i) {
    const std::string zpl = job(st, i + 1);
    EXPECT_EQ(sscc_code(zpl), "]C100" + expected[static_cast<std::size_t>(i)]) << i;
    EXPECT_EQ(order_id_code(zpl), i < 2 ? "]C0S-2" : "]C0S-1") << i;
    EXPECT_NE(zpl.find("^FD(00) " + expected[static_cast<std::size_t>(i)] + "^FS"),
              std::string::npos);
  }
  // The counter and every parcel's SSCC are in the store; the events carry them.
  EXPECT_EQ(st.count("SELECT last FROM sscc_serials WHERE company_prefix = '9520000'"), 3);
  EXPECT_EQ(st.count("SELECT count(*) FROM parcels"), 3);
  const auto events = st.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.box.closed.v1");
  EXPECT_EQ(events[0].at("data").at("sscc").as_string(), expected[0]);
  EXPECT_EQ(json::serialize(events[1].at("data").at("boxes")),
            R"([{"box":1,"items":1,"sscc":")" + expected[0] + R"("},{"box":2,"items":1,"sscc":")" +
                expected[1] + R"("}])");
  EXPECT_EQ(json::serialize(events[2].at("data").at("boxes")),
            R"([{"box":1,"items":1,"sscc":")" + expected[2] + R"("}])");
}

TEST(ShippingLabel, ABoxLabelledAgainKeepsItsSsccAndTheCounterSurvivesARestart) {
  pt::Station st(kOrders);
  Shipping shipping(with_prefix(), *pl::builtin_profile("zpl-203"));
  const ps::SsccSettings settings{"9520000", 0, "7"};
  auto first = st.db.write(
      [&] { return *ps::parcel_sscc(st.db, settings, "S-2", 1, "2026-05-01T10:00:00Z"); });
  auto again = st.db.write(
      [&] { return *ps::parcel_sscc(st.db, settings, "S-2", 1, "2026-05-01T10:05:00Z"); });
  ASSERT_TRUE(first && again);
  EXPECT_EQ(**first, sscc(700000001));
  EXPECT_EQ(**again, **first);
  // A new process over the same store goes on from the counter.
  st.reopen_session();
  st.session->set_order_printer(&shipping.printer);
  st.scan("S-1");
  st.scan("111");
  EXPECT_EQ(sscc_code(job(st, 1)), "]C100" + sscc(700000002));
  // Used up: the label still prints, without an SSCC (not even the order's own: the station
  // makes its own when it has a prefix), and the packer is told.
  st.db.exec("UPDATE sscc_serials SET last = 99999999");
  st.scan("S-3");
  st.scan("222");
  const auto done = st.scan("222");
  EXPECT_EQ(done.verdict, Verdict::order_complete);
  EXPECT_NE(done.message.find("SSCC: the 99999999 serial references under company prefix 9520000"),
            std::string::npos)
      << done.message;
  EXPECT_EQ(sscc_code(job(st, 2)), "");
  EXPECT_EQ(order_id_code(job(st, 2)), "]C0S-3");
}

TEST(ShippingLabel, WithoutAPrefixTheOrdersOwnSsccGoesOnItsFirstBoxOnly) {
  pt::Station st(kOrders);  // the session's own printer: no [shipping] prefix
  st.scan("S-3");
  st.scan("222");
  st.scan("CMD-CLOSE-BOX");
  st.scan("222");
  EXPECT_EQ(sscc_code(job(st, 1)), "]C100095200000000000011");
  EXPECT_EQ(sscc_code(job(st, 2)), "");  // never the first parcel's SSCC on a second one
  EXPECT_EQ(order_id_code(job(st, 2)), "]C0S-3");
  EXPECT_EQ(st.count("SELECT count(*) FROM parcels"), 0);
  // And an order without one has no SSCC at all, but its order id and box.
  st.scan("S-1");
  st.scan("111");
  EXPECT_EQ(sscc_code(job(st, 3)), "");
  EXPECT_EQ(order_id_code(job(st, 3)), "]C0S-1");
  EXPECT_NE(job(st, 3).find("^FDBox 1 of 1^FS"), std::string::npos);
}

TEST(ShippingLabel, ThePrintersProfileDecidesResolutionAndCompression) {
  pt::Station st(kOrders);
  pl::PrinterProfile profile = *pl::builtin_profile("zpl-300");
  profile.zpl_compression = pl::ZplCompression::kAcs;
  Shipping shipping(with_prefix(), profile);
  st.session->set_order_printer(&shipping.printer);
  st.scan("S-1");
  st.scan("111");
  const std::string zpl = job(st, 1);
  EXPECT_NE(zpl.find("^PW1200"), std::string::npos);
  EXPECT_EQ(zpl.find(":Z64:"), std::string::npos);
  EXPECT_EQ(sscc_code(zpl, 300), "]C100" + sscc(700000001));
  EXPECT_EQ(order_id_code(zpl, 300), "]C0S-1");
}

TEST(ShippingLabel, TheOrdersCarrierLabelIsPrintedAsGivenOnItsFirstBox) {
  const std::string carrier_zpl =
      "^XA^CI28^FO50,50^A0N,50,50^FDCARRIER 1Z999^FS^FO50,120^BCN,120,Y,N,N^FD1Z999^FS^XZ";
  const std::string orders =
      R"([{"id": "C-1", "carrier_label": {"format": "zpl", "data": ")" + carrier_zpl +
      R"("}, "lines": [{"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]}])";
  pt::Station st(orders.c_str());
  Shipping shipping(with_prefix(), *pl::builtin_profile("zpl-203"));
  st.session->set_order_printer(&shipping.printer);
  st.scan("C-1");
  st.scan("222");
  const auto closed = st.scan("CMD-CLOSE-BOX");
  EXPECT_EQ(closed.verdict, Verdict::box_closed);
  EXPECT_EQ(job(st, 1), carrier_zpl);  // byte for byte
  // The carrier's label has one tracking number: the second parcel gets the station's label
  // with an SSCC of its own, and the packer hears why.
  const auto done = st.scan("222");
  EXPECT_EQ(done.verdict, Verdict::order_complete);
  EXPECT_NE(done.message.find("box 2: the order brought one carrier label, for box 1"),
            std::string::npos)
      << done.message;
  EXPECT_EQ(sscc_code(job(st, 2)), "]C100" + sscc(700000001));
  EXPECT_EQ(st.count("SELECT count(*) FROM parcels"), 1);
  EXPECT_FALSE(st.events()[0].at("data").as_object().contains("sscc"));
}

TEST(ShippingLabel, APngCarrierLabelIsRasterisedToThePrintersProfile) {
  // A carrier's 4 x 6 in label at 100 dpi: a frame and a bar, as PNG.
  pl::Bitmap drawing(400, 600);
  drawing.fill(0, 0, 400, 8);
  drawing.fill(0, 592, 400, 8);
  drawing.fill(100, 200, 200, 100);
  const auto png = pl::png_encode(drawing, 100);
  ASSERT_TRUE(png);
  const std::string b64 = pt::base64(*png);
  const std::string orders = R"([{"id": "C-2", "carrier_label": {"format": "png", "base64": ")" +
                             b64 +
                             R"("}, "lines": [{"sku": "TEA", "qty": 1, "barcodes": ["111"]}]}])";
  pt::Station st(orders.c_str());
  pl::PrinterProfile profile = *pl::builtin_profile("zpl-300");
  Shipping shipping({}, profile);
  st.session->set_order_printer(&shipping.printer);
  st.scan("C-2");
  EXPECT_EQ(st.scan("111").verdict, Verdict::order_complete);
  const std::string zpl = job(st, 1);
  EXPECT_NE(zpl.find("^PW1200"), std::string::npos);  // 4 in at the printer's 300 dpi
  const pl::ZplRaster printed = pl::zpl_decode_graphics(zpl);
  ASSERT_TRUE(printed.ok()) << printed.error;
  EXPECT_EQ(printed.bitmap.width(), 1200);
  // Scaled by 3: the bar from (300, 600) to (900, 900).
  EXPECT_TRUE(printed.bitmap.get(310, 610));
  EXPECT_TRUE(printed.bitmap.get(890, 890));
  EXPECT_FALSE(printed.bitmap.get(290, 610));
  EXPECT_FALSE(printed.bitmap.get(600, 950));
}

TEST(ShippingLabel, ABadCarrierLabelOrTemplateStillLeavesTheParcelLabelled) {
  const std::string orders =
      R"([{"id": "B-1", "carrier_label": {"format": "pdf", "base64": "bm90IGEgcGRm"},
           "lines": [{"sku": "TEA", "qty": 1, "barcodes": ["111"]}]},
          {"id": "B-2", "ship_to": {"name": "ข้อความ"},
           "lines": [{"sku": "CUP", "qty": 1, "barcodes": ["222"]}]}])";
  pt::Station st(orders.c_str());
  st.scan("B-1");
  const auto done = st.scan("111");
  EXPECT_NE(done.message.find("carrier label: "), std::string::npos) << done.message;
  EXPECT_NE(done.message.find("the station's label printed instead"), std::string::npos);
  EXPECT_EQ(order_id_code(job(st, 1)), "]C0B-1");
  // Thai has no glyph in the label's font: the template fails, the plain label goes out.
  st.scan("B-2");
  const auto plain = st.scan("222");
  EXPECT_EQ(plain.verdict, Verdict::order_complete);
  EXPECT_NE(plain.message.find("the plain label printed instead"), std::string::npos)
      << plain.message;
  const std::string zpl = job(st, 2);
  EXPECT_NE(zpl.find("^FDB-2^FS"), std::string::npos);
  EXPECT_NE(zpl.find("^FDBox 1  Items 1^FS"), std::string::npos);
}

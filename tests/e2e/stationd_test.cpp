// The real stationd, as a process, against real loopback peers: a ZPL printer that answers ~HS
// and records the jobs it receives, and an HTTP collector that records CloudEvents.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>

#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>

#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"
#include "station/print/label_data.hpp"
#include "support.hpp"
#include "zpl_printer.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kOrders = R"({"orders": [
  {"id": "E2E-1", "customer": {"name": "Ann ^XA~JA", "locale": "en"},
   "lines": [{"sku": "TEA", "name": "Tea", "qty": 2, "barcodes": ["4901234567894"]}]},
  {"id": "E2E-2", "customer": {"name": "山田 花子", "locale": "ja", "first_order": true},
   "lines": [{"sku": "CUP", "qty": 1, "barcodes": ["4909876543214"]},
             {"sku": "MAT", "qty": 2, "barcodes": ["4901234500020"]}]}
]})";

class StationdTest : public ::testing::Test {
 protected:
  pt::TempDir dir;
  std::uint16_t scanner_port = pt::free_port();
  std::uint16_t ui_port = pt::free_port();

  std::string config(std::uint16_t printer_port, const std::string& sync_url) {
    return "[station]\nid = \"pack-01\"\nsite = \"tokyo-dc1\"\nstate_dir = \"state\"\n"
           "[ui]\nlisten = \"127.0.0.1:" +
           std::to_string(ui_port) +
           "\"\n"
           "[orders]\nfile = \"orders.json\"\n"
           "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\naddress = \"127.0.0.1:" +
           std::to_string(scanner_port) +
           "\"\n"
           "[[printer]]\nname = \"label\"\ntype = \"zpl-tcp\"\naddress = \"127.0.0.1:" +
           std::to_string(printer_port) +
           "\"\ndpi = 203\nroles = [\"shipping-label\"]\n"
           "[sync]\nurl = \"" +
           sync_url + "\"\nretry_base_ms = 50\nretry_cap_ms = 200\n";
  }

  std::unique_ptr<pt::Process> start(const std::string& name, pt::NotifySocket& notify,
                                     std::map<std::string, std::string> env = {}) {
    env["NOTIFY_SOCKET"] = notify.path().string();
    auto p = std::make_unique<pt::Process>(
        std::vector<std::string>{pt::stationd_path().string(), "--config",
                                 (dir / "station.toml").string()},
        env, dir.path(), name);
    EXPECT_TRUE(notify.wait_for("READY=1")) << p->errors();
    return p;
  }

  json::object health() {
    auto r = pt::http_get(ui_port, "/healthz");
    if (!r || r->first != 200) {
      return {};
    }
    return json::parse(r->second).as_object();
  }

  bool wait_for_pack(const std::string& order, int scanned) {
    return pt::wait_until([&] {
      auto h = health();
      if (h.empty() || !h.at("pack").at("order").is_string()) {
        return false;
      }
      return h.at("pack").at("order").as_string() == order &&
             h.at("pack").at("scanned").as_int64() == scanned;
    });
  }
};

int count_commands(const std::string& zpl, const std::string& name) {
  int n = 0;
  for (const auto& c : packbench::labels::zpl_tokenize(zpl)) {
    n += c.name == name;
  }
  return n;
}

// The Code 128 symbol a scanner reads between two heights of a label (mm, at `dpi`), rebuilt
// from the ZPL's graphic fields: "]C0..." plain, "]C1..." GS1-128, "" when none reads.
std::string code128_between(const std::string& zpl, double from_mm, double to_mm, int dpi = 203) {
  const auto printed = packbench::labels::zpl_decode_graphics(zpl);
  if (!printed.ok()) {
    return "not ZPL graphics: " + printed.error;
  }
  const int top = static_cast<int>(from_mm * dpi / 25.4);
  const int bottom = std::min(printed.bitmap.height(), static_cast<int>(to_mm * dpi / 25.4));
  const int w = printed.bitmap.width();
  std::vector<std::uint8_t> lum(static_cast<std::size_t>(w) * std::max(1, bottom - top), 255);
  for (int y = top; y < bottom; ++y) {
    for (int x = 0; x < w; ++x) {
      if (printed.bitmap.get(x, y)) {
        lum[static_cast<std::size_t>(y - top) * w + x] = 0;
      }
    }
  }
  const ZXing::ImageView image(lum.data(), w, std::max(1, bottom - top), ZXing::ImageFormat::Lum);
  const auto r =
      ZXing::ReadBarcode(image, ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::Code128));
  return r.isValid() ? r.symbologyIdentifier() + r.text() : "";
}

// The built-in shipping label's order id (Code 128) and SSCC (GS1-128), where it puts them.
std::string order_id_on(const std::string& zpl, int dpi = 203) {
  return code128_between(zpl, 73, 89, dpi);
}
std::string sscc_on(const std::string& zpl, int dpi = 203) {
  return code128_between(zpl, 99, 133, dpi);
}

}  // namespace

TEST_F(StationdTest, PacksAnOrderEndToEndAndSurvivesAKillMidOrder) {
  pt::VirtualZplPrinter printer;
  pt::HttpCollector collector;
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml", config(printer.port(), collector.url("/events")));
  pt::NotifySocket notify(dir / "notify.sock");

  auto stationd = start("stationd-1", notify);
  ASSERT_TRUE(stationd->running()) << stationd->errors();
  auto h = health();
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.at("station").at("id").as_string(), "pack-01");
  EXPECT_EQ(h.at("devices").as_array().size(), 2u);

  EXPECT_EQ(h.at("pack").at("state").as_string(), "idle");

  // First order, through the scanner port: packer 7's badge, the order id, then its items and
  // a code that is no product.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "PK-7\nE2E-1\n4901234567894\nBOGUS\n4901234567894\n"));
  ASSERT_TRUE(printer.wait_for_jobs(1)) << stationd->errors();
  ASSERT_TRUE(collector.wait_for_requests(1)) << stationd->errors();

  const auto job = printer.jobs().at(0);
  EXPECT_EQ(count_commands(job, "^XA"), 1);
  EXPECT_EQ(count_commands(job, "^XZ"), 1);
  EXPECT_EQ(job.rfind("^XA", 0), 0u);
  // The built-in shipping label: the order id in the printer's font and in Code 128.
  EXPECT_NE(job.find("^FDOrder E2E-1^FS"), std::string::npos);
  EXPECT_EQ(order_id_on(job), "]C0E2E-1");
  EXPECT_NE(job.find("^FDBox 1 of 1^FS"), std::string::npos);
  EXPECT_EQ(count_commands(job, "~JA"), 0);

  auto events = pt::cloudevents_in(collector.requests());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("specversion").as_string(), "1.0");
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_EQ(events[0].at("source").as_string(), "/stations/tokyo-dc1/pack-01");
  EXPECT_EQ(events[0].at("subject").as_string(), "E2E-1");
  const std::string first_id(events[0].at("id").as_string());

  // Second order, by packer 8: two of its three items, then the station dies without warning.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "PK-8\nE2E-2\n4909876543214\n4901234500020\n"));
  ASSERT_TRUE(wait_for_pack("E2E-2", 2)) << stationd->errors();
  EXPECT_EQ(health().at("pack").at("state").as_string(), "scanning");
  stationd->signal(SIGKILL);
  ASSERT_EQ(stationd->wait(), 128 + SIGKILL);

  auto again = start("stationd-2", notify);
  ASSERT_TRUE(again->running()) << again->errors();
  ASSERT_TRUE(wait_for_pack("E2E-2", 2)) << again->errors();
  h = health();
  EXPECT_EQ(h.at("pack").at("expected").as_int64(), 3);
  EXPECT_EQ(h.at("pack").at("state").as_string(), "scanning");
  EXPECT_EQ(h.at("pack").at("packer").as_string(), "8");

  // The last item completes it: one more label, one more event.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "4901234500020\n"));
  ASSERT_TRUE(printer.wait_for_jobs(2)) << again->errors();
  EXPECT_EQ(order_id_on(printer.jobs().at(1)), "]C0E2E-2");
  ASSERT_TRUE(pt::wait_until([&] {
    std::set<std::string> subjects;
    for (const auto& e : pt::cloudevents_in(collector.requests())) {
      subjects.insert(std::string(e.at("subject").as_string()));
    }
    return subjects.count("E2E-2") == 1;
  }));

  // Nothing committed was lost, and nothing arrived twice under two ids.
  std::map<std::string, std::set<std::string>> ids_by_subject;
  for (const auto& e : pt::cloudevents_in(collector.requests())) {
    ids_by_subject[std::string(e.at("subject").as_string())].insert(
        std::string(e.at("id").as_string()));
  }
  EXPECT_EQ(ids_by_subject.size(), 2u);
  EXPECT_EQ(ids_by_subject["E2E-1"], std::set<std::string>{first_id});
  EXPECT_EQ(ids_by_subject["E2E-2"].size(), 1u);
  EXPECT_EQ(printer.jobs().size(), 2u);
  ASSERT_TRUE(pt::wait_until([&] {
    auto hh = health();
    return !hh.empty() && hh.at("outbox").at("depth").as_int64() == 0;
  }));

  // The figures. Packer 7: the badge, E2E-1, two items and one refused code (5 scans, 1
  // refused); packer 8: the badge, E2E-2 and three items across the kill (5 scans). The station
  // is the sum of both.
  h = health();
  EXPECT_EQ(h.at("pack").at("state").as_string(), "closed");
  const auto& packing = h.at("packing").as_object();
  EXPECT_EQ(packing.at("items_per_hour").as_int64(), 5);
  EXPECT_EQ(packing.at("packs_per_hour").as_int64(), 2);
  EXPECT_DOUBLE_EQ(packing.at("error_rate").as_double(), 0.1);
  EXPECT_EQ(packing.at("scans_total").as_int64(), 10);
  EXPECT_EQ(packing.at("rejected_total").as_int64(), 1);
  const auto& packers = packing.at("packers").as_object();
  ASSERT_EQ(packers.size(), 2u) << json::serialize(packing);
  EXPECT_EQ(packers.at("7").at("items_per_hour").as_int64(), 2);
  EXPECT_DOUBLE_EQ(packers.at("7").at("error_rate").as_double(), 0.2);
  EXPECT_EQ(packers.at("8").at("items_per_hour").as_int64(), 3);
  EXPECT_EQ(packers.at("8").at("packs_per_hour").as_int64(), 1);
  EXPECT_DOUBLE_EQ(packers.at("8").at("error_rate").as_double(), 0.0);

  // The same figures, as Prometheus scrapes them.
  const auto metrics = pt::http_get(ui_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->first, 200);
  for (const char* line : {
           "packbench_packs_total{station=\"pack-01\"} 2\n",
           "packbench_items_per_hour{station=\"pack-01\"} 5\n",
           "packbench_items_per_hour{station=\"pack-01\",packer=\"7\"} 2\n",
           "packbench_items_per_hour{station=\"pack-01\",packer=\"8\"} 3\n",
           "packbench_scan_error_rate{station=\"pack-01\"} 0.1\n",
           "packbench_scan_error_rate{station=\"pack-01\",packer=\"7\"} 0.2\n",
           "packbench_scan_error_rate{station=\"pack-01\",packer=\"8\"} 0\n",
           "packbench_packs_per_hour{station=\"pack-01\",packer=\"8\"} 1\n",
       }) {
    EXPECT_NE(metrics->second.find(line), std::string::npos) << line << metrics->second;
  }
  EXPECT_EQ(metrics->second.find("packer=\"none\""), std::string::npos) << metrics->second;
  EXPECT_NE(metrics->second.find("packbench_device_up{station=\"pack-01\",kind=\"printer\","
                                 "name=\"label\"} 1"),
            std::string::npos)
      << metrics->second;

  again->signal(SIGTERM);
  EXPECT_EQ(again->wait(), 0) << again->errors();
}

TEST_F(StationdTest, ScansPostedToTheApiGoThroughTheSameSession) {
  pt::VirtualZplPrinter printer;
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml", config(printer.port(), "http://127.0.0.1:9/events"));
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd", notify);
  ASSERT_TRUE(pt::tcp_send(scanner_port, "E2E-1\n"));
  ASSERT_TRUE(wait_for_pack("E2E-1", 0)) << stationd->errors();
  auto post = [&](const std::string& body, const std::string& type) {
    return pt::http_request(ui_port, "POST", "/api/scans", body, type);
  };
  auto r = post(R"({"data": "4901234567894", "scanner": "ui"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 200);
  auto v = json::parse(r->second).as_object();
  EXPECT_EQ(v.at("verdict").as_string(), "item_accepted");
  EXPECT_EQ(v.at("scanned").as_int64(), 1);
  r = post(R"({"data": "]E04901234567894"})", "application/json");  // with its identifier
  ASSERT_TRUE(r);
  v = json::parse(r->second).as_object();
  EXPECT_EQ(v.at("verdict").as_string(), "order_complete");
  EXPECT_EQ(v.at("symbology").as_string(), "]E0");
  // Two scans in one: rejected, recorded, nothing changes.
  r = post(R"({"data": "A\nB"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->second).at("verdict").as_string(), "rejected_scan");
  // Not JSON (what a form on another site could send without asking): refused.
  r = post("CMD-CANCEL", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 415);
  r = post(R"({"nope": 1})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 400);
  ASSERT_TRUE(printer.wait_for_jobs(1)) << stationd->errors();
}

TEST_F(StationdTest, KeepsPackingWhileTheBackOfficeIsDownAndDeliversLater) {
  pt::VirtualZplPrinter printer;
  const auto collector_port = pt::free_port();
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(
      dir / "station.toml",
      config(printer.port(), "http://127.0.0.1:" + std::to_string(collector_port) + "/events"));
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd", notify);

  ASSERT_TRUE(pt::tcp_send(scanner_port, "E2E-1\n4901234567894\n4901234567894\n"));
  ASSERT_TRUE(printer.wait_for_jobs(1)) << stationd->errors();
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("online").is_bool() && !h.at("online").as_bool() &&
           h.at("outbox").at("depth").as_int64() == 1;
  })) << stationd->errors();

  pt::HttpCollector collector(collector_port);
  ASSERT_TRUE(collector.wait_for_requests(1)) << stationd->errors();
  const auto events = pt::cloudevents_in(collector.requests());
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0].at("subject").as_string(), "E2E-1");
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("online").is_bool() && h.at("online").as_bool();
  }));
}

TEST_F(StationdTest, ADeadPrinterDoesNotBlockPackingAndTheLabelPrintsWhenItReturns) {
  const auto printer_port = pt::free_port();
  pt::HttpCollector collector;
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml", config(printer_port, collector.url()));
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd", notify);

  ASSERT_TRUE(pt::tcp_send(scanner_port, "E2E-1\n4901234567894\n4901234567894\n"));
  // The order is packed and reported although the printer is unreachable.
  ASSERT_TRUE(collector.wait_for_requests(1)) << stationd->errors();
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    if (h.empty()) {
      return false;
    }
    for (const auto& d : h.at("devices").as_array()) {
      if (d.at("name").as_string() == "label") {
        return d.at("state").as_string() == "offline" && h.at("prints_pending").as_int64() == 1;
      }
    }
    return false;
  })) << stationd->errors();

  pt::VirtualZplPrinter printer(printer_port);  // the printer is switched back on
  ASSERT_TRUE(printer.wait_for_jobs(1)) << stationd->errors();
  EXPECT_EQ(order_id_on(printer.jobs().at(0)), "]C0E2E-1");
}

// [shipping] and a printer's profile keys, end to end: the label goes through the printer's
// profile (300 dpi, ACS), each parcel carries the next SSCC under the configured prefix, the
// back office hears it, and an order's own carrier label goes to the printer as given.
TEST_F(StationdTest, ShippingLabelsCarryTheirSsccAndCarrierLabelsGoAsGiven) {
  pt::VirtualZplPrinter printer;
  pt::HttpCollector collector;
  const std::string carrier =
      "^XA^CI28^FO40,40^A0N,40,40^FDCARRIER 1Z999AA10123456784^FS"
      "^FO40,120^BCN,150,Y,N,N^FD1Z999AA10123456784^FS^XZ";
  pt::write_file(dir / "orders.json", std::string(R"({"orders": [
  {"id": "SH-1", "ship_to": {"name": "Alex Morgan", "city": "London", "country": "UK"},
   "lines": [{"sku": "TEA", "qty": 2, "barcodes": ["4901234567894"]}]},
  {"id": "SH-2", "carrier_label": {"format": "zpl", "data": ")") +
                                          carrier + R"("},
   "lines": [{"sku": "CUP", "qty": 1, "barcodes": ["4909876543214"]}]}
]})");
  std::string toml = config(printer.port(), collector.url("/events"));
  const std::string dpi_line = "dpi = 203\n";
  toml.replace(toml.find(dpi_line), dpi_line.size(),
               "profile = \"zpl-300\"\nzpl_compression = \"acs\"\n");
  toml += "[shipping]\ngs1_company_prefix = \"9520000\"\nsscc_serial_prefix = \"42\"\n";
  pt::write_file(dir / "station.toml", toml);
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd", notify);
  ASSERT_TRUE(stationd->running()) << stationd->errors();

  // Two boxes: each gets its own label and SSCC as it is closed.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "SH-1\n4901234567894\nCMD-CLOSE-BOX\n4901234567894\n"));
  ASSERT_TRUE(printer.wait_for_jobs(2)) << stationd->errors();
  const std::string first = packbench::station::make_sscc(0, "9520000", 420000001).value();
  const std::string second = packbench::station::make_sscc(0, "9520000", 420000002).value();
  for (int i = 0; i < 2; ++i) {
    const std::string job = printer.jobs().at(static_cast<std::size_t>(i));
    EXPECT_NE(job.find("^PW1200"), std::string::npos);
    EXPECT_EQ(job.find(":Z64:"), std::string::npos);
    EXPECT_EQ(order_id_on(job, 300), "]C0SH-1");
    EXPECT_EQ(sscc_on(job, 300), "]C100" + (i == 0 ? first : second));
  }
  EXPECT_NE(printer.jobs().at(0).find("^FDBox 1^FS"), std::string::npos);
  EXPECT_NE(printer.jobs().at(1).find("^FDBox 2 of 2^FS"), std::string::npos);

  // The carrier's label, byte for byte.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "SH-2\n4909876543214\n"));
  ASSERT_TRUE(printer.wait_for_jobs(3)) << stationd->errors();
  EXPECT_EQ(printer.jobs().at(2), carrier);

  ASSERT_TRUE(pt::wait_until([&] {
    int packed = 0;
    for (const auto& e : pt::cloudevents_in(collector.requests())) {
      packed += e.at("type").as_string() == "com.packbench.order.packed.v1";
    }
    return packed == 2;
  })) << stationd->errors();
  for (const auto& e : pt::cloudevents_in(collector.requests())) {
    if (e.at("type").as_string() == "com.packbench.box.closed.v1") {
      EXPECT_EQ(e.at("data").at("sscc").as_string(), first);
    } else if (e.at("subject").as_string() == "SH-1") {
      const auto& boxes = e.at("data").at("boxes").as_array();
      ASSERT_EQ(boxes.size(), 2u);
      EXPECT_EQ(boxes[0].at("sscc").as_string(), first);
      EXPECT_EQ(boxes[1].at("sscc").as_string(), second);
    } else {
      EXPECT_FALSE(e.at("data").at("boxes").as_array()[0].as_object().contains("sscc"));
    }
  }
}

TEST_F(StationdTest, SendsWatchdogPingsWhenSystemdAsks) {
  pt::VirtualZplPrinter printer;
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml", config(printer.port(), "http://127.0.0.1:9/events"));
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd", notify, {{"WATCHDOG_USEC", "200000"}});
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1")) << stationd->errors();
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1")) << stationd->errors();
  stationd->signal(SIGINT);
  EXPECT_TRUE(notify.wait_for("STOPPING=1"));
  EXPECT_EQ(stationd->wait(), 0);
}

TEST_F(StationdTest, CheckConfigReportsEveryProblemAndExitsOne) {
  pt::write_file(dir / "bad.toml",
                 "[station]\nid = \"a b\"\nshoe = 1\n[[printer]]\nname = \"p\"\ntype = \"file\"\n"
                 "dpi = 7\n");
  const auto bad = pt::run_command(
      {pt::stationd_path().string(), "--check-config", (dir / "bad.toml").string()}, dir.path());
  EXPECT_EQ(bad.code, 1);
  const std::string file = (dir / "bad.toml").string();
  EXPECT_NE(bad.err.find(file + ":2:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find(file + ":3:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find(file + ":7:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("station.shoe"), std::string::npos) << bad.err;

  pt::write_file(dir / "good.toml", "[[printer]]\nname = \"p\"\ntype = \"file\"\n");
  const auto good = pt::run_command(
      {pt::stationd_path().string(), "--check-config", (dir / "good.toml").string()}, dir.path());
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_NE(good.out.find("ok"), std::string::npos);
}

TEST_F(StationdTest, RefusesToStartOnAStoreFromANewerVersion) {
  pt::VirtualZplPrinter printer;
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml", config(printer.port(), "http://127.0.0.1:9/events"));
  std::filesystem::create_directories(dir / "state");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state" / "station.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  const auto r = pt::run_command(
      {pt::stationd_path().string(), "--config", (dir / "station.toml").string()}, dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("newer"), std::string::npos) << r.err;
}

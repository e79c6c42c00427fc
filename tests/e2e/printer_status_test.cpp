// The real stationd, as a process, with a zpl-tcp printer that reports its status: a virtual
// Zebra on loopback answers ~HS from flags the test sets. What the packer and IT see (/healthz)
// follows the printer; a label the printer cannot take waits in the queue, across a crash, and
// prints exactly once when the printer is ready.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include "support.hpp"
#include "zpl_printer.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kOrders = R"({"orders": [
  {"id": "E2E-1", "lines": [{"sku": "TEA", "name": "Tea", "qty": 2, "barcodes": ["4901234567894"]}]}
]})";

class PrinterStatusTest : public ::testing::Test {
 protected:
  pt::TempDir dir;
  std::uint16_t scanner_port = pt::free_port();
  std::uint16_t ui_port = pt::free_port();
  std::uint16_t printer_port = pt::free_port();

  void write_config(const std::string& sync_url) {
    pt::write_file(dir / "orders.json", kOrders);
    pt::write_file(dir / "station.toml",
                   "[station]\nid = \"pack-01\"\nsite = \"tokyo-dc1\"\nstate_dir = \"state\"\n"
                   "[ui]\nlisten = \"127.0.0.1:" +
                       std::to_string(ui_port) +
                       "\"\n[orders]\nfile = \"orders.json\"\n"
                       "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\n"
                       "address = \"127.0.0.1:" +
                       std::to_string(scanner_port) +
                       "\"\n[[printer]]\nname = \"label\"\ntype = \"zpl-tcp\"\n"
                       "address = \"127.0.0.1:" +
                       std::to_string(printer_port) +
                       "\"\nstatus_interval_s = 1\nstatus_timeout_ms = 300\n"
                       "roles = [\"shipping-label\"]\n"
                       "[sync]\nurl = \"" +
                       sync_url + "\"\nretry_base_ms = 50\nretry_cap_ms = 200\n");
  }

  std::unique_ptr<pt::Process> start(const std::string& name, pt::NotifySocket& notify) {
    auto p = std::make_unique<pt::Process>(
        std::vector<std::string>{pt::stationd_path().string(), "--config",
                                 (dir / "station.toml").string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path().string()}}, dir.path(),
        name);
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

  // The printer as /healthz shows it; empty when the station does not answer.
  json::object printer() {
    const auto h = health();
    if (h.empty()) {
      return {};
    }
    for (const auto& d : h.at("devices").as_array()) {
      if (d.at("name").as_string() == "label") {
        return d.as_object();
      }
    }
    return {};
  }

  bool printer_shows(const std::string& state, const std::string& detail) {
    return pt::wait_until([&] {
      const auto p = printer();
      return !p.empty() && p.at("state").as_string() == state &&
             std::string(p.at("detail").as_string()).find(detail) != std::string::npos;
    });
  }

  std::int64_t prints_pending() {
    const auto h = health();
    return h.empty() ? -1 : h.at("prints_pending").as_int64();
  }
};

}  // namespace

TEST_F(PrinterStatusTest, PaperOutHoldsTheLabelAcrossACrashAndItPrintsOnceWhenPaperIsBack) {
  auto peer = std::make_unique<pt::VirtualZplPrinter>(printer_port);
  peer->set_paper_out(true);
  pt::HttpCollector collector;
  write_config(collector.url("/events"));
  pt::NotifySocket notify(dir / "notify.sock");
  auto stationd = start("stationd-1", notify);

  ASSERT_TRUE(printer_shows("fault", "paper out")) << stationd->errors();
  auto p = printer();
  ASSERT_EQ(p.at("conditions").as_array().size(), 1u);
  EXPECT_EQ(p.at("conditions").as_array()[0].as_string(), "paper_out");
  EXPECT_EQ(health().at("status").as_string(), "degraded");

  // The order is packed and reported; its label waits.
  ASSERT_TRUE(pt::tcp_send(scanner_port, "E2E-1\n4901234567894\n4901234567894\n"));
  ASSERT_TRUE(collector.wait_for_requests(1)) << stationd->errors();
  ASSERT_TRUE(pt::wait_until([&] { return prints_pending() == 1; }));
  const auto asked = peer->status_queries();
  ASSERT_TRUE(peer->wait_for_status_queries(asked + 2));
  EXPECT_TRUE(peer->jobs().empty());

  // A crash while the label waits loses nothing.
  stationd->signal(SIGKILL);
  ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
  stationd = start("stationd-2", notify);
  ASSERT_TRUE(printer_shows("fault", "paper out")) << stationd->errors();
  EXPECT_EQ(prints_pending(), 1);
  EXPECT_TRUE(peer->jobs().empty());

  peer->set_paper_out(false);
  ASSERT_TRUE(peer->wait_for_jobs(1)) << stationd->errors();
  EXPECT_NE(peer->jobs().at(0).find("^FDOrder E2E-1^FS"), std::string::npos);
  EXPECT_EQ(peer->jobs().at(0).find("~HS"), std::string::npos);
  ASSERT_TRUE(printer_shows("ready", "ready"));
  ASSERT_TRUE(pt::wait_until([&] { return prints_pending() == 0; }));
  ASSERT_TRUE(peer->wait_for_status_queries(peer->status_queries() + 2));
  EXPECT_EQ(peer->jobs().size(), 1u);  // exactly once

  // Silence from a printer that takes the connection is a fault (ZPL II guide, ~HS: a printer
  // out of media or with its head open may not answer); garbage is a fault that says so; a
  // printer that is switched off is offline. Each clears when the printer answers again.
  peer->set_silent(true);
  ASSERT_TRUE(printer_shows("fault", "no answer to ~HS")) << stationd->errors();
  EXPECT_EQ(printer().at("conditions").as_array()[0].as_string(), "no_status_answer");
  peer->set_silent(false);
  peer->set_answer("\x02garbage\x03\r\n");
  ASSERT_TRUE(printer_shows("fault", "garbled answer to ~HS")) << stationd->errors();
  EXPECT_EQ(printer().at("conditions").as_array()[0].as_string(), "bad_status_answer");
  peer->set_answer(std::nullopt);
  ASSERT_TRUE(printer_shows("ready", "ready"));
  peer.reset();
  ASSERT_TRUE(printer_shows("offline", "cannot connect")) << stationd->errors();
  const auto metrics = pt::http_get(ui_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->second.find(
                "packbench_device_up{station=\"pack-01\",kind=\"printer\",name=\"label\"} 0"),
            std::string::npos);
  peer = std::make_unique<pt::VirtualZplPrinter>(printer_port);
  ASSERT_TRUE(printer_shows("ready", "ready")) << stationd->errors();
  EXPECT_TRUE(peer->jobs().empty());

  stationd->signal(SIGTERM);
  EXPECT_EQ(stationd->wait(), 0) << stationd->errors();
}

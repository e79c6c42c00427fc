#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "station/orders/order_book.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace ps = packbench::station;

TEST(Stationctl, OrdersImportLoadsTheFileIntoTheStore) {
  pt::TempDir dir;
  pt::write_file(dir / "orders.json", R"({"orders": [
    {"id": "C-1", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "C-2", "lines": [{"sku": "S", "qty": 2, "barcodes": ["2"]}]}]})");
  const auto r =
      pt::run_command({pt::stationctl_path().string(), "orders", "import",
                       (dir / "orders.json").string(), "--state-dir", (dir / "state").string()},
                      dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 added"), std::string::npos) << r.out;

  auto db = ps::Database::open(dir / "state" / "station.db");
  ASSERT_TRUE(db);
  ps::OrderBook book(*db);
  auto found = db->read([&] { return book.find("C-2"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((**found).first.lines[0].qty, 2);
}

TEST(Stationctl, ABadOrderIsReportedTheRestLoadedAndTheExitCodeSaysSo) {
  pt::TempDir dir;
  pt::write_file(dir / "orders.json", R"([
    {"id": "C-1", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "C-2", "lines": [{"sku": "S", "qty": -1, "barcodes": ["2"]}]}])");
  const auto r = pt::run_command(
      {pt::stationctl_path().string(), "orders", "import", (dir / "orders.json").string()},
      dir.path(), {{"PACKBENCH_STATE_DIR", (dir / "st").string()}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("orders[1].lines[0].qty"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1 added"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 rejected"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "st" / "station.db"));
}

TEST(Stationctl, UnknownCommandsAndMissingArgumentsSayWhat) {
  pt::TempDir dir;
  const auto r = pt::run_command({pt::stationctl_path().string(), "frobnicate"}, dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  const auto m = pt::run_command({pt::stationctl_path().string(), "orders", "import"}, dir.path());
  EXPECT_EQ(m.code, 2);
}

// --- scan explain ------------------------------------------------------------------------------

namespace {

boost::json::object explained(const pt::RunResult& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

}  // namespace

TEST(Stationctl, ScanExplainPrintsTheGs1ReadingAndExitsZeroWhenItIsGood) {
  pt::TempDir dir;
  const auto r = pt::run_command({pt::stationctl_path().string(), "scan", "explain",
                                  "]d2010950600013435217261231"
                                  "10ABC<GS>21XYZ"},
                                 dir.path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const auto o = explained(r);
  EXPECT_EQ(o.at("symbology").as_string(), "]d2");
  EXPECT_EQ(o.at("kind").as_string(), "element_string");
  EXPECT_EQ(o.at("gtin14").as_string(), "09506000134352");
  const auto& elements = o.at("elements").as_array();
  ASSERT_EQ(elements.size(), 4u) << r.out;
  EXPECT_EQ(elements[1].as_object().at("title").as_string(), "USE BY or EXPIRY");
  EXPECT_EQ(elements[1].as_object().at("meaning").as_string(), "2026-12-31");
  EXPECT_EQ(elements[2].as_object().at("value").as_string(), "ABC");
  EXPECT_EQ(elements[3].as_object().at("ai").as_string(), "21");
  EXPECT_TRUE(o.at("problems").as_array().empty());
}

TEST(Stationctl, ScanExplainTakesTheGsAsTypedOrAsTheRealByte) {
  pt::TempDir dir;
  std::vector<std::string> outs;
  for (const std::string gs : {"<GS>", "\\x1d", "\\x1D", "\x1d"}) {
    const auto r = pt::run_command({pt::stationctl_path().string(), "scan", "explain",
                                    "0109506000134352"
                                    "10ABC" +
                                        gs + "21XYZ"},
                                   dir.path());
    EXPECT_EQ(r.code, 0) << gs << "\n" << r.out << r.err;
    EXPECT_EQ(explained(r).at("elements").as_array().size(), 3u) << r.out;
    outs.push_back(r.out);
  }
  for (const auto& out : outs) {
    EXPECT_EQ(out, outs.front());  // the input shows its GS as <GS> whichever way it came
  }
}

TEST(Stationctl, ScanExplainTakesTheReportedSymbologyAndReadsDigitalLinks) {
  pt::TempDir dir;
  const auto r = pt::run_command(
      {pt::stationctl_path().string(), "scan", "explain", "--symbology", "]C1", "0109506000134352"},
      dir.path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(explained(r).at("symbology").as_string(), "]C1");

  const auto link = pt::run_command({pt::stationctl_path().string(), "scan", "explain",
                                     "https://id.gs1.org/01/09506000134352/10/ABC?17=261231"},
                                    dir.path());
  EXPECT_EQ(link.code, 0) << link.out << link.err;
  const auto o = explained(link);
  EXPECT_EQ(o.at("kind").as_string(), "digital_link");
  EXPECT_EQ(o.at("elements").as_array().size(), 3u);
}

TEST(Stationctl, ScanExplainExitsOneAndSaysWhatIsWrong) {
  pt::TempDir dir;
  const auto r = pt::run_command(
      {pt::stationctl_path().string(), "scan", "explain", "4006381333932"}, dir.path());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const auto o = explained(r);
  EXPECT_EQ(o.at("ok").as_bool(), false);
  EXPECT_TRUE(o.at("gtin14").is_null());
  ASSERT_EQ(o.at("problems").as_array().size(), 1u);
  EXPECT_NE(std::string(o.at("problems").as_array()[0].as_string()).find("wrong check digit"),
            std::string::npos);

  const auto lost = pt::run_command({pt::stationctl_path().string(), "scan", "explain",
                                     "0109506000134352"
                                     "10ABC21XYZ"},
                                    dir.path());
  EXPECT_EQ(lost.code, 1) << lost.out;
  EXPECT_NE(lost.out.find("GS separator missing after AI 10"), std::string::npos) << lost.out;
}

TEST(Stationctl, ScanExplainUsageErrorsExitTwo) {
  pt::TempDir dir;
  const std::string ctl = pt::stationctl_path().string();
  const std::vector<std::vector<std::string>> cases = {
      {ctl, "scan", "explain"},
      {ctl, "scan", "explain", "0109506000134352", "--symbology"},
      {ctl, "scan", "explain", "0109506000134352", "--symbology", "C1"},
      {ctl, "scan", "explain", "0109506000134352", "--frobnicate"},
      {ctl, "scan", "explain", "0109506000134352", "10ABC"},
      {ctl, "scan"},
  };
  for (const auto& argv : cases) {
    const auto r = pt::run_command(argv, dir.path());
    EXPECT_EQ(r.code, 2) << argv.back() << "\n" << r.out;
    EXPECT_FALSE(r.err.empty()) << argv.back();
    EXPECT_TRUE(r.out.empty()) << argv.back() << "\n" << r.out;
  }
  const auto help = pt::run_command({ctl, "--help"}, dir.path());
  EXPECT_NE(help.out.find("scan explain DATA [--symbology ID]"), std::string::npos);
}

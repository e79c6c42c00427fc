#include <gtest/gtest.h>

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

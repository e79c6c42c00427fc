#include <gtest/gtest.h>

#include "station/orders/order_book.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;

TEST(OrdersFile, ReadsTheDocumentedFormat) {
  const auto parsed = ps::parse_orders_json(R"({"orders": [
    {"id": "A-1", "customer": {"name": "山田 花子", "locale": "ja", "first_order": true},
     "lines": [{"sku": "S1", "name": "Tea", "qty": 2, "barcodes": ["4901234567894"]},
               {"sku": "S2", "barcodes": ["X", "Y"]}],
     "notes": {"gift": true}}
  ]})");
  ASSERT_TRUE(parsed.problems.empty()) << parsed.problems[0].to_string();
  ASSERT_EQ(parsed.orders.size(), 1u);
  const auto& o = parsed.orders[0];
  EXPECT_EQ(o.id, "A-1");
  EXPECT_EQ(o.customer.name, "山田 花子");
  EXPECT_EQ(o.customer.locale, "ja");
  EXPECT_TRUE(o.customer.first_order);
  ASSERT_EQ(o.lines.size(), 2u);
  EXPECT_EQ(o.lines[1].qty, 1);
  EXPECT_EQ(o.lines[1].name, "S2");
  EXPECT_EQ(o.total_items(), 3);
  EXPECT_TRUE(o.doc.contains("notes"));  // kept for later features
}

TEST(OrdersFile, ABareArrayWorksToo) {
  const auto parsed =
      ps::parse_orders_json(R"([{"id": "B", "lines": [{"sku": "S", "barcodes": ["1"]}]}])");
  ASSERT_EQ(parsed.orders.size(), 1u);
  EXPECT_EQ(parsed.orders[0].customer.locale, "en");
}

TEST(OrdersFile, EachBadOrderIsReportedAndTheGoodOnesKept) {
  const auto parsed = ps::parse_orders_json(R"({"orders": [
    {"id": "OK-1", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "has space", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "Q", "lines": [{"sku": "S", "qty": 0, "barcodes": ["1"]}]},
    {"id": "E", "lines": []},
    {"id": "D", "lines": [{"sku": "S", "barcodes": ["1"]}, {"sku": "T", "barcodes": ["1"]}]},
    {"id": "OK-1", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "N", "lines": [{"sku": "S", "barcodes": [""]}]},
    {"id": "OK-2", "lines": [{"sku": "S", "qty": 1.5, "barcodes": ["2"]}]}
  ]})");
  ASSERT_EQ(parsed.orders.size(), 1u);
  EXPECT_EQ(parsed.orders[0].id, "OK-1");
  ASSERT_EQ(parsed.problems.size(), 8u);
  EXPECT_EQ(parsed.problems[0].where, "orders[1].id");
  EXPECT_EQ(parsed.problems[1].where, "orders[2].lines[0].qty");
  EXPECT_EQ(parsed.problems[2].where, "orders[3].lines");
  EXPECT_EQ(parsed.problems[3].where, "orders[4].lines[1].barcodes");
  EXPECT_NE(parsed.problems[4].message.find("twice"), std::string::npos);
  EXPECT_EQ(parsed.problems[5].where, "orders[6].id");
  EXPECT_EQ(parsed.problems[6].where, "orders[7].lines[0].barcodes");
  EXPECT_EQ(parsed.problems[7].where, "orders[8].lines[0].qty");
}

TEST(OrdersFile, SerialLotAndExpiryFlagsAreReadAndMustBeBooleans) {
  const auto parsed = ps::parse_orders_json(R"([
    {"id": "F-1", "lines": [{"sku": "S", "barcodes": ["1"], "serial_required": true,
                             "lot_required": true, "expiry_required": true},
                            {"sku": "T", "barcodes": ["2"], "expiry_required": null}]},
    {"id": "F-2", "lines": [{"sku": "S", "barcodes": ["1"], "expiry_required": "yes"}]}
  ])");
  ASSERT_EQ(parsed.orders.size(), 1u);
  const auto& lines = parsed.orders[0].lines;
  EXPECT_TRUE(lines[0].serial_required);
  EXPECT_TRUE(lines[0].lot_required);
  EXPECT_TRUE(lines[0].expiry_required);
  EXPECT_FALSE(lines[1].expiry_required);
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].to_string(),
            "orders[1].lines[0].expiry_required: must be true or false");
}

TEST(OrdersFile, BrokenJsonIsOneClearProblem) {
  const auto parsed = ps::parse_orders_json(R"({"orders": [)");
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_NE(parsed.problems[0].message.find("JSON"), std::string::npos);
}

TEST(OrderBook, ImportAddsUpdatesAndKeepsStartedOrders) {
  pt::TempDir dir;
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db);
  ps::OrderBook book(*db);
  auto v1 = ps::parse_orders_json(R"([
    {"id": "A", "lines": [{"sku": "S", "barcodes": ["1"]}]},
    {"id": "B", "lines": [{"sku": "S", "barcodes": ["1"]}]}])");
  auto r1 = book.import(v1.orders, "v1.json");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->added, 2);

  ASSERT_TRUE(db->write([&] { book.set_status("B", ps::OrderStatus::packing); }));
  auto v2 = ps::parse_orders_json(R"([
    {"id": "A", "lines": [{"sku": "S", "qty": 3, "barcodes": ["1"]}]},
    {"id": "B", "lines": [{"sku": "S", "qty": 3, "barcodes": ["1"]}]},
    {"id": "C", "lines": [{"sku": "S", "barcodes": ["1"]}]}])");
  auto r2 = book.import(v2.orders, "v2.json");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->added, 1);
  EXPECT_EQ(r2->updated, 1);
  ASSERT_EQ(r2->kept.size(), 1u);
  EXPECT_NE(r2->kept[0].find("B is packing"), std::string::npos);

  auto a = db->read([&] { return book.find("A"); });
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((**a).first.lines[0].qty, 3);
  auto b = db->read([&] { return book.find("B"); });
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((**b).first.lines[0].qty, 1);  // untouched while being packed

  auto r3 = book.import(v2.orders, "v2.json");
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->unchanged, 2);
}

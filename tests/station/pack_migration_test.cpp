// A store written before scans became append-only (schema version 3) is brought up to date with
// its data: the open order resumes where it was, undos made back then stay undone, the figures
// keep their totals and their last hour, and the audit trail has every scan once.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "pack_fixture.hpp"
#include "station/common/clock.hpp"
#include "station/pack/pack_metrics.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using ps::Verdict;
using namespace std::chrono_literals;

namespace {

const char* kOrders = R"([
  {"id": "M-1", "lines": [{"sku": "TEA", "name": "Tea", "qty": 3, "barcodes": ["4901234567894"]},
                          {"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]}])";

// What stationd wrote at schema version 3 for: badge PK-0042 (two hours ago), order M-1, tea,
// tea, CMD-UNDO (which marked the second tea undone), cup. The bench is mid-order.
void write_version_3_store(const std::filesystem::path& path) {
  const std::vector<ps::Migration> v3(ps::station_migrations().begin(),
                                      ps::station_migrations().begin() + 3);
  ps::OpenOptions opts;
  opts.migrations = &v3;
  auto db = ps::Database::open(path, opts);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_EQ(db->schema_version(), 3);
  ps::OrderBook book(*db);
  auto parsed = ps::parse_orders_json(kOrders);
  ASSERT_TRUE(book.import(parsed.orders, "test"));

  const auto now = std::chrono::system_clock::now();
  const std::string badge_at = ps::format_utc(now - 2h);
  const std::string at = ps::format_utc(now - 10min);
  auto written = db->write([&] {
    db->exec("UPDATE orders SET status = 'packing' WHERE id = 'M-1'");
    db->statement(
          "INSERT INTO pack_sessions (id, order_id, state, opened_at, box, pending) "
          "VALUES (1, 'M-1', 'open', ?1, 1, '{\"kind\":\"none\"}')")
        .bind_all(at)
        .run();
    struct Legacy {
      const char* data;
      const char* verdict;
      std::optional<int> session;
      std::optional<int> line;
      int qty;
      int undone;
      const std::string& at;
    };
    const Legacy scans[] = {
        {"PK-0042", "packer_logged_in", std::nullopt, std::nullopt, 0, 0, badge_at},
        {"M-1", "order_opened", 1, std::nullopt, 0, 0, at},
        {"4901234567894", "item_accepted", 1, 0, 1, 0, at},
        {"4901234567894", "item_accepted", 1, 0, 1, 1, at},
        {"CMD-UNDO", "scan_undone", 1, std::nullopt, 0, 0, at},
        {"222", "item_accepted", 1, 1, 1, 0, at},
    };
    for (const auto& s : scans) {
      const bool in_order = s.session.has_value();
      db->statement(
            "INSERT INTO scans (session_id, scanner, data, verdict, accepted, line_no, at, "
            "mono_ns, order_id, box, qty, symbology, packer, message, undone) "
            "VALUES (?1, 'hand', ?2, ?3, 1, ?4, ?5, 1000, ?6, ?7, ?8, '', '0042', 'ok', ?9)")
          .bind(1, s.session)
          .bind(2, s.data)
          .bind(3, s.verdict)
          .bind(4, s.line)
          .bind(5, s.at)
          .bind(6, in_order ? std::optional<std::string>("M-1") : std::nullopt)
          .bind(7, s.line ? std::optional<int>(1) : std::nullopt)
          .bind(8, s.qty)
          .bind(9, s.undone)
          .run();
      db->statement(
            "INSERT INTO audit (at, mono_ns, station, packer, kind, order_id, detail) "
            "VALUES (?1, 1000, 'pack-01', '0042', 'scan', ?2, ?3)")
          .bind(1, s.at)
          .bind(2, in_order ? std::optional<std::string>("M-1") : std::nullopt)
          .bind(3, std::string("{\"data\":\"") + s.data + "\"}")
          .run();
    }
    for (const char* event : {"packer_logged_in", "order_opened", "scan_undone"}) {
      db->statement(
            "INSERT INTO audit (at, mono_ns, station, packer, kind, order_id, detail) "
            "VALUES (?1, 1000, 'pack-01', '0042', 'state', 'M-1', ?2)")
          .bind(1, at)
          .bind(2, std::string("{\"event\":\"") + event + "\"}")
          .run();
    }
    db->exec(
        "INSERT INTO scan_counts (packer, scans, rejected, items, undone, packs) "
        "VALUES ('0042', 6, 0, 3, 1, 0)");
    db->exec("INSERT INTO station_state (key, value) VALUES ('packer', '0042')");
  });
  ASSERT_TRUE(written) << written.error().message;
}

}  // namespace

TEST(PackMigration, AVersion3StoreKeepsItsOrderFiguresAndAuditTrail) {
  pt::Station st(kOrders, {}, {}, write_version_3_store);
  EXPECT_EQ(st.db.schema_version(), ps::station_migrations().back().version);

  // The order resumes as it was: the undone tea stays undone.
  ASSERT_TRUE(st.session->current());
  EXPECT_EQ(st.session->packer(), "0042");
  EXPECT_EQ(st.session->current()->order_id, "M-1");
  EXPECT_EQ(st.session->current()->lines[0].scanned, 1);
  EXPECT_EQ(st.session->current()->lines[1].scanned, 1);

  // The totals are kept; the last hour has the scans of the last hour, net of the undone one.
  auto f = ps::pack_figures(st.db, ps::now_utc());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->station.scans, 6);
  EXPECT_EQ(f->station.items, 3);
  EXPECT_EQ(f->station.undone, 1);
  EXPECT_EQ(f->station.scans_last_hour, 5);  // not the badge of two hours ago
  EXPECT_EQ(f->station.items_last_hour, 2);

  // Every scan once in the trail (from scans, not from the old audit rows too), with its
  // station, and the old state changes.
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'scan'"), 6);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'scan' AND station = 'pack-01'"),
            6);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'state'"), 3);
  EXPECT_FALSE(st.db.write([&] { st.db.exec("UPDATE scans SET undone = 0"); }));

  // Undo goes back through the old scans, past the one undone back then.
  auto u = st.scan("CMD-UNDO");
  EXPECT_EQ(u.verdict, Verdict::scan_undone);
  EXPECT_EQ(st.session->current()->lines[1].scanned, 0);
  u = st.scan("CMD-UNDO");
  EXPECT_EQ(u.verdict, Verdict::scan_undone);
  EXPECT_EQ(st.session->current()->lines[0].scanned, 0);
  EXPECT_EQ(st.count("SELECT undoes FROM scans WHERE id = 8"), 3);  // the first tea
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::nothing_to_undo);

  f = ps::pack_figures(st.db, ps::now_utc());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->station.undone, 3);
  EXPECT_EQ(f->station.items_last_hour, 0);

  // A restart reads the same, and the order can be finished.
  st.reopen_session();
  EXPECT_EQ(st.session->current()->scanned(), 0);
  for (const char* s : {"4901234567894", "4901234567894", "4901234567894", "222"}) {
    EXPECT_EQ(st.verdict(s), Verdict::item_accepted) << s;
  }
  EXPECT_EQ(st.verdict("222"), Verdict::order_complete);
  const auto events = st.events();
  ASSERT_EQ(events.size(), 1u);
  const auto& data = events[0].at("data").as_object();
  EXPECT_EQ(json::serialize(data.at("boxes")), R"([{"box":1,"items":5}])");
  EXPECT_EQ(data.at("items").as_int64(), 5);
  f = ps::pack_figures(st.db, ps::now_utc());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->station.items, 8);
  EXPECT_EQ(f->station.items_last_hour, 5);
  EXPECT_EQ(f->station.packs, 1);
}

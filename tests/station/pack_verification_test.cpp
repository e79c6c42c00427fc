// The pack session's verification rules: quantities, serials and lots, undo, boxes, overrides,
// cancel and reopen, packers, rejected scans, and what survives a restart.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <boost/json/serialize.hpp>

#include "pack_fixture.hpp"
#include "station/common/clock.hpp"
#include "station/pack/pack_metrics.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using ps::Verdict;

namespace {

// 4901234567894 is an EAN-13; 012345678905 is a UPC-A whose EAN-13 is 0012345678905.
const char* kOrders = R"([
  {"id": "V-1", "lines": [
     {"sku": "TEA", "name": "Tea", "qty": 3, "barcodes": ["4901234567894"]},
     {"sku": "CAM", "name": "Camera", "qty": 2, "barcodes": ["09506000134352"], "serial_required": true},
     {"sku": "MED", "name": "Balm", "qty": 1, "barcodes": ["4909876543214"], "lot_required": true}]},
  {"id": "V-2", "lines": [{"sku": "UPC", "name": "Soap", "qty": 1, "barcodes": ["0012345678905"]},
                          {"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]},
  {"id": "V-3", "lines": [{"sku": "X", "name": "Box", "qty": 1, "barcodes": ["333"]}]}
])";

std::string sha256_hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  for (unsigned char b : d) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

ps::PackRules rules_with_supervisor() {
  ps::PackRules r;
  r.supervisors.push_back({"sv-ana", "SV-0001", sha256_hex("2468")});
  return r;
}

const std::string GS = "\x1d";

}  // namespace

TEST(PackVerification, UpcAScanMatchesTheEan13InTheOrder) {
  pt::Station st(kOrders);
  st.scan("V-2");
  EXPECT_EQ(st.verdict("012345678905"), Verdict::item_accepted);
  EXPECT_EQ(st.verdict("0012345678905"), Verdict::over_scan);  // the same product, as EAN-13
}

TEST(PackVerification, QuantityCountsSeveralAndIsCheckedAgainstTheOrder) {
  pt::Station st(kOrders);
  EXPECT_EQ(st.verdict("QTY-2"), Verdict::unknown_command);  // no order open
  st.scan("V-1");
  EXPECT_EQ(st.verdict("QTY-0"), Verdict::invalid_quantity);
  EXPECT_EQ(st.verdict("QTY-5"), Verdict::quantity_set);
  EXPECT_EQ(st.verdict("4901234567894"), Verdict::over_scan);  // 5 > 3, and nothing counted
  EXPECT_EQ(st.session->current()->scanned(), 0);
  EXPECT_EQ(st.verdict("x2"), Verdict::quantity_set);
  auto r = st.scan("4901234567894");
  EXPECT_EQ(r.verdict, Verdict::item_accepted);
  EXPECT_EQ(r.scanned, 2);
  EXPECT_EQ(st.verdict("\xC3\x97"
                       "2"),
            Verdict::quantity_set);                                    // ×2
  EXPECT_EQ(st.verdict("09506000134352"), Verdict::invalid_quantity);  // serials: one by one
}

TEST(PackVerification, SerialsAreCapturedAndNeverTwiceInAnOrder) {
  pt::Station st(kOrders);
  st.scan("V-1");
  EXPECT_EQ(st.verdict("09506000134352"), Verdict::serial_needed);
  EXPECT_EQ(st.verdict("4901234567894"), Verdict::wrong_item);  // an item, not a serial
  EXPECT_EQ(st.verdict("SN-0001"), Verdict::item_accepted);
  // The serial in the GS1 element string (AI 21) counts without a second scan...
  EXPECT_EQ(st.scan("0109506000134352"
                    "21SN-0001",
                    "]C1")
                .verdict,
            Verdict::duplicate_serial);
  EXPECT_EQ(st.scan("0109506000134352"
                    "21SN-0002",
                    "]C1")
                .verdict,
            Verdict::item_accepted);
  EXPECT_EQ(st.text("SELECT group_concat(serial) FROM scans WHERE serial IS NOT NULL"),
            "SN-0001,SN-0002");
  // ... and a third is an over-scan, whatever its serial.
  EXPECT_EQ(st.scan("0109506000134352"
                    "21SN-0003",
                    "]C1")
                .verdict,
            Verdict::over_scan);
}

TEST(PackVerification, LotsAreCapturedFromTheScanOrAskedFor) {
  pt::Station st(kOrders);
  st.scan("V-1");
  EXPECT_EQ(st.verdict("4909876543214"), Verdict::lot_needed);
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::scan_undone);  // changed my mind
  EXPECT_EQ(st.scan("0104909876543214"
                    "10LOT42" +
                        GS + "17351231",
                    "]C1")
                .verdict,
            Verdict::item_accepted);
  EXPECT_EQ(st.text("SELECT lot || '/' || expiry FROM scans WHERE lot IS NOT NULL"),
            "LOT42/351231");
}

TEST(PackVerification, ExpiredItemsAreRejected) {
  pt::Station st(kOrders);
  st.scan("V-1");
  const auto r = st.scan(
      "0104909876543214"
      "17200101"
      "10LOT1",
      "]C1");
  EXPECT_EQ(r.verdict, Verdict::expired);
  EXPECT_NE(r.message.find("expired"), std::string::npos);
  EXPECT_EQ(st.session->current()->scanned(), 0);
}

namespace {

// 4901234500020 needs its expiry date; 09501101530003 its serial, lot and expiry date.
const char* kExpiryOrders = R"([
  {"id": "E-1", "lines": [
     {"sku": "MILK", "name": "Milk powder", "qty": 5, "barcodes": ["4901234500020"],
      "expiry_required": true},
     {"sku": "DRUG", "name": "Drops", "qty": 1, "barcodes": ["09501101530003"],
      "serial_required": true, "lot_required": true, "expiry_required": true}]},
  {"id": "E-2", "lines": [{"sku": "CUP", "name": "Cup", "qty": 1, "barcodes": ["4909876543214"]}]}
])";

std::string pending_kind(pt::Station& st) {
  return std::string(st.session->snapshot().at("pending").at("kind").as_string());
}

}  // namespace

TEST(PackVerification, AnExpiryIsAskedForWhenTheScanHasNone) {
  pt::Station st(kExpiryOrders);
  st.scan("E-1");
  const auto asked = st.scan("4901234500020");
  EXPECT_EQ(asked.verdict, Verdict::expiry_needed);
  EXPECT_TRUE(asked.accepted());
  EXPECT_EQ(asked.line, 0);
  EXPECT_NE(asked.message.find("expiry date of Milk powder"), std::string::npos);
  EXPECT_EQ(pending_kind(st), "expiry");
  EXPECT_EQ(st.session->current()->scanned(), 0);  // not counted until the date is in
  // What is not a date is refused and the question stays.
  EXPECT_EQ(st.verdict("LOT42"), Verdict::rejected_scan);
  EXPECT_EQ(st.verdict("4909876543214"), Verdict::wrong_item);  // a product of another order
  EXPECT_EQ(st.verdict("E-2"), Verdict::wrong_item);            // an order
  const auto bad = st.scan("261345");
  EXPECT_EQ(bad.verdict, Verdict::rejected_scan);
  EXPECT_NE(bad.message.find("not a date"), std::string::npos);
  EXPECT_EQ(pending_kind(st), "expiry");
  // The date as YYMMDD, as "17" and YYMMDD from a wedge, in parentheses, and as a GS1-128
  // element string: each counts one item with its date.
  EXPECT_EQ(st.verdict("351231"), Verdict::item_accepted);
  EXPECT_EQ(st.verdict("4901234500020"), Verdict::expiry_needed);
  EXPECT_EQ(st.verdict("17360115"), Verdict::item_accepted);
  EXPECT_EQ(st.verdict("4901234500020"), Verdict::expiry_needed);
  EXPECT_EQ(st.verdict("(17)360200"), Verdict::item_accepted);  // day 00: the end of the month
  EXPECT_EQ(st.verdict("4901234500020"), Verdict::expiry_needed);
  EXPECT_EQ(st.scan("17370101", "]C1").verdict, Verdict::item_accepted);
  // AI 17 in the item's own scan: no question.
  EXPECT_EQ(st.scan("0104901234500020"
                    "17380101",
                    "]C1")
                .verdict,
            Verdict::item_accepted);
  EXPECT_EQ(st.text("SELECT group_concat(expiry) FROM scans WHERE qty > 0 AND line_no = 0"),
            "351231,360115,360200,370101,380101");
  EXPECT_EQ(st.session->current()->lines[0].scanned, 5);
}

TEST(PackVerification, AnExpiredItemIsRefusedWhetherItsDateCameWithItOrAfter) {
  pt::Station st(kExpiryOrders);
  st.scan("E-1");
  EXPECT_EQ(st.verdict("QTY-2"), Verdict::quantity_set);
  EXPECT_EQ(st.verdict("4901234500020"), Verdict::expiry_needed);
  const auto r = st.scan("200101");
  EXPECT_EQ(r.verdict, Verdict::expired);
  EXPECT_FALSE(r.accepted());
  EXPECT_EQ(r.line, 0);
  EXPECT_EQ(r.message, "Milk powder expired (200101). Put it aside and take another.");
  // The items in hand are out: the question is over and nothing counted.
  EXPECT_EQ(pending_kind(st), "none");
  EXPECT_EQ(st.session->current()->scanned(), 0);
  EXPECT_EQ(st.scan("0104901234500020"
                    "17200101",
                    "]C1")
                .verdict,
            Verdict::expired);
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE verdict = 'expired'"), 2);
  EXPECT_EQ(st.count("SELECT coalesce(sum(qty), 0) FROM scans"), 0);
  // Undo takes the question back, like any other.
  EXPECT_EQ(st.verdict("4901234500020"), Verdict::expiry_needed);
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::scan_undone);
  EXPECT_EQ(pending_kind(st), "none");
}

TEST(PackVerification, SerialThenLotThenExpiryAndTheQuestionSurvivesARestart) {
  pt::Station st(kExpiryOrders);
  st.scan("E-1");
  EXPECT_EQ(st.verdict("09501101530003"), Verdict::serial_needed);
  EXPECT_EQ(st.verdict("SN-7"), Verdict::lot_needed);
  const auto asked = st.scan("LOT-9");
  EXPECT_EQ(asked.verdict, Verdict::expiry_needed);
  EXPECT_EQ(asked.line, 1);
  st.reopen_session();
  const auto pending = st.session->snapshot().at("pending").as_object();
  EXPECT_EQ(pending.at("kind").as_string(), "expiry");
  EXPECT_EQ(pending.at("serial").as_string(), "SN-7");
  EXPECT_EQ(pending.at("lot").as_string(), "LOT-9");
  EXPECT_TRUE(st.session->snapshot().at("lines").at(1).at("expiry_required").as_bool());
  EXPECT_EQ(st.verdict("351231"), Verdict::item_accepted);
  EXPECT_EQ(st.text("SELECT serial || '/' || lot || '/' || expiry FROM scans WHERE qty > 0"),
            "SN-7/LOT-9/351231");
  // With everything in the scan itself, nothing is asked.
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::scan_undone);
  EXPECT_EQ(st.scan("0109501101530003"
                    "17351231"
                    "10LOT-9" +
                        GS + "21SN-8",
                    "]d2")
                .verdict,
            Verdict::item_accepted);
}

TEST(PackVerification, UndoTakesBackTheLastItemsOnly) {
  pt::Station st(kOrders);
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::nothing_to_undo);
  st.scan("V-2");
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::nothing_to_undo);
  st.scan("QTY-2");
  st.scan("222");
  EXPECT_EQ(st.session->current()->scanned(), 2);
  const auto u = st.scan("CMD-UNDO");
  EXPECT_EQ(u.verdict, Verdict::scan_undone);
  EXPECT_EQ(u.scanned, 0);
  // The undo is a row of its own that takes the two back; the scan that counted them stays.
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE qty = -2 AND undoes = "
                     "(SELECT id FROM scans WHERE data = '222' AND qty = 2)"),
            1);
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE undone = 1"), 0);
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::nothing_to_undo);
  // The undone items are really gone: two more are needed.
  EXPECT_EQ(st.verdict("222"), Verdict::item_accepted);
  EXPECT_EQ(st.verdict("222"), Verdict::item_accepted);
}

TEST(PackVerification, EachBoxGetsItsOwnLabel) {
  pt::Station st(kOrders);
  st.scan("V-2");
  EXPECT_EQ(st.verdict("CMD-CLOSE-BOX"), Verdict::empty_box);
  st.scan("222");
  st.scan("222");
  const auto closed = st.scan("CMD-CLOSE-BOX");
  EXPECT_EQ(closed.verdict, Verdict::box_closed);
  EXPECT_EQ(closed.box, 2);
  EXPECT_EQ(st.verdict("CMD-UNDO"), Verdict::nothing_to_undo);  // box 1 is closed
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs"), 1);
  const auto done = st.scan("012345678905");
  EXPECT_EQ(done.verdict, Verdict::order_complete);
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs"), 2);
  // The built-in shipping label, its box line in the printer's font: box 1 was closed before
  // anyone knew there would be two, so it is "Box 1"; the last one knows it is "Box 2 of 2".
  const std::string first = st.text("SELECT data FROM print_jobs WHERE id = 1");
  const std::string second = st.text("SELECT data FROM print_jobs WHERE id = 2");
  EXPECT_NE(first.find("^FDBox 1^FS"), std::string::npos) << first;
  EXPECT_NE(first.find("^FDItems: 2^FS"), std::string::npos) << first;
  EXPECT_NE(first.find("^FDOrder V-2^FS"), std::string::npos) << first;
  EXPECT_NE(second.find("^FDBox 2 of 2^FS"), std::string::npos) << second;
  EXPECT_NE(second.find("^FDItems: 1^FS"), std::string::npos) << second;
  EXPECT_NE(second.find("^FDOrder V-2^FS"), std::string::npos) << second;
  const auto events = st.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.box.closed.v1");
  const auto& packed = events[1].at("data").as_object();
  EXPECT_EQ(events[1].at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_EQ(json::serialize(packed.at("boxes")), R"([{"box":1,"items":2},{"box":2,"items":1}])");
}

TEST(PackVerification, ShortPickClosesOnlyWithASupervisorAndAReason) {
  pt::Station st(kOrders, rules_with_supervisor());
  st.scan("V-2");
  st.scan("222");
  EXPECT_EQ(st.verdict("CMD-SHORT"), Verdict::supervisor_needed);
  EXPECT_EQ(st.verdict("222"), Verdict::not_authorised);
  EXPECT_EQ(st.verdict("PIN-1111"), Verdict::not_authorised);
  EXPECT_EQ(st.verdict("PIN-2468"), Verdict::reason_needed);
  EXPECT_EQ(st.verdict("RC-CONFETTI"), Verdict::unknown_reason);
  EXPECT_EQ(st.verdict("222"), Verdict::unknown_reason);
  const auto r = st.scan("RC-DAMAGED");
  EXPECT_EQ(r.verdict, Verdict::order_closed_short);
  EXPECT_FALSE(st.session->current());
  EXPECT_EQ(st.text("SELECT status FROM orders WHERE id = 'V-2'"), "packed");
  const auto events = st.events();
  ASSERT_EQ(events.size(), 1u);
  const auto& data = events[0].at("data").as_object();
  EXPECT_FALSE(data.at("complete").as_bool());
  EXPECT_EQ(data.at("exception").at("reason").as_string(), "damaged");
  EXPECT_EQ(data.at("exception").at("supervisor").as_string(), "sv-ana");
  EXPECT_EQ(json::serialize(data.at("exception").at("missing")),
            R"([{"sku":"UPC","missing":1},{"sku":"CUP","missing":1}])");
  // The PIN is nowhere in the store.
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE data LIKE '%2468%'"), 0);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%2468%'"), 0);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit WHERE kind = 'override'"), 2);
  // A label for the box with the one item in it.
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs"), 1);
}

TEST(PackVerification, WithoutSupervisorsNoOverrideIsPossible) {
  pt::Station st(kOrders);
  st.scan("V-3");
  EXPECT_EQ(st.verdict("CMD-SHORT"), Verdict::not_authorised);
  EXPECT_EQ(st.verdict("PIN-2468"), Verdict::unknown_command);
  EXPECT_EQ(st.verdict("CMD-WHATEVER"), Verdict::unknown_command);
}

TEST(PackVerification, CancelLetsTheOrderBePackedAgainFromScratch) {
  pt::Station st(kOrders);
  st.scan("V-2");
  st.scan("222");
  EXPECT_EQ(st.verdict("CMD-CANCEL"), Verdict::pack_cancelled);
  EXPECT_EQ(st.text("SELECT status FROM orders WHERE id = 'V-2'"), "ready");
  EXPECT_EQ(st.verdict("CMD-CANCEL"), Verdict::unknown_command);
  const auto again = st.scan("V-2");
  EXPECT_EQ(again.verdict, Verdict::order_opened);
  EXPECT_EQ(again.scanned, 0);
  EXPECT_EQ(st.events().at(0).at("type").as_string(), "com.packbench.pack.cancelled.v1");
}

TEST(PackVerification, ReopenNeedsASupervisorAndKeepsWhatWasPacked) {
  pt::Station st(kOrders, rules_with_supervisor());
  st.scan("V-3");
  st.scan("333");
  EXPECT_EQ(st.verdict("V-3"), Verdict::order_already_packed);
  EXPECT_EQ(st.verdict("CMD-REOPEN"), Verdict::supervisor_needed);
  EXPECT_EQ(st.verdict("V-3"), Verdict::not_authorised);
  EXPECT_EQ(st.verdict("SV-0001"), Verdict::reopen_authorised);
  const auto r = st.scan("V-3");
  EXPECT_EQ(r.verdict, Verdict::order_reopened);
  EXPECT_EQ(r.scanned, 1);
  EXPECT_EQ(r.box, 2);  // a new box; box 1 left with its label
  EXPECT_EQ(st.verdict("333"), Verdict::over_scan);
  EXPECT_EQ(st.verdict("CMD-CANCEL"), Verdict::pack_cancelled);
  EXPECT_EQ(st.text("SELECT status FROM orders WHERE id = 'V-3'"), "packed");
  const auto events = st.events();
  EXPECT_EQ(events.at(1).at("type").as_string(), "com.packbench.order.reopened.v1");
  EXPECT_EQ(events.at(1).at("data").at("supervisor").as_string(), "sv-ana");
}

TEST(PackVerification, BadgesLogPackersInAndOutAndEventsCarryThePacker) {
  ps::PackRules rules;
  rules.require_packer = true;
  pt::Station st(kOrders, rules);
  EXPECT_EQ(st.verdict("V-3"), Verdict::login_required);
  EXPECT_EQ(st.verdict("PK-0042"), Verdict::packer_logged_in);
  st.scan("V-3");
  EXPECT_EQ(st.verdict("PK-0007"), Verdict::packer_logged_in);  // a shift change mid-order
  st.scan("333");
  const auto events = st.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("data").at("packer").as_string(), "0007");
  EXPECT_EQ(st.verdict("PK-0007"), Verdict::packer_logged_out);
  EXPECT_EQ(st.verdict("V-2"), Verdict::login_required);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit WHERE kind = 'state' AND detail LIKE "
                     "'%packer_logged_%'"),
            4);  // in 0042, out 0042, in 0007, out 0007
}

TEST(PackVerification, GarbageFromAScannerIsRecordedAndChangesNothing) {
  pt::Station st(kOrders);
  st.scan("V-3");
  auto garbage = pt::make_scan("\\x01\\x02");
  garbage.rejected = "non-printable byte 0x01";
  auto r = st.session->handle(garbage);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->verdict, Verdict::rejected_scan);
  EXPECT_FALSE(r->accepted());
  EXPECT_EQ(st.session->current()->order_id, "V-3");
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE verdict = 'rejected_scan'"), 1);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'scan' AND detail LIKE "
                     "'%non-printable%'"),
            1);
}

TEST(PackVerification, PendingQuestionsAndThePackerSurviveARestart) {
  pt::Station st(kOrders, rules_with_supervisor());
  st.scan("PK-0042");
  st.scan("V-1");
  st.scan("QTY-2");
  st.reopen_session();
  EXPECT_EQ(st.session->packer(), "0042");
  EXPECT_EQ(st.session->current()->pending.kind, ps::Pending::Kind::quantity);
  EXPECT_EQ(st.scan("4901234567894").scanned, 2);
  st.scan("09506000134352");  // asks for the serial
  st.reopen_session();
  EXPECT_EQ(st.session->current()->pending.kind, ps::Pending::Kind::serial);
  EXPECT_EQ(st.verdict("SN-9"), Verdict::item_accepted);
  st.scan("CMD-CLOSE-BOX");
  st.scan("CMD-SHORT");
  st.scan("SV-0001");
  st.reopen_session();
  EXPECT_EQ(st.session->current()->box, 2);
  EXPECT_EQ(st.session->current()->pending.kind, ps::Pending::Kind::reason);
  EXPECT_EQ(st.verdict("RC-OUT-OF-STOCK"), Verdict::order_closed_short);
}

TEST(PackVerification, TheAuditLogIsAppendOnly) {
  pt::Station st(kOrders);
  st.scan("V-3");
  st.scan("333");
  // One record per scan, holding the scan and its verdict...
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'scan'"), 2);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE kind = 'scan' AND "
                     "json_extract(detail, '$.verdict') = 'order_complete' AND "
                     "json_extract(detail, '$.data') = '333'"),
            1);
  // ... and the state changes, each naming the scan that caused it.
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log a JOIN scans s ON s.id = a.scan_id "
                     "WHERE a.kind = 'state' AND json_extract(a.detail, '$.event') = "
                     "'order_opened' AND s.data = 'V-3'"),
            1);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log a JOIN scans s ON s.id = a.scan_id "
                     "WHERE a.kind = 'state' AND json_extract(a.detail, '$.event') = "
                     "'order_complete' AND s.data = '333'"),
            1);
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log WHERE station IS NOT 'pack-01' OR "
                     "mono_ns <= 0 OR at IS NULL"),
            0);
  // Neither table behind it lets a row change or leave.
  for (const char* sql :
       {"UPDATE audit SET detail = '{}'", "UPDATE scans SET verdict = 'x'",
        "UPDATE scans SET undone = 1", "DELETE FROM audit", "DELETE FROM scans"}) {
    auto r = st.db.write([&] { st.db.exec(sql); });
    ASSERT_FALSE(r) << sql;
    EXPECT_NE(r.error().message.find("append-only"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(st.count("SELECT count(*) FROM audit_log"), 4);
}

TEST(PackVerification, FiguresPerPackerAndStation) {
  pt::Station st(kOrders);
  st.scan("PK-A");
  st.scan("V-3");
  st.scan("999");  // wrong item
  st.scan("333");
  st.scan("PK-B");
  st.scan("V-2");
  st.scan("QTY-2");
  st.scan("222");
  st.scan("CMD-UNDO");
  const auto f = ps::pack_figures(st.db, ps::now_utc());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->station.packs, 1);
  EXPECT_EQ(f->station.items, 3);   // counted by scans: 1 + 2
  EXPECT_EQ(f->station.undone, 2);  // the 2 taken back
  EXPECT_EQ(f->station.packs_last_hour, 1);
  EXPECT_EQ(f->station.items_last_hour, 1);
  EXPECT_EQ(f->station.scans, 9);
  EXPECT_EQ(f->station.rejected, 1);
  ASSERT_EQ(f->packers.size(), 2u);  // A, B: a badge scan already counts for its packer
  const auto& a = f->packers[0];
  EXPECT_EQ(a.packer, "A");
  EXPECT_EQ(a.packs, 1);
  EXPECT_DOUBLE_EQ(a.error_rate_last_hour(), 1.0 / 4.0);  // PK-A, V-3, 999, 333
  std::string prom;
  ps::append_prometheus(prom, *f, "pack-01");
  EXPECT_NE(prom.find("packbench_packs_total{station=\"pack-01\"} 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("packbench_packs_per_hour{station=\"pack-01\",packer=\"A\"} 1\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("# TYPE packbench_scan_error_rate gauge"), std::string::npos);
}

TEST(PackVerification, FiguresReadTheSameWhetherFoldedInOrNot) {
  // The same scans at stations that fold the running figures in after every scan, every second
  // or third scan, or never: undos of scans folded in and not, a packer undoing another's item.
  const std::vector<std::string> scans = {"PK-A", "V-3",      "999",          "333",      "PK-B",
                                          "V-2",  "QTY-2",    "222",          "CMD-UNDO", "222",
                                          "PK-A", "CMD-UNDO", "012345678905", "222",      "222"};
  auto figures = [&](std::int64_t fold_every, pt::Station& st) {
    st.session->fold_every(fold_every);
    for (const auto& s : scans) {
      st.scan(s);
    }
    auto f = ps::pack_figures(st.db, ps::now_utc());
    EXPECT_TRUE(f);
    std::string out;
    for (const auto& p : f->packers) {
      out += fmt::format("{}: {} {} {} {} {} / {} {} {} {}\n", p.packer, p.scans, p.rejected,
                         p.items, p.undone, p.packs, p.scans_last_hour, p.rejected_last_hour,
                         p.items_last_hour, p.packs_last_hour);
    }
    return out;
  };
  pt::Station never(kOrders);
  const std::string expected = figures(1'000'000, never);
  EXPECT_EQ(never.count("SELECT count(*) FROM scan_counts"), 0);
  // Counted: A 333, then B 2 (undone by B) and 1 (undone by A), then A 1 + 1 + 1.
  EXPECT_EQ(expected,
            "A: 9 1 4 1 2 / 9 1 4 2\n"
            "B: 6 0 3 2 0 / 6 0 0 0\n");
  for (std::int64_t every : {1, 2, 3}) {
    pt::Station st(kOrders);
    EXPECT_EQ(figures(every, st), expected) << "folded every " << every << " scans";
    EXPECT_GT(st.count("SELECT count(*) FROM scan_counts"), 0);
  }
}

TEST(PackVerification, CodesThatLookLikeQuantitiesAreStillOrdersAndItems) {
  pt::Station st(R"([
    {"id": "X1001", "lines": [{"sku": "A", "qty": 2, "barcodes": ["X12345"]}]}])");
  EXPECT_EQ(st.verdict("X1001"), Verdict::order_opened);
  EXPECT_EQ(st.verdict("X12345"), Verdict::item_accepted);
  EXPECT_EQ(st.verdict("x1"), Verdict::quantity_set);  // nothing answers to x1: a quantity
}

TEST(PackVerification, AProductOrAnOrderIsNeverTakenAsASerial) {
  pt::Station st(kOrders);
  st.scan("V-1");
  EXPECT_EQ(st.verdict("09506000134352"), Verdict::serial_needed);
  EXPECT_EQ(st.verdict("V-2"), Verdict::wrong_item);            // another order's id
  EXPECT_EQ(st.verdict("0012345678905"), Verdict::wrong_item);  // another order's product
  EXPECT_EQ(st.verdict("5012345678900"), Verdict::wrong_item);  // any GTIN
  EXPECT_EQ(st.scan("0109506000134352"
                    "21SN9",
                    "]C1")
                .verdict,
            Verdict::wrong_item);
  EXPECT_EQ(st.session->current()->scanned(), 0);
  EXPECT_EQ(st.verdict("SN-REAL"), Verdict::item_accepted);
}

TEST(PackVerification, AnExpiryThatIsNoDateIsRejectedNotLost) {
  pt::Station st(kOrders);
  st.scan("V-1");
  const auto r = st.scan("(01)04909876543214(17)26AB31(10)L1");
  EXPECT_EQ(r.verdict, Verdict::rejected_scan);
  EXPECT_EQ(st.count("SELECT count(*) FROM scans"), 2);  // recorded like every scan
}

TEST(PackVerification, ThreeWrongPinsCancelTheOverrideAndNoPinIsStored) {
  pt::Station st(kOrders, rules_with_supervisor());
  st.scan("V-3");
  st.scan("CMD-SHORT");
  EXPECT_EQ(st.verdict("PIN-0001"), Verdict::not_authorised);
  EXPECT_EQ(st.verdict("pin-0002"), Verdict::not_authorised);
  const auto third = st.scan("PIN-0003");
  EXPECT_EQ(third.verdict, Verdict::not_authorised);
  EXPECT_EQ(st.session->current()->pending.kind, ps::Pending::Kind::none);
  EXPECT_EQ(st.verdict("PIN-2468"), Verdict::unknown_command);  // nothing asked any more
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE data LIKE '%000%' OR data LIKE '%2468%'"),
            0);
}

TEST(PackVerification, AScanTheStoreCouldNotRecordIsAnnouncedAsSuch) {
  pt::Station st(kOrders);
  std::vector<ps::ScanOutcome> heard;
  st.session->add_listener([&](const ps::ScanOutcome& o) { heard.push_back(o); });
  st.scan("V-3");
  st.db.exec(
      "CREATE TRIGGER full BEFORE INSERT ON scans BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  auto r = st.session->handle(pt::make_scan("333"));
  ASSERT_FALSE(r);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].verdict, Verdict::not_recorded);
  EXPECT_FALSE(heard[1].accepted());
  EXPECT_NE(heard[1].message.find("disk full"), std::string::npos);
}

#include "station/pack/pack_session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "pack_fixture.hpp"
#include "packbench/labels/zpl.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using ps::Verdict;

namespace {

const char* kOrders = R"([
  {"id": "A-1", "lines": [{"sku": "TEA", "name": "Tea", "qty": 2, "barcodes": ["111", "0111"]},
                          {"sku": "CUP", "name": "Cup", "qty": 1, "barcodes": ["222"]}]},
  {"id": "B-2", "lines": [{"sku": "MAT", "qty": 1, "barcodes": ["333"]}]}
])";

}  // namespace

TEST(PackSession, PacksAnOrderAndCompletesOnTheLastItem) {
  pt::Station st(kOrders);
  EXPECT_EQ(st.scan("A-1").verdict, Verdict::order_opened);
  auto s1 = st.scan("111");
  EXPECT_EQ(s1.verdict, Verdict::item_accepted);
  EXPECT_EQ(s1.scanned, 1);
  EXPECT_EQ(s1.expected, 3);
  EXPECT_EQ(st.scan("0111").verdict, Verdict::item_accepted);  // another barcode, same line
  EXPECT_EQ(st.scan("222").verdict, Verdict::order_complete);
  EXPECT_FALSE(st.session->current());
  EXPECT_EQ(st.count("SELECT count(*) FROM orders WHERE id = 'A-1' AND status = 'packed'"), 1);
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs WHERE order_id = 'A-1'"), 1);
  EXPECT_EQ(st.count("SELECT count(*) FROM outbox WHERE subject = 'A-1' AND type = "
                     "'com.packbench.order.packed.v1'"),
            1);
  EXPECT_EQ(st.count("SELECT count(*) FROM scans"), 4);
}

TEST(PackSession, RejectsWrongItemsOverScansAndStrangers) {
  pt::Station st(kOrders);
  EXPECT_EQ(st.scan("333").verdict, Verdict::order_not_found);  // an item before any order
  EXPECT_EQ(st.scan("A-1").verdict, Verdict::order_opened);
  EXPECT_EQ(st.scan("A-1").verdict, Verdict::order_already_open);
  EXPECT_EQ(st.scan("999").verdict, Verdict::unknown_barcode);  // no order has it
  EXPECT_EQ(st.scan("333").verdict, Verdict::wrong_item);       // in another order, not this one
  EXPECT_EQ(st.scan("B-2").verdict, Verdict::another_order_open);
  EXPECT_EQ(st.scan("222").verdict, Verdict::item_accepted);
  const auto over = st.scan("222");
  EXPECT_EQ(over.verdict, Verdict::over_scan);
  EXPECT_NE(over.message.find("Cup"), std::string::npos);
  // None of the rejections counted.
  EXPECT_EQ(st.session->current()->scanned(), 1);
  // Every scan is on record, accepted or not.
  EXPECT_EQ(st.count("SELECT count(*) FROM scans"), 8);
  EXPECT_EQ(st.count("SELECT count(*) FROM scans WHERE accepted = 0"), 5);
}

TEST(PackSession, APackedOrderCannotBePackedAgain) {
  pt::Station st(kOrders);
  st.scan("B-2");
  EXPECT_EQ(st.scan("333").verdict, Verdict::order_complete);
  EXPECT_EQ(st.scan("B-2").verdict, Verdict::order_already_packed);
  EXPECT_EQ(st.count("SELECT count(*) FROM outbox"), 1);
}

TEST(PackSession, AnOpenOrderResumesWithItsScansAfterARestart) {
  pt::Station st(kOrders);
  st.scan("A-1");
  st.scan("111");
  st.scan("222");
  st.reopen_session();  // a new process would do exactly this
  ASSERT_TRUE(st.session->current());
  EXPECT_EQ(st.session->current()->order_id, "A-1");
  EXPECT_EQ(st.session->current()->scanned(), 2);
  EXPECT_EQ(st.scan("222").verdict, Verdict::over_scan);
  EXPECT_EQ(st.scan("111").verdict, Verdict::order_complete);
}

TEST(PackSession, CompletionQueuesTheLabelAndTheEventTogether) {
  pt::Station st(kOrders);
  st.scan("B-2");
  st.scan("333");
  auto ev = st.db.read([&] {
    auto q = st.db.statement("SELECT event FROM outbox");
    q.step();
    return q.column_text(0);
  });
  ASSERT_TRUE(ev);
  const auto json = boost::json::parse(*ev).as_object();
  EXPECT_EQ(json.at("specversion").as_string(), "1.0");
  EXPECT_EQ(json.at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_EQ(json.at("source").as_string(), "/stations/site-1/pack-01");
  EXPECT_EQ(json.at("subject").as_string(), "B-2");
  EXPECT_EQ(json.at("datacontenttype").as_string(), "application/json");
  EXPECT_EQ(json.at("data").at("items").as_int64(), 1);

  // The print queue sends the label to the printer once the io_context runs.
  // The file is written off the control thread; the job is marked printed after that.
  const auto label = st.dir / "prints" / "000001-shipping-label-B-2.zpl";
  ASSERT_TRUE(pt::wait_until([&] {
    st.io.poll();
    return std::filesystem::exists(label) &&
           st.count("SELECT count(*) FROM print_jobs WHERE state = 'printed'") == 1;
  }));
  const auto cmds = packbench::labels::zpl_tokenize(pt::read_file(label));
  EXPECT_EQ(cmds.front().name, "^XA");
  EXPECT_EQ(cmds.back().name, "^XZ");
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs"), 1);
}

TEST(PackSession, AFailedCommitChangesNothing) {
  pt::Station st(kOrders);
  st.scan("B-2");
  // Make every write fail, as a full disk would.
  st.db.exec(
      "CREATE TRIGGER fail BEFORE INSERT ON scans BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  auto r = st.session->handle(pt::make_scan("333"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("disk full"), std::string::npos);
  ASSERT_TRUE(st.session->current());  // still open, nothing counted
  EXPECT_EQ(st.session->current()->scanned(), 0);
  EXPECT_EQ(st.count("SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(st.count("SELECT count(*) FROM print_jobs"), 0);
  st.db.exec("DROP TRIGGER fail");
  EXPECT_EQ(st.scan("333").verdict, Verdict::order_complete);
}

// idle -> order_open -> scanning -> (complete) -> closed, as the snapshot (/healthz, the UI)
// shows it after each commit, and after a restart.
TEST(PackSession, TheBenchStateFollowsThePackAndSurvivesARestart) {
  pt::Station st(kOrders);
  auto state = [&] { return std::string(st.session->snapshot().at("state").as_string()); };
  EXPECT_EQ(state(), "idle");
  EXPECT_EQ(st.session->bench_state(), ps::BenchState::idle);
  st.scan("A-1");
  EXPECT_EQ(state(), "order_open");
  st.scan("999");  // a rejected scan counts nothing
  EXPECT_EQ(state(), "order_open");
  st.scan("111");
  EXPECT_EQ(state(), "scanning");
  st.reopen_session();
  EXPECT_EQ(state(), "scanning");
  EXPECT_EQ(st.scan("CMD-UNDO").verdict, Verdict::scan_undone);
  EXPECT_EQ(state(), "order_open");  // nothing counted in this pack any more
  st.reopen_session();
  EXPECT_EQ(state(), "order_open");
  EXPECT_EQ(st.scan("QTY-2").verdict, Verdict::quantity_set);
  EXPECT_EQ(state(), "scanning");  // an item in hand
  st.scan("111");
  // The last item: `complete` is the state inside its transaction; after the commit the
  // order is closed, and that is what every listener hears with the verdict.
  std::string heard;
  st.session->add_listener([&](const ps::ScanOutcome&) { heard = state(); });
  EXPECT_EQ(st.scan("222").verdict, Verdict::order_complete);
  EXPECT_EQ(heard, "closed");
  EXPECT_EQ(state(), "closed");
  EXPECT_EQ(ps::to_string(ps::BenchState::complete), "complete");
  st.scan("999");  // order_not_found: the bench stays closed
  EXPECT_EQ(state(), "closed");
  st.reopen_session();
  EXPECT_EQ(state(), "closed");
  // The next order opens from closed as from idle; cancelling it leaves the bench idle.
  st.scan("B-2");
  EXPECT_EQ(state(), "order_open");
  EXPECT_EQ(st.scan("CMD-CANCEL").verdict, Verdict::pack_cancelled);
  EXPECT_EQ(state(), "idle");
  st.reopen_session();
  EXPECT_EQ(state(), "idle");
}

TEST(PackSession, AReopenedOrderIsOpenUntilThisPackCountsAnItem) {
  ps::PackRules rules;
  rules.supervisors.push_back({"sv-ana", "SV-0001", ""});
  pt::Station st(kOrders, rules);
  auto state = [&] { return std::string(st.session->snapshot().at("state").as_string()); };
  st.scan("A-1");
  st.scan("111");
  st.scan("CMD-SHORT");
  st.scan("SV-0001");
  EXPECT_EQ(st.scan("RC-DAMAGED").verdict, Verdict::order_closed_short);
  EXPECT_EQ(state(), "closed");
  st.scan("CMD-REOPEN");
  st.scan("SV-0001");
  EXPECT_EQ(state(), "closed");  // the supervisor agreed; no order is open yet
  EXPECT_EQ(st.scan("A-1").verdict, Verdict::order_reopened);
  EXPECT_EQ(st.session->current()->scanned(), 1);  // the earlier pack's item still counts...
  EXPECT_EQ(state(), "order_open");                // ... but nothing of this one yet
  st.reopen_session();
  EXPECT_EQ(state(), "order_open");
  st.scan("222");
  EXPECT_EQ(state(), "scanning");
  st.reopen_session();
  EXPECT_EQ(state(), "scanning");
}

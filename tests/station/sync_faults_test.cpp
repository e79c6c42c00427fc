// Faults between the station and the back office, on loopback: slow answers, no answers,
// resets, a proxy that cuts after the request, TLS with the wrong certificate, the wall clock
// jumping, a full store and a full outbox. The collector deduplicates by (source, id) and
// checks the order per subject; every test ends with every event there once.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "pack_fixture.hpp"
#include "sync_fixture.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Every event in the outbox arrived once (after dedupe), in order per subject.
void expect_all_delivered(pt::SyncFixture& f, pt::EventCollector& collector, std::size_t n) {
  EXPECT_EQ(f.depth(), 0);
  EXPECT_EQ(f.dead(), 0);
  EXPECT_EQ(collector.events().size(), n);
  const auto problems = collector.problems();
  EXPECT_TRUE(problems.empty()) << problems.front();
}

}  // namespace

TEST(SyncFaults, ASlowAnswerWithinTheTimeoutIsJustSlow) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t) {
    pt::Reply r;
    r.delay = 300ms;
    return r;
  });
  f.add("A", 2);
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  expect_all_delivered(f, collector, 2);
  EXPECT_EQ(collector.requests().size(), 1u);
  EXPECT_TRUE(f.sender->status().retried.empty());
}

TEST(SyncFaults, AnAnswerTooLateIsTriedAgainAndTheDuplicateHasTheSameIds) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r;
    r.delay = i == 0 ? 1500ms : 0ms;  // the back office takes them, but answers too late
    return r;
  });
  auto config = pt::fast_sync(collector.url());
  config.timeout = 300ms;
  f.add("A", 3);
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  ASSERT_TRUE(collector.wait_for_requests(2));
  ASSERT_TRUE(pt::wait_until([&] { return collector.duplicates() == 3; }));
  expect_all_delivered(f, collector, 3);
  EXPECT_EQ(f.retried("timeout"), 3);
}

TEST(SyncFaults, ResetsAndClosedConnectionsAreTriedAgain) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r;
    r.action = i == 0   ? pt::Reply::Action::reset
               : i == 1 ? pt::Reply::Action::close
                        : pt::Reply::Action::answer;
    return r;
  });
  f.add("A", 2);
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  expect_all_delivered(f, collector, 2);
  EXPECT_GE(collector.requests().size(), 3u);
  EXPECT_GE(f.retried("reset"), 2);
}

TEST(SyncFaults, ABackOfficeThatNeverAnswersTimesOut) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r;
    r.action = i == 0 ? pt::Reply::Action::hang : pt::Reply::Action::answer;
    return r;
  });
  auto config = pt::fast_sync(collector.url());
  config.timeout = 300ms;
  f.add("A");
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  expect_all_delivered(f, collector, 1);
  EXPECT_EQ(f.retried("timeout"), 1);
}

TEST(SyncFaults, ANothingListeningBackOfficeKeepsTheEventsUntilItComes) {
  pt::SyncFixture f;
  const auto port = pt::free_port();
  f.add("ORDER-1");
  f.start(pt::fast_sync("http://127.0.0.1:" + std::to_string(port) + "/in"));
  ASSERT_TRUE(f.run_until([&] { return f.attempts() >= 3; }));
  EXPECT_FALSE(f.sender->status().online.value_or(true));
  EXPECT_NE(f.sender->status().last_error.find("connect"), std::string::npos);
  EXPECT_EQ(f.depth(), 1);  // nothing lost
  EXPECT_GE(f.retried("connect"), 3);

  pt::EventCollector collector(std::nullopt, port);  // the network comes back
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  expect_all_delivered(f, collector, 1);
  EXPECT_EQ(collector.events()[0].at("subject").as_string(), "ORDER-1");
}

TEST(SyncFaults, AConnectionCutAfterTheRequestIsSentAgainUnderTheSameIds) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  pt::CutProxy proxy(collector.port());
  proxy.cut_next(2);
  f.add("A", 2);
  f.add("B", 1);
  f.start(pt::fast_sync("http://127.0.0.1:" + std::to_string(proxy.port()) + "/events"));
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  EXPECT_EQ(proxy.cuts(), 2);
  // The back office took the batch three times; after dedupe it has each event once.
  EXPECT_EQ(collector.requests().size(), 3u);
  EXPECT_EQ(collector.duplicates(), 6u);
  expect_all_delivered(f, collector, 3);
  EXPECT_GE(f.retried("reset"), 3);
}

// --- TLS -----------------------------------------------------------------------------------

class SyncTls : public ::testing::Test {
 protected:
  pt::TempDir certs;
  pt::TestPki pki{certs.path()};
};

TEST_F(SyncTls, VerifiesTheServerAndNamesItWithSni) {
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    pt::SyncFixture f;
    pt::EventCollector collector(pki.server);
    auto config = pt::fast_sync(collector.url("/events", host));
    config.ca_file = pki.ca_cert;
    f.add("A", 2);
    f.start(config);
    ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; })) << f.sender->status().last_error;
    expect_all_delivered(f, collector, 2);
    const auto names = collector.server_names();
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names[0], host == "localhost" ? "localhost" : "");  // no SNI for an address
  }
}

TEST_F(SyncTls, RefusesAServerItCannotVerify) {
  struct Case {
    const char* what;
    pt::TlsFiles server;
    std::filesystem::path ca;
    const char* error;
  };
  for (const auto& c : {Case{"signed by another CA", pki.server, pki.other_ca_cert,
                             "unable to get local issuer certificate"},
                        Case{"for another name", pki.wrong_name, pki.ca_cert, "hostname mismatch"},
                        Case{"self-signed", pki.self_signed, pki.ca_cert, "self-signed"}}) {
    SCOPED_TRACE(c.what);
    pt::SyncFixture f;
    pt::EventCollector collector(c.server);
    auto config = pt::fast_sync(collector.url());
    config.ca_file = c.ca;
    f.add("A");
    f.start(config);
    ASSERT_TRUE(f.run_until([&] { return f.retried("tls") >= 2; }));
    const auto& error = f.sender->status().last_error;
    EXPECT_NE(error.find("certificate refused"), std::string::npos) << error;
    EXPECT_NE(error.find(c.error), std::string::npos) << error;
    EXPECT_FALSE(*f.sender->status().online);
    EXPECT_EQ(f.depth(), 1);
    EXPECT_TRUE(collector.requests().empty());  // not a byte of the events went out
    EXPECT_GE(collector.tls_failures(), 1u);
  }
}

TEST_F(SyncTls, AMissingOrEmptyCaFileIsAnErrorAtStart) {
  boost::asio::io_context io;
  auto config = pt::fast_sync("https://localhost:1/events");
  config.ca_file = certs / "nothing.pem";
  auto t = ps::WebhookTransport::create(io.get_executor(), config);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("nothing.pem"), std::string::npos) << t.error().message;
}

// --- the wall clock ------------------------------------------------------------------------

TEST(SyncClock, WallClockJumpsDisturbNeitherBackOffNorTtls) {
  ps::OutboxConfig oc;
  oc.bulk_ttl = 60s;
  pt::SyncFixture f(oc);
  const auto port = pt::free_port();
  f.add("P", 2, ps::Lane::bulk);
  f.add("A", 1);
  f.start(pt::fast_sync("http://127.0.0.1:" + std::to_string(port) + "/events"));
  ASSERT_TRUE(f.run_until([&] { return f.attempts() >= 2; }));

  // Two days forward: a TTL on the wall clock would expire the photos now; a back-off on it
  // would not notice. Neither happens.
  f.clock.jump(48h);
  const auto before = f.attempts();
  ASSERT_TRUE(f.run_until([&] { return f.attempts() >= before + 3; }));
  EXPECT_EQ(f.dead(), 0);
  EXPECT_TRUE(f.sender->status().expired.empty());

  // Four days back (two before the truth): a back-off on the wall clock would now wait two
  // days. The back office returns and gets everything at once.
  f.clock.jump(-96h);
  pt::EventCollector collector(std::nullopt, port);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  expect_all_delivered(f, collector, 3);
  // The jumped clock is the one the station reads for what it writes.
  const auto ts = std::stoll(collector.requests().back().headers.at("webhook-timestamp"));
  const auto true_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_NEAR(static_cast<double>(true_now - ts), 48 * 3600.0, 600.0);
}

TEST(SyncClock, ATtlRunsOutEvenWhenTheWallClockGoesBack) {
  ps::OutboxConfig oc;
  oc.bulk_ttl = 300ms;
  pt::SyncFixture f(oc);
  const auto port = pt::free_port();
  f.start(pt::fast_sync("http://127.0.0.1:" + std::to_string(port) + "/events"));
  f.clock.jump(-24h);
  f.add("P", 2, ps::Lane::bulk);
  f.add("A", 1);
  ASSERT_TRUE(f.run_until([&] { return f.dead() == 2; }));
  EXPECT_EQ(f.sender->status().expired.at("bulk"), 2);
  EXPECT_EQ(f.depth(), 1);  // the business lane has no TTL: its event waits on
  auto dead = f.outbox.dead_letters(10);
  EXPECT_EQ((*dead)[0].reason, "expired");
}

// --- full store, full outbox ---------------------------------------------------------------

namespace {

// A long SKU: each order.packed event is about 800 bytes.
const std::string kSku = "TEA-" + std::string(300, 'X');
const std::string kOrders = R"({"orders": [
  {"id": "F-1", "lines": [{"sku": ")" +
                            kSku + R"(", "qty": 2, "barcodes": ["4901234567894"]}]},
  {"id": "F-2", "lines": [{"sku": ")" +
                            kSku + R"(", "qty": 2, "barcodes": ["4901234567894"]}]}
]})";

std::int64_t page_count(ps::Database& db) {
  auto r = db.read([&] {
    auto q = db.statement("PRAGMA page_count");
    q.step();
    return q.column_int(0);
  });
  return r ? *r : -1;
}

struct PackWithSync {
  explicit PackWithSync(ps::OutboxConfig oc = {}) : st(kOrders.c_str(), {}, oc) {
    EXPECT_TRUE(st.outbox.restore());
    st.session->add_listener([this](const ps::ScanOutcome& o) { heard.push_back(o); });
  }
  pt::Station st;
  std::vector<ps::ScanOutcome> heard;
  std::unique_ptr<ps::OutboxSender> sender;

  void start_sync(const std::string& url) {
    auto config = pt::fast_sync(url);
    auto t = ps::WebhookTransport::create(st.io.get_executor(), config);
    ASSERT_TRUE(t);
    sender =
        std::make_unique<ps::OutboxSender>(st.io.get_executor(), st.outbox, std::move(*t), config);
    st.outbox.set_on_commit([this] { sender->wake(); });
    sender->start();
  }
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      st.io.run_for(5ms);
    }
    return done();
  }
};

}  // namespace

TEST(SyncFull, AFullDiskRefusesTheOrderCleanlyAndTheAlarmFollowsWhenSpaceReturns) {
  PackWithSync p;
  EXPECT_EQ(p.st.verdict("F-1"), ps::Verdict::order_opened);
  EXPECT_EQ(p.st.verdict("4901234567894"), ps::Verdict::item_accepted);

  // The disk fills: the store may not grow by a page, and rejected scans (each a row in the
  // scans and the audit log) take what room the pages had left.
  p.st.db.exec("PRAGMA max_page_count = " + std::to_string(page_count(p.st.db)));
  int recorded = 0;
  while (p.st.session->handle(pt::make_scan("NOPE"))) {
    ASSERT_LT(++recorded, 10000);
  }
  ASSERT_FALSE(p.heard.empty());
  EXPECT_EQ(p.heard.back().verdict, ps::Verdict::storage_full);
  const auto snapshot = json::serialize(p.st.session->snapshot());
  const auto scans = p.st.count("SELECT count(*) FROM scans");
  const auto jobs = p.st.count("SELECT count(*) FROM print_jobs");

  // The last item would close the order: refused, and the packer is told why.
  auto r = p.st.session->handle(pt::make_scan("4901234567894"));
  ASSERT_FALSE(r);
  EXPECT_EQ(p.heard.back().verdict, ps::Verdict::storage_full);
  EXPECT_NE(p.heard.back().message.find("disk is full"), std::string::npos);
  EXPECT_FALSE(p.heard.back().accepted());
  // Nothing of it happened: not the scan, not the label, not the event, not the state.
  EXPECT_EQ(json::serialize(p.st.session->snapshot()), snapshot);
  EXPECT_EQ(p.st.count("SELECT count(*) FROM scans"), scans);
  EXPECT_EQ(p.st.count("SELECT count(*) FROM print_jobs"), jobs);
  EXPECT_EQ(p.st.count("SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(p.st.outbox.refusals().reason, "disk_full");
  // Each refused scan counts: as the events it would have written when the decision got that
  // far, else as a scan not recorded.
  EXPECT_EQ(p.st.outbox.refusals().events + p.st.outbox.refusals().scans, 2);
  EXPECT_EQ(p.st.outbox.refusals().subjects, std::vector<std::string>{"F-1"});
  EXPECT_TRUE(p.st.outbox.full());

  // Space returns; the packer scans the item again and the order closes.
  p.st.db.exec("PRAGMA max_page_count = 1073741823");
  EXPECT_EQ(p.st.verdict("4901234567894"), ps::Verdict::order_complete);
  pt::EventCollector collector;
  p.start_sync(collector.url());
  ASSERT_TRUE(p.run_until([&] { return collector.events().size() == 2; }));
  const auto events = collector.events();
  std::vector<std::string> types;
  for (const auto& e : events) {
    types.emplace_back(e.at("type").as_string());
  }
  EXPECT_NE(std::find(types.begin(), types.end(), "com.packbench.order.packed.v1"), types.end());
  const auto alarm = std::find(types.begin(), types.end(), ps::kOutboxRefusedType);
  ASSERT_NE(alarm, types.end());
  const auto& data = events[static_cast<std::size_t>(alarm - types.begin())].at("data");
  EXPECT_EQ(data.at("reason").as_string(), "disk_full");
  EXPECT_EQ(data.at("refused").as_int64() + data.at("scans_not_recorded").as_int64(), 2);
  EXPECT_EQ(data.at("subjects").as_array()[0].as_string(), "F-1");
  EXPECT_FALSE(p.st.outbox.full());
  EXPECT_TRUE(collector.problems().empty());
}

TEST(SyncFull, AFullOutboxStopsOrdersClosingTellsThePackerAndRecovers) {
  ps::OutboxConfig oc;
  oc.max_bytes = 1024;  // room for one order.packed event, not two
  PackWithSync p(oc);
  for (const char* s : {"F-1", "4901234567894", "4901234567894"}) {
    p.st.scan(s);
  }
  EXPECT_EQ(p.heard.back().verdict, ps::Verdict::order_complete);
  EXPECT_EQ(p.st.verdict("F-2"), ps::Verdict::order_opened);
  EXPECT_EQ(p.st.verdict("4901234567894"), ps::Verdict::item_accepted);  // no event, no problem
  const auto snapshot = json::serialize(p.st.session->snapshot());
  const auto jobs = p.st.count("SELECT count(*) FROM print_jobs");

  // The last item would close the order and write its event: refused, and the packer is told.
  auto refused = p.st.session->handle(pt::make_scan("4901234567894"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->verdict, ps::Verdict::outbox_full);
  EXPECT_EQ(p.heard.back().verdict, ps::Verdict::outbox_full);
  EXPECT_NE(refused->message.find("Call IT"), std::string::npos);
  EXPECT_EQ(json::serialize(p.st.session->snapshot()), snapshot);
  EXPECT_EQ(p.st.count("SELECT count(*) FROM print_jobs"), jobs);
  EXPECT_EQ(p.st.count("SELECT count(*) FROM outbox"), 1);
  // The refusal is a rejected scan like any other: in the scans and the audit log.
  EXPECT_EQ(p.st.text("SELECT verdict FROM scans ORDER BY id DESC LIMIT 1"), "outbox_full");
  EXPECT_EQ(p.st.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%outbox_full%'"), 1);
  EXPECT_TRUE(p.st.outbox.full());

  // The back office takes the first event; there is room again: the alarm goes, then the
  // packer closes the order.
  pt::EventCollector collector;
  p.start_sync(collector.url());
  ASSERT_TRUE(p.run_until(
      [&] { return collector.events().size() == 2 && p.st.outbox.depth()->events == 0; }));
  EXPECT_FALSE(p.st.outbox.full());
  EXPECT_EQ(p.st.verdict("4901234567894"), ps::Verdict::order_complete);
  ASSERT_TRUE(p.run_until([&] { return collector.events().size() == 3; }));
  const auto events = collector.events();
  EXPECT_EQ(events[0].at("subject").as_string(), "F-1");
  EXPECT_EQ(events[1].at("type").as_string(), ps::kOutboxRefusedType);
  EXPECT_EQ(events[1].at("data").at("reason").as_string(), "cap");
  EXPECT_EQ(events[1].at("data").at("subjects").as_array()[0].as_string(), "F-2");
  EXPECT_EQ(events[2].at("subject").as_string(), "F-2");
  EXPECT_EQ(events[2].at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_TRUE(collector.problems().empty());
}

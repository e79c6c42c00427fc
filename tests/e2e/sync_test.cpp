// Sync end to end: the real stationd and stationctl against a real collector on loopback.
//
// The kill test packs orders through the scanner port and SIGKILLs the station at random
// moments — also with a batch at the back office and its answer not yet back, and right after
// the answer was written — then checks, after a last restart, that every event the store ever
// committed arrived at least once, that none it did not commit arrived, that duplicates are the
// same event, and that each order's events arrived in order.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <random>
#include <set>

#include "broker.hpp"
#include "collector.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

class Store {
 public:
  explicit Store(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Store() { sqlite3_close(db_); }
  std::int64_t number(const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::int64_t out = -1;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return out;
  }
  std::set<std::string> texts(const char* sql) {
    std::set<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(st, 0);
        out.emplace(t ? reinterpret_cast<const char*>(t) : "");
      }
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Orders K-1..K-n of two teas each; a long SKU makes a bigger order.packed event.
std::string orders_json(int n, std::size_t sku_length = 3) {
  const std::string sku = "TEA" + std::string(sku_length > 3 ? sku_length - 3 : 0, 'X');
  std::string out = "{\"orders\": [";
  for (int i = 1; i <= n; ++i) {
    out += (i > 1 ? "," : "") + std::string("{\"id\": \"K-") + std::to_string(i) +
           "\", \"lines\": [{\"sku\": \"" + sku +
           "\", \"qty\": 2, \"barcodes\": [\"4901234567894\"]}]}";
  }
  return out + "]}";
}

class SyncE2e : public ::testing::Test {
 protected:
  pt::TempDir dir;
  std::uint16_t scanner_port = pt::free_port();
  std::uint16_t ui_port = pt::free_port();
  pt::NotifySocket notify{dir / "notify.sock"};

  void write_config(const std::string& sync_url, const std::string& extra = "") {
    pt::write_file(dir / "station.toml",
                   "[station]\nid = \"pack-01\"\nsite = \"site-1\"\nstate_dir = \"state\"\n"
                   "[ui]\nlisten = \"127.0.0.1:" +
                       std::to_string(ui_port) +
                       "\"\n[orders]\nfile = \"orders.json\"\n"
                       "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\n"
                       "address = \"127.0.0.1:" +
                       std::to_string(scanner_port) +
                       "\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\n"
                       "[sync]\nurl = \"" +
                       sync_url +
                       "\"\nretry_base_ms = 20\nretry_cap_ms = 100\nbatch_max_events = 5\n" +
                       extra + "[log]\nlevel = \"warn\"\n");
  }

  std::unique_ptr<pt::Process> start(const std::string& name = "stationd") {
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
    return r && r->first == 200 ? json::parse(r->second).as_object() : json::object{};
  }

  std::string metrics() {
    auto r = pt::http_get(ui_port, "/metrics");
    return r ? r->second : "";
  }

  std::string post_scan(const std::string& data) {
    auto r = pt::http_request(ui_port, "POST", "/api/scans",
                              json::serialize(json::object{{"data", data}}), "application/json");
    if (!r || r->first != 200) {
      return "";
    }
    return std::string(json::parse(r->second).at("verdict").as_string());
  }

  pt::RunResult stationctl(std::vector<std::string> args) {
    args.insert(args.begin(), pt::stationctl_path().string());
    args.push_back("--state-dir");
    args.push_back((dir / "state").string());
    return pt::run_command(args, dir.path());
  }
};

}  // namespace

TEST_F(SyncE2e, KilledAtRandomPointsEveryCommittedEventArrivesAndNoOther) {
  const int rounds = env_int("PACKBENCH_SYNC_KILLS", 45);
  const unsigned seed = static_cast<unsigned>(env_int("PACKBENCH_SEED", 20261123));
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set PACKBENCH_SEED to replay)");

  pt::EventCollector collector;
  std::atomic<bool> hold_next{false};
  std::atomic<pid_t> kill_on_answer{0};
  collector.set_script([&](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r;
    r.delay = std::chrono::milliseconds(i % 4);
    bool expected = true;
    r.hold = hold_next.compare_exchange_strong(expected, false);
    return r;
  });
  collector.set_on_answered([&](const pt::HttpExchange&) {
    // Right after the back office answered: the station has the answer, or part of it, and
    // has not recorded it yet.
    if (const pid_t pid = kill_on_answer.exchange(0); pid > 0) {
      ::kill(pid, SIGKILL);
    }
  });
  pt::write_file(dir / "orders.json", orders_json(4 * rounds + 10));
  write_config(collector.url());

  std::optional<Store> store;
  int next_order = 1;
  int held_kills = 0;
  int answered_kills = 0;
  int random_kills = 0;
  for (int round = 0; round < rounds; ++round) {
    auto stationd = start("stationd");
    if (!store) {
      store.emplace(dir / "state" / "station.db");
    }
    auto scan = [&](const std::string& data, bool wait) {
      const auto before = store->number("SELECT count(*) FROM scans");
      const bool sent = pt::tcp_send(scanner_port, data + "\n");
      // A scan not waited for may find the station already killed (by an answer it got).
      ASSERT_TRUE(sent || !wait) << stationd->errors();
      if (wait) {
        ASSERT_TRUE(pt::wait_until(
            [&] { return store->number("SELECT count(*) FROM scans") > before; }, 20s))
            << stationd->errors();
      }
    };
    // Whatever the last kill left open is given up; it is an event too.
    scan("CMD-CANCEL", true);
    auto pack = [&](bool wait_last, const std::function<void()>& before_last = {}) {
      const std::string order = "K-" + std::to_string(next_order++);
      scan(order, true);
      scan("4901234567894", true);
      scan("CMD-CLOSE-BOX", true);  // box.closed, then order.packed: two events of one order
      if (before_last) {
        before_last();
      }
      scan("4901234567894", wait_last);
    };
    const int mode = round % 3;
    pack(true);
    if (mode == 0) {
      // A batch reaches the back office, which keeps it and has not answered when the
      // station dies.
      hold_next = true;
      pack(true);
      ASSERT_TRUE(collector.wait_for_held(1)) << stationd->errors();
      stationd->signal(SIGKILL);
      ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
      collector.release_held();
      ++held_kills;
    } else if (mode == 1) {
      // Killed by the next answer, whichever batch it is for.
      pack(false, [&] { kill_on_answer = stationd->pid(); });
      ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
      ++answered_kills;
    } else {
      pack(false);
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 4000)(rng)));
      stationd->signal(SIGKILL);
      ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
      ++random_kills;
    }
    kill_on_answer = 0;
  }

  // A last start, left to drain.
  auto stationd = start("stationd-last");
  ASSERT_TRUE(pt::wait_until([&] { return store->number("SELECT count(*) FROM outbox") == 0; }))
      << stationd->errors();
  const std::int64_t committed =
      store->number("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'");
  ASSERT_TRUE(collector.wait_for_events(static_cast<std::size_t>(committed)));

  const auto events = collector.events();
  std::map<std::int64_t, std::string> by_sequence;
  std::set<std::string> packed;
  for (const auto& e : events) {
    const auto seq = std::stoll(std::string(e.at("sequence").as_string()));
    const std::string id(e.at("id").as_string());
    // Two ids under one sequence: one of them was never committed.
    ASSERT_TRUE(by_sequence.emplace(seq, id).second) << "sequence " << seq << " arrived twice";
    if (e.at("type").as_string() == "com.packbench.order.packed.v1") {
      packed.emplace(e.at("subject").as_string());
    }
  }
  // Sequences are never reused and a rolled-back insert takes none: the store committed
  // exactly 1..committed.
  ASSERT_EQ(static_cast<std::int64_t>(by_sequence.size()), committed);
  EXPECT_EQ(by_sequence.begin()->first, 1);
  EXPECT_EQ(by_sequence.rbegin()->first, committed);
  EXPECT_EQ(packed,
            store->texts("SELECT p.order_id FROM pack_sessions p WHERE state = 'complete'"));
  const auto problems = collector.problems();
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(store->number("SELECT count(*) FROM outbox_dead"), 0);
  // The kills did land between sending and acknowledging: the back office got batches again.
  EXPECT_EQ(held_kills, (rounds + 2) / 3);
  EXPECT_GT(collector.duplicates(), 0u);
  std::printf(
      "%d kills (%d with a batch held, %d right after an answer, %d at random), %lld "
      "events committed, %zu requests, %zu duplicates\n",
      rounds, held_kills, answered_kills, random_kills, static_cast<long long>(committed),
      collector.requests().size(), collector.duplicates());
}

TEST_F(SyncE2e, StationctlListsDeadLettersAndSendsThemAgain) {
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r = pt::Reply::status_only(i == 0 ? 422 : 200);
    r.body = i == 0 ? "unknown event type" : "";
    return r;
  });
  pt::write_file(dir / "orders.json", orders_json(3));
  write_config(collector.url());
  auto stationd = start();
  EXPECT_EQ(post_scan("K-1"), "order_opened");
  EXPECT_EQ(post_scan("4901234567894"), "item_accepted");
  EXPECT_EQ(post_scan("4901234567894"), "order_complete");
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("outbox").at("dead").as_int64() == 1;
  })) << stationd->errors();

  auto dead = stationctl({"outbox", "dead", "--json"});
  ASSERT_EQ(dead.code, 0) << dead.err;
  const auto list = json::parse(dead.out).at("dead").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("reason").as_string(), "http_422");
  EXPECT_EQ(list[0].at("subject").as_string(), "K-1");
  EXPECT_NE(std::string(list[0].at("last_error").as_string()).find("unknown event type"),
            std::string::npos);
  const std::string id(list[0].at("id").as_string());
  auto text = stationctl({"outbox", "dead"});
  EXPECT_NE(text.out.find(id), std::string::npos);
  EXPECT_NE(text.out.find("1 dead letter"), std::string::npos) << text.out;
  auto ls = stationctl({"outbox", "ls"});
  EXPECT_EQ(ls.code, 0);
  EXPECT_NE(ls.out.find("0 events waiting"), std::string::npos) << ls.out;

  auto unknown = stationctl({"outbox", "retry", "no-such-event"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("not a dead letter"), std::string::npos);
  EXPECT_EQ(stationctl({"outbox", "retry"}).code, 2);
  EXPECT_EQ(stationctl({"outbox", "send"}).code, 2);

  auto retry = stationctl({"outbox", "retry", id});
  ASSERT_EQ(retry.code, 0) << retry.err;
  EXPECT_NE(retry.out.find("1 event back in the outbox"), std::string::npos);
  // The running station picks it up by itself.
  ASSERT_TRUE(collector.wait_for_events(1)) << stationd->errors();
  EXPECT_EQ(collector.events()[0].at("id").as_string(), id);
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("outbox").at("depth").as_int64() == 0 &&
           h.at("outbox").at("dead").as_int64() == 0;
  }));
}

TEST_F(SyncE2e, StationctlListsWaitingEventsAndPurgesDeadLettersOnceSeen) {
  // The back office refuses the first order's event for good, then is down for a while.
  pt::EventCollector collector;
  std::atomic<int> status{422};
  collector.set_script([&](const pt::HttpExchange&, std::size_t) {
    pt::Reply r = pt::Reply::status_only(status.load());
    r.body = status.load() == 422 ? "unknown event type" : "";
    return r;
  });
  pt::write_file(dir / "orders.json", orders_json(3));
  write_config(collector.url());
  auto stationd = start();
  for (const char* s : {"K-1", "4901234567894", "4901234567894"}) {
    EXPECT_NE(post_scan(s), "");
  }
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("outbox").at("dead").as_int64() == 1;
  })) << stationd->errors();
  status = 503;
  EXPECT_EQ(post_scan("K-2"), "order_opened");
  EXPECT_EQ(post_scan("CMD-CANCEL"), "pack_cancelled");
  for (const char* s : {"K-3", "4901234567894", "4901234567894"}) {
    EXPECT_NE(post_scan(s), "");
  }
  // Both wait, each tried at least once.
  json::object listed;
  ASSERT_TRUE(pt::wait_until([&] {
    auto r = stationctl({"outbox", "ls", "--json"});
    if (r.code != 0) {
      return false;
    }
    listed = json::parse(r.out).as_object();
    const auto& events = listed.at("events").as_array();
    return events.size() == 2 && events[1].at("attempts").as_int64() >= 1;
  })) << stationd->errors();
  const auto& events = listed.at("events").as_array();
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.pack.cancelled.v1");
  EXPECT_EQ(events[0].at("subject").as_string(), "K-2");
  EXPECT_EQ(events[1].at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_EQ(events[1].at("subject").as_string(), "K-3");
  EXPECT_LT(events[0].at("seq").as_int64(), events[1].at("seq").as_int64());
  EXPECT_EQ(events[0].at("lane").as_string(), "business");
  EXPECT_GT(events[0].at("bytes").as_int64(), 100);
  EXPECT_NE(std::string(events[1].at("last_error").as_string()).find("HTTP 503"),
            std::string::npos);
  EXPECT_EQ(listed.at("totals").at("business").at("events").as_int64(), 2);
  EXPECT_EQ(listed.at("totals").at("dead").at("events").as_int64(), 1);
  const auto dead_bytes = listed.at("totals").at("dead").at("bytes").as_int64();
  EXPECT_GT(dead_bytes, 100);
  EXPECT_TRUE(listed.at("sync_stopped").is_null());

  auto text = stationctl({"outbox", "ls"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("business  com.packbench.pack.cancelled.v1  K-2  "), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("business  com.packbench.order.packed.v1  K-3  "), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("HTTP 503"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2 events waiting (2 business, 0 bulk)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("; 1 dead letter\n"), std::string::npos) << text.out;
  auto first = stationctl({"outbox", "ls", "--limit", "1"});
  EXPECT_NE(first.out.find("K-2"), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find("K-3"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("2 events waiting"), std::string::npos) << first.out;

  // IT looks at the dead letter, then purges it.
  auto dead = stationctl({"outbox", "dead", "--json"});
  ASSERT_EQ(dead.code, 0) << dead.err;
  const std::string id(json::parse(dead.out).at("dead").as_array()[0].at("id").as_string());
  for (const auto& wrong : std::vector<std::vector<std::string>>{
           {"outbox", "purge-dead"},
           {"outbox", "purge-dead", id, "--all"},
           {"outbox", "purge-dead", "--older-than", "1d", "--all"},
           {"outbox", "purge-dead", "--older-than", "3x"},
           {"outbox", "purge-dead", "--older-than"},
           {"outbox", "purge-dead", "--all", "--limit", "1"}}) {
    auto r = stationctl(wrong);
    EXPECT_EQ(r.code, 2) << wrong.back() << "\n" << r.out;
    EXPECT_FALSE(r.err.empty());
  }
  auto unknown = stationctl({"outbox", "purge-dead", "no-such-event"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("no-such-event is not a dead letter"), std::string::npos);
  auto young = stationctl({"outbox", "purge-dead", "--older-than", "1d"});
  EXPECT_EQ(young.code, 0) << young.err;
  EXPECT_NE(young.out.find("0 dead letters purged, 0 bytes freed"), std::string::npos) << young.out;
  auto purged = stationctl({"outbox", "purge-dead", id});
  ASSERT_EQ(purged.code, 0) << purged.err;
  EXPECT_NE(purged.out.find("1 dead letter purged, " + std::to_string(dead_bytes) + " bytes freed"),
            std::string::npos)
      << purged.out;
  auto h = health();
  EXPECT_EQ(h.at("outbox").at("dead").as_int64(), 0);
  EXPECT_EQ(h.at("outbox").at("dead_bytes").as_int64(), 0);
  EXPECT_NE(metrics().find("packbench_outbox_dead_bytes{station=\"pack-01\"} 0"),
            std::string::npos);

  // The back office returns: the two waiting events arrive, the purged one never does.
  status = 200;
  ASSERT_TRUE(collector.wait_for_events(2)) << stationd->errors();
  ASSERT_TRUE(pt::wait_until([&] {
    auto hh = health();
    return !hh.empty() && hh.at("outbox").at("depth").as_int64() == 0;
  }));
  const auto got = collector.events();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].at("subject").as_string(), "K-2");
  EXPECT_EQ(got[1].at("subject").as_string(), "K-3");
  EXPECT_TRUE(collector.problems().empty());
}

TEST_F(SyncE2e, AFullOutboxTellsThePackerAndTheAlarmFollowsDelivery) {
  const auto port = pt::free_port();                         // the back office is down
  pt::write_file(dir / "orders.json", orders_json(3, 300));  // order.packed: about 800 bytes
  write_config("http://127.0.0.1:" + std::to_string(port) + "/events",
               "[outbox]\nmax_bytes = 1024\n");
  auto stationd = start();
  for (const char* s : {"K-1", "4901234567894", "4901234567894", "K-2", "4901234567894"}) {
    EXPECT_NE(post_scan(s), "");
  }
  // The last item would close the order: there is no room for its event.
  EXPECT_EQ(post_scan("4901234567894"), "outbox_full");
  auto h = health();
  EXPECT_TRUE(h.at("outbox").at("full").as_bool());
  EXPECT_EQ(h.at("status").as_string(), "degraded");
  EXPECT_EQ(h.at("pack").at("order").as_string(), "K-2");
  EXPECT_EQ(h.at("pack").at("scanned").as_int64(), 1);
  const auto m = metrics();
  EXPECT_NE(m.find("packbench_outbox_full{station=\"pack-01\"} 1"), std::string::npos);
  EXPECT_NE(m.find("packbench_outbox_refused_events_total{station=\"pack-01\",lane=\"business\","
                   "reason=\"cap\"} 1"),
            std::string::npos);

  pt::EventCollector collector(std::nullopt, port);  // the back office returns
  ASSERT_TRUE(collector.wait_for_events(2)) << stationd->errors();
  EXPECT_EQ(collector.events()[1].at("type").as_string(), "com.packbench.outbox.refused.v1");
  // The collector has the alarm a moment before the station has its answer and removes it
  // from the outbox: the room is there once nothing waits.
  ASSERT_TRUE(pt::wait_until([&] {
    auto hh = health();
    return !hh.empty() && !hh.at("outbox").at("full").as_bool() &&
           hh.at("outbox").at("depth").as_int64() == 0;
  }));
  EXPECT_EQ(post_scan("4901234567894"), "order_complete");
  ASSERT_TRUE(collector.wait_for_events(3));
  EXPECT_TRUE(collector.problems().empty());
}

TEST_F(SyncE2e, RefusedEventsAreStillReportedAfterTheStationIsKilled) {
  const auto port = pt::free_port();                         // the back office is down
  pt::write_file(dir / "orders.json", orders_json(3, 300));  // order.packed: about 800 bytes
  write_config("http://127.0.0.1:" + std::to_string(port) + "/events",
               "[outbox]\nmax_bytes = 1024\n");
  auto stationd = start();
  for (const char* s : {"K-1", "4901234567894", "4901234567894", "K-2", "4901234567894"}) {
    EXPECT_NE(post_scan(s), "");
  }
  EXPECT_EQ(post_scan("4901234567894"), "outbox_full");
  // Killed before the back office could be told: the refusal lives only in the store.
  stationd->signal(SIGKILL);
  ASSERT_TRUE(stationd->wait());
  pt::EventCollector collector(std::nullopt, port);  // the back office returns
  auto again = start("stationd-2");
  ASSERT_TRUE(collector.wait_for_events(2)) << again->errors();
  const auto events = collector.events();
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.order.packed.v1");
  EXPECT_EQ(events[0].at("subject").as_string(), "K-1");
  const auto& alarm = events[1];
  ASSERT_EQ(alarm.at("type").as_string(), "com.packbench.outbox.refused.v1");
  EXPECT_EQ(alarm.at("data").at("refused").as_int64(), 1);
  EXPECT_EQ(alarm.at("data").at("reason").as_string(), "cap");
  EXPECT_EQ(alarm.at("data").at("subjects").as_array()[0].as_string(), "K-2");
  EXPECT_EQ(alarm.at("data").at("by_type").at("com.packbench.order.packed.v1").as_int64(), 1);
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && !h.at("outbox").at("full").as_bool() &&
           h.at("outbox").at("depth").as_int64() == 0;
  }));
  // The packer scans again; the order closes and its event follows, once.
  EXPECT_EQ(post_scan("4901234567894"), "order_complete");
  ASSERT_TRUE(collector.wait_for_events(3));
  EXPECT_EQ(collector.events()[2].at("subject").as_string(), "K-2");
  EXPECT_TRUE(collector.problems().empty());
}

TEST_F(SyncE2e, AGoneBackOfficeStopsSyncAndHealthSaysSo) {
  pt::EventCollector collector;
  collector.set_status(410);
  pt::write_file(dir / "orders.json", orders_json(1));
  write_config(collector.url());
  auto stationd = start();
  EXPECT_EQ(post_scan("CMD-CANCEL"), "unknown_command");
  EXPECT_EQ(post_scan("K-1"), "order_opened");
  EXPECT_EQ(post_scan("CMD-CANCEL"), "pack_cancelled");  // an event
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("sync").at("state").as_string() == "stopped";
  })) << stationd->errors();
  auto h = health();
  EXPECT_EQ(h.at("status").as_string(), "degraded");
  EXPECT_EQ(h.at("outbox").at("depth").as_int64(), 1);
  EXPECT_NE(std::string(h.at("sync").at("last_error").as_string()).find("HTTP 410"),
            std::string::npos);
  EXPECT_NE(metrics().find("packbench_sync_stopped{station=\"pack-01\"} 1"), std::string::npos);
  EXPECT_NE(stationd->errors().find("gone for good"), std::string::npos);
}

TEST_F(SyncE2e, StationctlResumesAGoneBackOfficeWithoutARestart) {
  pt::EventCollector collector;
  collector.set_status(410);
  pt::write_file(dir / "orders.json", orders_json(1));
  write_config(collector.url());
  auto stationd = start();
  EXPECT_EQ(post_scan("K-1"), "order_opened");
  EXPECT_EQ(post_scan("CMD-CANCEL"), "pack_cancelled");  // an event
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("sync").at("state").as_string() == "stopped";
  })) << stationd->errors();
  // IT sees why, in the outbox listing.
  ASSERT_TRUE(pt::wait_until([&] {
    return stationctl({"outbox", "ls"}).out.find("sync stopped at") != std::string::npos;
  }));
  auto ls = stationctl({"outbox", "ls", "--json"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  const auto listed = json::parse(ls.out).as_object();
  EXPECT_NE(std::string(listed.at("sync_stopped").at("error").as_string()).find("HTTP 410"),
            std::string::npos);

  // The back office is back: IT resumes, the station sends, no restart.
  collector.set_status(200);
  EXPECT_EQ(stationctl({"outbox", "resume", "--json"}).code, 2);
  auto resumed = stationctl({"outbox", "resume"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("sync was stopped at"), std::string::npos) << resumed.out;
  ASSERT_TRUE(collector.wait_for_events(1)) << stationd->errors();
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    return !h.empty() && h.at("sync").at("state").as_string() == "online" &&
           h.at("outbox").at("depth").as_int64() == 0;
  })) << stationd->errors();
  EXPECT_EQ(health().at("status").as_string(), "ok");
  EXPECT_TRUE(stationd->running());
  auto again = stationctl({"outbox", "resume"});
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("not stopped"), std::string::npos) << again.out;
  EXPECT_NE(stationd->errors().find("resumed"), std::string::npos);
}

// The same promise over MQTT, against a real Mosquitto: the station SIGKILLed while packing —
// right as the back office receives a message (the station has not had its PUBACK yet), or at
// random — and the broker SIGKILLed too, once, with the station running.
TEST_F(SyncE2e, OverMqttKilledAtRandomPointsEveryCommittedEventArrives) {
  const int rounds = env_int("PACKBENCH_MQTT_KILLS", 20);
  const unsigned seed = static_cast<unsigned>(env_int("PACKBENCH_SEED", 20261124));
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set PACKBENCH_SEED to replay)");

  pt::Mosquitto broker(dir / "broker");
  broker.start();
  pt::MqttSubscriber office(broker.server_uri(), "packbench/site-1/pack-01/events/#");
  ASSERT_TRUE(office.wait_subscribed());
  broker.restart();  // the back office's session is on disk: it survives the broker's kill
  ASSERT_TRUE(office.wait_subscribed(2));
  std::atomic<pid_t> kill_on_message{0};
  office.set_on_message([&](const pt::MqttReceived&) {
    if (const pid_t pid = kill_on_message.exchange(0); pid > 0) {
      ::kill(pid, SIGKILL);
    }
  });
  pt::write_file(dir / "orders.json", orders_json(4 * rounds + 10));
  write_config(broker.url());

  std::optional<Store> store;
  int next_order = 1;
  int message_kills = 0;
  int random_kills = 0;
  for (int round = 0; round < rounds; ++round) {
    auto stationd = start("stationd");
    if (!store) {
      store.emplace(dir / "state" / "station.db");
    }
    auto scan = [&](const std::string& data, bool wait) {
      const auto before = store->number("SELECT count(*) FROM scans");
      const bool sent = pt::tcp_send(scanner_port, data + "\n");
      ASSERT_TRUE(sent || !wait) << stationd->errors();
      if (wait) {
        ASSERT_TRUE(pt::wait_until(
            [&] { return store->number("SELECT count(*) FROM scans") > before; }, 20s))
            << stationd->errors();
      }
    };
    scan("CMD-CANCEL", true);
    auto pack = [&](bool wait_last, const std::function<void()>& before_last = {}) {
      const std::string order = "K-" + std::to_string(next_order++);
      scan(order, true);
      scan("4901234567894", true);
      scan("CMD-CLOSE-BOX", true);
      if (before_last) {
        before_last();
      }
      scan("4901234567894", wait_last);
    };
    pack(true);
    if (round == rounds / 2) {
      // The broker dies with the station running, and comes back.
      pack(false);
      broker.kill();
      pack(true);
      broker.start();
      ASSERT_TRUE(pt::wait_until([&] { return store->number("SELECT count(*) FROM outbox") == 0; }))
          << stationd->errors();
    }
    if (round % 2 == 0) {
      pack(false, [&] { kill_on_message = stationd->pid(); });
      ASSERT_EQ(stationd->wait(), 128 + SIGKILL) << stationd->errors();
      ++message_kills;
    } else {
      pack(false);
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 4000)(rng)));
      stationd->signal(SIGKILL);
      ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
      ++random_kills;
    }
    kill_on_message = 0;
  }

  auto stationd = start("stationd-last");
  ASSERT_TRUE(pt::wait_until([&] { return store->number("SELECT count(*) FROM outbox") == 0; }))
      << stationd->errors();
  const std::int64_t committed =
      store->number("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'");
  ASSERT_TRUE(office.wait_for_events(static_cast<std::size_t>(committed)))
      << office.events().size() << " of " << committed << "\n"
      << broker.log();
  std::map<std::int64_t, std::string> by_sequence;
  for (const auto& e : office.events()) {
    const auto seq = std::stoll(std::string(e.at("sequence").as_string()));
    ASSERT_TRUE(by_sequence.emplace(seq, std::string(e.at("id").as_string())).second)
        << "sequence " << seq << " arrived under two ids";
  }
  ASSERT_EQ(static_cast<std::int64_t>(by_sequence.size()), committed);
  EXPECT_EQ(by_sequence.begin()->first, 1);
  EXPECT_EQ(by_sequence.rbegin()->first, committed);
  const auto problems = office.problems();
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(store->number("SELECT count(*) FROM outbox_dead"), 0);
  EXPECT_EQ(message_kills, (rounds + 1) / 2);
  std::printf(
      "%d kills (%d as a message arrived, %d at random), the broker killed once, %lld "
      "events committed, %zu messages, %zu duplicates\n",
      rounds, message_kills, random_kills, static_cast<long long>(committed),
      office.messages().size(), office.duplicates());
}

// Pools refilled from the back office through the real stationd and stationctl: a completion
// that takes the pool under its mark claims more codes; stationd SIGKILLed before the back office
// answers and after it answered but before the commit, each code imported exactly once; the back
// office down, failing or talking nonsense while the bench packs on; stationctl codes pull over
// TLS, again after a failure, and beside a running stationd; configuration errors named.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "collector.hpp"
#include "pool_server.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kItem = "4901234567894";

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) {
    out.push_back(prefix + std::to_string(i));
  }
  return out;
}

// The store, read (and, to hold the station's commits back, locked) from the test.
class Store {
 public:
  explicit Store(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Store() { sqlite3_close(db_); }
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string one(const std::string& sql) {
    auto c = column(sql);
    return c.empty() ? std::string() : c[0];
  }
  std::int64_t number(const std::string& sql) {
    auto c = one(sql);
    return c.empty() ? -1 : std::stoll(c);
  }
  bool exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }

 private:
  sqlite3* db_ = nullptr;
};

class PullE2e : public ::testing::Test {
 protected:
  pt::TempDir dir;
  std::uint16_t ui_port = pt::free_port();
  std::uint16_t scanner_port = pt::free_port();
  pt::NotifySocket notify{dir / "notify.sock"};

  // A bench with a tcp-listen scanner, a file printer for everything, ten one-tea orders, and
  // the pool campaign "thanks" refilled from `url`.
  void write_config(const std::string& url, int low_water, int refill,
                    const std::string& more_discounts = "",
                    const std::string& timing = "retry_base_ms = 20\nretry_cap_ms = 300\n") {
    json::array orders;
    for (int i = 1; i <= 10; ++i) {
      orders.push_back(
          json::object{{"id", "D-" + std::to_string(i)},
                       {"customer", json::object{{"name", "Alex Morgan"}, {"locale", "en"}}},
                       {"lines", json::array{json::object{{"sku", "TEA-SENCHA-100"},
                                                          {"name", "Sencha"},
                                                          {"qty", 1},
                                                          {"barcodes", json::array{kItem}}}}}});
    }
    pt::write_file(dir / "orders.json", json::serialize(json::object{{"orders", orders}}));
    pt::write_file(
        dir / "station.toml",
        "[station]\nid = \"pack-01\"\nsite = \"site-1\"\nstate_dir = \"state\"\n"
        "[ui]\nlisten = \"127.0.0.1:" +
            std::to_string(ui_port) +
            "\"\n[orders]\nfile = \"orders.json\"\n"
            "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\naddress = \"127.0.0.1:" +
            std::to_string(scanner_port) +
            "\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\ndirectory = \"prints\"\n"
            "roles = [\"shipping-label\", \"insert\", \"discount-card\", \"packing-slip\"]\n"
            "[discounts]\npool_url = \"" +
            url + "\"\n" + timing + more_discounts +
            "[[campaign]]\nid = \"thanks\"\nname = \"Thank-you offer\"\nsource = \"pool\"\n"
            "low_water = " +
            std::to_string(low_water) + "\nrefill = " + std::to_string(refill) +
            "\nshop = \"shop.example.com\"\nwording.en.offer = \"15% off your next order\"\n"
            "[log]\nlevel = \"info\"\n");
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

  pt::RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), pt::stationctl_path().string());
    args.push_back("--config");
    args.push_back((dir / "station.toml").string());
    return pt::run_command(std::move(args), dir.path());
  }

  json::object health() {
    auto r = pt::http_get(ui_port, "/healthz");
    return r && r->first == 200 ? json::parse(r->second).as_object() : json::object{};
  }
  json::object pull() {
    auto h = health();
    const auto* p = h.if_contains("discount_pull");
    return p && p->is_object() ? p->as_object() : json::object{};
  }
  std::int64_t pull_figure(const std::string& name, const std::string& key = "") {
    const auto p = pull();
    const auto* v = p.if_contains(name);
    if (v && !key.empty()) {
      v = v->is_object() ? v->as_object().if_contains(key) : nullptr;
    }
    return v && v->is_int64() ? v->as_int64() : 0;
  }

  std::string scan(const std::string& text) {
    auto r = pt::http_request(ui_port, "POST", "/api/scans",
                              json::serialize(json::object{{"data", text}}), "application/json");
    if (!r || r->first != 200) {
      return "";
    }
    return std::string(json::parse(r->second).at("verdict").as_string());
  }

  std::filesystem::path db_path() const { return dir / "state" / "station.db"; }
};

std::string claim_of(const pt::HttpExchange& request) {
  return std::string(json::parse(request.body).at("claim").as_string());
}

}  // namespace

TEST_F(PullE2e, ACompletionThatTakesThePoolUnderItsMarkRefillsItFromTheBackOffice) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 20));
  write_config(server.url(), 2, 4);
  pt::write_file(dir / "codes.csv", "code\nOWN-1\nOWN-2\nOWN-3\n");
  const auto imported =
      ctl({"codes", "import", "--campaign", "thanks", (dir / "codes.csv").string()});
  ASSERT_EQ(imported.code, 0) << imported.out << imported.err;
  auto stationd = start();

  // Three free codes, mark 2. The first completion (from the scanner on the bench) leaves two:
  // not under the mark. Nothing is claimed.
  ASSERT_TRUE(pt::tcp_send(scanner_port, std::string("D-1\n") + kItem + "\n"));
  Store store(db_path());
  ASSERT_TRUE(pt::wait_until([&] {
    return store.one("SELECT code FROM discount_codes WHERE order_id = 'D-1'") == "OWN-1";
  })) << stationd->errors();
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_claims"), 0);
  // The second (from the packer's screen) leaves one: the station claims four more.
  EXPECT_EQ(scan("D-2"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.one("SELECT code FROM discount_codes WHERE order_id = 'D-2'"), "OWN-2");
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("claims_done") == 1; }))
      << stationd->errors();

  const auto claims = server.claims();
  ASSERT_EQ(claims.size(), 1u);
  const auto& [id, claim] = *claims.begin();
  EXPECT_EQ(claim.station, "pack-01");
  EXPECT_EQ(claim.site, "site-1");
  EXPECT_EQ(claim.campaign, "thanks");
  EXPECT_EQ(claim.count, 4);
  EXPECT_EQ(claim.codes, numbered("BO-", 1, 4));
  EXPECT_EQ(store.column("SELECT code FROM discount_codes WHERE claim = '" + id + "' ORDER BY id"),
            numbered("BO-", 1, 4));
  EXPECT_EQ(store.one("SELECT state || ' ' || created_by FROM discount_claims"), "done stationd");

  // IT sees it: the pool refilled, the pull's state, its counters.
  auto h = health();
  EXPECT_EQ(h.at("status").as_string(), "ok");
  const auto& pool = h.at("discount_pools").as_array()[0].as_object();
  EXPECT_EQ(pool.at("remaining").as_int64(), 5);
  EXPECT_EQ(pool.at("refill").as_int64(), 4);
  EXPECT_FALSE(pool.at("low").as_bool());
  EXPECT_TRUE(pool.at("pending_claim").is_null());
  const auto& p = h.at("discount_pull").as_object();
  EXPECT_EQ(p.at("url").as_string(), server.url());
  EXPECT_EQ(p.at("state").as_string(), "idle");
  EXPECT_EQ(p.at("online"), json::value(true));
  EXPECT_FALSE(p.at("last_success").is_null());
  EXPECT_EQ(p.at("codes_received").at("thanks").as_int64(), 4);
  const auto metrics = pt::http_get(ui_port, "/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line :
       {"packbench_discount_pull_claims_total{station=\"pack-01\",outcome=\"done\"} 1\n",
        "packbench_discount_pull_codes_added_total{station=\"pack-01\",campaign=\"thanks\"} 4\n",
        "packbench_discount_pull_online{station=\"pack-01\"} 1\n",
        "packbench_discount_pool_remaining{station=\"pack-01\",campaign=\"thanks\"} 5\n"}) {
    EXPECT_NE(metrics->second.find(line), std::string::npos) << line << metrics->second;
  }

  // The pool's oldest code goes first: the station's own, then the back office's.
  EXPECT_EQ(scan("D-3"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.one("SELECT code FROM discount_codes WHERE order_id = 'D-3'"), "OWN-3");
  EXPECT_EQ(scan("D-4"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.one("SELECT code FROM discount_codes WHERE order_id = 'D-4'"), "BO-1");
  stationd->signal(SIGTERM);
  EXPECT_EQ(stationd->wait(), 0) << stationd->errors();
}

// The back office has the claim and has set its codes aside, but the station dies before the
// answer arrives. Restarted, it sends the same claim; the back office answers with the same
// codes; each is imported once.
TEST_F(PullE2e, KilledBeforeTheAnswerTheSameClaimIsSentAgainAndEachCodeImportedOnce) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 10));
  server.set_hold(true);
  write_config(server.url(), 0, 4);
  auto stationd = start("stationd-1");
  // The empty pool is refilled at the start: the claim is committed, then posted.
  ASSERT_TRUE(server.http().wait_for_held(1)) << stationd->errors();
  stationd->signal(SIGKILL);
  ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
  server.set_hold(false);
  server.http().release_held();

  Store store(db_path());
  EXPECT_EQ(store.one("SELECT state FROM discount_claims"), "pending");
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_codes"), 0);
  const std::string id = claim_of(server.requests()[0]);
  EXPECT_EQ(store.one("SELECT id FROM discount_claims"), id);

  auto again = start("stationd-2");
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("claims_done") == 1; })) << again->errors();
  const auto claims = server.claims();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims.begin()->first, id);
  EXPECT_EQ(claims.begin()->second.asked, 2);
  for (const auto& r : server.requests()) {
    EXPECT_EQ(claim_of(r), id);
  }
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 4));
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_codes WHERE claim = '" + id + "'"), 4);
  EXPECT_EQ(store.one("SELECT state FROM discount_claims"), "done");
  EXPECT_EQ(server.left("thanks"), 6u);  // nothing lost at the back office either
  EXPECT_EQ(scan("D-1"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.one("SELECT code FROM discount_codes WHERE order_id = 'D-1'"), "BO-1");
}

// The back office has answered; the station has the codes in hand but dies before its commit
// (the test holds the store's write lock, then kills it the moment the answer is written).
// Restarted, it asks again with the same claim and imports the same codes once.
TEST_F(PullE2e, KilledAfterTheAnswerBeforeTheCommitTheCodesAreImportedOnceAfterRestart) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 10));
  server.set_hold(true);
  // Set before the request arrives: an answer takes the callback there was when it was decided.
  std::atomic<pid_t> kill_on_answer{0};
  server.http().set_on_answered([&](const pt::HttpExchange&) {
    if (const pid_t pid = kill_on_answer.exchange(0); pid > 0) {
      ::kill(pid, SIGKILL);
    }
  });
  write_config(server.url(), 0, 4);
  auto stationd = start("stationd-1");
  ASSERT_TRUE(server.http().wait_for_held(1)) << stationd->errors();

  Store store(db_path());
  ASSERT_TRUE(store.exec("BEGIN IMMEDIATE"));
  kill_on_answer = stationd->pid();
  server.set_hold(false);
  server.http().release_held();
  ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
  ASSERT_TRUE(store.exec("ROLLBACK"));
  EXPECT_EQ(server.claims().begin()->second.asked, 1);
  EXPECT_EQ(store.one("SELECT state FROM discount_claims"), "pending");
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_codes"), 0);

  auto again = start("stationd-2");
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("claims_done") == 1; })) << again->errors();
  const auto claims = server.claims();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims.begin()->second.asked, 2);
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 4));
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_claims"), 1);
  EXPECT_EQ(store.one("SELECT state FROM discount_claims"), "done");

  // Killed once more, after the commit, and started again: the claim is done and stays so.
  again->signal(SIGKILL);
  ASSERT_EQ(again->wait(), 128 + SIGKILL);
  auto third = start("stationd-3");
  EXPECT_EQ(scan("D-1"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 4));
  EXPECT_EQ(store.one("SELECT code FROM discount_codes WHERE order_id = 'D-1'"), "BO-1");
  EXPECT_EQ(server.claims().begin()->second.asked, 2);
}

// The back office is not there, then fails, then talks nonsense: the claim waits with its id,
// nothing is imported, and the bench packs on (an empty pool prints the thank-you without a
// card). Once it answers, the same claim is settled.
TEST_F(PullE2e, ABackOfficeDownFailingOrGarbledLeavesPackingAloneAndTheClaimWaiting) {
  const std::uint16_t port = pt::free_port();
  write_config("http://127.0.0.1:" + std::to_string(port) + "/pools/claims", 0, 3);
  auto stationd = start();
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("errors", "connect") >= 2; }))
      << stationd->errors();
  EXPECT_EQ(scan("D-1"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  auto h = health();
  EXPECT_EQ(h.at("status").as_string(), "ok");
  const auto& p = h.at("discount_pull").as_object();
  EXPECT_EQ(p.at("online"), json::value(false));
  ASSERT_TRUE(p.at("claim").is_object());
  const std::string id(p.at("claim").at("id").as_string());
  EXPECT_EQ(h.at("discount_pools").as_array()[0].at("pending_claim").at("id").as_string(), id);
  Store store(db_path());
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_codes"), 0);

  // Up, but failing, then answering with what is not an answer.
  std::atomic<int> mode{0};
  pt::PoolServer server(std::nullopt, port);
  server.add_codes("thanks", numbered("BO-", 1, 10));
  server.set_override([&](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    if (mode == 0) {
      return pt::Reply::status_only(500);
    }
    if (mode == 1) {
      pt::Reply r;
      r.body = "{\"codes\": [\"BO-1\"";
      return r;
    }
    return std::nullopt;
  });
  ASSERT_TRUE(server.wait_for_requests(2)) << stationd->errors();
  mode = 1;
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("errors", "bad_answer") >= 2; }));
  EXPECT_EQ(scan("D-2"), "order_opened");
  EXPECT_EQ(scan(kItem), "order_complete");
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_codes"), 0);
  EXPECT_GE(pull_figure("errors", "http_500"), 1);
  EXPECT_TRUE(server.claims().empty());  // nothing handed out yet

  mode = 2;
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("claims_done") == 1; }));
  for (const auto& r : server.requests()) {
    EXPECT_EQ(claim_of(r), id);
  }
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 3));
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_claims"), 1);
  EXPECT_GE(store.number("SELECT attempts FROM discount_claims"), 5);
  EXPECT_EQ(health().at("discount_pull").at("online"), json::value(true));
  const auto metrics = pt::http_get(ui_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->second.find(
                "packbench_discount_pull_errors_total{station=\"pack-01\",reason=\"connect\"}"),
            std::string::npos)
      << metrics->second;
}

// stationctl pulls over TLS (the test CA, the token) with no stationd running; a failed pull
// leaves its claim pending, and the next pull sends that claim again instead of a new one.
TEST_F(PullE2e, StationctlPullsOverTlsAndSendsAPendingClaimAgain) {
  pt::TestPki pki(dir / "pki");
  pt::PoolServer server(pki.server);
  server.require_token("pool-token");
  server.add_codes("thanks", numbered("BO-", 1, 10));
  pt::write_file(dir / "token", "pool-token\n");
  write_config(server.url(), 0, 0,
               "ca_file = \"" + pki.ca_cert.string() + "\"\nbearer_token_file = \"token\"\n");

  // The campaign has no refill: the count must be said.
  auto usage = ctl({"codes", "pull", "--campaign", "thanks"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.err.find("--count N"), std::string::npos) << usage.err;

  auto first = ctl({"codes", "pull", "--campaign", "thanks", "--count", "3"});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("done: 3 received, 3 added, 0 already there, 0 of another campaign, 0 "
                           "rejected; campaign thanks has 3 free codes"),
            std::string::npos)
      << first.out;
  EXPECT_EQ(server.http().server_names().at(0), "localhost");
  EXPECT_EQ(server.requests().at(0).headers.at("authorization"), "Bearer pool-token");
  Store store(db_path());
  EXPECT_EQ(store.one("SELECT created_by FROM discount_claims"), "stationctl");

  // The back office fails: the claim stays pending.
  server.set_override([](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    return pt::Reply::status_only(503);
  });
  auto failed = ctl({"codes", "pull", "--campaign", "thanks", "--count", "2"});
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.err.find("HTTP 503"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("stays pending"), std::string::npos) << failed.err;
  const std::string pending = store.one("SELECT id FROM discount_claims WHERE state = 'pending'");
  ASSERT_FALSE(pending.empty());

  // Back: the pending claim goes again, with its id and count (not a new claim of 5).
  server.set_override({});
  auto again = ctl({"codes", "pull", "--campaign", "thanks", "--count", "5"});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("claim " + pending + " for 2 codes of campaign thanks is pending"),
            std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("--count applies to the next claim"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("campaign thanks has 5 free codes"), std::string::npos) << again.out;
  const auto claims = server.claims();
  EXPECT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims.at(pending).codes, numbered("BO-", 4, 5));
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 5));
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_claims WHERE state = 'done'"), 2);
}

// stationd's claim is out and unanswered when IT runs codes pull: stationctl sends the same
// claim (no second one), imports its codes, and stationd, answered later, imports nothing again.
TEST_F(PullE2e, StationctlBesideARunningStationdSendsItsPendingClaimAndNothingIsDoubled) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 10));
  server.set_hold(true);
  write_config(server.url(), 0, 4, "timeout_ms = 60000\n");
  auto stationd = start();
  ASSERT_TRUE(server.http().wait_for_held(1)) << stationd->errors();
  const std::string id = claim_of(server.requests()[0]);

  server.set_hold(false);
  auto pulled = ctl({"codes", "pull", "--campaign", "thanks"});
  ASSERT_EQ(pulled.code, 0) << pulled.out << pulled.err;
  EXPECT_NE(pulled.out.find("claim " + id +
                            " for 4 codes of campaign thanks is pending (made by "
                            "stationd"),
            std::string::npos)
      << pulled.out;
  EXPECT_NE(pulled.out.find("done: 4 received, 4 added"), std::string::npos) << pulled.out;

  // Now stationd hears the back office's (same) answer to its request.
  server.http().release_held();
  ASSERT_TRUE(pt::wait_until([&] { return pull_figure("claims_done") == 1; }))
      << stationd->errors();
  Store store(db_path());
  EXPECT_EQ(store.column("SELECT code FROM discount_codes ORDER BY id"), numbered("BO-", 1, 4));
  EXPECT_EQ(store.number("SELECT count(*) FROM discount_claims"), 1);
  EXPECT_EQ(server.claims().size(), 1u);
  EXPECT_EQ(server.claims().at(id).asked, 2);
  EXPECT_EQ(pull_figure("codes_added", "thanks"), 0);  // stationd added none of them
  stationd->signal(SIGTERM);
  EXPECT_EQ(stationd->wait(), 0);
  EXPECT_NE(stationd->errors().find("settled meanwhile by another process"), std::string::npos)
      << stationd->errors();
}

TEST_F(PullE2e, ConfigurationErrorsAreNamedWithFileLineAndKey) {
  write_config("ftp://backoffice.example/pools", 0, 5, "",
               "retry_base_ms = 500\nretry_cap_ms = 10\n");
  // The line of each key, as written.
  const std::string text = pt::read_file(dir / "station.toml");
  auto line_of = [&](const std::string& key) {
    const auto at = text.find("\n" + key + " = ");
    return std::to_string(std::count(text.begin(), text.begin() + static_cast<long>(at) + 1, '\n') +
                          1);
  };
  const auto check = pt::run_command(
      {pt::stationd_path().string(), "--check-config", (dir / "station.toml").string()},
      dir.path());
  EXPECT_EQ(check.code, 1);
  const std::string file = (dir / "station.toml").string();
  const std::string all = check.out + check.err;
  for (const std::string& expected :
       {file + ":" + line_of("pool_url") + ":12: discounts.pool_url: scheme 'ftp' is not supported",
        file + ":" + line_of("retry_cap_ms") +
            ":16: discounts.retry_cap_ms: must not be below discounts.retry_base_ms"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
  }
  auto pull = ctl({"codes", "pull", "--campaign", "thanks"});
  EXPECT_EQ(pull.code, 2);
  EXPECT_NE(pull.err.find("discounts.pool_url"), std::string::npos) << pull.err;

  // A configuration without pool_url cannot pull.
  pt::write_file(dir / "plain.toml",
                 "[station]\nid = \"pack-01\"\nstate_dir = \"state\"\n[[printer]]\nname = "
                 "\"label\"\ntype = \"file\"\n[[campaign]]\nid = \"thanks\"\nshop = "
                 "\"shop.example.com\"\n");
  auto plain =
      pt::run_command({pt::stationctl_path().string(), "codes", "pull", "--campaign", "thanks",
                       "--count", "5", "--config", (dir / "plain.toml").string()},
                      dir.path());
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("has no [discounts] pool_url"), std::string::npos) << plain.err;
}

// Pools refilled from the back office, on real parts: a real SQLite store with the station's
// migrations, the real pull on an io_context the test drives, and a back office's pool on
// loopback (tests/support/pool_server.hpp) over HTTP and HTTPS. The configuration's keys, the
// claim's answer, and settling a claim are checked here too.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <mutex>

#include "collector.hpp"
#include "pool_server.hpp"
#include "station/config/config.hpp"
#include "station/discount/pool_claims.hpp"
#include "station/discount/pool_pull.hpp"
#include "station/outbox/outbox.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pd = packbench::station::discount;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) {
    out.push_back(prefix + std::to_string(i));
  }
  return out;
}

// A store with the station's schema, a pool campaign refilled from `url`, and the pull.
struct PullBench {
  explicit PullBench(const std::string& url, int low_water = 2, int refill = 5) {
    auto opened = ps::Database::open(dir / "station.db");
    if (!opened) {
      throw std::runtime_error(opened.error().message);
    }
    db.emplace(std::move(*opened));
    pd::Campaign c;
    c.id = "thanks";
    c.low_water = low_water;
    c.refill = refill;
    config.campaigns.push_back(c);
    pd::Campaign signer;
    signer.id = "signed-one";
    signer.source = pd::CodeSource::signed_code;
    config.campaigns.push_back(signer);
    auto& pull = config.settings.pull;
    pull.url = url;
    pull.timeout = 5000ms;
    pull.retry_base = 10ms;
    pull.retry_cap = 100ms;
  }

  void start() {
    auto created =
        pd::PoolPull::create(io.get_executor(), *db, config, {"pack-01", "site-1", "stationd"});
    ASSERT_TRUE(created) << created.error().message;
    pull = std::move(*created);
    pull->start();
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io.run_for(5ms);
    }
    return true;
  }

  // Runs what is ready (the pull waking to look at the pools) without waiting for anything.
  void settle() {
    for (int i = 0; i < 3; ++i) {
      io.poll();
    }
  }

  void import(const std::vector<std::string>& codes) {
    ASSERT_TRUE(db->write([&] { pd::import_codes(*db, "thanks", codes, "2026-11-22T08:00:00Z"); }));
  }

  // What a completion does to the pool: its oldest free code goes to the order.
  void complete(const std::string& order) {
    ASSERT_TRUE(db->write([&] {
      ASSERT_TRUE(pd::allocate_code(*db, "thanks", order, "2026-11-22T08:00:00Z", std::nullopt));
    }));
    if (pull) {
      pull->check();
    }
  }

  std::int64_t number(const std::string& sql) {
    auto r = db->read([&] {
      auto st = db->statement(sql);
      return st.step() ? st.column_int(0) : -1;
    });
    return r ? *r : -1;
  }
  std::string text(const std::string& sql) {
    auto r = db->read([&] {
      auto st = db->statement(sql);
      return st.step() ? st.column_optional_text(0).value_or("") : std::string();
    });
    return r ? *r : std::string();
  }
  std::vector<std::string> codes_of_claim(const std::string& claim) {
    std::vector<std::string> out;
    (void)db->read([&] {
      auto st = db->statement("SELECT code FROM discount_codes WHERE claim = ?1 ORDER BY id");
      st.bind_all(claim);
      while (st.step()) {
        out.push_back(st.column_text(0));
      }
    });
    return out;
  }
  std::int64_t free_codes() { return number("SELECT free FROM discount_pools"); }
  std::int64_t errors(const std::string& reason) {
    const auto& e = pull->status().errors;
    auto it = e.find(reason);
    return it == e.end() ? 0 : it->second;
  }

  pt::TempDir dir;
  boost::asio::io_context io;
  std::optional<ps::Database> db;
  pd::DiscountConfig config;
  std::unique_ptr<pd::PoolPull> pull;
};

pd::Claim claim_for(int count, const std::string& id = "0193a5b4-0000-7000-8000-000000000001") {
  pd::Claim c;
  c.id = id;
  c.campaign = "thanks";
  c.count = count;
  return c;
}

}  // namespace

// --- the configuration ---------------------------------------------------------------------

TEST(PoolPullConfig, TheKeysAreReadAndChecked) {
  pt::TempDir dir;
  pt::write_file(dir / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  pt::write_file(dir / "token", "pool-token\n");
  pt::write_file(dir / "empty", "\n");
  const std::string head =
      "[station]\nid = \"p\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\n";
  const std::string campaign = "[[campaign]]\nid = \"thanks\"\nshop = \"shop.example.com\"\n";
  auto good = ps::load_config_text(head + R"([discounts]
pool_url = "https://backoffice.example:8443/pools/claims?warehouse=3"
ca_file = "ca.pem"
bearer_token_file = "token"
timeout_ms = 4000
retry_base_ms = 500
retry_cap_ms = 60000
)" + campaign + "low_water = 100\nrefill = 500\n",
                                   "good.toml", dir.path());
  ASSERT_TRUE(good.ok()) << good.problems[0].to_string();
  const auto& p = good.config.discounts.settings.pull;
  EXPECT_EQ(p.url, "https://backoffice.example:8443/pools/claims?warehouse=3");
  EXPECT_EQ(p.ca_file, dir / "ca.pem");
  EXPECT_EQ(p.bearer_token_file, dir / "token");
  EXPECT_EQ(p.timeout, 4000ms);
  EXPECT_EQ(p.retry_base, 500ms);
  EXPECT_EQ(p.retry_cap, 60000ms);
  EXPECT_EQ(good.config.discounts.campaigns[0].refill, 500);
  EXPECT_EQ(good.config.discounts.campaigns[0].low_water, 100);
  // Nothing is taken from [orders] or [sync].
  EXPECT_TRUE(good.config.orders.ca_file.empty());

  auto defaults = ps::load_config_text(head + campaign, "d.toml", dir.path());
  ASSERT_TRUE(defaults.ok()) << defaults.problems[0].to_string();
  EXPECT_TRUE(defaults.config.discounts.settings.pull.url.empty());
  EXPECT_EQ(defaults.config.discounts.settings.pull.retry_base, 1000ms);
  EXPECT_EQ(defaults.config.discounts.settings.pull.retry_cap, 300000ms);
  EXPECT_EQ(defaults.config.discounts.campaigns[0].refill, 0);

  struct Bad {
    std::string text;
    const char* key;
    const char* words;
  };
  const std::string url = "[discounts]\npool_url = \"https://bo/pools\"\n";
  const Bad bads[] = {
      {"[discounts]\npool_url = \"ftp://bo/pools\"\n", "discounts.pool_url", "not supported"},
      {"[discounts]\npool_url = \"bo/pools\"\n", "discounts.pool_url", "is not a URL"},
      {"[discounts]\npool_url = \"https://u:p@bo/pools\"\n", "discounts.pool_url",
       "use discounts.bearer_token_file"},
      {"[discounts]\npool_url = \"https://bo/pools#x\"\n", "discounts.pool_url", "is not a URL"},
      {"[discounts]\npool_url = \"http://bo/pools\"\nca_file = \"ca.pem\"\n", "discounts.ca_file",
       "only used with an https:// url"},
      {"[discounts]\nbearer_token_file = \"token\"\n", "discounts.bearer_token_file",
       "only used with discounts.pool_url"},
      {"[discounts]\ntimeout_ms = 100\n", "discounts.timeout_ms",
       "only used with discounts.pool_url"},
      {url + "bearer_token_file = \"empty\"\n", "discounts.bearer_token_file", "is empty"},
      {url + "bearer_token_file = \"\"\n", "discounts.bearer_token_file", "must not be empty"},
      {url + "ca_file = \"missing.pem\"\n", "discounts.ca_file", "no such file"},
      {url + "retry_base_ms = 5000\nretry_cap_ms = 1000\n", "discounts.retry_cap_ms",
       "must not be below"},
      {url + "timeout_ms = 0\n", "discounts.timeout_ms", "must be from 1"},
      {url + "pool = \"x\"\n", "discounts.pool", "unknown key"},
      {campaign + "refill = 50\n", "campaign[0].refill", "needs [discounts] pool_url"},
      {url + campaign + "refill = -1\n", "campaign[0].refill", "must be from 0 to 100000"},
      {url + campaign + "refill = \"50\"\n", "campaign[0].refill", "must be an integer"},
      {url + campaign + "source = \"signed\"\ncode_prefix = \"TY\"\nrefill = 50\n",
       "campaign[0].refill", "only a pool campaign"},
  };
  for (const auto& b : bads) {
    SCOPED_TRACE(b.text);
    auto loaded = ps::load_config_text(head + b.text, "bad.toml", dir.path());
    const ps::ConfigProblem* found = nullptr;
    for (const auto& p : loaded.problems) {
      if (p.key == b.key) {
        found = &p;
      }
    }
    ASSERT_NE(found, nullptr) << (loaded.problems.empty() ? "no problem"
                                                          : loaded.problems[0].to_string());
    EXPECT_NE(found->message.find(b.words), std::string::npos) << found->to_string();
    EXPECT_GT(found->line, 0) << found->to_string();
    EXPECT_EQ(found->file, "bad.toml");
  }
}

// --- the answer and the claim in the store --------------------------------------------------

TEST(PoolClaimAnswer, ReadsTheDocumentedAnswerAndRefusesEveryOther) {
  const auto claim = claim_for(3);
  auto good = pd::parse_claim_answer(
      R"({"claim": "0193a5b4-0000-7000-8000-000000000001", "codes": ["A-1", "A-2"], "x": 1})",
      claim);
  ASSERT_TRUE(good.codes) << good.problem;
  EXPECT_EQ(*good.codes, (std::vector<std::string>{"A-1", "A-2"}));
  auto none = pd::parse_claim_answer(
      R"({"claim": "0193a5b4-0000-7000-8000-000000000001", "codes": []})", claim);
  ASSERT_TRUE(none.codes);
  EXPECT_TRUE(none.codes->empty());

  const std::pair<const char*, const char*> bads[] = {
      {"<html>busy</html>", "not JSON"},
      {"[1, 2]", "not a JSON object"},
      {R"({"codes": ["A-1"]})", "no \"claim\""},
      {R"({"claim": "0193a5b4-0000-7000-8000-000000000002", "codes": ["A-1"]})",
       "is for claim '0193a5b4-0000-7000-8000-000000000002'"},
      {R"({"claim": "0193a5b4-0000-7000-8000-000000000001"})", "no \"codes\" array"},
      {R"({"claim": "0193a5b4-0000-7000-8000-000000000001", "codes": ["A", "B", "C", "D"]})",
       "has 4 codes; the claim asked for at most 3"},
      {R"({"claim": "0193a5b4-0000-7000-8000-000000000001", "codes": ["A", 2]})",
       "codes[1] is not a string"},
  };
  for (const auto& [body, words] : bads) {
    SCOPED_TRACE(body);
    auto a = pd::parse_claim_answer(body, claim);
    EXPECT_FALSE(a.codes);
    EXPECT_EQ(a.reason, "bad_answer");
    EXPECT_NE(a.problem.find(words), std::string::npos) << a.problem;
  }
}

TEST(PoolClaimStore, ACampaignHasOneClaimPendingAndASettledClaimStaysSettled) {
  PullBench b("http://127.0.0.1:1/");
  auto first = b.db->write([&] {
    return pd::create_claim(*b.db, "thanks", 5, "stationd", "id-1", "2026-11-22T08:00:00Z");
  });
  ASSERT_TRUE(first && *first);
  // A second claim while the first is pending: none (the first is to be sent).
  auto second = b.db->write([&] {
    return pd::create_claim(*b.db, "thanks", 9, "stationctl", "id-2", "2026-11-22T08:00:01Z");
  });
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  // The store itself refuses a second pending claim for the campaign.
  EXPECT_FALSE(b.db->write([&] {
    b.db->exec(
        "INSERT INTO discount_claims (id, campaign, count, state, created_by, created_at) "
        "VALUES ('id-3', 'thanks', 1, 'pending', 'test', 'now')");
  }));
  auto other = b.db->write([&] {
    return pd::create_claim(*b.db, "other", 1, "stationd", "id-4", "2026-11-22T08:00:02Z");
  });
  ASSERT_TRUE(other && *other);

  auto report = b.db->write([&] {
    return pd::settle_claim(*b.db, **first, {"A-1", "A-2"}, "2026-11-22T08:00:03Z");
  });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->import.added, 2);
  EXPECT_EQ(b.text("SELECT state FROM discount_claims WHERE id = 'id-1'"), "done");
  EXPECT_EQ(b.number("SELECT received FROM discount_claims WHERE id = 'id-1'"), 2);
  EXPECT_EQ(b.number("SELECT added FROM discount_claims WHERE id = 'id-1'"), 2);
  // The same answer again (the other process had sent the claim too): nothing imported.
  auto again = b.db->write([&] {
    return pd::settle_claim(*b.db, **first, {"A-1", "A-2", "A-3"}, "2026-11-22T08:00:04Z");
  });
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_settled);
  EXPECT_EQ(b.free_codes(), 2);
  EXPECT_FALSE(b.db->write([&] {
    b.db->exec("UPDATE discount_claims SET state = 'pending', settled_at = NULL WHERE id = 'id-1'");
  }));
  // A failed claim is settled too; the campaign can claim again.
  ASSERT_TRUE(b.db->write([&] { pd::fail_claim(*b.db, "id-4", "HTTP 403", "now"); }));
  EXPECT_EQ(b.text("SELECT state FROM discount_claims WHERE id = 'id-4'"), "failed");
  auto after = b.db->write([&] {
    return pd::create_claim(*b.db, "other", 1, "stationd", "id-5", "2026-11-22T08:00:05Z");
  });
  ASSERT_TRUE(after && *after);
}

TEST(PoolClaimStore, TheAnswersCodesFollowTheImportRules) {
  PullBench b("http://127.0.0.1:1/");
  ASSERT_TRUE(b.db->write([&] {
    pd::import_codes(*b.db, "elsewhere", {"OTHER-1"}, "now");
    pd::import_codes(*b.db, "thanks", {"OLD-1"}, "now");
  }));
  auto claim = b.db->write([&] {
    return pd::create_claim(*b.db, "thanks", 10, "stationd", "id-1", "2026-11-22T08:00:00Z");
  });
  ASSERT_TRUE(claim && *claim);
  const std::vector<std::string> answer{"NEW-1", "bad code", "new-1", "other-1",
                                        "old-1", "NEW-2",    "..",    ""};
  auto report = b.db->write([&] { return pd::settle_claim(*b.db, **claim, answer, "now"); });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->received, 8);
  EXPECT_EQ(report->import.added, 2);          // NEW-1, NEW-2
  EXPECT_EQ(report->import.already_there, 1);  // old-1 is OLD-1: codes compare without case
  ASSERT_EQ(report->rejected.size(), 4u);      // the space, the repeat, "..", ""
  EXPECT_EQ(report->rejected[0].line, 2);
  EXPECT_NE(report->rejected[1].message.find("repeats"), std::string::npos);
  ASSERT_EQ(report->import.conflicts.size(), 1u);
  EXPECT_EQ(report->import.conflicts[0], "other-1 (elsewhere)");
  EXPECT_EQ(b.codes_of_claim("id-1"), (std::vector<std::string>{"NEW-1", "NEW-2"}));
  EXPECT_EQ(b.text("SELECT last_error FROM discount_claims WHERE id = 'id-1'"),
            "4 code(s) rejected, 1 of another campaign");
}

// --- the pull ------------------------------------------------------------------------------

TEST(PoolPull, APoolUnderItsMarkIsRefilledOnceAndTheClaimCarriesWhoAsks) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 12));
  PullBench b(server.url(), 2, 5);
  b.import({"OWN-1", "OWN-2"});
  b.start();
  // Two free codes, low-water mark 2: not under it. The pull looks, and asks for nothing (a
  // claim would be in the store before its request left).
  b.settle();
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims"), 0);
  b.complete("O-1");  // one left: under
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }))
      << b.pull->status().last_error;
  EXPECT_EQ(b.free_codes(), 6);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& req = requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/pools/claims");
  EXPECT_EQ(req.headers.at("content-type"), "application/json");
  const auto body = json::parse(req.body).as_object();
  const std::string id(body.at("claim").as_string());
  EXPECT_EQ(req.headers.at("idempotency-key"), id);
  EXPECT_EQ(body.at("station").as_string(), "pack-01");
  EXPECT_EQ(body.at("site").as_string(), "site-1");
  EXPECT_EQ(body.at("campaign").as_string(), "thanks");
  EXPECT_EQ(body.at("count").as_int64(), 5);
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '7');  // UUIDv7
  EXPECT_EQ(b.codes_of_claim(id), numbered("BO-", 1, 5));
  EXPECT_EQ(b.text("SELECT state FROM discount_claims WHERE id = '" + id + "'"), "done");
  EXPECT_EQ(b.text("SELECT created_by FROM discount_claims"), "stationd");
  EXPECT_EQ(b.pull->status().codes_received.at("thanks"), 5);
  EXPECT_EQ(b.pull->status().codes_added.at("thanks"), 5);
  EXPECT_EQ(b.pull->status().online, true);
  const auto j = b.pull->to_json();
  EXPECT_EQ(j.at("state").as_string(), "idle");
  EXPECT_TRUE(j.at("claim").is_null());
  EXPECT_FALSE(j.at("last_success").is_null());
  std::string metrics;
  b.pull->append_prometheus(metrics, "pack-01");
  EXPECT_NE(
      metrics.find("packbench_discount_pull_claims_total{station=\"pack-01\",outcome=\"done\"} 1"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          "packbench_discount_pull_codes_added_total{station=\"pack-01\",campaign=\"thanks\"} 5"),
      std::string::npos);

  // Used down under the mark again: one more claim, with a new id.
  for (int i = 2; i <= 6; ++i) {
    b.complete("O-" + std::to_string(i));
  }
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 2; }));
  EXPECT_EQ(b.free_codes(), 6);
  EXPECT_EQ(server.claims().size(), 2u);
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_codes WHERE claim IS NOT NULL"), 10);
}

TEST(PoolPull, AnEmptyPoolWithoutAMarkIsRefilledAtTheStart) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 3));
  PullBench b(server.url(), 0, 3);
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }));
  EXPECT_EQ(b.free_codes(), 3);
  // Not empty: low_water 0 asks only when it is.
  b.complete("O-1");
  b.complete("O-2");
  b.settle();
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims"), 1);
  b.complete("O-3");
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 2; }));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(PoolPull, AShortAnswerWaitsTheCapBeforeTheCampaignsNextClaim) {
  pt::PoolServer server;
  server.add_codes("thanks", {"BO-1", "BO-2"});
  PullBench b(server.url(), 10, 5);
  b.config.settings.pull.retry_cap = 400ms;
  // When each answer was written: the station has it no sooner.
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> answered;
  server.http().set_on_answered([&](const pt::HttpExchange&) {
    std::lock_guard lock(mu);
    answered.push_back(std::chrono::steady_clock::now());
  });
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }));
  const auto first = [&] {
    std::lock_guard lock(mu);
    return answered.at(0);
  }();
  EXPECT_EQ(b.free_codes(), 2);
  // The back office had two of five. A completion does not make the station ask again at once.
  b.complete("O-1");
  ASSERT_TRUE(b.run_until([&] { return server.requests().size() == 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - first, 400ms);
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 2; }));
  const auto claims = server.claims();
  ASSERT_EQ(claims.size(), 2u);
  for (const auto& [id, c] : claims) {
    EXPECT_EQ(c.asked, 1) << id;
  }
}

TEST(PoolPull, FailuresKeepTheClaimAndSendItAgainWithTheSameId) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 5));
  // In turn: a 500, an answer that is not JSON, an answer to another claim, a 503 with
  // Retry-After; then the back office's own answer.
  server.set_override([](const pt::HttpExchange&, std::size_t i) -> std::optional<pt::Reply> {
    pt::Reply r;
    switch (i) {
      case 0:
        return pt::Reply::status_only(500);
      case 1:
        r.body = "<html>busy</html>";
        return r;
      case 2:
        r.body = R"({"claim": "someone-else", "codes": ["X-1"]})";
        return r;
      case 3:
        r.status = 503;
        r.headers.emplace_back("Retry-After", "0");
        return r;
      default:
        return std::nullopt;
    }
  });
  PullBench b(server.url(), 0, 5);
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }))
      << b.pull->status().last_error;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  const std::string id(json::parse(requests[0].body).at("claim").as_string());
  for (const auto& r : requests) {
    EXPECT_EQ(json::parse(r.body).at("claim").as_string(), id);
  }
  EXPECT_EQ(b.errors("http_500"), 1);
  EXPECT_EQ(b.errors("bad_answer"), 2);
  EXPECT_EQ(b.errors("http_503"), 1);
  EXPECT_EQ(b.codes_of_claim(id), numbered("BO-", 1, 5));
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_codes"), 5);  // nothing of someone-else's
  EXPECT_EQ(b.number("SELECT attempts FROM discount_claims"), 5);
  EXPECT_EQ(server.claims().size(), 1u);
}

TEST(PoolPull, WhileTheBackOfficeIsDownTheClaimWaitsAndTheFiguresSaySo) {
  pt::PoolServer server;
  server.set_override([](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    return pt::Reply::status_only(502);
  });
  PullBench b(server.url(), 0, 5);
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.errors("http_502") >= 3; }));
  EXPECT_EQ(b.pull->status().online, false);
  const auto j = b.pull->to_json();
  ASSERT_TRUE(j.at("claim").is_object());
  EXPECT_EQ(j.at("claim").at("campaign").as_string(), "thanks");
  EXPECT_GE(j.at("claim").at("attempts").as_int64(), 2);
  EXPECT_NE(j.at("last_error").as_string().find("HTTP 502"), std::string::npos);
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims WHERE state = 'pending'"), 1);
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims"), 1);
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_codes"), 0);
  EXPECT_NE(b.text("SELECT last_error FROM discount_claims").find("HTTP 502"), std::string::npos);
}

TEST(PoolPull, ARefusalFailsTheClaimAndANewOneComesAfterTheCap) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 5));
  server.set_override([](const pt::HttpExchange&, std::size_t i) -> std::optional<pt::Reply> {
    if (i == 0) {
      pt::Reply r;
      r.status = 403;
      r.body = R"({"error":"campaign thanks is closed"})";
      return r;
    }
    return std::nullopt;
  });
  PullBench b(server.url(), 0, 5);
  b.config.settings.pull.retry_cap = 300ms;
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> answered;
  server.http().set_on_answered([&](const pt::HttpExchange&) {
    std::lock_guard lock(mu);
    answered.push_back(std::chrono::steady_clock::now());
  });
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_failed == 1; }));
  const auto refused_at = [&] {
    std::lock_guard lock(mu);
    return answered.at(0);
  }();
  EXPECT_EQ(b.text("SELECT state FROM discount_claims"), "failed");
  EXPECT_NE(b.text("SELECT last_error FROM discount_claims").find("HTTP 403"), std::string::npos);
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - refused_at, 300ms);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(json::parse(requests[0].body).at("claim"), json::parse(requests[1].body).at("claim"));
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims WHERE state = 'done'"), 1);
  EXPECT_EQ(b.free_codes(), 5);
}

TEST(PoolPull, AClaimLeftPendingByAnEarlierRunIsSentFirstWithItsId) {
  pt::PoolServer server;
  server.add_codes("thanks", numbered("BO-", 1, 10));
  PullBench b(server.url(), 0, 5);
  // The pool is full, but a claim of 3 was left pending (by a crash, or by stationctl).
  b.import({"OWN-1"});
  ASSERT_TRUE(b.db->write([&] {
    pd::create_claim(*b.db, "thanks", 3, "stationctl", "0193a5b4-0000-7000-8000-00000000beef",
                     "2026-11-22T08:00:00Z");
  }));
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(json::parse(server.requests()[0].body).at("claim").as_string(),
            "0193a5b4-0000-7000-8000-00000000beef");
  EXPECT_EQ(b.codes_of_claim("0193a5b4-0000-7000-8000-00000000beef"), numbered("BO-", 1, 3));
  EXPECT_EQ(b.free_codes(), 4);
}

// --- TLS and the token ---------------------------------------------------------------------

class PoolPullTls : public ::testing::Test {
 protected:
  pt::TempDir certs;
  pt::TestPki pki{certs.path()};
};

TEST_F(PoolPullTls, TheServerIsVerifiedNamedWithSniAndGivenTheToken) {
  pt::PoolServer server(pki.server);
  server.require_token("pool-token-1");
  server.add_codes("thanks", numbered("BO-", 1, 5));
  pt::write_file(certs / "token", "pool-token-1\n");
  PullBench b(server.url(), 0, 5);
  b.config.settings.pull.ca_file = pki.ca_cert;
  b.config.settings.pull.bearer_token_file = certs / "token";
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.pull->status().claims_done == 1; }))
      << b.pull->status().last_error;
  EXPECT_EQ(b.free_codes(), 5);
  const auto names = server.http().server_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "localhost");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "Bearer pool-token-1");
}

TEST_F(PoolPullTls, AServerOfAnotherCaIsRefusedAndGetsNoRequest) {
  pt::PoolServer server(pki.server);
  server.add_codes("thanks", numbered("BO-", 1, 5));
  PullBench b(server.url(), 0, 5);
  b.config.settings.pull.ca_file = pki.other_ca_cert;
  b.start();
  ASSERT_TRUE(b.run_until([&] { return b.errors("tls") >= 2; }));
  EXPECT_NE(b.pull->status().last_error.find("certificate refused"), std::string::npos)
      << b.pull->status().last_error;
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_codes"), 0);
  EXPECT_EQ(b.number("SELECT count(*) FROM discount_claims WHERE state = 'pending'"), 1);
}

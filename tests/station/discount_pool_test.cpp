#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <random>
#include <set>

#include "station/discount/issue.hpp"
#include "station/discount/pool.hpp"
#include "station/outbox/outbox.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pd = packbench::station::discount;
namespace pt = packbench::testing;
namespace json = boost::json;

namespace {

using std::chrono::days;
using std::chrono::month;
using std::chrono::year;

pd::Day date(int y, unsigned m, unsigned d) {
  return pd::Day(year(y) / month(m) / std::chrono::day(d));
}

// The station's own schema (its migrations hold the discount tables).
const std::vector<ps::Migration>& migrations() {
  return ps::station_migrations();
}

ps::Database open_db(const std::filesystem::path& path) {
  ps::OpenOptions opts;
  opts.migrations = &migrations();
  auto db = ps::Database::open(path, opts);
  if (!db) {
    throw std::runtime_error(db.error().message);
  }
  return std::move(*db);
}

std::vector<std::string> codes_of(const pd::ParsedCodes& parsed) {
  std::vector<std::string> out;
  for (const auto& c : parsed.codes) {
    out.push_back(c.code);
  }
  return out;
}

std::string problems_of(const pd::ParsedCodes& parsed) {
  std::string out;
  for (const auto& p : parsed.problems) {
    out += p.to_string() + "\n";
  }
  return out;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(prefix + std::to_string(i));
  }
  return out;
}

std::int64_t count(ps::Database& db, const std::string& sql) {
  return db
      .read([&] {
        auto st = db.statement(sql);
        return st.step() ? st.column_int(0) : std::int64_t{-1};
      })
      .value();
}

// The free-code counters the triggers keep agree with the codes themselves.
void expect_counters_agree(ps::Database& db) {
  EXPECT_EQ(
      count(db,
            "SELECT count(*) FROM (SELECT campaign, count(*) AS n FROM discount_codes WHERE "
            "order_id IS NULL AND source = 'pool' GROUP BY campaign) c FULL JOIN "
            "discount_pools p USING (campaign) WHERE coalesce(c.n, 0) != coalesce(p.free, 0)"),
      0);
}

ps::Order order(const std::string& id, std::optional<bool> first_order = true) {
  json::object customer{{"name", "山田 花子"}, {"locale", "ja"}};
  if (first_order) {
    customer["first_order"] = *first_order;
  }
  json::object doc{
      {"id", id},
      {"customer", std::move(customer)},
      {"lines", json::array{json::object{{"sku", "TEA-SENCHA-100"},
                                         {"barcodes", json::array{"4901234567894"}}}}}};
  return ps::order_from_json(doc).value();
}

pd::Campaign pool_campaign(const std::string& id, int low_water = 0,
                           pd::Fallback fallback = pd::Fallback::none) {
  pd::Campaign c;
  c.id = id;
  c.shop = "shop.example.com";
  c.redirect = "/collections/tea";
  c.link_format = pd::parse_link_format(c.link).value();
  c.low_water = low_water;
  c.fallback = fallback;
  c.expiry_days = 30;
  if (fallback == pd::Fallback::signed_code) {
    c.code_prefix = "TEA";
  }
  c.wording["ja"]["offer"] = "次回10%オフ";
  c.wording["en"]["offer"] = "10% off next time";
  return c;
}

}  // namespace

// ---- Import files ----------------------------------------------------------------------------

TEST(DiscountCodeFile, OneCodePerLine) {
  const auto parsed =
      pd::parse_code_csv("\xEF\xBB\xBFWELCOME-001\r\n  WELCOME-002  \n\n\t\nWELCOME-003");
  EXPECT_TRUE(parsed.ok()) << problems_of(parsed);
  EXPECT_EQ(codes_of(parsed),
            (std::vector<std::string>{"WELCOME-001", "WELCOME-002", "WELCOME-003"}));
  EXPECT_EQ(parsed.codes[2].line, 5);
}

TEST(DiscountCodeFile, CsvWithACodeColumn) {
  // The shape of a shop's export: a header, quoted fields, other columns.
  const auto parsed = pd::parse_code_csv(
      "\xEF\xBB\xBF\"Title\",\"Code\",\"Usage count\"\r\n"
      "\"Welcome, friend\",\"WELCOME-001\",0\r\n"
      "\"He said \"\"hi\"\"\", WELCOME-002 ,1\r\n"
      "\r\n"
      "x,\"  WELCOME-003\",2\r\n");
  EXPECT_TRUE(parsed.ok()) << problems_of(parsed);
  EXPECT_EQ(codes_of(parsed),
            (std::vector<std::string>{"WELCOME-001", "WELCOME-002", "WELCOME-003"}));
  EXPECT_EQ(parsed.codes[0].line, 2);
  EXPECT_EQ(parsed.codes[2].line, 5);
  // "code" in any case names the column; it need not be the first.
  EXPECT_EQ(codes_of(pd::parse_code_csv("CODE\nA1\nA2\n")), (std::vector<std::string>{"A1", "A2"}));
  EXPECT_EQ(codes_of(pd::parse_code_csv("id,code\n1,B1\n2,B2\n")),
            (std::vector<std::string>{"B1", "B2"}));
}

TEST(DiscountCodeFile, ReportsEveryBadLineAndKeepsTheGoodOnes) {
  const std::string long_code(65, 'A');
  const auto parsed = pd::parse_code_csv(
      "code,uses\n"         // 1
      "WELCOME-001,0\n"     // 2
      "WELCOME 002,0\n"     // 3: a space
      "welcome-001,0\n"     // 4: repeats line 2
      "WEL/COME,0\n"        // 5
      "\"WELCOME-003,0\n"   // 6: open quote
      "WELCOME-004\n"       // 7: fine (uses missing)
      ",0\n"                // 8: empty code
      "ＷＥＬＣＯＭＥ,0\n"  // 9: full-width letters
      + long_code +
      ",0\n"                 // 10: too long
      "..,0\n"               // 11: a dot segment
      "WELCOME-005?x=1,0\n"  // 12
      "WELCOME-006,0\n");    // 13
  EXPECT_EQ(codes_of(parsed),
            (std::vector<std::string>{"WELCOME-001", "WELCOME-004", "WELCOME-006"}));
  std::map<int, std::string> by_line;
  for (const auto& p : parsed.problems) {
    by_line[p.line] = p.to_string();
  }
  ASSERT_EQ(by_line.size(), 9u) << problems_of(parsed);
  EXPECT_NE(by_line[3].find("line 3: 'WELCOME 002' has characters"), std::string::npos)
      << by_line[3];
  EXPECT_NE(by_line[4].find("line 4: 'welcome-001' repeats the code on line 2"), std::string::npos)
      << by_line[4];
  EXPECT_NE(by_line[5].find("'WEL/COME'"), std::string::npos);
  EXPECT_NE(by_line[6].find("never closed"), std::string::npos);
  EXPECT_NE(by_line[8].find("empty"), std::string::npos);
  EXPECT_NE(by_line[9].find("\\xEF\\xBC\\xB7"), std::string::npos) << by_line[9];
  EXPECT_NE(by_line[10].find("65 characters"), std::string::npos);
  EXPECT_NE(by_line[11].find("'..' cannot be a code"), std::string::npos) << by_line[11];
  EXPECT_NE(by_line[12].find("WELCOME-005?x=1"), std::string::npos);
}

TEST(DiscountCodeFile, SeveralColumnsNeedAHeader) {
  const auto parsed = pd::parse_code_csv("A1,first\nA2\n");
  EXPECT_EQ(codes_of(parsed), (std::vector<std::string>{"A2"}));
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_NE(
      parsed.problems[0].to_string().find("line 1: has 2 columns, but the file has no header"),
      std::string::npos)
      << parsed.problems[0].to_string();
  const auto short_row = pd::parse_code_csv("title,code\nonly-title\n");
  ASSERT_EQ(short_row.problems.size(), 1u);
  EXPECT_NE(
      short_row.problems[0].to_string().find("line 2: has 1 columns; the code is in column 2"),
      std::string::npos);
  EXPECT_TRUE(pd::parse_code_csv("").codes.empty());
  EXPECT_TRUE(pd::parse_code_csv("\xEF\xBB\xBF\n\n").ok());
}

// ---- The pool in a real store ----------------------------------------------------------------

TEST(DiscountPool, ImportIsIdempotentAndCodesBelongToOneCampaign) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  const auto codes = numbered("WELCOME-", 10);
  auto first =
      db.write([&] { return pd::import_codes(db, "welcome", codes, "2026-11-01T09:00:00Z"); });
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->added, 10);
  EXPECT_EQ(first->already_there, 0);
  auto again =
      db.write([&] { return pd::import_codes(db, "welcome", codes, "2026-11-02T09:00:00Z"); });
  EXPECT_EQ(again->added, 0);
  EXPECT_EQ(again->already_there, 10);
  EXPECT_TRUE(again->conflicts.empty());
  // Shops compare codes without regard to case: welcome-3 is WELCOME-3.
  auto other = db.write([&] {
    return pd::import_codes(db, "other", {"welcome-3", "OTHER-1"}, "2026-11-02T09:00:00Z");
  });
  EXPECT_EQ(other->added, 1);
  EXPECT_EQ(other->conflicts, std::vector<std::string>{"welcome-3 (welcome)"});
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "welcome"); }).value(), 10);
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "other"); }).value(), 1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM discount_codes"), 11);
  expect_counters_agree(db);
}

TEST(DiscountPool, EachCodeGoesToOneOrderAndAReprintShowsTheSameCode) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] { pd::import_codes(db, "welcome", numbered("W-", 3), "t0"); }));
  std::vector<std::string> given;
  for (int i = 0; i < 3; ++i) {
    auto a = db.write([&] {
      return pd::allocate_code(db, "welcome", "ORDER-" + std::to_string(i), "t1",
                               date(2026, 12, 1));
    });
    ASSERT_TRUE(a && *a);
    EXPECT_FALSE((*a)->existing);
    given.push_back((*a)->code.code);
  }
  // Oldest imported first.
  EXPECT_EQ(given, (std::vector<std::string>{"W-0", "W-1", "W-2"}));
  auto reprint =
      db.write([&] { return pd::allocate_code(db, "welcome", "ORDER-1", "t2", std::nullopt); });
  ASSERT_TRUE(reprint && *reprint);
  EXPECT_TRUE((*reprint)->existing);
  EXPECT_EQ((*reprint)->code.code, "W-1");
  EXPECT_EQ((*reprint)->code.allocated_at, "t1");
  EXPECT_EQ((*reprint)->code.expires, date(2026, 12, 1));
  // Even asked for under another campaign, the order keeps its code.
  auto elsewhere =
      db.write([&] { return pd::allocate_code(db, "other", "ORDER-2", "t2", std::nullopt); });
  EXPECT_EQ((*elsewhere)->code.code, "W-2");
  auto exhausted =
      db.write([&] { return pd::allocate_code(db, "welcome", "ORDER-9", "t3", std::nullopt); });
  ASSERT_TRUE(exhausted);
  EXPECT_FALSE(*exhausted);
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "welcome"); }).value(), 0);
  EXPECT_FALSE(db.read([&] { return pd::code_for_order(db, "ORDER-9"); }).value());
}

TEST(DiscountPool, ARolledBackCompletionLeavesTheCodeFree) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] { pd::import_codes(db, "welcome", {"A", "B"}, "t0"); }));
  auto failed = db.write([&] {
    pd::allocate_code(db, "welcome", "ORDER-1", "t1", std::nullopt);
    throw std::runtime_error("the printer queue could not be written");
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "welcome"); }).value(), 2);
  auto a =
      db.write([&] { return pd::allocate_code(db, "welcome", "ORDER-2", "t1", std::nullopt); });
  EXPECT_EQ((*a)->code.code, "A");
}

TEST(DiscountPool, TheStoreRefusesToMoveOrDropAnAllocatedCode) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] {
    pd::import_codes(db, "welcome", {"A", "B"}, "t0");
    pd::allocate_code(db, "welcome", "ORDER-1", "t1", std::nullopt);
  }));
  auto move =
      db.write([&] { db.exec("UPDATE discount_codes SET order_id = 'ORDER-2' WHERE code = 'A'"); });
  ASSERT_FALSE(move);
  EXPECT_NE(move.error().message.find("stays with its order"), std::string::npos)
      << move.error().message;
  EXPECT_FALSE(
      db.write([&] { db.exec("UPDATE discount_codes SET order_id = NULL WHERE code = 'A'"); }));
  EXPECT_FALSE(db.write([&] { db.exec("DELETE FROM discount_codes WHERE code = 'A'"); }));
  // A second code for the same order, or the same code twice, breaks a UNIQUE constraint.
  EXPECT_FALSE(db.write([&] {
    db.exec("UPDATE discount_codes SET order_id = 'ORDER-1', allocated_at = 't' WHERE code = 'B'");
  }));
  EXPECT_FALSE(db.write([&] {
    db.exec("INSERT INTO discount_codes (campaign, code, source) VALUES ('x', 'a', 'pool')");
  }));
  // A code stays in its campaign.
  EXPECT_FALSE(
      db.write([&] { db.exec("UPDATE discount_codes SET campaign = 'x' WHERE code = 'B'"); }));
  // A free code can still be withdrawn.
  EXPECT_TRUE(db.write([&] { db.exec("DELETE FROM discount_codes WHERE code = 'B'"); }));
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "welcome"); }).value(), 0);
  expect_counters_agree(db);
}

// Two connections to one store file take turns completing orders, some of them reprints: no code
// is ever given to two orders, no order gets two codes, and every reprint shows the first code.
TEST(DiscountPool, TwoConnectionsTakingTurnsNeverAllocateACodeTwice) {
  pt::TempDir dir;
  auto a = open_db(dir / "station.db");
  auto b = open_db(dir / "station.db");
  ASSERT_TRUE(a.write([&] { pd::import_codes(a, "welcome", numbered("W-", 150), "t0"); }));
  std::mt19937 rng(20261122);
  std::map<std::string, std::string> first_code;  // order -> code
  int none = 0;
  for (int step = 0; step < 400; ++step) {
    ps::Database& db = (rng() % 2) ? a : b;
    // Mostly new orders, sometimes a reprint of an earlier one.
    const int order_no = (step > 0 && rng() % 4 == 0) ? static_cast<int>(rng() % step) : step;
    const std::string order_id = "ORDER-" + std::to_string(order_no);
    auto got =
        db.write([&] { return pd::allocate_code(db, "welcome", order_id, "t", std::nullopt); });
    ASSERT_TRUE(got) << got.error().message;
    if (!*got) {
      ++none;
      EXPECT_FALSE(first_code.count(order_id)) << order_id << " had a code and lost it";
      continue;
    }
    auto [it, inserted] = first_code.emplace(order_id, (*got)->code.code);
    EXPECT_EQ(it->second, (*got)->code.code) << order_id;
    EXPECT_EQ((*got)->existing, !inserted) << order_id;
  }
  std::set<std::string> codes;
  for (const auto& [order_id, code] : first_code) {
    EXPECT_TRUE(codes.insert(code).second) << code << " went to two orders";
  }
  EXPECT_EQ(codes.size(), 150u);
  EXPECT_GT(none, 0);
  EXPECT_EQ(count(a, "SELECT count(*) FROM discount_codes WHERE order_id IS NOT NULL"), 150);
  EXPECT_EQ(count(b, "SELECT count(DISTINCT order_id) FROM discount_codes"), 150);
  expect_counters_agree(a);
}

// The same with two threads racing, each on its own connection, as two processes would.
TEST(DiscountPool, TwoConnectionsRacingNeverAllocateACodeTwice) {
  pt::TempDir dir;
  {
    auto db = open_db(dir / "station.db");
    ASSERT_TRUE(db.write([&] { pd::import_codes(db, "welcome", numbered("W-", 100), "t0"); }));
  }
  std::map<std::string, std::string> got[2];
  std::string errors[2];
  auto run = [&](int who) {
    auto db = open_db(dir / "station.db");
    for (int i = 0; i < 80; ++i) {
      // Both threads complete the same orders: each order must end with one code.
      const std::string order_id = "ORDER-" + std::to_string(i);
      auto a =
          db.write([&] { return pd::allocate_code(db, "welcome", order_id, "t", std::nullopt); });
      if (!a) {
        errors[who] += a.error().message + "\n";
      } else if (*a) {
        got[who][order_id] = (*a)->code.code;
      }
      auto n = db.write([&] {
        return pd::allocate_code(db, "welcome",
                                 "SOLO-" + std::to_string(who) + "-" + std::to_string(i), "t",
                                 std::nullopt);
      });
      if (!n) {
        errors[who] += n.error().message + "\n";
      } else if (*n) {
        got[who]["SOLO-" + std::to_string(who) + "-" + std::to_string(i)] = (*n)->code.code;
      }
    }
  };
  std::thread t0(run, 0);
  std::thread t1(run, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  std::map<std::string, std::string> code_owner;
  for (const auto& g : got) {
    for (const auto& [order_id, code] : g) {
      auto [it, inserted] = code_owner.emplace(code, order_id);
      EXPECT_EQ(it->second, order_id) << code << " went to " << it->second << " and " << order_id;
    }
  }
  for (int i = 0; i < 80; ++i) {
    const std::string id = "ORDER-" + std::to_string(i);
    if (got[0].count(id) && got[1].count(id)) {
      EXPECT_EQ(got[0][id], got[1][id]) << id;
    }
  }
  auto db = open_db(dir / "station.db");
  EXPECT_EQ(count(db, "SELECT count(*) FROM discount_codes WHERE order_id IS NOT NULL"), 100);
  EXPECT_EQ(count(db, "SELECT count(DISTINCT order_id) FROM discount_codes"), 100);
  expect_counters_agree(db);
}

TEST(DiscountSerials, CountPerStationAndSurviveReopening) {
  pt::TempDir dir;
  {
    auto db = open_db(dir / "station.db");
    for (std::uint32_t expected = 0; expected < 3; ++expected) {
      EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), expected);
    }
    EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 8); }).value(), 0u);
    // A rolled-back transaction gives its serial back: nothing was issued with it.
    EXPECT_FALSE(db.write([&] {
      pd::next_signed_serial(db, 7);
      throw std::runtime_error("rolled back");
    }));
  }
  auto db = open_db(dir / "station.db");
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), 3u);
  ASSERT_TRUE(db.write([&] {
    db.statement("UPDATE discount_serials SET next_serial = ?1 WHERE station = 7")
        .bind(1, static_cast<std::int64_t>(pd::kMaxSerial))
        .run();
  }));
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), pd::kMaxSerial);
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), std::nullopt);
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), std::nullopt);
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 8); }).value(), 1u);
}

// ---- Issuing an order's discount -------------------------------------------------------------

TEST(DiscountIssue, PoolCodeWithItsLinkWordsAndEvents) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] {
    pd::import_codes(db, "welcome", {"WELCOME-001", "WELCOME-002"}, "t0");
  }));
  const std::vector<pd::Campaign> campaigns{pool_campaign("welcome")};
  const pd::IssueContext ctx{date(2026, 11, 22), "2026-11-22T08:07:40.914Z", nullptr, std::nullopt};
  ps::Outbox outbox(db, "/stations/tokyo-dc1/pack-01");
  auto issued = db.write([&] {
    auto out = pd::issue_discount(db, campaigns, order("DEMO-1001"), ctx);
    if (out.discount && !out.discount->reprint) {
      outbox.enqueue(pd::discount_issued_event(*out.discount, ctx.now)).value();
    }
    outbox
        .enqueue(pd::insert_printed_event(
            {"DEMO-1001", "thank-you", "ja", out.discount->campaign, out.discount->code, ctx.now}))
        .value();
    return out;
  });
  ASSERT_TRUE(issued) << issued.error().message;
  ASSERT_TRUE(issued->discount) << issued->note;
  const auto& d = *issued->discount;
  EXPECT_EQ(d.code, "WELCOME-001");
  EXPECT_EQ(d.source, pd::CodeSource::pool);
  EXPECT_EQ(d.expires, date(2026, 12, 22));
  EXPECT_FALSE(d.reprint);
  EXPECT_EQ(d.url,
            "https://shop.example.com/discount/WELCOME-001?redirect=%2Fcollections%2Ftea"
            "&utm_source=insert&utm_medium=qr&utm_campaign=welcome");
  ASSERT_TRUE(issued->pool);
  EXPECT_EQ(issued->pool->remaining, 1);

  const auto values = pd::discount_label_values(d, &campaigns[0], "ja");
  EXPECT_EQ(values.at("code"), "WELCOME-001");
  EXPECT_EQ(values.at("url"), json::value(d.url));
  EXPECT_EQ(values.at("expires"), "2026-12-22");
  EXPECT_EQ(values.at("offer"), "次回10%オフ");
  EXPECT_EQ(pd::discount_label_values(d, &campaigns[0], "en").at("offer"), "10% off next time");

  auto events =
      db.read([&] {
          std::vector<std::pair<std::string, json::object>> out;
          auto st = db.statement("SELECT type, event FROM outbox ORDER BY seq");
          while (st.step()) {
            out.emplace_back(st.column_text(0), json::parse(st.column_text(1)).as_object());
          }
          return out;
        }).value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].first, "com.packbench.discount.issued.v1");
  EXPECT_EQ(events[0].second.at("subject"), "DEMO-1001");
  const auto& data = events[0].second.at("data").as_object();
  EXPECT_EQ(data.at("order_id"), "DEMO-1001");
  EXPECT_EQ(data.at("code"), "WELCOME-001");
  EXPECT_EQ(data.at("campaign"), "welcome");
  EXPECT_EQ(data.at("source"), "pool");
  EXPECT_EQ(data.at("expires"), "2026-12-22");
  EXPECT_EQ(data.at("url"), json::value(d.url));
  EXPECT_EQ(data.at("fallback"), false);
  EXPECT_EQ(events[1].first, "com.packbench.insert.printed.v1");
  EXPECT_EQ(events[1].second.at("data").at("template"), "thank-you");
  EXPECT_EQ(events[1].second.at("data").at("code"), "WELCOME-001");

  // A reprint, after the campaign's link changed: the same code and the link that was printed.
  std::vector<pd::Campaign> changed{pool_campaign("welcome")};
  changed[0].redirect = "/somewhere-else";
  auto again = db.write([&] { return pd::issue_discount(db, changed, order("DEMO-1001"), ctx); });
  ASSERT_TRUE(again && again->discount);
  EXPECT_TRUE(again->discount->reprint);
  EXPECT_EQ(again->discount->code, "WELCOME-001");
  EXPECT_EQ(again->discount->url, d.url);
  EXPECT_EQ(again->discount->expires, date(2026, 12, 22));
  EXPECT_EQ(db.read([&] { return pd::pool_remaining(db, "welcome"); }).value(), 1);
}

TEST(DiscountIssue, LowWaterAlertsOnceWhenCrossedAndWhenEmpty) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] { pd::import_codes(db, "welcome", numbered("W-", 5), "t0"); }));
  const auto c = pool_campaign("welcome", 3);
  const pd::IssueContext ctx{date(2026, 11, 22), "now", nullptr, std::nullopt};
  struct Seen {
    bool code;
    std::int64_t remaining;
    bool low;
    bool alert;
  };
  std::vector<Seen> seen;
  for (int i = 0; i < 7; ++i) {
    auto out = db.write([&] {
                   return pd::issue_from_campaign(db, c, order("O-" + std::to_string(i)), ctx);
                 }).value();
    ASSERT_TRUE(out.pool);
    seen.push_back({out.discount.has_value(), out.pool->remaining, out.pool->low, out.pool->alert});
    if (!out.discount) {
      EXPECT_NE(out.note.find("empty"), std::string::npos) << out.note;
    }
  }
  const std::vector<std::tuple<bool, std::int64_t, bool, bool>> expected{
      {true, 4, false, false}, {true, 3, false, false}, {true, 2, true, true},
      {true, 1, true, false},  {true, 0, true, true},   {false, 0, true, false},
      {false, 0, true, false}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::make_tuple(seen[i].code, seen[i].remaining, seen[i].low, seen[i].alert),
              expected[i])
        << "order " << i;
  }
  const auto e = pd::pool_low_event({"welcome", 2, 3, true, true}, "now");
  EXPECT_EQ(e.type, "com.packbench.discount.pool.low.v1");
  EXPECT_EQ(e.subject, "welcome");
  EXPECT_EQ(e.data.at("remaining"), 2);
  EXPECT_EQ(e.data.at("low_water"), 3);
  EXPECT_EQ(e.data.at("empty"), false);
}

TEST(DiscountIssue, AnEmptyPoolFallsBackToASignedCode) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  ASSERT_TRUE(db.write([&] { pd::import_codes(db, "welcome", {"W-1"}, "t0"); }));
  const auto key = pd::SigningKey::from_bytes("0123456789abcdef0123456789abcdef").value();
  const auto c = pool_campaign("welcome", 0, pd::Fallback::signed_code);
  const pd::IssueContext ctx{date(2026, 11, 22), "now", &key, 7u};
  auto first = db.write([&] { return pd::issue_from_campaign(db, c, order("O-1"), ctx); }).value();
  EXPECT_EQ(first.discount->code, "W-1");
  std::set<std::string> signed_codes;
  for (int i = 2; i <= 4; ++i) {
    auto out = db.write([&] {
                   return pd::issue_from_campaign(db, c, order("O-" + std::to_string(i)), ctx);
                 }).value();
    ASSERT_TRUE(out.discount) << out.note;
    const auto& d = *out.discount;
    EXPECT_EQ(d.source, pd::CodeSource::signed_code);
    EXPECT_TRUE(d.fallback);
    EXPECT_TRUE(signed_codes.insert(d.code).second);
    const auto v = pd::verify_signed_code(d.code, key, ctx.today);
    ASSERT_EQ(v.verdict, pd::CodeVerdict::valid) << d.code << ": " << v.reason;
    EXPECT_EQ(v.fields->prefix, "TEA");
    EXPECT_EQ(v.fields->station, 7u);
    EXPECT_EQ(v.fields->serial, static_cast<std::uint32_t>(i - 2));
    EXPECT_EQ(v.fields->expiry, date(2026, 12, 22));
    EXPECT_NE(d.url.find("/discount/" + d.code + "?"), std::string::npos) << d.url;
    EXPECT_EQ(pd::discount_issued_event(d, "now").data.at("source"), "signed");
    EXPECT_EQ(pd::discount_issued_event(d, "now").data.at("fallback"), true);
  }
  // Reprints of a signed code show it again; nothing new is signed.
  auto reprint =
      db.write([&] { return pd::issue_from_campaign(db, c, order("O-3"), ctx); }).value();
  EXPECT_TRUE(reprint.discount->reprint);
  EXPECT_EQ(reprint.discount->source, pd::CodeSource::signed_code);
  EXPECT_TRUE(signed_codes.count(reprint.discount->code));
  EXPECT_EQ(db.write([&] { return pd::next_signed_serial(db, 7); }).value(), 3u);
  EXPECT_EQ(count(db, "SELECT count(*) FROM discount_codes WHERE source = 'signed'"), 3);
}

TEST(DiscountIssue, NoDiscountNeverBlocksTheOrder) {
  pt::TempDir dir;
  auto db = open_db(dir / "station.db");
  auto signed_campaign = pool_campaign("thanks");
  signed_campaign.source = pd::CodeSource::signed_code;
  signed_campaign.code_prefix = "THX";
  const pd::IssueContext no_key{date(2026, 11, 22), "now", nullptr, std::nullopt};
  auto out =
      db.write([&] { return pd::issue_from_campaign(db, signed_campaign, order("O-1"), no_key); });
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->discount);
  EXPECT_NE(out->note.find("signing key"), std::string::npos);

  auto first_only = pool_campaign("welcome");
  first_only.eligibility = pd::Eligibility::first_order;
  auto none =
      db.write([&] { return pd::issue_discount(db, {first_only}, order("O-2", false), no_key); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->discount);
  EXPECT_EQ(none->note, "no campaign applies to this order");
  EXPECT_EQ(count(db, "SELECT count(*) FROM discount_codes"), 0);
  EXPECT_EQ(count(db, "SELECT count(*) FROM discount_serials"), 0);
}

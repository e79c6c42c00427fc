// stationctl discount verify and stationctl codes import, called as the functions stationctl runs.
#include "discount_command.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>

#include "codes_command.hpp"
#include "station/discount/pool.hpp"
#include "station/discount/signed_code.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pd = packbench::station::discount;
namespace pt = packbench::testing;
namespace json = boost::json;

namespace {

using std::chrono::days;
using std::chrono::month;
using std::chrono::year;

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

Run discount(std::vector<std::string> args) {
  args.insert(args.begin(), "discount");
  std::ostringstream out, err;
  Run r;
  r.code = packbench::tools::discount_command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The station's own schema (its migrations hold the discount tables).
const std::vector<ps::Migration>& migrations() { return ps::station_migrations(); }

Run codes(std::vector<std::string> args, const std::vector<ps::Migration>* m = &migrations()) {
  args.insert(args.begin(), {"codes", "import"});
  std::ostringstream out, err;
  Run r;
  r.code = packbench::tools::codes_import(args, out, err, m);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class DiscountVerifyCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    pt::write_file(dir_ / "shop.key",
                   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
    ::chmod((dir_ / "shop.key").c_str(), 0600);
  }
  std::string key() const { return (dir_ / "shop.key").string(); }
  pt::TempDir dir_;
};

}  // namespace

TEST_F(DiscountVerifyCommand, AValidCodeShowsItsFields) {
  // The known answer of the signed-code tests, with the same key.
  const auto r = discount(
      {"verify", "tea-01r0-000j-fway-q26x-5j6s", "--key-file", key(), "--today", "2026-12-31"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("valid"), true);
  EXPECT_EQ(o.at("verdict"), "valid");
  EXPECT_EQ(o.at("code"), "TEA-01R0-000J-FWAY-Q26X-5J6S");
  EXPECT_EQ(o.at("prefix"), "TEA");
  EXPECT_EQ(o.at("station"), 7);
  EXPECT_EQ(o.at("serial"), 1);
  EXPECT_EQ(o.at("expiry"), "2026-12-31");
  EXPECT_NE(r.out.find("\n  \"valid\": true,\n"), std::string::npos) << r.out;
}

TEST_F(DiscountVerifyCommand, InvalidCodesSayWhyAndExitOne) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"TEA-01R0-000J-FWAY-Q26X-5J6T", "typo", "check characters"},
      {"TEA-10R0-000J-FWAY-Q26X-5J6S", "typo", "swapped"},
      {"TEA-01R0-000J-FWAY-Q26X", "malformed", "code characters"},
      {"TEA-01R0-0002-FWVT-TXMF-PR38", "expired", "2026-12-31"},
  };
  for (const auto& [code, verdict, why] : cases) {
    const auto r = discount({"verify", code, "--key-file", key(), "--today", "2027-01-01"});
    EXPECT_EQ(r.code, 1) << code;
    const auto o = json::parse(r.out).as_object();
    EXPECT_EQ(o.at("valid"), false) << code;
    EXPECT_EQ(o.at("verdict"), json::value(verdict)) << code;
    EXPECT_NE(std::string(o.at("reason").as_string()).find(why), std::string::npos)
        << code << ": " << o.at("reason");
  }
  // Another key did not sign it.
  pt::write_file(dir_ / "other.key", std::string(64, 'f'));
  ::chmod((dir_ / "other.key").c_str(), 0600);
  const auto forged = discount({"verify", "TEA-01R0-000J-FWAY-Q26X-5J6S", "--key-file",
                                (dir_ / "other.key").string(), "--today", "2026-01-01"});
  EXPECT_EQ(forged.code, 1);
  const auto o = json::parse(forged.out).as_object();
  EXPECT_EQ(o.at("verdict"), "forged");
  EXPECT_EQ(o.at("serial"), 1);  // what the code claims
}

TEST_F(DiscountVerifyCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(discount({"verify", "TEA-1"}).code, 2);
  EXPECT_NE(discount({"verify", "TEA-1"}).err.find("--key-file FILE is required"),
            std::string::npos);
  EXPECT_EQ(discount({"verify", "--key-file", key()}).code, 2);
  EXPECT_EQ(discount({"verify", "A-1", "B-2", "--key-file", key()}).code, 2);
  EXPECT_EQ(discount({"verify", "A-1", "--key-file"}).code, 2);
  EXPECT_EQ(discount({"verify", "A-1", "--key-file", key(), "--today", "31/12/2026"}).code, 2);
  EXPECT_EQ(discount({"verify", "A-1", "--key-file", key(), "--colour", "red"}).code, 2);
  EXPECT_EQ(discount({"sign"}).code, 2);
  EXPECT_EQ(discount({}).code, 2);
  const auto missing = discount({"verify", "A-1", "--key-file", (dir_ / "none.key").string()});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no signing key file at"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.out, "");
}

TEST_F(DiscountVerifyCommand, WarnsAboutAKeyOthersCanRead) {
  ::chmod((dir_ / "shop.key").c_str(), 0644);
  const auto r = discount(
      {"verify", "TEA-01R0-000J-FWAY-Q26X-5J6S", "--key-file", key(), "--today", "2026-01-01"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.err.find("warning: the signing key file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("000102"), std::string::npos);
}

TEST(CodesImportCommand, ImportsOnceAndReportsBadLines) {
  pt::TempDir dir;
  pt::write_file(dir / "codes.csv", "Code,Uses\nWELCOME-001,0\nWELCOME-002,0\n");
  auto r = codes(
      {"--campaign", "welcome", (dir / "codes.csv").string(), "--state-dir", dir.path().string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "2 added, 0 already there, 0 of another campaign, 0 rejected; campaign welcome "
            "has 2 free codes\n");
  r = codes(
      {"--campaign", "welcome", (dir / "codes.csv").string(), "--state-dir", dir.path().string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0 added, 2 already there, 0 of another campaign, 0 rejected; campaign welcome "
            "has 2 free codes\n");

  // A file with a bad line: the others go in, the bad one is named, the exit is 1.
  pt::write_file(dir / "more.csv",
                 "WELCOME-003\nWEL COME\nwelcome-001\nWELCOME-004\nWELCOME-003\n");
  r = codes(
      {"--campaign", "welcome", (dir / "more.csv").string(), "--state-dir", dir.path().string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("more.csv:2: 'WEL COME' has characters"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("more.csv:5: 'WELCOME-003' repeats the code on line 1"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out,
            "2 added, 1 already there, 0 of another campaign, 2 rejected; campaign welcome "
            "has 4 free codes\n");

  // The same code for another campaign is a conflict, not a second copy.
  r = codes(
      {"--campaign", "other", (dir / "codes.csv").string(), "--state-dir", dir.path().string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already in the store for another campaign: WELCOME-001 (welcome)"),
            std::string::npos)
      << r.err;

  ps::OpenOptions opts;
  opts.migrations = &migrations();
  auto db = ps::Database::open(dir / "station.db", opts);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->read([&] { return pd::pool_remaining(*db, "welcome"); }).value(), 4);
  EXPECT_EQ(db->read([&] { return pd::pool_remaining(*db, "other"); }).value(), 0);
}

TEST(CodesImportCommand, ChecksTheCampaignAgainstTheConfiguration) {
  pt::TempDir dir;
  pt::write_file(dir / "codes.csv", "A-1\n");
  pt::write_file(dir / "station.toml", R"(
[station]
state_dir = "state"

[[campaign]]
id = "welcome"
shop = "shop.example.com"

[[campaign]]
id = "thanks"
shop = "shop.example.com"
source = "signed"
code_prefix = "THX"
)");
  const std::string config = (dir / "station.toml").string();
  const std::string file = (dir / "codes.csv").string();
  auto r = codes({"--campaign", "nope", file, "--config", config});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("has no campaign 'nope'"), std::string::npos) << r.err;
  r = codes({"--campaign", "thanks", file, "--config", config});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("signs its codes"), std::string::npos) << r.err;
  // The store is the configuration's, unless PACKBENCH_STATE_DIR or --state-dir says otherwise.
  std::filesystem::create_directory(dir / "state");
  const char* env = std::getenv("PACKBENCH_STATE_DIR");
  const std::string saved = env ? env : "";
  ::unsetenv("PACKBENCH_STATE_DIR");
  r = codes({"--campaign", "welcome", file, "--config", config});
  if (!saved.empty()) {
    ::setenv("PACKBENCH_STATE_DIR", saved.c_str(), 1);
  }
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "station.db"));
}

TEST(CodesImportCommand, UsageErrorsAndAStoreWithoutPools) {
  pt::TempDir dir;
  pt::write_file(dir / "codes.csv", "A-1\n");
  const std::string file = (dir / "codes.csv").string();
  const std::string state = dir.path().string();
  EXPECT_EQ(codes({file, "--state-dir", state}).code, 2);
  EXPECT_EQ(codes({"--campaign", "welcome", "--state-dir", state}).code, 2);
  EXPECT_EQ(codes({"--campaign", "a b", file, "--state-dir", state}).code, 2);
  EXPECT_EQ(codes({"--campaign", "welcome", file, file, "--state-dir", state}).code, 2);
  EXPECT_EQ(
      codes({"--campaign", "welcome", (dir / "none.csv").string(), "--state-dir", state}).code, 2);
  // A store made by a station without the discount tables.
  std::vector<ps::Migration> before;
  for (const auto& m : ps::station_migrations()) {
    if (m.sql == pd::kDiscountSchemaSql) {
      break;
    }
    before.push_back(m);
  }
  pt::TempDir old;
  const auto r =
      codes({"--campaign", "welcome", file, "--state-dir", old.path().string()}, &before);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("has no discount code tables"), std::string::npos) << r.err;
}

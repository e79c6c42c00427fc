#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <functional>

#include "station/discount/campaign_config.hpp"
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

struct Read {
  pd::DiscountConfig config;
  std::vector<ps::ConfigProblem> problems;
  std::string all() const {
    std::string out;
    for (const auto& p : problems) {
      out += p.to_string() + "\n";
    }
    return out;
  }
  bool has(const std::string& text) const { return all().find(text) != std::string::npos; }
};

Read read(const std::string& text, const std::filesystem::path& base = "/nonexistent") {
  Read r;
  const toml::table root = toml::parse(std::string_view(text), std::string("station.toml"));
  r.config = pd::read_discount_config(root, "station.toml", base, r.problems);
  return r;
}

// An order as the back office sends it: lines are (sku, category) pairs.
ps::Order order(std::optional<bool> first_order,
                std::vector<std::pair<std::string, std::string>> lines,
                std::optional<json::value> total = std::nullopt,
                std::vector<std::string> tags = {}) {
  json::object customer{{"name", "A"}, {"locale", "en"}};
  if (first_order) {
    customer["first_order"] = *first_order;
  }
  if (!tags.empty()) {
    json::array t;
    for (const auto& tag : tags) {
      t.push_back(json::value(tag));
    }
    customer["tags"] = std::move(t);
  }
  json::array ls;
  int n = 0;
  for (const auto& [sku, category] : lines) {
    json::object l{{"sku", sku},
                   {"qty", 1},
                   {"barcodes", json::array{json::value("B" + std::to_string(++n))}}};
    if (!category.empty()) {
      l["category"] = category;
    }
    ls.push_back(std::move(l));
  }
  json::object doc{{"id", "ORDER-1"}, {"customer", std::move(customer)}, {"lines", std::move(ls)}};
  if (total) {
    doc["total"] = *total;
  }
  return ps::order_from_json(doc).value();
}

json::value money(json::value amount, const char* currency) {
  return json::object{{"amount", std::move(amount)}, {"currency", currency}};
}

pd::Campaign campaign(std::function<void(pd::Campaign&)> set = {}) {
  pd::Campaign c;
  c.id = "c";
  c.shop = "shop.example.com";
  c.link_format = pd::parse_link_format(c.link).value();
  if (set) {
    set(c);
  }
  return c;
}

const std::vector<std::pair<std::string, std::string>> kTea{{"TEA-SENCHA-100", "Tea"},
                                                            {"CUP-YUNOMI-BLU", "ceramics"}};

}  // namespace

struct EligibilityCase {
  std::string name;
  std::function<void(pd::Campaign&)> campaign;
  ps::Order order;
  pd::Day today;
  std::string not_eligible_because;  // "" when eligible
};

TEST(DiscountEligibility, EachRuleAndTheirCombinations) {
  const pd::Day today = date(2026, 11, 15);
  auto window = [](pd::Campaign& c) {
    c.starts = date(2026, 11, 1);
    c.ends = date(2026, 11, 30);
  };
  auto first = [](pd::Campaign& c) { c.eligibility = pd::Eligibility::first_order; };
  auto repeat = [](pd::Campaign& c) { c.eligibility = pd::Eligibility::repeat_customer; };
  auto min5000 = [](pd::Campaign& c) { c.min_order = pd::Money{5000'000000, "JPY"}; };
  auto min_usd = [](pd::Campaign& c) { c.min_order = pd::Money{49'990000, "USD"}; };
  auto tea_skus = [](pd::Campaign& c) { c.skus = {"TEA-*"}; };
  auto no_gift = [](pd::Campaign& c) { c.exclude_skus = {"GIFT-CARD"}; };
  auto tea_cat = [](pd::Campaign& c) { c.categories = {"tea"}; };
  auto no_gift_cat = [](pd::Campaign& c) { c.exclude_categories = {"gift-cards"}; };
  auto vip = [](pd::Campaign& c) { c.customer_tags = {"vip", "friends"}; };
  auto no_wholesale = [](pd::Campaign& c) { c.exclude_customer_tags = {"wholesale"}; };
  auto all_of = [](std::vector<std::function<void(pd::Campaign&)>> fs) {
    return [fs](pd::Campaign& c) {
      for (const auto& f : fs) {
        f(c);
      }
    };
  };

  const std::vector<EligibilityCase> cases{
      {"all orders", {}, order(std::nullopt, kTea), today, ""},
      {"before the start", window, order(true, kTea), date(2026, 10, 31), "starts on 2026-11-01"},
      {"on the first day", window, order(true, kTea), date(2026, 11, 1), ""},
      {"on the last day", window, order(true, kTea), date(2026, 11, 30), ""},
      {"after the end", window, order(true, kTea), date(2026, 12, 1), "ended on 2026-11-30"},
      {"first order: first", first, order(true, kTea), today, ""},
      {"first order: repeat", first, order(false, kTea), today, "not a first order"},
      {"first order: unknown", first, order(std::nullopt, kTea), today, "not known"},
      {"repeat: repeat", repeat, order(false, kTea), today, ""},
      {"repeat: first", repeat, order(true, kTea), today, "a first order"},
      {"repeat: unknown", repeat, order(std::nullopt, kTea), today, "not known"},
      {"minimum: equal", min5000, order(true, kTea, money("5000", "JPY")), today, ""},
      {"minimum: above, as a number", min5000, order(true, kTea, money(5400, "JPY")), today, ""},
      {"minimum: below", min5000, order(true, kTea, money("4999.99", "JPY")), today,
       "4999.99 JPY is below the minimum 5000"},
      {"minimum: other currency", min5000, order(true, kTea, money("9000", "USD")), today,
       "in USD, the minimum in JPY"},
      {"minimum: no total", min5000, order(true, kTea), today, "no total"},
      {"minimum: unreadable amount", min5000, order(true, kTea, money("5,400", "JPY")), today,
       "no total"},
      {"minimum: decimal number", min_usd, order(true, kTea, money(49.99, "USD")), today, ""},
      {"minimum: a cent short", min_usd, order(true, kTea, money(49.98, "USD")), today, "below"},
      {"SKU included", tea_skus, order(true, kTea), today, ""},
      {"SKU not included", tea_skus, order(true, {{"CUP-YUNOMI-BLU", ""}}), today,
       "no line has one of the SKUs TEA-*"},
      {"SKU excluded", no_gift, order(true, {{"TEA-SENCHA-100", ""}, {"GIFT-CARD", ""}}), today,
       "the SKU GIFT-CARD is excluded"},
      {"SKU not excluded", no_gift, order(true, kTea), today, ""},
      {"category included, any case", tea_cat, order(true, kTea), today, ""},
      {"category not included", tea_cat, order(true, {{"CUP-YUNOMI-BLU", "ceramics"}}), today,
       "no line is in one of the categories tea"},
      {"no categories at all", tea_cat, order(true, {{"CUP-YUNOMI-BLU", ""}}), today,
       "no line is in one of the categories"},
      {"category excluded", no_gift_cat,
       order(true, {{"TEA-SENCHA-100", "tea"}, {"GC-50", "Gift-Cards"}}), today,
       "the category Gift-Cards is excluded"},
      {"tag included, any case", vip, order(false, kTea, std::nullopt, {"VIP"}), today, ""},
      {"tag not included", vip, order(false, kTea, std::nullopt, {"newsletter"}), today,
       "none of the tags vip, friends"},
      {"no tags", vip, order(false, kTea), today, "none of the tags"},
      {"tag excluded", no_wholesale, order(false, kTea, std::nullopt, {"vip", "wholesale"}), today,
       "the customer tag wholesale is excluded"},
      {"tag not excluded", no_wholesale, order(false, kTea, std::nullopt, {"vip"}), today, ""},
      {"every rule met", all_of({window, first, min5000, tea_skus, no_gift, tea_cat, no_wholesale}),
       order(true, kTea, money("6000", "JPY"), {"vip"}), today, ""},
      {"every rule but the minimum", all_of({window, first, min5000, tea_skus, tea_cat}),
       order(true, kTea, money("100", "JPY")), today, "below the minimum"},
      {"every rule but the customer", all_of({window, first, min5000, tea_skus}),
       order(false, kTea, money("6000", "JPY")), today, "not a first order"},
      {"first order with an excluded SKU", all_of({first, no_gift}),
       order(true, {{"GIFT-CARD", ""}}), today, "GIFT-CARD is excluded"},
      {"repeat VIP after the end", all_of({window, repeat, vip}),
       order(false, kTea, std::nullopt, {"vip"}), date(2027, 1, 1), "ended"},
  };
  for (const auto& k : cases) {
    const pd::Campaign c = campaign(k.campaign);
    const auto why = pd::why_not_eligible(c, pd::order_facts(k.order), k.today);
    if (k.not_eligible_because.empty()) {
      EXPECT_FALSE(why) << k.name << ": " << why.value_or("");
    } else {
      ASSERT_TRUE(why) << k.name;
      EXPECT_NE(why->find(k.not_eligible_because), std::string::npos) << k.name << ": " << *why;
    }
    EXPECT_EQ(pd::choose_campaign({c}, k.order, k.today) != nullptr, k.not_eligible_because.empty())
        << k.name;
  }
}

TEST(DiscountEligibility, HighestPriorityWinsAndTiesGoToTheFirstDeclared) {
  const std::vector<pd::Campaign> campaigns{
      campaign([](pd::Campaign& c) { c.id = "everyone"; }),
      campaign([](pd::Campaign& c) {
        c.id = "welcome";
        c.eligibility = pd::Eligibility::first_order;
        c.priority = 10;
      }),
      campaign([](pd::Campaign& c) {
        c.id = "welcome-too";
        c.eligibility = pd::Eligibility::first_order;
        c.priority = 10;
      }),
      campaign([](pd::Campaign& c) {
        c.id = "vip";
        c.customer_tags = {"vip"};
        c.priority = 20;
        c.ends = date(2026, 6, 30);
      }),
      campaign([](pd::Campaign& c) {
        c.id = "no-one";
        c.skus = {"NOTHING"};
        c.priority = 100;
      }),
  };
  const pd::Day today = date(2026, 7, 1);
  EXPECT_EQ(pd::choose_campaign(campaigns, order(true, kTea), today)->id, "welcome");
  EXPECT_EQ(pd::choose_campaign(campaigns, order(false, kTea), today)->id, "everyone");
  EXPECT_EQ(pd::choose_campaign(campaigns, order(true, kTea, {}, {"vip"}), today)->id, "welcome");
  EXPECT_EQ(pd::choose_campaign(campaigns, order(true, kTea, {}, {"vip"}), date(2026, 6, 30))->id,
            "vip");
  const std::vector<pd::Campaign> none{campaigns[4]};
  EXPECT_EQ(pd::choose_campaign(none, order(true, kTea), today), nullptr);
  EXPECT_EQ(pd::choose_campaign({}, order(true, kTea), today), nullptr);
}

TEST(DiscountAmount, DecimalAmounts) {
  EXPECT_EQ(pd::parse_amount("5000"), 5000'000000);
  EXPECT_EQ(pd::parse_amount("49.99"), 49'990000);
  EXPECT_EQ(pd::parse_amount("0.000001"), 1);
  EXPECT_EQ(pd::parse_amount("999999999999.999999"), 999999999999'999999);
  for (const char* bad :
       {"", ".5", "5.", "-1", "1e3", "5,000", " 5", "1.0000001", "1234567890123", "¥5000"}) {
    EXPECT_FALSE(pd::parse_amount(bad)) << bad;
  }
}

TEST(DiscountConfig, ReadsEveryKey) {
  pt::TempDir dir;
  pt::write_file(dir / "discount.key", std::string(64, 'a') + "\n");
  ::chmod((dir / "discount.key").c_str(), 0600);
  const auto r = read(R"(
[discounts]
key_file = "discount.key"
station_number = 7

[[campaign]]
id = "winter-tea"
name = "Winter tea 2026"
starts = 2026-11-01
ends = "2026-12-31"
expiry_days = 60
shop = "shop.example.com"
link = "https://{shop}/discount/{code}?redirect={path}&utm_campaign={campaign}"
redirect = "/collections/tea"
eligibility = "first_order"
min_order = { amount = "3000", currency = "JPY" }
skus = ["TEA-*"]
exclude_skus = ["GIFT-CARD"]
categories = ["tea"]
exclude_categories = ["gift-cards"]
customer_tags = ["vip"]
exclude_customer_tags = ["wholesale"]
priority = 10
template = "discount-card"
source = "pool"
fallback = "signed"
code_prefix = "TEA"
low_water = 50

[campaign.wording.ja]
offer = "次回のご注文が10%オフ"

[campaign.wording.en]
offer = "10% off your next order"

[[campaign]]
id = "signed-thanks"
shop = "shop.example.com"
source = "signed"
code_prefix = "THX"
)",
                      dir.path());
  ASSERT_TRUE(r.problems.empty()) << r.all();
  EXPECT_EQ(r.config.settings.key_file, dir / "discount.key");
  EXPECT_EQ(r.config.settings.station_number, 7u);
  ASSERT_EQ(r.config.campaigns.size(), 2u);
  const auto& c = r.config.campaigns[0];
  EXPECT_EQ(c.id, "winter-tea");
  EXPECT_EQ(c.name, "Winter tea 2026");
  EXPECT_EQ(c.starts, date(2026, 11, 1));
  EXPECT_EQ(c.ends, date(2026, 12, 31));
  EXPECT_EQ(c.expiry_days, 60);
  EXPECT_EQ(c.redirect, "/collections/tea");
  EXPECT_EQ(c.eligibility, pd::Eligibility::first_order);
  ASSERT_TRUE(c.min_order);
  EXPECT_EQ(c.min_order->micros, 3000'000000);
  EXPECT_EQ(c.min_order->currency, "JPY");
  EXPECT_EQ(c.skus, std::vector<std::string>{"TEA-*"});
  EXPECT_EQ(c.exclude_skus, std::vector<std::string>{"GIFT-CARD"});
  EXPECT_EQ(c.categories, std::vector<std::string>{"tea"});
  EXPECT_EQ(c.exclude_categories, std::vector<std::string>{"gift-cards"});
  EXPECT_EQ(c.customer_tags, std::vector<std::string>{"vip"});
  EXPECT_EQ(c.exclude_customer_tags, std::vector<std::string>{"wholesale"});
  EXPECT_EQ(c.priority, 10);
  EXPECT_EQ(c.template_name, "discount-card");
  EXPECT_EQ(c.source, pd::CodeSource::pool);
  EXPECT_EQ(c.fallback, pd::Fallback::signed_code);
  EXPECT_EQ(c.code_prefix, "TEA");
  EXPECT_EQ(c.low_water, 50);
  EXPECT_EQ(c.wording_for("ja")->at("offer"), "次回のご注文が10%オフ");
  EXPECT_EQ(c.wording_for("ja-JP")->at("offer"), "次回のご注文が10%オフ");
  EXPECT_EQ(c.wording_for("fr")->at("offer"), "10% off your next order");
  EXPECT_EQ(c.link_for("TEA-1").value(),
            "https://shop.example.com/discount/TEA-1?redirect=%2Fcollections%2Ftea&utm_campaign="
            "winter-tea");
  const auto& s = r.config.campaigns[1];
  EXPECT_EQ(s.name, "signed-thanks");
  EXPECT_EQ(s.source, pd::CodeSource::signed_code);
  EXPECT_EQ(s.expiry_days, 30);
  EXPECT_EQ(s.redirect, "/");
  EXPECT_EQ(s.eligibility, pd::Eligibility::all);
  EXPECT_EQ(s.wording_for("en"), nullptr);
  EXPECT_EQ(s.link_for("THX-1").value(),
            "https://shop.example.com/discount/THX-1?redirect=%2F&utm_source=insert&utm_medium=qr"
            "&utm_campaign=signed-thanks");
}

TEST(DiscountConfig, NoCampaignsIsFine) {
  const auto r = read("[station]\nid = \"x\"\n");
  EXPECT_TRUE(r.problems.empty()) << r.all();
  EXPECT_TRUE(r.config.campaigns.empty());
}

// Each problem names file, line, column and key, as the rest of the configuration does.
TEST(DiscountConfig, ProblemsNameFileLineColumnAndKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\ncolour = \"red\"\n",
       "station.toml:4:1: campaign[0].colour: unknown key"},
      {"[[campaign]]\nshop = \"s.com\"\n",
       "station.toml:1:1: campaign[0].id: every campaign needs an id"},
      {"[[campaign]]\nid = \"a b\"\nshop = \"s.com\"\n",
       "station.toml:2:6: campaign[0].id: 'a b' must be 1 to 64"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\n[[campaign]]\nid = \"a\"\nshop = \"s.com\"\n",
       "station.toml:5:6: campaign[1].id: duplicate campaign id 'a' (already used by campaign[0])"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\neligibility = \"new\"\n",
       "station.toml:4:15: campaign[0].eligibility: 'new' is not one of all, first_order, "
       "repeat_customer"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nstarts = \"1 Nov\"\n",
       "station.toml:4:10: campaign[0].starts: must be a date such as 2026-11-01"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nstarts = 2026-12-01\nends = 2026-11-01\n",
       "station.toml:5:8: campaign[0].ends: ends (2026-11-01) is before starts (2026-12-01)"},
      {"[[campaign]]\nid = \"a\"\nshop = \"https://s.com\"\n",
       "station.toml:3:8: campaign[0].shop: 'https://s.com' is not a host name"},
      {"[[campaign]]\nid = \"a\"\n", "station.toml:1:1: campaign[0].shop: the link has {shop}"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nlink = \"https://{shop}/d/{coupon}\"\n",
       "station.toml:4:8: campaign[0].link: unknown placeholder {coupon}"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nredirect = \"/caf\\u00e9\"\nlink = "
       "\"https://{shop}/{code}/{path}\"\n",
       ""},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nexpiry_days = -1\n",
       "station.toml:4:15: campaign[0].expiry_days: must be from 0 to 3650, not -1"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nmin_order = { amount = \"5,000\", currency = "
       "\"yen\" }\n",
       "station.toml:4:24: campaign[0].min_order.amount: must be a decimal amount"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nmin_order = { amount = \"5000\", currency = "
       "\"yen\" }\n",
       "station.toml:4:43: campaign[0].min_order.currency: 'yen' is not an ISO 4217 code"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nmin_order = 5000\n",
       "station.toml:4:13: campaign[0].min_order: must be a table"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nskus = \"TEA\"\n",
       "station.toml:4:8: campaign[0].skus: must be an array of strings, not a string"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"shopify\"\n",
       "station.toml:4:10: campaign[0].source: 'shopify' is not one of pool, signed"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"signed\"\n",
       "station.toml:1:1: campaign[0].code_prefix: a campaign that signs codes needs code_prefix"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"signed\"\ncode_prefix = \"tea\"\n",
       "station.toml:5:15: campaign[0].code_prefix: 'tea' must be 1 to 8 upper-case letters"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"signed\"\ncode_prefix = \"TEA\"\n",
       "station.toml:1:1: discounts.key_file: campaign[0] signs codes: [discounts] needs key_file"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"signed\"\ncode_prefix = \"TEA\"\n",
       "station.toml:1:1: discounts.station_number: campaign[0] signs codes"},
      {"[discounts]\nkey_file = \"missing.key\"\nstation_number = 1\n[[campaign]]\nid = "
       "\"a\"\nshop = \"s.com\"\nsource = \"signed\"\ncode_prefix = \"TEA\"\n",
       "station.toml:2:12: discounts.key_file: no signing key file at /nonexistent/missing.key"},
      {"[discounts]\nstation_number = 4096\n",
       "station.toml:2:18: discounts.station_number: must be from 0 to 4095, not 4096"},
      {"[discounts]\nkey = \"x\"\n", "station.toml:2:1: discounts.key: unknown key"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\ncode_prefix = \"TEA\"\n",
       "station.toml:4:15: campaign[0].code_prefix: only signed codes have a prefix"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nsource = \"signed\"\ncode_prefix = "
       "\"TEA\"\nfallback = \"signed\"\n",
       "station.toml:6:12: campaign[0].fallback: only a pool campaign falls back"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\n[campaign.wording.en]\noffer = 10\n",
       "station.toml:5:9: campaign[0].wording.en.offer: must be a string, not an integer"},
      {"[[campaign]]\nid = \"a\"\nshop = \"s.com\"\nwording = \"10% off\"\n",
       "station.toml:4:11: campaign[0].wording: must be a table of locales"},
      {"campaign = \"x\"\n", "station.toml:1:12: campaign: must be an array of tables"},
  };
  for (const auto& [text, expected] : cases) {
    const auto r = read(text);
    if (expected.empty()) {
      EXPECT_TRUE(r.problems.empty()) << text << "\n" << r.all();
      continue;
    }
    EXPECT_TRUE(r.has(expected)) << text << "\nexpected: " << expected << "\ngot:\n" << r.all();
  }
}

TEST(DiscountConfig, ABadKeyFileIsFoundWhenTheConfigurationIsRead) {
  pt::TempDir dir;
  pt::write_file(dir / "short.key", "0011223344\n");
  const auto r = read(
      "[discounts]\nkey_file = \"short.key\"\nstation_number = 3\n[[campaign]]\nid = \"a\"\nshop "
      "= \"s.com\"\nfallback = \"signed\"\ncode_prefix = \"A1\"\n",
      dir.path());
  EXPECT_TRUE(r.has("discounts.key_file: the signing key file")) << r.all();
  EXPECT_TRUE(r.has("at least 16 bytes")) << r.all();
  EXPECT_FALSE(r.has("0011223344")) << r.all();
}

// Discount campaigns: which orders get a discount card, with which code and words.
//
//   [discounts]                        what every campaign shares
//   key_file = "discount.key"          signed codes: the HMAC key (see signed_code.hpp)
//   station_number = 7                 signed codes: this station's number, 0..4095
//
//   [[campaign]]
//   id = "winter-tea"
//   shop = "shop.example.com"
//   eligibility = "first_order"
//   ...
//   [campaign.wording.ja]
//   offer = "次回のご注文が10%オフ"
//
// docs/discounts.md lists every key; campaign_config.hpp reads them. This header holds no TOML
// and no configuration types, so that the configuration's own header can hold a DiscountConfig.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "station/discount/day.hpp"
#include "station/discount/link.hpp"
#include "station/orders/order.hpp"

namespace packbench::station::discount {

enum class Eligibility { all, first_order, repeat_customer };
enum class CodeSource { pool, signed_code };
enum class Fallback { none, signed_code };  // what an empty pool does

std::string_view to_string(Eligibility e);  // "all", "first_order", "repeat_customer"
std::string_view to_string(CodeSource s);   // "pool", "signed"
std::string_view to_string(Fallback f);     // "none", "signed"

// A sum of money: decimal amount in millionths of the unit, and its ISO 4217 currency.
struct Money {
  std::int64_t micros = 0;
  std::string currency;  // "JPY"
};

// "5000", "49.99", "0.5" (digits, at most one point, up to 6 decimals, up to 12 digits before
// it) -> millionths; anything else -> nullopt.
std::optional<std::int64_t> parse_amount(std::string_view text);

struct Campaign {
  std::string id;
  std::string name;           // default: the id
  std::optional<Day> starts;  // first day orders get it (inclusive); none: from the start
  std::optional<Day> ends;    // last day orders get it (inclusive); none: no end
  int expiry_days = 30;       // a code is valid through the day of issue + expiry_days
  // Words per locale ("ja", "en"), each a table of names to text ("offer", ...); templates see
  // them as discount.NAME.
  std::map<std::string, std::map<std::string, std::string>> wording;
  std::string shop;  // host of the shop's site: {shop}
  std::string link = std::string(kDefaultLinkFormat);
  std::string redirect = "/";  // {path}: where the shop goes once the code is applied
  LinkFormat link_format;      // `link`, checked (read_discount_config fills it)

  Eligibility eligibility = Eligibility::all;
  std::optional<Money> min_order;         // the order's "total" must be at least this
  std::vector<std::string> skus;          // some line has one of these SKUs ("TEA-*": prefix)
  std::vector<std::string> exclude_skus;  // no line has one of these
  std::vector<std::string> categories;    // some line's "category" is one of these
  std::vector<std::string> exclude_categories;
  std::vector<std::string> customer_tags;  // the customer has one of these "tags"
  std::vector<std::string> exclude_customer_tags;

  int priority = 0;  // the highest among eligible campaigns wins; ties: the first declared
  std::string template_name = "discount-card";
  CodeSource source = CodeSource::pool;
  std::string code_prefix;  // signed codes: 1-8 upper-case letters and digits
  Fallback fallback = Fallback::none;
  int low_water = 0;  // a pool with fewer codes left raises discount.pool.low
  // Pool campaigns with [discounts] pool_url: how many codes to claim from the back office at a
  // time once the pool is under low_water (or empty when low_water is 0); 0: never pulled.
  int refill = 0;

  // The words for `locale`, else English, else the first locale there is; nullptr when the
  // campaign has none.
  const std::map<std::string, std::string>* wording_for(std::string_view locale) const;
  // The campaign's link for `code`.
  Result<std::string> link_for(std::string_view code) const;
  // Whether a code of this campaign can be signed (source or fallback).
  bool may_sign() const {
    return source == CodeSource::signed_code || fallback == Fallback::signed_code;
  }
};

// [discounts] pool_url and the keys of its HTTP client: where pools are refilled from
// (pool_claims.hpp has the protocol). The same client keys as [orders] feed_url's, its own.
struct PoolPullSettings {
  std::string url;  // http:// or https://; empty: pools are only imported
  std::filesystem::path ca_file;
  std::filesystem::path bearer_token_file;
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{300000};  // also the wait after an answer with no codes
};

struct DiscountSettings {
  std::filesystem::path key_file;  // resolved against the configuration's folder
  std::optional<std::uint32_t> station_number;
  PoolPullSettings pull;
};

struct DiscountConfig {
  DiscountSettings settings;
  std::vector<Campaign> campaigns;
};

// What eligibility looks at in an order (its JSON document):
//   customer.first_order  true / false; absent: unknown, neither first nor repeat
//   total                 {"amount": "5400" (or a number), "currency": "JPY"}
//   lines[].sku, lines[].category, customer.tags (array of strings)
struct OrderFacts {
  std::optional<bool> first_order;
  std::optional<Money> total;
  std::vector<std::string> skus;
  std::vector<std::string> categories;
  std::vector<std::string> tags;
};
OrderFacts order_facts(const Order& order);

// nullopt when `campaign` applies to the order on `today`; else why not, in words.
std::optional<std::string> why_not_eligible(const Campaign& campaign, const OrderFacts& order,
                                            Day today);

// The eligible campaign with the highest priority (ties: the first declared), or nullptr.
const Campaign* choose_campaign(const std::vector<Campaign>& campaigns, const Order& order,
                                Day today);

}  // namespace packbench::station::discount

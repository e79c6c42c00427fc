#include "station/discount/campaign_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "station/config/toml_names.hpp"
#include "station/discount/signed_code.hpp"

namespace packbench::station::discount {
namespace {

constexpr int kMaxRefill = 100000;  // codes in one claim: an answer of a few MiB at most

// Campaign ids end up in event data, link parameters and log lines: the same plain names as
// station and device names.
bool is_plain_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// Reads the discount keys the way the configuration's own reader does: every problem noted with
// its position, the value left at its default.
class Reader {
 public:
  Reader(std::string source, std::vector<ConfigProblem>& problems)
      : source_(std::move(source)), problems_(problems) {}

  void problem(const toml::source_region& where, std::string key, std::string message) {
    problems_.push_back({source_, static_cast<int>(where.begin.line),
                         static_cast<int>(where.begin.column), std::move(key), std::move(message)});
  }

  void unknown_keys(const toml::table& t, const std::string& prefix,
                    std::initializer_list<std::string_view> allowed) {
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
        std::string known;
        for (auto a : allowed) {
          known += (known.empty() ? "" : ", ") + std::string(a);
        }
        problem(k.source(), prefix + "." + std::string(k.str()),
                "unknown key (known here: " + known + ")");
      }
    }
  }

  bool string(const toml::table& t, const std::string& prefix, std::string_view key,
              std::string& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return false;
    }
    if (!n->is_string()) {
      problem(n->source(), prefix + "." + std::string(key),
              "must be a string, not " + std::string(toml_type_name(*n)));
      return false;
    }
    dst = n->as_string()->get();
    return true;
  }

  template <class Int>
  void integer(const toml::table& t, const std::string& prefix, std::string_view key,
               std::int64_t min, std::int64_t max, Int& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = prefix + "." + std::string(key);
    if (!n->is_integer()) {
      problem(n->source(), k, "must be an integer, not " + std::string(toml_type_name(*n)));
      return;
    }
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      problem(n->source(), k, fmt::format("must be from {} to {}, not {}", min, max, v));
      return;
    }
    dst = static_cast<Int>(v);
  }

  void string_list(const toml::table& t, const std::string& prefix, std::string_view key,
                   std::vector<std::string>& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = prefix + "." + std::string(key);
    const auto* arr = n->as_array();
    if (!arr) {
      problem(n->source(), k,
              "must be an array of strings, not " + std::string(toml_type_name(*n)));
      return;
    }
    std::vector<std::string> values;
    for (const auto& item : *arr) {
      if (!item.is_string()) {
        problem(item.source(), k,
                "must hold only strings, not " + std::string(toml_type_name(item)));
        return;
      }
      if (item.as_string()->get().empty()) {
        problem(item.source(), k, "must not hold an empty string");
        return;
      }
      values.push_back(item.as_string()->get());
    }
    dst = std::move(values);
  }

  // A TOML local date (2026-11-01) or the same as a string.
  void day(const toml::table& t, const std::string& prefix, std::string_view key,
           std::optional<Day>& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = prefix + "." + std::string(key);
    if (const auto* d = n->as_date()) {
      const toml::date v = d->get();
      const std::chrono::year_month_day ymd{std::chrono::year(v.year), std::chrono::month(v.month),
                                            std::chrono::day(v.day)};
      if (ymd.ok()) {
        dst = Day(ymd);
        return;
      }
    } else if (const auto* s = n->as_string()) {
      if (auto parsed = parse_day(s->get())) {
        dst = *parsed;
        return;
      }
    }
    problem(n->source(), k, "must be a date such as 2026-11-01");
  }

  // One of `words`, stored as its index.
  template <class Enum>
  void choice(const toml::table& t, const std::string& prefix, std::string_view key,
              std::initializer_list<std::pair<std::string_view, Enum>> words, Enum& dst) {
    std::string value;
    if (!string(t, prefix, key, value)) {
      return;
    }
    std::string known;
    for (const auto& [word, e] : words) {
      if (word == value) {
        dst = e;
        return;
      }
      known += (known.empty() ? "" : ", ") + std::string(word);
    }
    problem(t.get(key)->source(), prefix + "." + std::string(key),
            "'" + value + "' is not one of " + known);
  }

 private:
  std::string source_;
  std::vector<ConfigProblem>& problems_;
};

bool is_currency(std::string_view s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Where the pool pull's keys were written, for the checks that need them all.
struct PullKeysAt {
  std::optional<toml::source_region> url, ca_file, bearer_token_file, timeout, retry_base,
      retry_cap;
};

// [discounts] pool_url and the keys of its client, read like [orders] feed_url's.
void read_pull_settings(Reader& r, const toml::table& t, const std::filesystem::path& base_dir,
                        PoolPullSettings& pull, PullKeysAt& at) {
  if (r.string(t, "discounts", "pool_url", pull.url)) {
    at.url = t.get("pool_url")->source();
  }
  auto path = [&](std::string_view key, std::filesystem::path& dst,
                  std::optional<toml::source_region>& where) {
    std::string value;
    if (!r.string(t, "discounts", key, value)) {
      return;
    }
    where = t.get(key)->source();
    if (value.empty()) {
      r.problem(*where, "discounts." + std::string(key), "must not be empty");
      return;
    }
    const std::filesystem::path p(value);
    dst = p.is_relative() ? (base_dir / p).lexically_normal() : p;
  };
  path("ca_file", pull.ca_file, at.ca_file);
  path("bearer_token_file", pull.bearer_token_file, at.bearer_token_file);
  auto millis = [&](std::string_view key, std::chrono::milliseconds& dst,
                    std::optional<toml::source_region>& where) {
    if (!t.get(key)) {
      return;
    }
    where = t.get(key)->source();
    std::int64_t v = dst.count();
    r.integer(t, "discounts", key, 1, 24LL * 3600 * 1000, v);
    dst = std::chrono::milliseconds(v);
  };
  millis("timeout_ms", pull.timeout, at.timeout);
  millis("retry_base_ms", pull.retry_base, at.retry_base);
  millis("retry_cap_ms", pull.retry_cap, at.retry_cap);
}

void check_pull_settings(
    Reader& r, const PoolPullSettings& pull, const PullKeysAt& at,
    const std::optional<std::pair<toml::source_region, std::string>>& first_refill) {
  if (pull.url.empty()) {
    const std::pair<const char*, const std::optional<toml::source_region>*> keys[] = {
        {"discounts.ca_file", &at.ca_file},
        {"discounts.bearer_token_file", &at.bearer_token_file},
        {"discounts.timeout_ms", &at.timeout},
        {"discounts.retry_base_ms", &at.retry_base},
        {"discounts.retry_cap_ms", &at.retry_cap}};
    for (const auto& [key, where] : keys) {
      if (*where) {
        r.problem(**where, key, "only used with discounts.pool_url");
      }
    }
    if (first_refill) {
      r.problem(first_refill->first, first_refill->second,
                "a campaign refilled from the back office needs [discounts] pool_url, where "
                "the codes are claimed");
    }
    return;
  }
  if (auto why = back_office_url_problem(pull.url, "discounts.bearer_token_file")) {
    r.problem(*at.url, "discounts.pool_url", *why);
  } else if (at.ca_file && !pull.url.starts_with("https://")) {
    r.problem(*at.ca_file, "discounts.ca_file", "only used with an https:// url");
  }
  if (at.ca_file && !pull.ca_file.empty()) {
    if (auto why = readable_file_problem(pull.ca_file)) {
      r.problem(*at.ca_file, "discounts.ca_file", *why);
    }
  }
  if (at.bearer_token_file && !pull.bearer_token_file.empty()) {
    if (auto why = readable_file_problem(pull.bearer_token_file)) {
      r.problem(*at.bearer_token_file, "discounts.bearer_token_file", *why);
    } else if (auto empty = token_file_problem(pull.bearer_token_file)) {
      r.problem(*at.bearer_token_file, "discounts.bearer_token_file", *empty);
    }
  }
  if (pull.retry_cap < pull.retry_base) {
    r.problem(at.retry_cap ? *at.retry_cap : *at.retry_base, "discounts.retry_cap_ms",
              "must not be below discounts.retry_base_ms");
  }
}

}  // namespace

DiscountConfig read_discount_config(const toml::table& root, const std::string& source_name,
                                    const std::filesystem::path& base_dir,
                                    std::vector<ConfigProblem>& problems) {
  DiscountConfig out;
  Reader r(source_name, problems);
  std::optional<toml::source_region> key_file_at;
  std::optional<toml::source_region> station_number_at;
  std::optional<toml::source_region> discounts_at;
  PullKeysAt pull_at;
  std::optional<std::pair<toml::source_region, std::string>> first_refill;  // where, and key

  if (const toml::node* n = root.get("discounts")) {
    discounts_at = n->source();
    if (const auto* t = n->as_table()) {
      r.unknown_keys(*t, "discounts",
                     {"key_file", "station_number", "pool_url", "ca_file", "bearer_token_file",
                      "timeout_ms", "retry_base_ms", "retry_cap_ms"});
      read_pull_settings(r, *t, base_dir, out.settings.pull, pull_at);
      std::string key_file;
      if (r.string(*t, "discounts", "key_file", key_file)) {
        key_file_at = t->get("key_file")->source();
        if (key_file.empty()) {
          r.problem(*key_file_at, "discounts.key_file", "must not be empty");
        } else {
          std::filesystem::path p(key_file);
          out.settings.key_file = p.is_relative() ? (base_dir / p).lexically_normal() : p;
        }
      }
      if (t->get("station_number")) {
        station_number_at = t->get("station_number")->source();
        std::uint32_t number = 0;
        const std::size_t before = problems.size();
        r.integer(*t, "discounts", "station_number", 0, kMaxStation, number);
        if (problems.size() == before) {
          out.settings.station_number = number;
        }
      }
    } else {
      r.problem(n->source(), "discounts",
                "must be a table ([discounts]), not " + std::string(toml_type_name(*n)));
    }
  }

  const toml::node* campaigns = root.get("campaign");
  if (campaigns && !campaigns->is_array()) {
    r.problem(campaigns->source(), "campaign", "must be an array of tables ([[campaign]])");
    return out;
  }
  const auto* arr = campaigns ? campaigns->as_array() : nullptr;
  std::map<std::string, std::string> ids;  // id -> key that declared it
  bool signs = false;
  std::optional<toml::source_region> first_signer_at;
  std::string first_signer;
  for (std::size_t i = 0; arr && i < arr->size(); ++i) {
    const std::string p = "campaign[" + std::to_string(i) + "]";
    const toml::node& item = (*arr)[i];
    if (!item.is_table()) {
      r.problem(item.source(), p, "must be a table");
      continue;
    }
    const toml::table& t = *item.as_table();
    Campaign c;
    r.unknown_keys(t, p,
                   {"id",
                    "name",
                    "starts",
                    "ends",
                    "expiry_days",
                    "wording",
                    "shop",
                    "link",
                    "redirect",
                    "eligibility",
                    "min_order",
                    "skus",
                    "exclude_skus",
                    "categories",
                    "exclude_categories",
                    "customer_tags",
                    "exclude_customer_tags",
                    "priority",
                    "template",
                    "source",
                    "code_prefix",
                    "fallback",
                    "low_water",
                    "refill"});
    if (!r.string(t, p, "id", c.id)) {
      if (!t.get("id")) {
        r.problem(t.source(), p + ".id", "every campaign needs an id");
      }
    } else if (!is_plain_name(c.id)) {
      r.problem(t.get("id")->source(), p + ".id",
                "'" + c.id + "' must be 1 to 64 letters, digits, '-', '_' or '.'");
    } else if (auto [it, inserted] = ids.emplace(c.id, p); !inserted) {
      r.problem(t.get("id")->source(), p + ".id",
                "duplicate campaign id '" + c.id + "' (already used by " + it->second + ")");
    }
    r.string(t, p, "name", c.name);
    if (c.name.empty()) {
      c.name = c.id;
    }
    r.day(t, p, "starts", c.starts);
    r.day(t, p, "ends", c.ends);
    if (c.starts && c.ends && *c.ends < *c.starts) {
      r.problem(
          t.get("ends")->source(), p + ".ends",
          "ends (" + format_day(*c.ends) + ") is before starts (" + format_day(*c.starts) + ")");
    }
    r.integer(t, p, "expiry_days", 0, 3650, c.expiry_days);

    if (const toml::node* w = t.get("wording")) {
      if (const auto* wt = w->as_table()) {
        for (auto&& [locale, texts] : *wt) {
          const std::string lp = p + ".wording." + std::string(locale.str());
          const auto* tt = texts.as_table();
          if (!tt) {
            r.problem(
                texts.source(), lp,
                "must be a table of texts ([campaign.wording." + std::string(locale.str()) + "])");
            continue;
          }
          auto& words = c.wording[std::string(locale.str())];
          for (auto&& [name, text] : *tt) {
            if (!text.is_string()) {
              r.problem(text.source(), lp + "." + std::string(name.str()),
                        "must be a string, not " + std::string(toml_type_name(text)));
              continue;
            }
            words[std::string(name.str())] = text.as_string()->get();
          }
        }
      } else {
        r.problem(w->source(), p + ".wording",
                  "must be a table of locales ([campaign.wording.en], [campaign.wording.ja])");
      }
    }

    const bool has_shop = r.string(t, p, "shop", c.shop);
    r.string(t, p, "link", c.link);
    r.string(t, p, "redirect", c.redirect);
    auto link = parse_link_format(c.link);
    const toml::source_region link_at = t.get("link") ? t.get("link")->source() : t.source();
    if (!link) {
      r.problem(link_at, p + ".link", link.error().message);
    } else {
      c.link_format = std::move(*link);
      const bool wants_shop =
          std::any_of(c.link_format.pieces.begin(), c.link_format.pieces.end(),
                      [](const LinkFormat::Piece& pc) { return pc.placeholder == "shop"; });
      if (wants_shop && !has_shop) {
        r.problem(t.source(), p + ".shop",
                  "the link has {shop}: the campaign needs shop = \"shop.example.com\"");
      } else if (wants_shop && !is_valid_shop_host(c.shop)) {
        r.problem(t.get("shop")->source(), p + ".shop",
                  "'" + c.shop +
                      "' is not a host name: letters, digits, hyphens and dots, optionally "
                      ":port (no https://, no spaces or slashes)");
      } else if (auto sample = c.link_for("CODE"); !sample) {
        r.problem(t.get("redirect") ? t.get("redirect")->source() : link_at, p + ".redirect",
                  sample.error().message);
      }
    }

    r.choice<Eligibility>(t, p, "eligibility",
                          {{"all", Eligibility::all},
                           {"first_order", Eligibility::first_order},
                           {"repeat_customer", Eligibility::repeat_customer}},
                          c.eligibility);
    if (const toml::node* m = t.get("min_order")) {
      const std::string mp = p + ".min_order";
      const auto* mt = m->as_table();
      if (!mt) {
        r.problem(m->source(), mp,
                  "must be a table: min_order = { amount = \"5000\", currency = \"JPY\" }");
      } else {
        r.unknown_keys(*mt, mp, {"amount", "currency"});
        Money money;
        bool ok = true;
        const toml::node* amount = mt->get("amount");
        if (!amount) {
          r.problem(m->source(), mp + ".amount", "missing: the least order total, \"5000\"");
          ok = false;
        } else {
          std::optional<std::int64_t> v;
          if (amount->is_string()) {
            v = parse_amount(amount->as_string()->get());
          } else if (amount->is_integer() && amount->as_integer()->get() >= 0) {
            v = parse_amount(std::to_string(amount->as_integer()->get()));
          }
          if (!v) {
            r.problem(amount->source(), mp + ".amount",
                      "must be a decimal amount such as \"5000\" or \"49.99\" (up to 6 decimals)");
            ok = false;
          } else {
            money.micros = *v;
          }
        }
        if (!r.string(*mt, mp, "currency", money.currency)) {
          if (!mt->get("currency")) {
            r.problem(m->source(), mp + ".currency", "missing: an ISO 4217 code such as \"JPY\"");
          }
          ok = false;
        } else if (!is_currency(money.currency)) {
          r.problem(mt->get("currency")->source(), mp + ".currency",
                    "'" + money.currency + "' is not an ISO 4217 code such as JPY, USD, EUR");
          ok = false;
        }
        if (ok) {
          c.min_order = std::move(money);
        }
      }
    }
    r.string_list(t, p, "skus", c.skus);
    r.string_list(t, p, "exclude_skus", c.exclude_skus);
    r.string_list(t, p, "categories", c.categories);
    r.string_list(t, p, "exclude_categories", c.exclude_categories);
    r.string_list(t, p, "customer_tags", c.customer_tags);
    r.string_list(t, p, "exclude_customer_tags", c.exclude_customer_tags);
    r.integer(t, p, "priority", -1000000, 1000000, c.priority);
    if (r.string(t, p, "template", c.template_name) && c.template_name.empty()) {
      r.problem(t.get("template")->source(), p + ".template", "must not be empty");
    }
    r.choice<CodeSource>(t, p, "source",
                         {{"pool", CodeSource::pool}, {"signed", CodeSource::signed_code}},
                         c.source);
    r.choice<Fallback>(t, p, "fallback",
                       {{"none", Fallback::none}, {"signed", Fallback::signed_code}}, c.fallback);
    if (c.source == CodeSource::signed_code && t.get("fallback")) {
      r.problem(t.get("fallback")->source(), p + ".fallback",
                "only a pool campaign falls back; a signed campaign never runs empty");
    }
    r.integer(t, p, "low_water", 0, 100000000, c.low_water);
    if (c.source == CodeSource::signed_code && t.get("low_water")) {
      r.problem(t.get("low_water")->source(), p + ".low_water",
                "only a pool campaign has a low-water mark");
    }
    r.integer(t, p, "refill", 0, kMaxRefill, c.refill);
    if (c.source == CodeSource::signed_code && t.get("refill")) {
      r.problem(t.get("refill")->source(), p + ".refill",
                "only a pool campaign is refilled from the back office");
    } else if (c.refill > 0 && !first_refill) {
      first_refill.emplace(t.get("refill")->source(), p + ".refill");
    }
    const bool has_prefix = r.string(t, p, "code_prefix", c.code_prefix);
    if (c.may_sign()) {
      if (!has_prefix) {
        r.problem(t.source(), p + ".code_prefix",
                  "a campaign that signs codes needs code_prefix (1 to 8 letters and digits)");
      } else if (!is_valid_prefix(c.code_prefix)) {
        r.problem(t.get("code_prefix")->source(), p + ".code_prefix",
                  "'" + c.code_prefix + "' must be 1 to 8 upper-case letters A-Z and digits");
      }
      if (!signs) {
        signs = true;
        first_signer_at = t.source();
        first_signer = p;
      }
    } else if (has_prefix) {
      r.problem(t.get("code_prefix")->source(), p + ".code_prefix",
                "only signed codes have a prefix: set source = \"signed\" or fallback = "
                "\"signed\", or remove it");
    }
    out.campaigns.push_back(std::move(c));
  }

  check_pull_settings(r, out.settings.pull, pull_at, first_refill);

  // Signing needs the key and the station's number, read once here so a bad key file is found
  // by --check-config, not by the first order.
  if (signs) {
    const toml::source_region at = discounts_at.value_or(*first_signer_at);
    if (out.settings.key_file.empty()) {
      if (!key_file_at) {
        r.problem(at, "discounts.key_file",
                  first_signer + " signs codes: [discounts] needs key_file, the file of the key");
      }
    } else if (auto key = load_signing_key(out.settings.key_file); !key) {
      r.problem(*key_file_at, "discounts.key_file", key.error().message);
    }
    if (!out.settings.station_number && !station_number_at) {
      r.problem(at, "discounts.station_number",
                first_signer +
                    " signs codes: [discounts] needs station_number (0 to 4095), unique among the "
                    "stations that share the key");
    }
  }
  return out;
}

}  // namespace packbench::station::discount

#include "station/config/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "packbench/drivers/endpoint.hpp"
#include "packbench/drivers/printer.hpp"
#include "packbench/drivers/scanner.hpp"
#include "packbench/labels/template.hpp"
#include "station/config/toml_names.hpp"
#include "station/discount/campaign_config.hpp"
#include "station/outbox/webhook_signature.hpp"

namespace packbench::station {

std::string ConfigProblem::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) {
      out += ":" + std::to_string(column);
    }
  }
  out += ": ";
  if (!key.empty()) {
    out += key + ": ";
  }
  return out + message;
}

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "station";
  }
  return buf;
}

// Station, site and device names end up in event sources, topics, file names and log lines.
bool is_plain_name(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

class Reader {
 public:
  Reader(LoadedConfig& out, std::filesystem::path base_dir)
      : out_(out), cfg_(out.config), base_(std::move(base_dir)) {}

  void read(const toml::table& root) {
    unknown_keys(root, "",
                 {"station", "ui", "orders", "scanner", "printer", "sync", "outbox", "pack", "log",
                  "discounts", "campaign", "inserts", "shipping"});
    cfg_.discounts = discount::read_discount_config(root, cfg_.source_name, base_, out_.problems);
    if (const auto* t = table(root, "station")) {
      unknown_keys(*t, "station", {"id", "site", "state_dir"});
      string(*t, "station", "id", cfg_.station.id);
      string(*t, "station", "site", cfg_.station.site);
      path(*t, "station", "state_dir", cfg_.station.state_dir);
    }
    if (const auto* t = table(root, "ui")) {
      unknown_keys(*t, "ui", {"listen", "locale"});
      string(*t, "ui", "listen", cfg_.ui.listen);
      string(*t, "ui", "locale", cfg_.ui.locale);
    }
    if (const auto* t = table(root, "orders")) {
      auto& o = cfg_.orders;
      unknown_keys(*t, "orders",
                   {"file", "feed_url", "ca_file", "bearer_token_file", "poll_interval_s",
                    "timeout_ms", "retry_base_ms", "retry_cap_ms", "page_limit", "page_max_bytes"});
      path(*t, "orders", "file", o.file);
      string(*t, "orders", "feed_url", o.feed_url);
      path(*t, "orders", "ca_file", o.ca_file);
      path(*t, "orders", "bearer_token_file", o.bearer_token_file);
      std::int64_t poll_s = o.poll_interval.count() / 1000;
      integer(*t, "orders", "poll_interval_s", 1, 24 * 3600, poll_s);
      o.poll_interval = std::chrono::milliseconds(poll_s * 1000);
      millis(*t, "orders", "timeout_ms", o.timeout);
      millis(*t, "orders", "retry_base_ms", o.retry_base);
      millis(*t, "orders", "retry_cap_ms", o.retry_cap);
      integer(*t, "orders", "page_limit", 1, 10000, o.page_limit);
      integer(*t, "orders", "page_max_bytes", 1024, std::int64_t{256} << 20, o.page_max_bytes);
    }
    for_each_table(root, "scanner", [&](const toml::table& t, const std::string& p) {
      ScannerConfig s;
      unknown_keys(t, p,
                   {"name",
                    "type",
                    "address",
                    "device",
                    "terminator",
                    "prefix",
                    "suffix",
                    "max_line_bytes",
                    "max_scans_per_second",
                    "line_timeout_ms",
                    "baud",
                    "parity",
                    "data_bits",
                    "stop_bits",
                    "flow_control",
                    "retry_base_ms",
                    "retry_cap_ms",
                    "connect_timeout_ms",
                    "layout",
                    "grab",
                    "gs_key"});
      string(t, p, "name", s.name);
      string(t, p, "type", s.type);
      string(t, p, "address", s.address);
      path(t, p, "device", s.device);
      string(t, p, "terminator", s.terminator);
      string(t, p, "prefix", s.prefix);
      string(t, p, "suffix", s.suffix);
      integer(t, p, "max_line_bytes", 16, 1 << 20, s.max_line_bytes);
      integer(t, p, "max_scans_per_second", 1, 10000, s.max_scans_per_second);
      millis(t, p, "line_timeout_ms", s.line_timeout);
      integer(t, p, "baud", 1, 4000000, s.baud);  // validate() names the rates it can set
      string(t, p, "parity", s.parity);
      integer(t, p, "data_bits", 7, 8, s.data_bits);
      integer(t, p, "stop_bits", 1, 2, s.stop_bits);
      string(t, p, "flow_control", s.flow_control);
      millis(t, p, "retry_base_ms", s.retry_base);
      millis(t, p, "retry_cap_ms", s.retry_cap);
      millis(t, p, "connect_timeout_ms", s.connect_timeout);
      string(t, p, "layout", s.layout);
      if (const toml::node* n = t.get("grab")) {
        // The one boolean among the device keys.
        const std::string k = p + ".grab";
        note(k, n->source());
        if (n->is_boolean()) {
          s.grab = n->as_boolean()->get();
        } else {
          problem(n->source(), k, "must be true or false, not " + std::string(toml_type_name(*n)));
        }
      }
      string(t, p, "gs_key", s.gs_key);
      cfg_.scanners.push_back(std::move(s));
    });
    for_each_table(root, "printer", [&](const toml::table& t, const std::string& p) {
      PrinterConfig pr;
      unknown_keys(t, p,
                   {"name", "type", "address", "directory", "profile", "dpi", "width_mm",
                    "height_mm", "language", "zpl_compression", "native_text", "native_qr", "cut",
                    "format", "roles", "timeout_ms", "status_interval_s", "status_timeout_ms"});
      string(t, p, "name", pr.name);
      string(t, p, "type", pr.type);
      string(t, p, "address", pr.address);
      path(t, p, "directory", pr.directory);
      string(t, p, "profile", pr.profile_name);
      auto& k = pr.profile_keys;
      optional_string(t, p, "language", k.language);
      if (t.get("dpi")) {
        std::int64_t dpi = 0;
        integer(t, p, "dpi", std::numeric_limits<std::int64_t>::min(),
                std::numeric_limits<std::int64_t>::max(), dpi);
        k.dpi = dpi;
      }
      optional_number(t, p, "width_mm", k.width_mm);
      optional_number(t, p, "height_mm", k.height_mm);
      optional_string(t, p, "zpl_compression", k.zpl_compression);
      optional_boolean(t, p, "native_text", k.native_text);
      optional_boolean(t, p, "native_qr", k.native_qr);
      optional_string(t, p, "cut", k.cut);
      string(t, p, "format", pr.format);
      string_list(t, p, "roles", pr.roles);
      millis(t, p, "timeout_ms", pr.timeout);
      std::int64_t interval_s = pr.status_interval.count() / 1000;
      integer(t, p, "status_interval_s", 0, 3600, interval_s);
      pr.status_interval = std::chrono::milliseconds(interval_s * 1000);
      std::int64_t status_timeout = pr.status_timeout.count();
      integer(t, p, "status_timeout_ms", 100, 60000, status_timeout);
      pr.status_timeout = std::chrono::milliseconds(status_timeout);
      printer_profile(t, p, pr);
      cfg_.printers.push_back(std::move(pr));
    });
    if (const auto* t = table(root, "shipping")) {
      auto& sh = cfg_.shipping;
      unknown_keys(*t, "shipping",
                   {"template", "gs1_company_prefix", "sscc_extension", "sscc_serial_prefix"});
      string(*t, "shipping", "template", sh.template_name);
      if (sh.template_name.find('/') != std::string::npos || sh.template_name.ends_with(".toml")) {
        sh.template_file = base_ / sh.template_name;
      }
      string(*t, "shipping", "gs1_company_prefix", sh.gs1_company_prefix);
      integer(*t, "shipping", "sscc_extension", 0, 9, sh.sscc_extension);
      string(*t, "shipping", "sscc_serial_prefix", sh.sscc_serial_prefix);
    }
    if (const auto* t = table(root, "inserts")) {
      auto& in = cfg_.inserts;
      unknown_keys(*t, "inserts", {"template", "shop_name", "review_url", "tip"});
      string(*t, "inserts", "template", in.template_name);
      if (in.template_name.find('/') != std::string::npos || in.template_name.ends_with(".toml")) {
        in.template_file = base_ / in.template_name;
      }
      string(*t, "inserts", "shop_name", in.shop_name);
      string(*t, "inserts", "review_url", in.review_url);
      for_each_table(
          *t, "tip",
          [&](const toml::table& tt, const std::string& p) {
            InsertTip tip;
            unknown_keys(tt, p, {"skus", "categories", "text", "url"});
            string_list(tt, p, "skus", tip.skus);
            string_list(tt, p, "categories", tip.categories);
            string(tt, p, "url", tip.url);
            if (const toml::node* n = tt.get("text")) {
              note(p + ".text", n->source());
              if (const auto* words = n->as_table()) {
                for (auto&& [locale, v] : *words) {
                  const std::string k = p + ".text." + std::string(locale.str());
                  note(k, v.source());
                  if (v.is_string() && !v.as_string()->get().empty()) {
                    tip.text[std::string(locale.str())] = v.as_string()->get();
                  } else {
                    problem(v.source(), k, "must be a non-empty string");
                  }
                }
              } else {
                problem(n->source(), p + ".text",
                        "must be a table of locale = \"words\", not " +
                            std::string(toml_type_name(*n)));
              }
            }
            in.tips.push_back(std::move(tip));
          },
          "inserts");
    }
    if (const auto* t = table(root, "sync")) {
      unknown_keys(*t, "sync",
                   {"transport", "url", "ca_file", "bearer_token_file", "signing_secret_file",
                    "timeout_ms", "retry_base_ms", "retry_cap_ms", "retry_after_max_ms",
                    "batch_max_events", "batch_max_bytes", "mqtt"});
      string(*t, "sync", "transport", cfg_.sync.transport);
      string(*t, "sync", "url", cfg_.sync.url);
      path(*t, "sync", "ca_file", cfg_.sync.ca_file);
      path(*t, "sync", "bearer_token_file", cfg_.sync.bearer_token_file);
      path(*t, "sync", "signing_secret_file", cfg_.sync.signing_secret_file);
      millis(*t, "sync", "timeout_ms", cfg_.sync.timeout);
      millis(*t, "sync", "retry_base_ms", cfg_.sync.retry_base);
      millis(*t, "sync", "retry_cap_ms", cfg_.sync.retry_cap);
      millis(*t, "sync", "retry_after_max_ms", cfg_.sync.retry_after_max);
      integer(*t, "sync", "batch_max_events", 1, 100000, cfg_.sync.batch_max_events);
      integer(*t, "sync", "batch_max_bytes", 1024, 64 << 20, cfg_.sync.batch_max_bytes);
      if (const toml::node* n = t->get("mqtt")) {
        note("sync.mqtt", n->source());
        if (!n->is_table()) {
          problem(n->source(), "sync.mqtt",
                  "must be a table ([sync.mqtt]), not " + std::string(toml_type_name(*n)));
        } else {
          const toml::table& m = *n->as_table();
          auto& mq = cfg_.sync.mqtt;
          unknown_keys(m, "sync.mqtt",
                       {"client_id", "username", "password_file", "keep_alive_s", "max_in_flight",
                        "pin_client_threads"});
          string(m, "sync.mqtt", "client_id", mq.client_id);
          string(m, "sync.mqtt", "username", mq.username);
          path(m, "sync.mqtt", "password_file", mq.password_file);
          std::int64_t keep_alive = mq.keep_alive.count();
          integer(m, "sync.mqtt", "keep_alive_s", 0, 65535, keep_alive);
          mq.keep_alive = std::chrono::seconds(keep_alive);
          integer(m, "sync.mqtt", "max_in_flight", 1, 65535, mq.max_in_flight);
          boolean(m, "sync.mqtt", "pin_client_threads", mq.pin_client_threads);
        }
      }
    }
    if (const auto* t = table(root, "outbox")) {
      auto& ob = cfg_.outbox;
      unknown_keys(*t, "outbox", {"max_bytes", "bulk_max_bytes", "business_ttl_s", "bulk_ttl_s"});
      constexpr std::int64_t kMaxCap = std::int64_t{1} << 40;
      integer(*t, "outbox", "max_bytes", 1024, kMaxCap, ob.max_bytes);
      if (!t->get("bulk_max_bytes")) {
        ob.bulk_max_bytes = ob.max_bytes / 2;
      }
      integer(*t, "outbox", "bulk_max_bytes", 0, kMaxCap, ob.bulk_max_bytes);
      seconds(*t, "outbox", "business_ttl_s", ob.business_ttl);
      seconds(*t, "outbox", "bulk_ttl_s", ob.bulk_ttl);
    }
    if (const auto* t = table(root, "pack")) {
      auto& pk = cfg_.pack;
      unknown_keys(
          *t, "pack",
          {"packer_badge_prefix", "command_prefix", "quantity_prefix", "pin_prefix",
           "reason_prefix", "reason_codes", "require_packer", "max_quantity", "supervisor"});
      string(*t, "pack", "packer_badge_prefix", pk.packer_badge_prefix);
      string(*t, "pack", "command_prefix", pk.command_prefix);
      string(*t, "pack", "quantity_prefix", pk.quantity_prefix);
      string(*t, "pack", "pin_prefix", pk.pin_prefix);
      string(*t, "pack", "reason_prefix", pk.reason_prefix);
      string_list(*t, "pack", "reason_codes", pk.reason_codes);
      boolean(*t, "pack", "require_packer", pk.require_packer);
      integer(*t, "pack", "max_quantity", 1, 100000, pk.max_quantity);
      for_each_table(*t, "supervisor", [&](const toml::table& st, const std::string& p0) {
        const std::string p = "pack." + p0;
        Supervisor sv;
        unknown_keys(st, p, {"id", "badge", "pin_sha256"});
        string(st, p, "id", sv.id);
        string(st, p, "badge", sv.badge);
        string(st, p, "pin_sha256", sv.pin_sha256);
        note(p, st.source());
        pk.supervisors.push_back(std::move(sv));
      });
    }
    if (const auto* t = table(root, "log")) {
      unknown_keys(*t, "log", {"level"});
      string(*t, "log", "level", cfg_.log.level);
    }
  }

 private:
  static std::string join(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  }

  void problem(const toml::source_region& where, std::string key, std::string message) {
    out_.problems.push_back({cfg_.source_name, static_cast<int>(where.begin.line),
                             static_cast<int>(where.begin.column), std::move(key),
                             std::move(message)});
  }

  void note(const std::string& key, const toml::source_region& where) {
    cfg_.positions[key] = {static_cast<int>(where.begin.line),
                           static_cast<int>(where.begin.column)};
  }

  void unknown_keys(const toml::table& t, const std::string& prefix,
                    std::initializer_list<std::string_view> allowed) {
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
        std::string known;
        for (auto a : allowed) {
          known += (known.empty() ? "" : ", ") + std::string(a);
        }
        problem(k.source(), join(prefix, k.str()), "unknown key (known here: " + known + ")");
      }
    }
  }

  const toml::table* table(const toml::table& root, std::string_view key) {
    const toml::node* n = root.get(key);
    if (!n) {
      return nullptr;
    }
    note(std::string(key), n->source());
    if (!n->is_table()) {
      problem(
          n->source(), std::string(key),
          "must be a table ([" + std::string(key) + "]), not " + std::string(toml_type_name(*n)));
      return nullptr;
    }
    return n->as_table();
  }

  template <class Fn>
  void for_each_table(const toml::table& root, std::string_view key, Fn&& fn,
                      const std::string& prefix = "") {
    const toml::node* n = root.get(key);
    if (!n) {
      return;
    }
    const auto* arr = n->as_array();
    if (!arr) {
      problem(n->source(), join(prefix, key),
              "must be an array of tables ([[" + join(prefix, key) + "]])");
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string p = join(prefix, key) + "[" + std::to_string(i) + "]";
      const toml::node& item = (*arr)[i];
      note(p, item.source());
      if (!item.is_table()) {
        problem(item.source(), p, "must be a table");
        continue;
      }
      fn(*item.as_table(), p);
    }
  }

  bool string(const toml::table& t, const std::string& prefix, std::string_view key,
              std::string& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return false;
    }
    const std::string k = join(prefix, key);
    note(k, n->source());
    if (!n->is_string()) {
      problem(n->source(), k, "must be a string, not " + std::string(toml_type_name(*n)));
      return false;
    }
    dst = n->as_string()->get();
    return true;
  }

  void path(const toml::table& t, const std::string& prefix, std::string_view key,
            std::filesystem::path& dst) {
    std::string s;
    if (string(t, prefix, key, s)) {
      if (s.empty()) {
        problem(t.get(key)->source(), join(prefix, key), "must not be empty");
        return;
      }
      std::filesystem::path p(s);
      dst = p.is_absolute() ? p : (base_ / p).lexically_normal();
    }
  }

  void boolean(const toml::table& t, const std::string& prefix, std::string_view key, bool& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = join(prefix, key);
    note(k, n->source());
    if (!n->is_boolean()) {
      problem(n->source(), k, "must be true or false, not " + std::string(toml_type_name(*n)));
      return;
    }
    dst = n->as_boolean()->get();
  }

  // A key that is either given or not (a printer's profile keys): its type is checked here,
  // its value by the labels library.
  void optional_string(const toml::table& t, const std::string& prefix, std::string_view key,
                       std::optional<std::string>& dst) {
    std::string v;
    if (string(t, prefix, key, v)) {
      dst = std::move(v);
    }
  }

  void optional_boolean(const toml::table& t, const std::string& prefix, std::string_view key,
                        std::optional<bool>& dst) {
    if (!t.get(key)) {
      return;
    }
    bool v = false;
    if (t.get(key)->is_boolean()) {
      boolean(t, prefix, key, v);
      dst = v;
    } else {
      boolean(t, prefix, key, v);  // reports the type
    }
  }

  void optional_number(const toml::table& t, const std::string& prefix, std::string_view key,
                       std::optional<double>& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = join(prefix, key);
    note(k, n->source());
    if (!n->is_integer() && !n->is_floating_point()) {
      problem(n->source(), k, "must be a number, not " + std::string(toml_type_name(*n)));
      return;
    }
    dst = *n->value<double>();
  }

  // The printer's profile: the built-in or the file `profile` names (zpl-203 without one), then
  // the [[printer]]'s own profile keys over it. A profile file's problems carry its own name,
  // line and key; a key's problem here, the key's place in this file.
  void printer_profile(const toml::table& t, const std::string& p, PrinterConfig& pr) {
    labels::PrinterProfile base = pr.profile;
    const std::string& name = pr.profile_name;
    const toml::node* named = t.get("profile");
    if (!name.empty()) {
      if (auto builtin = labels::builtin_profile(name)) {
        base = std::move(*builtin);
      } else if (name.find('/') != std::string::npos || name.ends_with(".toml")) {
        pr.profile_file = (base_ / name).lexically_normal();
        std::ifstream in(pr.profile_file, std::ios::binary);
        if (!in) {
          problem(named->source(), p + ".profile", "cannot read " + pr.profile_file.string());
          return;
        }
        std::ostringstream text;
        text << in.rdbuf();
        auto parsed = labels::parse_profile(text.str(), pr.profile_file.string());
        for (auto& pp : parsed.problems) {
          out_.problems.push_back(
              {pp.source, pp.line, pp.column, pp.key, pp.message + " (the profile of " + p + ")"});
        }
        if (!parsed) {
          return;
        }
        base = std::move(*parsed.value);
      } else {
        std::string names;
        for (const auto& n : labels::builtin_profile_names()) {
          names += (names.empty() ? "" : ", ") + n;
        }
        problem(named->source(), p + ".profile",
                "'" + name + "' is no built-in profile (" + names +
                    ") and no profile file (a file name ends in .toml)");
        return;
      }
    }
    auto applied = labels::apply_profile_settings(base, pr.profile_keys, cfg_.source_name);
    for (auto& pp : applied.problems) {
      const toml::node* n = t.get(pp.key);
      problem(n ? n->source() : t.source(), p + "." + pp.key, pp.message);
    }
    if (applied) {
      pr.profile = std::move(*applied.value);
    }
  }

  template <class Int>
  void integer(const toml::table& t, const std::string& prefix, std::string_view key,
               std::int64_t min, std::int64_t max, Int& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = join(prefix, key);
    note(k, n->source());
    if (!n->is_integer()) {
      problem(n->source(), k, "must be an integer, not " + std::string(toml_type_name(*n)));
      return;
    }
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      problem(n->source(), k,
              "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", not " +
                  std::to_string(v));
      return;
    }
    dst = static_cast<Int>(v);
  }

  void millis(const toml::table& t, const std::string& prefix, std::string_view key,
              std::chrono::milliseconds& dst) {
    std::int64_t v = dst.count();
    integer(t, prefix, key, 1, 24LL * 3600 * 1000, v);
    dst = std::chrono::milliseconds(v);
  }

  // A duration in whole seconds, up to a year; absent leaves `dst` as it is.
  void seconds(const toml::table& t, const std::string& prefix, std::string_view key,
               std::optional<std::chrono::milliseconds>& dst) {
    std::int64_t v = -1;
    integer(t, prefix, key, 1, 366LL * 24 * 3600, v);
    if (v > 0) {
      dst = std::chrono::milliseconds(v * 1000);
    }
  }

  void string_list(const toml::table& t, const std::string& prefix, std::string_view key,
                   std::vector<std::string>& dst) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    const std::string k = join(prefix, key);
    note(k, n->source());
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
      values.push_back(item.as_string()->get());
    }
    dst = std::move(values);
  }

  LoadedConfig& out_;
  Config& cfg_;
  std::filesystem::path base_;
};

}  // namespace

drivers::ScannerOptions ScannerConfig::to_options() const {
  // Words that validate() would reject keep the driver's default; a configuration with
  // problems is not started anyway.
  drivers::ScannerOptions o;
  o.name = name;
  o.type = type;
  o.address = address;
  o.device = device;
  o.terminator = drivers::parse_terminator(terminator).value_or(o.terminator);
  o.prefix = prefix;
  o.suffix = suffix;
  o.max_line_bytes = max_line_bytes;
  o.max_scans_per_second = max_scans_per_second;
  o.line_timeout = line_timeout;
  o.baud = baud;
  o.parity = drivers::parse_parity(parity).value_or(o.parity);
  o.data_bits = data_bits;
  o.stop_bits = stop_bits;
  o.flow_control = drivers::parse_flow_control(flow_control).value_or(o.flow_control);
  o.retry_base = retry_base;
  o.retry_cap = retry_cap;
  o.connect_timeout = connect_timeout;
  o.layout = drivers::parse_keyboard_layout(layout).value_or(o.layout);
  o.grab = grab;
  o.gs_key = gs_key;
  return o;
}

std::string PrinterConfig::sent_format() const {
  return format.empty() ? labels::to_string(profile.language) : format;
}

std::string SyncConfig::transport_kind() const {
  if (!transport.empty()) {
    return transport;
  }
  return url.starts_with("mqtt://") || url.starts_with("mqtts://") ? "mqtt" : "webhook";
}

std::optional<std::string> back_office_url_problem(const std::string& url,
                                                   const std::string& token_key) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return "'" + url + "' is not a URL: " + parsed.error().message();
  }
  if (parsed->scheme() != "http" && parsed->scheme() != "https") {
    return "scheme '" + std::string(parsed->scheme()) +
           "' is not supported; use https:// (or http:// on a trusted network)";
  }
  if (parsed->host().empty()) {
    return "'" + url + "' has no host";
  }
  if (parsed->has_userinfo()) {
    return "must not carry a user or password; use " + token_key;
  }
  if (!parsed->encoded_fragment().empty()) {
    return std::string("must not have a #fragment");
  }
  return std::nullopt;
}

std::optional<std::string> readable_file_problem(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return "no such file: " + file.string();
  }
  if (std::ifstream probe(file, std::ios::binary); !probe) {
    return "cannot read " + file.string();
  }
  return std::nullopt;
}

std::optional<std::string> token_file_problem(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line.find_first_not_of(" \t\r") == std::string::npos) {
    return file.string() + " is empty";
  }
  return std::nullopt;
}

std::vector<ConfigProblem> Config::validate() const {
  std::vector<ConfigProblem> out;
  auto at = [&](const std::string& key, std::string message, const std::string& fallback = "") {
    auto it = positions.find(key);
    if (it == positions.end() && !fallback.empty()) {
      it = positions.find(fallback);
    }
    ConfigProblem p{source_name, 0, 0, key, std::move(message)};
    if (it != positions.end()) {
      p.line = it->second.first;
      p.column = it->second.second;
    }
    out.push_back(std::move(p));
  };
  auto endpoint = [&](const std::string& key, const std::string& value,
                      const std::string& fallback) {
    std::string why;
    if (!drivers::parse_endpoint(value, &why)) {
      at(key, "'" + value + "' is not a usable address: " + why, fallback);
    }
  };

  if (!is_plain_name(station.id)) {
    at("station.id", "'" + station.id + "' must be 1 to 64 letters, digits, '-', '_' or '.'",
       "station");
  }
  if (!is_plain_name(station.site)) {
    at("station.site", "'" + station.site + "' must be 1 to 64 letters, digits, '-', '_' or '.'",
       "station");
  }
  endpoint("ui.listen", ui.listen, "ui");
  if (std::find(ui_locales().begin(), ui_locales().end(), ui.locale) == ui_locales().end()) {
    std::string list;
    for (const auto& l : ui_locales()) {
      list += (list.empty() ? "" : ", ") + l;
    }
    at("ui.locale", "'" + ui.locale + "' is not one of " + list, "ui");
  }
  if (!orders.file.empty() && !std::filesystem::is_regular_file(orders.file)) {
    at("orders.file", "no such file: " + orders.file.string());
  }

  std::map<std::string, std::string> names;  // device name -> key where it was first used
  auto device_name = [&](const std::string& prefix, const std::string& name) {
    const std::string key = prefix + ".name";
    if (name.empty()) {
      at(key, "every device needs a name", prefix);
      return;
    }
    if (!is_plain_name(name)) {
      at(key, "'" + name + "' must be 1 to 64 letters, digits, '-', '_' or '.'", prefix);
    }
    auto [it, inserted] = names.emplace(name, prefix);
    if (!inserted) {
      at(key, "duplicate device name '" + name + "' (already used by " + it->second + ")", prefix);
    }
  };

  std::string scanner_types;
  for (auto t : drivers::scanner_types()) {
    scanner_types += (scanner_types.empty() ? "" : ", ") + std::string(t);
  }
  // Keys that only some scanner types read: written for another type they are a mistake (a
  // baud rate on a TCP scanner), and saying so beats ignoring them.
  static const std::vector<std::pair<std::string, std::vector<std::string>>> only_for{
      {"address", {"tcp-listen", "tcp-connect"}},
      {"device", {"serial", "hid"}},
      {"baud", {"serial"}},
      {"parity", {"serial"}},
      {"data_bits", {"serial"}},
      {"stop_bits", {"serial"}},
      {"flow_control", {"serial"}},
      {"retry_base_ms", {"serial", "tcp-connect", "hid"}},
      {"retry_cap_ms", {"serial", "tcp-connect", "hid"}},
      {"connect_timeout_ms", {"tcp-connect"}},
      {"layout", {"hid"}},
      {"grab", {"hid"}},
      {"gs_key", {"hid"}},
  };
  for (std::size_t i = 0; i < scanners.size(); ++i) {
    const auto& s = scanners[i];
    const std::string p = "scanner[" + std::to_string(i) + "]";
    device_name(p, s.name);
    const bool tcp = s.type == "tcp-listen" || s.type == "tcp-connect";
    if (s.type.empty()) {
      at(p + ".type", "missing; one of: " + scanner_types, p);
    } else if (!drivers::is_known_scanner_type(s.type)) {
      at(p + ".type", "unknown scanner type '" + s.type + "' (known: " + scanner_types + ")", p);
    } else if (tcp) {
      if (s.address.empty()) {
        at(p + ".address", "a " + s.type + " scanner needs an address (host:port)", p);
      } else {
        endpoint(p + ".address", s.address, p);
      }
    } else if (s.device.empty()) {
      at(p + ".device",
         "a " + s.type + " scanner needs a device path (" +
             (s.type == "serial" ? "/dev/serial/by-id/..." : "/dev/input/by-id/...-event-kbd") +
             ")",
         p);
    }
    if (drivers::is_known_scanner_type(s.type)) {
      for (const auto& [key, types] : only_for) {
        if (positions.count(p + "." + key) &&
            std::find(types.begin(), types.end(), s.type) == types.end()) {
          std::string list;
          for (std::size_t k = 0; k < types.size(); ++k) {
            list += (k == 0 ? "" : k + 1 == types.size() ? " and " : ", ") + types[k];
          }
          at(p + "." + key, "applies only to " + list + " scanners, not " + s.type, p);
        }
      }
    }
    const auto terminator = drivers::parse_terminator(s.terminator);
    if (!terminator) {
      at(p + ".terminator",
         "'" + s.terminator + "' is not one of auto, cr (or enter), lf, crlf, tab", p);
    } else if (s.type == "hid" && *terminator != drivers::Terminator::any &&
               *terminator != drivers::Terminator::cr && *terminator != drivers::Terminator::tab) {
      at(p + ".terminator",
         "a hid scanner ends its scans with Enter or Tab: use auto, enter or tab, not '" +
             s.terminator + "'",
         p);
    }
    for (const auto& [key, value] :
         {std::pair<std::string, std::string>{"prefix", s.prefix}, {"suffix", s.suffix}}) {
      if (value.size() > 32) {
        at(p + "." + key, "must be at most 32 bytes, not " + std::to_string(value.size()), p);
      } else if (value.find_first_of("\r\n\t") != std::string::npos) {
        at(p + "." + key, "must not contain CR, LF or TAB: the terminator ends the line before it",
           p);
      }
    }
    if (!drivers::parse_parity(s.parity)) {
      at(p + ".parity", "'" + s.parity + "' is not one of none, even, odd", p);
    }
    if (!drivers::parse_flow_control(s.flow_control)) {
      at(p + ".flow_control", "'" + s.flow_control + "' is not one of none, software, hardware", p);
    }
    const auto bauds = drivers::serial_baud_rates();
    if (std::find(bauds.begin(), bauds.end(), s.baud) == bauds.end()) {
      std::string list;
      for (auto b : bauds) {
        list += (list.empty() ? "" : ", ") + std::to_string(b);
      }
      at(p + ".baud", std::to_string(s.baud) + " is not one of " + list, p);
    }
    if (s.retry_cap < s.retry_base) {
      at(p + ".retry_cap_ms", "must not be below retry_base_ms", p);
    }
    if (!drivers::parse_keyboard_layout(s.layout)) {
      at(p + ".layout", "'" + s.layout + "' is not one of us, jp", p);
    }
    if (!s.gs_key.empty() && !drivers::is_known_gs_key(s.gs_key)) {
      at(p + ".gs_key",
         "unknown key '" + s.gs_key +
             "' (known: F1 to F24, Insert, Delete, Home, End, PageUp, PageDown, Pause, "
             "ScrollLock, Esc)",
         p);
    }
  }

  std::set<std::string> served;
  for (std::size_t i = 0; i < printers.size(); ++i) {
    const auto& pr = printers[i];
    const std::string p = "printer[" + std::to_string(i) + "]";
    device_name(p, pr.name);
    if (pr.type.empty()) {
      at(p + ".type", "missing; one of: zpl-tcp, file", p);
    } else if (!drivers::is_known_printer_type(pr.type)) {
      at(p + ".type", "unknown printer type '" + pr.type + "' (known: zpl-tcp, file)", p);
    } else if (pr.type == "zpl-tcp") {
      if (pr.address.empty()) {
        at(p + ".address", "a zpl-tcp printer needs an address (host:port)", p);
      } else {
        endpoint(p + ".address", pr.address, p);
      }
    } else {
      for (const char* key : {"status_interval_s", "status_timeout_ms"}) {
        if (positions.count(p + "." + key)) {
          at(p + "." + key, "applies only to zpl-tcp printers, not " + pr.type, p);
        }
      }
    }
    // Where a problem with the profile is best shown: the key that set the language, else the
    // profile's name, else the printer.
    const std::string profile_key = positions.count(p + ".language")  ? p + ".language"
                                    : positions.count(p + ".profile") ? p + ".profile"
                                                                      : p;
    const std::string language = labels::to_string(pr.profile.language);
    const std::string format = pr.sent_format();
    if (pr.type == "zpl-tcp" && pr.profile.language != labels::OutputFormat::zpl) {
      at(profile_key,
         "a zpl-tcp printer speaks ZPL; profile '" + pr.profile.name + "' is " + language, p);
    } else if (format != "zpl" && format != "escpos" && format != "png" && format != "pdf") {
      at(p + ".format", "'" + pr.format + "' is not one of zpl, escpos, png, pdf", p);
    } else if ((format == "zpl" || format == "escpos") && format != language) {
      at(p + ".format",
         "the printer's profile '" + pr.profile.name + "' speaks " + language + ", not " + format,
         p);
    } else if (format != language && pr.type != "file") {
      at(p + ".format",
         "only a file printer takes format '" + format + "'; a " + pr.type + " printer is sent " +
             language,
         p);
    } else if (format != "zpl" &&
               std::find(pr.roles.begin(), pr.roles.end(), "shipping-label") != pr.roles.end()) {
      at(positions.count(p + ".format") ? p + ".format" : profile_key,
         "shipping labels are ZPL (a carrier's label comes as ZPL); give the role "
         "'shipping-label' to a printer whose format is 'zpl'",
         p);
    }
    if (pr.roles.empty()) {
      at(p + ".roles", "a printer needs at least one role", p);
    }
    const auto& known = known_print_roles();
    for (const auto& role : pr.roles) {
      if (std::find(known.begin(), known.end(), role) == known.end()) {
        at(p + ".roles",
           "unknown role '" + role +
               "' (known: shipping-label, insert, discount-card, packing-slip)",
           p);
      } else {
        served.insert(role);
      }
    }
  }
  auto web_link = [](const std::string& url) {
    return url.starts_with("https://") || url.starts_with("http://");
  };
  if (!inserts.template_file.empty()) {
    const auto parsed = labels::load_template_file(inserts.template_file);
    for (const auto& problem : parsed.problems) {
      at("inserts.template", problem.to_string(), "inserts");
    }
  } else if (!labels::builtin_template(inserts.template_name)) {
    at("inserts.template",
       "'" + inserts.template_name + "' is no built-in template (a file name ends in .toml)",
       "inserts");
  }
  if (!shipping.template_file.empty()) {
    const auto parsed = labels::load_template_file(shipping.template_file);
    for (const auto& problem : parsed.problems) {
      at("shipping.template", problem.to_string(), "shipping");
    }
  } else if (!labels::builtin_template(shipping.template_name)) {
    at("shipping.template",
       "'" + shipping.template_name + "' is no built-in template (a file name ends in .toml)",
       "shipping");
  }
  const auto& prefix = shipping.gs1_company_prefix;
  const bool digits_only = prefix.find_first_not_of("0123456789") == std::string::npos;
  if (!prefix.empty() && (prefix.size() < 7 || prefix.size() > 10 || !digits_only)) {
    at("shipping.gs1_company_prefix",
       "'" + prefix + "' is not a GS1 company prefix: 7 to 10 digits, as GS1 assigned it",
       "shipping");
  }
  const auto& serial_prefix = shipping.sscc_serial_prefix;
  if (serial_prefix.find_first_not_of("0123456789") != std::string::npos) {
    at("shipping.sscc_serial_prefix", "'" + serial_prefix + "' must be digits", "shipping");
  } else if (!prefix.empty() && prefix.size() <= 10 &&
             serial_prefix.size() + 4 > 16 - prefix.size()) {
    at("shipping.sscc_serial_prefix",
       "a " + std::to_string(prefix.size()) + "-digit company prefix leaves " +
           std::to_string(16 - prefix.size()) +
           " digits of serial reference; the serial prefix may take all but 4 of them",
       "shipping");
  }
  if (prefix.empty()) {
    for (const auto* key : {"shipping.sscc_extension", "shipping.sscc_serial_prefix"}) {
      if (positions.count(key)) {
        at(key, "only used with shipping.gs1_company_prefix", "shipping");
      }
    }
  }
  if (!inserts.review_url.empty() && !web_link(inserts.review_url)) {
    at("inserts.review_url", "must start with https:// or http://", "inserts");
  }
  for (std::size_t i = 0; i < inserts.tips.size(); ++i) {
    const std::string p = "inserts.tip[" + std::to_string(i) + "]";
    if (inserts.tips[i].text.empty()) {
      at(p + ".text", "a tip needs its words, at least in one locale (text = { en = \"...\" })", p);
    }
    if (!inserts.tips[i].url.empty() && !web_link(inserts.tips[i].url)) {
      at(p + ".url", "must start with https:// or http://", p);
    }
  }
  if (!served.count("shipping-label")) {
    at("printer",
       printers.empty() ? "no printer is configured; the station needs one with the role "
                          "'shipping-label'"
                        : "no printer serves the role 'shipping-label', which every order needs",
       "printer[0]");
  }

  const std::string transport = sync.transport_kind();
  const bool mqtt = transport == "mqtt";
  if (transport != "webhook" && transport != "mqtt") {
    at("sync.transport", "'" + sync.transport + "' is not one of webhook, mqtt", "sync");
  }
  if (!sync.url.empty()) {
    auto parsed = boost::urls::parse_absolute_uri(sync.url);
    const std::string scheme = parsed ? std::string(parsed->scheme()) : "";
    const bool mqtt_scheme = scheme == "mqtt" || scheme == "mqtts";
    if (!parsed) {
      at("sync.url", "'" + sync.url + "' is not a URL: " + parsed.error().message());
    } else if (scheme != "http" && scheme != "https" && !mqtt_scheme) {
      at("sync.url", "scheme '" + scheme +
                         "' is not supported; use https:// or mqtts:// (or http:// or mqtt:// "
                         "on a trusted network)");
    } else if (mqtt != mqtt_scheme) {
      at("sync.url",
         mqtt ? "the mqtt transport takes an mqtt:// or mqtts:// url, not " + scheme + "://"
              : "the webhook transport takes an http:// or https:// url, not " + scheme + "://");
    } else if (parsed->host().empty()) {
      at("sync.url", "'" + sync.url + "' has no host");
    } else if (parsed->has_userinfo()) {
      at("sync.url", mqtt ? "must not carry a user or password; use sync.mqtt.username and "
                            "sync.mqtt.password_file"
                          : "must not carry a user or password; use sync.bearer_token_file");
    } else if (!parsed->encoded_fragment().empty()) {
      at("sync.url", "must not have a #fragment");
    } else if (mqtt_scheme && ((!parsed->encoded_path().empty() && parsed->encoded_path() != "/") ||
                               parsed->has_query())) {
      at("sync.url",
         "an mqtt:// url names the broker only (host and port): the topics are "
         "packbench/{site}/{station}/events/{type}");
    }
    if (!sync.ca_file.empty() && parsed && scheme != "https" && scheme != "mqtts") {
      at("sync.ca_file", "only used with an https:// or mqtts:// url");
    }
  }
  if (mqtt) {
    if (!sync.bearer_token_file.empty()) {
      at("sync.bearer_token_file", "applies only to the webhook transport", "sync");
    }
    if (!sync.signing_secret_file.empty()) {
      at("sync.signing_secret_file", "applies only to the webhook transport", "sync");
    }
    const auto& id = sync.mqtt.client_id;
    if (!id.empty() && (id.size() > 128 || !std::all_of(id.begin(), id.end(), [](char c) {
                          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                 c == ':';
                        }))) {
      at("sync.mqtt.client_id",
         "'" + id + "' must be 1 to 128 letters, digits, '-', '_', '.' or ':'", "sync.mqtt");
    }
    if (!sync.mqtt.username.empty() &&
        sync.mqtt.username.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
      at("sync.mqtt.username", "must not hold a NUL or a line break", "sync.mqtt");
    }
  } else if (positions.count("sync.mqtt")) {
    at("sync.mqtt", "applies only to the mqtt transport (sync.transport = \"mqtt\")");
  }
  if (!orders.feed_url.empty()) {
    if (auto why = back_office_url_problem(orders.feed_url, "orders.bearer_token_file")) {
      at("orders.feed_url", std::move(*why));
    }
    auto parsed = boost::urls::parse_absolute_uri(orders.feed_url);
    if (!orders.ca_file.empty() && parsed && parsed->scheme() != "https") {
      at("orders.ca_file", "only used with an https:// url");
    }
  }
  auto readable_file = [&](const char* key, const std::filesystem::path& file,
                           const char* section = "sync") {
    if (file.empty()) {
      return;
    }
    if (auto why = readable_file_problem(file)) {
      at(key, std::move(*why), section);
    }
  };
  readable_file("sync.ca_file", sync.ca_file);
  readable_file("sync.bearer_token_file", sync.bearer_token_file);
  readable_file("sync.signing_secret_file", sync.signing_secret_file);
  readable_file("orders.ca_file", orders.ca_file, "orders");
  readable_file("orders.bearer_token_file", orders.bearer_token_file, "orders");
  readable_file("sync.mqtt.password_file", sync.mqtt.password_file, "sync.mqtt");
  // The token and the secret are their files' first lines.
  auto first_line = [](const std::filesystem::path& file) -> std::optional<std::string> {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return std::nullopt;
    }
    return line;
  };
  auto token_file = [&](const char* key, const std::filesystem::path& file, const char* section) {
    if (!file.empty()) {
      if (auto why = token_file_problem(file)) {
        at(key, std::move(*why), section);
      }
    }
  };
  token_file("sync.bearer_token_file", sync.bearer_token_file, "sync");
  token_file("orders.bearer_token_file", orders.bearer_token_file, "orders");
  if (orders.feed_url.empty()) {
    for (const auto* key : {"orders.ca_file", "orders.bearer_token_file"}) {
      if (positions.count(key)) {
        at(key, "only used with orders.feed_url", "orders");
      }
    }
  }
  if (orders.retry_cap < orders.retry_base) {
    at("orders.retry_cap_ms", "must not be below orders.retry_base_ms", "orders");
  }
  if (!sync.signing_secret_file.empty() &&
      std::filesystem::is_regular_file(sync.signing_secret_file)) {
    const auto line = first_line(sync.signing_secret_file);
    if (auto key = parse_webhook_secret(line.value_or("")); !key) {
      at("sync.signing_secret_file", sync.signing_secret_file.string() + ": " + key.error().message,
         "sync");
    }
  }
  if (!sync.mqtt.password_file.empty() &&
      std::filesystem::is_regular_file(sync.mqtt.password_file)) {
    const auto line = first_line(sync.mqtt.password_file);
    if (!line || line->find_first_not_of(" \t\r") == std::string::npos) {
      at("sync.mqtt.password_file", sync.mqtt.password_file.string() + " is empty", "sync.mqtt");
    }
  }
  if (sync.retry_after_max < sync.retry_base) {
    at("sync.retry_after_max_ms", "must not be below sync.retry_base_ms", "sync");
  }
  if (outbox.bulk_max_bytes > outbox.max_bytes) {
    at("outbox.bulk_max_bytes", "must not be above outbox.max_bytes", "outbox");
  }
  {
    const std::pair<const char*, const std::string*> prefixes[] = {
        {"pack.packer_badge_prefix", &pack.packer_badge_prefix},
        {"pack.command_prefix", &pack.command_prefix},
        {"pack.quantity_prefix", &pack.quantity_prefix},
        {"pack.pin_prefix", &pack.pin_prefix},
        {"pack.reason_prefix", &pack.reason_prefix}};
    for (std::size_t i = 0; i < std::size(prefixes); ++i) {
      const auto& [key, value] = prefixes[i];
      if (value->empty()) {
        at(key, "must not be empty: every bench code needs a prefix of its own", "pack");
        continue;
      }
      for (std::size_t j = 0; j < i; ++j) {
        const std::string& other = *prefixes[j].second;
        if (!other.empty() && (value->rfind(other, 0) == 0 || other.rfind(*value, 0) == 0)) {
          at(key, "'" + *value + "' overlaps " + prefixes[j].first + " '" + other + "'", "pack");
        }
      }
    }
    for (const auto& code : pack.reason_codes) {
      if (code.empty() || !std::all_of(code.begin(), code.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
          })) {
        at("pack.reason_codes",
           "'" + code + "' must be lower-case letters, digits and '-' (it is scanned as " +
               pack.reason_prefix + "UPPER-CASE)",
           "pack");
      }
    }
    std::set<std::string> ids;
    for (std::size_t i = 0; i < pack.supervisors.size(); ++i) {
      const auto& sv = pack.supervisors[i];
      const std::string p = "pack.supervisor[" + std::to_string(i) + "]";
      if (sv.id.empty()) {
        at(p + ".id", "every supervisor needs an id", p);
      } else if (!ids.insert(sv.id).second) {
        at(p + ".id", "duplicate supervisor id '" + sv.id + "'", p);
      }
      if (sv.badge.empty() && sv.pin_sha256.empty()) {
        at(p, "needs a badge, a pin_sha256, or both", p);
      }
      if (!sv.pin_sha256.empty() &&
          (sv.pin_sha256.size() != 64 ||
           !std::all_of(sv.pin_sha256.begin(), sv.pin_sha256.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))) {
        at(p + ".pin_sha256", "must be 64 lower-case hex digits: printf %s PIN | sha256sum", p);
      }
    }
  }
  if (sync.retry_cap < sync.retry_base) {
    at("sync.retry_cap_ms", "must not be below sync.retry_base_ms", "sync");
  }
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.count(log.level)) {
    at("log.level", "'" + log.level + "' is not one of trace, debug, info, warn, error", "log");
  }
  return out;
}

drivers::PrinterOptions PrinterConfig::to_options() const {
  drivers::PrinterOptions o;
  o.name = name;
  o.type = type;
  o.address = address;
  o.directory = directory;
  o.timeout = timeout;
  o.status_interval = status_interval;
  o.status_timeout = status_timeout;
  return o;
}

LoadedConfig load_config_text(std::string_view text, const std::string& source_name,
                              const std::filesystem::path& base_dir) {
  LoadedConfig out;
  out.config.source_name = source_name;
  out.config.station.id = host_name();
  try {
    const toml::table root = toml::parse(text, source_name);
    Reader(out, base_dir).read(root);
  } catch (const toml::parse_error& e) {
    out.problems.push_back({source_name, static_cast<int>(e.source().begin.line),
                            static_cast<int>(e.source().begin.column), "",
                            std::string(e.description())});
    return out;
  }
  if (const char* dir = std::getenv("PACKBENCH_STATE_DIR"); dir && *dir) {
    out.config.station.state_dir = std::filesystem::absolute(dir).lexically_normal();
  } else if (out.config.station.state_dir.is_relative()) {
    out.config.station.state_dir = (base_dir / out.config.station.state_dir).lexically_normal();
  }
  for (auto& p : out.config.printers) {
    if (p.type == "file" && p.directory.empty()) {
      p.directory = out.config.station.state_dir / "prints";
    }
  }
  auto semantic = out.config.validate();
  out.problems.insert(out.problems.end(), semantic.begin(), semantic.end());
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return out;
}

LoadedConfig load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedConfig out;
    out.problems.push_back({path.string(), 0, 0, "", "cannot read the file"});
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const auto base = std::filesystem::absolute(path).parent_path();
  return load_config_text(text.str(), path.string(), base);
}

}  // namespace packbench::station

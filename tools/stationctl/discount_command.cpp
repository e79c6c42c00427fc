// stationctl discount verify: what a signed code says, and whether this key issued it.
#include "discount_command.hpp"

#include <boost/json.hpp>
#include <iostream>

#include "station/discount/day.hpp"
#include "station/discount/signed_code.hpp"

namespace packbench::tools {
namespace {

namespace discount = station::discount;
namespace json = boost::json;

constexpr const char* kDiscountUsage = R"(usage:
  stationctl discount verify CODE --key-file FILE [--today YYYY-MM-DD]
      Check a signed discount code against the key: its check characters (a typo), its tag
      (forged, or another key's) and its expiry (as of --today, default today). Prints JSON:
      valid, verdict, reason, code, prefix, station, serial, expiry. Exits 0 when the code is
      valid, 1 when it is not, 2 on a usage error or a key file that cannot be used.
)";

// One key a line, in order.
void print_object(std::ostream& out, const json::object& o) {
  out << "{\n";
  bool first = true;
  for (const auto& [k, v] : o) {
    out << (first ? "" : ",\n") << "  " << json::serialize(json::string(k)) << ": "
        << json::serialize(v);
    first = false;
  }
  out << "\n}\n";
}

int verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<std::string> code;
  std::string key_file;
  std::optional<discount::Day> today;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        err << "stationctl discount verify: " << name << " needs a value\n";
        return std::nullopt;
      }
      return args[++i];
    };
    if (a == "--key-file") {
      auto v = value("--key-file");
      if (!v) {
        return 2;
      }
      key_file = *v;
    } else if (a == "--today") {
      auto v = value("--today");
      if (!v) {
        return 2;
      }
      today = discount::parse_day(*v);
      if (!today) {
        err << "stationctl discount verify: --today '" << *v << "' is not a date (YYYY-MM-DD)\n";
        return 2;
      }
    } else if (a.rfind("--", 0) == 0) {
      err << "stationctl discount verify: unexpected option '" << a << "'\n\n" << kDiscountUsage;
      return 2;
    } else if (code) {
      err << "stationctl discount verify: one CODE only\n";
      return 2;
    } else {
      code = a;
    }
  }
  if (!code) {
    err << "stationctl discount verify: which code?\n\n" << kDiscountUsage;
    return 2;
  }
  if (key_file.empty()) {
    err << "stationctl discount verify: --key-file FILE is required (the key the codes are "
           "signed with)\n";
    return 2;
  }
  auto key = discount::load_signing_key(key_file);
  if (!key) {
    err << "stationctl: " << key.error().message << "\n";
    return 2;
  }
  if (key->warning) {
    err << "warning: " << *key->warning << "\n";
  }
  const auto v =
      discount::verify_signed_code(*code, key->key, today.value_or(discount::local_today()));
  json::object o;
  o["valid"] = v.ok();
  o["verdict"] = discount::to_string(v.verdict);
  o["reason"] = v.reason;
  o["code"] = v.canonical.empty() ? json::value() : json::value(v.canonical);
  if (v.fields) {
    o["prefix"] = v.fields->prefix;
    o["station"] = v.fields->station;
    o["serial"] = v.fields->serial;
    o["expiry"] = discount::format_day(v.fields->expiry);
  } else {
    o["prefix"] = nullptr;
    o["station"] = nullptr;
    o["serial"] = nullptr;
    o["expiry"] = nullptr;
  }
  print_object(out, o);
  return v.ok() ? 0 : 1;
}

}  // namespace

int discount_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() >= 2 && args[1] == "verify") {
    return verify(args, out, err);
  }
  if (args.size() >= 2 && (args[1] == "--help" || args[1] == "help")) {
    out << kDiscountUsage;
    return 0;
  }
  err << kDiscountUsage;
  return 2;
}

int discount_command(const std::vector<std::string>& args) {
  return discount_command(args, std::cout, std::cerr);
}

}  // namespace packbench::tools

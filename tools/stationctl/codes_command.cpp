// stationctl codes import: a file of discount codes into a campaign's pool.
#include "codes_command.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "station/discount/campaign_config.hpp"
#include "station/discount/pool.hpp"

namespace packbench::tools {
namespace {

namespace discount = station::discount;

constexpr const char* kCodesUsage = R"(usage:
  stationctl codes import --campaign ID FILE [--config FILE] [--state-dir DIR]
      Add the discount codes in FILE (one per line, or CSV with a "code" column) to the pool
      of campaign ID. Importing a file again adds nothing twice. With --config, the campaign
      must be one of the configuration's pool campaigns. Lines that cannot be imported are
      reported with their number; the others are imported. Exits 0 when every code is in the
      pool, 1 when some were rejected, 2 on a usage error.

The state directory is --state-dir, else $PACKBENCH_STATE_DIR, else the configuration's
station.state_dir, else /var/lib/packbench.
)";

std::string now_utc() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

bool plain_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

int codes_import(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 const std::vector<station::Migration>* migrations) {
  std::string campaign_id;
  std::optional<std::string> file;
  std::string config_file;
  std::string state_dir;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--campaign" || a == "--config" || a == "--state-dir") {
      if (i + 1 >= args.size()) {
        err << "stationctl codes import: " << a << " needs a value\n";
        return 2;
      }
      (a == "--campaign" ? campaign_id : a == "--config" ? config_file : state_dir) = args[++i];
    } else if (a.rfind("--", 0) == 0) {
      err << "stationctl codes import: unexpected option '" << a << "'\n\n" << kCodesUsage;
      return 2;
    } else if (file) {
      err << "stationctl codes import: one FILE only\n";
      return 2;
    } else {
      file = a;
    }
  }
  if (campaign_id.empty() || !file) {
    err << "stationctl codes import: " << (campaign_id.empty() ? "--campaign ID" : "FILE")
        << " is required\n\n"
        << kCodesUsage;
    return 2;
  }
  if (!plain_name(campaign_id)) {
    err << "stationctl codes import: '" << campaign_id
        << "' is not a campaign id (letters, digits, '-', '_', '.')\n";
    return 2;
  }

  std::filesystem::path configured_state_dir;
  if (!config_file.empty()) {
    toml::table root;
    try {
      root = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      err << config_file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
          << e.description() << "\n";
      return 2;
    }
    const auto base = std::filesystem::absolute(config_file).parent_path();
    std::vector<station::ConfigProblem> problems;
    const auto config = discount::read_discount_config(root, config_file, base, problems);
    for (const auto& p : problems) {
      err << p.to_string() << "\n";
    }
    const discount::Campaign* campaign = nullptr;
    for (const auto& c : config.campaigns) {
      if (c.id == campaign_id) {
        campaign = &c;
      }
    }
    if (!campaign) {
      err << "stationctl codes import: " << config_file << " has no campaign '" << campaign_id
          << "'\n";
      return 2;
    }
    if (campaign->source != discount::CodeSource::pool) {
      err << "stationctl codes import: campaign '" << campaign_id
          << "' signs its codes (source = \"signed\"); it has no pool\n";
      return 2;
    }
    if (const auto* dir = root["station"]["state_dir"].as_string()) {
      const std::filesystem::path p(dir->get());
      configured_state_dir = p.is_relative() ? (base / p).lexically_normal() : p;
    }
  }

  std::ifstream in(*file, std::ios::binary);
  if (!in) {
    err << "stationctl: cannot read " << *file << "\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const auto parsed = discount::parse_code_csv(text.str());
  for (const auto& p : parsed.problems) {
    err << *file << ":" << p.line << ": " << p.message << "\n";
  }

  std::filesystem::path dir = state_dir;
  if (dir.empty()) {
    if (const char* env = std::getenv("PACKBENCH_STATE_DIR"); env && *env) {
      dir = env;
    } else if (!configured_state_dir.empty()) {
      dir = configured_state_dir;
    } else {
      dir = "/var/lib/packbench";
    }
  }
  station::OpenOptions options;
  options.migrations = migrations;
  auto db = station::Database::open(dir / "station.db", options);
  if (!db) {
    err << "stationctl: " << db.error().message << "\n";
    return 2;
  }
  auto has_tables = db->read([&] {
    auto st = db->statement(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'discount_codes'");
    return st.step() && st.column_int(0) == 1;
  });
  if (!has_tables || !*has_tables) {
    err << "stationctl: the store " << (dir / "station.db").string()
        << " has no discount code tables; this version of the station cannot hold pools\n";
    return 2;
  }
  std::vector<std::string> codes;
  for (const auto& c : parsed.codes) {
    codes.push_back(c.code);
  }
  const std::string at = now_utc();
  auto report = db->write([&] {
    auto r = discount::import_codes(*db, campaign_id, codes, at);
    return std::make_pair(r, discount::pool_remaining(*db, campaign_id));
  });
  if (!report) {
    err << "stationctl: " << report.error().message << "\n";
    return 2;
  }
  const auto& [r, remaining] = *report;
  for (const auto& c : r.conflicts) {
    err << "already in the store for another campaign: " << c << "\n";
  }
  out << r.added << " added, " << r.already_there << " already there, " << r.conflicts.size()
      << " of another campaign, " << parsed.problems.size() << " rejected; campaign " << campaign_id
      << " has " << remaining << " free code" << (remaining == 1 ? "" : "s") << "\n";
  return parsed.problems.empty() && r.conflicts.empty() ? 0 : 1;
}

int codes_command(const std::vector<std::string>& args) {
  if (args.size() >= 2 && args[1] == "import") {
    return codes_import(args, std::cout, std::cerr);
  }
  std::cerr << kCodesUsage;
  return 2;
}

}  // namespace packbench::tools

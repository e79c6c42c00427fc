// stationctl codes import: a file of discount codes into a campaign's pool. stationctl codes
// pull: codes claimed from the back office into it, as stationd claims them.
#include "codes_command.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "station/config/config.hpp"
#include "station/discount/campaign_config.hpp"
#include "station/discount/pool.hpp"
#include "station/discount/pool_claims.hpp"
#include "station/discount/pool_pull.hpp"
#include "station/http/http_client.hpp"
#include "station/outbox/outbox.hpp"

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
  stationctl codes pull --campaign ID [--count N] [--config FILE] [--state-dir DIR]
      Claim codes for the pool of campaign ID from the back office ([discounts] pool_url) now,
      as stationd does when the pool runs low; safe while stationd runs. The campaign's pending
      claim, if it has one, is sent again with its id; otherwise a new claim of N codes (default:
      the campaign's refill). FILE defaults to /etc/packbench/station.toml. Exits 0 when the
      claim is done and its codes are in the pool, 1 when it is not (it stays pending and is
      sent again later, or the back office refused it) or some code was rejected, 2 on a usage
      or configuration error.

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

int codes_pull(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const std::vector<station::Migration>* migrations) {
  std::string campaign_id;
  std::string count_text;
  std::string config_file = "/etc/packbench/station.toml";
  std::string state_dir;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--campaign" || a == "--count" || a == "--config" || a == "--state-dir") {
      if (i + 1 >= args.size()) {
        err << "stationctl codes pull: " << a << " needs a value\n";
        return 2;
      }
      (a == "--campaign" ? campaign_id
       : a == "--count"  ? count_text
       : a == "--config" ? config_file
                         : state_dir) = args[++i];
    } else {
      err << "stationctl codes pull: unexpected argument '" << a << "'\n\n" << kCodesUsage;
      return 2;
    }
  }
  if (campaign_id.empty()) {
    err << "stationctl codes pull: --campaign ID is required\n\n" << kCodesUsage;
    return 2;
  }
  std::optional<int> count;
  if (!count_text.empty()) {
    if (count_text.size() > 6 || count_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(count_text) < 1 || std::stoi(count_text) > 100000) {
      err << "stationctl codes pull: --count takes a whole number from 1 to 100000\n";
      return 2;
    }
    count = std::stoi(count_text);
  }

  const auto loaded = station::load_config_file(config_file);
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) {
      err << p.to_string() << "\n";
    }
    return 2;
  }
  const station::Config& cfg = loaded.config;
  const auto& settings = cfg.discounts.settings.pull;
  if (settings.url.empty()) {
    err << "stationctl codes pull: " << config_file
        << " has no [discounts] pool_url: there is no back office to pull codes from\n";
    return 2;
  }
  const discount::Campaign* campaign = nullptr;
  for (const auto& c : cfg.discounts.campaigns) {
    if (c.id == campaign_id) {
      campaign = &c;
    }
  }
  if (!campaign) {
    err << "stationctl codes pull: " << config_file << " has no campaign '" << campaign_id << "'\n";
    return 2;
  }
  if (campaign->source != discount::CodeSource::pool) {
    err << "stationctl codes pull: campaign '" << campaign_id
        << "' signs its codes (source = \"signed\"); it has no pool\n";
    return 2;
  }
  if (!count && campaign->refill == 0) {
    err << "stationctl codes pull: campaign '" << campaign_id
        << "' has no refill; say how many codes to claim with --count N\n";
    return 2;
  }

  const std::filesystem::path dir =
      state_dir.empty() ? cfg.station.state_dir : std::filesystem::path(state_dir);
  station::OpenOptions options;
  options.migrations = migrations;
  auto db = station::Database::open(dir / "station.db", options);
  if (!db) {
    err << "stationctl: " << db.error().message << "\n";
    return 2;
  }
  boost::asio::io_context io;
  auto client = discount::make_pull_client(io.get_executor(), settings);
  if (!client) {
    err << "stationctl codes pull: " << client.error().message << "\n";
    return 2;
  }

  // The campaign's pending claim first (stationd's, or one an earlier pull left): its codes may
  // be set aside for this station already. Only then a new one.
  const discount::PullIdentity identity{cfg.station.id, cfg.station.site, "stationctl"};
  const int asked = count.value_or(campaign->refill);
  auto claimed = db->write([&]() -> std::pair<discount::Claim, bool> {
    if (auto pending = discount::pending_claim(*db, campaign_id)) {
      return {*pending, false};
    }
    const auto now = std::chrono::system_clock::now();
    station::UuidV7 ids;
    auto made = discount::create_claim(*db, campaign_id, asked, identity.process, ids.next(now),
                                       station::format_utc(now));
    if (!made) {
      throw std::runtime_error("campaign " + campaign_id + " has a claim pending");
    }
    return {std::move(*made), true};
  });
  if (!claimed) {
    err << "stationctl: cannot make the claim: " << claimed.error().message << "\n";
    return 2;
  }
  const auto& [claim, fresh] = *claimed;
  if (fresh) {
    out << "claim " << claim.id << ": " << claim.count << " code" << (claim.count == 1 ? "" : "s")
        << " for campaign " << campaign_id << "\n";
  } else {
    out << "claim " << claim.id << " for " << claim.count << " code"
        << (claim.count == 1 ? "" : "s") << " of campaign " << campaign_id
        << " is pending (made by " << claim.created_by << " at " << claim.created_at << ", "
        << claim.attempts << " attempt" << (claim.attempts == 1 ? "" : "s")
        << (claim.last_error.empty() ? "" : ", last error: " + claim.last_error)
        << "); sending it again with the same id"
        << (count && *count != claim.count ? " (--count applies to the next claim)" : "") << "\n";
  }

  std::optional<discount::ClaimAttempt> attempt;
  boost::asio::co_spawn(
      io, discount::send_claim(**client, *db, claim, identity, station::system_wall_clock()),
      [&](std::exception_ptr e, discount::ClaimAttempt a) {
        if (!e) {
          attempt = std::move(a);
        }
      });
  io.run();
  if (!attempt) {
    err << "stationctl codes pull: the claim could not be sent\n";
    return 1;
  }
  switch (attempt->outcome) {
    case discount::ClaimAttempt::Outcome::retry:
      err << "stationctl codes pull: " << attempt->message << "\nclaim " << claim.id
          << " stays pending: stationd, or the next codes pull, sends it again with the same "
             "id\n";
      return 1;
    case discount::ClaimAttempt::Outcome::failed:
      err << "stationctl codes pull: the back office refused claim " << claim.id
          << " for good: " << attempt->message << "\nthe claim is marked failed\n";
      return 1;
    case discount::ClaimAttempt::Outcome::done:
      break;
  }
  const auto& r = attempt->report;
  const auto remaining = db->read([&] { return discount::pool_remaining(*db, campaign_id); });
  const std::int64_t free = remaining ? *remaining : -1;
  if (r.already_settled) {
    out << "claim " << claim.id << " was settled meanwhile by another process (stationd); "
        << "campaign " << campaign_id << " has " << free << " free code" << (free == 1 ? "" : "s")
        << "\n";
    return 0;
  }
  for (const auto& p : r.rejected) {
    err << "code " << p.line << " of the answer rejected: " << p.message << "\n";
  }
  for (const auto& c : r.import.conflicts) {
    err << "already in the store for another campaign: " << c << "\n";
  }
  out << "claim " << claim.id << " done: " << r.received << " received, " << r.import.added
      << " added, " << r.import.already_there << " already there, " << r.import.conflicts.size()
      << " of another campaign, " << r.rejected.size() << " rejected; campaign " << campaign_id
      << " has " << free << " free code" << (free == 1 ? "" : "s") << "\n";
  return r.rejected.empty() && r.import.conflicts.empty() ? 0 : 1;
}

int codes_command(const std::vector<std::string>& args) {
  if (args.size() >= 2 && args[1] == "import") {
    return codes_import(args, std::cout, std::cerr);
  }
  if (args.size() >= 2 && args[1] == "pull") {
    return codes_pull(args, std::cout, std::cerr);
  }
  std::cerr << kCodesUsage;
  return 2;
}

}  // namespace packbench::tools

// stationctl: the station's command line for IT.
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "codes_command.hpp"
#include "discount_command.hpp"
#include "inserts_command.hpp"
#include "label_command.hpp"
#include "orders_command.hpp"
#include "station/gs1/gs1.hpp"
#include "station/orders/order_book.hpp"
#include "station/outbox/outbox.hpp"
#include "station/store/store.hpp"

namespace {

using namespace packbench::station;

constexpr const char* kUsage = R"(usage: stationctl <command> [options]

commands:
  orders import FILE [--state-dir DIR]
      Load orders from a JSON file into the station's store. New orders are added, orders
      not yet started are updated, orders being packed or packed are left as they are.
      Every order that cannot be read is reported; the others are loaded. Exits 1 when any
      order was rejected.
  orders ls [--status ready|packing|packed|cancelled] [--limit N] [--json] [--state-dir DIR]
      The orders in the store, newest change first (N, default 200): id, status, the back
      office's version, where it came from, when it last changed, and what the back office
      asked that is held or was refused. Then the totals by status.
  orders feed [--json] [--state-dir DIR]
      The order feed's stored position: its URL, cursor, ETag and pages applied; the changes
      held for orders being packed; the cancellations, and those refused because the order was
      already packed. Whether the feed is reachable now is in /healthz (orders_feed).
  scan explain DATA [--symbology ID]
      Show how the station reads DATA as GS1: a GTIN, element strings (with GS separators or
      in the (01)...(10)... form) or a GS1 Digital Link URI. Prints JSON: symbology, kind,
      GTIN-14, each AI with its title and value, and the problems found. Type a GS separator
      as <GS> or \x1d. ID is the AIM symbology identifier the scanner reported (]C1, ]e0,
      ]d2, ]Q3, ]E0, ...); one at the start of DATA counts too. Exits 1 when DATA has problems.
  discount verify CODE --key-file FILE [--today YYYY-MM-DD]
      Check a signed discount code: prints JSON (valid, reason, prefix, station, serial,
      expiry). Exits 0 when valid, 1 when not (a typo, a forged or expired code). docs/discounts.md.
  codes import --campaign ID FILE [--config FILE] [--state-dir DIR]
      Load a campaign's pool of discount codes (CSV: one code a line, or a "code" column).
      Codes already there are left as they are; each is given to exactly one order.
  codes pull --campaign ID [--count N] [--config FILE] [--state-dir DIR]
      Claim codes for a campaign's pool from the back office ([discounts] pool_url) now, as
      stationd does when the pool runs low: a claim left pending is sent again with its id,
      else a new one of N codes (default: the campaign's refill). docs/discounts.md.
  label render --template NAME|FILE --order ORDER.json --profile PROFILE
               --format zpl|escpos|png|pdf --out FILE [--locale LOCALE] [--var NAME=VALUE]...
      Render a label template (thank-you, discount-card, packing-slip, shipping-label, a
      template file, or "carrier" for the order's own carrier label) for one order, for a
      printer profile (zpl-203, zpl-300, escpos-80mm, pdf-a6). `label list` lists them,
      `label show NAME` prints a built-in template to start your own from. docs/labels.md.
  inserts preview [--config FILE] [--orders FILE] [--state-dir DIR] --out DIR [ORDER_ID...]
      What completing each order would print beside its shipping label (thank-you insert,
      discount card, packing slip) as PNG files DIR/preview-ORDER-ROLE.png, with the discount
      the order would be given now; nothing is issued. docs/discounts.md.
  outbox ls [--limit N] [--json] [--state-dir DIR]
      The events waiting for the back office, oldest first (N, default 50): sequence, lane,
      type, subject, when written, tries, the last error. Then the totals by lane.
  outbox dead [--limit N] [--json] [--state-dir DIR]
      The dead letters: events the back office refused for good (HTTP 400, 413 for one event
      alone, 415, 422) or that outlived their lane's TTL, with the reason and the last error.
  outbox retry (ID... | --all) [--state-dir DIR]
      Put dead letters back in the outbox, with their id and sequence, so that they are sent
      again; a running station picks them up within a second or two. Exits 1 when an ID is not
      a dead letter.
  outbox purge-dead (ID... | --older-than AGE | --all) [--state-dir DIR]
      Delete dead letters for good, once you have looked at them (outbox dead): those named,
      those that died more than AGE ago (a whole number and s, m, h, d or w: 30d; by the wall
      clock, as dead_at shows), or all of them. Dead letters count against [outbox] max_bytes
      until purged. Exits 1 when an ID is not a dead letter.
  outbox resume [--state-dir DIR]
      Start sending again after the back office said it was gone for good (HTTP 410 Gone, MQTT
      0x9D Server moved), once it answers again. A running station resumes within a second or
      two; a restart resumes too (and is needed when [sync] url changed).
  version
      Print the version.

The state directory is --state-dir, else $PACKBENCH_STATE_DIR, else /var/lib/packbench.
)";

std::string state_dir_from(const std::vector<std::string>& args, std::size_t from) {
  for (std::size_t i = from; i + 1 < args.size(); ++i) {
    if (args[i] == "--state-dir") {
      return args[i + 1];
    }
  }
  if (const char* env = std::getenv("PACKBENCH_STATE_DIR"); env && *env) {
    return env;
  }
  return "/var/lib/packbench";
}

int orders_import(const std::vector<std::string>& args) {
  if (args.size() < 3 || args[2].rfind("--", 0) == 0) {
    std::cerr << "stationctl orders import: which file?\n\n" << kUsage;
    return 2;
  }
  const std::string file = args[2];
  for (std::size_t i = 3; i < args.size(); ++i) {
    if (args[i] == "--state-dir" && i + 1 < args.size()) {
      ++i;
      continue;
    }
    std::cerr << "stationctl orders import: unexpected argument '" << args[i] << "'\n";
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "stationctl: cannot read " << file << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const auto parsed = parse_orders_json(text.str());
  for (const auto& p : parsed.problems) {
    std::cerr << file << ": " << p.to_string() << "\n";
  }
  const std::filesystem::path state_dir = state_dir_from(args, 3);
  auto db = Database::open(state_dir / "station.db");
  if (!db) {
    std::cerr << "stationctl: " << db.error().message << "\n";
    return 1;
  }
  OrderBook book(*db);
  auto report = book.import(parsed.orders, std::filesystem::path(file).filename().string());
  if (!report) {
    std::cerr << "stationctl: " << report.error().message << "\n";
    return 1;
  }
  for (const auto& k : report->kept) {
    std::cerr << "kept: " << k << "\n";
  }
  std::cout << report->added << " added, " << report->updated << " updated, " << report->unchanged
            << " unchanged, " << report->kept.size() << " kept, " << parsed.problems.size()
            << " rejected\n";
  return parsed.problems.empty() ? 0 : 1;
}

// A person at a shell cannot easily type a GS (ASCII 29, what the scanner sends for FNC1), so
// "<GS>" and "\x1d" stand for it.
std::string with_gs(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::string_view four = text.substr(i, 4);
    if (four == "<GS>" || four == "<gs>" || four == "\\x1d" || four == "\\x1D") {
      out += '\x1d';
      i += 4;
      continue;
    }
    out += text[i++];
  }
  return out;
}

// JSON for a person: the top level one key a line, lists one item a line, items on one line.
void print_json(std::ostream& out, const boost::json::value& v, int depth = 0) {
  const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string closing(static_cast<std::size_t>(depth) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    const bool lines = depth == 0;
    out << '{' << (lines ? "\n" : "");
    bool first = true;
    for (const auto& [key, value] : v.as_object()) {
      out << (first   ? ""
              : lines ? ",\n"
                      : ", ")
          << (lines ? indent : "") << boost::json::serialize(boost::json::string(key)) << ": ";
      print_json(out, value, lines ? depth + 1 : depth);
      first = false;
    }
    out << (lines ? "\n" + closing : "") << '}';
    return;
  }
  if (v.is_array() && !v.as_array().empty()) {
    const bool lines = depth <= 1;
    out << '[' << (lines ? "\n" : "");
    bool first = true;
    for (const auto& item : v.as_array()) {
      out << (first ? "" : lines ? ",\n" : ", ") << (lines ? indent : "");
      print_json(out, item, lines ? depth + 1 : depth);
      first = false;
    }
    out << (lines ? "\n" + closing : "") << ']';
    return;
  }
  out << boost::json::serialize(v);
}

int scan_explain(const std::vector<std::string>& args) {
  std::optional<std::string> data;
  std::string symbology;
  bool options_done = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.rfind("--", 0) != 0) {
      if (data) {
        std::cerr << "stationctl scan explain: one DATA only; quote it if it has spaces\n";
        return 2;
      }
      data = a;
    } else if (a == "--") {
      options_done = true;
    } else if (a == "--symbology" || a.rfind("--symbology=", 0) == 0) {
      if (a == "--symbology" && i + 1 >= args.size()) {
        std::cerr << "stationctl scan explain: --symbology needs an identifier such as ]C1\n";
        return 2;
      }
      symbology = a == "--symbology" ? args[++i] : a.substr(std::string("--symbology=").size());
      if (!symbology.empty() && (symbology.size() != 3 || symbology[0] != ']')) {
        std::cerr << "stationctl scan explain: '" << symbology
                  << "' is not an AIM symbology identifier (such as ]C1, ]d2, ]Q3, ]E0)\n";
        return 2;
      }
    } else {
      std::cerr << "stationctl scan explain: unexpected option '" << a << "'\n";
      return 2;
    }
  }
  if (!data) {
    std::cerr << "stationctl scan explain: which data?\n\n" << kUsage;
    return 2;
  }
  const auto reading = gs1::read(with_gs(*data), symbology);
  print_json(std::cout, gs1::to_json(reading));
  std::cout << "\n";
  return reading.ok() ? 0 : 1;
}

// --- outbox --------------------------------------------------------------------------------

struct OutboxArgs {
  std::size_t limit = 50;
  bool json = false;
  bool all = false;
  std::vector<std::string> ids;
  std::optional<std::chrono::seconds> older_than;
  std::string state_dir;
};

// "30d", "12h", "90m", "45s", "2w": a whole number and a unit.
std::optional<std::chrono::seconds> parse_age(const std::string& text) {
  if (text.size() < 2 || text.size() > 10 ||
      text.find_first_not_of("0123456789") != text.size() - 1) {
    return std::nullopt;
  }
  const std::int64_t n = std::stoll(text.substr(0, text.size() - 1));
  switch (text.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::minutes(n);
    case 'h':
      return std::chrono::hours(n);
    case 'd':
      return std::chrono::days(n);
    case 'w':
      return std::chrono::weeks(n);
    default:
      return std::nullopt;
  }
}

std::optional<OutboxArgs> parse_outbox_args(const std::vector<std::string>& args,
                                            const std::string& command, bool takes_ids) {
  OutboxArgs out;
  const bool purge = command == "purge-dead";
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--state-dir" && i + 1 < args.size()) {
      ++i;
    } else if (a == "--older-than" && purge && i + 1 < args.size()) {
      out.older_than = parse_age(args[++i]);
      if (!out.older_than) {
        std::cerr << "stationctl outbox purge-dead: --older-than takes an age such as 30d, 12h, "
                     "90m or 45s, not '"
                  << args[i] << "'\n";
        return std::nullopt;
      }
    } else if (a == "--limit" && i + 1 < args.size() && !takes_ids) {
      const std::string& n = args[++i];
      if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(n) == 0) {
        std::cerr << "stationctl outbox " << command << ": --limit takes a whole number above 0\n";
        return std::nullopt;
      }
      out.limit = std::stoul(n);
    } else if (a == "--json" && !takes_ids) {
      out.json = true;
    } else if (a == "--all" && takes_ids) {
      out.all = true;
    } else if (takes_ids && a.rfind("--", 0) != 0) {
      out.ids.push_back(a);
    } else {
      std::cerr << "stationctl outbox " << command << ": unexpected argument '" << a << "'\n";
      return std::nullopt;
    }
  }
  out.state_dir = state_dir_from(args, 2);
  return out;
}

boost::json::object row_json(const OutboxRow& r, bool dead) {
  boost::json::object o{{"seq", r.seq},
                        {"id", r.id},
                        {"lane", to_string(r.lane)},
                        {"type", r.type},
                        {"subject", r.subject},
                        {"bytes", r.bytes},
                        {"created_at", r.created_at},
                        {"attempts", r.attempts},
                        {"last_error", r.last_error}};
  if (dead) {
    o["reason"] = r.reason;
    o["dead_at"] = r.dead_at;
  }
  return o;
}

void print_rows(const std::vector<OutboxRow>& rows, bool dead) {
  for (const auto& r : rows) {
    std::cout << r.seq << "  " << r.id << "  " << to_string(r.lane) << "  " << r.type << "  "
              << (r.subject.empty() ? "-" : r.subject) << "  " << r.created_at << "  " << r.attempts
              << (r.attempts == 1 ? " try" : " tries");
    if (dead) {
      std::cout << "  " << r.reason << " at " << r.dead_at;
    }
    if (!r.last_error.empty()) {
      std::cout << "  " << r.last_error;
    }
    std::cout << "\n";
  }
}

int outbox_command(const std::vector<std::string>& args) {
  const std::string command = args.size() >= 2 ? args[1] : "";
  if (command != "ls" && command != "dead" && command != "retry" && command != "purge-dead" &&
      command != "resume") {
    std::cerr << "stationctl outbox: which command? ls, dead, retry, purge-dead or resume\n\n"
              << kUsage;
    return 2;
  }
  const bool retry = command == "retry";
  const bool purge = command == "purge-dead";
  const bool resume = command == "resume";
  auto parsed = parse_outbox_args(args, command, retry || purge);
  if (!parsed) {
    return 2;
  }
  if (resume && (parsed->json || parsed->limit != 50)) {
    std::cerr << "stationctl outbox resume: takes no options but --state-dir\n";
    return 2;
  }
  if (retry && parsed->ids.empty() == !parsed->all) {
    std::cerr << "stationctl outbox retry: name the dead letters by id, or --all (not both)\n";
    return 2;
  }
  if (purge && (!parsed->ids.empty()) + parsed->all + parsed->older_than.has_value() != 1) {
    std::cerr << "stationctl outbox purge-dead: name the dead letters by id, or give "
                 "--older-than AGE, or --all (one of them)\n";
    return 2;
  }
  const std::filesystem::path db_path = std::filesystem::path(parsed->state_dir) / "station.db";
  if (!std::filesystem::exists(db_path)) {
    std::cerr << "stationctl: no store at " << db_path.string()
              << " (use --state-dir or PACKBENCH_STATE_DIR)\n";
    return 1;
  }
  auto db = Database::open(db_path);
  if (!db) {
    std::cerr << "stationctl: " << db.error().message << "\n";
    return 1;
  }
  Outbox outbox(*db, "");
  if (resume) {
    auto lifted = outbox.resume_sync();
    if (!lifted) {
      std::cerr << "stationctl: " << lifted.error().message << "\n";
      return 1;
    }
    if (!*lifted) {
      std::cout << "sync is not stopped; nothing to resume\n";
      return 0;
    }
    std::cout << "sync was stopped at " << (*lifted)->at << " (" << (*lifted)->error
              << "); the station sends to " << (*lifted)->endpoint << " again\n";
    return 0;
  }
  if (purge) {
    std::vector<std::string> unknown;
    std::optional<std::chrono::system_clock::time_point> before;
    if (parsed->older_than) {
      before = std::chrono::system_clock::now() - *parsed->older_than;
    }
    auto purged = outbox.purge_dead(parsed->ids, before, &unknown);
    if (!purged) {
      std::cerr << "stationctl: " << purged.error().message << "\n";
      return 1;
    }
    for (const auto& id : unknown) {
      std::cerr << "stationctl outbox purge-dead: " << id << " is not a dead letter\n";
    }
    std::cout << purged->events << " dead letter" << (purged->events == 1 ? "" : "s") << " purged, "
              << purged->bytes << " bytes freed\n";
    return unknown.empty() ? 0 : 1;
  }
  if (retry) {
    std::vector<std::string> unknown;
    auto moved =
        outbox.retry_dead(parsed->all ? std::vector<std::string>{} : parsed->ids, &unknown);
    if (!moved) {
      std::cerr << "stationctl: " << moved.error().message << "\n";
      return 1;
    }
    for (const auto& id : unknown) {
      std::cerr << "stationctl outbox retry: " << id << " is not a dead letter\n";
    }
    std::cout << *moved << " event" << (*moved == 1 ? "" : "s") << " back in the outbox\n";
    return unknown.empty() ? 0 : 1;
  }
  const bool dead = command == "dead";
  auto rows = dead ? outbox.dead_letters(parsed->limit) : outbox.list(parsed->limit);
  auto depth = outbox.depth();
  if (!rows || !depth) {
    std::cerr << "stationctl: " << (!rows ? rows.error().message : depth.error().message) << "\n";
    return 1;
  }
  auto stop = outbox.sync_stop();
  if (parsed->json) {
    boost::json::array list;
    for (const auto& r : *rows) {
      list.push_back(row_json(r, dead));
    }
    boost::json::object totals{
        {"business",
         boost::json::object{{"events", depth->business.events}, {"bytes", depth->business.bytes}}},
        {"bulk", boost::json::object{{"events", depth->bulk.events}, {"bytes", depth->bulk.bytes}}},
        {"dead",
         boost::json::object{{"events", depth->dead.events}, {"bytes", depth->dead.bytes}}}};
    boost::json::value stopped;
    if (stop && *stop) {
      stopped = boost::json::object{
          {"at", (*stop)->at}, {"endpoint", (*stop)->endpoint}, {"error", (*stop)->error}};
    }
    std::cout << boost::json::serialize(
                     boost::json::object{{dead ? "dead" : "events", std::move(list)},
                                         {"totals", std::move(totals)},
                                         {"sync_stopped", std::move(stopped)}})
              << "\n";
    return 0;
  }
  print_rows(*rows, dead);
  if (dead) {
    std::cout << depth->dead.events << " dead letter" << (depth->dead.events == 1 ? "" : "s")
              << ", " << depth->dead.bytes << " bytes\n";
  } else {
    std::cout << depth->events << " event" << (depth->events == 1 ? "" : "s") << " waiting ("
              << depth->business.events << " business, " << depth->bulk.events << " bulk), "
              << depth->bytes << " bytes; " << depth->dead.events << " dead letter"
              << (depth->dead.events == 1 ? "" : "s") << "\n";
  }
  if (stop && *stop) {
    std::cout << "sync stopped at " << (*stop)->at << ": " << (*stop)->error
              << " (stationctl outbox resume sends again)\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::cout << "stationctl " << PACKBENCH_VERSION << "\n";
    return 0;
  }
  if (args[0] == "orders" && args.size() >= 2 && args[1] == "import") {
    return orders_import(args);
  }
  if (args[0] == "orders") {
    return packbench::tools::orders_command(args, std::cout, std::cerr);
  }
  if (args[0] == "discount") {
    return packbench::tools::discount_command(args);
  }
  if (args[0] == "codes") {
    return packbench::tools::codes_command(args);
  }
  if (args[0] == "inserts") {
    return packbench::tools::inserts_command(args, std::cout, std::cerr);
  }
  if (args[0] == "label") {
    return packbench::tools::label_command(args);
  }
  if (args[0] == "outbox") {
    return outbox_command(args);
  }
  if (args[0] == "scan" && args.size() >= 2 && args[1] == "explain") {
    return scan_explain(args);
  }
  std::cerr << "stationctl: unknown command '" << args[0] << "'\n\n" << kUsage;
  return 2;
}

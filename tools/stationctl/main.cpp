// stationctl: the station's command line for IT.
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "label_command.hpp"
#include "station/gs1/gs1.hpp"
#include "station/orders/order_book.hpp"
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
  scan explain DATA [--symbology ID]
      Show how the station reads DATA as GS1: a GTIN, element strings (with GS separators or
      in the (01)...(10)... form) or a GS1 Digital Link URI. Prints JSON: symbology, kind,
      GTIN-14, each AI with its title and value, and the problems found. Type a GS separator
      as <GS> or \x1d. ID is the AIM symbology identifier the scanner reported (]C1, ]e0,
      ]d2, ]Q3, ]E0, ...); one at the start of DATA counts too. Exits 1 when DATA has problems.
  label render --template NAME|FILE --order ORDER.json --profile PROFILE
               --format zpl|escpos|png|pdf --out FILE [--locale LOCALE] [--var NAME=VALUE]...
      Render a label template (thank-you, discount-card, packing-slip, shipping-label, a
      template file, or "carrier" for the order's own carrier label) for one order, for a
      printer profile (zpl-203, zpl-300, escpos-80mm, pdf-a6). `label list` lists them,
      `label show NAME` prints a built-in template to start your own from. docs/labels.md.
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
  if (args[0] == "label") {
    return packbench::tools::label_command(args);
  }
  if (args[0] == "scan" && args.size() >= 2 && args[1] == "explain") {
    return scan_explain(args);
  }
  std::cerr << "stationctl: unknown command '" << args[0] << "'\n\n" << kUsage;
  return 2;
}

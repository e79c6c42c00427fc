// stationctl: the station's command line for IT.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

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
  std::cerr << "stationctl: unknown command '" << args[0] << "'\n\n" << kUsage;
  return 2;
}

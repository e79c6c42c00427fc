#include "inserts_command.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "station/config/config.hpp"
#include "station/daemon/demo.hpp"
#include "station/discount/day.hpp"
#include "station/orders/order_book.hpp"
#include "station/print/order_prints.hpp"
#include "station/store/store.hpp"

namespace packbench::tools {
namespace {

namespace st = packbench::station;

constexpr const char* kUsage = R"(usage:
  stationctl inserts preview [--config FILE] [--orders FILE] [--state-dir DIR] --out DIR
                             [ORDER_ID...]

Renders what completing each order would print beside its shipping label (the thank-you
insert, the discount card, the packing slip), for the printers of the configuration, as PNG
files DIR/preview-ORDER-ROLE.png. The discount shown is the one the order would be given now
(the next pool code, or the next signed code); nothing is issued or stored. Without --config,
the built-in demo station in the current folder. Orders come from --orders (a JSON orders
file), else from the station's store; without ORDER_ID, every order of the file (or every
order of the store not yet packed).
)";

// Raised to roll the preview's transaction back.
struct Rollback : std::runtime_error {
  Rollback() : std::runtime_error("preview: rolled back") {}
};

bool write_file(const std::filesystem::path& path, const std::string& bytes) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int inserts_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() < 2 || args[1] != "preview") {
    err << kUsage;
    return 2;
  }
  std::string config_file, orders_file, state_dir, out_dir;
  std::vector<std::string> ids;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" || a == "--orders" || a == "--state-dir" || a == "--out") {
      if (i + 1 >= args.size()) {
        err << "stationctl inserts preview: " << a << " needs a value\n\n" << kUsage;
        return 2;
      }
      (a == "--config"      ? config_file
       : a == "--orders"    ? orders_file
       : a == "--state-dir" ? state_dir
                            : out_dir) = args[++i];
    } else if (a.starts_with("--")) {
      err << "stationctl inserts preview: unknown option " << a << "\n\n" << kUsage;
      return 2;
    } else {
      ids.push_back(a);
    }
  }
  if (out_dir.empty()) {
    err << "stationctl inserts preview: where to? (--out DIR)\n\n" << kUsage;
    return 2;
  }

  const bool demo = config_file.empty();
  if (demo) {
    if (auto made = st::make_demo_key(); !made) {
      err << "stationctl: " << made.error().message << "\n";
      return 2;
    }
  }
  const auto loaded =
      demo ? st::load_config_text(st::demo_config_toml(), "<built-in demo configuration>",
                                  std::filesystem::current_path())
           : st::load_config_file(config_file);
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) {
      err << p.to_string() << "\n";
    }
    return 2;
  }
  const st::Config& cfg = loaded.config;

  // The orders: from the file, or from the store.
  std::vector<st::Order> orders;
  std::string orders_text;
  if (!orders_file.empty()) {
    std::ifstream f(orders_file, std::ios::binary);
    if (!f) {
      err << "stationctl: cannot read " << orders_file << "\n";
      return 2;
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    orders_text = ss.str();
  } else if (demo) {
    orders_text = std::string(st::demo_orders_json());
  }
  if (!orders_text.empty()) {
    auto parsed = st::parse_orders_json(orders_text);
    for (const auto& p : parsed.problems) {
      err << (orders_file.empty() ? "demo orders" : orders_file) << ": " << p.to_string() << "\n";
    }
    orders = std::move(parsed.orders);
  }

  std::filesystem::path dir = state_dir;
  if (dir.empty()) {
    const char* env = std::getenv("PACKBENCH_STATE_DIR");
    dir = env && *env ? std::filesystem::path(env) : cfg.station.state_dir;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto db = st::Database::open(dir / "station.db");
  if (!db) {
    err << "stationctl: " << db.error().message << "\n";
    return 2;
  }
  st::OrderBook book(*db);
  if (orders_text.empty()) {
    if (ids.empty()) {
      auto listed = db->read([&] {
        std::vector<std::string> found;
        auto q =
            db->statement("SELECT id FROM orders WHERE status IN ('ready', 'packing') ORDER BY id");
        while (q.step()) {
          found.push_back(q.column_text(0));
        }
        return found;
      });
      if (listed) {
        ids = *listed;
      }
    }
    for (const auto& id : ids) {
      auto found = book.find(id);
      if (!found) {
        err << "stationctl: no order " << id << " in " << (dir / "station.db").string() << "\n";
        return 1;
      }
      orders.push_back(found->first);
    }
  } else if (!ids.empty()) {
    std::vector<st::Order> chosen;
    for (const auto& id : ids) {
      auto it = std::find_if(orders.begin(), orders.end(),
                             [&](const st::Order& o) { return o.id == id; });
      if (it == orders.end()) {
        err << "stationctl: no order " << id << " in the orders file\n";
        return 1;
      }
      chosen.push_back(*it);
    }
    orders = std::move(chosen);
  }

  std::optional<st::discount::SigningKey> key;
  for (const auto& c : cfg.discounts.campaigns) {
    if (c.may_sign()) {
      auto k = st::discount::load_signing_key(cfg.discounts.settings.key_file);
      if (!k) {
        err << "stationctl: " << k.error().message << "\n";
        return 2;
      }
      key = std::move(k->key);
      break;
    }
  }
  auto targets = st::print_targets(cfg.printers);
  targets.erase("shipping-label");
  for (auto& [role, target] : targets) {
    target.format = labels::OutputFormat::png;
  }
  const st::OrderPrinter printer(cfg.inserts, cfg.shipping, cfg.discounts.campaigns, std::move(key),
                                 cfg.discounts.settings.station_number, cfg.station.id,
                                 cfg.station.site, std::move(targets));

  std::filesystem::create_directories(out_dir, ec);
  int problems = 0;
  for (const auto& order : orders) {
    st::CompletionPrints prints;
    const std::string now = st::format_utc(std::chrono::system_clock::now());
    // Issued and rendered in a transaction that is then rolled back: the code shown is the one
    // the order would get now, and the store is left as it was.
    auto done = db->write([&] {
      prints = printer.prepare(*db, order, now, st::discount::local_today(), 1);
      throw Rollback();
    });
    (void)done;
    std::string discount = "no discount";
    if (prints.issue.discount) {
      discount = fmt::format("{} {} ({})", prints.issue.discount->reprint ? "code" : "would issue",
                             prints.issue.discount->code, prints.issue.discount->campaign);
    } else if (!prints.issue.note.empty()) {
      discount = "no discount: " + prints.issue.note;
    }
    for (const auto& job : prints.jobs) {
      const auto path =
          std::filesystem::path(out_dir) / fmt::format("preview-{}-{}.png", order.id, job.role);
      if (!write_file(path, job.bytes)) {
        err << "stationctl: cannot write " << path.string() << "\n";
        return 2;
      }
      out << path.string() << "  " << job.template_name << ", " << prints.locale;
      if (job.role != "packing-slip") {
        out << "; " << discount;
      }
      out << "\n";
    }
    for (const auto& p : prints.problems) {
      err << order.id << ": not printable: " << p << "\n";
      ++problems;
    }
  }
  return problems == 0 ? 0 : 1;
}

}  // namespace packbench::tools

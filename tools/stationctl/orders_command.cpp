// stationctl orders ls: the orders in the store, with their status, the back office's version
// and any change held for them. stationctl orders feed: the order feed's stored position and
// what the back office asked that the station held or refused. Both read the store only; safe
// while stationd runs.
#include "orders_command.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>

#include "station/store/store.hpp"

namespace packbench::tools {
namespace {

namespace json = boost::json;
using station::Database;

struct Args {
  std::string state_dir;
  std::string status;
  std::size_t limit = 200;
  bool json = false;
};

std::optional<Args> parse(const std::vector<std::string>& args, std::ostream& err) {
  Args a;
  const std::string command = args[1];
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s == "--state-dir" && i + 1 < args.size()) {
      a.state_dir = args[++i];
    } else if (s == "--json") {
      a.json = true;
    } else if (s == "--status" && i + 1 < args.size() && command == "ls") {
      a.status = args[++i];
      if (a.status != "ready" && a.status != "packing" && a.status != "packed" &&
          a.status != "cancelled") {
        err << "stationctl orders ls: --status is one of ready, packing, packed, cancelled\n";
        return std::nullopt;
      }
    } else if (s == "--limit" && i + 1 < args.size() && command == "ls") {
      const std::string& n = args[++i];
      if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(n) == 0) {
        err << "stationctl orders ls: --limit takes a whole number above 0\n";
        return std::nullopt;
      }
      a.limit = std::stoul(n);
    } else {
      err << "stationctl orders " << command << ": unexpected argument '" << s << "'\n";
      return std::nullopt;
    }
  }
  if (a.state_dir.empty()) {
    const char* env = std::getenv("PACKBENCH_STATE_DIR");
    a.state_dir = env && *env ? env : "/var/lib/packbench";
  }
  return a;
}

json::value opt_text(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value();
}

json::value opt_int(station::Statement& st, int col) {
  return st.column_is_null(col) ? json::value() : json::value(st.column_int(col));
}

std::string text(const json::value& v) {
  if (v.is_string()) {
    return std::string(v.as_string());
  }
  if (v.is_null()) {
    return "-";
  }
  return json::serialize(v);
}

int ls(Database& db, const Args& a, std::ostream& out, std::ostream& err) {
  auto rows = db.read([&] {
    json::array orders;
    std::map<std::string, std::int64_t> totals;
    auto count = db.statement("SELECT status, count(*) FROM orders GROUP BY status");
    while (count.step()) {
      totals[count.column_text(0)] = count.column_int(1);
    }
    auto sel = db.statement(
        "SELECT o.id, o.status, o.version, o.source, o.updated_at, c.change, c.state, c.reason "
        "FROM orders o LEFT JOIN order_feed_changes c ON c.order_id = o.id "
        "WHERE (?1 = '' OR o.status = ?1) ORDER BY o.updated_at DESC, o.id LIMIT ?2");
    sel.bind_all(a.status, static_cast<std::int64_t>(a.limit));
    while (sel.step()) {
      json::object o{{"id", sel.column_text(0)},
                     {"status", sel.column_text(1)},
                     {"version", opt_int(sel, 2)},
                     {"source", sel.column_text(3)},
                     {"updated_at", sel.column_text(4)}};
      if (!sel.column_is_null(5)) {
        o["back_office"] = json::object{{"change", sel.column_text(5)},
                                        {"state", sel.column_text(6)},
                                        {"reason", opt_text(sel.column_optional_text(7))}};
      }
      orders.push_back(std::move(o));
    }
    json::object t;
    for (const auto& [k, v] : totals) {
      t[k] = v;
    }
    return json::object{{"orders", std::move(orders)}, {"totals", std::move(t)}};
  });
  if (!rows) {
    err << "stationctl: " << rows.error().message << "\n";
    return 1;
  }
  if (a.json) {
    out << json::serialize(*rows) << "\n";
    return 0;
  }
  for (const auto& v : rows->at("orders").as_array()) {
    const auto& o = v.as_object();
    out << text(o.at("id")) << "  " << text(o.at("status")) << "  "
        << (o.at("version").is_null() ? std::string("-") : "v" + text(o.at("version"))) << "  "
        << text(o.at("source")) << "  " << text(o.at("updated_at"));
    if (const auto* b = o.if_contains("back_office")) {
      const auto& bo = b->as_object();
      out << "  back office: " << text(bo.at("change")) << " " << text(bo.at("state"));
      if (!bo.at("reason").is_null()) {
        out << " (" << text(bo.at("reason")) << ")";
      }
    }
    out << "\n";
  }
  std::int64_t total = 0;
  std::string parts;
  for (const auto& [k, v] : rows->at("totals").as_object()) {
    total += v.as_int64();
    parts += (parts.empty() ? "" : ", ") + std::to_string(v.as_int64()) + " " + std::string(k);
  }
  out << total << " order" << (total == 1 ? "" : "s") << (parts.empty() ? "" : ": " + parts)
      << "\n";
  return 0;
}

int feed(Database& db, const Args& a, std::ostream& out, std::ostream& err) {
  auto state = db.read([&] {
    json::object o;
    auto sel = db.statement(
        "SELECT url, cursor, etag, etag_cursor, pages, applied_at FROM order_feed WHERE id = 1");
    if (sel.step()) {
      o["feed"] = json::object{{"url", sel.column_text(0)},
                               {"cursor", sel.column_text(1)},
                               {"etag", opt_text(sel.column_optional_text(2))},
                               {"etag_cursor", opt_text(sel.column_optional_text(3))},
                               {"pages", sel.column_int(4)},
                               {"applied_at", opt_text(sel.column_optional_text(5))}};
    } else {
      o["feed"] = nullptr;
    }
    json::array held;
    auto h = db.statement(
        "SELECT order_id, change, version, reason, received_at FROM order_feed_changes "
        "WHERE state = 'held' ORDER BY received_at, order_id");
    while (h.step()) {
      held.push_back(json::object{{"order", h.column_text(0)},
                                  {"change", h.column_text(1)},
                                  {"version", opt_int(h, 2)},
                                  {"reason", opt_text(h.column_optional_text(3))},
                                  {"received_at", h.column_text(4)}});
    }
    o["held"] = std::move(held);
    json::array rejected;
    auto r = db.statement(
        "SELECT order_id, version, reason, settled_at FROM order_feed_changes "
        "WHERE state = 'rejected' ORDER BY settled_at DESC LIMIT 20");
    while (r.step()) {
      rejected.push_back(json::object{{"order", r.column_text(0)},
                                      {"version", opt_int(r, 1)},
                                      {"reason", opt_text(r.column_optional_text(2))},
                                      {"at", opt_text(r.column_optional_text(3))}});
    }
    o["cancellations_rejected"] = std::move(rejected);
    json::object cancellations;
    auto c = db.statement(
        "SELECT state, count(*) FROM order_feed_changes WHERE change = 'cancel' GROUP BY state");
    while (c.step()) {
      cancellations[c.column_text(0)] = c.column_int(1);
    }
    o["cancellations"] = std::move(cancellations);
    return o;
  });
  if (!state) {
    err << "stationctl: " << state.error().message << "\n";
    return 1;
  }
  if (a.json) {
    out << json::serialize(*state) << "\n";
    return 0;
  }
  const auto& f = state->at("feed");
  if (f.is_null()) {
    out << "no order feed has been polled with this store ([orders] feed_url)\n";
  } else {
    const auto& fo = f.as_object();
    out << "url         " << text(fo.at("url")) << "\n"
        << "cursor      "
        << (fo.at("cursor").as_string().empty() ? "(start)" : text(fo.at("cursor"))) << "\n"
        << "pages       " << text(fo.at("pages")) << ", the last applied at "
        << text(fo.at("applied_at")) << "\n";
    if (!fo.at("etag").is_null()) {
      out << "etag        " << text(fo.at("etag")) << " (for cursor '" << text(fo.at("etag_cursor"))
          << "')\n";
    }
  }
  const auto& held = state->at("held").as_array();
  out << "held        " << held.size() << " change" << (held.size() == 1 ? "" : "s")
      << " waiting for their pack session to close\n";
  for (const auto& v : held) {
    const auto& h = v.as_object();
    out << "  " << text(h.at("order")) << "  " << text(h.at("change")) << "  since "
        << text(h.at("received_at"));
    if (!h.at("reason").is_null()) {
      out << "  (" << text(h.at("reason")) << ")";
    }
    out << "\n";
  }
  std::string parts;
  for (const auto& [k, v] : state->at("cancellations").as_object()) {
    parts += (parts.empty() ? "" : ", ") + std::to_string(v.as_int64()) + " " + std::string(k);
  }
  out << "cancelled   " << (parts.empty() ? "none" : parts) << "\n";
  for (const auto& v : state->at("cancellations_rejected").as_array()) {
    const auto& r = v.as_object();
    out << "  rejected: " << text(r.at("order")) << " was already packed (at " << text(r.at("at"))
        << ")\n";
  }
  return 0;
}

}  // namespace

int orders_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const std::string command = args.size() >= 2 ? args[1] : "";
  if (command != "ls" && command != "feed") {
    err << "stationctl orders: which command? import, ls or feed\n";
    return 2;
  }
  auto a = parse(args, err);
  if (!a) {
    return 2;
  }
  const std::filesystem::path db_path = std::filesystem::path(a->state_dir) / "station.db";
  if (!std::filesystem::exists(db_path)) {
    err << "stationctl: no store at " << db_path.string()
        << " (use --state-dir or PACKBENCH_STATE_DIR)\n";
    return 1;
  }
  auto db = Database::open(db_path);
  if (!db) {
    err << "stationctl: " << db.error().message << "\n";
    return 1;
  }
  return command == "ls" ? ls(*db, *a, out, err) : feed(*db, *a, out, err);
}

}  // namespace packbench::tools

#include "station/pack/pack_metrics.hpp"

#include <fmt/format.h>

#include <chrono>
#include <map>

#include "station/common/clock.hpp"

namespace packbench::station {

namespace json = boost::json;

Result<PackFigures> pack_figures(Database& db, const std::string& now) {
  return db.read([&] {
    std::map<std::string, PackerFigures> by_packer;
    auto totals = db.statement(
        "SELECT packer, scans, rejected, items, packs, undone FROM scan_figures "
        "WHERE period = 'total'");
    while (totals.step()) {
      auto& f = by_packer[totals.column_text(0)];
      f.packer = totals.column_text(0);
      f.scans = totals.column_int(1);
      f.rejected = totals.column_int(2);
      f.items = totals.column_int(3);
      f.packs = totals.column_int(4);
      f.undone = totals.column_int(5);
    }
    // The last hour by the minute: this minute and the 59 before it, on the wall clock as
    // stored (ISO 8601 UTC compares as text; 'total' sorts after every minute).
    const auto since =
        format_utc(std::chrono::system_clock::now() - std::chrono::minutes(59)).substr(0, 16);
    auto hour = db.statement(
        "SELECT packer, sum(scans), sum(rejected), sum(items), sum(packs) FROM scan_figures "
        "WHERE period >= ?1 AND period <= ?2 GROUP BY packer");
    hour.bind_all(since, std::string_view(now).substr(0, 16));
    while (hour.step()) {
      auto& f = by_packer[hour.column_text(0)];
      f.packer = hour.column_text(0);
      f.scans_last_hour = hour.column_int(1);
      f.rejected_last_hour = hour.column_int(2);
      f.items_last_hour = hour.column_int(3);
      f.packs_last_hour = hour.column_int(4);
    }
    PackFigures out;
    for (auto& [name, f] : by_packer) {
      out.station.scans += f.scans;
      out.station.rejected += f.rejected;
      out.station.items += f.items;
      out.station.undone += f.undone;
      out.station.packs += f.packs;
      out.station.scans_last_hour += f.scans_last_hour;
      out.station.rejected_last_hour += f.rejected_last_hour;
      out.station.items_last_hour += f.items_last_hour;
      out.station.packs_last_hour += f.packs_last_hour;
      out.packers.push_back(f);
    }
    return out;
  });
}

namespace {

json::object figures_json(const PackerFigures& f) {
  return json::object{{"packs_per_hour", f.packs_last_hour},
                      {"items_per_hour", f.items_last_hour},
                      {"error_rate", f.error_rate_last_hour()},
                      {"packs_total", f.packs},
                      {"items_total", f.items},
                      {"items_undone_total", f.undone},
                      {"scans_total", f.scans},
                      {"rejected_total", f.rejected}};
}

}  // namespace

json::object to_json(const PackFigures& f) {
  json::object o = figures_json(f.station);
  json::object packers;
  for (const auto& p : f.packers) {
    if (!p.packer.empty()) {
      packers[p.packer] = figures_json(p);
    }
  }
  o["packers"] = std::move(packers);
  return o;
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_prometheus(std::string& out, const PackFigures& f, const std::string& station) {
  const std::string st = prometheus_label(station);
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const PackerFigures&);
  };
  static const Metric metrics[] = {
      {"packbench_packs_total", "counter", "Orders closed (complete or short).",
       [](const PackerFigures& p) { return static_cast<double>(p.packs); }},
      {"packbench_items_total", "counter", "Items counted by scans.",
       [](const PackerFigures& p) { return static_cast<double>(p.items); }},
      {"packbench_items_undone_total", "counter", "Items taken back with CMD-UNDO.",
       [](const PackerFigures& p) { return static_cast<double>(p.undone); }},
      {"packbench_scans_total", "counter", "Scans decided.",
       [](const PackerFigures& p) { return static_cast<double>(p.scans); }},
      {"packbench_scans_rejected_total", "counter", "Scans rejected.",
       [](const PackerFigures& p) { return static_cast<double>(p.rejected); }},
      {"packbench_packs_per_hour", "gauge", "Orders closed in the last 60 minutes.",
       [](const PackerFigures& p) { return static_cast<double>(p.packs_last_hour); }},
      {"packbench_items_per_hour", "gauge",
       "Items packed in the last 60 minutes, net of undone scans.",
       [](const PackerFigures& p) { return static_cast<double>(p.items_last_hour); }},
      {"packbench_scan_error_rate", "gauge",
       "Share of scans rejected in the last 60 minutes (0 to 1).",
       [](const PackerFigures& p) { return p.error_rate_last_hour(); }},
  };
  for (const auto& m : metrics) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", m.name, m.help, m.name, m.type);
    // The station's own series carries no packer label; each packer's carries its id.
    out += fmt::format("{}{{station=\"{}\"}} {}\n", m.name, st, m.value(f.station));
    for (const auto& p : f.packers) {
      out += fmt::format("{}{{station=\"{}\",packer=\"{}\"}} {}\n", m.name, st,
                         prometheus_label(p.packer.empty() ? "none" : p.packer), m.value(p));
    }
  }
}

}  // namespace packbench::station

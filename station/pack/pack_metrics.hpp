// Packing figures for people and for Prometheus: packs and items per hour and the scan error
// rate, per packer and for the whole station, over the last hour; and running totals.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "station/store/store.hpp"

namespace packbench::station {

struct PackerFigures {
  std::string packer;  // "" for scans with nobody logged in
  // Totals since the store was created.
  std::int64_t scans = 0;
  std::int64_t rejected = 0;
  std::int64_t items = 0;   // counted by scans
  std::int64_t undone = 0;  // taken back with CMD-UNDO
  std::int64_t packs = 0;
  // The last hour, by the minute: this minute and the 59 before it.
  std::int64_t scans_last_hour = 0;
  std::int64_t rejected_last_hour = 0;
  std::int64_t items_last_hour = 0;
  std::int64_t packs_last_hour = 0;
  double error_rate_last_hour() const {
    return scans_last_hour ? static_cast<double>(rejected_last_hour) / scans_last_hour : 0.0;
  }
};

struct PackFigures {
  std::vector<PackerFigures> packers;
  PackerFigures station;  // all packers together
};

// `now_utc` is the wall time the last hour is counted back from (ISO 8601, as stored).
Result<PackFigures> pack_figures(Database& db, const std::string& now_utc);

boost::json::object to_json(const PackFigures& f);

// Appends the figures in the Prometheus text exposition format (version 0.0.4).
void append_prometheus(std::string& out, const PackFigures& f, const std::string& station);

// A label value escaped for the Prometheus text format: backslash, quote and newline.
std::string prometheus_label(std::string_view value);

}  // namespace packbench::station

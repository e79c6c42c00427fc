#include "station/discount/day.hpp"

#include <fmt/format.h>

#include <ctime>

namespace packbench::station::discount {

std::optional<Day> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = 0; i < lengths[p]; ++i) {
      const char c = text[starts[p] + i];
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      parts[p] = parts[p] * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year(parts[0]),
                                        std::chrono::month(static_cast<unsigned>(parts[1])),
                                        std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return Day(ymd);
}

std::string format_day(Day day) {
  const std::chrono::year_month_day ymd(day);
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

Day local_today() {
  return local_day(std::chrono::system_clock::now());
}

Day local_day(std::chrono::system_clock::time_point t) {
  const std::time_t now = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&now, &tm);
  return Day(std::chrono::year_month_day(std::chrono::year(tm.tm_year + 1900),
                                         std::chrono::month(static_cast<unsigned>(tm.tm_mon + 1)),
                                         std::chrono::day(static_cast<unsigned>(tm.tm_mday))));
}

}  // namespace packbench::station::discount

#include "station/common/clock.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>

namespace packbench::station {

// Every scan is stamped with this: calendar arithmetic and digits by hand, no gmtime_r (which
// takes the time zone lock) and no format string.
std::string format_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  // system_clock (nanoseconds in 64 bits) spans the years 1677 to 2262: four digits.
  const int year = static_cast<int>(ymd.year());
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&](std::size_t at, long value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, hms.hours().count(), 2);
  put(14, hms.minutes().count(), 2);
  put(17, static_cast<long>(hms.seconds().count()), 2);
  put(20, static_cast<long>(hms.subseconds().count()), 3);
  return out;
}

std::int64_t monotonic_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

WallClock& system_wall_clock() {
  static WallClock clock;
  return clock;
}

std::string current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id.empty() ? "unknown" : id;
}

}  // namespace packbench::station

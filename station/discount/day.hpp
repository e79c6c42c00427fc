// Calendar days as discounts count them: campaign validity, code expiry. A day is a
// std::chrono::sys_days; the station passes its own local date as "today".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace packbench::station::discount {

using Day = std::chrono::sys_days;

// "2026-11-22" (exactly YYYY-MM-DD, a real date) -> the day; anything else -> nullopt.
std::optional<Day> parse_day(std::string_view text);

// The day as "2026-11-22".
std::string format_day(Day day);

// Today's date in the station's local time zone.
Day local_today();

// The date of `t` in the station's local time zone.
Day local_day(std::chrono::system_clock::time_point t);

}  // namespace packbench::station::discount

// Time as the station writes it: UTC, ISO 8601 with milliseconds ("2026-11-22T08:15:02.123Z").
#pragma once

#include <chrono>
#include <string>

namespace packbench::station {

std::string format_utc(std::chrono::system_clock::time_point t);
inline std::string now_utc() {
  return format_utc(std::chrono::system_clock::now());
}

// Nanoseconds on the monotonic clock, for ordering and durations that must not jump.
std::int64_t monotonic_ns(std::chrono::steady_clock::time_point t);

}  // namespace packbench::station

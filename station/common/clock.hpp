// Time as the station writes it: UTC, ISO 8601 with milliseconds ("2026-11-22T08:15:02.123Z").
//
// Two clocks, two jobs. The wall clock says what time it is — for what is written down (event
// times, webhook timestamps, the time of the last delivery) — and it jumps when NTP or a person
// sets it. Durations — back-off, time-outs, TTLs, ages — come only from the monotonic clock
// (std::chrono::steady_clock), which never jumps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace packbench::station {

std::string format_utc(std::chrono::system_clock::time_point t);
inline std::string now_utc() {
  return format_utc(std::chrono::system_clock::now());
}

// Nanoseconds on the monotonic clock, for ordering and durations that must not jump.
std::int64_t monotonic_ns(std::chrono::steady_clock::time_point t);
inline std::int64_t monotonic_now_ns() {
  return monotonic_ns(std::chrono::steady_clock::now());
}

// The wall clock, as a value that can be handed to what reads it. The station's own is
// system_wall_clock(); tests hand their own and jump it forward and back.
class WallClock {
 public:
  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::now() +
           std::chrono::nanoseconds(offset_ns_.load(std::memory_order_relaxed));
  }
  std::string now_utc() const { return format_utc(now()); }
  std::int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
  // Moves this clock by `by` (negative: back), as a time-setting would.
  void jump(std::chrono::nanoseconds by) {
    offset_ns_.fetch_add(by.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> offset_ns_{0};
};

WallClock& system_wall_clock();

// This boot of the machine (/proc/sys/kernel/random/boot_id): monotonic times taken in another
// boot cannot be compared with this one's.
std::string current_boot_id();

}  // namespace packbench::station

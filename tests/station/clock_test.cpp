#include "station/common/clock.hpp"

#include <gtest/gtest.h>

namespace ps = packbench::station;
using namespace std::chrono;

TEST(Clock, FormatsUtcWithMilliseconds) {
  const auto at = [](std::int64_t ms) { return system_clock::time_point(milliseconds(ms)); };
  EXPECT_EQ(ps::format_utc(at(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ps::format_utc(at(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(ps::format_utc(at(951782400000 + 1)), "2000-02-29T00:00:00.001Z");  // a leap day
  EXPECT_EQ(ps::format_utc(at(1795335302123)), "2026-11-22T08:15:02.123Z");
  EXPECT_EQ(ps::format_utc(at(-5364662400000)), "1800-01-01T00:00:00.000Z");
  EXPECT_EQ(ps::format_utc(at(7258118399999)), "2199-12-31T23:59:59.999Z");
  // Below a millisecond is cut, never rounded up into the next one.
  EXPECT_EQ(ps::format_utc(system_clock::time_point(microseconds(999))),
            "1970-01-01T00:00:00.000Z");
}

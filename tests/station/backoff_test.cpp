// The back-off with full jitter that the outbox's sender and the order feed wait by: each wait
// uniform in [0, min(cap, base × 2^n)] after the n-th failure in a row, growing with the
// failures up to the cap, starting again after a success, and different for every station.
// That the waits run on the monotonic clock is tested where they are waited: SyncClock.* (the
// sender) and OrderFeed.WallClockJumpsDisturbNeitherItsBackOffNorItsPolls (the feed).
#include "station/common/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "station/config/config.hpp"

namespace ps = packbench::station;
using namespace std::chrono_literals;

namespace {

// min(5 min, 1 s × 2^n), written out rather than computed as the code does.
const std::vector<std::int64_t> kBoundsMs = {1000,   2000,   4000,   8000,   16000,
                                             32000,  64000,  128000, 256000, 300000,
                                             300000, 300000, 300000, 300000};

struct Draws {
  std::vector<std::int64_t> min, max;
  std::vector<double> mean;
};

// `trials` back-offs of their own, each failing kBoundsMs.size() times in a row: the waits
// after the n-th failure, over all of them.
Draws draw(int trials, std::chrono::milliseconds base, std::chrono::milliseconds cap) {
  const std::size_t n = kBoundsMs.size();
  Draws d{std::vector<std::int64_t>(n, INT64_MAX), std::vector<std::int64_t>(n, INT64_MIN),
          std::vector<double>(n, 0.0)};
  for (int t = 0; t < trials; ++t) {
    ps::Backoff b(base, cap, 1000 + static_cast<std::uint64_t>(t));
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t w = b.next().count();
      d.min[i] = std::min(d.min[i], w);
      d.max[i] = std::max(d.max[i], w);
      d.mean[i] += static_cast<double>(w) / trials;
    }
  }
  return d;
}

}  // namespace

TEST(Backoff, TheDefaultsAreOneSecondAndFiveMinutesForTheSenderAndTheFeed) {
  EXPECT_EQ(ps::SyncConfig{}.retry_base, 1000ms);
  EXPECT_EQ(ps::SyncConfig{}.retry_cap, 300000ms);
  EXPECT_EQ(ps::OrdersConfig{}.retry_base, 1000ms);
  EXPECT_EQ(ps::OrdersConfig{}.retry_cap, 300000ms);
  // And what a configuration file without the keys gives.
  const auto loaded = ps::load_config_text(
      "[[printer]]\nname = \"p\"\ntype = \"file\"\n[sync]\nurl = \"http://127.0.0.1:9/e\"\n"
      "[orders]\nfeed_url = \"http://127.0.0.1:9/o\"\n",
      "defaults.toml", "/");
  ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
  EXPECT_EQ(loaded.config.sync.retry_base, 1000ms);
  EXPECT_EQ(loaded.config.sync.retry_cap, 300000ms);
  EXPECT_EQ(loaded.config.orders.retry_base, 1000ms);
  EXPECT_EQ(loaded.config.orders.retry_cap, 300000ms);
}

TEST(Backoff, EveryWaitIsWithinZeroAndTheBoundWhichDoublesUpToTheCap) {
  const auto d = draw(2000, 1000ms, 300000ms);
  for (std::size_t i = 0; i < kBoundsMs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_GE(d.min[i], 0);
    EXPECT_LE(d.max[i], kBoundsMs[i]);
    // Full jitter: the whole range is used, from near nothing to near the bound ...
    EXPECT_LE(d.min[i], kBoundsMs[i] / 100);
    EXPECT_GE(d.max[i], kBoundsMs[i] * 99 / 100);
    // ... evenly: the mean of 2,000 uniform draws is within 5 % of half the bound (its
    // standard error is 0.65 %).
    EXPECT_NEAR(d.mean[i], kBoundsMs[i] / 2.0, kBoundsMs[i] * 0.05);
  }
  // It grows with the failures: each mean about twice the one before, until the cap.
  for (std::size_t i = 1; i < 9; ++i) {
    EXPECT_NEAR(d.mean[i] / d.mean[i - 1], 2.0, 0.2) << i;
  }
}

TEST(Backoff, ABaseThatDoesNotDivideTheCapStopsAtTheCap) {
  ps::Backoff b(700ms, 10000ms, 7);
  const std::int64_t bounds[] = {700, 1400, 2800, 5600, 10000, 10000};
  for (std::int64_t bound : bounds) {
    EXPECT_EQ(b.bound().count(), bound);
    EXPECT_LE(b.next().count(), bound);
  }
  // However many failures: no overflow, the cap holds.
  for (int i = 0; i < 200; ++i) {
    const auto w = b.next();
    ASSERT_GE(w.count(), 0);
    ASSERT_LE(w.count(), 10000);
  }
  EXPECT_EQ(b.bound(), 10000ms);
  ps::Backoff huge(86400000ms, 86400000ms, 7);  // the largest base and cap the configuration takes
  for (int i = 0; i < 100; ++i) {
    ASSERT_LE(huge.next(), 86400000ms);
  }
}

TEST(Backoff, ASuccessStartsItAgainFromTheBase) {
  for (int t = 0; t < 500; ++t) {
    ps::Backoff b(1000ms, 300000ms, 5000 + static_cast<std::uint64_t>(t));
    for (int i = 0; i < 12; ++i) {
      b.next();
    }
    ASSERT_EQ(b.failures(), 12);
    b.reset();
    EXPECT_EQ(b.failures(), 0);
    EXPECT_EQ(b.bound(), 1000ms);
    ASSERT_LE(b.next(), 1000ms) << t;  // without the reset: up to 300 s
  }
}

TEST(Backoff, StationsThatFailedTogetherDoNotComeBackTogether) {
  // Back-offs made without a seed draw differently: a fleet that lost the network at the same
  // moment spreads its retries over the whole window.
  std::set<std::int64_t> waits;
  for (int i = 0; i < 100; ++i) {
    ps::Backoff b(1000ms, 300000ms);
    for (int f = 0; f < 9; ++f) {
      b.next();
    }
    waits.insert(b.next().count());  // in [0, 300 s]
  }
  EXPECT_GT(waits.size(), 95u);
}

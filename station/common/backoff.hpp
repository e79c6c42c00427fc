// Exponential back-off with full jitter: after the n-th failure in a row, a uniformly random
// wait between 0 and min(cap, base × 2^n). The jitter keeps a fleet of stations that lost the
// network together from all coming back in the same second. A success resets it.
//
// The outbox's sender and the order feed both wait this way; the waits themselves run on the
// monotonic clock (steady_timer), this only says how long.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace packbench::station {

class Backoff {
 public:
  // Each back-off draws from its own generator, seeded from std::random_device unless a test
  // gives the seed: two stations never share a sequence of waits.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap)
      : Backoff(base, cap, std::random_device{}()) {}
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
      : base_(base), cap_(cap), rng_(seed) {}

  // The most the next wait can be: min(cap, base × 2^failures).
  std::chrono::milliseconds bound() const {
    const int shift = std::min(failures_, 30);
    return std::chrono::milliseconds(
        std::min<std::int64_t>(cap_.count(), base_.count() * (std::int64_t{1} << shift)));
  }

  // The wait before the next try, counting one more failure.
  std::chrono::milliseconds next() {
    const std::int64_t most = std::max<std::int64_t>(bound().count(), 0);
    ++failures_;
    std::uniform_int_distribution<std::int64_t> dist(0, most);
    return std::chrono::milliseconds(dist(rng_));
  }

  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace packbench::station

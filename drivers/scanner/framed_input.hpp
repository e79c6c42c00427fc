// The asynchronous side of framing, shared by every scanner backend: one ScanSink per scanner
// (stamps scans, applies the flood gate, hands them to the station), one FramedInput per byte
// stream (a LineFramer plus the timer that rejects a line whose terminator never comes), and
// the back-off between attempts to reopen a device.
//
// Both are held by shared_ptr and their timer handlers hold them too, so that a handler that
// completes after stop() finds its state still there.
#pragma once

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "packbench/drivers/scanner.hpp"
#include "scanner/line_framer.hpp"

namespace packbench::drivers {

class ScanSink : public std::enable_shared_from_this<ScanSink> {
 public:
  ScanSink(boost::asio::any_io_executor ex, std::string scanner, unsigned max_per_second);

  void start(ScanHandler on_scan);
  // Nothing is delivered after this; pending timers are cancelled.
  void stop();
  bool running() const { return static_cast<bool>(on_scan_); }

  // One framed line, good or rejected.
  void deliver(Scan scan);

 private:
  void hand_over(Scan scan);
  void arm();

  std::string scanner_;
  FloodGate gate_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  ScanHandler on_scan_;
};

class FramedInput : public std::enable_shared_from_this<FramedInput> {
 public:
  FramedInput(boost::asio::any_io_executor ex, FramerOptions options,
              std::shared_ptr<ScanSink> sink);

  void feed(std::string_view bytes);
  void poison(std::string reason);
  // The stream ended cleanly: a line in progress counts.
  void finish();
  // The stream broke: a line in progress is rejected with `reason`.
  void abort(std::string_view reason);
  void stop();

 private:
  void flush(std::vector<Scan>& scans);
  void arm();

  LineFramer framer_;
  std::shared_ptr<ScanSink> sink_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  bool stopped_ = false;
};

// Doubling delays between reconnection attempts, from `base` up to `cap`.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap)
      : base_(std::max(base, std::chrono::milliseconds(1))),
        cap_(std::max(cap, base_)),
        next_(base_) {}

  std::chrono::milliseconds next() {
    const auto d = next_;
    next_ = std::min(next_ * 2, cap_);
    return d;
  }
  void reset() { next_ = base_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::chrono::milliseconds next_;
};

// "750 ms", "2 s": delays in status lines.
std::string describe_delay(std::chrono::milliseconds d);

}  // namespace packbench::drivers

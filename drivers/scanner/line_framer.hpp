// The one place where bytes from a scanner become scans, shared by every backend: terminators,
// prefix/suffix stripping, AIM symbology identifiers, and the garbage rules (non-printable
// bytes, invalid UTF-8, overlong lines, unterminated lines, floods).
//
// Pure: no I/O, no timers, time comes in as an argument. The backends feed it and run the
// timers its deadline() asks for (see framed_input.hpp).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

using SteadyTime = std::chrono::steady_clock::time_point;

struct FramerOptions {
  Terminator terminator = Terminator::any;
  std::string prefix;
  std::string suffix;
  std::size_t max_line_bytes = 4096;
  std::chrono::milliseconds line_timeout{2000};

  static FramerOptions from(const ScannerOptions& o);
};

// Splits one byte stream into scans. One framer per stream (per TCP connection, per open of a
// device): lines from two streams must never mix.
class LineFramer {
 public:
  explicit LineFramer(FramerOptions options);

  // Consumes bytes that arrived at `now`; appends every scan they complete to `out`. Rejected
  // lines come out as scans with `rejected` set, in order with the good ones.
  void feed(std::string_view bytes, SteadyTime now, std::vector<Scan>& out);

  // The line in progress is garbage whatever follows (a key the wedge decoder cannot map, lost
  // input events): when it ends it comes out rejected with `reason`. The first reason wins.
  void poison(std::string reason, SteadyTime now);

  // The stream ended cleanly: the line in progress counts as terminated. `printf X | nc` and
  // some network readers end their last code with the connection instead of a terminator.
  void finish(std::vector<Scan>& out);

  // The stream broke (device unplugged, connection reset): the line in progress was cut off
  // and comes out rejected with `reason`.
  void abort(std::string_view reason, std::vector<Scan>& out);

  // When the line in progress times out (line_timeout after its last byte), if there is one.
  std::optional<SteadyTime> deadline() const;
  // Rejects the line in progress if its deadline has passed.
  void expire(SteadyTime now, std::vector<Scan>& out);

  bool in_line() const { return started_; }

 private:
  void push(char c, std::vector<Scan>& out);
  void end_line(std::vector<Scan>& out);
  void clear();

  FramerOptions options_;
  std::string pending_;
  bool started_ = false;     // a line is in progress (bytes or a poison since the last end)
  bool discarding_ = false;  // the line went over the limit and was reported already
  bool cr_seen_ = false;     // crlf: a CR waiting to see whether LF follows
  std::string poison_;
  SteadyTime last_byte_{};
};

// Collapses floods: more than `max_per_second` lines within one second is not scanning, it is
// a stuck trigger, a scanner in continuous mode, or noise. Lines over the limit are dropped and
// counted; the packer sees one rejected scan at once and then at most one a second while it
// lasts. Every line counts towards the rate, rejected ones too, so garbage floods collapse the
// same way.
class FloodGate {
 public:
  explicit FloodGate(unsigned max_per_second);

  // Returns what to deliver for this line: the scan itself, a flood report in its place, or
  // nothing (dropped and counted).
  std::optional<Scan> admit(Scan scan, SteadyTime now);

  // When poll() has something to say, if ever.
  std::optional<SteadyTime> deadline() const;
  // The periodic report of lines dropped since the last report, when one is due.
  std::optional<Scan> poll(SteadyTime now);

 private:
  static constexpr int kBuckets = 10;  // the last second in tenths
  void advance(SteadyTime now);
  unsigned rate() const;

  unsigned max_;
  std::array<unsigned, kBuckets> buckets_{};
  std::size_t head_ = 0;
  SteadyTime head_start_{};
  bool flooding_ = false;
  SteadyTime last_report_{};
  unsigned dropped_since_report_ = 0;
  std::string last_dropped_preview_;
};

// A printable rendering of bytes for logs and rejected scans: control bytes as <CR>, <LF>,
// <TAB>, <GS> or <0x07>, bytes that are not UTF-8 as <0xFF>, cut at about `max_chars`.
std::string printable_preview(std::string_view bytes, std::size_t max_chars = 80);

// The offset of the first byte that does not belong to well-formed UTF-8, if any.
std::optional<std::size_t> invalid_utf8_at(std::string_view bytes);

}  // namespace packbench::drivers

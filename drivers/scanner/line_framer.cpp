#include "scanner/line_framer.hpp"

#include <cstdio>

namespace packbench::drivers {

namespace {

constexpr char kGs = 0x1D;

struct Decoded {
  char32_t cp;
  std::size_t len;
};

// One code point of well-formed UTF-8 at `i` (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or nullopt.
std::optional<Decoded> decode(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    return Decoded{c, 1};
  }
  std::size_t len = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return std::nullopt;
  }
  if (i + len > s.size()) {
    return std::nullopt;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char d = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (d < min || d > max) {
      return std::nullopt;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  return Decoded{cp, len};
}

// C0 and C1 controls and DEL: nothing a person reads, and nothing a barcode should carry
// except GS (FNC1 in GS1 data), which the caller allows explicitly.
bool is_control(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

std::string control_name(char32_t cp) {
  switch (cp) {
    case 0x02:
      return "<STX>";
    case 0x03:
      return "<ETX>";
    case 0x04:
      return "<EOT>";
    case 0x09:
      return "<TAB>";
    case 0x0A:
      return "<LF>";
    case 0x0D:
      return "<CR>";
    case 0x1B:
      return "<ESC>";
    case 0x1D:
      return "<GS>";
    case 0x1E:
      return "<RS>";
    default:
      break;
  }
  if (cp < 0x80) {
    return "<" + hex_byte(static_cast<unsigned char>(cp)) + ">";
  }
  // C1 controls arrive as two well-formed UTF-8 bytes: name the code point, not a byte.
  char buf[16];
  std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
  return buf;
}

std::string_view terminator_words(Terminator t) {
  switch (t) {
    case Terminator::any:
      return "CR or LF";
    case Terminator::cr:
      return "CR (Enter)";
    case Terminator::lf:
      return "LF";
    case Terminator::crlf:
      return "CR LF";
    case Terminator::tab:
      return "TAB";
  }
  return "?";
}

bool is_ascii_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_ascii_alnum(char c) {
  return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}

// Everything about one complete line: stripping, the garbage rules, the identifier.
Scan judge(std::string_view raw, const FramerOptions& o, const std::string& poison) {
  Scan s;
  auto reject = [&](std::string why) {
    s.rejected = std::move(why);
    s.data = printable_preview(raw);
    return s;
  };
  if (!poison.empty()) {
    return reject(poison);
  }
  std::string_view body = raw;
  if (!o.prefix.empty()) {
    if (!body.starts_with(o.prefix)) {
      return reject("does not start with the configured prefix '" + printable_preview(o.prefix) +
                    "'");
    }
    body.remove_prefix(o.prefix.size());
  }
  if (!o.suffix.empty()) {
    if (!body.ends_with(o.suffix)) {
      return reject("does not end with the configured suffix '" + printable_preview(o.suffix) +
                    "'");
    }
    body.remove_suffix(o.suffix.size());
  }
  if (const auto at = invalid_utf8_at(body)) {
    return reject("not valid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(body[*at])) +
                  " at position " + std::to_string(*at + 1) + ")");
  }
  for (std::size_t i = 0; i < body.size();) {
    const auto d = decode(body, i);
    if (is_control(d->cp) && d->cp != static_cast<char32_t>(kGs)) {
      return reject("non-printable character " + control_name(d->cp) + " at position " +
                    std::to_string(i + 1));
    }
    i += d->len;
  }
  // AIM identifier (ISO/IEC 15424): ']', a symbology letter, a modifier letter or digit. It
  // only ever comes first, so data that merely contains "]C1" further on is left alone.
  if (body.size() >= 3 && body[0] == ']' && is_ascii_alpha(body[1]) && is_ascii_alnum(body[2])) {
    s.symbology = std::string(body.substr(0, 3));
    body.remove_prefix(3);
  }
  if (body.empty()) {
    return reject("no data after the prefix, suffix and symbology identifier");
  }
  s.data = std::string(body);
  return s;
}

}  // namespace

FramerOptions FramerOptions::from(const ScannerOptions& o) {
  FramerOptions f;
  f.terminator = o.terminator;
  f.prefix = o.prefix;
  f.suffix = o.suffix;
  f.max_line_bytes = o.max_line_bytes;
  f.line_timeout = o.line_timeout;
  return f;
}

// --- LineFramer ------------------------------------------------------------------------------

LineFramer::LineFramer(FramerOptions options) : options_(std::move(options)) {
  if (options_.max_line_bytes == 0) {
    options_.max_line_bytes = 1;
  }
}

void LineFramer::feed(std::string_view bytes, SteadyTime now, std::vector<Scan>& out) {
  if (bytes.empty()) {
    return;
  }
  last_byte_ = now;
  for (char c : bytes) {
    switch (options_.terminator) {
      case Terminator::any:
        if (c == '\r' || c == '\n') {
          end_line(out);
          continue;
        }
        break;
      case Terminator::cr:
        if (c == '\r') {
          end_line(out);
          continue;
        }
        break;
      case Terminator::lf:
        if (c == '\n') {
          end_line(out);
          continue;
        }
        break;
      case Terminator::tab:
        if (c == '\t') {
          end_line(out);
          continue;
        }
        break;
      case Terminator::crlf:
        if (cr_seen_) {
          cr_seen_ = false;
          if (c == '\n') {
            end_line(out);
            continue;
          }
          // A CR on its own is data, and the garbage rules will name it.
          push('\r', out);
        }
        if (c == '\r') {
          cr_seen_ = true;
          started_ = true;
          continue;
        }
        break;
    }
    push(c, out);
  }
}

void LineFramer::push(char c, std::vector<Scan>& out) {
  started_ = true;
  if (discarding_) {
    return;
  }
  if (pending_.size() >= options_.max_line_bytes) {
    // Reported now rather than at the terminator, which may never come.
    Scan s;
    s.rejected = "longer than " + std::to_string(options_.max_line_bytes) +
                 " bytes; the rest of the line is dropped";
    s.data = printable_preview(pending_, 40);
    out.push_back(std::move(s));
    pending_.clear();
    discarding_ = true;
    return;
  }
  pending_.push_back(c);
}

void LineFramer::poison(std::string reason, SteadyTime now) {
  if (poison_.empty()) {
    poison_ = std::move(reason);
  }
  started_ = true;
  last_byte_ = now;
}

void LineFramer::end_line(std::vector<Scan>& out) {
  // Empty lines (the LF of a CR LF under `any`, blank lines) are not scans.
  if (started_ && !discarding_) {
    out.push_back(judge(pending_, options_, poison_));
  }
  clear();
}

void LineFramer::finish(std::vector<Scan>& out) {
  if (cr_seen_) {
    // "X\r" then the end of the stream under crlf: the CR was meant as the terminator.
    cr_seen_ = false;
  }
  end_line(out);
}

void LineFramer::abort(std::string_view reason, std::vector<Scan>& out) {
  if (started_ && !discarding_) {
    Scan s;
    s.rejected = poison_.empty() ? std::string(reason) : poison_;
    s.data = printable_preview(pending_);
    out.push_back(std::move(s));
  }
  clear();
}

std::optional<SteadyTime> LineFramer::deadline() const {
  if (!started_) {
    return std::nullopt;
  }
  return last_byte_ + options_.line_timeout;
}

void LineFramer::expire(SteadyTime now, std::vector<Scan>& out) {
  const auto due = deadline();
  if (!due || now < *due) {
    return;
  }
  if (discarding_) {
    // Already reported when it went over the limit; the next bytes start a new line.
    clear();
    return;
  }
  abort("no " + std::string(terminator_words(options_.terminator)) + " within " +
            std::to_string(options_.line_timeout.count()) + " ms of the last byte",
        out);
}

void LineFramer::clear() {
  pending_.clear();
  started_ = false;
  discarding_ = false;
  cr_seen_ = false;
  poison_.clear();
}

// --- FloodGate -------------------------------------------------------------------------------

namespace {
constexpr std::chrono::milliseconds kTenth{100};
constexpr std::chrono::seconds kReportEvery{1};
}  // namespace

FloodGate::FloodGate(unsigned max_per_second) : max_(max_per_second == 0 ? 1 : max_per_second) {}

void FloodGate::advance(SteadyTime now) {
  if (head_start_ == SteadyTime{}) {
    head_start_ = now;
    return;
  }
  if (now < head_start_) {
    return;
  }
  const auto steps = (now - head_start_) / kTenth;
  if (steps <= 0) {
    return;
  }
  if (steps >= kBuckets) {
    buckets_.fill(0);
    head_start_ = now;
    return;
  }
  for (long k = 0; k < steps; ++k) {
    head_ = (head_ + 1) % kBuckets;
    buckets_[head_] = 0;
  }
  head_start_ += steps * kTenth;
}

unsigned FloodGate::rate() const {
  unsigned sum = 0;
  for (auto b : buckets_) {
    sum += b;
  }
  return sum;
}

std::optional<Scan> FloodGate::admit(Scan scan, SteadyTime now) {
  advance(now);
  ++buckets_[head_];
  if (rate() <= max_) {
    return scan;
  }
  const std::string preview = printable_preview(scan.data, 40);
  if (!flooding_) {
    flooding_ = true;
    last_report_ = now;
    dropped_since_report_ = 0;
    Scan report;
    report.rejected = "flood: more than " + std::to_string(max_) +
                      " scans within one second; lines are dropped until it stops";
    report.data = preview;
    return report;
  }
  ++dropped_since_report_;
  last_dropped_preview_ = preview;
  return std::nullopt;
}

std::optional<SteadyTime> FloodGate::deadline() const {
  if (!flooding_) {
    return std::nullopt;
  }
  return last_report_ + kReportEvery;
}

std::optional<Scan> FloodGate::poll(SteadyTime now) {
  const auto due = deadline();
  if (!due || now < *due) {
    return std::nullopt;
  }
  if (dropped_since_report_ == 0) {
    flooding_ = false;  // a quiet second: the flood is over
    return std::nullopt;
  }
  Scan report;
  report.rejected = "flood continues: " + std::to_string(dropped_since_report_) +
                    " more lines dropped (limit " + std::to_string(max_) + " scans a second)";
  report.data = last_dropped_preview_;
  dropped_since_report_ = 0;
  last_report_ = now;
  return report;
}

// --- helpers ---------------------------------------------------------------------------------

std::optional<std::size_t> invalid_utf8_at(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const auto d = decode(bytes, i);
    if (!d) {
      return i;
    }
    i += d->len;
  }
  return std::nullopt;
}

std::string printable_preview(std::string_view bytes, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size();) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto d = decode(bytes, i);
    if (!d) {
      out += "<" + hex_byte(static_cast<unsigned char>(bytes[i])) + ">";
      ++i;
      continue;
    }
    if (is_control(d->cp)) {
      out += control_name(d->cp);
    } else {
      out.append(bytes.substr(i, d->len));
    }
    i += d->len;
  }
  return out;
}

}  // namespace packbench::drivers

namespace packbench::drivers {

Scan scan_from_text(std::string_view scanner, std::string_view text) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Scan> out;
  if (text.find_first_of("\r\n") == std::string_view::npos) {
    LineFramer framer{FramerOptions{}};
    framer.feed(text, now, out);
    framer.feed("\n", now, out);
  }
  Scan scan;
  if (out.size() == 1) {
    scan = std::move(out.front());
  } else {
    scan.data = printable_preview(text);
    scan.rejected = text.empty() ? "empty scan" : "more than one line in one scan";
  }
  scan.scanner = std::string(scanner);
  scan.received_at = std::chrono::system_clock::now();
  scan.received_mono = now;
  return scan;
}

}  // namespace packbench::drivers

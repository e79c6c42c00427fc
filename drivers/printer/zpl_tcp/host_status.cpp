#include "printer/zpl_tcp/host_status.hpp"

#include <array>
#include <charconv>
#include <vector>

namespace packbench::drivers::zpl {

namespace {

constexpr char kStx = '\x02';
constexpr char kEtx = '\x03';

// The fields each string must have at least (ZPL II Programming Guide, ~HS); later firmware
// may add more, which are ignored.
constexpr std::array<std::size_t, 3> kMinFields{12, 11, 2};
constexpr std::size_t kMaxStringBytes = 128;

std::string printable(char c) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    return std::string("'") + c + "'";
  }
  return std::string("0x") + hex[u >> 4] + hex[u & 0xf];
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (comma == std::string_view::npos) {
      return out;
    }
    start = comma + 1;
  }
}

// One string's fields, checked as the guide defines them: digits only, flags 0 or 1.
class Fields {
 public:
  Fields(int string_no, std::vector<std::string_view> f) : no_(string_no), f_(std::move(f)) {}

  Result<std::int64_t> number(std::size_t i, const char* what) const {
    const auto v = f_.at(i);
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || v.size() > 12 || ec != std::errc() || end != v.data() + v.size() || n < 0) {
      return Error{where(i) + " (" + what + ") is '" + std::string(v) + "', not a number"};
    }
    return n;
  }

  Result<bool> flag(std::size_t i, const char* what) const {
    const auto v = f_.at(i);
    if (v != "0" && v != "1") {
      return Error{where(i) + " (" + what + ") is '" + std::string(v) + "', not 0 or 1"};
    }
    return v == "1";
  }

 private:
  std::string where(std::size_t i) const {
    return "string " + std::to_string(no_) + " field " + std::to_string(i + 1);
  }
  int no_;
  std::vector<std::string_view> f_;
};

Result<HostStatus> read_fields(const std::array<std::string_view, 3>& strings) {
  HostStatus s;
  std::array<std::vector<std::string_view>, 3> fields;
  for (std::size_t k = 0; k < 3; ++k) {
    fields[k] = split(strings[k]);  // parse_host_status checked their number
  }
  // Every flag and number the station reads, in the order the guide lists them. Unused fields
  // (string 1's iii, string 2's n) and the password are not checked.
  const Fields one(1, fields[0]);
  const Fields two(2, fields[1]);
  const Fields three(3, fields[2]);
  struct Flag {
    const Fields& in;
    std::size_t index;
    const char* what;
    bool* dst;
  };
  const std::array<Flag, 13> flags{{
      {one, 1, "paper out flag", &s.paper_out},
      {one, 2, "pause flag", &s.paused},
      {one, 5, "buffer full flag", &s.buffer_full},
      {one, 6, "diagnostic mode flag", &s.diagnostic_mode},
      {one, 7, "partial format flag", &s.partial_format},
      {one, 9, "corrupt RAM flag", &s.corrupt_ram},
      {one, 10, "under temperature flag", &s.under_temperature},
      {one, 11, "over temperature flag", &s.over_temperature},
      {two, 2, "head up flag", &s.head_up},
      {two, 3, "ribbon out flag", &s.ribbon_out},
      {two, 4, "thermal transfer flag", &s.thermal_transfer},
      {two, 7, "label waiting flag", &s.label_waiting},
      {three, 1, "static RAM flag", &s.static_ram_installed},
  }};
  for (const auto& f : flags) {
    auto v = f.in.flag(f.index, f.what);
    if (!v) {
      return v.error();
    }
    *f.dst = *v;
  }
  struct Number {
    const Fields& in;
    std::size_t index;
    const char* what;
    std::int64_t max;
  };
  const std::array<Number, 6> numbers{{
      {one, 0, "communication settings", 999},
      {one, 3, "label length", 99999},
      {one, 4, "formats in buffer", 999},
      {two, 0, "function settings", 999},
      {two, 5, "print mode", 99},
      {two, 8, "labels remaining", 99999999},
  }};
  std::array<std::int64_t, 6> values{};
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    auto v = numbers[i].in.number(numbers[i].index, numbers[i].what);
    if (!v) {
      return v.error();
    }
    if (*v > numbers[i].max) {
      return Error{std::string(numbers[i].what) + " " + std::to_string(*v) + " is out of range"};
    }
    values[i] = *v;
  }
  s.label_length_dots = static_cast<int>(values[1]);
  s.formats_in_buffer = static_cast<int>(values[2]);
  s.print_mode = static_cast<int>(values[4]);
  s.labels_remaining = values[5];
  return s;
}

}  // namespace

Result<std::optional<HostStatus>> parse_host_status(std::string_view bytes) {
  std::array<std::string_view, 3> strings;
  std::size_t i = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    // Line ends between strings (and any a printer sends first) carry nothing.
    while (i < bytes.size() && (bytes[i] == '\r' || bytes[i] == '\n')) {
      ++i;
    }
    if (i == bytes.size()) {
      return std::optional<HostStatus>();
    }
    if (bytes[i] != kStx) {
      return Error{"expected STX to start string " + std::to_string(k + 1) + ", got " +
                   printable(bytes[i])};
    }
    const std::size_t start = ++i;
    while (i < bytes.size() && bytes[i] != kEtx) {
      const auto u = static_cast<unsigned char>(bytes[i]);
      if (u < 0x20 || u >= 0x7f) {
        return Error{"string " + std::to_string(k + 1) + " holds the byte " + printable(bytes[i])};
      }
      if (i - start >= kMaxStringBytes) {
        return Error{"string " + std::to_string(k + 1) + " is longer than " +
                     std::to_string(kMaxStringBytes) + " bytes"};
      }
      ++i;
    }
    if (i == bytes.size()) {
      return std::optional<HostStatus>();
    }
    strings[k] = bytes.substr(start, i - start);
    ++i;  // the ETX
    // A string short of fields is wrong already: say so without waiting for the rest.
    if (const auto n = split(strings[k]).size(); n < kMinFields[k]) {
      return Error{"string " + std::to_string(k + 1) + " has " + std::to_string(n) +
                   " fields, not " + std::to_string(kMinFields[k])};
    }
  }
  auto s = read_fields(strings);
  if (!s) {
    return s.error();
  }
  return std::optional<HostStatus>(*s);
}

DeviceStatus describe(const HostStatus& s) {
  DeviceStatus out;
  std::string words;
  auto add = [&](const char* condition, const char* text) {
    out.conditions.emplace_back(condition);
    words += (words.empty() ? "" : ", ") + std::string(text);
  };
  // The order a packer fixes them in: paper and ribbon in, head closed, then resume.
  if (s.paper_out) {
    add("paper_out", "paper out");
  }
  if (s.ribbon_out) {
    add("ribbon_out", "ribbon out");
  }
  if (s.head_up) {
    add("head_open", "head open");
  }
  if (s.over_temperature) {
    add("head_too_hot", "head too hot");
  }
  if (s.paused) {
    add("paused", "paused");
  }
  if (!out.conditions.empty()) {
    out.state = DeviceState::fault;
    out.detail = words;
    return out;
  }
  if (s.buffer_full) {
    // Not a fault: the printer is working through what it has. It is not sent more until it
    // has room, or the write would stall in its TCP window.
    out.state = DeviceState::busy;
    out.conditions.emplace_back("buffer_full");
    out.detail = "receive buffer full";
    return out;
  }
  out.state = DeviceState::ready;
  out.detail = "ready";
  if (s.corrupt_ram) {
    out.detail += "; it lost its configuration (corrupt RAM flag): check its settings";
  }
  if (s.under_temperature) {
    out.detail += "; head below its temperature range, print may be light";
  }
  return out;
}

}  // namespace packbench::drivers::zpl

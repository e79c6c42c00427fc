#include "station/gs1/gs1.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <chrono>
#include <cstdint>
#include <map>

namespace packbench::station::gs1 {

namespace json = boost::json;

namespace {

constexpr char kGS = '\x1d';

// Nothing GS1 prints carries more than a few thousand characters (a DataMatrix holds at most
// 3116 digits); a longer "scan" is a stuck key or a flood, and reading it would only cost time.
constexpr std::size_t kMaxInput = 4096;

// --- the AI table -----------------------------------------------------------------------------
//
// Facts from the GS1 General Specifications and the GS1 Barcode Syntax Dictionary: which AIs
// exist, how long their data is and what it may hold. docs/gs1.md lists the same table.

enum class Cset : std::uint8_t { digits, cset82 };
enum class Lint : std::uint8_t {
  none,
  check_digit,    // GS1 mod-10 over the whole part
  date_or_month,  // YYMMDD, DD may be 00 ("the month": end of month for best-before/expiry)
  date,           // YYMMDD, a real day
  date_time,      // YYMMDDHHMM
};

struct Part {
  Cset cset = Cset::digits;
  std::uint8_t min = 0;  // 0: the part is optional (only ever the last part)
  std::uint8_t max = 0;  // 0: no such part
  Lint lint = Lint::none;
};

constexpr Part n(std::uint8_t len, Lint lint = Lint::none) {
  return {Cset::digits, len, len, lint};
}
constexpr Part n_up_to(std::uint8_t max) {
  return {Cset::digits, 1, max, Lint::none};
}
constexpr Part n_optional(std::uint8_t max) {
  return {Cset::digits, 0, max, Lint::none};
}
constexpr Part x_up_to(std::uint8_t max) {
  return {Cset::cset82, 1, max, Lint::none};
}
constexpr Part x_optional(std::uint8_t max) {
  return {Cset::cset82, 0, max, Lint::none};
}

enum class Decimals : std::uint8_t {
  none,
  last_digit,                 // 310n, 390n: the AI's last digit says how many decimals
  last_digit_after_currency,  // 391n, 393n: ISO 4217 currency (3 digits), then the amount
};

struct AiSpec {
  std::string_view prefix;  // "01"; for a family such as 310n, the digits before n ("310")
  char lo = 0;              // for a family: the range of n ('0'..'5'); 0 for a single AI
  char hi = 0;
  std::string_view title;
  Part first;
  Part second = {};
  Decimals decimals = Decimals::none;

  std::size_t ai_length() const { return prefix.size() + (lo ? 1 : 0); }
  std::size_t min_length() const { return first.min + second.min; }
  std::size_t max_length() const { return std::size_t{first.max} + second.max; }
  bool fixed() const { return first.min == first.max && second.min == second.max; }
};

constexpr Lint kSum = Lint::check_digit;
constexpr Lint kDay0 = Lint::date_or_month;

// No AI here is a prefix of another: that is what lets a reader find where an AI ends.
constexpr std::array kTable = {
    AiSpec{"00", 0, 0, "SSCC", n(18, kSum)},
    AiSpec{"01", 0, 0, "GTIN", n(14, kSum)},
    AiSpec{"02", 0, 0, "CONTENT", n(14, kSum)},
    AiSpec{"10", 0, 0, "BATCH/LOT", x_up_to(20)},
    AiSpec{"11", 0, 0, "PROD DATE", n(6, kDay0)},
    AiSpec{"12", 0, 0, "DUE DATE", n(6, kDay0)},
    AiSpec{"13", 0, 0, "PACK DATE", n(6, kDay0)},
    AiSpec{"15", 0, 0, "BEST BEFORE or BEST BY", n(6, kDay0)},
    AiSpec{"16", 0, 0, "SELL BY", n(6, kDay0)},
    AiSpec{"17", 0, 0, "USE BY or EXPIRY", n(6, kDay0)},
    AiSpec{"20", 0, 0, "VARIANT", n(2)},
    AiSpec{"21", 0, 0, "SERIAL", x_up_to(20)},
    AiSpec{"22", 0, 0, "CPV", x_up_to(20)},
    AiSpec{"235", 0, 0, "TPX", x_up_to(28)},
    AiSpec{"240", 0, 0, "ADDITIONAL ID", x_up_to(30)},
    AiSpec{"241", 0, 0, "CUST. PART No.", x_up_to(30)},
    AiSpec{"250", 0, 0, "SECONDARY SERIAL", x_up_to(30)},
    AiSpec{"251", 0, 0, "REF. TO SOURCE", x_up_to(30)},
    AiSpec{"253", 0, 0, "GDTI", n(13, kSum), x_optional(17)},
    AiSpec{"254", 0, 0, "GLN EXTENSION COMPONENT", x_up_to(20)},
    AiSpec{"255", 0, 0, "GCN", n(13, kSum), n_optional(12)},
    AiSpec{"30", 0, 0, "VAR. COUNT", n_up_to(8)},
    AiSpec{"310", '0', '5', "NET WEIGHT (kg)", n(6), {}, Decimals::last_digit},
    AiSpec{"311", '0', '5', "LENGTH (m)", n(6), {}, Decimals::last_digit},
    AiSpec{"312", '0', '5', "WIDTH (m)", n(6), {}, Decimals::last_digit},
    AiSpec{"313", '0', '5', "HEIGHT (m)", n(6), {}, Decimals::last_digit},
    AiSpec{"314", '0', '5', "AREA (m²)", n(6), {}, Decimals::last_digit},
    AiSpec{"315", '0', '5', "NET VOLUME (l)", n(6), {}, Decimals::last_digit},
    AiSpec{"316", '0', '5', "NET VOLUME (m³)", n(6), {}, Decimals::last_digit},
    AiSpec{"320", '0', '5', "NET WEIGHT (lb)", n(6), {}, Decimals::last_digit},
    AiSpec{"330", '0', '5', "GROSS WEIGHT (kg)", n(6), {}, Decimals::last_digit},
    AiSpec{"340", '0', '5', "GROSS WEIGHT (lb)", n(6), {}, Decimals::last_digit},
    AiSpec{"37", 0, 0, "COUNT", n_up_to(8)},
    AiSpec{"390", '0', '9', "AMOUNT", n_up_to(15), {}, Decimals::last_digit},
    AiSpec{"391", '0', '9', "AMOUNT", n(3), n_up_to(15), Decimals::last_digit_after_currency},
    AiSpec{"392", '0', '9', "PRICE", n_up_to(15), {}, Decimals::last_digit},
    AiSpec{"393", '0', '9', "PRICE", n(3), n_up_to(15), Decimals::last_digit_after_currency},
    AiSpec{"400", 0, 0, "ORDER NUMBER", x_up_to(30)},
    AiSpec{"401", 0, 0, "GINC", x_up_to(30)},
    AiSpec{"402", 0, 0, "GSIN", n(17, kSum)},
    AiSpec{"403", 0, 0, "ROUTE", x_up_to(30)},
    AiSpec{"410", 0, 0, "SHIP TO LOC", n(13, kSum)},
    AiSpec{"411", 0, 0, "BILL TO", n(13, kSum)},
    AiSpec{"412", 0, 0, "PURCHASE FROM", n(13, kSum)},
    AiSpec{"413", 0, 0, "SHIP FOR LOC", n(13, kSum)},
    AiSpec{"414", 0, 0, "LOC No.", n(13, kSum)},
    AiSpec{"415", 0, 0, "PAY TO", n(13, kSum)},
    AiSpec{"416", 0, 0, "PROD/SERV LOC", n(13, kSum)},
    AiSpec{"417", 0, 0, "PARTY", n(13, kSum)},
    AiSpec{"420", 0, 0, "SHIP TO POST", x_up_to(20)},
    AiSpec{"421", 0, 0, "SHIP TO POST", n(3), x_up_to(9)},
    AiSpec{"422", 0, 0, "ORIGIN", n(3)},
    AiSpec{"7003", 0, 0, "EXPIRY TIME", n(10, Lint::date_time)},
    AiSpec{"8003", 0, 0, "GRAI", n(14, kSum), x_optional(16)},
    AiSpec{"8004", 0, 0, "GIAI", x_up_to(30)},
    AiSpec{"8006", 0, 0, "ITIP", n(14, kSum), n(4)},
    AiSpec{"8017", 0, 0, "GSRN - PROVIDER", n(18, kSum)},
    AiSpec{"8018", 0, 0, "GSRN - RECIPIENT", n(18, kSum)},
    AiSpec{"8020", 0, 0, "REF No.", x_up_to(25)},
    AiSpec{"8200", 0, 0, "PRODUCT URL", x_up_to(70)},
    AiSpec{"90", 0, 0, "INTERNAL", x_up_to(30)},
    AiSpec{"9", '1', '9', "INTERNAL", x_up_to(90)},
};

struct FoundAi {
  const AiSpec* spec;
  std::size_t length;
};

// The AI that `s` starts with.
std::optional<FoundAi> ai_at(std::string_view s) {
  for (const auto& a : kTable) {
    const std::size_t len = a.ai_length();
    if (s.size() < len || s.substr(0, a.prefix.size()) != a.prefix) {
      continue;
    }
    if (a.lo && (s[a.prefix.size()] < a.lo || s[a.prefix.size()] > a.hi)) {
      continue;
    }
    return FoundAi{&a, len};
  }
  return std::nullopt;
}

// `ai` exactly (as written between parentheses or in a Digital Link).
const AiSpec* known_ai(std::string_view ai) {
  const auto found = ai_at(ai);
  return found && found->length == ai.size() ? found->spec : nullptr;
}

// AIs whose length GS1 fixed once and for all: no GS follows them even when more data does.
// Every other AI needs a GS after it unless it ends the data.
bool predefined_length(std::string_view ai) {
  static constexpr std::array<std::string_view, 22> kPrefixes = {
      "00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16",
      "17", "18", "19", "20", "31", "32", "33", "34", "35", "36", "41"};
  return ai.size() >= 2 &&
         std::find(kPrefixes.begin(), kPrefixes.end(), ai.substr(0, 2)) != kPrefixes.end();
}

// --- small text helpers -----------------------------------------------------------------------

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// GS1 "CSET 82": the printable ASCII that GS1 element strings may carry (no space, none of
// # $ @ [ ] ^ ` { | } ~ and no backslash).
bool in_cset82(char c) {
  if (is_digit(c) || is_alpha(c)) {
    return true;
  }
  return std::string_view("!\"%&'()*+,-./:;<=>?_").find(c) != std::string_view::npos;
}

// Length of the well-formed UTF-8 sequence at s[i], 0 when there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return i + k < s.size() && b(k) >= lo && b(k) <= hi;
  };
  const unsigned c = b(0);
  if (c < 0x80) {
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Text that shows what was there and is always valid, printable UTF-8: a GS as "<GS>" (what a
// person types to `stationctl scan explain`), other control bytes and bytes that are not UTF-8 as
// "\xNN".
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == kGS) {
      out += "<GS>";
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(s, i);
    if (len == 0 || c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

std::string preview(std::string_view s, std::size_t max = 12) {
  return s.size() > max ? printable(s.substr(0, max)) + "..." : printable(s);
}

std::string quoted(std::string_view s) {
  return "\"" + printable(s) + "\"";
}

// The character at s[i] as a person would name it.
std::string char_at(std::string_view s, std::size_t i) {
  if (s[i] == ' ') {
    return "a space";
  }
  const std::size_t len = std::max<std::size_t>(1, utf8_sequence(s, i));
  return "'" + printable(s.substr(i, len)) + "'";
}

std::string label(std::string_view ai, const AiSpec& spec) {
  return "AI " + std::string(ai) + " (" + std::string(spec.title) + ")";
}

// --- dates ------------------------------------------------------------------------------------

int current_year() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(today).year());
}

// GS1 General Specifications 7.12: a two-digit year is within 49 years ahead of this one or 50
// behind it.
int full_year(int yy, int this_year) {
  const int century = this_year / 100 * 100;
  const int diff = yy - this_year % 100;
  if (diff >= 51) {
    return century - 100 + yy;
  }
  if (diff <= -50) {
    return century + 100 + yy;
  }
  return century + yy;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

int two_digits(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

std::string two(int v) {
  return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}

// Why `digits` (6 or 10 digits, already known to be digits) is not a date or date-time, or "".
std::string date_problem(std::string_view digits, Lint lint, int this_year) {
  const int year = full_year(two_digits(digits, 0), this_year);
  const int month = two_digits(digits, 2);
  const int day = two_digits(digits, 4);
  const std::string what = std::string(digits) + " is not a date: ";
  if (month < 1 || month > 12) {
    return what + "there is no month " + two(month);
  }
  if (day == 0 && lint != Lint::date_or_month) {
    return what + "day 00 is not allowed here";
  }
  if (day > days_in_month(year, month)) {
    return what + std::string(kMonths[static_cast<std::size_t>(month - 1)]) + " " +
           std::to_string(year) + " has " + std::to_string(days_in_month(year, month)) + " days";
  }
  if (lint == Lint::date_time) {
    if (two_digits(digits, 6) > 23) {
      return std::string(digits) + " is not a time: there is no hour " + two(two_digits(digits, 6));
    }
    if (two_digits(digits, 8) > 59) {
      return std::string(digits) + " is not a time: there is no minute " +
             two(two_digits(digits, 8));
    }
  }
  return {};
}

std::string date_meaning(std::string_view ai, std::string_view digits, int this_year) {
  const int year = full_year(two_digits(digits, 0), this_year);
  const int month = two_digits(digits, 2);
  const int day = two_digits(digits, 4);
  const std::string ym = std::to_string(year) + "-" + two(month);
  std::string out;
  if (day != 0) {
    out = ym + "-" + two(day);
  } else if (ai == "15" || ai == "16" || ai == "17") {
    // For best-before, sell-by and expiry GS1 reads day 00 as the last day of the month.
    out = ym + "-" + two(days_in_month(year, month)) + " (end of month)";
  } else {
    out = ym + " (no day)";
  }
  if (digits.size() == 10) {
    out += " " + two(two_digits(digits, 6)) + ":" + two(two_digits(digits, 8));
  }
  return out;
}

// "001500" with 3 decimals -> "1.500".
std::string with_decimals(std::string_view digits, std::size_t decimals) {
  std::string padded(digits);
  if (padded.size() <= decimals) {
    padded.insert(0, decimals + 1 - padded.size(), '0');
  }
  std::string whole = padded.substr(0, padded.size() - decimals);
  const std::size_t nonzero = whole.find_first_not_of('0');
  whole = nonzero == std::string::npos ? "0" : whole.substr(nonzero);
  return decimals == 0 ? whole : whole + "." + padded.substr(padded.size() - decimals);
}

// --- checking one value -----------------------------------------------------------------------

// Whether `v` is a good value for the AI. `strict` adds the content checks (check digits, dates)
// to the structural ones (length, characters). When `why` is given and the value is bad, the
// reason is written there.
bool check_value(const AiSpec& spec, std::string_view ai, std::string_view v, bool strict,
                 int this_year, std::string* why = nullptr) {
  const bool numeric =
      spec.first.cset == Cset::digits && (spec.second.max == 0 || spec.second.cset == Cset::digits);
  const std::string unit = numeric ? " digits" : " characters";
  const auto fail = [&](const std::string& text) {
    if (why) {
      *why = label(ai, spec) + ": " + text;
    }
    return false;
  };
  if (v.size() < spec.min_length() || v.size() > spec.max_length()) {
    if (!why) {
      return false;
    }
    if (spec.fixed()) {
      return fail("needs " + std::to_string(spec.max_length()) + unit + ", got " +
                  std::to_string(v.size()));
    }
    if (v.empty()) {
      return fail("is empty");
    }
    if (v.size() < spec.min_length()) {
      return fail("needs at least " + std::to_string(spec.min_length()) + unit + ", got " +
                  std::to_string(v.size()));
    }
    return fail("is " + std::to_string(v.size()) + " characters long, at most " +
                std::to_string(spec.max_length()) + " allowed");
  }
  const std::size_t first_len = spec.second.max == 0 ? v.size() : spec.first.max;
  const std::array<std::pair<Part, std::string_view>, 2> parts = {
      std::pair{spec.first, v.substr(0, first_len)}, std::pair{spec.second, v.substr(first_len)}};
  std::size_t offset = 0;
  for (const auto& [part, text] : parts) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (part.cset == Cset::digits ? !is_digit(c) : !in_cset82(c)) {
        if (!why) {
          return false;
        }
        if (numeric) {
          return fail("must be digits only, found " + char_at(v, offset + i));
        }
        if (part.cset == Cset::digits) {
          return fail("the first " + std::to_string(spec.first.max) + " must be digits, found " +
                      char_at(v, offset + i));
        }
        return fail("has " + char_at(v, offset + i) + ", which GS1 does not allow in a value");
      }
    }
    offset += text.size();
  }
  if (!strict) {
    return true;
  }
  for (const auto& [part, text] : parts) {
    switch (part.lint) {
      case Lint::none:
        break;
      case Lint::check_digit:
        if (!valid_check_digit(text)) {
          if (!why) {
            return false;
          }
          // The check digit the other digits call for: replace the last and find the one.
          std::string fixed(text);
          for (char d = '0'; d <= '9'; ++d) {
            fixed.back() = d;
            if (valid_check_digit(fixed)) {
              break;
            }
          }
          return fail("wrong check digit: " + std::string(text) + " should end in " + fixed.back());
        }
        break;
      case Lint::date_or_month:
      case Lint::date:
      case Lint::date_time:
        if (std::string problem = date_problem(text, part.lint, this_year); !problem.empty()) {
          return fail(problem);
        }
        break;
    }
  }
  return true;
}

Element make_element(const AiSpec& spec, std::string_view ai, std::string_view value,
                     int this_year) {
  Element e{std::string(ai), std::string(spec.title), std::string(value), {}};
  if (!check_value(spec, ai, value, true, this_year)) {
    return e;  // a plain-form reading of a bad value would only mislead
  }
  const std::size_t decimals = static_cast<std::size_t>(ai.back() - '0');
  switch (spec.decimals) {
    case Decimals::none:
      break;
    case Decimals::last_digit:
      e.meaning = with_decimals(value, decimals);
      return e;
    case Decimals::last_digit_after_currency:
      e.meaning = with_decimals(value.substr(3), decimals) + ", currency " +
                  std::string(value.substr(0, 3));
      return e;
  }
  const Lint lint = spec.first.lint;
  if (lint == Lint::date || lint == Lint::date_or_month || lint == Lint::date_time) {
    e.meaning = date_meaning(ai, value, this_year);
  }
  return e;
}

// --- element strings --------------------------------------------------------------------------

// Where the values in a run of element strings without GS can end. A run is the data between
// two GS (or all of it when no GS came at all). Fixed-length AIs end by their length; a
// variable-length one ends at the end of the run, or, when a separator may have been lost,
// anywhere the rest still reads as element strings. ways(pos) counts the readings of the run
// from `pos` (0, 1 or "2 or more").
class Splitter {
 public:
  struct Options {
    const AiSpec* spec = nullptr;
    std::size_t ai_length = 0;
    std::vector<std::size_t> value_lengths;  // longest first
  };

  // `may_split_valid`: a variable-length value that is good to the end of the run may still end
  // earlier (no GS came in the whole scan, so one may have been lost). `strict`: values must
  // pass the content checks too.
  Splitter(std::string_view run, bool may_split_valid, bool strict, int this_year)
      : run_(run),
        may_split_valid_(may_split_valid),
        strict_(strict),
        year_(this_year),
        ways_(run.size() + 1, 0) {
    ways_[run.size()] = 1;
    for (std::size_t pos = run.size(); pos-- > 0;) {
      const Options o = options(pos);
      unsigned total = 0;
      for (std::size_t len : o.value_lengths) {
        total += ways_[pos + o.ai_length + len];
      }
      ways_[pos] = static_cast<std::uint8_t>(std::min(total, 2U));
    }
  }

  std::uint8_t ways(std::size_t pos) const { return ways_[pos]; }

  // How the element starting at `pos` may end, given that the rest must read too.
  Options options(std::size_t pos) const {
    Options o;
    const auto found = ai_at(run_.substr(pos));
    if (!found) {
      return o;
    }
    o.spec = found->spec;
    o.ai_length = found->length;
    const AiSpec& spec = *found->spec;
    const std::string_view ai = run_.substr(pos, found->length);
    const std::size_t start = pos + found->length;
    const std::size_t rest = run_.size() - start;
    const auto good = [&](std::size_t len) {
      return check_value(spec, ai, run_.substr(start, len), strict_, year_);
    };
    if (spec.fixed()) {
      const std::size_t len = spec.max_length();
      if (rest >= len && ways_[start + len] > 0 && good(len)) {
        o.value_lengths.push_back(len);
      }
      return o;
    }
    const bool good_to_end = rest <= spec.max_length() && good(rest);
    if (good_to_end && !may_split_valid_) {
      o.value_lengths.push_back(rest);
      return o;
    }
    const std::size_t shortest = std::max<std::size_t>(1, spec.min_length());
    for (std::size_t len = std::min(rest, spec.max_length()); len >= shortest; --len) {
      // The cheap test first: does anything read after this length at all?
      if (len == rest ? good_to_end : ways_[start + len] > 0 && good(len)) {
        o.value_lengths.push_back(len);
      }
    }
    return o;
  }

 private:
  std::string_view run_;
  bool may_split_valid_;
  bool strict_;
  int year_;
  std::vector<std::uint8_t> ways_;
};

// Reads a run that no reading fits: AI by AI, fixed lengths by length, a variable-length value
// to the end, saying what is wrong on the way.
void read_run_as_it_stands(std::string_view run, int this_year, Reading& r) {
  std::size_t pos = 0;
  while (pos < run.size()) {
    const auto found = ai_at(run.substr(pos));
    if (!found) {
      r.problems.push_back("unknown AI at " + quoted(preview(run.substr(pos))) +
                           ": no AI this station knows starts so");
      return;
    }
    const AiSpec& spec = *found->spec;
    const std::string_view ai = run.substr(pos, found->length);
    const std::size_t start = pos + found->length;
    const std::size_t rest = run.size() - start;
    const std::size_t len = spec.fixed() ? std::min(rest, spec.max_length()) : rest;
    const std::string_view value = run.substr(start, len);
    std::string why;
    if (!check_value(spec, ai, value, true, this_year, &why)) {
      r.problems.push_back(why);
    }
    r.elements.push_back(make_element(spec, ai, value, this_year));
    pos = start + len;
  }
}

void read_run(std::string_view run, bool may_split_valid, int this_year, Reading& r) {
  // A reading where every value is good wins; failing that, one where values are at least well
  // formed, so that a wrong check digit is reported as that and not as a confusing split.
  for (const bool strict : {true, false}) {
    const Splitter splitter(run, may_split_valid, strict, this_year);
    if (splitter.ways(0) == 0) {
      continue;
    }
    bool ambiguous = false;
    bool gs_missing = false;
    std::size_t pos = 0;
    while (pos < run.size()) {
      const auto o = splitter.options(pos);
      if (o.value_lengths.empty()) {
        break;  // cannot happen where ways > 0; here so that a slip cannot loop
      }
      const std::string_view ai = run.substr(pos, o.ai_length);
      const std::size_t start = pos + o.ai_length;
      const std::string_view value = run.substr(start, o.value_lengths[0]);
      if (o.value_lengths.size() > 1) {
        ambiguous = true;
        const auto reading = [&](std::size_t len) {
          std::string text = quoted(run.substr(start, len));
          if (const auto next = ai_at(run.substr(start + len))) {
            text += " then AI " + std::string(run.substr(start + len, next->length));
          }
          return text;
        };
        r.problems.push_back("GS separator missing after AI " + std::string(ai) +
                             "; cannot tell where it ends: " + reading(o.value_lengths[0]) +
                             " or " + reading(o.value_lengths[1]));
      }
      std::string why;
      if (!strict && !check_value(*o.spec, ai, value, true, this_year, &why)) {
        r.problems.push_back(why);
      }
      r.elements.push_back(make_element(*o.spec, ai, value, this_year));
      pos = start + value.size();
      if (pos < run.size() && !predefined_length(ai)) {
        gs_missing = true;
      }
    }
    if (gs_missing && !ambiguous) {
      r.recovered_gs = true;
    }
    return;
  }
  read_run_as_it_stands(run, this_year, r);
}

// `trusted`: the scan carries GS (or an FNC1 in first position sent as GS), so the scanner passes
// them on and a variable-length value ends at one.
void read_element_string(std::string_view s, bool trusted, int this_year, Reading& r) {
  r.kind = Reading::Kind::element_string;
  if (!trusted) {
    read_run(s, true, this_year, r);
    return;
  }
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t gs = std::min(s.find(kGS, pos), s.size());
    if (gs > pos) {
      read_run(s.substr(pos, gs - pos), false, this_year, r);
    }
    pos = gs + 1;
  }
  if (r.elements.empty() && r.problems.empty()) {
    r.problems.push_back("no element strings: only GS separators");
  }
}

// "(01)09506000134352(17)261231(10)ABC": `at` is the length of "(01)" when one starts at s[at].
std::size_t bracketed_ai_at(std::string_view s, std::size_t at) {
  if (at >= s.size() || s[at] != '(') {
    return 0;
  }
  std::size_t i = at + 1;
  while (i < s.size() && i - at <= 5 && is_digit(s[i])) {
    ++i;
  }
  const std::size_t digits = i - at - 1;
  return i < s.size() && s[i] == ')' && digits >= 2 && digits <= 4 ? digits + 2 : 0;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

// The human-readable form as printed under a barcode. A person copying it may put spaces around
// the values; GS1 values never hold spaces, so they are dropped.
void read_bracketed(std::string_view s, int this_year, Reading& r) {
  r.kind = Reading::Kind::element_string;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t tag = bracketed_ai_at(s, pos);
    if (tag == 0) {
      break;  // cannot happen: a value runs to the next "(AI)" or the end
    }
    const std::string_view ai = s.substr(pos + 1, tag - 2);
    const std::size_t value_start = pos + tag;
    std::size_t end = value_start;
    while (end < s.size() && bracketed_ai_at(s, end) == 0) {
      ++end;
    }
    const std::string_view value = trim_spaces(s.substr(value_start, end - value_start));
    pos = end;
    const AiSpec* spec = known_ai(ai);
    if (!spec) {
      r.problems.push_back("unknown AI (" + std::string(ai) + ")");
      continue;
    }
    std::string why;
    if (!check_value(*spec, ai, value, true, this_year, &why)) {
      r.problems.push_back(why);
    }
    r.elements.push_back(make_element(*spec, ai, value, this_year));
  }
}

// --- GS1 Digital Link ---------------------------------------------------------------------------

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != prefix[i]) {
      return false;
    }
  }
  return true;
}

bool looks_like_uri(std::string_view s) {
  return starts_with_nocase(s, "https://") || starts_with_nocase(s, "http://");
}

int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Percent-decoding; nullopt when a '%' is not followed by two hex digits. '+' stays '+': it is a
// GS1 character, not a space, in a Digital Link.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (true) {
    const std::size_t at = s.find(sep, pos);
    if (at == std::string_view::npos) {
      parts.push_back(s.substr(pos));
      return parts;
    }
    parts.push_back(s.substr(pos, at - pos));
    pos = at + 1;
  }
}

struct PrimaryKey {
  std::string_view ai;
  // Qualifiers that may follow in the path, in this order, each optional; alternatives apart.
  std::vector<std::vector<std::string_view>> qualifiers;
};

const std::vector<PrimaryKey>& primary_keys() {
  static const std::vector<PrimaryKey> keys = {
      {"01", {{"22", "10", "21"}, {"235"}}},
      {"00", {}},
      {"253", {}},
      {"255", {}},
      {"401", {}},
      {"402", {}},
      {"414", {{"254"}}},
      {"415", {{"8020"}}},
      {"417", {}},
      {"8003", {}},
      {"8004", {}},
      {"8006", {{"22", "10", "21"}}},
      {"8017", {}},
      {"8018", {}},
  };
  return keys;
}

const PrimaryKey* primary_key(std::string_view ai) {
  for (const auto& k : primary_keys()) {
    if (k.ai == ai) {
      return &k;
    }
  }
  return nullptr;
}

// Whether the AIs at segments[from], segments[from + 2], ... follow one of the key's qualifier
// orders.
bool qualifiers_in_order(const PrimaryKey& key, const std::vector<std::string>& segments,
                         std::size_t from) {
  if (from >= segments.size()) {
    return true;
  }
  for (const auto& order : key.qualifiers) {
    std::size_t at = 0;
    bool fits = true;
    for (std::size_t q = from; q < segments.size() && fits; q += 2) {
      while (at < order.size() && order[at] != segments[q]) {
        ++at;
      }
      fits = at < order.size();
      ++at;
    }
    if (fits) {
      return true;
    }
  }
  return false;
}

std::string allowed_qualifiers(const PrimaryKey& key) {
  if (key.qualifiers.empty()) {
    return "none";
  }
  std::string out;
  for (const auto& order : key.qualifiers) {
    if (!out.empty()) {
      out += ", or ";
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
      out += (i ? "/" : "") + std::string(order[i]);
    }
  }
  return out + " in that order";
}

void add_link_element(std::string_view ai, std::string value, int this_year, Reading& r) {
  const AiSpec* spec = known_ai(ai);
  if (!spec) {
    r.problems.push_back("unknown AI " + quoted(ai) + " in the Digital Link");
    return;
  }
  if (ai == "01" || ai == "02") {
    // A Digital Link may carry a GTIN-8/12/13 as written on the pack; GS1 reads it as GTIN-14.
    if (auto g = gtin14(value)) {
      value = *g;
    }
  }
  std::string why;
  if (!check_value(*spec, ai, value, true, this_year, &why)) {
    r.problems.push_back(why);
  }
  r.elements.push_back(make_element(*spec, ai, value, this_year));
}

// https://id.gs1.org/01/09506000134352/10/ABC?17=261231 (any host, any path before the key).
void read_digital_link(std::string_view uri, int this_year, Reading& r) {
  std::string_view rest = uri.substr(uri.find("//") + 2);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t query_at = rest.find('?');
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view{} : rest.substr(query_at + 1);
  rest = rest.substr(0, query_at);
  const std::size_t path_at = rest.find('/');
  const std::string_view host = rest.substr(0, path_at);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at + 1);
  if (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  std::vector<std::string> segments;
  bool bad_escape = false;
  if (!path.empty()) {
    for (const auto raw : split(path, '/')) {
      auto decoded = percent_decode(raw);
      bad_escape = bad_escape || !decoded;
      segments.push_back(decoded ? std::move(*decoded) : std::string(raw));
    }
  }
  // The primary key is the first key AI from which the rest of the path is AI/value pairs;
  // whatever comes before it is the site's own path.
  std::optional<std::size_t> key_at;
  std::optional<std::size_t> first_candidate;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const PrimaryKey* key = primary_key(segments[i]);
    if (!key || (segments.size() - i) % 2 != 0) {
      continue;
    }
    if (!first_candidate) {
      first_candidate = i;
    }
    if (qualifiers_in_order(*key, segments, i + 2)) {
      key_at = i;
      break;
    }
  }
  if (host.empty() || !first_candidate) {
    r.kind = Reading::Kind::other;
    r.problems.push_back(
        "a web address, not a GS1 Digital Link: no primary key such as /01/{GTIN} in its path");
    return;
  }
  r.kind = Reading::Kind::digital_link;
  if (bad_escape) {
    r.problems.push_back(
        "bad percent-encoding in the path: '%' must be followed by two hex digits");
  }
  const std::size_t k = key_at.value_or(*first_candidate);
  const PrimaryKey& key = *primary_key(segments[k]);
  if (!key_at) {
    r.problems.push_back("the path after /" + std::string(key.ai) +
                         "/ holds qualifiers it does not allow; allowed: " +
                         allowed_qualifiers(key) + " (data attributes go in the query: ?17=...)");
  }
  for (std::size_t i = k; i + 1 < segments.size(); i += 2) {
    add_link_element(segments[i], segments[i + 1], this_year, r);
  }
  if (query.empty()) {
    return;
  }
  for (const auto param : split(query, '&')) {
    const std::size_t eq = param.find('=');
    const auto name = percent_decode(param.substr(0, eq));
    // Other parameters (linkType, context, ...) are for the resolver, not data.
    if (!name || name->size() < 2 || name->size() > 4 || !all_digits(*name)) {
      continue;
    }
    const auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1));
    if (!value) {
      r.problems.push_back("bad percent-encoding in the query parameter " + *name);
      continue;
    }
    add_link_element(*name, *value, this_year, r);
  }
}

// --- plain GTINs --------------------------------------------------------------------------------

std::string gtin_problem(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_digit(s[i])) {
      return "not a GTIN: " + char_at(s, i) + " where only digits belong";
    }
  }
  if (s.size() != 8 && s.size() != 12 && s.size() != 13 && s.size() != 14) {
    return "not a GTIN: " + std::to_string(s.size()) + " digits (a GTIN has 8, 12, 13 or 14)";
  }
  std::string fixed(s);
  for (char d = '0'; d <= '9'; ++d) {
    fixed.back() = d;
    if (valid_check_digit(fixed)) {
      break;
    }
  }
  return "wrong check digit: " + std::string(s) + " should end in " + fixed.back();
}

// UPC-E (8 digits: number system 0 or 1, six digits, check digit) to the UPC-A it stands for.
std::optional<std::string> upc_e_to_upc_a(std::string_view e) {
  if (e.size() != 8 || !all_digits(e) || (e[0] != '0' && e[0] != '1')) {
    return std::nullopt;
  }
  const std::string d(e.substr(1, 6));
  std::string a(1, e[0]);
  switch (d[5]) {
    case '0':
    case '1':
    case '2':
      a += d.substr(0, 2) + d[5] + "0000" + d.substr(2, 3);
      break;
    case '3':
      a += d.substr(0, 3) + "00000" + d.substr(3, 2);
      break;
    case '4':
      a += d.substr(0, 4) + "00000" + d[4];
      break;
    default:
      a += d.substr(0, 5) + "0000" + d[5];
      break;
  }
  return a + e[7];
}

// A scan from an EAN/UPC or ITF symbology: the data is the GTIN.
void read_plain_gtin(std::string_view s, std::string_view symbology, Reading& r) {
  r.kind = Reading::Kind::gtin;
  std::string digits(s);
  if (symbology == "]E0" && s.size() == 8) {
    // EAN-8 reports as ]E4; eight digits under ]E0 are a UPC-E, whose check digit is the UPC-A's.
    if (auto a = upc_e_to_upc_a(s)) {
      digits = *a;
    }
  } else if (symbology == "]E3" && (s.size() == 15 || s.size() == 18)) {
    digits = s.substr(0, 13);  // EAN-13 followed by its 2- or 5-digit add-on
  }
  if (auto g = gtin14(digits)) {
    r.gtin14 = std::move(g);
    return;
  }
  r.problems.push_back(gtin_problem(digits));
}

// --- symbologies
// ----------------------------------------------------------------------------------

bool is_aim_identifier(std::string_view s) {
  return s.size() == 3 && s[0] == ']' && is_alpha(s[1]) && (is_alpha(s[2]) || is_digit(s[2]));
}

enum class Family { none, gs1, gtin, not_gs1 };

Family family_of(std::string_view aim) {
  if (!is_aim_identifier(aim)) {
    return Family::none;
  }
  // GS1-128, GS1 DataBar (and composites), GS1 DataMatrix, GS1 QR Code, GS1 DotCode.
  static constexpr std::array<std::string_view, 7> kGs1 = {"]C1", "]e0", "]e1", "]e2",
                                                           "]d2", "]Q3", "]J1"};
  // EAN-13/UPC-A/UPC-E, EAN with add-on, EAN-8, ITF (ITF-14 carries a GTIN-14).
  static constexpr std::array<std::string_view, 5> kGtin = {"]E0", "]E3", "]E4", "]I0", "]I1"};
  if (std::find(kGs1.begin(), kGs1.end(), aim) != kGs1.end()) {
    return Family::gs1;
  }
  if (std::find(kGtin.begin(), kGtin.end(), aim) != kGtin.end()) {
    return Family::gtin;
  }
  return Family::not_gs1;
}

void check_duplicates(Reading& r) {
  std::map<std::string, const Element*> first;
  std::map<std::string, bool> reported;
  for (const auto& e : r.elements) {
    auto [it, inserted] = first.emplace(e.ai, &e);
    if (!inserted && it->second->value != e.value && !reported[e.ai]) {
      reported[e.ai] = true;
      r.problems.push_back("AI " + e.ai + " appears twice with different values: " +
                           quoted(it->second->value) + " and " + quoted(e.value));
    }
  }
}

void set_gtin_from_elements(Reading& r) {
  for (const std::string_view ai : {"01", "02"}) {
    if (const Element* e = r.find(ai)) {
      if (auto g = gtin14(e->value); g && e->value.size() == 14) {
        r.gtin14 = std::move(g);
        return;
      }
    }
  }
}

void read_body(std::string_view s, bool fnc1_first, int this_year, Reading& r) {
  const Family family = family_of(r.symbology);
  const bool has_gs = s.find(kGS) != std::string_view::npos;
  if (looks_like_uri(s)) {
    read_digital_link(s, this_year, r);
    return;
  }
  if (family == Family::gtin) {
    read_plain_gtin(s, r.symbology, r);
    return;
  }
  if (bracketed_ai_at(s, 0) != 0) {
    read_bracketed(s, this_year, r);
    return;
  }
  if (family == Family::gs1 || fnc1_first || has_gs) {
    read_element_string(s, fnc1_first || has_gs, this_year, r);
    return;
  }
  if (family == Family::not_gs1) {
    if (auto g = gtin14(s)) {
      r.kind = Reading::Kind::gtin;
      r.gtin14 = std::move(g);
      return;
    }
    r.problems.push_back("not GS1 data: a " + printable(r.symbology) +
                         " scan is not from a GS1 symbology (]C1, ]e0, ]d2, ]Q3, ]J1) and is not "
                         "a GTIN or a Digital Link");
    return;
  }
  // No symbology, no GS: a plain number on a retail pack, or element strings typed by a wedge.
  // Element strings only when they start the way GS1 data does: with a fixed-length AI whose
  // value is well formed. Anything else is some other barcode (an order id, a SKU label).
  Reading as_elements;
  read_element_string(s, false, this_year, as_elements);
  bool starts_like_gs1 = false;
  if (!as_elements.elements.empty()) {
    const Element& e = as_elements.elements.front();
    const AiSpec* spec = known_ai(e.ai);
    starts_like_gs1 = spec && spec->fixed() && check_value(*spec, e.ai, e.value, false, this_year);
  }
  if (all_digits(s) && (s.size() == 8 || s.size() == 12 || s.size() == 13 || s.size() == 14)) {
    // A number of a GTIN's length is a GTIN, unless it is not one and reads as good element
    // strings instead ("17261231": an expiry date).
    if (auto g = gtin14(s)) {
      r.kind = Reading::Kind::gtin;
      r.gtin14 = std::move(g);
      return;
    }
    if (!starts_like_gs1 || !as_elements.ok()) {
      r.kind = Reading::Kind::gtin;
      r.problems.push_back(gtin_problem(s));
      return;
    }
  }
  if (!starts_like_gs1) {
    r.problems.push_back("not GS1 data: not a GTIN, GS1 element strings or a GS1 Digital Link");
    return;
  }
  r.kind = as_elements.kind;
  r.elements = std::move(as_elements.elements);
  r.problems.insert(r.problems.end(), as_elements.problems.begin(), as_elements.problems.end());
  r.recovered_gs = as_elements.recovered_gs;
}

}  // namespace

const Element* Reading::find(std::string_view ai) const {
  for (const auto& e : elements) {
    if (e.ai == ai) {
      return &e;
    }
  }
  return nullptr;
}

bool valid_check_digit(std::string_view digits) {
  if (digits.size() < 2 || !all_digits(digits)) {
    return false;
  }
  // From the right, not counting the check digit, the digits weigh 3, 1, 3, 1, ...
  int sum = 0;
  int weight = 3;
  for (std::size_t i = digits.size() - 1; i-- > 0;) {
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10 == digits.back() - '0';
}

std::optional<std::string> gtin14(std::string_view digits) {
  const std::size_t len = digits.size();
  if ((len != 8 && len != 12 && len != 13 && len != 14) || !valid_check_digit(digits)) {
    return std::nullopt;
  }
  return std::string(14 - len, '0') + std::string(digits);
}

Reading read(std::string_view data, std::string_view symbology) {
  Reading r;
  r.input = std::string(data);
  r.symbology = std::string(symbology);
  if (data.size() > kMaxInput) {
    r.problems.push_back(std::to_string(data.size()) +
                         " bytes: more than any GS1 barcode carries; not read");
    return r;
  }
  std::string_view s = data;
  if (s.size() >= 3 && is_aim_identifier(s.substr(0, 3))) {
    const std::string_view in_data = s.substr(0, 3);
    s.remove_prefix(3);
    if (symbology.empty()) {
      r.symbology = std::string(in_data);
    } else if (in_data != symbology) {
      r.problems.push_back("the data starts with symbology identifier " + std::string(in_data) +
                           " but the scanner reported " + quoted(symbology));
    }
  }
  if (!r.symbology.empty() && !is_aim_identifier(r.symbology)) {
    r.problems.push_back(quoted(r.symbology) +
                         " is not an AIM symbology identifier (']', a letter, a modifier: ]C1)");
  }
  // An FNC1 in first position, when the scanner sends it at all, arrives as a leading GS.
  const bool fnc1_first = !s.empty() && s.front() == kGS;
  if (fnc1_first) {
    s.remove_prefix(1);
  }
  if (s.empty()) {
    r.problems.push_back(data.empty() ? "nothing to read: the scan is empty"
                         : fnc1_first ? "nothing to read after the FNC1 (GS)"
                                      : "nothing to read after the symbology identifier");
    return r;
  }
  read_body(s, fnc1_first, current_year(), r);
  if (r.kind == Reading::Kind::element_string || r.kind == Reading::Kind::digital_link) {
    check_duplicates(r);
    set_gtin_from_elements(r);
  }
  return r;
}

std::string_view to_string(Reading::Kind kind) {
  switch (kind) {
    case Reading::Kind::gtin:
      return "gtin";
    case Reading::Kind::element_string:
      return "element_string";
    case Reading::Kind::digital_link:
      return "digital_link";
    case Reading::Kind::other:
      break;
  }
  return "other";
}

std::optional<std::string_view> ai_title(std::string_view ai) {
  const AiSpec* spec = known_ai(ai);
  return spec ? std::optional<std::string_view>(spec->title) : std::nullopt;
}

json::object to_json(const Reading& r) {
  json::object o;
  o["input"] = printable(r.input);
  o["symbology"] = printable(r.symbology);
  o["kind"] = to_string(r.kind);
  if (r.gtin14) {
    o["gtin14"] = printable(*r.gtin14);
  } else {
    o["gtin14"] = nullptr;
  }
  json::array elements;
  for (const auto& e : r.elements) {
    json::object eo;
    eo["ai"] = printable(e.ai);
    eo["title"] = printable(e.title);
    eo["value"] = printable(e.value);
    if (!e.meaning.empty()) {
      eo["meaning"] = printable(e.meaning);
    }
    elements.push_back(std::move(eo));
  }
  o["elements"] = std::move(elements);
  o["recovered_gs"] = r.recovered_gs;
  json::array problems;
  for (const auto& p : r.problems) {
    problems.push_back(json::string(printable(p)));
  }
  o["problems"] = std::move(problems);
  o["ok"] = r.ok();
  return o;
}

}  // namespace packbench::station::gs1

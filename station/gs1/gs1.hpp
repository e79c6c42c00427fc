// GS1: reading what a scanner sent as GS1 data (element strings, Digital Link URIs, plain GTINs).
//
// Pure: no I/O, no clock beyond "which century is YY", never throws on any input. What it could
// not make sense of is said in `problems`, in words a packer or IT can act on. docs/gs1.md has
// the AI table, the rule for scans that lost their GS separators and `stationctl scan explain`.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packbench::station::gs1 {

struct Element {
  std::string ai;     // "01", "10", "3103"
  std::string title;  // the GS1 data title: "GTIN", "BATCH/LOT", "BEST BEFORE or BEST BY"
  std::string value;  // as scanned (Digital Link: percent-decoded; a GTIN-8/12/13 there padded to
                      // 14 digits)
  // The value in plain form when that differs from the digits, else empty: dates as
  // "2026-12-31" (day 00: "2026-12-31 (end of month)" or "2026-12 (no day)"), 7003 as
  // "2026-12-31 14:30", the decimal AIs (310n..., 390n...) with their point placed ("1.500";
  // 391n/393n: "12.50, currency 978").
  std::string meaning;
};

struct Reading {
  std::string input;      // as received
  std::string symbology;  // AIM identifier "]C1", "]e0", "]d2", "]Q3", "]E0", ... or ""
  enum class Kind { gtin, element_string, digital_link, other } kind = Kind::other;
  std::optional<std::string> gtin14;  // plain GTIN-8/12/13/14 scans, and AI 01 (or 02)
  std::vector<Element> elements;      // in the order they appear
  // In words: wrong check digit, invalid date, unknown AI, GS lost and ambiguous, ... A reading
  // of kind `other` always says here why it is not GS1 data.
  std::vector<std::string> problems;
  bool recovered_gs = false;  // a wedge scan that lost its GS separators was split by AI lengths
  bool ok() const { return problems.empty(); }
  const Element* find(std::string_view ai) const;
};

// `symbology` is what the scanner reported separately (may be empty); a symbology identifier at
// the start of `data` is recognised too.
Reading read(std::string_view data, std::string_view symbology = {});

// GTIN-8/12/13/14 digits with a valid check digit -> 14 digits (left-padded with zeros); else
// nullopt.
std::optional<std::string> gtin14(std::string_view digits);

// GS1 mod-10 over all digits, last one being the check digit. False for fewer than 2 characters
// or anything but digits.
bool valid_check_digit(std::string_view digits);

// What `stationctl scan explain` prints: input, symbology, kind, gtin14, elements (ai, title,
// value, meaning when there is one), recovered_gs, problems, ok. Every string is made printable
// valid UTF-8: a GS shows as "<GS>", other control bytes and bytes that are not UTF-8 as "\xNN".
boost::json::object to_json(const Reading& r);

// "gtin", "element_string", "digital_link", "other".
std::string_view to_string(Reading::Kind kind);

// The GS1 data title of an AI this reader knows ("3103" -> "NET WEIGHT (kg)"), else nullopt.
std::optional<std::string_view> ai_title(std::string_view ai);

}  // namespace packbench::station::gs1

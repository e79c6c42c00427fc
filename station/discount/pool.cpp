#include "station/discount/pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "station/discount/signed_code.hpp"

namespace packbench::station::discount {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// One CSV record on one line (RFC 4180 quoting: "a ""quoted"" field"); nullopt when a quote is
// left open.
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trim(field).empty() && !was_quoted) {
      field.clear();
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::string(trim(field)));
      field.clear();
      was_quoted = false;
    } else if (!(was_quoted && (c == ' ' || c == '\t'))) {
      field += c;
    }
  }
  if (quoted) {
    return std::nullopt;
  }
  fields.push_back(std::string(trim(field)));
  return fields;
}

// A code as a person can read it in a report: printable ASCII as is, anything else as \xNN.
std::string shown(std::string_view code) {
  std::string out;
  for (char ch : code) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  return out;
}

AllocatedCode read_allocated(Statement& st) {
  AllocatedCode a;
  a.code = st.column_text(0);
  a.campaign = st.column_text(1);
  a.source = st.column_text(2);
  a.order_id = st.column_text(3);
  a.allocated_at = st.column_text(4);
  if (auto e = st.column_optional_text(5)) {
    a.expires = parse_day(*e);
  }
  a.url = st.column_optional_text(6).value_or("");
  return a;
}

// Why `code` (at `line`) cannot join a pool, or nullopt; `seen` holds the codes taken so far,
// lower-case, with their lines, and takes this one when it passes.
std::optional<std::string> code_problem(const std::string& code, int line,
                                        std::map<std::string, int>& seen) {
  if (code.empty()) {
    return "the code is empty";
  }
  if (code.size() > kMaxCodeLength) {
    return fmt::format("the code has {} characters; at most {} fit a card", code.size(),
                       kMaxCodeLength);
  }
  if (code == "." || code == "..") {
    return fmt::format(
        "'{}' cannot be a code: in a link's path, only dots is a dot segment that browsers drop",
        code);
  }
  if (!is_safe_code(code)) {
    return fmt::format(
        "'{}' has characters a card or a link cannot carry as they are; codes are letters, "
        "digits, '-', '_' and '.'",
        shown(code));
  }
  if (auto [it, inserted] = seen.emplace(lower(code), line); !inserted) {
    return fmt::format("'{}' repeats the code on line {}", code, it->second);
  }
  return std::nullopt;
}

}  // namespace

std::string CsvProblem::to_string() const {
  return fmt::format("line {}: {}", line, message);
}

bool is_safe_code(std::string_view code) {
  // Only dots would be a dot segment in the link's path, which browsers remove.
  return !code.empty() && code.size() <= kMaxCodeLength && code != "." && code != ".." &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
         });
}

ParsedCodes parse_code_csv(std::string_view text) {
  ParsedCodes out;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) {
    text.remove_prefix(3);
  }
  std::optional<std::size_t> column;  // the "code" column, when the file has a header
  bool first = true;
  std::map<std::string, int> seen;  // lower-case code -> its line
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (trim(line).empty()) {
      continue;
    }
    auto fields = split_csv(line);
    if (!fields) {
      out.problems.push_back({line_no, "a quote is opened and never closed"});
      first = false;
      continue;
    }
    if (first) {
      first = false;
      for (std::size_t i = 0; i < fields->size(); ++i) {
        if (lower((*fields)[i]) == "code") {
          column = i;
          break;
        }
      }
      if (column) {
        continue;  // the header
      }
    }
    std::string code;
    if (column) {
      if (*column >= fields->size()) {
        out.problems.push_back({line_no, fmt::format("has {} columns; the code is in column {}",
                                                     fields->size(), *column + 1)});
        continue;
      }
      code = (*fields)[*column];
    } else if (fields->size() != 1) {
      out.problems.push_back(
          {line_no, fmt::format("has {} columns, but the file has no header naming the code "
                                "column (a first line such as: code,...)",
                                fields->size())});
      continue;
    } else {
      code = (*fields)[0];
    }
    if (auto problem = code_problem(code, line_no, seen)) {
      out.problems.push_back({line_no, std::move(*problem)});
      continue;
    }
    out.codes.push_back({std::move(code), line_no});
  }
  return out;
}

ParsedCodes check_codes(const std::vector<std::string>& codes) {
  ParsedCodes out;
  std::map<std::string, int> seen;
  int position = 0;
  for (const auto& code : codes) {
    ++position;
    if (auto problem = code_problem(code, position, seen)) {
      out.problems.push_back({position, std::move(*problem)});
    } else {
      out.codes.push_back({code, position});
    }
  }
  return out;
}

ImportReport import_codes(Database& db, const std::string& campaign,
                          const std::vector<std::string>& codes, const std::string& imported_at,
                          const std::string& claim) {
  ImportReport report;
  for (const auto& code : codes) {
    auto existing = db.statement("SELECT campaign, source FROM discount_codes WHERE code = ?1");
    existing.bind_all(code);
    if (existing.step()) {
      const std::string other = existing.column_text(0);
      const std::string source = existing.column_text(1);
      if (other == campaign && source == "pool") {
        ++report.already_there;
      } else {
        report.conflicts.push_back(
            fmt::format("{} ({})", code, source == "pool" ? other : "signed code of " + other));
      }
      continue;
    }
    db.statement(
          "INSERT INTO discount_codes (campaign, code, source, imported_at, claim) "
          "VALUES (?1, ?2, 'pool', ?3, ?4)")
        .bind_all(campaign, code, imported_at,
                  claim.empty() ? std::optional<std::string>() : std::optional<std::string>(claim))
        .run();
    ++report.added;
  }
  return report;
}

std::optional<AllocatedCode> code_for_order(Database& db, const std::string& order_id) {
  auto st = db.statement(
      "SELECT code, campaign, source, order_id, allocated_at, expires, url FROM discount_codes "
      "WHERE order_id = ?1");
  st.bind_all(order_id);
  if (!st.step()) {
    return std::nullopt;
  }
  return read_allocated(st);
}

std::optional<Allocation> allocate_code(Database& db, const std::string& campaign,
                                        const std::string& order_id,
                                        const std::string& allocated_at,
                                        std::optional<Day> expires) {
  if (auto existing = code_for_order(db, order_id)) {
    return Allocation{std::move(*existing), true};
  }
  auto next = db.statement(
      "SELECT id, code FROM discount_codes WHERE campaign = ?1 AND order_id IS NULL "
      "ORDER BY id LIMIT 1");
  next.bind_all(campaign);
  if (!next.step()) {
    return std::nullopt;
  }
  const std::int64_t id = next.column_int(0);
  AllocatedCode a;
  a.code = next.column_text(1);
  a.campaign = campaign;
  a.source = "pool";
  a.order_id = order_id;
  a.allocated_at = allocated_at;
  a.expires = expires;
  db.statement(
        "UPDATE discount_codes SET order_id = ?2, allocated_at = ?3, expires = ?4 "
        "WHERE id = ?1 AND order_id IS NULL")
      .bind(1, id)
      .bind(2, order_id)
      .bind(3, allocated_at)
      .bind(4, expires ? std::optional<std::string>(format_day(*expires)) : std::nullopt)
      .run();
  if (db.changes() != 1) {
    throw StoreError(SQLITE_CONSTRAINT, "discount code " + a.code + " was taken meanwhile");
  }
  return Allocation{std::move(a), false};
}

std::int64_t pool_remaining(Database& db, const std::string& campaign) {
  auto st = db.statement("SELECT free FROM discount_pools WHERE campaign = ?1");
  st.bind_all(campaign);
  return st.step() ? st.column_int(0) : 0;
}

std::optional<std::uint32_t> next_signed_serial(Database& db, std::uint32_t station) {
  auto st = db.statement("SELECT next_serial FROM discount_serials WHERE station = ?1");
  st.bind(1, static_cast<std::int64_t>(station));
  const std::int64_t serial = st.step() ? st.column_int(0) : 0;
  if (serial < 0 || serial > static_cast<std::int64_t>(kMaxSerial)) {
    return std::nullopt;
  }
  db.statement(
        "INSERT INTO discount_serials (station, next_serial) VALUES (?1, ?2) "
        "ON CONFLICT (station) DO UPDATE SET next_serial = excluded.next_serial")
      .bind(1, static_cast<std::int64_t>(station))
      .bind(2, serial + 1)
      .run();
  return static_cast<std::uint32_t>(serial);
}

void set_code_url(Database& db, const std::string& order_id, const std::string& url) {
  db.statement("UPDATE discount_codes SET url = ?2 WHERE order_id = ?1")
      .bind_all(order_id, url)
      .run();
}

bool code_exists(Database& db, const std::string& code) {
  auto st = db.statement("SELECT 1 FROM discount_codes WHERE code = ?1");
  st.bind_all(code);
  return st.step();
}

void record_signed_code(Database& db, const std::string& campaign, const std::string& code,
                        const std::string& order_id, const std::string& allocated_at, Day expires,
                        const std::string& url) {
  db.statement(
        "INSERT INTO discount_codes (campaign, code, source, order_id, allocated_at, expires, url) "
        "VALUES (?1, ?2, 'signed', ?3, ?4, ?5, ?6)")
      .bind_all(campaign, code, order_id, allocated_at, format_day(expires),
                url.empty() ? std::optional<std::string>() : std::optional<std::string>(url))
      .run();
}

}  // namespace packbench::station::discount

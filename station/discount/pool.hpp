// Discount code pools: codes created in the shop beforehand (Shopify and the like only redeem
// codes they know), imported per campaign, and given out one per order, each exactly once.
//
// The store keeps every code the station gives out in one table, pool codes and the signed codes
// it issued alike, so that "one code, one order" and "one order, one code" are constraints of the
// table, not promises of the code: a code's order_id is UNIQUE, and once set it never changes.
// Every function taking a Database runs inside the caller's write transaction (Database::write),
// so a code is allocated in the transaction that completes its order, or not at all; statement
// failures throw StoreError, which rolls that transaction back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "station/discount/day.hpp"
#include "station/store/store.hpp"

namespace packbench::station::discount {

// The discount tables, as one migration (the store's migration list owns the version number).
inline constexpr std::string_view kDiscountSchemaSql = R"sql(
-- Every code the station gives out: pool codes imported for a campaign (order_id NULL until one
-- is allocated) and the signed codes it issued (allocated as they are written). A code belongs
-- to one order and an order has one code; an allocated code never changes hands or leaves.
CREATE TABLE discount_codes (
  id           INTEGER PRIMARY KEY,          -- import order: pools are allocated oldest first
  campaign     TEXT NOT NULL,
  code         TEXT NOT NULL COLLATE NOCASE UNIQUE,
  source       TEXT NOT NULL CHECK (source IN ('pool', 'signed')),
  order_id     TEXT,
  imported_at  TEXT,                         -- pool codes
  allocated_at TEXT,
  expires      TEXT,                         -- last valid day, YYYY-MM-DD, once allocated
  url          TEXT,                         -- the link printed with it: a reprint shows it again
  CHECK ((order_id IS NULL) = (allocated_at IS NULL))
) STRICT;
-- Partial, both: a free code is found by campaign in import order, an order's code by the order,
-- and neither index holds the rows the other is for.
CREATE UNIQUE INDEX discount_codes_order ON discount_codes(order_id) WHERE order_id IS NOT NULL;
CREATE INDEX discount_codes_free ON discount_codes(campaign, id) WHERE order_id IS NULL;
CREATE TRIGGER discount_codes_keep_order BEFORE UPDATE OF order_id, code ON discount_codes
WHEN OLD.order_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an allocated discount code stays with its order'); END;
CREATE TRIGGER discount_codes_keep_allocated BEFORE DELETE ON discount_codes
WHEN OLD.order_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an allocated discount code stays with its order'); END;

-- Free codes per campaign, kept by the triggers below so that the low-water check after every
-- allocation does not count the pool.
CREATE TABLE discount_pools (
  campaign TEXT PRIMARY KEY,
  free     INTEGER NOT NULL CHECK (free >= 0)
) STRICT;
CREATE TRIGGER discount_pools_add AFTER INSERT ON discount_codes WHEN NEW.order_id IS NULL
BEGIN
  INSERT INTO discount_pools (campaign, free) VALUES (NEW.campaign, 1)
  ON CONFLICT (campaign) DO UPDATE SET free = free + 1;
END;
CREATE TRIGGER discount_pools_take AFTER UPDATE OF order_id ON discount_codes
WHEN OLD.order_id IS NULL AND NEW.order_id IS NOT NULL
BEGIN UPDATE discount_pools SET free = free - 1 WHERE campaign = OLD.campaign; END;
CREATE TRIGGER discount_pools_drop AFTER DELETE ON discount_codes WHEN OLD.order_id IS NULL
BEGIN UPDATE discount_pools SET free = free - 1 WHERE campaign = OLD.campaign; END;
CREATE TRIGGER discount_codes_keep_campaign BEFORE UPDATE OF campaign ON discount_codes
BEGIN SELECT RAISE(ABORT, 'a discount code stays in its campaign'); END;

-- The next serial of the signed codes each station number issues; serials are never reused.
CREATE TABLE discount_serials (
  station     INTEGER PRIMARY KEY,
  next_serial INTEGER NOT NULL
) STRICT;
)sql";

// ---- Import files --------------------------------------------------------------------------

inline constexpr std::size_t kMaxCodeLength = 64;

// What a code may hold to be printed on a card and put in a link untouched: letters A-Z a-z,
// digits, '-', '_' and '.', 1 to 64 characters, not "." or "..".
bool is_safe_code(std::string_view code);

struct CsvCode {
  std::string code;
  int line = 0;
};

struct CsvProblem {
  int line = 0;
  std::string message;
  std::string to_string() const;  // "line 12: ..."
};

struct ParsedCodes {
  std::vector<CsvCode> codes;
  std::vector<CsvProblem> problems;
  bool ok() const { return problems.empty(); }
};

// A file of codes: one code per line, or CSV with a header that has a "code" column (any case,
// as shops export them; other columns are ignored; fields may be "quoted"). Surrounding spaces
// are trimmed, blank lines and a UTF-8 BOM ignored, CRLF accepted. A code with characters that
// are not safe (is_safe_code), an empty code field and a code repeated in the file (without
// regard to case, as shops compare codes) are reported with their line; the others come back.
ParsedCodes parse_code_csv(std::string_view text);

// The same rules for a list of codes (the back office's answer to a claim): each problem's
// `line` is the code's position in the list, from 1.
ParsedCodes check_codes(const std::vector<std::string>& codes);

// ---- The pool in the store -----------------------------------------------------------------

struct ImportReport {
  int added = 0;
  int already_there = 0;  // the same code for the same campaign: nothing to do
  // Codes the store already holds for another campaign (or as a signed code): "CODE (campaign)".
  std::vector<std::string> conflicts;
};

// Adds `codes` to `campaign`'s pool. Importing the same file again changes nothing. `claim`
// names the back office's claim the codes came with (pool_claims.hpp); empty for a file.
ImportReport import_codes(Database& db, const std::string& campaign,
                          const std::vector<std::string>& codes, const std::string& imported_at,
                          const std::string& claim = "");

struct AllocatedCode {
  std::string code;
  std::string campaign;
  std::string source;  // "pool" or "signed"
  std::string order_id;
  std::string allocated_at;
  std::optional<Day> expires;
  std::string url;  // as printed; "" until known
};

// The code an order already has, from any campaign, or nullopt.
std::optional<AllocatedCode> code_for_order(Database& db, const std::string& order_id);

struct Allocation {
  AllocatedCode code;
  bool existing = false;  // the order had it already (a reprint): nothing was allocated now
};

// The order's code if it has one (whatever its campaign); else the oldest free code of
// `campaign`'s pool, now the order's; nullopt when the pool is empty.
std::optional<Allocation> allocate_code(Database& db, const std::string& campaign,
                                        const std::string& order_id,
                                        const std::string& allocated_at,
                                        std::optional<Day> expires);

// Records the link printed with an order's code.
void set_code_url(Database& db, const std::string& order_id, const std::string& url);

// Whether the store holds `code` already (any campaign, any case).
bool code_exists(Database& db, const std::string& code);

// Free codes left in `campaign`'s pool.
std::int64_t pool_remaining(Database& db, const std::string& campaign);

// The next serial for signed codes of `station` (0, 1, 2, ...), taken; nullopt when the station
// number has used every serial a code can hold (2^24).
std::optional<std::uint32_t> next_signed_serial(Database& db, std::uint32_t station);

// Records a signed code as given to `order_id`. Throws StoreError when the code or the order
// already has a row: nothing is ever issued twice.
void record_signed_code(Database& db, const std::string& campaign, const std::string& code,
                        const std::string& order_id, const std::string& allocated_at, Day expires,
                        const std::string& url = "");

}  // namespace packbench::station::discount

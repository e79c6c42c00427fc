// Claims: how a pool of discount codes is refilled from the back office without a code being
// lost or given twice, whatever crashes or retries happen (docs/discounts.md, "Pools pulled from
// the back office").
//
//   1. The station commits a claim row first: an id (UUIDv7), the campaign, how many codes.
//   2. It posts the claim:  POST pool_url  {"claim": ID, "station", "site", "campaign", "count"}
//   3. The back office answers 200 {"claim": ID, "codes": [...]}: at most `count` codes, fewer or
//      none when it has no more, and the same codes every time it is asked with the same id.
//   4. The station imports the codes and marks the claim done in one transaction.
//
// A claim not done is sent again with the same id (after a failure, a restart, from stationctl
// or stationd alike), so the back office hands each claim's codes out once and the station
// imports them once. A campaign has at most one claim pending (the store's index says so); a
// claim the back office refuses for good is marked failed, and a later one gets a new id.
//
// Every function taking a Database runs inside the caller's transaction (Database::write or
// read); statement failures throw StoreError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "station/discount/pool.hpp"

namespace packbench::station::discount {

// The claims table, as one migration (the store's migration list owns the version number).
inline constexpr std::string_view kDiscountClaimsSql = R"sql(
-- Codes asked of the back office. A claim is committed before it is sent and sent with the same
-- id until it is done (its codes imported in the transaction that says so) or failed (refused
-- for good by the back office).
CREATE TABLE discount_claims (
  id          TEXT PRIMARY KEY,            -- UUIDv7, sent as "claim"
  campaign    TEXT NOT NULL,
  count       INTEGER NOT NULL CHECK (count > 0),
  state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  created_by  TEXT NOT NULL,               -- 'stationd' or 'stationctl'
  created_at  TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,  -- answers (or failures) so far
  last_error  TEXT,
  settled_at  TEXT,                        -- done or failed
  received    INTEGER,                     -- done: codes in the answer
  added       INTEGER,                     -- done: codes new to the pool
  CHECK ((state = 'pending') = (settled_at IS NULL))
) STRICT;
-- One claim pending per campaign: stationd and stationctl asking at once send the same claim.
CREATE UNIQUE INDEX discount_claims_pending ON discount_claims(campaign) WHERE state = 'pending';
CREATE TRIGGER discount_claims_settled BEFORE UPDATE OF state ON discount_claims
WHEN OLD.state != 'pending'
BEGIN SELECT RAISE(ABORT, 'a settled discount claim stays settled'); END;

-- The claim each pulled code came with (NULL: imported from a file).
ALTER TABLE discount_codes ADD COLUMN claim TEXT;
)sql";

enum class ClaimState { pending, done, failed };
std::string_view to_string(ClaimState s);  // "pending", "done", "failed"

struct Claim {
  std::string id;
  std::string campaign;
  int count = 0;
  ClaimState state = ClaimState::pending;
  std::string created_by;
  std::string created_at;
  int attempts = 0;
  std::string last_error;
};

// The campaign's pending claim, or nullopt.
std::optional<Claim> pending_claim(Database& db, const std::string& campaign);

// Every pending claim, oldest first.
std::vector<Claim> pending_claims(Database& db);

// A new pending claim for `count` codes; nullopt when the campaign has one pending already
// (that one is to be sent first). Inside a write transaction.
std::optional<Claim> create_claim(Database& db, const std::string& campaign, int count,
                                  const std::string& created_by, const std::string& id,
                                  const std::string& created_at);

// One attempt that got no usable answer: counted, and its error kept. The claim stays pending.
void record_claim_error(Database& db, const std::string& claim_id, const std::string& error);

// The back office refused the claim for good: failed, with why.
void fail_claim(Database& db, const std::string& claim_id, const std::string& error,
                const std::string& at);

struct ClaimReport {
  bool already_settled = false;  // done or failed before this answer: nothing was imported
  int received = 0;
  ImportReport import;
  std::vector<CsvProblem> rejected;  // codes of the answer that cannot join a pool
};

// The back office's codes for `claim`: imported into its campaign's pool as a file's would be
// (the same rules; the codes the answer repeats, another campaign's codes and unsafe ones are
// reported, the others imported), and the claim marked done. Inside the write transaction that
// commits both. A claim settled meanwhile (by the other process) imports nothing.
ClaimReport settle_claim(Database& db, const Claim& claim, const std::vector<std::string>& codes,
                         const std::string& at);

// The request's body: {"claim", "station", "site", "campaign", "count"}.
std::string claim_request_body(const Claim& claim, const std::string& station,
                               const std::string& site);

struct ClaimAnswer {
  std::optional<std::vector<std::string>> codes;  // set when the answer can be used
  std::string reason;                             // otherwise, for figures: "bad_answer"
  std::string problem;                            // and in words
};

// Reads a 200 answer to `claim`: a JSON object whose "claim" is the claim's id and whose
// "codes" is an array of at most `count` strings. Other keys are ignored.
ClaimAnswer parse_claim_answer(std::string_view body, const Claim& claim);

}  // namespace packbench::station::discount

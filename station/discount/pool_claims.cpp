#include "station/discount/pool_claims.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace packbench::station::discount {
namespace {

namespace json = boost::json;

constexpr const char* kClaimColumns =
    "id, campaign, count, state, created_by, created_at, attempts, last_error";

Claim read_claim(Statement& st) {
  Claim c;
  c.id = st.column_text(0);
  c.campaign = st.column_text(1);
  c.count = static_cast<int>(st.column_int(2));
  const std::string state = st.column_text(3);
  c.state = state == "done"     ? ClaimState::done
            : state == "failed" ? ClaimState::failed
                                : ClaimState::pending;
  c.created_by = st.column_text(4);
  c.created_at = st.column_text(5);
  c.attempts = static_cast<int>(st.column_int(6));
  c.last_error = st.column_optional_text(7).value_or("");
  return c;
}

}  // namespace

std::string_view to_string(ClaimState s) {
  switch (s) {
    case ClaimState::pending:
      return "pending";
    case ClaimState::done:
      return "done";
    case ClaimState::failed:
      return "failed";
  }
  return "pending";
}

std::optional<Claim> pending_claim(Database& db, const std::string& campaign) {
  auto st = db.statement(fmt::format(
      "SELECT {} FROM discount_claims WHERE campaign = ?1 AND state = 'pending'", kClaimColumns));
  st.bind_all(campaign);
  if (!st.step()) {
    return std::nullopt;
  }
  return read_claim(st);
}

std::vector<Claim> pending_claims(Database& db) {
  auto st = db.statement(
      fmt::format("SELECT {} FROM discount_claims WHERE state = 'pending' ORDER BY created_at, id",
                  kClaimColumns));
  std::vector<Claim> out;
  while (st.step()) {
    out.push_back(read_claim(st));
  }
  return out;
}

std::optional<Claim> create_claim(Database& db, const std::string& campaign, int count,
                                  const std::string& created_by, const std::string& id,
                                  const std::string& created_at) {
  if (pending_claim(db, campaign)) {
    return std::nullopt;
  }
  db.statement(
        "INSERT INTO discount_claims (id, campaign, count, state, created_by, created_at) "
        "VALUES (?1, ?2, ?3, 'pending', ?4, ?5)")
      .bind_all(id, campaign, count, created_by, created_at)
      .run();
  Claim c;
  c.id = id;
  c.campaign = campaign;
  c.count = count;
  c.created_by = created_by;
  c.created_at = created_at;
  return c;
}

void record_claim_error(Database& db, const std::string& claim_id, const std::string& error) {
  db.statement(
        "UPDATE discount_claims SET attempts = attempts + 1, last_error = ?2 "
        "WHERE id = ?1 AND state = 'pending'")
      .bind_all(claim_id, error)
      .run();
}

void fail_claim(Database& db, const std::string& claim_id, const std::string& error,
                const std::string& at) {
  db.statement(
        "UPDATE discount_claims SET state = 'failed', attempts = attempts + 1, last_error = ?2, "
        "settled_at = ?3 WHERE id = ?1 AND state = 'pending'")
      .bind_all(claim_id, error, at)
      .run();
}

ClaimReport settle_claim(Database& db, const Claim& claim, const std::vector<std::string>& codes,
                         const std::string& at) {
  ClaimReport report;
  report.received = static_cast<int>(codes.size());
  auto st = db.statement("SELECT state FROM discount_claims WHERE id = ?1");
  st.bind_all(claim.id);
  if (!st.step()) {
    throw StoreError(SQLITE_NOTFOUND, "discount claim " + claim.id + " is not in the store");
  }
  if (st.column_text(0) != "pending") {
    report.already_settled = true;
    return report;
  }
  auto checked = check_codes(codes);
  report.rejected = std::move(checked.problems);
  std::vector<std::string> good;
  good.reserve(checked.codes.size());
  for (auto& c : checked.codes) {
    good.push_back(std::move(c.code));
  }
  report.import = import_codes(db, claim.campaign, good, at, claim.id);
  std::string note;
  if (!report.rejected.empty() || !report.import.conflicts.empty()) {
    note = fmt::format("{} code(s) rejected, {} of another campaign", report.rejected.size(),
                       report.import.conflicts.size());
  }
  db.statement(
        "UPDATE discount_claims SET state = 'done', attempts = attempts + 1, settled_at = ?2, "
        "received = ?3, added = ?4, last_error = ?5 WHERE id = ?1 AND state = 'pending'")
      .bind_all(claim.id, at, report.received, report.import.added,
                note.empty() ? std::optional<std::string>() : std::optional<std::string>(note))
      .run();
  return report;
}

std::string claim_request_body(const Claim& claim, const std::string& station,
                               const std::string& site) {
  return json::serialize(json::object{{"claim", claim.id},
                                      {"station", station},
                                      {"site", site},
                                      {"campaign", claim.campaign},
                                      {"count", claim.count}});
}

ClaimAnswer parse_claim_answer(std::string_view body, const Claim& claim) {
  ClaimAnswer out;
  auto bad = [&](std::string problem) {
    out.reason = "bad_answer";
    out.problem = std::move(problem);
    return out;
  };
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec) {
    return bad("the answer is not JSON: " + ec.message());
  }
  if (!v.is_object()) {
    return bad("the answer is not a JSON object");
  }
  const auto& o = v.as_object();
  const auto* id = o.if_contains("claim");
  if (!id || !id->is_string()) {
    return bad("the answer has no \"claim\" string");
  }
  if (id->as_string() != claim.id) {
    const std::string other = std::string(id->as_string()).substr(0, 64);
    return bad(fmt::format("the answer is for claim '{}', not {}", other, claim.id));
  }
  const auto* codes = o.if_contains("codes");
  if (!codes || !codes->is_array()) {
    return bad("the answer has no \"codes\" array");
  }
  const auto& arr = codes->as_array();
  if (arr.size() > static_cast<std::size_t>(claim.count)) {
    return bad(fmt::format("the answer has {} codes; the claim asked for at most {}", arr.size(),
                           claim.count));
  }
  std::vector<std::string> list;
  list.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) {
      return bad(fmt::format("codes[{}] is not a string", i));
    }
    list.emplace_back(arr[i].as_string());
  }
  out.codes = std::move(list);
  return out;
}

}  // namespace packbench::station::discount

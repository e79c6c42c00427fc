// Pools refilled from the back office: `[discounts] pool_url`, and a campaign's `refill`. When a
// pool campaign's free codes are under its low_water mark (or gone, when it has none), the
// station claims `refill` more, as pool_claims.hpp describes: the claim committed first, then
// posted, its codes imported and the claim marked done in one transaction. It runs on the
// control io_context beside the order feed and never holds packing up: a back office that is
// down, slow or wrong leaves the claim pending and the station packing with what it has (and
// falling back as the campaign says when the pool runs dry).
//
//   POST pool_url  {"claim": "0193…", "station": "pack-01", "site": "tokyo-dc1",
//                   "campaign": "welcome-2026", "count": 500}
//   200 {"claim": "0193…", "codes": ["WELCOME-7Q2M", ...]}           -> imported, claim done
//   no answer, 408, 429, 5xx, an answer that cannot be read          -> kept, sent again later
//   any other 4xx                                                    -> claim failed (logged)
//
// Failures back off with full jitter on the monotonic clock (429 and 503 as Retry-After says,
// up to retry_cap); an answer with fewer codes than asked (the back office has no more) waits
// retry_cap before the campaign's next claim. stationctl codes pull sends claims with the same
// client and the same code (send_claim). docs/discounts.md has the protocol.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "packbench/result.hpp"
#include "station/common/clock.hpp"
#include "station/discount/campaign.hpp"
#include "station/discount/pool_claims.hpp"

namespace packbench::station {
class HttpClient;
}

namespace packbench::station::discount {

struct PullIdentity {
  std::string station_id;
  std::string site;
  std::string process;  // who makes claims: "stationd", "stationctl"
};

// The HTTP client for `settings` (TLS, SNI, CA file, token: the order feed's), with errors
// naming the [discounts] key or file at fault.
Result<std::unique_ptr<HttpClient>> make_pull_client(boost::asio::any_io_executor ex,
                                                     const PoolPullSettings& settings);

struct ClaimAttempt {
  enum class Outcome {
    done,    // answered and settled: the codes are in the pool (report says how many)
    retry,   // no usable answer: the claim stays pending and is sent again later
    failed,  // refused for good (a 4xx other than 408 and 429): the claim is failed
  };
  Outcome outcome = Outcome::retry;
  std::string reason;   // retry, failed: for figures ("connect", "http_503", "bad_answer", ...)
  std::string message;  // retry, failed: in words
  ClaimReport report;   // done
  std::optional<std::chrono::milliseconds> retry_after;  // 429, 503: as the back office asked
};

// Sends `claim` once and settles it in the store as its answer says (settle_claim,
// record_claim_error or fail_claim, each in its own transaction). Never throws.
boost::asio::awaitable<ClaimAttempt> send_claim(HttpClient& client, Database& db,
                                                const Claim& claim, const PullIdentity& identity,
                                                const WallClock& clock);

struct PoolPullStatus {
  std::optional<bool> online;  // nullopt until the first answer (or failure)
  std::string last_error;
  std::string last_success;  // UTC, wall clock: the last claim answered and settled
  std::int64_t last_success_unix_ms = 0;
  std::optional<Claim> in_flight;                      // being sent, or waiting to be sent again
  bool sending = false;                                // a request is out
  std::int64_t claims_done = 0;                        // since the start
  std::int64_t claims_failed = 0;                      // refused for good
  std::map<std::string, std::int64_t> errors;          // attempts to be repeated, by reason
  std::map<std::string, std::int64_t> codes_received;  // by campaign
  std::map<std::string, std::int64_t> codes_added;     // by campaign
  std::optional<std::int64_t> retry_in_ms;  // while waiting out a back-off: how long, at its start
};

class PoolPull {
 public:
  static Result<std::unique_ptr<PoolPull>> create(boost::asio::any_io_executor ex, Database& db,
                                                  const DiscountConfig& config,
                                                  PullIdentity identity,
                                                  const WallClock& clock = system_wall_clock());
  ~PoolPull();
  PoolPull(const PoolPull&) = delete;
  PoolPull& operator=(const PoolPull&) = delete;

  void start();
  void stop();
  // A pool may have gone under its mark (an order was completed): look now, unless waiting out
  // a back-off. Safe to call from a verdict listener.
  void check();

  const PoolPullStatus& status() const;
  // The pull's part of /healthz, and its lines in /metrics.
  boost::json::object to_json() const;
  void append_prometheus(std::string& out, const std::string& station_label) const;

 private:
  struct State;
  explicit PoolPull(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> run(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace packbench::station::discount

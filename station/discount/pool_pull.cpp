#include "station/discount/pool_pull.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/array.hpp>

#include "station/common/backoff.hpp"
#include "station/http/http_client.hpp"
#include "station/outbox/outbox.hpp"
#include "station/pack/pack_metrics.hpp"

namespace packbench::station::discount {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr auto kStoreRetry = std::chrono::seconds(5);
// With nothing to claim, the pools are looked at again this often: codes imported or claims
// made by stationctl in another process do not wake this one.
constexpr auto kRecheck = std::chrono::seconds(60);
// An answer of the largest claim (100,000 codes of up to 64 characters) fits.
constexpr std::size_t kMaxAnswerBytes = std::size_t{8} << 20;

json::object counts(const std::map<std::string, std::int64_t>& m) {
  json::object out;
  for (const auto& [k, v] : m) {
    out[k] = v;
  }
  return out;
}

// A body's start, fit for one log line.
std::string snippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (auto& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  return s;
}

// "300 ms", "5 s", "300 s": how long a wait is, for the log.
std::string in_words(std::chrono::milliseconds d) {
  return d < std::chrono::seconds(10) ? fmt::format("{} ms", d.count())
                                      : fmt::format("{} s", d.count() / 1000);
}

bool wants_refill(Database& db, const Campaign& c) {
  return pool_remaining(db, c.id) < std::max(c.low_water, 1);
}

}  // namespace

Result<std::unique_ptr<HttpClient>> make_pull_client(asio::any_io_executor ex,
                                                     const PoolPullSettings& settings) {
  HttpClientOptions options;
  options.url = settings.url;
  options.ca_file = settings.ca_file;
  options.bearer_token_file = settings.bearer_token_file;
  options.timeout = settings.timeout;
  options.max_body_bytes = kMaxAnswerBytes;
  options.config_section = "discounts";
  return HttpClient::create(ex, std::move(options));
}

asio::awaitable<ClaimAttempt> send_claim(HttpClient& client, Database& db, const Claim& claim,
                                         const PullIdentity& identity, const WallClock& clock) {
  ClaimAttempt out;
  auto req = client.make_request(http::verb::post, client.target());
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  // The claim id is the request's idempotency key: a back office with generic support for the
  // header (draft-ietf-httpapi-idempotency-key-header) answers a repeat as the first time.
  req.set("Idempotency-Key", claim.id);
  req.body() = claim_request_body(claim, identity.station_id, identity.site);
  req.prepare_payload();
  auto sent = co_await client.send(req);
  if (client.closed()) {
    // The station is stopping: the claim stays as it is, to be sent again at the next start.
    out.reason = "stopped";
    out.message = "the station is stopping";
    co_return out;
  }

  auto keep = [&](std::string reason, std::string message) {
    out.outcome = ClaimAttempt::Outcome::retry;
    out.reason = std::move(reason);
    out.message = std::move(message);
    if (auto r = db.write([&] { record_claim_error(db, claim.id, out.message); }); !r) {
      spdlog::error("discount pool pull: cannot record the error of claim {}: {}", claim.id,
                    r.error().message);
    }
  };

  if (auto* f = std::get_if<HttpFailure>(&sent)) {
    keep(f->reason, fmt::format("POST {}: {}", client.url(), f->message));
    co_return out;
  }
  auto& res = std::get<HttpClientResponse>(sent);
  const unsigned code = res.result_int();
  if (code == 200) {
    auto answer = parse_claim_answer(res.body(), claim);
    if (!answer.codes) {
      keep(answer.reason,
           fmt::format("the answer to claim {} was refused: {}", claim.id, answer.problem));
      co_return out;
    }
    auto settled =
        db.write([&] { return settle_claim(db, claim, *answer.codes, clock.now_utc()); });
    if (!settled) {
      keep(
          db.last_error_code() == SQLITE_FULL ? "store_full" : "store",
          fmt::format("cannot store the codes of claim {}: {}", claim.id, settled.error().message));
      co_return out;
    }
    out.outcome = ClaimAttempt::Outcome::done;
    out.report = std::move(*settled);
    co_return out;
  }
  const std::string body = snippet(res.body());
  const std::string message = fmt::format("POST {} (claim {}): HTTP {}{}{}", client.url(), claim.id,
                                          code, body.empty() ? "" : ": ", body);
  // A 4xx says the request itself is wrong; sending it again cannot help. 408 and 429 are the
  // exceptions (RFC 9110, 15.5.9; RFC 6585, 4).
  if (code >= 400 && code < 500 && code != 408 && code != 429) {
    out.outcome = ClaimAttempt::Outcome::failed;
    out.reason = fmt::format("http_{}", code);
    out.message = message;
    if (auto r = db.write([&] { fail_claim(db, claim.id, message, clock.now_utc()); }); !r) {
      // Still pending in the store, so it is sent again: the back office refuses it again.
      out.outcome = ClaimAttempt::Outcome::retry;
      out.message += "; and the store could not mark it failed: " + r.error().message;
    }
    co_return out;
  }
  keep(fmt::format("http_{}", code), message);
  if (code == 429 || code == 503) {
    out.retry_after = parse_retry_after(res[http::field::retry_after], clock.now());
  }
  co_return out;
}

struct PoolPull::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor e, Database& d, const DiscountConfig& c, PullIdentity id,
        const WallClock& w, std::unique_ptr<HttpClient> cl)
      : ex(e),
        db(d),
        settings(c.settings.pull),
        campaigns(c.campaigns),
        identity(std::move(id)),
        clock(w),
        client(std::move(cl)),
        timer(e),
        backoff(settings.retry_base, settings.retry_cap) {}

  asio::any_io_executor ex;
  Database& db;
  PoolPullSettings settings;
  std::vector<Campaign> campaigns;
  PullIdentity identity;
  const WallClock& clock;
  std::unique_ptr<HttpClient> client;
  asio::steady_timer timer;
  Backoff backoff;
  PoolPullStatus status;
  bool running = false;
  bool idle = false;  // nothing to claim: check() may cut the wait short
  // A campaign whose last claim came back short or was refused makes no new claim before this.
  std::map<std::string, std::chrono::steady_clock::time_point> not_before;
  std::string last_store_error;
  UuidV7 ids;  // claim ids

  const Campaign* pool_campaign(const std::string& id) const {
    for (const auto& c : campaigns) {
      if (c.id == id && c.source == CodeSource::pool) {
        return &c;
      }
    }
    return nullptr;
  }

  // The claim to send next: one pending in the store (made by this process or by stationctl,
  // before a crash or not), else a new one for the first pool under its mark.
  Result<std::optional<Claim>> next_claim() {
    auto pending = db.read([&] { return pending_claims(db); });
    if (!pending) {
      return pending.error();
    }
    for (auto& c : *pending) {
      if (pool_campaign(c.campaign)) {
        return std::optional<Claim>(std::move(c));
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const Day today = local_day(clock.now());
    for (const auto& c : campaigns) {
      if (c.source != CodeSource::pool || c.refill <= 0 || (c.ends && *c.ends < today)) {
        continue;
      }
      if (auto it = not_before.find(c.id); it != not_before.end() && now < it->second) {
        continue;
      }
      auto low = db.read([&] { return wants_refill(db, c); });
      if (!low) {
        return low.error();
      }
      if (!*low) {
        continue;
      }
      // Looked at again under the write lock: another process may have refilled the pool or
      // made a claim meanwhile (then that one is sent).
      auto made = db.write([&]() -> std::optional<Claim> {
        if (auto p = pending_claim(db, c.id)) {
          return p;
        }
        if (!wants_refill(db, c)) {
          return std::nullopt;
        }
        auto claim = create_claim(db, c.id, c.refill, identity.process, ids.next(clock.now()),
                                  clock.now_utc());
        if (claim) {
          spdlog::info(
              "discount pool pull: campaign {} has {} free code(s) (low-water mark {}); claiming "
              "{} from the back office, claim {}",
              c.id, pool_remaining(db, c.id), c.low_water, c.refill, claim->id);
        }
        return claim;
      });
      if (!made) {
        return made.error();
      }
      if (*made) {
        return made;
      }
    }
    return std::optional<Claim>();
  }

  asio::awaitable<void> wait(std::chrono::milliseconds how_long, bool idle_wait = false) {
    idle = idle_wait;
    timer.expires_after(how_long);
    co_await timer.async_wait(tuple_awaitable);
    idle = false;
  }

  // Until check(), the next recheck, or the end of the first campaign's wait.
  asio::awaitable<void> wait_idle() {
    auto until = std::chrono::steady_clock::now() + kRecheck;
    for (const auto& [campaign, t] : not_before) {
      until = std::min(until, t);
    }
    const auto how_long = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    co_await wait(std::max(how_long, std::chrono::milliseconds(1)), true);
  }

  asio::awaitable<void> back_off(std::optional<std::chrono::milliseconds> asked) {
    auto how_long = backoff.next();
    if (asked) {
      how_long = std::min(*asked, settings.retry_cap);
    }
    status.retry_in_ms = how_long.count();
    co_await wait(how_long);
    status.retry_in_ms.reset();
  }

  void answered() {
    if (status.online != true) {
      spdlog::info("discount pool pull: online, claiming from {}", client->url());
    }
    status.online = true;
    status.last_error.clear();
    const auto wall = clock.now();
    status.last_success = format_utc(wall);
    status.last_success_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
    backoff.reset();
  }

  void done(const Claim& claim, const ClaimReport& r) {
    answered();
    ++status.claims_done;
    status.codes_received[claim.campaign] += r.received;
    status.codes_added[claim.campaign] += r.import.added;
    if (r.already_settled) {
      spdlog::info("discount pool pull: claim {} was settled meanwhile by another process",
                   claim.id);
      return;
    }
    spdlog::info(
        "discount pool pull: claim {} for campaign {}: {} code(s) received, {} added, {} already "
        "there",
        claim.id, claim.campaign, r.received, r.import.added, r.import.already_there);
    for (const auto& p : r.rejected) {
      spdlog::warn("discount pool pull: claim {}: code {} rejected: {}", claim.id, p.line,
                   p.message);
    }
    for (const auto& c : r.import.conflicts) {
      spdlog::warn("discount pool pull: claim {}: already in the store for another campaign: {}",
                   claim.id, c);
    }
    if (r.received < claim.count) {
      // The back office has no more for now: asking again at once would only repeat that.
      not_before[claim.campaign] = std::chrono::steady_clock::now() + settings.retry_cap;
      spdlog::warn(
          "discount pool pull: the back office gave {} of the {} code(s) claimed for campaign "
          "{}; the next claim in {}",
          r.received, claim.count, claim.campaign, in_words(settings.retry_cap));
    }
  }

  void keep(const Claim& claim, const ClaimAttempt& a) {
    ++status.errors[a.reason];
    if (status.online != false || status.last_error != a.message) {
      spdlog::warn("discount pool pull: {}; nothing imported, claim {} is sent again later",
                   a.message, claim.id);
    }
    status.online = false;
    status.last_error = a.message;
    if (status.in_flight) {
      ++status.in_flight->attempts;
      status.in_flight->last_error = a.message;
    }
  }

  void failed(const Claim& claim, const ClaimAttempt& a) {
    // The back office answered, but refuses this claim: IT must look at it.
    ++status.claims_failed;
    status.online = true;
    status.last_error = a.message;
    not_before[claim.campaign] = std::chrono::steady_clock::now() + settings.retry_cap;
    spdlog::error(
        "discount pool pull: the back office refused claim {} for campaign {} for good ({}); "
        "the claim is marked failed and nothing was imported; a new claim in {}. Check "
        "[discounts] pool_url, the token and the campaign id with the back office",
        claim.id, claim.campaign, a.message, in_words(settings.retry_cap));
  }
};

Result<std::unique_ptr<PoolPull>> PoolPull::create(asio::any_io_executor ex, Database& db,
                                                   const DiscountConfig& config,
                                                   PullIdentity identity, const WallClock& clock) {
  auto client = make_pull_client(ex, config.settings.pull);
  if (!client) {
    return client.error();
  }
  auto state =
      std::make_shared<State>(ex, db, config, std::move(identity), clock, std::move(*client));
  return std::unique_ptr<PoolPull>(new PoolPull(std::move(state)));
}

PoolPull::PoolPull(std::shared_ptr<State> state) : state_(std::move(state)) {}

PoolPull::~PoolPull() {
  stop();
}

void PoolPull::start() {
  if (state_->running) {
    return;
  }
  state_->running = true;
  asio::co_spawn(state_->ex, run(state_), asio::detached);
}

void PoolPull::stop() {
  if (!state_->running) {
    return;
  }
  state_->running = false;
  state_->timer.cancel();
  state_->client->close();
}

void PoolPull::check() {
  if (state_->idle) {
    state_->timer.cancel();
  }
}

const PoolPullStatus& PoolPull::status() const {
  return state_->status;
}

asio::awaitable<void> PoolPull::run(std::shared_ptr<State> s) {
  while (s->running) {
    auto next = s->next_claim();
    if (!next) {
      if (s->last_store_error != next.error().message) {
        spdlog::error("discount pool pull: cannot read the pools or make a claim: {}",
                      next.error().message);
        s->last_store_error = next.error().message;
      }
      co_await s->wait(kStoreRetry);
      continue;
    }
    s->last_store_error.clear();
    if (!*next) {
      s->status.in_flight.reset();
      co_await s->wait_idle();
      continue;
    }
    const Claim claim = std::move(**next);
    s->status.in_flight = claim;
    s->status.sending = true;
    const auto attempt = co_await send_claim(*s->client, s->db, claim, s->identity, s->clock);
    s->status.sending = false;
    if (!s->running) {
      break;
    }
    switch (attempt.outcome) {
      case ClaimAttempt::Outcome::done:
        s->status.in_flight.reset();
        s->done(claim, attempt.report);
        break;
      case ClaimAttempt::Outcome::failed:
        s->status.in_flight.reset();
        s->failed(claim, attempt);
        break;
      case ClaimAttempt::Outcome::retry:
        s->keep(claim, attempt);
        co_await s->back_off(attempt.retry_after);
        break;
    }
  }
}

// --- figures -------------------------------------------------------------------------------

json::object PoolPull::to_json() const {
  const auto& st = state_->status;
  json::object o;
  o["url"] = state_->settings.url;
  o["state"] = st.sending ? "sending" : st.in_flight ? "waiting" : "idle";
  o["online"] = st.online ? json::value(*st.online) : json::value();
  o["last_error"] = st.last_error;
  o["last_success"] = st.last_success.empty() ? json::value() : json::value(st.last_success);
  if (st.in_flight) {
    const auto& c = *st.in_flight;
    o["claim"] = json::object{{"id", c.id},
                              {"campaign", c.campaign},
                              {"count", c.count},
                              {"created_by", c.created_by},
                              {"created_at", c.created_at},
                              {"attempts", c.attempts},
                              {"last_error", c.last_error}};
  } else {
    o["claim"] = nullptr;
  }
  o["claims_done"] = st.claims_done;
  o["claims_failed"] = st.claims_failed;
  o["errors"] = counts(st.errors);
  o["codes_received"] = counts(st.codes_received);
  o["codes_added"] = counts(st.codes_added);
  o["retry_in_ms"] = st.retry_in_ms ? json::value(*st.retry_in_ms) : json::value();
  return o;
}

void PoolPull::append_prometheus(std::string& out, const std::string& station) const {
  const auto& st = state_->status;
  out += fmt::format(
      "# HELP packbench_discount_pull_online Whether the last claim of discount codes got an "
      "answer from the back office (1) or not (0).\n"
      "# TYPE packbench_discount_pull_online gauge\n"
      "packbench_discount_pull_online{{station=\"{}\"}} {}\n",
      station, st.online.value_or(false) ? 1 : 0);
  out += fmt::format(
      "# HELP packbench_discount_pull_last_success_timestamp_seconds Wall-clock time of the last "
      "claim of discount codes answered and settled (0: none yet).\n"
      "# TYPE packbench_discount_pull_last_success_timestamp_seconds gauge\n"
      "packbench_discount_pull_last_success_timestamp_seconds{{station=\"{}\"}} {}\n",
      station, fmt::format("{}", static_cast<double>(st.last_success_unix_ms) / 1000.0));
  out += fmt::format(
      "# HELP packbench_discount_pull_claims_total Claims of discount codes settled, by outcome "
      "(done: codes imported; failed: refused for good by the back office).\n"
      "# TYPE packbench_discount_pull_claims_total counter\n"
      "packbench_discount_pull_claims_total{{station=\"{}\",outcome=\"done\"}} {}\n"
      "packbench_discount_pull_claims_total{{station=\"{}\",outcome=\"failed\"}} {}\n",
      station, st.claims_done, station, st.claims_failed);
  auto by = [&](const char* name, const char* help, const char* label,
                const std::map<std::string, std::int64_t>& m) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& [k, v] : m) {
      out += fmt::format("{}{{station=\"{}\",{}=\"{}\"}} {}\n", name, station, label,
                         prometheus_label(k), v);
    }
  };
  by("packbench_discount_pull_errors_total",
     "Claims of discount codes sent without a usable answer, to be sent again, by reason "
     "(connect, timeout, tls, http_503, bad_answer, store, ...).",
     "reason", st.errors);
  by("packbench_discount_pull_codes_received_total",
     "Discount codes the back office answered claims with, by campaign.", "campaign",
     st.codes_received);
  by("packbench_discount_pull_codes_added_total",
     "Discount codes from the back office added to a pool, by campaign.", "campaign",
     st.codes_added);
}

}  // namespace packbench::station::discount

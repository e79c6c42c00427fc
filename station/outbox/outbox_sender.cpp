#include "station/outbox/outbox_sender.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "station/common/backoff.hpp"
#include "station/pack/pack_metrics.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

// Rows other processes put back (stationctl outbox retry) and TTLs are looked at this often
// when there is nothing to send.
constexpr auto kIdlePoll = std::chrono::seconds(1);
constexpr auto kExpireEvery = std::chrono::seconds(1);
constexpr auto kAliveEvery = std::chrono::seconds(60);
constexpr auto kStoreRetry = std::chrono::seconds(5);

std::string metric_value(double v) {
  return fmt::format("{}", v);
}

}  // namespace

void LatencyHistogram::observe(double seconds) {
  ++count;
  sum += seconds;
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets[i];
      return;
    }
  }
}

struct OutboxSender::State {
  State(asio::any_io_executor e, Outbox& o, std::unique_ptr<Transport> t, SyncConfig c,
        const WallClock& w)
      : ex(e),
        outbox(o),
        transport(std::move(t)),
        config(std::move(c)),
        clock(w),
        wake_timer(e),
        backoff_timer(e),
        backoff(config.retry_base, config.retry_cap) {
    status.batch_limit = static_cast<std::size_t>(config.batch_max_events);
  }

  asio::any_io_executor ex;
  Outbox& outbox;
  std::unique_ptr<Transport> transport;
  SyncConfig config;
  const WallClock& clock;
  asio::steady_timer wake_timer;
  asio::steady_timer backoff_timer;
  SyncStatus status;
  bool running = false;
  Backoff backoff;
  bool resume_requested = false;
  std::chrono::steady_clock::time_point last_expire{};
  std::chrono::steady_clock::time_point last_alive = std::chrono::steady_clock::now();
  std::string last_store_error;

  std::chrono::milliseconds next_backoff() { return backoff.next(); }

  void store_problem(const std::string& what, const Error& e) {
    const std::string text = what + ": " + e.message;
    if (text != last_store_error) {
      spdlog::error("sync: {}", text);
      last_store_error = text;
    }
  }

  // TTLs, the alarm for refused events, and the mark that says how long events have waited.
  void housekeeping() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_expire >= kExpireEvery) {
      last_expire = now;
      if (auto expired = outbox.expire(monotonic_ns(now))) {
        for (const auto& [lane, n] : *expired) {
          status.expired[std::string(to_string(lane))] += n;
          spdlog::warn("sync: {} {} event(s) outlived the lane's TTL; moved to the dead letters", n,
                       to_string(lane));
        }
      } else {
        store_problem("cannot expire old events", expired.error());
      }
    }
    if (!outbox.refusals().empty()) {
      const Refusals r = outbox.refusals();
      if (auto raised = outbox.raise_alarm_if_due(); raised && *raised) {
        spdlog::warn(
            "sync: there is room again; the alarm for {} refused event(s) and {} "
            "unrecorded scan(s) goes to the back office",
            r.events, r.scans);
      }
    }
    if (now - last_alive >= kAliveEvery) {
      last_alive = now;
      (void)outbox.mark_alive(monotonic_ns(now));
    }
  }

  void online() {
    if (status.online != true) {
      spdlog::info("sync: online, delivering to {}", transport->endpoint());
    }
    status.online = true;
    status.last_error.clear();
    status.retry_in_ms.reset();
  }

  // Returns false when the store could not record it (the events go again; the peer dedupes).
  bool acknowledge(const std::vector<PendingEvent>& events) {
    if (events.empty()) {
      return true;
    }
    if (auto ack = outbox.acknowledge(events); !ack) {
      store_problem("delivered but could not record it", ack.error());
      return false;
    }
    const auto now_ns = monotonic_now_ns();
    for (const auto& e : events) {
      status.latency.observe(
          static_cast<double>(std::max<std::int64_t>(0, now_ns - e.created_mono_ns)) / 1e9);
    }
    const auto wall = clock.now();
    status.sent += static_cast<std::int64_t>(events.size());
    status.last_success = format_utc(wall);
    status.last_success_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
    backoff.reset();
    return true;
  }

  asio::awaitable<void> wait(asio::steady_timer& timer, std::chrono::milliseconds how_long) {
    timer.expires_after(how_long);
    co_await timer.async_wait(tuple_awaitable);
  }
};

OutboxSender::OutboxSender(asio::any_io_executor ex, Outbox& outbox,
                           std::unique_ptr<Transport> transport, SyncConfig config,
                           const WallClock& clock)
    : state_(std::make_shared<State>(std::move(ex), outbox, std::move(transport), std::move(config),
                                     clock)) {}

OutboxSender::~OutboxSender() {
  stop();
}

void OutboxSender::start() {
  if (state_->running) {
    return;
  }
  // A stop noted by an earlier run of the station is lifted: a restart sends again.
  if (auto lifted = state_->outbox.resume_sync(); lifted && *lifted) {
    spdlog::info("sync: sending was stopped at {} ({}); starting again", (*lifted)->at,
                 (*lifted)->error);
  }
  state_->running = true;
  asio::co_spawn(state_->ex, run(state_), asio::detached);
}

bool OutboxSender::resume() {
  if (!state_->status.stopped) {
    return false;
  }
  state_->resume_requested = true;
  state_->wake_timer.cancel();
  return true;
}

void OutboxSender::stop() {
  if (!state_->running) {
    return;
  }
  state_->running = false;
  state_->wake_timer.cancel();
  state_->backoff_timer.cancel();
  state_->transport->close();
}

void OutboxSender::wake() {
  state_->wake_timer.cancel();
}

const SyncStatus& OutboxSender::status() const {
  return state_->status;
}

const Transport& OutboxSender::transport() const {
  return *state_->transport;
}

// While the peer is gone: housekeeping goes on (TTLs, the alarm), nothing is sent, and the
// stop is noted in the store until IT lifts it there (stationctl outbox resume) or here
// (resume()).
asio::awaitable<void> OutboxSender::wait_while_stopped(std::shared_ptr<State> s) {
  s->resume_requested = false;
  bool noted = false;
  const SyncStop stop{s->clock.now_utc(), s->transport->endpoint(), s->status.last_error};
  while (s->running) {
    if (!noted) {
      if (auto n = s->outbox.note_sync_stop(stop); n) {
        noted = true;
      } else {
        s->store_problem("cannot note that sync stopped", n.error());
      }
    } else if (auto still = s->outbox.sync_stop(); still && !*still) {
      s->resume_requested = true;  // stationctl outbox resume removed the note
    }
    if (s->resume_requested) {
      if (noted) {
        (void)s->outbox.resume_sync();
      }
      s->resume_requested = false;
      s->status.stopped = false;
      s->status.online.reset();
      s->backoff.reset();
      s->status.batch_limit = static_cast<std::size_t>(s->config.batch_max_events);
      s->transport->reopen();
      spdlog::warn("sync: resumed; delivering to {} again", s->transport->endpoint());
      co_return;
    }
    co_await s->wait(s->wake_timer, kIdlePoll);
    s->housekeeping();
  }
}

asio::awaitable<void> OutboxSender::run(std::shared_ptr<State> s) {
  using Outcome = DeliveryResult::Outcome;
  while (s->running) {
    s->housekeeping();
    auto batch = s->outbox.next_batch(s->status.batch_limit,
                                      static_cast<std::size_t>(s->config.batch_max_bytes));
    if (!batch) {
      s->store_problem("cannot read the outbox", batch.error());
      co_await s->wait(s->wake_timer, kStoreRetry);
      continue;
    }
    if (batch->empty()) {
      co_await s->wait(s->wake_timer, kIdlePoll);
      continue;
    }
    DeliveryResult r = co_await s->transport->deliver(*batch);
    if (!s->running) {
      break;
    }
    const std::size_t acked = r.outcome == Outcome::acknowledged
                                  ? batch->size()
                                  : std::min(r.acknowledged, batch->size());
    // The events the outcome concerns; any after them stay as they are for the next batch.
    const std::size_t concerned =
        r.count ? std::min(*r.count, batch->size() - acked) : batch->size() - acked;
    const std::vector<PendingEvent> done(batch->begin(),
                                         batch->begin() + static_cast<std::ptrdiff_t>(acked));
    const std::vector<PendingEvent> rest(
        batch->begin() + static_cast<std::ptrdiff_t>(acked),
        batch->begin() + static_cast<std::ptrdiff_t>(acked + concerned));
    if (!s->acknowledge(done)) {
      co_await s->wait(s->backoff_timer, s->next_backoff());
      continue;
    }
    switch (r.outcome) {
      case Outcome::acknowledged:
        s->online();
        // After a 413 the batch grows back, a doubling at a time.
        s->status.batch_limit = std::min<std::size_t>(
            static_cast<std::size_t>(s->config.batch_max_events), s->status.batch_limit * 2);
        continue;
      case Outcome::too_large:
        if (rest.size() > 1) {
          s->status.batch_limit = std::max<std::size_t>(1, rest.size() / 2);
          s->status.retried[r.reason] += static_cast<std::int64_t>(rest.size());
          spdlog::warn("sync: {}; sending {} event(s) a batch", r.error, s->status.batch_limit);
          continue;
        }
        [[fallthrough]];
      case Outcome::dead_letter:
        if (auto d = s->outbox.dead_letter(rest, r.reason, r.error); !d) {
          s->store_problem("cannot move refused events to the dead letters", d.error());
          co_await s->wait(s->backoff_timer, s->next_backoff());
          continue;
        }
        s->status.dead[r.reason] += static_cast<std::int64_t>(rest.size());
        spdlog::error("sync: {}; {} event(s) moved to the dead letters (stationctl outbox dead)",
                      r.error, rest.size());
        // The peer answered: it is there, it only refused these.
        s->status.online = true;
        s->status.last_error = r.error;
        continue;
      case Outcome::stop:
        s->status.stopped = true;
        s->status.online = false;
        s->status.last_error = r.error;
        s->status.retry_in_ms.reset();
        s->transport->close();
        spdlog::critical(
            "sync: {}: the back office says {} is gone for good. Sending has stopped; the "
            "events wait in the outbox. Once it answers again, run `stationctl outbox resume` "
            "(or, for a new [sync] url, change it and restart the station)",
            r.error, s->transport->endpoint());
        co_await wait_while_stopped(s);
        continue;
      case Outcome::retry:
        break;
    }
    (void)s->outbox.record_failure(rest, r.error);
    s->status.retried[r.reason] += static_cast<std::int64_t>(rest.size());
    std::chrono::milliseconds wait = s->next_backoff();
    if (r.retry_after) {
      wait = std::min(*r.retry_after, s->config.retry_after_max);
    }
    if (s->status.online != false || s->status.last_error != r.error) {
      spdlog::warn("sync: {}; {} event(s) kept, retrying in {} ms{}", r.error, rest.size(),
                   wait.count(), r.retry_after ? " (as the server asked)" : "");
    }
    s->status.online = false;
    s->status.last_error = r.error;
    s->status.retry_in_ms = wait.count();
    co_await s->wait(s->backoff_timer, wait);
    s->status.retry_in_ms.reset();
  }
}

// --- figures -------------------------------------------------------------------------------

json::object OutboxSender::to_json() const {
  const auto& st = state_->status;
  json::object o;
  o["transport"] = state_->transport->kind();
  o["url"] = state_->transport->endpoint();
  o["state"] = st.stopped               ? "stopped"
               : !st.online.has_value() ? "unknown"
               : *st.online             ? "online"
                                        : "offline";
  o["online"] = st.online ? json::value(*st.online) : json::value();
  o["last_error"] = st.last_error;
  o["last_success"] = st.last_success.empty() ? json::value() : json::value(st.last_success);
  o["sent"] = st.sent;
  auto by = [](const std::map<std::string, std::int64_t>& m) {
    json::object out;
    for (const auto& [k, v] : m) {
      out[k] = v;
    }
    return out;
  };
  o["retried"] = by(st.retried);
  o["dead"] = by(st.dead);
  o["expired"] = by(st.expired);
  o["retry_in_ms"] = st.retry_in_ms ? json::value(*st.retry_in_ms) : json::value();
  o["batch_limit"] = st.batch_limit;
  return o;
}

void OutboxSender::append_prometheus(std::string& out, const std::string& station) const {
  const auto& st = state_->status;
  out += fmt::format(
      "# HELP packbench_sync_online Whether the last delivery reached the back office (1) or "
      "not (0).\n# TYPE packbench_sync_online gauge\npackbench_sync_online{{station=\"{}\"}} "
      "{}\n",
      station, st.online.value_or(false) ? 1 : 0);
  out += fmt::format(
      "# HELP packbench_sync_stopped 1 when the back office answered 410 Gone and sending "
      "stopped.\n# TYPE packbench_sync_stopped gauge\npackbench_sync_stopped{{station=\"{}\"}} "
      "{}\n",
      station, st.stopped ? 1 : 0);
  out += fmt::format(
      "# HELP packbench_sync_last_success_timestamp_seconds Wall-clock time of the last "
      "acknowledged delivery (0: none yet).\n"
      "# TYPE packbench_sync_last_success_timestamp_seconds gauge\n"
      "packbench_sync_last_success_timestamp_seconds{{station=\"{}\"}} {}\n",
      station, metric_value(static_cast<double>(st.last_success_unix_ms) / 1000.0));
  out += fmt::format(
      "# HELP packbench_sync_sent_events_total Events the back office acknowledged.\n"
      "# TYPE packbench_sync_sent_events_total counter\n"
      "packbench_sync_sent_events_total{{station=\"{}\"}} {}\n",
      station, st.sent);
  auto by_reason = [&](const char* name, const char* help, const char* label,
                       const std::map<std::string, std::int64_t>& m) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& [k, v] : m) {
      out += fmt::format("{}{{station=\"{}\",{}=\"{}\"}} {}\n", name, station, label,
                         prometheus_label(k), v);
    }
  };
  by_reason("packbench_sync_retried_events_total",
            "Events kept for another try, by what went wrong (http_503, timeout, reset, ...).",
            "reason", st.retried);
  by_reason("packbench_sync_dead_events_total",
            "Events moved to the dead letters, by reason (http_400, http_413, ...).", "reason",
            st.dead);
  by_reason("packbench_sync_expired_events_total",
            "Events that outlived their lane's TTL, by lane.", "lane", st.expired);
  const char* h = "packbench_sync_delivery_latency_seconds";
  out += fmt::format(
      "# HELP {} From an event's commit to its acknowledgement (monotonic clock).\n"
      "# TYPE {} histogram\n",
      h, h);
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i < std::size(LatencyHistogram::kBounds); ++i) {
    cumulative += st.latency.buckets[i];
    out += fmt::format("{}_bucket{{station=\"{}\",le=\"{}\"}} {}\n", h, station,
                       metric_value(LatencyHistogram::kBounds[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{station=\"{}\",le=\"+Inf\"}} {}\n", h, station, st.latency.count);
  out += fmt::format("{}_sum{{station=\"{}\"}} {}\n{}_count{{station=\"{}\"}} {}\n", h, station,
                     metric_value(st.latency.sum), h, station, st.latency.count);
}

void append_outbox_prometheus(std::string& out, Outbox& outbox, const std::string& station) {
  auto d = outbox.depth();
  if (!d) {
    return;
  }
  out +=
      "# HELP packbench_outbox_events Events waiting for the back office, by lane.\n"
      "# TYPE packbench_outbox_events gauge\n";
  out += fmt::format("packbench_outbox_events{{station=\"{}\",lane=\"business\"}} {}\n", station,
                     d->business.events);
  out += fmt::format("packbench_outbox_events{{station=\"{}\",lane=\"bulk\"}} {}\n", station,
                     d->bulk.events);
  out +=
      "# HELP packbench_outbox_bytes Bytes of events waiting for the back office, by lane.\n"
      "# TYPE packbench_outbox_bytes gauge\n";
  out += fmt::format("packbench_outbox_bytes{{station=\"{}\",lane=\"business\"}} {}\n", station,
                     d->business.bytes);
  out += fmt::format("packbench_outbox_bytes{{station=\"{}\",lane=\"bulk\"}} {}\n", station,
                     d->bulk.bytes);
  out += fmt::format(
      "# HELP packbench_outbox_max_bytes The outbox's cap on what waits and the dead letters "
      "together: business events beyond it are refused.\n"
      "# TYPE packbench_outbox_max_bytes gauge\n"
      "packbench_outbox_max_bytes{{station=\"{}\"}} {}\n",
      station, outbox.config().max_bytes);
  const double age = d->oldest_mono_ns ? static_cast<double>(std::max<std::int64_t>(
                                             0, monotonic_now_ns() - *d->oldest_mono_ns)) /
                                             1e9
                                       : 0.0;
  out += fmt::format(
      "# HELP packbench_outbox_oldest_age_seconds Age of the oldest unsent event (0: none).\n"
      "# TYPE packbench_outbox_oldest_age_seconds gauge\n"
      "packbench_outbox_oldest_age_seconds{{station=\"{}\"}} {}\n",
      station, metric_value(age));
  out += fmt::format(
      "# HELP packbench_outbox_dead_events Events in the dead letters (stationctl outbox dead).\n"
      "# TYPE packbench_outbox_dead_events gauge\npackbench_outbox_dead_events{{station=\"{}\"}} "
      "{}\n",
      station, d->dead.events);
  out += fmt::format(
      "# HELP packbench_outbox_dead_bytes Bytes of the dead letters (they count against the "
      "cap until IT purges them).\n"
      "# TYPE packbench_outbox_dead_bytes gauge\npackbench_outbox_dead_bytes{{station=\"{}\"}} "
      "{}\n",
      station, d->dead.bytes);
  out += fmt::format(
      "# HELP packbench_outbox_full 1 while business events are being refused.\n"
      "# TYPE packbench_outbox_full gauge\npackbench_outbox_full{{station=\"{}\"}} {}\n",
      station, outbox.full() ? 1 : 0);
  out +=
      "# HELP packbench_outbox_refused_events_total Events refused, by lane and reason (cap: "
      "the outbox was full; disk_full: the store was).\n"
      "# TYPE packbench_outbox_refused_events_total counter\n";
  for (Lane lane : {Lane::business, Lane::bulk}) {
    for (const char* reason : {"cap", "disk_full"}) {
      out += fmt::format(
          "packbench_outbox_refused_events_total{{station=\"{}\",lane=\"{}\",reason=\"{}\"}} {}\n",
          station, to_string(lane), reason, outbox.refused_total(lane, reason));
    }
  }
}

json::object outbox_to_json(Outbox& outbox) {
  json::object o;
  auto d = outbox.depth();
  if (!d) {
    o["error"] = d.error().message;
    return o;
  }
  o["depth"] = d->events;
  o["bytes"] = d->bytes;
  o["max_bytes"] = outbox.config().max_bytes;
  o["oldest"] = d->oldest_created_at ? json::value(*d->oldest_created_at) : json::value();
  o["oldest_age_s"] = d->oldest_mono_ns
                          ? json::value(static_cast<double>(std::max<std::int64_t>(
                                            0, monotonic_now_ns() - *d->oldest_mono_ns)) /
                                        1e9)
                          : json::value();
  o["lanes"] = json::object{
      {"business", json::object{{"events", d->business.events}, {"bytes", d->business.bytes}}},
      {"bulk", json::object{{"events", d->bulk.events}, {"bytes", d->bulk.bytes}}}};
  o["dead"] = d->dead.events;
  o["dead_bytes"] = d->dead.bytes;
  o["full"] = outbox.full();
  const auto& r = outbox.refusals();
  o["refused"] = r.empty() ? json::value()
                           : json::value(json::object{{"events", r.events},
                                                      {"scans_not_recorded", r.scans},
                                                      {"reason", r.reason},
                                                      {"first_at", r.first_at},
                                                      {"last_at", r.last_at}});
  return o;
}

}  // namespace packbench::station

// The outbox's sender: takes batches from the outbox, hands them to a transport, and does what
// the answer says — acknowledged events leave the outbox; on a retry it waits (the peer's
// Retry-After, or a back-off with full jitter) and tries again, for as long as it takes; a batch
// too large is halved; events the peer refuses for good go to the dead letters; a peer that is
// gone stops it until IT resumes it (stationctl outbox resume). It also expires events of lanes
// with a TTL, raises the alarm once refused events can be reported, and keeps the figures for
// /metrics and /healthz.
//
// Every wait runs on the monotonic clock (steady_timer); the wall clock only labels times.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "station/config/config.hpp"
#include "station/outbox/outbox.hpp"
#include "station/outbox/transport.hpp"

namespace packbench::station {

// Seconds from an event's writing to its acknowledgement, on the monotonic clock.
struct LatencyHistogram {
  static constexpr double kBounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,    2.5,   5,
                                       10,   30,   60,  300,  900, 3600, 21600, 86400};
  std::array<std::int64_t, std::size(kBounds)> buckets{};  // not cumulative
  std::int64_t count = 0;
  double sum = 0;
  void observe(double seconds);
};

struct SyncStatus {
  std::optional<bool> online;  // nullopt until the first answer (or failure)
  bool stopped = false;        // the peer said it is gone (410): nothing is sent until IT resumes
  std::string last_error;
  std::string last_success;  // UTC, wall clock
  std::int64_t last_success_unix_ms = 0;
  std::int64_t sent = 0;                        // events acknowledged
  std::map<std::string, std::int64_t> retried;  // events sent again, by reason
  std::map<std::string, std::int64_t> dead;     // events dead-lettered, by reason
  std::map<std::string, std::int64_t> expired;  // events expired, by lane
  LatencyHistogram latency;
  std::optional<std::int64_t> retry_in_ms;  // while waiting out a back-off: how long, at its start
  std::size_t batch_limit = 0;              // events per batch now (413 halves it)
};

class OutboxSender {
 public:
  OutboxSender(boost::asio::any_io_executor ex, Outbox& outbox,
               std::unique_ptr<Transport> transport, SyncConfig config,
               const WallClock& clock = system_wall_clock());
  ~OutboxSender();
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  void start();
  void stop();
  // New events were committed: send them now unless waiting out a back-off.
  void wake();
  // Sending again after the peer said it was gone (410), as `stationctl outbox resume` does
  // through the store. Returns whether the sender was stopped.
  bool resume();

  const SyncStatus& status() const;
  const Transport& transport() const;

  // The sync part of /healthz, and its lines in /metrics.
  boost::json::object to_json() const;
  void append_prometheus(std::string& out, const std::string& station_label) const;

 private:
  struct State;
  static boost::asio::awaitable<void> run(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> wait_while_stopped(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The outbox's own figures (depth, bytes, age of the oldest event, dead letters, refusals) in
// the Prometheus text format, with or without a sender.
void append_outbox_prometheus(std::string& out, Outbox& outbox, const std::string& station_label);
boost::json::object outbox_to_json(Outbox& outbox);

}  // namespace packbench::station

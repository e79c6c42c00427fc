// The outbox: events for the back office, written in the same transaction as the change they
// report, and kept until a peer acknowledges them. Events are CloudEvents 1.0 (JSON format):
// id is a UUIDv7, source is /stations/{site}/{station}, and the `sequence` extension carries the
// row's never-reused sequence number, zero-padded so that it orders as text.
//
// Two lanes: business events (what was packed, cancelled, reopened) go before bulk ones (such
// as photos), and events of one subject (an order) leave in the order they were written,
// whatever their lane. The outbox holds at most [outbox] max_bytes (bulk at most
// bulk_max_bytes), dead letters included, so that the disk cannot fill behind the cap's back:
// an event that does not fit is refused — the transaction that wanted it rolls back and its
// caller tells the packer — and an alarm event goes out once there is room again (deliveries,
// or IT purging dead letters). A lane with a TTL moves events older than it to the dead letters;
// ages are taken on the monotonic clock, never on the wall clock.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "station/common/clock.hpp"
#include "station/config/config.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

enum class Lane { business, bulk };
std::string_view to_string(Lane lane);
std::optional<Lane> parse_lane(std::string_view text);

// An event's type: com.packbench.<thing>.<verb>.v<N> (docs/sync.md, "Event types"). The
// thing is one word or more, dotted (order, discount.pool), the verb one word (packed,
// cancel_rejected); a word is a lower-case letter, then lower-case letters, digits and '_'; N is
// a whole number from 1, without leading zeros. At most 128 characters. The type is an MQTT
// topic level and a back office's routing key: nothing else gets in.
inline constexpr std::size_t kMaxEventTypeLength = 128;
Result<void> check_event_type(std::string_view type);

struct EventSpec {
  std::string type;  // "com.packbench.order.packed.v1"
  std::string subject;
  boost::json::object data;
  Lane lane = Lane::business;
};

// What the station tells the back office when it had to refuse events, once it can.
inline constexpr const char* kOutboxRefusedType = "com.packbench.outbox.refused.v1";

struct PendingEvent {
  std::int64_t seq = 0;
  std::string id;
  Lane lane = Lane::business;
  std::string type;
  std::string subject;
  std::string json;  // the complete CloudEvent, sequence included
  std::int64_t created_mono_ns = 0;
  std::int64_t attempts = 0;
};

struct LaneUsage {
  std::int64_t events = 0;
  std::int64_t bytes = 0;
};

struct OutboxDepth {
  std::int64_t events = 0;  // waiting, every lane
  std::int64_t bytes = 0;
  LaneUsage business;
  LaneUsage bulk;
  LaneUsage dead;                                // the dead letters, every lane
  LaneUsage dead_bulk;                           // the dead letters of the bulk lane
  std::optional<std::string> oldest_created_at;  // wall clock, as written
  std::optional<std::int64_t> oldest_mono_ns;    // monotonic: for its age
  // What counts against [outbox] max_bytes: what waits and the dead letters.
  std::int64_t capped_bytes() const { return bytes + dead.bytes; }
};

// One row for `stationctl outbox ls` and `dead`.
struct OutboxRow {
  std::int64_t seq = 0;
  std::string id;
  Lane lane = Lane::business;
  std::string type;
  std::string subject;
  std::int64_t bytes = 0;
  std::string created_at;
  std::int64_t attempts = 0;
  std::string last_error;
  std::string reason;   // dead letters only
  std::string dead_at;  // dead letters only
};

// Events refused since the last alarm went out.
struct Refusals {
  std::int64_t events = 0;
  std::int64_t scans = 0;  // scans the full store could not record at all (no event known)
  std::string reason;      // "cap" (the outbox was full) or "disk_full" (the store was)
  std::string first_at;
  std::string last_at;
  std::map<std::string, std::int64_t> by_type;
  std::map<std::string, std::int64_t> by_lane;
  std::vector<std::string> subjects;  // the first few, to find the orders concerned
  bool empty() const { return events == 0 && scans == 0; }
};

// The sender stopped because the back office said it is gone for good (HTTP 410, MQTT 0x9D).
// Kept in the store so that stationctl can show it and lift it (`stationctl outbox resume`).
struct SyncStop {
  std::string at;  // UTC, wall clock
  std::string endpoint;
  std::string error;
};

// Thrown by enqueue() when an event does not fit. A StoreError, so the transaction rolls back.
class OutboxFull : public StoreError {
 public:
  explicit OutboxFull(const std::string& what) : StoreError(SQLITE_FULL, what) {}
};

// UUIDs version 7 (RFC 9562, 5.7): 48 bits of Unix milliseconds, the version, 12 bits rand_a,
// the variant, 62 bits rand_b; lower-case 8-4-4-4-12 hex, so that they order as text.
//
// One generator's ids increase strictly (RFC 9562, 6.2, method 2, "monotonic random"): on a new
// millisecond the 74 random bits start afresh (their top bit clear: room for increments); within
// a millisecond, or when the wall clock steps back by at most kHoldBack (NTP stepping a few
// seconds), the last id's random bits grow by a random 1 to 2^32 under the last timestamp. A
// clock set back further is followed (it was wrong before: ids carry the event's time again),
// and the order is then in `sequence`. Not thread-safe: one per outbox.
class UuidV7 {
 public:
  static constexpr std::chrono::milliseconds kHoldBack{10000};
  std::string next(std::chrono::system_clock::time_point now);

 private:
  void start_afresh(std::uint64_t ms);
  std::uint64_t ms_ = 0;
  std::uint64_t rand_a_ = 0;  // 12 bits
  std::uint64_t rand_b_ = 0;  // 62 bits
  bool started_ = false;
  std::mt19937_64 rng_{std::random_device{}()};
};

class Outbox {
 public:
  Outbox(Database& db, std::string source, OutboxConfig config = {},
         const WallClock& clock = system_wall_clock());

  const std::string& source() const { return source_; }
  const OutboxConfig& config() const { return config_; }

  // Once at start, before anything is enqueued: ages of events written in an earlier boot of
  // the machine are carried over to this boot's monotonic clock (time the station was off does
  // not count), and refusals not yet reported are loaded.
  Result<void> restore(const std::string& boot_id = current_boot_id(),
                       std::int64_t now_mono_ns = monotonic_now_ns());

  // Inside a write transaction. Returns the event id, or an error (and writes nothing) when its
  // type is not one (check_event_type): the caller decides, usually by rolling its transaction
  // back with it (`.value()` throws inside Database::write). Throws OutboxFull when the event
  // does not fit; the refusal is counted for the alarm and the transaction rolls back.
  [[nodiscard]] Result<std::string> enqueue(const EventSpec& spec);

  // Events a transaction wanted but could not write because the store itself was full.
  void note_refused(const std::vector<std::pair<std::string, std::string>>& type_and_subject,
                    Lane lane, const std::string& reason);
  // A scan the full store could not record before it got as far as its events.
  void note_unrecorded(const std::string& subject, const std::string& reason);
  // Keeps the refusals counted so far in the store (best effort), so that a restart still
  // reports them.
  void save_refusals();
  const Refusals& refusals() const { return refusals_; }
  // How many refusals enqueue() has raised in this process: a caller compares before and after
  // a failed transaction to tell "the outbox was full" from other failures.
  std::int64_t refusals_raised() const { return refusals_raised_; }
  std::int64_t refused_total(Lane lane, const std::string& reason) const;
  // Whether a business event would be refused now (the packer is told before it happens).
  bool full() const { return full_; }

  // The next events to send, at most `max_events` and at most `max_bytes` as one JSON array,
  // brackets and commas included (always at least one, however large):
  // business before bulk, oldest first, and never an event before an earlier one of its
  // subject.
  Result<std::vector<PendingEvent>> next_batch(std::size_t max_events, std::size_t max_bytes);
  Result<void> acknowledge(const std::vector<PendingEvent>& events);
  Result<void> record_failure(const std::vector<PendingEvent>& events, const std::string& error);
  // Moves events to the dead letters with the reason and the last error.
  Result<void> dead_letter(const std::vector<PendingEvent>& events, const std::string& reason,
                           const std::string& error);
  // Moves the events of lanes with a TTL that are older than it to the dead letters (reason
  // "expired"). Returns how many, by lane.
  Result<std::map<Lane, std::int64_t>> expire(std::int64_t now_mono_ns = monotonic_now_ns());
  // When events were refused and there is room again: writes the alarm event. Returns whether
  // it did.
  Result<bool> raise_alarm_if_due();
  // Records that the station was up at `now_mono_ns`, so that a reboot knows how long the
  // events had waited.
  Result<void> mark_alive(std::int64_t now_mono_ns = monotonic_now_ns());

  Result<OutboxDepth> depth();
  Result<std::vector<OutboxRow>> list(std::size_t limit);
  Result<std::vector<OutboxRow>> dead_letters(std::size_t limit);
  // Puts dead letters back in the outbox (all of them when `ids` is empty), with their id and
  // sequence. Returns how many; ids that are not dead letters are listed in `unknown`.
  Result<std::int64_t> retry_dead(const std::vector<std::string>& ids,
                                  std::vector<std::string>* unknown = nullptr);
  // Deletes dead letters for good, for IT once it has looked at them (`stationctl outbox
  // purge-dead`): those named in `ids`, else those that died before `dead_before` (wall clock,
  // as `dead_at` shows), else all of them. Their bytes no longer count against the cap.
  struct Purged {
    std::int64_t events = 0;
    std::int64_t bytes = 0;
  };
  Result<Purged> purge_dead(const std::vector<std::string>& ids,
                            std::optional<std::chrono::system_clock::time_point> dead_before,
                            std::vector<std::string>* unknown = nullptr);

  // The sender's stop, for IT: noted when it stops, looked at while it is stopped, removed by
  // `stationctl outbox resume` (resume_sync() returns what it removed; nullopt when sync was
  // not stopped) and when the station starts.
  Result<void> note_sync_stop(const SyncStop& stop);
  Result<std::optional<SyncStop>> sync_stop();
  Result<std::optional<SyncStop>> resume_sync();

  // Called after a transaction that enqueued events has committed, to wake the transports.
  void set_on_commit(std::function<void()> fn) { on_commit_ = std::move(fn); }
  void committed() {
    if (on_commit_) {
      on_commit_();
    }
  }

 private:
  void count_refusal(const std::string& type, const std::string& subject, Lane lane,
                     const std::string& reason);
  void note_refusal_time(const std::string& subject, const std::string& reason);
  std::optional<std::chrono::milliseconds> ttl(Lane lane) const;

  Database& db_;
  std::string source_;
  OutboxConfig config_;
  const WallClock& clock_;
  std::function<void()> on_commit_;
  Refusals refusals_;
  std::int64_t refusals_raised_ = 0;
  std::map<std::pair<Lane, std::string>, std::int64_t> refused_total_;
  bool full_ = false;
  std::string boot_id_;  // set by restore()
  UuidV7 ids_;
  // The usage as of this transaction (by Database::transaction_serial), plus what it added:
  // read once per transaction, not once per event.
  struct UsageCache {
    std::uint64_t transaction = 0;
    std::int64_t total = 0;
    std::int64_t bulk = 0;
  } usage_;
};

}  // namespace packbench::station

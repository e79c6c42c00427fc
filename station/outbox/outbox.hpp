// The outbox: events for the back office, written in the same transaction as the change they
// report, and kept until a peer acknowledges them. Events are CloudEvents 1.0 (JSON format):
// id is a UUIDv7, source is /stations/{site}/{station}, and the `sequence` extension carries the
// row's never-reused sequence number, zero-padded so that it orders as text.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "station/store/store.hpp"

namespace packbench::station {

struct EventSpec {
  std::string type;  // "com.packbench.order.packed.v1"
  std::string subject;
  boost::json::object data;
};

struct PendingEvent {
  std::int64_t seq = 0;
  std::string id;
  std::string json;  // the complete CloudEvent, sequence included
};

struct OutboxDepth {
  std::int64_t events = 0;
  std::int64_t bytes = 0;
  std::optional<std::string> oldest_created_at;
};

// A random UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
std::string make_uuid_v7();

class Outbox {
 public:
  Outbox(Database& db, std::string source) : db_(db), source_(std::move(source)) {}

  const std::string& source() const { return source_; }

  // Inside a write transaction. Returns the event id.
  std::string enqueue(const EventSpec& spec);

  // Oldest first, at most `max_events` and about `max_bytes` (always at least one event).
  Result<std::vector<PendingEvent>> next_batch(std::size_t max_events, std::size_t max_bytes);
  Result<void> acknowledge(const std::vector<PendingEvent>& events);
  Result<void> record_failure(const std::vector<PendingEvent>& events, const std::string& error);
  Result<OutboxDepth> depth();

  // Called after a transaction that enqueued events has committed, to wake the transports.
  void set_on_commit(std::function<void()> fn) { on_commit_ = std::move(fn); }
  void committed() {
    if (on_commit_) {
      on_commit_();
    }
  }

 private:
  Database& db_;
  std::string source_;
  std::function<void()> on_commit_;
};

}  // namespace packbench::station

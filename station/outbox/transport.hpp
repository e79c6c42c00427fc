// A transport carries batches of outbox events to the back office: HTTP webhooks
// (webhook_transport.hpp) or an MQTT 5 broker (mqtt_transport.hpp). The outbox and its sender
// (OutboxSender) are shared; a transport only says, for each batch, what the peer made of it.
// Back-off, dead letters, TTLs, the cap and the figures are the sender's, the same for every
// transport.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "station/config/config.hpp"
#include "station/outbox/outbox.hpp"

namespace packbench::station {

struct DeliveryResult {
  enum class Outcome {
    acknowledged,  // the peer has every event of the batch
    retry,         // keep them; try again after a back-off (or the peer's retry_after)
    too_large,     // the batch is too big for the peer: halve it (one event alone: dead letter)
    dead_letter,   // the peer will never take these events: move them to the dead letters
    stop,          // the peer is gone for good: stop sending until IT intervenes
  };
  Outcome outcome = Outcome::retry;
  // Events from the start of the batch the peer has acknowledged, whatever the outcome (for
  // transports that acknowledge event by event, such as MQTT's PUBACK).
  std::size_t acknowledged = 0;
  // How many events after the acknowledged ones the outcome concerns; the rest are left in the
  // outbox as they are, to go in the next batch. Unset: all of them (a whole HTTP batch).
  // MQTT sets 1 when the broker refused one message for good.
  std::optional<std::size_t> count;
  std::optional<std::chrono::milliseconds> retry_after;  // as the peer asked (Retry-After)
  std::string reason;  // short, for figures: "http_503", "timeout", "reset", "tls", ...
  std::string error;   // in words, for the log, /healthz and the dead letters

  static DeliveryResult ok(std::size_t n) { return {Outcome::acknowledged, n, {}, {}, "", ""}; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string_view kind() const = 0;  // "webhook", "mqtt"
  virtual std::string endpoint() const = 0;   // where to, for logs and /healthz; no secrets
  // Sends one batch, oldest first, and reports what the peer made of it. Never throws.
  virtual boost::asio::awaitable<DeliveryResult> deliver(
      const std::vector<PendingEvent>& batch) = 0;
  // Drops any connection at once: the station is stopping, or the peer said it is gone. A
  // delivery in progress ends.
  virtual void close() = 0;
  // After close(): ready to connect and deliver again (IT resumed a stopped sender).
  virtual void reopen() = 0;
};

// The transport [sync] asks for (SyncConfig::transport_kind()), for the station {site}/{station}.
Result<std::unique_ptr<Transport>> make_transport(boost::asio::any_io_executor ex,
                                                  const SyncConfig& config, const std::string& site,
                                                  const std::string& station);

}  // namespace packbench::station

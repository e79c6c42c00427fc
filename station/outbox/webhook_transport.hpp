// Delivers outbox batches to an HTTP(S) endpoint as CloudEvents in batched mode
// (application/cloudevents-batch+json: a JSON array of events), one POST per batch, on a
// kept-alive connection.
//
// Every request carries Idempotency-Key and the Standard Webhooks headers (webhook-id,
// webhook-timestamp and, with a signing secret, webhook-signature); with a token file,
// Authorization: Bearer. The key and webhook-id are the same for every try of the same batch.
// TLS verifies the server's certificate chain (the system's CAs or [sync] ca_file) and its name,
// and sends SNI.
//
// What an answer means (docs/sync.md): 2xx acknowledges; 429 and 503 wait as Retry-After says;
// other 5xx, other statuses, time-outs and resets back off; 413 halves the batch; 400, 415 and
// 422 dead-letter its events; 410 stops the transport.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "station/config/config.hpp"
#include "station/http/http_client.hpp"
#include "station/outbox/transport.hpp"

namespace packbench::station {

// What an HTTP status (with its Retry-After header and the start of its body) means for a
// batch of `count` events. `now` reads a Retry-After given as an HTTP date.
DeliveryResult classify_webhook_answer(unsigned status, std::string_view retry_after,
                                       std::string_view body, std::size_t count,
                                       std::chrono::system_clock::time_point now);

class WebhookTransport final : public Transport {
 public:
  // Reads the token and the signing secret, loads the CAs. Errors say which file and why.
  static Result<std::unique_ptr<WebhookTransport>> create(
      boost::asio::any_io_executor ex, const SyncConfig& config,
      const WallClock& clock = system_wall_clock());
  ~WebhookTransport() override;

  std::string_view kind() const override { return "webhook"; }
  std::string endpoint() const override;
  boost::asio::awaitable<DeliveryResult> deliver(const std::vector<PendingEvent>& batch) override;
  void close() override;
  void reopen() override;

 private:
  struct Impl;
  explicit WebhookTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace packbench::station

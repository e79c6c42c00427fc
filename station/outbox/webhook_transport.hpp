// Delivers the outbox to an HTTP endpoint as CloudEvents in batched mode
// (application/cloudevents-batch+json). A 2xx answer acknowledges the batch and its rows
// leave the outbox; anything else, or no answer, keeps them and the transport tries again
// after a backoff with full jitter, for as long as it takes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "station/config/config.hpp"
#include "station/outbox/outbox.hpp"

namespace packbench::station {

struct TransportStatus {
  std::optional<bool> online;  // nullopt until the first attempt
  std::string last_error;
  std::string last_success;  // UTC time of the last acknowledged batch
  std::int64_t sent = 0;     // events acknowledged since start
};

class WebhookTransport {
 public:
  WebhookTransport(boost::asio::any_io_executor ex, Outbox& outbox, SyncConfig config);
  ~WebhookTransport();
  WebhookTransport(const WebhookTransport&) = delete;
  WebhookTransport& operator=(const WebhookTransport&) = delete;

  void start();
  void stop();
  // New events were committed: send them now unless waiting out a backoff.
  void wake();

  const TransportStatus& status() const;

 private:
  struct State;
  static boost::asio::awaitable<void> run(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace packbench::station

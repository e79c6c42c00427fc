#include "station/outbox/webhook_transport.hpp"

#include <fmt/format.h>

#include <boost/beast/http.hpp>
#include <ctime>
#include <optional>
#include <variant>

#include "station/http/http_client.hpp"
#include "station/outbox/webhook_signature.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// --- what an answer means ------------------------------------------------------------------

DeliveryResult classify_webhook_answer(unsigned status, std::string_view retry_after,
                                       std::string_view body, std::size_t count,
                                       std::chrono::system_clock::time_point now) {
  using Outcome = DeliveryResult::Outcome;
  if (status >= 200 && status < 300) {
    return DeliveryResult::ok(count);
  }
  DeliveryResult r;
  r.reason = fmt::format("http_{}", status);
  std::string snippet(body.substr(0, 200));
  for (auto& c : snippet) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  r.error = fmt::format("HTTP {} for a batch of {} event{}{}{}", status, count,
                        count == 1 ? "" : "s", snippet.empty() ? "" : ": ", snippet);
  switch (status) {
    case 400:
    case 415:
    case 422:
      // The peer read the batch and will never take it as it is: trying again cannot help.
      r.outcome = Outcome::dead_letter;
      break;
    case 413:
      r.outcome = Outcome::too_large;
      break;
    case 410:
      r.outcome = Outcome::stop;
      break;
    case 429:
    case 503:
      r.outcome = Outcome::retry;
      r.retry_after = parse_retry_after(retry_after, now);
      break;
    default:
      // Other 5xx, and every other status (401 and 403 until IT fixes the token, 404 until the
      // URL is right, 3xx, which are not followed): the events wait, nothing is lost.
      r.outcome = Outcome::retry;
      break;
  }
  return r;
}

// --- the transport -------------------------------------------------------------------------

struct WebhookTransport::Impl {
  std::unique_ptr<HttpClient> client;
  const WallClock& clock;
  std::optional<std::string> signing_key;

  Impl(std::unique_ptr<HttpClient> c, const WallClock& w) : client(std::move(c)), clock(w) {}
};

Result<std::unique_ptr<WebhookTransport>> WebhookTransport::create(asio::any_io_executor ex,
                                                                   const SyncConfig& config,
                                                                   const WallClock& clock) {
  HttpClientOptions options;
  options.url = config.url;
  options.ca_file = config.ca_file;
  options.bearer_token_file = config.bearer_token_file;
  options.timeout = config.timeout;
  options.max_body_bytes = 1 << 20;
  options.config_section = "sync";
  auto client = HttpClient::create(std::move(ex), std::move(options));
  if (!client) {
    return client.error();
  }
  auto impl = std::make_unique<Impl>(std::move(*client), clock);
  if (!config.signing_secret_file.empty()) {
    auto text = read_first_line(config.signing_secret_file, "signing secret");
    if (!text) {
      return text.error();
    }
    auto key = parse_webhook_secret(*text);
    if (!key) {
      return Error{fmt::format("{}: {}", config.signing_secret_file.string(), key.error().message)};
    }
    impl->signing_key = std::move(*key);
  }
  return std::unique_ptr<WebhookTransport>(new WebhookTransport(std::move(impl)));
}

WebhookTransport::WebhookTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebhookTransport::~WebhookTransport() {
  close();
}

std::string WebhookTransport::endpoint() const {
  return impl_->client->url();
}

void WebhookTransport::close() {
  impl_->client->close();
}

void WebhookTransport::reopen() {
  impl_->client->reopen();
}

asio::awaitable<DeliveryResult> WebhookTransport::deliver(const std::vector<PendingEvent>& batch) {
  Impl& s = *impl_;
  if (s.client->closed()) {
    co_return DeliveryResult{DeliveryResult::Outcome::retry, 0, {}, {}, "stopped", "stopping"};
  }
  auto req = s.client->make_request(http::verb::post, s.client->target());
  std::string body;
  std::size_t size = 2;
  for (const auto& e : batch) {
    size += e.json.size() + 1;
  }
  body.reserve(size);
  body += '[';
  std::string ids;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i) {
      body += ',';
      ids += ',';
    }
    body += batch[i].json;
    ids += batch[i].id;
  }
  body += ']';
  // The same batch gets the same key on every try; a different batch a different one.
  const std::string key =
      batch.size() == 1 ? batch.front().id : "batch-" + sha256_hex(ids).substr(0, 32);
  req.set(http::field::content_type, "application/cloudevents-batch+json; charset=utf-8");
  req.set("Idempotency-Key", key);
  req.set("webhook-id", key);
  const std::int64_t timestamp = s.clock.unix_seconds();
  req.set("webhook-timestamp", std::to_string(timestamp));
  if (s.signing_key) {
    req.set("webhook-signature", sign_webhook(*s.signing_key, key, timestamp, body));
  }
  req.body() = std::move(body);
  req.prepare_payload();

  // A kept-alive connection the peer has meanwhile closed gets one fresh try (in the client).
  // The peer may have read the batch: it dedupes on the event ids.
  auto answer = co_await s.client->send(req);
  if (auto* f = std::get_if<HttpFailure>(&answer)) {
    co_return DeliveryResult{DeliveryResult::Outcome::retry, 0, {}, {}, f->reason, f->message};
  }
  const auto& res = std::get<HttpClientResponse>(answer);
  co_return classify_webhook_answer(res.result_int(), res[http::field::retry_after], res.body(),
                                    batch.size(), s.clock.now());
}

}  // namespace packbench::station

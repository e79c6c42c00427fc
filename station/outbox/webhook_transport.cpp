#include "station/outbox/webhook_transport.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>

#include "station/outbox/webhook_signature.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// --- what an answer means ------------------------------------------------------------------

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) {
      return std::chrono::milliseconds(std::int64_t{999999999} * 1000);
    }
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // IMF-fixdate, the form senders must use: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') {
    return std::nullopt;
  }
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::max(wait, std::chrono::milliseconds(0));
}

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

namespace {

struct Failure {
  std::string reason;
  std::string message;
};

Failure io_failure(const beast::error_code& ec, std::string_view during,
                   std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout) {
    return {"timeout", fmt::format("{}: no answer within {} ms", during, timeout.count())};
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == ssl::error::stream_truncated) {
    return {"reset", fmt::format("{}: the connection was closed ({})", during, ec.message())};
  }
  if (ec.category() == beast::error_code(http::error::end_of_stream).category()) {
    return {"bad_response", fmt::format("{}: not an HTTP answer ({})", during, ec.message())};
  }
  return {"reset", fmt::format("{}: {}", during, ec.message())};
}

Result<std::string> first_line_of(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Error{fmt::format("cannot read the {} file {}", what, file.string())};
  }
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    return Error{fmt::format("the {} file {} is empty", what, file.string())};
  }
  return Result<std::string>(boost::system::in_place_value, line.substr(first, last - first + 1));
}

}  // namespace

struct WebhookTransport::Impl {
  asio::any_io_executor ex;
  SyncConfig config;
  const WallClock& clock;
  std::string url;
  std::string host;
  std::string port;
  std::string target;
  bool tls = false;
  bool host_is_ip = false;
  std::optional<std::string> token;
  std::optional<std::string> signing_key;
  std::unique_ptr<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool closed = false;

  Impl(asio::any_io_executor e, SyncConfig c, const WallClock& w)
      : ex(std::move(e)), config(std::move(c)), clock(w) {}

  bool connected() const { return plain.has_value() || secure.has_value(); }

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }

  void disconnect() {
    beast::error_code ignored;
    if (plain) {
      plain->socket().close(ignored);
      plain.reset();
    }
    if (secure) {
      beast::get_lowest_layer(*secure).socket().close(ignored);
      secure.reset();
    }
    buffer.clear();
  }

  asio::awaitable<std::optional<Failure>> connect() {
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, port, tuple_awaitable);
    if (rec) {
      co_return Failure{"resolve", fmt::format("resolve {}: {}", host, rec.message())};
    }
    if (tls) {
      secure.emplace(ex, *ssl_ctx);
    } else {
      plain.emplace(ex);
    }
    buffer.clear();
    lowest().expires_after(config.timeout);
    auto [cec, ep] = co_await lowest().async_connect(results, tuple_awaitable);
    if (cec) {
      disconnect();
      co_return Failure{cec == beast::error::timeout ? "timeout" : "connect",
                        fmt::format("connect {}:{}: {}", host, port,
                                    cec == beast::error::timeout ? "no answer" : cec.message())};
    }
    if (!tls) {
      co_return std::nullopt;
    }
    SSL* ssl = secure->native_handle();
    // SNI names hosts, never addresses (RFC 6066, 3); the certificate must name either.
    if (!host_is_ip) {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
    lowest().expires_after(config.timeout);
    auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, tuple_awaitable);
    if (hec) {
      const long verify = SSL_get_verify_result(ssl);
      std::string why = verify != X509_V_OK ? std::string("certificate refused: ") +
                                                  X509_verify_cert_error_string(verify)
                                            : hec.message();
      disconnect();
      co_return Failure{hec == beast::error::timeout ? "timeout" : "tls",
                        fmt::format("TLS with {}:{}: {}", host, port, why)};
    }
    co_return std::nullopt;
  }

  struct Answer {
    unsigned status = 0;
    std::string retry_after;
    std::string body;
  };

  template <class Stream>
  asio::awaitable<std::variant<Answer, Failure>> round_trip(Stream& stream,
                                                            http::request<http::string_body>& req) {
    lowest().expires_after(config.timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, tuple_awaitable);
    if (wec) {
      disconnect();
      co_return io_failure(wec, "send", config.timeout);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    lowest().expires_after(config.timeout);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
    if (rec) {
      disconnect();
      co_return io_failure(rec, "no answer", config.timeout);
    }
    auto& res = parser.get();
    Answer a;
    a.status = res.result_int();
    a.retry_after = std::string(res[http::field::retry_after]);
    a.body = std::move(res.body());
    if (!res.keep_alive()) {
      disconnect();
    } else {
      lowest().expires_never();
    }
    co_return a;
  }

  asio::awaitable<std::variant<Answer, Failure>> send_once(http::request<http::string_body>& req) {
    if (!connected()) {
      if (auto f = co_await connect()) {
        co_return *f;
      }
    }
    if (closed) {
      disconnect();
      co_return Failure{"stopped", "the station is stopping"};
    }
    if (secure) {
      co_return co_await round_trip(*secure, req);
    }
    co_return co_await round_trip(*plain, req);
  }
};

Result<std::unique_ptr<WebhookTransport>> WebhookTransport::create(asio::any_io_executor ex,
                                                                   const SyncConfig& config,
                                                                   const WallClock& clock) {
  auto impl = std::make_unique<Impl>(std::move(ex), config, clock);
  auto url = boost::urls::parse_absolute_uri(config.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    return Error{fmt::format("sync: cannot use the url '{}'", config.url)};
  }
  impl->url = config.url;
  impl->tls = url->scheme() == "https";
  impl->host = url->host_type() == boost::urls::host_type::ipv6 ? std::string(url->host_address())
                                                                : std::string(url->host());
  impl->host_is_ip = url->host_type() != boost::urls::host_type::name;
  impl->port = url->has_port() ? std::string(url->port()) : (impl->tls ? "443" : "80");
  impl->target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
  if (impl->target.front() != '/') {
    impl->target = "/" + impl->target;
  }
  if (!config.bearer_token_file.empty()) {
    auto token = first_line_of(config.bearer_token_file, "bearer token");
    if (!token) {
      return token.error();
    }
    impl->token = std::move(*token);
  }
  if (!config.signing_secret_file.empty()) {
    auto text = first_line_of(config.signing_secret_file, "signing secret");
    if (!text) {
      return text.error();
    }
    auto key = parse_webhook_secret(*text);
    if (!key) {
      return Error{fmt::format("{}: {}", config.signing_secret_file.string(), key.error().message)};
    }
    impl->signing_key = std::move(*key);
  }
  if (impl->tls) {
    impl->ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(impl->ssl_ctx->native_handle(), TLS1_2_VERSION);
    impl->ssl_ctx->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (!config.ca_file.empty()) {
      impl->ssl_ctx->load_verify_file(config.ca_file.string(), ec);
      if (ec) {
        return Error{fmt::format("sync.ca_file {}: no certificate could be read from it ({})",
                                 config.ca_file.string(), ec.message())};
      }
    } else {
      impl->ssl_ctx->set_default_verify_paths(ec);
      if (ec) {
        return Error{
            fmt::format("sync: cannot load the system's CA certificates: {}", ec.message())};
      }
    }
  }
  return std::unique_ptr<WebhookTransport>(new WebhookTransport(std::move(impl)));
}

WebhookTransport::WebhookTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebhookTransport::~WebhookTransport() {
  close();
}

std::string WebhookTransport::endpoint() const {
  return impl_->url;
}

void WebhookTransport::close() {
  impl_->closed = true;
  impl_->disconnect();
}

void WebhookTransport::reopen() {
  impl_->closed = false;
}

asio::awaitable<DeliveryResult> WebhookTransport::deliver(const std::vector<PendingEvent>& batch) {
  Impl& s = *impl_;
  if (s.closed) {
    co_return DeliveryResult{DeliveryResult::Outcome::retry, 0, {}, {}, "stopped", "stopping"};
  }
  http::request<http::string_body> req{http::verb::post, s.target, 11};
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
  req.set(http::field::host,
          (s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host) + ":" + s.port);
  req.set(http::field::user_agent, "packbench-station/" PACKBENCH_VERSION);
  req.set(http::field::content_type, "application/cloudevents-batch+json; charset=utf-8");
  req.set("Idempotency-Key", key);
  req.set("webhook-id", key);
  const std::int64_t timestamp = s.clock.unix_seconds();
  req.set("webhook-timestamp", std::to_string(timestamp));
  if (s.signing_key) {
    req.set("webhook-signature", sign_webhook(*s.signing_key, key, timestamp, body));
  }
  if (s.token) {
    req.set(http::field::authorization, "Bearer " + *s.token);
  }
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();

  // A kept-alive connection the peer has meanwhile closed gets one fresh try before it counts
  // as a failure. The peer may have read the batch: it dedupes on the event ids.
  const bool reused = s.connected();
  auto answer = co_await s.send_once(req);
  if (std::holds_alternative<Failure>(answer) && reused && !s.closed &&
      std::get<Failure>(answer).reason == "reset") {
    answer = co_await s.send_once(req);
  }
  if (auto* f = std::get_if<Failure>(&answer)) {
    co_return DeliveryResult{DeliveryResult::Outcome::retry, 0, {}, {}, f->reason, f->message};
  }
  const auto& a = std::get<Impl::Answer>(answer);
  co_return classify_webhook_answer(a.status, a.retry_after, a.body, batch.size(), s.clock.now());
}

}  // namespace packbench::station

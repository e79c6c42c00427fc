#include "station/http/http_client.hpp"

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

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

HttpFailure io_failure(const beast::error_code& ec, std::string_view during,
                       std::chrono::milliseconds timeout, std::size_t max_body) {
  if (ec == beast::error::timeout) {
    return {"timeout", fmt::format("{}: no answer within {} ms", during, timeout.count())};
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    return {"too_large", fmt::format("the answer is larger than {} bytes", max_body)};
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

}  // namespace

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

Result<std::string> read_first_line(const std::filesystem::path& file, const char* what) {
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

struct HttpClient::Impl {
  asio::any_io_executor ex;
  HttpClientOptions options;
  std::string host;
  std::string port;
  std::string host_header;
  std::string target;
  bool tls = false;
  bool host_is_ip = false;
  std::optional<std::string> token;
  std::unique_ptr<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool closed = false;

  Impl(asio::any_io_executor e, HttpClientOptions o) : ex(std::move(e)), options(std::move(o)) {}

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

  asio::awaitable<std::optional<HttpFailure>> connect() {
    const auto timeout = options.timeout;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, port, tuple_awaitable);
    if (rec) {
      co_return HttpFailure{"resolve", fmt::format("resolve {}: {}", host, rec.message())};
    }
    if (tls) {
      secure.emplace(ex, *ssl_ctx);
    } else {
      plain.emplace(ex);
    }
    buffer.clear();
    lowest().expires_after(timeout);
    auto [cec, ep] = co_await lowest().async_connect(results, tuple_awaitable);
    if (cec) {
      disconnect();
      co_return HttpFailure{
          cec == beast::error::timeout ? "timeout" : "connect",
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
    lowest().expires_after(timeout);
    auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, tuple_awaitable);
    if (hec) {
      const long verify = SSL_get_verify_result(ssl);
      std::string why = verify != X509_V_OK ? std::string("certificate refused: ") +
                                                  X509_verify_cert_error_string(verify)
                                            : hec.message();
      disconnect();
      co_return HttpFailure{hec == beast::error::timeout ? "timeout" : "tls",
                            fmt::format("TLS with {}:{}: {}", host, port, why)};
    }
    co_return std::nullopt;
  }

  template <class Stream>
  asio::awaitable<HttpOutcome> round_trip(Stream& stream, HttpClientRequest& req) {
    const auto timeout = options.timeout;
    lowest().expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, tuple_awaitable);
    if (wec) {
      disconnect();
      co_return io_failure(wec, "send", timeout, options.max_body_bytes);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    lowest().expires_after(timeout);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
    if (rec) {
      disconnect();
      co_return io_failure(rec, "no answer", timeout, options.max_body_bytes);
    }
    HttpClientResponse res = parser.release();
    if (!res.keep_alive()) {
      disconnect();
    } else {
      lowest().expires_never();
    }
    co_return res;
  }

  asio::awaitable<HttpOutcome> send_once(HttpClientRequest& req) {
    if (!connected()) {
      if (auto f = co_await connect()) {
        co_return *f;
      }
    }
    if (closed) {
      disconnect();
      co_return HttpFailure{"stopped", "the station is stopping"};
    }
    if (secure) {
      co_return co_await round_trip(*secure, req);
    }
    co_return co_await round_trip(*plain, req);
  }
};

Result<std::unique_ptr<HttpClient>> HttpClient::create(asio::any_io_executor ex,
                                                       HttpClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(ex), std::move(options));
  const auto& o = impl->options;
  const std::string& section = o.config_section;
  auto url = boost::urls::parse_absolute_uri(o.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    return Error{fmt::format("{}: cannot use the url '{}'", section, o.url)};
  }
  impl->tls = url->scheme() == "https";
  impl->host = url->host_type() == boost::urls::host_type::ipv6 ? std::string(url->host_address())
                                                                : std::string(url->host());
  impl->host_is_ip = url->host_type() != boost::urls::host_type::name;
  impl->port = url->has_port() ? std::string(url->port()) : (impl->tls ? "443" : "80");
  impl->host_header =
      (impl->host.find(':') != std::string::npos ? "[" + impl->host + "]" : impl->host) + ":" +
      impl->port;
  impl->target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
  if (impl->target.front() != '/') {
    impl->target = "/" + impl->target;
  }
  if (!o.bearer_token_file.empty()) {
    auto token = read_first_line(o.bearer_token_file, "bearer token");
    if (!token) {
      return token.error();
    }
    impl->token = std::move(*token);
  }
  if (impl->tls) {
    impl->ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(impl->ssl_ctx->native_handle(), TLS1_2_VERSION);
    impl->ssl_ctx->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (!o.ca_file.empty()) {
      impl->ssl_ctx->load_verify_file(o.ca_file.string(), ec);
      if (ec) {
        return Error{fmt::format("{}.ca_file {}: no certificate could be read from it ({})",
                                 section, o.ca_file.string(), ec.message())};
      }
    } else {
      impl->ssl_ctx->set_default_verify_paths(ec);
      if (ec) {
        return Error{
            fmt::format("{}: cannot load the system's CA certificates: {}", section, ec.message())};
      }
    }
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  close();
}

const std::string& HttpClient::url() const {
  return impl_->options.url;
}

const std::string& HttpClient::target() const {
  return impl_->target;
}

HttpClientRequest HttpClient::make_request(http::verb method, std::string target) const {
  HttpClientRequest req{method, std::move(target), 11};
  req.set(http::field::host, impl_->host_header);
  req.set(http::field::user_agent, "packbench-station/" PACKBENCH_VERSION);
  if (impl_->token) {
    req.set(http::field::authorization, "Bearer " + *impl_->token);
  }
  req.keep_alive(true);
  return req;
}

asio::awaitable<HttpOutcome> HttpClient::send(HttpClientRequest& req) {
  Impl& s = *impl_;
  if (s.closed) {
    co_return HttpFailure{"stopped", "the station is stopping"};
  }
  const bool reused = s.connected();
  auto outcome = co_await s.send_once(req);
  if (std::holds_alternative<HttpFailure>(outcome) && reused && !s.closed &&
      std::get<HttpFailure>(outcome).reason == "reset") {
    outcome = co_await s.send_once(req);
  }
  co_return outcome;
}

void HttpClient::close() {
  impl_->closed = true;
  impl_->disconnect();
}

void HttpClient::reopen() {
  impl_->closed = false;
}

bool HttpClient::closed() const {
  return impl_->closed;
}

}  // namespace packbench::station

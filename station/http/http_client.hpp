// The station's HTTP(S) client towards the back office (Boost.Beast over OpenSSL): one
// kept-alive connection to one URL's host. The webhook transport posts events with it and the
// order feed polls orders with it, so both have the same TLS and the same authentication:
//
// - https:// verifies the server's chain against `ca_file` (or the system's CAs) and that its
//   certificate names the URL's host (DNS name or IP address); SNI carries the host name (never
//   an address, RFC 6066, 3); TLS 1.2 or later. A server that fails any of it gets no request.
// - `bearer_token_file`: every request carries Authorization: Bearer <the file's first line>.
//
// Failures come back as values with a short reason for figures ("connect", "timeout", "tls",
// "reset", "resolve", "bad_response", "too_large") and a sentence for the log and /healthz.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "packbench/result.hpp"

namespace packbench::station {

struct HttpClientOptions {
  std::string url;  // http:// or https://
  std::filesystem::path ca_file;
  std::filesystem::path bearer_token_file;
  std::chrono::milliseconds timeout{10000};  // connect, handshake, send, answer: each
  std::size_t max_body_bytes = 1 << 20;      // a longer answer is a failure ("too_large")
  std::string config_section = "sync";       // names the keys in errors: "sync.ca_file ..."
};

using HttpClientRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpClientResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpFailure {
  std::string reason;   // short, for figures
  std::string message;  // in words
};

using HttpOutcome = std::variant<HttpClientResponse, HttpFailure>;

// Retry-After (RFC 9110, 10.2.3): delay-seconds or an HTTP date. nullopt when unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// The first line of a secret file, trimmed; an error names the file and what is wrong.
Result<std::string> read_first_line(const std::filesystem::path& file, const char* what);

class HttpClient {
 public:
  // Parses the URL, reads the token, loads the CAs. Errors say which key or file and why.
  static Result<std::unique_ptr<HttpClient>> create(boost::asio::any_io_executor ex,
                                                    HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const std::string& url() const;
  // The URL's path and query ("/" when it has none): where requests go by default.
  const std::string& target() const;

  // A request to `target` with Host, User-Agent and, with a token file, Authorization set,
  // and keep-alive.
  HttpClientRequest make_request(boost::beast::http::verb method, std::string target) const;

  // Sends `req` and reads the answer. A kept-alive connection the server has meanwhile closed
  // gets one fresh try before it counts as a failure (the server may have read the request:
  // what is sent must be safe to repeat). Never throws.
  boost::asio::awaitable<HttpOutcome> send(HttpClientRequest& req);

  // Drops the connection at once and refuses further requests: the station is stopping.
  void close();
  bool closed() const;
  // Takes requests again after close().
  void reopen();

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace packbench::station

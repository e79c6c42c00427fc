// A back office's order feed on loopback, as docs/sync.md ("Order feed") describes it: the
// test appends orders and cancellations to a log, and the server serves the log in pages from
// any cursor — "c<N>" is N entries in — with `more` while entries remain, an ETag per
// (cursor, log length), and 304 to an If-None-Match that still holds. Over HTTP or HTTPS (it
// runs on the EventCollector, so holding, slow answers, resets and TLS failures are there too),
// and any request can be answered otherwise by an override (a malformed page, a 503, ...).
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector.hpp"

namespace packbench::testing {

class FeedServer {
 public:
  using Override =
      std::function<std::optional<Reply>(const HttpExchange& request, std::size_t index)>;

  explicit FeedServer(std::optional<TlsFiles> tls = std::nullopt, std::uint16_t port = 0);

  std::string url(const std::string& path = "/feed", const std::string& host = "") const {
    return http_.url(path, host);
  }
  std::uint16_t port() const { return http_.port(); }

  // An order as the back office sends it; `version` is added to it.
  void add_order(boost::json::object order, std::int64_t version);
  // A cancellation ({"id", "version", "reason"}; version left out when nullopt).
  void cancel(const std::string& id, std::optional<std::int64_t> version = std::nullopt,
              const std::string& reason = "");
  void set_page_size(std::size_t n);
  // Requires Authorization: Bearer <token> (401 otherwise).
  void require_token(std::string token);
  // Answers requests otherwise: a Reply replaces the feed's own answer, nullopt keeps it.
  void set_override(Override fn);

  std::size_t entries();
  // The feed's own answers: pages served (200) and 304s.
  std::size_t pages_served();
  std::size_t not_modified();

  std::vector<HttpExchange> requests() { return http_.requests(); }
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = 30s) {
    return http_.wait_for_requests(n, timeout);
  }
  EventCollector& http() { return http_; }

  // The query parameter `name` of a request target ("" when absent), percent-decoded.
  static std::string query_param(const std::string& target, const std::string& name);

 private:
  Reply answer(const HttpExchange& request, std::size_t index);

  std::mutex mu_;
  std::vector<std::pair<bool, boost::json::object>> log_;  // {is_cancellation, entry}
  std::size_t page_size_ = 100;
  std::optional<std::string> token_;
  Override override_;
  std::size_t pages_served_ = 0;
  std::size_t not_modified_ = 0;
  EventCollector http_;  // last: its threads call answer() until it is destroyed, first
};

}  // namespace packbench::testing

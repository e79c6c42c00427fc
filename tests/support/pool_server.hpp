// A back office's pool of discount codes on loopback, as docs/discounts.md ("Pools pulled from
// the back office") describes it: the test gives it codes per campaign, and it answers each
// claim with up to `count` of them, the oldest first, keeping what it handed out per claim id so
// that a claim asked again gets the same codes and no code goes to two claims. Over HTTP or
// HTTPS (it runs on the EventCollector, so holding an answer, killing the station once it is
// written, slow answers, resets and TLS failures are there too), and any request can be answered
// otherwise by an override (garbage, a 500, a 403, ...).
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector.hpp"

namespace packbench::testing {

class PoolServer {
 public:
  using Override =
      std::function<std::optional<Reply>(const HttpExchange& request, std::size_t index)>;

  struct Claim {
    std::string campaign;
    std::string station;
    std::string site;
    int count = 0;
    std::vector<std::string> codes;  // what the claim was given, the same every time
    int asked = 0;                   // requests with this claim id
  };

  explicit PoolServer(std::optional<TlsFiles> tls = std::nullopt, std::uint16_t port = 0);

  std::string url(const std::string& path = "/pools/claims", const std::string& host = "") const {
    return http_.url(path, host);
  }

  // Codes the back office has for `campaign`, handed out in this order.
  void add_codes(const std::string& campaign, const std::vector<std::string>& codes);
  // Requires Authorization: Bearer <token> (401 otherwise).
  void require_token(std::string token);
  // Holds every answer of its own until http().release_held() (the claim is kept, and its codes
  // set aside, before the hold: a back office that committed and has not answered yet).
  void set_hold(bool hold);
  // Answers requests otherwise: a Reply replaces the server's own answer (and nothing is handed
  // out), nullopt keeps it.
  void set_override(Override fn);

  std::map<std::string, Claim> claims();          // by claim id
  std::size_t left(const std::string& campaign);  // codes not handed out yet

  std::vector<HttpExchange> requests() { return http_.requests(); }
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = 30s) {
    return http_.wait_for_requests(n, timeout);
  }
  EventCollector& http() { return http_; }

 private:
  Reply answer(const HttpExchange& request, std::size_t index);

  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> codes_;  // campaign -> codes left, in order
  std::map<std::string, Claim> claims_;
  std::optional<std::string> token_;
  bool hold_ = false;
  Override override_;
  EventCollector http_;  // last: its threads call answer() until it is destroyed, first
};

}  // namespace packbench::testing

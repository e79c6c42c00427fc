// Back-office peers for the sync tests, on loopback: an event collector that answers as it is
// told (any status and headers, slowly, with a reset, by closing, not at all, held until
// released) over HTTP or HTTPS and keeps the CloudEvents it accepted, deduplicated by
// (source, id) and checked for order per subject; a TCP proxy that cuts connections after the
// request and before the response; and a test PKI made at test time with the openssl CLI.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace packbench::testing {

struct Reply {
  enum class Action {
    answer,  // send the status, headers and body
    reset,   // read the request, then reset the connection (RST), no answer
    close,   // read the request, then close the connection (FIN), no answer
    hang,    // read the request and never answer; the connection stays open
  };
  Action action = Action::answer;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // before answering: a slow back office
  bool hold = false;                   // wait for release_held() before answering

  static Reply status_only(int s) {
    Reply r;
    r.status = s;
    return r;
  }
};

struct TlsFiles {
  std::filesystem::path cert;  // PEM chain
  std::filesystem::path key;   // PEM private key
};

// What a back office keeps of the CloudEvents it receives, by any transport: each event once by
// (source, id), in the order first received. Anything a correct station never does is a
// problem: a duplicate that differs from its first copy, an event of a subject received after a
// later one of the same subject (by `sequence`), something that is not a CloudEvent. Not
// thread-safe: its owner locks.
class EventLedger {
 public:
  // Returns false when the event was a duplicate (or not a CloudEvent).
  bool accept(const boost::json::object& event);
  void problem(std::string text) { problems_.push_back(std::move(text)); }
  const std::vector<boost::json::object>& events() const { return events_; }
  std::size_t duplicates() const { return duplicates_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<boost::json::object> events_;
  std::set<std::pair<std::string, std::string>> seen_;
  std::map<std::pair<std::string, std::string>, std::string> first_copy_;
  std::map<std::pair<std::string, std::string>, std::string> last_sequence_;  // by source,subject
  std::size_t duplicates_ = 0;
  std::vector<std::string> problems_;
};

class EventCollector {
 public:
  using Script = std::function<Reply(const HttpExchange& request, std::size_t index)>;

  explicit EventCollector(std::optional<TlsFiles> tls = std::nullopt, std::uint16_t port = 0);
  ~EventCollector();
  EventCollector(const EventCollector&) = delete;
  EventCollector& operator=(const EventCollector&) = delete;

  std::uint16_t port() const { return port_; }
  // http://127.0.0.1:PORT/events, or https://localhost:PORT/events with TLS (the test
  // certificate names both localhost and 127.0.0.1).
  std::string url(const std::string& path = "/events", const std::string& host = "") const;

  // How to answer each request (its index counts every request, from 0). Default: 200.
  void set_script(Script script);
  void set_status(int status);
  // Checks webhook-signature on every request with these key bytes; mismatches are problems.
  void set_signing_key(std::string key);
  // Called after each answer has been written (e.g. to kill the station right then).
  void set_on_answered(std::function<void(const HttpExchange&)> fn);

  std::vector<HttpExchange> requests();
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = 30s);
  // Requests held (Reply::hold) and waiting; release_held() answers them all.
  bool wait_for_held(std::size_t n, std::chrono::milliseconds timeout = 30s);
  void release_held();

  // Events accepted (answered 2xx), once each by (source, id), in the order first accepted.
  std::vector<boost::json::object> events();
  bool wait_for_events(std::size_t n, std::chrono::milliseconds timeout = 30s);
  std::size_t duplicates();  // events accepted again after their first time
  // Anything a correct station never does: an event of a subject accepted after a later one of
  // the same subject, a duplicate that differs from its first copy, a bad signature, a body
  // that is not a JSON array of events.
  std::vector<std::string> problems();
  std::size_t tls_failures();               // handshakes that did not complete
  std::vector<std::string> server_names();  // SNI of each TLS connection ("" when none)

 private:
  struct Conn;
  void run();
  void serve(int fd);
  void accept_events(const HttpExchange& ex);

  std::optional<TlsFiles> tls_files_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  Script script_;
  std::optional<std::string> signing_key_;
  std::function<void(const HttpExchange&)> on_answered_;
  std::vector<HttpExchange> requests_;
  EventLedger ledger_;
  std::size_t tls_failures_ = 0;
  std::vector<std::string> server_names_;
  std::size_t held_ = 0;
  std::uint64_t release_generation_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// A TCP proxy on loopback in front of `target_port`. It passes bytes both ways, except that it
// can cut: the next N connections that get an answer from the target are reset instead of
// getting it — the back office has the request, the station never hears back.
class CutProxy {
 public:
  explicit CutProxy(std::uint16_t target_port);
  ~CutProxy();
  std::uint16_t port() const { return port_; }
  void cut_next(int n) { to_cut_ = n; }
  int cuts() const { return cuts_; }

 private:
  void run();
  void relay(int client);
  std::uint16_t target_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> to_cut_{0};
  std::atomic<int> cuts_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

// Certificates made for one test with the openssl command: a CA and a server certificate it
// signed for localhost and 127.0.0.1, and a second, unrelated CA (the wrong one).
struct TestPki {
  explicit TestPki(const std::filesystem::path& dir);
  std::filesystem::path ca_cert;
  std::filesystem::path other_ca_cert;
  TlsFiles server;       // signed by ca_cert, for localhost and 127.0.0.1
  TlsFiles wrong_name;   // signed by ca_cert, for some.other.host only
  TlsFiles self_signed;  // signed by nobody
};

// HMAC-SHA256 of "{id}.{timestamp}.{body}" as "v1,<base64>", computed here independently of the
// station's code, to check what it sends.
std::string standard_webhook_signature(const std::string& key, const std::string& id,
                                       const std::string& timestamp, const std::string& body);

}  // namespace packbench::testing

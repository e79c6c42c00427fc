#include "station/outbox/mqtt_transport.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "station/outbox/webhook_signature.hpp"

// GCC 12 inlines Asio's coroutine-frame allocation (aligned_alloc behind the frame's operator
// new) together with its operator delete, and warns of a mismatch that is not there.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using Outcome = DeliveryResult::Outcome;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// --- what a reason code means --------------------------------------------------------------

namespace {

std::string reason_name(int code) {
  const char* name = MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(code));
  return name ? name : "unknown reason";
}

}  // namespace

DeliveryResult classify_mqtt_reason(int code, std::string_view during) {
  if (code < 0x80) {
    return DeliveryResult::ok(1);  // 0x00 success, 0x10 no matching subscribers
  }
  DeliveryResult r;
  r.reason = fmt::format("mqtt_0x{:02x}", code);
  r.error = fmt::format("the broker answered {} with reason code 0x{:02X} ({})", during, code,
                        reason_name(code));
  switch (code) {
    case 0x90:  // topic name invalid
    case 0x95:  // packet too large
    case 0x99:  // payload format invalid
      // The broker read this message and will never take it as it is: like HTTP 400 or 413
      // for one event alone.
      r.outcome = Outcome::dead_letter;
      r.count = 1;
      break;
    case 0x9D:  // server moved: the client should use another server for good (MQTT 5, 4.13)
      r.outcome = Outcome::stop;
      break;
    default:
      // 0x80 unspecified, 0x83 implementation specific, 0x87 not authorized, 0x91 packet
      // identifier in use, 0x97 quota exceeded, and every CONNACK refusal: back off and try
      // again; nothing is lost while IT or the broker sorts it out.
      r.outcome = Outcome::retry;
      break;
  }
  return r;
}

std::string mqtt_topic(std::string_view site, std::string_view station, std::string_view type) {
  return fmt::format("packbench/{}/{}/events/{}", site, station, type);
}

Result<MqttMessage> to_mqtt_message(std::string_view event_json, std::string_view site,
                                    std::string_view station) {
  boost::system::error_code ec;
  json::value v = json::parse(event_json, ec);
  if (ec || !v.is_object()) {
    return Error{"not a CloudEvent in JSON"};
  }
  const json::object& ev = v.as_object();
  const auto* type = ev.if_contains("type");
  if (!type || !type->is_string() || type->as_string().empty()) {
    return Error{"a CloudEvent without a type"};
  }
  const std::string_view type_text(type->as_string());
  // A topic name holds no wildcards and no NUL (MQTT 5, 4.7.3); a '/' would add levels.
  if (type_text.find_first_of(std::string_view("+#/\0", 4)) != std::string_view::npos) {
    return Error{fmt::format("the type '{}' cannot be a topic level", type_text)};
  }
  MqttMessage m;
  m.topic = mqtt_topic(site, station, type_text);
  const auto* content_type = ev.if_contains("datacontenttype");
  m.content_type = content_type && content_type->is_string()
                       ? std::string(content_type->as_string())
                       : std::string("application/json");
  const bool json_data = m.content_type.find("json") != std::string::npos;
  for (const auto& [key, value] : ev) {
    if (key == "datacontenttype") {
      continue;
    }
    if (key == "data") {
      // JSON data goes as JSON text; other data given as a string goes as its bytes.
      m.payload =
          value.is_string() && !json_data ? std::string(value.as_string()) : json::serialize(value);
      continue;
    }
    if (key == "data_base64") {
      auto bytes = value.is_string() ? base64_decode(value.as_string())
                                     : Result<std::string>(Error{"data_base64 is not a string"});
      if (!bytes) {
        return Error{"data_base64: " + bytes.error().message};
      }
      m.payload = std::move(*bytes);
      continue;
    }
    m.user_properties.emplace_back(std::string(key), value.is_string()
                                                         ? std::string(value.as_string())
                                                         : json::serialize(value));
  }
  return m;
}

// --- the transport -------------------------------------------------------------------------

namespace {

// The variable byte integer's length (MQTT 5, 1.5.5).
std::size_t varint_size(std::size_t n) {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

// The size of the PUBLISH packet a message makes (MQTT 5, 3.3), to hold it against the
// broker's Maximum Packet Size.
std::size_t publish_size(const MqttMessage& m) {
  std::size_t props = 2 /* payload format */ + 3 + m.content_type.size();
  for (const auto& [k, v] : m.user_properties) {
    props += 5 + k.size() + v.size();
  }
  const std::size_t rest =
      2 + m.topic.size() + 2 /* packet id */ + varint_size(props) + props + m.payload.size();
  return 1 + varint_size(rest) + rest;
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

// What paho reported, handed from its threads to the station's.
struct Completion {
  std::uint64_t serial = 0;  // 0: the connect
  bool ok = false;
  int reason_code = 0;  // the broker's (MQTT 5); 0 when it gave none
  std::string message;
};

// The broker's reason code in a token; paho.mqtt.cpp marks "none" (a failure of its own, such
// as a lost connection) with a value of its own.
int reason_of(const mqtt::token& tok) {
  const int code = static_cast<int>(tok.get_reason_code());
  return code == mqtt::ReasonCode::MQTTPP_V3_CODE ? 0 : code;
}

constexpr std::uint64_t kConnectSerial = 0;

// The sockets of this process: their inodes ("socket:[12345]", as /proc/self/fd shows them)
// and fds.
std::map<std::string, int> own_sockets() {
  std::map<std::string, int> out;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    return out;
  }
  while (const dirent* e = readdir(dir)) {
    char target[64];
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)).starts_with("socket:")) {
      out.emplace(std::string(target, static_cast<std::size_t>(n)), std::atoi(e->d_name));
    }
  }
  closedir(dir);
  return out;
}

// The connection paho made: a TCP socket that was not there before the connect, whose peer is
// the broker's port (one; more only if something else connected to the broker meanwhile).
std::vector<int> new_connections_to(const std::map<std::string, int>& before,
                                    std::uint16_t broker_port) {
  std::vector<int> found;
  for (const auto& [inode, fd] : own_sockets()) {
    if (before.count(inode)) {
      continue;
    }
    int type = 0;
    socklen_t type_len = sizeof type;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    const std::uint16_t port = peer.ss_family == AF_INET
                                   ? ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port)
                               : peer.ss_family == AF_INET6
                                   ? ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port)
                                   : 0;
    if (port == broker_port) {
      found.push_back(fd);
    }
  }
  return found;
}

// Keeps the calling thread on one CPU (none: cpu < 0, or a CPU the thread may not run on) for
// as long as it lives, then gives that thread back the CPUs it had. It names the thread by its
// id, so that it gives back the right thread's CPUs wherever it ends.
class ThisThreadOnCpu {
 public:
  explicit ThisThreadOnCpu(int cpu) : tid_(static_cast<pid_t>(::gettid())) {
    if (cpu < 0 || sched_getaffinity(tid_, sizeof saved_, &saved_) != 0 ||
        !CPU_ISSET(cpu, &saved_)) {
      return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    on_ = sched_setaffinity(tid_, sizeof one, &one) == 0;
  }
  ~ThisThreadOnCpu() {
    if (on_ && sched_setaffinity(tid_, sizeof saved_, &saved_) != 0) {
      spdlog::warn("sync: the station's thread could not be given back its CPUs: {}",
                   std::strerror(errno));
    }
  }
  ThisThreadOnCpu(const ThisThreadOnCpu&) = delete;
  ThisThreadOnCpu& operator=(const ThisThreadOnCpu&) = delete;

 private:
  pid_t tid_;
  cpu_set_t saved_{};
  bool on_ = false;
};

// Puts paho's threads on the CPU this thread runs on (each only if it may run there); that CPU,
// or -1 when none was moved.
int pin_client_threads_here() {
  const int cpu = sched_getcpu();
  if (cpu < 0) {
    return -1;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  int moved = 0;
  for (int tid : mqtt_client_threads()) {
    cpu_set_t allowed;
    if (sched_getaffinity(tid, sizeof allowed, &allowed) == 0 && CPU_ISSET(cpu, &allowed) &&
        sched_setaffinity(tid, sizeof one, &one) == 0) {
      ++moved;
    }
  }
  if (moved > 0) {
    spdlog::debug("sync: paho's {} thread(s) kept on CPU {}", moved, cpu);
  }
  return moved > 0 ? cpu : -1;
}

}  // namespace

std::vector<int> mqtt_client_threads() {
  std::vector<int> out;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) {
    return out;
  }
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') {
      continue;
    }
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(in, name);
    if (name == "MQTTAsync_send" || name == "MQTTAsync_rcv") {
      out.push_back(std::atoi(e->d_name));
    }
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

// Paho calls these on its own threads; they only queue what happened and wake the station's
// thread, never call paho back.
//
// Each completion also tells the kernel to acknowledge at once what arrived on the connection
// (TCP_QUICKACK): a broker with Nagle's algorithm on (Mosquitto's default) holds its next PUBACK
// until the last one is acknowledged, and the kernel delays that acknowledgement (40 ms and
// more) hoping to carry it on the station's next packet, which does not come while the station
// waits for PUBACKs (the end of every batch, a full window). docs/sync.md, "Benchmark".
struct Bridge : mqtt::iaction_listener {
  std::mutex mu;
  std::deque<Completion> done;
  std::vector<int> connection_fds;  // the station's connection to the broker, once found
  std::uint64_t lost_epoch = 0;     // the connection of this epoch was lost
  std::string lost_cause;
  int disconnect_reason = 0;   // a DISCONNECT from the broker, with its reason code
  std::function<void()> wake;  // posts to the station's executor

  void push(Completion c) {
    {
      std::lock_guard lock(mu);
      done.push_back(std::move(c));
      const int on = 1;
      for (int fd : connection_fds) {
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
      }
    }
    wake();
  }
  static std::string failure_text(const mqtt::token& tok) {
    try {
      const_cast<mqtt::token&>(tok).try_wait();
    } catch (const mqtt::exception& e) {
      return e.what();
    }
    return mqtt::exception::error_str(tok.get_return_code());
  }
  void on_success(const mqtt::token& tok) override {
    push({reinterpret_cast<std::uintptr_t>(tok.get_user_context()), true, reason_of(tok), ""});
  }
  void on_failure(const mqtt::token& tok) override {
    push({reinterpret_cast<std::uintptr_t>(tok.get_user_context()), false, reason_of(tok),
          failure_text(tok)});
  }
  void connection_lost(std::uint64_t epoch, const std::string& cause) {
    {
      std::lock_guard lock(mu);
      lost_epoch = epoch;
      lost_cause = cause;
    }
    wake();
  }
  void disconnected(std::uint64_t epoch, int reason) {
    {
      std::lock_guard lock(mu);
      lost_epoch = epoch;
      disconnect_reason = reason;
      lost_cause = fmt::format("the broker disconnected with reason code 0x{:02X} ({})", reason,
                               reason_name(reason));
    }
    wake();
  }
};

struct MqttTransport::Impl {
  asio::any_io_executor ex;
  SyncConfig config;
  std::string site;
  std::string station;
  std::string url;
  std::string server_uri;  // as paho writes it: tcp://host:port, ssl://host:port
  bool tls = false;
  std::string client_id;
  std::optional<std::string> password;
  std::shared_ptr<Bridge> bridge = std::make_shared<Bridge>();
  std::unique_ptr<mqtt::async_client> client;
  mqtt::token_ptr connect_token;
  std::uint64_t epoch = 0;  // one per client made
  std::uint64_t next_serial = 1;
  int paho_cpu = -1;  // where paho's threads are kept; -1: where the kernel puts them
  std::size_t receive_maximum = 65535;
  std::size_t max_packet = 268435455;  // the protocol's own limit
  asio::steady_timer signal;
  bool closed = false;
  mqtt::ssl_options ssl;
  // For the TLS probe that says why paho's TLS connection failed (paho only says that it did):
  // paho.mqtt.cpp 1.2's own TLS error handler points at a copy of the options that is gone by
  // the time the handshake fails.
  std::string host;
  std::string port;
  bool host_is_ip = false;

  Impl(asio::any_io_executor e, SyncConfig c) : ex(e), config(std::move(c)), signal(e) {}

  ~Impl() { drop(); }

  // The client is thrown away with whatever it had in flight: the outbox holds the events.
  void drop() {
    if (!client) {
      return;
    }
    connect_token.reset();
    paho_cpu = -1;
    {
      std::lock_guard lock(bridge->mu);
      bridge->connection_fds.clear();  // paho closes them
    }
    client.reset();  // MQTTAsync_destroy: closes the socket, forgets the session
  }

  // Waits until paho reports something or `deadline` passes.
  asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline) {
    signal.expires_at(deadline);
    co_await signal.async_wait(tuple_awaitable);
  }

  std::deque<Completion> take() {
    std::lock_guard lock(bridge->mu);
    return std::exchange(bridge->done, {});
  }

  // The connection of this epoch was lost (or the broker sent DISCONNECT): why, else nullopt.
  std::optional<std::pair<std::string, int>> lost() {
    std::lock_guard lock(bridge->mu);
    if (bridge->lost_epoch != epoch || epoch == 0) {
      return std::nullopt;
    }
    return std::make_pair(bridge->lost_cause, bridge->disconnect_reason);
  }

  struct Failure {
    std::string reason;
    std::string message;
    int reason_code = 0;
  };

  asio::awaitable<std::optional<Failure>> connect() {
    drop();
    ++epoch;
    {
      std::lock_guard lock(bridge->mu);
      bridge->done.clear();
      bridge->disconnect_reason = 0;
    }
    const auto sockets_before = own_sockets();
    try {
      // No persistence (nullptr): the outbox is the only store of what is not yet acknowledged.
      mqtt::create_options create(MQTTVERSION_5);
      client = std::make_unique<mqtt::async_client>(server_uri, client_id, create, nullptr);
      const std::uint64_t my_epoch = epoch;
      std::weak_ptr<Bridge> weak = bridge;
      client->set_connection_lost_handler([weak, my_epoch](const std::string& cause) {
        if (auto b = weak.lock()) {
          b->connection_lost(my_epoch, cause.empty() ? "the connection was lost" : cause);
        }
      });
      client->set_disconnected_handler(
          [weak, my_epoch](const mqtt::properties&, mqtt::ReasonCode reason) {
            if (auto b = weak.lock()) {
              b->disconnected(my_epoch, static_cast<int>(reason));
            }
          });
      auto timeout_s = std::chrono::duration_cast<std::chrono::seconds>(
          config.timeout + std::chrono::milliseconds(999));
      mqtt::connect_options_builder opts;
      opts.mqtt_version(MQTTVERSION_5)
          .clean_start(true)
          .automatic_reconnect(false)
          .keep_alive_interval(config.mqtt.keep_alive)
          .connect_timeout(std::max(timeout_s, std::chrono::seconds(1)))
          .max_inflight(config.mqtt.max_in_flight);
      if (!config.mqtt.username.empty()) {
        opts.user_name(config.mqtt.username);
      }
      if (password) {
        opts.password(*password);
      }
      if (tls) {
        opts.ssl(ssl);
      }
      connect_token =
          client->connect(opts.finalize(), reinterpret_cast<void*>(kConnectSerial), *bridge);
    } catch (const mqtt::exception& e) {
      drop();
      co_return Failure{"connect", fmt::format("connect {}: {}", url, e.what())};
    }
    const auto deadline = std::chrono::steady_clock::now() + config.timeout;
    for (;;) {
      for (auto& c : take()) {
        if (c.serial != kConnectSerial) {
          continue;
        }
        if (c.ok) {
          read_connack();
          tune_connection(sockets_before);
          // Both of paho's threads run by now (it starts the receiving one as it connects).
          // Only speed depends on where they run.
          if (config.mqtt.pin_client_threads) {
            paho_cpu = pin_client_threads_here();
          }
          co_return std::nullopt;
        }
        drop();
        if (c.reason_code >= 0x80) {
          auto r = classify_mqtt_reason(c.reason_code, "the connection (CONNACK)");
          co_return Failure{r.reason, fmt::format("connect {}: {}", url, r.error), c.reason_code};
        }
        if (tls) {
          if (auto why = co_await tls_problem()) {
            co_return Failure{"tls", fmt::format("TLS with {}: {}", url, *why)};
          }
        }
        co_return Failure{"connect", fmt::format("connect {}: {}", url, c.message)};
      }
      if (closed) {
        drop();
        co_return Failure{"stopped", "the station is stopping"};
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        drop();
        co_return Failure{"timeout", fmt::format("connect {}: no CONNACK within {} ms", url,
                                                 config.timeout.count())};
      }
      co_await wait_until(deadline);
    }
  }

  // Why a TLS connection to the broker fails, if it is TLS that fails: a handshake of our own
  // with the same checks (the CA file or the system's CAs, the host's name, SNI). nullopt when
  // the handshake succeeds or TCP itself fails.
  asio::awaitable<std::optional<std::string>> tls_problem() {
    namespace ssl = asio::ssl;
    using tcp = asio::ip::tcp;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (!config.ca_file.empty()) {
      ctx.load_verify_file(config.ca_file.string(), ec);
    } else {
      ctx.set_default_verify_paths(ec);
    }
    if (ec) {
      co_return fmt::format("cannot load the CA certificates: {}", ec.message());
    }
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, port, tuple_awaitable);
    if (rec) {
      co_return std::nullopt;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(config.timeout);
    auto [cec, ep] = co_await lowest.async_connect(results, tuple_awaitable);
    if (cec) {
      co_return std::nullopt;
    }
    SSL* native = stream.native_handle();
    if (!host_is_ip) {
      SSL_set_tlsext_host_name(native, host.c_str());
      SSL_set1_host(native, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), host.c_str());
    }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, tuple_awaitable);
    lowest.socket().close(ec);
    if (!hec) {
      co_return std::nullopt;
    }
    const long verify = SSL_get_verify_result(native);
    co_return verify != X509_V_OK
        ? std::string("certificate refused: ") + X509_verify_cert_error_string(verify)
        : hec.message();
  }

  // paho.mqtt.c opens its connection with Nagle's algorithm on and has no way to set socket
  // options: a PUBLISH then waits while the one before is unacknowledged. The station finds
  // its connection among the process's sockets and sets TCP_NODELAY on it, as MQTT clients
  // commonly do, and hands it to the bridge for TCP_QUICKACK (above). Only speed depends on it:
  // a connection not found is used as it is, and an fd paho closed before drop() gets at worst
  // a harmless quick acknowledgement.
  void tune_connection(const std::map<std::string, int>& sockets_before) {
    std::vector<int> fds =
        new_connections_to(sockets_before, static_cast<std::uint16_t>(std::stoi(port)));
    const int on = 1;
    for (int fd : fds) {
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    std::lock_guard lock(bridge->mu);
    bridge->connection_fds = std::move(fds);
  }

  // The broker's limits from CONNACK (MQTT 5, 3.2.2.3): how many QoS 1 messages it takes at
  // once, and how large a packet.
  void read_connack() {
    receive_maximum = 65535;
    max_packet = 268435455;
    try {
      const auto props = connect_token->get_connect_response().get_properties();
      if (props.contains(mqtt::property::RECEIVE_MAXIMUM)) {
        receive_maximum = mqtt::get<std::uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM);
      }
      if (props.contains(mqtt::property::MAXIMUM_PACKET_SIZE)) {
        max_packet = mqtt::get<std::uint32_t>(props, mqtt::property::MAXIMUM_PACKET_SIZE);
      }
    } catch (const std::exception&) {
      // Without them, the protocol's defaults hold.
    }
  }
};

Result<std::unique_ptr<MqttTransport>> MqttTransport::create(asio::any_io_executor ex,
                                                             const SyncConfig& config,
                                                             const std::string& site,
                                                             const std::string& station) {
  auto impl = std::make_shared<Impl>(ex, config);
  impl->site = site;
  impl->station = station;
  auto url = boost::urls::parse_absolute_uri(config.url);
  if (!url || (url->scheme() != "mqtt" && url->scheme() != "mqtts") || url->host().empty()) {
    return Error{fmt::format("sync: cannot use the url '{}' for MQTT", config.url)};
  }
  impl->url = config.url;
  impl->tls = url->scheme() == "mqtts";
  const bool ipv6 = url->host_type() == boost::urls::host_type::ipv6;
  impl->host = ipv6 ? std::string(url->host_address()) : std::string(url->host());
  impl->host_is_ip = url->host_type() != boost::urls::host_type::name;
  impl->port = url->has_port() ? std::string(url->port()) : (impl->tls ? "8883" : "1883");
  impl->server_uri = std::string(impl->tls ? "ssl://" : "tcp://") +
                     (ipv6 ? "[" + impl->host + "]" : impl->host) + ":" + impl->port;
  impl->client_id =
      config.mqtt.client_id.empty() ? "packbench-" + site + "-" + station : config.mqtt.client_id;
  if (!config.mqtt.password_file.empty()) {
    auto pw = first_line_of(config.mqtt.password_file, "MQTT password");
    if (!pw) {
      return pw.error();
    }
    impl->password = std::move(*pw);
  }
  if (impl->tls && !config.ca_file.empty()) {
    std::ifstream in(config.ca_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return Error{fmt::format("sync.ca_file {}: cannot be read", config.ca_file.string())};
    }
    if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Error{fmt::format("sync.ca_file {}: no certificate could be read from it",
                               config.ca_file.string())};
    }
  }
  if (impl->tls) {
    impl->ssl.set_enable_server_cert_auth(true);
    impl->ssl.set_verify(true);  // the certificate must name the host
    impl->ssl.set_ssl_version(MQTT_SSL_VERSION_TLS_1_2);
    if (!config.ca_file.empty()) {
      impl->ssl.set_trust_store(config.ca_file.string());
    }
  }
  std::weak_ptr<Impl> weak = impl;
  impl->bridge->wake = [weak, ex] {
    asio::post(ex, [weak] {
      if (auto s = weak.lock()) {
        s->signal.cancel();
      }
    });
  };
  return std::unique_ptr<MqttTransport>(new MqttTransport(std::move(impl)));
}

MqttTransport::MqttTransport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

MqttTransport::~MqttTransport() {
  close();
}

std::string MqttTransport::endpoint() const {
  return impl_->url;
}

void MqttTransport::close() {
  impl_->closed = true;
  impl_->drop();
  impl_->signal.cancel();
}

void MqttTransport::reopen() {
  impl_->closed = false;
}

asio::awaitable<DeliveryResult> MqttTransport::deliver(const std::vector<PendingEvent>& batch) {
  // Keeps the state alive across the waits even if the transport goes meanwhile.
  std::shared_ptr<Impl> s = impl_;
  if (s->closed) {
    co_return DeliveryResult{Outcome::retry, 0, {}, {}, "stopped", "stopping"};
  }
  if (!s->client || !s->client->is_connected() || s->lost()) {
    if (auto f = co_await s->connect()) {
      DeliveryResult r{Outcome::retry, 0, {}, {}, f->reason, f->message};
      if (f->reason_code >= 0x80) {
        r = classify_mqtt_reason(f->reason_code, "the connection (CONNACK)");
        r.error = f->message;
        if (r.outcome == Outcome::dead_letter) {
          r.outcome = Outcome::retry;
          r.count.reset();
        }
      }
      co_return r;
    }
  }

  // While a batch is in flight (its waits for PUBACKs included), the station's thread joins
  // paho's threads on their CPU: it allocates through paho too (the properties of each
  // message), under the same lock. Moving it at every wait would cost more than it saves.
  ThisThreadOnCpu along(s->paho_cpu);
  // Each event's fate: unknown until its PUBACK (or a failure) arrives.
  enum class State { waiting, sent, acked, failed };
  struct Slot {
    State state = State::waiting;
    DeliveryResult failure;
  };
  std::vector<Slot> slots(batch.size());
  std::map<std::uint64_t, std::size_t> in_flight;  // serial -> index
  const std::size_t window = std::max<std::size_t>(
      1, std::min<std::size_t>(static_cast<std::size_t>(s->config.mqtt.max_in_flight),
                               s->receive_maximum));
  bool stop_sending = false;
  auto fail = [&](std::size_t i, DeliveryResult r) {
    slots[i].state = State::failed;
    slots[i].failure = std::move(r);
    stop_sending = true;
  };
  auto deadline = std::chrono::steady_clock::now() + s->config.timeout;
  // An event goes only once every earlier event of its subject is acknowledged: two of one
  // order are never in flight together, so a refusal or a lost connection cannot let a later
  // one arrive before an earlier one. Events of other orders fill the window meanwhile.
  std::map<std::string_view, std::size_t> unacked;  // by subject: sent, not yet acknowledged
  std::size_t first_waiting = 0;
  auto next_ready = [&]() -> std::optional<std::size_t> {
    while (first_waiting < slots.size() && slots[first_waiting].state != State::waiting) {
      ++first_waiting;
    }
    std::set<std::string_view> held;  // subjects with an earlier event still waiting
    for (std::size_t i = first_waiting; i < slots.size(); ++i) {
      if (slots[i].state != State::waiting) {
        continue;
      }
      const std::string_view subject = batch[i].subject;
      if (subject.empty()) {
        return i;
      }
      auto u = unacked.find(subject);
      if ((u == unacked.end() || u->second == 0) && !held.count(subject)) {
        return i;
      }
      held.insert(subject);
    }
    return std::nullopt;
  };

  for (;;) {
    while (!stop_sending && in_flight.size() < window) {
      const auto ready = next_ready();
      if (!ready) {
        break;
      }
      const std::size_t i = *ready;
      auto m = to_mqtt_message(batch[i].json, s->site, s->station);
      if (!m) {
        fail(i, DeliveryResult{Outcome::dead_letter,
                               0,
                               1,
                               {},
                               "mqtt_bad_event",
                               fmt::format("event {} cannot be published: {}", batch[i].id,
                                           m.error().message)});
        break;
      }
      if (publish_size(*m) > s->max_packet) {
        fail(i, DeliveryResult{Outcome::dead_letter,
                               0,
                               1,
                               {},
                               "mqtt_too_large",
                               fmt::format("event {} makes a PUBLISH of {} bytes; the broker "
                                           "takes at most {}",
                                           batch[i].id, publish_size(*m), s->max_packet)});
        break;
      }
      mqtt::properties props;
      props.add(mqtt::property(mqtt::property::CONTENT_TYPE, m->content_type));
      if (m->content_type.find("json") != std::string::npos ||
          m->content_type.starts_with("text/")) {
        props.add(mqtt::property(mqtt::property::PAYLOAD_FORMAT_INDICATOR, 1));  // UTF-8
      }
      for (const auto& [k, v] : m->user_properties) {
        props.add(mqtt::property(mqtt::property::USER_PROPERTY, k, v));
      }
      auto msg = mqtt::message_ptr_builder()
                     .topic(m->topic)
                     .payload(m->payload)
                     .qos(1)
                     .retained(false)
                     .properties(std::move(props))
                     .finalize();
      const std::uint64_t serial = s->next_serial++;
      try {
        s->client->publish(msg, reinterpret_cast<void*>(static_cast<std::uintptr_t>(serial)),
                           *s->bridge);
      } catch (const mqtt::exception& e) {
        fail(i, DeliveryResult{Outcome::retry,
                               0,
                               {},
                               {},
                               "reset",
                               fmt::format("publish to {}: {}", s->url, e.what())});
        break;
      }
      slots[i].state = State::sent;
      in_flight.emplace(serial, i);
      if (!batch[i].subject.empty()) {
        ++unacked[batch[i].subject];
      }
    }
    if (in_flight.empty()) {
      break;
    }
    for (auto& c : s->take()) {
      auto it = in_flight.find(c.serial);
      if (it == in_flight.end()) {
        continue;  // from an earlier batch or connection
      }
      const std::size_t i = it->second;
      in_flight.erase(it);
      if (!batch[i].subject.empty()) {
        --unacked[batch[i].subject];
      }
      deadline = std::chrono::steady_clock::now() + s->config.timeout;
      if (c.ok && c.reason_code < 0x80) {
        slots[i].state = State::acked;
      } else if (c.reason_code >= 0x80) {
        auto r = classify_mqtt_reason(c.reason_code, "PUBLISH (PUBACK)");
        r.error = fmt::format("event {}: {}", batch[i].id, r.error);
        fail(i, std::move(r));
      } else {
        fail(i, DeliveryResult{Outcome::retry,
                               0,
                               {},
                               {},
                               "reset",
                               fmt::format("publish to {}: {}", s->url, c.message)});
      }
    }
    if (in_flight.empty()) {
      continue;  // send more, or leave
    }
    if (s->closed) {
      co_return DeliveryResult{Outcome::retry, 0, {}, {}, "stopped", "stopping"};
    }
    std::optional<DeliveryResult> broken;
    if (auto why = s->lost()) {
      if (why->second >= 0x80) {
        broken = classify_mqtt_reason(why->second, "with DISCONNECT");
        if (broken->outcome == Outcome::dead_letter) {
          // The broker dropped the connection over a message it would not take (0x95): which
          // one is not said, so the events go again, one at a time would not tell either.
          broken->outcome = Outcome::retry;
          broken->count.reset();
        }
        broken->error = fmt::format("{}: {}", s->url, why->first);
      } else {
        broken =
            DeliveryResult{Outcome::retry,
                           0,
                           {},
                           {},
                           "reset",
                           fmt::format("{}: the connection was lost ({})", s->url, why->first)};
      }
    } else if (std::chrono::steady_clock::now() >= deadline) {
      broken = DeliveryResult{
          Outcome::retry,
          0,
          {},
          {},
          "timeout",
          fmt::format("{}: no PUBACK within {} ms", s->url, s->config.timeout.count())};
    }
    if (broken) {
      // Whatever was in flight is lost with the client; the outbox sends it again.
      s->drop();
      for (const auto& [serial, i] : in_flight) {
        fail(i, *broken);
      }
      in_flight.clear();
      break;
    }
    co_await s->wait_until(deadline);
  }

  std::size_t acked = 0;
  while (acked < slots.size() && slots[acked].state == State::acked) {
    ++acked;
  }
  if (acked == slots.size()) {
    co_return DeliveryResult::ok(acked);
  }
  // The first event not acknowledged decides; events after it that the broker did take go
  // again with the rest (the back office dedupes on the ids).
  for (std::size_t i = acked; i < slots.size(); ++i) {
    if (slots[i].state == State::failed) {
      DeliveryResult r = slots[i].failure;
      r.acknowledged = acked;
      if (i != acked) {
        r.outcome = Outcome::retry;
        r.count.reset();
      }
      co_return r;
    }
  }
  co_return DeliveryResult{Outcome::retry, acked, {}, {}, "reset", "the delivery ended early"};
}

}  // namespace packbench::station

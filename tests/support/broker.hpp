// MQTT peers for the sync tests, on loopback: a real Mosquitto broker run as a child process
// (started, SIGKILLed, started again on the same port with the same persistence), and a back
// office that subscribes to the station's topics with paho and rebuilds the CloudEvents from the
// binary mode, checked by the same EventLedger as the HTTP collector's.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "collector.hpp"
#include "support.hpp"

namespace mqtt {
class async_client;
class connect_options;
}  // namespace mqtt

namespace packbench::testing {

// /usr/sbin/mosquitto with a configuration written for the test: one listener on 127.0.0.1
// (TLS when given certificates), anonymous clients, no limits on messages in flight or queued,
// and persistence in its folder, written when it stops cleanly.
class Mosquitto {
 public:
  struct Options {
    std::optional<TlsFiles> tls;
    std::uint16_t port = 0;  // 0: a free one
    std::string extra;       // more configuration lines
  };
  Mosquitto(const std::filesystem::path& dir, Options options);
  explicit Mosquitto(const std::filesystem::path& dir) : Mosquitto(dir, Options{}) {}
  ~Mosquitto();
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // Starts the broker and waits until it takes connections.
  void start();
  void kill();  // SIGKILL: nothing saved, connections dropped
  void stop();  // SIGTERM: it saves its database and exits
  // Stops the broker cleanly and starts it again on the same port. A clean stop writes its
  // database with every persistent session (and its subscriptions) in it, so that a broker
  // SIGKILLed later comes back with them. (Mosquitto 2.0 does not bring back a session that
  // was connected when its database was written: SIGUSR1 would not do.)
  void restart();
  // Asks the broker to read its configuration again (SIGHUP: the ACL file, ...) and waits until
  // it has.
  bool reload();
  bool running();

  std::uint16_t port() const { return port_; }
  // mqtt://127.0.0.1:PORT, or mqtts://localhost:PORT with TLS.
  std::string url() const;
  // What paho connects to: tcp://127.0.0.1:PORT or ssl://localhost:PORT.
  std::string server_uri() const;
  std::string log() const;

 private:
  std::filesystem::path dir_;
  Options options_;
  std::uint16_t port_;
  std::unique_ptr<Process> process_;
  int starts_ = 0;
};

// One MQTT message as the back office received it.
struct MqttReceived {
  std::string topic;
  int qos = 0;
  bool retained = false;
  std::string payload;
  std::string content_type;
  std::optional<int> payload_format;
  std::vector<std::pair<std::string, std::string>> user_properties;
};

// A back office on the broker: subscribes to `filter` at QoS 1 with a persistent session (clean
// start off, a session that outlives a disconnection), reconnects by itself, and keeps every
// message and the CloudEvent each one carries.
class MqttSubscriber {
 public:
  explicit MqttSubscriber(const std::string& server_uri, const std::string& filter = "packbench/#",
                          const std::string& client_id = "backoffice");
  ~MqttSubscriber();
  MqttSubscriber(const MqttSubscriber&) = delete;
  MqttSubscriber& operator=(const MqttSubscriber&) = delete;

  // Waits for the broker to have granted the subscription (SUBACK) `n` times.
  bool wait_subscribed(std::size_t n = 1, std::chrono::milliseconds timeout = 30s);
  std::vector<MqttReceived> messages();
  std::size_t message_count();
  // The CloudEvents rebuilt from the messages, once each by (source, id).
  std::vector<boost::json::object> events();
  bool wait_for_events(std::size_t n, std::chrono::milliseconds timeout = 30s);
  bool wait_for_messages(std::size_t n, std::chrono::milliseconds timeout = 30s);
  std::size_t duplicates();
  std::vector<std::string> problems();

  // Called on paho's thread after each message is recorded (e.g. to kill the station right
  // then, before its PUBACK reaches it).
  void set_on_message(std::function<void(const MqttReceived&)> fn);

  // Rebuilds a CloudEvent from a message in the binary mode (attributes from the user
  // properties, datacontenttype from the content type, data from the payload).
  static boost::json::object to_cloudevent(const MqttReceived& m);

 private:
  struct Handlers;
  void on_message(MqttReceived m);
  void subscribe();
  bool connect(std::string* error);

  std::string filter_;
  std::unique_ptr<mqtt::async_client> client_;
  std::unique_ptr<mqtt::connect_options> options_;
  std::atomic<bool> stop_{false};
  std::thread reconnector_;
  std::unique_ptr<Handlers> handlers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t subscribed_ = 0;
  std::function<void(const MqttReceived&)> on_message_;
  std::vector<MqttReceived> messages_;
  EventLedger ledger_;
};

}  // namespace packbench::testing

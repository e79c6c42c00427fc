// Delivers outbox events to an MQTT 5 broker (paho.mqtt.cpp), one PUBLISH per event, QoS 1, in
// the CloudEvents MQTT binary binding: the payload is the event's data, the content type is its
// datacontenttype, and every other attribute (sequence included) is a user property. The topic
// is packbench/{site}/{station}/events/{type}.
//
// An event is acknowledged only by the PUBACK for its own PUBLISH (a reason code below 0x80),
// with at most [sync.mqtt] max_in_flight messages waiting for theirs. The client keeps nothing
// of its own: no persistence, clean start, no automatic reconnect. When the connection drops,
// the client is thrown away with whatever it had in flight; the outbox still holds those events
// and the sender delivers them again, after its back-off, on a new connection, under the same
// CloudEvents ids.
//
// What a PUBACK reason code means (docs/sync.md): 0x00 and 0x10 acknowledge; 0x99 (payload
// format invalid), 0x90 (topic name invalid) and 0x95 (packet too large) dead-letter that event;
// anything else of 0x80 and above (0x97 quota exceeded, 0x87 not authorized, ...) backs off.
// A broker that says 0x9D (server moved) stops the transport, like HTTP 410.
//
// paho's two threads are put on one CPU when the client connects, and the station's thread
// joins them there while it publishes a batch ([sync.mqtt] pin_client_threads, on by default):
// paho.mqtt.c as Debian builds it takes one process-wide lock for each of its allocations,
// several per user property, and threads on two CPUs spend more time waking each other over
// that lock than publishing (docs/sync.md).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "station/config/config.hpp"
#include "station/outbox/transport.hpp"

namespace packbench::station {

// What a PUBACK (or CONNACK, or DISCONNECT) reason code means for the event it concerns.
DeliveryResult classify_mqtt_reason(int reason_code, std::string_view during);

// The topic of an event: packbench/{site}/{station}/events/{type}.
std::string mqtt_topic(std::string_view site, std::string_view station, std::string_view type);

// One event in the MQTT binary binding: what goes in a PUBLISH.
struct MqttMessage {
  std::string topic;
  std::string payload;       // the data, as JSON text (or the bytes of data_base64)
  std::string content_type;  // datacontenttype
  std::vector<std::pair<std::string, std::string>> user_properties;  // every other attribute
};
// Splits a CloudEvent (JSON format) into its binary-mode parts. An error for an event that is
// not a JSON object with a type.
Result<MqttMessage> to_mqtt_message(std::string_view event_json, std::string_view site,
                                    std::string_view station);

// paho.mqtt.c's own threads in this process, by thread id: it names them MQTTAsync_send and
// MQTTAsync_rcv, and every paho client of the process shares them. What
// [sync.mqtt] pin_client_threads keeps on one CPU.
std::vector<int> mqtt_client_threads();

class MqttTransport final : public Transport {
 public:
  // Reads the password file, checks the url and the CA file. Errors say which and why.
  static Result<std::unique_ptr<MqttTransport>> create(boost::asio::any_io_executor ex,
                                                       const SyncConfig& config,
                                                       const std::string& site,
                                                       const std::string& station);
  ~MqttTransport() override;

  std::string_view kind() const override { return "mqtt"; }
  std::string endpoint() const override;
  boost::asio::awaitable<DeliveryResult> deliver(const std::vector<PendingEvent>& batch) override;
  void close() override;
  void reopen() override;

  struct Impl;

 private:
  explicit MqttTransport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace packbench::station

#include "broker.hpp"

#include <mqtt/async_client.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <stdexcept>

namespace packbench::testing {

namespace json = boost::json;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

constexpr const char* kReloaded = "Reloading config";

}  // namespace

// --- the broker ----------------------------------------------------------------------------

Mosquitto::Mosquitto(const std::filesystem::path& dir, Options options)
    : dir_(dir), options_(std::move(options)), port_(options_.port ? options_.port : free_port()) {
  std::filesystem::create_directories(dir_);
}

Mosquitto::~Mosquitto() {
  if (running()) {
    stop();
  }
}

void Mosquitto::start() {
  std::string conf = "listener " + std::to_string(port_) +
                     " 127.0.0.1\n"
                     "allow_anonymous true\n"
                     // Started by root, it would switch to the user mosquitto, who cannot read
                     // the test's folder; started by anyone else, this line does nothing.
                     "user root\n"
                     "persistence true\n"
                     "persistence_location " +
                     dir_.string() +
                     "\n"
                     "autosave_interval 0\n"  // written when it stops cleanly
                     "max_inflight_messages 0\n"
                     "max_queued_messages 0\n"
                     "log_dest stderr\n"
                     "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  if (options_.tls) {
    conf += "certfile " + options_.tls->cert.string() + "\nkeyfile " + options_.tls->key.string() +
            "\n";
  }
  conf += options_.extra;
  write_file(dir_ / "mosquitto.conf", conf);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/sbin/mosquitto", "-c", (dir_ / "mosquitto.conf").string()},
      std::map<std::string, std::string>{}, dir_, "mosquitto-" + std::to_string(++starts_));
  // "running" is logged once every listener is open.
  const bool up = wait_until([&] {
    if (!process_->running()) {
      return true;
    }
    if (process_->errors().find(" running") == std::string::npos) {
      return false;
    }
    const int fd = connect_loopback_fd(port_);
    if (fd < 0) {
      return false;
    }
    ::close(fd);
    return true;
  });
  if (!up || !process_->running()) {
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " +
                             process_->errors());
  }
}

void Mosquitto::kill() {
  if (process_) {
    process_->signal(SIGKILL);
    process_->wait();
  }
}

void Mosquitto::stop() {
  if (process_) {
    process_->signal(SIGTERM);
    process_->wait();
  }
}

void Mosquitto::restart() {
  stop();
  start();
}

bool Mosquitto::reload() {
  if (!running()) {
    return false;
  }
  const std::size_t before = count_of(process_->errors(), kReloaded);
  process_->signal(SIGHUP);
  return wait_until([&] { return count_of(process_->errors(), kReloaded) > before; });
}

bool Mosquitto::running() {
  return process_ && process_->running();
}

std::string Mosquitto::url() const {
  return options_.tls ? "mqtts://localhost:" + std::to_string(port_)
                      : "mqtt://127.0.0.1:" + std::to_string(port_);
}

std::string Mosquitto::server_uri() const {
  return options_.tls ? "ssl://localhost:" + std::to_string(port_)
                      : "tcp://127.0.0.1:" + std::to_string(port_);
}

std::string Mosquitto::log() const {
  std::string out;
  for (int i = 1; i <= starts_; ++i) {
    out += read_file(dir_ / ("mosquitto-" + std::to_string(i) + ".err"));
  }
  return out;
}

// --- the back office -----------------------------------------------------------------------

struct MqttSubscriber::Handlers : mqtt::iaction_listener {
  MqttSubscriber* self = nullptr;
  void on_success(const mqtt::token& tok) override {
    if (tok.get_type() == mqtt::token::Type::SUBSCRIBE) {
      {
        std::lock_guard lock(self->mu_);
        ++self->subscribed_;
      }
      self->cv_.notify_all();
    }
  }
  void on_failure(const mqtt::token&) override {}
};

MqttSubscriber::MqttSubscriber(const std::string& server_uri, const std::string& filter,
                               const std::string& client_id)
    : filter_(filter), handlers_(std::make_unique<Handlers>()) {
  handlers_->self = this;
  client_ = std::make_unique<mqtt::async_client>(server_uri, client_id,
                                                 mqtt::create_options(MQTTVERSION_5), nullptr);
  client_->set_message_callback([this](mqtt::const_message_ptr msg) {
    MqttReceived m;
    m.topic = msg->get_topic();
    m.qos = msg->get_qos();
    m.retained = msg->is_retained();
    m.payload = msg->get_payload_str();
    const auto& props = msg->get_properties();
    if (props.contains(mqtt::property::CONTENT_TYPE)) {
      m.content_type = mqtt::get<std::string>(props, mqtt::property::CONTENT_TYPE);
    }
    if (props.contains(mqtt::property::PAYLOAD_FORMAT_INDICATOR)) {
      m.payload_format = mqtt::get<std::uint8_t>(props, mqtt::property::PAYLOAD_FORMAT_INDICATOR);
    }
    for (std::size_t i = 0; i < props.count(mqtt::property::USER_PROPERTY); ++i) {
      auto [k, v] = mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, i);
      m.user_properties.emplace_back(k, v);
    }
    on_message(std::move(m));
  });
  // Every connection (the first, and each after the broker came back) subscribes: a session
  // the broker kept makes it a no-op, one it lost is made again.
  client_->set_connected_handler([this](const std::string&) { subscribe(); });
  options_ =
      std::make_unique<mqtt::connect_options>(mqtt::connect_options_builder()
                                                  .mqtt_version(MQTTVERSION_5)
                                                  .clean_start(false)
                                                  .keep_alive_interval(std::chrono::seconds(5))
                                                  .finalize());
  // Set on the options actually passed: paho.mqtt.cpp 1.2 loses connect properties when it
  // copies connect options (the builder's finalize() is a copy).
  options_->set_properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600)});
  // The broker may be starting still (or again): try for a while.
  std::string last_error;
  if (!wait_until([&] { return connect(&last_error); })) {
    throw std::runtime_error("the back office cannot connect to " + server_uri + ": " + last_error);
  }
  // Back as soon as the broker is (paho's own reconnect waits seconds between tries).
  reconnector_ = std::thread([this] {
    while (!stop_) {
      std::this_thread::sleep_for(20ms);
      if (!stop_ && !client_->is_connected()) {
        connect(nullptr);
      }
    }
  });
}

bool MqttSubscriber::connect(std::string* error) {
  try {
    client_->connect(*options_)->wait();
    return true;
  } catch (const mqtt::exception& e) {
    if (error) {
      *error = e.what();
    }
    return false;
  }
}

MqttSubscriber::~MqttSubscriber() {
  stop_ = true;
  if (reconnector_.joinable()) {
    reconnector_.join();
  }
  try {
    client_->disable_callbacks();
    client_->disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception&) {
    // The broker may be gone already.
  }
  client_.reset();
}

void MqttSubscriber::subscribe() {
  try {
    client_->subscribe(filter_, 1, nullptr, *handlers_);
  } catch (const mqtt::exception&) {
    // The connection dropped again; the next one subscribes.
  }
}

json::object MqttSubscriber::to_cloudevent(const MqttReceived& m) {
  json::object ev;
  for (const auto& [k, v] : m.user_properties) {
    ev[k] = v;
  }
  if (!m.content_type.empty()) {
    ev["datacontenttype"] = m.content_type;
  }
  boost::system::error_code ec;
  if (m.content_type.find("json") != std::string::npos) {
    auto data = json::parse(m.payload, ec);
    ev["data"] = ec ? json::value(m.payload) : data;
  } else {
    ev["data"] = m.payload;
  }
  return ev;
}

void MqttSubscriber::on_message(MqttReceived m) {
  std::function<void(const MqttReceived&)> hook;
  {
    std::lock_guard lock(mu_);
    if (m.qos != 1) {
      ledger_.problem("a message at QoS " + std::to_string(m.qos) + " on " + m.topic);
    }
    ledger_.accept(to_cloudevent(m));
    messages_.push_back(m);
    hook = on_message_;
  }
  cv_.notify_all();
  if (hook) {
    hook(m);
  }
}

void MqttSubscriber::set_on_message(std::function<void(const MqttReceived&)> fn) {
  std::lock_guard lock(mu_);
  on_message_ = std::move(fn);
}

bool MqttSubscriber::wait_subscribed(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return subscribed_ >= n; });
}

std::vector<MqttReceived> MqttSubscriber::messages() {
  std::lock_guard lock(mu_);
  return messages_;
}

std::size_t MqttSubscriber::message_count() {
  std::lock_guard lock(mu_);
  return messages_.size();
}

std::vector<json::object> MqttSubscriber::events() {
  std::lock_guard lock(mu_);
  return ledger_.events();
}

bool MqttSubscriber::wait_for_events(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ledger_.events().size() >= n; });
}

bool MqttSubscriber::wait_for_messages(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

std::size_t MqttSubscriber::duplicates() {
  std::lock_guard lock(mu_);
  return ledger_.duplicates();
}

std::vector<std::string> MqttSubscriber::problems() {
  std::lock_guard lock(mu_);
  return ledger_.problems();
}

}  // namespace packbench::testing

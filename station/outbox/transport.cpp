#include "station/outbox/transport.hpp"

#include "station/outbox/mqtt_transport.hpp"
#include "station/outbox/webhook_transport.hpp"

namespace packbench::station {

Result<std::unique_ptr<Transport>> make_transport(boost::asio::any_io_executor ex,
                                                  const SyncConfig& config, const std::string& site,
                                                  const std::string& station) {
  if (config.transport_kind() == "mqtt") {
    auto t = MqttTransport::create(std::move(ex), config, site, station);
    if (!t) {
      return t.error();
    }
    return std::unique_ptr<Transport>(std::move(*t));
  }
  auto t = WebhookTransport::create(std::move(ex), config);
  if (!t) {
    return t.error();
  }
  return std::unique_ptr<Transport>(std::move(*t));
}

}  // namespace packbench::station

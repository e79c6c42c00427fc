// The built-in demo: station/demo/station.toml and station/demo/orders.json, compiled in so
// that `stationd` with no arguments runs a complete station.
#pragma once

#include <string_view>

namespace packbench::station {

std::string_view demo_config_toml();
std::string_view demo_orders_json();

}  // namespace packbench::station

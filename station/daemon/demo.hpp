// The built-in demo: station/demo/station.toml and station/demo/orders.json, compiled in so
// that `stationd` with no arguments runs a complete station.
#pragma once

#include <filesystem>
#include <string_view>

#include "packbench/result.hpp"

namespace packbench::station {

std::string_view demo_config_toml();
std::string_view demo_orders_json();

// The demo's discount key, as the demo configuration names it (var/demo-discount.key under the
// directory the demo runs in): 32 random bytes as hex, readable by this user only, made when
// missing. stationd and stationctl call it before reading the demo configuration.
inline constexpr const char* kDemoKeyFile = "var/demo-discount.key";
Result<void> make_demo_key(const std::filesystem::path& path = kDemoKeyFile);

}  // namespace packbench::station

// The sd_notify protocol, spoken directly: one datagram per message to the unix socket named
// by NOTIFY_SOCKET ('@' for the abstract namespace). Without NOTIFY_SOCKET it does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace packbench::station {

bool systemd_notify(std::string_view message);

// Half of WATCHDOG_USEC when systemd asked this process for watchdog pings, else nullopt.
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

}  // namespace packbench::station

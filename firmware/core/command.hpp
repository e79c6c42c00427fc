// The I/O board's command line protocol, parsed without heap or exceptions: one ASCII line
// per command from the station, e.g. "LIGHT GREEN", "BEEP 120", "PING".
#pragma once

#include <cstddef>
#include <cstdint>

namespace packbench::firmware {

enum class CommandKind : std::uint8_t { invalid, ping, light, beep };
enum class LightColour : std::uint8_t { off, green, amber, red };

struct Command {
  CommandKind kind = CommandKind::invalid;
  LightColour colour = LightColour::off;  // for light
  std::uint16_t millis = 0;               // for beep, 1..5000
};

// Parses one line (without its terminator). Anything else is CommandKind::invalid.
Command parse_command(const char* line, std::size_t length);

}  // namespace packbench::firmware

#include "command.hpp"

namespace packbench::firmware {

namespace {

bool equals(const char* a, std::size_t n, const char* lit) {
  std::size_t i = 0;
  for (; i < n && lit[i] != '\0'; ++i) {
    if (a[i] != lit[i]) {
      return false;
    }
  }
  return i == n && lit[i] == '\0';
}

}  // namespace

Command parse_command(const char* line, std::size_t length) {
  Command cmd;
  std::size_t space = 0;
  while (space < length && line[space] != ' ') {
    ++space;
  }
  const char* arg = space < length ? line + space + 1 : line + length;
  const std::size_t arg_len = space < length ? length - space - 1 : 0;
  if (equals(line, space, "PING") && arg_len == 0) {
    cmd.kind = CommandKind::ping;
  } else if (equals(line, space, "LIGHT")) {
    if (equals(arg, arg_len, "OFF")) {
      cmd = {CommandKind::light, LightColour::off, 0};
    } else if (equals(arg, arg_len, "GREEN")) {
      cmd = {CommandKind::light, LightColour::green, 0};
    } else if (equals(arg, arg_len, "AMBER")) {
      cmd = {CommandKind::light, LightColour::amber, 0};
    } else if (equals(arg, arg_len, "RED")) {
      cmd = {CommandKind::light, LightColour::red, 0};
    }
  } else if (equals(line, space, "BEEP") && arg_len > 0 && arg_len <= 4) {
    std::uint32_t ms = 0;
    for (std::size_t i = 0; i < arg_len; ++i) {
      if (arg[i] < '0' || arg[i] > '9') {
        return cmd;
      }
      ms = ms * 10 + static_cast<std::uint32_t>(arg[i] - '0');
    }
    if (ms >= 1 && ms <= 5000) {
      cmd = {CommandKind::beep, LightColour::off, static_cast<std::uint16_t>(ms)};
    }
  }
  return cmd;
}

}  // namespace packbench::firmware

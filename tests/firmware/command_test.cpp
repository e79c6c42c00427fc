#include "command.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace packbench::firmware;

namespace {
Command parse(const char* s) {
  return parse_command(s, std::strlen(s));
}
}  // namespace

TEST(FirmwareCommand, ParsesTheCommandsItKnows) {
  EXPECT_EQ(parse("PING").kind, CommandKind::ping);
  EXPECT_EQ(parse("LIGHT RED").colour, LightColour::red);
  EXPECT_EQ(parse("LIGHT GREEN").kind, CommandKind::light);
  EXPECT_EQ(parse("BEEP 120").millis, 120);
}

TEST(FirmwareCommand, RejectsEverythingElse) {
  for (const char* bad : {"", "PING x", "LIGHT", "LIGHT PINK", "BEEP", "BEEP 0", "BEEP 5001",
                          "BEEP 12a", "BEEP 99999", "ping", "LIGHTRED"}) {
    EXPECT_EQ(parse(bad).kind, CommandKind::invalid) << bad;
  }
}

// The ~HS answer parser (ZPL II Programming Guide, "~HS Host Status Return"), byte by byte.
#include "printer/zpl_tcp/host_status.hpp"

#include <gtest/gtest.h>

namespace zpl = packbench::drivers::zpl;
namespace pd = packbench::drivers;

namespace {

std::string line(const std::string& fields) {
  return "\x02" + fields + "\x03\r\n";
}

// As a ZT410 in tear-off mode answers when all is well.
const std::string kReady = line("030,0,0,1218,000,0,0,0,000,0,0,0") +
                           line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0");

zpl::HostStatus parse_ok(const std::string& bytes) {
  auto r = zpl::parse_host_status(bytes);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  EXPECT_TRUE(r && r->has_value());
  return r && *r ? **r : zpl::HostStatus{};
}

std::string parse_error(const std::string& bytes) {
  auto r = zpl::parse_host_status(bytes);
  EXPECT_FALSE(r) << "parsed: " << bytes;
  return r ? "" : r.error().message;
}

}  // namespace

TEST(HostStatus, ReadsEveryFieldOfARealAnswer) {
  const auto s = parse_ok(kReady);
  EXPECT_FALSE(s.paper_out);
  EXPECT_FALSE(s.paused);
  EXPECT_EQ(s.label_length_dots, 1218);
  EXPECT_EQ(s.formats_in_buffer, 0);
  EXPECT_FALSE(s.head_up);
  EXPECT_FALSE(s.ribbon_out);
  EXPECT_TRUE(s.thermal_transfer);
  EXPECT_EQ(s.print_mode, 2);
  EXPECT_EQ(s.labels_remaining, 0);
  const auto d = zpl::describe(s);
  EXPECT_EQ(d.state, pd::DeviceState::ready);
  EXPECT_EQ(d.detail, "ready");
  EXPECT_TRUE(d.conditions.empty());
}

TEST(HostStatus, FlagsBecomeAFaultInWords) {
  const auto s = parse_ok(line("030,1,1,1218,003,0,0,0,000,0,0,0") +
                          line("001,0,1,1,1,2,6,0,00000012,1,000") + line("1234,0"));
  EXPECT_TRUE(s.paper_out);
  EXPECT_TRUE(s.paused);
  EXPECT_TRUE(s.head_up);
  EXPECT_TRUE(s.ribbon_out);
  EXPECT_EQ(s.formats_in_buffer, 3);
  EXPECT_EQ(s.labels_remaining, 12);
  const auto d = zpl::describe(s);
  EXPECT_EQ(d.state, pd::DeviceState::fault);
  EXPECT_EQ(d.detail, "paper out, ribbon out, head open, paused");
  EXPECT_EQ(d.conditions,
            (std::vector<std::string>{"paper_out", "ribbon_out", "head_open", "paused"}));
}

TEST(HostStatus, OverTemperatureIsAFaultAndAFullBufferIsBusy) {
  auto hot = parse_ok(line("030,0,0,1218,000,0,0,0,000,0,0,1") +
                      line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0"));
  EXPECT_EQ(zpl::describe(hot).detail, "head too hot");
  auto full = parse_ok(line("030,0,0,1218,999,1,0,0,000,0,0,0") +
                       line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0"));
  const auto d = zpl::describe(full);
  EXPECT_EQ(d.state, pd::DeviceState::busy);
  EXPECT_EQ(d.conditions, std::vector<std::string>{"buffer_full"});
  auto cold = parse_ok(line("030,0,0,1218,000,0,0,0,000,1,1,0") +
                       line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0"));
  const auto c = zpl::describe(cold);
  EXPECT_EQ(c.state, pd::DeviceState::ready);  // warnings, not reasons to hold a label
  EXPECT_NE(c.detail.find("lost its configuration"), std::string::npos);
  EXPECT_NE(c.detail.find("below its temperature range"), std::string::npos);
}

TEST(HostStatus, EveryPrefixOfAnAnswerIsIncompleteNotAnError) {
  for (std::size_t n = 0; n < kReady.size(); ++n) {
    auto r = zpl::parse_host_status(std::string_view(kReady).substr(0, n));
    ASSERT_TRUE(r) << n << ": " << r.error().message;
    // Complete once the third ETX is in; the CR LF after it are not needed.
    EXPECT_EQ(r->has_value(), n >= kReady.size() - 2) << n;
  }
}

TEST(HostStatus, LineEndsAroundAndExtraFieldsAreTolerated) {
  parse_ok("\r\n" + kReady + "\r\n");
  parse_ok(line("030,0,0,1218,000,0,0,0,000,0,0,0,9") +
           line("001,0,0,0,1,2,6,0,00000000,1,000,7,7") + line("1234,0,1"));
}

TEST(HostStatus, GarbageIsAnErrorThatSaysWhat) {
  EXPECT_EQ(parse_error("OK\r\n"), "expected STX to start string 1, got 'O'");
  EXPECT_EQ(parse_error(line("030,0,0") + line("x")), "string 1 has 3 fields, not 12");
  EXPECT_EQ(parse_error(std::string("\x02") + "030\x01"), "string 1 holds the byte 0x01");
  EXPECT_EQ(parse_error(line("030,2,0,1218,000,0,0,0,000,0,0,0") +
                        line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0")),
            "string 1 field 2 (paper out flag) is '2', not 0 or 1");
  EXPECT_EQ(parse_error(line("030,0,0,12x8,000,0,0,0,000,0,0,0") +
                        line("001,0,0,0,1,2,6,0,00000000,1,000") + line("1234,0")),
            "string 1 field 4 (label length) is '12x8', not a number");
  EXPECT_EQ(parse_error(line("030,0,0,1218,000,0,0,0,000,0,0,0") +
                        line("001,0,,0,1,2,6,0,00000000,1,000") + line("1234,0")),
            "string 2 field 3 (head up flag) is '', not 0 or 1");
  EXPECT_EQ(parse_error(line("030,0,0,1218,000,0,0,0,000,0,0,0") + "junk"),
            "expected STX to start string 2, got 'j'");
  EXPECT_NE(parse_error("\x02" + std::string(200, '0')).find("longer than"), std::string::npos);
}

#include "packbench/labels/zpl.hpp"

#include <gtest/gtest.h>

#include "packbench/labels/shipping_label.hpp"

namespace pl = packbench::labels;

namespace {

std::vector<std::string> names(const std::vector<pl::ZplCommand>& cmds) {
  std::vector<std::string> out;
  for (const auto& c : cmds) {
    out.push_back(c.name);
  }
  return out;
}

int count(const std::vector<pl::ZplCommand>& cmds, const std::string& name) {
  int n = 0;
  for (const auto& c : cmds) {
    n += c.name == name;
  }
  return n;
}

}  // namespace

TEST(ZplEscape, CommandPrefixesAndControlBytesBecomeHex) {
  EXPECT_EQ(pl::zpl_escape_field("a^XAb~JAc_d\\e"), "a_5EXAb_7EJAc_5Fd_5Ce");
  EXPECT_EQ(pl::zpl_escape_field(std::string("x\ny\r\x01\x7f", 6)), "x_0Ay_0D_01_7F");
  EXPECT_EQ(pl::zpl_escape_field("山田 花子"), "山田 花子");
}

TEST(ZplEscape, RoundTripsThroughUnescape) {
  const std::string nasty = "^XA^FDevil^FS~JA_\\&\x02 山田";
  EXPECT_EQ(pl::zpl_unescape_field(pl::zpl_escape_field(nasty)), nasty);
}

TEST(ZplEscape, CapsLengthWithoutSplittingACharacter) {
  const std::string ten_kb(10 * 1024, 'A');
  EXPECT_EQ(pl::zpl_escape_field(ten_kb, 256).size(), 256u);
  // "山" is three bytes: a cap of 4 keeps one character, not one and a third.
  EXPECT_EQ(pl::zpl_escape_field("山田", 4), "山");
  // Invalid UTF-8 prints as '?', never as a raw byte.
  EXPECT_EQ(pl::zpl_escape_field("a\xff"
                                 "b"),
            "a?b");
}

TEST(ZplCode128, GreaterThanIsWrittenAsItsInvocation) {
  EXPECT_EQ(pl::zpl_code128_field("A>B"), "A><B");
  EXPECT_EQ(pl::zpl_code128_field("A^B"), "A_5EB");
  EXPECT_EQ(pl::zpl_code128_field("山"), "");
}

TEST(ZplTokenize, SplitsCommandsAndData) {
  const auto cmds = pl::zpl_tokenize("^XA^FO10,20^A0N,30,30^FDhi^FS~JA^XZ");
  const std::vector<pl::ZplCommand> expected{{"^XA", ""},   {"^FO", "10,20"}, {"^A0", "N,30,30"},
                                             {"^FD", "hi"}, {"^FS", ""},      {"~JA", ""},
                                             {"^XZ", ""}};
  EXPECT_EQ(cmds, expected);
}

TEST(ShippingLabel, OneFormatWithFullStateOrderIdTextAndCode128) {
  pl::ShippingLabel label{"DEMO-1001", "pack-01", "tokyo-dc1", 1, 3, "2026-11-22T08:00:00.000Z"};
  const std::string zpl = pl::render_shipping_label_zpl(label);
  const auto cmds = pl::zpl_tokenize(zpl);
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds.front().name, "^XA");
  EXPECT_EQ(cmds.back().name, "^XZ");
  EXPECT_EQ(count(cmds, "^XA"), 1);
  EXPECT_EQ(count(cmds, "^XZ"), 1);
  for (const char* state : {"^PW", "^LL", "^LH", "^CI"}) {
    EXPECT_EQ(count(cmds, state), 1) << state;
  }
  EXPECT_NE(zpl.find("^PW812^LL1218^LH0,0"), std::string::npos);
  EXPECT_NE(zpl.find("^CI28"), std::string::npos);
  // The Code 128 symbol carries the order id.
  bool barcode = false;
  for (std::size_t i = 0; i + 2 < cmds.size(); ++i) {
    if (cmds[i].name == "^BC" && cmds[i + 1].name == "^FH" && cmds[i + 2].name == "^FD") {
      EXPECT_EQ(cmds[i + 2].params, "DEMO-1001");
      barcode = true;
    }
  }
  EXPECT_TRUE(barcode);
}

TEST(ShippingLabel, HostileOrderIdCannotInjectCommands) {
  pl::ShippingLabel label{"X^XZ~JA^XA>:", "pack-01", "site", 1, 1, "now"};
  const std::string zpl = pl::render_shipping_label_zpl(label);
  const auto cmds = pl::zpl_tokenize(zpl);
  EXPECT_EQ(count(cmds, "^XA"), 1);
  EXPECT_EQ(count(cmds, "^XZ"), 1);
  EXPECT_EQ(count(cmds, "~JA"), 0);
  // Every ^FD that follows ^FH decodes back to text that contains the id verbatim.
  int with_id = 0;
  for (std::size_t i = 0; i + 1 < cmds.size(); ++i) {
    if (cmds[i].name == "^FH" && cmds[i + 1].name == "^FD") {
      const auto text = pl::zpl_unescape_field(cmds[i + 1].params);
      with_id += text == "X^XZ~JA^XA>:" || text == "X^XZ~JA^XA><:";
    }
  }
  EXPECT_EQ(with_id, 2);  // the text line and the barcode
  const auto n = names(cmds);
  EXPECT_EQ(n.front(), "^XA");
}

TEST(ShippingLabel, ScalesToThePrinterResolution) {
  pl::ShippingLabel label{"A1", "s", "x", 1, 1, "t"};
  const std::string zpl300 = pl::render_shipping_label_zpl(label, {300, 4.0, 6.0});
  EXPECT_NE(zpl300.find("^PW1200^LL1800"), std::string::npos);
}

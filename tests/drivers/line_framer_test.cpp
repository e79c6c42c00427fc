// The shared framer and flood gate, as pure functions of bytes and time.
#include "scanner/line_framer.hpp"

#include <gtest/gtest.h>

namespace pd = packbench::drivers;
using namespace std::chrono_literals;

namespace {

const pd::SteadyTime t0 = std::chrono::steady_clock::now();

struct Framer {
  explicit Framer(pd::FramerOptions o = {}) : framer(std::move(o)) {}
  std::vector<pd::Scan> feed(std::string_view bytes, pd::SteadyTime at = t0) {
    std::vector<pd::Scan> out;
    framer.feed(bytes, at, out);
    return out;
  }
  pd::LineFramer framer;
};

pd::FramerOptions with(pd::Terminator t) {
  pd::FramerOptions o;
  o.terminator = t;
  return o;
}

std::vector<std::string> data_of(const std::vector<pd::Scan>& scans) {
  std::vector<std::string> out;
  for (const auto& s : scans) {
    out.push_back(s.rejected.empty() ? s.data : "REJECTED:" + s.data);
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

// --- terminators -------------------------------------------------------------------------------

TEST(LineFramer, AutoTakesCrLfAndCrLfAlike) {
  Framer f;
  EXPECT_EQ(data_of(f.feed("A\rB\nC\r\nD")), (Lines{"A", "B", "C"}));
  std::vector<pd::Scan> out;
  f.framer.finish(out);
  EXPECT_EQ(data_of(out), (Lines{"D"}));
}

TEST(LineFramer, CrIsStrict) {
  Framer f(with(pd::Terminator::cr));
  const auto out = f.feed("A\rB\n\r");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "A");
  EXPECT_NE(out[1].rejected.find("non-printable character <LF>"), std::string::npos)
      << out[1].rejected;
  EXPECT_EQ(out[1].data, "B<LF>");
}

TEST(LineFramer, LfIsStrict) {
  Framer f(with(pd::Terminator::lf));
  const auto out = f.feed("A\nB\r\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "A");
  EXPECT_NE(out[1].rejected.find("<CR>"), std::string::npos) << out[1].rejected;
}

TEST(LineFramer, CrLfNeedsBothEvenAcrossReads) {
  Framer f(with(pd::Terminator::crlf));
  EXPECT_EQ(data_of(f.feed("A\r\nX\r")), (Lines{"A"}));
  EXPECT_EQ(data_of(f.feed("\nB\rC\r\n")), (Lines{"X", "REJECTED:B<CR>C"}));
}

TEST(LineFramer, TabEndsAndCrIsGarbageThen) {
  Framer f(with(pd::Terminator::tab));
  EXPECT_EQ(data_of(f.feed("A\tB\tC\r\t")), (Lines{"A", "B", "REJECTED:C<CR>"}));
}

TEST(LineFramer, ALineSplitAcrossFeedsIsOneScan) {
  Framer f;
  EXPECT_TRUE(f.feed("49012").empty());
  EXPECT_TRUE(f.feed("3456").empty());
  EXPECT_EQ(data_of(f.feed("7894\r\n")), (Lines{"4901234567894"}));
}

TEST(LineFramer, EmptyLinesAreNotScans) {
  Framer f;
  EXPECT_TRUE(f.feed("\r\n\r\n\n\r").empty());
}

// --- prefix, suffix, identifiers ---------------------------------------------------------------

TEST(LineFramer, PrefixAndSuffixAreStrippedAndRequired) {
  pd::FramerOptions o;
  o.prefix = "\x02";
  o.suffix = "\x03";
  Framer f(o);
  const auto out = f.feed(
      "\x02"
      "ABC\x03\r"
      "ABC\x03\r"
      "\x02"
      "ABC\r");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].data, "ABC");
  EXPECT_TRUE(out[0].rejected.empty());
  EXPECT_NE(out[1].rejected.find("prefix '<STX>'"), std::string::npos) << out[1].rejected;
  EXPECT_NE(out[2].rejected.find("suffix '<ETX>'"), std::string::npos) << out[2].rejected;
}

TEST(LineFramer, SymbologyIdentifiersAreRecognisedAndStripped) {
  struct Case {
    const char* line;
    const char* symbology;
    const char* data;
  };
  const Case cases[] = {
      {"]C1010952345678901\x1D"
       "10ABC",
       "]C1",
       "010952345678901\x1D"
       "10ABC"},
      {"]E04901234567894", "]E0", "4901234567894"},
      {"]e0010952345678901", "]e0", "010952345678901"},
      {"]d2010952345678901\x1D"
       "21XYZ",
       "]d2",
       "010952345678901\x1D"
       "21XYZ"},
      {"]Q3https://example.com/01/09523456789013", "]Q3", "https://example.com/01/09523456789013"},
      {"]XaPAYLOAD", "]Xa", "PAYLOAD"},  // any letter, modifier a letter
      {"]1A23", "", "]1A23"},            // a digit is no symbology letter
      {"AB]C1CD", "", "AB]C1CD"},        // only at the start
      {"]C", "", "]C"},                  // too short to be one
  };
  for (const auto& c : cases) {
    Framer f;
    const auto out = f.feed(std::string(c.line) + "\r");
    ASSERT_EQ(out.size(), 1u) << c.line;
    EXPECT_TRUE(out[0].rejected.empty()) << c.line << ": " << out[0].rejected;
    EXPECT_EQ(out[0].symbology, c.symbology) << c.line;
    EXPECT_EQ(out[0].data, c.data) << c.line;
  }
}

TEST(LineFramer, IdentifierComesAfterThePrefix) {
  pd::FramerOptions o;
  o.prefix = "S:";
  Framer f(o);
  const auto out = f.feed("S:]C1ABC\r");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].symbology, "]C1");
  EXPECT_EQ(out[0].data, "ABC");
}

TEST(LineFramer, AnIdentifierAloneIsNoScan) {
  Framer f;
  const auto out = f.feed("]C1\r");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].rejected.find("no data"), std::string::npos) << out[0].rejected;
  EXPECT_EQ(out[0].data, "]C1");
}

// --- garbage -----------------------------------------------------------------------------------

TEST(LineFramer, NonPrintableBytesOtherThanGsAreRejectedWithAPreview) {
  Framer f;
  const auto out = f.feed(
      "AB\x07"
      "C\r"
      "D\x7F\r"
      "OK\x1D"
      "GS\r"
      "\x1B[2J\r");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].rejected, "non-printable character <0x07> at position 3");
  EXPECT_EQ(out[0].data, "AB<0x07>C");
  EXPECT_NE(out[1].rejected.find("<0x7F>"), std::string::npos) << out[1].rejected;
  EXPECT_TRUE(out[2].rejected.empty()) << out[2].rejected;
  EXPECT_EQ(out[2].data, "OK\x1DGS");
  EXPECT_NE(out[3].rejected.find("<ESC>"), std::string::npos);
  EXPECT_EQ(out[3].data, "<ESC>[2J");
}

TEST(LineFramer, C1ControlsAreNonPrintableToo) {
  Framer f;
  const auto out = f.feed(
      "A\xC2\x85"
      "B\r");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].rejected.find("<U+0085>"), std::string::npos) << out[0].rejected;
}

TEST(LineFramer, InvalidUtf8IsRejectedAndValidUtf8Kept) {
  Framer f;
  const auto out = f.feed(
      "AB\xFF\r"                         // never valid
      "\xC0\xAF\r"                       // overlong '/'
      "\xED\xA0\x80\r"                   // a surrogate
      "\xE5\x95\r"                       // cut short
      "\xE5\x95\x86\xE5\x93\x81-42\r");  // 商品-42
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].rejected, "not valid UTF-8 (byte 0xFF at position 3)");
  EXPECT_EQ(out[0].data, "AB<0xFF>");
  for (int i = 1; i < 4; ++i) {
    EXPECT_NE(out[i].rejected.find("not valid UTF-8"), std::string::npos) << i;
  }
  EXPECT_TRUE(out[4].rejected.empty()) << out[4].rejected;
  EXPECT_EQ(out[4].data, "\xE5\x95\x86\xE5\x93\x81-42");
}

TEST(LineFramer, AnOverlongLineIsReportedAtOnceAndTheRestDropped) {
  pd::FramerOptions o;
  o.max_line_bytes = 16;
  Framer f(o);
  // Reported before any terminator arrives: a line that never ends must not stall.
  const auto first = f.feed(std::string(20, 'Z'));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].rejected, "longer than 16 bytes; the rest of the line is dropped");
  EXPECT_EQ(first[0].data, std::string(16, 'Z'));
  EXPECT_TRUE(f.feed(std::string(5000, 'Z')).empty());
  EXPECT_EQ(data_of(f.feed("\rOK\r")), (Lines{"OK"}));
  // Exactly at the limit is fine.
  EXPECT_EQ(data_of(f.feed(std::string(16, 'Y') + "\r")), (Lines{std::string(16, 'Y')}));
}

TEST(LineFramer, AnUnterminatedLineTimesOutInsteadOfGluingToTheNext) {
  pd::FramerOptions o;
  o.line_timeout = 2000ms;
  Framer f(o);
  EXPECT_TRUE(f.feed("ABC", t0).empty());
  ASSERT_TRUE(f.framer.deadline());
  EXPECT_EQ(*f.framer.deadline(), t0 + 2000ms);
  std::vector<pd::Scan> out;
  f.framer.expire(t0 + 1999ms, out);
  EXPECT_TRUE(out.empty());
  f.framer.expire(t0 + 2000ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rejected, "no CR or LF within 2000 ms of the last byte");
  EXPECT_EQ(out[0].data, "ABC");
  EXPECT_FALSE(f.framer.deadline());
  EXPECT_EQ(data_of(f.feed("DEF\r", t0 + 3s)), (Lines{"DEF"}));
}

TEST(LineFramer, EachByteMovesTheDeadline) {
  Framer f;
  f.feed("A", t0);
  f.feed("B", t0 + 1500ms);
  EXPECT_EQ(*f.framer.deadline(), t0 + 3500ms);
}

TEST(LineFramer, AnOverlongLineThatNeverEndsIsForgottenQuietly) {
  pd::FramerOptions o;
  o.max_line_bytes = 16;
  Framer f(o);
  EXPECT_EQ(f.feed(std::string(40, 'Z'), t0).size(), 1u);
  std::vector<pd::Scan> out;
  f.framer.expire(t0 + 5s, out);
  EXPECT_TRUE(out.empty());  // reported once already
  EXPECT_EQ(data_of(f.feed("OK\r", t0 + 6s)), (Lines{"OK"}));
}

TEST(LineFramer, FinishDeliversAndAbortRejectsTheLineInProgress) {
  Framer a;
  a.feed("LAST");
  std::vector<pd::Scan> out;
  a.framer.finish(out);
  EXPECT_EQ(data_of(out), (Lines{"LAST"}));

  Framer b;
  b.feed("HALF");
  out.clear();
  b.framer.abort("cut off", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rejected, "cut off");
  EXPECT_EQ(out[0].data, "HALF");
  out.clear();
  b.framer.abort("nothing in progress", out);
  EXPECT_TRUE(out.empty());
}

TEST(LineFramer, APoisonedLineIsRejectedAndTheNextIsNot) {
  Framer f;
  f.feed("AB");
  f.framer.poison("a key that types nothing", t0);
  f.framer.poison("a second reason", t0);
  const auto out = f.feed("C\rDEF\r");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].rejected, "a key that types nothing");
  EXPECT_EQ(out[0].data, "ABC");
  EXPECT_TRUE(out[1].rejected.empty());
}

TEST(LineFramer, PreviewIsPrintableAndShort) {
  EXPECT_EQ(pd::printable_preview("A\tB\r\n\x1D\x01"), "A<TAB>B<CR><LF><GS><0x01>");
  const auto p = pd::printable_preview(std::string(500, 'x'), 80);
  EXPECT_EQ(p, std::string(80, 'x') + "...");
  EXPECT_FALSE(pd::invalid_utf8_at("\xE3\x81\x82"));
  EXPECT_EQ(pd::invalid_utf8_at("ok\xF5"), 2u);
}

// --- flood -------------------------------------------------------------------------------------

namespace {

pd::Scan line(std::string data) {
  pd::Scan s;
  s.data = std::move(data);
  return s;
}

}  // namespace

TEST(FloodGate, OverTheLimitOneReportAtOnceThenOneASecond) {
  pd::FloodGate gate(50);
  int passed = 0;
  int reports = 0;
  for (int i = 0; i < 60; ++i) {
    auto out = gate.admit(line("CODE-" + std::to_string(i)), t0 + std::chrono::milliseconds(i));
    if (out && out->rejected.empty()) {
      ++passed;
    } else if (out) {
      ++reports;
      EXPECT_EQ(out->rejected,
                "flood: more than 50 scans within one second; lines are dropped until it stops");
      EXPECT_EQ(out->data, "CODE-50");
    }
  }
  EXPECT_EQ(passed, 50);
  EXPECT_EQ(reports, 1);
  ASSERT_TRUE(gate.deadline());
  EXPECT_EQ(*gate.deadline(), t0 + 50ms + 1s);
  EXPECT_FALSE(gate.poll(t0 + 500ms));
  const auto later = gate.poll(t0 + 1050ms);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->rejected, "flood continues: 9 more lines dropped (limit 50 scans a second)");
  EXPECT_EQ(later->data, "CODE-59");
  // A quiet second ends the flood; the next line passes.
  EXPECT_FALSE(gate.poll(t0 + 2100ms));
  EXPECT_FALSE(gate.deadline());
  const auto after = gate.admit(line("NEXT"), t0 + 3s);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->data, "NEXT");
}

TEST(FloodGate, ASustainedFloodStaysSuppressedAndReportsAboutOnceASecond) {
  pd::FloodGate gate(50);
  int passed = 0;
  int reports = 0;
  // 100 lines a second for three seconds, polled as a timer would.
  for (int i = 0; i < 300; ++i) {
    const auto now = t0 + std::chrono::milliseconds(10 * i);
    if (auto r = gate.poll(now)) {
      ++reports;
    }
    if (auto out = gate.admit(line("X"), now)) {
      (out->rejected.empty() ? passed : reports)++;
    }
  }
  EXPECT_EQ(passed, 50);
  EXPECT_GE(reports, 3);
  EXPECT_LE(reports, 4);
}

TEST(FloodGate, AtTheLimitEverythingPasses) {
  pd::FloodGate gate(50);
  int passed = 0;
  for (int i = 0; i < 150; ++i) {
    const auto now = t0 + std::chrono::milliseconds(20 * i);  // exactly 50 a second
    auto out = gate.admit(line("X"), now);
    passed += (out && out->rejected.empty()) ? 1 : 0;
  }
  EXPECT_EQ(passed, 150);
}

TEST(FloodGate, RejectedLinesCountTowardsTheFlood) {
  pd::FloodGate gate(5);
  pd::Scan garbage;
  garbage.rejected = "non-printable";
  garbage.data = "<0x00>";
  for (int i = 0; i < 5; ++i) {
    auto out = gate.admit(garbage, t0);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->rejected, "non-printable");
  }
  auto out = gate.admit(garbage, t0);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->rejected.rfind("flood:", 0), 0u) << out->rejected;
}

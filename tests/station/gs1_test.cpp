#include "station/gs1/gs1.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

namespace gs1 = packbench::station::gs1;
namespace json = boost::json;
using Kind = gs1::Reading::Kind;

namespace {

// Test data is written with "<GS>" where the scanner sends ASCII 29, so the tables stay readable.
std::string gs(std::string text) {
  for (std::size_t at = text.find("<GS>"); at != std::string::npos; at = text.find("<GS>", at)) {
    text.replace(at, 4, "\x1d");
  }
  return text;
}

std::string all_problems(const gs1::Reading& r) {
  std::string out;
  for (const auto& p : r.problems) {
    out += p + "\n";
  }
  return out;
}

bool has_problem(const gs1::Reading& r, const std::string& text) {
  for (const auto& p : r.problems) {
    if (p.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

struct Ai {
  std::string ai;
  std::string value;
};

std::vector<Ai> elements_of(const gs1::Reading& r) {
  std::vector<Ai> out;
  for (const auto& e : r.elements) {
    out.push_back({e.ai, e.value});
  }
  return out;
}

bool operator==(const Ai& a, const Ai& b) {
  return a.ai == b.ai && a.value == b.value;
}
void PrintTo(const Ai& a, std::ostream* os) {
  *os << "(" << a.ai << ")" << a.value;
}

}  // namespace

// --- check digits and GTINs ------------------------------------------------------------------

TEST(Gs1CheckDigit, KnownAnswers) {
  const struct {
    const char* digits;
    bool valid;
  } cases[] = {
      {"09506000134352", true},       // GTIN-14, the GS1 example
      {"09506000134353", false},      //
      {"4006381333931", true},        // EAN-13
      {"4006381333932", false},       //
      {"036000291452", true},         // UPC-A
      {"036000291453", false},        //
      {"96385074", true},             // EAN-8
      {"96385075", false},            //
      {"376123450000012347", true},   // SSCC
      {"376123450000012348", false},  //
      {"9506000164908", true},        // GLN
      {"9506000164907", false},       //
      {"15012345678907", true},       // ITF-14
      {"00", true},                   // the shortest: one digit and its check digit
      {"", false},                    //
      {"7", false},                   //
      {"4006381333 931", false},      //
      {"400638133393A", false},       //
  };
  for (const auto& c : cases) {
    EXPECT_EQ(gs1::valid_check_digit(c.digits), c.valid) << c.digits;
  }
}

TEST(Gs1Gtin14, PadsEightTwelveThirteenAndFourteenDigitsAndRefusesTheRest) {
  const struct {
    const char* digits;
    const char* gtin14;  // "" for nullopt
  } cases[] = {
      {"96385074", "00000096385074"},
      {"036000291452", "00036000291452"},
      {"0036000291452", "00036000291452"},
      {"00036000291452", "00036000291452"},
      {"4006381333931", "04006381333931"},
      {"4006381333932", ""},
      {"40063813339", ""},
      {"123456789012345", ""},
      {"0950600013435a", ""},
      {"", ""},
  };
  for (const auto& c : cases) {
    const auto g = gs1::gtin14(c.digits);
    EXPECT_EQ(g.value_or(""), c.gtin14) << c.digits;
  }
}

TEST(Gs1Read, UpcAAndEan13AndGtin14OfOneProductReadTheSame) {
  const std::string want = "00036000291452";
  const struct {
    const char* data;
    const char* symbology;
  } scans[] = {
      {"036000291452", ""},       {"0036000291452", ""},
      {"00036000291452", ""},     {"036000291452", "]E0"},
      {"]E00036000291452", ""},   {"0100036000291452", "]C1"},
      {"(01)00036000291452", ""}, {"https://id.gs1.org/01/036000291452", ""},
  };
  for (const auto& s : scans) {
    const auto r = gs1::read(s.data, s.symbology);
    EXPECT_TRUE(r.ok()) << s.data << "\n" << all_problems(r);
    EXPECT_EQ(r.gtin14.value_or("none"), want) << s.data;
  }
}

TEST(Gs1Read, PlainScansAndWhatTheyAre) {
  const struct {
    const char* data;
    const char* symbology;
    Kind kind;
    const char* gtin14;   // "" for none
    const char* problem;  // "" for a clean reading
  } cases[] = {
      {"4006381333931", "", Kind::gtin, "04006381333931", ""},
      {"4006381333932", "", Kind::gtin, "", "wrong check digit: 4006381333932 should end in 1"},
      {"4006381333931", "]E0", Kind::gtin, "04006381333931", ""},
      {"96385074", "]E4", Kind::gtin, "00000096385074", ""},
      // UPC-E under ]E0: its check digit is the one of the UPC-A it stands for.
      {"04252614", "]E0", Kind::gtin, "00042100005264", ""},
      {"400638133393112", "]E3", Kind::gtin, "04006381333931", ""},  // with a 2-digit add-on
      {"15012345678907", "]I1", Kind::gtin, "15012345678907", ""},
      {"4006381333A31", "]E0", Kind::gtin, "", "not a GTIN: 'A' where only digits belong"},
      {"40063813339", "]E0", Kind::gtin, "", "not a GTIN: 11 digits"},
      // A GTIN in a plain Code 128 is still a GTIN; anything else there is not GS1.
      {"4006381333931", "]C0", Kind::gtin, "04006381333931", ""},
      {"C-1001", "]C0", Kind::other, "", "not GS1 data"},
      {"C-1001", "", Kind::other, "", "not GS1 data"},
      // Without a symbology identifier, element strings are taken only when they start like
      // GS1 data: with a fixed-length AI.
      {"10ABC", "", Kind::other, "", "not GS1 data"},
      {"10ABC", "]C1", Kind::element_string, "", ""},
      {"0109506000134352", "", Kind::element_string, "09506000134352", ""},
      {"17261234", "", Kind::gtin, "00000017261234", ""},  // a valid GTIN-8 wins
      {"17261231", "", Kind::element_string, "", ""},      // not a GTIN-8: an expiry date
      // Element strings could be found in it, but none that start with a fixed-length AI.
      {"400111111110", "", Kind::gtin, "", "wrong check digit: 400111111110 should end in 2"},
      {"", "", Kind::other, "", "nothing to read: the scan is empty"},
      {"]C1", "", Kind::other, "", "nothing to read after the symbology identifier"},
      {"\x1d", "", Kind::other, "", "nothing to read after the FNC1 (GS)"},
      {"0109506000134352", "C1", Kind::element_string, "09506000134352",
       "is not an AIM symbology identifier"},
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.data, c.symbology);
    EXPECT_EQ(r.kind, c.kind) << c.data << " " << c.symbology;
    EXPECT_EQ(r.gtin14.value_or(""), c.gtin14) << c.data;
    if (*c.problem) {
      EXPECT_TRUE(has_problem(r, c.problem)) << c.data << "\n" << all_problems(r);
    } else {
      EXPECT_TRUE(r.ok()) << c.data << "\n" << all_problems(r);
    }
  }
}

// --- the AI table ----------------------------------------------------------------------------

TEST(Gs1Read, EachListedAiReadsWithItsTitleAndMeaning) {
  const struct {
    const char* data;
    const char* ai;
    const char* title;
    const char* value;
    const char* meaning;
  } cases[] = {
      {"(00)376123450000012347", "00", "SSCC", "376123450000012347", ""},
      {"(01)09506000134352", "01", "GTIN", "09506000134352", ""},
      {"(02)09506000134352(37)12", "02", "CONTENT", "09506000134352", ""},
      {"(10)ABC-12/3", "10", "BATCH/LOT", "ABC-12/3", ""},
      {"(11)250101", "11", "PROD DATE", "250101", "2025-01-01"},
      {"(13)250100", "13", "PACK DATE", "250100", "2025-01 (no day)"},
      {"(15)261200", "15", "BEST BEFORE or BEST BY", "261200", "2026-12-31 (end of month)"},
      {"(17)280200", "17", "USE BY or EXPIRY", "280200", "2028-02-29 (end of month)"},
      {"(17)270228", "17", "USE BY or EXPIRY", "270228", "2027-02-28"},
      {"(21)SN0001", "21", "SERIAL", "SN0001", ""},
      {"(30)48", "30", "VAR. COUNT", "48", ""},
      {"(37)24", "37", "COUNT", "24", ""},
      {"(3100)000500", "3100", "NET WEIGHT (kg)", "000500", "500"},
      {"(3103)001500", "3103", "NET WEIGHT (kg)", "001500", "1.500"},
      {"(3115)012345", "3115", "LENGTH (m)", "012345", "0.12345"},
      {"(3122)000250", "3122", "WIDTH (m)", "000250", "2.50"},
      {"(3131)001005", "3131", "HEIGHT (m)", "001005", "100.5"},
      {"(3144)012500", "3144", "AREA (m²)", "012500", "1.2500"},
      {"(3150)000750", "3150", "NET VOLUME (l)", "000750", "750"},
      {"(3162)000150", "3162", "NET VOLUME (m³)", "000150", "1.50"},
      {"(3902)1250", "3902", "AMOUNT", "1250", "12.50"},
      {"(3905)7", "3905", "AMOUNT", "7", "0.00007"},
      {"(3912)9781250", "3912", "AMOUNT", "9781250", "12.50, currency 978"},
      {"(400)PO-4711", "400", "ORDER NUMBER", "PO-4711", ""},
      {"(410)9506000164908", "410", "SHIP TO LOC", "9506000164908", ""},
      {"(411)9506000164908", "411", "BILL TO", "9506000164908", ""},
      {"(412)9506000164908", "412", "PURCHASE FROM", "9506000164908", ""},
      {"(413)9506000164908", "413", "SHIP FOR LOC", "9506000164908", ""},
      {"(414)9506000164908", "414", "LOC No.", "9506000164908", ""},
      {"(415)9506000164908", "415", "PAY TO", "9506000164908", ""},
      {"(422)276", "422", "ORIGIN", "276", ""},
      {"(7003)2612311430", "7003", "EXPIRY TIME", "2612311430", "2026-12-31 14:30"},
      {"(8200)http://example.com/p?a=1", "8200", "PRODUCT URL", "http://example.com/p?a=1", ""},
      {"(91)internal-1", "91", "INTERNAL", "internal-1", ""},
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.data);
    EXPECT_TRUE(r.ok()) << c.data << "\n" << all_problems(r);
    EXPECT_EQ(r.kind, Kind::element_string) << c.data;
    ASSERT_FALSE(r.elements.empty()) << c.data;
    const auto& e = r.elements.front();
    EXPECT_EQ(e.ai, c.ai) << c.data;
    EXPECT_EQ(e.title, c.title) << c.data;
    EXPECT_EQ(e.value, c.value) << c.data;
    EXPECT_EQ(e.meaning, c.meaning) << c.data;
    EXPECT_EQ(gs1::ai_title(c.ai).value_or("?"), c.title);
  }
}

TEST(Gs1Read, BadValuesAreSaidInWords) {
  const struct {
    const char* data;
    const char* problem;
  } cases[] = {
      {"(01)09506000134353", "AI 01 (GTIN): wrong check digit: 09506000134353 should end in 2"},
      {"(02)09506000134353(37)1", "AI 02 (CONTENT): wrong check digit"},
      {"(00)376123450000012348", "AI 00 (SSCC): wrong check digit"},
      {"(414)9506000164907", "AI 414 (LOC No.): wrong check digit"},
      {"(410)9506000164907", "AI 410 (SHIP TO LOC): wrong check digit"},
      {"(01)0950600013435", "AI 01 (GTIN): needs 14 digits, got 13"},
      {"(01)0950600013435A", "AI 01 (GTIN): must be digits only, found 'A'"},
      {"(17)261331", "AI 17 (USE BY or EXPIRY): 261331 is not a date: there is no month 13"},
      {"(15)260230", "260230 is not a date: February 2026 has 28 days"},
      {"(17)270229", "February 2027 has 28 days"},
      {"(17)260431", "April 2026 has 30 days"},
      {"(11)251300", "there is no month 13"},
      {"(17)260000", "there is no month 00"},
      {"(7003)2612000030", "day 00 is not allowed here"},
      {"(7003)2612312430", "is not a time: there is no hour 24"},
      {"(10)ABC DEF", "AI 10 (BATCH/LOT): has a space, which GS1 does not allow"},
      {"(10)ABC#1", "has '#', which GS1 does not allow"},
      {"(10)ABCDEFGHIJKLMNOPQRSTU", "is 21 characters long, at most 20 allowed"},
      {"(10)", "AI 10 (BATCH/LOT): is empty"},
      {"(30)123456789", "AI 30 (VAR. COUNT): is 9 characters long, at most 8 allowed"},
      {"(30)12A", "must be digits only, found 'A'"},
      {"(3103)1500", "AI 3103 (NET WEIGHT (kg)): needs 6 digits, got 4"},
      {"(3106)000500", "unknown AI (3106)"},
      {"(01)09506000134352(234)X", "unknown AI (234)"},
      {"(10)ABC(10)DEF", "AI 10 appears twice with different values: \"ABC\" and \"DEF\""},
      {"(01", "not GS1 data"},
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.data);
    EXPECT_TRUE(has_problem(r, c.problem)) << c.data << "\n" << all_problems(r);
    EXPECT_FALSE(r.ok()) << c.data;
  }
}

TEST(Gs1Read, DatesAcceptRealDaysAndDayZeroOnlyWhereGs1AllowsIt) {
  EXPECT_TRUE(gs1::read("(17)280229").ok());         // 2028 is a leap year
  EXPECT_TRUE(gs1::read("(15)260200").ok());         // best before: the month
  EXPECT_TRUE(gs1::read("(17)261231").ok());         //
  EXPECT_FALSE(gs1::read("(17)261232").ok());        //
  EXPECT_FALSE(gs1::read("(7003)2612000000").ok());  // expiry time needs a day
  EXPECT_EQ(gs1::read("(17)260200").elements.at(0).meaning, "2026-02-28 (end of month)");
}

TEST(Gs1AiTable, NoAiIsAPrefixOfAnotherSoLengthsAreUnambiguous) {
  for (int i = 0; i < 10000; ++i) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "%04d", i);
    const std::string four = buf;
    int known = 0;
    for (std::size_t len = 2; len <= 4; ++len) {
      known += gs1::ai_title(four.substr(0, len)) ? 1 : 0;
    }
    EXPECT_LE(known, 1) << four;
  }
  EXPECT_FALSE(gs1::ai_title("9"));
  EXPECT_FALSE(gs1::ai_title("3106"));
  EXPECT_FALSE(gs1::ai_title("010"));
  EXPECT_EQ(gs1::ai_title("99").value_or(""), "INTERNAL");
}

// --- element strings with GS, with and without symbology identifiers ----------------------------

TEST(Gs1Read, GsSeparatedElementStringsWithAndWithoutSymbologyIdentifiers) {
  const std::vector<Ai> want = {
      {"01", "09506000134352"}, {"17", "261231"}, {"10", "ABC"}, {"21", "XYZ"}};
  const struct {
    std::string data;
    const char* symbology;
    const char* want_symbology;
  } cases[] = {
      {gs("0109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", ""},
      {gs("<GS>0109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", ""},  // FNC1 sent as GS
      {gs("]C10109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", "]C1"},
      {gs("]d20109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", "]d2"},
      {gs("]Q30109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", "]Q3"},
      {gs("]e00109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "", "]e0"},
      {gs("0109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "]d2", "]d2"},
      {gs("]d20109506000134352"
          "17261231"
          "10ABC<GS>21XYZ"),
       "]d2", "]d2"},
      {gs("]C10109506000134352"
          "17261231"
          "10ABC<GS>21XYZ<GS>"),
       "", "]C1"},  // trailing GS
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.data, c.symbology);
    EXPECT_TRUE(r.ok()) << c.data << "\n" << all_problems(r);
    EXPECT_EQ(r.kind, Kind::element_string);
    EXPECT_EQ(r.symbology, c.want_symbology);
    EXPECT_EQ(r.gtin14.value_or(""), "09506000134352");
    EXPECT_EQ(elements_of(r), want) << c.data;
    EXPECT_FALSE(r.recovered_gs);
    EXPECT_EQ(r.input, c.data);
  }
  ASSERT_NE(gs1::read(gs("0109506000134352<GS>10ABC")).find("10"), nullptr);
  EXPECT_EQ(gs1::read(gs("0109506000134352<GS>10ABC")).find("10")->title, "BATCH/LOT");
  EXPECT_EQ(gs1::read(gs("0109506000134352<GS>10ABC")).find("21"), nullptr);
}

TEST(Gs1Read, ASymbologyIdentifierInTheDataThatDisagreesWithTheScannerIsAProblem) {
  const auto r = gs1::read("]C10109506000134352", "]d2");
  EXPECT_EQ(r.symbology, "]d2");
  EXPECT_TRUE(has_problem(r, "starts with symbology identifier ]C1 but the scanner reported"))
      << all_problems(r);
}

TEST(Gs1Read, ParenthesesFormAsPrintedUnderTheBarcode) {
  const std::vector<Ai> want = {{"01", "09506000134352"}, {"17", "261231"}, {"10", "ABC"}};
  for (const char* data :
       {"(01)09506000134352(17)261231(10)ABC", "(01) 09506000134352 (17) 261231 (10) ABC"}) {
    const auto r = gs1::read(data);
    EXPECT_TRUE(r.ok()) << data << "\n" << all_problems(r);
    EXPECT_EQ(r.kind, Kind::element_string);
    EXPECT_EQ(elements_of(r), want) << data;
    EXPECT_EQ(r.gtin14.value_or(""), "09506000134352");
  }
  // A value may hold parentheses as long as they do not look like an AI.
  const auto r = gs1::read("(10)A(B)C(21)1");
  EXPECT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(elements_of(r), (std::vector<Ai>{{"10", "A(B)C"}, {"21", "1"}}));
}

// --- Digital Link -------------------------------------------------------------------------------

TEST(Gs1Read, DigitalLinkWithQualifiersAndQueryAttributes) {
  const auto r = gs1::read("https://id.gs1.org/01/09506000134352/10/ABC?17=261231");
  EXPECT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.kind, Kind::digital_link);
  EXPECT_EQ(r.gtin14.value_or(""), "09506000134352");
  EXPECT_EQ(elements_of(r),
            (std::vector<Ai>{{"01", "09506000134352"}, {"10", "ABC"}, {"17", "261231"}}));
  EXPECT_EQ(r.find("17")->meaning, "2026-12-31");
}

TEST(Gs1Read, DigitalLinkOnAnyHostWithAPathPrefixAndPercentEncoding) {
  const auto r = gs1::read(
      "HTTPS://Example.com/shop/01/09506000134352/22/V1/10/AB%2FC%25/21/S%2B1"
      "?17=261231&3103=001500&linkType=gs1:pip#top");
  EXPECT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.kind, Kind::digital_link);
  EXPECT_EQ(elements_of(r), (std::vector<Ai>{{"01", "09506000134352"},
                                             {"22", "V1"},
                                             {"10", "AB/C%"},
                                             {"21", "S+1"},
                                             {"17", "261231"},
                                             {"3103", "001500"}}));
  EXPECT_EQ(r.find("3103")->meaning, "1.500");
}

TEST(Gs1Read, DigitalLinkKnownAnswersAndProblems) {
  const struct {
    const char* uri;
    Kind kind;
    const char* gtin14;
    const char* problem;  // "" for clean
  } cases[] = {
      // A GTIN-13 as printed on the pack is read as the GTIN-14.
      {"https://id.gs1.org/01/4006381333931", Kind::digital_link, "04006381333931", ""},
      {"http://example.com/01/09506000134352/", Kind::digital_link, "09506000134352", ""},
      {"https://example.com/00/376123450000012347", Kind::digital_link, "", ""},
      {"https://example.com/414/9506000164908/254/A1", Kind::digital_link, "", ""},
      {"https://id.gs1.org/01/09506000134353", Kind::digital_link, "", "wrong check digit"},
      {"https://id.gs1.org/01/09506000134352/21/S1/10/ABC", Kind::digital_link, "09506000134352",
       "holds qualifiers it does not allow; allowed: 22/10/21, or 235"},
      {"https://id.gs1.org/01/09506000134352/17/261231", Kind::digital_link, "09506000134352",
       "data attributes go in the query"},
      {"https://id.gs1.org/01/09506000134352/10/AB%zz", Kind::digital_link, "09506000134352",
       "bad percent-encoding"},
      {"https://id.gs1.org/01/09506000134352/10/%FF", Kind::digital_link, "09506000134352",
       "which GS1 does not allow"},
      {"https://id.gs1.org/01/09506000134352?17=261331", Kind::digital_link, "09506000134352",
       "there is no month 13"},
      {"https://id.gs1.org/01/09506000134352?234=1", Kind::digital_link, "09506000134352",
       "unknown AI \"234\""},
      {"https://id.gs1.org/01/09506000134352?10=A&10=B", Kind::digital_link, "09506000134352",
       "AI 10 appears twice"},
      {"https://example.com/products/42", Kind::other, "", "not a GS1 Digital Link"},
      {"https://id.gs1.org/01/", Kind::other, "", "not a GS1 Digital Link"},
      {"https://", Kind::other, "", "not a GS1 Digital Link"},
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.uri);
    EXPECT_EQ(r.kind, c.kind) << c.uri;
    EXPECT_EQ(r.gtin14.value_or(""), c.gtin14) << c.uri;
    if (*c.problem) {
      EXPECT_TRUE(has_problem(r, c.problem)) << c.uri << "\n" << all_problems(r);
    } else {
      EXPECT_TRUE(r.ok()) << c.uri << "\n" << all_problems(r);
    }
  }
}

// --- scans that lost their GS --------------------------------------------------------------------

TEST(Gs1Read, LostGsIsRecoveredWhereTheAiLengthsLeaveOneReading) {
  const struct {
    const char* data;
    std::vector<Ai> want;
    bool recovered;
  } cases[] = {
      // Fixed lengths first, the one variable-length AI last: nothing was lost.
      {"0109506000134352"
       "17261231"
       "10ABC123",
       {{"01", "09506000134352"}, {"17", "261231"}, {"10", "ABC123"}},
       false},
      // 7003 and 422 have fixed lengths but GS1 wants a GS after them; their length tells.
      {"0109506000134352"
       "70032612311430"
       "10ABC",
       {{"01", "09506000134352"}, {"7003", "2612311430"}, {"10", "ABC"}},
       true},
      {"]C10109506000134352"
       "422276"
       "10ABC",
       {{"01", "09506000134352"}, {"422", "276"}, {"10", "ABC"}},
       true},
      // A count of 5 then an expiry date: no other split leaves a good date.
      {"0109506000134352"
       "305"
       "17261231",
       {{"01", "09506000134352"}, {"30", "5"}, {"17", "261231"}},
       true},
  };
  for (const auto& c : cases) {
    const auto r = gs1::read(c.data);
    EXPECT_TRUE(r.ok()) << c.data << "\n" << all_problems(r);
    EXPECT_EQ(r.kind, Kind::element_string) << c.data;
    EXPECT_EQ(elements_of(r), c.want) << c.data;
    EXPECT_EQ(r.recovered_gs, c.recovered) << c.data;
  }
}

TEST(Gs1Read, LostGsThatLeavesTwoReadingsIsAProblemNotAGuess) {
  const char* cases[] = {
      "0109506000134352"
      "17261231"
      "10ABC"
      "21XYZ",
      "]C10109506000134352"
      "10ABC"
      "21XYZ",
      "]d20109506000134352"
      "10ABC"
      "17261231",
  };
  for (const char* data : cases) {
    const auto r = gs1::read(data);
    EXPECT_FALSE(r.ok()) << data;
    EXPECT_FALSE(r.recovered_gs) << data;
    EXPECT_TRUE(has_problem(r, "GS separator missing after AI 10; cannot tell where it ends"))
        << data << "\n"
        << all_problems(r);
  }
  EXPECT_TRUE(has_problem(gs1::read(cases[0]), "\"ABC21XYZ\" or \"ABC\" then AI 21"))
      << all_problems(gs1::read(cases[0]));
}

TEST(Gs1Read, AScanThatCarriesGsIsTrustedToCarryAllOfThem) {
  // The same text as the ambiguous one above, but the scanner sends GS, so the batch runs to it.
  const auto r =
      gs1::read(gs("]C10109506000134352"
                   "10ABC21XYZ<GS>17261231"));
  EXPECT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.find("10")->value, "ABC21XYZ");
  // A value too long to end at the GS still splits where only one reading works.
  const auto s =
      gs1::read(gs("]C10109506000134352"
                   "30517261231<GS>21XYZ"));
  EXPECT_TRUE(s.ok()) << all_problems(s);
  EXPECT_TRUE(s.recovered_gs);
  EXPECT_EQ(
      elements_of(s),
      (std::vector<Ai>{{"01", "09506000134352"}, {"30", "5"}, {"17", "261231"}, {"21", "XYZ"}}));
}

TEST(Gs1Read, AWrongCheckDigitAfterALostGsIsReportedAsSuch) {
  const auto r = gs1::read(
      "0109506000134353"
      "10ABC");
  EXPECT_TRUE(has_problem(r, "AI 01 (GTIN): wrong check digit")) << all_problems(r);
  EXPECT_EQ(elements_of(r), (std::vector<Ai>{{"01", "09506000134353"}, {"10", "ABC"}}));
  EXPECT_FALSE(r.gtin14);
}

// --- garbage ----------------------------------------------------------------------------------

TEST(Gs1Read, GarbageIsReadWithoutCrashingAndSaysWhy) {
  const std::string cases[] = {
      std::string("\xff\xfe\x00\x01", 4),
      std::string(10000, 'A'),
      std::string(5000, '9'),
      std::string(300, '9'),
      "]]]",
      "((((",
      "(0",
      "%%%",
      "http://",
      gs("<GS><GS><GS>"),
      gs("]C1<GS>"),
      "01",
      "0",
      "]C1" + std::string(201, '1'),
      "https://id.gs1.org/01/09506000134352/10",
      "\xe2\x82",
      "]C1\xc3\x28",
  };
  for (const auto& data : cases) {
    const auto r = gs1::read(data);
    EXPECT_FALSE(r.ok()) << gs1::to_json(r);
    EXPECT_EQ(r.input, data);
    for (const auto& e : r.elements) {
      EXPECT_TRUE(gs1::ai_title(e.ai)) << e.ai;
    }
    // What stationctl prints is valid JSON (so valid UTF-8) whatever came in.
    const std::string text = json::serialize(gs1::to_json(r));
    boost::system::error_code ec;
    const json::value back = json::parse(text, ec);
    EXPECT_FALSE(ec) << text;
  }
}

TEST(Gs1ToJson, SaysEverythingAPersonNeedsAndShowsGsReadably) {
  const auto r =
      gs1::read(gs("]C10109506000134352"
                   "3103001500"
                   "10ABC<GS>21XYZ"));
  const json::object o = gs1::to_json(r);
  EXPECT_EQ(o.at("input").as_string(),
            "]C10109506000134352"
            "3103001500"
            "10ABC<GS>21XYZ");
  EXPECT_EQ(o.at("symbology").as_string(), "]C1");
  EXPECT_EQ(o.at("kind").as_string(), "element_string");
  EXPECT_EQ(o.at("gtin14").as_string(), "09506000134352");
  const auto& elements = o.at("elements").as_array();
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[1].as_object().at("ai").as_string(), "3103");
  EXPECT_EQ(elements[1].as_object().at("title").as_string(), "NET WEIGHT (kg)");
  EXPECT_EQ(elements[1].as_object().at("value").as_string(), "001500");
  EXPECT_EQ(elements[1].as_object().at("meaning").as_string(), "1.500");
  EXPECT_FALSE(elements[0].as_object().contains("meaning"));
  EXPECT_EQ(o.at("recovered_gs").as_bool(), false);
  EXPECT_TRUE(o.at("problems").as_array().empty());
  EXPECT_EQ(o.at("ok").as_bool(), true);

  const json::object bad = gs1::to_json(gs1::read("4006381333932"));
  EXPECT_TRUE(bad.at("gtin14").is_null());
  EXPECT_EQ(bad.at("kind").as_string(), "gtin");
  ASSERT_EQ(bad.at("problems").as_array().size(), 1u);
  EXPECT_EQ(bad.at("ok").as_bool(), false);
  EXPECT_EQ(gs1::to_json(gs1::read(std::string("\x01\xff", 2))).at("input").as_string(),
            "\\x01\\xff");
}

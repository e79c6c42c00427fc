#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "station/discount/signed_code.hpp"
#include "support.hpp"

namespace pd = packbench::station::discount;
namespace pt = packbench::testing;

namespace {

using std::chrono::days;
using std::chrono::month;
using std::chrono::year;

std::string hex(const std::array<unsigned char, 32>& mac, std::size_t bytes = 32) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::vector<unsigned char> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

pd::SigningKey key_of(std::string_view s) {
  return pd::SigningKey::from_bytes(s).value();
}

// The key of the known answers: bytes 0x00 to 0x1f.
pd::SigningKey test_key() {
  std::string k;
  for (int i = 0; i < 32; ++i) {
    k += static_cast<char>(i);
  }
  return key_of(k);
}

pd::Day date(int y, unsigned m, unsigned d) {
  return pd::Day(year(y) / month(m) / std::chrono::day(d));
}

const pd::Day kToday = date(2026, 1, 1);

// The codes the error-detection tests take apart: short and long prefixes, digits in the prefix,
// the smallest and the largest fields.
std::vector<pd::SignedCodeFields> sample_fields() {
  return {
      {"TEA", 7, 0, date(2026, 12, 31)},           {"TEA", 7, 1, date(2026, 12, 31)},
      {"SHOP", 4095, 16777215, date(2064, 11, 8)}, {"X", 0, 0, date(2027, 1, 1)},
      {"PB2026", 42, 123456, date(2027, 3, 15)},   {"Z9Z9Z9Z9", 1234, 987654, date(2030, 6, 30)},
  };
}

// The code without hyphens after the prefix: PREFIX-BBBBBBBBBBBBBBBBBBCC.
std::string flat(const std::string& code) {
  const auto dash = code.find('-');
  std::string out = code.substr(0, dash + 1);
  for (std::size_t i = dash + 1; i < code.size(); ++i) {
    if (code[i] != '-') {
      out += code[i];
    }
  }
  return out;
}

}  // namespace

// RFC 4231 section 4: HMAC-SHA256 test cases 1 to 7.
TEST(DiscountHmac, Rfc4231TestVectors) {
  EXPECT_EQ(hex(pd::hmac_sha256(std::vector<unsigned char>(20, 0x0b), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(pd::hmac_sha256(bytes("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(pd::hmac_sha256(std::vector<unsigned char>(20, 0xaa), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::vector<unsigned char> k4;
  for (unsigned char i = 1; i <= 25; ++i) {
    k4.push_back(i);
  }
  EXPECT_EQ(hex(pd::hmac_sha256(k4, std::string(50, '\xcd'))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 is truncated to 128 bits, as the codes truncate theirs.
  EXPECT_EQ(hex(pd::hmac_sha256(std::vector<unsigned char>(20, 0x0c), "Test With Truncation"), 16),
            "a3b6167473100ee06e0c796c2955552b");
  EXPECT_EQ(hex(pd::hmac_sha256(std::vector<unsigned char>(131, 0xaa),
                                "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hex(pd::hmac_sha256(
                std::vector<unsigned char>(131, 0xaa),
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// Known answers, computed independently by the Python verifier in docs/discounts.md.
TEST(DiscountSignedCode, KnownAnswers) {
  const auto key = test_key();
  const std::vector<std::pair<pd::SignedCodeFields, std::string>> known{
      {{"TEA", 7, 0, date(2026, 12, 31)}, "TEA-01R0-0002-FWVT-TXMF-PR38"},
      {{"TEA", 7, 1, date(2026, 12, 31)}, "TEA-01R0-000J-FWAY-Q26X-5J6S"},
      {{"SHOP", 4095, 16777215, date(2064, 11, 8)}, "SHOP-ZZZZ-ZZZZ-ZZK5-C0FR-YVWW"},
      {{"X", 0, 0, date(2020, 1, 1)}, "X-0000-0000-00MD-2B8W-HHGN"},
      {{"PB2026", 42, 123456, date(2027, 3, 15)}, "PB2026-0AG1-W902-J6YW-ZHBX-44WN"},
  };
  for (const auto& [fields, code] : known) {
    auto made = pd::make_signed_code(fields, key);
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_EQ(*made, code);
    const auto v = pd::verify_signed_code(code, key, date(2020, 1, 1));
    EXPECT_EQ(v.verdict, pd::CodeVerdict::valid) << code << ": " << v.reason;
    ASSERT_TRUE(v.fields);
    EXPECT_EQ(*v.fields, fields);
    EXPECT_EQ(v.canonical, code);
  }
  const auto demo = key_of("Packbench demo key, 32 bytes...!");
  EXPECT_EQ(pd::make_signed_code({"DEMO", 1, 1000, date(2026, 12, 22)}, demo).value(),
            "DEMO-0080-0FM2-FKXT-28PJ-NFPC");
}

TEST(DiscountSignedCode, FieldsRoundTripAndSerialsGiveDistinctCodes) {
  const auto key = test_key();
  std::set<std::string> codes;
  for (std::uint32_t serial = 0; serial < 2000; ++serial) {
    const pd::SignedCodeFields f{"TEA", 12, serial * 8191 % (pd::kMaxSerial + 1),
                                 date(2026, 1, 1) + days(serial % 400)};
    const auto code = pd::make_signed_code(f, key).value();
    EXPECT_TRUE(codes.insert(code).second) << code;
    EXPECT_EQ(code.size(), f.prefix.size() + 1 + 24);
    const auto v = pd::verify_signed_code(code, key, date(2026, 1, 1));
    ASSERT_EQ(v.verdict, pd::CodeVerdict::valid) << code << ": " << v.reason;
    EXPECT_EQ(*v.fields, f);
  }
}

TEST(DiscountSignedCode, RefusesFieldsThatDoNotFit) {
  const auto key = test_key();
  EXPECT_FALSE(pd::make_signed_code({"TEA", 4096, 0, date(2026, 1, 1)}, key));
  EXPECT_FALSE(pd::make_signed_code({"TEA", 0, 16777216, date(2026, 1, 1)}, key));
  EXPECT_FALSE(pd::make_signed_code({"TEA", 0, 0, date(2019, 12, 31)}, key));
  EXPECT_FALSE(pd::make_signed_code({"TEA", 0, 0, date(2064, 11, 9)}, key));
  EXPECT_TRUE(pd::make_signed_code({"TEA", 0, 0, date(2064, 11, 8)}, key));
  for (const char* bad : {"", "tea", "TOOLONGXX", "T-A", "TÉ", "T A"}) {
    const auto made = pd::make_signed_code({bad, 0, 0, date(2026, 1, 1)}, key);
    EXPECT_FALSE(made) << bad;
  }
  EXPECT_TRUE(pd::make_signed_code({"ABCDEFGH", 0, 0, date(2026, 1, 1)}, key));
}

// Every single-character substitution, anywhere in the code (prefix, payload, tag, check
// characters), by every other character that can stand there, is caught by the check characters.
TEST(DiscountSignedCode, EverySingleSubstitutionIsCaughtAsATypo) {
  const auto key = test_key();
  const std::string prefix_chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::size_t tried = 0;
  for (const auto& f : sample_fields()) {
    const std::string code = pd::make_signed_code(f, key).value();
    ASSERT_EQ(pd::verify_signed_code(code, key, kToday).verdict, pd::CodeVerdict::valid);
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (code[i] == '-') {
        continue;
      }
      const bool in_prefix = i < f.prefix.size();
      const std::string_view alphabet =
          in_prefix ? std::string_view(prefix_chars) : pd::kCrockfordAlphabet;
      for (char c : alphabet) {
        if (c == code[i]) {
          continue;
        }
        std::string typo = code;
        typo[i] = c;
        const auto v = pd::verify_signed_code(typo, key, kToday);
        EXPECT_EQ(v.verdict, pd::CodeVerdict::typo) << code << " -> " << typo << ": " << v.reason;
        ++tried;
      }
    }
  }
  // 6 codes: 20 body characters × 31 others, and 25 prefix characters × 35 others.
  EXPECT_EQ(tried, 6u * 20 * 31 + 25u * 35);
}

// Every swap of two neighbouring characters. Two code characters swapped are a typo; a group
// hyphen swapped with its neighbour leaves the same code (hyphens are only for reading); the
// hyphen after the prefix swapped changes the length, which is malformed. Nothing else verifies.
TEST(DiscountSignedCode, EveryAdjacentTranspositionIsCaught) {
  const auto key = test_key();
  std::size_t typos = 0;
  for (const auto& f : sample_fields()) {
    const std::string code = pd::make_signed_code(f, key).value();
    for (const std::string& form : {code, flat(code)}) {
      for (std::size_t i = 0; i + 1 < form.size(); ++i) {
        if (form[i] == form[i + 1]) {
          continue;  // swapping equal characters is no error
        }
        std::string swapped = form;
        std::swap(swapped[i], swapped[i + 1]);
        const auto v = pd::verify_signed_code(swapped, key, kToday);
        const bool hyphen = form[i] == '-' || form[i + 1] == '-';
        if (!hyphen) {
          EXPECT_EQ(v.verdict, pd::CodeVerdict::typo) << form << " -> " << swapped;
          ++typos;
        } else if (i + 1 == f.prefix.size() || i == f.prefix.size()) {
          EXPECT_EQ(v.verdict, pd::CodeVerdict::malformed) << form << " -> " << swapped;
        } else {
          EXPECT_EQ(v.verdict, pd::CodeVerdict::valid) << form << " -> " << swapped;
          EXPECT_EQ(v.canonical, code);
        }
      }
    }
  }
  EXPECT_GT(typos, 150u);
}

// The check sum also catches jump transpositions (abc -> cba: (a-c)·1023·32^k) and twin errors
// (aa -> bb: (a-b)·33·32^k), since 1021 divides neither 1023 nor 33.
TEST(DiscountSignedCode, JumpTranspositionsAndTwinErrorsAreCaughtToo) {
  const auto key = test_key();
  for (const auto& f : sample_fields()) {
    const std::string code = flat(pd::make_signed_code(f, key).value());
    for (std::size_t i = f.prefix.size() + 1; i + 2 < code.size(); ++i) {
      if (code[i] != code[i + 2]) {
        std::string jumped = code;
        std::swap(jumped[i], jumped[i + 2]);
        EXPECT_EQ(pd::verify_signed_code(jumped, key, kToday).verdict, pd::CodeVerdict::typo)
            << code << " -> " << jumped;
      }
    }
    for (std::size_t i = f.prefix.size() + 1; i + 1 < code.size(); ++i) {
      if (code[i] != code[i + 1]) {
        continue;
      }
      for (char c : pd::kCrockfordAlphabet) {
        if (c == code[i]) {
          continue;
        }
        std::string twin = code;
        twin[i] = twin[i + 1] = c;
        EXPECT_EQ(pd::verify_signed_code(twin, key, kToday).verdict, pd::CodeVerdict::typo)
            << code << " -> " << twin;
      }
    }
  }
}

// What people type: lower case, I or L for 1, O for 0, spaces or no hyphens at all.
TEST(DiscountSignedCode, ReadsLookAlikesAndLowerCase) {
  const auto key = test_key();
  const std::string code = "TEA-01R0-000J-FWAY-Q26X-5J6S";
  auto same = [&](const std::string& typed) {
    const auto v = pd::verify_signed_code(typed, key, kToday);
    EXPECT_EQ(v.verdict, pd::CodeVerdict::valid) << typed << ": " << v.reason;
    EXPECT_EQ(v.canonical, code) << typed;
  };
  same(code);
  same("tea-01r0-000j-fway-q26x-5j6s");
  same("TEA-OIRO-OOOJ-FWAY-Q26X-5J6S");
  same("TEA-0LR0-000J-FWAY-Q26X-5J6S");
  same("TEA-0lro-ooOj-FWAY-Q26X-5J6S");
  same("TEA-01R0000JFWAYQ26X5J6S");
  same("TEA-01R0 000J FWAY Q26X 5J6S");
  same("  TEA-01R0-000J-FWAY-Q26X-5J6S\n");
  // Every '1' and '0' in a code can be typed as its look-alike.
  for (const auto& f : sample_fields()) {
    const std::string c = pd::make_signed_code(f, key).value();
    for (std::size_t i = f.prefix.size() + 1; i < c.size(); ++i) {
      const std::string alikes = c[i] == '1' ? "IiLl" : c[i] == '0' ? "Oo" : "";
      for (char a : alikes) {
        std::string typed = c;
        typed[i] = a;
        const auto v = pd::verify_signed_code(typed, key, kToday);
        EXPECT_EQ(v.canonical, c);
        EXPECT_NE(v.verdict, pd::CodeVerdict::typo) << typed;
        EXPECT_NE(v.verdict, pd::CodeVerdict::malformed) << typed;
      }
    }
  }
}

TEST(DiscountSignedCode, MalformedCodesSayWhy) {
  const auto key = test_key();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "prefix"},
      {"01R0000JFWAYQ26X5J6S", "prefix"},
      {"-01R0-000J-FWAY-Q26X-5J6S", "prefix"},
      {"TEA!-01R0-000J-FWAY-Q26X-5J6S", "prefix"},
      {"TOOLONGXX-01R0-000J-FWAY-Q26X-5J6S", "prefix"},
      {"TEA-01R0-000J-FWAY-Q26X-5J6", "19 code characters"},
      {"TEA-01R0-000J-FWAY-Q26X-5J6S0", "21 code characters"},
      {"TEA-01R0-000J-FWAY-Q26X-5J6U", "'U'"},
      {"TEA-01R0-000J-FWAY-Q26X-5J6*", "'*'"},
      {"TEA-01R0-000J-FWAY-Q26X-5J6\xC3\xA9", "not a code character"},
  };
  for (const auto& [code, why] : cases) {
    const auto v = pd::verify_signed_code(code, key, kToday);
    EXPECT_EQ(v.verdict, pd::CodeVerdict::malformed) << code;
    EXPECT_NE(v.reason.find(why), std::string::npos) << code << ": " << v.reason;
    EXPECT_FALSE(v.fields);
  }
}

TEST(DiscountSignedCode, ForgedCodesAndOtherKeysAreRejected) {
  const auto key = test_key();
  const auto other = key_of("another shop's key, long enough");
  const std::string code = pd::make_signed_code({"TEA", 7, 5, date(2026, 12, 31)}, key).value();
  const auto v = pd::verify_signed_code(code, other, kToday);
  EXPECT_EQ(v.verdict, pd::CodeVerdict::forged) << v.reason;
  ASSERT_TRUE(v.fields);  // what the code claims
  EXPECT_EQ(v.fields->serial, 5u);

  // A forger who knows the format writes a payload of his own and fixes the check characters,
  // but cannot make the tag: with a wrong tag the code is forged, not a typo.
  pd::SignedCodeFields wanted{"TEA", 7, 6, date(2030, 12, 31)};
  const std::string forged_with_own_key = pd::make_signed_code(wanted, other).value();
  EXPECT_EQ(pd::verify_signed_code(forged_with_own_key, key, kToday).verdict,
            pd::CodeVerdict::forged);

  // Changing the prefix of a genuine code and repairing its check characters breaks the tag,
  // which covers the prefix.
  const std::string genuine = pd::make_signed_code({"TEA", 7, 5, date(2026, 12, 31)}, key).value();
  const std::string body = flat(genuine).substr(4, 18);
  int found = 0;
  for (char a : pd::kCrockfordAlphabet) {
    for (char b : pd::kCrockfordAlphabet) {
      const std::string candidate = "TEB-" + body + a + b;
      const auto r = pd::verify_signed_code(candidate, key, kToday);
      if (r.verdict != pd::CodeVerdict::typo) {
        EXPECT_EQ(r.verdict, pd::CodeVerdict::forged) << candidate;
        ++found;
      }
    }
  }
  EXPECT_EQ(found, 1);  // exactly one pair of check characters fits; the tag still does not
}

TEST(DiscountSignedCode, ExpiresAfterItsLastDay) {
  const auto key = test_key();
  const std::string code = pd::make_signed_code({"TEA", 1, 2, date(2026, 12, 31)}, key).value();
  EXPECT_EQ(pd::verify_signed_code(code, key, date(2026, 12, 30)).verdict, pd::CodeVerdict::valid);
  EXPECT_EQ(pd::verify_signed_code(code, key, date(2026, 12, 31)).verdict, pd::CodeVerdict::valid);
  const auto v = pd::verify_signed_code(code, key, date(2027, 1, 1));
  EXPECT_EQ(v.verdict, pd::CodeVerdict::expired);
  EXPECT_NE(v.reason.find("2026-12-31"), std::string::npos) << v.reason;
  EXPECT_EQ(v.fields->expiry, date(2026, 12, 31));
}

TEST(DiscountSigningKey, LoadsHexBase64AndRawFiles) {
  pt::TempDir dir;
  std::string raw32;
  for (int i = 0; i < 32; ++i) {
    raw32 += static_cast<char>(i * 7 + 1);
  }
  const std::vector<unsigned char> expected(raw32.begin(), raw32.end());

  pt::write_file(dir / "hex.key",
                 "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\n");
  pt::write_file(dir / "b64.key", "AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\n");
  pt::write_file(dir / "raw.key", raw32);
  for (const char* name : {"hex.key", "b64.key", "raw.key"}) {
    ::chmod((dir / name).c_str(), 0600);
    auto loaded = pd::load_signing_key(dir / name);
    ASSERT_TRUE(loaded) << name << ": " << loaded.error().message;
    EXPECT_EQ(loaded->key.bytes(), expected) << name;
    EXPECT_FALSE(loaded->warning) << name;
  }
}

TEST(DiscountSigningKey, ClearErrorsThatNeverShowTheKey) {
  pt::TempDir dir;
  auto error_of = [&](const std::string& name) {
    auto loaded = pd::load_signing_key(dir / name);
    EXPECT_FALSE(loaded) << name;
    return loaded ? std::string() : loaded.error().message;
  };
  EXPECT_NE(error_of("missing.key").find("no signing key file at"), std::string::npos);
  pt::write_file(dir / "empty.key", "");
  EXPECT_NE(error_of("empty.key").find("is empty"), std::string::npos);
  pt::write_file(dir / "blank.key", " \n\n");
  EXPECT_NE(error_of("blank.key").find("white space"), std::string::npos);
  pt::write_file(dir / "short.key", "00112233445566778899aabbccddee\n");  // 15 bytes
  const std::string short_error = error_of("short.key");
  EXPECT_NE(short_error.find("at least 16 bytes"), std::string::npos) << short_error;
  EXPECT_EQ(short_error.find("00112233"), std::string::npos) << short_error;
  pt::write_file(dir / "phrase.key", "correct horse battery staple, my secret\n");
  const std::string phrase_error = error_of("phrase.key");
  EXPECT_NE(phrase_error.find("neither hex nor base64"), std::string::npos) << phrase_error;
  EXPECT_EQ(phrase_error.find("horse"), std::string::npos) << phrase_error;
  std::filesystem::create_directory(dir / "dir.key");
  EXPECT_NE(error_of("dir.key").find("not a regular file"), std::string::npos);
  // Exactly 16 bytes is enough.
  pt::write_file(dir / "sixteen.key", "00112233445566778899aabbccddeeff");
  EXPECT_TRUE(pd::load_signing_key(dir / "sixteen.key"));
}

TEST(DiscountSigningKey, WarnsWhenOthersCanReadIt) {
  pt::TempDir dir;
  pt::write_file(dir / "k.key", std::string(64, 'a'));
  ::chmod((dir / "k.key").c_str(), 0644);
  auto loaded = pd::load_signing_key(dir / "k.key");
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->warning);
  EXPECT_NE(loaded->warning->find("0644"), std::string::npos) << *loaded->warning;
  EXPECT_NE(loaded->warning->find("chmod 600"), std::string::npos) << *loaded->warning;
  EXPECT_EQ(loaded->warning->find("aaaa"), std::string::npos);
  ::chmod((dir / "k.key").c_str(), 0400);
  EXPECT_FALSE(pd::load_signing_key(dir / "k.key")->warning);
}

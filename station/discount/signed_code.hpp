// Signed discount codes: issued offline by a station, verified by the shop's own backend with
// nothing but the shared key.
//
//   PREFIX-BBBB-BBBB-BBBB-BBBB-BBCC      e.g. TEA-0G2M-8D1Z-7Q4K-XW3A-9T05
//
// After the prefix and its hyphen come 20 Crockford base32 characters (alphabet
// 0123456789ABCDEFGHJKMNPQRSTVWXYZ, 5 bits each), grouped by four for reading:
//
//   characters  1-10   payload, 50 bits, most significant first:
//                        station   12 bits  0..4095          (the station's number)
//                        serial    24 bits  0..16,777,215    (per station, never reused)
//                        expiry    14 bits  days since 2020-01-01, last valid day (to 2064-11-08)
//   characters 11-18   tag: the first 40 bits (5 bytes) of
//                        HMAC-SHA256(key, PREFIX + "-" + characters 1-10)
//   characters 19-20   check: C in 0..1020, chosen so that the whole code, read as a base-32
//                        number whose prefix characters count 0-9 for digits and 10-35 for
//                        A-Z, is divisible by 1021.
//
// 1021 is prime and larger than any difference of two character values (at most 35), so a
// single changed character (difference d·32^k) and a swap of two neighbours (difference
// (a−b)·31·32^k) never keep the number divisible: every such typo is caught, the prefix and
// the check characters themselves included. Reading accepts lower case, takes I and L for 1
// and O for 0, and ignores hyphens and spaces after the prefix. docs/discounts.md has the
// whole story and a verifier to copy.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/result.hpp"
#include "station/discount/day.hpp"

namespace packbench::station::discount {

inline constexpr std::string_view kCrockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

inline constexpr int kStationBits = 12;
inline constexpr int kSerialBits = 24;
inline constexpr int kExpiryBits = 14;
inline constexpr int kTagBits = 40;
inline constexpr std::uint32_t kMaxStation = (1u << kStationBits) - 1;
inline constexpr std::uint32_t kMaxSerial = (1u << kSerialBits) - 1;
inline constexpr std::size_t kPayloadChars = 10;  // 50 bits
inline constexpr std::size_t kTagChars = 8;       // 40 bits
inline constexpr std::size_t kCheckChars = 2;
inline constexpr std::size_t kCodeChars = kPayloadChars + kTagChars + kCheckChars;
inline constexpr std::uint32_t kCheckModulus = 1021;
inline constexpr std::size_t kMaxPrefixLength = 8;
inline constexpr std::size_t kMinKeyBytes = 16;

// The first expiry day a code can carry (day 0), and the last (day 2^14 - 1).
Day expiry_epoch();
Day last_expiry_day();

// What a signed code says.
struct SignedCodeFields {
  std::string prefix;  // upper case
  std::uint32_t station = 0;
  std::uint32_t serial = 0;
  Day expiry{};  // the last day the code is valid

  friend bool operator==(const SignedCodeFields&, const SignedCodeFields&) = default;
};

// The secret both the station and the shop hold. Its bytes are wiped when it goes, and nothing
// here ever prints them.
class SigningKey {
 public:
  // At least kMinKeyBytes bytes.
  static Result<SigningKey> from_bytes(std::string_view bytes);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  std::size_t size() const { return bytes_.size(); }
  const std::vector<unsigned char>& bytes() const { return bytes_; }

 private:
  explicit SigningKey(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
  std::vector<unsigned char> bytes_;
};

struct LoadedKey {
  SigningKey key;
  // Set when the file's permissions let the group or others read or write it.
  std::optional<std::string> warning;
};

// Reads the key file. A file of text holds the key as hex (64 hex digits for 32 bytes) or as
// base64, surrounding white space ignored; any other file is the key's raw bytes. Errors
// (missing, unreadable, empty, text that is neither hex nor base64, under 16 bytes) name the
// file and never show its content.
Result<LoadedKey> load_signing_key(const std::filesystem::path& path);

// HMAC-SHA256 (RFC 2104 over FIPS 180-4), through OpenSSL.
std::array<unsigned char, 32> hmac_sha256(const std::vector<unsigned char>& key,
                                          std::string_view message);

// 1 to 8 upper-case letters A-Z and digits.
bool is_valid_prefix(std::string_view prefix);

// The code for `fields`, grouped with hyphens. An error when the prefix is not valid or a field
// does not fit its bits (expiry before 2020-01-01 or after 2064-11-08).
Result<std::string> make_signed_code(const SignedCodeFields& fields, const SigningKey& key);

enum class CodeVerdict {
  valid,
  malformed,  // not shaped like a signed code: no prefix, wrong length, a foreign character
  typo,       // the check characters do not match: a character was misread or mistyped
  forged,     // well formed, but the tag is not this key's: made up, or signed with another key
  expired,    // genuine, but its last valid day is before `today`
};
std::string_view to_string(CodeVerdict verdict);

struct CodeVerification {
  CodeVerdict verdict = CodeVerdict::malformed;
  std::string reason;  // in words
  // The fields as read, once the check characters agree (forged and expired codes too: a
  // forged code's fields are what it claims, not facts).
  std::optional<SignedCodeFields> fields;
  std::string canonical;  // the code as issued (upper case, grouped), once it is well formed

  bool ok() const { return verdict == CodeVerdict::valid; }
};

// Reads and checks a code: shape, check characters, tag, then expiry against `today` (the
// expiry day itself is still valid).
CodeVerification verify_signed_code(std::string_view code, const SigningKey& key, Day today);

// Crockford base32 reading of one character: 0..31, I and L as 1, O as 0, lower case too;
// -1 for anything else (U included).
int crockford_value(char c);

}  // namespace packbench::station::discount

#include "station/discount/signed_code.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace packbench::station::discount {
namespace {

using namespace std::chrono;

// Prefix characters count in the check sum as 0-9 and A=10 .. Z=35.
int prefix_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'Z') {
    return 10 + (c - 'A');
  }
  return -1;
}

char to_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// The base-32 number made of the prefix and `body` values, modulo 1021.
std::uint32_t check_sum(std::string_view prefix, const std::vector<int>& body) {
  std::uint32_t x = 0;
  for (char c : prefix) {
    x = (x * 32 + static_cast<std::uint32_t>(prefix_value(c))) % kCheckModulus;
  }
  for (int v : body) {
    x = (x * 32 + static_cast<std::uint32_t>(v)) % kCheckModulus;
  }
  return x;
}

std::string grouped(std::string_view prefix, const std::vector<int>& body) {
  std::string out(prefix);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (i % 4 == 0) {
      out += '-';
    }
    out += kCrockfordAlphabet[static_cast<std::size_t>(body[i])];
  }
  return out;
}

// The first 40 bits of the HMAC over PREFIX-PAYLOAD, as a number.
std::uint64_t tag_of(const SigningKey& key, std::string_view prefix, const std::vector<int>& body) {
  std::string message(prefix);
  message += '-';
  for (std::size_t i = 0; i < kPayloadChars; ++i) {
    message += kCrockfordAlphabet[static_cast<std::size_t>(body[i])];
  }
  const auto mac = hmac_sha256(key.bytes(), message);
  std::uint64_t tag = 0;
  for (int i = 0; i < kTagBits / 8; ++i) {
    tag = (tag << 8) | mac[static_cast<std::size_t>(i)];
  }
  return tag;
}

bool is_text(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
  });
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<std::string> from_hex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]);
    const int lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(out.data(), out.size());
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// RFC 4648 section 4, padded.
std::optional<std::string> from_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) {
    return std::nullopt;
  }
  std::size_t padding = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/';
    if (c == '=' && i + 2 >= s.size()) {
      ++padding;
    } else if (!alpha || padding > 0) {
      return std::nullopt;
    }
  }
  std::string out(s.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

Day expiry_epoch() {
  return Day(year(2020) / January / 1);
}
Day last_expiry_day() {
  return expiry_epoch() + days((1 << kExpiryBits) - 1);
}

Result<SigningKey> SigningKey::from_bytes(std::string_view bytes) {
  if (bytes.size() < kMinKeyBytes) {
    return Error{fmt::format("a signing key needs at least {} bytes (32 recommended), not {}",
                             kMinKeyBytes, bytes.size())};
  }
  return SigningKey(std::vector<unsigned char>(bytes.begin(), bytes.end()));
}

SigningKey::~SigningKey() {
  if (!bytes_.empty()) {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
  }
}

Result<LoadedKey> load_signing_key(const std::filesystem::path& path) {
  const std::string name = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{fmt::format("no signing key file at {}", name)};
  }
  if (!S_ISREG(st.st_mode)) {
    return Error{fmt::format("the signing key {} is not a regular file", name)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("cannot read the signing key file {}", name)};
  }
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe_raw{raw};
  if (raw.empty()) {
    return Error{fmt::format("the signing key file {} is empty", name)};
  }
  std::string decoded;
  Wipe wipe_decoded{decoded};
  if (is_text(raw)) {
    const std::string_view text = trim(raw);
    if (text.empty()) {
      return Error{fmt::format("the signing key file {} holds only white space", name)};
    }
    if (auto hex = from_hex(text)) {
      decoded = std::move(*hex);
    } else if (auto b64 = from_base64(text)) {
      decoded = std::move(*b64);
    } else {
      return Error{fmt::format(
          "the signing key file {} holds text that is neither hex nor base64 (make one with: "
          "openssl rand -hex 32 > {})",
          name, name)};
    }
  } else {
    decoded = raw;
  }
  auto key = SigningKey::from_bytes(decoded);
  if (!key) {
    return Error{fmt::format("the signing key file {}: {}", name, key.error().message)};
  }
  LoadedKey out{std::move(*key), std::nullopt};
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    out.warning = fmt::format(
        "the signing key file {} can be read or written by others (mode {:04o}); chmod 600 it",
        name, st.st_mode & 07777);
  }
  return out;
}

std::array<unsigned char, 32> hmac_sha256(const std::vector<unsigned char>& key,
                                          std::string_view message) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  return out;
}

bool is_valid_prefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= kMaxPrefixLength &&
         std::all_of(prefix.begin(), prefix.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

int crockford_value(char c) {
  c = to_upper(c);
  if (c == 'I' || c == 'L') {
    return 1;
  }
  if (c == 'O') {
    return 0;
  }
  const auto at = kCrockfordAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

Result<std::string> make_signed_code(const SignedCodeFields& fields, const SigningKey& key) {
  if (!is_valid_prefix(fields.prefix)) {
    return Error{fmt::format("the code prefix '{}' must be 1 to {} upper-case letters and digits",
                             fields.prefix, kMaxPrefixLength)};
  }
  if (fields.station > kMaxStation) {
    return Error{fmt::format("station number {} does not fit a code (0 to {})", fields.station,
                             kMaxStation)};
  }
  if (fields.serial > kMaxSerial) {
    return Error{fmt::format("serial {} does not fit a code (0 to {})", fields.serial, kMaxSerial)};
  }
  if (fields.expiry < expiry_epoch() || fields.expiry > last_expiry_day()) {
    return Error{fmt::format("expiry {} does not fit a code ({} to {})", format_day(fields.expiry),
                             format_day(expiry_epoch()), format_day(last_expiry_day()))};
  }
  const auto day = static_cast<std::uint64_t>((fields.expiry - expiry_epoch()).count());
  const std::uint64_t payload = (std::uint64_t{fields.station} << (kSerialBits + kExpiryBits)) |
                                (std::uint64_t{fields.serial} << kExpiryBits) | day;
  std::vector<int> body;
  body.reserve(kCodeChars);
  for (std::size_t i = 0; i < kPayloadChars; ++i) {
    body.push_back(static_cast<int>((payload >> (5 * (kPayloadChars - 1 - i))) & 31));
  }
  const std::uint64_t tag = tag_of(key, fields.prefix, body);
  for (std::size_t i = 0; i < kTagChars; ++i) {
    body.push_back(static_cast<int>((tag >> (5 * (kTagChars - 1 - i))) & 31));
  }
  // Appending two base-32 characters multiplies by 1024; C makes the total divisible by 1021.
  const std::uint32_t x = check_sum(fields.prefix, body);
  const std::uint32_t c = (kCheckModulus - (x * 1024) % kCheckModulus) % kCheckModulus;
  body.push_back(static_cast<int>(c / 32));
  body.push_back(static_cast<int>(c % 32));
  return Result<std::string>(boost::system::in_place_value, grouped(fields.prefix, body));
}

std::string_view to_string(CodeVerdict verdict) {
  switch (verdict) {
    case CodeVerdict::valid:
      return "valid";
    case CodeVerdict::malformed:
      return "malformed";
    case CodeVerdict::typo:
      return "typo";
    case CodeVerdict::forged:
      return "forged";
    case CodeVerdict::expired:
      return "expired";
  }
  return "malformed";
}

CodeVerification verify_signed_code(std::string_view code, const SigningKey& key, Day today) {
  CodeVerification out;
  const std::string_view text = trim(code);
  const auto dash = text.find('-');
  if (text.empty() || dash == std::string_view::npos || dash == 0) {
    out.reason = "a signed code starts with its prefix and a hyphen (PREFIX-...)";
    return out;
  }
  std::string prefix;
  for (char c : text.substr(0, dash)) {
    prefix += to_upper(c);
  }
  if (!is_valid_prefix(prefix)) {
    out.reason = fmt::format("the prefix must be 1 to {} letters and digits", kMaxPrefixLength);
    return out;
  }
  std::vector<int> body;
  for (std::size_t i = dash + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '-' || c == ' ') {
      continue;
    }
    const int v = crockford_value(c);
    if (v < 0) {
      out.reason = static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f
                       ? fmt::format("'{}' (character {}) is not a code character", c, i + 1)
                       : fmt::format("character {} is not a code character", i + 1);
      return out;
    }
    body.push_back(v);
  }
  if (body.size() != kCodeChars) {
    out.reason = fmt::format("{} code characters after the prefix; a signed code has {}",
                             body.size(), kCodeChars);
    return out;
  }
  const std::uint32_t check =
      static_cast<std::uint32_t>(body[kCodeChars - 2] * 32 + body[kCodeChars - 1]);
  if (check >= kCheckModulus || check_sum(prefix, body) != 0) {
    out.verdict = CodeVerdict::typo;
    out.reason =
        "the check characters do not match: a character is misread or mistyped, or two "
        "are swapped";
    return out;
  }
  out.canonical = grouped(prefix, body);
  std::uint64_t payload = 0;
  for (std::size_t i = 0; i < kPayloadChars; ++i) {
    payload = (payload << 5) | static_cast<std::uint64_t>(body[i]);
  }
  std::uint64_t tag = 0;
  for (std::size_t i = kPayloadChars; i < kPayloadChars + kTagChars; ++i) {
    tag = (tag << 5) | static_cast<std::uint64_t>(body[i]);
  }
  SignedCodeFields fields;
  fields.prefix = prefix;
  fields.station = static_cast<std::uint32_t>(payload >> (kSerialBits + kExpiryBits));
  fields.serial = static_cast<std::uint32_t>((payload >> kExpiryBits) & kMaxSerial);
  fields.expiry = expiry_epoch() + days(payload & ((1u << kExpiryBits) - 1));
  out.fields = fields;

  unsigned char expected[kTagBits / 8];
  unsigned char got[kTagBits / 8];
  const std::uint64_t want = tag_of(key, prefix, body);
  for (int i = 0; i < kTagBits / 8; ++i) {
    expected[i] = static_cast<unsigned char>(want >> (8 * (kTagBits / 8 - 1 - i)));
    got[i] = static_cast<unsigned char>(tag >> (8 * (kTagBits / 8 - 1 - i)));
  }
  if (CRYPTO_memcmp(expected, got, sizeof expected) != 0) {
    out.verdict = CodeVerdict::forged;
    out.reason =
        "the tag does not match this key: the code was not issued with it (made up, or "
        "signed with another key)";
    return out;
  }
  if (today > fields.expiry) {
    out.verdict = CodeVerdict::expired;
    out.reason = fmt::format("expired: its last valid day was {}", format_day(fields.expiry));
    return out;
  }
  out.verdict = CodeVerdict::valid;
  out.reason = fmt::format("genuine, valid until {}", format_day(fields.expiry));
  return out;
}

}  // namespace packbench::station::discount

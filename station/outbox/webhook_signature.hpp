// Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme"):
// webhook-signature is "v1," followed by the base64 of HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}", keyed with the secret's bytes. A secret is written
// "whsec_" followed by its bytes in base64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "packbench/result.hpp"

namespace packbench::station {

std::string base64_encode(std::string_view bytes);
// Standard alphabet, padding optional; anything else is an error.
Result<std::string> base64_decode(std::string_view text);

// The key bytes of a secret as written in a file: "whsec_<base64>" (the prefix may be left out),
// surrounding white space ignored.
Result<std::string> parse_webhook_secret(std::string_view text);

std::string sign_webhook(std::string_view key, std::string_view id, std::int64_t timestamp,
                         std::string_view body);

// The lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace packbench::station

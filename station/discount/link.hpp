// The campaign link a discount QR carries:
//
//   https://{shop}/discount/{code}?redirect={path}&utm_source=insert&utm_medium=qr&utm_campaign={campaign}
//
// A link format is checked once, when the configuration is read: known placeholders only, each
// where it can be encoded (RFC 3986 section 3): {shop} is the host, the others sit in the path or
// the query (or the fragment). Every substituted value is percent-encoded for where it sits, so a
// code or a redirect path can never add a path segment, a parameter or a fragment of its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "packbench/result.hpp"

namespace packbench::station::discount {

inline constexpr std::string_view kDefaultLinkFormat =
    "https://{shop}/discount/{code}?redirect={path}&utm_source=insert&utm_medium=qr&utm_campaign="
    "{campaign}";

struct LinkValues {
  std::string shop;      // a host name, optionally with :port ("shop.example.com")
  std::string code;      // the discount code
  std::string path;      // where the shop goes after applying it ("/collections/tea"), may be ""
  std::string campaign;  // the campaign id
};

// Where in a URL a placeholder sits, which decides how its value is encoded.
enum class LinkPart { host, path, query, fragment };

struct LinkFormat {
  struct Piece {
    std::string literal;      // text copied as is
    std::string placeholder;  // "" for a literal piece; else shop, code, path, campaign
    LinkPart part = LinkPart::path;
    bool whole_path = false;  // {path} standing for path segments: '/' stays a separator
  };
  std::string text;
  std::vector<Piece> pieces;
};

// Checks a link format: http:// or https://, {shop} or a literal host as the whole host,
// {code} somewhere, known placeholders ({shop}, {code}, {path}, {campaign}) only, braces
// balanced. The error says what is wrong and where.
Result<LinkFormat> parse_link_format(std::string_view format);

// The link for `values`. Errors: a shop that is no host name, a value that is not UTF-8.
Result<std::string> format_link(const LinkFormat& format, const LinkValues& values);
Result<std::string> format_link(std::string_view format, const LinkValues& values);

// A host name (RFC 1123 labels of letters, digits and hyphens, dot-separated, at most 253
// characters) or an IPv4 address, optionally followed by :port.
bool is_valid_shop_host(std::string_view shop);

// Percent-encoding (RFC 3986 section 2.1, upper-case hex) of every byte but the unreserved
// characters A-Z a-z 0-9 - . _ ~. For a path, `keep_slash` leaves '/' as the separator.
std::string percent_encode(std::string_view value, bool keep_slash = false);

}  // namespace packbench::station::discount

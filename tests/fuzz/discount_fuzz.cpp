// Fuzz target for what the discount module reads from outside: code files (IT's CSV), codes a
// person types (stationctl discount verify) and link formats with their values (configuration).
// None may crash, and each keeps its promises. The first byte picks which is fed.
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "station/discount/link.hpp"
#include "station/discount/pool.hpp"
#include "station/discount/signed_code.hpp"

namespace pd = packbench::station::discount;

namespace {

void require(bool holds, const char* what, std::string_view input) {
  if (holds) {
    return;
  }
  std::fprintf(stderr, "discount_fuzz: broken promise: %s\ninput (%zu bytes):", what, input.size());
  for (const char c : input) {
    std::fprintf(stderr, " %02x", static_cast<unsigned char>(c));
  }
  std::fputc('\n', stderr);
  std::abort();
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

void code_file(std::string_view input) {
  const auto parsed = pd::parse_code_csv(input);
  std::set<std::string> seen;
  int last_line = 0;
  for (const auto& c : parsed.codes) {
    require(pd::is_safe_code(c.code), "every code read is safe", input);
    require(seen.insert(lower(c.code)).second, "no code twice", input);
    require(c.line > last_line, "codes come in line order", input);
    last_line = c.line;
  }
  for (const auto& p : parsed.problems) {
    require(p.line >= 1 && !p.message.empty(), "problems have a line and words", input);
  }
}

void typed_code(std::string_view input) {
  static const auto key = pd::SigningKey::from_bytes(std::string(32, '\x5a')).value();
  const pd::Day today = pd::expiry_epoch() + std::chrono::days(3000);
  const auto v = pd::verify_signed_code(input, key, today);
  require(!v.reason.empty(), "a verdict says why", input);
  if (v.verdict == pd::CodeVerdict::malformed || v.verdict == pd::CodeVerdict::typo) {
    require(!v.fields, "no fields without good check characters", input);
    return;
  }
  require(v.fields.has_value() && !v.canonical.empty(), "fields once the check agrees", input);
  const auto again = pd::verify_signed_code(v.canonical, key, today);
  require(again.verdict == v.verdict && again.canonical == v.canonical,
          "the canonical form reads the same", input);
  if (v.verdict != pd::CodeVerdict::forged) {
    require(pd::make_signed_code(*v.fields, key).value() == v.canonical,
            "a genuine code is what signing its fields makes", input);
  }
}

void link(std::string_view input) {
  // The input is a format and a value, split at the first NUL.
  const auto nul = input.find('\0');
  const std::string_view format = input.substr(0, nul);
  const std::string value(nul == std::string_view::npos ? "" : input.substr(nul + 1));
  auto parsed = pd::parse_link_format(format);
  if (!parsed) {
    require(!parsed.error().message.empty(), "a refused format says why", input);
    return;
  }
  for (const pd::LinkValues& values : {pd::LinkValues{"shop.example.com", value, "/p", "c"},
                                       pd::LinkValues{"shop.example.com", "CODE", value, value}}) {
    auto url = pd::format_link(*parsed, values);
    if (!url) {
      continue;  // not UTF-8, or only dots in a path segment
    }
    require(boost::urls::parse_uri(*url).has_value(), "every link is a URI", input);
    for (unsigned char c : *url) {
      require(c > 0x20 && c < 0x7f, "a link is printable ASCII", input);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      code_file(input);
      break;
    case 1:
      typed_code(input);
      break;
    default:
      link(input);
      break;
  }
  return 0;
}

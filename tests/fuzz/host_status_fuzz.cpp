// Fuzz target for the ~HS answer parser: whatever bytes come back from port 9100 (a printer, half
// a printer, something else listening there), parse_host_status must not crash or read out of
// bounds, and must keep its promises: a prefix of an answer it took is never an error, and an
// answer it took keeps its flags when more bytes follow.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "printer/zpl_tcp/host_status.hpp"

namespace zpl = packbench::drivers::zpl;
namespace pd = packbench::drivers;

namespace {

void require(bool holds, const char* what, std::string_view input) {
  if (holds) {
    return;
  }
  std::fprintf(stderr, "host_status_fuzz: broken promise: %s\ninput (%zu bytes):", what,
               input.size());
  for (const char c : input) {
    std::fprintf(stderr, " %02x", static_cast<unsigned char>(c));
  }
  std::fputc('\n', stderr);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto r = zpl::parse_host_status(input);
  if (!r) {
    require(!r.error().message.empty(), "an error says what is wrong", input);
    return 0;
  }
  // Whatever parsed, or may still, was never wrong along the way.
  for (std::size_t n = 0; n < input.size(); ++n) {
    const auto prefix = zpl::parse_host_status(input.substr(0, n));
    require(prefix.has_value(), "a prefix of an acceptable answer is not an error", input);
  }
  if (!*r) {
    return 0;
  }
  const auto d = zpl::describe(**r);
  require(!d.detail.empty(), "the status is said in words", input);
  require((d.state == pd::DeviceState::fault) == (r->value().paper_out || r->value().head_up ||
                                                  r->value().ribbon_out || r->value().paused ||
                                                  r->value().over_temperature),
          "a fault exactly when a flag stops printing", input);
  require(d.state == pd::DeviceState::ready || !d.conditions.empty(),
          "a printer that is not ready says why in conditions", input);
  return 0;
}

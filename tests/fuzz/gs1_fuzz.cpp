// Fuzz target for the GS1 reader: whatever bytes a scanner (or a person) sends, gs1::read and
// to_json must not crash, must not read out of bounds, and must keep their promises.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "station/gs1/gs1.hpp"

namespace gs1 = packbench::station::gs1;
namespace json = boost::json;

namespace {

void require(bool holds, const char* what, std::string_view input) {
  if (holds) {
    return;
  }
  std::fprintf(stderr, "gs1_fuzz: broken promise: %s\ninput (%zu bytes):", what, input.size());
  for (const char c : input) {
    std::fprintf(stderr, " %02x", static_cast<unsigned char>(c));
  }
  std::fputc('\n', stderr);
  std::abort();
}

bool all_digits(std::string_view s) {
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

bool same_elements(const gs1::Reading& a, const gs1::Reading& b) {
  if (a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (a.elements[i].ai != b.elements[i].ai || a.elements[i].value != b.elements[i].value) {
      return false;
    }
  }
  return true;
}

// A good reading written again as GS1 data reads back the same: with a GS after every element
// (what a GS1-128 carries), and in the parentheses form when no value holds a '('.
void check_round_trip(const gs1::Reading& r, std::string_view input) {
  std::string with_gs = "]C1";
  std::string bracketed;
  bool brackets_fit = true;
  for (const auto& e : r.elements) {
    with_gs += e.ai + e.value + '\x1d';
    bracketed += "(" + e.ai + ")" + e.value;
    brackets_fit = brackets_fit && e.value.find('(') == std::string::npos;
  }
  const gs1::Reading again = gs1::read(with_gs);
  require(again.ok(), "a good reading re-encoded with GS reads back without problems", input);
  require(same_elements(r, again), "a good reading re-encoded with GS reads back the same", input);
  require(again.gtin14 == r.gtin14, "a re-encoded reading keeps its GTIN", input);
  if (brackets_fit) {
    const gs1::Reading shown = gs1::read(bracketed);
    require(shown.ok() && same_elements(r, shown),
            "a good reading in the parentheses form reads back the same", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // A first byte below 12 picks the symbology the scanner "reported", so that path gets fuzzed
  // too; such bytes are not GS1 data anyway.
  static constexpr std::string_view kSymbologies[] = {"]C1", "]d2", "]Q3", "]e0", "]E0", "]E3",
                                                      "]E4", "]I1", "]C0", "]Q1", "C1",  ""};
  std::string_view symbology;
  if (!input.empty() && static_cast<unsigned char>(input[0]) < std::size(kSymbologies)) {
    symbology = kSymbologies[static_cast<unsigned char>(input[0])];
    input.remove_prefix(1);
  }

  const gs1::Reading r = gs1::read(input, symbology);
  using Kind = gs1::Reading::Kind;

  require(r.input == input, "input is kept as received", input);
  if (r.gtin14) {
    require(r.gtin14->size() == 14 && all_digits(*r.gtin14), "gtin14 is 14 digits", input);
    require(gs1::valid_check_digit(*r.gtin14), "gtin14 has a valid check digit", input);
    require(gs1::gtin14(*r.gtin14) == r.gtin14, "gtin14 normalises to itself", input);
  }
  for (const auto& e : r.elements) {
    const auto title = gs1::ai_title(e.ai);
    require(title.has_value(), "every element's AI is in the table", input);
    require(*title == e.title, "every element carries its AI's title", input);
  }
  for (const auto& p : r.problems) {
    require(!p.empty(), "problems are said in words", input);
  }
  require(r.kind != Kind::other || !r.ok(), "a reading of kind other says why", input);
  require(!r.recovered_gs || r.kind == Kind::element_string, "only element strings recover GS",
          input);
  require(r.kind != Kind::gtin || r.elements.empty(), "a plain GTIN has no elements", input);
  require(r.kind != Kind::gtin || !r.ok() || r.gtin14, "a good plain GTIN has its gtin14", input);

  const json::object o = gs1::to_json(r);
  const std::string text = json::serialize(o);
  boost::system::error_code ec;
  const json::value back = json::parse(text, ec);
  require(!ec, "to_json is valid JSON, so valid UTF-8", input);
  require(back == json::value(o), "to_json survives serialising", input);
  require(o.at("ok").as_bool() == r.ok(), "to_json says ok when the reading is", input);

  require(json::serialize(gs1::to_json(gs1::read(input, symbology))) == text,
          "reading is deterministic", input);

  if (r.ok() && (r.kind == Kind::element_string || r.kind == Kind::digital_link)) {
    check_round_trip(r, input);
  }
  return 0;
}

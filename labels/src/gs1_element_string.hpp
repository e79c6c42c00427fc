// The data of a GS1 symbol (GS1-128, GS1 DataMatrix) as a template or a caller writes it, made
// into the element strings the symbol carries.
//
// Internal to labels/ (codes.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace packbench::labels {

// Accepts either form GS1 General Specifications 5.10 knows:
//
//  - the human-readable form, each AI in parentheses: "(01)09506000134352(17)261231(10)ABC".
//    Spaces around values are dropped (no GS1 value holds a space);
//  - the element strings as a scanner transmits them, with GS (ASCII 29) after each
//    variable-length element string that is not the last: "0109506000134352" "10ABC" GS "21X".
//
// Returns the element strings with a GS exactly where FNC1 must separate them: after each
// element string whose AI does not have a predefined length (GS1 General Specifications Figure
// 7.8.5-2: AIs beginning 00-04, 11-20, 31-36, 41), unless it is the last. A GS after a
// predefined-length element string is dropped. Checked: printable ASCII only; each
// predefined-length element string is digits of exactly its length; the check digit of an SSCC
// (00), a GTIN (01) or a contained GTIN (02). On failure returns nullopt with `error` set,
// without the symbology's name.
std::optional<std::string> gs1_element_strings(std::string_view data, std::string& error);

// The GS1 mod-10 check digit of `digits` (weights 3 and 1 alternating from the rightmost).
char gs1_check_digit(std::string_view digits);

}  // namespace packbench::labels

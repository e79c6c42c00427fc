// Keyboard-wedge decoding: a USB scanner in keyboard mode types its data as key presses, and
// this turns the Linux key codes back into the bytes it meant, for the layout the scanner was
// set up for (its "keyboard country": a scanner set to Japanese presses the key that makes '@'
// on a JP106 keyboard, which is the key that makes '[' on a US one).
//
// GS (FNC1, 0x1D) is the character keyboards cannot type. Scanners send it one of three ways,
// all understood here (docs/scanners.md has the details):
//   - Ctrl + the key for ']' in the layout: the ASCII control-key convention (GS = Ctrl+]),
//     which is what scanners send for 0x00-0x1F in their "control character" / "Ctrl+X"
//     output modes;
//   - Alt + keypad digits (ALT+0029 or ALT+29): the Windows Alt-code convention, used by
//     scanners' "Alt mode" / "keypad emulation" for any character, GS included;
//   - one configured key (gs_key, e.g. F8) for scanners set to substitute FNC1 with a key.
//
// Pure: key events in, bytes and poison reasons out.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

class KeyDecoder {
 public:
  KeyDecoder(KeyboardLayout layout, std::optional<std::uint16_t> gs_key);

  struct Output {
    std::string bytes;   // what the key meant: characters, '\r' for Enter, '\t' for Tab
    std::string poison;  // non-empty when the key cannot be part of a scan, and why
  };

  // One EV_KEY event: value 1 press, 0 release, 2 auto-repeat (taken as a press).
  Output key(std::uint16_t code, std::int32_t value);

  // Forgets held modifiers and a half-typed Alt code: after lost events or a reopen, what was
  // held is unknown and the safe guess is nothing.
  void reset();

 private:
  struct Chars {
    char normal = 0;
    char shifted = 0;
  };

  Output alt_code();

  std::array<Chars, 256> table_{};
  std::optional<std::uint16_t> gs_key_;
  bool left_shift_ = false;
  bool right_shift_ = false;
  bool left_ctrl_ = false;
  bool right_ctrl_ = false;
  bool left_alt_ = false;
  bool right_alt_ = false;
  bool caps_lock_ = false;
  std::string alt_digits_;
};

// The Linux key code for a gs_key name ("F8", "Insert", ...), case-insensitive.
std::optional<std::uint16_t> hid_key_code(std::string_view name);

}  // namespace packbench::drivers

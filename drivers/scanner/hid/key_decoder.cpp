#include "scanner/hid/key_decoder.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace packbench::drivers {

namespace {

struct Entry {
  std::uint16_t code;
  char normal;
  char shifted;
};

// Keys that type the same thing on US and JP106 keyboards.
constexpr Entry kCommon[] = {
    {KEY_A, 'a', 'A'},
    {KEY_B, 'b', 'B'},
    {KEY_C, 'c', 'C'},
    {KEY_D, 'd', 'D'},
    {KEY_E, 'e', 'E'},
    {KEY_F, 'f', 'F'},
    {KEY_G, 'g', 'G'},
    {KEY_H, 'h', 'H'},
    {KEY_I, 'i', 'I'},
    {KEY_J, 'j', 'J'},
    {KEY_K, 'k', 'K'},
    {KEY_L, 'l', 'L'},
    {KEY_M, 'm', 'M'},
    {KEY_N, 'n', 'N'},
    {KEY_O, 'o', 'O'},
    {KEY_P, 'p', 'P'},
    {KEY_Q, 'q', 'Q'},
    {KEY_R, 'r', 'R'},
    {KEY_S, 's', 'S'},
    {KEY_T, 't', 'T'},
    {KEY_U, 'u', 'U'},
    {KEY_V, 'v', 'V'},
    {KEY_W, 'w', 'W'},
    {KEY_X, 'x', 'X'},
    {KEY_Y, 'y', 'Y'},
    {KEY_Z, 'z', 'Z'},
    {KEY_SPACE, ' ', ' '},
    {KEY_COMMA, ',', '<'},
    {KEY_DOT, '.', '>'},
    {KEY_SLASH, '/', '?'},
    {KEY_1, '1', '!'},
    {KEY_3, '3', '#'},
    {KEY_4, '4', '$'},
    {KEY_5, '5', '%'},
    // The keypad types digits whatever the layout; scanners in "keypad emulation" use it. Num
    // Lock is taken as on: a scanner that sends keypad digits means digits.
    {KEY_KP0, '0', '0'},
    {KEY_KP1, '1', '1'},
    {KEY_KP2, '2', '2'},
    {KEY_KP3, '3', '3'},
    {KEY_KP4, '4', '4'},
    {KEY_KP5, '5', '5'},
    {KEY_KP6, '6', '6'},
    {KEY_KP7, '7', '7'},
    {KEY_KP8, '8', '8'},
    {KEY_KP9, '9', '9'},
    {KEY_KPDOT, '.', '.'},
    {KEY_KPSLASH, '/', '/'},
    {KEY_KPMINUS, '-', '-'},
    {KEY_KPPLUS, '+', '+'},
    {KEY_KPASTERISK, '*', '*'},
    {KEY_KPCOMMA, ',', ','},
    {KEY_KPEQUAL, '=', '='},
};

constexpr Entry kUs[] = {
    {KEY_2, '2', '@'},          {KEY_6, '6', '^'},          {KEY_7, '7', '&'},
    {KEY_8, '8', '*'},          {KEY_9, '9', '('},          {KEY_0, '0', ')'},
    {KEY_MINUS, '-', '_'},      {KEY_EQUAL, '=', '+'},      {KEY_LEFTBRACE, '[', '{'},
    {KEY_RIGHTBRACE, ']', '}'}, {KEY_SEMICOLON, ';', ':'},  {KEY_APOSTROPHE, '\'', '"'},
    {KEY_GRAVE, '`', '~'},      {KEY_BACKSLASH, '\\', '|'}, {KEY_102ND, '\\', '|'},
};

// JP106 (the Japanese PC keyboard, "jp" in XKB). Shift+0 types nothing there.
constexpr Entry kJp[] = {
    {KEY_2, '2', '"'},          {KEY_6, '6', '&'},         {KEY_7, '7', '\''},
    {KEY_8, '8', '('},          {KEY_9, '9', ')'},         {KEY_0, '0', 0},
    {KEY_MINUS, '-', '='},      {KEY_EQUAL, '^', '~'},     {KEY_LEFTBRACE, '@', '`'},
    {KEY_RIGHTBRACE, '[', '{'}, {KEY_SEMICOLON, ';', '+'}, {KEY_APOSTROPHE, ':', '*'},
    {KEY_BACKSLASH, ']', '}'},  {KEY_RO, '\\', '_'},       {KEY_YEN, '\\', '|'},
};

struct Named {
  std::string_view name;
  std::uint16_t code;
};

constexpr Named kGsKeys[] = {
    {"f1", KEY_F1},         {"f2", KEY_F2},
    {"f3", KEY_F3},         {"f4", KEY_F4},
    {"f5", KEY_F5},         {"f6", KEY_F6},
    {"f7", KEY_F7},         {"f8", KEY_F8},
    {"f9", KEY_F9},         {"f10", KEY_F10},
    {"f11", KEY_F11},       {"f12", KEY_F12},
    {"f13", KEY_F13},       {"f14", KEY_F14},
    {"f15", KEY_F15},       {"f16", KEY_F16},
    {"f17", KEY_F17},       {"f18", KEY_F18},
    {"f19", KEY_F19},       {"f20", KEY_F20},
    {"f21", KEY_F21},       {"f22", KEY_F22},
    {"f23", KEY_F23},       {"f24", KEY_F24},
    {"insert", KEY_INSERT}, {"delete", KEY_DELETE},
    {"home", KEY_HOME},     {"end", KEY_END},
    {"pageup", KEY_PAGEUP}, {"pagedown", KEY_PAGEDOWN},
    {"pause", KEY_PAUSE},   {"scrolllock", KEY_SCROLLLOCK},
    {"esc", KEY_ESC},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string key_name(std::uint16_t code) {
  for (const auto& k : kGsKeys) {
    if (k.code == code) {
      std::string n(k.name);
      n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
      return "the " + n + " key";
    }
  }
  return "key code " + std::to_string(code);
}

std::optional<int> keypad_digit(std::uint16_t code) {
  switch (code) {
    case KEY_KP0:
      return 0;
    case KEY_KP1:
      return 1;
    case KEY_KP2:
      return 2;
    case KEY_KP3:
      return 3;
    case KEY_KP4:
      return 4;
    case KEY_KP5:
      return 5;
    case KEY_KP6:
      return 6;
    case KEY_KP7:
      return 7;
    case KEY_KP8:
      return 8;
    case KEY_KP9:
      return 9;
    default:
      return std::nullopt;
  }
}

// Ctrl + a character: the ASCII control code it stands for ('@'..'_' and letters), if any.
std::optional<char> control_of(char c) {
  if (c >= '@' && c <= '_') {
    return static_cast<char>(c - '@');
  }
  if (c >= 'a' && c <= 'z') {
    return static_cast<char>(c - 'a' + 1);
  }
  return std::nullopt;
}

}  // namespace

KeyDecoder::KeyDecoder(KeyboardLayout layout, std::optional<std::uint16_t> gs_key)
    : gs_key_(gs_key) {
  for (const auto& e : kCommon) {
    table_[e.code] = {e.normal, e.shifted};
  }
  if (layout == KeyboardLayout::jp) {
    for (const auto& e : kJp) {
      table_[e.code] = {e.normal, e.shifted};
    }
  } else {
    for (const auto& e : kUs) {
      table_[e.code] = {e.normal, e.shifted};
    }
  }
}

void KeyDecoder::reset() {
  left_shift_ = right_shift_ = false;
  left_ctrl_ = right_ctrl_ = false;
  left_alt_ = right_alt_ = false;
  caps_lock_ = false;
  alt_digits_.clear();
}

KeyDecoder::Output KeyDecoder::key(std::uint16_t code, std::int32_t value) {
  const bool down = value != 0;
  switch (code) {
    case KEY_LEFTSHIFT:
      left_shift_ = down;
      return {};
    case KEY_RIGHTSHIFT:
      right_shift_ = down;
      return {};
    case KEY_LEFTCTRL:
      left_ctrl_ = down;
      return {};
    case KEY_RIGHTCTRL:
      right_ctrl_ = down;
      return {};
    case KEY_LEFTALT:
    case KEY_RIGHTALT: {
      (code == KEY_LEFTALT ? left_alt_ : right_alt_) = down;
      // The Alt code is typed when the last Alt key goes up.
      if (!down && !left_alt_ && !right_alt_ && !alt_digits_.empty()) {
        return alt_code();
      }
      return {};
    }
    case KEY_CAPSLOCK:
      if (value == 1) {
        caps_lock_ = !caps_lock_;
      }
      return {};
    case KEY_LEFTMETA:
    case KEY_RIGHTMETA:
    case KEY_NUMLOCK:
      return {};
    default:
      break;
  }
  if (!down) {
    return {};
  }
  if (gs_key_ && code == *gs_key_) {
    return {"\x1D", ""};
  }
  if (left_alt_ || right_alt_) {
    if (const auto d = keypad_digit(code)) {
      alt_digits_ += static_cast<char>('0' + *d);
      return {};
    }
    return {"", "Alt with " + key_name(code) + " is not a character"};
  }
  if (code == KEY_ENTER || code == KEY_KPENTER) {
    return {"\r", ""};
  }
  if (code == KEY_TAB) {
    return {"\t", ""};
  }
  if (code == KEY_SCROLLLOCK) {
    return {};
  }
  const Chars chars = code < table_.size() ? table_[code] : Chars{};
  if (chars.normal == 0) {
    return {"", "a key that types nothing in a scan (" + key_name(code) + ")"};
  }
  const bool shift = left_shift_ || right_shift_;
  const bool letter = chars.normal >= 'a' && chars.normal <= 'z';
  const bool shifted = letter ? (shift != caps_lock_) : shift;
  const char c = shifted ? chars.shifted : chars.normal;
  if (left_ctrl_ || right_ctrl_) {
    // Ctrl+] is GS, Ctrl+Shift+6 (Ctrl+^) is RS, Ctrl+M is CR: whatever the key types in this
    // layout decides, so Ctrl+] works on JP106 too, where ']' is another key. Without Shift a
    // key that only gives a control code shifted ('^' on US 6) still counts, as terminals do.
    if (const auto ctl = c ? control_of(c) : std::nullopt) {
      return {std::string(1, *ctl), ""};
    }
    if (!shift && chars.shifted) {
      if (const auto ctl = control_of(chars.shifted)) {
        return {std::string(1, *ctl), ""};
      }
    }
    return {"", "Ctrl with " + key_name(code) + " is not a character"};
  }
  if (c == 0) {
    return {"", "Shift with " + key_name(code) + " types nothing in this layout"};
  }
  return {std::string(1, c), ""};
}

KeyDecoder::Output KeyDecoder::alt_code() {
  const std::string digits = std::move(alt_digits_);
  alt_digits_.clear();
  if (digits.size() > 4) {
    return {"", "Alt+" + digits + " is not a character"};
  }
  const int value = std::stoi(digits);
  const bool ansi = digits.size() > 1 && digits[0] == '0';  // ALT+0nnn: the Windows code page
  if (value >= 1 && value <= 127) {
    return {std::string(1, static_cast<char>(value)), ""};
  }
  if (ansi && value >= 160 && value <= 255) {
    // Windows-1252 equals Latin-1 here, which is the first 256 code points of Unicode.
    std::string utf8;
    utf8 += static_cast<char>(0xC0 | (value >> 6));
    utf8 += static_cast<char>(0x80 | (value & 0x3F));
    return {utf8, ""};
  }
  return {"", "Alt+" + digits + " is not a character the station decodes"};
}

std::optional<std::uint16_t> hid_key_code(std::string_view name) {
  const std::string n = lower(name);
  for (const auto& k : kGsKeys) {
    if (k.name == n) {
      return k.code;
    }
  }
  return std::nullopt;
}

bool is_known_gs_key(std::string_view name) {
  return hid_key_code(name).has_value();
}

}  // namespace packbench::drivers

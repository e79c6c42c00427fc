// hid: the key decoder on its own; the backend reading `struct input_event` streams through a
// FIFO (a real fd the backend polls and reads, as it would /dev/input/eventN), from strokes
// made here and from recordings in evtest's format (hid_recordings/); and the backend on a real
// evdev node: a virtual keyboard made through /dev/uinput, where the machine has it (the test
// says why it skips where it does not).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "packbench/drivers/scanner.hpp"
#include "scanner/hid/key_decoder.hpp"
#include "scanner_bench.hpp"
#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

// --- decoder helpers -------------------------------------------------------------------------

struct Typed {
  std::string bytes;
  std::string poison;
};

// Presses and releases `code` with the given modifiers held, as a scanner does.
Typed tap(pd::KeyDecoder& d, std::uint16_t code, std::initializer_list<std::uint16_t> held = {}) {
  Typed t;
  auto take = [&](pd::KeyDecoder::Output o) {
    t.bytes += o.bytes;
    if (t.poison.empty()) {
      t.poison = o.poison;
    }
  };
  for (auto m : held) {
    take(d.key(m, 1));
  }
  take(d.key(code, 1));
  take(d.key(code, 0));
  for (auto m : held) {
    take(d.key(m, 0));
  }
  return t;
}

std::string alt_code(pd::KeyDecoder& d, std::initializer_list<std::uint16_t> keypad) {
  std::string out;
  out += d.key(KEY_LEFTALT, 1).bytes;
  for (auto k : keypad) {
    out += d.key(k, 1).bytes;
    out += d.key(k, 0).bytes;
  }
  out += d.key(KEY_LEFTALT, 0).bytes;
  return out;
}

}  // namespace

TEST(KeyDecoder, UsLettersDigitsShiftEnterTab) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, std::nullopt);
  std::string s;
  s += tap(d, KEY_A).bytes;
  s += tap(d, KEY_B, {KEY_LEFTSHIFT}).bytes;
  s += tap(d, KEY_1).bytes;
  s += tap(d, KEY_1, {KEY_RIGHTSHIFT}).bytes;
  s += tap(d, KEY_2, {KEY_LEFTSHIFT}).bytes;
  s += tap(d, KEY_RIGHTBRACE).bytes;
  s += tap(d, KEY_MINUS, {KEY_LEFTSHIFT}).bytes;
  s += tap(d, KEY_KP7).bytes;
  s += tap(d, KEY_ENTER).bytes;
  s += tap(d, KEY_TAB).bytes;
  s += tap(d, KEY_KPENTER).bytes;
  EXPECT_EQ(s, "aB1!@]_7\r\t\r");
}

TEST(KeyDecoder, JpLayoutPutsPunctuationWhereJp106HasIt) {
  pd::KeyDecoder d(pd::KeyboardLayout::jp, std::nullopt);
  std::string s;
  s += tap(d, KEY_LEFTBRACE).bytes;                   // @
  s += tap(d, KEY_2, {KEY_LEFTSHIFT}).bytes;          // "
  s += tap(d, KEY_BACKSLASH).bytes;                   // ]
  s += tap(d, KEY_RIGHTBRACE).bytes;                  // [
  s += tap(d, KEY_APOSTROPHE).bytes;                  // :
  s += tap(d, KEY_SEMICOLON, {KEY_LEFTSHIFT}).bytes;  // +
  s += tap(d, KEY_EQUAL).bytes;                       // ^
  s += tap(d, KEY_RO).bytes;                          // backslash
  s += tap(d, KEY_RO, {KEY_LEFTSHIFT}).bytes;         // _
  s += tap(d, KEY_YEN, {KEY_LEFTSHIFT}).bytes;        // |
  s += tap(d, KEY_7, {KEY_LEFTSHIFT}).bytes;          // '
  s += tap(d, KEY_MINUS, {KEY_LEFTSHIFT}).bytes;      // =
  EXPECT_EQ(s, "@\"][:+^\\_|'=");
  // Shift+0 types nothing on JP106.
  EXPECT_FALSE(tap(d, KEY_0, {KEY_LEFTSHIFT}).poison.empty());
}

TEST(KeyDecoder, GsAsCtrlRightBracketInEachLayout) {
  pd::KeyDecoder us(pd::KeyboardLayout::us, std::nullopt);
  EXPECT_EQ(tap(us, KEY_RIGHTBRACE, {KEY_LEFTCTRL}).bytes, "\x1D");
  pd::KeyDecoder jp(pd::KeyboardLayout::jp, std::nullopt);
  EXPECT_EQ(tap(jp, KEY_BACKSLASH, {KEY_RIGHTCTRL}).bytes, "\x1D");
  // The US ']' key is '[' on JP106, and Ctrl+[ is ESC there: the layout decides.
  EXPECT_EQ(tap(jp, KEY_RIGHTBRACE, {KEY_LEFTCTRL}).bytes, "\x1B");
}

TEST(KeyDecoder, OtherControlCharactersFollowTheSameRule) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, std::nullopt);
  EXPECT_EQ(tap(d, KEY_6, {KEY_LEFTCTRL, KEY_LEFTSHIFT}).bytes, "\x1E");  // Ctrl+^ is RS
  EXPECT_EQ(tap(d, KEY_6, {KEY_LEFTCTRL}).bytes, "\x1E");                 // as terminals do
  EXPECT_EQ(tap(d, KEY_D, {KEY_LEFTCTRL}).bytes, "\x04");                 // EOT
  EXPECT_EQ(tap(d, KEY_M, {KEY_LEFTCTRL}).bytes, "\r");                   // Ctrl+M is CR
  EXPECT_FALSE(tap(d, KEY_1, {KEY_LEFTCTRL}).poison.empty());
}

TEST(KeyDecoder, GsAsAnAltCode) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, std::nullopt);
  EXPECT_EQ(alt_code(d, {KEY_KP0, KEY_KP0, KEY_KP2, KEY_KP9}), "\x1D");
  EXPECT_EQ(alt_code(d, {KEY_KP2, KEY_KP9}), "\x1D");
  EXPECT_EQ(alt_code(d, {KEY_KP6, KEY_KP5}), "A");  // any character works the same way
  EXPECT_EQ(alt_code(d, {KEY_KP0, KEY_KP2, KEY_KP3, KEY_KP3}), "\xC3\xA9");  // é, Windows-1252
  // Nothing typed while Alt is held; a key that is no keypad digit spoils the line.
  d.key(KEY_LEFTALT, 1);
  EXPECT_TRUE(d.key(KEY_KP1, 1).bytes.empty());
  EXPECT_FALSE(d.key(KEY_A, 1).poison.empty());
  d.key(KEY_LEFTALT, 0);
  pd::KeyDecoder e(pd::KeyboardLayout::us, std::nullopt);
  e.key(KEY_LEFTALT, 1);
  for (auto k : {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP8}) {
    e.key(k, 1);
  }
  EXPECT_FALSE(e.key(KEY_LEFTALT, 0).poison.empty());  // ALT+0128: not decoded, not guessed
}

TEST(KeyDecoder, GsAsAConfiguredKey) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, pd::hid_key_code("f8"));
  EXPECT_EQ(tap(d, KEY_F8).bytes, "\x1D");
  EXPECT_FALSE(tap(d, KEY_F7).poison.empty());  // other function keys still mean nothing
  EXPECT_TRUE(pd::is_known_gs_key("F24"));
  EXPECT_TRUE(pd::is_known_gs_key("ScrollLock"));
  EXPECT_FALSE(pd::is_known_gs_key("F25"));
}

TEST(KeyDecoder, CapsLockFlipsLettersOnly) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, std::nullopt);
  tap(d, KEY_CAPSLOCK);
  std::string s = tap(d, KEY_A).bytes + tap(d, KEY_A, {KEY_LEFTSHIFT}).bytes + tap(d, KEY_1).bytes;
  EXPECT_EQ(s, "Aa1");
}

TEST(KeyDecoder, RepeatCountsReleaseDoesNot) {
  pd::KeyDecoder d(pd::KeyboardLayout::us, std::nullopt);
  EXPECT_EQ(d.key(KEY_Z, 1).bytes, "z");
  EXPECT_EQ(d.key(KEY_Z, 2).bytes, "z");
  EXPECT_EQ(d.key(KEY_Z, 0).bytes, "");
}

// --- the backend, fed recorded events through a FIFO --------------------------------------------

namespace {

std::string event(std::uint16_t type, std::uint16_t code, std::int32_t value) {
  input_event e{};
  e.type = type;
  e.code = code;
  e.value = value;
  return std::string(reinterpret_cast<const char*>(&e), sizeof e);
}

// One key stroke as a USB keyboard reports it: MSC_SCAN, the key, SYN_REPORT; then the release.
std::string stroke(std::uint16_t code, std::initializer_list<std::uint16_t> held = {}) {
  std::string s;
  for (auto m : held) {
    s += event(EV_KEY, m, 1) + event(EV_SYN, SYN_REPORT, 0);
  }
  s += event(EV_MSC, MSC_SCAN, 0x70000 + code) + event(EV_KEY, code, 1) +
       event(EV_SYN, SYN_REPORT, 0);
  s += event(EV_MSC, MSC_SCAN, 0x70000 + code) + event(EV_KEY, code, 0) +
       event(EV_SYN, SYN_REPORT, 0);
  for (auto m : held) {
    s += event(EV_KEY, m, 0) + event(EV_SYN, SYN_REPORT, 0);
  }
  return s;
}

// Text typed on a US keyboard (the characters these tests use).
std::string type_us(std::string_view text) {
  static const std::map<char, std::pair<std::uint16_t, bool>> keys = [] {
    std::map<char, std::pair<std::uint16_t, bool>> m;
    const std::uint16_t letters[] = {KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
                                     KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
                                     KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z};
    for (int i = 0; i < 26; ++i) {
      m['a' + i] = {letters[i], false};
      m['A' + i] = {letters[i], true};
    }
    const std::uint16_t digits[] = {KEY_0, KEY_1, KEY_2, KEY_3, KEY_4,
                                    KEY_5, KEY_6, KEY_7, KEY_8, KEY_9};
    for (int i = 0; i < 10; ++i) {
      m['0' + i] = {digits[i], false};
    }
    m[']'] = {KEY_RIGHTBRACE, false};
    m['-'] = {KEY_MINUS, false};
    m['/'] = {KEY_SLASH, false};
    m[':'] = {KEY_SEMICOLON, true};
    m['.'] = {KEY_DOT, false};
    return m;
  }();
  std::string s;
  for (char c : text) {
    const auto [code, shift] = keys.at(c);
    s += shift ? stroke(code, {KEY_LEFTSHIFT}) : stroke(code);
  }
  return s;
}

// A FIFO standing in for /dev/input/eventN. The test holds it open read-write, so the
// backend's read end never sees an end of input until the test "unplugs" it.
class EventPipe {
 public:
  explicit EventPipe(std::filesystem::path path) : path_(std::move(path)) { plug_in(); }
  ~EventPipe() { unplug(); }

  void plug_in() {
    ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0) << std::strerror(errno);
    fd_ = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
  }
  // The node goes first, then the device: the backend finds nothing to reopen.
  void unplug() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool write(const std::string& bytes) {
    return ::write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

pd::ScannerOptions hid_options(const std::filesystem::path& device) {
  pd::ScannerOptions o;
  o.name = "wedge";
  o.type = "hid";
  o.device = device;
  o.retry_base = 20ms;
  o.retry_cap = 200ms;
  return o;
}

}  // namespace

TEST(HidScanner, UsWedgeWithSymbologyAndCtrlBracketGs) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  bench.start(hid_options(dir / "event-kbd"));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready)) << bench.scanner->status().detail;
  EXPECT_NE(bench.scanner->status().detail.find("not an input device"), std::string::npos);

  const std::string recording = type_us("]C10109523456789013") +
                                stroke(KEY_RIGHTBRACE, {KEY_LEFTCTRL}) + type_us("10LOT42") +
                                stroke(KEY_ENTER);
  ASSERT_TRUE(pipe.write(recording));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_TRUE(bench.scans[0].rejected.empty()) << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].symbology, "]C1");
  EXPECT_EQ(bench.scans[0].data,
            "0109523456789013\x1D"
            "10LOT42");
  EXPECT_EQ(bench.scans[0].scanner, "wedge");
}

TEST(HidScanner, JpWedgeWithAltCodeGsAndTabTerminator) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  auto o = hid_options(dir / "event-kbd");
  o.layout = pd::KeyboardLayout::jp;
  o.terminator = pd::Terminator::tab;
  bench.start(o);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));

  // "]d2" + "01" + GS (ALT+0029) + "21A@B" + Tab, as a scanner set to Japanese types it.
  std::string rec =
      stroke(KEY_BACKSLASH) + stroke(KEY_D) + stroke(KEY_2) + stroke(KEY_0) + stroke(KEY_1);
  rec += event(EV_KEY, KEY_LEFTALT, 1) + event(EV_SYN, SYN_REPORT, 0);
  for (auto k : {KEY_KP0, KEY_KP0, KEY_KP2, KEY_KP9}) {
    rec += stroke(k);
  }
  rec += event(EV_KEY, KEY_LEFTALT, 0) + event(EV_SYN, SYN_REPORT, 0);
  rec += stroke(KEY_2) + stroke(KEY_1) + stroke(KEY_A, {KEY_RIGHTSHIFT}) + stroke(KEY_LEFTBRACE) +
         stroke(KEY_B, {KEY_LEFTSHIFT}) + stroke(KEY_TAB);
  // Written in odd pieces: pipes may split records, the backend must not.
  for (std::size_t at = 0; at < rec.size(); at += 37) {
    ASSERT_TRUE(pipe.write(rec.substr(at, 37)));
  }
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_TRUE(bench.scans[0].rejected.empty()) << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].symbology, "]d2");
  EXPECT_EQ(bench.scans[0].data,
            "01\x1D"
            "21A@B");
}

TEST(HidScanner, ConfiguredGsKeyAndEnter) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  auto o = hid_options(dir / "event-kbd");
  o.gs_key = "F8";
  bench.start(o);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pipe.write(type_us("0104912345678904") + stroke(KEY_F8) + type_us("21SER") +
                         stroke(KEY_KPENTER)));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data,
            "0104912345678904\x1D"
            "21SER");
}

TEST(HidScanner, KeysThatTypeNothingAndLostEventsRejectTheLine) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  bench.start(hid_options(dir / "event-kbd"));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pipe.write(type_us("AB") + stroke(KEY_F5) + type_us("C") + stroke(KEY_ENTER) +
                         type_us("DE") + event(EV_SYN, SYN_DROPPED, 0) + event(EV_KEY, KEY_F, 1) +
                         event(EV_SYN, SYN_REPORT, 0) + event(EV_KEY, KEY_F, 0) +
                         stroke(KEY_ENTER) + type_us("OK") + stroke(KEY_ENTER)));
  ASSERT_TRUE(bench.wait_for_scans(3));
  EXPECT_EQ(bench.scans[0].rejected, "a key that types nothing in a scan (the F5 key)");
  EXPECT_EQ(bench.scans[0].data, "ABC");
  EXPECT_NE(bench.scans[1].rejected.find("key events were lost"), std::string::npos);
  EXPECT_EQ(bench.scans[1].data, "DE");  // the F press inside the dropped report is ignored
  EXPECT_EQ(bench.scans[2].data, "OK");
  EXPECT_TRUE(bench.scans[2].rejected.empty());
}

TEST(HidScanner, ReopensWhenUnpluggedAndPluggedBack) {
  pt::TempDir dir;
  const auto path = dir / "usb-Scanner-event-kbd";
  EventPipe pipe(path);
  pt::ScannerBench bench;
  bench.start(hid_options(path));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pipe.write(type_us("BEFORE") + stroke(KEY_ENTER) + type_us("HAL")));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data, "BEFORE");

  pipe.unplug();
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_NE(bench.scans[1].rejected.find("went away in the middle of a scan"), std::string::npos)
      << bench.scans[1].rejected;
  EXPECT_EQ(bench.scans[1].data, "HAL");
  ASSERT_TRUE(pt::run_until(bench.io, [&] {
    const auto st = bench.scanner->status();
    return st.state == pd::DeviceState::offline &&
           st.detail.find("No such file or directory") != std::string::npos;
  })) << bench.scanner->status().detail;

  pipe.plug_in();
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pipe.write(type_us("AFTER") + stroke(KEY_ENTER)));
  ASSERT_TRUE(bench.wait_for_scans(3));
  EXPECT_EQ(bench.scans[2].data, "AFTER");
  EXPECT_TRUE(bench.scans[2].rejected.empty());
}

// --- recordings in evtest's format ----------------------------------------------------------

namespace {

// The input_event records of a recording as evtest prints it ("Event: time T, type 1 (EV_KEY),
// code 30 (KEY_A), value 1"; "-------------- SYN_REPORT ------------"); every other line (the
// device description evtest prints first) is skipped. MSC_SCAN and MSC_RAW values are in hex,
// as evtest prints them.
std::string read_evtest(const std::filesystem::path& path) {
  std::istringstream in(pt::read_file(path));
  std::string line;
  std::string records;
  auto number_after = [&](const char* key, int base) -> std::optional<long> {
    const auto at = line.find(key);
    if (at == std::string::npos) {
      return std::nullopt;
    }
    return std::strtol(line.c_str() + at + std::strlen(key), nullptr, base);
  };
  while (std::getline(in, line)) {
    if (!line.starts_with("Event: time ")) {
      continue;
    }
    const auto type = number_after(", type ", 10);
    if (!type) {
      if (line.find("SYN_DROPPED") != std::string::npos) {
        records += event(EV_SYN, SYN_DROPPED, 0);
      } else if (line.find("SYN_REPORT") != std::string::npos) {
        records += event(EV_SYN, SYN_REPORT, 0);
      }
      continue;
    }
    const auto code = number_after(", code ", 10);
    const bool hex = *type == EV_MSC && code && (*code == MSC_SCAN || *code == MSC_RAW);
    const auto value = number_after(", value ", hex ? 16 : 10);
    if (code && value) {
      records += event(static_cast<std::uint16_t>(*type), static_cast<std::uint16_t>(*code),
                       static_cast<std::int32_t>(*value));
    }
  }
  return records;
}

std::filesystem::path recording(const char* name) {
  return std::filesystem::path(PACKBENCH_HID_RECORDINGS_DIR) / name;
}

}  // namespace

TEST(HidScanner, ReplaysAUsRecordingWithCtrlBracketGs) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  bench.start(hid_options(dir / "event-kbd"));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  const std::string records = read_evtest(recording("us-gs1-128-ctrl-gs.evtest"));
  ASSERT_EQ(records.size() % sizeof(input_event), 0u);
  ASSERT_GT(records.size(), 100 * sizeof(input_event));
  ASSERT_TRUE(pipe.write(records));
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_TRUE(bench.scans[0].rejected.empty()) << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].symbology, "]C1");
  EXPECT_EQ(bench.scans[0].data,
            "0109523456789013\x1D"
            "10LOT42");
  EXPECT_EQ(bench.scans[1].data, "4901234567894");
  EXPECT_EQ(bench.scans.size(), 2u);
}

TEST(HidScanner, ReplaysAJpRecordingWithAltCodeGsAndTab) {
  pt::TempDir dir;
  EventPipe pipe(dir / "event-kbd");
  pt::ScannerBench bench;
  auto o = hid_options(dir / "event-kbd");
  o.layout = pd::KeyboardLayout::jp;
  o.terminator = pd::Terminator::tab;
  bench.start(o);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pipe.write(read_evtest(recording("jp-datamatrix-alt-gs-tab.evtest"))));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_TRUE(bench.scans[0].rejected.empty()) << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].symbology, "]d2");
  EXPECT_EQ(bench.scans[0].data,
            "01\x1D"
            "21A@B");
}

// --- a real evdev node: a virtual keyboard through /dev/uinput --------------------------------

namespace {

// A USB keyboard as far as the kernel's input layer is concerned: it gets an evdev node
// (/dev/input/eventN) that can be grabbed, and what is written here arrives there as a
// keyboard's reports.
class VirtualKeyboard {
 public:
  VirtualKeyboard() = default;
  VirtualKeyboard(const VirtualKeyboard&) = delete;
  VirtualKeyboard& operator=(const VirtualKeyboard&) = delete;
  ~VirtualKeyboard() { destroy(); }

  // Empty when the keyboard and its node are there; else why not, for GTEST_SKIP.
  std::string create(const std::string& name, const std::filesystem::path& scratch) {
    fd_ = ::open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      return std::string("/dev/uinput exists but cannot be opened: ") + std::strerror(errno) +
             " (the test needs write access to it, as root or through a udev rule)";
    }
    bool ok = ::ioctl(fd_, UI_SET_EVBIT, EV_KEY) == 0 && ::ioctl(fd_, UI_SET_EVBIT, EV_MSC) == 0 &&
              ::ioctl(fd_, UI_SET_MSCBIT, MSC_SCAN) == 0;
    for (int key = KEY_ESC; ok && key <= KEY_F24; ++key) {
      ok = ::ioctl(fd_, UI_SET_KEYBIT, key) == 0;
    }
    if (!ok) {
      return std::string("uinput refused the keyboard's keys: ") + std::strerror(errno);
    }
    uinput_setup setup{};
    setup.id.bustype = BUS_USB;
    setup.id.vendor = 0x1209;  // pid.codes' test vendor id
    setup.id.product = 0x0001;
    std::snprintf(setup.name, sizeof setup.name, "%s", name.c_str());
    if (::ioctl(fd_, UI_DEV_SETUP, &setup) != 0 || ::ioctl(fd_, UI_DEV_CREATE) != 0) {
      return std::string("uinput could not create the keyboard: ") + std::strerror(errno);
    }
    created_ = true;
    // Found by name, as IT finds a scanner: the event handler of the input device called so.
    std::string event_name;
    if (!pt::wait_until(
            [&] {
              std::error_code ec;
              for (const auto& e : std::filesystem::directory_iterator("/sys/class/input", ec)) {
                const std::string entry = e.path().filename().string();
                if (entry.starts_with("event") &&
                    first_line(e.path() / "device" / "name") == name) {
                  event_name = entry;
                  return true;
                }
              }
              return false;
            },
            10s)) {
      return "the uinput keyboard '" + name + "' has no event node in /sys/class/input";
    }
    node = std::filesystem::path("/dev/input") / event_name;
    // udev makes /dev/input/eventN; a container without udev may not: make the node from its
    // device number then.
    if (!pt::wait_until([&] { return std::filesystem::exists(node); }, 5s)) {
      unsigned major_no = 0;
      unsigned minor_no = 0;
      const std::string dev =
          first_line(std::filesystem::path("/sys/class/input") / event_name / "dev");
      node = scratch / event_name;
      if (std::sscanf(dev.c_str(), "%u:%u", &major_no, &minor_no) != 2 ||
          ::mknod(node.c_str(), S_IFCHR | 0600, makedev(major_no, minor_no)) != 0) {
        return "no /dev/input/" + event_name + " for the uinput keyboard, and none can be made (" +
               std::strerror(errno) + ")";
      }
    }
    const int probe = ::open(node.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (probe < 0) {
      return "cannot read " + node.string() + ": " + std::strerror(errno);
    }
    ::close(probe);
    return "";
  }

  bool emit(const std::string& records) {
    return ::write(fd_, records.data(), records.size()) == static_cast<ssize_t>(records.size());
  }

  // The keyboard is unplugged.
  void destroy() {
    if (fd_ < 0) {
      return;
    }
    if (created_) {
      ::ioctl(fd_, UI_DEV_DESTROY);
    }
    ::close(fd_);
    fd_ = -1;
  }

  std::filesystem::path node;

 private:
  static std::string first_line(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    return line;
  }

  int fd_ = -1;
  bool created_ = false;
};

// Runs every handler that is ready: the backend takes what the kernel holds for it.
void drain(boost::asio::io_context& io) {
  if (io.stopped()) {
    io.restart();
  }
  while (io.poll() > 0) {
  }
}

}  // namespace

TEST(HidScanner, ReadsARealUinputKeyboardAndHoldsItsGrab) {
  if (::access("/dev/uinput", F_OK) != 0) {
    GTEST_SKIP() << "/dev/uinput does not exist on this machine (no uinput module, or a "
                    "container without the device): the virtual-keyboard test cannot run here";
  }
  pt::TempDir dir;
  VirtualKeyboard keyboard;
  const std::string name = "Packbench test wedge " + std::to_string(::getpid());
  if (const std::string why = keyboard.create(name, dir.path()); !why.empty()) {
    GTEST_SKIP() << why;
  }
  pt::ScannerBench bench;
  bench.start(hid_options(keyboard.node));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready)) << bench.scanner->status().detail;
  const std::string detail = bench.scanner->status().detail;
  EXPECT_NE(detail.find("(" + name + ")"), std::string::npos) << detail;  // EVIOCGNAME
  EXPECT_EQ(detail.find("cannot grab"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("not an input device"), std::string::npos) << detail;

  // The station holds the grab: nobody else can take it...
  const int other = ::open(keyboard.node.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(other, 0) << std::strerror(errno);
  errno = 0;
  EXPECT_EQ(::ioctl(other, EVIOCGRAB, 1), -1);
  EXPECT_EQ(errno, EBUSY) << std::strerror(errno);

  // A GS1-128 scan and an EAN-13, typed stroke by stroke. The kernel keeps 64 events per reader
  // and drops the rest (SYN_DROPPED), so each stroke is taken in before the next is typed.
  std::vector<std::string> strokes;
  for (char c : std::string("]C10109523456789013")) {
    strokes.push_back(type_us(std::string(1, c)));
  }
  strokes.push_back(stroke(KEY_RIGHTBRACE, {KEY_LEFTCTRL}));  // GS
  for (char c : std::string("10LOT42")) {
    strokes.push_back(type_us(std::string(1, c)));
  }
  strokes.push_back(stroke(KEY_ENTER));
  for (char c : std::string("4901234567894")) {
    strokes.push_back(type_us(std::string(1, c)));
  }
  strokes.push_back(stroke(KEY_KPENTER));
  for (const auto& s : strokes) {
    ASSERT_TRUE(keyboard.emit(s)) << std::strerror(errno);
    drain(bench.io);
  }
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_TRUE(bench.scans[0].rejected.empty()) << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].symbology, "]C1");
  EXPECT_EQ(bench.scans[0].data,
            "0109523456789013\x1D"
            "10LOT42");
  EXPECT_TRUE(bench.scans[1].rejected.empty()) << bench.scans[1].rejected;
  EXPECT_EQ(bench.scans[1].data, "4901234567894");

  // ... and nobody else saw a key of it: with the grab, evdev gives the events to the grabber
  // only (the console and a desktop see nothing either).
  input_event seen{};
  errno = 0;
  EXPECT_EQ(::read(other, &seen, sizeof seen), -1) << "a reader without the grab got an event";
  EXPECT_EQ(errno, EAGAIN);
  ::close(other);

  // Unplugged: the scanner goes offline and keeps trying.
  keyboard.destroy();
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::offline)) << bench.scanner->status().detail;
  EXPECT_EQ(bench.scans.size(), 2u);
}

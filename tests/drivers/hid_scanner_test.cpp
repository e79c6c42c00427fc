// hid: the key decoder on its own, then the backend reading recorded `struct input_event`
// streams through a FIFO (a real fd the backend polls and reads, as it would /dev/input/eventN).
// /dev/uinput is not available on the machines this suite runs on, so there is no uinput test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/input.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>

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

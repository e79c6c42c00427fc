// serial through real pseudo-terminal pairs: the scanner opens the slave (through a symlink,
// as /dev/serial/by-id/... is one), the test plays the scanner on the master.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "packbench/drivers/scanner.hpp"
#include "scanner_bench.hpp"
#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

class Pty {
 public:
  Pty() {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) {
      ADD_FAILURE() << "no pseudo-terminal: " << std::strerror(errno);
      return;
    }
    slave_path_ = ::ptsname(master_);
  }
  ~Pty() { unplug(); }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  const std::string& slave_path() const { return slave_path_; }
  int master() const { return master_; }

  bool write(const std::string& bytes) {
    return ::write(master_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  // Closing the master is what pulling the USB cable is to the reader of the slave.
  void unplug() {
    if (master_ >= 0) {
      ::close(master_);
      master_ = -1;
    }
  }

 private:
  int master_ = -1;
  std::string slave_path_;
};

pd::ScannerOptions options(const std::filesystem::path& device) {
  pd::ScannerOptions o;
  o.name = "serial-hand";
  o.type = "serial";
  o.device = device;
  o.retry_base = 20ms;
  o.retry_cap = 200ms;
  return o;
}

}  // namespace

TEST(SerialScanner, ReadsScansWithTheConfiguredLineSettings) {
  Pty pty;
  pt::ScannerBench bench;
  auto o = options(pty.slave_path());
  o.baud = 19200;
  o.stop_bits = 2;
  o.flow_control = pd::FlowControl::hardware;
  o.terminator = pd::Terminator::crlf;
  bench.start(o);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready)) << bench.scanner->status().detail;
  EXPECT_EQ(bench.scanner->status().detail,
            "open " + pty.slave_path() + " at 19200 8N2 hardware flow control");

  // The settings reached the terminal. (A pty has no 7-bit or parity modes: it refuses them,
  // so 7E1 is left to real ports; the next test covers a refused setting.)
  termios tio{};
  ASSERT_EQ(::tcgetattr(pty.master(), &tio), 0);
  EXPECT_EQ(::cfgetispeed(&tio), static_cast<speed_t>(B19200));
  EXPECT_TRUE(tio.c_cflag & CSTOPB);
  EXPECT_TRUE(tio.c_cflag & CRTSCTS);
  EXPECT_FALSE(tio.c_lflag & ICANON);  // raw: no line editing between scanner and station
  EXPECT_FALSE(tio.c_iflag & ICRNL);   // raw: a CR stays a CR

  ASSERT_TRUE(
      pty.write("]d2010952345678901\x1D"
                "17250101\r\n"
                "BAD\x07\r\n"));
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_EQ(bench.scans[0].symbology, "]d2");
  EXPECT_EQ(bench.scans[0].data,
            "010952345678901\x1D"
            "17250101");
  EXPECT_EQ(bench.scans[0].scanner, "serial-hand");
  EXPECT_NE(bench.scans[1].rejected.find("<0x07>"), std::string::npos);
}

TEST(SerialScanner, SettingsThePortRefusesAreAFaultThatSaysWhich) {
  Pty pty;
  pt::ScannerBench bench;
  auto o = options(pty.slave_path());
  o.baud = 12345;  // no UART has it; configuration validation would not let it through
  bench.start(o);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::fault)) << bench.scanner->status().detail;
  EXPECT_EQ(bench.scanner->status().detail.rfind(
                "cannot set 12345 8N1 on " + pty.slave_path() + ": Invalid argument", 0),
            0u)
      << bench.scanner->status().detail;
}

TEST(SerialScanner, ReopensWhenTheDeviceDisappearsAndComesBack) {
  pt::TempDir dir;
  const auto link = dir / "scanner";
  auto first = std::make_unique<Pty>();
  std::filesystem::create_symlink(first->slave_path(), link);

  pt::ScannerBench bench;
  bench.start(options(link));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready)) << bench.scanner->status().detail;
  ASSERT_TRUE(first->write("BEFORE\r"));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data, "BEFORE");

  // Unplugged in the middle of a scan: the link goes, the device goes. "SYNC" arrives in the
  // same write as the half line, so once it is delivered the half line has been read too.
  ASSERT_TRUE(first->write("SYNC\rHALF"));
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_EQ(bench.scans[1].data, "SYNC");
  std::filesystem::remove(link);
  first->unplug();
  ASSERT_TRUE(bench.wait_for_scans(3));
  EXPECT_NE(bench.scans[2].rejected.find("went away in the middle of a scan"), std::string::npos)
      << bench.scans[2].rejected;
  EXPECT_EQ(bench.scans[2].data, "HALF");
  ASSERT_TRUE(pt::run_until(bench.io, [&] {
    const auto st = bench.scanner->status();
    return st.state == pd::DeviceState::offline &&
           st.detail.find("No such file or directory") != std::string::npos;
  })) << bench.scanner->status().detail;

  // Plugged back in: a new device node behind the same link.
  Pty second;
  std::filesystem::create_symlink(second.slave_path(), link);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready)) << bench.scanner->status().detail;
  ASSERT_TRUE(second.write("AFTER\r"));
  ASSERT_TRUE(bench.wait_for_scans(4));
  EXPECT_EQ(bench.scans[3].data, "AFTER");
  EXPECT_TRUE(bench.scans[3].rejected.empty());
}

TEST(SerialScanner, AMissingDeviceAtStartIsOfflineUntilItAppears) {
  pt::TempDir dir;
  const auto link = dir / "not-yet";
  pt::ScannerBench bench;
  bench.start(options(link));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::offline));
  EXPECT_NE(bench.scanner->status().detail.find("cannot open " + link.string()), std::string::npos);
  Pty pty;
  std::filesystem::create_symlink(pty.slave_path(), link);
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(pty.write("HELLO\n"));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data, "HELLO");
}

TEST(SerialScanner, NotASerialPortIsSaidSo) {
  pt::TempDir dir;
  pt::write_file(dir / "plain-file", "x");
  pt::ScannerBench bench;
  bench.start(options(dir / "plain-file"));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::offline));
  EXPECT_NE(bench.scanner->status().detail.find("is not a serial port"), std::string::npos)
      << bench.scanner->status().detail;
}

TEST(SerialScanner, NeedsADevicePath) {
  boost::asio::io_context io;
  pd::ScannerOptions o;
  o.name = "s";
  o.type = "serial";
  auto s = pd::make_scanner(io.get_executor(), o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("needs a device path"), std::string::npos);
}

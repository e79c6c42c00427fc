// tcp-connect against a real loopback listener that the test closes and reopens.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "packbench/drivers/scanner.hpp"
#include "scanner_bench.hpp"
#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

// The fixed-mount reader's side: it listens, the station connects.
class Reader {
 public:
  explicit Reader(std::uint16_t port) : port_(port) {}
  ~Reader() {
    hang_up();
    close_listener();
  }

  void listen() {
    std::uint16_t bound = 0;
    listen_fd_ = pt::listen_loopback_fd(port_, &bound);  // throws when it cannot
    ASSERT_EQ(bound, port_);
  }

  // Accepts the station's connection while its io_context runs.
  bool accept(boost::asio::io_context& io) {
    return pt::run_until(io, [&] {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) {
        return false;
      }
      conn_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      return conn_fd_ >= 0;
    });
  }

  // A connection the kernel completed that nobody accepted yet.
  bool has_pending() {
    pollfd p{listen_fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  bool send(const std::string& bytes) {
    return ::send(conn_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  void hang_up() {
    if (conn_fd_ >= 0) {
      ::close(conn_fd_);
      conn_fd_ = -1;
    }
  }
  void close_listener() {
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
  }

 private:
  std::uint16_t port_;
  int listen_fd_ = -1;
  int conn_fd_ = -1;
};

pd::ScannerOptions options(std::uint16_t port) {
  pd::ScannerOptions o;
  o.name = "fixed";
  o.type = "tcp-connect";
  o.address = "127.0.0.1:" + std::to_string(port);
  o.retry_base = 20ms;
  o.retry_cap = 200ms;
  return o;
}

}  // namespace

TEST(TcpConnectScanner, ConnectsReadsAndReconnectsWhenTheReaderComesBack) {
  const auto port = pt::free_port();
  Reader reader(port);
  reader.listen();
  pt::ScannerBench bench;
  bench.start(options(port));
  ASSERT_TRUE(reader.accept(bench.io));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  EXPECT_NE(bench.scanner->status().detail.find("connected to 127.0.0.1:"), std::string::npos);
  ASSERT_TRUE(reader.send("]E04901234567894\r\n"));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data, "4901234567894");
  EXPECT_EQ(bench.scans[0].symbology, "]E0");
  EXPECT_EQ(bench.scans[0].scanner, "fixed");

  // The reader goes away entirely: the connection drops, then connecting is refused.
  reader.hang_up();
  reader.close_listener();
  ASSERT_TRUE(pt::run_until(bench.io, [&] {
    const auto st = bench.scanner->status();
    return st.state == pd::DeviceState::offline &&
           st.detail.find("Connection refused") != std::string::npos;
  })) << bench.scanner->status().detail;

  // It comes back on the same port: the station reconnects by itself.
  reader.listen();
  ASSERT_TRUE(reader.accept(bench.io));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(reader.send("AFTER-RECONNECT\r\n"));
  ASSERT_TRUE(bench.wait_for_scans(2));
  EXPECT_EQ(bench.scans[1].data, "AFTER-RECONNECT");
  EXPECT_TRUE(bench.scans[1].rejected.empty());
}

TEST(TcpConnectScanner, RefusedAtStartIsOfflineNotAnError) {
  const auto port = pt::free_port();
  pt::ScannerBench bench;
  bench.start(options(port));  // nothing listens yet; activate still succeeds
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::offline));
  EXPECT_NE(bench.scanner->status().detail.find("cannot connect to 127.0.0.1:"), std::string::npos);
  EXPECT_NE(bench.scanner->status().detail.find("retrying in"), std::string::npos);
  Reader reader(port);
  reader.listen();
  ASSERT_TRUE(reader.accept(bench.io));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  ASSERT_TRUE(reader.send("LATE\n"));
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_EQ(bench.scans[0].data, "LATE");
}

TEST(TcpConnectScanner, ALineCutOffByTheDropIsRejected) {
  const auto port = pt::free_port();
  Reader reader(port);
  reader.listen();
  pt::ScannerBench bench;
  bench.start(options(port));
  ASSERT_TRUE(reader.accept(bench.io));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
  // Half a line, then the reader hangs up: TCP delivers the bytes before the end.
  ASSERT_TRUE(reader.send("49012345"));
  reader.hang_up();
  ASSERT_TRUE(bench.wait_for_scans(1));
  EXPECT_NE(bench.scans[0].rejected.find("connection dropped in the middle of a scan"),
            std::string::npos)
      << bench.scans[0].rejected;
  EXPECT_EQ(bench.scans[0].data, "49012345");
  // And it reconnects to the listener that is still there.
  ASSERT_TRUE(reader.accept(bench.io));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::ready));
}

TEST(TcpConnectScanner, DeactivateStopsReconnecting) {
  const auto port = pt::free_port();
  pt::ScannerBench bench;
  bench.start(options(port));
  ASSERT_TRUE(bench.wait_for_state(pd::DeviceState::offline));
  bench.scanner->deactivate();
  EXPECT_EQ(bench.scanner->status().state, pd::DeviceState::inactive);
  Reader reader(port);
  reader.listen();
  // No connection may arrive now. Proving a negative takes a window: 500 ms is many retry
  // periods (20 to 200 ms), so a scanner that kept retrying would have connected by then.
  bench.io.run_for(500ms);
  EXPECT_FALSE(reader.has_pending());
  EXPECT_EQ(bench.scanner->status().state, pd::DeviceState::inactive);
}

TEST(TcpConnectScanner, ABadAddressIsRefusedAtConstruction) {
  boost::asio::io_context io;
  pd::ScannerOptions o = options(1);
  o.address = "scanner.local:2000";
  auto s = pd::make_scanner(io.get_executor(), o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not an IP address"), std::string::npos);
}

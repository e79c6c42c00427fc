#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "packbench/drivers/scanner.hpp"
#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

struct Bench {
  boost::asio::io_context io;
  std::uint16_t port = pt::free_port();
  std::unique_ptr<pd::Scanner> scanner;
  std::vector<pd::Scan> scans;

  explicit Bench(std::size_t max_line = 4096) {
    pd::ScannerOptions opts{"hand", "tcp-listen", "127.0.0.1:" + std::to_string(port), max_line};
    auto s = pd::make_scanner(io.get_executor(), opts);
    EXPECT_TRUE(s);
    scanner = std::move(*s);
    auto a = scanner->activate([this](pd::Scan scan) { scans.push_back(std::move(scan)); });
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
  }

  // Runs the io_context until `n` scans arrived (or a generous time-out).
  void run_until(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (scans.size() < n && std::chrono::steady_clock::now() < deadline) {
      io.run_for(10ms);
    }
  }
};

}  // namespace

TEST(TcpListenScanner, EachLineIsOneScanWhateverTheTerminator) {
  Bench bench;
  EXPECT_EQ(bench.scanner->status().state, pd::DeviceState::ready);
  ASSERT_TRUE(pt::tcp_send(bench.port, "ORDER-1\n4901234567894\r\nX\rlast-without-newline"));
  bench.run_until(4);
  ASSERT_EQ(bench.scans.size(), 4u);
  EXPECT_EQ(bench.scans[0].data, "ORDER-1");
  EXPECT_EQ(bench.scans[1].data, "4901234567894");
  EXPECT_EQ(bench.scans[2].data, "X");
  EXPECT_EQ(bench.scans[3].data, "last-without-newline");
  EXPECT_EQ(bench.scans[0].scanner, "hand");
}

TEST(TcpListenScanner, ALineSplitAcrossWritesIsOneScan) {
  Bench bench;
  std::thread writer([&] {
    // One connection, one line written in three pieces, each its own segment.
    boost::asio::io_context client_io;
    boost::asio::ip::tcp::socket s(client_io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), bench.port});
    s.set_option(boost::asio::ip::tcp::no_delay(true));
    for (const char* piece : {"A\nB", "C", "\n"}) {
      boost::asio::write(s, boost::asio::buffer(std::string(piece)));
    }
  });
  bench.run_until(2);
  writer.join();
  ASSERT_EQ(bench.scans.size(), 2u);
  EXPECT_EQ(bench.scans[1].data, "BC");
}

TEST(TcpListenScanner, OverlongLineIsDroppedAndTheNextOneStillCounts) {
  Bench bench(16);
  ASSERT_TRUE(pt::tcp_send(bench.port, std::string(100, 'Z') + "\nOK\n"));
  bench.run_until(1);
  bench.io.run_for(50ms);
  ASSERT_EQ(bench.scans.size(), 1u);
  EXPECT_EQ(bench.scans[0].data, "OK");
}

TEST(TcpListenScanner, PortInUseIsAClearErrorAndAFault) {
  Bench first;
  pd::ScannerOptions opts;
  opts.name = "second";
  opts.type = "tcp-listen";
  opts.address = "127.0.0.1:" + std::to_string(first.port);
  auto s = pd::make_scanner(first.io.get_executor(), opts);
  ASSERT_TRUE(s);
  auto a = (*s)->activate([](pd::Scan) {});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("cannot listen"), std::string::npos);
  EXPECT_EQ((*s)->status().state, pd::DeviceState::fault);
}

TEST(TcpListenScanner, DeactivateStopsListening) {
  Bench bench;
  bench.scanner->deactivate();
  bench.io.run_for(20ms);
  EXPECT_FALSE(pt::tcp_send(bench.port, "X\n"));
}

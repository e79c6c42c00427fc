#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "packbench/drivers/scanner.hpp"
#include "scanner_bench.hpp"
#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

struct Bench : pt::ScannerBench {
  std::uint16_t port = pt::free_port();

  explicit Bench(std::size_t max_line = 4096, unsigned max_per_second = 50,
                 std::chrono::milliseconds line_timeout = 2000ms) {
    pd::ScannerOptions opts;
    opts.name = "hand";
    opts.type = "tcp-listen";
    opts.address = "127.0.0.1:" + std::to_string(port);
    opts.max_line_bytes = max_line;
    opts.max_scans_per_second = max_per_second;
    opts.line_timeout = line_timeout;
    start(opts);
  }

  void run_until(std::size_t n) { wait_for_scans(n); }
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
  EXPECT_EQ(bench.accepted(), 4u);
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

TEST(TcpListenScanner, SymbologyAndGsComeThrough) {
  Bench bench;
  ASSERT_TRUE(pt::tcp_send(bench.port,
                           "]C1010952345678901\x1D"
                           "10LOT7\r\n"));
  bench.run_until(1);
  ASSERT_EQ(bench.scans.size(), 1u);
  EXPECT_EQ(bench.scans[0].symbology, "]C1");
  EXPECT_EQ(bench.scans[0].data,
            "010952345678901\x1D"
            "10LOT7");
}

TEST(TcpListenScanner, OverlongLineIsRejectedAndTheNextOneStillCounts) {
  Bench bench(16);
  ASSERT_TRUE(pt::tcp_send(bench.port, std::string(100, 'Z') + "\nOK\n"));
  bench.run_until(2);
  ASSERT_EQ(bench.scans.size(), 2u);
  EXPECT_NE(bench.scans[0].rejected.find("longer than 16 bytes"), std::string::npos);
  EXPECT_EQ(bench.scans[0].scanner, "hand");
  EXPECT_EQ(bench.scans[1].data, "OK");
  EXPECT_TRUE(bench.scans[1].rejected.empty());
}

TEST(TcpListenScanner, GarbageIsARejectedScanNotACrash) {
  Bench bench;
  ASSERT_TRUE(pt::tcp_send(bench.port, std::string("\x00\x01\xFF\xFE\n", 5) + "GOOD\n"));
  bench.run_until(2);
  ASSERT_EQ(bench.scans.size(), 2u);
  EXPECT_FALSE(bench.scans[0].rejected.empty());
  EXPECT_EQ(bench.scans[1].data, "GOOD");
}

TEST(TcpListenScanner, AFloodIsReportedNotDelivered) {
  Bench bench(4096, 50);
  std::string burst;
  for (int i = 0; i < 200; ++i) {
    burst += "ITEM-" + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(pt::tcp_send(bench.port, burst));
  // The first report comes at once, the count of the rest about a second later.
  ASSERT_TRUE(pt::run_until(bench.io, [&] {
    for (const auto& s : bench.scans) {
      if (s.rejected.rfind("flood continues", 0) == 0) {
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(bench.accepted(), 50u);
  int reports = 0;
  int counted = 0;
  for (const auto& s : bench.scans) {
    if (s.rejected.rfind("flood:", 0) == 0) {
      ++reports;
    }
    if (s.rejected.rfind("flood continues: ", 0) == 0) {
      counted += std::stoi(s.rejected.substr(17));
    }
  }
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(50 + 1 + counted, 200);
}

TEST(TcpListenScanner, AHalfSentLineTimesOut) {
  Bench bench(4096, 50, 200ms);
  boost::asio::io_context client_io;
  boost::asio::ip::tcp::socket client(client_io);
  client.connect({boost::asio::ip::make_address("127.0.0.1"), bench.port});
  boost::asio::write(client, boost::asio::buffer(std::string("HALF")));
  bench.run_until(1);  // the connection stays open: only the time-out ends the line
  ASSERT_EQ(bench.scans.size(), 1u);
  EXPECT_EQ(bench.scans[0].rejected, "no CR or LF within 200 ms of the last byte");
  EXPECT_EQ(bench.scans[0].data, "HALF");
  boost::asio::write(client, boost::asio::buffer(std::string("NEXT\n")));
  bench.run_until(2);
  ASSERT_EQ(bench.scans.size(), 2u);
  EXPECT_EQ(bench.scans[1].data, "NEXT");
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
  EXPECT_EQ(bench.scanner->status().state, pd::DeviceState::inactive);
}

#include "packbench/drivers/printer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "support.hpp"

namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

std::optional<packbench::Result<void>> print_and_wait(boost::asio::io_context& io,
                                                      pd::Printer& printer, pd::PrintJob job) {
  std::optional<packbench::Result<void>> result;
  printer.print(std::move(job), [&](packbench::Result<void> r) { result = std::move(r); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!result && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
  }
  return result;
}

pd::PrinterOptions options(std::string name, std::string type, std::string address,
                           std::filesystem::path directory = {}) {
  pd::PrinterOptions o;
  o.name = std::move(name);
  o.type = std::move(type);
  o.address = std::move(address);
  o.directory = std::move(directory);
  return o;
}

}  // namespace

TEST(ZplTcpPrinter, DeliversTheExactBytesAsOneConnection) {
  pt::TcpRecorder recorder;
  boost::asio::io_context io;
  auto p =
      pd::make_printer(io.get_executor(),
                       options("label", "zpl-tcp", "127.0.0.1:" + std::to_string(recorder.port())));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  const std::string zpl = "^XA^FDhello^FS^XZ\n";
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", zpl});
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r) << (*r ? "" : r->error().message);
  ASSERT_TRUE(recorder.wait_for_jobs(1));
  EXPECT_EQ(recorder.jobs().at(0), zpl);
  EXPECT_EQ((*p)->status().state, pd::DeviceState::ready);
}

TEST(ZplTcpPrinter, DeadPrinterIsAnErrorAndOffline) {
  boost::asio::io_context io;
  const auto port = pt::free_port();  // nothing listens there
  auto p = pd::make_printer(io.get_executor(),
                            options("label", "zpl-tcp", "127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().message.find("connect"), std::string::npos);
  EXPECT_EQ((*p)->status().state, pd::DeviceState::offline);
}

TEST(ZplTcpPrinter, PrinterThatNeverFinishesReadingTimesOut) {
  // A listener that accepts but never reads or closes: the job must not hang forever.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = silent.local_endpoint().port();
  auto opts = options("label", "zpl-tcp", "127.0.0.1:" + std::to_string(port));
  opts.timeout = 300ms;
  auto p = pd::make_printer(io.get_executor(), opts);
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TEST(FilePrinter, WritesEachJobWholeUnderItsName) {
  pt::TempDir dir;
  boost::asio::io_context io;
  auto opts = options("label", "file", "", dir / "prints");
  auto p = pd::make_printer(io.get_executor(), opts);
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  auto r = print_and_wait(io, **p, {"000001-shipping-label-A", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ(pt::read_file(dir / "prints" / "000001-shipping-label-A.zpl"), "^XA^XZ");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "prints"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(FilePrinter, UnwritableDirectoryIsAFault) {
  pt::TempDir dir;
  pt::write_file(dir / "blocker", "a file where a folder should be");
  boost::asio::io_context io;
  auto opts = options("label", "file", "", dir / "blocker" / "prints");
  auto p = pd::make_printer(io.get_executor(), opts);
  ASSERT_TRUE(p);
  EXPECT_FALSE((*p)->activate());
  EXPECT_EQ((*p)->status().state, pd::DeviceState::fault);
}

TEST(PrinterRegistry, UnknownTypeIsAnError) {
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), options("x", "laser-magic", ""));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("laser-magic"), std::string::npos);
}

#include "packbench/drivers/printer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>

#include "support.hpp"
#include "zpl_printer.hpp"

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

// A zpl-tcp printer that asks ~HS often and waits for its answer briefly, as tests can afford.
pd::PrinterOptions quick(const pt::VirtualZplPrinter& peer) {
  auto o = options("label", "zpl-tcp", peer.address());
  o.status_interval = 50ms;
  o.status_timeout = 300ms;
  o.timeout = 2000ms;
  return o;
}

// Runs the io_context until `pred` holds (true) or 30 s pass (false).
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    io.run_for(5ms);
  }
  return true;
}

bool shows(pd::Printer& p, pd::DeviceState state, const std::string& detail) {
  const auto st = p.status();
  return st.state == state && st.detail.find(detail) != std::string::npos;
}

}  // namespace

TEST(ZplTcpPrinter, DeliversTheExactBytesAsOneConnection) {
  pt::VirtualZplPrinter peer;
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), options("label", "zpl-tcp", peer.address()));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  const std::string zpl = "^XA^FDhello^FS^XZ\n";
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", zpl});
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r) << (*r ? "" : r->error().message);
  ASSERT_TRUE(peer.wait_for_jobs(1));
  EXPECT_EQ(peer.jobs().at(0), zpl);
  EXPECT_GE(peer.status_queries(), 1u);  // asked before the job went out
  EXPECT_EQ((*p)->status().state, pd::DeviceState::ready);
}

TEST(ZplTcpPrinter, AsksHostStatusOnActivateAndShowsReady) {
  pt::VirtualZplPrinter peer;
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  EXPECT_EQ((*p)->status().state, pd::DeviceState::connecting);
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }))
      << (*p)->status().detail;
  // And keeps asking while idle, on connections that carry no job.
  ASSERT_TRUE(run_until(io, [&] { return peer.status_queries() >= 3; }));
  EXPECT_TRUE(peer.jobs().empty());
}

TEST(ZplTcpPrinter, PaperOutIsAFaultAndTheJobWaitsUntilThePrinterIsReady) {
  pt::VirtualZplPrinter peer;
  peer.set_paper_out(true);
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  std::vector<pd::DeviceStatus> heard;
  (*p)->on_status_change([&](const pd::DeviceStatus& st) { heard.push_back(st); });
  ASSERT_TRUE((*p)->activate());
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::fault, "paper out"); }));
  EXPECT_EQ((*p)->status().detail, "paper out");
  EXPECT_EQ((*p)->status().conditions, std::vector<std::string>{"paper_out"});

  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().message.find("paper out"), std::string::npos) << r->error().message;
  EXPECT_NE(r->error().message.find("job-1 held"), std::string::npos) << r->error().message;
  EXPECT_TRUE(peer.jobs().empty());  // not a byte of the job went out

  peer.set_paper_out(false);
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }));
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.back().state, pd::DeviceState::ready);  // the listener heard it come back
  r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r && *r);
  ASSERT_TRUE(peer.wait_for_jobs(1));
  EXPECT_EQ(peer.jobs(), std::vector<std::string>{"^XA^XZ"});
}

TEST(ZplTcpPrinter, EveryFlagThatStopsPrintingIsNamed) {
  pt::VirtualZplPrinter peer;
  peer.set_flags({.paper_out = false, .head_open = true, .ribbon_out = true, .paused = true});
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  ASSERT_TRUE(run_until(io, [&] { return (*p)->status().state == pd::DeviceState::fault; }));
  EXPECT_EQ((*p)->status().detail, "ribbon out, head open, paused");
  EXPECT_EQ((*p)->status().conditions,
            (std::vector<std::string>{"ribbon_out", "head_open", "paused"}));
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(peer.jobs().empty());
}

TEST(ZplTcpPrinter, SilenceAfterConnectingIsAFaultAndNothingIsSent) {
  // ZPL II Programming Guide, ~HS: a printer out of media, or with its head open, may not
  // answer at all. It took the connection, so it is there: a fault, not offline.
  pt::VirtualZplPrinter peer;
  peer.set_silent(true);
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::fault, "no answer to ~HS"); }))
      << (*p)->status().detail;
  EXPECT_EQ((*p)->status().conditions, std::vector<std::string>{"no_status_answer"});
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().message.find("no answer to ~HS"), std::string::npos);
  EXPECT_TRUE(peer.jobs().empty());

  peer.set_silent(false);
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }));
}

TEST(ZplTcpPrinter, GarbageAndHalfAnswersAreAClearErrorNeverACrash) {
  pt::VirtualZplPrinter peer;
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }));
  const std::string real = peer.host_status_answer();

  peer.set_answer("HTTP/1.1 400 Bad Request\r\n\r\n");  // something else on port 9100
  ASSERT_TRUE(run_until(io, [&] { return (*p)->status().state == pd::DeviceState::fault; }));
  EXPECT_EQ((*p)->status().detail,
            "garbled answer to ~HS: expected STX to start string 1, got 'H'");
  EXPECT_EQ((*p)->status().conditions, std::vector<std::string>{"bad_status_answer"});
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);

  // The first string only, then nothing: incomplete once the answer's time is up.
  peer.set_answer(real.substr(0, real.find('\n') + 1));
  ASSERT_TRUE(run_until(io, [&] {
    return shows(**p, pd::DeviceState::fault, "incomplete answer to ~HS");
  })) << (*p)->status().detail;

  // A flag that is neither 0 nor 1.
  std::string bent = real;
  bent[5] = '7';  // string 1, field 2: the paper out flag
  peer.set_answer(bent);
  ASSERT_TRUE(run_until(io, [&] {
    return shows(**p, pd::DeviceState::fault, "string 1 field 2 (paper out flag) is '7'");
  })) << (*p)->status().detail;

  peer.set_answer(std::nullopt);
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }));
  EXPECT_TRUE(peer.jobs().empty());
}

TEST(ZplTcpPrinter, RefusedConnectionIsOfflineAndComesBackReady) {
  const auto port = pt::free_port();
  boost::asio::io_context io;
  auto opts = options("label", "zpl-tcp", "127.0.0.1:" + std::to_string(port));
  opts.status_interval = 50ms;
  opts.status_timeout = 300ms;
  auto p = pd::make_printer(io.get_executor(), opts);
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::offline, "refused"); }))
      << (*p)->status().detail;
  pt::VirtualZplPrinter peer(port);  // switched on
  ASSERT_TRUE(run_until(io, [&] { return shows(**p, pd::DeviceState::ready, "ready"); }));
}

TEST(ZplTcpPrinter, StatusIntervalZeroNeverAsks) {
  pt::VirtualZplPrinter peer;
  boost::asio::io_context io;
  auto opts = options("label", "zpl-tcp", peer.address());
  opts.status_interval = 0ms;
  auto p = pd::make_printer(io.get_executor(), opts);
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  EXPECT_EQ((*p)->status().state, pd::DeviceState::ready);
  auto r = print_and_wait(io, **p, {"job-1", "application/zpl", "^XA^XZ"});
  ASSERT_TRUE(r && *r);
  ASSERT_TRUE(peer.wait_for_jobs(1));
  EXPECT_EQ(peer.status_queries(), 0u);
  EXPECT_EQ(peer.jobs().at(0), "^XA^XZ");
}

TEST(ZplTcpPrinter, StoppingWithAJobWaitingAnswersIt) {
  pt::VirtualZplPrinter peer;
  peer.set_silent(true);  // the job's own ~HS hangs until its time is up
  boost::asio::io_context io;
  auto p = pd::make_printer(io.get_executor(), quick(peer));
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->activate());
  std::optional<packbench::Result<void>> result;
  (*p)->print({"job-1", "application/zpl", "^XA^XZ"},
              [&](packbench::Result<void> r) { result = std::move(r); });
  (*p)->deactivate();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_FALSE(*result);
  EXPECT_EQ((*p)->status().state, pd::DeviceState::inactive);
  EXPECT_TRUE(peer.jobs().empty());
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
  opts.status_interval = 0ms;  // the job's own deadline, not the ~HS one
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

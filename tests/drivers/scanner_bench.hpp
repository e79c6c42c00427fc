// What the scanner tests share: a scanner on a real io_context that records what it delivers,
// and a way to wait for events without fixed sleeps.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "packbench/drivers/scanner.hpp"

namespace packbench::testing {

using namespace std::chrono_literals;

// Runs `io` until `pred` holds or `timeout` passes. Time-outs are generous: they only bound a
// failing test, a passing one returns as soon as the event happened.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    if (io.stopped()) {
      io.restart();
    }
    io.run_for(5ms);
  }
  return true;
}

struct ScannerBench {
  boost::asio::io_context io;
  std::unique_ptr<drivers::Scanner> scanner;
  std::vector<drivers::Scan> scans;

  // Builds and activates; a failure is a test failure.
  void start(const drivers::ScannerOptions& options) {
    auto s = drivers::make_scanner(io.get_executor(), options);
    ASSERT_TRUE(s) << s.error().message;
    scanner = std::move(*s);
    auto a = scanner->activate([this](drivers::Scan scan) { scans.push_back(std::move(scan)); });
    ASSERT_TRUE(a) << a.error().message;
  }

  bool wait_for_scans(std::size_t n, std::chrono::milliseconds timeout = 20s) {
    return run_until(
        io, [&] { return scans.size() >= n; }, timeout);
  }

  bool wait_for_state(drivers::DeviceState state, std::chrono::milliseconds timeout = 20s) {
    return run_until(
        io, [&] { return scanner->status().state == state; }, timeout);
  }

  std::size_t accepted() const {
    std::size_t n = 0;
    for (const auto& s : scans) {
      n += s.rejected.empty() ? 1 : 0;
    }
    return n;
  }
};

}  // namespace packbench::testing

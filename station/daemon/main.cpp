// stationd: the pack-station daemon.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "station/config/config.hpp"
#include "station/daemon/demo.hpp"
#include "station/daemon/logging.hpp"
#include "station/daemon/station_app.hpp"
#include "station/daemon/systemd_notify.hpp"

namespace {

using namespace packbench::station;
using packbench::Error;
using packbench::Result;

constexpr const char* kUsage = R"(usage: stationd [--config FILE]
       stationd --check-config FILE
       stationd --version

Runs the pack station described by FILE. Without --config it runs the built-in demo: state in
./var/, a tcp-listen scanner on 127.0.0.1:7001, a file printer writing to ./var/prints/, sample
orders, and the packer UI on http://127.0.0.1:8080.

  --config FILE        the station's configuration (TOML)
  --check-config FILE  report every problem in FILE and exit 1, or exit 0 when it is valid
  --version            print the version

Environment: PACKBENCH_STATE_DIR replaces [station] state_dir.
)";

int check_config(const std::string& path) {
  const auto loaded = load_config_file(path);
  for (const auto& p : loaded.problems) {
    std::cerr << p.to_string() << "\n";
  }
  if (!loaded.ok()) {
    std::cerr << loaded.problems.size() << " problem" << (loaded.problems.size() == 1 ? "" : "s")
              << " in " << path << "\n";
    return 1;
  }
  std::cout << path << ": ok\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "stationd " << PACKBENCH_VERSION << "\n";
      return 0;
    }
    if ((arg == "--check-config" || arg == "--config") && i + 1 < argc) {
      if (arg == "--check-config") {
        return check_config(argv[i + 1]);
      }
      config_path = argv[++i];
      continue;
    }
    std::cerr << "stationd: unexpected argument '" << arg << "'\n\n" << kUsage;
    return 2;
  }

  const bool demo = config_path.empty();
  if (demo) {
    if (auto made = make_demo_key(); !made) {
      std::cerr << "stationd: " << made.error().message << "\n";
      return 1;
    }
  }
  const auto loaded = demo ? load_config_text(demo_config_toml(), "<built-in demo configuration>",
                                              std::filesystem::current_path())
                           : load_config_file(config_path);
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) {
      std::cerr << p.to_string() << "\n";
    }
    std::cerr << "stationd: not starting; fix the configuration and try again\n";
    return 1;
  }
  setup_logging(loaded.config.log.level);
  ::signal(SIGPIPE, SIG_IGN);

  boost::asio::io_context io;
  StationApp app(io, loaded.config);
  if (demo) {
    app.add_startup_orders(std::string(demo_orders_json()), "demo");
  }
  if (auto started = app.start(); !started) {
    spdlog::critical("not starting: {}", started.error().message);
    return 1;
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer watchdog(io);
  const auto watchdog_interval = systemd_watchdog_interval();
  std::function<void()> pet = [&] {
    systemd_notify("WATCHDOG=1");
    watchdog.expires_after(*watchdog_interval);
    watchdog.async_wait([&](boost::system::error_code ec) {
      if (!ec) {
        pet();
      }
    });
  };
  if (watchdog_interval) {
    pet();
  }
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) {
      return;
    }
    spdlog::info("signal {}: stopping", signo);
    systemd_notify("STOPPING=1");
    app.stop();
    watchdog.cancel();
    // Handlers already queued (a scan being decided, say) run to the end first.
    boost::asio::post(io, [&] { io.stop(); });
  });

  systemd_notify("READY=1\nSTATUS=packing");
  spdlog::info("station ready");
  io.run();
  spdlog::info("stopped");
  return 0;
}

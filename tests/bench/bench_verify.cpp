// tools/dev bench verify: scan-to-verdict latency through the real station.
//
// A client writes scan lines to a tcp-listen scanner on loopback; the station decides each one
// and commits it (synchronous=FULL) before the verdict is published on its verdict bus, where
// the UI and the stack light listen, and the UI sends it to every page over its WebSocket. A
// WebSocket client (Boost.Beast, on its own thread, connected to /ws as a page of the station
// is) receives it there. Measured per scan, one scan in flight at a time:
//   wire:      from the client's write to the verdict published on the bus
//   websocket: from the client's write to the verdict message read by the WebSocket client
//   station:   from the line arriving at the scanner (the read completing) to the verdict
// Beside it, interleaved one for one on the same disk: a bare single-row SQLite commit (the
// floor any durable verdict pays). The station time is also given per kind of verdict: an
// order's first and last scans do more than an item scan (the last queues the label and the
// event), and at one order in a hundred scans they sit right at the 99th percentile. The
// scanner's flood limit is raised to its maximum: the client scans far faster than a hand can.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "floor_commit.hpp"
#include "station/daemon/station_app.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace beast = boost::beast;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

using packbench::bench::percentile;

int main(int argc, char** argv) {
  const int orders = argc > 1 ? std::atoi(argv[1]) : 100;
  const int items = 99;  // per order: 1 order scan + 99 item scans = 100 scans an order
  spdlog::set_level(spdlog::level::err);

  pt::TempDir dir;
  std::string orders_json = "[";
  for (int o = 0; o < orders; ++o) {
    orders_json += (o ? "," : "") + std::string("{\"id\": \"B-") + std::to_string(o) +
                   "\", \"lines\": [{\"sku\": \"TEA\", \"qty\": " + std::to_string(items) +
                   ", \"barcodes\": [\"4901234567894\"]}]}";
  }
  orders_json += "]";
  pt::write_file(dir / "orders.json", orders_json);
  const auto scanner_port = pt::free_port();
  const auto ui_port = pt::free_port();
  pt::write_file(dir / "station.toml",
                 "[station]\nid = \"bench\"\nstate_dir = \"state\"\n[ui]\nlisten = \"127.0.0.1:" +
                     std::to_string(ui_port) +
                     "\"\n[orders]\nfile = \"orders.json\"\n[[scanner]]\nname = \"hand\"\ntype = "
                     "\"tcp-listen\"\nmax_scans_per_second = 10000\naddress = \"127.0.0.1:" +
                     std::to_string(scanner_port) +
                     "\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\n");
  auto loaded = ps::load_config_file(dir / "station.toml");
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.problems[0].to_string().c_str());
    return 1;
  }

  boost::asio::io_context io;
  ps::StationApp app(io, loaded.config);
  if (auto r = app.start(); !r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::size_t verdicts = 0;
  std::vector<Clock::time_point> published;
  std::vector<double> station_us;
  std::map<std::string, std::vector<double>> by_verdict;  // station time, per kind of verdict
  int rejected = 0;
  app.add_verdict_listener([&](const ps::ScanOutcome& o) {
    const auto now = Clock::now();
    std::lock_guard lock(mu);
    published.push_back(now);
    station_us.push_back(std::chrono::duration<double, std::micro>(now - o.received_mono).count());
    by_verdict[std::string(ps::to_string(o.verdict))].push_back(station_us.back());
    rejected += o.accepted() ? 0 : 1;
    ++verdicts;
    cv.notify_all();
  });

  // A page's WebSocket: the verdict messages as the UI sends them, timed on arrival.
  std::vector<Clock::time_point> ws_at;
  bool ws_ready = false;  // the hello has arrived: the station counts this page among its own
  std::string ws_error;
  std::thread page([&] {
    boost::asio::io_context pio;
    beast::websocket::stream<beast::tcp_stream> ws(pio);
    try {
      beast::get_lowest_layer(ws).connect({boost::asio::ip::make_address("127.0.0.1"), ui_port});
      beast::get_lowest_layer(ws).socket().set_option(boost::asio::ip::tcp::no_delay(true));
      // No Origin header: what a same-origin page's browser would be let through as (the
      // station refuses pages from other origins, docs/ui.md).
      ws.handshake("127.0.0.1:" + std::to_string(ui_port), "/ws");
      beast::flat_buffer buffer;
      for (;;) {
        ws.read(buffer);
        const auto now = Clock::now();
        const auto message = json::parse(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
        const auto& type = message.as_object().at("type").as_string();
        std::lock_guard lock(mu);
        if (type == "hello") {
          ws_ready = true;
        } else if (type == "verdict") {
          ws_at.push_back(now);
        }
        cv.notify_all();
      }
    } catch (const std::exception& e) {
      // The station closes the page's connection when it stops: that ends the loop.
      std::lock_guard lock(mu);
      ws_error = e.what();
      cv.notify_all();
    }
  });

  packbench::bench::FloorCommit floor(dir / "floor.db");

  std::vector<double> wire_us;
  std::vector<double> ws_us;
  std::vector<double> floor_us;
  bool page_lost = false;
  std::thread client([&] {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return ws_ready || !ws_error.empty(); });
      page_lost = !ws_ready;
    }
    boost::asio::io_context cio;
    boost::asio::ip::tcp::socket s(cio);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), scanner_port});
    s.set_option(boost::asio::ip::tcp::no_delay(true));
    std::size_t n = 0;
    for (int o = 0; o < orders; ++o) {
      for (int i = 0; i <= items; ++i) {
        const std::string line = (i == 0 ? "B-" + std::to_string(o) : "4901234567894") + "\n";
        const auto t0 = Clock::now();
        boost::asio::write(s, boost::asio::buffer(line));
        ++n;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return verdicts >= n && (ws_at.size() >= n || !ws_error.empty()); });
          if (ws_at.size() < n) {
            page_lost = true;
            break;
          }
          wire_us.push_back(
              std::chrono::duration<double, std::micro>(published[n - 1] - t0).count());
          ws_us.push_back(std::chrono::duration<double, std::micro>(ws_at[n - 1] - t0).count());
        }
        floor_us.push_back(floor.commit(line));
      }
      if (page_lost) {
        break;
      }
    }
    boost::asio::post(io, [&] {
      app.stop();
      io.stop();
    });
  });
  io.run();
  client.join();
  page.join();
  if (page_lost || wire_us.empty()) {
    std::fprintf(stderr, "the WebSocket page lost its connection: %s\n", ws_error.c_str());
    return 1;
  }

  const double f50 = percentile(floor_us, 0.5), f99 = percentile(floor_us, 0.99);
  const double w50 = percentile(wire_us, 0.5), w99 = percentile(wire_us, 0.99);
  const double ws50 = percentile(ws_us, 0.5), ws99 = percentile(ws_us, 0.99);
  const double s50 = percentile(station_us, 0.5), s99 = percentile(station_us, 0.99);
  std::printf("%zu scans (%d orders of %d items), synchronous=FULL, %d rejected\n", wire_us.size(),
              orders, items, rejected);
  std::printf("  client write -> verdict published   p50 %8.1f us   p99 %8.1f us\n", w50, w99);
  std::printf("  client write -> WebSocket message   p50 %8.1f us   p99 %8.1f us\n", ws50, ws99);
  std::printf("  scanner read -> verdict published   p50 %8.1f us   p99 %8.1f us\n", s50, s99);
  std::printf("  bare SQLite commit (floor)          p50 %8.1f us   p99 %8.1f us\n", f50, f99);
  for (const auto& [verdict, us] : by_verdict) {
    std::printf("    %-20s %6zu scans                p50 %8.1f us   p99 %8.1f us   max %8.1f us\n",
                verdict.c_str(), us.size(), percentile(us, 0.5), percentile(us, 0.99),
                *std::max_element(us.begin(), us.end()));
  }
  std::printf("  p99 over the floor's p99: %.2f on the bus, %.2f at the WebSocket (goal <= 2)\n",
              w99 / f99, ws99 / f99);
  std::printf(
      "BENCH verify_scan_to_verdict p50_us=%.1f p99_us=%.1f station_p50_us=%.1f "
      "station_p99_us=%.1f\n",
      w50, w99, s50, s99);
  std::printf("BENCH verify_scan_to_websocket p50_us=%.1f p99_us=%.1f\n", ws50, ws99);
  std::printf("BENCH verify_floor_commit p50_us=%.1f p99_us=%.1f\n", f50, f99);
  std::printf("BENCH verify_ratio p50=%.2f p99=%.2f websocket_p50=%.2f websocket_p99=%.2f\n",
              w50 / f50, w99 / f99, ws50 / f50, ws99 / f99);
  return rejected == 0 ? 0 : 1;
}

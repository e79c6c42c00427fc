// The station, assembled: store, orders, devices, pack session, print queue, outbox and its
// transport, and the HTTP listener, wired on one io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "packbench/drivers/printer.hpp"
#include "packbench/drivers/scanner.hpp"
#include "station/config/config.hpp"
#include "station/discount/pool_pull.hpp"
#include "station/http/http_server.hpp"
#include "station/orders/order_book.hpp"
#include "station/orders/order_feed.hpp"
#include "station/outbox/outbox.hpp"
#include "station/outbox/outbox_sender.hpp"
#include "station/pack/pack_session.hpp"
#include "station/print/order_prints.hpp"
#include "station/print/print_queue.hpp"
#include "station/store/checkpointer.hpp"
#include "station/store/store.hpp"
#include "station/ui/packer_ui.hpp"

namespace packbench::station {

class StationApp {
 public:
  StationApp(boost::asio::io_context& io, Config config);
  ~StationApp();

  // Orders to load at start besides [orders] file: the embedded demo's sample orders.
  void add_startup_orders(std::string json, std::string source);

  Result<void> start();
  // Stops taking scans and requests, then closes devices. Commits are synchronous on the
  // control thread, so none is ever left half-done by a stop.
  void stop();

  // A scan that did not come from a scanner device: the packer UI's scan field, POST
  // /api/scans. It goes through the same rules and the same pack session.
  Result<ScanOutcome> submit_scan(std::string_view source, std::string_view text);

  // Hears every verdict after its commit: the UI, the stack light, benchmarks.
  void add_verdict_listener(VerdictListener listener);

  // The packer UI, once started: for parts of the station that add to what it shows.
  PackerUi* ui() { return ui_.get(); }

  boost::json::object health();
  std::string metrics();  // Prometheus text format
  HttpResponse handle_http(const HttpRequest& req);

 private:
  Result<void> import_orders(const std::string& json, const std::string& source);
  Result<ScanOutcome> on_scan(drivers::Scan scan);
  HttpResponse post_scan(const HttpRequest& req);
  boost::json::object ui_status();
  boost::json::array discount_pools();
  Result<void> make_order_printer();
  void add_discount_to_completion(const std::string& order_id, boost::json::object& completion);

  boost::asio::io_context& io_;
  Config config_;
  std::vector<std::pair<std::string, std::string>> startup_orders_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  std::optional<Database> db_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<OrderBook> orders_;
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::unique_ptr<drivers::Printer>> printers_;
  std::vector<std::unique_ptr<drivers::Scanner>> scanners_;
  std::unique_ptr<PrintQueue> prints_;
  std::unique_ptr<OrderPrinter> order_printer_;
  std::unique_ptr<PackSession> pack_;
  std::unique_ptr<OutboxSender> sender_;
  std::unique_ptr<OrderFeed> feed_;
  std::unique_ptr<discount::PoolPull> pool_pull_;
  std::unique_ptr<PackerUi> ui_;
  std::unique_ptr<HttpServer> http_;
  bool stopped_ = false;
};

}  // namespace packbench::station

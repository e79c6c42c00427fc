// The packer UI: the kiosk page the station serves (its assets are compiled in) and the
// WebSocket it talks over. Scans typed into the page (a keyboard-wedge scanner, or the page's
// own buttons for the bench's codes) go into the same pack session as the hardware scanners;
// every verdict, from any scanner, goes out to every page, with the pack's state, and the
// station's status (network, outbox, printers, scanners) follows whenever it changes.
//
// The message format is documented for back-office developers in docs/ui.md.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "station/http/http_server.hpp"
#include "station/orders/order_book.hpp"
#include "station/pack/pack_session.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

struct PackerUiContext {
  Database& db;
  OrderBook& orders;
  PackSession& pack;
  StationIdentity identity;
  PackRules rules;
  std::string locale;  // the station's default; the packer may pick another on the page
  // Into the pack session, as a scan from the scanner named `source`.
  std::function<Result<ScanOutcome>(std::string_view source, std::string_view text)> submit;
  // The station's status, as the UI shows it: {"network", "outbox", "printers", "scanners",
  // "cameras", "prints_pending"} (docs/ui.md).
  std::function<boost::json::object()> status;
};

// Adds to the completion of an order what other parts of the station issued for it (a discount
// code: {"discount": {...}}). Runs on the control thread after the order's commit.
using CompletionExtras =
    std::function<void(const std::string& order_id, boost::json::object& completion)>;

class PackerUi {
 public:
  PackerUi(boost::asio::any_io_executor ex, PackerUiContext context);
  ~PackerUi();
  PackerUi(const PackerUi&) = delete;
  PackerUi& operator=(const PackerUi&) = delete;

  // The page and its assets; nullopt for a path that is not the UI's.
  std::optional<HttpResponse> serve(const HttpRequest& req);
  // The WebSocket route, for HttpServer::add_websocket("/ws", ...).
  WebSocketRoute websocket();
  // Register with the pack session: every verdict, from every scanner.
  void on_verdict(const ScanOutcome& outcome);
  void add_completion_extras(CompletionExtras extras);
  // What the back office asked of orders on the bench that waits for the pack to end (the
  // order feed's held changes, [{"order", "change", "version", "reason", "received_at"}]): every
  // page gets it now, and each page that connects later with its hello.
  void set_notices(boost::json::array notices);
  // Closes every page's connection; the pages show that they are reconnecting.
  void stop();

  std::size_t clients() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace packbench::station

// The pack session: what happens at the bench between "scan an order" and "parcel closed".
//
//   idle --(order id)--> open --(item scans)--> ... --(last item)--> complete -> idle
//
// Every scan is decided and its row committed before the verdict leaves this class, so a
// verdict the packer has seen survives a power cut. Completing an order queues its shipping
// label and writes its order.packed event in that same transaction.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "packbench/drivers/scanner.hpp"
#include "station/orders/order_book.hpp"
#include "station/outbox/outbox.hpp"
#include "station/print/print_queue.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

enum class Verdict {
  order_opened,          // the scan was an order id; its lines are now expected
  order_already_open,    // the open order's id again: nothing changes
  item_accepted,         // an expected item
  order_complete,        // the last expected item: labels print, the event goes out
  wrong_item,            // not in this order
  over_scan,             // in this order, but all of it is already scanned
  order_not_found,       // no open order and the scan is no known order id
  order_already_packed,  // that order was packed before
  order_cancelled,       // that order was cancelled
  another_order_open,    // an order id while a different order is open
};
std::string_view to_string(Verdict v);
bool is_accepted(Verdict v);

struct LineProgress {
  std::string sku;
  std::string name;
  std::vector<std::string> barcodes;
  int scanned = 0;
  int qty = 0;
};

struct OpenOrder {
  std::int64_t session_id = 0;
  std::string order_id;
  std::vector<LineProgress> lines;
  int scanned() const;
  int expected() const;
};

struct ScanOutcome {
  Verdict verdict;
  std::string scan;
  std::string order_id;
  std::string message;  // for the packer, in words
  std::optional<int> line;
  int scanned = 0;
  int expected = 0;
};

struct StationIdentity {
  std::string station_id;
  std::string site;
};

class PackSession {
 public:
  PackSession(Database& db, OrderBook& orders, Outbox& outbox, PrintQueue& prints,
              StationIdentity identity, int label_dpi = 203);

  // Loads the order that was open when the station stopped, if any.
  Result<void> restore();

  // Decides a scan, commits it, then returns the verdict. On a store error nothing changed.
  Result<ScanOutcome> handle(const drivers::Scan& scan);

  const std::optional<OpenOrder>& current() const { return open_; }

 private:
  struct Decision {
    ScanOutcome outcome;
    std::optional<OpenOrder> next;  // the open order after this scan
  };
  Decision decide_idle(const drivers::Scan& scan);
  Decision decide_open(const drivers::Scan& scan);
  void complete(const OpenOrder& order, const drivers::Scan& scan);
  void record(const drivers::Scan& scan, const ScanOutcome& outcome,
              std::optional<std::int64_t> session_id);

  Database& db_;
  OrderBook& orders_;
  Outbox& outbox_;
  PrintQueue& prints_;
  StationIdentity identity_;
  int label_dpi_;
  std::optional<OpenOrder> open_;
  bool completed_in_tx_ = false;
};

}  // namespace packbench::station

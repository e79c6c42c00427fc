// The pack session: what happens at the bench between "scan an order" and "parcel closed".
//
//   idle, closed --(order id)--> order_open --(an item)--> scanning --(last item)--> complete
//                                    ^----(undo to none)-----'                          |
//   idle <--(CMD-CANCEL)-- order_open, scanning         closed <--(the same commit)----'
//   order_open, scanning --(CMD-SHORT, supervisor, reason)--> closed (short)
//   idle, closed --(CMD-REOPEN, supervisor, order id)--> order_open
//
// `complete` lasts only inside the transaction of the last item's scan (labels and the
// order.packed event are written there); what anyone sees after the commit is `closed`
// (docs/packing.md, "The bench's state").
//
// Besides orders and items the packer scans the bench's own codes (see PackRules): a badge to
// log in or out, a quantity before an item, commands (undo the last scan, cancel, close the box
// and start the next, declare a short pick, reopen a packed order) and, where a supervisor must
// agree, the supervisor's badge or PIN followed by a reason code.
//
// Every scan is decided and its rows committed before the verdict leaves this class, so a
// verdict the packer has seen survives a power cut. Closing a box or an order queues its label
// and writes its events in that same transaction.
#pragma once

#include <algorithm>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "packbench/drivers/scanner.hpp"
#include "station/orders/order_book.hpp"
#include "station/outbox/outbox.hpp"
#include "station/pack/pack_rules.hpp"
#include "station/print/order_prints.hpp"
#include "station/print/print_queue.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

enum class Verdict {
  // accepted: the bench moved on
  order_opened,        // the scan was an order id; its lines are now expected
  order_already_open,  // the open order's id again: nothing changes
  item_accepted,       // an expected item (or several, after a quantity)
  order_complete,      // the last expected item: labels print, the event goes out
  quantity_set,        // the next item scan counts this many
  serial_needed,       // the item needs its serial: scan it next
  lot_needed,          // the item needs its lot: scan it next
  expiry_needed,       // the item needs its expiry date: scan it next
  scan_undone,         // the last scan (or the pending quantity/serial/lot/override) is undone
  box_closed,          // this box's label prints; the next items go to the next box
  pack_cancelled,      // the packer gave up on this order; it can be packed again
  supervisor_needed,   // an override was asked for: a supervisor's badge or PIN is next
  reason_needed,       // the supervisor agreed: the reason code is next
  order_closed_short,  // closed with an exception: labels print for what is in the boxes
  reopen_authorised,   // a supervisor agreed to reopen: the order's id is next
  order_reopened,      // a packed order is open again, its earlier scans still counted
  packer_logged_in,
  packer_logged_out,
  // rejected: nothing changed
  wrong_item,            // a known product, but not in this order
  unknown_barcode,       // not a code of any order this station knows
  over_scan,             // in this order, but all of it is already scanned
  order_not_found,       // no open order and the scan is no known order id
  order_already_packed,  // that order was packed before
  order_cancelled,       // that order was cancelled by the back office
  another_order_open,    // an order id while a different order is open
  duplicate_serial,      // this serial was already packed in this order
  expired,               // the item's expiry date has passed
  nothing_to_undo,
  empty_box,         // closing a box with nothing in it
  not_authorised,    // not a supervisor's badge or PIN
  unknown_reason,    // not one of the configured reason codes
  unknown_command,   // a bench code this station does not know, or not now
  invalid_quantity,  // a quantity of 0, above the limit, or for an item that needs serials
  login_required,    // the station requires a packer and none is logged in
  rejected_scan,     // the scanner delivered garbage (see Scan::rejected), or the scan's data
                     // cannot be right (an expiry that is no date)
  not_recorded,      // the store could not commit: nothing changed, scan again
  outbox_full,       // the scan would write an event and the outbox is full: nothing changed;
                     // the station cannot close orders until the back office takes events
  storage_full,      // the station's disk is full: nothing changed, nothing recorded
};
std::string_view to_string(Verdict v);
bool is_accepted(Verdict v);

// Where the bench is in the pack of an order, as the packer, the UI and /healthz see it.
enum class BenchState {
  idle,        // no order open, and the last pack (if any) was cancelled
  order_open,  // an order is open and nothing of it is counted in this session yet
  scanning,    // items of the open order are counted, or one is in hand (quantity, serial...)
  complete,    // all items in: labels, prints and events are being written, in the last
               // item's own transaction; never seen after its commit
  closed,      // no order open; the last pack closed its order (complete or short)
};
std::string_view to_string(BenchState s);

struct LineProgress {
  std::string sku;
  std::string name;
  std::vector<std::string> keys;  // barcodes as matched: GTIN-14 where the code is a GTIN
  int scanned = 0;
  int qty = 0;
  bool serial_required = false;
  bool lot_required = false;
  bool expiry_required = false;
  std::vector<std::string> serials;
};

// What the next scan will be taken as, besides an ordinary order or item scan.
struct Pending {
  enum class Kind { none, quantity, serial, lot, expiry, supervisor, reason, reopen_order };
  Kind kind = Kind::none;
  int quantity = 0;        // quantity: the count for the next item; lot, expiry: of the item
  int line = -1;           // serial, lot, expiry: for which line
  std::string serial;      // lot, expiry: the serial already read or scanned for the item
  std::string lot;         // serial, expiry: a lot already read or scanned for the item
  std::string expiry;      // serial, lot: an expiry already read with the item
  std::string purpose;     // supervisor: "short" or "reopen"
  std::string supervisor;  // reason, reopen_order: who agreed
  int attempts = 0;        // supervisor: wrong badges or PINs so far

  bool operator==(const Pending&) const = default;
  boost::json::object to_json() const;
  static Pending from_json(const boost::json::object& o);
};

struct OpenOrder {
  std::int64_t session_id = 0;
  std::string order_id;
  int box = 1;
  bool reopened = false;
  std::vector<LineProgress> lines;
  Pending pending;
  std::map<int, int> boxes;  // items in each box, net of undos; earlier sessions' boxes too
  int session_items = 0;     // items counted in this session, net of undos (a reopened order
                             // counts its earlier items in `lines`, not here)
  int scanned() const;
  int expected() const;
};

struct ScanOutcome {
  Verdict verdict = Verdict::rejected_scan;
  std::string scan;
  std::string symbology;
  std::string order_id;
  std::string packer;
  std::string message;  // for the packer, in words
  std::optional<int> line;
  int box = 0;
  int scanned = 0;
  int expected = 0;
  std::chrono::steady_clock::time_point received_mono;  // when the scan reached the station
  bool accepted() const { return is_accepted(verdict); }
  boost::json::object to_json() const;
};

struct StationIdentity {
  std::string station_id;
  std::string site;
};

// Subscribers (the UI, the stack light, metrics) hear every verdict after it is committed.
using VerdictListener = std::function<void(const ScanOutcome&)>;

class PackSession {
 public:
  PackSession(Database& db, OrderBook& orders, Outbox& outbox, PrintQueue& prints,
              StationIdentity identity, PackRules rules = {});
  ~PackSession();

  // Loads the order that was open when the station stopped, if any, and who was logged in.
  Result<void> restore();

  // Decides a scan, commits it, tells the listeners, then returns the verdict. On a store
  // error nothing changed and nobody was told.
  Result<ScanOutcome> handle(const drivers::Scan& scan);

  void add_listener(VerdictListener listener) { listeners_.push_back(std::move(listener)); }

  // The running figures (scan_counts) take in the scans since the last time every this many
  // scans, in that scan's transaction; until then they are added when the figures are read.
  void fold_every(std::int64_t scans) { fold_every_ = std::max<std::int64_t>(scans, 1); }
  // What the station prints for an order (docs/labels.md): each box's shipping label, through
  // the profile of the printer that serves shipping labels, and at completion the insert,
  // discount card and packing slip with the discount it issues. Without one, the built-in
  // shipping label for a zpl-203 printer and nothing else.
  void set_order_printer(const OrderPrinter* printer) {
    order_printer_ = printer ? printer : own_printer_.get();
  }

  const std::optional<OpenOrder>& current() const { return state_.open; }
  const std::string& packer() const { return state_.packer; }
  BenchState bench_state() const;
  // The bench's state as JSON: state, packer, open order, box, lines, pending. Two stations
  // that took the same scans have equal snapshots.
  boost::json::object snapshot() const;

 private:
  struct State {
    std::optional<OpenOrder> open;
    std::string packer;
    Pending idle_pending;  // reopen authorisation while no order is open
    bool closed = false;   // no order open, and the last pack closed its order
  };
  struct Row {  // what the scan's own row records besides the verdict
    std::optional<int> line;
    int qty = 0;  // items counted; for an undo, minus the items taken back
    int box = 0;
    std::string serial;
    std::string lot;
    std::string expiry;
    std::optional<std::int64_t> undoes;  // the scan an undo took back
  };
  struct AuditEntry {  // an override or state change, written after the scan that caused it
    std::string_view kind;
    std::string order_id;
    std::string packer;
    std::string detail;  // JSON
  };

  ScanOutcome decide(const drivers::Scan& scan, State& st, Row& row);
  ScanOutcome decide_badge(const std::string& data, State& st);
  ScanOutcome decide_supervisor(const std::string& data, State& st);
  ScanOutcome decide_command(const std::string& data, State& st, Row& row);
  ScanOutcome decide_reason(const std::string& data, State& st);
  ScanOutcome decide_quantity(int quantity, State& st);
  ScanOutcome decide_capture(const drivers::Scan& scan, State& st, Row& row);
  ScanOutcome decide_expiry(const drivers::Scan& scan, State& st, Row& row);
  // After an item's serial or lot: what else its line needs, or the item counted.
  ScanOutcome capture_next(State& st, Row& row);
  ScanOutcome decide_idle(const std::string& data, State& st);
  ScanOutcome decide_item(const drivers::Scan& scan, State& st, Row& row);
  ScanOutcome accept_items(State& st, Row& row, int line, int qty, std::string serial,
                           std::string lot, std::string expiry);
  ScanOutcome undo(State& st, Row& row);
  ScanOutcome close_box(State& st);
  // Returns what the packer must hear about the prints (a problem), or "".
  std::string finish_order(State& st, const std::optional<boost::json::object>& exception);
  std::string print_order(const std::string& order_id, int boxes);
  std::string queue_box_label(const OpenOrder& open, const Parcel& parcel, const std::string& at,
                              std::string& sscc);
  void save_pending(const State& before, const State& st);
  void fold(std::int64_t through);
  void audit(std::string_view kind, const std::string& order_id, boost::json::object detail);
  void emit(const std::string& type, const std::string& subject, boost::json::object data);
  std::int64_t record_scan(const drivers::Scan& scan, const ScanOutcome& out, const Row& row,
                           const std::optional<std::int64_t>& session, const std::string& packer);
  ScanOutcome refuse(const drivers::Scan& scan, Verdict verdict, std::string message);
  std::optional<OpenOrder> load_open_order(std::int64_t session_id, const Order& order, int box,
                                           bool reopened, const Pending& pending);
  const Supervisor* find_supervisor(const std::string& data) const;
  bool looks_like_pin(const std::string& data) const;
  ScanOutcome outcome(Verdict v, const State& st, std::string message) const;

  Database& db_;
  OrderBook& orders_;
  Outbox& outbox_;
  PrintQueue& prints_;
  StationIdentity identity_;
  PackRules rules_;
  std::unique_ptr<OrderPrinter> own_printer_;
  const OrderPrinter* order_printer_;
  State state_;
  const State* deciding_ = &state_;  // the state a decision is building: audit rows and events
                                     // carry its packer
  std::vector<VerdictListener> listeners_;
  // Set inside a transaction, acted on after its commit.
  bool queued_prints_ = false;
  bool queued_events_ = false;
  std::vector<std::pair<std::string, std::string>> emitted_;  // type, subject
  std::vector<AuditEntry> audit_entries_;
  std::chrono::system_clock::time_point received_at_;
  std::string now_;  // the wall time of the scan being decided, as stored
  std::int64_t mono_ns_ = 0;
  std::int64_t fold_every_ = 1000;
  std::int64_t unfolded_ = 0;  // scans not yet folded into the running figures
};

}  // namespace packbench::station

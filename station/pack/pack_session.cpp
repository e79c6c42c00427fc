#include "station/pack/pack_session.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <map>

#include "station/common/clock.hpp"
#include "station/gs1/gs1.hpp"
#include "station/print/parcels.hpp"

namespace packbench::station {

namespace json = boost::json;

std::string_view to_string(Verdict v) {
  switch (v) {
#define PACKBENCH_VERDICT(name) \
  case Verdict::name:           \
    return #name;
    PACKBENCH_VERDICT(order_opened)
    PACKBENCH_VERDICT(order_already_open)
    PACKBENCH_VERDICT(item_accepted)
    PACKBENCH_VERDICT(order_complete)
    PACKBENCH_VERDICT(quantity_set)
    PACKBENCH_VERDICT(serial_needed)
    PACKBENCH_VERDICT(lot_needed)
    PACKBENCH_VERDICT(expiry_needed)
    PACKBENCH_VERDICT(scan_undone)
    PACKBENCH_VERDICT(box_closed)
    PACKBENCH_VERDICT(pack_cancelled)
    PACKBENCH_VERDICT(supervisor_needed)
    PACKBENCH_VERDICT(reason_needed)
    PACKBENCH_VERDICT(order_closed_short)
    PACKBENCH_VERDICT(reopen_authorised)
    PACKBENCH_VERDICT(order_reopened)
    PACKBENCH_VERDICT(packer_logged_in)
    PACKBENCH_VERDICT(packer_logged_out)
    PACKBENCH_VERDICT(wrong_item)
    PACKBENCH_VERDICT(unknown_barcode)
    PACKBENCH_VERDICT(over_scan)
    PACKBENCH_VERDICT(order_not_found)
    PACKBENCH_VERDICT(order_already_packed)
    PACKBENCH_VERDICT(order_cancelled)
    PACKBENCH_VERDICT(another_order_open)
    PACKBENCH_VERDICT(duplicate_serial)
    PACKBENCH_VERDICT(expired)
    PACKBENCH_VERDICT(nothing_to_undo)
    PACKBENCH_VERDICT(empty_box)
    PACKBENCH_VERDICT(not_authorised)
    PACKBENCH_VERDICT(unknown_reason)
    PACKBENCH_VERDICT(unknown_command)
    PACKBENCH_VERDICT(invalid_quantity)
    PACKBENCH_VERDICT(login_required)
    PACKBENCH_VERDICT(rejected_scan)
    PACKBENCH_VERDICT(not_recorded)
    PACKBENCH_VERDICT(outbox_full)
    PACKBENCH_VERDICT(storage_full)
#undef PACKBENCH_VERDICT
  }
  return "unknown";
}

bool is_accepted(Verdict v) {
  return v <= Verdict::packer_logged_out;
}

std::string_view to_string(BenchState s) {
  switch (s) {
    case BenchState::idle:
      return "idle";
    case BenchState::order_open:
      return "order_open";
    case BenchState::scanning:
      return "scanning";
    case BenchState::complete:
      return "complete";
    case BenchState::closed:
      return "closed";
  }
  return "idle";
}

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return !prefix.empty() && s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  for (unsigned char b : digest) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

// "QTY-6", "x6", "X6" or "×6": the count for the next item. nullopt when the scan is none of
// these; 0 when it is one but the number is not usable.
std::optional<int> parse_quantity(std::string_view data, std::string_view prefix) {
  std::string_view digits;
  if (starts_with(data, prefix)) {
    digits = data.substr(prefix.size());
  } else if (data.size() > 1 && (data[0] == 'x' || data[0] == 'X')) {
    digits = data.substr(1);
  } else if (starts_with(data, "\xC3\x97")) {  // U+00D7 MULTIPLICATION SIGN
    digits = data.substr(2);
  } else {
    return std::nullopt;
  }
  if (digits.empty() || digits.size() > 6 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // "x" followed by something else is an ordinary code, not a quantity.
    return starts_with(data, prefix) ? std::optional<int>(0) : std::nullopt;
  }
  return std::stoi(std::string(digits));
}

// AI 17 (YYMMDD, DD 00 = end of the month) before `today` (YYYYMMDD as a number).
// A valid AI 17 date: six digits, month 1-12, day 0-31 (the GS1 reader reports the rest).
bool is_expiry_date(const std::string& yymmdd) {
  if (yymmdd.size() != 6 ||
      !std::all_of(yymmdd.begin(), yymmdd.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int mm = std::stoi(yymmdd.substr(2, 2));
  const int dd = std::stoi(yymmdd.substr(4, 2));
  return mm >= 1 && mm <= 12 && dd <= 31;
}

bool expiry_passed(const std::string& yymmdd, int today) {
  if (!is_expiry_date(yymmdd)) {
    return false;
  }
  const int yy = std::stoi(yymmdd.substr(0, 2));
  const int mm = std::stoi(yymmdd.substr(2, 2));
  int dd = std::stoi(yymmdd.substr(4, 2));
  if (dd == 0) {
    dd = 31;
  }
  // GS1 General Specifications 7.12: the century is the one that puts the year within
  // 49 years back and 50 years ahead of now.
  const int this_year = today / 10000;
  int year = this_year / 100 * 100 + yy;
  if (year - this_year > 50) {
    year -= 100;
  } else if (this_year - year > 49) {
    year += 100;
  }
  return year * 10000 + mm * 100 + dd < today;
}

// The station's local date: an item expires at midnight where it is packed, not in Greenwich.
int yyyymmdd(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

const char* pending_name(Pending::Kind k) {
  switch (k) {
    case Pending::Kind::none:
      return "none";
    case Pending::Kind::quantity:
      return "quantity";
    case Pending::Kind::serial:
      return "serial";
    case Pending::Kind::lot:
      return "lot";
    case Pending::Kind::expiry:
      return "expiry";
    case Pending::Kind::supervisor:
      return "supervisor";
    case Pending::Kind::reason:
      return "reason";
    case Pending::Kind::reopen_order:
      return "reopen_order";
  }
  return "none";
}

std::string text_or_empty(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::int64_t int_or(const json::object& o, const char* key, std::int64_t fallback) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : fallback;
}

std::optional<std::size_t> line_of(const OpenOrder& open, const std::string& key) {
  for (std::size_t i = 0; i < open.lines.size(); ++i) {
    const auto& keys = open.lines[i].keys;
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace

json::object Pending::to_json() const {
  json::object o;
  o["kind"] = pending_name(kind);
  if (kind == Kind::none) {
    return o;
  }
  o["quantity"] = quantity;
  o["line"] = line;
  o["serial"] = serial;
  o["lot"] = lot;
  o["expiry"] = expiry;
  o["purpose"] = purpose;
  o["supervisor"] = supervisor;
  o["attempts"] = attempts;
  return o;
}

Pending Pending::from_json(const json::object& o) {
  Pending p;
  const std::string kind = text_or_empty(o, "kind");
  for (auto k : {Kind::quantity, Kind::serial, Kind::lot, Kind::expiry, Kind::supervisor,
                 Kind::reason, Kind::reopen_order}) {
    if (kind == pending_name(k)) {
      p.kind = k;
    }
  }
  p.quantity = static_cast<int>(int_or(o, "quantity", 0));
  p.line = static_cast<int>(int_or(o, "line", -1));
  p.serial = text_or_empty(o, "serial");
  p.lot = text_or_empty(o, "lot");
  p.expiry = text_or_empty(o, "expiry");
  p.purpose = text_or_empty(o, "purpose");
  p.supervisor = text_or_empty(o, "supervisor");
  p.attempts = static_cast<int>(int_or(o, "attempts", 0));
  return p;
}

int OpenOrder::scanned() const {
  int n = 0;
  for (const auto& l : lines) {
    n += l.scanned;
  }
  return n;
}

int OpenOrder::expected() const {
  int n = 0;
  for (const auto& l : lines) {
    n += l.qty;
  }
  return n;
}

json::object ScanOutcome::to_json() const {
  json::object o;
  o["verdict"] = to_string(verdict);
  o["accepted"] = accepted();
  o["scan"] = scan;
  o["symbology"] = symbology;
  o["order"] = order_id.empty() ? json::value() : json::value(order_id);
  o["packer"] = packer.empty() ? json::value() : json::value(packer);
  o["message"] = message;
  o["line"] = line ? json::value(*line) : json::value();
  o["box"] = box;
  o["scanned"] = scanned;
  o["expected"] = expected;
  return o;
}

PackSession::PackSession(Database& db, OrderBook& orders, Outbox& outbox, PrintQueue& prints,
                         StationIdentity identity, PackRules rules)
    : db_(db),
      orders_(orders),
      outbox_(outbox),
      prints_(prints),
      identity_(std::move(identity)),
      rules_(std::move(rules)),
      // Until the station hands over its own: the built-in shipping label for a zpl-203
      // printer, and nothing else.
      own_printer_(std::make_unique<OrderPrinter>(
          InsertsConfig{}, ShippingConfig{}, std::vector<discount::Campaign>{}, std::nullopt,
          std::nullopt, identity_.station_id, identity_.site,
          std::map<std::string, PrintTarget>{
              {"shipping-label",
               PrintTarget{*labels::builtin_profile("zpl-203"), labels::OutputFormat::zpl}}})),
      order_printer_(own_printer_.get()) {}

PackSession::~PackSession() = default;

// --- state in the store -----------------------------------------------------------------------

std::optional<OpenOrder> PackSession::load_open_order(std::int64_t session_id, const Order& order,
                                                      int box, bool reopened,
                                                      const Pending& pending) {
  OpenOrder open;
  open.session_id = session_id;
  open.order_id = order.id;
  open.box = box;
  open.reopened = reopened;
  open.pending = pending;
  for (const auto& line : order.lines) {
    LineProgress p;
    p.sku = line.sku;
    p.name = line.name;
    p.qty = line.qty;
    p.serial_required = line.serial_required;
    p.lot_required = line.lot_required;
    p.expiry_required = line.expiry_required;
    for (const auto& code : line.barcodes) {
      p.keys.push_back(barcode_key(code));
    }
    open.lines.push_back(std::move(p));
  }
  // What counts: every scan of this order that counted items, in any session the packer did
  // not cancel, less what undos took back. A reopened order keeps what was packed before.
  auto counts = db_.statement(
      "SELECT s.line_no, s.qty, s.serial, s.box, s.session_id FROM scans s "
      "JOIN pack_sessions p ON p.id = s.session_id "
      "WHERE s.order_id = ?1 AND s.qty != 0 AND s.undone = 0 AND p.state != 'cancelled' "
      "ORDER BY s.id");
  counts.bind_all(order.id);
  while (counts.step()) {
    const auto line = static_cast<std::size_t>(counts.column_int(0));
    if (line >= open.lines.size()) {
      continue;
    }
    auto& progress = open.lines[line];
    const int qty = static_cast<int>(counts.column_int(1));
    progress.scanned += qty;
    open.boxes[static_cast<int>(counts.column_int(3))] += qty;
    if (counts.column_int(4) == session_id) {
      open.session_items += qty;
    }
    if (auto serial = counts.column_optional_text(2); serial && !serial->empty()) {
      if (qty > 0) {
        progress.serials.push_back(*serial);
      } else {
        progress.serials.erase(
            std::remove(progress.serials.begin(), progress.serials.end(), *serial),
            progress.serials.end());
      }
    }
  }
  return open;
}

Result<void> PackSession::restore() {
  auto restored = db_.read([&]() -> State {
    State st;
    auto tail = db_.statement(
        "SELECT coalesce(max(id), 0) - coalesce((SELECT CAST(value AS INTEGER) FROM "
        "station_state WHERE key = 'counts_through'), 0) FROM scans");
    unfolded_ = tail.step() ? tail.column_int(0) : 0;
    auto kv = db_.statement("SELECT key, value FROM station_state");
    while (kv.step()) {
      const std::string key = kv.column_text(0);
      if (key == "packer") {
        st.packer = kv.column_text(1);
      } else if (key == "idle_pending") {
        auto v = json::parse(kv.column_text(1));
        st.idle_pending = Pending::from_json(v.as_object());
      }
    }
    auto sel = db_.statement(
        "SELECT id, order_id, box, reopened, pending FROM pack_sessions WHERE state = 'open'");
    if (!sel.step()) {
      // Closed when the last pack closed its order; idle when it was cancelled, or none yet.
      auto last = db_.statement("SELECT state FROM pack_sessions ORDER BY id DESC LIMIT 1");
      st.closed = last.step() && last.column_text(0) == "complete";
      return st;
    }
    const std::int64_t session_id = sel.column_int(0);
    const std::string order_id = sel.column_text(1);
    const int box = static_cast<int>(sel.column_int(2));
    const bool reopened = sel.column_int(3) != 0;
    Pending pending;
    if (auto p = sel.column_optional_text(4)) {
      pending = Pending::from_json(json::parse(*p).as_object());
    }
    auto found = orders_.find(order_id);
    if (!found) {
      throw StoreError(0, "the open pack session refers to an unknown order " + order_id);
    }
    st.open = load_open_order(session_id, found->first, box, reopened, pending);
    return st;
  });
  if (!restored) {
    return restored.error();
  }
  state_ = std::move(*restored);
  return {};
}

// Writes what changed between `before` and `st`: fewer pages per commit, a shorter fsync.
void PackSession::save_pending(const State& before, const State& st) {
  if (st.open) {
    const bool same_session = before.open && before.open->session_id == st.open->session_id;
    if (!same_session || before.open->box != st.open->box ||
        !(before.open->pending == st.open->pending)) {
      db_.statement("UPDATE pack_sessions SET box = ?2, pending = ?3 WHERE id = ?1")
          .bind_all(st.open->session_id, st.open->box, json::serialize(st.open->pending.to_json()))
          .run();
    }
  }
  if (before.packer != st.packer) {
    db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('packer', ?1)")
        .bind_all(st.packer)
        .run();
  }
  if (!(before.idle_pending == st.idle_pending)) {
    db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('idle_pending', ?1)")
        .bind_all(json::serialize(st.idle_pending.to_json()))
        .run();
  }
}

// Folds the scans up to `through` into the running figures (scan_counts), and lets the minutes
// that left the last hour go.
void PackSession::fold(std::int64_t through) {
  db_.statement(
         "INSERT INTO scan_counts (packer, period, scans, rejected, items, undone, packs) "
         "SELECT packer, period, sum(scans), sum(rejected), sum(items), sum(undone), sum(packs) "
         "FROM scan_counts_pending WHERE true GROUP BY packer, period "
         "ON CONFLICT (packer, period) DO UPDATE SET scans = scans + excluded.scans, "
         "rejected = rejected + excluded.rejected, items = items + excluded.items, "
         "undone = undone + excluded.undone, packs = packs + excluded.packs")
      .run();
  db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('counts_through', ?1)")
      .bind_all(std::to_string(through))
      .run();
  db_.statement("DELETE FROM scan_counts WHERE period < ?1")
      .bind_all(format_utc(received_at_ - std::chrono::minutes(59)).substr(0, 16))
      .run();
}

// Kept until the scan's own row is written: each override and state change names its scan.
void PackSession::audit(std::string_view kind, const std::string& order_id, json::object detail) {
  audit_entries_.push_back({kind, order_id, deciding_->packer, json::serialize(detail)});
}

void PackSession::emit(const std::string& type, const std::string& subject, json::object data) {
  data["station"] = identity_.station_id;
  data["site"] = identity_.site;
  data["packer"] = deciding_->packer.empty() ? json::value() : json::value(deciding_->packer);
  emitted_.emplace_back(type, subject);
  // A type the outbox refuses is a bug of ours: the scan's transaction rolls back with it.
  outbox_.enqueue({type, subject, std::move(data)}).value();
  queued_events_ = true;
}

// --- the decision -----------------------------------------------------------------------------

// The scan's one row: what came in, what was decided, when, where and by whom. It is the scan's
// audit record (the table is append-only). The overrides and state changes the decision made
// follow it, each naming it. Returns the scan's id.
std::int64_t PackSession::record_scan(const drivers::Scan& scan, const ScanOutcome& out,
                                      const Row& row, const std::optional<std::int64_t>& session,
                                      const std::string& packer) {
  db_.statement(
         "INSERT INTO scans (session_id, scanner, data, verdict, accepted, line_no, at, mono_ns, "
         "order_id, box, qty, serial, lot, expiry, symbology, packer, message, station, undoes) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
         "?18, ?19)")
      .bind(1, session)
      .bind(2, scan.scanner)
      .bind(3, out.scan)
      .bind(4, to_string(out.verdict))
      .bind(5, out.accepted() ? 1 : 0)
      .bind(6, row.line)
      .bind(7, now_)
      .bind(8, mono_ns_)
      .bind(9, out.order_id.empty() ? std::optional<std::string>()
                                    : std::optional<std::string>(out.order_id))
      .bind(10, row.box > 0 ? std::optional<int>(row.box) : std::nullopt)
      .bind(11, row.qty)
      .bind(12, row.serial.empty() ? std::optional<std::string>() : row.serial)
      .bind(13, row.lot.empty() ? std::optional<std::string>() : row.lot)
      .bind(14, row.expiry.empty() ? std::optional<std::string>() : row.expiry)
      .bind(15, scan.symbology)
      .bind(16, packer.empty() ? std::optional<std::string>() : packer)
      .bind(17, out.message)
      .bind(18, identity_.station_id)
      .bind(19, row.undoes)
      .run();
  const std::int64_t scan_id = db_.last_insert_id();
  for (const auto& a : audit_entries_) {
    db_.statement(
           "INSERT INTO audit (at, mono_ns, station, packer, kind, order_id, detail, scan_id) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, now_)
        .bind(2, mono_ns_)
        .bind(3, identity_.station_id)
        .bind(4, a.packer.empty() ? std::optional<std::string>() : a.packer)
        .bind(5, a.kind)
        .bind(6, a.order_id.empty() ? std::optional<std::string>() : a.order_id)
        .bind(7, a.detail)
        .bind(8, scan_id)
        .run();
  }
  return scan_id;
}

// A scan whose decision could not be committed: the packer hears why, nothing changed.
ScanOutcome PackSession::refuse(const drivers::Scan& scan, Verdict verdict, std::string message) {
  ScanOutcome out = outcome(verdict, state_, std::move(message));
  out.scan = looks_like_pin(scan.data) ? rules_.pin_prefix + "****" : scan.data;
  out.symbology = scan.symbology;
  out.received_mono = scan.received_mono;
  return out;
}

Result<ScanOutcome> PackSession::handle(const drivers::Scan& scan) {
  queued_prints_ = false;
  queued_events_ = false;
  emitted_.clear();
  audit_entries_.clear();
  received_at_ = scan.received_at;
  now_ = format_utc(scan.received_at);
  mono_ns_ = monotonic_ns(scan.received_mono);
  State next = state_;
  deciding_ = &next;
  const std::int64_t refusals_before = outbox_.refusals_raised();
  bool folded = false;
  auto decided = db_.write([&] {
    Row row;
    const std::optional<std::int64_t> before =
        state_.open ? std::optional<std::int64_t>(state_.open->session_id) : std::nullopt;
    ScanOutcome out = decide(scan, next, row);
    // A PIN never lands in a table or a log.
    out.scan = looks_like_pin(scan.data) ? rules_.pin_prefix + "****" : scan.data;
    out.symbology = scan.symbology;
    out.received_mono = scan.received_mono;
    const std::optional<std::int64_t> session =
        next.open ? std::optional<std::int64_t>(next.open->session_id) : before;
    const std::int64_t scan_id = record_scan(scan, out, row, session, next.packer);
    // The figures take this scan when they are read; every so often they are folded in.
    folded = unfolded_ + 1 >= fold_every_;
    if (folded) {
      fold(scan_id);
    }
    save_pending(state_, next);
    return out;
  });
  deciding_ = &state_;
  if (!decided) {
    if (outbox_.refusals_raised() != refusals_before) {
      // The decision needed an event and the outbox is full. Nothing of it happened; the
      // refusal itself is a rejected scan like any other, recorded, so that the audit log and
      // the figures show it.
      spdlog::error("scan '{}' refused: {}", looks_like_pin(scan.data) ? "****" : scan.data,
                    decided.error().message);
      ScanOutcome refused = refuse(
          scan, Verdict::outbox_full,
          "Not done: the station's outbox is full, the back office has not taken its events for "
          "a while. Nothing is lost and items still scan, but this cannot be done until the "
          "events are delivered. Call IT.");
      outbox_.save_refusals();
      audit_entries_.clear();  // the decision's overrides and state changes did not happen
      auto recorded = db_.write([&] {
        record_scan(
            scan, refused, Row{},
            state_.open ? std::optional<std::int64_t>(state_.open->session_id) : std::nullopt,
            state_.packer);
      });
      for (const auto& listener : listeners_) {
        listener(refused);
      }
      if (!recorded) {
        return recorded.error();
      }
      ++unfolded_;
      return refused;
    }
    // Nothing was recorded. The screen and the light must not keep showing the last verdict as
    // if this scan had counted.
    const bool disk_full = db_.last_error_code() == SQLITE_FULL;
    if (disk_full) {
      // Reported to the back office once there is room: the events this scan would have
      // written when the decision got that far, else the scan itself and its order.
      if (!emitted_.empty()) {
        outbox_.note_refused(emitted_, Lane::business, "disk_full");
      } else {
        outbox_.note_unrecorded(state_.open ? state_.open->order_id : "", "disk_full");
      }
      outbox_.save_refusals();
    }
    ScanOutcome lost =
        disk_full ? refuse(scan, Verdict::storage_full,
                           "Not recorded: the station's disk is full. Nothing changed. Call IT.")
                  : refuse(scan, Verdict::not_recorded,
                           "Not recorded: " + decided.error().message + ". Scan it again.");
    for (const auto& listener : listeners_) {
      listener(lost);
    }
    return decided.error();
  }
  state_ = std::move(next);
  unfolded_ = folded ? 0 : unfolded_ + 1;
  // The verdict first: the labels and the events it queued are committed already.
  for (const auto& listener : listeners_) {
    listener(*decided);
  }
  if (queued_prints_) {
    prints_.kick();
  }
  if (queued_events_) {
    outbox_.committed();
  }
  return std::move(*decided);
}

ScanOutcome PackSession::outcome(Verdict v, const State& st, std::string message) const {
  ScanOutcome o;
  o.verdict = v;
  o.message = std::move(message);
  o.packer = st.packer;
  if (st.open) {
    o.order_id = st.open->order_id;
    o.box = st.open->box;
    o.scanned = st.open->scanned();
    o.expected = st.open->expected();
  }
  return o;
}

bool PackSession::looks_like_pin(const std::string& data) const {
  return upper(data).find(upper(rules_.pin_prefix)) != std::string::npos;
}

const Supervisor* PackSession::find_supervisor(const std::string& data) const {
  for (const auto& s : rules_.supervisors) {
    if (!s.badge.empty() && s.badge == data) {
      return &s;
    }
    if (!s.pin_sha256.empty() && starts_with(upper(data), upper(rules_.pin_prefix)) &&
        sha256_hex(data.substr(rules_.pin_prefix.size())) == s.pin_sha256) {
      return &s;
    }
  }
  return nullptr;
}

ScanOutcome PackSession::decide(const drivers::Scan& scan, State& st, Row& row) {
  if (!scan.rejected.empty()) {
    return outcome(Verdict::rejected_scan, st, "Not a usable scan: " + scan.rejected + ".");
  }
  const std::string& data = scan.data;
  if (starts_with(data, rules_.packer_badge_prefix)) {
    return decide_badge(data, st);
  }
  if (starts_with(upper(data), upper(rules_.pin_prefix)) || find_supervisor(data)) {
    return decide_supervisor(data, st);
  }
  if (starts_with(data, rules_.command_prefix)) {
    return decide_command(data, st, row);
  }
  Pending& pending = st.open ? st.open->pending : st.idle_pending;
  if (pending.kind == Pending::Kind::supervisor) {
    return outcome(Verdict::not_authorised, st,
                   "A supervisor's badge or PIN is needed here (CMD-UNDO to go back).");
  }
  if (starts_with(data, rules_.reason_prefix) || pending.kind == Pending::Kind::reason) {
    return decide_reason(data, st);
  }
  if (auto q = parse_quantity(data, rules_.quantity_prefix)) {
    // "QTY-6" is always a quantity. "x6" only when it can be nothing else: an order is open,
    // nothing is being asked, and no line or order answers to that code.
    const bool bare = !starts_with(data, rules_.quantity_prefix);
    if (!bare || (st.open && st.open->pending.kind == Pending::Kind::none &&
                  !line_of(*st.open, barcode_key(data)) && !orders_.find(data))) {
      return decide_quantity(*q, st);
    }
  }
  if (rules_.require_packer && st.packer.empty()) {
    return outcome(Verdict::login_required, st, "Scan your badge first.");
  }
  if (st.open && (st.open->pending.kind == Pending::Kind::serial ||
                  st.open->pending.kind == Pending::Kind::lot ||
                  st.open->pending.kind == Pending::Kind::expiry)) {
    return decide_capture(scan, st, row);
  }
  if (!st.open) {
    return decide_idle(data, st);
  }
  return decide_item(scan, st, row);
}

ScanOutcome PackSession::decide_badge(const std::string& data, State& st) {
  const std::string id = data.substr(rules_.packer_badge_prefix.size());
  if (st.packer == id) {
    audit("state", st.open ? st.open->order_id : "",
          json::object{{"event", "packer_logged_out"}, {"packer", id}});
    st.packer.clear();
    return outcome(Verdict::packer_logged_out, st, "Packer " + id + " logged out.");
  }
  if (!st.packer.empty()) {
    audit("state", "", json::object{{"event", "packer_logged_out"}, {"packer", st.packer}});
  }
  st.packer = id;
  audit("state", st.open ? st.open->order_id : "",
        json::object{{"event", "packer_logged_in"}, {"packer", id}});
  return outcome(Verdict::packer_logged_in, st, "Packer " + id + " logged in.");
}

ScanOutcome PackSession::decide_supervisor(const std::string& data, State& st) {
  Pending& pending = st.open ? st.open->pending : st.idle_pending;
  if (pending.kind != Pending::Kind::supervisor) {
    return outcome(Verdict::unknown_command, st, "No override was asked for.");
  }
  const Supervisor* sup = find_supervisor(data);
  if (!sup) {
    // Three wrong tries end the request: a PIN is not to be guessed at the bench.
    if (++pending.attempts >= 3) {
      audit("override", st.open ? st.open->order_id : "",
            json::object{{"refused", pending.purpose}, {"attempts", pending.attempts}});
      pending = Pending{};
      return outcome(Verdict::not_authorised, st,
                     "Three wrong badges or PINs: the override is cancelled. Ask again.");
    }
    return outcome(Verdict::not_authorised, st, "Not a supervisor's badge or PIN.");
  }
  const std::string order_id = st.open ? st.open->order_id : "";
  audit("override", order_id,
        json::object{{"supervisor", sup->id},
                     {"purpose", pending.purpose},
                     {"by", starts_with(data, rules_.pin_prefix) ? "pin" : "badge"}});
  if (pending.purpose == "reopen") {
    pending = Pending{};
    pending.kind = Pending::Kind::reopen_order;
    pending.supervisor = sup->id;
    return outcome(Verdict::reopen_authorised, st, "Scan the order to reopen.");
  }
  pending = Pending{};
  pending.kind = Pending::Kind::reason;
  pending.purpose = "short";
  pending.supervisor = sup->id;
  std::string codes;
  for (const auto& r : rules_.reason_codes) {
    codes += (codes.empty() ? "" : ", ") + rules_.reason_prefix + upper(r);
  }
  return outcome(Verdict::reason_needed, st, "Scan the reason: " + codes + ".");
}

ScanOutcome PackSession::decide_command(const std::string& data, State& st, Row& row) {
  const std::string cmd = upper(data.substr(rules_.command_prefix.size()));
  if (cmd == "UNDO") {
    return undo(st, row);
  }
  if (cmd == "CLOSE-BOX") {
    return close_box(st);
  }
  if (cmd == "CANCEL") {
    if (!st.open) {
      if (st.idle_pending.kind != Pending::Kind::none) {
        st.idle_pending = Pending{};
        return outcome(Verdict::scan_undone, st, "Reopen abandoned.");
      }
      return outcome(Verdict::unknown_command, st, "No order is open.");
    }
    const OpenOrder open = *st.open;
    db_.statement("UPDATE pack_sessions SET state = 'cancelled', closed_at = ?2 WHERE id = ?1")
        .bind_all(open.session_id, now_)
        .run();
    orders_.set_status(open.order_id, open.reopened ? OrderStatus::packed : OrderStatus::ready);
    audit("state", open.order_id, json::object{{"event", "pack_cancelled"}});
    emit("com.packbench.pack.cancelled.v1", open.order_id,
         json::object{{"order_id", open.order_id},
                      {"cancelled_at", now_},
                      {"scanned", open.scanned()},
                      {"reopened", open.reopened}});
    ScanOutcome o = outcome(Verdict::pack_cancelled, st,
                            "Order " + open.order_id + " cancelled at this bench; unpack the box.");
    st.open.reset();
    st.closed = false;
    return o;
  }
  if (cmd == "SHORT") {
    if (!st.open) {
      return outcome(Verdict::unknown_command, st, "No order is open.");
    }
    if (rules_.supervisors.empty()) {
      return outcome(Verdict::not_authorised, st,
                     "No supervisor is configured at this station to approve a short order.");
    }
    st.open->pending = Pending{};
    st.open->pending.kind = Pending::Kind::supervisor;
    st.open->pending.purpose = "short";
    return outcome(Verdict::supervisor_needed, st,
                   "Closing short needs a supervisor: badge or PIN.");
  }
  if (cmd == "REOPEN") {
    if (st.open) {
      return outcome(Verdict::unknown_command, st,
                     "Finish or cancel order " + st.open->order_id + " first.");
    }
    if (rules_.supervisors.empty()) {
      return outcome(Verdict::not_authorised, st,
                     "No supervisor is configured at this station to approve a reopen.");
    }
    st.idle_pending = Pending{};
    st.idle_pending.kind = Pending::Kind::supervisor;
    st.idle_pending.purpose = "reopen";
    return outcome(Verdict::supervisor_needed, st, "Reopening needs a supervisor: badge or PIN.");
  }
  return outcome(Verdict::unknown_command, st, "Unknown command '" + data + "'.");
}

ScanOutcome PackSession::decide_reason(const std::string& data, State& st) {
  if (!st.open || st.open->pending.kind != Pending::Kind::reason) {
    return outcome(Verdict::unknown_command, st, "No reason was asked for.");
  }
  const std::string code = starts_with(data, rules_.reason_prefix)
                               ? lower(data.substr(rules_.reason_prefix.size()))
                               : std::string();
  if (std::find(rules_.reason_codes.begin(), rules_.reason_codes.end(), code) ==
      rules_.reason_codes.end()) {
    return outcome(Verdict::unknown_reason, st,
                   "'" + data + "' is not a reason code (CMD-UNDO to go back).");
  }
  OpenOrder& open = *st.open;
  json::array missing;
  for (const auto& l : open.lines) {
    if (l.scanned < l.qty) {
      missing.push_back(json::object{{"sku", l.sku}, {"missing", l.qty - l.scanned}});
    }
  }
  json::object exception{
      {"reason", code}, {"supervisor", open.pending.supervisor}, {"missing", std::move(missing)}};
  audit("override", open.order_id, exception);
  const std::string order_id = open.order_id;
  const int scanned = open.scanned();
  const int expected = open.expected();
  const std::string print_note = finish_order(st, exception);
  ScanOutcome o = outcome(Verdict::order_closed_short, st,
                          fmt::format("Order {} closed short ({}): {} of {} items.{}", order_id,
                                      code, scanned, expected, print_note));
  o.order_id = order_id;
  o.scanned = scanned;
  o.expected = expected;
  return o;
}

ScanOutcome PackSession::decide_quantity(int quantity, State& st) {
  if (!st.open) {
    return outcome(Verdict::unknown_command, st, "Open an order before a quantity.");
  }
  if (quantity < 1 || quantity > rules_.max_quantity) {
    return outcome(Verdict::invalid_quantity, st,
                   fmt::format("A quantity must be from 1 to {}.", rules_.max_quantity));
  }
  if (st.open->pending.kind != Pending::Kind::none &&
      st.open->pending.kind != Pending::Kind::quantity) {
    return outcome(Verdict::invalid_quantity, st, "Finish the item in hand first.");
  }
  st.open->pending = Pending{};
  st.open->pending.kind = Pending::Kind::quantity;
  st.open->pending.quantity = quantity;
  return outcome(Verdict::quantity_set, st, fmt::format("Next item counts {}. Scan it.", quantity));
}

ScanOutcome PackSession::decide_capture(const drivers::Scan& scan, State& st, Row& row) {
  OpenOrder& open = *st.open;
  Pending& p = open.pending;
  const auto line = static_cast<std::size_t>(p.line);
  if (line >= open.lines.size()) {
    p = Pending{};
    return outcome(Verdict::unknown_command, st, "Scan the item again.");
  }
  if (p.kind == Pending::Kind::expiry) {
    return decide_expiry(scan, st, row);
  }
  const std::string& data = scan.data;
  const std::string what = p.kind == Pending::Kind::serial ? "serial number" : "lot";
  // A product's code or an order's id is never a serial or a lot: the packer scanned the wrong
  // label. GS1 data with a GTIN in it is a product too.
  const std::string key = barcode_key(data);
  if (data == open.order_id || gs1::read(data).gtin14 || orders_.knows_barcode(key) ||
      orders_.find(data)) {
    return outcome(Verdict::wrong_item, st,
                   "That is a product or an order, not a " + what + ": scan the " + what + " of " +
                       open.lines[line].name + " (CMD-UNDO to go back).");
  }
  if (p.kind == Pending::Kind::serial) {
    for (const auto& l : open.lines) {
      if (std::find(l.serials.begin(), l.serials.end(), data) != l.serials.end()) {
        return outcome(Verdict::duplicate_serial, st,
                       "Serial " + data + " is already packed in this order.");
      }
    }
    p.serial = data;
  } else {
    p.lot = data;
  }
  return capture_next(st, row);
}

// The expiry date asked for: YYMMDD as printed on the pack, or a GS1 code that carries AI 17
// and no product ("17YYMMDD", "(17)YYMMDD", a ]C1 or ]d2 scan of it).
ScanOutcome PackSession::decide_expiry(const drivers::Scan& scan, State& st, Row& row) {
  OpenOrder& open = *st.open;
  Pending& p = open.pending;
  const int line_no = p.line;
  const auto& line = open.lines[static_cast<std::size_t>(line_no)];
  const std::string& data = scan.data;
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::optional<std::string> date;
  if (data.size() == 6 && digits(data)) {
    date = data;
  } else if (data.size() == 8 && data.starts_with("17") && digits(data)) {
    // A wedge that sends no symbology: "17" and six digits may also pass as a GTIN-8, but here
    // an expiry was asked for.
    date = data.substr(2);
  } else {
    const gs1::Reading r = gs1::read(data, scan.symbology);
    if (const gs1::Element* e = r.find("17"); e && !r.gtin14) {
      date = e->value;
    }
  }
  ScanOutcome o;
  if (!date) {
    if (data == open.order_id || gs1::read(data, scan.symbology).gtin14 ||
        orders_.knows_barcode(barcode_key(data)) || orders_.find(data)) {
      o = outcome(Verdict::wrong_item, st,
                  "That is a product or an order, not an expiry date: scan the expiry date of " +
                      line.name + " (CMD-UNDO to go back).");
    } else {
      o = outcome(Verdict::rejected_scan, st,
                  "'" + data + "' is not an expiry date: scan the expiry date of " + line.name +
                      " (YYMMDD, or its GS1 code with (17); CMD-UNDO to go back).");
    }
  } else if (!is_expiry_date(*date)) {
    o = outcome(Verdict::rejected_scan, st,
                "The expiry date '" + *date + "' of " + line.name +
                    " is not a date. Check the label (CMD-UNDO to go back).");
  } else if (expiry_passed(*date, yyyymmdd(scan.received_at))) {
    // The item in hand is out; the next one is scanned from the start.
    p = Pending{};
    o = outcome(Verdict::expired, st,
                line.name + " expired (" + *date + "). Put it aside and take another.");
  } else {
    p.expiry = *date;
    return capture_next(st, row);
  }
  o.line = line_no;
  return o;
}

ScanOutcome PackSession::capture_next(State& st, Row& row) {
  OpenOrder& open = *st.open;
  Pending& p = open.pending;
  const int line_no = p.line;
  const auto& line = open.lines[static_cast<std::size_t>(line_no)];
  ScanOutcome o;
  if (line.lot_required && p.lot.empty()) {
    p.kind = Pending::Kind::lot;
    o = outcome(Verdict::lot_needed, st, "Now scan the lot of " + line.name + ".");
  } else if (line.expiry_required && p.expiry.empty()) {
    p.kind = Pending::Kind::expiry;
    o = outcome(Verdict::expiry_needed, st,
                "Now scan the expiry date of " + line.name + " (YYMMDD, or its (17) code).");
  } else {
    const Pending taken = p;
    return accept_items(st, row, line_no, taken.quantity > 0 ? taken.quantity : 1, taken.serial,
                        taken.lot, taken.expiry);
  }
  o.line = line_no;
  return o;
}

ScanOutcome PackSession::decide_idle(const std::string& data, State& st) {
  auto found = orders_.find(data);
  if (st.idle_pending.kind == Pending::Kind::reopen_order) {
    if (!found) {
      return outcome(Verdict::order_not_found, st, "No order '" + data + "' to reopen.");
    }
    if (found->second != OrderStatus::packed) {
      return outcome(Verdict::unknown_command, st,
                     "Order " + data + " is not packed; scan it without CMD-REOPEN.");
    }
    const std::string supervisor = st.idle_pending.supervisor;
    int box = 1;
    auto max_box =
        db_.statement("SELECT coalesce(max(box), 0) FROM scans WHERE order_id = ?1 AND qty != 0");
    max_box.bind_all(data);
    if (max_box.step()) {
      box = static_cast<int>(max_box.column_int(0)) + 1;
    }
    db_.statement(
           "INSERT INTO pack_sessions (order_id, state, opened_at, box, reopened) "
           "VALUES (?1, 'open', ?2, ?3, 1)")
        .bind_all(data, now_, box)
        .run();
    orders_.set_status(data, OrderStatus::packing);
    st.open = load_open_order(db_.last_insert_id(), found->first, box, true, Pending{});
    st.idle_pending = Pending{};
    st.closed = false;
    audit("state", data, json::object{{"event", "order_reopened"}, {"supervisor", supervisor}});
    emit("com.packbench.order.reopened.v1", data,
         json::object{{"order_id", data}, {"reopened_at", now_}, {"supervisor", supervisor}});
    return outcome(Verdict::order_reopened, st,
                   fmt::format("Order {} reopened: {} of {} items counted, next items go to box "
                               "{}.",
                               data, st.open->scanned(), st.open->expected(), box));
  }
  if (!found) {
    return outcome(Verdict::order_not_found, st,
                   "No order '" + data + "'. Scan the order's barcode first.");
  }
  const auto& [order, status] = *found;
  ScanOutcome rejected;
  if (status == OrderStatus::packed) {
    rejected =
        outcome(Verdict::order_already_packed, st, "Order " + order.id + " is already packed.");
  } else if (status == OrderStatus::cancelled) {
    rejected = outcome(Verdict::order_cancelled, st,
                       "Order " + order.id + " was cancelled. Do not pack it.");
  }
  if (!rejected.message.empty()) {
    rejected.order_id = order.id;
    return rejected;
  }
  db_.statement("INSERT INTO pack_sessions (order_id, state, opened_at) VALUES (?1, 'open', ?2)")
      .bind_all(order.id, now_)
      .run();
  orders_.set_status(order.id, OrderStatus::packing);
  st.open = load_open_order(db_.last_insert_id(), order, 1, false, Pending{});
  st.closed = false;
  audit("state", order.id, json::object{{"event", "order_opened"}});
  const int n = st.open->expected() - st.open->scanned();
  return outcome(Verdict::order_opened, st,
                 fmt::format("Order {} open: {} item{} to scan.", order.id, n, n == 1 ? "" : "s"));
}

ScanOutcome PackSession::decide_item(const drivers::Scan& scan, State& st, Row& row) {
  OpenOrder& open = *st.open;
  const std::string& data = scan.data;
  if (data == open.order_id) {
    return outcome(Verdict::order_already_open, st,
                   "Order " + open.order_id + " is open. Scan its items.");
  }
  // Most scans at a bench are a plain EAN/UPC: match those without the full GS1 reading.
  gs1::Reading reading;
  if (auto plain = gs1::gtin14(data)) {
    reading.gtin14 = std::move(plain);
  } else {
    reading = gs1::read(data, scan.symbology);
  }
  const std::string key = reading.gtin14 ? *reading.gtin14 : data;
  const std::optional<std::size_t> matched = line_of(open, key);
  const int quantity = open.pending.kind == Pending::Kind::quantity ? open.pending.quantity : 1;
  if (!matched) {
    if (orders_.find(data)) {
      return outcome(Verdict::another_order_open, st,
                     fmt::format("Finish order {} first ({} of {} items scanned).", open.order_id,
                                 open.scanned(), open.expected()));
    }
    if (orders_.knows_barcode(key)) {
      return outcome(Verdict::wrong_item, st,
                     "'" + data + "' belongs to another order, not to " + open.order_id + ".");
    }
    return outcome(Verdict::unknown_barcode, st,
                   "'" + data + "' is no product of any order here. Check the item's label.");
  }
  auto& line = open.lines[*matched];
  auto element = [&](const char* ai) {
    const gs1::Element* e = reading.find(ai);
    return e ? e->value : std::string();
  };
  const std::string serial = element("21");
  const std::string lot = element("10");
  const std::string expiry = element("17");
  ScanOutcome o;
  if (!expiry.empty() && !is_expiry_date(expiry)) {
    o = outcome(
        Verdict::rejected_scan, st,
        "The expiry date '" + expiry + "' on " + line.name + " is not a date. Check the label.");
  } else if (!expiry.empty() && expiry_passed(expiry, yyyymmdd(scan.received_at))) {
    o = outcome(Verdict::expired, st,
                line.name + " expired (" + expiry + "). Put it aside and take another.");
  } else if (line.serial_required && quantity > 1) {
    open.pending = Pending{};
    o = outcome(Verdict::invalid_quantity, st,
                line.name + " needs a serial for each item: scan them one at a time.");
  } else if (line.scanned + quantity > line.qty) {
    open.pending = Pending{};
    o = outcome(Verdict::over_scan, st,
                fmt::format("Too many: order {} needs {} × {}, {} scanned.", open.order_id,
                            line.qty, line.name, line.scanned));
  } else if (line.serial_required && serial.empty()) {
    open.pending = Pending{};
    open.pending.kind = Pending::Kind::serial;
    open.pending.line = static_cast<int>(*matched);
    open.pending.lot = lot;
    open.pending.expiry = expiry;
    o = outcome(Verdict::serial_needed, st, "Now scan the serial number of " + line.name + ".");
  } else if (!serial.empty() &&
             std::any_of(open.lines.begin(), open.lines.end(), [&](const LineProgress& l) {
               return std::find(l.serials.begin(), l.serials.end(), serial) != l.serials.end();
             })) {
    o = outcome(Verdict::duplicate_serial, st,
                "Serial " + serial + " is already packed in this order.");
  } else if (line.lot_required && lot.empty()) {
    open.pending = Pending{};
    open.pending.kind = Pending::Kind::lot;
    open.pending.line = static_cast<int>(*matched);
    open.pending.quantity = quantity;
    open.pending.serial = serial;
    open.pending.expiry = expiry;
    o = outcome(Verdict::lot_needed, st, "Now scan the lot of " + line.name + ".");
  } else if (line.expiry_required && expiry.empty()) {
    open.pending = Pending{};
    open.pending.kind = Pending::Kind::expiry;
    open.pending.line = static_cast<int>(*matched);
    open.pending.quantity = quantity;
    open.pending.serial = serial;
    open.pending.lot = lot;
    o = outcome(Verdict::expiry_needed, st,
                "Now scan the expiry date of " + line.name + " (YYMMDD, or its (17) code).");
  } else {
    return accept_items(st, row, static_cast<int>(*matched), quantity, serial, lot, expiry);
  }
  o.line = static_cast<int>(*matched);
  return o;
}

ScanOutcome PackSession::accept_items(State& st, Row& row, int line_no, int qty, std::string serial,
                                      std::string lot, std::string expiry) {
  OpenOrder& open = *st.open;
  auto& line = open.lines[static_cast<std::size_t>(line_no)];
  if (line.scanned + qty > line.qty) {
    open.pending = Pending{};
    return outcome(Verdict::over_scan, st,
                   fmt::format("Too many: order {} needs {} × {}, {} scanned.", open.order_id,
                               line.qty, line.name, line.scanned));
  }
  line.scanned += qty;
  open.boxes[open.box] += qty;
  open.session_items += qty;
  if (!serial.empty()) {
    line.serials.push_back(serial);
  }
  open.pending = Pending{};
  row.line = line_no;
  row.qty = qty;
  row.box = open.box;
  row.serial = std::move(serial);
  row.lot = std::move(lot);
  row.expiry = std::move(expiry);
  if (open.scanned() < open.expected()) {
    ScanOutcome o = outcome(
        Verdict::item_accepted, st,
        qty == 1 ? fmt::format("{} ({} of {})", line.name, line.scanned, line.qty)
                 : fmt::format("{} × {} ({} of {})", qty, line.name, line.scanned, line.qty));
    o.line = line_no;
    return o;
  }
  const std::string order_id = open.order_id;
  const int expected = open.expected();
  const int boxes = open.box;
  const std::string print_note = finish_order(st, std::nullopt);
  ScanOutcome o =
      outcome(Verdict::order_complete, st,
              fmt::format("Order {} complete: {} items in {} box{}. Label printing.{}", order_id,
                          expected, boxes, boxes == 1 ? "" : "es", print_note));
  o.order_id = order_id;
  o.line = line_no;
  o.scanned = expected;
  o.expected = expected;
  o.box = boxes;
  return o;
}

ScanOutcome PackSession::undo(State& st, Row& row) {
  Pending& pending = st.open ? st.open->pending : st.idle_pending;
  if (pending.kind != Pending::Kind::none) {
    const std::string what = pending_name(pending.kind);
    pending = Pending{};
    return outcome(Verdict::scan_undone, st, "Undone: the " + what + " that was asked for.");
  }
  if (!st.open) {
    return outcome(Verdict::nothing_to_undo, st, "Nothing to undo.");
  }
  OpenOrder& open = *st.open;
  // The last scan of this session that counted items and was not taken back. Undos take back
  // the latest such scan, so walking back, each undo row cancels the next counting row.
  auto last = db_.statement(
      "SELECT id, line_no, qty, serial, box FROM scans "
      "WHERE order_id = ?1 AND session_id = ?2 AND qty != 0 AND undone = 0 ORDER BY id DESC");
  last.bind_all(open.order_id, open.session_id);
  int taken_back = 0;
  bool found = false;
  while (!found && last.step()) {
    if (last.column_int(2) < 0) {
      ++taken_back;
    } else if (taken_back > 0) {
      --taken_back;
    } else {
      found = true;
    }
  }
  if (!found) {
    return outcome(Verdict::nothing_to_undo, st, "Nothing to undo in this order.");
  }
  const std::int64_t id = last.column_int(0);
  const auto line_no = static_cast<std::size_t>(last.column_int(1));
  const int qty = static_cast<int>(last.column_int(2));
  const auto serial = last.column_optional_text(3);
  const int box = static_cast<int>(last.column_int(4));
  if (box != open.box) {
    return outcome(Verdict::nothing_to_undo, st,
                   fmt::format("Box {} is closed; its items cannot be undone.", box));
  }
  // This scan's row takes the items back; the scan that counted them stays as it was.
  row.line = static_cast<int>(line_no);
  row.qty = -qty;
  row.box = box;
  row.serial = serial.value_or("");
  row.undoes = id;
  auto& line = open.lines.at(line_no);
  line.scanned -= qty;
  open.boxes[box] -= qty;
  open.session_items -= qty;
  if (serial) {
    line.serials.erase(std::remove(line.serials.begin(), line.serials.end(), *serial),
                       line.serials.end());
  }
  audit("state", open.order_id,
        json::object{{"event", "scan_undone"}, {"scan_id", id}, {"qty", qty}});
  ScanOutcome o = outcome(Verdict::scan_undone, st,
                          fmt::format("Undone: {} × {}. Take it out of the box.", qty, line.name));
  o.line = static_cast<int>(line_no);
  return o;
}

ScanOutcome PackSession::close_box(State& st) {
  if (!st.open) {
    return outcome(Verdict::unknown_command, st, "No order is open.");
  }
  OpenOrder& open = *st.open;
  const auto filled = open.boxes.find(open.box);
  const int in_box = filled == open.boxes.end() ? 0 : filled->second;
  if (in_box <= 0) {
    return outcome(Verdict::empty_box, st, fmt::format("Box {} is empty.", open.box));
  }
  // How many boxes the order takes is not known until it is done: this label has no "of N".
  std::string sscc;
  const std::string note = queue_box_label(open, Parcel{open.box, 0, in_box}, now_, sscc);
  audit("state", open.order_id,
        json::object{{"event", "box_closed"}, {"box", open.box}, {"items", in_box}});
  json::object data{
      {"order_id", open.order_id}, {"box", open.box}, {"items", in_box}, {"closed_at", now_}};
  if (!sscc.empty()) {
    data["sscc"] = sscc;
  }
  emit("com.packbench.box.closed.v1", open.order_id, std::move(data));
  const int closed = open.box;
  open.box += 1;
  open.pending = Pending{};
  return outcome(Verdict::box_closed, st,
                 fmt::format("Box {} closed: label printing. Next items go to box {}.{}", closed,
                             open.box, note));
}

// Inside the transaction that closes the box: its label, and what the packer must hear about
// it (a problem, what was printed instead), or "".
std::string PackSession::queue_box_label(const OpenOrder& open, const Parcel& parcel,
                                         const std::string& at, std::string& sscc) {
  auto found = orders_.find(open.order_id);
  if (!found) {
    return "";
  }
  const ParcelLabel label = order_printer_->shipping_label(db_, found->first, parcel, at);
  if (label.job) {
    prints_.enqueue("shipping-label", open.order_id, label.job->content_type, label.job->bytes);
    queued_prints_ = true;
  }
  sscc = label.sscc;
  std::string note;
  for (const auto& problem : label.problems) {
    spdlog::warn("order {} box {}: {}", open.order_id, parcel.box, problem);
    note += " Label: " + problem + ".";
  }
  return note;
}

std::string PackSession::finish_order(State& st, const std::optional<json::object>& exception) {
  const OpenOrder open = *st.open;
  db_.statement(
         "UPDATE pack_sessions SET state = 'complete', closed_at = ?2, exception = ?3, pending = "
         "NULL WHERE id = ?1")
      .bind(1, open.session_id)
      .bind(2, now_)
      .bind(3, exception ? std::optional<std::string>(json::serialize(*exception)) : std::nullopt)
      .run();
  orders_.set_status(open.order_id, OrderStatus::packed);

  std::map<int, int> boxes = open.boxes;
  std::erase_if(boxes, [](const auto& b) { return b.second <= 0; });
  std::string label_note;
  if (boxes.count(open.box)) {
    std::string sscc;
    label_note = queue_box_label(
        open, Parcel{open.box, static_cast<int>(boxes.size()), boxes[open.box]}, now_, sscc);
  }

  json::array box_list;
  for (const auto& [b, n] : boxes) {
    json::object entry{{"box", b}, {"items", n}};
    if (auto sscc = sscc_of(db_, open.order_id, b)) {
      entry["sscc"] = *sscc;
    }
    box_list.push_back(std::move(entry));
  }
  json::array lines;
  for (const auto& l : open.lines) {
    json::array serials;
    for (const auto& s : l.serials) {
      serials.push_back(json::value(s));
    }
    lines.push_back(json::object{
        {"sku", l.sku}, {"qty", l.qty}, {"scanned", l.scanned}, {"serials", std::move(serials)}});
  }
  json::object data{{"order_id", open.order_id}, {"packed_at", now_},
                    {"items", open.scanned()},   {"boxes", std::move(box_list)},
                    {"lines", std::move(lines)}, {"complete", !exception.has_value()},
                    {"reopened", open.reopened}};
  if (exception) {
    data["exception"] = *exception;
  }
  audit("state", open.order_id,
        json::object{{"event", exception ? "order_closed_short" : "order_complete"}});
  emit("com.packbench.order.packed.v1", open.order_id, std::move(data));
  // complete -> closed: the same transaction; nobody sees `complete` after the commit.
  st.open.reset();
  st.closed = true;
  return label_note + print_order(open.order_id, static_cast<int>(boxes.size()));
}

// The insert, the discount card and the packing slip, and the order's discount: in the
// completion's transaction, so that the code, its events and the jobs commit with it or not
// at all. A print that cannot be made is told, and never stops the order.
std::string PackSession::print_order(const std::string& order_id, int boxes) {
  if (!order_printer_ || !order_printer_->has_work()) {
    return "";
  }
  auto found = orders_.find(order_id);
  if (!found) {
    return "";
  }
  const Order& order = found->first;
  const CompletionPrints prints =
      order_printer_->prepare(db_, order, now_, discount::local_day(received_at_), boxes);
  const auto& issued = prints.issue.discount;
  if (issued && !issued->reprint) {
    auto e = discount::discount_issued_event(*issued, now_);
    emit(e.type, e.subject, std::move(e.data));
  }
  if (prints.issue.pool && prints.issue.pool->alert) {
    auto e = discount::pool_low_event(*prints.issue.pool, now_);
    emit(e.type, e.subject, std::move(e.data));
  }
  for (const auto& job : prints.jobs) {
    prints_.enqueue(job.role, order_id, job.content_type, job.bytes);
    queued_prints_ = true;
    if (job.role == "insert") {
      discount::InsertPrinted printed;
      printed.order_id = order_id;
      printed.template_name = job.template_name;
      printed.locale = prints.locale;
      if (issued) {
        printed.campaign = issued->campaign;
        printed.code = issued->code;
      }
      printed.printed_at = now_;
      auto e = discount::insert_printed_event(printed);
      emit(e.type, e.subject, std::move(e.data));
    }
  }
  if (!prints.issue.note.empty() && !issued) {
    spdlog::info("order {}: no discount: {}", order_id, prints.issue.note);
  } else if (!prints.issue.note.empty()) {
    spdlog::warn("order {}: discount {}: {}", order_id, issued->code, prints.issue.note);
  }
  std::string note;
  for (const auto& problem : prints.problems) {
    spdlog::error("order {}: not printed: {}", order_id, problem);
    note += " Not printed: " + problem + ".";
  }
  return note;
}

BenchState PackSession::bench_state() const {
  if (!state_.open) {
    return state_.closed ? BenchState::closed : BenchState::idle;
  }
  const OpenOrder& open = *state_.open;
  switch (open.pending.kind) {
    case Pending::Kind::quantity:
    case Pending::Kind::serial:
    case Pending::Kind::lot:
    case Pending::Kind::expiry:
      return BenchState::scanning;  // an item is in hand
    default:
      return open.session_items > 0 ? BenchState::scanning : BenchState::order_open;
  }
}

json::object PackSession::snapshot() const {
  json::object s;
  s["state"] = to_string(bench_state());
  s["packer"] = state_.packer.empty() ? json::value() : json::value(state_.packer);
  s["pending"] = state_.idle_pending.to_json();
  if (!state_.open) {
    s["order"] = nullptr;
    return s;
  }
  const auto& open = *state_.open;
  s["order"] = open.order_id;
  s["box"] = open.box;
  s["reopened"] = open.reopened;
  s["scanned"] = open.scanned();
  s["expected"] = open.expected();
  s["pending"] = open.pending.to_json();
  json::array lines;
  for (const auto& l : open.lines) {
    json::array serials;
    for (const auto& x : l.serials) {
      serials.push_back(json::value(x));
    }
    lines.push_back(json::object{{"sku", l.sku},
                                 {"name", l.name},
                                 {"scanned", l.scanned},
                                 {"qty", l.qty},
                                 {"serial_required", l.serial_required},
                                 {"lot_required", l.lot_required},
                                 {"expiry_required", l.expiry_required},
                                 {"serials", std::move(serials)}});
  }
  s["lines"] = std::move(lines);
  return s;
}

}  // namespace packbench::station

#include "station/pack/pack_session.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "packbench/labels/shipping_label.hpp"
#include "station/common/clock.hpp"

namespace packbench::station {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::order_opened:
      return "order_opened";
    case Verdict::order_already_open:
      return "order_already_open";
    case Verdict::item_accepted:
      return "item_accepted";
    case Verdict::order_complete:
      return "order_complete";
    case Verdict::wrong_item:
      return "wrong_item";
    case Verdict::over_scan:
      return "over_scan";
    case Verdict::order_not_found:
      return "order_not_found";
    case Verdict::order_already_packed:
      return "order_already_packed";
    case Verdict::order_cancelled:
      return "order_cancelled";
    case Verdict::another_order_open:
      return "another_order_open";
  }
  return "unknown";
}

bool is_accepted(Verdict v) {
  return v == Verdict::order_opened || v == Verdict::item_accepted ||
         v == Verdict::order_complete || v == Verdict::order_already_open;
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

namespace {

OpenOrder open_order_from(std::int64_t session_id, const Order& order) {
  OpenOrder open;
  open.session_id = session_id;
  open.order_id = order.id;
  for (const auto& line : order.lines) {
    open.lines.push_back({line.sku, line.name, line.barcodes, 0, line.qty});
  }
  return open;
}

}  // namespace

PackSession::PackSession(Database& db, OrderBook& orders, Outbox& outbox, PrintQueue& prints,
                         StationIdentity identity, int label_dpi)
    : db_(db),
      orders_(orders),
      outbox_(outbox),
      prints_(prints),
      identity_(std::move(identity)),
      label_dpi_(label_dpi) {}

Result<void> PackSession::restore() {
  auto restored = db_.read([&]() -> std::optional<OpenOrder> {
    auto sel = db_.statement("SELECT id, order_id FROM pack_sessions WHERE state = 'open'");
    if (!sel.step()) {
      return std::nullopt;
    }
    const std::int64_t session_id = sel.column_int(0);
    const std::string order_id = sel.column_text(1);
    auto found = orders_.find(order_id);
    if (!found) {
      throw StoreError(0, "the open pack session refers to an unknown order " + order_id);
    }
    OpenOrder open = open_order_from(session_id, found->first);
    auto counts = db_.statement(
        "SELECT line_no, count(*) FROM scans WHERE session_id = ?1 AND accepted = 1 "
        "AND line_no IS NOT NULL GROUP BY line_no");
    counts.bind_all(session_id);
    while (counts.step()) {
      const auto line = static_cast<std::size_t>(counts.column_int(0));
      if (line < open.lines.size()) {
        open.lines[line].scanned = static_cast<int>(counts.column_int(1));
      }
    }
    return open;
  });
  if (!restored) {
    return restored.error();
  }
  open_ = std::move(*restored);
  return {};
}

Result<ScanOutcome> PackSession::handle(const drivers::Scan& scan) {
  completed_in_tx_ = false;
  auto decided = db_.write([&] {
    Decision d = open_ ? decide_open(scan) : decide_idle(scan);
    const auto session =
        d.next ? std::optional<std::int64_t>(d.next->session_id)
               : (open_ ? std::optional<std::int64_t>(open_->session_id) : std::nullopt);
    record(scan, d.outcome, session);
    return d;
  });
  if (!decided) {
    return decided.error();
  }
  open_ = std::move(decided->next);
  if (completed_in_tx_) {
    prints_.kick();
    outbox_.committed();
  }
  return std::move(decided->outcome);
}

PackSession::Decision PackSession::decide_idle(const drivers::Scan& scan) {
  Decision d;
  d.outcome.scan = scan.data;
  auto found = orders_.find(scan.data);
  if (!found) {
    d.outcome.verdict = Verdict::order_not_found;
    d.outcome.message = fmt::format("No order '{}'. Scan the order's barcode first.", scan.data);
    return d;
  }
  const auto& [order, status] = *found;
  d.outcome.order_id = order.id;
  if (status == OrderStatus::packed) {
    d.outcome.verdict = Verdict::order_already_packed;
    d.outcome.message = fmt::format("Order {} is already packed.", order.id);
    return d;
  }
  if (status == OrderStatus::cancelled) {
    d.outcome.verdict = Verdict::order_cancelled;
    d.outcome.message = fmt::format("Order {} was cancelled. Do not pack it.", order.id);
    return d;
  }
  db_.statement("INSERT INTO pack_sessions (order_id, state, opened_at) VALUES (?1, 'open', ?2)")
      .bind_all(order.id, format_utc(scan.received_at))
      .run();
  orders_.set_status(order.id, OrderStatus::packing);
  d.next = open_order_from(db_.last_insert_id(), order);
  d.outcome.verdict = Verdict::order_opened;
  d.outcome.expected = d.next->expected();
  d.outcome.message = fmt::format("Order {} open: {} item{} to scan.", order.id, d.outcome.expected,
                                  d.outcome.expected == 1 ? "" : "s");
  return d;
}

PackSession::Decision PackSession::decide_open(const drivers::Scan& scan) {
  Decision d;
  d.next = open_;
  OpenOrder& open = *d.next;
  d.outcome.scan = scan.data;
  d.outcome.order_id = open.order_id;
  auto finish = [&] {
    d.outcome.scanned = open.scanned();
    d.outcome.expected = open.expected();
  };

  if (scan.data == open.order_id) {
    d.outcome.verdict = Verdict::order_already_open;
    d.outcome.message = fmt::format("Order {} is open. Scan its items.", open.order_id);
    finish();
    return d;
  }

  std::optional<std::size_t> matched;  // a line that has this barcode
  for (std::size_t i = 0; i < open.lines.size(); ++i) {
    const auto& codes = open.lines[i].barcodes;
    if (std::find(codes.begin(), codes.end(), scan.data) != codes.end()) {
      matched = i;
      break;
    }
  }
  if (!matched) {
    if (auto other = orders_.find(scan.data)) {
      d.outcome.verdict = Verdict::another_order_open;
      d.outcome.message = fmt::format("Finish order {} first ({} of {} items scanned).",
                                      open.order_id, open.scanned(), open.expected());
    } else {
      d.outcome.verdict = Verdict::wrong_item;
      d.outcome.message = fmt::format("'{}' is not in order {}.", scan.data, open.order_id);
    }
    finish();
    return d;
  }
  auto& line = open.lines[*matched];
  d.outcome.line = static_cast<int>(*matched);
  if (line.scanned >= line.qty) {
    d.outcome.verdict = Verdict::over_scan;
    d.outcome.message = fmt::format("Too many: order {} needs {} × {}, all scanned.", open.order_id,
                                    line.qty, line.name);
    finish();
    return d;
  }
  ++line.scanned;
  finish();
  if (open.scanned() < open.expected()) {
    d.outcome.verdict = Verdict::item_accepted;
    d.outcome.message = fmt::format("{} ({} of {})", line.name, line.scanned, line.qty);
    return d;
  }
  complete(open, scan);
  d.outcome.verdict = Verdict::order_complete;
  d.outcome.message =
      fmt::format("Order {} complete: {} items. Label printing.", open.order_id, open.expected());
  d.next.reset();
  return d;
}

void PackSession::complete(const OpenOrder& open, const drivers::Scan& scan) {
  const std::string packed_at = format_utc(scan.received_at);
  db_.statement("UPDATE pack_sessions SET state = 'complete', closed_at = ?2 WHERE id = ?1")
      .bind_all(open.session_id, packed_at)
      .run();
  orders_.set_status(open.order_id, OrderStatus::packed);

  labels::ShippingLabel label;
  label.order_id = open.order_id;
  label.station_id = identity_.station_id;
  label.site = identity_.site;
  label.box_number = 1;
  label.item_count = open.expected();
  label.packed_at = packed_at;
  const std::string zpl = labels::render_shipping_label_zpl(label, {label_dpi_, 4.0, 6.0});
  const std::int64_t job = prints_.enqueue("shipping-label", open.order_id, "application/zpl", zpl);

  boost::json::object data;
  data["order_id"] = open.order_id;
  data["station"] = identity_.station_id;
  data["site"] = identity_.site;
  data["packed_at"] = packed_at;
  data["items"] = open.expected();
  data["boxes"] = 1;
  boost::json::array lines;
  for (const auto& l : open.lines) {
    lines.push_back(boost::json::object{{"sku", l.sku}, {"qty", l.qty}, {"scanned", l.scanned}});
  }
  data["lines"] = std::move(lines);
  data["print_jobs"] = boost::json::array{job};
  outbox_.enqueue({"com.packbench.order.packed.v1", open.order_id, std::move(data)});
  completed_in_tx_ = true;
}

void PackSession::record(const drivers::Scan& scan, const ScanOutcome& outcome,
                         std::optional<std::int64_t> session_id) {
  std::optional<std::int64_t> line;
  if (outcome.line &&
      (outcome.verdict == Verdict::item_accepted || outcome.verdict == Verdict::order_complete)) {
    line = *outcome.line;
  }
  db_.statement(
         "INSERT INTO scans (session_id, scanner, data, verdict, accepted, line_no, at, mono_ns) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind(1, session_id)
      .bind(2, scan.scanner)
      .bind(3, scan.data)
      .bind(4, std::string(to_string(outcome.verdict)))
      .bind(5, is_accepted(outcome.verdict) ? 1 : 0)
      .bind(6, line)
      .bind(7, format_utc(scan.received_at))
      .bind(8, monotonic_ns(scan.received_mono))
      .run();
}

}  // namespace packbench::station

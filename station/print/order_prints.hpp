// What an order's completion prints beside its shipping label: the personal thank-you insert,
// the discount card and the packing slip, each from its template, for the printer that serves
// its role; and the order's discount, issued in the same transaction.
//
// Nothing here blocks packing. A template that cannot be drawn for an order (a QR that does not
// fit, a character no font has) is a problem in words, logged and shown; the insert is tried
// once more without its optional parts (tip, review request), and the order completes either way.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "packbench/labels/template.hpp"
#include "station/config/config.hpp"
#include "station/discount/issue.hpp"
#include "station/discount/signed_code.hpp"
#include "station/orders/order.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

// How one role is printed: the first printer serving it, its profile (by dpi) and format.
struct PrintTarget {
  labels::PrinterProfile profile;
  labels::OutputFormat format = labels::OutputFormat::zpl;
};

// The print target of every role some printer serves.
std::map<std::string, PrintTarget> print_targets(const std::vector<PrinterConfig>& printers);

// "application/zpl", "image/png", "application/pdf", "application/vnd.escpos".
std::string content_type_of(labels::OutputFormat format);

struct OrderPrintJob {
  std::string role;           // "insert", "discount-card", "packing-slip"
  std::string template_name;  // "thank-you", ...
  std::string content_type;
  std::string bytes;
};

struct CompletionPrints {
  discount::IssueOutcome issue;                  // the order's discount (or why it has none)
  const discount::Campaign* campaign = nullptr;  // the discount's campaign, when configured
  std::vector<OrderPrintJob> jobs;
  std::vector<std::string> problems;  // what could not be printed, and why
  std::string locale;                 // the insert's language
  bool card_separate = false;         // the discount went on its own card, not the insert
};

class OrderPrinter {
 public:
  // `key`: the discount signing key when some campaign may sign (nullptr otherwise).
  OrderPrinter(InsertsConfig inserts, std::vector<discount::Campaign> campaigns,
               std::optional<discount::SigningKey> key, std::optional<std::uint32_t> station_number,
               std::string station_id, std::string site,
               std::map<std::string, PrintTarget> targets);

  // Inside the write transaction that completes the order: issues (or finds again) the order's
  // discount and renders every print the station's printers serve. `now` is stored as the time
  // of issue; `today` decides campaign validity and expiry.
  CompletionPrints prepare(Database& db, const Order& order, const std::string& now,
                           discount::Day today, int boxes) const;

  // Whether completing an order has anything to do here: a campaign, or a printer for inserts,
  // cards or slips.
  bool has_work() const { return !campaigns_.empty() || !targets_.empty(); }
  const std::vector<discount::Campaign>& campaigns() const { return campaigns_; }
  const discount::Campaign* campaign(const std::string& id) const;

  // The label values of the insert beside the order's own: tip.text and tip.url (the first tip
  // that fits the order, in its locale), review.url, shop.name.
  void add_insert_values(const Order& order, const std::string& locale,
                         labels::LabelData& data) const;

 private:
  const labels::Template* find_template(const std::string& name, std::string& error) const;

  InsertsConfig inserts_;
  std::vector<discount::Campaign> campaigns_;
  std::optional<discount::SigningKey> key_;
  std::optional<std::uint32_t> station_number_;
  std::string station_id_;
  std::string site_;
  std::map<std::string, PrintTarget> targets_;
  mutable std::map<std::string, labels::Template> templates_;
};

}  // namespace packbench::station

// What the station prints for an order, each for the printer that serves its role and through
// that printer's profile: every parcel's shipping label (the order's own carrier label, or the
// station's template with the parcel's SSCC) as its box is closed; and at completion the personal
// thank-you insert, the discount card and the packing slip, with the order's discount, issued in
// the same transaction.
//
// Nothing here blocks packing. A template that cannot be drawn for an order (a QR that does not
// fit, a character no font has) is a problem in words, logged and shown; the insert is tried
// once more without its optional parts (tip, review request), a shipping label falls back to the
// plain label (order id, box, items), and the order completes either way.
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

// How one role is printed: the first printer serving it, its profile and the format it is sent.
struct PrintTarget {
  labels::PrinterProfile profile;
  labels::OutputFormat format = labels::OutputFormat::zpl;
};

// The print target of every role some printer serves.
std::map<std::string, PrintTarget> print_targets(const std::vector<PrinterConfig>& printers);

// "application/zpl", "image/png", "application/pdf", "application/vnd.escpos".
std::string content_type_of(labels::OutputFormat format);

struct OrderPrintJob {
  std::string role;           // "shipping-label", "insert", "discount-card", "packing-slip"
  std::string template_name;  // "thank-you", ...; "carrier" for the order's own carrier label
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

// One parcel of an order: its box, and what is known of it when its label is printed.
struct Parcel {
  int box = 1;
  int box_count = 0;  // 0 while more boxes may follow (a box closed before the order is done)
  int items = 0;      // in this box
};

struct ParcelLabel {
  std::optional<OrderPrintJob> job;   // none without a printer for shipping labels
  std::string sscc;                   // the SSCC it carries, if any
  bool carrier = false;               // the order's own carrier label, printed as given
  std::vector<std::string> problems;  // what went wrong, and what was printed instead
};

class OrderPrinter {
 public:
  // `key`: the discount signing key when some campaign may sign (nullptr otherwise).
  OrderPrinter(InsertsConfig inserts, ShippingConfig shipping,
               std::vector<discount::Campaign> campaigns, std::optional<discount::SigningKey> key,
               std::optional<std::uint32_t> station_number, std::string station_id,
               std::string site, std::map<std::string, PrintTarget> targets);

  // Inside the write transaction that closes a box: the parcel's shipping label. The order's
  // carrier label goes on its first box as given (ZPL passed through, PNG or PDF rasterised to
  // the printer's profile); otherwise the [shipping] template, with the parcel's SSCC (made
  // under the configured company prefix, or the order's own "sscc" on its first box), box
  // number and items. A template that cannot be drawn gives way to the plain label.
  ParcelLabel shipping_label(Database& db, const Order& order, const Parcel& parcel,
                             const std::string& now) const;

  // Inside the write transaction that completes the order: issues (or finds again) the order's
  // discount and renders every print the station's printers serve. `now` is stored as the time
  // of issue; `today` decides campaign validity and expiry.
  CompletionPrints prepare(Database& db, const Order& order, const std::string& now,
                           discount::Day today, int boxes) const;

  // Whether completing an order has anything to do here: a campaign, or a printer for inserts,
  // cards or slips.
  bool has_work() const;
  const std::vector<discount::Campaign>& campaigns() const { return campaigns_; }
  const discount::Campaign* campaign(const std::string& id) const;

  // The label values of the insert beside the order's own: tip.text and tip.url (the first tip
  // that fits the order, in its locale), review.url, shop.name.
  void add_insert_values(const Order& order, const std::string& locale,
                         labels::LabelData& data) const;

 private:
  // A built-in template by name, or a template file (`file` when given, else `name` as a path).
  const labels::Template* find_template(const std::string& name, const std::filesystem::path& file,
                                        std::string& error) const;

  InsertsConfig inserts_;
  ShippingConfig shipping_;
  std::vector<discount::Campaign> campaigns_;
  std::optional<discount::SigningKey> key_;
  std::optional<std::uint32_t> station_number_;
  std::string station_id_;
  std::string site_;
  std::map<std::string, PrintTarget> targets_;
  mutable std::map<std::string, labels::Template> templates_;
};

}  // namespace packbench::station

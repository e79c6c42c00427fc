// Issuing an order's discount, inside the transaction that completes the order: choose the
// campaign, take a pool code or sign one, remember the link printed with it, and say what the
// events and the packer's screen need to know.
//
// Nothing here blocks packing: an order no campaign fits, an empty pool without a fallback or a
// station that cannot sign gets no discount (and a note saying why), and the thank-you prints
// without a card. Only a failing store throws (StoreError), which rolls the completion back as
// any other failure of that transaction would.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "station/discount/campaign.hpp"
#include "station/discount/day.hpp"
#include "station/discount/signed_code.hpp"
#include "station/orders/order.hpp"
#include "station/outbox/outbox.hpp"
#include "station/store/store.hpp"

namespace packbench::station::discount {

struct IssueContext {
  Day today{};                      // the station's local date: campaign validity and code expiry
  std::string now;                  // ISO 8601, recorded as allocated_at
  const SigningKey* key = nullptr;  // nullptr: this station does not sign
  std::optional<std::uint32_t> station_number;  // [discounts] station_number
};

struct IssuedDiscount {
  std::string order_id;
  std::string code;
  std::string campaign;
  CodeSource source = CodeSource::pool;
  std::optional<Day> expires;
  std::string url;
  bool reprint = false;   // the order had this code already; nothing was issued now
  bool fallback = false;  // signed because the campaign's pool was empty
};

struct PoolStatus {
  std::string campaign;
  std::int64_t remaining = 0;
  int low_water = 0;
  bool low = false;    // under the low-water mark, or empty: show it on the packer's screen
  bool alert = false;  // this allocation crossed under the mark or emptied the pool: write
                       // discount.pool.low now (once per crossing, not once per order)
};

struct IssueOutcome {
  std::optional<IssuedDiscount> discount;
  std::optional<PoolStatus> pool;  // the chosen campaign's pool, for pool campaigns
  std::string note;                // why there is no discount, or what went wrong with the link
};

// The order's discount: the code it already has (a reprint, from whichever campaign), else a new
// one from the campaign choose_campaign() picks. Inside a write transaction.
IssueOutcome issue_discount(Database& db, const std::vector<Campaign>& campaigns,
                            const Order& order, const IssueContext& context);

// The same for a campaign already chosen.
IssueOutcome issue_from_campaign(Database& db, const Campaign& campaign, const Order& order,
                                 const IssueContext& context);

// A pool's state for the packer's screen and /healthz.
PoolStatus pool_status(Database& db, const Campaign& campaign);

// What label templates see as discount.*: code, url, expires (YYYY-MM-DD), campaign, and the
// campaign's words for `locale` (discount.offer, ...). Put it in the order's "discount" object
// before making the label values.
boost::json::object discount_label_values(const IssuedDiscount& discount, const Campaign* campaign,
                                          std::string_view locale);

// The events, to enqueue in the same transaction:
//   com.packbench.discount.issued.v1    subject: the order
//     {order_id, code, campaign, source: "pool"|"signed", expires: "YYYY-MM-DD", url,
//      fallback, issued_at}
//   com.packbench.insert.printed.v1     subject: the order
//     {order_id, template, locale, campaign|null, code|null, printed_at}
//   com.packbench.discount.pool.low.v1  subject: the campaign
//     {campaign, remaining, low_water, empty, at}
EventSpec discount_issued_event(const IssuedDiscount& discount, const std::string& issued_at);

struct InsertPrinted {
  std::string order_id;
  std::string template_name;  // "thank-you", "discount-card", ...
  std::string locale;
  std::optional<std::string> campaign;
  std::optional<std::string> code;
  std::string printed_at;  // when the job was queued, ISO 8601
};
EventSpec insert_printed_event(const InsertPrinted& insert);

EventSpec pool_low_event(const PoolStatus& pool, const std::string& at);

}  // namespace packbench::station::discount

// What the back office's order feed asks of the station's orders — new orders, edits,
// cancellations — applied to the store, one page per transaction together with the feed's new
// cursor, so that a crash between fetching a page and committing it fetches it again and
// never skips it.
//
// Rules (docs/sync.md, "Order feed"):
// - an entry older than what the station has (its version is not above the stored one) is
//   ignored: pages fetched again after a crash, or sent twice, change nothing;
// - an order not yet started is added or updated; a cancellation cancels it;
// - an order on the bench (an open pack session, status packing) is not touched: the change is
//   held, the packer is told, and it is applied once the session closes — a cancelled pack puts
//   the order back, so the change applies; a packed order is not changed, and a cancellation (or
//   edit) of a packed order is reported to the back office (com.packbench.order.cancel_rejected.v1,
//   com.packbench.order.update_rejected.v1) and logged;
// - a cancellation is final: later versions of a cancelled order are ignored, and a cancellation
//   that arrives before its order keeps that order from ever being packed.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "station/orders/feed_page.hpp"
#include "station/orders/order_book.hpp"
#include "station/outbox/outbox.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

inline constexpr const char* kCancelRejectedType = "com.packbench.order.cancel_rejected.v1";
inline constexpr const char* kUpdateRejectedType = "com.packbench.order.update_rejected.v1";

// Where the feed is, as stored.
struct FeedPosition {
  std::string url;
  std::string cursor;       // "" before the first page
  std::string etag;         // of the last answer to the request with etag_cursor
  std::string etag_cursor;  // the ETag is sent back only when asking with this cursor again
  std::int64_t pages = 0;
  std::string applied_at;
  bool reset = false;  // the stored cursor belonged to another feed URL and was dropped
};

// A change the back office asked for while the order was on the bench.
struct HeldChange {
  std::string order_id;
  std::string change;  // "cancel" or "edit"
  std::optional<std::int64_t> version;
  std::string reason;  // cancel: the back office's words
  std::string received_at;
  boost::json::object to_json() const;
};

struct FeedApplyReport {
  // Orders by outcome: added, updated, unchanged, stale, held, rejected (packed), cancelled
  // (the order was cancelled before; ignored).
  std::map<std::string, std::int64_t> orders;
  // Cancellations by outcome: applied, held, rejected (packed), early (the order is not known
  // yet), duplicate.
  std::map<std::string, std::int64_t> cancellations;
  // Held changes settled, by "cancel_applied", "cancel_rejected", "edit_applied",
  // "edit_rejected", "dropped" (the order had been cancelled meanwhile).
  std::map<std::string, std::int64_t> settled;
  std::vector<std::string> warnings;  // for the log: rejections, holds
  bool events = false;                // events were written: wake the outbox's sender
  bool held_changed = false;          // the set of held changes changed: tell the packer
};

class OrderChanges {
 public:
  OrderChanges(Database& db, OrderBook& orders, Outbox& outbox, std::string station_id,
               std::string site);

  // The stored position for `url`. A position stored for another URL is dropped (the station
  // starts that feed from its beginning) and `reset` says so.
  Result<FeedPosition> position(const std::string& url);

  // Applies every entry of `page`, fetched with `request_cursor`, and stores the page's cursor
  // (and `etag`, the answer's ETag), all in one transaction. Refused — nothing applied — when
  // the stored cursor is no longer `request_cursor`.
  Result<FeedApplyReport> apply(const FeedPage& page, const std::string& url,
                                const std::string& request_cursor, const std::string& etag);

  // Applies (or reports) held changes of orders no longer on the bench: of one order, or of
  // all of them.
  Result<FeedApplyReport> settle(const std::optional<std::string>& order_id = std::nullopt);

  Result<std::vector<HeldChange>> held();

 private:
  struct Now;
  struct ChangeRow;  // a row of order_feed_changes
  std::optional<ChangeRow> change_row(const std::string& order_id);
  void settle_early(const std::string& order_id, const ChangeRow& row, FeedApplyReport& report,
                    const Now& now);
  void apply_order(const FeedOrder& entry, FeedApplyReport& report, const Now& now);
  void apply_cancellation(const FeedCancellation& entry, FeedApplyReport& report, const Now& now);
  bool being_packed(const std::string& order_id);
  void hold(const std::string& order_id, const std::string& change,
            std::optional<std::int64_t> version, const std::string& doc, const std::string& reason,
            const Now& now);
  void reject(const std::string& order_id, const std::string& change,
              std::optional<std::int64_t> version, const std::string& reason, OrderStatus status,
              FeedApplyReport& report, const Now& now);
  void audit(const std::string& order_id, boost::json::object detail, const Now& now);

  Database& db_;
  OrderBook& orders_;
  Outbox& outbox_;
  std::string station_id_;
  std::string site_;
};

}  // namespace packbench::station

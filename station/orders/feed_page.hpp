// One page of the back office's order feed, as the station reads it (docs/sync.md, "Order
// feed"):
//
//   {"orders":    [{...an order, as in an orders file..., "version": 17,
//                   "updated_at": "2026-11-22T08:00:00Z"}],
//    "cancelled": [{"id": "SHOP-1002", "version": 18, "reason": "customer request"}],
//    "cursor": "c-000181",
//    "more": false}
//
// A page is taken whole or not at all: one entry the station cannot read refuses the page, so
// that the cursor never moves past an order the station did not take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "station/orders/order.hpp"

namespace packbench::station {

struct FeedOrder {
  Order order;
  std::int64_t version = 0;  // grows with every change of the order in the back office
  std::string updated_at;    // as the back office gave it; informative
};

struct FeedCancellation {
  std::string id;
  std::optional<std::int64_t> version;
  std::string reason;
  std::string updated_at;
};

struct FeedPage {
  std::vector<FeedOrder> orders;
  std::vector<FeedCancellation> cancelled;
  std::string cursor;  // to send with the next request
  bool more = false;   // another page follows at once
};

struct FeedPageProblem {
  std::string reason;   // "bad_json" (not JSON at all) or "bad_page" (JSON, but not a page)
  std::string message;  // "orders[2].lines[0].qty: must be a whole number from 1 to 9999"
};

struct ParsedFeedPage {
  std::optional<FeedPage> page;
  FeedPageProblem problem;  // when there is no page
};

inline constexpr std::size_t kMaxFeedCursorBytes = 1024;
inline constexpr std::size_t kMaxCancelReasonBytes = 1000;

// Reads a page. An order id starting with one of `reserved_prefixes` (the bench's own codes)
// could never be opened by a scan: it refuses the page like any other fault.
ParsedFeedPage parse_feed_page(std::string_view body,
                               const std::vector<std::string>& reserved_prefixes = {});

}  // namespace packbench::station

// A parcel's SSCC (GS1 AI 00, the Serial Shipping Container Code): 18 digits — an extension
// digit, the GS1 company prefix, a serial reference, a check digit — unique to one parcel.
//
// The station makes them under the company prefix IT configures ([shipping]): the serial
// reference is the station's serial prefix, if any, followed by a counter kept in the store and
// taken in the transaction that queues the parcel's label, so an SSCC is never given twice, even
// across a crash. A box labelled again (its order reopened) keeps the SSCC it had.
#pragma once

#include <optional>
#include <string>

#include "packbench/result.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

struct SsccSettings {
  std::string company_prefix;  // 7-10 digits; empty: the station makes no SSCC
  int extension = 0;           // 0-9
  std::string serial_prefix;   // digits that start every serial reference of this station
};

// Inside a write transaction: the SSCC of box `box` of `order_id`, the one it had or the next
// one. nullopt when no company prefix is configured; an error when the serial references under
// the prefix are used up or the settings are not usable.
Result<std::optional<std::string>> parcel_sscc(Database& db, const SsccSettings& settings,
                                               const std::string& order_id, int box,
                                               const std::string& now);

// The SSCC box `box` of `order_id` was given, if any. Inside a read or write transaction.
std::optional<std::string> sscc_of(Database& db, const std::string& order_id, int box);

}  // namespace packbench::station

#include "station/print/parcels.hpp"

#include <fmt/format.h>

#include "station/print/label_data.hpp"

namespace packbench::station {

Result<std::optional<std::string>> parcel_sscc(Database& db, const SsccSettings& settings,
                                               const std::string& order_id, int box,
                                               const std::string& now) {
  if (settings.company_prefix.empty()) {
    return std::optional<std::string>();
  }
  if (auto had = sscc_of(db, order_id, box)) {
    return std::optional<std::string>(std::move(*had));
  }
  const std::size_t prefix_digits = settings.company_prefix.size();
  if (prefix_digits < 7 || prefix_digits > 10 ||
      settings.serial_prefix.size() + 1 > 16 - prefix_digits) {
    return Error{
        fmt::format("no room for a serial reference after company prefix {} and serial "
                    "prefix '{}'",
                    settings.company_prefix, settings.serial_prefix)};
  }
  // The serial reference: the station's serial prefix, then the counter in the digits left.
  const std::size_t counter_digits = 16 - prefix_digits - settings.serial_prefix.size();
  std::uint64_t limit = 1;
  for (std::size_t i = 0; i < counter_digits; ++i) {
    limit *= 10;
  }
  auto last = db.statement(
      "SELECT last FROM sscc_serials WHERE company_prefix = ?1 AND extension = ?2 AND "
      "serial_prefix = ?3");
  last.bind_all(settings.company_prefix, settings.extension, settings.serial_prefix);
  const std::uint64_t next = last.step() ? static_cast<std::uint64_t>(last.column_int(0)) + 1 : 1;
  if (next >= limit) {
    return Error{fmt::format(
        "the {} serial references under company prefix {}, extension {} and "
        "serial prefix '{}' are used up",
        limit - 1, settings.company_prefix, settings.extension, settings.serial_prefix)};
  }
  std::uint64_t serial = next;
  if (!settings.serial_prefix.empty()) {
    serial += std::stoull(settings.serial_prefix) * limit;
  }
  auto sscc = make_sscc(settings.extension, settings.company_prefix, serial);
  if (!sscc) {
    return sscc.error();
  }
  db.statement(
        "INSERT INTO sscc_serials (company_prefix, extension, serial_prefix, last) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (company_prefix, extension, serial_prefix) "
        "DO UPDATE SET last = excluded.last")
      .bind_all(settings.company_prefix, settings.extension, settings.serial_prefix,
                static_cast<std::int64_t>(next))
      .run();
  db.statement("INSERT INTO parcels (order_id, box, sscc, labelled_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(order_id, box, *sscc, now)
      .run();
  return std::optional<std::string>(std::move(*sscc));
}

std::optional<std::string> sscc_of(Database& db, const std::string& order_id, int box) {
  auto q = db.statement("SELECT sscc FROM parcels WHERE order_id = ?1 AND box = ?2");
  q.bind_all(order_id, box);
  if (q.step()) {
    return q.column_text(0);
  }
  return std::nullopt;
}

}  // namespace packbench::station

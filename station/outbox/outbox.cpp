#include "station/outbox/outbox.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

#include "station/common/clock.hpp"

namespace packbench::station {

namespace json = boost::json;

std::string make_uuid_v7() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  }
  const std::uint64_t r1 = rng();
  const std::uint64_t r2 = rng();
  for (int i = 6; i < 16; ++i) {
    b[i] = static_cast<std::uint8_t>((i < 14 ? r1 : r2) >> (8 * (i % 8)));
  }
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // variant 10
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}"
      "{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

std::string Outbox::enqueue(const EventSpec& spec) {
  const std::string id = make_uuid_v7();
  const std::string time = now_utc();
  json::object ev;
  ev["specversion"] = "1.0";
  ev["id"] = id;
  ev["source"] = source_;
  ev["type"] = spec.type;
  ev["time"] = time;
  if (!spec.subject.empty()) {
    ev["subject"] = spec.subject;
  }
  ev["datacontenttype"] = "application/json";
  ev["data"] = spec.data;
  db_.statement(
         "INSERT INTO outbox (id, type, subject, event, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(id, spec.type, spec.subject, json::serialize(ev), time)
      .run();
  return id;
}

Result<std::vector<PendingEvent>> Outbox::next_batch(std::size_t max_events,
                                                     std::size_t max_bytes) {
  return db_.read([&] {
    std::vector<PendingEvent> out;
    std::size_t bytes = 0;
    auto sel = db_.statement("SELECT seq, id, event FROM outbox ORDER BY seq LIMIT ?1");
    sel.bind_all(static_cast<std::int64_t>(max_events));
    while (sel.step()) {
      PendingEvent e;
      e.seq = sel.column_int(0);
      e.id = sel.column_text(1);
      boost::system::error_code ec;
      auto value = json::parse(sel.column_text(2), ec);
      if (ec || !value.is_object()) {
        throw StoreError(0, fmt::format("outbox row {} holds an unreadable event", e.seq));
      }
      value.as_object()["sequence"] = fmt::format("{:020}", e.seq);
      e.json = json::serialize(value);
      if (!out.empty() && bytes + e.json.size() > max_bytes) {
        break;
      }
      bytes += e.json.size();
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<void> Outbox::acknowledge(const std::vector<PendingEvent>& events) {
  return db_.write([&] {
    for (const auto& e : events) {
      db_.statement("DELETE FROM outbox WHERE seq = ?1").bind_all(e.seq).run();
    }
  });
}

Result<void> Outbox::record_failure(const std::vector<PendingEvent>& events,
                                    const std::string& error) {
  return db_.write([&] {
    for (const auto& e : events) {
      db_.statement("UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1")
          .bind_all(e.seq, error)
          .run();
    }
  });
}

Result<OutboxDepth> Outbox::depth() {
  return db_.read([&] {
    OutboxDepth d;
    auto sel = db_.statement(
        "SELECT count(*), coalesce(sum(length(event)), 0), min(created_at) FROM outbox");
    if (sel.step()) {
      d.events = sel.column_int(0);
      d.bytes = sel.column_int(1);
      d.oldest_created_at = sel.column_optional_text(2);
    }
    return d;
  });
}

}  // namespace packbench::station

#include "station/outbox/outbox.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>
#include <set>

namespace packbench::station {

namespace json = boost::json;

namespace {

constexpr std::size_t kRefusedSubjectsKept = 20;

// The stored event is a JSON object without its sequence; the sequence goes in last. Spliced
// rather than parsed and serialised again: draining a backlog reads every row.
std::string with_sequence(const std::string& event, std::int64_t seq) {
  if (event.size() < 2 || event.front() != '{' || event.back() != '}') {
    throw StoreError(0, fmt::format("outbox row {} holds an unreadable event", seq));
  }
  std::string out;
  out.reserve(event.size() + 36);
  out.append(event, 0, event.size() - 1);
  if (event.size() > 2) {
    out += ',';
  }
  out += fmt::format("\"sequence\":\"{:020}\"}}", seq);
  return out;
}

json::object refusals_to_json(const Refusals& r) {
  json::object by_type;
  for (const auto& [k, v] : r.by_type) {
    by_type[k] = v;
  }
  json::object by_lane;
  for (const auto& [k, v] : r.by_lane) {
    by_lane[k] = v;
  }
  json::array subjects;
  for (const auto& s : r.subjects) {
    subjects.push_back(json::value(s));
  }
  return json::object{{"reason", r.reason},
                      {"refused", r.events},
                      {"scans_not_recorded", r.scans},
                      {"first_refused_at", r.first_at},
                      {"last_refused_at", r.last_at},
                      {"by_type", std::move(by_type)},
                      {"by_lane", std::move(by_lane)},
                      {"subjects", std::move(subjects)}};
}

Refusals refusals_from_json(const json::object& o) {
  Refusals r;
  auto text = [&](const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                    : std::string();
  };
  r.reason = text("reason");
  r.first_at = text("first_refused_at");
  r.last_at = text("last_refused_at");
  if (auto it = o.find("refused"); it != o.end() && it->value().is_int64()) {
    r.events = it->value().as_int64();
  }
  if (auto it = o.find("scans_not_recorded"); it != o.end() && it->value().is_int64()) {
    r.scans = it->value().as_int64();
  }
  for (const char* key : {"by_type", "by_lane"}) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object()) {
      continue;
    }
    auto& dst = std::string_view(key) == "by_type" ? r.by_type : r.by_lane;
    for (const auto& [k, v] : it->value().as_object()) {
      if (v.is_int64()) {
        dst[std::string(k)] = v.as_int64();
      }
    }
  }
  if (auto it = o.find("subjects"); it != o.end() && it->value().is_array()) {
    for (const auto& s : it->value().as_array()) {
      if (s.is_string()) {
        r.subjects.emplace_back(s.as_string());
      }
    }
  }
  return r;
}

PendingEvent read_pending(Statement& sel, Lane lane) {
  PendingEvent e;
  e.seq = sel.column_int(0);
  e.id = sel.column_text(1);
  e.type = sel.column_text(2);
  e.subject = sel.column_text(3);
  e.json = with_sequence(sel.column_text(4), e.seq);
  e.created_mono_ns = sel.column_int(5);
  e.attempts = sel.column_int(6);
  e.lane = lane;
  return e;
}

}  // namespace

std::string_view to_string(Lane lane) {
  return lane == Lane::bulk ? "bulk" : "business";
}

std::optional<Lane> parse_lane(std::string_view text) {
  if (text == "business") {
    return Lane::business;
  }
  if (text == "bulk") {
    return Lane::bulk;
  }
  return std::nullopt;
}

void UuidV7::start_afresh(std::uint64_t ms) {
  ms_ = ms;
  rand_a_ = rng_() & 0x7FF;  // 12 bits, the top one clear
  rand_b_ = rng_() & ((std::uint64_t{1} << 62) - 1);
  started_ = true;
}

std::string UuidV7::next(std::chrono::system_clock::time_point now) {
  // A wall clock set before 1970 must not wrap into the far future.
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()));
  if (!started_ || ms > ms_ || ms_ - ms > static_cast<std::uint64_t>(kHoldBack.count())) {
    start_afresh(ms);
  } else {
    // The same millisecond, or the clock stepped back a little: after the last id.
    rand_b_ += 1 + (rng_() & 0xFFFFFFFF);
    if (rand_b_ >> 62) {
      rand_b_ &= (std::uint64_t{1} << 62) - 1;
      if (++rand_a_ >> 12) {
        start_afresh(ms_ + 1);  // 2^41 ids in one millisecond: the timestamp moves on (6.2)
      }
    }
  }
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<std::uint8_t>(ms_ >> (40 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>(0x70 | (rand_a_ >> 8));  // version 7
  b[7] = static_cast<std::uint8_t>(rand_a_);
  b[8] = static_cast<std::uint8_t>(0x80 | (rand_b_ >> 56));  // variant 10
  for (int i = 9; i < 16; ++i) {
    b[i] = static_cast<std::uint8_t>(rand_b_ >> (8 * (15 - i)));
  }
  // 8-4-4-4-12 hex digits. Written by hand: every event takes one, and fmt's 16-argument
  // format was a fair share of what enqueue() costs.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t at = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      ++at;  // the '-'
    }
    out[at++] = kHex[b[i] >> 4];
    out[at++] = kHex[b[i] & 0x0F];
  }
  return out;
}

Outbox::Outbox(Database& db, std::string source, OutboxConfig config, const WallClock& clock)
    : db_(db), source_(std::move(source)), config_(std::move(config)), clock_(clock) {}

std::optional<std::chrono::milliseconds> Outbox::ttl(Lane lane) const {
  return lane == Lane::bulk ? config_.bulk_ttl : config_.business_ttl;
}

Result<void> Outbox::restore(const std::string& boot_id, std::int64_t now_mono_ns) {
  boot_id_ = boot_id;
  auto loaded = db_.write([&] {
    std::optional<std::string> clock_text;
    std::optional<std::string> refusals_text;
    auto kv = db_.statement(
        "SELECT key, value FROM station_state WHERE key IN ('outbox_clock', 'outbox_refusals')");
    while (kv.step()) {
      (kv.column_text(0) == "outbox_clock" ? clock_text : refusals_text) = kv.column_text(1);
    }
    std::string last_boot;
    std::int64_t alive_ns = 0;
    if (clock_text) {
      boost::system::error_code ec;
      auto v = json::parse(*clock_text, ec);
      if (!ec && v.is_object()) {
        if (auto* b = v.as_object().if_contains("boot"); b && b->is_string()) {
          last_boot = std::string(b->as_string());
        }
        if (auto* a = v.as_object().if_contains("alive_ns"); a && a->is_int64()) {
          alive_ns = a->as_int64();
        }
      }
    }
    if (!clock_text) {
      // Rows from before ages were kept (or a store never started): they start their age now.
      db_.statement("UPDATE outbox SET created_mono_ns = ?1 WHERE created_mono_ns = 0")
          .bind_all(now_mono_ns)
          .run();
    } else if (last_boot != boot_id) {
      // The machine rebooted: its monotonic clock started again from zero. Every event keeps
      // the age it had when the station was last seen up.
      auto newest = db_.statement("SELECT coalesce(max(created_mono_ns), 0) FROM outbox");
      newest.step();
      const std::int64_t last_seen = std::max(alive_ns, newest.column_int(0));
      const std::int64_t shift = now_mono_ns - last_seen;
      db_.statement("UPDATE outbox SET created_mono_ns = created_mono_ns + ?1")
          .bind_all(shift)
          .run();
      db_.statement("UPDATE outbox_dead SET created_mono_ns = created_mono_ns + ?1")
          .bind_all(shift)
          .run();
    }
    db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('outbox_clock', ?1)")
        .bind_all(json::serialize(json::object{{"boot", boot_id}, {"alive_ns", now_mono_ns}}))
        .run();
    return refusals_text;
  });
  if (!loaded) {
    return loaded.error();
  }
  if (*loaded) {
    boost::system::error_code ec;
    auto v = json::parse(**loaded, ec);
    if (!ec && v.is_object()) {
      Refusals stored = refusals_from_json(v.as_object());
      if (refusals_.empty()) {
        refusals_ = std::move(stored);
      }
      full_ = !refusals_.empty();
    }
  }
  return {};
}

void Outbox::note_refusal_time(const std::string& subject, const std::string& reason) {
  const std::string at = clock_.now_utc();
  if (refusals_.empty()) {
    refusals_.first_at = at;
    refusals_.reason = reason;
  } else if (refusals_.reason.find(reason) == std::string::npos) {
    refusals_.reason = "cap,disk_full";
  }
  refusals_.last_at = at;
  if (!subject.empty() && refusals_.subjects.size() < kRefusedSubjectsKept &&
      std::find(refusals_.subjects.begin(), refusals_.subjects.end(), subject) ==
          refusals_.subjects.end()) {
    refusals_.subjects.push_back(subject);
  }
}

void Outbox::count_refusal(const std::string& type, const std::string& subject, Lane lane,
                           const std::string& reason) {
  note_refusal_time(subject, reason);
  ++refusals_.events;
  ++refusals_.by_type[type];
  ++refusals_.by_lane[std::string(to_string(lane))];
  ++refused_total_[{lane, reason}];
  if (lane == Lane::business) {
    full_ = true;
  }
}

void Outbox::note_unrecorded(const std::string& subject, const std::string& reason) {
  note_refusal_time(subject, reason);
  ++refusals_.scans;
  full_ = true;
}

std::int64_t Outbox::refused_total(Lane lane, const std::string& reason) const {
  auto it = refused_total_.find({lane, reason});
  return it == refused_total_.end() ? 0 : it->second;
}

void Outbox::note_refused(const std::vector<std::pair<std::string, std::string>>& type_and_subject,
                          Lane lane, const std::string& reason) {
  for (const auto& [type, subject] : type_and_subject) {
    count_refusal(type, subject, lane, reason);
  }
}

void Outbox::save_refusals() {
  if (refusals_.empty()) {
    return;
  }
  // Best effort: when the store is full this fails too, and the count lives on in memory.
  (void)db_.write([&] {
    db_.statement(
           "INSERT OR REPLACE INTO station_state (key, value) VALUES ('outbox_refusals', ?1)")
        .bind_all(json::serialize(refusals_to_json(refusals_)))
        .run();
  });
}

namespace {

// A JSON string, escaped as Boost.JSON's serializer does (RFC 8259, 7).
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<unsigned char>(c) >> 4];
          out += kHex[static_cast<unsigned char>(c) & 0x0F];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

Result<void> check_event_type(std::string_view type) {
  constexpr std::string_view kPrefix = "com.packbench.";
  auto bad = [&](std::string_view why) -> Result<void> {
    return Error{fmt::format("'{}' is not an event type (com.packbench.<thing>.<verb>.v<N>): {}",
                             type.substr(0, kMaxEventTypeLength + 8), why)};
  };
  if (type.size() > kMaxEventTypeLength) {
    return bad(fmt::format("longer than {} characters", kMaxEventTypeLength));
  }
  if (!type.starts_with(kPrefix)) {
    return bad("it must begin with com.packbench.");
  }
  std::vector<std::string_view> parts;
  for (std::string_view rest = type.substr(kPrefix.size());;) {
    const auto dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  if (parts.size() < 3) {
    return bad("it needs a thing, a verb and a version");
  }
  const std::string_view version = parts.back();
  if (version.size() < 2 || version[0] != 'v' || version[1] < '1' || version[1] > '9' ||
      version.find_first_not_of("0123456789", 1) != std::string_view::npos) {
    return bad("it must end in a version: .v1, .v2, ...");
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string_view word = parts[i];
    if (word.empty() || word[0] < 'a' || word[0] > 'z' ||
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos) {
      return bad(
          fmt::format("'{}' is not a word (a lower-case letter, then lower-case letters, "
                      "digits or '_')",
                      word));
    }
  }
  return {};
}

Result<std::string> Outbox::enqueue(const EventSpec& spec) {
  if (auto checked = check_event_type(spec.type); !checked) {
    return checked.error();
  }
  const auto now = clock_.now();
  const std::string id = ids_.next(now);
  const std::string time = format_utc(now);
  // The CloudEvent written straight out, attribute by attribute, rather than built as a
  // json::object (which copies the data) and serialised.
  std::string text;
  text.reserve(200 + source_.size() + spec.type.size() + spec.subject.size());
  text += R"({"specversion":"1.0","id":)";
  append_json_string(text, id);
  text += R"(,"source":)";
  append_json_string(text, source_);
  text += R"(,"type":)";
  append_json_string(text, spec.type);
  text += R"(,"time":)";
  append_json_string(text, time);
  if (!spec.subject.empty()) {
    text += R"(,"subject":)";
    append_json_string(text, spec.subject);
  }
  text += R"(,"datacontenttype":"application/json","data":)";
  text += json::serialize(spec.data);
  text += '}';
  const auto size = static_cast<std::int64_t>(text.size());

  if (usage_.transaction != db_.transaction_serial() || usage_.transaction == 0) {
    usage_ = {db_.transaction_serial(), 0, 0};
    // Dead letters count too ('dead'; 'dead_bulk' is the bulk lane's part of it).
    auto usage = db_.statement("SELECT lane, bytes FROM outbox_usage");
    while (usage.step()) {
      const std::string lane = usage.column_text(0);
      const std::int64_t bytes = usage.column_int(1);
      if (lane != "dead_bulk") {
        usage_.total += bytes;
      }
      if (lane == "bulk" || lane == "dead_bulk") {
        usage_.bulk += bytes;
      }
    }
  }
  const std::int64_t total = usage_.total;
  const std::int64_t bulk = usage_.bulk;
  const bool over_total = total + size > config_.max_bytes;
  const bool over_bulk = spec.lane == Lane::bulk && bulk + size > config_.bulk_max_bytes;
  if (over_total || over_bulk) {
    count_refusal(spec.type, spec.subject, spec.lane, "cap");
    ++refusals_raised_;
    throw OutboxFull(fmt::format(
        "the outbox is full: {} bytes of events wait for the back office or lie in the dead "
        "letters (limit {}{}); a {} event of {} bytes was refused",
        over_total ? total : bulk, over_total ? config_.max_bytes : config_.bulk_max_bytes,
        over_total ? "" : " for the bulk lane", spec.type, size));
  }
  db_.statement(
         "INSERT INTO outbox (id, type, subject, event, created_at, lane, bytes, created_mono_ns) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind_all(id, spec.type, spec.subject, text, time, to_string(spec.lane), size,
                monotonic_now_ns())
      .run();
  usage_.total += size;
  if (spec.lane == Lane::bulk) {
    usage_.bulk += size;
  }
  return Result<std::string>(boost::system::in_place_value, id);
}

Result<std::vector<PendingEvent>> Outbox::next_batch(std::size_t max_events,
                                                     std::size_t max_bytes) {
  return db_.read([&] {
    std::vector<PendingEvent> out;
    // As a batch in one JSON array (the webhook's body): the brackets, and a comma between
    // events (here: one byte with each event, and one more).
    std::size_t bytes = 1;
    auto room_for = [&](const PendingEvent& e) {
      return out.empty() || (out.size() < max_events && bytes + e.json.size() + 1 <= max_bytes);
    };
    auto bulk_count = db_.statement("SELECT events FROM outbox_usage WHERE lane = 'bulk'");
    const bool bulk_waiting = bulk_count.step() && bulk_count.column_int(0) > 0;

    // Subjects with an event held back, and the sequence of the first one held: nothing later
    // of that subject may go before it.
    std::map<std::string, std::int64_t> held;
    bool cut = false;
    // "+lane": in the table's own order (by seq), stopping when the batch is full. Through
    // outbox_by_age SQLite would read and sort the whole lane for every batch.
    auto business = db_.statement(
        "SELECT seq, id, type, subject, event, created_mono_ns, attempts FROM outbox "
        "WHERE +lane = 'business' ORDER BY seq");
    while (business.step()) {
      if (out.size() >= max_events) {
        cut = true;
        break;
      }
      const std::string subject = business.column_text(3);
      if (bulk_waiting && !subject.empty()) {
        const std::int64_t seq = business.column_int(0);
        if (held.count(subject)) {
          continue;
        }
        auto earlier = db_.statement(
            "SELECT 1 FROM outbox WHERE subject = ?1 AND lane = 'bulk' AND seq < ?2 LIMIT 1");
        if (earlier.bind_all(subject, seq).step()) {
          held.emplace(subject, seq);
          continue;
        }
      }
      PendingEvent e = read_pending(business, Lane::business);
      if (!room_for(e)) {
        cut = true;
        break;
      }
      bytes += e.json.size() + 1;
      out.push_back(std::move(e));
    }
    if (cut || !bulk_waiting) {
      return out;
    }
    auto bulk = db_.statement(
        "SELECT seq, id, type, subject, event, created_mono_ns, attempts FROM outbox "
        "WHERE +lane = 'bulk' ORDER BY seq");
    while (bulk.step() && out.size() < max_events) {
      const std::string subject = bulk.column_text(3);
      const std::int64_t seq = bulk.column_int(0);
      if (!subject.empty()) {
        auto h = held.find(subject);
        if (h != held.end() && h->second < seq) {
          continue;
        }
      }
      PendingEvent e = read_pending(bulk, Lane::bulk);
      if (!room_for(e)) {
        break;
      }
      bytes += e.json.size() + 1;
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

namespace {

void move_to_dead(Database& db, std::int64_t seq, const std::string& reason,
                  const std::string& error, const std::string& at, bool attempted) {
  db.statement(
        "INSERT INTO outbox_dead (seq, id, lane, type, subject, event, bytes, created_at, "
        "created_mono_ns, attempts, last_error, reason, dead_at) "
        "SELECT seq, id, lane, type, subject, event, bytes, created_at, created_mono_ns, "
        "attempts + ?2, ?3, ?4, ?5 FROM outbox WHERE seq = ?1")
      .bind_all(seq, attempted ? 1 : 0, error, reason, at)
      .run();
  db.statement("DELETE FROM outbox WHERE seq = ?1").bind_all(seq).run();
}

}  // namespace

Result<void> Outbox::dead_letter(const std::vector<PendingEvent>& events, const std::string& reason,
                                 const std::string& error) {
  const std::string at = clock_.now_utc();
  return db_.write([&] {
    for (const auto& e : events) {
      move_to_dead(db_, e.seq, reason, error, at, true);
    }
  });
}

Result<std::map<Lane, std::int64_t>> Outbox::expire(std::int64_t now_mono_ns) {
  std::map<Lane, std::int64_t> counts;
  if (!config_.business_ttl && !config_.bulk_ttl) {
    return counts;
  }
  const std::string at = clock_.now_utc();
  return db_.write([&] {
    for (Lane lane : {Lane::business, Lane::bulk}) {
      const auto limit = ttl(lane);
      if (!limit) {
        continue;
      }
      const std::int64_t cutoff =
          now_mono_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(*limit).count();
      // By age, not by sequence: an event put back from the dead letters keeps its sequence
      // and starts a new age, so older events may follow it (outbox_by_age).
      std::vector<std::int64_t> old;
      auto sel = db_.statement(
          "SELECT seq FROM outbox WHERE lane = ?1 AND created_mono_ns <= ?2 ORDER BY seq");
      sel.bind_all(to_string(lane), cutoff);
      while (sel.step()) {
        old.push_back(sel.column_int(0));
      }
      const std::string why =
          fmt::format("older than the {} lane's TTL of {} s", to_string(lane),
                      std::chrono::duration_cast<std::chrono::seconds>(*limit).count());
      for (auto seq : old) {
        move_to_dead(db_, seq, "expired", why, at, false);
      }
      if (!old.empty()) {
        counts[lane] = static_cast<std::int64_t>(old.size());
      }
    }
    return counts;
  });
}

Result<bool> Outbox::raise_alarm_if_due() {
  if (refusals_.empty()) {
    return false;
  }
  const auto now = clock_.now();
  json::object data = refusals_to_json(refusals_);
  data["max_bytes"] = config_.max_bytes;
  const std::string id = ids_.next(now);
  json::object ev{{"specversion", "1.0"},    {"id", id},
                  {"source", source_},       {"type", kOutboxRefusedType},
                  {"time", format_utc(now)}, {"datacontenttype", "application/json"},
                  {"data", std::move(data)}};
  const std::string text = json::serialize(ev);
  const auto size = static_cast<std::int64_t>(text.size());
  const bool cap = refusals_.reason.find("cap") != std::string::npos;
  auto raised = db_.write([&] {
    auto usage =
        db_.statement("SELECT coalesce(sum(bytes), 0) FROM outbox_usage WHERE lane != 'dead_bulk'");
    usage.step();
    const std::int64_t total = usage.column_int(0);
    // After a full outbox, "room again" means a tenth of it free: the alarm is not worth
    // sending for every event that squeezes in and out at the edge.
    const std::int64_t room = cap ? config_.max_bytes - config_.max_bytes / 10 : config_.max_bytes;
    if (total + size > room) {
      return false;
    }
    db_.statement(
           "INSERT INTO outbox (id, type, subject, event, created_at, lane, bytes, "
           "created_mono_ns) VALUES (?1, ?2, '', ?3, ?4, 'business', ?5, ?6)")
        .bind_all(id, kOutboxRefusedType, text, format_utc(now), size, monotonic_now_ns())
        .run();
    db_.statement("DELETE FROM station_state WHERE key = 'outbox_refusals'").run();
    return true;
  });
  if (!raised) {
    return raised.error();
  }
  if (*raised) {
    refusals_ = {};
    full_ = false;
  }
  return *raised;
}

Result<void> Outbox::mark_alive(std::int64_t now_mono_ns) {
  return db_.write([&] {
    db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('outbox_clock', ?1)")
        .bind_all(json::serialize(json::object{
            {"boot", boot_id_.empty() ? current_boot_id() : boot_id_}, {"alive_ns", now_mono_ns}}))
        .run();
  });
}

namespace {

std::optional<SyncStop> read_sync_stop(Database& db) {
  auto q = db.statement("SELECT value FROM station_state WHERE key = 'sync_stopped'");
  if (!q.step()) {
    return std::nullopt;
  }
  SyncStop stop;
  boost::system::error_code ec;
  auto v = json::parse(q.column_text(0), ec);
  if (!ec && v.is_object()) {
    auto text = [&](const char* key) {
      const auto* f = v.as_object().if_contains(key);
      return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    stop.at = text("at");
    stop.endpoint = text("endpoint");
    stop.error = text("error");
  }
  return stop;
}

}  // namespace

Result<void> Outbox::note_sync_stop(const SyncStop& stop) {
  return db_.write([&] {
    db_.statement("INSERT OR REPLACE INTO station_state (key, value) VALUES ('sync_stopped', ?1)")
        .bind_all(json::serialize(
            json::object{{"at", stop.at}, {"endpoint", stop.endpoint}, {"error", stop.error}}))
        .run();
  });
}

Result<std::optional<SyncStop>> Outbox::sync_stop() {
  return db_.read([&] { return read_sync_stop(db_); });
}

Result<std::optional<SyncStop>> Outbox::resume_sync() {
  return db_.write([&] {
    auto stop = read_sync_stop(db_);
    db_.statement("DELETE FROM station_state WHERE key = 'sync_stopped'").run();
    return stop;
  });
}

Result<OutboxDepth> Outbox::depth() {
  return db_.read([&] {
    OutboxDepth d;
    auto usage = db_.statement("SELECT lane, events, bytes FROM outbox_usage");
    while (usage.step()) {
      const std::string lane = usage.column_text(0);
      LaneUsage u{usage.column_int(1), usage.column_int(2)};
      if (lane == "dead") {
        d.dead = u;
        continue;
      }
      if (lane == "dead_bulk") {
        d.dead_bulk = u;
        continue;
      }
      (lane == "bulk" ? d.bulk : d.business) = u;
      d.events += u.events;
      d.bytes += u.bytes;
    }
    // The oldest by age (not the first by sequence: an event put back from the dead letters
    // starts a new age), one lane at a time on outbox_by_age.
    for (const char* lane : {"business", "bulk"}) {
      auto oldest = db_.statement(
          "SELECT created_at, created_mono_ns FROM outbox WHERE lane = ?1 "
          "ORDER BY created_mono_ns LIMIT 1");
      oldest.bind_all(lane);
      if (oldest.step() && (!d.oldest_mono_ns || oldest.column_int(1) < *d.oldest_mono_ns)) {
        d.oldest_created_at = oldest.column_text(0);
        d.oldest_mono_ns = oldest.column_int(1);
      }
    }
    return d;
  });
}

namespace {

OutboxRow read_row(Statement& sel, bool dead) {
  OutboxRow r;
  r.seq = sel.column_int(0);
  r.id = sel.column_text(1);
  r.lane = parse_lane(sel.column_text(2)).value_or(Lane::business);
  r.type = sel.column_text(3);
  r.subject = sel.column_text(4);
  r.bytes = sel.column_int(5);
  r.created_at = sel.column_text(6);
  r.attempts = sel.column_int(7);
  r.last_error = sel.column_text(8);
  if (dead) {
    r.reason = sel.column_text(9);
    r.dead_at = sel.column_text(10);
  }
  return r;
}

}  // namespace

Result<std::vector<OutboxRow>> Outbox::list(std::size_t limit) {
  return db_.read([&] {
    std::vector<OutboxRow> rows;
    auto sel = db_.statement(
        "SELECT seq, id, lane, type, subject, bytes, created_at, attempts, last_error "
        "FROM outbox ORDER BY seq LIMIT ?1");
    sel.bind_all(static_cast<std::int64_t>(limit));
    while (sel.step()) {
      rows.push_back(read_row(sel, false));
    }
    return rows;
  });
}

Result<std::vector<OutboxRow>> Outbox::dead_letters(std::size_t limit) {
  return db_.read([&] {
    std::vector<OutboxRow> rows;
    auto sel = db_.statement(
        "SELECT seq, id, lane, type, subject, bytes, created_at, attempts, last_error, reason, "
        "dead_at FROM outbox_dead ORDER BY seq LIMIT ?1");
    sel.bind_all(static_cast<std::int64_t>(limit));
    while (sel.step()) {
      rows.push_back(read_row(sel, true));
    }
    return rows;
  });
}

Result<std::int64_t> Outbox::retry_dead(const std::vector<std::string>& ids,
                                        std::vector<std::string>* unknown) {
  const std::int64_t now = monotonic_now_ns();
  return db_.write([&] {
    std::vector<std::string> targets = ids;
    if (targets.empty()) {
      auto all = db_.statement("SELECT id FROM outbox_dead ORDER BY seq");
      while (all.step()) {
        targets.push_back(all.column_text(0));
      }
    }
    std::int64_t moved = 0;
    for (const auto& id : targets) {
      // Same id, same sequence: to the back office it is the same event, not a new one. Its
      // age starts again, or a lane's TTL would send it straight back.
      db_.statement(
             "INSERT INTO outbox (seq, id, type, subject, event, created_at, attempts, "
             "last_error, lane, bytes, created_mono_ns) "
             "SELECT seq, id, type, subject, event, created_at, 0, last_error, lane, bytes, ?2 "
             "FROM outbox_dead WHERE id = ?1")
          .bind_all(id, now)
          .run();
      if (db_.changes() == 0) {
        if (unknown) {
          unknown->push_back(id);
        }
        continue;
      }
      db_.statement("DELETE FROM outbox_dead WHERE id = ?1").bind_all(id).run();
      ++moved;
    }
    return moved;
  });
}

Result<Outbox::Purged> Outbox::purge_dead(
    const std::vector<std::string>& ids,
    std::optional<std::chrono::system_clock::time_point> dead_before,
    std::vector<std::string>* unknown) {
  return db_.write([&] {
    Purged purged;
    auto count = [&](Statement& q) {
      while (q.step()) {
        ++purged.events;
        purged.bytes += q.column_int(0);
      }
    };
    if (!ids.empty()) {
      for (const auto& id : ids) {
        auto del = db_.statement("DELETE FROM outbox_dead WHERE id = ?1 RETURNING bytes");
        del.bind_all(id);
        const auto before = purged.events;
        count(del);
        if (purged.events == before && unknown) {
          unknown->push_back(id);
        }
      }
    } else if (dead_before) {
      // dead_at is UTC text of fixed width (format_utc): it orders as time.
      auto del = db_.statement("DELETE FROM outbox_dead WHERE dead_at < ?1 RETURNING bytes");
      del.bind_all(format_utc(*dead_before));
      count(del);
    } else {
      auto del = db_.statement("DELETE FROM outbox_dead RETURNING bytes");
      count(del);
    }
    return purged;
  });
}

}  // namespace packbench::station

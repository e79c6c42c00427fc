// The outbox on a real SQLite file: lanes and FIFO per subject, the cap and its alarm, TTLs on
// the monotonic clock across reboots, dead letters, and the migration of an older store.
#include "station/outbox/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>
#include <set>

#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  explicit Fixture(ps::OutboxConfig config = {}) : outbox(db, "/stations/s/p", config) {}

  pt::TempDir dir;
  ps::Database db = std::move(*ps::Database::open(dir / "station.db"));
  ps::Outbox outbox;

  void add(const std::string& subject, int n = 1, ps::Lane lane = ps::Lane::business) {
    ASSERT_TRUE(db.write([&] {
      for (int i = 0; i < n; ++i) {
        outbox.enqueue({"com.packbench.test.made.v1", subject, json::object{{"i", i}}, lane})
            .value();
      }
    }));
  }

  std::int64_t depth() { return outbox.depth()->events; }

  std::int64_t count(const std::string& sql) {
    auto r = db.read([&] {
      auto st = db.statement(sql);
      return st.step() ? st.column_int(0) : -1;
    });
    return r ? *r : -1;
  }

  // (subject, lane) of the next batch, in order.
  std::vector<std::string> next(std::size_t max_events = 100) {
    std::vector<std::string> out;
    auto batch = outbox.next_batch(max_events, 1 << 20);
    EXPECT_TRUE(batch);
    for (const auto& e : *batch) {
      out.push_back(e.subject + ":" + std::string(ps::to_string(e.lane)));
    }
    return out;
  }
};

std::int64_t seq_of(const ps::PendingEvent& e) {
  return std::stoll(std::string(json::parse(e.json).at("sequence").as_string()));
}

}  // namespace

namespace {

// The 48-bit Unix milliseconds at the head of a UUIDv7 (RFC 9562, 5.7).
std::int64_t uuid_ms(const std::string& id) {
  return std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
}

std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace

TEST(UuidV7, HasItsVersionAndVariantAndIsUnique) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int g = 0; g < 10; ++g) {  // generators of their own, as stations are
    ps::UuidV7 ids;
    for (int i = 0; i < 100; ++i) {
      const auto id = ids.next(std::chrono::system_clock::now());
      EXPECT_TRUE(std::regex_match(id, shape)) << id;
      seen.insert(id);
    }
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(UuidV7, IdsIncreaseWithinAMillisecondAndCarryIt) {
  // 10,000 ids in one millisecond (RFC 9562, 6.2, monotonic random): each above the last, all
  // with that millisecond.
  ps::UuidV7 ids;
  const std::int64_t ms = 1795421260123;
  std::string last = ids.next(at_ms(ms));
  EXPECT_EQ(uuid_ms(last), ms);
  for (int i = 0; i < 10000; ++i) {
    const std::string id = ids.next(at_ms(ms) + std::chrono::microseconds(i % 1000));
    ASSERT_LT(last, id) << i;
    ASSERT_EQ(uuid_ms(id), ms);
    last = id;
  }
  // The next millisecond starts afresh, above them all.
  const std::string next = ids.next(at_ms(ms + 1));
  EXPECT_LT(last, next);
  EXPECT_EQ(uuid_ms(next), ms + 1);
}

TEST(UuidV7, AClockSteppedBackALittleKeepsTheOrderAndOneSetBackFarIsFollowed) {
  ps::UuidV7 ids;
  const std::int64_t ms = 1795421260123;
  const std::string before = ids.next(at_ms(ms));
  // NTP steps the clock back half a second: ids keep increasing under the last timestamp.
  const std::string stepped = ids.next(at_ms(ms - 500));
  EXPECT_LT(before, stepped);
  EXPECT_EQ(uuid_ms(stepped), ms);
  const std::string later = ids.next(at_ms(ms - 400));
  EXPECT_LT(stepped, later);
  EXPECT_EQ(uuid_ms(later), ms);
  // Set back by a day (it was wrong): ids follow the clock and match the events' time again.
  const std::string day_back = ids.next(at_ms(ms - 86400000));
  EXPECT_EQ(uuid_ms(day_back), ms - 86400000);
  EXPECT_LT(day_back, before);
  // A clock before 1970 gives 0, not a wrapped far future.
  ps::UuidV7 early;
  EXPECT_EQ(uuid_ms(early.next(at_ms(-5000))), 0);
}

TEST(UuidV7, AnEventsIdCarriesTheTimeItWasWrittenAndIdsFollowTheSequence) {
  Fixture f;
  const auto t0 = std::chrono::system_clock::now();
  f.add("A", 1000);  // one transaction, a burst within a few milliseconds
  const auto t1 = std::chrono::system_clock::now();
  auto batch = f.outbox.next_batch(1000, 1 << 30);
  ASSERT_EQ(batch->size(), 1000u);
  const auto ms = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  std::string last;
  for (const auto& e : *batch) {
    const auto ev = json::parse(e.json).as_object();
    EXPECT_GE(uuid_ms(e.id), ms(t0));
    EXPECT_LE(uuid_ms(e.id), ms(t1));
    // The same millisecond as the event's `time`, read from the same clock reading.
    EXPECT_EQ(ps::format_utc(at_ms(uuid_ms(e.id))), ev.at("time").as_string());
    EXPECT_LT(last, e.id);  // in the order of the sequence
    last = e.id;
  }
}

TEST(Outbox, EventsAreTheJsonBoostWouldWriteWhateverTheirText) {
  // Order ids and data with quotes, backslashes, control characters and Japanese: the event is
  // written by hand, and must read back as what was given, in Boost.JSON's own form. (A type
  // has none of these: check_event_type refuses them.)
  Fixture f;
  const std::string subject = "A\"B\\C\n\t\x01\x1f/\xe6\x97\xa5\xe6\x9c\xac";
  const json::object data{{"note", "say \"hi\"\r\n"}, {"n", 3}, {"list", json::array{1, "x"}}};
  std::string id;
  ASSERT_TRUE(f.db.write([&] {
    id = f.outbox.enqueue({"com.packbench.test.quoted.v1", subject, data}).value();
  }));
  auto batch = f.outbox.next_batch(10, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 1u);
  const std::string& text = (*batch)[0].json;
  const auto ev = json::parse(text).as_object();
  EXPECT_EQ(ev.at("id").as_string(), id);
  EXPECT_EQ(ev.at("subject").as_string(), subject);
  EXPECT_EQ(ev.at("type").as_string(), "com.packbench.test.quoted.v1");
  EXPECT_EQ(ev.at("data").as_object(), data);
  EXPECT_EQ(ev.at("specversion").as_string(), "1.0");
  EXPECT_EQ(ev.at("datacontenttype").as_string(), "application/json");
  EXPECT_EQ(text, json::serialize(ev));  // byte for byte what Boost.JSON writes
  std::vector<std::string> keys;
  for (const auto& kv : ev) {
    keys.emplace_back(kv.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"specversion", "id", "source", "type", "time",
                                            "subject", "datacontenttype", "data", "sequence"}));
}

TEST(Outbox, EventTypesFollowTheDocumentedGrammar) {
  for (const char* good :
       {"com.packbench.order.packed.v1", "com.packbench.discount.pool.low.v1",
        "com.packbench.order.cancel_rejected.v1", "com.packbench.outbox.refused.v1",
        "com.packbench.a.b.v12", "com.packbench.photo2.taken.v3"}) {
    EXPECT_TRUE(ps::check_event_type(good)) << good;
  }
  const std::string too_long = "com.packbench." + std::string(120, 'x') + ".made.v1";
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "order.packed.v1",
                                                         "com.example.order.packed.v1",
                                                         "com.packbench.order.packed",
                                                         "com.packbench.packed.v1",
                                                         "com.packbench.order.packed.v0",
                                                         "com.packbench.order.packed.v01",
                                                         "com.packbench.order.packed.V1",
                                                         "com.packbench.order.packed.v1.",
                                                         "com.packbench..packed.v1",
                                                         "com.packbench.Order.packed.v1",
                                                         "com.packbench.order.pack-ed.v1",
                                                         "com.packbench.order.1packed.v1",
                                                         "com.packbench.order/x.packed.v1",
                                                         "com.packbench.order.+.v1",
                                                         "com.packbench.order.#.v1",
                                                         "com.packbench.test.quote\"d.v1",
                                                         "com.packbench.order.packed.v1 ",
                                                         "com.packbench.order.packed.vx",
                                                         too_long}) {
    auto r = ps::check_event_type(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("com.packbench.<thing>.<verb>.v<N>"), std::string::npos);
  }
  EXPECT_NE(ps::check_event_type("com.packbench.order.v1").error().message.find("a thing, a verb"),
            std::string::npos);
}

TEST(Outbox, AnEventOfABadTypeIsAnErrorValueAndNothingIsWritten) {
  Fixture f;
  auto r = f.db.write([&] {
    auto bad = f.outbox.enqueue({"com.packbench.Order.Packed", "A", json::object{}});
    EXPECT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("'com.packbench.Order.Packed' is not an event type"),
              std::string::npos)
        << bad.error().message;
    // No exception: the transaction goes on, and the caller decides.
    return f.outbox.enqueue({"com.packbench.order.packed.v1", "A", json::object{}}).has_value();
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_EQ(f.depth(), 1);
  EXPECT_EQ(f.outbox.refusals_raised(), 0);  // not a refusal: nothing for the alarm
  // The usual caller rolls its transaction back with the error.
  auto rolled = f.db.write([&] {
    f.outbox.enqueue({"com.packbench.order.packed.v1", "B", json::object{}}).value();
    f.outbox.enqueue({"packed", "B", json::object{}}).value();
  });
  ASSERT_FALSE(rolled);
  EXPECT_NE(rolled.error().message.find("'packed' is not an event type"), std::string::npos);
  EXPECT_EQ(f.depth(), 1);
}

TEST(Outbox, BatchesComeOldestFirstWithAMonotonicSequence) {
  Fixture f;
  f.add("A", 3);
  f.add("B", 2);
  auto batch = f.outbox.next_batch(4, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 4u);
  std::string last;
  for (const auto& e : *batch) {
    const auto ev = json::parse(e.json).as_object();
    const std::string seq(ev.at("sequence").as_string());
    EXPECT_EQ(seq.size(), 20u);
    EXPECT_LT(last, seq);  // orders as text
    last = seq;
    EXPECT_EQ(ev.at("id").as_string(), e.id);
    EXPECT_EQ(ev.at("specversion").as_string(), "1.0");
    EXPECT_EQ(ev.at("source").as_string(), "/stations/s/p");
    EXPECT_EQ(ev.at("datacontenttype").as_string(), "application/json");
    EXPECT_TRUE(ev.at("data").is_object());
  }
  ASSERT_TRUE(f.outbox.acknowledge(*batch));
  EXPECT_EQ(f.depth(), 1);
}

TEST(Outbox, BatchRespectsTheByteLimitButAlwaysTakesOne) {
  Fixture f;
  f.add("A", 5);
  auto batch = f.outbox.next_batch(100, 1);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->size(), 1u);
}

TEST(Outbox, BusinessEventsGoBeforeBulkOnes) {
  Fixture f;
  f.add("photo-1", 2, ps::Lane::bulk);
  f.add("A", 1);
  f.add("photo-2", 1, ps::Lane::bulk);
  f.add("B", 1);
  EXPECT_EQ(f.next(), (std::vector<std::string>{"A:business", "B:business", "photo-1:bulk",
                                                "photo-1:bulk", "photo-2:bulk"}));
  // A batch filled by business events takes no bulk one.
  EXPECT_EQ(f.next(2), (std::vector<std::string>{"A:business", "B:business"}));
}

TEST(Outbox, NoEventOvertakesAnEarlierOneOfItsSubject) {
  Fixture f;
  f.add("S", 1);                  // 1 business
  f.add("S", 1, ps::Lane::bulk);  // 2 bulk: its photo
  f.add("S", 1);                  // 3 business: must wait for 2
  f.add("T", 1);                  // 4 business: free
  f.add("S", 1, ps::Lane::bulk);  // 5 bulk: must wait for 3
  auto batch = f.outbox.next_batch(100, 1 << 20);
  ASSERT_TRUE(batch);
  std::vector<std::int64_t> seqs;
  for (const auto& e : *batch) {
    seqs.push_back(seq_of(e));
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 4, 2}));
  ASSERT_TRUE(f.outbox.acknowledge(*batch));
  batch = f.outbox.next_batch(100, 1 << 20);
  seqs.clear();
  for (const auto& e : *batch) {
    seqs.push_back(seq_of(e));
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{3, 5}));
}

TEST(Outbox, AFullOutboxRefusesNewEventsLoudlyAndKeepsWhatItHas) {
  ps::OutboxConfig config;
  config.max_bytes = 2000;
  config.bulk_max_bytes = 1000;
  Fixture f(config);
  int written = 0;
  for (;; ++written) {
    auto r = f.db.write([&] {
      f.outbox
          .enqueue({"com.packbench.test.made.v1", "A-" + std::to_string(written),
                    json::object{{"pad", std::string(100, 'x')}}})
          .value();
    });
    if (!r) {
      EXPECT_NE(r.error().message.find("the outbox is full"), std::string::npos)
          << r.error().message;
      break;
    }
    ASSERT_LT(written, 100);
  }
  EXPECT_GT(written, 3);
  EXPECT_EQ(f.depth(), written);  // nothing dropped, nothing half-written
  EXPECT_LE(f.outbox.depth()->bytes, 2000);
  EXPECT_EQ(f.outbox.depth()->bytes,
            f.count("SELECT sum(length(CAST(event AS BLOB))) FROM outbox"));
  EXPECT_TRUE(f.outbox.full());
  EXPECT_EQ(f.outbox.refusals().events, 1);
  EXPECT_EQ(f.outbox.refusals().reason, "cap");
  EXPECT_EQ(f.outbox.refusals().subjects, std::vector<std::string>{"A-" + std::to_string(written)});
  EXPECT_EQ(f.outbox.refused_total(ps::Lane::business, "cap"), 1);

  // No room for the alarm yet.
  auto raised = f.outbox.raise_alarm_if_due();
  ASSERT_TRUE(raised);
  EXPECT_FALSE(*raised);

  // Deliveries free the space: the alarm goes out once, first in line, and says what was lost.
  auto batch = f.outbox.next_batch(100, 1 << 20);
  ASSERT_TRUE(f.outbox.acknowledge(*batch));
  raised = f.outbox.raise_alarm_if_due();
  ASSERT_TRUE(raised);
  EXPECT_TRUE(*raised);
  EXPECT_FALSE(f.outbox.full());
  EXPECT_TRUE(f.outbox.refusals().empty());
  batch = f.outbox.next_batch(100, 1 << 20);
  ASSERT_EQ(batch->size(), 1u);
  const auto alarm = json::parse((*batch)[0].json).as_object();
  EXPECT_EQ(alarm.at("type").as_string(), ps::kOutboxRefusedType);
  EXPECT_FALSE(alarm.contains("subject"));
  EXPECT_EQ(alarm.at("data").at("refused").as_int64(), 1);
  EXPECT_EQ(alarm.at("data").at("reason").as_string(), "cap");
  EXPECT_EQ(alarm.at("data").at("by_type").at("com.packbench.test.made.v1").as_int64(), 1);
  EXPECT_FALSE(*f.outbox.raise_alarm_if_due());  // once
}

TEST(Outbox, RefusalsSavedBeforeACrashAreReportedByTheNextRun) {
  // The station refuses an event and saves the count, then dies without a word: the next run,
  // on another connection to the same file, still owes the back office the alarm.
  ps::OutboxConfig config;
  config.max_bytes = 2000;
  pt::TempDir dir;
  ps::Database first = std::move(*ps::Database::open(dir / "station.db"));
  ps::Outbox before(first, "/stations/s/p", config);
  ASSERT_TRUE(before.restore());
  int written = 0;
  while (first.write([&] {
    before
        .enqueue({"com.packbench.order.packed.v1", "R-" + std::to_string(written),
                  json::object{{"pad", std::string(100, 'x')}}})
        .value();
  })) {
    ASSERT_LT(++written, 100);
  }
  ASSERT_EQ(before.refusals().events, 1);
  before.save_refusals();

  auto db = ps::Database::open(dir / "station.db");  // the next run, the first never closed
  ASSERT_TRUE(db) << db.error().message;
  ps::Outbox after(*db, "/stations/s/p", config);
  ASSERT_TRUE(after.restore());
  EXPECT_TRUE(after.full());  // the packer is still told
  EXPECT_EQ(after.refusals().events, 1);
  EXPECT_EQ(after.refusals().reason, "cap");
  EXPECT_FALSE(*after.raise_alarm_if_due());  // no room yet
  auto batch = after.next_batch(100, 1 << 20);
  ASSERT_EQ(batch->size(), static_cast<std::size_t>(written));
  ASSERT_TRUE(after.acknowledge(*batch));
  ASSERT_TRUE(*after.raise_alarm_if_due());
  EXPECT_FALSE(after.full());
  auto alarm = after.next_batch(10, 1 << 20);
  ASSERT_EQ(alarm->size(), 1u);
  const auto ev = json::parse((*alarm)[0].json).as_object();
  EXPECT_EQ(ev.at("type").as_string(), ps::kOutboxRefusedType);
  EXPECT_EQ(ev.at("data").at("refused").as_int64(), 1);
  EXPECT_EQ(ev.at("data").at("subjects").as_array()[0].as_string(), "R-" + std::to_string(written));
  EXPECT_EQ(ev.at("data").at("by_type").at("com.packbench.order.packed.v1").as_int64(), 1);
  // Reported once: a third run owes nothing.
  ps::Outbox third(*db, "/stations/s/p", config);
  ASSERT_TRUE(third.restore());
  EXPECT_TRUE(third.refusals().empty());
  EXPECT_FALSE(third.full());
}

TEST(Outbox, TheBulkLaneHasItsOwnShareAndCannotCrowdOutBusiness) {
  ps::OutboxConfig config;
  config.max_bytes = 4000;
  config.bulk_max_bytes = 1000;
  Fixture f(config);
  int bulk = 0;
  while (f.db.write([&] {
    f.outbox
        .enqueue({"com.packbench.photo.taken.v1", "A", json::object{{"pad", std::string(100, 'x')}},
                  ps::Lane::bulk})
        .value();
  })) {
    ++bulk;
    ASSERT_LT(bulk, 100);
  }
  EXPECT_LE(f.outbox.depth()->bulk.bytes, 1000);
  EXPECT_FALSE(f.outbox.full());  // business events still fit
  EXPECT_EQ(f.outbox.refused_total(ps::Lane::bulk, "cap"), 1);
  f.add("B", 3);
  EXPECT_EQ(f.outbox.depth()->business.events, 3);
}

TEST(Outbox, TtlsExpireOnlyTheirLaneIntoTheDeadLetters) {
  ps::OutboxConfig config;
  config.bulk_ttl = 60s;
  Fixture f(config);
  f.add("A", 2);
  f.add("P", 3, ps::Lane::bulk);
  const std::int64_t now = ps::monotonic_now_ns();
  auto none = f.outbox.expire(now + std::chrono::nanoseconds(59s).count());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto expired = f.outbox.expire(now + std::chrono::nanoseconds(61s).count());
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->at(ps::Lane::bulk), 3);
  EXPECT_FALSE(expired->count(ps::Lane::business));  // a lane without a TTL keeps its events
  EXPECT_EQ(f.depth(), 2);
  auto dead = f.outbox.dead_letters(10);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 3u);
  EXPECT_EQ((*dead)[0].reason, "expired");
  EXPECT_NE((*dead)[0].last_error.find("TTL of 60 s"), std::string::npos);
  EXPECT_EQ(f.outbox.depth()->dead.events, 3);
}

TEST(Outbox, AnEventPutBackFromTheDeadLettersDoesNotShieldOlderOnesFromTheTtl) {
  // An event put back keeps its sequence and starts a new age: the lane's events are no longer
  // in age order by sequence. Those written 200 s ago behind it still expire on time.
  ps::OutboxConfig config;
  config.business_ttl = 100s;
  Fixture f(config);
  f.add("A", 3);
  const std::int64_t s = std::chrono::nanoseconds(1s).count();
  ASSERT_TRUE(f.db.write([&] {
    f.db.statement("UPDATE outbox SET created_mono_ns = created_mono_ns - ?1")
        .bind_all(200 * s)
        .run();
  }));
  auto first = f.outbox.next_batch(1, 1 << 20);
  ASSERT_TRUE(f.outbox.dead_letter(*first, "http_422", "HTTP 422"));
  ASSERT_EQ(*f.outbox.retry_dead({(*first)[0].id}), 1);
  const std::int64_t now = ps::monotonic_now_ns();
  // The oldest unsent event is one of the two behind it, not the one put back.
  auto d = f.outbox.depth();
  ASSERT_TRUE(d && d->oldest_mono_ns);
  EXPECT_LE(*d->oldest_mono_ns, now - 199 * s);

  auto expired = f.outbox.expire(now);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->count(ps::Lane::business) ? expired->at(ps::Lane::business) : 0, 2);
  auto left = f.outbox.next_batch(10, 1 << 20);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, (*first)[0].id);  // the one put back waits out its own TTL
  EXPECT_EQ(f.outbox.expire(now + 99 * s)->size(), 0u);
  EXPECT_EQ(f.outbox.expire(now + 101 * s)->at(ps::Lane::business), 1);
}

TEST(Outbox, AgesSurviveARebootOfTheMachine) {
  ps::OutboxConfig config;
  config.business_ttl = 100s;
  Fixture f(config);
  // First boot: the station starts at monotonic 1000 s, writes an event at about 1000 s, and is
  // last seen alive at 1040 s.
  const std::int64_t s = std::chrono::nanoseconds(1s).count();
  ASSERT_TRUE(f.outbox.restore("boot-a", 1000 * s));
  f.add("A");
  ASSERT_TRUE(f.db.write([&] { f.db.exec("UPDATE outbox SET created_mono_ns = 1000000000000"); }));
  ASSERT_TRUE(f.outbox.mark_alive(1040 * s));
  // Second boot: the monotonic clock starts again near zero. The event is 40 s old, not
  // (5 - 1000) s nor 5 s.
  ps::Outbox after(f.db, "/stations/s/p", config);
  ASSERT_TRUE(after.restore("boot-b", 5 * s));
  EXPECT_EQ(f.count("SELECT created_mono_ns FROM outbox"), -35 * s);
  EXPECT_TRUE(after.expire(64 * s)->empty());                  // 99 s old
  EXPECT_EQ(after.expire(66 * s)->at(ps::Lane::business), 1);  // 101 s old
  // The same boot again (a restart of the daemon): nothing moves.
  f.add("B");
  const auto before = f.count("SELECT created_mono_ns FROM outbox");
  ps::Outbox again(f.db, "/stations/s/p", config);
  ASSERT_TRUE(again.restore("boot-b", 70 * s));
  EXPECT_EQ(f.count("SELECT created_mono_ns FROM outbox"), before);
}

TEST(Outbox, DeadLettersGoBackWithTheirIdAndSequence) {
  Fixture f;
  f.add("A", 3);
  auto batch = f.outbox.next_batch(2, 1 << 20);
  ASSERT_TRUE(f.outbox.dead_letter(*batch, "http_400", "HTTP 400 for a batch of 2 events: bad"));
  EXPECT_EQ(f.depth(), 1);
  auto dead = f.outbox.dead_letters(10);
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].reason, "http_400");
  EXPECT_EQ((*dead)[0].attempts, 1);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 400 for a batch of 2 events: bad");

  std::vector<std::string> unknown;
  auto moved = f.outbox.retry_dead({(*dead)[1].id, "no-such-id"}, &unknown);
  ASSERT_TRUE(moved);
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(unknown, std::vector<std::string>{"no-such-id"});
  moved = f.outbox.retry_dead({});
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(f.outbox.depth()->dead.events, 0);
  auto again = f.outbox.next_batch(10, 1 << 20);
  ASSERT_EQ(again->size(), 3u);
  EXPECT_EQ((*again)[0].id, (*batch)[0].id);
  EXPECT_EQ((*again)[0].json, (*batch)[0].json);  // the same event, byte for byte
  EXPECT_EQ((*again)[1].json, (*batch)[1].json);
}

TEST(Outbox, DeadLettersCountAgainstTheCapUntilItPurgesThem) {
  // Dead letters are kept until IT purges them, on the same disk: they count against the cap,
  // so that the packer is told before the disk fills, not when it is full.
  ps::OutboxConfig config;
  config.max_bytes = 2000;
  config.bulk_max_bytes = 1000;
  Fixture f(config);
  auto business = [&](const std::string& subject) {
    return f.db.write([&] {
      f.outbox
          .enqueue(
              {"com.packbench.test.made.v1", subject, json::object{{"pad", std::string(100, 'x')}}})
          .value();
    });
  };
  int written = 0;
  while (business("A-" + std::to_string(written))) {
    ASSERT_LT(++written, 100);
  }
  ASSERT_GT(written, 3);
  // The back office refuses every one of them for good: nothing waits, all is dead.
  auto batch = f.outbox.next_batch(100, 1 << 20);
  ASSERT_EQ(batch->size(), static_cast<std::size_t>(written));
  ASSERT_TRUE(f.outbox.dead_letter(*batch, "http_422", "HTTP 422"));
  auto d = f.outbox.depth();
  EXPECT_EQ(d->bytes, 0);
  EXPECT_GT(d->dead.bytes, 2000 - 300);
  EXPECT_EQ(d->capped_bytes(), d->dead.bytes);
  EXPECT_FALSE(business("B-1"));  // still full: the dead letters hold the space
  EXPECT_TRUE(f.outbox.full());
  EXPECT_FALSE(*f.outbox.raise_alarm_if_due());

  // IT looks at them and purges: one by id (an unknown id is said), then the rest.
  const auto first = (*f.outbox.dead_letters(1))[0];
  EXPECT_EQ(first.id, (*batch)[0].id);
  std::vector<std::string> unknown;
  auto one = f.outbox.purge_dead({first.id, "no-such-id"}, std::nullopt, &unknown);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->events, 1);
  EXPECT_EQ(one->bytes, first.bytes);
  EXPECT_EQ(f.outbox.depth()->dead.events, written - 1);
  EXPECT_EQ(unknown, std::vector<std::string>{"no-such-id"});
  // Died a moment ago: not older than a minute.
  auto none = f.outbox.purge_dead({}, std::chrono::system_clock::now() - 60s);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->events, 0);
  auto rest = f.outbox.purge_dead({}, std::nullopt);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->events, written - 1);
  EXPECT_EQ(f.outbox.depth()->dead.events, 0);
  EXPECT_EQ(f.outbox.depth()->dead.bytes, 0);
  // Room again: the alarm goes out, and business events fit.
  EXPECT_TRUE(*f.outbox.raise_alarm_if_due());
  EXPECT_FALSE(f.outbox.full());
  EXPECT_TRUE(business("B-2"));
}

TEST(Outbox, ExpiredBulkEventsStayInTheBulkLanesShareUntilPurged) {
  // Photos that outlived their TTL are dead letters of the bulk lane: they hold the bulk
  // lane's share, not the business events' room.
  ps::OutboxConfig config;
  config.max_bytes = 4000;
  config.bulk_max_bytes = 1000;
  config.bulk_ttl = 60s;
  Fixture f(config);
  auto photo = [&] {
    return f.db.write([&] {
      f.outbox
          .enqueue({"com.packbench.photo.taken.v1", "A",
                    json::object{{"pad", std::string(100, 'x')}}, ps::Lane::bulk})
          .value();
    });
  };
  int photos = 0;
  while (photo()) {
    ASSERT_LT(++photos, 100);
  }
  auto expired = f.outbox.expire(ps::monotonic_now_ns() + std::chrono::nanoseconds(61s).count());
  ASSERT_EQ(expired->at(ps::Lane::bulk), photos);
  auto d = f.outbox.depth();
  EXPECT_EQ(d->bulk.events, 0);
  EXPECT_EQ(d->dead_bulk.events, photos);
  EXPECT_EQ(d->dead_bulk.bytes, d->dead.bytes);
  EXPECT_FALSE(photo());  // the share is still taken
  EXPECT_FALSE(f.outbox.full());
  f.add("B", 3);  // business events still fit
  EXPECT_EQ(f.outbox.depth()->business.events, 3);

  auto purged = f.outbox.purge_dead({}, std::chrono::system_clock::now() + 1s);
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->events, photos);
  EXPECT_EQ(f.outbox.depth()->dead_bulk.bytes, 0);
  EXPECT_TRUE(photo());
}

TEST(Outbox, AStoreOfVersion8CountsItsBulkDeadLetters) {
  pt::TempDir dir;
  std::vector<ps::Migration> old;
  for (const auto& m : ps::station_migrations()) {
    if (m.version <= 8) {
      old.push_back(m);
    }
  }
  {
    ps::OpenOptions o;
    o.migrations = &old;
    auto db = ps::Database::open(dir / "station.db", o);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->write([&] {
      db->exec(
          "INSERT INTO outbox_dead (seq, id, lane, type, subject, event, bytes, created_at, "
          "created_mono_ns, attempts, reason, dead_at) VALUES "
          "(1, 'e1', 'bulk', 't', 'A', '{}', 100, 'x', 0, 0, 'expired', 'y'), "
          "(2, 'e2', 'business', 't', 'A', '{}', 50, 'x', 0, 1, 'http_400', 'y'), "
          "(3, 'e3', 'bulk', 't', 'A', '{}', 20, 'x', 0, 0, 'expired', 'y')");
    }));
  }
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db) << db.error().message;
  ps::Outbox outbox(*db, "/stations/s/p");
  auto d = outbox.depth();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dead.events, 3);
  EXPECT_EQ(d->dead.bytes, 170);
  EXPECT_EQ(d->dead_bulk.events, 2);
  EXPECT_EQ(d->dead_bulk.bytes, 120);
  EXPECT_EQ(outbox.purge_dead({"e3"}, std::nullopt)->bytes, 20);
  EXPECT_EQ(outbox.depth()->dead_bulk.bytes, 100);
}

TEST(Outbox, AStoreFromBeforeLanesIsMigratedWithItsEvents) {
  pt::TempDir dir;
  std::vector<ps::Migration> old;
  for (const auto& m : ps::station_migrations()) {
    if (m.version <= 3) {
      old.push_back(m);
    }
  }
  {
    ps::OpenOptions o;
    o.migrations = &old;
    auto db = ps::Database::open(dir / "station.db", o);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->write([&] {
      db->exec(
          "INSERT INTO outbox (id, type, subject, event, created_at) VALUES "
          "('e1', 't', 'A', '{\"id\":\"e1\"}', 'x'), ('e2', 't', 'B', '{\"id\":\"e2\",\"x\":1}', "
          "'y')");
    }));
  }
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db) << db.error().message;
  ps::Outbox outbox(*db, "/stations/s/p");
  ASSERT_TRUE(outbox.restore());
  auto d = outbox.depth();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->business.events, 2);
  EXPECT_EQ(d->business.bytes,
            static_cast<std::int64_t>(std::string(R"({"id":"e1"})").size() +
                                      std::string(R"({"id":"e2","x":1})").size()));
  EXPECT_EQ(d->bulk.events, 0);
  auto batch = outbox.next_batch(10, 1 << 20);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].json, R"({"id":"e1","sequence":"00000000000000000001"})");
  ASSERT_TRUE(outbox.acknowledge(*batch));
  EXPECT_EQ(outbox.depth()->bytes, 0);
}

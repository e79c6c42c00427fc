#include "station/outbox/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <regex>
#include <set>

#include "station/outbox/webhook_transport.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  pt::TempDir dir;
  ps::Database db = std::move(*ps::Database::open(dir / "station.db"));
  ps::Outbox outbox{db, "/stations/s/p"};

  void add(const std::string& subject, int n = 1) {
    ASSERT_TRUE(db.write([&] {
      for (int i = 0; i < n; ++i) {
        outbox.enqueue({"com.packbench.test.made.v1", subject, json::object{{"i", i}}});
      }
    }));
  }

  std::int64_t depth() { return outbox.depth()->events; }
};

ps::SyncConfig fast_sync(const std::string& url) {
  ps::SyncConfig c;
  c.url = url;
  c.timeout = 5000ms;
  c.retry_base = 20ms;
  c.retry_cap = 200ms;
  return c;
}

void run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
  }
}

}  // namespace

TEST(Outbox, UuidV7HasItsVersionAndVariantAndIsUnique) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = ps::make_uuid_v7();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
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

TEST(WebhookTransport, DeliversBatchedCloudEventsAndEmptiesTheOutbox) {
  Fixture f;
  pt::HttpCollector collector;
  f.add("ORDER-1", 3);
  boost::asio::io_context io;
  ps::WebhookTransport transport(io.get_executor(), f.outbox, fast_sync(collector.url()));
  transport.start();
  run_until(io, [&] { return f.depth() == 0; });
  EXPECT_EQ(f.depth(), 0);
  const auto requests = collector.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/events");
  EXPECT_EQ(requests[0].headers.at("content-type").rfind("application/cloudevents-batch+json", 0),
            0u);
  const auto events = pt::cloudevents_in(requests);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("source").as_string(), "/stations/s/p");
  EXPECT_EQ(events[0].at("subject").as_string(), "ORDER-1");
  EXPECT_TRUE(transport.status().online.value_or(false));
  EXPECT_EQ(transport.status().sent, 3);

  // New events are sent when woken, on the kept-alive connection or a new one.
  f.add("ORDER-2");
  transport.wake();
  run_until(io, [&] { return f.depth() == 0; });
  EXPECT_EQ(pt::cloudevents_in(collector.requests()).size(), 4u);
}

TEST(WebhookTransport, KeepsRetryingWhileTheCollectorIsUnreachable) {
  Fixture f;
  const auto port = pt::free_port();
  f.add("ORDER-1");
  boost::asio::io_context io;
  ps::WebhookTransport transport(io.get_executor(), f.outbox,
                                 fast_sync("http://127.0.0.1:" + std::to_string(port) + "/in"));
  transport.start();
  run_until(io, [&] {
    auto rows = f.db.read([&] {
      auto q = f.db.statement("SELECT attempts FROM outbox");
      return q.step() ? q.column_int(0) : 0;
    });
    return rows && *rows >= 3;
  });
  EXPECT_FALSE(transport.status().online.value_or(true));
  EXPECT_NE(transport.status().last_error.find("connect"), std::string::npos);
  EXPECT_EQ(f.depth(), 1);  // nothing lost

  pt::HttpCollector collector(port);  // the network comes back
  run_until(io, [&] { return f.depth() == 0; });
  EXPECT_EQ(f.depth(), 0);
  const auto events = pt::cloudevents_in(collector.requests());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("subject").as_string(), "ORDER-1");
}

TEST(WebhookTransport, AnErrorStatusKeepsTheEventsForTheNextTry) {
  Fixture f;
  pt::HttpCollector collector(0, 503);
  f.add("ORDER-1");
  boost::asio::io_context io;
  ps::WebhookTransport transport(io.get_executor(), f.outbox, fast_sync(collector.url()));
  transport.start();
  run_until(io, [&] { return collector.requests().size() >= 2; });
  EXPECT_EQ(f.depth(), 1);
  EXPECT_NE(transport.status().last_error.find("HTTP 503"), std::string::npos);
  collector.set_status(204);
  run_until(io, [&] { return f.depth() == 0; });
  EXPECT_EQ(f.depth(), 0);
  // Every retry carried the same event id: the back office dedupes on it.
  std::set<std::string> ids;
  for (const auto& e : pt::cloudevents_in(collector.requests())) {
    ids.insert(std::string(e.at("id").as_string()));
  }
  EXPECT_EQ(ids.size(), 1u);
}

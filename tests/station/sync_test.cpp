// The webhook transport and the outbox sender against a real HTTP collector on loopback: the
// headers, signatures and keys; what each status does; batches halved on 413; lanes and
// subjects in order over the wire; the figures.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "station/outbox/webhook_signature.hpp"
#include "sync_fixture.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;
using Outcome = ps::DeliveryResult::Outcome;

namespace {

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::size_t events_in(const pt::HttpExchange& r) {
  return json::parse(r.body).as_array().size();
}

}  // namespace

TEST(WebhookSignature, MatchesTheStandardWebhooksTestVector) {
  // The specification's own example: a receiver's library must accept what we send.
  auto key = ps::parse_webhook_secret(kSecret);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(
      ps::sign_webhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(*ps::parse_webhook_secret("  MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"), *key);
}

TEST(WebhookSignature, RefusesSecretsThatAreNotBase64OrTooShort) {
  EXPECT_FALSE(ps::parse_webhook_secret(""));
  EXPECT_FALSE(ps::parse_webhook_secret("whsec_"));
  auto bad = ps::parse_webhook_secret("whsec_not*base64!");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("base64"), std::string::npos);
  auto short_key = ps::parse_webhook_secret("whsec_c2hvcnQ=");
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().message.find("5 bytes"), std::string::npos);
  EXPECT_EQ(ps::base64_encode("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
  EXPECT_EQ(*ps::base64_decode("YW55IGNhcm5hbCBwbGVhc3U"), "any carnal pleasu");
}

TEST(WebhookAnswers, RetryAfterIsReadAsSecondsOrAnHttpDate) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37
  EXPECT_EQ(ps::parse_retry_after("120", now), 120000ms);
  EXPECT_EQ(ps::parse_retry_after(" 0 ", now), 0ms);
  EXPECT_EQ(ps::parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), 30000ms);
  EXPECT_EQ(ps::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);  // past
  EXPECT_FALSE(ps::parse_retry_after("soon", now));
  EXPECT_FALSE(ps::parse_retry_after("-5", now));
  EXPECT_FALSE(ps::parse_retry_after("", now));
}

TEST(WebhookAnswers, EachStatusMeansWhatTheDocumentationSays) {
  const auto now = std::chrono::system_clock::now();
  struct Case {
    unsigned status;
    Outcome outcome;
  };
  for (const auto& c : std::vector<Case>{{200, Outcome::acknowledged},
                                         {202, Outcome::acknowledged},
                                         {204, Outcome::acknowledged},
                                         {400, Outcome::dead_letter},
                                         {415, Outcome::dead_letter},
                                         {422, Outcome::dead_letter},
                                         {413, Outcome::too_large},
                                         {410, Outcome::stop},
                                         {429, Outcome::retry},
                                         {503, Outcome::retry},
                                         {500, Outcome::retry},
                                         {502, Outcome::retry},
                                         {401, Outcome::retry},
                                         {404, Outcome::retry},
                                         {301, Outcome::retry}}) {
    const auto r = ps::classify_webhook_answer(c.status, "7", "why\nnot", 3, now);
    EXPECT_EQ(static_cast<int>(r.outcome), static_cast<int>(c.outcome)) << c.status;
    if (c.status >= 300) {
      EXPECT_EQ(r.reason, "http_" + std::to_string(c.status));
      EXPECT_EQ(r.error, "HTTP " + std::to_string(c.status) + " for a batch of 3 events: why not");
    }
    // Only 429 and 503 take the server's word for when to come back.
    EXPECT_EQ(r.retry_after.has_value(), c.status == 429 || c.status == 503) << c.status;
  }
}

TEST(WebhookTransport, DeliversSignedBatchesWithKeysAndAToken) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_signing_key(*ps::parse_webhook_secret(kSecret));
  pt::write_file(f.dir / "secret", kSecret + "\n");
  pt::write_file(f.dir / "token", "tok-123\n");
  auto config = pt::fast_sync(collector.url());
  config.signing_secret_file = f.dir / "secret";
  config.bearer_token_file = f.dir / "token";
  f.add("ORDER-1", 3);
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& h = requests[0].headers;
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/events");
  EXPECT_EQ(h.at("content-type"), "application/cloudevents-batch+json; charset=utf-8");
  EXPECT_EQ(h.at("authorization"), "Bearer tok-123");
  EXPECT_EQ(h.at("idempotency-key"), h.at("webhook-id"));
  EXPECT_EQ(h.at("webhook-id").rfind("batch-", 0), 0u);
  const auto ts = std::stoll(h.at("webhook-timestamp"));
  EXPECT_NEAR(static_cast<double>(ts), static_cast<double>(f.clock.unix_seconds()), 600);
  EXPECT_EQ(h.at("webhook-signature").rfind("v1,", 0), 0u);
  EXPECT_TRUE(collector.problems().empty()) << collector.problems()[0];  // signature verified
  const auto events = collector.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("subject").as_string(), "ORDER-1");
  EXPECT_TRUE(f.sender->status().online.value_or(false));
  EXPECT_EQ(f.sender->status().sent, 3);
  EXPECT_EQ(f.sender->status().latency.count, 3);

  // New events go when woken, on the kept-alive connection or a new one.
  f.add("ORDER-2");
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  EXPECT_EQ(collector.events().size(), 4u);
  // One event alone is keyed by its own id.
  EXPECT_EQ(collector.requests().back().headers.at("webhook-id"),
            std::string(collector.events().back().at("id").as_string()));
}

TEST(WebhookTransport, ATryAgainCarriesTheSameKeyAndBody) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    return pt::Reply::status_only(i == 0 ? 500 : 200);
  });
  f.add("ORDER-1", 2);
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers.at("idempotency-key"), requests[1].headers.at("idempotency-key"));
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(f.retried("http_500"), 2);    // two events, sent again once
  EXPECT_EQ(collector.duplicates(), 0u);  // a 500 accepts nothing
}

TEST(WebhookTransport, A429WaitsAsRetryAfterSays) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r = pt::Reply::status_only(i == 0 ? 429 : 200);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  });
  f.add("ORDER-1");
  f.start(pt::fast_sync(collector.url()));
  // The back-off alone would wait at most 200 ms; the server asked for a second.
  ASSERT_TRUE(f.run_until([&] { return f.sender->status().retry_in_ms.has_value(); }));
  EXPECT_EQ(*f.sender->status().retry_in_ms, 1000);
  EXPECT_FALSE(*f.sender->status().online);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  EXPECT_EQ(f.retried("http_429"), 1);
  EXPECT_EQ(collector.events().size(), 1u);
}

TEST(WebhookTransport, ARetryAfterBeyondTheMaximumIsCutAndOtherwiseTheBackOffHasACap) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    pt::Reply r = pt::Reply::status_only(i < 4 ? 503 : 200);
    if (i == 0) {
      r.headers.emplace_back("Retry-After", "3600");
    }
    return r;
  });
  auto config = pt::fast_sync(collector.url());
  config.retry_after_max = 300ms;
  f.add("ORDER-1");
  f.start(config);
  std::vector<std::int64_t> waits;
  ASSERT_TRUE(f.run_until([&] {
    if (const auto& w = f.sender->status().retry_in_ms;
        w && (waits.empty() || collector.requests().size() > waits.size())) {
      waits.push_back(*w);
    }
    return f.depth() == 0;
  }));
  ASSERT_GE(waits.size(), 2u);
  EXPECT_EQ(waits[0], 300);  // Retry-After: 3600, cut to retry_after_max_ms
  for (std::size_t i = 1; i < waits.size(); ++i) {
    EXPECT_LE(waits[i], 200);  // 503 without Retry-After: full jitter up to the cap
    EXPECT_GE(waits[i], 0);
  }
  EXPECT_EQ(f.retried("http_503"), 4);
}

TEST(WebhookTransport, A410StopsSendingAndKeepsTheEvents) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_status(410);
  f.add("ORDER-1", 2);
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.sender->status().stopped; }));
  EXPECT_EQ(f.depth(), 2);
  EXPECT_EQ(f.dead(), 0);
  EXPECT_EQ(f.sender->to_json().at("state").as_string(), "stopped");
  EXPECT_NE(f.sender->status().last_error.find("HTTP 410"), std::string::npos);
  std::string metrics;
  f.sender->append_prometheus(metrics, "p");
  EXPECT_NE(metrics.find("packbench_sync_stopped{station=\"p\"} 1"), std::string::npos);
  // New events wait too: nothing more is sent.
  f.add("ORDER-2");
  f.io.run_for(300ms);
  EXPECT_EQ(collector.requests().size(), 1u);
  EXPECT_EQ(f.depth(), 3);
}

TEST(WebhookTransport, AStoppedSenderResumesWhenItIsToldToWithoutARestart) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_status(410);
  f.add("ORDER-1", 2);
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.sender->status().stopped; }));
  // The stop is noted in the store, where stationctl sees it.
  ASSERT_TRUE(f.run_until([&] {
    auto stop = f.outbox.sync_stop();
    return stop && stop->has_value();
  }));
  const auto stop = **f.outbox.sync_stop();
  EXPECT_EQ(stop.endpoint, collector.url());
  EXPECT_NE(stop.error.find("HTTP 410"), std::string::npos) << stop.error;
  EXPECT_FALSE(stop.at.empty());

  // The back office is back. IT lifts the stop as stationctl does: in the store, from another
  // connection.
  collector.set_status(200);
  {
    auto other = ps::Database::open(f.dir / "station.db");
    ASSERT_TRUE(other);
    ps::Outbox ctl(*other, "");
    auto lifted = ctl.resume_sync();
    ASSERT_TRUE(lifted && lifted->has_value());
    EXPECT_NE((*lifted)->error.find("HTTP 410"), std::string::npos);
  }
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; })) << f.sender->status().last_error;
  EXPECT_FALSE(f.sender->status().stopped);
  EXPECT_EQ(f.sender->to_json().at("state").as_string(), "online");
  EXPECT_EQ(collector.events().size(), 2u);
  std::string metrics;
  f.sender->append_prometheus(metrics, "p");
  EXPECT_NE(metrics.find("packbench_sync_stopped{station=\"p\"} 0"), std::string::npos);

  // Gone again: it stops again, and resume() lifts it as well.
  collector.set_status(410);
  f.add("ORDER-2");
  ASSERT_TRUE(f.run_until([&] { return f.sender->status().stopped; }));
  collector.set_status(200);
  EXPECT_TRUE(f.sender->resume());
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; })) << f.sender->status().last_error;
  EXPECT_EQ(collector.events().size(), 3u);
  EXPECT_FALSE(f.outbox.sync_stop()->has_value());  // the note went with the stop
  EXPECT_FALSE(f.sender->resume());                 // nothing to resume
  EXPECT_TRUE(collector.problems().empty());
}

TEST(WebhookTransport, RefusedBatchesGoToTheDeadLettersAndTheRestFlows) {
  for (int status : {400, 415, 422}) {
    SCOPED_TRACE(status);
    pt::SyncFixture f;
    pt::EventCollector collector;
    collector.set_script([status](const pt::HttpExchange&, std::size_t i) {
      pt::Reply r = pt::Reply::status_only(i == 0 ? status : 200);
      r.body = i == 0 ? "{\"error\":\"no such type\"}" : "";
      return r;
    });
    f.add("ORDER-1", 3);
    f.start(pt::fast_sync(collector.url()));
    ASSERT_TRUE(f.run_until([&] { return f.dead() == 3; }));
    EXPECT_EQ(f.depth(), 0);
    auto dead = f.outbox.dead_letters(10);
    ASSERT_EQ(dead->size(), 3u);
    EXPECT_EQ((*dead)[0].reason, "http_" + std::to_string(status));
    EXPECT_NE((*dead)[0].last_error.find("no such type"), std::string::npos);
    EXPECT_EQ(f.sender->status().dead.at("http_" + std::to_string(status)), 3);
    f.add("ORDER-2");
    ASSERT_TRUE(f.run_until([&] { return f.depth() == 0 && collector.events().size() == 1; }));
    EXPECT_EQ(collector.events()[0].at("subject").as_string(), "ORDER-2");
  }
}

TEST(WebhookTransport, A413HalvesTheBatchAndAnEventTooLargeAloneIsDeadLettered) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange& r, std::size_t) {
    const bool huge = r.body.find("\"HUGE\"") != std::string::npos;
    return pt::Reply::status_only(events_in(r) > 2 || huge ? 413 : 200);
  });
  f.add("A", 8);
  f.add("HUGE");
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  EXPECT_EQ(collector.events().size(), 8u);
  auto dead = f.outbox.dead_letters(10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].subject, "HUGE");
  EXPECT_EQ((*dead)[0].reason, "http_413");
  EXPECT_GT(f.retried("http_413"), 0);
  EXPECT_TRUE(collector.problems().empty());
}

namespace {

// `n` events of the same size, about 300 bytes (as the packing's are), one order each.
void add_sized(pt::SyncFixture& f, int n) {
  ASSERT_TRUE(f.db.write([&] {
    for (int i = 0; i < n; ++i) {
      const std::string order = fmt::format("S-{:03}", i);
      f.outbox
          .enqueue({"com.packbench.order.packed.v1", order,
                    json::object{{"order_id", order},
                                 {"packer", "P-0042"},
                                 {"sku", "TEA-SENCHA-100G"},
                                 {"box", 1}}})
          .value();
    }
  }));
  f.outbox.committed();
}

}  // namespace

TEST(WebhookTransport, EveryRequestStaysWithinTheBatchByteLimit) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  add_sized(f, 100);
  const std::size_t size = (*f.outbox.next_batch(1, 1 << 20))[0].json.size();
  EXPECT_GT(size, 280u);
  EXPECT_LT(size, 340u);
  // About 4 KiB, that 13 events fill to within a byte: with the brackets and commas of the
  // batch, only 12 fit.
  auto config = pt::fast_sync(collector.url());
  config.batch_max_bytes = static_cast<int>(13 * size + 1);
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  ASSERT_EQ(collector.events().size(), 100u);
  EXPECT_TRUE(collector.problems().empty());
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 9u);  // 8 × 12 + 4
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_LE(requests[i].body.size(), static_cast<std::size_t>(config.batch_max_bytes)) << i;
    EXPECT_EQ(events_in(requests[i]), i + 1 < requests.size() ? 12u : 4u) << i;
  }
}

TEST(WebhookTransport, EveryRequestStaysWithinTheBatchEventLimit) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  add_sized(f, 30);
  auto config = pt::fast_sync(collector.url());
  config.batch_max_events = 7;
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  ASSERT_EQ(collector.events().size(), 30u);
  std::vector<std::size_t> sizes;
  for (const auto& r : collector.requests()) {
    sizes.push_back(events_in(r));
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{7, 7, 7, 7, 2}));
}

TEST(WebhookTransport, BusinessGoesFirstAndEverySubjectStaysInOrderOverTheWire) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  f.add("P-1", 3, ps::Lane::bulk, "com.packbench.photo.taken.v1");
  f.add("O-1", 2);
  f.add("P-1", 1);  // a business event after its subject's photos
  f.add("O-2", 2);
  f.add("O-1", 1, ps::Lane::bulk, "com.packbench.photo.taken.v1");
  f.add("O-1", 1);
  auto config = pt::fast_sync(collector.url());
  config.batch_max_events = 2;
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  const auto events = collector.events();
  ASSERT_EQ(events.size(), 10u);
  EXPECT_TRUE(collector.problems().empty()) << collector.problems()[0];
  // The first batch is business only.
  EXPECT_EQ(events[0].at("type").as_string(), "com.packbench.test.made.v1");
  EXPECT_EQ(events[1].at("type").as_string(), "com.packbench.test.made.v1");
}

TEST(WebhookTransport, HealthAndMetricsCarryTheFigures) {
  pt::SyncFixture f;
  pt::EventCollector collector;
  collector.set_script([](const pt::HttpExchange&, std::size_t i) {
    return pt::Reply::status_only(i == 0 ? 502 : i == 1 ? 400 : 200);
  });
  f.add("A");
  f.start(pt::fast_sync(collector.url()));
  ASSERT_TRUE(f.run_until([&] { return f.dead() == 1; }));
  f.add("B", 2);
  ASSERT_TRUE(f.run_until([&] { return f.depth() == 0; }));
  const auto h = f.sender->to_json();
  EXPECT_EQ(h.at("state").as_string(), "online");
  EXPECT_EQ(h.at("sent").as_int64(), 2);
  EXPECT_EQ(h.at("retried").at("http_502").as_int64(), 1);
  EXPECT_EQ(h.at("dead").at("http_400").as_int64(), 1);
  EXPECT_TRUE(h.at("last_success").is_string());
  std::string m;
  f.sender->append_prometheus(m, "p");
  ps::append_outbox_prometheus(m, f.outbox, "p");
  for (const char* line :
       {"packbench_sync_online{station=\"p\"} 1",
        "packbench_sync_sent_events_total{station=\"p\"} 2",
        "packbench_sync_retried_events_total{station=\"p\",reason=\"http_502\"} 1",
        "packbench_sync_dead_events_total{station=\"p\",reason=\"http_400\"} 1",
        "packbench_sync_delivery_latency_seconds_count{station=\"p\"} 2",
        "packbench_sync_delivery_latency_seconds_bucket{station=\"p\",le=\"+Inf\"} 2",
        "packbench_outbox_events{station=\"p\",lane=\"business\"} 0",
        "packbench_outbox_dead_events{station=\"p\"} 1",
        "packbench_outbox_oldest_age_seconds{station=\"p\"} 0",
        "packbench_outbox_full{station=\"p\"} 0"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  }
  EXPECT_EQ(m.find("packbench_sync_last_success_timestamp_seconds{station=\"p\"} 0\n"),
            std::string::npos);
  const auto o = ps::outbox_to_json(f.outbox);
  EXPECT_EQ(o.at("depth").as_int64(), 0);
  EXPECT_EQ(o.at("dead").as_int64(), 1);
  EXPECT_TRUE(o.at("oldest").is_null());
}

// The outbox with its real sender and transport (webhook, or MQTT for an mqtt:// url) on an
// io_context the test drives, over a real SQLite file, with a wall clock the test can jump.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "collector.hpp"
#include "station/outbox/mqtt_transport.hpp"
#include "station/outbox/outbox.hpp"
#include "station/outbox/outbox_sender.hpp"
#include "station/outbox/webhook_transport.hpp"
#include "support.hpp"

namespace packbench::testing {

inline station::SyncConfig fast_sync(const std::string& url) {
  station::SyncConfig c;
  c.url = url;
  c.timeout = std::chrono::milliseconds(5000);
  c.retry_base = std::chrono::milliseconds(20);
  c.retry_cap = std::chrono::milliseconds(200);
  return c;
}

struct SyncFixture {
  explicit SyncFixture(station::OutboxConfig config = {})
      : db(open(dir)), outbox(db, "/stations/s/p", config, clock) {
    EXPECT_TRUE(outbox.restore());
  }

  static station::Database open(const TempDir& d) {
    auto db = station::Database::open(d / "station.db");
    if (!db) {
      throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
  }

  TempDir dir;
  station::Database db;
  station::WallClock clock;
  station::Outbox outbox;
  boost::asio::io_context io;
  std::unique_ptr<station::OutboxSender> sender;

  void start(const station::SyncConfig& config) {
    std::unique_ptr<station::Transport> transport;
    if (config.transport_kind() == "mqtt") {
      auto t = station::MqttTransport::create(io.get_executor(), config, "s", "p");
      ASSERT_TRUE(t) << t.error().message;
      transport = std::move(*t);
    } else {
      auto t = station::WebhookTransport::create(io.get_executor(), config, clock);
      ASSERT_TRUE(t) << t.error().message;
      transport = std::move(*t);
    }
    sender = std::make_unique<station::OutboxSender>(io.get_executor(), outbox,
                                                     std::move(transport), config, clock);
    outbox.set_on_commit([this] { sender->wake(); });
    sender->start();
  }

  void add(const std::string& subject, int n = 1, station::Lane lane = station::Lane::business,
           const std::string& type = "com.packbench.test.made.v1") {
    ASSERT_TRUE(db.write([&] {
      for (int i = 0; i < n; ++i) {
        outbox.enqueue({type, subject, boost::json::object{{"i", i}}, lane}).value();
      }
    }));
    outbox.committed();
  }

  std::int64_t depth() { return outbox.depth()->events; }
  std::int64_t dead() { return outbox.depth()->dead.events; }

  // Runs the station's side until `done` holds; false after `timeout`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::int64_t attempts() {
    auto r = db.read([&] {
      auto q = db.statement("SELECT coalesce(max(attempts), 0) FROM outbox");
      return q.step() ? q.column_int(0) : 0;
    });
    return r ? *r : -1;
  }

  std::int64_t retried(const std::string& reason) {
    const auto& m = sender->status().retried;
    auto it = m.find(reason);
    return it == m.end() ? 0 : it->second;
  }
};

}  // namespace packbench::testing

// tools/dev bench sync: what the outbox and its transports sustain, with synchronous=FULL.
//
//   enqueue:  100,000 events written through the outbox API (Outbox::enqueue, 100 events per
//             transaction: a group commit), beside raw SQLite inserts of the same rows into a
//             store of the same schema, in the same mode. The two run interleaved, a
//             transaction of each in turn, on the same disk, so that the ratio compares like
//             with like. Goal: at least 0.8 of the raw rate.
//   webhook:  the 100,000-event backlog drained by the real sender and webhook transport
//             (batched, default batch size) to a loopback HTTP collector that parses every
//             batch and dedupes. Goal: at least 10,000 events/s.
//   mqtt:     the same backlog drained over MQTT 5, QoS 1, to a real Mosquitto, with a back
//             office (mosquitto_sub, a process of its own) subscribed at QoS 1; each event is
//             acknowledged by its PUBACK. With Mosquitto's and the station's defaults (paho's
//             threads on one CPU); the same with paho's threads left where the kernel puts
//             them (pin_client_threads = false), for the ratio; with set_tcp_nodelay true; and
//             with batches of 1,000 and a window of 100 on the station's side. Goal: as the
//             webhook's, at least 10,000 events/s.
//
// Options: bench_sync [EVENTS [RUN...]]: EVENTS (default 100000), and the drains to run by name
// (webhook, mqtt, mqtt_nodelay, ...; default all of them).
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "broker.hpp"
#include "collector.hpp"
#include "station/outbox/mqtt_transport.hpp"
#include "station/outbox/outbox.hpp"
#include "station/outbox/outbox_sender.hpp"
#include "station/outbox/webhook_transport.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPerTransaction = 100;
constexpr int kPerOrder = 4;  // events per order, written order after order

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_sync: %s\n", what.c_str());
  std::exit(1);
}

ps::Database open_store(const std::filesystem::path& path) {
  auto db = ps::Database::open(path);
  if (!db) {
    fail(db.error().message);
  }
  return std::move(*db);
}

// An order's events, as the packing writes them (about 300 bytes of JSON each).
ps::EventSpec event_for(int i) {
  const int order = i / kPerOrder;
  static const char* kTypes[] = {"com.packbench.order.opened.v1", "com.packbench.item.scanned.v1",
                                 "com.packbench.box.closed.v1", "com.packbench.order.packed.v1"};
  return {kTypes[i % kPerOrder], "ORDER-" + std::to_string(order),
          boost::json::object{{"order_id", "ORDER-" + std::to_string(order)},
                              {"packer", "P-0042"},
                              {"box", 1},
                              {"sku", "TEA-SENCHA-100G"},
                              {"gtin", "04901234567894"},
                              {"step", i % kPerOrder}}};
}

// Raw inserts straight on the SQLite C API into the outbox table of a store with the same
// schema (its triggers included), WAL and synchronous=FULL.
class RawInserts {
 public:
  explicit RawInserts(const std::filesystem::path& path) {
    { open_store(path); }  // the station's schema
    sqlite3_open(path.c_str(), &db_);
    sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr,
                 nullptr);
    sqlite3_prepare_v2(db_,
                       "INSERT INTO outbox (id, type, subject, event, created_at, lane, bytes, "
                       "created_mono_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       -1, &insert_, nullptr);
  }
  ~RawInserts() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  struct Row {
    std::string id, type, subject, event, created_at, lane;
    std::int64_t bytes = 0, mono = 0;
  };
  void commit(const std::vector<Row>& rows) {
    sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& r : rows) {
      auto text = [&](int i, const std::string& s) {
        sqlite3_bind_text(insert_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
      };
      text(1, r.id);
      text(2, r.type);
      text(3, r.subject);
      text(4, r.event);
      text(5, r.created_at);
      text(6, r.lane);
      sqlite3_bind_int64(insert_, 7, r.bytes);
      sqlite3_bind_int64(insert_, 8, r.mono);
      if (sqlite3_step(insert_) != SQLITE_DONE) {
        fail(std::string("raw insert: ") + sqlite3_errmsg(db_));
      }
      sqlite3_reset(insert_);
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail(std::string("raw commit: ") + sqlite3_errmsg(db_));
    }
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

// Writes `n` events through the outbox, `kPerTransaction` a commit. With `raw`, each commit is
// followed by raw inserts of the same rows (read back untimed), and both are timed.
void enqueue(ps::Database& db, ps::Outbox& outbox, int n, RawInserts* raw, double* outbox_s,
             double* raw_s) {
  std::int64_t last_seq = 0;
  for (int done = 0; done < n; done += kPerTransaction) {
    const int count = std::min(kPerTransaction, n - done);
    // What the caller hands over is made before the clock starts, as the raw inserts' rows are.
    std::vector<ps::EventSpec> specs;
    for (int i = 0; i < count; ++i) {
      specs.push_back(event_for(done + i));
    }
    const auto t0 = Clock::now();
    auto ok = db.write([&] {
      for (const auto& spec : specs) {
        outbox.enqueue(spec).value();
      }
    });
    if (outbox_s) {
      *outbox_s += seconds_since(t0);
    }
    if (!ok) {
      fail(ok.error().message);
    }
    if (!raw) {
      continue;
    }
    auto rows = db.read([&] {
      std::vector<RawInserts::Row> out;
      auto q = db.statement(
          "SELECT seq, id, type, subject, event, created_at, lane, bytes, created_mono_ns "
          "FROM outbox WHERE seq > ?1 ORDER BY seq");
      q.bind_all(last_seq);
      while (q.step()) {
        last_seq = q.column_int(0);
        out.push_back({q.column_text(1), q.column_text(2), q.column_text(3), q.column_text(4),
                       q.column_text(5), q.column_text(6), q.column_int(7), q.column_int(8)});
      }
      return out;
    });
    if (!rows) {
      fail(rows.error().message);
    }
    const auto t1 = Clock::now();
    raw->commit(*rows);
    *raw_s += seconds_since(t1);
  }
}

// Runs the sender over `transport` until the outbox is empty; returns the seconds it took.
double drain(ps::Database& db, ps::Outbox& outbox, std::unique_ptr<ps::Transport> transport,
             const ps::SyncConfig& config, boost::asio::io_context& io) {
  (void)db;
  ps::OutboxSender sender(io.get_executor(), outbox, std::move(transport), config);
  const auto t0 = Clock::now();
  sender.start();
  const auto deadline = t0 + std::chrono::minutes(10);
  for (;;) {
    io.run_for(std::chrono::milliseconds(20));
    auto d = outbox.depth();
    if (d && d->events == 0) {
      break;
    }
    if (Clock::now() > deadline) {
      fail("the drain did not finish in 10 minutes: " + sender.status().last_error);
    }
  }
  const double s = seconds_since(t0);
  const auto& st = sender.status();
  std::int64_t retried = 0;
  for (const auto& [k, v] : st.retried) {
    retried += v;
  }
  std::printf("    sent %lld, retried %lld, batch limit %zu%s%s\n", static_cast<long long>(st.sent),
              static_cast<long long>(retried), st.batch_limit,
              st.last_error.empty() ? "" : ", last error: ", st.last_error.c_str());
  sender.stop();
  io.run_for(std::chrono::milliseconds(50));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  if (n <= 0) {
    fail("usage: bench_sync [EVENTS [RUN...]]");
  }
  const std::set<std::string> only(argv + std::min(argc, 2), argv + argc);
  auto wanted = [&](const std::string& run) { return only.empty() || only.count(run) > 0; };
  pt::TempDir dir;
  auto db = open_store(dir / "station.db");
  ps::Outbox outbox(db, "/stations/bench/pack-01");
  if (!outbox.restore()) {
    fail("cannot prepare the outbox");
  }
  RawInserts raw(dir / "raw.db");

  // --- enqueue -------------------------------------------------------------------------------
  double outbox_s = 0;
  double raw_s = 0;
  enqueue(db, outbox, n, &raw, &outbox_s, &raw_s);
  const double outbox_rate = n / outbox_s;
  const double raw_rate = n / raw_s;
  std::printf("enqueue %d events, %d a transaction, synchronous=FULL, WAL (interleaved)\n", n,
              kPerTransaction);
  std::printf("  raw SQLite inserts      %9.0f events/s  (%.2f s)\n", raw_rate, raw_s);
  std::printf("  outbox API              %9.0f events/s  (%.2f s)   ratio %.2f (goal >= 0.8)\n",
              outbox_rate, outbox_s, outbox_rate / raw_rate);

  // --- webhook drain -------------------------------------------------------------------------
  double webhook_rate = 0;
  if (wanted("webhook")) {
    pt::EventCollector collector;
    boost::asio::io_context io;
    ps::SyncConfig config;
    config.url = collector.url();
    auto transport = ps::WebhookTransport::create(io.get_executor(), config);
    if (!transport) {
      fail(transport.error().message);
    }
    std::printf("drain %d events to a loopback HTTP collector (webhook, batches of %d)\n", n,
                config.batch_max_events);
    const double s = drain(db, outbox, std::move(*transport), config, io);
    if (collector.events().size() != static_cast<std::size_t>(n) || !collector.problems().empty()) {
      fail("the collector has " + std::to_string(collector.events().size()) + " events" +
           (collector.problems().empty() ? "" : ": " + collector.problems()[0]));
    }
    webhook_rate = n / s;
    std::printf("  webhook                 %9.0f events/s  (%.2f s, %zu requests; goal >= 10000)\n",
                webhook_rate, s, collector.requests().size());
  }

  // --- MQTT drains ----------------------------------------------------------------------------
  // The back office is mosquitto_sub in a process of its own (as it would be), subscribed at
  // QoS 1; each drain checks that it received every event once. Mosquitto runs with its defaults
  // (Nagle's algorithm on), then with set_tcp_nodelay true, with the station's defaults; then
  // with Mosquitto's defaults again and, on the station's side, batches of 1,000 and a window of
  // 100.
  struct MqttRun {
    const char* name;
    bool nodelay;
    int batch;
    int in_flight;
    bool pinned;  // [sync.mqtt] pin_client_threads
    double rate = 0;
  };
  std::vector<MqttRun> runs = {{"mqtt", false, 100, 20, true},
                               {"mqtt_unpinned", false, 100, 20, false},
                               {"mqtt_nodelay", true, 100, 20, true},
                               {"mqtt_b1000_w100", false, 1000, 100, true}};
  for (auto& run : runs) {
    if (!wanted(run.name)) {
      continue;
    }
    if (outbox.depth()->events == 0) {
      enqueue(db, outbox, n, nullptr, nullptr, nullptr);
    }
    const auto broker_dir = dir / (std::string("broker-") + run.name);
    pt::Mosquitto broker(broker_dir, {.tls = {},
                                      .port = 0,
                                      .extra = std::string("log_type subscribe\n") +
                                               (run.nodelay ? "set_tcp_nodelay true\n" : "")});
    broker.start();
    pt::Process office(
        {"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-V",
         "mqttv5", "-q", "1", "-i", "backoffice", "-t", "packbench/#", "-C", std::to_string(n),
         "-W", "900", "-F", "%q|%P"},
        {}, broker_dir, "backoffice");
    if (!pt::wait_until(
            [&] { return broker.log().find("backoffice 1 packbench/#") != std::string::npos; })) {
      fail("the back office did not subscribe: " + office.errors());
    }
    boost::asio::io_context io;
    ps::SyncConfig config;
    config.url = broker.url();
    config.batch_max_events = run.batch;
    config.mqtt.max_in_flight = run.in_flight;
    config.mqtt.pin_client_threads = run.pinned;
    auto transport = ps::MqttTransport::create(io.get_executor(), config, "bench", "pack-01");
    if (!transport) {
      fail(transport.error().message);
    }
    std::printf(
        "drain %d events to Mosquitto%s (MQTT 5, QoS 1, %d in flight, batches of %d, paho's "
        "threads %s; the back office: mosquitto_sub)\n",
        n, run.nodelay ? " with set_tcp_nodelay true" : "", run.in_flight, run.batch,
        run.pinned ? "on one CPU" : "where the kernel puts them");
    const double s = drain(db, outbox, std::move(*transport), config, io);
    run.rate = n / s;
    const auto code = office.wait(std::chrono::minutes(2));
    const std::string out = office.output();
    std::set<std::string> ids;
    std::size_t lines = 0;
    std::size_t qos1 = 0;
    for (std::size_t at = 0; at < out.size();) {
      const auto end = std::min(out.find('\n', at), out.size());
      const std::string line = out.substr(at, end - at);
      at = end + 1;
      ++lines;
      qos1 += line.rfind("1|", 0) == 0 ? 1 : 0;
      if (const auto id = line.find(" id:"); id != std::string::npos) {
        ids.insert(line.substr(id + 4, line.find(' ', id + 4) - id - 4));
      }
    }
    if (code != 0 || ids.size() != static_cast<std::size_t>(n) || qos1 != lines) {
      fail("the back office has " + std::to_string(ids.size()) + " distinct events in " +
           std::to_string(lines) + " messages (" + std::to_string(qos1) +
           " at QoS 1): " + office.errors());
    }
    std::printf("  %-22s %9.0f events/s  (%.2f s%s)\n", run.name, run.rate, s,
                std::string_view(run.name) == "mqtt" ? "; goal >= 10000" : "");
  }

  std::printf("BENCH sync_enqueue events=%d outbox_per_s=%.0f raw_per_s=%.0f ratio=%.2f\n", n,
              outbox_rate, raw_rate, outbox_rate / raw_rate);
  if (wanted("webhook")) {
    std::printf("BENCH sync_drain_webhook events=%d per_s=%.0f\n", n, webhook_rate);
  }
  if (wanted("mqtt") && wanted("mqtt_unpinned")) {
    std::printf("BENCH sync_drain_mqtt_pinned_vs_unpinned ratio=%.2f\n",
                runs[0].rate / runs[1].rate);
  }
  for (const auto& run : runs) {
    if (!wanted(run.name)) {
      continue;
    }
    std::printf("BENCH sync_drain_%s events=%d batch=%d in_flight=%d pinned=%d per_s=%.0f\n",
                run.name, n, run.batch, run.in_flight, run.pinned ? 1 : 0, run.rate);
  }
  return 0;
}

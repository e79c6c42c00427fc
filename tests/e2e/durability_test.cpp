// Durability: random scan sequences go to the real stationd, which is SIGKILLed at random
// moments, often with a scan in flight. After every restart the station's state must equal the
// state of a model station that took the same committed scans and was never killed; and what
// was committed must be exactly a prefix of what was sent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <deque>
#include <random>

#include "pack_fixture.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kOrders = R"({"orders": [
  {"id": "K-1", "lines": [{"sku": "TEA", "name": "Tea", "qty": 3, "barcodes": ["4901234567894"]},
                          {"sku": "CUP", "name": "Cup", "qty": 1, "barcodes": ["222"]}]},
  {"id": "K-2", "lines": [{"sku": "CAM", "name": "Camera", "qty": 2, "barcodes": ["09506000134352"],
                           "serial_required": true},
                          {"sku": "CUP", "name": "Cup", "qty": 2, "barcodes": ["222"]}]},
  {"id": "K-3", "lines": [{"sku": "SOAP", "name": "Soap", "qty": 1, "barcodes": ["0012345678905"]}]},
  {"id": "K-4", "lines": [{"sku": "TEA", "name": "Tea", "qty": 5, "barcodes": ["4901234567894"]}]}
]})";

// What a packer might scan at this bench, good and bad. The longer entries are scanned in a
// row: a supervisor closing the order short or reopening a packed one (each scan of them may
// still be the one the kill lands on).
const std::vector<std::vector<std::string>> kVocabulary = {
    {"K-1"},
    {"K-2"},
    {"K-3"},
    {"K-4"},
    {"4901234567894"},
    {"4901234567894"},
    {"222"},
    {"222"},
    {"09506000134352"},
    {"012345678905"},
    {"SN-1"},
    {"SN-2"},
    {"SN-3"},
    {"QTY-2"},
    {"x3"},
    {"CMD-UNDO"},
    {"CMD-CLOSE-BOX"},
    {"CMD-CANCEL"},
    {"PK-1"},
    {"PK-2"},
    {"NOPE"},
    {"K-9"},
    {"CMD-SHORT", "SV-1", "RC-SHORT-PICK"},
    {"CMD-SHORT", "SV-1", "RC-DAMAGED"},
    {"CMD-REOPEN", "SV-1", "K-1"},
    {"CMD-REOPEN", "SV-1", "K-3"},
    {"SV-1"},
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

class Store {
 public:
  explicit Store(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Store() { sqlite3_close(db_); }
  std::vector<std::string> column(const char* sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Rows that must match between the killed station and the model, as text.
std::vector<std::string> durable_rows(
    const std::function<std::vector<std::string>(const char*)>& q) {
  std::vector<std::string> rows;
  for (const char* sql : {
           "SELECT id || ':' || status FROM orders ORDER BY id",
           "SELECT type || ':' || coalesce(subject, '') FROM outbox ORDER BY seq",
           "SELECT coalesce(order_id, '') || ':' || role FROM print_jobs ORDER BY id",
           "SELECT order_id || ':' || state || ':' || box || ':' || reopened || ':' || "
           "coalesce(exception, '') FROM pack_sessions ORDER BY id",
           "SELECT verdict || ':' || qty || ':' || undone || ':' || coalesce(box, 0) || ':' || "
           "coalesce(undoes, 0) || ':' || coalesce(packer, '') FROM scans ORDER BY id",
           "SELECT kind || ':' || coalesce(order_id, '') || ':' || coalesce(packer, '') || ':' || "
           "detail || ':' || scan_id FROM audit ORDER BY id",
       }) {
    for (auto& r : q(sql)) {
      rows.push_back(std::string(sql).substr(7, 12) + " " + r);
    }
  }
  return rows;
}

}  // namespace

TEST(Durability, KilledAtRandomPointsTheStationRestartsInTheModelsState) {
  const int kills = env_int("PACKBENCH_KILL_POINTS", 500);
  const unsigned seed = static_cast<unsigned>(env_int("PACKBENCH_SEED", 20261122));
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set PACKBENCH_SEED to replay)");

  pt::TempDir dir;
  const auto scanner_port = pt::free_port();
  const auto ui_port = pt::free_port();
  pt::write_file(dir / "orders.json", kOrders);
  pt::write_file(dir / "station.toml",
                 "[station]\nid = \"pack-01\"\nsite = \"site-1\"\nstate_dir = \"state\"\n"
                 "[ui]\nlisten = \"127.0.0.1:" +
                     std::to_string(ui_port) +
                     "\"\n"
                     "[orders]\nfile = \"orders.json\"\n"
                     "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\naddress = \"127.0.0.1:" +
                     std::to_string(scanner_port) +
                     "\"\n"
                     "[[printer]]\nname = \"label\"\ntype = \"file\"\n"
                     "[[pack.supervisor]]\nid = \"sv-1\"\nbadge = \"SV-1\"\n"
                     "[log]\nlevel = \"warn\"\n");
  pt::NotifySocket notify(dir / "notify.sock");

  // The model: the same pack session, in this process, never killed.
  packbench::station::PackRules rules;
  rules.supervisors.push_back({"sv-1", "SV-1", ""});
  pt::Station model(kOrders, rules);
  // The scans to send, drawn from the vocabulary; an override's scans follow one another.
  std::deque<std::string> queued;
  auto next_scan = [&] {
    if (queued.empty()) {
      const auto& entry = kVocabulary[rng() % kVocabulary.size()];
      queued.assign(entry.begin(), entry.end());
    }
    std::string scan = queued.front();
    queued.pop_front();
    return scan;
  };

  std::vector<std::string> sent;  // every scan line written to the scanner port
  std::size_t model_applied = 0;  // how many committed scans the model has taken
  std::optional<Store> store;
  int in_flight_kills = 0;

  for (int round = 0; round < kills; ++round) {
    pt::Process stationd(
        {pt::stationd_path().string(), "--config", (dir / "station.toml").string()},
        {{"NOTIFY_SOCKET", notify.path().string()}}, dir.path(), "stationd");
    ASSERT_TRUE(notify.wait_for("READY=1")) << stationd.errors();
    if (!store) {
      store.emplace(dir / "state" / "station.db");
    }
    auto committed = [&] { return store->column("SELECT data FROM scans ORDER BY id"); };

    // After the restart: the committed scans are a prefix of what was sent, in order...
    const auto done = committed();
    ASSERT_LE(done.size(), sent.size());
    for (std::size_t i = 0; i < done.size(); ++i) {
      ASSERT_EQ(done[i], sent[i]) << "scan " << i << " committed out of order or invented";
    }
    // ... the model takes the ones it has not seen (the ones lost in flight are gone: a packer
    // rescans what got no verdict) ...
    sent.resize(done.size());
    for (; model_applied < done.size(); ++model_applied) {
      model.scan(done[model_applied]);
    }
    // ... and the restarted station is where the model is: in memory and on disk.
    auto health = pt::http_get(ui_port, "/healthz");
    ASSERT_TRUE(health) << stationd.errors();
    const auto pack = json::parse(health->second).at("pack");
    ASSERT_EQ(json::serialize(pack), json::serialize(model.session->snapshot()))
        << "round " << round << " after " << done.size() << " scans";
    ASSERT_EQ(durable_rows([&](const char* sql) { return store->column(sql); }),
              durable_rows([&](const char* sql) {
                std::vector<std::string> out;
                auto r = model.db.read([&] {
                  auto st = model.db.statement(sql);
                  while (st.step()) {
                    out.push_back(st.column_text(0));
                  }
                });
                return out;
              }))
        << "round " << round;

    // A few scans, each waited for, then one more and a kill at a random moment.
    const int settled = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int i = 0; i < settled; ++i) {
      const std::string scan = next_scan();
      ASSERT_TRUE(pt::tcp_send(scanner_port, scan + "\n"));
      sent.push_back(scan);
      ASSERT_TRUE(pt::wait_until([&] { return committed().size() == sent.size(); }, 20s))
          << stationd.errors();
    }
    const std::string last = next_scan();
    ASSERT_TRUE(pt::tcp_send(scanner_port, last + "\n"));
    sent.push_back(last);
    const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng));
    std::this_thread::sleep_for(delay);  // the kill point: anywhere in the scan's life
    stationd.signal(SIGKILL);
    ASSERT_EQ(stationd.wait(), 128 + SIGKILL);
    if (committed().size() < sent.size()) {
      ++in_flight_kills;
    }
  }
  // The kills did land in the middle of scans, not only between them.
  EXPECT_GT(in_flight_kills, 0);
  // The overrides did happen: orders closed short and reopened, and both survived the kills.
  const auto sessions = store->column(
      "SELECT count(*) FILTER (WHERE exception IS NOT NULL) || '/' || "
      "count(*) FILTER (WHERE reopened = 1) FROM pack_sessions");
  std::printf(
      "%d kill points, %d with a scan in flight, %zu scans committed, %s packs closed "
      "short/reopened\n",
      kills, in_flight_kills, sent.size(), sessions.empty() ? "?" : sessions[0].c_str());
}

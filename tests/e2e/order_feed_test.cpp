// The order feed end to end: the real stationd polling a back office's feed on loopback, a
// real WebSocket page, the real stationctl; and stationd SIGKILLed between fetching a page and
// committing it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "collector.hpp"
#include "feed_server.hpp"
#include "support.hpp"

namespace pt = packbench::testing;
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

namespace {

const char* kTea = "4901234567894";

json::object order(const std::string& id, int qty) {
  return json::object{
      {"id", id},
      {"lines", json::array{json::object{
                    {"sku", "TEA"}, {"name", "Sencha"}, {"qty", qty}, {"barcodes", {kTea}}}}}};
}

// The store, read (and, to hold the station's commits back, locked) from the test.
class Store {
 public:
  explicit Store(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Store() { sqlite3_close(db_); }
  std::int64_t number(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::int64_t out = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }
  bool exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A packer's page on the station's WebSocket; every read has a time-out.
class Page {
 public:
  explicit Page(std::uint16_t port) : ws(io) {
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::get_lowest_layer(ws).socket().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.async_handshake("127.0.0.1:" + std::to_string(port), "/ws",
                       [this](beast::error_code e) { ec = e; });
    io.run();
  }

  // The next message of `type` that `accept` takes, within 30 s; others pass.
  json::object next(const std::string& type,
                    const std::function<bool(const json::object&)>& accept = {}) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      beast::flat_buffer buffer;
      beast::error_code result;
      beast::get_lowest_layer(ws).expires_after(30s);
      ws.async_read(buffer, [&](beast::error_code e, std::size_t) { result = e; });
      io.restart();
      io.run();
      if (result) {
        ADD_FAILURE() << "no '" << type << "' message: " << result.message();
        return {};
      }
      auto m = json::parse(beast::buffers_to_string(buffer.data())).as_object();
      if (m.at("type").as_string() == type && (!accept || accept(m))) {
        return m;
      }
    }
    ADD_FAILURE() << "no '" << type << "' message";
    return {};
  }

  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws;
  beast::error_code ec;
};

class OrderFeedE2e : public ::testing::Test {
 protected:
  pt::TempDir dir;
  std::uint16_t ui_port = pt::free_port();
  pt::NotifySocket notify{dir / "notify.sock"};
  pt::FeedServer feed;
  pt::EventCollector back_office;

  void write_config(const std::string& orders_file = "") {
    pt::write_file(dir / "station.toml",
                   "[station]\nid = \"pack-01\"\nsite = \"site-1\"\nstate_dir = \"state\"\n"
                   "[ui]\nlisten = \"127.0.0.1:" +
                       std::to_string(ui_port) + "\"\n[orders]\n" +
                       (orders_file.empty() ? "" : "file = \"" + orders_file + "\"\n") +
                       "feed_url = \"" + feed.url() +
                       "\"\npoll_interval_s = 1\nretry_base_ms = 20\nretry_cap_ms = 200\n"
                       "[[printer]]\nname = \"label\"\ntype = \"file\"\n"
                       "[sync]\nurl = \"" +
                       back_office.url() +
                       "\"\nretry_base_ms = 20\nretry_cap_ms = 100\n[log]\nlevel = \"info\"\n");
  }

  std::unique_ptr<pt::Process> start(const std::string& name = "stationd") {
    auto p = std::make_unique<pt::Process>(
        std::vector<std::string>{pt::stationd_path().string(), "--config",
                                 (dir / "station.toml").string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path().string()}}, dir.path(),
        name);
    EXPECT_TRUE(notify.wait_for("READY=1")) << p->errors();
    return p;
  }

  json::object health() {
    auto r = pt::http_get(ui_port, "/healthz");
    return r && r->first == 200 ? json::parse(r->second).as_object() : json::object{};
  }

  // Waits until the station has applied the feed's whole log (its cursor is the log's end).
  bool caught_up(std::chrono::milliseconds timeout = 30s) {
    const std::string want = "c" + std::to_string(feed.entries());
    return pt::wait_until(
        [&] {
          auto h = health();
          const auto* f = h.if_contains("orders_feed");
          return f && f->as_object().at("cursor") == json::value(want);
        },
        timeout);
  }

  std::string post_scan(const std::string& data) {
    auto r = pt::http_request(ui_port, "POST", "/api/scans",
                              json::serialize(json::object{{"data", data}}), "application/json");
    if (!r || r->first != 200) {
      return "";
    }
    return std::string(json::parse(r->second).at("verdict").as_string());
  }

  pt::RunResult stationctl(std::vector<std::string> args) {
    args.insert(args.begin(), pt::stationctl_path().string());
    args.push_back("--state-dir");
    args.push_back((dir / "state").string());
    return pt::run_command(args, dir.path());
  }
};

}  // namespace

TEST_F(OrderFeedE2e, ACancellationOfTheOrderOnTheBenchReachesThePackersPage) {
  feed.add_order(order("W-1", 2), 1);
  feed.add_order(order("W-2", 1), 1);
  write_config();
  auto stationd = start();
  ASSERT_TRUE(caught_up()) << stationd->errors();

  Page page(ui_port);
  ASSERT_FALSE(page.ec) << page.ec.message();
  auto hello = page.next("hello");
  EXPECT_TRUE(hello.at("notices").as_array().empty());
  ASSERT_EQ(post_scan("W-1"), "order_opened");
  ASSERT_EQ(post_scan(kTea), "item_accepted");

  feed.cancel("W-1", 2, "customer request");
  feed.cancel("W-2", 2, "");
  auto notice = page.next(
      "notices", [](const json::object& m) { return !m.at("notices").as_array().empty(); });
  const auto& held = notice.at("notices").as_array();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].at("order").as_string(), "W-1");
  EXPECT_EQ(held[0].at("change").as_string(), "cancel");
  EXPECT_EQ(held[0].at("reason").as_string(), "customer request");
  ASSERT_TRUE(caught_up());

  // A page that connects now is told with its hello; /healthz and /metrics say it too.
  Page late(ui_port);
  EXPECT_EQ(late.next("hello").at("notices").as_array().size(), 1u);
  auto h = health();
  const auto& f = h.at("orders_feed").as_object();
  EXPECT_EQ(f.at("state").as_string(), "online");
  EXPECT_EQ(f.at("held").as_array().size(), 1u);
  EXPECT_EQ(f.at("cancellations").at("held").as_int64(), 1);
  EXPECT_EQ(f.at("cancellations").at("applied").as_int64(), 1);  // W-2, idle
  EXPECT_FALSE(f.at("last_success").is_null());
  EXPECT_EQ(h.at("status").as_string(), "ok");
  auto metrics = pt::http_get(ui_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->second.find("packbench_orders_feed_held{station=\"pack-01\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->second.find("packbench_orders_feed_online{station=\"pack-01\"} 1"),
            std::string::npos);
  EXPECT_NE(
      metrics->second.find(
          "packbench_orders_feed_cancellations_total{station=\"pack-01\",outcome=\"held\"} 1"),
      std::string::npos);

  // The packer keeps going until the supervisor has the pack cancelled; then it applies.
  ASSERT_EQ(post_scan("CMD-CANCEL"), "pack_cancelled");
  page.next("notices", [](const json::object& m) { return m.at("notices").as_array().empty(); });
  EXPECT_EQ(post_scan("W-1"), "order_cancelled");
  EXPECT_EQ(post_scan("W-2"), "order_cancelled");

  auto ls = stationctl({"orders", "ls"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find("W-1  cancelled  v1  feed"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("back office: cancel applied (customer request)"), std::string::npos)
      << ls.out;
  EXPECT_NE(ls.out.find("2 orders: 2 cancelled"), std::string::npos) << ls.out;
  auto status = stationctl({"orders", "feed", "--json"});
  EXPECT_EQ(status.code, 0) << status.err;
  const auto st = json::parse(status.out).as_object();
  EXPECT_EQ(st.at("feed").at("cursor").as_string(), "c4");
  EXPECT_EQ(st.at("feed").at("url").as_string(), feed.url());
  EXPECT_TRUE(st.at("held").as_array().empty());
  EXPECT_EQ(st.at("cancellations").at("applied").as_int64(), 2);
}

TEST_F(OrderFeedE2e, KilledBetweenFetchAndCommitThePageIsAppliedExactlyOnceAfterRestart) {
  // P is packed and R waits, both from a file; the feed has nothing yet.
  pt::write_file(
      dir / "orders.json",
      json::serialize(json::object{{"orders", json::array{order("P", 1), order("R", 1)}}}));
  write_config("orders.json");
  auto stationd = start("stationd-1");
  ASSERT_TRUE(caught_up()) << stationd->errors();
  ASSERT_EQ(post_scan("P"), "order_opened");
  ASSERT_EQ(post_scan(kTea), "order_complete");
  Store store(dir / "state" / "station.db");
  ASSERT_TRUE(pt::wait_until([&] { return store.number("SELECT count(*) FROM outbox") == 0; }))
      << stationd->errors();
  const auto pages_before = store.number("SELECT pages FROM order_feed");
  const std::string cursor_before = store.text("SELECT cursor FROM order_feed");
  ASSERT_EQ(cursor_before, "c0");

  // The station's commits are held back (the test holds the store's write lock), and the
  // station is killed the moment the back office has answered with the page: it has fetched
  // the page and cannot have committed it.
  ASSERT_TRUE(store.exec("BEGIN IMMEDIATE"));
  feed.add_order(order("N", 1), 1);
  feed.cancel("R", 2, "customer request");
  feed.cancel("P", 2, "customer request");
  // Set after the entries: every answer from now on is the page (an answer decided before
  // was a 304, and took the callback as it was then, none).
  std::atomic<pid_t> kill_on_page{stationd->pid()};
  std::atomic<int> pages_with_entries{0};
  feed.http().set_on_answered([&](const pt::HttpExchange& ex) {
    if (pt::FeedServer::query_param(ex.target, "cursor") == "c0") {
      ++pages_with_entries;
      if (const pid_t pid = kill_on_page.exchange(0); pid > 0) {
        ::kill(pid, SIGKILL);
      }
    }
  });
  ASSERT_EQ(stationd->wait(), 128 + SIGKILL);
  ASSERT_TRUE(store.exec("ROLLBACK"));
  EXPECT_GE(pages_with_entries, 1);
  // Nothing of the page is in the store.
  EXPECT_EQ(store.text("SELECT cursor FROM order_feed"), "c0");
  EXPECT_EQ(store.number("SELECT pages FROM order_feed"), pages_before);
  EXPECT_EQ(store.number("SELECT count(*) FROM orders WHERE id = 'N'"), 0);
  EXPECT_EQ(store.text("SELECT status FROM orders WHERE id = 'R'"), "ready");
  EXPECT_EQ(store.number("SELECT count(*) FROM order_feed_changes"), 0);

  // Restarted, the station asks for the same cursor again and applies the page once.
  auto again = start("stationd-2");
  ASSERT_TRUE(caught_up()) << again->errors();
  EXPECT_GE(pages_with_entries, 2);  // the same page, fetched again
  EXPECT_EQ(store.text("SELECT status FROM orders WHERE id = 'N'"), "ready");
  EXPECT_EQ(store.text("SELECT status FROM orders WHERE id = 'R'"), "cancelled");
  EXPECT_EQ(store.text("SELECT status FROM orders WHERE id = 'P'"), "packed");
  EXPECT_EQ(store.number("SELECT count(*) FROM audit WHERE order_id = 'R' AND "
                         "json_extract(detail, '$.event') = 'feed_order_cancelled'"),
            1);
  ASSERT_TRUE(back_office.wait_for_events(2));  // order.packed, then cancel_rejected
  auto rejected = [&] {
    int n = 0;
    for (const auto& e : back_office.events()) {
      n += e.at("type").as_string() == "com.packbench.order.cancel_rejected.v1";
    }
    return n;
  };
  ASSERT_TRUE(pt::wait_until([&] { return rejected() == 1; }));

  // Killed once more, after the commit: the page is not fetched again, nothing repeats.
  const auto requests_before = feed.requests().size();
  again->signal(SIGKILL);
  ASSERT_EQ(again->wait(), 128 + SIGKILL);
  auto third = start("stationd-3");
  ASSERT_TRUE(feed.wait_for_requests(requests_before + 2)) << third->errors();
  for (std::size_t i = requests_before; i < feed.requests().size(); ++i) {
    EXPECT_EQ(pt::FeedServer::query_param(feed.requests()[i].target, "cursor"), "c3");
  }
  ASSERT_TRUE(pt::wait_until([&] { return store.number("SELECT count(*) FROM outbox") == 0; }));
  EXPECT_EQ(rejected(), 1);
  EXPECT_EQ(store.number("SELECT count(*) FROM outbox_dead"), 0);
  EXPECT_EQ(store.number("SELECT count(*) FROM order_feed_changes WHERE order_id = 'P' AND "
                         "state = 'rejected'"),
            1);
  const auto problems = back_office.problems();
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST_F(OrderFeedE2e, AnUnreachableFeedLeavesTheStationPackingItsCachedOrders) {
  feed.add_order(order("X-1", 1), 1);
  write_config();
  {
    auto stationd = start("stationd-1");
    ASSERT_TRUE(caught_up()) << stationd->errors();
    stationd->signal(SIGTERM);
    ASSERT_EQ(stationd->wait(), 0);
  }
  // The back office's feed now refuses every request.
  feed.set_override([](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    return pt::Reply::status_only(503);
  });
  auto stationd = start("stationd-2");
  ASSERT_TRUE(pt::wait_until([&] {
    auto h = health();
    const auto* f = h.if_contains("orders_feed");
    return f && f->as_object().at("state") == json::value("offline");
  })) << stationd->errors();
  EXPECT_EQ(post_scan("X-1"), "order_opened");
  EXPECT_EQ(post_scan(kTea), "order_complete");
  auto h = health();
  EXPECT_EQ(h.at("status").as_string(), "ok");  // an offline feed does not degrade the bench
  EXPECT_GE(h.at("orders_feed").at("errors").at("http_503").as_int64(), 1);
  EXPECT_NE(h.at("orders_feed").at("last_error").as_string().find("HTTP 503"), std::string::npos);
}

// The order feed on real parts: a real SQLite store, the real pack session, outbox and feed
// poller on an io_context the test drives, and a back office's feed on loopback
// (tests/support/feed_server.hpp) over HTTP and HTTPS.
#include "station/orders/order_feed.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "collector.hpp"
#include "feed_server.hpp"
#include "pack_fixture.hpp"
#include "station/config/config.hpp"
#include "station/orders/feed_page.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kTea = "4901234567894";

json::object order(const std::string& id, int qty = 2, const std::string& name = "Sencha") {
  return json::object{
      {"id", id},
      {"customer", json::object{{"name", "山田 花子"}, {"locale", "ja"}}},
      {"lines", json::array{json::object{
                    {"sku", "TEA"}, {"name", name}, {"qty", qty}, {"barcodes", {kTea}}}}}};
}

ps::OrdersConfig fast_feed(const std::string& url) {
  ps::OrdersConfig c;
  c.feed_url = url;
  c.poll_interval = 50ms;
  c.timeout = 5000ms;
  c.retry_base = 10ms;
  c.retry_cap = 100ms;
  return c;
}

// The pack fixture's station with an order feed beside its pack session, wired as stationd
// wires them: a closing pack session settles the changes held for its order.
struct FeedStation {
  explicit FeedStation(const char* orders = R"({"orders": []})") : st(orders) {}

  pt::Station st;
  std::unique_ptr<ps::OrderFeed> feed;
  std::vector<std::vector<ps::HeldChange>> heard;  // each time the held changes changed

  void start(const ps::OrdersConfig& config, const ps::WallClock& clock = ps::system_wall_clock()) {
    auto created =
        ps::OrderFeed::create(st.io.get_executor(), st.db, st.book, st.outbox, config,
                              {"pack-01", "site-1", {"PK-", "CMD-", "QTY-", "PIN-", "RC-"}}, clock);
    ASSERT_TRUE(created) << created.error().message;
    feed = std::move(*created);
    feed->add_listener([this](const std::vector<ps::HeldChange>& held) { heard.push_back(held); });
    st.session->add_listener([this](const ps::ScanOutcome& o) {
      if (o.verdict == ps::Verdict::order_complete || o.verdict == ps::Verdict::pack_cancelled ||
          o.verdict == ps::Verdict::order_closed_short) {
        feed->pack_closed(o.order_id);
      }
    });
    feed->start();
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      st.io.run_for(5ms);
    }
    return true;
  }

  std::string status(const std::string& id) {
    return st.text("SELECT status FROM orders WHERE id = '" + id + "'");
  }
  std::int64_t version(const std::string& id) {
    return st.count("SELECT coalesce(version, -1) FROM orders WHERE id = '" + id + "'");
  }
  std::int64_t qty(const std::string& id) {
    return st.count("SELECT json_extract(doc, '$.lines[0].qty') FROM orders WHERE id = '" + id +
                    "'");
  }
  std::string cursor() { return st.text("SELECT cursor FROM order_feed"); }
  std::int64_t orders() { return st.count("SELECT count(*) FROM orders"); }
  std::int64_t errors(const std::string& reason) {
    const auto& m = feed->status().errors;
    auto it = m.find(reason);
    return it == m.end() ? 0 : it->second;
  }
  std::int64_t counted(const std::map<std::string, std::int64_t>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  }
  std::vector<json::object> events_of(const std::string& type) {
    std::vector<json::object> out;
    for (auto& e : st.events()) {
      if (e.at("type").as_string() == type) {
        out.push_back(e);
      }
    }
    return out;
  }
  // Runs until the feed has polled again after everything so far: the server's log is applied.
  bool caught_up(pt::FeedServer& server) {
    const std::string want = "c" + std::to_string(server.entries());
    return run_until([&] { return cursor() == want; });
  }
};

}  // namespace

// --- the configuration ---------------------------------------------------------------------

TEST(OrderFeedConfig, TheFeedKeysAreReadAndChecked) {
  pt::TempDir dir;
  pt::write_file(dir / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  pt::write_file(dir / "token", "feed-token\n");
  pt::write_file(dir / "empty", "\n");
  const std::string head =
      "[station]\nid = \"p\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\n";
  auto good = ps::load_config_text(head + R"([orders]
feed_url = "https://backoffice.example:8443/orders?warehouse=3"
ca_file = "ca.pem"
bearer_token_file = "token"
poll_interval_s = 60
retry_cap_ms = 60000
page_limit = 500
page_max_bytes = 1048576
)",
                                   "good.toml", dir.path());
  ASSERT_TRUE(good.ok()) << good.problems[0].to_string();
  const auto& o = good.config.orders;
  EXPECT_EQ(o.feed_url, "https://backoffice.example:8443/orders?warehouse=3");
  EXPECT_EQ(o.ca_file, dir / "ca.pem");
  EXPECT_EQ(o.bearer_token_file, dir / "token");
  EXPECT_EQ(o.poll_interval, 60s);
  EXPECT_EQ(o.retry_base, 1000ms);  // default
  EXPECT_EQ(o.retry_cap, 60000ms);
  EXPECT_EQ(o.page_limit, 500);
  EXPECT_EQ(o.page_max_bytes, 1048576);
  // Nothing is taken from [sync].
  EXPECT_TRUE(good.config.sync.ca_file.empty());

  auto defaults = ps::load_config_text(head, "d.toml", dir.path());
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults.config.orders.feed_url.empty());
  EXPECT_EQ(defaults.config.orders.poll_interval, 30s);

  struct Bad {
    const char* text;
    const char* key;
    const char* words;
  };
  const Bad bads[] = {
      {"[orders]\nfeed_url = \"ftp://bo/orders\"\n", "orders.feed_url", "not supported"},
      {"[orders]\nfeed_url = \"https://u:p@bo/orders\"\n", "orders.feed_url",
       "use orders.bearer_token_file"},
      {"[orders]\nfeed_url = \"http://bo/orders\"\nca_file = \"ca.pem\"\n", "orders.ca_file",
       "only used with an https:// url"},
      {"[orders]\nbearer_token_file = \"token\"\n", "orders.bearer_token_file",
       "only used with orders.feed_url"},
      {"[orders]\nfeed_url = \"https://bo/orders\"\nbearer_token_file = \"empty\"\n",
       "orders.bearer_token_file", "is empty"},
      {"[orders]\nfeed_url = \"https://bo/orders\"\nca_file = \"missing.pem\"\n", "orders.ca_file",
       "no such file"},
      {"[orders]\npoll_interval_s = 0\n", "orders.poll_interval_s", "must be from 1"},
      {"[orders]\nretry_base_ms = 5000\nretry_cap_ms = 1000\n", "orders.retry_cap_ms",
       "must not be below"},
      {"[orders]\npage_max_bytes = 10\n", "orders.page_max_bytes", "must be from 1024"},
      {"[orders]\nfeed = \"x\"\n", "orders.feed", "unknown key"},
  };
  for (const auto& b : bads) {
    SCOPED_TRACE(b.text);
    auto loaded = ps::load_config_text(head + b.text, "bad.toml", dir.path());
    const ps::ConfigProblem* found = nullptr;
    for (const auto& p : loaded.problems) {
      if (p.key == b.key) {
        found = &p;
      }
    }
    ASSERT_NE(found, nullptr) << (loaded.problems.empty() ? "no problem"
                                                          : loaded.problems[0].to_string());
    EXPECT_NE(found->message.find(b.words), std::string::npos) << found->to_string();
    EXPECT_GT(found->line, 0) << found->to_string();
  }
}

// --- the page ------------------------------------------------------------------------------

TEST(OrderFeedPage, ReadsTheDocumentedPage) {
  auto parsed = ps::parse_feed_page(R"({
    "orders": [{"id": "SHOP-1", "version": 17, "updated_at": "2026-11-22T08:00:00Z",
                "lines": [{"sku": "TEA", "qty": 2, "barcodes": ["4901234567894"]}]}],
    "cancelled": [{"id": "SHOP-2", "version": 18, "reason": "customer request"}, "SHOP-3"],
    "cursor": "c-181", "more": true})");
  ASSERT_TRUE(parsed.page) << parsed.problem.message;
  const auto& p = *parsed.page;
  ASSERT_EQ(p.orders.size(), 1u);
  EXPECT_EQ(p.orders[0].order.id, "SHOP-1");
  EXPECT_EQ(p.orders[0].version, 17);
  EXPECT_EQ(p.orders[0].updated_at, "2026-11-22T08:00:00Z");
  ASSERT_EQ(p.cancelled.size(), 2u);
  EXPECT_EQ(p.cancelled[0].id, "SHOP-2");
  EXPECT_EQ(p.cancelled[0].version, 18);
  EXPECT_EQ(p.cancelled[0].reason, "customer request");
  EXPECT_EQ(p.cancelled[1].id, "SHOP-3");
  EXPECT_FALSE(p.cancelled[1].version);
  EXPECT_EQ(p.cursor, "c-181");
  EXPECT_TRUE(p.more);

  auto empty = ps::parse_feed_page(R"({"cursor": "c-181"})");
  ASSERT_TRUE(empty.page);
  EXPECT_TRUE(empty.page->orders.empty());
  EXPECT_FALSE(empty.page->more);
}

TEST(OrderFeedPage, EveryFaultRefusesThePageAndSaysWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"orders": [)", "not valid JSON"},
      {R"([1, 2])", "page: must be a JSON object"},
      {R"({"orders": []})", "cursor: missing"},
      {R"({"orders": [], "cursor": 7})", "cursor: missing"},
      {R"({"orders": {}, "cursor": "c"})", "orders: must be an array"},
      {R"({"orders": [{"id": "A", "version": 1, "lines": [{"sku": "S", "qty": "2",
           "barcodes": ["1"]}]}], "cursor": "c"})",
       "orders[0].lines[0].qty: must be a whole number"},
      {R"({"orders": [{"id": "A", "lines": [{"sku": "S", "barcodes": ["1"]}]}], "cursor": "c"})",
       "orders[0].version: missing"},
      {R"({"orders": [{"id": "A", "version": "3", "lines": [{"sku": "S", "barcodes": ["1"]}]}],
           "cursor": "c"})",
       "orders[0].version: must be a whole number"},
      {R"({"orders": [{"id": "A", "version": -1, "lines": [{"sku": "S", "barcodes": ["1"]}]}],
           "cursor": "c"})",
       "orders[0].version: must be a whole number"},
      {R"({"orders": [{"id": "CMD-X", "version": 1, "lines": [{"sku": "S", "barcodes": ["1"]}]}],
           "cursor": "c"})",
       "orders[0].id: 'CMD-X' starts with the bench code prefix 'CMD-'"},
      {R"({"cancelled": [{"version": 1}], "cursor": "c"})", "cancelled[0].id: missing"},
      {R"({"cancelled": [42], "cursor": "c"})", "cancelled[0]: must be an order id"},
      {R"({"cancelled": ["has space"], "cursor": "c"})",
       "cancelled[0]: 'has space' is no order id"},
      {R"({"cursor": "c", "more": "yes"})", "more: must be true or false"},
  };
  for (const auto& [body, expected] : cases) {
    SCOPED_TRACE(body);
    auto parsed = ps::parse_feed_page(body, {"PK-", "CMD-"});
    ASSERT_FALSE(parsed.page);
    EXPECT_NE(parsed.problem.message.find(expected), std::string::npos) << parsed.problem.message;
    EXPECT_EQ(parsed.problem.reason,
              std::string(expected) == "not valid JSON" ? "bad_json" : "bad_page");
  }
}

TEST(OrderFeedPage, TheRequestCarriesTheCursorLimitAndStation) {
  EXPECT_EQ(ps::feed_request_target("https://bo.example/api/feed", "", 100, "pack-01", "tokyo"),
            "/api/feed?limit=100&station=pack-01&site=tokyo");
  EXPECT_EQ(ps::feed_request_target("https://bo.example/api/feed?warehouse=3", "c 1&2=3", 50,
                                    "pack-01", "tokyo"),
            "/api/feed?warehouse=3&cursor=c%201%262=3&limit=50&station=pack-01&site=tokyo");
  EXPECT_EQ(ps::feed_request_target("http://bo.example", "c9", 1, "s", "x"),
            "/?cursor=c9&limit=1&station=s&site=x");
}

// --- the feed ------------------------------------------------------------------------------

TEST(OrderFeed, PagesFollowTheCursorAndTheCursorIsStored) {
  pt::FeedServer server;
  server.set_page_size(2);
  for (int i = 1; i <= 5; ++i) {
    server.add_order(order("F-" + std::to_string(i)), 1);
  }
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.orders(), 5);
  EXPECT_EQ(f.status("F-5"), "ready");
  EXPECT_EQ(f.version("F-5"), 1);
  EXPECT_EQ(f.st.text("SELECT source FROM orders WHERE id = 'F-1'"), "feed");
  const auto requests = server.requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(pt::FeedServer::query_param(requests[0].target, "cursor"), "");
  EXPECT_EQ(pt::FeedServer::query_param(requests[1].target, "cursor"), "c2");
  EXPECT_EQ(pt::FeedServer::query_param(requests[2].target, "cursor"), "c4");
  EXPECT_EQ(pt::FeedServer::query_param(requests[0].target, "limit"), "100");
  EXPECT_EQ(pt::FeedServer::query_param(requests[0].target, "station"), "pack-01");
  EXPECT_EQ(pt::FeedServer::query_param(requests[0].target, "site"), "site-1");
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].headers.at("accept"), "application/json");
  EXPECT_EQ(f.counted(f.feed->status().orders, "added"), 5);
  EXPECT_TRUE(f.feed->status().online.value_or(false));
  EXPECT_EQ(f.feed->status().cursor, "c5");

  // A restarted station goes on from the stored cursor, not from the start.
  f.feed.reset();
  server.add_order(order("F-6"), 1);
  const auto before = server.requests().size();
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(pt::FeedServer::query_param(server.requests()[before].target, "cursor"), "c5");
  EXPECT_EQ(f.orders(), 6);
}

TEST(OrderFeed, AnUnchangedFeedAnswers304AndNothingIsApplied) {
  pt::FeedServer server;
  server.add_order(order("E-1"), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  // Caught up: the same request again, with the ETag of its last answer.
  // Wait on the station's own count: the server counts a 304 when it sends it, before the
  // station has read it.
  ASSERT_TRUE(f.run_until([&] { return f.feed->status().not_modified >= 2; }));
  ASSERT_GE(server.not_modified(), 2);
  const auto requests = server.requests();
  const auto& last = requests.back();
  EXPECT_EQ(pt::FeedServer::query_param(last.target, "cursor"), "c1");
  EXPECT_EQ(last.headers.at("if-none-match"), "\"c1-n1\"");
  EXPECT_GE(f.feed->status().not_modified, 2);
  EXPECT_EQ(f.st.count("SELECT pages FROM order_feed"), 2);  // the first page and the empty one
  EXPECT_TRUE(f.feed->status().online.value_or(false));

  server.add_order(order("E-2"), 1);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("E-2"), "ready");
}

TEST(OrderFeed, ACancellationOfAnIdleOrderIsAppliedAndTheBenchRefusesIt) {
  pt::FeedServer server;
  server.add_order(order("C-1"), 1);
  server.add_order(order("C-2"), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  server.cancel("C-1", 2, "customer request");
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("C-1"), "cancelled");
  EXPECT_EQ(f.status("C-2"), "ready");
  EXPECT_EQ(f.st.verdict("C-1"), ps::Verdict::order_cancelled);
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "applied"), 1);
  EXPECT_EQ(f.st.count("SELECT count(*) FROM audit WHERE order_id = 'C-1' AND "
                       "json_extract(detail, '$.event') = 'feed_order_cancelled'"),
            1);
  // Cancellations are final: a later version of the order does not bring it back.
  server.add_order(order("C-1", 5), 3);
  server.cancel("C-1", 2, "customer request");  // and sent again: nothing new
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("C-1"), "cancelled");
  EXPECT_EQ(f.qty("C-1"), 2);
  EXPECT_EQ(f.counted(f.feed->status().orders, "cancelled"), 1);
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "duplicate"), 1);
  EXPECT_TRUE(f.st.events().empty());  // nothing to report: it had not been started
}

TEST(OrderFeed, AnEditOfAnIdleOrderIsAppliedAndAStaleOneIgnored) {
  pt::FeedServer server;
  server.add_order(order("D-1", 2), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  server.add_order(order("D-1", 3, "Gyokuro"), 4);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.qty("D-1"), 3);
  EXPECT_EQ(f.version("D-1"), 4);
  // An older version arriving late changes nothing.
  server.add_order(order("D-1", 9), 3);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.qty("D-1"), 3);
  EXPECT_EQ(f.counted(f.feed->status().orders, "stale"), 1);
  EXPECT_EQ(f.counted(f.feed->status().orders, "updated"), 1);
  // The edit is what the bench packs.
  EXPECT_EQ(f.st.verdict("D-1"), ps::Verdict::order_opened);
  EXPECT_EQ(f.st.session->current()->expected(), 3);
  EXPECT_EQ(f.st.session->current()->lines[0].name, "Gyokuro");
}

TEST(OrderFeed, ACancellationOfTheOrderOnTheBenchIsHeldTheListenerToldAndAppliedOnCancel) {
  pt::FeedServer server;
  server.add_order(order("H-1", 2), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  ASSERT_EQ(f.st.verdict("H-1"), ps::Verdict::order_opened);
  ASSERT_EQ(f.st.verdict(kTea), ps::Verdict::item_accepted);

  server.cancel("H-1", 2, "customer request");
  ASSERT_TRUE(f.caught_up(server));
  // Held: the order is still on the bench, as it was.
  EXPECT_EQ(f.status("H-1"), "packing");
  ASSERT_FALSE(f.heard.empty());
  ASSERT_EQ(f.heard.back().size(), 1u);
  EXPECT_EQ(f.heard.back()[0].order_id, "H-1");
  EXPECT_EQ(f.heard.back()[0].change, "cancel");
  EXPECT_EQ(f.heard.back()[0].reason, "customer request");
  EXPECT_EQ(f.feed->status().held.size(), 1u);
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "held"), 1);
  EXPECT_EQ(f.st.count("SELECT count(*) FROM order_feed_changes WHERE state = 'held'"), 1);

  // The supervisor has the packer cancel the pack: the cancellation applies.
  EXPECT_EQ(f.st.verdict("CMD-CANCEL"), ps::Verdict::pack_cancelled);
  ASSERT_TRUE(f.run_until([&] { return f.status("H-1") == "cancelled"; }));
  ASSERT_TRUE(f.run_until([&] { return f.heard.back().empty(); }));
  EXPECT_TRUE(f.feed->status().held.empty());
  EXPECT_EQ(f.counted(f.feed->status().settled, "cancel_applied"), 1);
  EXPECT_EQ(f.st.verdict("H-1"), ps::Verdict::order_cancelled);
  EXPECT_TRUE(f.events_of(ps::kCancelRejectedType).empty());
}

TEST(OrderFeed, AChangeHeldForAnOrderThatIsThenPackedIsReportedNotApplied) {
  pt::FeedServer server;
  server.add_order(order("P-1", 1), 1);
  server.add_order(order("P-2", 1), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));

  // An edit while P-1 is packed: held; the packer finishes the order anyway.
  ASSERT_EQ(f.st.verdict("P-1"), ps::Verdict::order_opened);
  server.add_order(order("P-1", 4), 2);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.counted(f.feed->status().orders, "held"), 1);
  EXPECT_EQ(f.qty("P-1"), 1);
  ASSERT_EQ(f.st.verdict(kTea), ps::Verdict::order_complete);
  ASSERT_TRUE(f.run_until([&] { return f.feed->status().held.empty(); }));
  EXPECT_EQ(f.status("P-1"), "packed");
  EXPECT_EQ(f.qty("P-1"), 1);
  auto updates = f.events_of(ps::kUpdateRejectedType);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].at("subject").as_string(), "P-1");
  EXPECT_EQ(updates[0].at("data").at("version").as_int64(), 2);
  EXPECT_EQ(updates[0].at("data").at("status").as_string(), "packed");

  // A cancellation while P-2 is packed: held, then packed anyway: cancel_rejected, once.
  ASSERT_EQ(f.st.verdict("P-2"), ps::Verdict::order_opened);
  server.cancel("P-2", 2, "fraud check");
  ASSERT_TRUE(f.caught_up(server));
  ASSERT_EQ(f.st.verdict(kTea), ps::Verdict::order_complete);
  ASSERT_TRUE(f.run_until([&] { return f.feed->status().held.empty(); }));
  EXPECT_EQ(f.status("P-2"), "packed");
  auto rejected = f.events_of(ps::kCancelRejectedType);
  ASSERT_EQ(rejected.size(), 1u);
  const auto& data = rejected[0].at("data").as_object();
  EXPECT_EQ(data.at("order_id").as_string(), "P-2");
  EXPECT_EQ(data.at("reason").as_string(), "fraud check");
  EXPECT_EQ(data.at("station").as_string(), "pack-01");
  EXPECT_FALSE(data.at("packed_at").is_null());
  EXPECT_EQ(f.counted(f.feed->status().settled, "cancel_rejected"), 1);
}

TEST(OrderFeed, AnEditHeldWhileOnTheBenchAppliesWhenThePackIsCancelled) {
  pt::FeedServer server;
  server.add_order(order("R-1", 1), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  ASSERT_EQ(f.st.verdict("R-1"), ps::Verdict::order_opened);
  server.add_order(order("R-1", 3), 2);
  ASSERT_TRUE(f.caught_up(server));
  ASSERT_EQ(f.heard.back().size(), 1u);
  EXPECT_EQ(f.heard.back()[0].change, "edit");
  EXPECT_EQ(f.heard.back()[0].version, 2);
  EXPECT_EQ(f.st.session->current()->expected(), 1);  // the bench packs what it opened

  EXPECT_EQ(f.st.verdict("CMD-CANCEL"), ps::Verdict::pack_cancelled);
  ASSERT_TRUE(f.run_until([&] { return f.qty("R-1") == 3; }));
  EXPECT_EQ(f.version("R-1"), 2);
  EXPECT_EQ(f.status("R-1"), "ready");
  ASSERT_TRUE(f.run_until([&] { return f.heard.back().empty(); }));
  EXPECT_EQ(f.st.verdict("R-1"), ps::Verdict::order_opened);
  EXPECT_EQ(f.st.session->current()->expected(), 3);
}

TEST(OrderFeed, APackedOrderIsNotChangedAndItsCancellationIsReportedOnce) {
  pt::FeedServer server;
  server.add_order(order("K-1", 1), 1);
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  ASSERT_EQ(f.st.verdict("K-1"), ps::Verdict::order_opened);
  ASSERT_EQ(f.st.verdict(kTea), ps::Verdict::order_complete);

  server.add_order(order("K-1", 7), 2);
  server.cancel("K-1", 3, "customer request");
  server.cancel("K-1", 3, "customer request");
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("K-1"), "packed");
  EXPECT_EQ(f.qty("K-1"), 1);
  EXPECT_EQ(f.events_of(ps::kUpdateRejectedType).size(), 1u);
  EXPECT_EQ(f.events_of(ps::kCancelRejectedType).size(), 1u);
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "rejected"), 1);
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "duplicate"), 1);
  EXPECT_EQ(f.st.verdict("K-1"), ps::Verdict::order_already_packed);
  EXPECT_EQ(f.st.count("SELECT count(*) FROM order_feed_changes WHERE order_id = 'K-1' AND "
                       "state = 'rejected'"),
            1);
}

TEST(OrderFeed, ACancellationBeforeItsOrderKeepsTheOrderFromTheBench) {
  pt::FeedServer server;
  server.cancel("L-1", 2, "customer request");
  FeedStation f;
  f.start(fast_feed(server.url()));
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.counted(f.feed->status().cancellations, "early"), 1);
  EXPECT_EQ(f.orders(), 0);
  server.add_order(order("L-1"), 1);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("L-1"), "cancelled");
  EXPECT_EQ(f.st.verdict("L-1"), ps::Verdict::order_cancelled);
}

TEST(OrderFeed, WithTheFeedDownPackingGoesOnWithTheCachedOrders) {
  FeedStation f;
  {
    pt::FeedServer server;
    server.add_order(order("O-1", 1), 1);
    f.start(fast_feed(server.url()));
    ASSERT_TRUE(f.caught_up(server));
  }
  // The back office is gone: nothing listens on its port any more.
  ASSERT_TRUE(f.run_until([&] { return f.errors("connect") >= 2; }));
  EXPECT_FALSE(f.feed->status().online.value_or(true));
  EXPECT_NE(f.feed->status().last_error.find("connect"), std::string::npos);
  EXPECT_EQ(f.cursor(), "c1");
  EXPECT_EQ(f.st.verdict("O-1"), ps::Verdict::order_opened);
  EXPECT_EQ(f.st.verdict(kTea), ps::Verdict::order_complete);
  EXPECT_EQ(f.status("O-1"), "packed");
  // The figures say so.
  const auto health = f.feed->to_json();
  EXPECT_EQ(health.at("state").as_string(), "offline");
  EXPECT_FALSE(health.at("last_success").is_null());
  std::string metrics;
  f.feed->append_prometheus(metrics, "pack-01");
  EXPECT_NE(metrics.find("packbench_orders_feed_online{station=\"pack-01\"} 0"), std::string::npos);
  EXPECT_NE(
      metrics.find("packbench_orders_feed_errors_total{station=\"pack-01\",reason=\"connect\"}"),
      std::string::npos);
  EXPECT_NE(
      metrics.find("packbench_orders_feed_orders_total{station=\"pack-01\",outcome=\"added\"} 1"),
      std::string::npos);
}

TEST(OrderFeed, ABadPageAppliesNothingAndKeepsTheCursorUntilItIsFixed) {
  pt::FeedServer server;
  server.add_order(order("B-1"), 1);
  FeedStation f;
  auto config = fast_feed(server.url());
  config.page_max_bytes = 64 * 1024;
  f.start(config);
  ASSERT_TRUE(f.caught_up(server));
  server.add_order(order("B-2"), 1);

  struct Case {
    const char* reason;
    std::string body;
    const char* said;  // in the error, for /healthz and the log
  };
  const std::string huge =
      R"({"cursor": "c2", "orders": [], "padding": ")" + std::string(200 * 1024, 'x') + "\"}";
  const Case cases[] = {
      {"bad_json", R"({"orders": [{"id": "B-2", )", "not valid JSON"},
      {"bad_page", R"({"orders": [{"id": "B-2", "version": 1, "lines": [{"sku": "TEA",
                      "qty": "two", "barcodes": ["1"]}]}], "cursor": "c2"})",
       "the page at cursor 'c1' was refused: orders[0].lines[0].qty: must be a whole number"},
      {"bad_page", R"({"orders": [{"id": "B-2", "version": 1, "lines": [{"sku": "TEA",
                      "barcodes": ["1"]}]}], "cancelled": [{"id": 5}], "cursor": "c2"})",
       "cancelled[0].id: missing"},
      {"too_large", huge, "larger than 65536 bytes"},
      {"http_500", "", "HTTP 500"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reason);
    const auto before = f.errors(c.reason);
    server.set_override([&](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
      pt::Reply r;
      r.status = std::string(c.reason) == "http_500" ? 500 : 200;
      r.body = c.body;
      return r;
    });
    ASSERT_TRUE(f.run_until([&] { return f.errors(c.reason) >= before + 2; }));
    server.set_override(nullptr);
    EXPECT_EQ(f.cursor(), "c1");
    EXPECT_EQ(f.orders(), 1);
    EXPECT_FALSE(f.feed->status().online.value_or(true));
    EXPECT_NE(f.feed->to_json().at("last_error").as_string().find(c.said), std::string::npos)
        << f.feed->status().last_error;
  }
  // The back office fixes its page: it is applied, and the feed is online again.
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("B-2"), "ready");
  EXPECT_TRUE(f.feed->status().online.value_or(false));
}

TEST(OrderFeed, A503WaitsAsRetryAfterSays) {
  pt::FeedServer server;
  server.add_order(order("S-1"), 1);
  server.set_override([](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    pt::Reply r = pt::Reply::status_only(503);
    r.headers.emplace_back("Retry-After", "3");
    return r;
  });
  FeedStation f;
  auto config = fast_feed(server.url());
  config.retry_cap = 5000ms;  // a back-off of its own would wait at most 10 ms the first time
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.feed->status().retry_in_ms.has_value(); }));
  EXPECT_EQ(*f.feed->status().retry_in_ms, 3000);
  EXPECT_EQ(f.errors("http_503"), 1);
  EXPECT_EQ(f.feed->to_json().at("retry_in_ms").as_int64(), 3000);
  EXPECT_EQ(f.orders(), 0);
}

TEST(OrderFeed, WallClockJumpsDisturbNeitherItsBackOffNorItsPolls) {
  // As for the outbox's sender (SyncClock.*): the wall clock, injected, jumps forward and back
  // while the feed backs off; its waits run on the monotonic clock and do not notice.
  pt::FeedServer server;
  server.add_order(order("W-1"), 1);
  server.set_override([](const pt::HttpExchange&, std::size_t) -> std::optional<pt::Reply> {
    return pt::Reply::status_only(500);
  });
  FeedStation f;
  ps::WallClock clock;
  f.start(fast_feed(server.url()), clock);  // back-off 10 ms to 100 ms
  ASSERT_TRUE(f.run_until([&] { return f.errors("http_500") >= 2; }));
  // Two days forward: a wait on the wall clock would not notice; the tries go on at their pace.
  clock.jump(48h);
  auto before = f.errors("http_500");
  ASSERT_TRUE(f.run_until([&] { return f.errors("http_500") >= before + 3; }, 5s));
  // Four days back (two before the truth): a wait on the wall clock would last two days.
  clock.jump(-96h);
  before = f.errors("http_500");
  ASSERT_TRUE(f.run_until([&] { return f.errors("http_500") >= before + 3; }, 5s));
  ASSERT_LE(f.feed->status().retry_in_ms.value_or(0), 100);
  // The back office answers again: the page is applied at once.
  server.set_override(nullptr);
  ASSERT_TRUE(f.caught_up(server));
  EXPECT_EQ(f.status("W-1"), "ready");
  // What the feed writes down is the jumped clock's time.
  const auto true_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  EXPECT_NEAR(static_cast<double>(true_ms - f.feed->status().last_success_unix_ms), 48 * 3600e3,
              600e3);
}

TEST(OrderFeed, ASecondFeedUrlStartsFromItsBeginning) {
  pt::FeedServer a;
  a.add_order(order("U-1"), 1);
  a.add_order(order("U-2"), 1);
  FeedStation f;
  f.start(fast_feed(a.url()));
  ASSERT_TRUE(f.caught_up(a));
  f.feed.reset();
  pt::FeedServer b;
  b.add_order(order("U-3"), 1);
  f.start(fast_feed(b.url()));
  ASSERT_TRUE(f.caught_up(b));
  EXPECT_EQ(pt::FeedServer::query_param(b.requests().front().target, "cursor"), "");
  EXPECT_EQ(f.orders(), 3);
}

TEST(OrderFeed, ThePageIsRefusedWhenTheStoredCursorMoved) {
  FeedStation f;
  ps::OrderChanges changes(f.st.db, f.st.book, f.st.outbox, "pack-01", "site-1");
  ASSERT_TRUE(changes.position("http://bo/feed"));
  ps::FeedPage page;
  page.cursor = "c1";
  ps::FeedOrder entry;
  entry.order = *ps::order_from_json(order("M-1"));
  entry.version = 1;
  page.orders.push_back(entry);
  ASSERT_TRUE(changes.apply(page, "http://bo/feed", "", ""));
  // The same page again, as if asked for with the old cursor: refused, nothing applied twice.
  auto again = changes.apply(page, "http://bo/feed", "", "");
  EXPECT_FALSE(again);
  EXPECT_EQ(f.st.count("SELECT pages FROM order_feed"), 1);
}

// --- TLS and the token ---------------------------------------------------------------------

class OrderFeedTls : public ::testing::Test {
 protected:
  pt::TempDir certs;
  pt::TestPki pki{certs.path()};
};

TEST_F(OrderFeedTls, TheServerIsVerifiedNamedWithSniAndGivenTheToken) {
  pt::FeedServer server(pki.server);
  server.require_token("feed-token-1");
  server.add_order(order("T-1"), 1);
  pt::write_file(certs / "token", "feed-token-1\n");
  FeedStation f;
  auto config = fast_feed(server.url());
  config.ca_file = pki.ca_cert;
  config.bearer_token_file = certs / "token";
  f.start(config);
  ASSERT_TRUE(f.caught_up(server)) << f.feed->status().last_error;
  EXPECT_EQ(f.status("T-1"), "ready");
  const auto names = server.http().server_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "localhost");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "Bearer feed-token-1");
}

TEST_F(OrderFeedTls, AServerOfAnotherCaIsRefusedAndGetsNoRequest) {
  pt::FeedServer server(pki.server);
  server.add_order(order("T-1"), 1);
  FeedStation f;
  auto config = fast_feed(server.url());
  config.ca_file = pki.other_ca_cert;
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.errors("tls") >= 2; }));
  EXPECT_NE(f.feed->status().last_error.find("certificate refused"), std::string::npos)
      << f.feed->status().last_error;
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(f.orders(), 0);
  EXPECT_EQ(f.cursor(), "");
}

TEST_F(OrderFeedTls, AWrongTokenIsAnErrorAndNothingIsApplied) {
  pt::FeedServer server;
  server.require_token("right");
  server.add_order(order("T-1"), 1);
  pt::write_file(certs / "token", "wrong\n");
  FeedStation f;
  auto config = fast_feed(server.url());
  config.bearer_token_file = certs / "token";
  f.start(config);
  ASSERT_TRUE(f.run_until([&] { return f.errors("http_401") >= 2; }));
  EXPECT_EQ(f.orders(), 0);
}

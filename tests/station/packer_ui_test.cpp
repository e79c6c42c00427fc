// The packer UI's WebSocket as a back-office developer sees it: the real station (in process,
// on its own io_context thread) with a real SQLite file, a tcp-listen scanner and a file
// printer, and a real WebSocket client on loopback. The page itself is tested in a browser
// (tests/browser/).
#include "station/ui/packer_ui.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "station/daemon/station_app.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

namespace {

const char* kOrders = R"json({"orders": [
  {"id": "UI-1", "customer": {"name": "山田 花子", "locale": "ja"},
   "lines": [{"sku": "TEA", "name": "Sencha", "qty": 2, "barcodes": ["4901234567894"],
              "image": "data:image/png;base64,iVBORw0KGgo="},
             {"sku": "CUP", "name": "Yunomi", "qty": 1, "barcodes": ["4909876543214"],
              "image": "javascript:alert(1)"}]},
  {"id": "UI-2", "lines": [{"sku": "WHISK", "name": "Whisk", "qty": 1,
                            "barcodes": ["4909876500019"]}]}
]})json";

class Station {
 public:
  Station() {
    pt::write_file(dir / "orders.json", kOrders);
    pt::write_file(dir / "station.toml",
                   "[station]\nid = \"ui-test\"\nsite = \"lab\"\nstate_dir = \"state\"\n"
                   "[ui]\nlisten = \"127.0.0.1:" +
                       std::to_string(ui_port) +
                       "\"\nlocale = \"ja\"\n"
                       "[orders]\nfile = \"orders.json\"\n"
                       "[[scanner]]\nname = \"hand\"\ntype = \"tcp-listen\"\naddress = "
                       "\"127.0.0.1:" +
                       std::to_string(scanner_port) +
                       "\"\n[[printer]]\nname = \"label\"\ntype = \"file\"\n");
    auto loaded = ps::load_config_file(dir / "station.toml");
    EXPECT_TRUE(loaded.ok()) << (loaded.problems.empty() ? "" : loaded.problems[0].to_string());
    app = std::make_unique<ps::StationApp>(io, loaded.config);
    auto started = app->start();
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
    thread = std::thread([this] { io.run(); });
  }
  ~Station() {
    asio::post(io, [this] {
      app->stop();
      io.stop();
    });
    thread.join();
  }

  pt::TempDir dir;
  std::uint16_t ui_port = pt::free_port();
  std::uint16_t scanner_port = pt::free_port();
  asio::io_context io;
  std::unique_ptr<ps::StationApp> app;
  std::thread thread;
};

// A page's connection. Every read and the handshake have a time-out, so that a missing message
// fails the test instead of hanging it.
class Page {
 public:
  explicit Page(std::uint16_t port, const std::string& origin = "") : ws(io) {
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::get_lowest_layer(ws).socket().connect({asio::ip::make_address("127.0.0.1"), port});
    if (!origin.empty()) {
      ws.set_option(websocket::stream_base::decorator(
          [origin](websocket::request_type& req) { req.set(beast::http::field::origin, origin); }));
    }
    ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), "/ws",
                       [this](beast::error_code e) { ec = e; });
    io.restart();
    io.run();
  }

  // The next message, or an error (a time-out after 10 s, the connection closed).
  beast::error_code read(std::string& text) {
    beast::flat_buffer buffer;
    beast::error_code result;
    beast::get_lowest_layer(ws).expires_after(10s);
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) { result = e; });
    io.restart();
    io.run();
    text = beast::buffers_to_string(buffer.data());
    return result;
  }

  void send(const std::string& text) { ws.write(asio::buffer(text)); }

  json::object next() {
    std::string text;
    if (auto e = read(text)) {
      throw std::runtime_error("no message from the station: " + e.message());
    }
    return json::parse(text).as_object();
  }

  // The next message of `type`, passing over greetings, status and print updates.
  json::object next(const std::string& type) {
    for (int i = 0; i < 50; ++i) {
      auto m = next();
      if (m.at("type").as_string() == type) {
        return m;
      }
      // Greetings, status and print updates come and go; anything else is out of place.
      const auto t = m.at("type").as_string();
      if (t != "hello" && t != "order" && t != "status" && t != "prints") {
        ADD_FAILURE() << "expected a '" << type << "' message, got " << json::serialize(m);
        return m;
      }
    }
    ADD_FAILURE() << "no '" << type << "' message";
    return {};
  }

  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws;
  websocket::response_type response;
  beast::error_code ec;
};

std::string scan(const std::string& data, const std::string& ref) {
  return json::serialize(json::object{{"type", "scan"}, {"data", data}, {"ref", ref}});
}

}  // namespace

TEST(PackerUi, APageIsGreetedWithTheStationItsStateAndItsStatus) {
  Station st;
  Page page(st.ui_port);
  ASSERT_FALSE(page.ec) << page.ec.message();
  auto hello = page.next();
  EXPECT_EQ(hello.at("type").as_string(), "hello");
  EXPECT_EQ(hello.at("protocol").as_int64(), 1);
  EXPECT_EQ(hello.at("station").at("id").as_string(), "ui-test");
  EXPECT_EQ(hello.at("locale").as_string(), "ja");
  EXPECT_EQ(hello.at("bench").at("command_prefix").as_string(), "CMD-");
  EXPECT_TRUE(hello.at("pack").at("order").is_null());
  EXPECT_EQ(hello.at("pack").at("state").as_string(), "idle");
  EXPECT_TRUE(hello.at("last").is_null());
  auto order = page.next();
  EXPECT_EQ(order.at("type").as_string(), "order");
  EXPECT_TRUE(order.at("order").is_null());
  auto status = page.next();
  EXPECT_EQ(status.at("type").as_string(), "status");
  EXPECT_EQ(status.at("station").as_string(), "ui-test");
  EXPECT_FALSE(status.at("network").at("configured").as_bool());
  EXPECT_EQ(status.at("outbox").at("depth").as_int64(), 0);
  ASSERT_EQ(status.at("printers").as_array().size(), 1u);
  EXPECT_EQ(status.at("printers").as_array()[0].at("state").as_string(), "ready");
  ASSERT_EQ(status.at("scanners").as_array().size(), 1u);
  EXPECT_EQ(status.at("scanners").as_array()[0].at("name").as_string(), "hand");
  EXPECT_TRUE(status.at("cameras").as_array().empty());
}

TEST(PackerUi, ScansFromThePageAndFromScannersReachEveryPageWithTheirVerdicts) {
  Station st;
  Page page(st.ui_port);
  Page other(st.ui_port);
  ASSERT_FALSE(page.ec || other.ec);
  page.next("status");
  other.next("status");

  page.send(scan("UI-1", "p-1"));
  auto order = page.next("order");
  EXPECT_EQ(order.at("order").at("id").as_string(), "UI-1");
  EXPECT_EQ(order.at("order").at("customer").at("name").as_string(), "山田 花子");
  const auto& lines = order.at("order").at("lines").as_array();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("image").as_string(), "data:image/png;base64,iVBORw0KGgo=");
  EXPECT_FALSE(lines[1].as_object().contains("image"));  // not a picture the page may load
  auto v = page.next("verdict");
  EXPECT_EQ(v.at("verdict").as_string(), "order_opened");
  EXPECT_EQ(v.at("ref").as_string(), "p-1");
  EXPECT_EQ(v.at("pack").at("order").as_string(), "UI-1");
  EXPECT_EQ(v.at("pack").at("state").as_string(), "order_open");
  EXPECT_GE(v.at("station_ms").as_double(), 0.0);
  // The other page hears it too, without a reference of its own.
  other.next("order");
  EXPECT_EQ(other.next("verdict").at("verdict").as_string(), "order_opened");

  // A wrong item names the product and its order.
  page.send(scan("4909876500019", "p-2"));
  v = page.next("verdict");
  EXPECT_EQ(v.at("verdict").as_string(), "wrong_item");
  EXPECT_EQ(v.at("item").at("name").as_string(), "Whisk");
  EXPECT_EQ(v.at("item").at("order").as_string(), "UI-2");

  // A hardware scanner's scan is sent to the pages with no reference.
  ASSERT_TRUE(pt::tcp_send(st.scanner_port, "4901234567894\n"));
  v = page.next("verdict");
  EXPECT_EQ(v.at("verdict").as_string(), "item_accepted");
  EXPECT_TRUE(v.at("ref").is_null());
  EXPECT_EQ(v.at("pack").at("scanned").as_int64(), 1);
  EXPECT_EQ(v.at("pack").at("state").as_string(), "scanning");

  // POST /api/scans too.
  auto posted = pt::http_request(st.ui_port, "POST", "/api/scans", R"({"data": "4901234567894"})",
                                 "application/json");
  ASSERT_TRUE(posted && posted->first == 200);
  EXPECT_EQ(page.next("verdict").at("verdict").as_string(), "item_accepted");
  // Taken back and scanned again: the box's count below is not fooled by the undo.
  page.send(scan("CMD-UNDO", "p-u"));
  EXPECT_EQ(page.next("verdict").at("verdict").as_string(), "scan_undone");
  page.send(scan("4901234567894", "p-again"));
  EXPECT_EQ(page.next("verdict").at("verdict").as_string(), "item_accepted");

  // The last item: the completion says what was printed.
  page.send(scan("4909876543214", "p-3"));
  page.next("order");  // no order open any more
  v = page.next("verdict");
  ASSERT_EQ(v.at("verdict").as_string(), "order_complete");
  EXPECT_EQ(v.at("pack").at("state").as_string(), "closed");  // complete, and committed
  const auto& c = v.at("completion").as_object();
  EXPECT_EQ(c.at("order").as_string(), "UI-1");
  EXPECT_EQ(c.at("items").as_int64(), 3);
  EXPECT_FALSE(c.at("short").as_bool());
  ASSERT_EQ(c.at("boxes").as_array().size(), 1u);
  EXPECT_EQ(c.at("boxes").as_array()[0].at("items").as_int64(), 3);
  ASSERT_EQ(c.at("prints").as_array().size(), 1u);
  EXPECT_EQ(c.at("prints").as_array()[0].at("role").as_string(), "shipping-label");
  EXPECT_EQ(c.at("prints").as_array()[0].at("printer").as_string(), "label");
  EXPECT_FALSE(c.contains("discount"));  // no discount codes are issued yet
  // The job reaches the file printer, and the order.packed event waits in the outbox: the page
  // is told both.
  bool printed = c.at("prints").as_array()[0].at("state").as_string() == "printed";
  bool counted = false;
  for (int i = 0; i < 20 && !(printed && counted); ++i) {
    auto m = page.next();
    if (m.at("type").as_string() == "prints") {
      printed = m.at("prints").as_array()[0].at("state").as_string() == "printed";
    } else if (m.at("type").as_string() == "status") {
      counted = m.at("outbox").at("depth").as_int64() == 1;
    }
  }
  EXPECT_TRUE(printed);
  EXPECT_TRUE(counted);

  // A page that connects now is shown the completion it missed.
  Page late(st.ui_port);
  auto hello = late.next("hello");
  EXPECT_EQ(hello.at("last").at("verdict").as_string(), "order_complete");
}

TEST(PackerUi, ACompletionCarriesWhatOtherPartsOfTheStationAdd) {
  Station st;
  asio::post(st.io, [&] {
    st.app->ui()->add_completion_extras([](const std::string& order, json::object& c) {
      c["discount"] = json::object{{"code", "CODE-" + order}};
    });
  });
  Page page(st.ui_port);
  page.next("status");
  page.send(scan("UI-2", "a"));
  page.next("verdict");
  page.send(scan("4909876500019", "b"));
  auto v = page.next("verdict");
  ASSERT_EQ(v.at("verdict").as_string(), "order_complete");
  EXPECT_EQ(v.at("completion").at("discount").at("code").as_string(), "CODE-UI-2");
}

TEST(PackerUi, WhatThePageCannotSayIsAnsweredWithAnErrorAndTheConnectionStays) {
  Station st;
  Page page(st.ui_port);
  page.next("status");
  page.send("not json");
  EXPECT_EQ(page.next("error").at("message").as_string(), "expected a JSON object with a \"type\"");
  page.send(R"({"type": "dance", "ref": "r1"})");
  auto e = page.next("error");
  EXPECT_EQ(e.at("ref").as_string(), "r1");
  EXPECT_EQ(e.at("message").as_string(), "unknown message type 'dance'");
  page.send(R"({"type": "scan", "ref": "r2"})");
  EXPECT_EQ(page.next("error").at("ref").as_string(), "r2");
  page.send(R"({"type": "scan", "data": "x", "ref": 7})");
  EXPECT_NE(page.next("error").at("message").as_string().find("ref"), std::string::npos);
  page.send(R"({"type": "ping", "ref": "r3"})");
  EXPECT_EQ(page.next("pong").at("ref").as_string(), "r3");
  // A scan the scanner rules refuse is a verdict, recorded, like a scanner's garbage.
  page.send(scan("bad\x01scan", "r4"));
  auto v = page.next("verdict");
  EXPECT_EQ(v.at("verdict").as_string(), "rejected_scan");
  EXPECT_EQ(v.at("ref").as_string(), "r4");
}

TEST(PackerUi, APageOfAnotherOriginIsRefused) {
  Station st;
  Page foreign(st.ui_port, "http://evil.example");
  ASSERT_TRUE(foreign.ec);
  EXPECT_EQ(foreign.response.result_int(), 403);
  Page own(st.ui_port, "http://127.0.0.1:" + std::to_string(st.ui_port));
  ASSERT_FALSE(own.ec) << own.ec.message();
  EXPECT_EQ(own.next().at("type").as_string(), "hello");
  // Same rule as POST /api/scans.
  Page wrong_host(st.ui_port, "http://localhost:" + std::to_string(st.ui_port));
  EXPECT_TRUE(wrong_host.ec);
}

TEST(PackerUi, ThePageAndItsAssetsAreServedWithRevalidation) {
  Station st;
  auto page = pt::http_get(st.ui_port, "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->first, 200);
  EXPECT_NE(page->second.find("<script type=\"module\" src=\"/app.js\">"), std::string::npos);
  for (const char* asset : {"/app.js", "/app.css", "/strings.js", "/index.html"}) {
    auto r = pt::http_get(st.ui_port, asset);
    ASSERT_TRUE(r) << asset;
    EXPECT_EQ(r->first, 200) << asset;
    EXPECT_GT(r->second.size(), 100u) << asset;
  }
  EXPECT_EQ(pt::http_get(st.ui_port, "/nothing.js")->first, 404);
  EXPECT_EQ(pt::http_request(st.ui_port, "POST", "/app.js", "x", "text/plain")->first, 405);
}

TEST(PackerUi, StoppingTheStationClosesThePages) {
  auto st = std::make_unique<Station>();
  Page page(st->ui_port);
  page.next("status");
  st.reset();
  std::string text;
  const auto ec = page.read(text);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset ||
              ec == websocket::error::closed)
      << ec.message();
}

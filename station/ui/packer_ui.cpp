#include "station/ui/packer_ui.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <vector>

#include "station/config/config.hpp"
#include "station/gs1/gs1.hpp"
#include "station/ui/ui_assets.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;

namespace {

constexpr int kProtocol = 1;
// A page that falls this far behind (a frozen tab) is dropped; it reconnects and starts afresh.
constexpr std::size_t kMaxQueuedMessages = 256;
// What the page sends is small: a scan, a ping.
constexpr std::size_t kMaxMessageBytes = 16 * 1024;
constexpr auto kStatusInterval = std::chrono::seconds(1);

using Message = std::shared_ptr<const std::string>;

Message message(const json::object& o) {
  return std::make_shared<const std::string>(json::serialize(o));
}

// Only pictures the page can show safely and without the station serving them: inline data or
// the shop's own web address. Anything else is left out (the line shows without a picture).
std::optional<std::string> usable_image(const json::value* v) {
  if (!v || !v->is_string()) {
    return std::nullopt;
  }
  const std::string s(v->as_string());
  if (s.size() <= 2 * 1024 * 1024 &&
      (s.starts_with("data:image/") || s.starts_with("https://") || s.starts_with("http://"))) {
    return s;
  }
  return std::nullopt;
}

}  // namespace

struct PackerUi::State : std::enable_shared_from_this<State> {
  struct Client {
    explicit Client(beast::tcp_stream s, std::uint64_t n) : ws(std::move(s)), id(n) {}
    websocket::stream<beast::tcp_stream> ws;
    std::uint64_t id;
    std::deque<Message> queue;
    bool writing = false;
    bool open = false;
  };

  State(asio::any_io_executor e, PackerUiContext c) : ex(e), ctx(std::move(c)), timer(e) {}

  asio::any_io_executor ex;
  PackerUiContext ctx;
  asio::steady_timer timer;
  std::vector<std::shared_ptr<Client>> clients;
  std::vector<CompletionExtras> extras;
  bool ticking = false;
  bool stopped = false;
  std::uint64_t next_client = 0;
  std::uint64_t seq = 0;
  // The page scan being decided right now: its verdict carries the page's reference.
  std::optional<std::string> deciding_ref;

  std::string status_sent;    // the last status broadcast, serialised
  std::string order_sent;     // the open order whose details the pages have ("" = none)
  Message order_message;      // those details, for pages that connect later
  json::object last_verdict;  // for a page that reloads: the screen it had
  json::array notices;        // the back office's changes held for orders on the bench
  // The last completed order, while its print jobs are still going out.
  struct {
    std::string order;
    std::string opened_at;
    std::string prints;  // serialised, to tell a change
    bool settled = true;
  } completion;

  // --- sending --------------------------------------------------------------------------------

  void send(const std::shared_ptr<Client>& c, Message m) {
    if (!c->open) {
      return;
    }
    if (c->queue.size() >= kMaxQueuedMessages) {
      spdlog::warn("ui: page {} is not reading its messages; closing it", c->id);
      drop(c);
      return;
    }
    c->queue.push_back(std::move(m));
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(ex, write_loop(shared_from_this(), c), asio::detached);
    }
  }

  void broadcast(const Message& m) {
    // send() may drop a client: walk a copy.
    const auto all = clients;
    for (const auto& c : all) {
      send(c, m);
    }
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<State> self, std::shared_ptr<Client> c) {
    try {
      while (c->open && !c->queue.empty()) {
        const Message m = c->queue.front();
        co_await c->ws.async_write(asio::buffer(*m), asio::use_awaitable);
        if (!c->open) {
          break;  // dropped while the write was in flight: its queue is gone
        }
        c->queue.pop_front();
      }
    } catch (const std::exception&) {
      self->drop(c);
    }
    c->writing = false;
  }

  void drop(std::shared_ptr<Client> c) {
    if (!c->open) {
      return;
    }
    c->open = false;
    c->queue.clear();
    std::erase(clients, c);
    beast::error_code ignored;
    beast::get_lowest_layer(c->ws).socket().close(ignored);
  }

  // --- what the pages are told ----------------------------------------------------------------

  json::object bench() const {
    const auto& r = ctx.rules;
    json::array reasons;
    for (const auto& code : r.reason_codes) {
      reasons.push_back(json::value(code));
    }
    return json::object{{"packer_badge_prefix", r.packer_badge_prefix},
                        {"command_prefix", r.command_prefix},
                        {"quantity_prefix", r.quantity_prefix},
                        {"pin_prefix", r.pin_prefix},
                        {"reason_prefix", r.reason_prefix},
                        {"reason_codes", std::move(reasons)},
                        {"supervisors", !r.supervisors.empty()},
                        {"require_packer", r.require_packer}};
  }

  json::object status() {
    json::object s = ctx.status ? ctx.status() : json::object{};
    s["type"] = "status";
    s["station"] = ctx.identity.station_id;
    const auto& packer = ctx.pack.packer();
    s["packer"] = packer.empty() ? json::value() : json::value(packer);
    return s;
  }

  // The open order's details that do not change while it is packed: customer, names, pictures.
  json::object order_details(const std::string& id) {
    json::object msg{{"type", "order"}, {"order", nullptr}};
    if (id.empty()) {
      return msg;
    }
    auto found = ctx.db.read([&] { return ctx.orders.find(id); });
    if (!found || !*found) {
      return msg;
    }
    const Order& order = (*found)->first;
    json::array lines;
    const json::array* doc_lines = nullptr;
    if (auto it = order.doc.find("lines"); it != order.doc.end() && it->value().is_array()) {
      doc_lines = &it->value().as_array();
    }
    for (std::size_t i = 0; i < order.lines.size(); ++i) {
      const auto& l = order.lines[i];
      json::object line{{"sku", l.sku}, {"name", l.name}, {"qty", l.qty}};
      if (doc_lines && i < doc_lines->size() && (*doc_lines)[i].is_object()) {
        if (auto image = usable_image((*doc_lines)[i].as_object().if_contains("image"))) {
          line["image"] = *image;
        }
      }
      lines.push_back(std::move(line));
    }
    msg["order"] =
        json::object{{"id", order.id},
                     {"customer", json::object{{"name", order.customer.name},
                                               {"locale", order.customer.locale},
                                               {"first_order", order.customer.first_order}}},
                     {"lines", std::move(lines)}};
    return msg;
  }

  // Sends the open order's details when the open order changed.
  void sync_order() {
    const auto& open = ctx.pack.current();
    const std::string id = open ? open->order_id : std::string();
    if (order_message && id == order_sent) {
      return;
    }
    order_sent = id;
    order_message = message(order_details(id));
    broadcast(order_message);
  }

  // The product a wrong item is, from the order it belongs to.
  json::value wrong_item(const ScanOutcome& o) {
    std::string key;
    if (auto g = gs1::gtin14(o.scan)) {
      key = *g;
    } else if (auto r = gs1::read(o.scan, o.symbology); r.gtin14) {
      key = *r.gtin14;
    } else {
      key = barcode_key(o.scan);
    }
    auto found = ctx.db.read([&]() -> json::value {
      auto order_id = ctx.orders.order_with_barcode(key);
      if (!order_id) {
        return nullptr;
      }
      auto order = ctx.orders.find(*order_id);
      if (!order) {
        return nullptr;
      }
      for (const auto& l : order->first.lines) {
        for (const auto& code : l.barcodes) {
          if (barcode_key(code) == key) {
            return json::object{{"sku", l.sku}, {"name", l.name}, {"order", *order_id}};
          }
        }
      }
      return nullptr;
    });
    return found ? *found : json::value();
  }

  // What the order's completion printed (every job queued since its pack began) and how far
  // each job has got.
  json::array prints(const std::string& order_id, const std::string& since) {
    auto rows = ctx.db.read([&] {
      json::array out;
      auto sel = ctx.db.statement(
          "SELECT id, role, printer, name, state, attempts, last_error FROM print_jobs "
          "WHERE order_id = ?1 AND created_at >= ?2 ORDER BY id");
      sel.bind_all(order_id, since);
      while (sel.step()) {
        out.push_back(json::object{
            {"job", sel.column_int(0)},
            {"role", sel.column_text(1)},
            {"printer", sel.column_text(2)},
            {"name", sel.column_text(3)},
            {"state", sel.column_text(4)},
            {"attempts", sel.column_int(5)},
            {"error", sel.column_optional_text(6) ? json::value(*sel.column_optional_text(6))
                                                  : json::value()}});
      }
      return out;
    });
    return rows ? std::move(*rows) : json::array{};
  }

  json::object completion_of(const ScanOutcome& o) {
    json::object c{{"order", o.order_id},
                   {"items", o.scanned},
                   {"expected", o.expected},
                   {"short", o.verdict == Verdict::order_closed_short}};
    auto session = ctx.db.read([&] {
      json::object s;
      auto sel = ctx.db.statement(
          "SELECT id, opened_at, exception FROM pack_sessions WHERE order_id = ?1 "
          "ORDER BY id DESC LIMIT 1");
      sel.bind_all(o.order_id);
      if (sel.step()) {
        s["opened_at"] = sel.column_text(1);
        if (auto e = sel.column_optional_text(2)) {
          boost::system::error_code ec;
          auto v = json::parse(*e, ec);
          if (!ec && v.is_object()) {
            s["exception"] = std::move(v);
          }
        }
      }
      json::array boxes;
      auto per_box = ctx.db.statement(
          // The scans that count items, less what undos took back (rows of negative qty), in
          // the sessions not cancelled: scans_counted has them by order.
          "SELECT s.box, sum(s.qty) FROM scans s JOIN pack_sessions p ON p.id = s.session_id "
          "WHERE s.order_id = ?1 AND s.qty != 0 AND s.undone = 0 AND p.state != 'cancelled' "
          "GROUP BY s.box HAVING sum(s.qty) > 0 ORDER BY s.box");
      per_box.bind_all(o.order_id);
      while (per_box.step()) {
        boxes.push_back(
            json::object{{"box", per_box.column_int(0)}, {"items", per_box.column_int(1)}});
      }
      s["boxes"] = std::move(boxes);
      return s;
    });
    std::string opened_at;
    if (session) {
      if (auto it = session->find("opened_at"); it != session->end()) {
        opened_at = std::string(it->value().as_string());
      }
      if (auto it = session->find("exception"); it != session->end()) {
        c["exception"] = it->value();
      }
      c["boxes"] = (*session)["boxes"];
    }
    auto jobs = prints(o.order_id, opened_at);
    completion.order = o.order_id;
    completion.opened_at = opened_at;
    completion.prints = json::serialize(jobs);
    completion.settled = all_printed(jobs);
    c["prints"] = std::move(jobs);
    for (const auto& extra : extras) {
      extra(o.order_id, c);
    }
    return c;
  }

  static bool all_printed(const json::array& jobs) {
    for (const auto& j : jobs) {
      if (j.as_object().at("state").as_string() != "printed") {
        return false;
      }
    }
    return true;
  }

  json::object hello() {
    json::array locales;
    for (const auto& l : ui_locales()) {
      locales.push_back(json::value(l));
    }
    return json::object{
        {"type", "hello"},
        {"protocol", kProtocol},
        {"version", PACKBENCH_VERSION},
        {"station", json::object{{"id", ctx.identity.station_id}, {"site", ctx.identity.site}}},
        {"locale", ctx.locale},
        {"locales", std::move(locales)},
        {"bench", bench()},
        {"pack", ctx.pack.snapshot()},
        {"last", last_verdict.empty() ? json::value() : json::value(last_verdict)},
        {"notices", notices}};
  }

  void verdict(const ScanOutcome& o) {
    sync_order();
    json::object m = o.to_json();
    m["type"] = "verdict";
    m["seq"] = ++seq;
    m["ref"] = deciding_ref ? json::value(*deciding_ref) : json::value();
    if (o.verdict == Verdict::wrong_item) {
      m["item"] = wrong_item(o);
    }
    m["pack"] = ctx.pack.snapshot();
    if (o.verdict == Verdict::order_complete || o.verdict == Verdict::order_closed_short) {
      m["completion"] = completion_of(o);
    }
    // From the scan reaching the station to its verdict leaving for the pages.
    m["station_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                o.received_mono)
                          .count();
    broadcast(message(m));
    last_verdict = std::move(m);
    // Outbox depth and the packer change with verdicts: say so right after the verdict has
    // gone out, not at the next tick, and not before it.
    asio::post(ex, [self = shared_from_this()] {
      if (!self->stopped) {
        self->push_status();
      }
    });
  }

  void push_status() {
    if (clients.empty()) {
      return;
    }
    const auto s = status();
    std::string text = json::serialize(s);
    if (text != status_sent) {
      status_sent = std::move(text);
      broadcast(std::make_shared<const std::string>(status_sent));
    }
  }

  void push_prints() {
    if (completion.settled || completion.order.empty()) {
      return;
    }
    auto jobs = prints(completion.order, completion.opened_at);
    std::string text = json::serialize(jobs);
    if (text == completion.prints) {
      return;
    }
    completion.prints = text;
    completion.settled = all_printed(jobs);
    if (auto c = last_verdict.if_contains("completion");
        c && c->is_object() && c->as_object()["order"] == json::value(completion.order)) {
      c->as_object()["prints"] = jobs;
    }
    broadcast(message(json::object{
        {"type", "prints"}, {"order", completion.order}, {"prints", std::move(jobs)}}));
  }

  // While any page is connected: status changes (a printer out of paper, the network gone, the
  // outbox growing) and print jobs finishing reach the pages within a second.
  void start_ticking() {
    if (ticking || stopped) {
      return;
    }
    ticking = true;
    asio::co_spawn(ex, tick(shared_from_this()), asio::detached);
  }

  static asio::awaitable<void> tick(std::shared_ptr<State> self) {
    while (!self->stopped && !self->clients.empty()) {
      self->timer.expires_after(kStatusInterval);
      co_await self->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (self->stopped) {
        break;
      }
      self->push_status();
      self->push_prints();
    }
    self->ticking = false;
  }

  // --- what the pages send --------------------------------------------------------------------

  void error(const std::shared_ptr<Client>& c, const json::value& ref, std::string text) {
    send(c, message(json::object{{"type", "error"}, {"ref", ref}, {"message", std::move(text)}}));
  }

  void handle(const std::shared_ptr<Client>& c, std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      error(c, nullptr, "expected a JSON object with a \"type\"");
      return;
    }
    auto& o = v.as_object();
    const json::value ref = o.contains("ref") ? o.at("ref") : json::value();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_string()) {
      error(c, ref, "expected a JSON object with a \"type\"");
      return;
    }
    if (type->as_string() == "ping") {
      send(c, message(json::object{{"type", "pong"}, {"ref", ref}}));
      return;
    }
    if (type->as_string() != "scan") {
      error(c, ref, "unknown message type '" + std::string(type->as_string()) + "'");
      return;
    }
    const auto* data = o.if_contains("data");
    if (!data || !data->is_string()) {
      error(c, ref, "a scan needs \"data\": the scanned text");
      return;
    }
    if (!ref.is_null() && (!ref.is_string() || ref.as_string().size() > 64)) {
      error(c, nullptr, "\"ref\" must be a string of at most 64 characters");
      return;
    }
    deciding_ref = ref.is_string() ? std::optional<std::string>(ref.as_string()) : std::nullopt;
    auto outcome = ctx.submit("ui", std::string_view(data->as_string()));
    deciding_ref.reset();
    if (!outcome) {
      // A store error was already announced to every page as not_recorded; a stopping station
      // decided nothing.
      error(c, ref, outcome.error().message);
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<State> self, std::shared_ptr<Client> c,
                                       HttpRequest req) {
    try {
      c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      c->ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "packbench-station/" PACKBENCH_VERSION);
      }));
      c->ws.read_message_max(kMaxMessageBytes);
      c->ws.text(true);
      co_await c->ws.async_accept(req, asio::use_awaitable);
      if (self->stopped) {
        co_return;
      }
      c->open = true;
      self->clients.push_back(c);
      // What a page needs to paint at once: who we are, the open order, the status.
      if (!self->order_message) {
        const auto& open = self->ctx.pack.current();
        self->order_sent = open ? open->order_id : std::string();
        self->order_message = message(self->order_details(self->order_sent));
      }
      self->send(c, message(self->hello()));
      self->send(c, self->order_message);
      auto s = self->status();
      self->status_sent = json::serialize(s);
      self->send(c, std::make_shared<const std::string>(self->status_sent));
      self->start_ticking();

      beast::flat_buffer buffer;
      for (;;) {
        co_await c->ws.async_read(buffer, asio::use_awaitable);
        if (self->stopped || !c->open) {
          break;
        }
        self->handle(c, beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
      }
    } catch (const boost::system::system_error&) {
      // Closed by the page, the network or stop(): the page reconnects by itself.
    } catch (const std::exception& e) {
      spdlog::error("ui: page {}: {}; closing its connection", c->id, e.what());
    }
    self->drop(c);
  }
};

PackerUi::PackerUi(asio::any_io_executor ex, PackerUiContext context)
    : state_(std::make_shared<State>(std::move(ex), std::move(context))) {}

PackerUi::~PackerUi() {
  stop();
}

std::size_t PackerUi::clients() const {
  return state_->clients.size();
}

void PackerUi::add_completion_extras(CompletionExtras extras) {
  state_->extras.push_back(std::move(extras));
}

void PackerUi::on_verdict(const ScanOutcome& outcome) {
  if (state_->stopped) {
    return;
  }
  state_->verdict(outcome);
}

void PackerUi::set_notices(json::array notices) {
  if (state_->stopped || notices == state_->notices) {
    return;
  }
  state_->notices = std::move(notices);
  state_->broadcast(message(json::object{{"type", "notices"}, {"notices", state_->notices}}));
}

void PackerUi::stop() {
  if (state_->stopped) {
    return;
  }
  state_->stopped = true;
  state_->timer.cancel();
  const auto all = state_->clients;
  for (const auto& c : all) {
    state_->drop(c);
  }
}

WebSocketRoute PackerUi::websocket() {
  std::weak_ptr<State> weak = state_;
  WebSocketRoute route;
  route.check = [](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (!same_origin(req)) {
      spdlog::warn("ui: refused a WebSocket from the page at {}",
                   std::string(req[http::field::origin]));
      return make_response(req, http::status::forbidden, "application/json",
                           R"({"error":"the bench is driven from this station's own pages only"})");
    }
    return std::nullopt;
  };
  route.take = [weak](beast::tcp_stream stream, HttpRequest req) {
    auto self = weak.lock();
    if (!self || self->stopped) {
      beast::error_code ignored;
      stream.socket().close(ignored);
      return;
    }
    auto c = std::make_shared<State::Client>(std::move(stream), ++self->next_client);
    asio::co_spawn(self->ex, State::session(self, std::move(c), std::move(req)), asio::detached);
  };
  return route;
}

std::optional<HttpResponse> PackerUi::serve(const HttpRequest& req) {
  const auto target = std::string_view(req.target());
  auto path = target.substr(0, target.find('?'));
  if (path == "/") {
    path = "/index.html";
  }
  const UiAsset* asset = find_ui_asset(path);
  if (!asset) {
    return std::nullopt;
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = make_response(req, http::status::method_not_allowed, "application/json",
                             R"({"error":"method not allowed"})");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  const std::string etag = "\"" + std::string(asset->etag) + "\"";
  HttpResponse res;
  if (req[http::field::if_none_match] == etag) {
    res = make_response(req, http::status::not_modified, std::string(asset->content_type), "");
  } else {
    res = make_response(req, http::status::ok, std::string(asset->content_type),
                        std::string(asset->body));
  }
  // Revalidated on every load (cheap on loopback), so a new station version is never hidden
  // behind an old page.
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, etag);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  // The page runs only its own scripts and styles and talks only to this station; order
  // pictures may be inline or on the shop's servers.
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data: https: http:; connect-src 'self'; "
          "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  if (req.method() == http::verb::head) {
    res.body().clear();
    res.content_length(asset->body.size());
  }
  return res;
}

}  // namespace packbench::station

#include "station/daemon/station_app.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "station/common/clock.hpp"
#include "station/discount/pool.hpp"
#include "station/outbox/transport.hpp"
#include "station/pack/pack_metrics.hpp"

namespace packbench::station {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

// A device's conditions ("paper_out", ...) for the UI to put in the packer's language.
json::array conditions_json(const drivers::DeviceStatus& st) {
  json::array out;
  for (const auto& c : st.conditions) {
    out.emplace_back(c);
  }
  return out;
}

}  // namespace

StationApp::StationApp(boost::asio::io_context& io, Config config)
    : io_(io), config_(std::move(config)) {}

StationApp::~StationApp() {
  stop();
}

void StationApp::add_startup_orders(std::string json, std::string source) {
  startup_orders_.emplace_back(std::move(json), std::move(source));
}

Result<void> StationApp::import_orders(const std::string& text, const std::string& source) {
  auto parsed = parse_orders_json(text);
  // An order id that starts like one of the bench's own codes could never be opened by a scan.
  const auto& pk = config_.pack;
  std::erase_if(parsed.orders, [&](const Order& o) {
    for (const auto* prefix : {&pk.packer_badge_prefix, &pk.command_prefix, &pk.quantity_prefix,
                               &pk.pin_prefix, &pk.reason_prefix}) {
      if (o.id.rfind(*prefix, 0) == 0) {
        parsed.problems.push_back({"order " + o.id, "the id starts with the bench code prefix '" +
                                                        *prefix + "' and could not be scanned"});
        return true;
      }
    }
    return false;
  });
  for (const auto& p : parsed.problems) {
    spdlog::error("orders from {}: {} (order not loaded)", source, p.to_string());
  }
  auto report = orders_->import(parsed.orders, source);
  if (!report) {
    return Error{"cannot store the orders from " + source + ": " + report.error().message};
  }
  for (const auto& k : report->kept) {
    spdlog::warn("orders from {}: {}", source, k);
  }
  spdlog::info("orders from {}: {} added, {} updated, {} unchanged", source, report->added,
               report->updated, report->unchanged);
  return {};
}

Result<void> StationApp::start() {
  spdlog::info("station {} at {} starting, state in {}", config_.station.id, config_.station.site,
               config_.station.state_dir.string());
  auto db = Database::open(config_.database_path());
  if (!db) {
    return db.error();
  }
  db_.emplace(std::move(*db));
  checkpointer_ = std::make_unique<Checkpointer>(
      *db_, 1000, [this](std::function<void()> work) { boost::asio::post(io_, std::move(work)); });
  orders_ = std::make_unique<OrderBook>(*db_);
  outbox_ = std::make_unique<Outbox>(
      *db_, "/stations/" + config_.station.site + "/" + config_.station.id, config_.outbox);
  if (auto r = outbox_->restore(); !r) {
    return Error{"cannot prepare the outbox: " + r.error().message};
  }
  if (!outbox_->refusals().empty()) {
    spdlog::warn(
        "outbox: {} event(s) were refused before the last stop; the alarm goes out once "
        "there is room",
        outbox_->refusals().events);
  }

  if (auto indexed = orders_->index_barcodes(); !indexed) {
    return indexed.error();
  }
  if (!config_.orders.file.empty()) {
    std::ifstream in(config_.orders.file, std::ios::binary);
    if (!in) {
      return Error{"cannot read the orders file " + config_.orders.file.string()};
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (auto r = import_orders(text.str(), config_.orders.file.filename().string()); !r) {
      return r;
    }
  }
  for (const auto& [text, source] : startup_orders_) {
    if (auto r = import_orders(text, source); !r) {
      return r;
    }
  }

  std::vector<PrinterBinding> bindings;
  for (const auto& pc : config_.printers) {
    auto printer = drivers::make_printer(io_.get_executor(), pc.to_options());
    if (!printer) {
      return Error{printer.error().message};
    }
    if (auto a = (*printer)->activate(); !a) {
      return Error{a.error().message};
    }
    bindings.push_back({printer->get(), pc.roles});
    printers_.push_back(std::move(*printer));
  }
  prints_ = std::make_unique<PrintQueue>(io_.get_executor(), *db_, std::move(bindings));
  pack_ = std::make_unique<PackSession>(*db_, *orders_, *outbox_, *prints_,
                                        StationIdentity{config_.station.id, config_.station.site},
                                        config_.pack);
  if (auto r = make_order_printer(); !r) {
    return r;
  }
  pack_->set_order_printer(order_printer_.get());
  if (auto r = pack_->restore(); !r) {
    return r;
  }
  if (const auto& open = pack_->current()) {
    spdlog::info("resuming order {}: {} of {} items scanned, box {}", open->order_id,
                 open->scanned(), open->expected(), open->box);
  }
  prints_->kick();

  if (!config_.sync.url.empty()) {
    auto transport =
        make_transport(io_.get_executor(), config_.sync, config_.station.site, config_.station.id);
    if (!transport) {
      return transport.error();
    }
    sender_ = std::make_unique<OutboxSender>(io_.get_executor(), *outbox_, std::move(*transport),
                                             config_.sync);
    outbox_->set_on_commit([s = sender_.get()] { s->wake(); });
    sender_->start();
  } else {
    spdlog::warn("no [sync] url: events stay in the outbox until one is configured");
  }

  if (!config_.orders.feed_url.empty()) {
    const auto& pk = config_.pack;
    auto feed =
        OrderFeed::create(io_.get_executor(), *db_, *orders_, *outbox_, config_.orders,
                          FeedIdentity{config_.station.id,
                                       config_.station.site,
                                       {pk.packer_badge_prefix, pk.command_prefix,
                                        pk.quantity_prefix, pk.pin_prefix, pk.reason_prefix}});
    if (!feed) {
      return feed.error();
    }
    feed_ = std::move(*feed);
  }

  if (!config_.discounts.settings.pull.url.empty()) {
    auto pull = discount::PoolPull::create(
        io_.get_executor(), *db_, config_.discounts,
        discount::PullIdentity{config_.station.id, config_.station.site, "stationd"});
    if (!pull) {
      return pull.error();
    }
    pool_pull_ = std::move(*pull);
  }

  ui_ = std::make_unique<PackerUi>(
      io_.get_executor(), PackerUiContext{*db_, *orders_, *pack_,
                                          StationIdentity{config_.station.id, config_.station.site},
                                          config_.pack, config_.ui.locale,
                                          [this](std::string_view source, std::string_view text) {
                                            return submit_scan(source, text);
                                          },
                                          [this] { return ui_status(); }});
  ui_->add_completion_extras([this](const std::string& order_id, json::object& completion) {
    add_discount_to_completion(order_id, completion);
  });
  pack_->add_listener([ui = ui_.get()](const ScanOutcome& o) { ui->on_verdict(o); });
  if (feed_) {
    // The packer hears of a cancellation or an edit held for the order on the bench; the held
    // change is settled once the pack session closes, however it closes.
    feed_->add_listener([ui = ui_.get()](const std::vector<HeldChange>& held) {
      json::array notices;
      for (const auto& h : held) {
        notices.push_back(h.to_json());
      }
      ui->set_notices(std::move(notices));
    });
    pack_->add_listener([feed = feed_.get()](const ScanOutcome& o) {
      if (o.verdict == Verdict::order_complete || o.verdict == Verdict::order_closed_short ||
          o.verdict == Verdict::pack_cancelled) {
        feed->pack_closed(o.order_id);
      } else if (o.verdict == Verdict::order_not_found) {
        // An order the back office has just made may be waiting in the feed: look now.
        feed->poll_now();
      }
    });
    feed_->start();
    spdlog::info("orders feed: polling {} every {} s", config_.orders.feed_url,
                 config_.orders.poll_interval.count() / 1000);
  }

  if (pool_pull_) {
    // A completion may take a pool under its mark: the claim goes out after the commit, beside
    // the bench's work, never in its way.
    pack_->add_listener([pull = pool_pull_.get()](const ScanOutcome& o) {
      if (o.verdict == Verdict::order_complete || o.verdict == Verdict::order_closed_short) {
        pull->check();
      }
    });
    pool_pull_->start();
    spdlog::info("discount pools: refilled from {}", config_.discounts.settings.pull.url);
  }

  http_ = std::make_unique<HttpServer>(io_.get_executor(),
                                       [this](const HttpRequest& r) { return handle_http(r); });
  http_->add_websocket("/ws", ui_->websocket());
  if (auto r = http_->listen(config_.ui.listen); !r) {
    return r;
  }
  spdlog::info("packer UI on http://{}/ (health: /healthz)", config_.ui.listen);

  for (const auto& sc : config_.scanners) {
    auto scanner = drivers::make_scanner(io_.get_executor(), sc.to_options());
    if (!scanner) {
      return Error{scanner.error().message};
    }
    if (auto a = (*scanner)->activate([this](drivers::Scan s) { (void)on_scan(std::move(s)); });
        !a) {
      // One scanner that cannot start must not stop the bench: it shows as a fault.
      spdlog::error("{}", a.error().message);
    } else {
      spdlog::info("scanner {} ({}): {}", sc.name, sc.type, (*scanner)->status().detail);
    }
    scanners_.push_back(std::move(*scanner));
  }
  return {};
}

// Every print of an order (shipping labels, insert, discount card, packing slip) through its
// printer's profile, with the campaigns and the signing key.
Result<void> StationApp::make_order_printer() {
  std::optional<discount::SigningKey> key;
  const auto& discounts = config_.discounts;
  if (std::any_of(discounts.campaigns.begin(), discounts.campaigns.end(),
                  [](const discount::Campaign& c) { return c.may_sign(); })) {
    auto loaded = discount::load_signing_key(discounts.settings.key_file);
    if (!loaded) {
      return Error{"discounts: " + loaded.error().message};
    }
    if (loaded->warning) {
      spdlog::warn("discounts: {}", *loaded->warning);
    }
    key = std::move(loaded->key);
  }
  auto targets = print_targets(config_.printers);
  if (config_.shipping.gs1_company_prefix.empty()) {
    spdlog::warn(
        "[shipping] has no gs1_company_prefix: parcels get no SSCC of the station's own (an "
        "order's own \"sscc\" goes on its first box)");
  }
  for (const auto& c : discounts.campaigns) {
    if (c.source == discount::CodeSource::pool) {
      const auto pool = discount::pool_status(*db_, c);
      if (pool.low) {
        spdlog::warn(
            "discount campaign {}: {} codes left (low-water mark {}); import more with "
            "stationctl codes import",
            c.id, pool.remaining, pool.low_water);
      }
    }
  }
  order_printer_ =
      std::make_unique<OrderPrinter>(config_.inserts, config_.shipping, discounts.campaigns,
                                     std::move(key), discounts.settings.station_number,
                                     config_.station.id, config_.station.site, std::move(targets));
  return {};
}

// What the packer's completion screen shows of the order's discount: the code, what it is
// worth, and whether its pool is running low.
void StationApp::add_discount_to_completion(const std::string& order_id, json::object& completion) {
  const auto code = discount::code_for_order(*db_, order_id);
  if (!code) {
    return;
  }
  const discount::Campaign* campaign = order_printer_->campaign(code->campaign);
  json::object d{{"code", code->code},
                 {"url", code->url},
                 {"campaign", code->campaign},
                 {"expires", code->expires ? discount::format_day(*code->expires) : ""}};
  if (campaign) {
    if (const auto* words = campaign->wording_for(config_.ui.locale)) {
      if (auto it = words->find("offer"); it != words->end()) {
        d["description"] = it->second;
      }
    }
    // The page speaks the packer's language, which may not be the station's default.
    json::object descriptions;
    for (const auto& [locale, words] : campaign->wording) {
      if (auto it = words.find("offer"); it != words.end()) {
        descriptions[locale] = it->second;
      }
    }
    d["descriptions"] = std::move(descriptions);
    if (campaign->source == discount::CodeSource::pool) {
      const auto pool = discount::pool_status(*db_, *campaign);
      d["pool_remaining"] = pool.remaining;
      d["pool_low"] = pool.low;
    }
  }
  completion["discount"] = std::move(d);
}

void StationApp::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  for (auto& s : scanners_) {
    s->deactivate();
  }
  if (ui_) {
    ui_->stop();
  }
  if (http_) {
    http_->stop();
  }
  if (sender_) {
    sender_->stop();
  }
  if (feed_) {
    feed_->stop();
  }
  if (pool_pull_) {
    pool_pull_->stop();
  }
  if (prints_) {
    prints_->stop();
  }
  for (auto& p : printers_) {
    p->deactivate();
  }
}

void StationApp::add_verdict_listener(VerdictListener listener) {
  pack_->add_listener(std::move(listener));
}

Result<ScanOutcome> StationApp::submit_scan(std::string_view source, std::string_view text) {
  return on_scan(drivers::scan_from_text(source, text));
}

Result<ScanOutcome> StationApp::on_scan(drivers::Scan scan) {
  if (stopped_) {
    return Error{"the station is stopping"};
  }
  auto outcome = pack_->handle(scan);
  if (!outcome) {
    // Nothing was recorded: the packer must see that the scan did not count.
    spdlog::error("a scan from {} was not recorded: {}", scan.scanner, outcome.error().message);
    return outcome;
  }
  spdlog::log(outcome->accepted() ? spdlog::level::info : spdlog::level::warn,
              "scan '{}' from {}: {}: {}", outcome->scan, scan.scanner, to_string(outcome->verdict),
              outcome->message);
  return outcome;
}

std::string StationApp::metrics() {
  std::string out;
  const std::string st = prometheus_label(config_.station.id);
  if (auto figures = pack_figures(*db_, now_utc())) {
    append_prometheus(out, *figures, config_.station.id);
  }
  out +=
      "# HELP packbench_device_up Whether a device is ready or busy (1) or not (0).\n"
      "# TYPE packbench_device_up gauge\n";
  auto device = [&](const drivers::Device& d, std::string_view kind) {
    const auto state = d.status().state;
    const bool up = state == drivers::DeviceState::ready || state == drivers::DeviceState::busy;
    out += fmt::format("packbench_device_up{{station=\"{}\",kind=\"{}\",name=\"{}\"}} {}\n", st,
                       kind, prometheus_label(d.name()), up ? 1 : 0);
  };
  for (const auto& s : scanners_) {
    device(*s, "scanner");
  }
  for (const auto& p : printers_) {
    device(*p, "printer");
  }
  append_outbox_prometheus(out, *outbox_, st);
  if (sender_) {
    sender_->append_prometheus(out, st);
  }
  if (feed_) {
    feed_->append_prometheus(out, st);
  }
  if (pool_pull_) {
    pool_pull_->append_prometheus(out, st);
  }
  const auto pools = discount_pools();
  if (!pools.empty()) {
    out +=
        "# HELP packbench_discount_pool_remaining Free codes left in a pool campaign.\n"
        "# TYPE packbench_discount_pool_remaining gauge\n";
    for (const auto& p : pools) {
      const auto& o = p.as_object();
      out += fmt::format("packbench_discount_pool_remaining{{station=\"{}\",campaign=\"{}\"}} {}\n",
                         st, prometheus_label(o.at("campaign").as_string()),
                         o.at("remaining").as_int64());
    }
    out +=
        "# HELP packbench_discount_pool_low Whether a pool campaign is under its low-water mark "
        "or empty.\n"
        "# TYPE packbench_discount_pool_low gauge\n";
    for (const auto& p : pools) {
      const auto& o = p.as_object();
      out += fmt::format("packbench_discount_pool_low{{station=\"{}\",campaign=\"{}\"}} {}\n", st,
                         prometheus_label(o.at("campaign").as_string()),
                         o.at("low").as_bool() ? 1 : 0);
    }
  }
  out += fmt::format(
      "# HELP packbench_prints_pending Print jobs not yet delivered to their printer.\n"
      "# TYPE packbench_prints_pending gauge\npackbench_prints_pending{{station=\"{}\"}} {}\n",
      st, prints_->pending_count());
  return out;
}

// POST /api/scans with {"data": "...", "scanner": "ui"} (scanner optional): the verdict comes
// back as JSON once it is committed.
HttpResponse StationApp::post_scan(const HttpRequest& req) {
  if (req.method() != http::verb::post) {
    auto res = make_response(req, http::status::method_not_allowed, "application/json",
                             R"({"error":"POST a scan here"})");
    res.set(http::field::allow, "POST");
    return res;
  }
  // Only JSON, and only from pages this station served: a form or a script on some other site
  // open in the bench's browser cannot post scans (a JSON body needs a CORS preflight, which
  // this server never grants, and a browser names the page's origin).
  if (!req[http::field::content_type].starts_with("application/json")) {
    return make_response(req, http::status::unsupported_media_type, "application/json",
                         R"({"error":"send the scan as application/json"})");
  }
  if (!same_origin(req)) {
    return make_response(req, http::status::forbidden, "application/json",
                         R"({"error":"scans are taken from this station's own pages only"})");
  }
  std::string source = "api";
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("data") ||
      !v.as_object().at("data").is_string()) {
    return make_response(req, http::status::bad_request, "application/json",
                         R"({"error":"expected {\"data\": \"the scan\"}"})");
  }
  const std::string data(v.as_object().at("data").as_string());
  if (auto it = v.as_object().find("scanner");
      it != v.as_object().end() && it->value().is_string()) {
    source = std::string(it->value().as_string());
  }
  auto outcome = submit_scan(source, data);
  if (!outcome) {
    return make_response(req, http::status::service_unavailable, "application/json",
                         json::serialize(json::object{{"error", outcome.error().message}}));
  }
  return make_response(req, http::status::ok, "application/json",
                       json::serialize(outcome->to_json()) + "\n");
}

// Every pool campaign's free codes: the packer's status bar, /healthz and /metrics.
json::array StationApp::discount_pools() {
  json::array pools;
  for (const auto& c : config_.discounts.campaigns) {
    if (c.source != discount::CodeSource::pool) {
      continue;
    }
    const auto pool = discount::pool_status(*db_, c);
    json::object o{{"campaign", c.id},
                   {"name", c.name},
                   {"remaining", pool.remaining},
                   {"low_water", pool.low_water},
                   {"low", pool.low},
                   {"fallback", c.may_sign() ? "signed" : "none"},
                   {"refill", c.refill}};
    // The claim of more codes waiting for the back office, whoever made it (stationd or
    // stationctl codes pull).
    auto claim = db_->read([&] { return discount::pending_claim(*db_, c.id); });
    if (claim && *claim) {
      o["pending_claim"] = json::object{{"id", (*claim)->id},
                                        {"count", (*claim)->count},
                                        {"created_by", (*claim)->created_by},
                                        {"attempts", (*claim)->attempts},
                                        {"last_error", (*claim)->last_error}};
    } else {
      o["pending_claim"] = nullptr;
    }
    pools.push_back(std::move(o));
  }
  return pools;
}

// What the packer UI's status bar shows: the back office's reach (the webhook's state and the
// outbox waiting for it), every printer and scanner, and the cameras (none yet).
json::object StationApp::ui_status() {
  json::object s;
  json::object network{{"configured", !config_.sync.url.empty()}};
  json::value online;
  if (sender_) {
    const auto& st = sender_->status();
    if (st.stopped) {
      online = false;  // the back office said 410: it hears nothing until IT resumes
    } else if (st.online) {
      online = *st.online;
    }
    network["stopped"] = st.stopped;
    network["last_error"] = st.last_error;
    network["last_success"] = st.last_success;
  }
  network["online"] = online;
  s["network"] = std::move(network);
  json::object outbox;
  if (auto d = outbox_->depth()) {
    outbox["depth"] = d->events;
    outbox["bytes"] = d->bytes;
  } else {
    outbox["error"] = d.error().message;
  }
  s["outbox"] = std::move(outbox);
  auto devices = [](const auto& list) {
    json::array out;
    for (const auto& d : list) {
      const auto st = d->status();
      out.push_back(json::object{{"name", d->name()},
                                 {"type", d->type()},
                                 {"state", drivers::to_string(st.state)},
                                 {"detail", st.detail},
                                 {"conditions", conditions_json(st)}});
    }
    return out;
  };
  s["printers"] = devices(printers_);
  s["scanners"] = devices(scanners_);
  // Pools of pre-created codes: the packer sees one running low before it runs out.
  s["discount_pools"] = discount_pools();
  s["cameras"] = json::array{};
  s["prints_pending"] = prints_->pending_count();
  return s;
}

json::object StationApp::health() {
  json::object h;
  bool degraded = false;
  h["version"] = PACKBENCH_VERSION;
  h["station"] = json::object{{"id", config_.station.id}, {"site", config_.station.site}};
  h["uptime_s"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  json::array devices;
  auto add_device = [&](const drivers::Device& d, std::string_view kind) {
    const auto st = d.status();
    if (st.state == drivers::DeviceState::offline || st.state == drivers::DeviceState::fault) {
      degraded = true;
    }
    devices.push_back(json::object{{"name", d.name()},
                                   {"kind", kind},
                                   {"type", d.type()},
                                   {"state", drivers::to_string(st.state)},
                                   {"detail", st.detail},
                                   {"conditions", conditions_json(st)}});
  };
  for (const auto& s : scanners_) {
    add_device(*s, "scanner");
  }
  for (const auto& p : printers_) {
    add_device(*p, "printer");
  }
  h["devices"] = std::move(devices);

  json::object outbox = outbox_to_json(*outbox_);
  if (outbox.contains("error") || outbox_->full()) {
    degraded = true;
  }
  h["outbox"] = std::move(outbox);

  json::object sync;
  if (sender_) {
    sync = sender_->to_json();
    if (sender_->status().stopped) {
      degraded = true;
    }
  } else {
    sync["state"] = "not_configured";
    sync["url"] = "";
    sync["online"] = nullptr;
  }
  h["online"] = sync["online"];
  h["sync"] = std::move(sync);
  // An unreachable order feed does not degrade the station: it packs the orders it has.
  h["orders_feed"] = feed_ ? json::value(feed_->to_json())
                           : json::value(json::object{
                                 {"state", "not_configured"}, {"url", ""}, {"online", nullptr}});
  h["prints_pending"] = prints_->pending_count();
  // A low pool does not degrade the station: an empty one falls back and packing goes on; nor
  // does a back office that cannot refill it.
  h["discount_pools"] = discount_pools();
  h["discount_pull"] = pool_pull_
                           ? json::value(pool_pull_->to_json())
                           : json::value(json::object{
                                 {"state", "not_configured"}, {"url", ""}, {"online", nullptr}});

  h["pack"] = pack_->snapshot();
  if (auto figures = pack_figures(*db_, now_utc())) {
    h["packing"] = to_json(*figures);
  } else {
    degraded = true;
  }
  h["status"] = degraded ? "degraded" : "ok";
  return h;
}

HttpResponse StationApp::handle_http(const HttpRequest& req) {
  const auto target = std::string(req.target());
  const auto path = target.substr(0, target.find('?'));
  if (path == "/api/scans") {
    return post_scan(req);
  }
  if (auto page = ui_->serve(req)) {
    return std::move(*page);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = make_response(req, http::status::method_not_allowed, "application/json",
                             R"({"error":"method not allowed"})");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (path == "/healthz") {
    return make_response(req, http::status::ok, "application/json",
                         json::serialize(health()) + "\n");
  }
  if (path == "/metrics") {
    return make_response(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                         metrics());
  }
  return make_response(req, http::status::not_found, "application/json",
                       R"({"error":"not found"})");
}

}  // namespace packbench::station

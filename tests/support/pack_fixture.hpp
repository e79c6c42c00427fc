// A pack session on real parts: a real SQLite store, the real print queue with the virtual file
// printer, the real outbox. Shared by the pack session tests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <functional>

#include "station/pack/pack_session.hpp"
#include "support.hpp"

namespace packbench::testing {

inline drivers::Scan make_scan(const std::string& data, const std::string& symbology = "") {
  drivers::Scan s;
  s.scanner = "hand";
  s.data = data;
  s.symbology = symbology;
  s.received_at = std::chrono::system_clock::now();
  s.received_mono = std::chrono::steady_clock::now();
  return s;
}

struct Station {
  TempDir dir;
  boost::asio::io_context io;
  station::Database db;
  station::OrderBook book;
  station::Outbox outbox;
  station::PackRules rules;
  std::unique_ptr<drivers::Printer> printer;
  std::unique_ptr<station::PrintQueue> prints;
  std::unique_ptr<station::PackSession> session;

  // `prepare` gets the store's path before the station opens it (an older store, say).
  using Prepare = std::function<void(const std::filesystem::path&)>;

  static station::Database open(const TempDir& d, const Prepare& prepare = {}) {
    if (prepare) {
      prepare(d / "station.db");
    }
    auto db = station::Database::open(d / "station.db");
    if (!db) {
      throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
  }

  explicit Station(const char* orders, station::PackRules r = {},
                   station::OutboxConfig outbox_config = {}, const Prepare& prepare = {})
      : db(open(dir, prepare)),
        book(db),
        outbox(db, "/stations/site-1/pack-01", std::move(outbox_config)),
        rules(std::move(r)) {
    auto parsed = station::parse_orders_json(orders);
    EXPECT_TRUE(parsed.problems.empty());
    EXPECT_TRUE(book.import(parsed.orders, "test"));
    reopen_session();
  }

  // What a restarted process does: new objects over the same store.
  void reopen_session() {
    session.reset();
    prints.reset();
    drivers::PrinterOptions opts;
    opts.name = "label";
    opts.type = "file";
    opts.directory = dir / "prints";
    printer = std::move(*drivers::make_printer(io.get_executor(), opts));
    EXPECT_TRUE(printer->activate());
    prints = std::make_unique<station::PrintQueue>(
        io.get_executor(), db,
        std::vector<station::PrinterBinding>{{printer.get(), {"shipping-label"}}});
    session = std::make_unique<station::PackSession>(
        db, book, outbox, *prints, station::StationIdentity{"pack-01", "site-1"}, rules);
    EXPECT_TRUE(session->restore());
  }

  station::ScanOutcome scan(const std::string& data, const std::string& symbology = "") {
    auto r = session->handle(make_scan(data, symbology));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : station::ScanOutcome{};
  }

  station::Verdict verdict(const std::string& data) { return scan(data).verdict; }

  std::int64_t count(const std::string& sql) {
    auto r = db.read([&] {
      auto st = db.statement(sql);
      return st.step() ? st.column_int(0) : -1;
    });
    return r ? *r : -1;
  }

  std::string text(const std::string& sql) {
    auto r = db.read([&] {
      auto st = db.statement(sql);
      return st.step() ? st.column_text(0) : std::string();
    });
    return r ? *r : std::string();
  }

  // The events in the outbox, oldest first.
  std::vector<boost::json::object> events() {
    std::vector<boost::json::object> out;
    auto r = db.read([&] {
      auto st = db.statement("SELECT event FROM outbox ORDER BY seq");
      while (st.step()) {
        out.push_back(boost::json::parse(st.column_text(0)).as_object());
      }
    });
    EXPECT_TRUE(r);
    return out;
  }
};

}  // namespace packbench::testing

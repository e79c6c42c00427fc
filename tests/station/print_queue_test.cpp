// The durable print queue against a zpl-tcp printer that reports its status: a real SQLite
// store, the real queue, the real zpl-tcp backend, and a virtual Zebra on loopback that answers
// ~HS from flags the test sets. A job the printer cannot take is kept, with its reason, and
// printed exactly once when the printer is ready.
#include "station/print/print_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>

#include "support.hpp"
#include "zpl_printer.hpp"

namespace ps = packbench::station;
namespace pd = packbench::drivers;
namespace pt = packbench::testing;
using namespace std::chrono_literals;

namespace {

struct Bench {
  pt::TempDir dir;
  boost::asio::io_context io;
  ps::Database db = open(dir);
  pt::VirtualZplPrinter peer;
  std::unique_ptr<pd::Printer> printer;
  std::unique_ptr<ps::PrintQueue> queue;

  static ps::Database open(const pt::TempDir& d) {
    auto db = ps::Database::open(d / "station.db");
    if (!db) {
      throw std::runtime_error(db.error().message);
    }
    return std::move(*db);
  }

  // The back-off is a minute: whatever prints within the test printed because the printer said
  // it was ready, not because a retry came round.
  explicit Bench(pt::VirtualZplPrinter::Flags flags = {}) {
    peer.set_flags(flags);
    pd::PrinterOptions o;
    o.name = "label";
    o.type = "zpl-tcp";
    o.address = peer.address();
    o.status_interval = 100ms;
    o.status_timeout = 300ms;
    o.timeout = 2000ms;
    printer = std::move(*pd::make_printer(io.get_executor(), o));
    EXPECT_TRUE(printer->activate());
    queue = std::make_unique<ps::PrintQueue>(
        io.get_executor(), db, std::vector<ps::PrinterBinding>{{printer.get(), {"shipping-label"}}},
        60s, 60s);
  }

  void enqueue(const std::string& order, const std::string& zpl) {
    auto r = db.write([&] { queue->enqueue("shipping-label", order, "application/zpl", zpl); });
    ASSERT_TRUE(r) << r.error().message;
    queue->kick();
  }

  std::string text(const std::string& sql) {
    auto r = db.read([&] {
      auto st = db.statement(sql);
      return st.step() ? st.column_text(0) : std::string();
    });
    return r ? *r : std::string();
  }

  std::int64_t number(const std::string& sql) {
    auto r = db.read([&] {
      auto st = db.statement(sql);
      return st.step() ? st.column_int(0) : std::int64_t{-1};
    });
    return r ? *r : -1;
  }

  bool run_until(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      io.run_for(5ms);
    }
    return true;
  }

  // Runs on until the printer has been asked `more` more times: long enough for a second copy
  // of a job to show if one were going to.
  void run_for_queries(std::size_t more) {
    const auto target = peer.status_queries() + more;
    EXPECT_TRUE(run_until([&] { return peer.status_queries() >= target; }));
  }
};

}  // namespace

TEST(PrintQueueStatus, PaperOutHoldsTheJobAndItPrintsOnceWhenPaperIsBack) {
  Bench b({.paper_out = true});
  ASSERT_TRUE(b.run_until([&] { return b.printer->status().state == pd::DeviceState::fault; }));
  EXPECT_EQ(b.printer->status().detail, "paper out");

  b.enqueue("A-1", "^XA^FDA-1^FS^XZ");
  ASSERT_TRUE(b.run_until([&] { return b.number("SELECT attempts FROM print_jobs") >= 1; }));
  EXPECT_EQ(b.text("SELECT state FROM print_jobs"), "pending");
  const auto why = b.text("SELECT last_error FROM print_jobs");
  EXPECT_NE(why.find("paper out"), std::string::npos) << why;
  EXPECT_NE(why.find("held until it is ready"), std::string::npos) << why;
  b.run_for_queries(3);
  EXPECT_TRUE(b.peer.jobs().empty());
  EXPECT_EQ(b.queue->pending_count(), 1);

  b.peer.set_paper_out(false);
  ASSERT_TRUE(b.run_until([&] { return b.text("SELECT state FROM print_jobs") == "printed"; }));
  b.run_for_queries(3);
  EXPECT_EQ(b.peer.jobs(), std::vector<std::string>{"^XA^FDA-1^FS^XZ"});
  EXPECT_EQ(b.queue->pending_count(), 0);
  EXPECT_EQ(b.printer->status().state, pd::DeviceState::ready);
}

TEST(PrintQueueStatus, HeadOpenHoldsEveryJobAndTheyPrintInOrder) {
  Bench b({.head_open = true});
  b.enqueue("A-1", "^XA^FDA-1^FS^XZ");
  b.enqueue("A-2", "^XA^FDA-2^FS^XZ");
  ASSERT_TRUE(b.run_until(
      [&] { return b.number("SELECT attempts FROM print_jobs WHERE order_id = 'A-1'") >= 1; }));
  EXPECT_NE(b.text("SELECT last_error FROM print_jobs WHERE order_id = 'A-1'").find("head open"),
            std::string::npos);
  EXPECT_TRUE(b.peer.jobs().empty());

  b.peer.set_head_open(false);
  ASSERT_TRUE(b.run_until([&] { return b.peer.jobs().size() >= 2; }));
  b.run_for_queries(3);
  EXPECT_EQ(b.peer.jobs(), (std::vector<std::string>{"^XA^FDA-1^FS^XZ", "^XA^FDA-2^FS^XZ"}));
  ASSERT_TRUE(b.run_until([&] { return b.queue->pending_count() == 0; }));
}

TEST(PrintQueueStatus, ASilentPrinterGetsNothingAndTheJobGoesOutWhenItAnswers) {
  Bench b;
  b.peer.set_silent(true);
  b.enqueue("A-1", "^XA^FDA-1^FS^XZ");
  ASSERT_TRUE(b.run_until([&] { return b.number("SELECT attempts FROM print_jobs") >= 1; }));
  EXPECT_NE(b.text("SELECT last_error FROM print_jobs").find("no answer to ~HS"),
            std::string::npos);
  EXPECT_EQ(b.printer->status().state, pd::DeviceState::fault);
  EXPECT_TRUE(b.peer.jobs().empty());

  b.peer.set_silent(false);
  ASSERT_TRUE(b.run_until([&] { return b.text("SELECT state FROM print_jobs") == "printed"; }));
  b.run_for_queries(3);
  EXPECT_EQ(b.peer.jobs().size(), 1u);
}

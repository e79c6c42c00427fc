// The durable print queue. A job is a row written in the transaction that decided to print it
// (an order completing, say); it leaves the pending state only when its printer has the bytes.
// Each printer has one job in flight; a failed job is retried, with backoff, until it goes
// through, and jobs for one printer print in the order they were queued. A job the printer was
// not sent because it cannot print (paper out, head open: the zpl-tcp backend asks first) is a
// failed attempt like any other, kept with its reason in last_error; it goes out as soon as the
// printer reports ready.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "packbench/drivers/printer.hpp"
#include "station/store/store.hpp"

namespace packbench::station {

struct PrinterBinding {
  drivers::Printer* printer;
  std::vector<std::string> roles;
};

class PrintQueue {
 public:
  PrintQueue(boost::asio::any_io_executor ex, Database& db, std::vector<PrinterBinding> printers,
             std::chrono::milliseconds retry_base = std::chrono::milliseconds(1000),
             std::chrono::milliseconds retry_cap = std::chrono::milliseconds(30000));
  ~PrintQueue();

  // Inside a write transaction: queues a job for the first printer that serves `role`.
  // Returns the job id.
  std::int64_t enqueue(const std::string& role, const std::string& order_id,
                       const std::string& content_type, const std::string& data);

  // After the transaction that queued jobs has committed: start sending them.
  void kick();
  void stop();

  std::int64_t pending_count();

 private:
  struct Lane;
  void pump(Lane& lane);
  void wait_and_pump(Lane& lane, std::chrono::milliseconds delay);
  bool record_printed(Lane& lane, std::int64_t id);

  boost::asio::any_io_executor ex_;
  Database& db_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::chrono::milliseconds retry_base_;
  std::chrono::milliseconds retry_cap_;
  std::shared_ptr<bool> alive_;
};

}  // namespace packbench::station

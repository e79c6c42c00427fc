// Printers: every backend takes finished bytes in the printer's own language and delivers them.
// Building those bytes is the labels library's work; queueing and retrying them durably is the
// station's. A printer has at most one job in flight.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "packbench/drivers/device.hpp"
#include "packbench/result.hpp"

namespace packbench::drivers {

struct PrintJob {
  std::string name;          // stable and file-name safe, e.g. "000042-shipping-label-DEMO-1001"
  std::string content_type;  // "application/zpl"
  std::string data;
};

using PrintDone = std::function<void(Result<void>)>;
using StatusListener = std::function<void(const DeviceStatus&)>;

class Printer : public Device {
 public:
  virtual Result<void> activate() = 0;
  // Delivers one job; `done` runs on the printer's executor once the printer has the bytes or
  // the attempt failed. A printer that reports it cannot print (paper out, head open) is not
  // sent the job: `done` gets an error saying why, and the caller keeps the job for later.
  // Callers wait for `done` before sending the next job.
  virtual void print(PrintJob job, PrintDone done) = 0;
  // Hears every change of status() on the printer's executor, for backends that learn of one
  // by themselves (zpl-tcp asks the printer while idle): so that a job held for want of paper
  // goes out as soon as the printer says it is ready. One listener; a new one replaces it.
  virtual void on_status_change(StatusListener listener) { (void)listener; }
};

struct PrinterOptions {
  std::string name;
  std::string type;                         // backend: "zpl-tcp", "file"
  std::string address;                      // host:port for zpl-tcp
  std::filesystem::path directory;          // where the file printer writes its jobs
  std::chrono::milliseconds timeout{5000};  // one job, connect to close
  // zpl-tcp: how often an idle printer is asked ~HS, and how long its answer may take. Zero
  // asks never, not even before a job: for raw-TCP printers that do not speak ~HS.
  std::chrono::milliseconds status_interval{5000};
  std::chrono::milliseconds status_timeout{3000};
};

Result<std::unique_ptr<Printer>> make_printer(boost::asio::any_io_executor ex,
                                              const PrinterOptions& options);

bool is_known_printer_type(std::string_view type);

}  // namespace packbench::drivers

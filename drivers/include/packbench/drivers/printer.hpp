// Printers: every backend takes finished bytes in the printer's own language and delivers them.
// Building those bytes is the labels library's work; queueing and retrying them durably is the
// station's. A printer has at most one job in flight.
#pragma once

#include <boost/asio/any_io_executor.hpp>
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

class Printer : public Device {
 public:
  virtual Result<void> activate() = 0;
  // Delivers one job; `done` runs on the printer's executor once the printer has the bytes or
  // the attempt failed. Callers wait for `done` before sending the next job.
  virtual void print(PrintJob job, PrintDone done) = 0;
};

struct PrinterOptions {
  std::string name;
  std::string type;                 // backend: "zpl-tcp", "file"
  std::string address;              // host:port for zpl-tcp
  std::filesystem::path directory;  // where the file printer writes its jobs
  std::chrono::milliseconds timeout{5000};
};

Result<std::unique_ptr<Printer>> make_printer(boost::asio::any_io_executor ex,
                                              const PrinterOptions& options);

bool is_known_printer_type(std::string_view type);

}  // namespace packbench::drivers

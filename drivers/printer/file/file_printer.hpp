// file: the virtual printer. Each job is written, whole, to a file in a directory: the demo's
// ./var/prints/, or a test's temporary folder. The bytes are exactly those a real printer of
// the job's language would receive.
#pragma once

#include "packbench/drivers/printer.hpp"

namespace packbench::drivers {

class FilePrinter final : public Printer {
 public:
  FilePrinter(boost::asio::any_io_executor ex, PrinterOptions options);

  const std::string& name() const override { return options_.name; }
  std::string_view type() const override { return "file"; }
  DeviceStatus status() const override { return status_; }
  Result<void> activate() override;
  void deactivate() override;
  void print(PrintJob job, PrintDone done) override;

  // The file extension used for a content type ("application/zpl" -> ".zpl").
  static std::string extension_for(std::string_view content_type);

 private:
  Result<void> write_job(const PrintJob& job);

  boost::asio::any_io_executor ex_;
  PrinterOptions options_;
  DeviceStatus status_;
  bool active_ = false;
};

}  // namespace packbench::drivers

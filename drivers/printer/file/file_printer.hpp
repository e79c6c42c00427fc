// file: the virtual printer. Each job is written, whole, to a file in a directory: the demo's
// ./var/prints/, or a test's temporary folder. The bytes are exactly those a real printer of
// the job's language would receive.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "packbench/drivers/printer.hpp"

namespace packbench::drivers {

class FilePrinter final : public Printer {
 public:
  FilePrinter(boost::asio::any_io_executor ex, PrinterOptions options);
  ~FilePrinter() override;

  const std::string& name() const override { return options_.name; }
  std::string_view type() const override { return "file"; }
  DeviceStatus status() const override { return shared_->status; }
  Result<void> activate() override;
  void deactivate() override;
  void print(PrintJob job, PrintDone done) override;

  // The file extension used for a content type ("application/zpl" -> ".zpl").
  static std::string extension_for(std::string_view content_type);

 private:
  static Result<void> write_job(const std::filesystem::path& dir, const PrintJob& job);

  // What a finished write reports back to, kept alive by the write in flight.
  struct Shared {
    DeviceStatus status;
    bool active = false;
  };

  boost::asio::any_io_executor ex_;
  PrinterOptions options_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  // Writing and flushing a job to disk takes milliseconds: not on the control thread.
  boost::asio::thread_pool writer_{1};
};

}  // namespace packbench::drivers

// zpl-tcp: a label printer on a raw TCP port (port 9100 style). A job is one connection: connect,
// ask ~HS, write the format, close; the printer reads until the connection ends. While idle the
// printer is asked ~HS on a connection of its own every status_interval, so that the packer sees
// "paper out" before the next label is due, and a job held for it goes out once it is ready.
#pragma once

#include <memory>

#include "packbench/drivers/printer.hpp"

namespace packbench::drivers {

class ZplTcpPrinter final : public Printer {
 public:
  ZplTcpPrinter(boost::asio::any_io_executor ex, PrinterOptions options);
  ~ZplTcpPrinter() override;

  const std::string& name() const override;
  std::string_view type() const override { return "zpl-tcp"; }
  DeviceStatus status() const override;
  Result<void> activate() override;
  void deactivate() override;
  void print(PrintJob job, PrintDone done) override;
  void on_status_change(StatusListener listener) override;

 private:
  struct Link;
  std::shared_ptr<Link> link_;
};

}  // namespace packbench::drivers

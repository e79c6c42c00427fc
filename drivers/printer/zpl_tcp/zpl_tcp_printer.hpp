// zpl-tcp: a label printer on a raw TCP port (port 9100 style). A job is one connection: connect,
// write the format, close. The printer reads until the connection ends.
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

 private:
  struct Link;
  std::shared_ptr<Link> link_;
};

}  // namespace packbench::drivers

// serial: a scanner on an RS-232 port or a USB serial adapter (CDC-ACM, FTDI...). The station
// opens the device path with the configured line settings and reopens it, with back-off, when
// it disappears (a USB scanner unplugged) and comes back. Use the stable
// /dev/serial/by-id/... link rather than /dev/ttyUSBn, whose number changes on replug.
#pragma once

#include <memory>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

class SerialScanner final : public Scanner {
 public:
  SerialScanner(boost::asio::any_io_executor ex, ScannerOptions options);
  ~SerialScanner() override;

  const std::string& name() const override;
  std::string_view type() const override { return "serial"; }
  DeviceStatus status() const override;
  Result<void> activate(ScanHandler on_scan) override;
  void deactivate() override;

 private:
  // Everything asynchronous handlers touch lives here, so that a handler that completes after
  // the scanner was deactivated finds its state still there.
  struct Port;
  std::shared_ptr<Port> port_;
};

}  // namespace packbench::drivers

// tcp-connect: fixed-mount and network scanners that listen themselves (a port on the reader,
// or a serial-to-Ethernet server in front of one). The station connects to host:port, reads
// lines, and reconnects with exponential back-off when the connection is refused or drops.
#pragma once

#include <memory>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

class TcpConnectScanner final : public Scanner {
 public:
  TcpConnectScanner(boost::asio::any_io_executor ex, ScannerOptions options);
  ~TcpConnectScanner() override;

  const std::string& name() const override;
  std::string_view type() const override { return "tcp-connect"; }
  DeviceStatus status() const override;
  Result<void> activate(ScanHandler on_scan) override;
  void deactivate() override;

 private:
  // Everything asynchronous handlers touch lives here, so that a handler that completes after
  // the scanner was deactivated finds its state still there.
  struct Link;
  std::shared_ptr<Link> link_;
};

}  // namespace packbench::drivers

// tcp-listen: the station listens and every line a client sends is one scan. Fixed-mount
// scanners and network-attached readers work this way, and so does `nc` for a person testing.
#pragma once

#include <memory>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

class TcpListenScanner final : public Scanner {
 public:
  TcpListenScanner(boost::asio::any_io_executor ex, ScannerOptions options);
  ~TcpListenScanner() override;

  const std::string& name() const override;
  std::string_view type() const override { return "tcp-listen"; }
  DeviceStatus status() const override;
  Result<void> activate(ScanHandler on_scan) override;
  void deactivate() override;

 private:
  // Everything asynchronous handlers touch lives here, so that a handler that completes after
  // the scanner was deactivated finds its state still there.
  struct Listener;
  std::shared_ptr<Listener> listener_;
};

}  // namespace packbench::drivers

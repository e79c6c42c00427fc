// hid: a USB scanner in keyboard-wedge mode, read from its Linux evdev node
// (/dev/input/eventN, or better the stable /dev/input/by-id/...-event-kbd link). The station
// grabs the device so the scans do not also type into whatever has the console's focus, turns
// key codes back into characters (key_decoder.hpp), and reopens the path when the scanner is
// unplugged and plugged back in.
//
// Anything that reads as a stream of `struct input_event` records and can be polled works as
// the path: a FIFO or a pty carrying recorded events replays a capture (the tests do this).
#pragma once

#include <memory>

#include "packbench/drivers/scanner.hpp"

namespace packbench::drivers {

class HidScanner final : public Scanner {
 public:
  HidScanner(boost::asio::any_io_executor ex, ScannerOptions options);
  ~HidScanner() override;

  const std::string& name() const override;
  std::string_view type() const override { return "hid"; }
  DeviceStatus status() const override;
  Result<void> activate(ScanHandler on_scan) override;
  void deactivate() override;

 private:
  // Everything asynchronous handlers touch lives here, so that a handler that completes after
  // the scanner was deactivated finds its state still there.
  struct Device;
  std::shared_ptr<Device> device_;
};

}  // namespace packbench::drivers

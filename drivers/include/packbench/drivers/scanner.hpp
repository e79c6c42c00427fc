// Barcode scanners: every backend turns whatever its transport carries into Scan events.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "packbench/drivers/device.hpp"
#include "packbench/result.hpp"

namespace packbench::drivers {

struct Scan {
  std::string scanner;    // the configured name of the scanner that read it
  std::string data;       // the decoded text: terminator, prefix/suffix and identifier stripped
  std::string symbology;  // the AIM symbology identifier ("]C1", "]E0", "]d2", "]Q3", ...) when
                          // the scanner sent one, else empty
  // Non-empty when the input was not a usable scan (non-printable bytes, invalid UTF-8, a line
  // over the limit, a flood): the reason in words. `data` then holds a printable preview.
  std::string rejected;
  std::chrono::system_clock::time_point received_at;
  std::chrono::steady_clock::time_point received_mono;
};

using ScanHandler = std::function<void(Scan)>;

class Scanner : public Device {
 public:
  // Starts delivering scans to `on_scan`, on the scanner's executor.
  virtual Result<void> activate(ScanHandler on_scan) = 0;
};

struct ScannerOptions {
  std::string name;
  std::string type;     // backend: "tcp-listen"
  std::string address;  // host:port for the TCP backends
  std::size_t max_line_bytes = 4096;
};

// Builds the backend named by options.type.
Result<std::unique_ptr<Scanner>> make_scanner(boost::asio::any_io_executor ex,
                                              const ScannerOptions& options);

// The scanner types this build knows.
bool is_known_scanner_type(std::string_view type);

}  // namespace packbench::drivers

// Barcode scanners: every backend turns whatever its transport carries into Scan events.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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
  // Starts delivering scans to `on_scan`, on the scanner's executor. A device that is missing
  // or unreachable at this moment is not an error: the scanner shows offline and keeps trying.
  // Only what can never work (a port already taken, options that make no sense) fails here.
  virtual Result<void> activate(ScanHandler on_scan) = 0;
};

// What ends one scan on the wire. `any` takes CR, LF or CR LF, which is what scanners ship
// with in one form or another; the others are strict, so that a scanner set up differently
// shows as rejected scans naming the stray byte instead of silently merged lines.
enum class Terminator { any, cr, lf, crlf, tab };
enum class Parity { none, even, odd };
enum class FlowControl { none, software, hardware };
enum class KeyboardLayout { us, jp };

struct ScannerOptions {
  std::string name;
  std::string type;              // backend: "tcp-listen", "tcp-connect", "serial", "hid"
  std::string address;           // host:port for the TCP backends
  std::filesystem::path device;  // serial: /dev/ttyUSB0...; hid: /dev/input/eventN or by-id

  // Framing, shared by every backend.
  Terminator terminator = Terminator::any;
  std::string prefix;  // stripped from the start of each scan; a scan without it is rejected
  std::string suffix;  // stripped from the end of each scan; a scan without it is rejected
  std::size_t max_line_bytes = 4096;
  unsigned max_scans_per_second = 50;  // above this the input is a flood and is not delivered
  // A line whose terminator does not come within this time of its last byte is rejected, so
  // that a half-sent line cannot glue itself to the next scan.
  std::chrono::milliseconds line_timeout{2000};

  // serial
  unsigned baud = 9600;
  Parity parity = Parity::none;
  unsigned data_bits = 8;  // 7 or 8
  unsigned stop_bits = 1;  // 1 or 2
  FlowControl flow_control = FlowControl::none;

  // serial, tcp-connect and hid: reopening after the device went away.
  std::chrono::milliseconds retry_base{250};
  std::chrono::milliseconds retry_cap{5000};

  // tcp-connect
  std::chrono::milliseconds connect_timeout{5000};

  // hid (keyboard wedge)
  KeyboardLayout layout = KeyboardLayout::us;
  bool grab = true;    // EVIOCGRAB: keep the scans from also typing into the console
  std::string gs_key;  // an extra key that means GS (FNC1), e.g. "F8"; empty for none
};

// One scan typed or pasted somewhere other than a scanner (the packer UI's scan field, an API
// call), judged by the same rules as a scanner's line: AIM identifier, printable bytes, valid
// UTF-8, length. Text holding a line break is rejected: it is more than one scan.
Scan scan_from_text(std::string_view scanner, std::string_view text);

// Builds the backend named by options.type.
Result<std::unique_ptr<Scanner>> make_scanner(boost::asio::any_io_executor ex,
                                              const ScannerOptions& options);

// The scanner types this build knows, and whether `type` is one of them.
std::span<const std::string_view> scanner_types();
bool is_known_scanner_type(std::string_view type);

// Option words as they appear in configuration ("crlf", "even", "hardware", "jp"), both ways.
// The parsers ignore case; "enter" is another name for "cr" (what a keyboard wedge sends).
std::optional<Terminator> parse_terminator(std::string_view word);
std::optional<Parity> parse_parity(std::string_view word);
std::optional<FlowControl> parse_flow_control(std::string_view word);
std::optional<KeyboardLayout> parse_keyboard_layout(std::string_view word);
std::string_view to_string(Terminator t);
std::string_view to_string(Parity p);
std::string_view to_string(FlowControl f);
std::string_view to_string(KeyboardLayout l);

// Baud rates the serial backend can set.
std::span<const unsigned> serial_baud_rates();

// Key names accepted for ScannerOptions::gs_key ("F1".."F24", "Insert", "Pause", ...).
bool is_known_gs_key(std::string_view name);

}  // namespace packbench::drivers

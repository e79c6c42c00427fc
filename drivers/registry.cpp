// Backends by name: the configuration's `type` picks one. A new backend is one folder and one
// line in each table here.
#include <array>

#include "packbench/drivers/endpoint.hpp"
#include "packbench/drivers/printer.hpp"
#include "packbench/drivers/scanner.hpp"
#include "printer/file/file_printer.hpp"
#include "printer/zpl_tcp/zpl_tcp_printer.hpp"
#include "scanner/hid/hid_scanner.hpp"
#include "scanner/serial/serial_scanner.hpp"
#include "scanner/tcp_connect/tcp_connect_scanner.hpp"
#include "scanner/tcp_listen/tcp_listen_scanner.hpp"

namespace packbench::drivers {

namespace {
constexpr std::array<std::string_view, 4> kScannerTypes{"tcp-listen", "tcp-connect", "serial",
                                                        "hid"};
constexpr std::array<std::string_view, 2> kPrinterTypes{"zpl-tcp", "file"};
}  // namespace

std::span<const std::string_view> scanner_types() {
  return kScannerTypes;
}

bool is_known_scanner_type(std::string_view type) {
  for (auto t : kScannerTypes) {
    if (t == type) {
      return true;
    }
  }
  return false;
}

bool is_known_printer_type(std::string_view type) {
  for (auto t : kPrinterTypes) {
    if (t == type) {
      return true;
    }
  }
  return false;
}

Result<std::unique_ptr<Scanner>> make_scanner(boost::asio::any_io_executor ex,
                                              const ScannerOptions& options) {
  const std::string who = "scanner " + options.name + ": ";
  if (options.type == "tcp-listen" || options.type == "tcp-connect") {
    std::string why;
    if (!parse_endpoint(options.address, &why)) {
      return Error{who + "address '" + options.address + "': " + why};
    }
    if (options.type == "tcp-listen") {
      return std::unique_ptr<Scanner>(std::make_unique<TcpListenScanner>(std::move(ex), options));
    }
    return std::unique_ptr<Scanner>(std::make_unique<TcpConnectScanner>(std::move(ex), options));
  }
  if (options.type == "serial" || options.type == "hid") {
    if (options.device.empty()) {
      return Error{who + "a " + options.type + " scanner needs a device path"};
    }
    if (options.type == "serial") {
      return std::unique_ptr<Scanner>(std::make_unique<SerialScanner>(std::move(ex), options));
    }
    if (!options.gs_key.empty() && !is_known_gs_key(options.gs_key)) {
      return Error{who + "unknown gs_key '" + options.gs_key + "'"};
    }
    return std::unique_ptr<Scanner>(std::make_unique<HidScanner>(std::move(ex), options));
  }
  return Error{who + "unknown type '" + options.type + "'"};
}

Result<std::unique_ptr<Printer>> make_printer(boost::asio::any_io_executor ex,
                                              const PrinterOptions& options) {
  if (options.type == "zpl-tcp") {
    return std::unique_ptr<Printer>(std::make_unique<ZplTcpPrinter>(std::move(ex), options));
  }
  if (options.type == "file") {
    return std::unique_ptr<Printer>(std::make_unique<FilePrinter>(std::move(ex), options));
  }
  return Error{"printer " + options.name + ": unknown type '" + options.type + "'"};
}

}  // namespace packbench::drivers

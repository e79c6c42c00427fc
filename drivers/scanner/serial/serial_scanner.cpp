#include "scanner/serial/serial_scanner.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "scanner/framed_input.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;

namespace {

// "9600 8N1", "19200 7E2 hardware flow control": the line as people write it.
std::string line_settings(const ScannerOptions& o) {
  std::string s = std::to_string(o.baud) + " " + std::to_string(o.data_bits);
  s += o.parity == Parity::even ? "E" : o.parity == Parity::odd ? "O" : "N";
  s += std::to_string(o.stop_bits);
  if (o.flow_control != FlowControl::none) {
    s += std::string(" ") + std::string(to_string(o.flow_control)) + " flow control";
  }
  return s;
}

}  // namespace

struct SerialScanner::Port : std::enable_shared_from_this<Port> {
  Port(asio::any_io_executor ex, ScannerOptions opts)
      : options(std::move(opts)),
        port(ex),
        retry(ex),
        sink(std::make_shared<ScanSink>(ex, options.name, options.max_scans_per_second)),
        backoff(options.retry_base, options.retry_cap) {}

  ScannerOptions options;
  asio::serial_port port;
  asio::steady_timer retry;
  std::shared_ptr<ScanSink> sink;
  std::shared_ptr<FramedInput> input;  // one per open: a reopened port starts clean
  Backoff backoff;
  DeviceStatus status;
  bool active = false;
  std::string last_failure;
  std::array<char, 1024> chunk{};

  void open() {
    if (!active) {
      return;
    }
    if (auto failed = open_port()) {
      fail(failed->first, failed->second);
      return;
    }
    backoff.reset();
    last_failure.clear();
    input = std::make_shared<FramedInput>(port.get_executor(), FramerOptions::from(options), sink);
    status = {DeviceState::ready,
              "open " + options.device.string() + " at " + line_settings(options)};
    spdlog::info("scanner {}: {}", options.name, status.detail);
    read_next();
  }

  // Opens and configures the port; when it cannot, the state to show and the reason: offline
  // when the device is not there, fault when it is there but refuses the line settings.
  std::optional<std::pair<DeviceState, std::string>> open_port() {
    const auto offline = [](std::string why) {
      return std::make_pair(DeviceState::offline, std::move(why));
    };
    const std::string path = options.device.string();
    // O_NOCTTY: a daemon must not acquire the scanner as its controlling terminal.
    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      return offline("cannot open " + path + ": " + std::strerror(errno));
    }
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return offline(path + " is not a serial port: " + why);
    }
    // Exclusive: another program opening the port (a modem prober, a second station) would
    // steal bytes from the middle of scans.
    ::ioctl(fd, TIOCEXCL);
    // Raw bytes: no echo, no CR/LF translation, no signals from control characters. Asio's
    // options below then set speed, size, parity, stop bits and flow control on top.
    ::cfmakeraw(&tio);
    tio.c_cflag |= CREAD | CLOCAL;
    ::tcsetattr(fd, TCSANOW, &tio);

    boost::system::error_code ec;
    port.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return offline("cannot use " + path + ": " + ec.message());
    }
    using base = asio::serial_port_base;
    const auto parity = options.parity == Parity::even  ? base::parity::even
                        : options.parity == Parity::odd ? base::parity::odd
                                                        : base::parity::none;
    const auto flow = options.flow_control == FlowControl::software   ? base::flow_control::software
                      : options.flow_control == FlowControl::hardware ? base::flow_control::hardware
                                                                      : base::flow_control::none;
    const auto stop = options.stop_bits == 2 ? base::stop_bits::two : base::stop_bits::one;
    port.set_option(base::baud_rate(options.baud), ec);
    if (!ec) {
      port.set_option(base::character_size(options.data_bits), ec);
    }
    if (!ec) {
      port.set_option(base::parity(parity), ec);
    }
    if (!ec) {
      port.set_option(base::stop_bits(stop), ec);
    }
    if (!ec) {
      port.set_option(base::flow_control(flow), ec);
    }
    if (!ec) {
      return std::nullopt;
    }
    boost::system::error_code ignored;
    port.close(ignored);
    return std::make_pair(DeviceState::fault, "cannot set " + line_settings(options) + " on " +
                                                  path + ": " + ec.message());
  }

  void fail(DeviceState state, const std::string& why) {
    const auto delay = backoff.next();
    status = {state, why + "; retrying in " + describe_delay(delay)};
    if (why != last_failure) {
      // Once per distinct problem: an unplugged scanner must not fill the journal.
      spdlog::warn("scanner {}: {}; retrying with back-off", options.name, why);
      last_failure = why;
    }
    retry.expires_after(delay);
    retry.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->active) {
        self->open();
      }
    });
  }

  void read_next() {
    port.async_read_some(asio::buffer(chunk),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           if (!self->active) {
                             return;
                           }
                           if (n > 0) {
                             self->input->feed(std::string_view(self->chunk.data(), n));
                           }
                           if (!self->active) {
                             return;  // the scan handler deactivated the scanner
                           }
                           if (ec) {
                             self->lost(ec);
                             return;
                           }
                           self->read_next();
                         });
  }

  void lost(boost::system::error_code ec) {
    // A USB adapter that is pulled reads as EOF or EIO; a real UART never ends. Either way the
    // port is gone until it opens again.
    const std::string why = ec == asio::error::eof ? "end of input" : ec.message();
    input->abort("the scanner went away in the middle of a scan (" + why + ")");
    close();
    fail(DeviceState::offline, "lost " + options.device.string() + ": " + why);
  }

  void close() {
    if (input) {
      input->stop();
      input.reset();
    }
    boost::system::error_code ignored;
    port.close(ignored);
  }
};

SerialScanner::SerialScanner(asio::any_io_executor ex, ScannerOptions options)
    : port_(std::make_shared<Port>(std::move(ex), std::move(options))) {}

SerialScanner::~SerialScanner() {
  deactivate();
}

const std::string& SerialScanner::name() const {
  return port_->options.name;
}

DeviceStatus SerialScanner::status() const {
  return port_->status;
}

Result<void> SerialScanner::activate(ScanHandler on_scan) {
  auto& p = *port_;
  if (p.active) {
    return Error{"scanner " + p.options.name + ": already active"};
  }
  p.sink->start(std::move(on_scan));
  p.active = true;
  p.status = {DeviceState::connecting, "opening " + p.options.device.string()};
  p.open();
  return {};
}

void SerialScanner::deactivate() {
  auto& p = *port_;
  if (!p.active) {
    return;
  }
  p.active = false;
  p.sink->stop();
  p.retry.cancel();
  p.close();
  p.status = {DeviceState::inactive, "stopped"};
}

}  // namespace packbench::drivers

#include "scanner/hid/hid_scanner.hpp"

#include <fcntl.h>
#include <linux/input.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "scanner/framed_input.hpp"
#include "scanner/hid/key_decoder.hpp"

namespace packbench::drivers {

namespace asio = boost::asio;

struct HidScanner::Device : std::enable_shared_from_this<Device> {
  Device(asio::any_io_executor ex, ScannerOptions opts)
      : options(std::move(opts)),
        stream(ex),
        retry(ex),
        sink(std::make_shared<ScanSink>(ex, options.name, options.max_scans_per_second)),
        decoder(options.layout, hid_key_code(options.gs_key)),
        backoff(options.retry_base, options.retry_cap) {}

  ScannerOptions options;
  asio::posix::stream_descriptor stream;
  asio::steady_timer retry;
  std::shared_ptr<ScanSink> sink;
  std::shared_ptr<FramedInput> input;  // one per open: a reopened device starts clean
  KeyDecoder decoder;
  Backoff backoff;
  DeviceStatus status;
  bool active = false;
  bool resyncing = false;  // after SYN_DROPPED, until the next SYN_REPORT
  std::string last_failure;
  std::string carry;  // a partial input_event record (pipes may split them)
  std::array<char, sizeof(input_event) * 64> chunk{};

  void open() {
    if (!active) {
      return;
    }
    const std::string path = options.device.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      fail("cannot open " + path + ": " + std::strerror(errno));
      return;
    }
    std::string what = path;
    char name[256] = {};
    if (::ioctl(fd, EVIOCGNAME(sizeof name - 1), name) >= 0 && name[0] != '\0') {
      what += " (" + std::string(name) + ")";
    }
    std::string grab_note;
    if (options.grab && ::ioctl(fd, EVIOCGRAB, 1) != 0) {
      if (errno == ENOTTY || errno == EINVAL) {
        // Not an evdev node: a FIFO or pty replaying recorded events. Nothing to grab.
        grab_note = "; not an input device, reading raw input_event records";
      } else {
        // Most often EBUSY: another program holds the grab. Scans still arrive here, but also
        // type into whatever has the focus.
        grab_note = std::string("; cannot grab it exclusively: ") + std::strerror(errno);
        spdlog::warn("scanner {}: {}{}", options.name, what, grab_note);
      }
    }
    boost::system::error_code ec;
    stream.assign(fd, ec);
    if (ec) {
      ::close(fd);
      fail("cannot watch " + path + ": " + ec.message());
      return;
    }
    backoff.reset();
    last_failure.clear();
    decoder.reset();
    carry.clear();
    resyncing = false;
    input =
        std::make_shared<FramedInput>(stream.get_executor(), FramerOptions::from(options), sink);
    status = {DeviceState::ready, "reading " + what + grab_note};
    spdlog::info("scanner {}: {}", options.name, status.detail);
    read_next();
  }

  void fail(const std::string& why) {
    const auto delay = backoff.next();
    status = {DeviceState::offline, why + "; retrying in " + describe_delay(delay)};
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
    stream.async_read_some(asio::buffer(chunk), [self = shared_from_this()](
                                                    boost::system::error_code ec, std::size_t n) {
      if (!self->active) {
        return;
      }
      if (n > 0) {
        self->consume(std::string_view(self->chunk.data(), n));
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

  void consume(std::string_view bytes) {
    carry.append(bytes);
    std::size_t at = 0;
    for (; at + sizeof(input_event) <= carry.size() && active; at += sizeof(input_event)) {
      input_event ev;
      std::memcpy(&ev, carry.data() + at, sizeof ev);
      event(ev);
    }
    carry.erase(0, at);
  }

  void event(const input_event& ev) {
    if (ev.type == EV_SYN) {
      if (ev.code == SYN_DROPPED) {
        // The kernel's buffer overflowed and key events were lost: the line in progress is
        // missing characters, and which keys are held is unknown.
        input->poison("key events were lost (the input buffer overflowed)");
        decoder.reset();
        resyncing = true;
      } else if (ev.code == SYN_REPORT) {
        resyncing = false;
      }
      return;
    }
    if (ev.type != EV_KEY || resyncing) {
      return;
    }
    auto out = decoder.key(ev.code, ev.value);
    if (!out.poison.empty()) {
      input->poison(std::move(out.poison));
    }
    if (!out.bytes.empty()) {
      input->feed(out.bytes);
    }
  }

  void lost(boost::system::error_code ec) {
    const std::string why = ec == asio::error::eof ? "end of input" : ec.message();
    input->abort("the scanner went away in the middle of a scan (" + why + ")");
    close();
    fail("lost " + options.device.string() + ": " + why);
  }

  void close() {
    if (input) {
      input->stop();
      input.reset();
    }
    boost::system::error_code ignored;
    stream.close(ignored);  // closing also releases the grab
  }
};

HidScanner::HidScanner(asio::any_io_executor ex, ScannerOptions options)
    : device_(std::make_shared<Device>(std::move(ex), std::move(options))) {}

HidScanner::~HidScanner() {
  deactivate();
}

const std::string& HidScanner::name() const {
  return device_->options.name;
}

DeviceStatus HidScanner::status() const {
  return device_->status;
}

Result<void> HidScanner::activate(ScanHandler on_scan) {
  auto& d = *device_;
  if (d.active) {
    return Error{"scanner " + d.options.name + ": already active"};
  }
  d.sink->start(std::move(on_scan));
  d.active = true;
  d.status = {DeviceState::connecting, "opening " + d.options.device.string()};
  d.open();
  return {};
}

void HidScanner::deactivate() {
  auto& d = *device_;
  if (!d.active) {
    return;
  }
  d.active = false;
  d.sink->stop();
  d.retry.cancel();
  d.close();
  d.status = {DeviceState::inactive, "stopped"};
}

}  // namespace packbench::drivers

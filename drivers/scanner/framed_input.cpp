#include "scanner/framed_input.hpp"

#include <spdlog/spdlog.h>

namespace packbench::drivers {

namespace asio = boost::asio;

// --- ScanSink --------------------------------------------------------------------------------

ScanSink::ScanSink(asio::any_io_executor ex, std::string scanner, unsigned max_per_second)
    : scanner_(std::move(scanner)), gate_(max_per_second), timer_(std::move(ex)) {}

void ScanSink::start(ScanHandler on_scan) {
  on_scan_ = std::move(on_scan);
}

void ScanSink::stop() {
  on_scan_ = nullptr;
  timer_.cancel();
}

void ScanSink::deliver(Scan scan) {
  if (!on_scan_) {
    return;
  }
  if (auto out = gate_.admit(std::move(scan), std::chrono::steady_clock::now())) {
    hand_over(std::move(*out));
  }
  arm();
}

void ScanSink::hand_over(Scan scan) {
  scan.scanner = scanner_;
  scan.received_at = std::chrono::system_clock::now();
  scan.received_mono = std::chrono::steady_clock::now();
  if (!scan.rejected.empty()) {
    spdlog::warn("scanner {}: rejected '{}': {}", scanner_, scan.data, scan.rejected);
  }
  // Copy the handler: it may stop this sink (and clear on_scan_) while it runs.
  if (auto handler = on_scan_) {
    handler(std::move(scan));
  }
}

void ScanSink::arm() {
  const auto due = gate_.deadline();
  if (!due || armed_ || !on_scan_) {
    return;
  }
  armed_ = true;
  timer_.expires_at(*due);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->armed_ = false;
    if (ec || !self->on_scan_) {
      return;
    }
    if (auto report = self->gate_.poll(std::chrono::steady_clock::now())) {
      self->hand_over(std::move(*report));
    }
    self->arm();
  });
}

// --- FramedInput -----------------------------------------------------------------------------

FramedInput::FramedInput(asio::any_io_executor ex, FramerOptions options,
                         std::shared_ptr<ScanSink> sink)
    : framer_(std::move(options)), sink_(std::move(sink)), timer_(std::move(ex)) {}

void FramedInput::feed(std::string_view bytes) {
  if (stopped_) {
    return;
  }
  std::vector<Scan> scans;
  framer_.feed(bytes, std::chrono::steady_clock::now(), scans);
  flush(scans);
  arm();
}

void FramedInput::poison(std::string reason) {
  if (stopped_) {
    return;
  }
  framer_.poison(std::move(reason), std::chrono::steady_clock::now());
  arm();
}

void FramedInput::finish() {
  if (stopped_) {
    return;
  }
  std::vector<Scan> scans;
  framer_.finish(scans);
  flush(scans);
}

void FramedInput::abort(std::string_view reason) {
  if (stopped_) {
    return;
  }
  std::vector<Scan> scans;
  framer_.abort(reason, scans);
  flush(scans);
}

void FramedInput::stop() {
  stopped_ = true;
  timer_.cancel();
}

void FramedInput::flush(std::vector<Scan>& scans) {
  for (auto& s : scans) {
    if (stopped_) {
      return;  // the handler deactivated the scanner
    }
    sink_->deliver(std::move(s));
  }
}

void FramedInput::arm() {
  // One wait at a time: when it fires it looks at the framer's current deadline, which moves
  // with every byte, and waits again if the line is still young.
  const auto due = framer_.deadline();
  if (!due || armed_ || stopped_) {
    return;
  }
  armed_ = true;
  timer_.expires_at(*due);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->armed_ = false;
    if (ec || self->stopped_) {
      return;
    }
    std::vector<Scan> scans;
    self->framer_.expire(std::chrono::steady_clock::now(), scans);
    self->flush(scans);
    self->arm();
  });
}

std::string describe_delay(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + " s";
  }
  return std::to_string(d.count()) + " ms";
}

}  // namespace packbench::drivers

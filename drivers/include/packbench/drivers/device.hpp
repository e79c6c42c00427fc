// What every device has in common: a name from the configuration, a backend type, and a state
// that the station shows to the packer and in /healthz.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace packbench::drivers {

enum class DeviceState {
  inactive,    // configured, not started
  connecting,  // trying to reach the device
  ready,       // reachable and idle
  busy,        // working on a job
  offline,     // could not be reached; the station retries
  fault,       // reachable but reports a problem (paper out, head open, ...)
};

constexpr std::string_view to_string(DeviceState s) {
  switch (s) {
    case DeviceState::inactive:
      return "inactive";
    case DeviceState::connecting:
      return "connecting";
    case DeviceState::ready:
      return "ready";
    case DeviceState::busy:
      return "busy";
    case DeviceState::offline:
      return "offline";
    case DeviceState::fault:
      return "fault";
  }
  return "unknown";
}

struct DeviceStatus {
  DeviceState state = DeviceState::inactive;
  std::string detail;  // in words, for people: "connection refused", "listening on ..."
  // What `detail` says, in fixed words a UI can translate, when the device reported it:
  // printers say paper_out, head_open, ribbon_out, paused, head_too_hot, buffer_full,
  // no_status_answer (took the connection, said nothing) or bad_status_answer (garbled).
  std::vector<std::string> conditions{};

  bool operator==(const DeviceStatus&) const = default;
};

// Device lifecycle: constructed (configured) -> activate() -> deactivate(). Devices are not
// copyable; all their work runs on the executor they were given.
class Device {
 public:
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  virtual ~Device() = default;

  virtual const std::string& name() const = 0;
  virtual std::string_view type() const = 0;
  virtual DeviceStatus status() const = 0;
  virtual void deactivate() = 0;
};

}  // namespace packbench::drivers

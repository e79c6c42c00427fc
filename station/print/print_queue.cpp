#include "station/print/print_queue.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "station/common/clock.hpp"

namespace packbench::station {

struct PrintQueue::Lane {
  Lane(boost::asio::any_io_executor ex, PrinterBinding b)
      : binding(std::move(b)), retry_timer(ex) {}
  PrinterBinding binding;
  boost::asio::steady_timer retry_timer;
  bool in_flight = false;
  bool waiting_retry = false;
  unsigned retry_generation = 0;  // tells the current retry wait from one cut short
  int failures = 0;
  // The printer's state as last logged: a change of state or condition is worth a line.
  drivers::DeviceState last_state = drivers::DeviceState::inactive;
  std::vector<std::string> last_conditions;
  std::set<std::int64_t> unrecorded;  // printed, but the store has not said so yet
};

PrintQueue::PrintQueue(boost::asio::any_io_executor ex, Database& db,
                       std::vector<PrinterBinding> printers, std::chrono::milliseconds retry_base,
                       std::chrono::milliseconds retry_cap)
    : ex_(std::move(ex)),
      db_(db),
      retry_base_(retry_base),
      retry_cap_(retry_cap),
      alive_(std::make_shared<bool>(true)) {
  for (auto& b : printers) {
    lanes_.push_back(std::make_unique<Lane>(ex_, std::move(b)));
    // A job held because the printer could not print (paper out, head open, unreachable) goes
    // out as soon as the printer says it is ready, not at the end of its back-off.
    Lane& lane = *lanes_.back();
    lane.binding.printer->on_status_change(
        [this, &lane, alive = alive_](const drivers::DeviceStatus& st) {
          if (!*alive) {
            return;
          }
          if (st.state != lane.last_state || st.conditions != lane.last_conditions) {
            lane.last_state = st.state;
            lane.last_conditions = st.conditions;
            const bool bad = st.state == drivers::DeviceState::fault ||
                             st.state == drivers::DeviceState::offline;
            spdlog::log(bad ? spdlog::level::warn : spdlog::level::info, "printer {}: {}: {}",
                        lane.binding.printer->name(), drivers::to_string(st.state), st.detail);
          }
          if (st.state == drivers::DeviceState::ready && lane.waiting_retry) {
            ++lane.retry_generation;
            lane.retry_timer.cancel();
            lane.waiting_retry = false;
            lane.failures = 0;
            spdlog::info("printer {} is ready: sending what waits for it",
                         lane.binding.printer->name());
            pump(lane);
          }
        });
  }
}

PrintQueue::~PrintQueue() {
  stop();
}

void PrintQueue::stop() {
  *alive_ = false;
  for (auto& lane : lanes_) {
    lane->retry_timer.cancel();
    lane->binding.printer->on_status_change({});
  }
}

std::int64_t PrintQueue::enqueue(const std::string& role, const std::string& order_id,
                                 const std::string& content_type, const std::string& data) {
  const auto lane = std::find_if(lanes_.begin(), lanes_.end(), [&](const auto& l) {
    const auto& roles = l->binding.roles;
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  });
  if (lane == lanes_.end()) {
    // Configuration validation makes every role the station prints served; reaching this is a
    // programming error, and it must not pass silently.
    throw StoreError(0, "no printer serves the role '" + role + "'");
  }
  db_.statement(
         "INSERT INTO print_jobs (order_id, role, printer, name, content_type, data, state, "
         "created_at) VALUES (?1, ?2, ?3, '', ?4, ?5, 'pending', ?6)")
      .bind(1, order_id)
      .bind(2, role)
      .bind(3, (*lane)->binding.printer->name())
      .bind(4, content_type)
      .bind_blob(5, data)
      .bind(6, now_utc())
      .run();
  const std::int64_t id = db_.last_insert_id();
  std::string safe_order;
  for (char c : order_id) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    safe_order.push_back(plain ? c : '_');
  }
  db_.statement("UPDATE print_jobs SET name = ?2 WHERE id = ?1")
      .bind_all(id, fmt::format("{:06}-{}-{}", id, role, safe_order))
      .run();
  return id;
}

void PrintQueue::kick() {
  for (auto& lane : lanes_) {
    pump(*lane);
  }
}

std::int64_t PrintQueue::pending_count() {
  auto n = db_.read([&] {
    auto sel = db_.statement("SELECT count(*) FROM print_jobs WHERE state = 'pending'");
    return sel.step() ? sel.column_int(0) : std::int64_t{0};
  });
  return n ? *n : -1;
}

bool PrintQueue::record_printed(Lane& lane, std::int64_t id) {
  auto done = db_.write([&] {
    db_.statement(
           "UPDATE print_jobs SET state = 'printed', printed_at = ?2, attempts = attempts + 1 "
           "WHERE id = ?1")
        .bind_all(id, now_utc())
        .run();
  });
  if (!done) {
    spdlog::error("print queue: job {} printed but not recorded: {}", id, done.error().message);
    return false;
  }
  lane.unrecorded.erase(id);
  return true;
}

void PrintQueue::wait_and_pump(Lane& lane, std::chrono::milliseconds delay) {
  lane.waiting_retry = true;
  lane.retry_timer.expires_after(delay);
  lane.retry_timer.async_wait(
      [this, &lane, alive = alive_, gen = ++lane.retry_generation](boost::system::error_code ec) {
        if (ec || !*alive || gen != lane.retry_generation) {
          return;
        }
        lane.waiting_retry = false;
        pump(lane);
      });
}

void PrintQueue::pump(Lane& lane) {
  if (!*alive_ || lane.in_flight || lane.waiting_retry) {
    return;
  }
  struct Next {
    std::int64_t id;
    drivers::PrintJob job;
  };
  auto next = db_.read([&]() -> std::optional<Next> {
    auto sel = db_.statement(
        "SELECT id, name, content_type, data FROM print_jobs "
        "WHERE printer = ?1 AND state = 'pending' ORDER BY id LIMIT 1");
    sel.bind_all(lane.binding.printer->name());
    if (!sel.step()) {
      return std::nullopt;
    }
    return Next{sel.column_int(0), {sel.column_text(1), sel.column_text(2), sel.column_text(3)}};
  });
  if (!next) {
    spdlog::error("print queue: cannot read pending jobs: {}", next.error().message);
    return;
  }
  if (!*next) {
    return;
  }
  const std::int64_t id = (*next)->id;
  if (lane.unrecorded.count(id)) {
    if (record_printed(lane, id)) {
      pump(lane);
    } else {
      wait_and_pump(lane, retry_cap_);
    }
    return;
  }
  lane.in_flight = true;
  const std::string name = (*next)->job.name;
  lane.binding.printer->print(std::move((*next)->job), [this, &lane, id, name,
                                                        alive = alive_](Result<void> r) {
    if (!*alive) {
      return;
    }
    lane.in_flight = false;
    if (r) {
      lane.failures = 0;
      if (!record_printed(lane, id)) {
        // The printer has it but the store could not say so: never print it again, and try
        // the record later rather than spin.
        lane.unrecorded.insert(id);
        wait_and_pump(lane, retry_base_);
        return;
      }
      spdlog::info("printed {} on {}", name, lane.binding.printer->name());
      pump(lane);
      return;
    }
    ++lane.failures;
    const std::chrono::milliseconds delay = std::min<std::chrono::milliseconds>(
        retry_cap_, retry_base_ * (1LL << std::min(lane.failures - 1, 16)));
    spdlog::warn("print job {} on {} failed ({}); retrying in {} ms", name,
                 lane.binding.printer->name(), r.error().message, delay.count());
    (void)db_.write([&] {
      db_.statement("UPDATE print_jobs SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")
          .bind_all(id, r.error().message)
          .run();
    });
    wait_and_pump(lane, delay);
  });
}

}  // namespace packbench::station

// Moves the write-ahead log into the database file on a thread and connection of its own, so
// that a packer's scan never waits behind a checkpoint. SQLite's automatic checkpoint runs
// inside the commit that crosses the threshold, which puts a database-file fsync on that scan.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "station/store/store.hpp"

namespace packbench::station {

class Checkpointer {
 public:
  // Takes over checkpointing for `db` (its automatic checkpoint is turned off) and checkpoints
  // whenever the log holds `threshold_pages` or more.
  explicit Checkpointer(Database& db, int threshold_pages = 1000);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  std::int64_t checkpoints() const { return done_; }

 private:
  static int on_commit(void* self, sqlite3*, const char*, int pages);
  void run();

  Database& db_;
  std::filesystem::path path_;
  int threshold_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::atomic<std::int64_t> done_{0};
  std::thread thread_;
};

}  // namespace packbench::station

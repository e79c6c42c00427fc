// Moves the write-ahead log into the database file on a thread and connection of its own, so
// that a packer's scan never waits behind a checkpoint. SQLite's automatic checkpoint runs
// inside the commit that crosses the threshold, which puts a database-file fsync on that scan.
//
// A checkpoint on another thread rarely catches the log whole while scans keep coming: the
// frames committed during it stay behind, the log is never started over and grows without end,
// and every commit then extends the file, which makes its fsync a journal commit of the file
// system as well. So once the thread has copied the bulk, the few frames left are copied on the
// database's own thread between two transactions (`defer` runs work there), and the next commit
// starts the log over from its beginning, in place.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "station/store/store.hpp"

namespace packbench::station {

class Checkpointer {
 public:
  // Runs `work` on the thread that uses the Database, after what it is doing now.
  using Defer = std::function<void(std::function<void()> work)>;

  // Takes over checkpointing for `db` (its automatic checkpoint is turned off) and checkpoints
  // whenever the log holds `threshold_pages` or more. Without `defer`, only the thread
  // checkpoints.
  explicit Checkpointer(Database& db, int threshold_pages = 1000, Defer defer = {});
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  std::int64_t checkpoints() const { return done_; }
  // How many times the log was caught whole on the database's thread.
  std::int64_t finished() const { return finished_; }

 private:
  static int on_commit(void* self, sqlite3*, const char*, int pages);
  void run();
  void finish();  // on the database's thread

  Database& db_;
  std::filesystem::path path_;
  int threshold_;
  Defer defer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::atomic<bool> busy_{false};  // from a request until its checkpoint is finished
  std::atomic<std::int64_t> done_{0};
  std::atomic<std::int64_t> finished_{0};
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // deferred work checks it
  std::thread thread_;
};

}  // namespace packbench::station

#include "station/store/checkpointer.hpp"

#include <spdlog/spdlog.h>

namespace packbench::station {

Checkpointer::Checkpointer(Database& db, int threshold_pages, Defer defer)
    : db_(db), path_(db.path()), threshold_(threshold_pages), defer_(std::move(defer)) {
  // Installing a WAL hook replaces SQLite's automatic checkpoint on this connection.
  sqlite3_wal_hook(db_.handle(), &Checkpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer() {
  alive_.reset();
  sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
  sqlite3_wal_autocheckpoint(db_.handle(), 1000);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int Checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  // One request at a time: the commits that come while it is being served do not queue more.
  if (pages >= c->threshold_ && !c->busy_.exchange(true)) {
    {
      std::lock_guard lock(c->mu_);
      c->wanted_ = true;
    }
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::run() {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    spdlog::error("checkpointer: cannot open {}: {}; SQLite checkpoints in the commits again",
                  path_.string(), conn ? sqlite3_errmsg(conn) : "out of memory");
    // Without this thread nothing would checkpoint and the log would grow without end.
    sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
    sqlite3_wal_autocheckpoint(db_.handle(), 1000);
    sqlite3_close(conn);
    return;
  }
  sqlite3_busy_timeout(conn, 1000);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return wanted_ || stopping_; });
      if (stopping_) {
        break;
      }
      wanted_ = false;
    }
    // PASSIVE: copy what no reader still needs, never wait for the writer.
    int log = 0;
    int copied = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(conn, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("checkpointer: {}", sqlite3_errmsg(conn));
    } else {
      ++done_;
    }
    if (defer_) {
      defer_([this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.lock()) {
          finish();
        }
      });
    } else {
      busy_ = false;
    }
  }
  sqlite3_close(conn);
}

void Checkpointer::finish() {
  // Between two transactions on the writer's own connection: nobody appends meanwhile, so this
  // copies the frames committed since the thread's checkpoint began, and the next commit starts
  // the log over.
  const int rc =
      sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    spdlog::warn("checkpointer: {}", sqlite3_errmsg(db_.handle()));
  } else {
    ++finished_;
  }
  busy_ = false;
}

}  // namespace packbench::station

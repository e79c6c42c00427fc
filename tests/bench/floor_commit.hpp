// What every durability benchmark compares against: a bare single-row INSERT committed in its
// own transaction, straight on the SQLite C API, WAL and synchronous=FULL. Kept in a file of its
// own beside the one measured, on the same disk.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

namespace packbench::bench {

class FloorCommit {
 public:
  explicit FloorCommit(const std::filesystem::path& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_exec(db_,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;",
                 nullptr, nullptr, nullptr);
    sqlite3_prepare_v2(db_, "INSERT INTO t (body) VALUES (?1)", -1, &insert_, nullptr);
  }
  ~FloorCommit() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  FloorCommit(const FloorCommit&) = delete;
  FloorCommit& operator=(const FloorCommit&) = delete;

  // Commits one row holding `body`; returns how long it took, in microseconds.
  double commit(std::string_view body) {
    const auto t0 = std::chrono::steady_clock::now();
    sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_text(insert_, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    sqlite3_step(insert_);
    sqlite3_reset(insert_);
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

// The p-quantile (0..1) of the samples, nearest rank.
inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace packbench::bench

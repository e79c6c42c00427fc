#include "station/store/store.hpp"

#include <fmt/format.h>

namespace packbench::station {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view context) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw StoreError(rc, fmt::format("{}: {} ({})", context, msg, sqlite3_errstr(rc)));
}

void check(sqlite3* db, int rc, std::string_view context) {
  if (rc != SQLITE_OK) {
    fail(db, rc, context);
  }
}

std::string pragma_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  check(db, sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), sql);
  std::string out;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    fail(db, rc, sql);
  }
  return out;
}

}  // namespace

// --- Statement -----------------------------------------------------------------------------

Statement& Statement::bind(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  check(db_,
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  check(db_, sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  check(db_, sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
        "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  fail(db_, rc, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

std::string Statement::column_text(int col) const {
  const auto* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> Statement::column_optional_text(int col) const {
  if (column_is_null(col)) {
    return std::nullopt;
  }
  return column_text(col);
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// --- Database ------------------------------------------------------------------------------

Database::Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      last_error_code_(other.last_error_code_),
      transaction_serial_(other.transaction_serial_),
      cache_(std::move(other.cache_)),
      used_(std::move(other.used_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    last_error_code_ = other.last_error_code_;
    transaction_serial_ = other.transaction_serial_;
    cache_ = std::move(other.cache_);
    used_ = std::move(other.used_);
  }
  return *this;
}

Database::~Database() {
  close();
}

void Database::close() noexcept {
  for (auto& [sql, entry] : cache_) {
    sqlite3_finalize(entry.stmt);
  }
  cache_.clear();
  used_.clear();
  if (db_) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Statement Database::statement(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      fail(db_, rc, sql);
    }
    it = cache_.emplace(std::string(sql), Cached{stmt}).first;
  } else {
    sqlite3_reset(it->second.stmt);
    sqlite3_clear_bindings(it->second.stmt);
  }
  if (!it->second.used) {
    it->second.used = true;
    used_.push_back(&it->second);
  }
  return Statement(db_, it->second.stmt);
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StoreError(rc, msg);
  }
}

// BEGIN and COMMIT go through the statement cache like everything else: sqlite3_exec would parse
// them again on every transaction, a measurable share of a scan's cost.
void Database::begin(bool immediate) {
  ++transaction_serial_;
  statement(immediate ? "BEGIN IMMEDIATE" : "BEGIN").run();
}

// A statement left on a row would hold its read open past the commit: reset the ones this
// transaction used (all of the cache would cost a scan more than it needs).
void Database::reset_used() noexcept {
  for (Cached* entry : used_) {
    sqlite3_reset(entry->stmt);
    entry->used = false;
  }
  used_.clear();
}

void Database::commit() {
  reset_used();
  statement("COMMIT").run();
  reset_used();
}

void Database::rollback() noexcept {
  // Statements left mid-step would keep the read snapshot open.
  reset_used();
  if (db_ && !sqlite3_get_autocommit(db_)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

int Database::schema_version() {
  return std::stoi(pragma_text(db_, "PRAGMA user_version"));
}

std::int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

Result<Database> Database::open(const std::filesystem::path& path, const OpenOptions& options) {
  const auto& migrations = options.migrations ? *options.migrations : station_migrations();
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Error{fmt::format("cannot create the state directory {}: {}",
                               path.parent_path().string(), ec.message())};
    }
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) {
    return Error{fmt::format("cannot open the store {}: {}", path.string(),
                             raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  try {
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, options.busy_timeout_ms);
    // A file that is not a database fails here, before anything is written to it.
    const std::string mode = pragma_text(raw, "PRAGMA journal_mode=WAL");
    if (mode != "wal") {
      return Error{
          fmt::format("the store {} refused WAL mode (journal_mode is '{}')", path.string(), mode)};
    }
    db.exec("PRAGMA synchronous=FULL");
    db.exec("PRAGMA foreign_keys=ON");

    if (options.check_integrity) {
      sqlite3_stmt* stmt = nullptr;
      check(raw, sqlite3_prepare_v2(raw, "PRAGMA integrity_check(20)", -1, &stmt, nullptr),
            "integrity_check");
      std::vector<std::string> problems;
      int step_rc;
      while ((step_rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(stmt, 0);
        std::string line = t ? reinterpret_cast<const char*>(t) : "";
        if (line != "ok") {
          problems.push_back(std::move(line));
        }
      }
      sqlite3_finalize(stmt);
      if (step_rc != SQLITE_DONE) {
        fail(raw, step_rc, "integrity_check");
      }
      if (!problems.empty()) {
        std::string joined;
        for (const auto& p : problems) {
          joined += "\n  " + p;
        }
        return Error{fmt::format(
            "the store {} failed its integrity check; refusing to start on it. Move it aside "
            "(keep it for recovery) and start again to begin with an empty store:{}",
            path.string(), joined)};
      }
    }

    const int current = db.schema_version();
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    if (current > latest) {
      return Error{fmt::format(
          "the store {} has schema version {}, written by a newer Packbench; this stationd "
          "knows versions up to {}. Upgrade stationd, or point it at another state directory",
          path.string(), current, latest)};
    }
    for (const auto& m : migrations) {
      if (m.version <= current) {
        continue;
      }
      db.begin(true);
      try {
        db.exec(m.sql);
        db.exec(fmt::format("PRAGMA user_version = {}", m.version));
        db.commit();
      } catch (const StoreError& e) {
        db.rollback();
        return Error{fmt::format("migration {} ({}) failed on {}: {}", m.version, m.name,
                                 path.string(), e.what())};
      }
    }
  } catch (const StoreError& e) {
    return Error{fmt::format("cannot use the store {}: {}", path.string(), e.what())};
  }
  return db;
}

}  // namespace packbench::station

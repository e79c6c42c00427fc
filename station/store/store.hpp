// The station's SQLite store: one file under the state directory, WAL mode, synchronous=FULL.
//
// A verdict shown to a packer or an event acknowledged to a peer means its row is on disk, so
// every business change runs inside Database::write(), and a change and the outbox event that
// reports it commit in the same transaction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "packbench/result.hpp"

namespace packbench::station {

// Raised by statements inside Database::write()/read(); those turn it into an Error and roll
// back. It never leaves the station module.
class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::nullopt_t);
  Statement& bind_blob(int index, std::string_view bytes);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
  }

  // Binds all arguments from index 1.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  bool step();  // true while a row is available
  void run();   // steps to the end, expecting no rows worth reading

  std::int64_t column_int(int col) const;
  std::string column_text(int col) const;
  std::optional<std::string> column_optional_text(int col) const;
  bool column_is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

struct OpenOptions {
  int busy_timeout_ms = 5000;
  bool check_integrity = true;
  const std::vector<Migration>* migrations = nullptr;  // nullptr: the station's own list
};

class Database {
 public:
  // Opens (creating it when missing) the database at `path`, checks its integrity, and brings
  // its schema up to date. Refuses a file written by a newer version of the station.
  static Result<Database> open(const std::filesystem::path& path, const OpenOptions& options = {});

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  // Runs `fn` in BEGIN IMMEDIATE ... COMMIT. An exception from inside (a StoreError from a
  // statement, or one `fn` throws to refuse) rolls the transaction back and comes out as an
  // Error; nothing is half-written. What `fn` returns is committed, whatever it is.
  template <class Fn>
  auto write(Fn&& fn) -> Result<decltype(fn())> {
    return transaction(true, std::forward<Fn>(fn));
  }
  // The same for reads: one consistent snapshot.
  template <class Fn>
  auto read(Fn&& fn) -> Result<decltype(fn())> {
    return transaction(false, std::forward<Fn>(fn));
  }

  // A prepared statement, cached by its text, reset and unbound. Valid inside write()/read().
  Statement statement(std::string_view sql);
  void exec(std::string_view sql);

  // The SQLite result code of the last write()/read() that failed (SQLITE_FULL: the disk or
  // the page limit is full), 0 when the failure was not SQLite's.
  int last_error_code() const { return last_error_code_; }

  // Counts transactions begun on this connection: tells code inside one whether it is still the
  // transaction it looked at before.
  std::uint64_t transaction_serial() const { return transaction_serial_; }

  int schema_version();
  std::int64_t last_insert_id() const;
  std::int64_t changes() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::filesystem::path path);
  void begin(bool immediate);
  void commit();
  void rollback() noexcept;
  void reset_used() noexcept;
  void close() noexcept;

  template <class Fn>
  auto transaction(bool immediate, Fn&& fn) -> Result<decltype(fn())> {
    using T = decltype(fn());
    try {
      begin(immediate);
      if constexpr (std::is_void_v<T>) {
        fn();
        commit();
        return {};
      } else {
        T value = fn();
        commit();
        return Result<T>(boost::system::in_place_value, std::move(value));
      }
    } catch (const StoreError& e) {
      rollback();
      last_error_code_ = e.code() & 0xFF;
      return Error{e.what()};
    } catch (const std::exception& e) {
      rollback();
      last_error_code_ = 0;
      return Error{e.what()};
    }
  }

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  int last_error_code_ = 0;
  std::uint64_t transaction_serial_ = 0;
  // Looked up by the SQL text without building a std::string for every statement.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Cached {
    sqlite3_stmt* stmt;
    bool used = false;  // handed out since the last commit or rollback
  };
  // unordered_map keeps its elements in place: used_ may point at them.
  std::unordered_map<std::string, Cached, TextHash, std::equal_to<>> cache_;
  std::vector<Cached*> used_;
};

// The station's schema, oldest first. Each entry is applied once, in order, in its own
// transaction; PRAGMA user_version records the last one applied.
const std::vector<Migration>& station_migrations();

}  // namespace packbench::station

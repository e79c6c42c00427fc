#include "station/store/store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fstream>

#include "station/store/checkpointer.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;

namespace {

std::string pragma(ps::Database& db, const char* sql) {
  auto r = db.read([&] {
    auto st = db.statement(sql);
    return st.step() ? st.column_text(0) : std::string();
  });
  return r ? *r : "error: " + r.error().message;
}

const std::vector<ps::Migration> kTwo = {
    {1, "first", "CREATE TABLE a (x INTEGER) STRICT;"},
    {2, "second", "CREATE TABLE b (y TEXT) STRICT; INSERT INTO a VALUES (2);"},
};

}  // namespace

TEST(Store, OpensInWalModeWithFullSyncAndTheStationSchema) {
  pt::TempDir dir;
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(pragma(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma(*db, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(db->schema_version(), ps::station_migrations().back().version);
  EXPECT_NE(pragma(*db, "SELECT name FROM sqlite_master WHERE name = 'outbox'"), "");
}

TEST(Store, MigrationsApplyOnceInOrder) {
  pt::TempDir dir;
  ps::OpenOptions opts;
  const std::vector<ps::Migration> one{kTwo[0]};
  opts.migrations = &one;
  { ASSERT_TRUE(ps::Database::open(dir / "s.db", opts)); }
  opts.migrations = &kTwo;
  for (int run = 0; run < 3; ++run) {
    auto db = ps::Database::open(dir / "s.db", opts);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(db->schema_version(), 2);
    // Migration 2's insert ran exactly once across the three opens.
    EXPECT_EQ(pragma(*db, "SELECT count(*) FROM a"), "1");
  }
}

TEST(Store, FailedMigrationLeavesNothingHalfDone) {
  pt::TempDir dir;
  const std::vector<ps::Migration> bad{
      kTwo[0], {2, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);"}};
  ps::OpenOptions opts;
  opts.migrations = &bad;
  auto db = ps::Database::open(dir / "s.db", opts);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("migration 2 (broken)"), std::string::npos);
  opts.migrations = &kTwo;
  auto again = ps::Database::open(dir / "s.db", opts);
  ASSERT_TRUE(again);
  EXPECT_EQ(pragma(*again, "SELECT count(*) FROM sqlite_master WHERE name = 'c'"), "0");
}

TEST(Store, RefusesADatabaseFromANewerVersion) {
  pt::TempDir dir;
  {
    ps::OpenOptions opts;
    opts.migrations = &kTwo;
    ASSERT_TRUE(ps::Database::open(dir / "s.db", opts));
  }
  const std::vector<ps::Migration> older{kTwo[0]};
  ps::OpenOptions opts;
  opts.migrations = &older;
  auto db = ps::Database::open(dir / "s.db", opts);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("newer"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("schema version 2"), std::string::npos);
}

TEST(Store, RefusesACorruptFile) {
  pt::TempDir dir;
  {
    auto db = ps::Database::open(dir / "station.db");
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->write([&] {
      for (int i = 0; i < 2000; ++i) {
        db->statement("INSERT INTO outbox (id, type, event, created_at) VALUES (?1, 't', ?2, 'x')")
            .bind_all("id-" + std::to_string(i), std::string(200, 'e'))
            .run();
      }
    }));
    db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  {
    // Scribble over pages in the middle of the file, as a failing disk would.
    std::fstream f(dir / "station.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 3);
    const std::string junk(4096 * 4, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_FALSE(db);
  const auto& msg = db.error().message;
  EXPECT_TRUE(msg.find("integrity") != std::string::npos ||
              msg.find("malformed") != std::string::npos)
      << msg;
}

TEST(Store, RefusesAFileThatIsNotADatabase) {
  pt::TempDir dir;
  pt::write_file(dir / "station.db", std::string(8192, 'x'));
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("station.db"), std::string::npos);
}

TEST(Store, TransactionRollsBackOnError) {
  pt::TempDir dir;
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db);
  auto r = db->write([&] {
    db->statement("INSERT INTO outbox (id, type, event, created_at) VALUES ('a', 't', '{}', 'x')")
        .run();
    // The same id again violates UNIQUE: the whole transaction goes.
    db->statement("INSERT INTO outbox (id, type, event, created_at) VALUES ('a', 't', '{}', 'x')")
        .run();
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("UNIQUE"), std::string::npos);
  EXPECT_EQ(pragma(*db, "SELECT count(*) FROM outbox"), "0");
  // And the connection is usable afterwards.
  EXPECT_TRUE(db->write([&] {
    db->statement("INSERT INTO outbox (id, type, event, created_at) VALUES ('b', 't', '{}', 'x')")
        .run();
  }));
  EXPECT_EQ(pragma(*db, "SELECT count(*) FROM outbox"), "1");
}

TEST(Store, ACommittedRowIsVisibleToAnotherConnection) {
  pt::TempDir dir;
  auto a = ps::Database::open(dir / "station.db");
  auto b = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->write([&] {
    a->statement("INSERT INTO outbox (id, type, event, created_at) VALUES ('x', 't', '{}', 'x')")
        .run();
  }));
  EXPECT_EQ(pragma(*b, "SELECT count(*) FROM outbox"), "1");
}

// Commits that never stop (one scan after another, as fast as they come) still let the log
// start over: the thread copies the bulk, the database's own thread the rest, between commits.
TEST(Checkpointer, TheLogStartsOverWhileCommitsKeepComing) {
  pt::TempDir dir;
  auto db = ps::Database::open(dir / "station.db");
  ASSERT_TRUE(db);
  boost::asio::io_context io;
  auto working = boost::asio::make_work_guard(io);  // poll() keeps taking handlers
  const int threshold = 20;
  ps::Checkpointer checkpointer(
      *db, threshold, [&](std::function<void()> work) { boost::asio::post(io, std::move(work)); });
  int n = 0;
  auto commit = [&] {
    return db->write([&] {
      db->statement("INSERT INTO outbox (id, type, event, created_at) VALUES (?1, 't', ?2, 'x')")
          .bind_all("id-" + std::to_string(n++), std::string(300, 'e'))
          .run();
    });
  };
  // Commit after commit; the database's thread runs what the checkpointer hands it in between.
  ASSERT_TRUE(pt::wait_until([&] {
    EXPECT_TRUE(commit());
    io.poll();
    return checkpointer.finished() >= 2;
  }));
  EXPECT_GE(checkpointer.checkpoints(), 2);
  // Everything was copied: the next commit writes the log from its start.
  ASSERT_TRUE(commit());
  int log = -1;
  int copied = -1;
  ASSERT_EQ(
      sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied),
      SQLITE_OK);
  EXPECT_LT(log, threshold);
  EXPECT_EQ(pragma(*db, "SELECT count(*) FROM outbox"), std::to_string(n));
}

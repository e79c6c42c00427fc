// The station's schema history. Append only: a released migration is never edited, a change is
// a new entry at the end.
#include "station/store/store.hpp"

namespace packbench::station {

const std::vector<Migration>& station_migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "orders, pack sessions, scans, print jobs, outbox", R"sql(
CREATE TABLE orders (
  id          TEXT PRIMARY KEY,
  doc         TEXT NOT NULL,              -- the order as imported, JSON
  status      TEXT NOT NULL CHECK (status IN ('ready', 'packing', 'packed', 'cancelled')),
  source      TEXT NOT NULL,              -- where it came from: a file name, 'demo', 'feed'
  imported_at TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE pack_sessions (
  id        INTEGER PRIMARY KEY,
  order_id  TEXT NOT NULL REFERENCES orders(id),
  state     TEXT NOT NULL CHECK (state IN ('open', 'complete', 'cancelled')),
  opened_at TEXT NOT NULL,
  closed_at TEXT
) STRICT;
-- One bench, one open order at a time.
CREATE UNIQUE INDEX pack_sessions_one_open ON pack_sessions(state) WHERE state = 'open';

-- Every scan the station received, accepted or not, with what it decided.
CREATE TABLE scans (
  id         INTEGER PRIMARY KEY,
  session_id INTEGER REFERENCES pack_sessions(id),
  scanner    TEXT NOT NULL,
  data       TEXT NOT NULL,
  verdict    TEXT NOT NULL,
  accepted   INTEGER NOT NULL,
  line_no    INTEGER,
  at         TEXT NOT NULL,
  mono_ns    INTEGER NOT NULL
) STRICT;
CREATE INDEX scans_by_session ON scans(session_id);

CREATE TABLE print_jobs (
  id           INTEGER PRIMARY KEY,
  order_id     TEXT,
  role         TEXT NOT NULL,
  printer      TEXT NOT NULL,
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  data         BLOB NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('pending', 'printed')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,
  created_at   TEXT NOT NULL,
  printed_at   TEXT
) STRICT;
CREATE INDEX print_jobs_pending ON print_jobs(printer, id) WHERE state = 'pending';

-- Events waiting for the back office. A row leaves when the peer has acknowledged it.
-- seq never repeats (AUTOINCREMENT) and is the CloudEvents sequence of the event.
CREATE TABLE outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,
  type       TEXT NOT NULL,
  subject    TEXT,
  event      TEXT NOT NULL,               -- the CloudEvent, JSON, without its sequence
  created_at TEXT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
) STRICT;
)sql"},
  };
  return kMigrations;
}

}  // namespace packbench::station

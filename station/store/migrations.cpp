// The station's schema history. Append only: a released migration is never edited, a change is
// a new entry at the end.
#include "station/discount/pool.hpp"
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
      {2, "pack verification: boxes, quantities, serials and lots, overrides, packers, audit",
       R"sql(
ALTER TABLE pack_sessions ADD COLUMN box INTEGER NOT NULL DEFAULT 1;  -- the box being filled
ALTER TABLE pack_sessions ADD COLUMN pending TEXT;     -- JSON: what the next scan is taken as
ALTER TABLE pack_sessions ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pack_sessions ADD COLUMN exception TEXT;   -- JSON, when closed short by a supervisor

ALTER TABLE scans ADD COLUMN order_id TEXT;
ALTER TABLE scans ADD COLUMN box INTEGER;
ALTER TABLE scans ADD COLUMN qty INTEGER NOT NULL DEFAULT 0;  -- items this scan counted
ALTER TABLE scans ADD COLUMN serial TEXT;
ALTER TABLE scans ADD COLUMN lot TEXT;
ALTER TABLE scans ADD COLUMN expiry TEXT;
ALTER TABLE scans ADD COLUMN symbology TEXT;
ALTER TABLE scans ADD COLUMN packer TEXT;
ALTER TABLE scans ADD COLUMN message TEXT;
ALTER TABLE scans ADD COLUMN undone INTEGER NOT NULL DEFAULT 0;
UPDATE scans SET
  order_id = (SELECT order_id FROM pack_sessions WHERE pack_sessions.id = scans.session_id),
  qty = CASE WHEN accepted = 1 AND line_no IS NOT NULL THEN 1 ELSE 0 END,
  box = CASE WHEN line_no IS NOT NULL THEN 1 END;
CREATE INDEX scans_by_order ON scans(order_id) WHERE qty > 0;
CREATE INDEX scans_by_time ON scans(at);

-- Running totals per packer ('' for nobody logged in), kept with each scan, for /metrics.
CREATE TABLE scan_counts (
  packer   TEXT PRIMARY KEY,
  scans    INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  items    INTEGER NOT NULL DEFAULT 0,   -- counted by scans, whatever happened to them later
  undone   INTEGER NOT NULL DEFAULT 0,   -- taken back by CMD-UNDO
  packs    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Who is at the bench, and what an idle bench waits for (a supervisor's reopen).
CREATE TABLE station_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Every scan, verdict, override and state change, in order. Nothing ever changes or leaves it.
CREATE TABLE audit (
  id       INTEGER PRIMARY KEY,
  at       TEXT NOT NULL,      -- wall clock, UTC
  mono_ns  INTEGER NOT NULL,   -- monotonic clock of the station's boot
  station  TEXT NOT NULL,
  packer   TEXT,
  kind     TEXT NOT NULL CHECK (kind IN ('scan', 'verdict', 'override', 'state')),
  order_id TEXT,
  detail   TEXT NOT NULL       -- JSON
) STRICT;
CREATE INDEX audit_by_time ON audit(at);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql"},
      {3, "barcodes of every known order, to tell a wrong item from an unknown code", R"sql(
CREATE TABLE order_barcodes (
  key      TEXT NOT NULL,   -- as matched: GTIN-14 where the code is a GTIN
  order_id TEXT NOT NULL REFERENCES orders(id),
  PRIMARY KEY (key, order_id)
) STRICT, WITHOUT ROWID;
)sql"},
      // Version 4 belongs to the scans table; this one touches only the outbox and its own tables.
      {5, "outbox lanes, byte accounting, monotonic ages, dead letters", R"sql(
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'business'
  CHECK (lane IN ('business', 'bulk'));
ALTER TABLE outbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;            -- size of `event`
ALTER TABLE outbox ADD COLUMN created_mono_ns INTEGER NOT NULL DEFAULT 0;  -- monotonic clock
UPDATE outbox SET bytes = length(CAST(event AS BLOB));
-- Bulk events block later business events of the same subject (FIFO per subject): found here.
CREATE INDEX outbox_bulk_by_subject ON outbox(subject, seq) WHERE lane = 'bulk';

-- Events the back office refused (400, 413 alone, 415, 422) or that outlived their lane's TTL.
-- They keep their seq and id: put back in the outbox, they are the same events.
CREATE TABLE outbox_dead (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  lane            TEXT NOT NULL,
  type            TEXT NOT NULL,
  subject         TEXT,
  event           TEXT NOT NULL,
  bytes           INTEGER NOT NULL,
  created_at      TEXT NOT NULL,
  created_mono_ns INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  last_error      TEXT,
  reason          TEXT NOT NULL,          -- 'http_400', 'http_413', 'expired', ...
  dead_at         TEXT NOT NULL
) STRICT;

-- Events and bytes per lane, kept by triggers in the transaction that changes them, so that
-- the cap is checked without reading the outbox. 'dead' counts the dead letters.
CREATE TABLE outbox_usage (
  lane   TEXT PRIMARY KEY,
  events INTEGER NOT NULL,
  bytes  INTEGER NOT NULL
) STRICT;
INSERT INTO outbox_usage (lane, events, bytes) VALUES ('business', 0, 0), ('bulk', 0, 0), ('dead', 0, 0);
UPDATE outbox_usage SET
  events = (SELECT count(*) FROM outbox WHERE outbox.lane = outbox_usage.lane),
  bytes = (SELECT coalesce(sum(bytes), 0) FROM outbox WHERE outbox.lane = outbox_usage.lane)
WHERE lane != 'dead';
CREATE TRIGGER outbox_usage_insert AFTER INSERT ON outbox BEGIN
  UPDATE outbox_usage SET events = events + 1, bytes = bytes + NEW.bytes WHERE lane = NEW.lane;
END;
CREATE TRIGGER outbox_usage_delete AFTER DELETE ON outbox BEGIN
  UPDATE outbox_usage SET events = events - 1, bytes = bytes - OLD.bytes WHERE lane = OLD.lane;
END;
CREATE TRIGGER outbox_dead_usage_insert AFTER INSERT ON outbox_dead BEGIN
  UPDATE outbox_usage SET events = events + 1, bytes = bytes + NEW.bytes WHERE lane = 'dead';
END;
CREATE TRIGGER outbox_dead_usage_delete AFTER DELETE ON outbox_dead BEGIN
  UPDATE outbox_usage SET events = events - 1, bytes = bytes - OLD.bytes WHERE lane = 'dead';
END;
)sql"},
      {6, "discount codes, pools and signed-code serials", discount::kDiscountSchemaSql},
      {7, "the order feed: its cursor, order versions, cancellations and held changes", R"sql(
-- The newest version of the order the back office's feed has sent (applied or reported), so
-- that an older one arriving late is ignored. NULL for orders loaded from a file.
ALTER TABLE orders ADD COLUMN version INTEGER;

-- Where the feed is: the cursor of the last page applied, in the same transaction as the page.
CREATE TABLE order_feed (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  url         TEXT NOT NULL,             -- the feed the cursor belongs to
  cursor      TEXT NOT NULL,             -- '' before the first page
  etag        TEXT,                      -- the ETag of the last answer to ...
  etag_cursor TEXT,                      -- ... the request with this cursor
  pages       INTEGER NOT NULL DEFAULT 0,
  applied_at  TEXT                       -- when the last page was applied, wall clock
) STRICT;

-- What the back office asked that the station did not simply apply: every cancellation (kept,
-- so that an order arriving after its cancellation stays cancelled), and edits held while the
-- order is on the bench. One row per order: a cancellation replaces a held edit.
CREATE TABLE order_feed_changes (
  order_id    TEXT PRIMARY KEY,
  change      TEXT NOT NULL CHECK (change IN ('cancel', 'edit')),
  state       TEXT NOT NULL CHECK (state IN ('held', 'applied', 'rejected', 'early')),
  version     INTEGER,
  doc         TEXT,                      -- edit: the new order, JSON
  reason      TEXT,                      -- cancel: as the back office gave it
  received_at TEXT NOT NULL,
  settled_at  TEXT
) STRICT;
CREATE INDEX order_feed_changes_held ON order_feed_changes(order_id) WHERE state = 'held';
)sql"},
  };
  return kMigrations;
}

}  // namespace packbench::station

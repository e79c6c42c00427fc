// The station's schema history. Append only: a released migration is never edited, a change is
// a new entry at the end.
#include "station/discount/pool.hpp"
#include "station/discount/pool_claims.hpp"
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
      // Version 4 is not used: the scans table's change came later, as version 7.
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
      {7, "scans are append-only and their own audit record; running figures by the minute",
       R"sql(
-- A scan is one row, written once: it is the audit record of the scan and its verdict. CMD-UNDO
-- no longer marks the scan it takes back: its own row carries minus that scan's quantity, with
-- the line, box and serial, and names the scan in `undoes`. Rows undone before this version keep
-- undone = 1 (and their CMD-UNDO row qty = 0); no row is marked any more.
ALTER TABLE scans ADD COLUMN station TEXT;
ALTER TABLE scans ADD COLUMN undoes INTEGER;
UPDATE scans SET station = (SELECT station FROM audit ORDER BY id DESC LIMIT 1);

-- One index where there were three: the scans that count items (or take them back), by order
-- and session. Each index is a page more written with every scan. The time needs none: rows are
-- appended in time order, so a time range is a range of ids.
DROP INDEX scans_by_session;
DROP INDEX scans_by_order;
DROP INDEX scans_by_time;
CREATE INDEX scans_counted ON scans(order_id, session_id) WHERE qty != 0;

CREATE TRIGGER scans_append_only_update BEFORE UPDATE ON scans
BEGIN SELECT RAISE(ABORT, 'scans are append-only'); END;
CREATE TRIGGER scans_append_only_delete BEFORE DELETE ON scans
BEGIN SELECT RAISE(ABORT, 'scans are append-only'); END;

-- audit keeps the overrides and state changes, each naming the scan that caused it. Rows of
-- kind 'scan' written before this version stay; scans now records them. Like scans, it is
-- written in time order: a time range is a range of ids, and no index on the time is kept.
ALTER TABLE audit ADD COLUMN scan_id INTEGER;
DROP INDEX audit_by_time;

-- Running figures per packer ('' for nobody logged in): the totals (period 'total') and one
-- row per minute (period 'YYYY-MM-DDTHH:MM', UTC) of the last hour. A scan does not update them
-- (that would be one page more in every commit): the scans after 'counts_through' in
-- station_state are added when the figures are read (scan_counts_pending, scan_figures), and
-- folded in from time to time. Minute rows older than an hour are deleted then.
CREATE TABLE scan_counts_next (
  packer   TEXT NOT NULL,
  period   TEXT NOT NULL,
  scans    INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  items    INTEGER NOT NULL DEFAULT 0,  -- totals: counted by scans, whatever happened to them
                                        -- later; minutes: net of the ones undone since
  undone   INTEGER NOT NULL DEFAULT 0,  -- totals: taken back by CMD-UNDO
  packs    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (packer, period)
) STRICT, WITHOUT ROWID;
INSERT INTO scan_counts_next (packer, period, scans, rejected, items, undone, packs)
  SELECT packer, 'total', scans, rejected, items, undone, packs FROM scan_counts;
INSERT INTO scan_counts_next (packer, period, scans, rejected, items, undone, packs)
  SELECT coalesce(packer, ''), substr(at, 1, 16), count(*), sum(accepted = 0),
         sum(CASE WHEN undone = 0 THEN qty ELSE 0 END), 0,
         sum(verdict IN ('order_complete', 'order_closed_short'))
  FROM scans WHERE at >= strftime('%Y-%m-%dT%H:%M', 'now', '-60 minutes')
  GROUP BY coalesce(packer, ''), substr(at, 1, 16);
DROP TABLE scan_counts;
ALTER TABLE scan_counts_next RENAME TO scan_counts;
INSERT OR REPLACE INTO station_state (key, value)
  SELECT 'counts_through', CAST(coalesce(max(id), 0) AS TEXT) FROM scans;

-- What the scans after 'counts_through' add to scan_counts: the totals of the packer who
-- scanned; the minute of the scan; and, for an undo, minus the items in the minute (and for
-- the packer) of the scan it took back.
CREATE VIEW scan_counts_pending (packer, period, scans, rejected, items, undone, packs) AS
  WITH minutes AS (
    SELECT coalesce(packer, '') AS packer, substr(at, 1, 16) AS minute, count(*) AS scans,
           sum(accepted = 0) AS rejected, sum(max(qty, 0)) AS items,
           sum(iif(undoes IS NULL, 0, -qty)) AS undone,
           sum(verdict IN ('order_complete', 'order_closed_short')) AS packs
    FROM scans
    WHERE id > coalesce(
      (SELECT CAST(value AS INTEGER) FROM station_state WHERE key = 'counts_through'), 0)
    GROUP BY coalesce(packer, ''), substr(at, 1, 16))
  SELECT packer, 'total', sum(scans), sum(rejected), sum(items), sum(undone), sum(packs)
  FROM minutes GROUP BY packer
  UNION ALL
  SELECT packer, minute, scans, rejected, items, 0, packs FROM minutes
  UNION ALL
  SELECT coalesce(o.packer, ''), substr(o.at, 1, 16), 0, 0, sum(u.qty), 0, 0
  FROM scans u JOIN scans o ON o.id = u.undoes
  WHERE u.id > coalesce(
    (SELECT CAST(value AS INTEGER) FROM station_state WHERE key = 'counts_through'), 0)
    AND u.undoes IS NOT NULL
  GROUP BY coalesce(o.packer, ''), substr(o.at, 1, 16);

-- The figures as they are now: what was folded in, and what came since.
CREATE VIEW scan_figures (packer, period, scans, rejected, items, undone, packs) AS
  SELECT packer, period, sum(scans), sum(rejected), sum(items), sum(undone), sum(packs)
  FROM (SELECT packer, period, scans, rejected, items, undone, packs FROM scan_counts
        UNION ALL
        SELECT packer, period, scans, rejected, items, undone, packs FROM scan_counts_pending)
  GROUP BY packer, period;

-- The whole trail in one place: every scan with its verdict, and every override and state
-- change. In order: ORDER BY at, scan_id, event_id (a scan, then what it caused).
CREATE VIEW audit_log (at, mono_ns, station, packer, kind, order_id, scan_id, event_id, detail) AS
  SELECT at, mono_ns, station, packer, 'scan', order_id, id, NULL,
         json_object('scanner', scanner, 'data', data, 'symbology', symbology,
                     'verdict', verdict, 'accepted', json(iif(accepted, 'true', 'false')),
                     'message', message, 'line', line_no, 'box', box, 'qty', qty,
                     'serial', serial, 'lot', lot, 'expiry', expiry, 'undoes', undoes)
  FROM scans
  UNION ALL
  SELECT at, mono_ns, station, packer, kind, order_id, scan_id, id, detail
  FROM audit WHERE kind != 'scan';
)sql"},
      {8, "the order feed: its cursor, order versions, cancellations and held changes", R"sql(
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
      {9, "the outbox by lane and age; dead letters of the bulk lane counted apart", R"sql(
-- An event's age does not always grow with its sequence: one put back from the dead letters
-- keeps its sequence and starts a new age. TTLs and the age of the oldest event read this.
CREATE INDEX outbox_by_age ON outbox(lane, created_mono_ns);

-- Dead letters count against the outbox's cap, and those of the bulk lane (expired photos)
-- against the bulk lane's share too: 'dead_bulk' counts them ('dead' still counts them all).
INSERT INTO outbox_usage (lane, events, bytes)
  SELECT 'dead_bulk', count(*), coalesce(sum(bytes), 0) FROM outbox_dead WHERE lane = 'bulk';
CREATE TRIGGER outbox_dead_bulk_usage_insert AFTER INSERT ON outbox_dead WHEN NEW.lane = 'bulk'
BEGIN
  UPDATE outbox_usage SET events = events + 1, bytes = bytes + NEW.bytes WHERE lane = 'dead_bulk';
END;
CREATE TRIGGER outbox_dead_bulk_usage_delete AFTER DELETE ON outbox_dead WHEN OLD.lane = 'bulk'
BEGIN
  UPDATE outbox_usage SET events = events - 1, bytes = bytes - OLD.bytes WHERE lane = 'dead_bulk';
END;
)sql"},
      {10, "parcels' SSCCs and the counters their serial references come from", R"sql(
-- The last serial reference given under each company prefix, extension digit and serial prefix
-- ([shipping]): taken in the transaction that queues a parcel's label.
CREATE TABLE sscc_serials (
  company_prefix TEXT NOT NULL,
  extension      INTEGER NOT NULL,
  serial_prefix  TEXT NOT NULL,
  last           INTEGER NOT NULL,
  PRIMARY KEY (company_prefix, extension, serial_prefix)
) STRICT;

-- The SSCC each parcel (an order's box) was given; a box labelled again keeps it.
CREATE TABLE parcels (
  order_id    TEXT NOT NULL,
  box         INTEGER NOT NULL,
  sscc        TEXT NOT NULL UNIQUE,
  labelled_at TEXT NOT NULL,
  PRIMARY KEY (order_id, box)
) STRICT;
)sql"},
      {11, "claims of discount codes from the back office, and the claim of each pulled code",
       discount::kDiscountClaimsSql},
  };
  return kMigrations;
}

}  // namespace packbench::station

-- logtally schema, version 6: campaign details, and the permanent record of human visits.

-- A referrer row now also holds the campaign details of the query that came with it (empty when
-- none): one row per distinct (host, source, medium, campaign, content, term), so events stay
-- as small as before. Rebuilt to widen its unique key; ids are kept.
CREATE TABLE referrers_v6 (
    id           INTEGER PRIMARY KEY,
    host         TEXT NOT NULL,
    source       TEXT NOT NULL,
    utm_medium   TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_content  TEXT NOT NULL DEFAULT '',
    utm_term     TEXT NOT NULL DEFAULT '',
    UNIQUE (host, source, utm_medium, utm_campaign, utm_content, utm_term)
);
INSERT INTO referrers_v6 (id, host, source) SELECT id, host, source FROM referrers;
DROP TABLE referrers;
ALTER TABLE referrers_v6 RENAME TO referrers;

-- The permanent record of human traffic, filled by rollup and never deleted by cleanup (unless
-- retention.record_days says so): what filters, campaigns and goals over all history need.
-- Bots never enter it, and neither do addresses or visitor hashes.

-- Its strings (sites, paths, sources, campaign fields, browsers, systems, devices, countries).
CREATE TABLE record_strings (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

-- One row per day: its visits and their requests, packed (the layout is in store/record.rs):
-- about 4 bytes a page view. A day is written whole and read whole.
CREATE TABLE record_days (
    day       INTEGER PRIMARY KEY,  -- days since 1970-01-01 in the database's zone
    visits    INTEGER NOT NULL,
    pageviews INTEGER NOT NULL,
    data      BLOB NOT NULL
);

-- Imports running now, each until it ends (a crashed one is told by its process being gone).
-- cleanup removes no raw events while one runs: an import writes a day over many commits, and a
-- rollup and cleanup between two of them would make the day final with part of its lines.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,
    start_ticks INTEGER NOT NULL,  -- the process's start time (/proc/PID/stat), against reused PIDs
    started_at  INTEGER NOT NULL   -- unix ms
);

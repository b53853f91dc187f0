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

-- One row per visit; ids of record_strings, NULL where a campaign field is absent.
CREATE TABLE visits (
    id           INTEGER PRIMARY KEY,
    day          INTEGER NOT NULL,  -- days since 1970-01-01 in the database's zone
    site         INTEGER NOT NULL,
    visitor      INTEGER NOT NULL,  -- number of the visitor within its site and day
    entry        INTEGER NOT NULL,
    exit         INTEGER NOT NULL,
    source       INTEGER NOT NULL,
    utm_source   INTEGER,
    utm_medium   INTEGER,
    utm_campaign INTEGER,
    utm_content  INTEGER,
    utm_term     INTEGER,
    browser      INTEGER NOT NULL,
    os           INTEGER NOT NULL,
    device       INTEGER NOT NULL,
    country      INTEGER,
    pageviews    INTEGER NOT NULL,
    duration_s   INTEGER NOT NULL
);

-- The requests of each visit, in order: pages viewed, and what else a goal may name.
CREATE TABLE visit_hits (
    visit  INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    path   INTEGER NOT NULL,
    method INTEGER NOT NULL,
    status INTEGER NOT NULL,
    page   INTEGER NOT NULL,  -- 1 for a page view
    hour   INTEGER NOT NULL,  -- local clock hour
    PRIMARY KEY (visit, seq)
) WITHOUT ROWID;

-- Per day: the range of its visits' ids (a day is written whole, so its ids are contiguous).
CREATE TABLE record_days (
    day        INTEGER PRIMARY KEY,
    first_id   INTEGER NOT NULL,
    last_id    INTEGER NOT NULL
) WITHOUT ROWID;

-- Imports running now, each until it ends (a crashed one is told by its process being gone).
-- cleanup removes no raw events while one runs: an import writes a day over many commits, and a
-- rollup and cleanup between two of them would make the day final with part of its lines.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,
    start_ticks INTEGER NOT NULL,  -- the process's start time (/proc/PID/stat), against reused PIDs
    started_at  INTEGER NOT NULL   -- unix ms
);

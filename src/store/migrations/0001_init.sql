-- logtally schema, version 1. Never edit once shipped: add a new numbered file instead.

-- Dictionary tables: each distinct string stored once; events hold integer ids.
CREATE TABLE sites (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE paths (
    id   INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE
);

-- A referrer is kept as its host and the source it counts for (never the full URL).
CREATE TABLE referrers (
    id     INTEGER PRIMARY KEY,
    host   TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (host, source)
);

-- Each distinct user agent once; browser/os/device and the bot verdict are decided once per agent.
CREATE TABLE agents (
    id      INTEGER PRIMARY KEY,
    agent   TEXT NOT NULL UNIQUE,
    browser TEXT,
    os      TEXT,
    device  TEXT,
    bot     INTEGER NOT NULL DEFAULT 0
);

-- Raw hits, written in batches, read only by rollup. No secondary index: inserts stay fast.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,           -- unix ms, UTC
    site        INTEGER NOT NULL,           -- sites.id
    path        INTEGER,                    -- paths.id, NULL for a request without a path
    referrer    INTEGER,                    -- referrers.id, NULL for none
    agent       INTEGER,                    -- agents.id, NULL for none
    visitor     INTEGER NOT NULL,           -- keyed hash of (day salt, address, user agent)
    status      INTEGER NOT NULL,
    bytes       INTEGER,
    method      INTEGER NOT NULL,           -- see classify::Method
    duration_us INTEGER,                    -- time to serve, microseconds
    kind        INTEGER NOT NULL,           -- 0 page, 1 asset, 2 other
    bot         INTEGER NOT NULL DEFAULT 0  -- 0 human, else a bot reason code
);

-- Every log file read, by content identity, with the offset committed with its events.
CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,              -- where it was last seen
    fingerprint INTEGER NOT NULL,           -- hash of the first line
    dev         INTEGER,
    ino         INTEGER,
    gzip        INTEGER NOT NULL DEFAULT 0,
    offset      INTEGER NOT NULL DEFAULT 0, -- bytes (decompressed) committed
    lines       INTEGER NOT NULL DEFAULT 0, -- lines committed (hits, rejects and blanks)
    marker_len  INTEGER NOT NULL DEFAULT 0, -- bytes before offset covered by marker
    marker      INTEGER NOT NULL DEFAULT 0, -- hash of those bytes
    updated_at  INTEGER NOT NULL            -- unix ms
);
CREATE INDEX files_fingerprint ON files (fingerprint);

-- One random salt per day (in the configured time zone); deleted once the day is rolled up.
CREATE TABLE salts (
    day  INTEGER PRIMARY KEY,               -- days since 1970-01-01
    salt BLOB NOT NULL
);

-- Rejected lines: counts per file and reason, and a few samples (addresses redacted).
CREATE TABLE rejects (
    file   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (file, reason)
) WITHOUT ROWID;

CREATE TABLE reject_samples (
    file   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    line   INTEGER NOT NULL,
    sample TEXT NOT NULL,
    PRIMARY KEY (file, reason, line)
) WITHOUT ROWID;

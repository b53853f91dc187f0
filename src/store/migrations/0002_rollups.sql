-- logtally schema, version 2: a sparse time index of events, and the daily rollups.

-- Where each 15-minute bucket of time lives in `events`: one row per bucket per committed batch.
-- It lets rollup and cleanup read one day's events by rowid ranges without an index on `events`
-- (which would slow every insert). 15 minutes divides every time zone offset, so a bucket never
-- straddles a local midnight.
CREATE TABLE event_spans (
    bucket INTEGER NOT NULL,     -- ts / 900000
    min_id INTEGER NOT NULL,
    max_id INTEGER NOT NULL,
    rows   INTEGER NOT NULL
);
CREATE INDEX event_spans_bucket ON event_spans (bucket);

-- Small settings shared by processes; `dict_generation` changes whenever cleanup deletes
-- dictionary rows, so writers drop their cached ids.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('dict_generation', 0);

-- Per local day: the highest event id rolled up, and whether cleanup has removed its raw events
-- (such a day's rollups are final: `rollup --rebuild` leaves them alone).
CREATE TABLE rollup_state (
    day       TEXT PRIMARY KEY,  -- YYYY-MM-DD in the rollup time zone
    max_id    INTEGER NOT NULL,
    thinned   INTEGER NOT NULL DEFAULT 0,
    tz        TEXT NOT NULL,
    rolled_at INTEGER NOT NULL   -- unix ms
) WITHOUT ROWID;

-- Rollups: one row per (site, day, key), keyed in that order so a report on one site reads one
-- contiguous range. Keys are text, so rollups outlive the raw events and the dictionary rows they
-- came from. "Human" figures exclude bots; hits and status counts include them.
CREATE TABLE daily_totals (
    day TEXT NOT NULL, site TEXT NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL, visits INTEGER NOT NULL,
    bounces INTEGER NOT NULL, duration_s INTEGER NOT NULL,
    hits INTEGER NOT NULL, bytes INTEGER NOT NULL, bot_hits INTEGER NOT NULL,
    status_4xx INTEGER NOT NULL, status_5xx INTEGER NOT NULL,
    PRIMARY KEY (site, day)
) WITHOUT ROWID;

CREATE TABLE daily_pages (
    day TEXT NOT NULL, site TEXT NOT NULL, path TEXT NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL,
    PRIMARY KEY (site, day, path)
) WITHOUT ROWID;

CREATE TABLE daily_entry_pages (
    day TEXT NOT NULL, site TEXT NOT NULL, path TEXT NOT NULL,
    visits INTEGER NOT NULL, bounces INTEGER NOT NULL,
    PRIMARY KEY (site, day, path)
) WITHOUT ROWID;

CREATE TABLE daily_referrers (
    day TEXT NOT NULL, site TEXT NOT NULL, source TEXT NOT NULL,
    visits INTEGER NOT NULL, visitors INTEGER NOT NULL, pageviews INTEGER NOT NULL,
    PRIMARY KEY (site, day, source)
) WITHOUT ROWID;

CREATE TABLE daily_browsers (
    day TEXT NOT NULL, site TEXT NOT NULL, browser TEXT NOT NULL,
    visitors INTEGER NOT NULL, pageviews INTEGER NOT NULL,
    PRIMARY KEY (site, day, browser)
) WITHOUT ROWID;

CREATE TABLE daily_os (
    day TEXT NOT NULL, site TEXT NOT NULL, os TEXT NOT NULL,
    visitors INTEGER NOT NULL, pageviews INTEGER NOT NULL,
    PRIMARY KEY (site, day, os)
) WITHOUT ROWID;

CREATE TABLE daily_devices (
    day TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL,
    visitors INTEGER NOT NULL, pageviews INTEGER NOT NULL,
    PRIMARY KEY (site, day, device)
) WITHOUT ROWID;

CREATE TABLE daily_countries (
    day TEXT NOT NULL, site TEXT NOT NULL, country TEXT NOT NULL,
    visitors INTEGER NOT NULL, pageviews INTEGER NOT NULL,
    PRIMARY KEY (site, day, country)
) WITHOUT ROWID;

CREATE TABLE daily_status (
    day TEXT NOT NULL, site TEXT NOT NULL, status INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (site, day, status)
) WITHOUT ROWID;

CREATE TABLE daily_not_found (
    day TEXT NOT NULL, site TEXT NOT NULL, path TEXT NOT NULL,
    hits INTEGER NOT NULL, bot_hits INTEGER NOT NULL,
    PRIMARY KEY (site, day, path)
) WITHOUT ROWID;

CREATE TABLE daily_bots (
    day TEXT NOT NULL, site TEXT NOT NULL, reason INTEGER NOT NULL,
    hits INTEGER NOT NULL, visitors INTEGER NOT NULL,
    PRIMARY KEY (site, day, reason)
) WITHOUT ROWID;

-- Hours from local midnight (0..22 on a day that skips an hour, 0..24 on one that repeats one).
CREATE TABLE hourly_totals (
    day TEXT NOT NULL, site TEXT NOT NULL, hour INTEGER NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL, hits INTEGER NOT NULL,
    PRIMARY KEY (site, day, hour)
) WITHOUT ROWID;

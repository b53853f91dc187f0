-- logtally schema, version 9: history imported from other services' exports (Plausible, ...),
-- in tables of its own, each row marked by its import. Reports add an imported day of a site
-- only where the logs hold no figures for that site and day (the logs win), so no day is ever
-- counted from both; `import-history remove` takes an import out again.

CREATE TABLE history_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never given again after a remove
    source TEXT NOT NULL,           -- plausible, fathom, goatcounter, umami
    digest TEXT NOT NULL,           -- of the export's files' contents, whatever their names
    site TEXT NOT NULL,
    zone TEXT NOT NULL,             -- the zone its days are dates of
    first_day TEXT,
    last_day TEXT,
    days INTEGER NOT NULL,
    fill_first_day INTEGER NOT NULL,  -- 1: fills the logs' first (partial) day of the site
    files TEXT NOT NULL,            -- the files it was read from, one per line
    tables TEXT NOT NULL,           -- the rollup tables it has figures of, one per line
    imported_at INTEGER NOT NULL,   -- unix ms
    UNIQUE (site, digest)
);

-- A site's daily totals, as daily_totals holds them for log days.
CREATE TABLE history_totals (
    site TEXT NOT NULL, day TEXT NOT NULL, import INTEGER NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL, visits INTEGER NOT NULL,
    bounces INTEGER NOT NULL, duration_s INTEGER NOT NULL,
    PRIMARY KEY (site, day)
) WITHOUT ROWID;

-- A site's daily figures by key, for the rollup table `tbl` names (daily_pages, ...); the
-- columns a table has not are 0 and never read.
CREATE TABLE history_keyed (
    tbl TEXT NOT NULL, site TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL,
    import INTEGER NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL, visits INTEGER NOT NULL,
    bounces INTEGER NOT NULL,
    PRIMARY KEY (tbl, site, day, key)
) WITHOUT ROWID;
-- Rows are written in key order (tbl, site, day, key), so an import appends to the tree.

-- The same figures summed by calendar month (`month` its first day, `month_last` its last), for
-- reads over whole months the logs do not touch: a report over ten years reads 120 rows a key
-- instead of 3,650.
CREATE TABLE history_months (
    tbl TEXT NOT NULL, site TEXT NOT NULL, month TEXT NOT NULL, key TEXT NOT NULL,
    month_last TEXT NOT NULL, import INTEGER NOT NULL,
    pageviews INTEGER NOT NULL, visitors INTEGER NOT NULL, visits INTEGER NOT NULL,
    bounces INTEGER NOT NULL,
    PRIMARY KEY (tbl, site, month, key)
) WITHOUT ROWID;

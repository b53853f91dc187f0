-- logtally schema, version 5: the database's time zone.

-- Facts about the data that every command must agree on. `zone` is the IANA time zone of every
-- day boundary (salts, rollups, retention, reports), recorded by the first command that writes; a
-- command that brings another zone is refused, since its days would not be the stored days.
CREATE TABLE db_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
-- A database written before the zone was recorded: the zone of its latest rollup.
INSERT INTO db_settings (key, value)
    SELECT 'zone', tz FROM rollup_state ORDER BY rolled_at DESC LIMIT 1;

-- logtally schema, version 3: the visitor's country, decided at ingest from a GeoIP database
-- (the address itself is never stored). Two ASCII letters packed as (first << 8) | second;
-- NULL when unknown or when no GeoIP database was given.
ALTER TABLE events ADD COLUMN country INTEGER;

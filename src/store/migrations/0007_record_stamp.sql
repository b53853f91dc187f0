-- logtally schema, version 7: a stamp on each day of the record.

-- A random number written with each day's row, new each time the day is written: a long-running
-- reader (the dashboard) keeps decoded days in memory and knows one is still current by its
-- stamp, without reading the day again.
ALTER TABLE record_days ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;
UPDATE record_days SET stamp = random();

-- logtally schema, version 8: a generation number of what reports read.

-- Raised in the same transaction as every write of rollups or of the record (store::generation),
-- so a long-running reader (the dashboard's answers kept in memory) knows with one read of one
-- row whether anything a report shows may have changed.
CREATE TABLE generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 1);

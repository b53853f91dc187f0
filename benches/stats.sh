#!/usr/bin/env bash
# `logtally stats` over a year of rollups for 50 sites.
#
#   benches/stats.sh
#
# Builds a database whose rollup tables hold 365 days x 50 sites (per site and day: 100 pages,
# 100 entry pages, 20 sources, 8 browsers, 6 OS, 3 devices, 20 countries, 5 statuses, 30 404
# paths, 10 bot reasons, 24 hours), then times `stats` for one site and for all sites together
# with hyperfine. Installs hyperfine and sqlite3 from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench-out
mkdir -p "$OUT"
for tool in hyperfine sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
cargo build --release --quiet --bin logtally
BIN=target/release/logtally
DB="$OUT/stats.db"
if [ ! -s "$DB" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  printf '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x/1"\n' > "$OUT/one.log"
  "$BIN" import --db "$DB" "$OUT/one.log" > /dev/null # creates the schema
  sqlite3 "$DB" <<'SQL'
PRAGMA journal_mode = WAL;
DELETE FROM events; DELETE FROM event_spans;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 399) INSERT INTO n SELECT i FROM c;
CREATE TEMP TABLE d AS SELECT date('2025-01-01', '+' || i || ' days') AS day FROM n WHERE i < 365;
CREATE TEMP TABLE s AS SELECT 'site' || i || '.example' AS site, i FROM n WHERE i < 50;
INSERT INTO daily_totals SELECT day, site, 1000 + s.i, 400, 450, 200, 30000, 5000, 9000000, 1500, 100, 3 FROM d, s;
INSERT INTO daily_pages SELECT day, site, '/page/' || n.i, 100 - n.i, 101 - n.i FROM d, s, n WHERE n.i < 100;
INSERT INTO daily_entry_pages SELECT day, site, '/page/' || n.i, 50 - n.i % 50, 20 FROM d, s, n WHERE n.i < 100;
INSERT INTO daily_referrers SELECT day, site, 'source' || n.i, 40 - n.i, 40 - n.i, 80 - n.i FROM d, s, n WHERE n.i < 20;
INSERT INTO daily_browsers SELECT day, site, 'browser' || n.i, 100 - n.i, 200 FROM d, s, n WHERE n.i < 8;
INSERT INTO daily_os SELECT day, site, 'os' || n.i, 100 - n.i, 200 FROM d, s, n WHERE n.i < 6;
INSERT INTO daily_devices SELECT day, site, 'device' || n.i, 100 - n.i, 200 FROM d, s, n WHERE n.i < 3;
INSERT INTO daily_countries SELECT day, site, char(65 + n.i / 26 % 26, 65 + n.i % 26), 30 - n.i, 60 FROM d, s, n WHERE n.i < 20;
INSERT INTO daily_status SELECT day, site, 200 + n.i, 1000 FROM d, s, n WHERE n.i < 5;
INSERT INTO daily_not_found SELECT day, site, '/missing/' || n.i, 10, 8 FROM d, s, n WHERE n.i < 30;
INSERT INTO daily_bots SELECT day, site, n.i + 1, 100, 10 FROM d, s, n WHERE n.i < 10;
INSERT INTO hourly_totals SELECT day, site, n.i, 40, 20, 200 FROM d, s, n WHERE n.i < 24;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
fi
echo "rollup rows: $(sqlite3 "$DB" "SELECT (SELECT count(*) FROM daily_pages) + (SELECT count(*) FROM daily_entry_pages) + (SELECT count(*) FROM daily_referrers) + (SELECT count(*) FROM hourly_totals) + (SELECT count(*) FROM daily_totals)") in the main tables"
RANGE="--since 2025-01-01 --until 2025-12-31 --no-refresh --tz UTC"
hyperfine --warmup 3 --runs 20 \
  "$BIN stats --db $DB $RANGE --site site7.example" \
  "$BIN stats --db $DB $RANGE --site site7.example --format json overview pages entry-pages sources browsers os devices countries status not-found bots" \
  "$BIN stats --db $DB $RANGE"

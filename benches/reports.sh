#!/usr/bin/env bash
# Reports over a year of a busy site: unfiltered (rollups) and filtered (the permanent record).
#
#   benches/reports.sh [PAGEVIEWS_PER_DAY]
#
# Builds, with the record_year example, a database of 365 days ending today with about
# PAGEVIEWS_PER_DAY (default 20,000) human page views a day, written through rollup's own
# aggregation, then times with hyperfine: an unfiltered report from rollups, and a report with two
# filters and every visit section from the record, and the dashboard's page of three views (with
# days kept decoded between views, and without).
# Prints the record's bytes per page view.
# Installs hyperfine and sqlite3 from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PER_DAY=${1:-20000}
OUT=bench-out
mkdir -p "$OUT"
for tool in hyperfine sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
cargo build --release --quiet --bin logtally --example record_year
BIN=target/release/logtally
DB="$OUT/year-$PER_DAY.db"
[ -s "$DB" ] || target/release/examples/record_year "$DB" "$PER_DAY"
sqlite3 "$DB" "SELECT printf('record: %d days, %d visits, %d page views, %d bytes, %.1f bytes a page view',
  count(*), sum(visits), sum(pageviews), sum(length(data)), sum(length(data)) * 1.0 / sum(pageviews)) FROM record_days"
echo "database file: $(stat -c %s "$DB") bytes"
STATS="$BIN stats --tz UTC --db $DB --period year --no-refresh"
hyperfine --warmup 2 --runs 20 -N \
  -n unfiltered "$STATS overview pages sources browsers" \
  -n "two filters, every section" "$STATS --filter source=Google --filter browser=Firefox overview pages entry-pages exit-pages sources campaigns utm-sources utm-mediums browsers os devices countries hours" \
  -n "page filter and goal" "$STATS --filter page=/pricing --goal Signup=/signup/thanks overview pages sources goals"
# The dashboard over the same year: the page of each view, through `serve` on loopback, with its
# days kept decoded (the default) and with none kept (--cache-mib 0: every view reads the record).
PORT=18089
"$BIN" serve --tz UTC --db "$DB" --listen 127.0.0.1:$((PORT + 1)) --cache-mib 0 2>/dev/null &
UNCACHED=$!
"$BIN" serve --tz UTC --db "$DB" --listen 127.0.0.1:$PORT 2>/dev/null &
SERVE=$!
trap 'kill $SERVE $UNCACHED 2>/dev/null' EXIT
URL="http://127.0.0.1:$PORT/?period=year"
# The first view after start, while the newest days are still being read ahead.
sleep 0.2
curl -s -o /dev/null -w "first view after start, a page filter: %{time_total} s\n" "$URL&filter=page%3D%2Fpricing"
sleep 5
echo "dashboard memory with the year held: $(grep VmRSS /proc/$SERVE/status)"
hyperfine --warmup 3 --runs 20 -N \
  -n "dashboard, the year" "curl -s -o /dev/null $URL" \
  -n "dashboard, two filters" "curl -s -o /dev/null $URL&filter=source%3DGoogle&filter=browser%3DFirefox" \
  -n "dashboard, a page filter" "curl -s -o /dev/null $URL&filter=page%3D%2Fpricing" \
  -n "dashboard, a page filter, --cache-mib 0" "curl -s -o /dev/null http://127.0.0.1:$((PORT + 1))/?period=year&filter=page%3D%2Fpricing"

#!/usr/bin/env bash
# Rollup and cleanup at scale: 10M events over 30 days.
#
#   benches/rollup.sh [LINES]
#
# 1. generates LINES (default 10,000,000) lines over 30 days and imports them;
# 2. times a full rollup (seconds, peak RSS);
# 3. imports one more day of lines and times the incremental rollup;
# 4. times a cleanup that deletes the first half of the events, with its longest transaction.
# Results go to bench-out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-10000000}
OUT=bench-out
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin logtally --example genlog
BIN=target/release/logtally
GEN=target/release/examples/genlog
START_MS=1790812800000 # 2026-10-01T00:00:00Z, the generator's default start

LOG="$OUT/rollup-$LINES.log"
[ -s "$LOG" ] || "$GEN" --lines "$LINES" --seed 7 --days 30 -o "$LOG"
DAY_LINES=$((LINES / 30))
# One more day, starting where the 30 days end (the generator takes its start from its config:
# shift the dates of a one-day log by 31 days with sed instead).
EXTRA="$OUT/rollup-extra-$DAY_LINES.log"
[ -s "$EXTRA" ] || "$GEN" --lines "$DAY_LINES" --seed 8 --days 1 | sed 's#/Oct/2026:#/Nov/2026:#; s#^\(.*\[\)01/Nov#\102/Nov#' > "$EXTRA"

DB="$OUT/rollup.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
echo "machine: $(nproc) cores; $LINES lines over 30 days"
/usr/bin/time -f "import: %e s, %M KB peak RSS" "$BIN" import --tz UTC --db "$DB" "$LOG" > /dev/null
/usr/bin/time -f "full rollup: %e s, %M KB peak RSS" "$BIN" rollup --tz UTC --db "$DB" --verbose
"$BIN" import --tz UTC --db "$DB" "$EXTRA" > /dev/null
/usr/bin/time -f "incremental rollup after one more day: %e s, %M KB peak RSS" "$BIN" rollup --tz UTC --db "$DB" --verbose
EVENTS=$(sqlite3 "$DB" 'SELECT count(*) FROM events' 2>/dev/null || echo "?")
echo "events: $EVENTS"
# Keep the days after 2026-10-16: deletes the first 15 of 30 days (about half the events).
TODAY=$(date -u +%s)
KEEP=$(( (TODAY - (START_MS / 1000 + 15 * 86400)) / 86400 ))
/usr/bin/time -f "cleanup: %e s, %M KB peak RSS" "$BIN" cleanup --tz UTC --db "$DB" --keep-days "$KEEP" --json > "$OUT/cleanup.json"
python3 -c "import json; r=json.load(open('$OUT/cleanup.json')); print(f\"cleanup deleted {r['events_deleted']:,} events of {len(r['days_cleaned'])} days in {r['seconds']:.2f} s; longest write transaction {r['longest_transaction_ms']:.0f} ms\")"

#!/usr/bin/env bash
# logtally import vs GoAccess on the same generated combined log, in the same run.
#
#   benches/vs_goaccess.sh [LINES] [BIG_LINES]
#
# Generates LINES (default 1,000,000) lines with the genlog example, then times
# `logtally import` into a fresh database and `goaccess LOG --log-format=COMBINED -o report.json`,
# printing wall time, peak RSS and lines/s of each and the ratio. Then imports BIG_LINES
# (default 5,000,000) lines to show that memory stays bounded by chunk and batch sizes.
# Installs goaccess from Debian when missing. Results go to bench-out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
BIG_LINES=${2:-5000000}
OUT=bench-out
mkdir -p "$OUT"

if ! command -v goaccess >/dev/null; then
  apt-get update -qq && apt-get install -y -qq goaccess >/dev/null
fi
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

cargo build --release --quiet --bin logtally --example genlog
BIN=target/release/logtally
GEN=target/release/examples/genlog

LOG="$OUT/combined-$LINES.log"
[ -s "$LOG" ] || "$GEN" --lines "$LINES" --seed 1 --days 30 --format combined -o "$LOG"
cat "$LOG" > /dev/null # warm the page cache for both tools

# measure NAME CMD...: prints wall seconds and peak RSS (KB) on one line
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr"
  read -r wall rss < "$OUT/$name.time"
  printf '%-22s %8.2f s  %8.1f MB peak RSS  %12.0f lines/s\n' "$name" "$wall" "$(echo "$rss/1024" | bc -l)" "$(echo "$LINES/$wall" | bc -l)"
  echo "$wall $rss" > "$OUT/$name.result"
}

echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "goaccess: $(goaccess --version | head -1)"
echo "log: $LOG ($LINES lines, $(du -h "$LOG" | cut -f1))"
rm -f "$OUT/bench.db" "$OUT/bench.db-wal" "$OUT/bench.db-shm"
measure "logtally import" "$BIN" import --db "$OUT/bench.db" "$LOG"
measure "goaccess" goaccess "$LOG" --log-format=COMBINED -o "$OUT/report.json"
read -r lt _ < "$OUT/logtally import.result"
read -r ga _ < "$OUT/goaccess.result"
printf 'logtally import is %.1fx faster than goaccess\n' "$(echo "$ga/$lt" | bc -l)"
echo "rows: $(sqlite3 "$OUT/bench.db" 'SELECT count(*) FROM events' 2>/dev/null || echo '?')"

if [ "$BIG_LINES" -gt 0 ]; then
  BIG="$OUT/combined-$BIG_LINES.log"
  [ -s "$BIG" ] || "$GEN" --lines "$BIG_LINES" --seed 2 --days 60 --format combined -o "$BIG"
  rm -f "$OUT/big.db" "$OUT/big.db-wal" "$OUT/big.db-shm"
  LINES=$BIG_LINES measure "logtally import (big)" "$BIN" import --db "$OUT/big.db" "$BIG"
fi

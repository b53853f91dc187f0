#!/usr/bin/env bash
# logtally import into ClickHouse against the same import into SQLite, in the same run.
#
#   benches/clickhouse.sh [LINES]
#
# Generates LINES (default 10,000,000) lines with the genlog example, starts Debian's
# clickhouse-server as a plain process (its configuration copied with data, logs and ports
# moved under bench-out/), then times `logtally import` of the log into a fresh SQLite database
# and into a fresh ClickHouse database, printing wall time, lines/s and peak RSS of each, the
# server's own CPU time, and the rows each store holds (ClickHouse with FINAL).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-10000000}
OUT=bench-out/clickhouse
mkdir -p "$OUT"
command -v clickhouse-server >/dev/null || { apt-get update -qq && apt-get install -y -qq clickhouse-server >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release --quiet --bin logtally --example genlog
BIN=target/release/logtally
LOG="bench-out/combined-$LINES.log"
[ -s "$LOG" ] || target/release/examples/genlog --lines "$LINES" --seed 1 --days 30 --format combined -o "$LOG"
cat "$LOG" > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(free_port)
rm -rf "$OUT/server" && mkdir -p "$OUT/server/log"
SERVER=$(cd "$OUT/server" && pwd)
sed -e "s#/var/lib/clickhouse/#$SERVER/data/#g; s#/var/log/clickhouse-server/#$SERVER/log/#g" \
    -e "s#<http_port>8123<#<http_port>$HTTP<#; s#<tcp_port>9000<#<tcp_port>$(free_port)<#" \
    -e "s#<interserver_http_port>9009<#<interserver_http_port>$(free_port)<#" \
    /etc/clickhouse-server/config.xml > "$SERVER/config.xml"
cp /etc/clickhouse-server/users.xml "$SERVER/"
clickhouse-server --config-file="$SERVER/config.xml" > /dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$HTTP/ping" >/dev/null && break; sleep 0.1; done
q() { curl -sf --data-binary "$1" "http://127.0.0.1:$HTTP/"; }
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

measure() { # NAME CMD...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" > /dev/null 2> "$OUT/$name.stderr"
  read -r wall rss < "$OUT/$name.time"
  printf '%-12s %8.2f s %12.0f lines/s %8.1f MB peak RSS' "$name" "$wall" "$(echo "$LINES/$wall" | bc -l)" "$(echo "$rss/1024" | bc -l)"
}

rm -f "$OUT"/sqlite.db*
measure sqlite "$BIN" import --db "$OUT/sqlite.db" --tz UTC "$LOG"
echo "  rows $(sqlite3 "$OUT/sqlite.db" 'SELECT count(*) FROM events' 2>/dev/null || echo '?')"

rm -f "$OUT"/collector.db*
q "DROP DATABASE IF EXISTS bench" || true
before=$(cpu)
measure clickhouse "$BIN" import --db "$OUT/collector.db" --tz UTC --store "clickhouse://127.0.0.1:$HTTP/bench" "$LOG"
after=$(cpu)
echo "  rows $(q 'SELECT count() FROM bench.events FINAL'), server CPU $(echo "($after - $before) / 100" | bc -l | xargs printf '%.2f') s"

# Reports: a year of PER_DAY page views a day (record_year), copied into ClickHouse with
# `migrate`, and the same filtered year report (two filters, every section filters apply to)
# read from each store, five times each: min / median / max.
PER_DAY=${PER_DAY:-20000}
cargo build --release --quiet --example record_year
YEAR="bench-out/year-$PER_DAY.db"
if [ -s "$YEAR" ] && ! "$BIN" stats --tz UTC --db "$YEAR" --no-refresh --period today overview >/dev/null 2>&1; then
  rm -f "$YEAR" "$YEAR"-wal "$YEAR"-shm
fi
[ -s "$YEAR" ] || target/release/examples/record_year "$YEAR" "$PER_DAY" >/dev/null
q "DROP DATABASE IF EXISTS year" || true
start=$(date +%s.%N)
"$BIN" migrate --db "$YEAR" --to "clickhouse://127.0.0.1:$HTTP/year" > /dev/null
echo "migrate      $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.2f') s for $(sqlite3 "$YEAR" 'SELECT sum(pageviews) FROM daily_totals') page views"
SECTIONS="overview pages entry-pages exit-pages sources campaigns utm-sources utm-mediums browsers os devices countries hours"
report() { # STORE-ARGS...
  "$BIN" stats --tz UTC --no-refresh --format json --period all \
    --filter page=/pricing --filter source=Google "$@" $SECTIONS
}
timed() { # NAME STORE-ARGS...
  local name=$1; shift
  local times=()
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s%N); report "$@" > "$OUT/$name.json"; e=$(date +%s%N)
    times+=("$(( (e - s) / 1000000 ))")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  read -r a _ c _ e <<< "$sorted"
  printf '%-12s filtered year report: min %s ms, median %s ms, max %s ms\n' "$name" "$a" "$c" "$e"
}
timed sqlite-year --db "$YEAR"
timed ch-year --store "clickhouse://127.0.0.1:$HTTP/year"
cmp -s "$OUT/sqlite-year.json" "$OUT/ch-year.json" && echo "same report from both stores" || echo "REPORTS DIFFER"

#!/usr/bin/env bash
# `logtally serve` under the load of a site's visitors, with wrk on loopback.
#
#   benches/load.sh [SECONDS] [BEFORE_BIN BEFORE_DB]
#
# Builds, with the record_year example, the database of a year of a site with 20,000 page views
# a day (shared with benches/reports.sh), starts `serve` on it and measures with `wrk -t2`
# (requests/s, p50, p99, answers that were not 2xx/3xx, socket errors, serve's resident memory):
#   - the 30-day dashboard and /report.json at 100 connections, once cached;
#   - /api/pages.json and /api/live.json at 200 connections while `tail` ingests 2,000 lines/s
#     (benches/tail_lag.py), with the tail's commit lag measured alone and under that load;
#   - the year with two filters, a view never asked before on every request
#     (benches/load/distinct_views.lua), at 300 connections: nothing may die, the excess is 503.
# BEFORE_BIN, another logtally binary, is measured on the dashboard's views in the same run, on
# BEFORE_DB (the same year, written by that version's record_year example: schemas differ).
# Prints Markdown tables. Installs wrk from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-6}
BEFORE=${2:-}
BEFORE_DB=${3:-}
OUT=bench-out/load
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin logtally --example record_year
BIN=target/release/logtally
DB=bench-out/year-20000.db
# A database of an older schema cannot be read: build it again with this checkout.
if [ -s "$DB" ] && ! "$BIN" stats --tz UTC --db "$DB" --no-refresh --period today overview >/dev/null 2>&1; then
  rm -f "$DB" "$DB"-wal "$DB"-shm
fi
[ -s "$DB" ] || target/release/examples/record_year "$DB" 20000 >/dev/null

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

# start BIN DB PORT [ARGS...]: starts a server and waits until it answers.
start() {
  local bin=$1 db=$2 port=$3
  shift 3
  "$bin" serve --tz UTC --db "$db" --listen "127.0.0.1:$port" "$@" 2>"$OUT/serve-$port.err" &
  PIDS+=($!)
  SERVE_PID=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/nothing" && return 0
    sleep 0.1
  done
  echo "serve on $port did not start" >&2
  exit 1
}

rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }

# row NAME CONNECTIONS URL [WRK ARGS...]: one wrk run as a Markdown row.
row() {
  local name=$1 conns=$2 url=$3
  shift 3
  wrk -t2 -c"$conns" -d"${SECS}s" --latency "$@" "$url" >"$OUT/wrk.txt" 2>&1 || true
  python3 - "$name" "$conns" "$OUT/wrk.txt" <<'EOF'
import re, sys
name, conns, path = sys.argv[1], sys.argv[2], sys.argv[3]
t = open(path).read()
def lat(p):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)" % p, t, re.M)
    if not m:
        return "-"
    v, u = float(m.group(1)), m.group(2)
    ms = v / 1000 if u == "us" else v * 1000 if u == "s" else v
    return "%.1f ms" % ms
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
total = re.search(r"(\d+) requests in", t)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: (.*)", t)
print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
    name, conns, "{:,.0f}".format(float(rps.group(1))) if rps else "-", lat(50), lat(99),
    total.group(1) if total else "-", non2xx.group(1) if non2xx else "0",
    sock.group(1).strip() if sock else "none"))
EOF
}

HEAD="| view | connections | requests/s | p50 | p99 | answers | not 2xx/3xx | socket errors |
|---|---:|---:|---:|---:|---:|---:|---|"

PORT=18190
start "$BIN" "$DB" $PORT
U="http://127.0.0.1:$PORT"
# Every view once, so the rows below measure answers kept in memory.
for p in "/?period=30d" "/report.json?period=7d" "/api/pages.json?period=7d" "/?period=year&filter=page%3D%2Fpricing"; do
  curl -s -o /dev/null -w "first answer of $p: %{time_total} s\n" "$U$p"
done
echo
echo "### serve, answers kept in memory"
echo
echo "$HEAD"
row "\`/?period=30d\`" 100 "$U/?period=30d"
row "\`/?period=30d\`, gzip and br accepted" 100 "$U/?period=30d" -H "Accept-Encoding: gzip, br"
row "\`/report.json?period=7d\`" 100 "$U/report.json?period=7d"
row "\`/?period=year&filter=page=/pricing\`" 100 "$U/?period=year&filter=page%3D%2Fpricing"
echo
echo "serve's memory after these: $(rss $SERVE_PID)"

if [ -n "$BEFORE" ]; then
  BPORT=18191
  start "$BEFORE" "$BEFORE_DB" $BPORT
  BEFORE_PID=$SERVE_PID
  SERVE_PID=${PIDS[0]}
  B="http://127.0.0.1:$BPORT"
  echo
  echo "### before: $BEFORE, same views, same run"
  echo
  echo "$HEAD"
  row "\`/?period=30d\`" 100 "$B/?period=30d" --timeout 5s
  row "\`/report.json?period=7d\`" 100 "$B/report.json?period=7d" --timeout 5s
  row "\`/?period=year&filter=page=/pricing\`" 100 "$B/?period=year&filter=page%3D%2Fpricing" --timeout 5s
  if ! kill -0 "$BEFORE_PID" 2>/dev/null; then
    echo
    echo "the server before this work died under that load: $(tail -n 2 "$OUT/serve-$BPORT.err" | tr '\n' ' ')"
  fi
  kill "$BEFORE_PID" 2>/dev/null || true
fi

# Every view, cached, at 100 and 300 connections, this binary and BEFORE side by side: the
# dashboard and each /api endpoint (/api/live.json without a tail answers its "not known").
VIEWS=("/?period=30d" "/report.json?period=7d" "/api/pages.json?period=7d" "/api/counter.json?page=/pricing" "/api/counter.svg?page=/pricing" "/api/live.json")
each_view() { # NAME BIN PORT
  local name=$1 bin=$2 port=$3
  start "$bin" "$DB" "$port" --public-api
  local pid=$SERVE_PID
  for p in "${VIEWS[@]}"; do curl -s -o /dev/null "http://127.0.0.1:$port$p"; done
  echo
  echo "### $name: every view at 100 and 300 connections"
  echo
  echo "$HEAD"
  for p in "${VIEWS[@]}"; do
    for c in 100 300; do row "\`$p\`" "$c" "http://127.0.0.1:$port$p" --timeout 5s; done
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo
    echo "$name alive after them, memory $(rss "$pid")"
  else
    echo
    echo "$name DIED: $(tail -n 2 "$OUT/serve-$port.err" | tr '\n' ' ')"
  fi
  kill "$pid" 2>/dev/null || true
  SERVE_PID=${PIDS[0]}
}
each_view "this binary" "$BIN" 18193
[ -n "$BEFORE" ] && each_view "before: $BEFORE" "$BEFORE" 18194

# tail ingesting 2,000 lines/s: its commit lag alone, then while /api/* is under load.
LAG_SOCK="$PWD/$OUT/lag.live.sock"
lag() { TAIL_ARGS="--live-socket $LAG_SOCK" python3 benches/tail_lag.py "$BIN" 2000 "$1" 2s 2>&1 | grep -i "lag" | head -n 1; }
echo
echo "tail at 2,000 lines/s alone: $(lag 10)"
LPORT=18192
lag $((4 * SECS + 6)) >"$OUT/lag-under-load.txt" &
LAG=$!
sleep 2
start "$BIN" "$DB" $LPORT --live-socket "$LAG_SOCK"
LIVE_PID=$SERVE_PID
SERVE_PID=${PIDS[0]}
L="http://127.0.0.1:$LPORT"
curl -s -o /dev/null "$L/api/pages.json?period=7d"
echo
echo "### /api/* at 200 connections while tail ingests 2,000 lines/s"
echo
echo "$HEAD"
row "\`/api/pages.json?period=7d\`" 200 "$L/api/pages.json?period=7d"
row "\`/api/live.json\`" 200 "$L/api/live.json"
row "\`/api/live.json?page=/blog/\`" 200 "$L/api/live.json?page=/blog/"
row "\`/api/counter.json?page=/pricing\`" 200 "$L/api/counter.json?page=/pricing"
wait $LAG || true
echo
echo "tail at 2,000 lines/s under that load: $(cat "$OUT/lag-under-load.txt")"
echo "serve's memory: $(rss $LIVE_PID)"

echo
echo "### a view never asked before on every request: the year, two filters, 300 connections"
echo
echo "$HEAD"
row "distinct \`/?period=year&filter=source=Google&filter=page!=...\`" 300 "$U" -s benches/load/distinct_views.lua
if kill -0 $SERVE_PID 2>/dev/null; then
  echo
  echo "serve alive after it, memory $(rss $SERVE_PID); a plain request then: $(sleep 2; curl -s -o /dev/null -w '%{http_code} in %{time_total} s' "$U/?period=30d")"
  curl -s "$U/metrics" | grep -E '^logtally_serve_(shed|computed|cache_hits|answers)_total' | sed 's/^/    /'
else
  echo
  echo "serve DIED: $(tail -n 3 "$OUT/serve-$PORT.err")"
  exit 1
fi

#!/usr/bin/env bash
# import-history at scale: ten years of a busy site's Plausible export (3,650 days, 1,000 pages
# a day), imported beside a few days of logs, then reports over all of it.
#
#   benches/history.sh [DAYS] [PAGES]
#
# 1. writes the export's CSV files (defaults: 3650 days, 1000 pages a day);
# 2. times `import-history` of them into a database that holds logs (seconds, peak RSS);
# 3. times `stats --period all` over the history and the logs, against the same report of a
#    database of the logs alone, side by side.
# Results go to bench-out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-3650}
PAGES=${2:-1000}
OUT=bench-out
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin logtally --example genlog
BIN=target/release/logtally
GEN=target/release/examples/genlog
EXPORT="$OUT/plausible-$DAYS-$PAGES"
if [ ! -s "$EXPORT/imported_pages.csv" ]; then
  mkdir -p "$EXPORT"
  python3 - "$EXPORT" "$DAYS" "$PAGES" <<'PY'
import datetime, os, random, sys
out, days, pages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(26)
# The last day of the export is the logs' first (2026-10-01).
first = datetime.date(2026, 10, 1) - datetime.timedelta(days=days - 1)
files = {
  "visitors": "date,visitors,pageviews,bounces,visits,visit_duration",
  "pages": "date,hostname,page,visits,visitors,pageviews,exits,time_on_page",
  "entry_pages": "date,entry_page,visitors,entrances,visit_duration,bounces,pageviews",
  "sources": "date,source,referrer,utm_source,utm_medium,utm_campaign,utm_content,utm_term,pageviews,visitors,visits,visit_duration,bounces",
  "browsers": "date,browser,browser_version,visitors,visits,visit_duration,bounces,pageviews",
  "operating_systems": "date,operating_system,operating_system_version,visitors,visits,visit_duration,bounces,pageviews",
  "devices": "date,device,visitors,visits,visit_duration,bounces,pageviews",
  "locations": "date,country,region,city,visitors,visits,visit_duration,bounces,pageviews",
}
handles = {k: open(os.path.join(out, f"imported_{k}.csv"), "w") for k in files}
for k, h in files.items():
    handles[k].write(h + "\n")
sources = ["Google", "Bing", "DuckDuckGo", "Twitter", "Reddit", "Hacker News"] + [f"blog{i}.example" for i in range(24)]
browsers = ["Chrome", "Firefox", "Safari", "Microsoft Edge", "Opera", "Samsung Internet"]
systems = ["Windows", "Mac", "GNU/Linux", "Android", "iOS", "Chrome OS"]
countries = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "SE"] + [f"{chr(65+i)}{chr(75+i)}" for i in range(20)]
for d in range(days):
    day = (first + datetime.timedelta(days=d)).isoformat()
    w = handles
    total_pv = 0
    for p in range(pages):
        pv = 1 + (p * 7 + d) % 40
        total_pv += pv
        w["pages"].write(f"{day},example.com,/post/{p},{pv//2+1},{pv//2+1},{pv},{pv//3},{pv*20}\n")
    visitors = total_pv // 3
    w["visitors"].write(f"{day},{visitors},{total_pv},{visitors//2},{visitors+5},{visitors*90}\n")
    for p in range(pages // 5):
        w["entry_pages"].write(f"{day},/post/{p},{p%9+1},{p%9+2},100,1,{p%9+4}\n")
    for i, s in enumerate(sources):
        w["sources"].write(f"{day},{s},,,,,,,{i+9},{i+5},{i+6},100,1\n")
    for i, b in enumerate(browsers):
        w["browsers"].write(f"{day},{b},1,{i+9},{i+10},100,2,{i+30}\n")
    for i, s in enumerate(systems):
        w["operating_systems"].write(f"{day},{s},1,{i+9},{i+10},100,2,{i+30}\n")
    for i, dev in enumerate(["Desktop", "Mobile", "Tablet"]):
        w["devices"].write(f"{day},{dev},{i+9},{i+10},100,2,{i+30}\n")
    for i, c in enumerate(countries):
        w["locations"].write(f"{day},{c},,0,{i+3},{i+4},100,2,{i+10}\n")
for h in handles.values():
    h.close()
PY
fi
LOG="$OUT/history-logs.log"
[ -s "$LOG" ] || "$GEN" --lines 200000 --seed 26 --days 3 -o "$LOG"
echo "machine: $(nproc) cores; export of $DAYS days x $PAGES pages: $(du -sh "$EXPORT" | cut -f1), $(cat "$EXPORT"/*.csv | wc -l) rows"
LOGS_DB="$OUT/history-logs.db"
DB="$OUT/history.db"
rm -f "$LOGS_DB"* "$DB"*
"$BIN" import --tz UTC --site example.com --db "$LOGS_DB" "$LOG" > /dev/null
"$BIN" rollup --tz UTC --db "$LOGS_DB" > /dev/null
cp "$LOGS_DB" "$DB"
/usr/bin/time -f "import-history: %e s, %M KB peak RSS" "$BIN" import-history --db "$DB" "$EXPORT" | tail -1
echo "database: $(du -h "$DB" | cut -f1)"
if command -v hyperfine > /dev/null; then
  hyperfine --warmup 1 --runs 5 \
    -n "stats --period all, logs alone" "$BIN stats --tz UTC --no-refresh --period all --format json --db $LOGS_DB" \
    -n "stats --period all, with $DAYS imported days" "$BIN stats --tz UTC --no-refresh --period all --format json --db $DB" \
    -n "stats --period all, a page filter" "$BIN stats --tz UTC --no-refresh --period all --format json --filter page=/ --db $DB"
fi

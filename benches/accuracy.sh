#!/usr/bin/env bash
# Human figures against hand labels, per labelled log, side by side with GoAccess in the same run.
#
#   benches/accuracy.sh CORPUS_DIR[:MORE_DIRS...] [BEFORE_BIN]
#
# For every benches/labels/NAME.tsv whose log NAME.log is in one of the folders given: imports the log with
# this checkout's logtally (and BEFORE_BIN, another logtally binary, when given) into a fresh
# database, rolls it up (--tz UTC), and compares each stored event with the labelled truth of its
# line (examples/accuracy.rs); then runs `goaccess --ignore-crawlers` on the same file. Prints a
# Markdown table: true human page views and visitors (client-days with a page view), what each
# tool reports, the share of logtally's page views that are bots', and the share of people's page
# views it lost. GoAccess has no page-view figure: its "requests" are the hits of its requests
# panel (every non-static, non-404 request), the nearest it has. The logs stay outside the
# project (see benches/labels/README.md); the labels hold line numbers only.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/labels/logs.sh
CORPUS=${1:?usage: benches/accuracy.sh CORPUS_DIR [BEFORE_BIN]}
BEFORE=${2:-}
command -v goaccess >/dev/null || { apt-get update -qq && apt-get install -y -qq goaccess >/dev/null; }
cargo build --release --quiet --bin logtally --example accuracy
ACC=target/release/examples/accuracy
OUT=bench-out/accuracy
mkdir -p "$OUT"

pct() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%+.0f%%' % ((a/b-1)*100) if b else '-')" "$1" "$2"; }
share() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.0f%%' % (a*100/b) if b else '0%')" "$1" "$2"; }

echo "| log | truth PV | truth visitors | logtally PV | bots' share | lost | logtally visitors | $( [ -n "$BEFORE" ] && echo 'before PV | before visitors | ')GoAccess visitors | GoAccess requests |"
echo "|---|---:|---:|---:|---:|---:|---:|$( [ -n "$BEFORE" ] && echo '---:|---:|')---:|---:|"
for labels in benches/labels/*.tsv; do
  name=$(basename "$labels" .tsv)
  log=$(log_of "$name" "$CORPUS")
  [ -n "$log" ] || { echo "skipping $name: no $name.log in $CORPUS" >&2; continue; }
  read -r tpv rpv bots lost tvis rvis < <("$ACC" --summary labels "$log" "$labels")
  before=""
  if [ -n "$BEFORE" ]; then
    read -r _ bpv _ _ _ bvis < <("$ACC" --bin "$BEFORE" --summary labels "$log" "$labels")
    before="$bpv ($(pct "$bpv" "$tpv")) | $bvis ($(pct "$bvis" "$tvis")) | "
  fi
  goaccess "$log" --log-format=COMBINED --ignore-crawlers -o "$OUT/$name.json" >/dev/null 2>&1 || true
  read -r gvis greq < <(python3 -c "
import json,sys
d=json.loads(open(sys.argv[1],'rb').read().decode('utf-8','replace'))
print(d['general']['unique_visitors'], d['requests']['metadata']['hits']['total']['value'])" "$OUT/$name.json")
  echo "| $name | $tpv | $tvis | $rpv ($(pct "$rpv" "$tpv")) | $(share "$bots" "$rpv") | $(share "$lost" "$tpv") | $rvis ($(pct "$rvis" "$tvis")) | $before$gvis ($(pct "$gvis" "$tvis")) | $greq |"
done

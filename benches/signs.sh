#!/usr/bin/env bash
# What each bot sign decides on the hand-labelled logs: bots' page hits it flags and people's
# page views it costs, summed over the tuning logs and over the held-out ones
# (benches/labels/heldout.txt) apart.
#
#   benches/signs.sh CORPUS_DIR[:MORE_DIRS...] [BIN]
#
# Each hit is counted under the reason logtally gave it (a bot another sign would also have
# caught counts once, under the sign that decided). "(not a page view)" is people's page views
# that logtally took for no page at all (a request logged twice, what a page embeds).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/labels/logs.sh
CORPUS=${1:?usage: benches/signs.sh CORPUS_DIR[:MORE_DIRS...] [BIN]}
BIN=${2:-target/release/logtally}
cargo build --release --quiet --bin logtally --example accuracy
OUT=bench-out/signs
mkdir -p "$OUT"
: >"$OUT/tuning.tsv"
: >"$OUT/heldout.tsv"
for labels in benches/labels/*.tsv; do
  name=$(basename "$labels" .tsv)
  log=$(log_of "$name" "$CORPUS")
  [ -n "$log" ] || { echo "skipping $name: no $name.log in $CORPUS" >&2; continue; }
  group=tuning
  grep -qx "$name" benches/labels/heldout.txt && group=heldout
  target/release/examples/accuracy --bin "$BIN" --by-reason labels "$log" "$labels" >>"$OUT/$group.tsv"
done
python3 - "$OUT/tuning.tsv" "$OUT/heldout.tsv" <<'PY'
import sys, collections
def load(p):
    t = collections.OrderedDict()
    for line in open(p):
        r, caught, lost = line.rstrip("\n").split("\t")
        a = t.setdefault(r, [0, 0])
        a[0] += 0 if caught == "-" else int(caught)
        a[1] += int(lost)
    return t
tuning, held = load(sys.argv[1]), load(sys.argv[2])
print("| sign | tuning logs: bots' page hits flagged | people's page views lost | held-out logs: bots' page hits flagged | people's page views lost |")
print("|---|---:|---:|---:|---:|")
for r in list(dict.fromkeys(list(tuning) + list(held))):
    a, b = tuning.get(r, [0, 0]), held.get(r, [0, 0])
    print("| %s | %d | %d | %d | %d |" % (r, a[0], a[1], b[0], b[1]))
PY

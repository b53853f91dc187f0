#!/usr/bin/env bash
# Lag from write to commit of `logtally tail` while a writer appends 20,000 lines/s for 30 s.
#
#   benches/tail_lag.sh [RATE] [SECONDS] [FLUSH_INTERVAL]
#
# Builds the release binary and runs benches/tail_lag.py (python3 standard library only), which
# prints p50/p99/max lag, CPU, peak RSS and the largest WAL. Goal: p99 under flush interval + 1 s,
# RSS under 50 MB, WAL under 64 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin logtally
python3 benches/tail_lag.py target/release/logtally "${1:-20000}" "${2:-30}" "${3:-5s}"

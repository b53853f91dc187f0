#!/usr/bin/env bash
# Fresh-machine check: copies the source tree, then runs the README's first command (install with
# `cargo install --path .`, import the bundled sample, roll up, report) in an empty HOME with the
# installed binary first on PATH, and checks the report it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The README's first command: the first line of its first ```sh block.
cmd=$(awk '/^```sh$/ {inside=1; next} inside {print; exit}' README.md)
case "$cmd" in
  "cargo install --locked --path . && logtally "*) ;;
  *) echo "fresh-install: README's first command is not the expected install-and-run line: $cmd" >&2; exit 1 ;;
esac

mkdir -p "$work/src" "$work/home"
tar --exclude=./target --exclude=./bench-out --exclude=./.git -cf - . | tar -xf - -C "$work/src"

# An empty HOME, but the same toolchain and crate cache (no network fetch of the toolchain).
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export CARGO_INSTALL_ROOT="$work/root"
export CARGO_TARGET_DIR="$repo/target/fresh-install"
export PATH="$work/root/bin:$CARGO_HOME/bin:$PATH"
export HOME="$work/home"
unset LOGTALLY_DB XDG_DATA_HOME

cd "$work/src"
out=$(bash -c "$cmd" 2>"$work/stderr") || { cat "$work/stderr" >&2; echo "fresh-install: the README's first command failed" >&2; exit 1; }
echo "$out"

expect() {
  if ! grep -Eq "$1" <<<"$out"; then
    echo "fresh-install: expected /$1/ in the output of the README's first command" >&2
    exit 1
  fi
}
[ "$(command -v logtally)" = "$work/root/bin/logtally" ] || { echo "fresh-install: logtally not installed where expected" >&2; exit 1; }
expect '900 lines \(combined\), 900 imported, 0 rejected'
expect '^ visitors +\| +3 '
# Seven pages were read; the reader who went on after 2 s (lines 30-31) is one the echo rule
# takes for a page's embedded request (rollup::echoes, its measured cost in BENCHMARKS.md).
expect '^ page views +\| +6 '
expect '^ bot hits \(excluded\) +\| +854'
expect '^ probe-path +\| +103 '
expect '^ Googlebot +\| +22 '
[ -s demo.db ] || { echo "fresh-install: demo.db was not created" >&2; exit 1; }
[ -z "$(ls -A "$HOME")" ] || [ "$(ls -A "$HOME")" = ".cache" ] || echo "note: files left in HOME: $(ls -A "$HOME")"
echo "fresh-install: ok"

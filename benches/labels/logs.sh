# Sourced by the label benches: `log_of NAME DIRS` prints the path of NAME.log in the first of
# the colon-separated folders DIRS that holds it (the last one found wins), or nothing.
log_of() {
  local name=$1 found="" d
  IFS=: read -ra dirs <<<"$2"
  for d in "${dirs[@]}"; do [ -f "$d/$name.log" ] && found="$d/$name.log"; done
  printf '%s' "$found"
}

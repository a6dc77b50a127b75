# bench/lib.sh - what the DuckDB benchmark scripts share; sourced, not run.
# shellcheck shell=bash

say() { printf '%s\n' "$*" >&2; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
best() { # best CURRENT NEW -> the smaller
  if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi
}

# Read files once so that the timed runs find them in the page cache.
warm_files() { cat "$@" >/dev/null; }

# timed CMD...: run CMD; its wall time in nanoseconds is left in last_ns,
# its exit status returned.
timed() {
  local t0 rc=0
  t0=$(now_ns)
  "$@" || rc=$?
  # shellcheck disable=SC2034 # read by the scripts that source this
  last_ns=$(($(now_ns) - t0))
  return "$rc"
}

# alternate_runs N FIRST SECOND: call the functions FIRST (skipped when
# empty) and SECOND in turn N times, k the run number, each after a sync:
# the runs alternate so that a busy moment of the machine falls on both
# alike, and neither runs while the other's result is still being written
# to disk.
alternate_runs() {
  for ((k = 1; k <= $1; k++)); do
    sync
    [ -z "$2" ] || "$2"
    sync
    "$3"
  done
}

# DuckDB's Node.js package (its native library inside), installed into
# bench/node_modules when missing.
need_duckdb() {
  if [ ! -d bench/node_modules/@duckdb/node-api ]; then
    (cd bench && npm install --no-audit --no-fund) >&2
  fi
}

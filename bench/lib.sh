# bench/lib.sh - what the DuckDB benchmark scripts share; sourced, not run.

say() { printf '%s\n' "$*" >&2; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
best() { # best CURRENT NEW -> the smaller
  if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi
}

# Read files once so that the timed runs find them in the page cache.
warm_files() { cat "$@" >/dev/null; }

# DuckDB's Node.js package (its native library inside), installed into
# bench/node_modules when missing.
need_duckdb() {
  if [ ! -d bench/node_modules/@duckdb/node-api ]; then
    (cd bench && npm install --no-audit --no-fund) >&2
  fi
}

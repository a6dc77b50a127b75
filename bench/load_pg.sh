#!/usr/bin/env bash
# load_pg.sh - the platform's load test on PostgreSQL: durable settlements
# per second and latency through 1 and then 2 `hmb serve` processes on one
# private PostgreSQL server (scripts/pg.sh), beside the same load on the
# embedded SQLite store and on /health, all in this script.
#
#   bench/load_pg.sh                     # 100,000 people, 15 s per run, 64 connections in all
#   SECONDS_PER_RUN=30 bench/load_pg.sh
#   ROUNDS=3 bench/load_pg.sh            # 1 server with and without pipelining, alternated 3 times
#
# It reports; it never judges.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
build=${BUILD:-$out/build}
people=${PEOPLE:-100000}
secs=${SECONDS_PER_RUN:-15}
conns=${CONNECTIONS:-64}
rounds=${ROUNDS:-2}
mkdir -p "$out"
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$build" -j2 hmb load_http >&2
hmb=$build/hmb
load=$build/load_http
export HMB_KEY_FILE=$out/load-pg.key

pgdir=$(mktemp -d /tmp/hmb-pgbench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
scripts/pg.sh start "$pgdir" >&2
base=$(scripts/pg.sh url "$pgdir")
psql -q -X "$base" -c "CREATE DATABASE loadbench" >/dev/null
url="${base%/*}/loadbench"
"$hmb" demo --db "$url" --people "$people" --settlements 0 --all --keys-out "$out/load-pg.keys" >&2
key=$(grep '^hospital=' "$out/load-pg.keys" | cut -d= -f2)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# serve [ARGS]: start a server; its port in $port (not a subshell: pids must reach cleanup)
serve() {
  port=$(free_port)
  "$hmb" serve --db "$url" --port "$port" "$@" >>"$out/serve-pg.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
    sleep 0.1
  done
}
rate() { awk '/^req\/s/ { print $2 }' "$1"; }
lat() { awk '/^latency/ { $1 = ""; $2 = ""; print }' "$1"; }

serve
p1=$port
echo "== 1 server: GET /health"
"$load" --port "$p1" --connections "$conns" --seconds "$secs" --count 10000000 --path /health >"$out/pg-health.txt"
# The peer of the pipelined writer: the same server sending each statement
# on its own (--no-pipeline), alternated with it ROUNDS times.
for ((r = 1; r <= rounds; r++)); do
  serve --no-pipeline
  echo "== 1 server, --no-pipeline, round $r: POST /v1/settlements ($conns connections)"
  "$load" --port "$port" --key "$key" --connections "$conns" --seconds "$secs" --count 10000000 \
    --settle "P371500:$people" --run-id "pg0-$r-$$" >"$out/pg-1-nopipe-$r.txt"
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || true
  unset 'pids[-1]'
  echo "== 1 server, round $r: POST /v1/settlements ($conns connections)"
  "$load" --port "$p1" --key "$key" --connections "$conns" --seconds "$secs" --count 10000000 \
    --settle "P371500:$people" --run-id "pg1-$r-$$" >"$out/pg-1-$r.txt"
done
serve
p2=$port
echo "== 2 servers: POST /v1/settlements ($((conns / 2)) connections each, the same people)"
"$load" --port "$p1" --key "$key" --connections $((conns / 2)) --seconds "$secs" --count 10000000 \
  --settle "P371500:$people" --run-id "pg2a-$$" >"$out/pg-2a.txt" &
la=$!
"$load" --port "$p2" --key "$key" --connections $((conns / 2)) --seconds "$secs" --count 10000000 \
  --settle "P371500:$people" --run-id "pg2b-$$" >"$out/pg-2b.txt"
wait $la
for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
pids=()

echo
echo "== summary (PostgreSQL 15 on this machine, fsync on, synchronous_commit on)"
echo "health (1 server)        $(rate "$out/pg-health.txt") req/s  $(lat "$out/pg-health.txt")"
for ((r = 1; r <= rounds; r++)); do
  np=$(rate "$out/pg-1-nopipe-$r.txt")
  pp=$(rate "$out/pg-1-$r.txt")
  echo "settlements, 1 server, no pipeline, round $r  $np req/s  $(lat "$out/pg-1-nopipe-$r.txt")"
  echo "settlements, 1 server, pipelined,   round $r  $pp req/s  $(lat "$out/pg-1-$r.txt")  ratio $(awk -v a="$pp" -v b="$np" 'BEGIN { printf "%.2f", a / b }')"
done
echo "settlements, 2 servers   $(awk -v a="$(rate "$out/pg-2a.txt")" -v b="$(rate "$out/pg-2b.txt")" 'BEGIN { printf "%.1f", a + b }') req/s  a: $(lat "$out/pg-2a.txt")"
echo "                                          b: $(lat "$out/pg-2b.txt")"
echo
echo "== hmb verify"
"$hmb" verify --db "$url" | tail -1
echo
echo "== the same load on SQLite (bench/load_vs_health.sh)"
if BUILD=$build PEOPLE=$people SECONDS_PER_RUN=$secs CONNECTIONS=$conns bench/load_vs_health.sh \
  >"$out/load-sqlite.txt" 2>"$out/load-sqlite.err"; then
  grep -E "^health|^settlements " "$out/load-sqlite.txt"
else
  echo "bench/load_vs_health.sh failed: see $out/load-sqlite.err"
fi

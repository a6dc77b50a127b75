#!/usr/bin/env bash
# load_vs_health.sh - the load test of the platform: durable settlements per
# second through `hmb serve` on the embedded SQLite store, with latency
# percentiles, beside what the same load generator gets from the server's
# trivial /health endpoint in the same script (the peer: HTTP and loopback
# cost alone).
#
#   bench/load_vs_health.sh                 # 100,000 people, 15 s per run
#   SECONDS_PER_RUN=30 CONNECTIONS=128 bench/load_vs_health.sh
#
# Steps: build hmb and load_http in Release into bench/out/build, create a
# demo city with everyone enrolled (bench/out/load.db, `hmb demo --all`),
# start `hmb serve` on a free loopback port, run load_http on /health, then
# POST /v1/settlements (every request a new valid settlement, each answered
# only after its group commit is durable: WAL, synchronous=FULL), stop the
# server, and run `hmb verify` on the store. Bounded in time and count.
# It reports; it never judges (timings on a shared machine vary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
build=${BUILD:-$out/build}
people=${PEOPLE:-100000}
secs=${SECONDS_PER_RUN:-15}
conns=${CONNECTIONS:-64}
mkdir -p "$out"
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$build" -j2 hmb load_http >&2
hmb=$build/hmb
load=$build/load_http

db=$out/load.db
rm -f "$db" "$db-wal" "$db-shm" "$db.keys"
"$hmb" demo --db "$db" --people "$people" --settlements 0 --all >&2
key=$(grep '^hospital=' "$db.keys" | cut -d= -f2)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$hmb" serve --db "$db" --port "$port" >"$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
  sleep 0.1
done

echo "== peer: GET /health ($conns connections, $secs s)"
"$load" --port "$port" --connections "$conns" --seconds "$secs" --count 10000000 --path /health | tee "$out/load-health.txt"
echo
echo "== POST /v1/settlements, durable ($conns connections, $secs s, $people people)"
"$load" --port "$port" --key "$key" --connections "$conns" --seconds "$secs" --count 10000000 \
  --settle "P371500:$people" --run-id "bench$$" | tee "$out/load-settle.txt"
kill -TERM $pid
wait $pid || true
trap - EXIT
echo
rate() { awk '/^req\/s/ { print $2 }' "$1"; }
ok() { awk '/^status 200/ { print $3 }' "$1"; }
lat() { awk '/^latency/ { print $0 }' "$1"; }
h=$(rate "$out/load-health.txt")
s=$(rate "$out/load-settle.txt")
echo "== summary"
echo "health      $h req/s   $(lat "$out/load-health.txt")"
echo "settlements $s req/s   $(lat "$out/load-settle.txt")   ($(ok "$out/load-settle.txt") answered 200)"
awk -v h="$h" -v s="$s" 'BEGIN { printf "settlements / health = %.3f\n", s / h }'
echo "goal: >= 10,000 durable settlements/s with p99 < 20 ms"
echo
echo "== hmb verify (every state recomputed from the stored settlements)"
"$hmb" verify --db "$db" | tail -1

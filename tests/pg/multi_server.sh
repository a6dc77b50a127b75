#!/usr/bin/env bash
# multi_server.sh HMB LOAD_HTTP URL - several `hmb serve` processes on one
# PostgreSQL database (URL: an empty database) settling for the same
# people at the same time.
#
# Round 1: two servers, the same stream of requests sent to both at once
# (the same setl_ids, the same people): every setl_id acknowledged by
# either server is stored exactly once, and `hmb verify` recomputes every
# person's year exactly (a deductible or cap consumed twice would differ).
# Round 2: a burst on both servers; one is killed with kill -9 and every
# database connection of the other is terminated mid-burst; the killed one
# is restarted, the other must keep serving (it reconnects); then the same
# checks.
set -euo pipefail
hmb=${1:?usage: multi_server.sh HMB LOAD_HTTP URL}
load=${2:?usage: multi_server.sh HMB LOAD_HTTP URL}
url=${3:?usage: multi_server.sh HMB LOAD_HTTP URL}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
export HMB_KEY_FILE=$tmp/pii.key

. "$(dirname "$0")/../lib/net.sh"
# start_server NAME: sets port_NAME and pid_NAME
start_server() {
  local port
  port=$(free_port)
  "$hmb" serve --db "$url" --port "$port" >>"$tmp/serve-$1.log" 2>&1 &
  eval "pid_$1=$!; port_$1=$port"
  pids+=("$!")
  wait_health "$port" || { cat "$tmp/serve-$1.log"; echo "multi: server $1 did not start"; exit 1; }
}
check() {
  cat "$tmp"/acked-*.txt | sort -u >"$tmp/acked.txt"
  out=$("$hmb" verify --db "$url" --acked "$tmp/acked.txt" | tail -1)
  echo "verify: $out"
  case $out in
    *'"mismatched":0,'*'"acked_missing":0}') ;;
    *) echo "multi: FAILED"; exit 1 ;;
  esac
}

"$hmb" demo --db "$url" --people 500 --settlements 0 --all --keys-out "$tmp/keys" >/dev/null
key=$(grep '^hospital=' "$tmp/keys" | cut -d= -f2)

echo "== round 1: two servers, the same requests to both at once"
start_server a
start_server b
"$load" --port "$port_a" --key "$key" --settle P371500:500 --count 4000 --seconds 60 \
  --connections 16 --run-id same --record "$tmp/acked-a1.txt" >"$tmp/load-a1.log" 2>&1 &
la=$!
"$load" --port "$port_b" --key "$key" --settle P371500:500 --count 4000 --seconds 60 \
  --connections 16 --run-id same --record "$tmp/acked-b1.txt" >"$tmp/load-b1.log" 2>&1 &
lb=$!
wait $la $lb
na=$(wc -l <"$tmp/acked-a1.txt")
nb=$(wc -l <"$tmp/acked-b1.txt")
both=$(sort "$tmp/acked-a1.txt" "$tmp/acked-b1.txt" | uniq -d | wc -l)
echo "server a acknowledged $na, server b $nb, the same setl_id by both: $both"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && [ "$both" -gt 0 ] || { tail "$tmp"/load-*.log; echo "multi: FAILED"; exit 1; }
check

echo "== round 2: kill -9 one server and cut the other's database connections mid-burst"
"$load" --port "$port_a" --key "$key" --settle P371500:500 --count 20000 --seconds 20 \
  --connections 16 --run-id r2a --record "$tmp/acked-a2.txt" >"$tmp/load-a2.log" 2>&1 &
la=$!
"$load" --port "$port_b" --key "$key" --settle P371500:500 --count 20000 --seconds 20 \
  --connections 16 --run-id r2b --record "$tmp/acked-b2.txt" >"$tmp/load-b2.log" 2>&1 &
lb=$!
sleep 1
kill -9 "$pid_a"
psql -q -X "$url" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
wait $la || true
before=$(wc -l <"$tmp/acked-b2.txt")
wait $lb || true
after=$(wc -l <"$tmp/acked-b2.txt")
echo "server b acknowledged $after in round 2 ($before when server a's burst ended)"
# server b is still serving after losing its connections
"$load" --port "$port_b" --key "$key" --settle P371500:500 --count 500 --seconds 20 \
  --connections 4 --run-id r2c --record "$tmp/acked-c2.txt" >"$tmp/load-c2.log" 2>&1
nc=$(wc -l <"$tmp/acked-c2.txt")
echo "server b after the cut: $nc of 500 acknowledged"
[ "$nc" -eq 500 ] || { cat "$tmp/load-c2.log"; tail -20 "$tmp/serve-b.log"; echo "multi: server b did not recover"; exit 1; }
start_server a
kill -TERM "$pid_a" "$pid_b"
wait "$pid_a" "$pid_b" || true
check
echo "1 passed, 0 failed"

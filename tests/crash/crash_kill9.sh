#!/usr/bin/env bash
# crash_kill9.sh HMB LOAD_HTTP - kill -9 the server in the middle of bursts
# of settlements, restart it, and check that
#   - every settlement the server acknowledged (HTTP 200, recorded by
#     load_http --record as soon as it is read) is stored, exactly once
#     (setl_id is unique in the store), and not lost;
#   - every person's year state equals recomputing it from their stored
#     settlements, and every stored payout equals its recomputation
#     (`hmb verify`).
# Three rounds, each a bounded burst (at most 20,000 requests or 20 s)
# killed after a short, different delay. With HMB_TEST_DB_URL set (an
# empty PostgreSQL database) the store is that database.
set -euo pipefail
hmb=${1:?usage: crash_kill9.sh HMB LOAD_HTTP}
load=${2:?usage: crash_kill9.sh HMB LOAD_HTTP}
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
db=${HMB_TEST_DB_URL:-$tmp/c.db}
export HMB_KEY_FILE=$tmp/pii.key

. "$(dirname "$0")/../lib/net.sh"
start_server() {
  port=$(free_port)
  "$hmb" serve --db "$db" --port "$port" >>"$tmp/serve.log" 2>&1 &
  pid=$!
  wait_health "$port" || { cat "$tmp/serve.log"; echo "crash: server did not start"; exit 1; }
}

"$hmb" demo --db "$db" --people 3000 --settlements 0 --all --keys-out "$tmp/keys" >/dev/null
key=$(grep '^hospital=' "$tmp/keys" | cut -d= -f2)

total=0
for round in 1 2 3; do
  start_server
  "$load" --port "$port" --key "$key" --settle P371500:3000 --count 20000 --seconds 20 \
    --connections 32 --run-id "crash$round-$$" --record "$tmp/acked$round.txt" >"$tmp/load$round.log" 2>&1 &
  lpid=$!
  sleep "0.$((2 + 2 * round))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  wait "$lpid" || true
  n=$(wc -l <"$tmp/acked$round.txt")
  echo "round $round: server killed with kill -9 after $n acknowledged settlements"
  [ "$n" -gt 0 ] || { cat "$tmp/load$round.log"; echo "crash: nothing acknowledged before the kill"; exit 1; }
  total=$((total + n))
done

# restart once more: the store opens cleanly after the last kill
start_server
kill -TERM "$pid"
wait "$pid"
pid=""

cat "$tmp"/acked*.txt >"$tmp/acked.txt"
out=$("$hmb" verify --db "$db" --acked "$tmp/acked.txt" | tail -1)
echo "verify: $out"
case $out in
  *'"mismatched":0,'*'"acked_missing":0}') ;;
  *) echo "crash: FAILED"; exit 1 ;;
esac
dups=$(sort "$tmp/acked.txt" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || { echo "crash: a setl_id acknowledged twice"; exit 1; }
echo "crash: $total acknowledged settlements over 3 kill -9 rounds all present once; states recompute exactly"
echo "1 passed, 0 failed"

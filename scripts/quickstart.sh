#!/usr/bin/env bash
# README command 1: install the dependencies (Debian 12), build hmb, run the
# batch tools on the shipped example data, then create a demo city on the
# embedded SQLite store (roster, 聊惠保 2024, enrollments through every
# channel, a stream of settlements) and start the HTTP API on it, printing
# curl commands that work as printed. Ctrl-C stops the server.
#
# Environment: HMB_PORT (default 8080), DEMO_PEOPLE (default 20000),
# DEMO_SETTLEMENTS (default 50000).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${HMB_PORT:-8080}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! pkg-config --exists jansson cmocka sqlite3 libsodium libmicrohttpd 2>/dev/null ||
  ! command -v ninja >/dev/null || ! command -v curl >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential cmake ninja-build pkg-config python3 curl \
    libjansson-dev libcmocka-dev libsqlite3-dev libsodium-dev libmicrohttpd-dev >/dev/null
fi
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/release -j2 hmb
hmb=build/release/hmb
echo
echo "== hmb plan check (聊惠保 2024 against 云南 2023 rules, to show a profile at work)"
$hmb plan check plans/liaocheng-2024.json --profile yunnan-2023 || true
for p in plans/*.json; do $hmb plan check "$p" || true; done
echo
echo "== hmb workdays: a manual claim received 2024-09-30 must be paid by"
$hmb workdays add 2024-09-30 7
echo
echo "== hmb adjudicate (examples/): results in build/example-results.csv"
$hmb adjudicate --plan plans/liaocheng-2024.json \
  --settlements examples/liaocheng-2024-settlements.csv \
  --details examples/liaocheng-2024-details.csv \
  --people examples/liaocheng-2024-people.csv \
  --out build/example-results.csv --summary-json build/example-summary.json --explain || true
echo
echo "First results with their explanation:"
grep -v ',0.00,0.00,0.00,0.00,0.00' build/example-results.csv | head -4

echo
echo "== hmb demo: a demo city on SQLite (build/demo/hmb-demo.db)"
mkdir -p build/demo
rm -f build/demo/hmb-demo.db build/demo/hmb-demo.db-wal build/demo/hmb-demo.db-shm \
  build/demo/hmb-demo.db.keys
# the personal-data key (build/demo/hmb-demo.db.key) is kept: it encrypts ID numbers and names
$hmb demo --db build/demo/hmb-demo.db --people "${DEMO_PEOPLE:-20000}" \
  --settlements "${DEMO_SETTLEMENTS:-50000}" | tee build/demo/demo.log
key() { grep "^$1=" build/demo/hmb-demo.db.keys | cut -d= -f2; }
psn=$(sed -n 's/^example person: //p' build/demo/demo.log)
url=http://127.0.0.1:$port
cat <<TXT

== hmb serve: the HTTP API on $url (docs/api.md). Try, in another terminal:

curl -s $url/health
curl -s -H "X-API-Key: $(key operator)" $url/v1/persons/$psn
curl -s -H "X-API-Key: $(key hospital)" -X POST $url/v1/settlements/trial -d '{"setl_id":"QS-1","psn_no":"$psn","med_type":"21","setl_time":"2024-06-01 10:00:00","medfee_sumamt":"60000","fulamt_ownpay_amt":"5000","overlmt_selfpay":"0","preselfpay_amt":"3000","inscp_scp_amt":"52000","hifp_pay":"30000","fund_pay_sumamt":"30000","psn_part_amt":"30000"}'
curl -s -H "X-API-Key: $(key hospital)" -X POST $url/v1/settlements -d '{"setl_id":"QS-1","psn_no":"$psn","med_type":"21","setl_time":"2024-06-01 10:00:00","medfee_sumamt":"60000","fulamt_ownpay_amt":"5000","overlmt_selfpay":"0","preselfpay_amt":"3000","inscp_scp_amt":"52000","hifp_pay":"30000","fund_pay_sumamt":"30000","psn_part_amt":"30000"}'
curl -s -H "X-API-Key: $(key hospital)" $url/v1/settlements/QS-1
curl -s -H "X-API-Key: $(key hospital)" -X POST $url/v1/settlements/QS-1/reversal -d '{"psn_no":"$psn"}'
curl -s -H "X-API-Key: $(key bureau)" $url/v1/plans
curl -s -H "X-API-Key: $(key sponsor)" $url/v1/sponsors/liaocheng-charity
curl -s $url/metrics

Keys of every role are in build/demo/hmb-demo.db.keys. Ctrl-C stops the server.
TXT
exec $hmb serve --db build/demo/hmb-demo.db --port "$port"

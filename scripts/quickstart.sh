#!/usr/bin/env bash
# README command 1: install the build dependencies (Debian 12), build hmb, and
# run it on the shipped example data: check the plans against their rules,
# then adjudicate a small year of 聊惠保 2024 settlements with explanations.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! pkg-config --exists jansson cmocka 2>/dev/null || ! command -v ninja >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential cmake ninja-build pkg-config libjansson-dev libcmocka-dev >/dev/null
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

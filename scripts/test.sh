#!/usr/bin/env bash
# The test command of README.md (and of CI): house rules, a warnings-as-errors
# release build with every test, the same suite under ASan+UBSan, and a short
# run of every fuzz target when clang's libFuzzer is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2

echo "== house rules (scripts/checksrc.sh) and formatting (.clang-format)"
scripts/checksrc.sh
if command -v clang-format >/dev/null; then
  clang-format --dry-run --Werror src/*/*.[ch] tests/unit/*.c tests/fuzz/*.c bench/*.c
else
  echo "clang-format not installed: formatting not checked"
fi

echo "== release build, -Werror, all tests"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/release -j"$jobs"
ctest --test-dir build/release -j"$jobs" --output-on-failure

echo "== Release (-O3, the benchmarks' build), -Werror: hmb and the benchmarks compile clean"
cmake -S . -B build/o3 -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build/o3 -j"$jobs" hmb gen_settlements bench_engine load_http

echo "== ASan + UBSan build, all tests"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHMB_SANITIZE=ON >/dev/null
ninja -C build/asan -j"$jobs"
ctest --test-dir build/asan -j"$jobs" --output-on-failure

echo "== gcc -fanalyzer on the libraries and the command (its warnings are errors)"
cmake -S . -B build/analyzer -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fanalyzer >/dev/null
ninja -C build/analyzer -j"$jobs" hmb

echo "== ThreadSanitizer: hmb adjudicate's two threads on the CLI tests and 50k generated rows,"
echo "   the settlement writer with concurrent submitters (test_svc), the server under load (API tests)"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
ninja -C build/tsan -j"$jobs" hmb test_svc load_http
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
HMB_HOME=$PWD build/tsan/test_svc >/dev/null || { echo "tsan: test_svc failed"; exit 1; }
for t in tests/api/*.py; do
  [ -f "$t" ] || continue
  HMB_HOME=$PWD python3 "$t" build/tsan/hmb >/dev/null || { echo "tsan: $t failed"; exit 1; }
done
for t in tests/cli/*.sh; do bash "$t" build/tsan/hmb >/dev/null || { echo "tsan: $t failed"; exit 1; }; done
tsdir=$(mktemp -d)
build/release/gen_settlements --count 50000 --seed 7 --out-settlements "$tsdir/s.csv" --out-details "$tsdir/d.csv" >/dev/null 2>&1
build/tsan/hmb adjudicate --plan plans/liaocheng-2024.json --settlements "$tsdir/s.csv" \
  --details "$tsdir/d.csv" --out "$tsdir/r.csv" >/dev/null 2>"$tsdir/err" || { cat "$tsdir/err"; exit 1; }
build/release/hmb adjudicate --plan plans/liaocheng-2024.json --settlements "$tsdir/s.csv" \
  --details "$tsdir/d.csv" --out "$tsdir/r2.csv" >/dev/null 2>&1
cmp -s "$tsdir/r.csv" "$tsdir/r2.csv" || { echo "tsan and release results differ"; exit 1; }
rm -rf "$tsdir"
unset TSAN_OPTIONS
echo "tsan: clean"

echo "== PostgreSQL: store, service, API, crash and multi-server tests on a private server"
if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  pgdir=$(mktemp -d /tmp/hmb-pg-XXXXXX)
  scripts/pg.sh start "$pgdir"
  trap 'scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true' EXIT
  pgurl=$(scripts/pg.sh url "$pgdir")
  # fresh NAME: an empty database of the private server, printed as a URL
  fresh() {
    psql -q -X "$pgurl" -c "CREATE DATABASE $1" >/dev/null
    echo "${pgurl%/*}/$1"
  }
  for b in release asan; do
    HMB_TEST_PG=$pgurl build/$b/test_store >/dev/null || { echo "pg: test_store ($b) failed"; exit 1; }
    HMB_TEST_DB_URL=$(fresh "svc_$b") HMB_HOME=$PWD build/$b/test_svc >/dev/null ||
      { echo "pg: test_svc ($b) failed"; exit 1; }
    HMB_TEST_DB_URL=$(fresh "api_$b") HMB_HOME=$PWD python3 tests/api/test_api.py build/$b/hmb >/dev/null ||
      { echo "pg: API tests ($b) failed"; exit 1; }
    echo "pg ($b): test_store, test_svc, API tests passed"
  done
  HMB_TEST_DB_URL=$(fresh crash) HMB_HOME=$PWD bash tests/crash/crash_kill9.sh build/release/hmb build/release/load_http |
    tail -2 | head -1
  HMB_HOME=$PWD bash tests/pg/multi_server.sh build/release/hmb build/release/load_http "$(fresh multi)" |
    grep -E "acknowledged|verify|recover" || { echo "pg: multi-server test failed"; exit 1; }
  scripts/pg.sh stop "$pgdir"
  trap - EXIT
else
  echo "PostgreSQL 15 server not installed: skipped (CI installs it)"
fi

if command -v clang >/dev/null && [ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  echo "== fuzz targets, ${HMB_FUZZ_SECONDS:-20} s each"
  CC=clang cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHMB_FUZZ=ON -DHMB_WERROR=OFF >/dev/null
  ninja -C build/fuzz -j"$jobs"
  for f in build/fuzz/fuzz_*; do
    case $f in *.log) continue ;; esac # logs of an earlier run
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null || true
    "$f" -max_total_time="${HMB_FUZZ_SECONDS:-20}" -print_final_stats=0 "$corpus" >"build/fuzz/$name.log" 2>&1 ||
      { tail -40 "build/fuzz/$name.log"; echo "fuzz target $name failed"; exit 1; }
    echo "$name: $(grep -Eo 'Done [0-9]+ runs' "build/fuzz/$name.log" || echo ok)"
    rm -rf "$corpus"
  done
else
  echo "== fuzz targets skipped: clang with libclang-rt-14-dev is not installed"
fi
echo "all tests passed"

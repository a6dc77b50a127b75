#!/usr/bin/env bash
# cli_vs_duckdb.sh [N] - the end-to-end benchmark of the hmb CLI against
# DuckDB (from npm) doing the same computation in SQL on the same CSV files,
# on the same machine, in the same script.
#
#   bench/cli_vs_duckdb.sh            # N = 10,000,000 settlements
#   bench/cli_vs_duckdb.sh 1000000    # also compares the result rows
#
# Steps: build hmb and gen_settlements in Release into bench/out/build
# (ninja -j2; when the CMake build of gen_settlements fails the generator is
# compiled standalone), generate the year of 聊城 2024 settlements into
# bench/out/ (kept and reused for the same N, seed and generator sources),
# install @duckdb/node-api into bench/node_modules if missing, read the input
# files once (so both tools find them in the page cache), then time with the
# wall clock (date +%s%N), the two alternating run by run, each after a sync:
#   hmb adjudicate --plan plans/liaocheng-2024.json --settlements S --details D
#                  --out R --summary-json J
#   node bench/duckdb_liaocheng.mjs (same plan, same files)
# and check that both summaries (settlements, eligible, paid, people_paid)
# are identical to the fen. For N <= 1,000,000 the result rows are compared
# too (setl_id, eligible, payout and the four responsibilities, sorted by
# setl_id; hmb's status column is ignored), and for N <= 200,000 (or REF=1)
# the Python reference bench/ref_liaocheng.py is run and compared as well.
#
# Environment: SEED (default 20240101), RUNS (timed runs of each, default 1;
# the fastest counts), ROWS=1 (compare the result rows whatever N; sorting
# two 10M-row results takes about 15 s and 2 GB), HMB (use this hmb binary
# instead of building one),
# REF (1/0: force the Python reference on/off), HMB_CMAKE_ARGS (extra
# arguments for the CMake configure step).
#
# Exit status: 0 when the totals (and rows, when compared) agree, 1 when they
# differ, 2 when something could not be run.
set -euo pipefail

N=${1:-10000000}
SEED=${SEED:-20240101}
RUNS=${RUNS:-1}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
case $RUNS in '' | *[!0-9]* | 0) echo "RUNS must be a positive integer" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
build=$out/build
mkdir -p "$out"

. bench/lib.sh

# ---- build ------------------------------------------------------------------
gen=$build/gen_settlements
# What the generator is made of: its own file and the parts of hmb gen it
# shares (random numbers, settlement pieces, number formatting).
gen_src="bench/gen_settlements.c src/core/alloc.c src/core/date.c src/core/err.c src/core/rng.c
         src/domain/synth.c src/io/synth_csv.c"
gen_hdr="src/core/rng.h src/domain/synth.h src/io/synth_csv.h"
hmb=${HMB:-}
if [ ! -f "$build/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${HMB_CMAKE_ARGS:-} >&2 ||
    say "cli_vs_duckdb: cmake configure failed"
fi
if [ -f "$build/build.ninja" ] && ninja -C "$build" -j2 gen_settlements >&2; then
  :
else
  say "cli_vs_duckdb: the CMake build of gen_settlements failed; compiling it standalone"
  gen=$out/gen_settlements
  # shellcheck disable=SC2086
  cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/core -Isrc/domain -Isrc/io $gen_src -o "$gen"
fi
if [ -z "$hmb" ]; then
  if [ -f "$build/build.ninja" ] && ninja -C "$build" -j2 hmb >&2; then
    hmb=$build/hmb
  else
    say "cli_vs_duckdb: hmb could not be built: only DuckDB will run"
  fi
fi

# ---- data ---------------------------------------------------------------------
S=$out/settlements-$N-$SEED.csv
D=$out/details-$N-$SEED.csv
stamp=$out/data-$N-$SEED.stamp
# shellcheck disable=SC2086
want_stamp="$N $SEED $(cat $gen_src $gen_hdr | sha256sum | cut -c1-16)"
if [ -f "$S" ] && [ -f "$D" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
  say "cli_vs_duckdb: reusing $S"
else
  rm -f "$stamp"
  t0=$(now_ns)
  "$gen" --count "$N" --seed "$SEED" --out-settlements "$S" --out-details "$D"
  t1=$(now_ns)
  say "cli_vs_duckdb: generated $N rows in $(secs "$t0" "$t1") s"
  printf '%s\n' "$want_stamp" >"$stamp"
fi

# ---- DuckDB from npm ---------------------------------------------------------------
need_duckdb

# ---- timed runs -----------------------------------------------------------------
plan=plans/liaocheng-2024.json
hmb_ns=
duck_ns=
status=0
# shellcheck disable=SC2317 # called through alternate_runs
run_hmb() {
  rm -f "$out/hmb-result.csv" "$out/hmb-summary.json"
  rc=0
  timed "$hmb" adjudicate --plan "$plan" --settlements "$S" --details "$D" \
    --out "$out/hmb-result.csv" --summary-json "$out/hmb-summary.json" >&2 || rc=$?
  if [ "$rc" -ne 0 ]; then
    say "cli_vs_duckdb: hmb adjudicate exited with $rc"
    status=1
  fi
  hmb_ns=$(best "$hmb_ns" "$last_ns")
  say "cli_vs_duckdb: hmb run $k: $(secs 0 "$last_ns") s"
}
# shellcheck disable=SC2317 # called through alternate_runs
run_duckdb() {
  timed node bench/duckdb_liaocheng.mjs --plan "$plan" --settlements "$S" --details "$D" \
    --out "$out/duckdb-result.csv" --summary-json "$out/duckdb-summary.json" >&2
  duck_ns=$(best "$duck_ns" "$last_ns")
  say "cli_vs_duckdb: duckdb run $k: $(secs 0 "$last_ns") s"
}
# both read the files from the page cache
warm_files "$S" "$D"
alternate_runs "$RUNS" "${hmb:+run_hmb}" run_duckdb

# ---- checks ----------------------------------------------------------------------
# The four totals of a summary JSON as one line (amounts must be strings).
summary_line() {
  # shellcheck disable=SC2016 # the $ are JavaScript's
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const m = (v) => (typeof v === "string" ? v : "NOT-A-STRING(" + v + ")");
    console.log(`settlements=${s.settlements} eligible=${m(s.eligible)} paid=${m(s.paid)} people_paid=${s.people_paid}`);
  ' "$1"
}
# setl_id,eligible,payout,<responsibilities> of a result CSV, sorted.
result_rows() {
  awk -F, '
    NR == 1 {
      n = split("setl_id,eligible,payout,inpatient_in_scope,inpatient_out_of_scope,special_drugs,special_efficacy_drugs", want, ",")
      for (i = 1; i <= NF; i++) col[$i] = i
      for (j = 1; j <= n; j++) if (!(want[j] in col)) { print "missing column " want[j] > "/dev/stderr"; exit 3 }
      next
    }
    {
      line = $(col[want[1]])
      for (j = 2; j <= n; j++) line = line "," $(col[want[j]])
      print line
    }' "$1" | LC_ALL=C sort
}

duck_sum=$(summary_line "$out/duckdb-summary.json")
totals=SKIP
rows_check=SKIP
if [ -n "$hmb" ] && [ -f "$out/hmb-summary.json" ]; then
  hmb_sum=$(summary_line "$out/hmb-summary.json")
  if [ "$hmb_sum" = "$duck_sum" ]; then totals=PASS; else totals=FAIL; status=1; fi
  if [ "$N" -le 1000000 ] || [ "${ROWS:-0}" = 1 ]; then
    if cmp -s <(result_rows "$out/hmb-result.csv") <(result_rows "$out/duckdb-result.csv"); then
      rows_check=PASS
    else
      rows_check=FAIL
      status=1
      diff <(result_rows "$out/hmb-result.csv") <(result_rows "$out/duckdb-result.csv") | head -20 >&2 || true
    fi
  fi
elif [ -n "$hmb" ]; then
  totals=FAIL
  status=1
else
  status=2
fi

ref=${REF:-}
if [ -z "$ref" ]; then if [ "$N" -le 200000 ]; then ref=1; else ref=0; fi; fi
ref_check=SKIP
if [ "$ref" = 1 ]; then
  python3 bench/ref_liaocheng.py --plan "$plan" --settlements "$S" --details "$D" \
    --out "$out/ref-result.csv" --summary-json "$out/ref-summary.json" --check-input >&2
  if [ "$(summary_line "$out/ref-summary.json")" = "$duck_sum" ] &&
    cmp -s <(result_rows "$out/ref-result.csv") <(result_rows "$out/duckdb-result.csv"); then
    ref_check=PASS
  else
    ref_check=FAIL
    status=1
  fi
fi

# ---- report ------------------------------------------------------------------------
echo "rows            $N"
echo "duckdb          $duck_sum"
if [ -n "$hmb" ]; then
  echo "hmb             ${hmb_sum:-no summary}"
  echo "hmb seconds     $(secs 0 "$hmb_ns")"
  echo "hmb rows/s      $(awk -v n="$N" -v t="$hmb_ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')"
else
  echo "hmb seconds     n/a (hmb not built)"
fi
echo "duckdb seconds  $(secs 0 "$duck_ns")"
if [ -n "$hmb" ]; then
  ratio=$(awk -v a="$duck_ns" -v b="$hmb_ns" 'BEGIN { printf "%.2f", a / b }')
  echo "ratio duckdb/hmb $ratio (target >= 5: $(awk -v r="$ratio" 'BEGIN { print (r >= 5 ? "met" : "NOT met") }'))"
fi
echo "totals          $totals"
if [ "$N" -le 1000000 ] || [ "${ROWS:-0}" = 1 ]; then
  echo "result rows     $rows_check"
else
  echo "result rows     $rows_check (compared for N <= 1000000 or ROWS=1 only)"
fi
echo "python ref      $ref_check"
exit "$status"

#!/usr/bin/env bash
# backtest_vs_duckdb.sh [N] - `hmb backtest` against DuckDB (from npm)
# computing the same loss ratio in SQL on the same CSV files, on the same
# machine, in the same script.
#
#   bench/backtest_vs_duckdb.sh            # N = 10,000,000 settlements
#   bench/backtest_vs_duckdb.sh 1000000
#   bench/backtest_vs_duckdb.sh 200000     # a quick check
#
# Steps: build hmb in Release into bench/out/build (ninja -j1), generate a
# synthetic city with `hmb gen --out-dir bench/out/city-N-SEED --settlements N
# --seed SEED` (roster.csv, people.csv, settlements.csv, details.csv; kept and
# reused while N, the seed and the generator's sources are unchanged: the
# stamp file bench/out/city-N-SEED/stamp), install @duckdb/node-api into
# bench/node_modules if missing, read the input files once (so both tools find
# them in the page cache), then time with the wall clock (date +%s%N), the two
# alternating run by run, each after a sync:
#   hmb backtest --plan PLAN --settlements S --details D --people P --json J
#   node bench/duckdb_backtest.mjs (same plan, same files)
# and check that these are identical: enrolled people, settlements counted,
# premium income (fen), claims paid (fen), the loss ratio in basis points,
# beneficiaries (people whose year's payout is above 0) - and, as a further
# check, the eligible amount and each responsibility's paid amount and
# beneficiaries.
#
# Prints the totals of both, the seconds of each, rows/s, the ratio
# duckdb/hmb, PASS/FAIL, and a last line `summary {JSON}` (also written to
# bench/out/backtest-summary.json).
#
# Environment: SEED (default 20240101), RUNS (timed runs of each, default 1;
# the fastest counts), PLAN (default plans/liaocheng-2024.json; the SQL
# refuses what it does not implement), HMB (use this hmb binary instead of
# building one; it also generates the data), HMB_CMAKE_ARGS (extra arguments
# for the CMake configure step), PRICE=0 (skip the hmb price run), SPACE (its
# search space, default plans/spaces/liaocheng-yunnan-2023.json).
#
# Exit status: 0 when the totals agree, 1 when they differ (or hmb backtest
# fails), 2 when something could not be run.
set -euo pipefail

N=${1:-10000000}
SEED=${SEED:-20240101}
RUNS=${RUNS:-1}
case $N in '' | *[!0-9]* | 0) echo "usage: $0 [N]" >&2; exit 2 ;; esac
case $SEED in '' | *[!0-9]*) echo "SEED must be a non-negative integer" >&2; exit 2 ;; esac
case $RUNS in '' | *[!0-9]* | 0) echo "RUNS must be a positive integer" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out
build=$out/build
plan=${PLAN:-plans/liaocheng-2024.json}
mkdir -p "$out"

. bench/lib.sh

# ---- build ------------------------------------------------------------------
hmb=${HMB:-}
if [ -z "$hmb" ]; then
  if [ ! -f "$build/build.ninja" ]; then
    # shellcheck disable=SC2086
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${HMB_CMAKE_ARGS:-} >&2 ||
      say "backtest_vs_duckdb: cmake configure failed"
  fi
  if [ -f "$build/build.ninja" ] && ninja -C "$build" -j1 hmb >&2; then
    hmb=$build/hmb
  else
    say "backtest_vs_duckdb: hmb could not be built: only DuckDB will run (on data already generated)"
  fi
fi

# ---- data ---------------------------------------------------------------------
city=$out/city-$N-$SEED
S=$city/settlements.csv
D=$city/details.csv
P=$city/people.csv
stamp=$city/stamp
# What hmb gen's output depends on: its sources, N and the seed.
gen_src="src/domain/synth.c src/domain/synth.h src/io/synth_csv.c src/io/synth_csv.h
         src/core/rng.c src/core/rng.h src/cli/cmd_gen.c"
# shellcheck disable=SC2086
want_stamp="$N $SEED $(cat $gen_src | sha256sum | cut -c1-16)"
if [ -f "$S" ] && [ -f "$D" ] && [ -f "$P" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
  say "backtest_vs_duckdb: reusing $city"
elif [ -z "$hmb" ]; then
  say "backtest_vs_duckdb: no hmb to generate $city"
  exit 2
else
  rm -f "$stamp"
  mkdir -p "$city"
  t0=$(now_ns)
  "$hmb" gen --out-dir "$city" --settlements "$N" --seed "$SEED" >"$city/gen.txt"
  t1=$(now_ns)
  say "backtest_vs_duckdb: generated $N rows in $(secs "$t0" "$t1") s"
  printf '%s\n' "$want_stamp" >"$stamp"
fi

# ---- DuckDB from npm ---------------------------------------------------------------
need_duckdb

# ---- timed runs -----------------------------------------------------------------
hmb_json=$out/backtest-hmb.json
duck_json=$out/backtest-duckdb.json
hmb_ns=
duck_ns=
status=0
# shellcheck disable=SC2317 # called through alternate_runs
run_hmb() {
  rm -f "$hmb_json"
  rc=0
  timed "$hmb" backtest --plan "$plan" --settlements "$S" --details "$D" --people "$P" \
    --json "$hmb_json" >"$out/backtest-hmb.txt" || rc=$?
  if [ "$rc" -ne 0 ]; then
    say "backtest_vs_duckdb: hmb backtest exited with $rc"
    status=1
  fi
  hmb_ns=$(best "$hmb_ns" "$last_ns")
  say "backtest_vs_duckdb: hmb run $k: $(secs 0 "$last_ns") s"
}
# shellcheck disable=SC2317 # called through alternate_runs
run_duckdb() {
  rm -f "$duck_json"
  if ! timed node bench/duckdb_backtest.mjs --plan "$plan" --settlements "$S" --details "$D" \
    --people "$P" --summary-json "$duck_json" >&2; then
    say "backtest_vs_duckdb: duckdb_backtest.mjs failed"
    exit 2
  fi
  duck_ns=$(best "$duck_ns" "$last_ns")
  say "backtest_vs_duckdb: duckdb run $k: $(secs 0 "$last_ns") s"
}
# both read the files from the page cache
warm_files "$S" "$D" "$P"
alternate_runs "$RUNS" "${hmb:+run_hmb}" run_duckdb

# ---- checks ----------------------------------------------------------------------
# totals_line hmb|duckdb FILE WHAT -> one line of integers (amounts in fen).
# WHAT: main (the six totals that must agree) or more (eligible, and paid and
# beneficiaries by responsibility).
totals_line() {
  # shellcheck disable=SC2016 # the $ are JavaScript's
  node -e '
    const [side, file, what] = process.argv.slice(1);
    const j = JSON.parse(require("fs").readFileSync(file, "utf8"));
    /* hmb: "1234.56" yuan (money_format) -> fen, exactly */
    const fen = (t) => {
      const m = /^(-?)([0-9]+)\.([0-9]{2})$/.exec(String(t));
      if (!m) return "NOT-AN-AMOUNT(" + t + ")";
      const v = BigInt(m[2]) * 100n + BigInt(m[3]);
      return String(m[1] ? -v : v);
    };
    let t;
    if (side === "hmb") {
      if (!j.plans || j.plans.length !== 1) throw new Error("expected one plan in " + file);
      const p = j.plans[0];
      t = { people: p.people, settlements: p.settlements, premium_fen: fen(p.premium),
            paid_fen: fen(p.paid), loss_ratio_bp: p.loss_ratio_bp, beneficiaries: p.beneficiaries,
            eligible_fen: fen(p.eligible),
            resp: Object.entries(p.by_responsibility).map(([k, v]) => `${k}:${fen(v.paid)}:${v.beneficiaries}`) };
    } else {
      t = { ...j, resp: Object.entries(j.by_responsibility).map(([k, v]) => `${k}:${v.paid_fen}:${v.beneficiaries}`) };
    }
    if (what === "main")
      console.log(`people=${t.people} settlements=${t.settlements} premium_fen=${t.premium_fen} paid_fen=${t.paid_fen} loss_ratio_bp=${t.loss_ratio_bp} beneficiaries=${t.beneficiaries}`);
    else
      console.log(`eligible_fen=${t.eligible_fen} by_responsibility=${t.resp.join(",")}`);
  ' "$1" "$2" "$3"
}

duck_main=$(totals_line duckdb "$duck_json" main)
duck_more=$(totals_line duckdb "$duck_json" more)
totals=SKIP
more=SKIP
hmb_main=
hmb_more=
if [ -n "$hmb" ] && [ -f "$hmb_json" ]; then
  hmb_main=$(totals_line hmb "$hmb_json" main)
  hmb_more=$(totals_line hmb "$hmb_json" more)
  if [ "$hmb_main" = "$duck_main" ]; then totals=PASS; else totals=FAIL; status=1; fi
  if [ "$hmb_more" = "$duck_more" ]; then more=PASS; else more=FAIL; status=1; fi
  # shellcheck disable=SC2016
  hmb_rows=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`rows=${j.rows} rejected=${j.rejected} repeated=${j.repeated} not_enrolled=${j.not_enrolled} reversals=${j.reversals}`)' "$hmb_json")
elif [ -n "$hmb" ]; then
  totals=FAIL
  more=FAIL
  status=1
else
  status=2
fi

# ---- report ------------------------------------------------------------------------
rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
echo "rows            $N (seed $SEED, $city)"
echo "plan            $plan"
echo "duckdb          $duck_main"
echo "                $duck_more"
if [ -n "$hmb" ]; then
  echo "hmb             ${hmb_main:-no summary}"
  echo "                ${hmb_more:-}"
  echo "hmb read        ${hmb_rows:-n/a}"
  echo "hmb seconds     $(secs 0 "$hmb_ns")"
  echo "hmb rows/s      $(rate "$hmb_ns")"
else
  echo "hmb seconds     n/a (hmb not built)"
fi
echo "duckdb seconds  $(secs 0 "$duck_ns")"
echo "duckdb rows/s   $(rate "$duck_ns")"
ratio=null
if [ -n "$hmb" ]; then
  ratio=$(awk -v a="$duck_ns" -v b="$hmb_ns" 'BEGIN { printf "%.2f", a / b }')
  echo "ratio duckdb/hmb $ratio"
fi
echo "totals          $totals"
echo "more totals     $more (eligible, by responsibility)"

# ---- hmb price: plan variants per second ------------------------------------
# The search of plans/spaces/ (4,752 variants under yunnan-2023) on the same
# year: the wall time, the year's run, the evaluation alone, variants per
# second, and how much faster a variant is judged than a whole backtest of
# it would be (hmb backtest's seconds / the evaluation's seconds per
# variant). The base plan's figures must equal hmb backtest's.
price_line=null
if [ -n "$hmb" ] && [ "${PRICE:-1}" != 0 ] && [ "$plan" = plans/liaocheng-2024.json ]; then
  space=${SPACE:-plans/spaces/liaocheng-yunnan-2023.json}
  price_json=$out/price-hmb.json
  t0=$(now_ns)
  rc=0
  "$hmb" price --plan "$plan" --space "$space" --settlements "$S" --details "$D" --people "$P" \
    --profile yunnan-2023 --json "$price_json" >"$out/price-hmb.txt" || rc=$?
  t1=$(now_ns)
  if [ "$rc" -ne 0 ]; then
    say "backtest_vs_duckdb: hmb price exited with $rc"
    status=1
  else
    # shellcheck disable=SC2016
    price_line=$(node -e '
      const fs = require("fs");
      const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      const b = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).plans[0];
      const wall = Number(process.argv[3]) / 1e9, bt = Number(process.argv[4]) / 1e9;
      const same = ["paid", "premium", "beneficiaries", "loss_ratio_bp"].every((k) => p.base[k] === b[k]);
      const per = p.seconds_eval / p.variants;
      console.log(JSON.stringify({
        variants: p.variants, feasible: p.feasible, wall_s: Number(wall.toFixed(3)),
        year_s: p.seconds_year, eval_s: p.seconds_eval, threads: p.threads,
        variants_per_s: Math.round(p.variants / p.seconds_eval),
        s_for_1000: Number((p.seconds_year + 1000 * per).toFixed(3)),
        ratio_backtest_per_variant: Number((bt / per).toFixed(0)),
        base_equals_backtest: same,
      }));
    ' "$price_json" "$hmb_json" "$((t1 - t0))" "$hmb_ns")
    echo "price           $price_line"
    case $price_line in *'"base_equals_backtest":true'*) ;; *) status=1 ;; esac
  fi
fi

# the machine-readable line
# shellcheck disable=SC2016
summary=$(node -e '
  const [n, seed, plan, hns, dns, ratio, totals, more, status, dm, price] = process.argv.slice(1);
  const kv = Object.fromEntries(dm.split(" ").map((x) => x.split("=")).map(([k, v]) => [k, /^-?[0-9]+$/.test(v) && !k.endsWith("_fen") ? Number(v) : v]));
  const s = (ns) => (ns ? Number((Number(ns) / 1e9).toFixed(3)) : null);
  console.log(JSON.stringify({
    bench: "backtest_vs_duckdb", rows: Number(n), seed, plan,
    hmb_s: s(hns), duckdb_s: s(dns),
    hmb_rows_per_s: hns ? Math.round(Number(n) / (Number(hns) / 1e9)) : null,
    duckdb_rows_per_s: Math.round(Number(n) / (Number(dns) / 1e9)),
    ratio_duckdb_hmb: ratio === "null" ? null : Number(ratio),
    totals, more_totals: more, status: Number(status), duckdb: kv, price: JSON.parse(price),
  }));
' "$N" "$SEED" "$plan" "${hmb_ns:-}" "$duck_ns" "$ratio" "$totals" "$more" "$status" "$duck_main" "$price_line")
printf '%s\n' "$summary" >"$out/backtest-summary.json"
echo "summary $summary"
exit "$status"

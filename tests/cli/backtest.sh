#!/usr/bin/env bash
# hmb backtest on the shipped example year: the same totals as hmb adjudicate
# (a repeated setl_id refused, the reversal taken back), the loss ratio on
# written and earned premium, two plans in one reading, JSON output, and the
# refusals of bad arguments, and agreement with hmb adjudicate on a city made
# by hmb gen.
set -u
hmb=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ex=examples/liaocheng-2024

"$hmb" backtest --plan plans/liaocheng-2024.json --settlements $ex-settlements.csv \
  --details $ex-details.csv --people $ex-people.csv --json "$out/b.json" --top 3 \
  >"$out/report" 2>"$out/err"
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc, want 1 (rows rejected)"
grep -q 'setl.duplicate' "$out/err" || fail "duplicate not reported: $(cat "$out/err")"
grep -q 'settlements.csv:10:medfee_sumamt' "$out/err" || fail "bad row not reported"
grep -q '^赔付 129800.00 元（合规费用 302800.00 元）' "$out/report" || fail "report: $(cat "$out/report")"
grep -q '^受益 5 人，占参保人数 71.43%' "$out/report" || fail "beneficiaries"

# the same totals as hmb adjudicate on the same files
"$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements $ex-settlements.csv \
  --details $ex-details.csv --people $ex-people.csv --out "$out/r.csv" \
  --summary-json "$out/s.json" >/dev/null 2>&1
python3 - "$out/b.json" "$out/s.json" <<'PY' || fail "backtest and adjudicate disagree"
import json, sys
b = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
p = b["plans"][0]
assert b["rows"] == 12 and b["rejected"] == 2 and b["repeated"] == 1 and b["reversals"] == 1, b
assert p["paid"] == s["paid"] and p["eligible"] == s["eligible"], (p["paid"], s["paid"])
assert p["beneficiaries"] == s["people_paid"], p
# loss ratio: paid / premium in basis points, half up, exactly
def fen(x): return int(x.replace(".", ""))
paid, prem = fen(p["paid"]), fen(p["premium"])
assert p["loss_ratio_bp"] == (paid * 20000 + prem) // (2 * prem), p["loss_ratio_bp"]
assert fen(p["earned_premium"]) <= prem
assert sum(fen(r["paid"]) for r in p["by_responsibility"].values()) == paid
assert sum(fen(g["paid"]) for g in p["by_age"].values()) == paid
assert sum(fen(g["premium"]) for g in p["by_scheme"].values()) == prem
assert sum(k["people"] for k in p["payout_distribution"]) == p["beneficiaries"]
assert len(p["largest"]) == 3 and p["largest"][0]["paid"] == "83200.00", p["largest"]
PY

# two plans, one reading; the whole year earned with --data-end at its end
"$hmb" backtest --plan plans/liaocheng-2024.json --plan plans/liaocheng-2024.json \
  --settlements $ex-settlements.csv --details $ex-details.csv --people $ex-people.csv \
  --data-end 2024-12-31 --json "$out/b2.json" >/dev/null 2>&1
python3 - "$out/b2.json" <<'PY' || fail "two plans"
import json, sys
b = json.load(open(sys.argv[1]))
a, c = b["plans"]
assert a == c, "the same plan twice must give the same report"
assert a["earned_premium"] == a["premium"], a
PY

# a generated city: backtest and adjudicate agree to the fen on every total
"$hmb" gen --out-dir "$out/city" --people 20000 --seed 11 >/dev/null 2>&1 || fail "hmb gen"
c=$out/city
"$hmb" backtest --plan plans/liaocheng-2024.json --settlements $c/settlements.csv \
  --details $c/details.csv --people $c/people.csv --json "$out/bc.json" >/dev/null 2>&1 ||
  fail "backtest on the generated city"
# the same report with every row judged the long way (no row skipped as
# inert, every person's record made when first seen)
HMB_TEST_EAGER=1 "$hmb" backtest --plan plans/liaocheng-2024.json --settlements $c/settlements.csv \
  --details $c/details.csv --people $c/people.csv --json "$out/bc-eager.json" >/dev/null 2>&1 ||
  fail "backtest on the generated city, the long way"
cmp -s "$out/bc.json" "$out/bc-eager.json" || fail "backtest judged the long way differs"
"$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements $c/settlements.csv \
  --details $c/details.csv --people $c/people.csv --out "$out/rc.csv" \
  --summary-json "$out/sc.json" >/dev/null 2>&1 || fail "adjudicate on the generated city"
python3 - "$out/bc.json" "$out/sc.json" "$c/settlements.csv" "$c/people.csv" <<'PY' || fail "generated city: backtest and adjudicate disagree"
import csv, json, sys
from decimal import Decimal
p = json.load(open(sys.argv[1]))["plans"][0]
s = json.load(open(sys.argv[2]))
# what the enrolled bore, added up here from the file: the backtest's own cost
enrolled = {r["psn_no"] for r in csv.DictReader(open(sys.argv[4]))}
own = sum(Decimal(r["psn_part_amt"]) for r in csv.DictReader(open(sys.argv[3]))
          if r["psn_no"] in enrolled)
assert Decimal(p["own_cost"]) == own, (p["own_cost"], own)
assert (p["paid"], p["eligible"], p["beneficiaries"], p["settlements"]) == \
    (s["paid"], s["eligible"], s["people_paid"], s["settlements"]), (p, s)
assert p["beneficiaries"] > 0
PY

# what a person bore past 2^32 fen (42,949,672.96 yuan: where the run's
# 4-byte per-person sums overflow into 8 bytes), with reversals of a
# settlement that added nothing (no record kept) and of one that did
{
  head -1 $ex-settlements.csv
  for i in 1 2 3 4 5 6 7; do
    printf 'SBIG%d,MBIG%d,P371500000001,390,11,2024-03-0%d 10:00:00,9000000.00,0.00,0.00,0.00,9000000.00,0.00,0.00,0.00,0.00,0.00,0.00,9000000.00,0.00,9000000.00,2207\n' "$i" "$i" "$i"
  done
  echo 'SBIG8,MBIG8,P371500000001,390,21,2024-04-01 10:00:00,9000000.00,0.00,0.00,0.00,9000000.00,0.00,0.00,0.00,0.00,0.00,0.00,9000000.00,0.00,9000000.00,2207'
  echo 'SBIG3,,P371500000001,,,,,,,,,,,,,,,,,,2208'
  echo 'SBIG8,,P371500000001,,,,,,,,,,,,,,,,,,2208'
} >"$out/big.csv"
for eager in "" 1; do
  HMB_TEST_EAGER=$eager "$hmb" backtest --plan plans/liaocheng-2024.json --settlements "$out/big.csv" \
    --people $ex-people.csv --json "$out/big.json" >/dev/null 2>&1 || fail "backtest of big.csv"
  python3 - "$out/big.json" <<'PY' || fail "own cost past 2^32 fen (eager: $eager)"
import json, sys
b = json.load(open(sys.argv[1]))
p = b["plans"][0]
assert b["reversals"] == 2 and b["rejected"] == 0, b
assert p["own_cost"] == "54000000.00", p["own_cost"]
PY
done

# refusals
"$hmb" backtest --plan plans/liaocheng-2024.json --settlements $ex-settlements.csv 2>/dev/null
[ $? -eq 2 ] || fail "missing --people accepted"
"$hmb" backtest --plan plans/weihai-2024.json --settlements $ex-settlements.csv \
  --people $ex-people.csv 2>"$out/e2" >/dev/null
[ $? -eq 2 ] && grep -q 'draft' "$out/e2" || fail "draft plan accepted"
"$hmb" backtest --plan plans/liaocheng-2024.json --settlements $ex-settlements.csv \
  --people $ex-people.csv --top 5000 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "--top 5000 accepted"
echo "backtest: ok"

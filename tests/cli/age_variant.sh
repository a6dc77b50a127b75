#!/usr/bin/env bash
# An age variant through the CLI: the age comes from --people's birth date
# at the plan's age basis, also for people born before 1970 (day numbers
# below 0), and hmb adjudicate and hmb backtest judge it alike.
set -u
hmb=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat >"$d/plan.json" <<'JSON'
{"format":"hmb-plan/1","id":"age-test","name":"老年人提高比例","source":"test","year":2024,
 "coverage":{"start":"2024-01-01","end":"2024-12-31"},
 "enrollment":{"window":{"start":"2023-10-01","end":"2023-12-31"}},
 "premiums":{"bands":[{"amount":"89"}]},
 "responsibilities":[{"id":"stay","name":"住院","sources":[{"component":"inscp_selfpay"}],
   "deductible":"1000","ratio":"50%","cap":"100000"}],
 "variants":[{"when":{"age_min":60},"responsibility":"stay","ratio":"80%","note":"60岁以上"}]}
JSON
cat >"$d/people.csv" <<'CSV'
psn_no,insutype,brdy
OLD,390,1950-03-03
EDGE,390,1963-12-31
YOUNG,390,1990-09-09
MID,390,1969-12-31
NOBIRTH,390,
CSV
h=setl_id,psn_no,med_type,setl_time,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt
{
  echo "$h"
  i=0
  for p in OLD EDGE YOUNG MID NOBIRTH; do
    i=$((i + 1))
    echo "S$i,$p,21,2024-03-0$i 10:00:00,3000.00,0.00,0.00,0.00,3000.00,0.00,3000.00"
  done
} >"$d/s.csv"
"$hmb" adjudicate --plan "$d/plan.json" --settlements "$d/s.csv" --people "$d/people.csv" \
  --out "$d/r.csv" --summary-json "$d/sum.json" 2>"$d/err" >/dev/null || fail "exit $?: $(cat "$d/err")"
# 60 and over at 2024-01-01 (EDGE turned 60 the day before): 80% of 2000
grep -q '^S1,OLD,ok,3000.00,1600.00,1600.00$' "$d/r.csv" || fail "OLD: $(cat "$d/r.csv")"
grep -q '^S2,EDGE,ok,3000.00,1600.00,1600.00$' "$d/r.csv" || fail "EDGE: $(cat "$d/r.csv")"
grep -q '^S3,YOUNG,ok,3000.00,1000.00,1000.00$' "$d/r.csv" || fail "YOUNG: $(cat "$d/r.csv")"
grep -q '^S4,MID,ok,3000.00,1000.00,1000.00$' "$d/r.csv" || fail "MID: $(cat "$d/r.csv")"
# an unknown age never matches
grep -q '^S5,NOBIRTH,ok,3000.00,1000.00,1000.00$' "$d/r.csv" || fail "NOBIRTH: $(cat "$d/r.csv")"
grep -q '"paid":"6200.00"' "$d/sum.json" || fail "summary: $(cat "$d/sum.json")"
"$hmb" backtest --plan "$d/plan.json" --settlements "$d/s.csv" --people "$d/people.csv" \
  --json "$d/b.json" >/dev/null 2>&1 || fail "backtest"
grep -q '"paid":"6200.00"' "$d/b.json" || fail "backtest: $(cat "$d/b.json")"
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# A family-scope deductible through the CLI: people joined by family_id in
# --people share one account, so the second member's stay uses what is left
# of the family's deductible; a person outside any family has their own.
set -u
hmb=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat >"$d/plan.json" <<'JSON'
{"format":"hmb-plan/1","id":"family-test","name":"家庭共用免赔额","source":"test","year":2024,
 "coverage":{"start":"2024-01-01","end":"2024-12-31"},
 "enrollment":{"window":{"start":"2023-10-01","end":"2023-12-31"}},
 "premiums":{"bands":[{"amount":"89"}]},
 "responsibilities":[{"id":"stay","name":"住院","sources":[{"component":"inscp_selfpay"}],
   "deductible":{"pool":"fam"},"ratio":"50%","cap":"100000"}],
 "deductible_pools":[{"id":"fam","amount":"10000","scope":"family","members":["stay"]}]}
JSON
cat >"$d/people.csv" <<'CSV'
psn_no,insutype,brdy,family_id
PA,390,1980-01-01,F1
PB,390,1982-05-05,F1
PC,390,1990-09-09,
PD,390,1970-01-01,F2
PE,390,1972-02-02,F2
CSV
h=setl_id,psn_no,med_type,setl_time,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt
cat >"$d/s.csv" <<CSV
$h
S1,PA,21,2024-03-01 10:00:00,6000.00,0.00,0.00,0.00,6000.00,0.00,6000.00
S2,PB,21,2024-04-01 10:00:00,6000.00,0.00,0.00,0.00,6000.00,0.00,6000.00
S3,PC,21,2024-05-01 10:00:00,6000.00,0.00,0.00,0.00,6000.00,0.00,6000.00
S4,PE,21,2024-06-01 10:00:00,6000.00,0.00,0.00,0.00,6000.00,0.00,6000.00
S5,PD,21,2024-07-01 10:00:00,6000.00,0.00,0.00,0.00,6000.00,0.00,6000.00
CSV
"$hmb" adjudicate --plan "$d/plan.json" --settlements "$d/s.csv" --people "$d/people.csv" \
  --out "$d/r.csv" --summary-json "$d/sum.json" 2>"$d/err" >/dev/null || fail "exit $?: $(cat "$d/err")"
head -1 "$d/r.csv" | grep -q ',stay,family_adjust$' || fail "header: $(head -1 "$d/r.csv")"
grep -q '^S1,PA,ok,6000.00,0.00,0.00,0.00$' "$d/r.csv" || fail "S1: $(cat "$d/r.csv")"
grep -q '^S2,PB,ok,6000.00,1000.00,1000.00,0.00$' "$d/r.csv" || fail "S2 (family deductible): $(cat "$d/r.csv")"
grep -q '^S3,PC,ok,6000.00,0.00,0.00,0.00$' "$d/r.csv" || fail "S3 (own deductible): $(cat "$d/r.csv")"
# family F2: PD comes first in the family, so PD's later stay bears the
# deductible first and PE (who claimed earlier) is now paid: 1000 to PE
grep -q '^S4,PE,ok,6000.00,0.00,0.00,0.00$' "$d/r.csv" || fail "S4: $(cat "$d/r.csv")"
grep -q '^S5,PD,ok,6000.00,0.00,0.00,1000.00$' "$d/r.csv" || fail "S5 (family_adjust): $(cat "$d/r.csv")"
# payout + family_adjust over all rows equals the summary's paid
total=$(awk -F, 'NR > 1 { s += ($5 + $7) * 100 } END { printf "%d", s }' "$d/r.csv")
[ "$total" = 200000 ] || fail "columns add up to $total fen, summary says 2000.00"
grep -q '"paid":"2000.00"' "$d/sum.json" || fail "summary: $(cat "$d/sum.json")"
# someone not in --people is refused with a reason
printf '%s\nS4,PX,21,2024-06-01 10:00:00,10.00,0.00,0.00,0.00,10.00,0.00,10.00\n' "$h" >"$d/s2.csv"
"$hmb" adjudicate --plan "$d/plan.json" --settlements "$d/s2.csv" --people "$d/people.csv" \
  --out "$d/r2.csv" 2>"$d/err2" >/dev/null
[ $? -eq 1 ] || fail "unknown person should be rejected"
grep -q 's2.csv:2: psn_no: .*(person.unknown)' "$d/err2" || fail "unknown person message: $(cat "$d/err2")"
echo "1 passed, 0 failed"

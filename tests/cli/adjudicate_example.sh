#!/usr/bin/env bash
# hmb adjudicate on the shipped example year: exact figures, rejected rows
# reported with file, line and field, the reversal, JSON-lines output, and the
# exit status (1: some rows rejected).
set -u
hmb=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$hmb" adjudicate --plan plans/liaocheng-2024.json \
  --settlements examples/liaocheng-2024-settlements.csv \
  --details examples/liaocheng-2024-details.csv --people examples/liaocheng-2024-people.csv \
  --out "$out/r.csv" --summary-json "$out/s.json" 2>"$out/err" >/dev/null
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc, want 1 (rows rejected)"
grep -q '"settlements":9,"reversals":1,"rejected":2,"eligible":"302800.00","paid":"129800.00","people_paid":5' "$out/s.json" ||
  fail "summary: $(cat "$out/s.json")"
grep -q 'liaocheng-2024-settlements.csv:9: setl_id: .*(setl.duplicate)' "$out/err" || fail "duplicate not reported: $(cat "$out/err")"
grep -q 'liaocheng-2024-settlements.csv:10:medfee_sumamt: .*(money.decimals)' "$out/err" || fail "3 decimals not reported: $(cat "$out/err")"
# rejected rows are reported in file order
[ "$(grep -o 'settlements.csv:[0-9]*' "$out/err" | tr '\n' ' ')" = "settlements.csv:9 settlements.csv:10 " ] ||
  fail "reports out of order: $(cat "$out/err")"
grep -q '^S2024000002,P371500000002,ok,62000.00,17000.00,16000.00,1000.00,0.00,0.00$' "$out/r.csv" || fail "S2024000002"
grep -q '^S2024000003,P371500000003,ok,143000.00,83200.00,3200.00,0.00,80000.00,0.00$' "$out/r.csv" || fail "S2024000003 (CAR-T)"
grep -q '^S2024000005,P371500000004,ok,12000.00,1600.00,0.00,0.00,0.00,1600.00$' "$out/r.csv" || fail "S2024000005 (special efficacy)"
grep -q '^S2024000004,P371500000002,reversal,-11000.00,-8100.00,-8000.00,-100.00,0.00,0.00$' "$out/r.csv" || fail "reversal"

"$hmb" adjudicate --plan plans/liaocheng-2024.json \
  --settlements examples/liaocheng-2024-settlements.csv \
  --details examples/liaocheng-2024-details.csv --format jsonl --explain --out "$out/r.jsonl" 2>/dev/null >/dev/null
grep -q '"setl_id":"S2024000002".*"payout":"17000.00".*"explanation":"【基本医疗保险范围内住院自付医疗费用】' "$out/r.jsonl" || fail "jsonl"

# the same year as JSON lines (details nested) gives the same results
"$hmb" adjudicate --plan plans/liaocheng-2024.json \
  --settlements examples/liaocheng-2024-settlements.jsonl \
  --people examples/liaocheng-2024-people.csv --out "$out/rj.csv" 2>"$out/errj" >/dev/null
cmp -s "$out/r.csv" "$out/rj.csv" || fail "JSON lines results differ from CSV"
grep -q 'settlements.jsonl:9:medfee_sumamt: .*(money.decimals)' "$out/errj" || fail "jsonl error: $(cat "$out/errj")"

# a draft plan is refused for claims unless --allow-draft
"$hmb" adjudicate --plan plans/weihai-2024.json --settlements examples/liaocheng-2024-settlements.csv \
  --out "$out/w.csv" 2>"$out/w" >/dev/null
[ $? -eq 2 ] || fail "draft plan not refused"
grep -q 'status: draft' "$out/w" || fail "draft message: $(cat "$out/w")"
"$hmb" adjudicate --plan plans/weihai-2024.json --allow-draft \
  --settlements examples/liaocheng-2024-settlements.csv --out "$out/w.csv" 2>/dev/null >/dev/null
[ $? -eq 1 ] || fail "--allow-draft"

"$hmb" plan check plans/liaocheng-2024.json >/dev/null || fail "plan check"
"$hmb" plan check plans/liaocheng-2024.json --profile yunnan-2023 >/dev/null 2>"$out/p"
[ $? -eq 1 ] || fail "profile violations should exit 1"
grep -q 'responsibilities\[1\].ratio: .*(profile.ratio_min)' "$out/p" || fail "profile ratio: $(cat "$out/p")"
[ "$("$hmb" workdays add 2024-09-30 7)" = 2024-10-15 ] || fail "workdays"
echo '{"format":"hmb-plan/1","id":"x"}' >"$out/bad.json"
"$hmb" plan check "$out/bad.json" 2>"$out/b" >/dev/null && fail "bad plan accepted"
grep -q 'name: .*(plan.missing)' "$out/b" || fail "bad plan message: $(cat "$out/b")"
# settlements outside the plan's benefit period are refused, naming setl_time
{
  head -1 examples/liaocheng-2024-settlements.csv
  sed -n 3p examples/liaocheng-2024-settlements.csv
  sed -n 3p examples/liaocheng-2024-settlements.csv | sed 's/^S2024000002/S2023999999/; s/2024-02-19 15:40:02/2023-12-31 23:59:59/'
  sed -n 3p examples/liaocheng-2024-settlements.csv | sed 's/^S2024000002/S2025000001/; s/2024-02-19 15:40:02/2025-01-01 00:00:00/'
} >"$out/cover.csv"
"$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements "$out/cover.csv" \
  --out "$out/cover-r.csv" --summary-json "$out/cover-s.json" 2>"$out/cover-err" >/dev/null
[ $? -eq 1 ] || fail "out-of-cover rows: exit status, want 1"
grep -q '"settlements":1,"reversals":0,"rejected":2,' "$out/cover-s.json" || fail "cover summary: $(cat "$out/cover-s.json")"
grep -q 'cover.csv:3: setl_time: 结算日期 2023-12-31 不在本产品的保障期（2024-01-01 至 2024-12-31）内 (setl.out_of_cover)' "$out/cover-err" ||
  fail "before cover: $(cat "$out/cover-err")"
grep -q 'cover.csv:4: setl_time: 结算日期 2025-01-01 不在' "$out/cover-err" || fail "after cover: $(cat "$out/cover-err")"
grep -q '^S2025000001,P371500000002,error' "$out/cover-r.csv" || fail "error row: $(cat "$out/cover-r.csv")"

# ids that need quoting come out quoted; ids longer than 32 bytes whole
{
  echo "setl_id,psn_no,insutype,med_type,setl_time,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt"
  echo '"S1,x",P1,390,11,2024-03-01 10:00:00,100.00,0.00,0.00,0.00,100.00,0.00,100.00'
  echo 'S2,"P""2",390,11,2024-03-01 10:00:00,100.00,0.00,0.00,0.00,100.00,0.00,100.00'
  echo 'S0123456789012345678901234567890123,P3,390,21,2024-03-01 10:00:00,100.00,0.00,0.00,0.00,100.00,0.00,100.00'
} >"$out/quote.csv"
"$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements "$out/quote.csv" \
  --out "$out/quote-r.csv" 2>/dev/null >/dev/null || fail "quoted ids: exit status"
[ "$(sed -n '2,4p' "$out/quote-r.csv" | tr '\n' '|')" = \
  '"S1,x",P1,ok,0.00,0.00,0.00,0.00,0.00,0.00|S2,"P""2",ok,0.00,0.00,0.00,0.00,0.00,0.00|S0123456789012345678901234567890123,P3,ok,100.00,0.00,0.00,0.00,0.00,0.00|' ] ||
  fail "quoted ids: $(cat "$out/quote-r.csv")"

echo "1 passed, 0 failed"

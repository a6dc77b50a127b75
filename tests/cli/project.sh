#!/usr/bin/env bash
# hmb project: the chain-ladder projection through the CLI. A small year
# computed by hand (docs/actuarial.md's worked example), the textbook
# triangle (Taylor & Ashe, total IBNR 18,680,855.60), hmb adjudicate's result
# file with dates joined in, bad rows located by file, line and column, an
# undefined factor, and usage errors with their exit status.
set -u
hmb=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- the worked example: an adjudication result file with dates added ----
cat >"$d/small.csv" <<'CSV'
setl_id,psn_no,status,eligible,payout,inpatient,setl_time,paid_date
S1,P1,ok,100.00,100.00,100.00,2024-01-05 10:00:00,2024-01-20
S2,P2,ok,50.00,50.00,50.00,2024-01-25 09:00:00,2024-02-03
S3,P1,reversal,-20.00,-20.00,-20.00,2024-01-05 10:00:00,2024-03-01
S4,P3,error,,,,2024-02-01,2024-02-01
S5,P4,ok,120.00,120.00,120.00,2024-02-10 08:00:00,2024-02-28
S6,P5,ok,60.00,60.00,60.00,2024-02-11 08:00:00,2024-03-15
S7,P6,ok,90.00,90.00,90.00,2024-03-02 08:00:00,2024-03-30
CSV
"$hmb" project --claims "$d/small.csv" --premium 12000 --valuation 2024-03 >"$d/small.txt" 2>"$d/err"
rc=$?
[ $rc -eq 0 ] || fail "small: exit $rc: $(cat "$d/err")"
grep -q '1.500000   0.866667' "$d/small.txt" || fail "small factors: $(cat "$d/small.txt")"
grep -q '^合计 *400.00 *403.00 *3.00 *3000.00$' "$d/small.txt" || fail "small totals: $(cat "$d/small.txt")"
grep -q '结论：预计全年赔付率 13.43%，低于目标下限 75%：建议评估降费或扩大保障' "$d/small.txt" ||
  fail "small verdict: $(cat "$d/small.txt")"
grep -q '跳过 status=error 的行 1 行' "$d/small.txt" || fail "skipped row not counted"

"$hmb" project --claims "$d/small.csv" --premium 12000 --valuation 2024-03 --format json >"$d/small.json" ||
  fail "small json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$d/small.json" || fail "not JSON: $(cat "$d/small.json")"
for want in '"factor":"1.500000000000"' '"factor":"0.866666666667"' \
  '"to_ultimate":"1.300000000001"' '"month":"2024-02","elapsed":true,"lag":1,"paid":"180.00","to_ultimate":"0.866666666667","ultimate":"156.00","ibnr":"-24.00"' \
  '"totals":{"paid":"400.00","ultimate":"403.00","ibnr":"3.00","earned_premium":"3000.00","year_premium":"12000.00","ultimate_year":"1612.00"}' \
  '"earned_bp":1343' '"written_bp":336' '"verdict":"below"' '"skipped":1' '"negative_records":1'; do
  grep -qF "$want" "$d/small.json" || fail "small json lacks $want: $(cat "$d/small.json")"
done

# the target in percent and a tail factor; earned premium by month
"$hmb" project --claims "$d/small.csv" --premium 100,100,100,0,0,0,0,0,0,0,0,0 --valuation 2024-03 \
  --target 80%-100% --tail 1.1 --format json >"$d/t.json" || fail "target/tail"
grep -qF '"tail":"1.100000000000"' "$d/t.json" || fail "tail: $(cat "$d/t.json")"
grep -qF '"earned_bp":14777' "$d/t.json" || fail "tail ratio: $(cat "$d/t.json")" # 443.30 / 300
grep -qF '"verdict":"above"' "$d/t.json" || fail "above"

# ---- the textbook triangle as accident months 2024-01..10, yuan ----
awk 'BEGIN {
  split("357848 766940 610542 482940 527326 574398 146342 139950 227229 67948", r1);
  split("352118 884021 933894 1183289 445745 320996 527804 266172 425046", r2);
  split("290507 1001799 926219 1016654 750816 146923 495992 280405", r3);
  split("310608 1108250 776189 1562400 272482 352053 206286", r4);
  split("443160 693190 991983 769488 504851 470639", r5);
  split("396132 937085 847498 805037 705960", r6);
  split("440832 847631 1131398 1063269", r7);
  split("359480 1061648 1443370", r8);
  split("376686 986608", r9);
  split("344014", r10);
  print "accident_date,report_date,amount";
  for (i = 1; i <= 10; i++)
    for (j = 1; j <= 11 - i; j++) {
      v = (i==1?r1[j]:i==2?r2[j]:i==3?r3[j]:i==4?r4[j]:i==5?r5[j]:i==6?r6[j]:i==7?r7[j]:i==8?r8[j]:i==9?r9[j]:r10[j]);
      printf "2024-%02d-15,2024-%02d-01,%s.00\n", i, i + j - 1, v;
    }
}' >"$d/ta.csv"
"$hmb" project --claims "$d/ta.csv" --premium 78000000 --valuation 2024-10 --format json >"$d/ta.json" ||
  fail "textbook"
for want in '"factor":"3.490606547932"' '"ibnr":"18680855.60"' '"ultimate":"53038945.60"' \
  '"earned_bp":8160' '"verdict":"within"'; do
  grep -qF "$want" "$d/ta.json" || fail "textbook lacks $want"
done
# valued earlier, as a backtest: later payments are left out when asked
"$hmb" project --claims "$d/ta.csv" --premium 78000000 --valuation 2024-06 >/dev/null 2>"$d/err"
[ $? -eq 1 ] || fail "payments after the valuation accepted"
grep -q "ta.csv:8:report_date: 支付月份 2024-07 晚于评估月 2024-06 (cl.after_valuation)" "$d/err" ||
  fail "after valuation: $(head -3 "$d/err")"
"$hmb" project --claims "$d/ta.csv" --premium 78000000 --valuation 2024-06 --ignore-later \
  --format json >"$d/bt.json" 2>"$d/err" || fail "--ignore-later: $(cat "$d/err")"
grep -qF '"after_valuation":34' "$d/bt.json" || fail "after_valuation count"

# ---- hmb adjudicate's result file, dates joined from the settlements ----
"$hmb" adjudicate --plan plans/liaocheng-2024.json \
  --settlements examples/liaocheng-2024-settlements.csv \
  --details examples/liaocheng-2024-details.csv --people examples/liaocheng-2024-people.csv \
  --out "$d/r.csv" >/dev/null 2>&1
# accident = the first settlement time of the setl_id; paid then (one-stop
# settlement), a reversal when it happened
awk -F, 'NR == FNR { if (FNR > 1) { if (!($1 in first)) first[$1] = $6; last[$1] = $6 } next }
  FNR == 1 { print $0 ",setl_time,paid_date"; next }
  { a = substr(first[$1], 1, 10); p = ($3 == "reversal") ? substr(last[$1], 1, 10) : a
    print $0 "," a "," p }' examples/liaocheng-2024-settlements.csv "$d/r.csv" >"$d/rd.csv"
# valued at 2024-10: the November settlement is left out
"$hmb" project --claims "$d/rd.csv" --premium 500000 --valuation 2024-10 --ignore-later \
  --format json >"$d/rd.json" 2>"$d/err" || fail "adjudicate results: $(cat "$d/err")"
for want in '"paid":"122600.00"' '"skipped":1' '"negative_records":1' '"after_valuation":1'; do
  grep -qF "$want" "$d/rd.json" || fail "adjudicate results lack $want: $(cat "$d/rd.json")"
done

# ---- a product year from July ----
printf 'setl_time,paid_date,amount\n2024-07-03,2024-07-20,10\n2024-07-03,2024-08-01,10\n2024-08-09,2024-08-10,5\n2024-09-01,2024-09-02,7\n' >"$d/jul.csv"
"$hmb" project --claims "$d/jul.csv" --premium 1200 --year 2024-07 --valuation 2024-09 --format json >"$d/jul.json" ||
  fail "July year"
grep -qF '"year_start":"2024-07"' "$d/jul.json" || fail "year start"
grep -qF '"month":"2025-06","elapsed":false' "$d/jul.json" || fail "July year months"

# ---- bad rows, an undefined factor, usage ----
cat >"$d/bad.csv" <<'CSV'
setl_time,paid_date,amount
2024-01-10,2024-01-12,100.00
2024-01-10,2024-02-12,1.234
2024-02-30,2024-03-01,5
2023-12-31,2024-01-02,5
2024-02-10,2024-01-02,5
2024-02-10,2024-02-12
CSV
"$hmb" project --claims "$d/bad.csv" --premium 1000 --valuation 2024-02 >"$d/out" 2>"$d/err"
[ $? -eq 1 ] || fail "bad rows: exit status"
for want in 'bad.csv:3:amount: .*(money.decimals)' 'bad.csv:4:setl_time: .*(date.invalid)' \
  'bad.csv:5:setl_time: .*(cl.accident_outside)' 'bad.csv:6:paid_date: .*(cl.paid_before)' \
  'bad.csv:7: .*(csv.columns)' '5 行有错误'; do
  grep -q "$want" "$d/err" || fail "bad rows: no $want in $(cat "$d/err")"
done
grep -q '有错误、未计入 5 行' "$d/out" || fail "rejected rows not in the report"

printf 'setl_time,paid_date,amount\n2024-01-10,2024-02-12,100\n2024-02-10,2024-02-12,0\n' >"$d/undef.csv"
"$hmb" project --claims "$d/undef.csv" --premium 1000 --valuation 2024-02 >/dev/null 2>"$d/err"
[ $? -eq 1 ] || fail "undefined factor: exit status"
grep -q 'factors\[0\]: .*(cl.factor_undefined)' "$d/err" || fail "undefined factor: $(cat "$d/err")"

printf 'setl_time,amount\n' >"$d/nocol.csv"
"$hmb" project --claims "$d/nocol.csv" --premium 1000 --valuation 2024-02 2>"$d/err" >/dev/null
[ $? -eq 2 ] || fail "missing column: exit status"
grep -q 'nocol.csv:1:paid_date: .*(cl.column)' "$d/err" || fail "missing column: $(cat "$d/err")"

"$hmb" project --claims "$d/small.csv" --valuation 2024-03 2>/dev/null && fail "no --premium accepted"
for args in "--premium 0 --valuation 2024-03" "--premium 1 --valuation 2024-13" \
  "--premium 1 --valuation 2024-03 --target 85-75" "--premium 1 --valuation 2024-03 --format xml" \
  "--premium 1,2,3 --valuation 2024-03" "--premium 1 --valuation 2024-03 --tail 0" \
  "--premium 1 --valuation 2024-03 --year 2025" "--premium 0,0,0,1,1,1,1,1,1,1,1,1 --valuation 2024-03"; do
  # shellcheck disable=SC2086
  "$hmb" project --claims "$d/small.csv" $args >/dev/null 2>&1
  rc=$?
  [ $rc -eq 2 ] || fail "$args: exit $rc"
done
"$hmb" project --claims "$d/none.csv" --premium 1 --valuation 2024-03 2>"$d/err" >/dev/null
[ $? -eq 2 ] || fail "missing file"
echo "1 passed, 0 failed"

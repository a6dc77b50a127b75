#!/usr/bin/env bash
# hmb gen: a small city is the same for the same seed and another for another
# seed; `hmb roster import` accepts every roster row; `hmb adjudicate` reads
# the settlements, details and --people with no rejected row and no detail
# line left unmatched; --settlements gives exactly that many rows; bad
# options are refused with exit status 2.
set -u
hmb=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$hmb" gen --out-dir "$d/a" --people 20000 --seed 7 >"$d/a.out" 2>"$d/a.err" || fail "gen exit $?: $(cat "$d/a.err")"
"$hmb" gen --out-dir "$d/b" --people 20000 --seed 7 >/dev/null 2>&1 || fail "second gen"
"$hmb" gen --out-dir "$d/c" --people 20000 --seed 8 >/dev/null 2>&1 || fail "gen seed 8"
for f in roster.csv people.csv settlements.csv details.csv; do
  [ -s "$d/a/$f" ] || fail "$f missing or empty"
  a=$(sha256sum <"$d/a/$f" | cut -d' ' -f1)
  b=$(sha256sum <"$d/b/$f" | cut -d' ' -f1)
  c=$(sha256sum <"$d/c/$f" | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "$f differs between two runs with the same seed"
  [ "$a" != "$c" ] || fail "$f is the same for seeds 7 and 8"
done
rows=$(($(wc -l <"$d/a/roster.csv") - 1))
[ "$rows" -eq 20000 ] || fail "roster has $rows rows, want 20000"
grep -q '^hmb gen: 371500 2024' "$d/a.out" || fail "summary: $(cat "$d/a.out")"

# ids are unique
dup=$(tail -n +2 "$d/a/settlements.csv" | cut -d, -f1 | sort | uniq -d | head -1)
[ -z "$dup" ] || fail "setl_id $dup repeated"
dup=$(tail -n +2 "$d/a/roster.csv" | cut -d, -f2 | sort | uniq -d | head -1)
[ -z "$dup" ] || fail "an ID number is repeated"

# the roster, as the bureau's import reads it
HMB_DB= "$hmb" roster import "$d/a/roster.csv" --db "$d/x.db" >"$d/imp.json" 2>"$d/imp.err" ||
  fail "roster import exit $?: $(head -c 600 "$d/imp.json") $(cat "$d/imp.err")"
grep -q "\"rows\":20000,\"accepted\":20000,\"inserted\":20000,.*\"rejected\":0," "$d/imp.json" ||
  fail "roster import: $(head -c 600 "$d/imp.json")"

# a year of adjudication with the enrolled people
"$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements "$d/a/settlements.csv" \
  --details "$d/a/details.csv" --people "$d/a/people.csv" --out "$d/r.csv" \
  --summary-json "$d/sum.json" >"$d/adj.out" 2>"$d/adj.err" || fail "adjudicate exit $?: $(head -5 "$d/adj.err")"
[ ! -s "$d/adj.err" ] || fail "adjudicate reported: $(head -5 "$d/adj.err")"
setl=$(($(wc -l <"$d/a/settlements.csv") - 1))
grep -q "\"settlements\":$setl,\"reversals\":0,\"rejected\":0," "$d/sum.json" || fail "summary: $(cat "$d/sum.json")"
paid=$(grep -o '"people_paid":[0-9]*' "$d/sum.json" | cut -d: -f2)
enrolled=$(($(wc -l <"$d/a/people.csv") - 1))
[ "$paid" -gt 0 ] || fail "nobody paid: $(cat "$d/sum.json")"
# the payout share of the enrolled stays in a broad band around the calibration (3-5%)
[ $((paid * 1000 / enrolled)) -ge 15 ] && [ $((paid * 1000 / enrolled)) -le 60 ] ||
  fail "payout share $paid of $enrolled enrolled is out of 1.5-6%"

# --settlements: exactly that many rows, more or fewer than the calibrated year
for n in 25000 300000; do
  "$hmb" gen --out-dir "$d/n$n" --people 5000 --seed 3 --settlements $n >/dev/null 2>"$d/n.err" || fail "gen --settlements $n: $(cat "$d/n.err")"
  got=$(($(wc -l <"$d/n$n/settlements.csv") - 1))
  [ "$got" -eq "$n" ] || fail "--settlements $n gave $got rows"
  dup=$(tail -n +2 "$d/n$n/settlements.csv" | cut -d, -f1 | sort | uniq -d | head -1)
  [ -z "$dup" ] || fail "--settlements $n: setl_id $dup repeated"
  "$hmb" adjudicate --plan plans/liaocheng-2024.json --settlements "$d/n$n/settlements.csv" \
    --details "$d/n$n/details.csv" --people "$d/n$n/people.csv" --out "$d/rn.csv" >/dev/null 2>"$d/rn.err" ||
    fail "adjudicate --settlements $n: $(head -3 "$d/rn.err")"
  [ ! -s "$d/rn.err" ] || fail "adjudicate --settlements $n reported: $(head -3 "$d/rn.err")"
done

# bad options
for args in "--people 0" "--enroll-rate 10001" "--year 1999" "--admdvs 99" "--seed x" "--bogus 1"; do
  # shellcheck disable=SC2086
  "$hmb" gen --out-dir "$d/bad" $args >/dev/null 2>"$d/bad.err"
  [ $? -eq 2 ] || fail "gen $args: want exit 2"
  [ -s "$d/bad.err" ] || fail "gen $args: no message"
done
"$hmb" gen --people 10 >/dev/null 2>&1
[ $? -eq 2 ] || fail "gen without --out-dir: want exit 2"
"$hmb" gen --out-dir /proc/hmb-no-such-dir/x --people 10 >/dev/null 2>"$d/io.err"
[ $? -eq 2 ] || fail "gen into an impossible directory: want exit 2"
grep -q '(gen.mkdir)' "$d/io.err" || fail "mkdir error: $(cat "$d/io.err")"
echo "1 passed, 0 failed"

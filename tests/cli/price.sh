#!/usr/bin/env bash
# hmb price on a city made by hmb gen: the base plan's figures equal hmb
# backtest's to the fen; so do the figures of a variant it reports, checked
# by writing that variant out as a plan file and backtesting it; one thread
# and two give the same answer; bad spaces and unsupported plans are refused.
set -u
hmb=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$hmb" gen --out-dir "$out/city" --people 20000 --seed 7 >/dev/null 2>&1 || fail "hmb gen"
c=$out/city
mkdir -p "$out/plans" && cp -r plans/lists "$out/plans/" # list files are relative to a plan
cat >"$out/space.json" <<'JSON'
{"format": "hmb-price/1",
 "target_loss_ratio": {"min": "50%", "max": "400%"},
 "axes": [
  {"deductible": ["inpatient_in_scope", "inpatient_out_of_scope", "special_drugs"],
   "values": ["8000", "15000", "20000"]},
  {"ratio": ["inpatient_in_scope"], "range": {"from": "50%", "to": "90%", "step": "20%"}},
  {"ratio": ["inpatient_out_of_scope"], "values": ["10%", "30%"]},
  {"cap": ["special_efficacy_drugs"], "values": ["300000", "2000000"]},
  {"premium": ["bands[0]"], "values": ["89", "129"]}]}
JSON
run_price() { # threads json
  "$hmb" price --plan plans/liaocheng-2024.json --space "$out/space.json" \
    --settlements $c/settlements.csv --details $c/details.csv --people $c/people.csv \
    --profile yunnan-2023 --top 5 --threads "$1" --json "$2" >"$2.txt" 2>"$2.err"
}
run_price 2 "$out/p2.json" || fail "hmb price exited $?: $(cat "$out/p2.json.err")"
run_price 1 "$out/p1.json" || fail "hmb price (1 thread) exited $?"
grep -q '^方案 liaocheng-2024：72 个组合' "$out/p2.json.txt" || fail "report: $(cat "$out/p2.json.txt")"
"$hmb" backtest --plan plans/liaocheng-2024.json --settlements $c/settlements.csv \
  --details $c/details.csv --people $c/people.csv --json "$out/b.json" >/dev/null 2>&1 ||
  fail "hmb backtest"

python3 - "$out" <<'PY' || fail "price and backtest disagree"
import json, sys
d = sys.argv[1]
p2 = json.load(open(d + "/p2.json"))
p1 = json.load(open(d + "/p1.json"))
for k in ("seconds_year", "seconds_eval", "threads"):
    p1.pop(k); p2.pop(k)
assert p1 == p2, "one thread and two differ"
b = json.load(open(d + "/b.json"))["plans"][0]
base = p2["base"]
for k in ("paid", "premium", "beneficiaries", "loss_ratio_bp", "beneficiary_share_bp"):
    assert base[k] == b[k], (k, base[k], b[k])
assert base["own_cost_reduction_bp"] == b["own_cost_reduction_bp"]
assert base["by_responsibility"] == {k: v["paid"] for k, v in b["by_responsibility"].items()}
assert base["profile_violations"] == 4, base  # 16,000 > 15,000 three times, 10% < 30%
assert p2["people"] == b["people"] and p2["variants"] == 72
assert p2["feasible"] > 0 and p2["by_people"], p2
top = p2["by_people"]
assert all(v["profile_violations"] == 0 for v in top)
assert all(5000 <= v["loss_ratio_bp"] <= 40000 for v in top)
assert [v["beneficiaries"] for v in top] == sorted((v["beneficiaries"] for v in top), reverse=True)
red = [int(v["paid"].replace(".", "")) for v in p2["by_reduction"]]
assert red == sorted(red, reverse=True)
# write the best variant out as a plan file, for hmb backtest to judge
best = top[0]
plan = json.load(open("plans/liaocheng-2024.json"))
ded, r_in, r_out, cap, prem = best["values"]
for r in plan["responsibilities"]:
    if r["id"] in ("inpatient_in_scope", "inpatient_out_of_scope", "special_drugs"):
        r["deductible"] = ded
    if r["id"] == "inpatient_in_scope":
        r["ratio"] = r_in
    if r["id"] == "inpatient_out_of_scope":
        r["ratio"] = r_out
    if r["id"] == "special_efficacy_drugs":
        r["cap"] = cap
plan["premiums"]["bands"][0]["amount"] = prem
plan["id"] = "variant"
json.dump(plan, open(d + "/plans/variant.json", "w"), ensure_ascii=False)
json.dump(best, open(d + "/best.json", "w"))
PY
"$hmb" backtest --plan "$out/plans/variant.json" --settlements $c/settlements.csv \
  --details $c/details.csv --people $c/people.csv --json "$out/bv.json" >/dev/null 2>&1 ||
  fail "hmb backtest of the variant"
python3 - "$out" <<'PY' || fail "the variant's figures differ from its backtest"
import json, sys
d = sys.argv[1]
best = json.load(open(d + "/best.json"))
b = json.load(open(d + "/bv.json"))["plans"][0]
for k in ("paid", "premium", "beneficiaries", "loss_ratio_bp", "own_cost_reduction_bp"):
    assert best[k] == b[k], (k, best[k], b[k])
assert best["by_responsibility"] == {k: v["paid"] for k, v in b["by_responsibility"].items()}
PY

# refusals: an unknown target, a bad value, a plan with path-dependent rules
bad() { # expected-text space-json
  printf '%s' "$2" >"$out/bad.json"
  "$hmb" price --plan "${PLAN:-plans/liaocheng-2024.json}" --space "$out/bad.json" \
    --settlements $c/settlements.csv --people $c/people.csv >/dev/null 2>"$out/bad.err"
  rc=$?
  [ $rc -eq 2 ] || fail "exit $rc for $2"
  grep -q "$1" "$out/bad.err" || fail "want '$1', got: $(cat "$out/bad.err")"
}
hdr='"format":"hmb-price/1","target_loss_ratio":{"min":"80%","max":"90%"}'
bad 'axes\[0\].deductible\[0\]: 方案“liaocheng-2024”中没有“nope”' "{$hdr,\"axes\":[{\"deductible\":[\"nope\"],\"values\":[\"1\"]}]}"
bad 'axes\[0\].values\[1\]: 比例超出允许范围' "{$hdr,\"axes\":[{\"ratio\":[\"special_drugs\"],\"values\":[\"50%\",\"120%\"]}]}"
bad 'axes\[0\].range.step' "{$hdr,\"axes\":[{\"cap\":[\"special_drugs\"],\"range\":{\"from\":\"1\",\"to\":\"9\",\"step\":\"0\"}}]}"
bad 'axes\[0\]: 未知字段“valeus”' "{$hdr,\"axes\":[{\"cap\":[\"special_drugs\"],\"valeus\":[\"1\"]}]}"
bad 'target_loss_ratio' '{"format":"hmb-price/1","axes":[]}'
mkdir -p "$out/plans2" && cp -r plans/lists "$out/plans2/"
python3 - "$out/plans2/visits.json" <<'PY'
import json, sys
plan = json.load(open("plans/liaocheng-2024.json"))
plan["responsibilities"][0]["max_visits"] = 3
json.dump(plan, open(sys.argv[1], "w"), ensure_ascii=False)
PY
PLAN=$out/plans2/visits.json bad 'price.path_rules' "{$hdr,\"axes\":[]}"
"$hmb" price --plan plans/liaocheng-2024.json --space "$out/space.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing options accepted"
echo "price: ok"

#!/usr/bin/env python3
"""ref_liaocheng.py - an independent reference of `hmb adjudicate` for plans
shaped like plans/liaocheng-2024.json, in plain Python with integers only.

It exists to cross-check the engine and the DuckDB benchmark query
(bench/duckdb_liaocheng.mjs): it shares no code with either. It reads the
plan (responsibilities with `when.med_type`, `sources` of components with
`lines: {in|except: [lists]}`, one deductible, one ratio and one cap each;
anything else in a responsibility is refused), the list files it names, the
settlements CSV and the fee detail CSV, and writes one result row per
settlement plus a summary.

Semantics (amounts in fen; "bpfen" = 1/10000 fen):
  - The parts of what the person bore: excess = max(0, fund - inscp);
    inscp_selfpay = max(0, inscp - fund); the excess is taken from
    preselfpay_amt, then overlmt_selfpay, then fulamt_ownpay_amt.
  - A detail line's parts: its fulamt_ownpay_amt, overlmt_amt,
    preselfpay_amt (x 10000) and its share of inscp_selfpay:
    floor(line.inscp * 10000 * setl.inscp_selfpay / setl.inscp_scp_amt).
  - "in [L]":     min(sum of the part over lines in any of L, setl part).
    "except [L]": max(0, setl part - sum of the part over lines in any of L).
    psn_part_amt is the sum of the four parts, each filtered.
  - Per person and responsibility, the cumulative eligible E in order of
    (setl_time, row in the file); P(E) = min(cap, round_half_up(max(0, E - D)
    x ratio_bp / 10^8)); a settlement's payout is P(after) - P(before).

Usage:
  ref_liaocheng.py --plan plans/liaocheng-2024.json --settlements S.csv
                   [--details D.csv] [--out R.csv] [--summary-json F]
                   [--check-input]
--check-input also verifies the generator's consistency rules on every row
(sums of parts, funds, psn_part_amt, acct + cash, lines within setl parts).
Prints `settlements=N eligible=X.XX paid=Y.YY people_paid=K`.
"""

import argparse
import csv
import json
import os
import sys
import time

BP = 10000  # bpfen per fen


def die(msg):
    sys.stderr.write("ref_liaocheng: " + msg + "\n")
    sys.exit(1)


def parse_fen(text, field="amount"):
    """Decimal yuan with at most two decimals -> int fen, exactly."""
    s = text.strip()
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    whole, dot, frac = s.partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > 2)):
        die("bad %s: %r" % (field, text))
    v = int(whole) * 100 + (int(frac.ljust(2, "0")) if dot else 0)
    return -v if neg else v


def parse_ratio_bp(text):
    s = text.strip()
    if not s.endswith("%"):
        die("bad ratio %r" % text)
    whole, dot, frac = s[:-1].partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > 2)):
        die("bad ratio %r" % text)
    return int(whole) * 100 + (int(frac.ljust(2, "0")) if dot else 0)


def fmt_fen(v):
    sign = "-" if v < 0 else ""
    v = abs(v)
    return "%s%d.%02d" % (sign, v // 100, v % 100)


def load_list(path):
    """-> (tuple of prefixes, frozenset of exact codes)."""
    prefixes, exact = [], set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].rstrip("\r\n")
            code = line.split("\t", 1)[0].strip()
            if not code:
                continue
            if code.endswith("*"):
                prefixes.append(code[:-1])
            else:
                exact.add(code)
    return tuple(prefixes), frozenset(exact)


COMPONENTS = {
    "fulamt_ownpay_amt": (0,),
    "overlmt_selfpay": (1,),
    "preselfpay_amt": (2,),
    "inscp_selfpay": (3,),
    "psn_part_amt": (0, 1, 2, 3),
}


def load_plan(path):
    with open(path, encoding="utf-8") as f:
        plan = json.load(f)
    base = os.path.dirname(os.path.abspath(path))
    names = list(plan.get("lists", {}).keys())
    lists = []
    for name in names:
        lists.append(load_list(os.path.join(base, plan["lists"][name]["file"])))
    bit = {name: 1 << i for i, name in enumerate(names)}
    resps = []
    allowed = {"id", "name", "note", "when", "sources", "deductible", "ratio", "cap"}
    for r in plan["responsibilities"]:
        extra = set(r) - allowed
        if extra:
            die("responsibility %s: unsupported keys %s" % (r["id"], sorted(extra)))
        when = r.get("when", {})
        if set(when) - {"med_type"}:
            die("responsibility %s: unsupported 'when' %s" % (r["id"], sorted(when)))
        med_types = frozenset(int(m) for m in when["med_type"]) if "med_type" in when else None
        sources = []
        for s in r["sources"]:
            if set(s) - {"component", "lines"}:
                die("responsibility %s: unsupported source keys" % r["id"])
            comp = s["component"]
            if comp not in COMPONENTS:
                die("responsibility %s: unsupported component %s" % (r["id"], comp))
            lines = s.get("lines")
            if lines is None:
                mode, mask = None, 0
            else:
                if len(lines) != 1 or next(iter(lines)) not in ("in", "except"):
                    die("responsibility %s: unsupported lines filter" % r["id"])
                mode = next(iter(lines))
                mask = 0
                for name in lines[mode]:
                    mask |= bit[name]
            for part in COMPONENTS[comp]:
                sources.append((part, mode, mask))
        resps.append({
            "id": r["id"],
            "med_types": med_types,
            "sources": sources,
            "ded": parse_fen(r["deductible"]) * BP,
            "ratio": parse_ratio_bp(r["ratio"]),
            "cap": parse_fen(r["cap"]) if "cap" in r else None,
        })
    return resps, lists


def list_mask(code, lists):
    m = 0
    for i, (prefixes, exact) in enumerate(lists):
        if code in exact or code.startswith(prefixes):
            m |= 1 << i
    return m


def payout_fn(e, ded, ratio, cap):
    """Year payout in fen for cumulative eligible e (bpfen)."""
    x = max(0, e - ded) * ratio
    p = (x + 50000000) // 100000000
    return p if cap is None else min(cap, p)


def settlement_parts(ful, ovl, pre, inscp, fund):
    excess = max(0, fund - inscp)
    inscp_self = max(0, inscp - fund)
    t = min(pre, excess)
    pre -= t
    excess -= t
    t = min(ovl, excess)
    ovl -= t
    excess -= t
    t = min(ful, excess)
    ful -= t
    return [ful, ovl, pre, inscp_self]


class NotSorted(Exception):
    pass


def year_rows_streaming(path):
    """The rows of the file as they come; NotSorted when setl_time goes back."""
    last = ""
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = row["setl_time"]
            if t < last:
                raise NotSorted()
            last = t
            yield row


def year_rows_sorted(path):
    """The year's order: setl_time, then row in the file (a stable sort)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: r["setl_time"])
    return rows


def run_year(a, resps, details, lists, rows):
    """Adjudicate the rows in order; write the result rows; return the totals."""
    out = open(a.out, "w", encoding="utf-8", newline="") if a.out else None
    try:
        return adjudicate_rows(a, resps, details, lists, rows, out)
    finally:
        if out:
            out.close()


def adjudicate_rows(a, resps, details, lists, rows, out):
    nresp = len(resps)
    if out:
        out.write("setl_id,psn_no,eligible,payout," + ",".join(r["id"] for r in resps) + "\n")
    acc = {}   # psn_no -> [cumulative eligible bpfen per responsibility]
    paid = {}  # psn_no -> total payout fen
    nrows = 0
    tot_eligible = 0
    tot_paid = 0
    n_excess = 0
    for row in rows:
        nrows += 1
        g = lambda k: parse_fen(row[k], k)
        medfee, ful, ovl, pre, inscp = (g("medfee_sumamt"), g("fulamt_ownpay_amt"),
                                        g("overlmt_selfpay"), g("preselfpay_amt"),
                                        g("inscp_scp_amt"))
        fund, psn_part = g("fund_pay_sumamt"), g("psn_part_amt")
        med_type = int(row["med_type"])
        lines = details.get(row["setl_id"], ())
        if a.check_input:
            sid = row["setl_id"]
            amts = [g(k) for k in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay",
                                   "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
                                   "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay",
                                   "fund_pay_sumamt", "psn_part_amt", "acct_pay",
                                   "psn_cash_pay")]
            if min(amts) < 0:
                die("%s: negative amount" % sid)
            if medfee != ful + ovl + pre + inscp:
                die("%s: medfee_sumamt != sum of parts" % sid)
            if fund != g("hifp_pay") + g("hifmi_pay") + g("hifob_pay") + g("maf_pay"):
                die("%s: fund_pay_sumamt != sum of funds" % sid)
            if psn_part != medfee - fund:
                die("%s: psn_part_amt != medfee_sumamt - fund_pay_sumamt" % sid)
            if g("acct_pay") + g("psn_cash_pay") != psn_part:
                die("%s: acct_pay + psn_cash_pay != psn_part_amt" % sid)
            for k, lim in ((1, ful), (2, ovl), (3, pre), (4, inscp)):
                if sum(ln[k] for ln in lines) > lim:
                    die("%s: detail lines exceed the settlement's part %d" % (sid, k))
            if fund > inscp:
                n_excess += 1

        parts = settlement_parts(ful, ovl, pre, inscp, fund)
        if sum(parts) != psn_part:
            die("%s: parts do not add up to psn_part_amt" % row["setl_id"])
        setl_bp = [p * BP for p in parts]
        inscp_self = parts[3]
        line_parts = []
        for (mask, lf, lo, lp, li) in lines:
            share = (li * BP * inscp_self // inscp) if inscp > 0 else 0
            line_parts.append((mask, (lf * BP, lo * BP, lp * BP, share)))

        psn = row["psn_no"]
        st = acc.get(psn)
        if st is None:
            st = acc[psn] = [0] * nresp
        total = 0
        elig_sum = 0
        per = []
        for k, r in enumerate(resps):
            e = 0
            if r["med_types"] is None or med_type in r["med_types"]:
                for (part, mode, mask) in r["sources"]:
                    whole = setl_bp[part]
                    if mode is None:
                        e += whole
                        continue
                    s = 0
                    for (lm, lp4) in line_parts:
                        if lm & mask:
                            s += lp4[part]
                    e += min(s, whole) if mode == "in" else max(0, whole - s)
            before = st[k]
            after = before + e
            st[k] = after
            pay = (payout_fn(after, r["ded"], r["ratio"], r["cap"])
                   - payout_fn(before, r["ded"], r["ratio"], r["cap"]))
            per.append(pay)
            total += pay
            elig_sum += e
        eligible = (elig_sum + 5000) // BP
        tot_eligible += eligible
        tot_paid += total
        if total:
            paid[psn] = paid.get(psn, 0) + total
        if out:
            out.write("%s,%s,%s,%s,%s\n" % (row["setl_id"], psn, fmt_fen(eligible),
                                            fmt_fen(total), ",".join(fmt_fen(p) for p in per)))
    people_paid = sum(1 for v in paid.values() if v > 0)
    return nrows, tot_eligible, tot_paid, people_paid, n_excess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", required=True)
    ap.add_argument("--settlements", required=True)
    ap.add_argument("--details")
    ap.add_argument("--out")
    ap.add_argument("--summary-json")
    ap.add_argument("--check-input", action="store_true")
    a = ap.parse_args()
    t0 = time.monotonic()
    resps, lists = load_plan(a.plan)
    nresp = len(resps)

    # Detail lines by setl_id: (mask, ful, ovl, pre, inscp) in fen.
    details = {}
    if a.details:
        with open(a.details, newline="", encoding="utf-8") as f:
            rd = csv.DictReader(f)
            for row in rd:
                ln = (list_mask(row["med_list_codg"], lists),
                      parse_fen(row["fulamt_ownpay_amt"]), parse_fen(row["overlmt_amt"]),
                      parse_fen(row["preselfpay_amt"]), parse_fen(row["inscp_scp_amt"]))
                if a.check_input:
                    if parse_fen(row["det_item_fee_sumamt"]) != sum(ln[1:]):
                        die("line of %s: det_item_fee_sumamt != sum of parts" % row["setl_id"])
                    if min(ln[1:]) < 0:
                        die("line of %s: negative amount" % row["setl_id"])
                details.setdefault(row["setl_id"], []).append(ln)

    try:
        res = run_year(a, resps, details, lists, year_rows_streaming(a.settlements))
    except NotSorted:
        if a.check_input:
            die("setl_time goes back in %s: the generator writes rows in time order" % a.settlements)
        sys.stderr.write("ref_liaocheng: the file is not in time order: sorting it in memory\n")
        res = run_year(a, resps, details, lists, year_rows_sorted(a.settlements))
    nrows, tot_eligible, tot_paid, people_paid, n_excess = res
    summary = {"settlements": nrows, "eligible": fmt_fen(tot_eligible),
               "paid": fmt_fen(tot_paid), "people_paid": people_paid}
    if a.summary_json:
        with open(a.summary_json, "w", encoding="utf-8") as f:
            json.dump(summary, f)
            f.write("\n")
    if a.check_input:
        sys.stderr.write("ref_liaocheng: input consistent; %d rows with fund_pay_sumamt > "
                         "inscp_scp_amt\n" % n_excess)
    print("settlements=%d eligible=%s paid=%s people_paid=%d"
          % (nrows, summary["eligible"], summary["paid"], people_paid))
    sys.stderr.write("ref_liaocheng: %.2f s\n" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()

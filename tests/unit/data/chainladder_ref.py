#!/usr/bin/env python3
"""Independent reference figures for tests/unit/test_chainladder.c.

The triangle is Taylor & Ashe (1983), "Second moments of estimates of
outstanding claims", J. Econometrics 23: the incremental paid triangle that
Mack (1993, ASTIN Bulletin 23(2)) and the R package ChainLadder (data set
GenIns, cumulative) use. Published figures to check the transcription
against: age-to-age factors 3.4906 1.7473 1.4574 1.1739 1.1038 1.0863
1.0539 1.0766 1.0177 and a total reserve (IBNR) of 18,680,856.

Here the ten origin years are read as the accident months 2024-01..2024-10
of a product year and the amounts as yuan (x100 = fen); the valuation month
is 2024-10, so development lags are 0..9 months.

Two computations:
  exact: Python Fractions, no rounding at all (the textbook method);
  rule:  the fixed-point rule of src/domain/chainladder.h (factors and
         cumulative-to-ultimate factors rounded half up to 1e-12 at each
         step, the ultimate rounded half away from zero to the fen once).
Run: python3 tests/unit/data/chainladder_ref.py
"""
from fractions import Fraction

TA = [
    [357848, 766940, 610542, 482940, 527326, 574398, 146342, 139950, 227229, 67948],
    [352118, 884021, 933894, 1183289, 445745, 320996, 527804, 266172, 425046],
    [290507, 1001799, 926219, 1016654, 750816, 146923, 495992, 280405],
    [310608, 1108250, 776189, 1562400, 272482, 352053, 206286],
    [443160, 693190, 991983, 769488, 504851, 470639],
    [396132, 937085, 847498, 805037, 705960],
    [440832, 847631, 1131398, 1063269],
    [359480, 1061648, 1443370],
    [376686, 986608],
    [344014],
]
S = 10**12


def cumulate(tri):
    out = []
    for row in tri:
        c, acc = [], 0
        for x in row:
            acc += x
            c.append(acc)
        out.append(c)
    return out


def sums(cum, j):
    num = den = 0
    for row in cum:
        if len(row) > j + 1:
            num += row[j + 1]
            den += row[j]
    return num, den


def exact(tri, tail=Fraction(1)):
    cum = cumulate(tri)
    k = max(len(r) for r in cum) - 1
    f = []
    for j in range(k):
        num, den = sums(cum, j)
        f.append(Fraction(num, den))
    ult = []
    for row in cum:
        cdf = tail
        for j in range(len(row) - 1, k):
            cdf *= f[j]
        ult.append(row[-1] * cdf)
    return f, ult


def half_up(n, d):
    """n/d rounded half away from zero (d > 0)."""
    q = (abs(n) * 2 + d) // (2 * d)
    return q if n >= 0 else -q


def rule(tri, tail=S):
    cum = cumulate(tri)
    k = max(len(r) for r in cum) - 1
    f = []
    for j in range(k):
        num, den = sums(cum, j)
        f.append(half_up(num * S, den))
    cdf = [0] * (k + 1)
    cdf[k] = tail
    for lag in range(k - 1, -1, -1):
        cdf[lag] = half_up(cdf[lag + 1] * f[lag], S)
    ult = [half_up(row[-1] * cdf[len(row) - 1], S) for row in cum]
    return f, cdf, ult


def main():
    fen = [[x * 100 for x in row] for row in TA]
    f, ult = exact(TA)
    print("published factors to 4 decimals:", " ".join("%.4f" % float(x) for x in f))
    ibnr = sum(ult) - sum(cumulate(TA)[i][-1] for i in range(len(TA)))
    print("exact total IBNR (yuan): %.4f" % float(ibnr))
    rf, rcdf, rult = rule(fen)
    print("rule factors (1e-12):", rf)
    print("rule cdf (1e-12):", rcdf)
    print("rule ultimates (fen):", rult)
    paid = [r[-1] for r in cumulate(fen)]
    print("paid (fen):", paid, "total", sum(paid))
    print("rule ultimate total (fen):", sum(rult), "IBNR", sum(rult) - sum(paid))
    # exact in fen for comparison: the rule is within a fen per month here
    _, eult = exact(fen)
    print("exact ultimates (fen, 4 dp):", ["%.4f" % float(x) for x in eult])
    print("max |rule - exact| (fen):", max(abs(a - b) for a, b in zip(rult, eult)))
    # with a tail of 1.05
    _, tcdf, tult = rule(fen, tail=105 * 10**10)
    print("tail 1.05: cdf", tcdf[:1], "ultimates", tult, "total", sum(tult))

    # premium: 78,000,000 yuan for the year, earned evenly; 10 months elapsed
    year = 78_000_000 * 100
    earned = half_up(year * 10, 12)
    u = sum(rult)
    print("earned premium (fen):", earned)
    print("lr_earned bp:", half_up(u * 10000, earned), "lr_written bp:", half_up(u * 10000, year),
          "lr_paid bp:", half_up(sum(paid) * 10000, earned))
    print("ultimate_year (fen):", half_up(u * year, earned))

    # national scale: every cell 10^13 fen, 12 accident months, valuation 23
    # months after the first (lags 0..23); exact ultimates are 24 x 10^13
    nat = [[10**13] * (24 - i) for i in range(12)]
    nf, ncdf, nult = rule(nat)
    print("national rule ultimates (fen):", nult)
    print("national max |rule - exact| (fen):", max(abs(x - 24 * 10**13) for x in nult))


if __name__ == "__main__":
    main()

/*
 * Chain-ladder projection (domain/chainladder.c).
 *
 * The reference triangle is Taylor & Ashe (1983), the one Mack (1993) and
 * the R package ChainLadder (GenIns) use, read as accident months
 * 2024-01..2024-10 valued at 2024-10, in yuan. Published figures: factors
 * 3.4906 1.7473 1.4574 1.1739 1.1038 1.0863 1.0539 1.0766 1.0177 and a
 * total IBNR of 18,680,856 yuan. The exact expected numbers below (factors
 * and cdf in 10^-12, ultimates in fen under the header's rounding rule) come
 * from tests/unit/data/chainladder_ref.py, which computes them
 * independently with Python integers and Fractions; there the rule agrees
 * with exact rational arithmetic to the fen for every month.
 */
#include "compat.h"
#include "chainladder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static const int64_t ta[10][10] = {
    {357848, 766940, 610542, 482940, 527326, 574398, 146342, 139950, 227229, 67948},
    {352118, 884021, 933894, 1183289, 445745, 320996, 527804, 266172, 425046},
    {290507, 1001799, 926219, 1016654, 750816, 146923, 495992, 280405},
    {310608, 1108250, 776189, 1562400, 272482, 352053, 206286},
    {443160, 693190, 991983, 769488, 504851, 470639},
    {396132, 937085, 847498, 805037, 705960},
    {440832, 847631, 1131398, 1063269},
    {359480, 1061648, 1443370},
    {376686, 986608},
    {344014},
};

static const int64_t ta_factor[9] = {3490606547932, 1747332642100, 1457412836018,
                                     1173851709400, 1103823532244, 1086269364436,
                                     1053874355505, 1076555178353, 1017724725220};
static const int64_t ta_cdf[10] = {14446576867297, 4138701016262, 2368582212994, 1625196481366,
                                   1384498968951,  1254275641448, 1154663550784, 1095636823073,
                                   1017724725220,  1000000000000};
static const hmb_fen ta_paid[10] = {390146300, 533908500, 490931500, 458826800, 387331100,
                                    369171200, 348313000, 286449800, 136329400, 34401400};
static const hmb_fen ta_ult[10] = {390146300, 543371881, 537882629, 529790582, 485819964,
                                   511117146, 566077062, 678479901, 564226626, 496982469};
static const hmb_fen ta_ult_tail105[10] = {409653615, 570540476, 564776760, 556280111, 510110962,
                                           536673003, 594380915, 712403896, 592437958, 521831593};

static hmb_date d(const char *s)
{
  hmb_date out = 0;
  if (date_parse(s, strlen(s), &out, "date", NULL))
    fail_msg("bad date %s", s);
  return out;
}

static void tri_init(struct cl_triangle *t, const char *valuation)
{
  int y, m;
  struct hmb_err err;
  hmb_err_init(&err);
  assert_int_equal(cl_month_parse(valuation, strlen(valuation), &y, &m, "valuation", &err), 0);
  if (cl_triangle_init(t, 2024, 1, y, m, &err))
    fail_msg("init %s: %s", valuation, err.message);
}

static void add_cell(struct cl_triangle *t, int month, int lag, hmb_fen amount)
{
  struct hmb_err err;
  hmb_err_init(&err);
  if (cl_triangle_add_cell(t, month, lag, amount, &err))
    fail_msg("add %d/%d: %s %s", month, lag, err.code, err.message);
}

/* Taylor-Ashe with every yuan amount times `scale` fen. */
static void ta_build(struct cl_triangle *t, int64_t scale)
{
  int i, j;
  tri_init(t, "2024-10");
  for (i = 0; i < 10; i++)
    for (j = 0; j + i < 10; j++)
      add_cell(t, i, j, ta[i][j] * scale);
}

static void params_year(struct cl_params *p, hmb_fen premium)
{
  cl_params_init(p);
  p->premium_year = premium;
}

static void project_ok(const struct cl_triangle *t, const struct cl_params *p,
                       struct cl_projection *out)
{
  struct hmb_err err;
  hmb_err_init(&err);
  if (cl_project(t, p, out, &err))
    fail_msg("project: %s %s: %s", err.code, err.field, err.message);
}

static void test_cl__textbook(void **state)
{
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  int i;
  (void)state;
  ta_build(&t, 100);
  params_year(&p, INT64_C(7800000000)); /* 78,000,000 yuan */
  project_ok(&t, &p, &r);
  assert_int_equal(r.valuation, 9);
  assert_int_equal(r.elapsed, 10);
  for (i = 0; i < 9; i++) {
    assert_int_equal(r.factor[i].state, CL_FACTOR_OK);
    assert_true(r.factor[i].needed);
    assert_int_equal(r.factor[i].months, 9 - i);
    if (r.factor[i].value != ta_factor[i])
      fail_msg("factor %d: %" PRId64 ", expected %" PRId64, i, r.factor[i].value, ta_factor[i]);
  }
  /* published to four decimals */
  {
    static const char *const pub[9] = {"3.4906", "1.7473", "1.4574", "1.1739", "1.1038",
                                       "1.0863", "1.0539", "1.0766", "1.0177"};
    char buf[CL_FACTOR_TEXT_MAX];
    for (i = 0; i < 9; i++) {
      cl_factor_format(r.factor[i].value, 4, buf);
      assert_string_equal(buf, pub[i]);
    }
  }
  for (i = 0; i < 10; i++) {
    assert_int_equal(r.cdf[i], ta_cdf[i]);
    assert_int_equal(r.paid[i], ta_paid[i]);
    assert_int_equal(r.lag[i], 9 - i);
    if (r.ultimate[i] != ta_ult[i])
      fail_msg("ultimate %d: %" PRId64 ", expected %" PRId64, i, r.ultimate[i], ta_ult[i]);
    assert_int_equal(r.ibnr[i], ta_ult[i] - ta_paid[i]);
  }
  for (; i < CL_MONTHS; i++) {
    assert_int_equal(r.lag[i], -1);
    assert_int_equal(r.ultimate[i], 0);
  }
  assert_int_equal(r.cum[0][9], 390146300);
  assert_int_equal(r.cum[9][0], 34401400);
  assert_int_equal(r.cum[9][1], 0); /* not observed */
  assert_int_equal(r.paid_total, 3435809000);
  assert_int_equal(r.ultimate_total, 5303894560);
  assert_int_equal(r.ibnr_total, 1868085560); /* 18,680,855.60 yuan: Mack's 18,680,856 */
  assert_int_equal(r.premium_year, 7800000000);
  assert_int_equal(r.premium_earned, 6500000000);
  assert_int_equal(r.lr_earned, 8160);
  assert_int_equal(r.lr_written, 6800);
  assert_int_equal(r.lr_paid, 5286);
  assert_int_equal(r.ultimate_year, 6364673472);
  assert_int_equal(r.verdict, CL_VERDICT_WITHIN);
  assert_string_equal(r.message, "预计全年赔付率 81.6%，在目标区间 75%–85% 内"
                                 "。依据：截至 2024-10 已满期 10 个月，未满期月份按满期赔付率外推");

  /* a tail of 1.05 */
  assert_int_equal(cl_factor_parse("1.05", 4, &p.tail, "tail", NULL), 0);
  project_ok(&t, &p, &r);
  assert_int_equal(r.cdf[9], 1050000000000);
  assert_int_equal(r.cdf[0], 15168905710651);
  for (i = 0; i < 10; i++)
    assert_int_equal(r.ultimate[i], ta_ult_tail105[i]);
  assert_int_equal(r.ultimate_total, 5569089289);
}

/* Scaling every amount by k leaves the factors and scales the ultimates
 * (up to the rounding of the fen: within k/2). */
static void test_cl__scaling(void **state)
{
  static const int64_t ks[] = {1, 3, 7, 100, 12345};
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection base, r;
  size_t n;
  int i;
  (void)state;
  ta_build(&t, 100);
  params_year(&p, INT64_C(7800000000));
  project_ok(&t, &p, &base);
  for (n = 0; n < ARRAY_SIZE(ks); n++) {
    ta_build(&t, 100 * ks[n]);
    p.premium_year = INT64_C(7800000000) * ks[n];
    project_ok(&t, &p, &r);
    for (i = 0; i < 9; i++)
      assert_int_equal(r.factor[i].value, base.factor[i].value);
    for (i = 0; i < 10; i++) {
      int64_t diff = r.ultimate[i] - ks[n] * base.ultimate[i];
      if (diff < 0)
        diff = -diff;
      if (2 * diff > ks[n])
        fail_msg("k=%" PRId64 " month %d: %" PRId64 " vs %" PRId64, ks[n], i, r.ultimate[i],
                 ks[n] * base.ultimate[i]);
      assert_int_equal(r.paid[i], ks[n] * base.paid[i]);
    }
    assert_int_equal(r.lr_earned, base.lr_earned);
  }
}

/* Records by date, in any order, with reversals netted in the same cell,
 * give the same projection as the cells. */
static void test_cl__records(void **state)
{
  struct cl_triangle a, b;
  struct cl_params p;
  struct cl_projection ra, rb;
  struct hmb_err err;
  int i, j;
  char acc[16], paid[16];
  (void)state;
  ta_build(&a, 100);
  tri_init(&b, "2024-10");
  for (i = 9; i >= 0; i--)
    for (j = 9 - i; j >= 0; j--) {
      hmb_err_init(&err);
      /* the last day of the accident month, paid on the first of the lag's month */
      snprintf(acc, sizeof(acc), "2024-%02d-%02d", i + 1, i + 1 == 2 ? 29 : 28);
      snprintf(paid, sizeof(paid), "2024-%02d-01", i + j + 1);
      assert_int_equal(cl_triangle_add(&b, d(acc), d(paid), ta[i][j] * 100 + 99, &err), 0);
      assert_int_equal(cl_triangle_add(&b, d(acc), d(paid), -99, &err), 0);
      /* a settlement and its reversal in the same cell */
      assert_int_equal(cl_triangle_add(&b, d(acc), d(paid), 500000, &err), 0);
      assert_int_equal(cl_triangle_add(&b, d(acc), d(paid), -500000, &err), 0);
    }
  assert_int_equal(b.nrecords, 4 * 55);
  assert_int_equal(b.nnegative, 2 * 55);
  assert_memory_equal(a.inc, b.inc, sizeof(a.inc));
  params_year(&p, INT64_C(7800000000));
  project_ok(&a, &p, &ra);
  project_ok(&b, &p, &rb);
  assert_memory_equal(ra.ultimate, rb.ultimate, sizeof(ra.ultimate));
  assert_int_equal(ra.lr_earned, rb.lr_earned);
}

/* Development that stops at lag 2, valued a year after the year's end:
 * every month is complete, so the factors after lag 2 are exactly 1 and
 * IBNR is 0 (also with a reversal pair and a negative month). */
static void test_cl__complete(void **state)
{
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  int i, j;
  (void)state;
  tri_init(&t, "2025-12");
  for (i = 0; i < CL_MONTHS; i++) {
    add_cell(&t, i, 0, 100000 * (i + 1));
    add_cell(&t, i, 1, 50000);
    add_cell(&t, i, 2, 25000);
    add_cell(&t, i, 5, 777);
    add_cell(&t, i, 6, -777);
  }
  params_year(&p, 10000000);
  project_ok(&t, &p, &r);
  assert_int_equal(r.elapsed, 12);
  assert_int_equal(r.valuation, 23);
  for (j = 0; j < 23; j++)
    assert_int_equal(r.factor[j].needed, j >= 12);
  for (j = 12; j < 23; j++)
    assert_int_equal(r.factor[j].value, CL_SCALE);
  for (i = 0; i < CL_MONTHS; i++) {
    assert_int_equal(r.ibnr[i], 0);
    assert_int_equal(r.ultimate[i], r.paid[i]);
  }
  assert_int_equal(r.ibnr_total, 0);
  assert_int_equal(r.lr_earned, r.lr_written);
  assert_int_equal(r.ultimate_year, r.ultimate_total);
  assert_int_equal(r.paid_total, 100000 * 78 + 12 * 75000);
  assert_int_equal(r.lr_earned, 8700);
  assert_int_equal(r.verdict, CL_VERDICT_ABOVE);
  assert_non_null(strstr(r.message, "高于目标上限 85%"));
  assert_non_null(strstr(r.message, "。依据：评估月 2025-12，全年 12 个月均已满期"));
}

/* National scale: 10^13 fen in every cell of 12 months x 24 lags. The
 * exact ultimates are 24 x 10^13; the rule's (chainladder_ref.py) are a few
 * hundred fen off, which is the documented fixed-point bound. */
static void test_cl__national(void **state)
{
  static const hmb_fen want[12] = {240000000000000, 240000000000100, 240000000000200,
                                   240000000000180, 240000000000200, 240000000000030,
                                   240000000000120, 240000000000110, 240000000000160,
                                   240000000000300, 240000000000460, 240000000000410};
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  int i, j;
  (void)state;
  tri_init(&t, "2025-12");
  for (i = 0; i < CL_MONTHS; i++)
    for (j = 0; i + j <= 23; j++)
      add_cell(&t, i, j, INT64_C(10000000000000));
  params_year(&p, HMB_FEN_LIMIT);
  project_ok(&t, &p, &r);
  for (i = 0; i < CL_MONTHS; i++)
    assert_int_equal(r.ultimate[i], want[i]);
  assert_int_equal(r.ultimate_total, 12 * INT64_C(240000000000000) + 2270);
  assert_int_equal(r.lr_earned, 288000);
}

static void test_cl__premium(void **state)
{
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  int i;
  hmb_fen sum = 0;
  (void)state;
  tri_init(&t, "2024-03");
  add_cell(&t, 0, 0, 50);
  params_year(&p, 100); /* 1 yuan: months earn 8, 9, 8, 8, 9, 8, ... */
  project_ok(&t, &p, &r);
  for (i = 0; i < CL_MONTHS; i++) {
    assert_true(r.premium[i] == 8 || r.premium[i] == 9);
    sum += r.premium[i];
  }
  assert_int_equal(sum, 100);
  assert_int_equal(r.premium_earned, 25); /* round(100 x 3 / 12) */
  assert_int_equal(r.premium[0] + r.premium[1], 17);

  /* earned by month */
  cl_params_init(&p);
  p.premium_by_month = true;
  for (i = 0; i < CL_MONTHS; i++)
    p.premium_month[i] = 1000 * (i + 1);
  project_ok(&t, &p, &r);
  assert_int_equal(r.premium_year, 78000);
  assert_int_equal(r.premium_earned, 6000);
  assert_int_equal(r.lr_earned, 83); /* 50 / 6000 = 0.833% */
  assert_int_equal(r.lr_written, 6);
  assert_int_equal(r.ultimate_year, 650); /* 50 x 78000 / 6000 */
}

static void test_cl__verdict(void **state)
{
  static const struct {
    int64_t lo, hi;
    enum cl_verdict want;
    const char *text;
  } rows[] = {
      {7500, 8500, CL_VERDICT_BELOW,
       "预计全年赔付率 50%，低于目标下限 75%：建议评估降费或扩大保障"},
      {5000, 8500, CL_VERDICT_WITHIN, "预计全年赔付率 50%，在目标区间 50%–85% 内"},
      {4000, 5000, CL_VERDICT_WITHIN, "在目标区间 40%–50% 内"},
      {0, 4999, CL_VERDICT_ABOVE, "预计全年赔付率 50%，高于目标上限 49.99%：可能收不抵支"},
  };
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  size_t n;
  (void)state;
  tri_init(&t, "2024-06");
  add_cell(&t, 0, 0, 3000);
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    params_year(&p, 12000);
    p.target_lo = rows[n].lo;
    p.target_hi = rows[n].hi;
    project_ok(&t, &p, &r);
    assert_int_equal(r.lr_earned, 5000);
    assert_int_equal(r.verdict, rows[n].want);
    if (!strstr(r.message, rows[n].text))
      fail_msg("row %zu: %s", n, r.message);
    assert_non_null(strstr(r.message, "。依据：截至 2024-06 已满期 6 个月"));
  }
  assert_string_equal(cl_verdict_name(CL_VERDICT_BELOW), "below");
  assert_string_equal(cl_verdict_name(CL_VERDICT_ABOVE), "above");
}

/* ---- edge and error cases of the projection, one row each ---- */

struct cell {
  int month, lag;
  hmb_fen amount;
};

struct pcase {
  const char *name;
  const char *valuation;
  struct cell cells[6];
  int ncells;
  hmb_fen premium;        /* 0: 1,000,000 yuan */
  int64_t tail;           /* 0: none */
  int64_t lo, hi;         /* 0, 0: default */
  int bad_month;          /* premium by month with month k - 1 set to -1 */
  enum hmb_status status; /* expected */
  const char *code, *field;
  int check_factor0; /* 1: factor[0] state is want_state, not needed */
  enum cl_factor_state want_state;
  hmb_fen ibnr;
};

static const struct pcase pcases[] = {
    {"empty", "2024-06", {{0}}, 0, 0, 0, 0, 0, 0, HMB_INVALID, "cl.empty", "claims", 0, 0, 0},
    {"all zero: factors 1, nothing projected",
     "2024-03",
     {{0, 0, 0}, {1, 1, 0}},
     2,
     0,
     0,
     0,
     0,
     0,
     HMB_OK,
     NULL,
     NULL,
     1,
     CL_FACTOR_NO_DATA,
     0},
    {"nothing at lag 0, something at lag 1: needed, undefined",
     "2024-03",
     {{0, 1, 100}, {1, 1, 100}},
     2,
     0,
     0,
     0,
     0,
     0,
     HMB_INVALID,
     "cl.factor_undefined",
     "factors[0]",
     0,
     0,
     0},
    {"negative column sum",
     "2024-02",
     {{0, 0, -100}, {0, 1, 50}, {1, 0, 10}},
     3,
     0,
     0,
     0,
     0,
     0,
     HMB_INVALID,
     "cl.factor_undefined",
     "factors[0]",
     0,
     0,
     0},
    {"negative factor",
     "2024-02",
     {{0, 0, 100}, {0, 1, -150}, {1, 0, 10}},
     3,
     0,
     0,
     0,
     0,
     0,
     HMB_INVALID,
     "cl.factor_undefined",
     "factors[0]",
     0,
     0,
     0},
    {"factor above 10^6",
     "2024-02",
     {{0, 0, 1}, {0, 1, 100000000000000}, {1, 0, 10}},
     3,
     0,
     0,
     0,
     0,
     0,
     HMB_OVERFLOW,
     "cl.factor_range",
     "factors[0]",
     0,
     0,
     0},
    {"cdf above 10^6",
     "2024-03",
     {{0, 0, 1}, {0, 1, 1999}, {1, 0, 1}, {1, 1, 1999}, {0, 2, 1998000}, {2, 0, 1}},
     6,
     0,
     0,
     0,
     0,
     0,
     HMB_OVERFLOW,
     "cl.cdf_range",
     "cdf[0]",
     0,
     0,
     0},
    {"ultimate beyond 10^16 fen",
     "2024-02",
     {{0, 0, 1000}, {0, 1, 999999000}, {1, 0, 100000000000000}},
     3,
     0,
     0,
     0,
     0,
     0,
     HMB_OVERFLOW,
     "cl.ultimate_range",
     "ultimate[1]",
     0,
     0,
     0},
    {"loss ratio beyond 10^8 bp",
     "2024-01",
     {{0, 0, 100000000000000}},
     1,
     12,
     0,
     0,
     0,
     0,
     HMB_OVERFLOW,
     "cl.ratio_range",
     "premium",
     0,
     0,
     0},
    {"negative premium",
     "2024-01",
     {{0, 0, 1}},
     1,
     -5,
     0,
     0,
     0,
     0,
     HMB_INVALID,
     "cl.premium",
     "premium",
     0,
     0,
     0},
    {"negative month premium",
     "2024-05",
     {{0, 0, 1}},
     1,
     0,
     0,
     0,
     0,
     4,
     HMB_INVALID,
     "cl.premium",
     "premium[3]",
     0,
     0,
     0},
    {"bad tail",
     "2024-01",
     {{0, 0, 1}},
     1,
     0,
     -1,
     0,
     0,
     0,
     HMB_INVALID,
     "cl.tail",
     "tail",
     0,
     0,
     0},
    {"target low above high",
     "2024-01",
     {{0, 0, 1}},
     1,
     0,
     0,
     9000,
     8000,
     0,
     HMB_INVALID,
     "cl.target",
     "target",
     0,
     0,
     0},
    {"negative month, positive sums: a negative ultimate",
     "2024-02",
     {{0, 0, 100}, {0, 1, 100}, {1, 0, -40}},
     3,
     0,
     0,
     0,
     0,
     0,
     HMB_OK,
     NULL,
     NULL,
     1,
     CL_FACTOR_OK,
     -40},
};

static void test_cl__cases(void **state)
{
  size_t n;
  int k;
  (void)state;
  for (n = 0; n < ARRAY_SIZE(pcases); n++) {
    const struct pcase *c = &pcases[n];
    struct cl_triangle t;
    struct cl_params p;
    struct cl_projection r;
    struct hmb_err err;
    enum hmb_status st;
    tri_init(&t, c->valuation);
    for (k = 0; k < c->ncells; k++)
      add_cell(&t, c->cells[k].month, c->cells[k].lag, c->cells[k].amount);
    params_year(&p, c->premium ? c->premium : 100000000);
    if (c->tail)
      p.tail = c->tail;
    if (c->lo || c->hi) {
      p.target_lo = c->lo;
      p.target_hi = c->hi;
    }
    if (c->bad_month) {
      p.premium_by_month = true;
      for (k = 0; k < CL_MONTHS; k++)
        p.premium_month[k] = 100;
      p.premium_month[c->bad_month - 1] = -1;
    }
    hmb_err_init(&err);
    st = cl_project(&t, &p, &r, &err);
    if (st != c->status)
      fail_msg("%s: status %s (%s %s), expected %s", c->name, hmb_status_name(st), err.code,
               err.message, hmb_status_name(c->status));
    if (c->code) {
      if (strcmp(err.code, c->code) || strcmp(err.field, c->field))
        fail_msg("%s: %s at %s, expected %s at %s", c->name, err.code, err.field, c->code,
                 c->field);
      assert_true(err.message[0]);
      continue;
    }
    if (c->check_factor0)
      assert_int_equal(r.factor[0].state, c->want_state);
    assert_int_equal(r.ibnr_total, c->ibnr);
  }
}

/* An undefined factor no elapsed month needs (the year is valued after its
 * end) does not stop the projection. */
static void test_cl__unneeded_factor(void **state)
{
  struct cl_triangle t;
  struct cl_params p;
  struct cl_projection r;
  int i;
  (void)state;
  tri_init(&t, "2025-02"); /* v = 13: the latest month is at lag 2 */
  for (i = 0; i < CL_MONTHS; i++)
    add_cell(&t, i, 1, 100);
  params_year(&p, 2400);
  project_ok(&t, &p, &r);
  assert_int_equal(r.factor[0].state, CL_FACTOR_UNDEFINED);
  assert_false(r.factor[0].needed);
  assert_false(r.factor[1].needed);
  assert_int_equal(r.factor[1].state, CL_FACTOR_OK);
  assert_true(r.factor[2].needed);
  assert_int_equal(r.factor[2].state, CL_FACTOR_OK);
  assert_int_equal(r.ibnr_total, 0);
  assert_int_equal(r.lr_earned, 5000);
  assert_string_equal(cl_factor_state_name(r.factor[0].state), "undefined");
}

/* ---- adding records: errors leave the triangle as it was ---- */

static void test_cl__add_errors(void **state)
{
  static const struct {
    const char *acc, *paid;
    hmb_fen amount;
    enum hmb_status status;
    const char *code, *field;
  } rows[] = {
      {"2023-12-31", "2024-01-05", 100, HMB_INVALID, "cl.accident_outside", "accident_date"},
      {"2025-01-01", "2025-01-05", 100, HMB_INVALID, "cl.accident_outside", "accident_date"},
      {"2024-03-01", "2024-02-28", 100, HMB_INVALID, "cl.paid_before", "paid_date"},
      {"2024-03-01", "2025-04-01", 100, HMB_INVALID, "cl.after_valuation", "paid_date"},
      {"2024-03-01", "2024-03-01", HMB_FEN_LIMIT + 1, HMB_INVALID, "cl.amount", "amount"},
      {"2024-01-15", "2024-01-20", HMB_FEN_LIMIT, HMB_OVERFLOW, "cl.cell_range", "amount"},
      {"2024-12-31", "2025-03-31", -5, HMB_OK, NULL, NULL},
      {"2024-01-31", "2024-02-01", 7, HMB_OK, NULL, NULL},
  };
  struct cl_triangle t, before;
  struct hmb_err err;
  size_t n;
  (void)state;
  tri_init(&t, "2025-03");
  add_cell(&t, 0, 0, 1); /* the cell that overflows */
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    enum hmb_status st;
    before = t;
    hmb_err_init(&err);
    st = cl_triangle_add(&t, d(rows[n].acc), d(rows[n].paid), rows[n].amount, &err);
    if (st != rows[n].status)
      fail_msg("row %zu: %s (%s)", n, hmb_status_name(st), err.message);
    if (!rows[n].code)
      continue;
    assert_string_equal(err.code, rows[n].code);
    assert_string_equal(err.field, rows[n].field);
    assert_true(err.message[0]);
    assert_memory_equal(&t, &before, sizeof(t));
  }
  assert_int_equal(t.inc[11][3], -5);
  assert_int_equal(t.inc[0][1], 7);
  assert_int_equal(t.nnegative, 1);

  /* cells */
  hmb_err_init(&err);
  assert_int_equal(cl_triangle_add_cell(&t, 12, 0, 1, &err), HMB_INVALID);
  assert_string_equal(err.code, "cl.month");
  assert_int_equal(cl_triangle_add_cell(&t, 0, -1, 1, &err), HMB_INVALID);
  assert_string_equal(err.code, "cl.lag");
  assert_int_equal(cl_triangle_add_cell(&t, 11, 4, 1, &err), HMB_INVALID);
  assert_string_equal(err.field, "lag");
  assert_int_equal(cl_triangle_add_cell(&t, 11, 3, 1, &err), HMB_OK);
  /* NULL err is allowed */
  assert_int_equal(cl_triangle_add_cell(&t, 12, 0, 1, NULL), HMB_INVALID);
}

static void test_cl__init_errors(void **state)
{
  static const struct {
    int sy, sm, vy, vm;
    const char *code;
    int v;
  } rows[] = {
      {2024, 1, 2023, 12, "cl.valuation", 0}, {2024, 1, 2027, 12, NULL, 47},
      {2024, 1, 2028, 1, "cl.valuation", 0},  {2024, 13, 2024, 6, "cl.year", 0},
      {2024, 7, 2025, 6, NULL, 11},           {2024, 7, 2024, 7, NULL, 0},
      {2024, 1, 2024, 0, "cl.valuation", 0},
  };
  size_t n;
  (void)state;
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    struct cl_triangle t;
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = cl_triangle_init(&t, rows[n].sy, rows[n].sm, rows[n].vy, rows[n].vm, &err);
    if (rows[n].code) {
      assert_int_equal(st, HMB_INVALID);
      assert_string_equal(err.code, rows[n].code);
    } else {
      assert_int_equal(st, HMB_OK);
      assert_int_equal(t.valuation, rows[n].v);
    }
  }
  /* a year from July: accident month 0 is 2024-07, month 6 is 2025-01 */
  {
    struct cl_triangle t;
    char buf[CL_MONTH_TEXT_MAX];
    assert_int_equal(cl_triangle_init(&t, 2024, 7, 2025, 2, NULL), HMB_OK);
    cl_month_format(&t, 6, buf);
    assert_string_equal(buf, "2025-01");
    assert_int_equal(cl_triangle_add(&t, d("2025-01-10"), d("2025-02-03"), 9, NULL), HMB_OK);
    assert_int_equal(t.inc[6][1], 9);
    assert_int_equal(cl_triangle_add(&t, d("2024-06-30"), d("2024-07-03"), 9, NULL), HMB_INVALID);
  }
}

/* ---- text ---- */

static void test_cl__factor_text(void **state)
{
  static const struct {
    const char *in;
    int64_t want; /* 0: rejected */
  } rows[] = {
      {"1", 1000000000000},
      {"1.05", 1050000000000},
      {"0.987654321012", 987654321012},
      {"1000000", 1000000 * INT64_C(1000000000000)},
      {"001.5", 1500000000000},
      {"1000000.000000000001", 0},
      {"0", 0},
      {"0.0000000000001", 0},
      {"-1", 0},
      {"+1", 0},
      {"1.", 0},
      {".5", 0},
      {"", 0},
      {"1e3", 0},
      {"1.2.3", 0},
      {"99999999999999999999999999999999999999999", 0},
  };
  static const struct {
    int64_t v;
    int dec;
    const char *want;
  } fmt[] = {
      {3490606547932, 4, "3.4906"},
      {3490606547932, 12, "3.490606547932"},
      {1499999999999, 0, "1"},
      {1500000000000, 0, "2"},
      {1000050000000, 4, "1.0001"},
      {1000049999999, 4, "1.0000"},
      {0, 2, "0.00"},
      {1000000 * INT64_C(1000000000000), 6, "1000000.000000"},
  };
  size_t n;
  (void)state;
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    int64_t v = -7;
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = cl_factor_parse(rows[n].in, strlen(rows[n].in), &v, "tail", &err);
    if (rows[n].want) {
      if (st || v != rows[n].want)
        fail_msg("%s: %s %" PRId64, rows[n].in, err.message, v);
    } else {
      if (!st)
        fail_msg("%s accepted as %" PRId64, rows[n].in, v);
      assert_int_equal(v, -7);
      assert_string_equal(err.field, "tail");
    }
  }
  for (n = 0; n < ARRAY_SIZE(fmt); n++) {
    char buf[CL_FACTOR_TEXT_MAX];
    cl_factor_format(fmt[n].v, fmt[n].dec, buf);
    assert_string_equal(buf, fmt[n].want);
  }
}

static void test_cl__target_month_text(void **state)
{
  static const struct {
    const char *in;
    int64_t lo, hi; /* lo < 0: rejected */
  } rows[] = {
      {"7500-8500", 7500, 8500},
      {"75%-85%", 7500, 8500},
      {"80%-100%", 8000, 10000},
      {"0-0", 0, 0},
      {"70.5%-80%", 7050, 8000},
      {"8500-7500", -1, 0},
      {"75-", -1, 0},
      {"-8500", -1, 0},
      {"7500", -1, 0},
      {"75%-120%", -1, 0},
      {"a-b", -1, 0},
      {"7500-100000001", -1, 0},
  };
  size_t n;
  int y = 0, m = 0;
  (void)state;
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    int64_t lo = -9, hi = -9;
    enum hmb_status st = cl_target_parse(rows[n].in, strlen(rows[n].in), &lo, &hi, "target", NULL);
    if (rows[n].lo < 0) {
      if (!st)
        fail_msg("%s accepted", rows[n].in);
      assert_int_equal(lo, -9);
    } else {
      if (st || lo != rows[n].lo || hi != rows[n].hi)
        fail_msg("%s: %" PRId64 "-%" PRId64, rows[n].in, lo, hi);
    }
  }
  assert_int_equal(cl_month_parse("2024-06", 7, &y, &m, "valuation", NULL), HMB_OK);
  assert_int_equal(y, 2024);
  assert_int_equal(m, 6);
  assert_int_equal(cl_month_parse("2024-13", 7, &y, &m, "valuation", NULL), HMB_INVALID);
  assert_int_equal(cl_month_parse("2024-6", 6, &y, &m, "valuation", NULL), HMB_INVALID);
  assert_int_equal(cl_month_parse("1899-12", 7, &y, &m, "valuation", NULL), HMB_INVALID);
  assert_int_equal(cl_month_parse("2024/06", 7, &y, &m, "valuation", NULL), HMB_INVALID);
  assert_int_equal(y, 2024);
}

/* ---- the claims file's columns and rows ---- */

static void test_cl__columns(void **state)
{
  static const char *const plain[] = {"setl_id", "setl_time", "paid_date", "amount"};
  static const char *const adj[] = {"setl_id", "psn_no", "status",        "eligible",
                                    "payout",  "r1",     "accident_date", "report_date"};
  static const char *const missing[] = {"setl_time", "amount"};
  static const char *const twice[] = {"setl_time", "paid_date", "amount", "payout"};
  struct cl_columns c;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(cl_columns_find(&c, plain, ARRAY_SIZE(plain), &err), HMB_OK);
  assert_int_equal(c.index[CL_COL_ACCIDENT], 1);
  assert_int_equal(c.index[CL_COL_PAID], 2);
  assert_int_equal(c.index[CL_COL_AMOUNT], 3);
  assert_int_equal(c.index[CL_COL_STATUS], -1);
  assert_int_equal(cl_columns_find(&c, adj, ARRAY_SIZE(adj), &err), HMB_OK);
  assert_int_equal(c.index[CL_COL_ACCIDENT], 6);
  assert_int_equal(c.index[CL_COL_PAID], 7);
  assert_int_equal(c.index[CL_COL_AMOUNT], 4);
  assert_int_equal(c.index[CL_COL_STATUS], 2);
  assert_string_equal(c.name[CL_COL_PAID], "report_date");
  assert_int_equal(cl_columns_find(&c, missing, ARRAY_SIZE(missing), &err), HMB_INVALID);
  assert_string_equal(err.code, "cl.column");
  assert_string_equal(err.field, "paid_date");
  assert_int_equal(cl_columns_find(&c, twice, ARRAY_SIZE(twice), &err), HMB_INVALID);
  assert_string_equal(err.code, "cl.column_twice");
  assert_string_equal(err.field, "payout");
}

#define S(x)                                                                                       \
  {                                                                                                \
    x, sizeof(x) - 1                                                                               \
  }

static void test_cl__claim_rows(void **state)
{
  static const char *const names[] = {"status", "payout", "accident_date", "paid_date"};
  static const struct {
    struct cl_span f[CL_COL_COUNT]; /* accident, paid, amount, status */
    const char *code, *field;       /* NULL: accepted */
    bool skip;
    hmb_fen amount;
  } rows[] = {
      {{S("2024-03-02 10:05:44"), S("2024-04-01"), S("83200.00"), S("ok")}, NULL, NULL, 0, 8320000},
      {{S("2024-03-02"), S("2024-04-01T08:00:00"), S("-8100"), S("reversal")},
       NULL,
       NULL,
       0,
       -810000},
      {{S("2024-03-02"), S("2024-04-01"), S("1.5"), S("")}, NULL, NULL, 0, 150},
      {{S(""), S(""), S(""), S("error")}, NULL, NULL, 1, 0},
      {{S("2024-03-02"), S("2024-04-01"), S("1"), S("OK")}, "cl.status", "status", 0, 0},
      {{S("2024-02-30"), S("2024-04-01"), S("1"), S("")}, "date.invalid", "accident_date", 0, 0},
      {{S("2024-03-02"), S("04/01/2024"), S("1"), S("")}, "date.syntax", "paid_date", 0, 0},
      {{S("2024-03-02"), S("2024-04-01"), S("1.234"), S("")}, "money.decimals", "payout", 0, 0},
      {{S("2024-03-02"), S("2024-04-01"), S(""), S("ok")}, "money.empty", "payout", 0, 0},
  };
  struct cl_columns c;
  size_t n;
  (void)state;
  assert_int_equal(cl_columns_find(&c, names, ARRAY_SIZE(names), NULL), HMB_OK);
  for (n = 0; n < ARRAY_SIZE(rows); n++) {
    struct cl_claim cl;
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = cl_claim_parse(&cl, &c, rows[n].f, &err);
    if (rows[n].code) {
      if (!st || strcmp(err.code, rows[n].code) || strcmp(err.field, rows[n].field))
        fail_msg("row %zu: %s %s at %s", n, hmb_status_name(st), err.code, err.field);
      continue;
    }
    if (st)
      fail_msg("row %zu: %s %s", n, err.code, err.message);
    assert_int_equal(cl.skip, rows[n].skip);
    if (!cl.skip) {
      assert_int_equal(cl.amount, rows[n].amount);
      assert_int_equal(cl.accident, d("2024-03-02"));
      assert_int_equal(cl.paid, d("2024-04-01"));
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cl__textbook),          cmocka_unit_test(test_cl__scaling),
      cmocka_unit_test(test_cl__records),           cmocka_unit_test(test_cl__complete),
      cmocka_unit_test(test_cl__national),          cmocka_unit_test(test_cl__premium),
      cmocka_unit_test(test_cl__verdict),           cmocka_unit_test(test_cl__cases),
      cmocka_unit_test(test_cl__unneeded_factor),   cmocka_unit_test(test_cl__add_errors),
      cmocka_unit_test(test_cl__init_errors),       cmocka_unit_test(test_cl__factor_text),
      cmocka_unit_test(test_cl__target_month_text), cmocka_unit_test(test_cl__columns),
      cmocka_unit_test(test_cl__claim_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

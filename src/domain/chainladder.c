#include "compat.h"
#include "chainladder.h"

/* ---- rounding ---- */

/* n / d rounded half away from zero; d > 0. Python: (2|n| + d) // (2d). */
static hmb_i128 div_round(hmb_i128 n, hmb_i128 d)
{
  hmb_i128 a = n < 0 ? -n : n;
  hmb_i128 q = (2 * a + d) / (2 * d);
  ASSERT(d > 0);
  return n < 0 ? -q : q;
}

static hmb_i128 abs128(hmb_i128 v)
{
  return v < 0 ? -v : v;
}

/* ---- months ---- */

static int month_index(hmb_date d)
{
  int y, m, day;
  date_to_ymd(d, &y, &m, &day);
  return y * 12 + m - 1;
}

size_t cl_month_format(const struct cl_triangle *t, int i, char *buf)
{
  int idx = t->start + i;
  int n = snprintf(buf, CL_MONTH_TEXT_MAX, "%04d-%02d", idx / 12, idx % 12 + 1);
  return n < 0 ? 0 : (size_t)n;
}

enum hmb_status cl_month_parse(const char *s, size_t len, int *year, int *month, const char *field,
                               struct hmb_err *err)
{
  int y = 0, m = 0;
  size_t i;
  if (len != 7 || s[4] != '-')
    goto bad;
  for (i = 0; i < 7; i++) {
    if (i == 4)
      continue;
    if (s[i] < '0' || s[i] > '9')
      goto bad;
    if (i < 4)
      y = y * 10 + (s[i] - '0');
    else
      m = m * 10 + (s[i] - '0');
  }
  if (y < 1900 || y > 2199 || m < 1 || m > 12)
    goto bad;
  *year = y;
  *month = m;
  return HMB_OK;
bad:
  return hmb_err_set(err, HMB_INVALID, "cl.month_syntax", field,
                     "月份格式错误：应为 YYYY-MM（1900–2199 年）");
}

/* ---- the triangle ---- */

enum hmb_status cl_triangle_init(struct cl_triangle *t, int start_year, int start_month,
                                 int val_year, int val_month, struct hmb_err *err)
{
  int start, v;
  if (start_year < 1900 || start_year > 2199 || start_month < 1 || start_month > 12)
    return hmb_err_set(err, HMB_INVALID, "cl.year", "year", "产品年度的起始月份无效：%d-%02d",
                       start_year, start_month);
  if (val_year < 1900 || val_year > 2199 || val_month < 1 || val_month > 12)
    return hmb_err_set(err, HMB_INVALID, "cl.valuation", "valuation", "评估月份无效：%d-%02d",
                       val_year, val_month);
  start = start_year * 12 + start_month - 1;
  v = val_year * 12 + val_month - 1 - start;
  if (v < 0)
    return hmb_err_set(err, HMB_INVALID, "cl.valuation", "valuation",
                       "评估月 %04d-%02d 早于产品年度的第一个月 %04d-%02d", val_year, val_month,
                       start_year, start_month);
  if (v >= CL_LAGS_MAX)
    return hmb_err_set(err, HMB_INVALID, "cl.valuation", "valuation",
                       "评估月 %04d-%02d 距产品年度开始超过 %d 个月，超出支持范围", val_year,
                       val_month, CL_LAGS_MAX - 1);
  memset(t, 0, sizeof(*t));
  t->start = start;
  t->valuation = v;
  return HMB_OK;
}

enum hmb_status cl_triangle_add_cell(struct cl_triangle *t, int month, int lag, hmb_fen amount,
                                     struct hmb_err *err)
{
  hmb_fen sum;
  if (month < 0 || month >= CL_MONTHS)
    return hmb_err_set(err, HMB_INVALID, "cl.month", "month", "出险月序号 %d 不在 0..11 内", month);
  if (lag < 0 || month + lag > t->valuation)
    return hmb_err_set(err, HMB_INVALID, "cl.lag", "lag",
                       "进展月 %d 无效：应在 0..%d 内（不晚于评估月）", lag,
                       t->valuation - month < 0 ? 0 : t->valuation - month);
  if (amount > HMB_FEN_LIMIT || amount < -HMB_FEN_LIMIT)
    return hmb_err_set(err, HMB_INVALID, "cl.amount", "amount", "金额超出范围（±1万亿元）");
  if (!money_add_ok(t->inc[month][lag], amount, &sum))
    return hmb_err_set(err, HMB_OVERFLOW, "cl.cell_range", "amount",
                       "同一出险月、进展月的赔款合计超出范围（±1万亿元）");
  t->inc[month][lag] = sum;
  t->nrecords++;
  if (amount < 0)
    t->nnegative++;
  return HMB_OK;
}

enum hmb_status cl_triangle_add(struct cl_triangle *t, hmb_date accident, hmb_date paid,
                                hmb_fen amount, struct hmb_err *err)
{
  int a = month_index(accident), p = month_index(paid);
  int i = a - t->start, lag = p - a;
  char m[CL_MONTH_TEXT_MAX], first[CL_MONTH_TEXT_MAX], last[CL_MONTH_TEXT_MAX];
  enum hmb_status result;

  if (i < 0 || i >= CL_MONTHS) {
    cl_month_format(t, 0, first);
    cl_month_format(t, CL_MONTHS - 1, last);
    cl_month_format(t, i, m);
    return hmb_err_set(err, HMB_INVALID, "cl.accident_outside", "accident_date",
                       "出险月 %s 不在产品年度 %s 至 %s 内", m, first, last);
  }
  if (lag < 0)
    return hmb_err_set(err, HMB_INVALID, "cl.paid_before", "paid_date",
                       "支付日期早于出险（结算）月份");
  if (p - t->start > t->valuation) {
    cl_month_format(t, p - t->start, m);
    cl_month_format(t, t->valuation, last);
    return hmb_err_set(err, HMB_INVALID, "cl.after_valuation", "paid_date",
                       "支付月份 %s 晚于评估月 %s", m, last);
  }
  result = cl_triangle_add_cell(t, i, lag, amount, err);
  return result;
}

/* ---- parameters ---- */

void cl_params_init(struct cl_params *p)
{
  memset(p, 0, sizeof(*p));
  p->tail = CL_SCALE;
  p->target_lo = CL_TARGET_LO_DEFAULT;
  p->target_hi = CL_TARGET_HI_DEFAULT;
}

const char *cl_factor_state_name(enum cl_factor_state s)
{
  switch (s) {
  case CL_FACTOR_OK: return "ok";
  case CL_FACTOR_NO_DATA: return "no_data";
  case CL_FACTOR_UNDEFINED: return "undefined";
  case CL_FACTOR_TOO_LARGE: return "too_large";
  }
  return "unknown";
}

const char *cl_verdict_name(enum cl_verdict v)
{
  switch (v) {
  case CL_VERDICT_BELOW: return "below";
  case CL_VERDICT_WITHIN: return "within";
  case CL_VERDICT_ABOVE: return "above";
  }
  return "unknown";
}

/* Earned premium of each month into out->premium, the year's and the
 * elapsed months' totals. */
static enum hmb_status premium_setup(const struct cl_params *p, struct cl_projection *out,
                                     struct hmb_err *err)
{
  int i;
  hmb_fen year = 0, earned = 0;
  if (!p->premium_by_month) {
    hmb_fen before = 0;
    if (p->premium_year <= 0 || p->premium_year > HMB_FEN_LIMIT)
      return hmb_err_set(err, HMB_INVALID, "cl.premium", "premium",
                         "全年保费应大于 0 且不超过 1 万亿元");
    year = p->premium_year;
    for (i = 0; i < CL_MONTHS; i++) {
      /* the first i + 1 months earn year x (i + 1) / 12, rounded once */
      hmb_fen upto = (hmb_fen)div_round((hmb_i128)year * (i + 1), CL_MONTHS);
      out->premium[i] = upto - before;
      before = upto;
    }
  } else {
    for (i = 0; i < CL_MONTHS; i++) {
      hmb_fen m = p->premium_month[i];
      if (m < 0 || m > HMB_FEN_LIMIT) {
        char field[24];
        snprintf(field, sizeof(field), "premium[%d]", i);
        return hmb_err_set(err, HMB_INVALID, "cl.premium", field,
                           "第 %d 个月的满期保费应在 0 至 1 万亿元之间", i + 1);
      }
      out->premium[i] = m;
      year += m;
    }
    if (year <= 0)
      return hmb_err_set(err, HMB_INVALID, "cl.premium", "premium", "全年保费合计应大于 0");
  }
  for (i = 0; i < out->elapsed; i++)
    earned += out->premium[i];
  if (earned <= 0)
    return hmb_err_set(err, HMB_INVALID, "cl.premium_earned", "premium",
                       "已满期的 %d 个月没有满期保费，无法计算赔付率", out->elapsed);
  out->premium_year = year;
  out->premium_earned = earned;
  return HMB_OK;
}

/* ---- the projection ---- */

static void compute_factor(struct cl_projection *out, int j)
{
  struct cl_factor *f = &out->factor[j];
  int i;
  hmb_fen num = 0, den = 0;
  for (i = 0; i < out->elapsed && i + j + 1 <= out->valuation; i++) {
    num += out->cum[i][j + 1];
    den += out->cum[i][j];
    f->months++;
  }
  f->num = num;
  f->den = den;
  if (num == 0 && den == 0) {
    f->state = CL_FACTOR_NO_DATA;
    f->value = CL_SCALE;
  } else if (den <= 0 || num < 0) {
    f->state = CL_FACTOR_UNDEFINED;
  } else {
    hmb_i128 v = div_round((hmb_i128)num * CL_SCALE, den);
    if (v > CL_FACTOR_MAX) {
      f->state = CL_FACTOR_TOO_LARGE;
    } else {
      f->state = CL_FACTOR_OK;
      f->value = (int64_t)v;
    }
  }
}

static enum hmb_status factor_error(const struct cl_triangle *t, const struct cl_projection *out,
                                    int j, struct hmb_err *err)
{
  const struct cl_factor *f = &out->factor[j];
  char field[24], num[HMB_MONEY_TEXT_MAX], den[HMB_MONEY_TEXT_MAX], m[CL_MONTH_TEXT_MAX];
  snprintf(field, sizeof(field), "factors[%d]", j);
  money_format(f->num, num);
  money_format(f->den, den);
  /* the oldest accident month that needs it: its latest lag is j */
  cl_month_format(t, out->valuation - j, m);
  if (f->state == CL_FACTOR_TOO_LARGE)
    return hmb_err_set(err, HMB_OVERFLOW, "cl.factor_range", field,
                       "进展第 %d→%d 月的进展因子过大（%s / %s 元，超过 100 万倍），"
                       "无法推算 %s 及以后出险月的最终赔款",
                       j, j + 1, num, den, m);
  if (f->den <= 0)
    return hmb_err_set(
        err, HMB_INVALID, "cl.factor_undefined", field,
        "进展第 %d 月的累计赔款合计为 %s 元（不为正），第 %d→%d 月进展因子无法计算，"
        "因此无法推算 %s 及以后出险月的最终赔款。常见原因：赔款都在出险后更晚的月份才支付，"
        "或冲销多于支付；请检查数据，或待这些出险月有赔款后再评估",
        j, den, j, j + 1, m);
  return hmb_err_set(err, HMB_INVALID, "cl.factor_undefined", field,
                     "进展第 %d→%d 月的累计赔款合计为 %s / %s 元，进展因子为负，"
                     "无法推算 %s 及以后出险月的最终赔款；请检查冲销数据",
                     j, j + 1, num, den, m);
}

static void verdict_message(const struct cl_triangle *t, struct cl_projection *out)
{
  char lr[16], lo[16], hi[16], last[CL_MONTH_TEXT_MAX];
  int n;
  ratio_format((hmb_bp)out->lr_earned, lr);
  ratio_format((hmb_bp)out->target_lo, lo);
  ratio_format((hmb_bp)out->target_hi, hi);
  if (out->lr_earned < out->target_lo) {
    out->verdict = CL_VERDICT_BELOW;
    n = snprintf(
        out->message, sizeof(out->message),
        "预计全年赔付率 %s，低于目标下限 %s：建议评估降费或扩大保障（降低起付线、提高赔付比例）",
        lr, lo);
  } else if (out->lr_earned > out->target_hi) {
    out->verdict = CL_VERDICT_ABOVE;
    n = snprintf(
        out->message, sizeof(out->message),
        "预计全年赔付率 %s，高于目标上限 %s：可能收不抵支，建议评估下一年度调价或调整保障方案", lr,
        hi);
  } else {
    out->verdict = CL_VERDICT_WITHIN;
    n = snprintf(out->message, sizeof(out->message), "预计全年赔付率 %s，在目标区间 %s–%s 内", lr,
                 lo, hi);
  }
  if (n < 0)
    n = 0;
  if ((size_t)n >= sizeof(out->message))
    n = (int)sizeof(out->message) - 1;
  cl_month_format(t, out->valuation, last);
  if (out->elapsed < CL_MONTHS)
    snprintf(out->message + n, sizeof(out->message) - (size_t)n,
             "。依据：截至 %s 已满期 %d 个月，未满期月份按满期赔付率外推", last, out->elapsed);
  else
    snprintf(out->message + n, sizeof(out->message) - (size_t)n,
             "。依据：评估月 %s，全年 12 个月均已满期", last);
  hmb_utf8_truncate(out->message, sizeof(out->message));
}

/* A loss ratio in bp of fen totals: claims x 10000 / premium, once rounded. */
static enum hmb_status ratio_of(hmb_fen claims, hmb_fen premium, int64_t *out, struct hmb_err *err)
{
  hmb_i128 r = div_round((hmb_i128)claims * HMB_BP_ONE, premium);
  if (abs128(r) > CL_RATIO_MAX)
    return hmb_err_set(err, HMB_OVERFLOW, "cl.ratio_range", "premium",
                       "赔付率超出可计算范围（保费相对赔款过小）");
  *out = (int64_t)r;
  return HMB_OK;
}

enum hmb_status cl_project(const struct cl_triangle *t, const struct cl_params *p,
                           struct cl_projection *out, struct hmb_err *err)
{
  enum hmb_status result;
  int i, j, v = t->valuation, lmin;
  hmb_i128 y;

  memset(out, 0, sizeof(*out));
  if (v < 0 || v >= CL_LAGS_MAX)
    BUG("cl_project: triangle not initialised (valuation %d)", v);
  out->valuation = v;
  out->elapsed = v + 1 < CL_MONTHS ? v + 1 : CL_MONTHS;
  if (!t->nrecords)
    return hmb_err_set(err, HMB_INVALID, "cl.empty", "claims", "没有任何赔款记录，无法推算");
  if (p->tail <= 0 || p->tail > CL_FACTOR_MAX)
    return hmb_err_set(err, HMB_INVALID, "cl.tail", "tail", "尾部因子应大于 0 且不超过 100 万");
  if (p->target_lo < 0 || p->target_lo > p->target_hi || p->target_hi > CL_RATIO_MAX)
    return hmb_err_set(err, HMB_INVALID, "cl.target", "target",
                       "目标赔付率区间无效：应满足 0 ≤ 下限 ≤ 上限");
  out->target_lo = p->target_lo;
  out->target_hi = p->target_hi;
  out->tail = p->tail;
  result = premium_setup(p, out, err);
  if (result)
    return result;

  /* cumulative triangle; each row sums at most CL_LAGS_MAX cells of 1e14 */
  for (i = 0; i < out->elapsed; i++) {
    hmb_fen c = 0;
    out->lag[i] = v - i;
    for (j = 0; j <= v - i; j++) {
      c += t->inc[i][j];
      out->cum[i][j] = c;
    }
    out->paid[i] = c;
    out->paid_total += c;
  }
  for (; i < CL_MONTHS; i++)
    out->lag[i] = -1;

  /* factors; the ones the elapsed months need are lags lmin..v-1 */
  lmin = v - (out->elapsed - 1);
  for (j = 0; j < v; j++) {
    compute_factor(out, j);
    out->factor[j].needed = j >= lmin;
  }
  for (j = v - 1; j >= lmin; j--)
    if (out->factor[j].state == CL_FACTOR_UNDEFINED || out->factor[j].state == CL_FACTOR_TOO_LARGE)
      return factor_error(t, out, j, err);

  /* cumulative-to-ultimate, oldest lag first, one rounding per step */
  out->cdf[v] = p->tail;
  for (j = v - 1; j >= lmin; j--) {
    hmb_i128 c = div_round((hmb_i128)out->cdf[j + 1] * out->factor[j].value, CL_SCALE);
    if (c > CL_FACTOR_MAX) {
      char field[24];
      snprintf(field, sizeof(field), "cdf[%d]", j);
      return hmb_err_set(err, HMB_OVERFLOW, "cl.cdf_range", field,
                         "进展第 %d 月起的累计进展因子超过 100 万倍，无法推算", j);
    }
    out->cdf[j] = (int64_t)c;
  }

  for (i = 0; i < out->elapsed; i++) {
    hmb_i128 u = div_round((hmb_i128)out->paid[i] * out->cdf[v - i], CL_SCALE);
    if (abs128(u) > CL_AMOUNT_LIMIT) {
      char field[24], m[CL_MONTH_TEXT_MAX];
      snprintf(field, sizeof(field), "ultimate[%d]", i);
      cl_month_format(t, i, m);
      return hmb_err_set(err, HMB_OVERFLOW, "cl.ultimate_range", field,
                         "出险月 %s 的最终赔款超出可计算范围（±100 万亿元）", m);
    }
    out->ultimate[i] = (hmb_fen)u;
    out->ibnr[i] = out->ultimate[i] - out->paid[i];
    out->ultimate_total += out->ultimate[i];
    out->ibnr_total += out->ibnr[i];
  }

  result = ratio_of(out->ultimate_total, out->premium_earned, &out->lr_earned, err);
  if (!result)
    result = ratio_of(out->ultimate_total, out->premium_year, &out->lr_written, err);
  if (!result)
    result = ratio_of(out->paid_total, out->premium_earned, &out->lr_paid, err);
  if (result)
    return result;
  y = div_round((hmb_i128)out->ultimate_total * out->premium_year, out->premium_earned);
  if (abs128(y) > CL_YEAR_LIMIT)
    return hmb_err_set(err, HMB_OVERFLOW, "cl.ratio_range", "premium",
                       "全年预计赔款超出可计算范围（保费相对赔款过小）");
  out->ultimate_year = (hmb_fen)y;
  verdict_message(t, out);
  return HMB_OK;
}

/* ---- text ---- */

enum hmb_status cl_factor_parse(const char *s, size_t len, int64_t *out, const char *field,
                                struct hmb_err *err)
{
  size_t i = 0, dec = 0;
  bool dot = false, digit = false;
  hmb_i128 v = 0;
  for (; i < len; i++) {
    char c = s[i];
    if (c == '.' && !dot && digit) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9')
      goto syntax;
    if (dot && ++dec > 12)
      goto syntax;
    digit = true;
    v = v * 10 + (c - '0');
    if (v > CL_FACTOR_MAX) /* scaling only makes it larger */
      goto range;
  }
  if (!digit || (dot && !dec))
    goto syntax;
  for (; dec < 12; dec++)
    v *= 10;
  if (v <= 0 || v > CL_FACTOR_MAX)
    goto range;
  *out = (int64_t)v;
  return HMB_OK;
syntax:
  return hmb_err_set(err, HMB_INVALID, "cl.factor_syntax", field,
                     "因子格式错误：应为小数，如 1.05（最多 12 位小数）");
range:
  return hmb_err_set(err, HMB_INVALID, "cl.factor_value", field, "因子应大于 0 且不超过 100 万");
}

size_t cl_factor_format(int64_t v, int decimals, char *buf)
{
  static const int64_t pow10[13] = {1,           10,           100,          1000,      10000,
                                    100000,      1000000,      10000000,     100000000, 1000000000,
                                    10000000000, 100000000000, 1000000000000};
  int64_t unit, q;
  int n;
  if (decimals < 0)
    decimals = 0;
  if (decimals > 12)
    decimals = 12;
  if (v < 0)
    v = 0;
  unit = pow10[12 - decimals];
  q = v / unit;
  if (unit > 1 && (v % unit) * 2 >= unit)
    q++; /* half up */
  if (decimals)
    n = snprintf(buf, CL_FACTOR_TEXT_MAX, "%" PRId64 ".%0*" PRId64, q / pow10[decimals], decimals,
                 q % pow10[decimals]);
  else
    n = snprintf(buf, CL_FACTOR_TEXT_MAX, "%" PRId64, q);
  return n < 0 ? 0 : (size_t)n;
}

/* One side of a target: bp digits, or a percentage with '%'. */
static bool target_side(const char *s, size_t len, int64_t *out)
{
  size_t i;
  int64_t v = 0;
  if (len && s[len - 1] == '%') {
    hmb_bp bp;
    if (ratio_parse(s, len, &bp, "target", NULL))
      return false;
    *out = bp;
    return true;
  }
  if (!len || len > 9)
    return false;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

enum hmb_status cl_target_parse(const char *s, size_t len, int64_t *lo, int64_t *hi,
                                const char *field, struct hmb_err *err)
{
  const char *dash = memchr(s, '-', len);
  int64_t a, b;
  if (!dash || !target_side(s, (size_t)(dash - s), &a) ||
      !target_side(dash + 1, len - (size_t)(dash - s) - 1, &b) || a > b || b > CL_RATIO_MAX)
    return hmb_err_set(
        err, HMB_INVALID, "cl.target", field,
        "目标赔付率区间格式错误：应为 7500-8500（基点）或 75%%-85%%，且下限不大于上限");
  *lo = a;
  *hi = b;
  return HMB_OK;
}

/* ---- the claims file ---- */

static const char *const col_names[CL_COL_COUNT][2] = {
    [CL_COL_ACCIDENT] = {"setl_time", "accident_date"},
    [CL_COL_PAID] = {"paid_date", "report_date"},
    [CL_COL_AMOUNT] = {"amount", "payout"},
    [CL_COL_STATUS] = {"status", NULL},
};

enum hmb_status cl_columns_find(struct cl_columns *c, const char *const *names, size_t n,
                                struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  size_t i;
  int k, a;
  for (k = 0; k < CL_COL_COUNT; k++) {
    c->index[k] = -1;
    c->name[k] = col_names[k][0];
  }
  for (i = 0; i < n && i < INT_MAX; i++)
    for (k = 0; k < CL_COL_COUNT; k++)
      for (a = 0; a < 2; a++) {
        if (!col_names[k][a] || strcmp(names[i], col_names[k][a]))
          continue;
        if (c->index[k] >= 0 && !result)
          result = hmb_err_set(err, HMB_INVALID, "cl.column_twice", names[i],
                               "列“%s”与“%s”表示同一内容，只能有一列", c->name[k], names[i]);
        c->index[k] = (int)i;
        c->name[k] = names[i];
      }
  if (result)
    return result;
  for (k = 0; k < CL_COL_STATUS; k++)
    if (c->index[k] < 0)
      return hmb_err_set(err, HMB_INVALID, "cl.column", col_names[k][0], "缺少列“%s”（或“%s”）",
                         col_names[k][0], col_names[k][1]);
  return HMB_OK;
}

static bool span_is(const struct cl_span *s, const char *lit)
{
  size_t n = strlen(lit);
  return s->len == n && !memcmp(s->p, lit, n);
}

enum hmb_status cl_claim_parse(struct cl_claim *out, const struct cl_columns *c,
                               const struct cl_span field[CL_COL_COUNT], struct hmb_err *err)
{
  enum hmb_status result;
  const struct cl_span *st = &field[CL_COL_STATUS];
  hmb_time acc, paid;

  out->skip = false;
  if (st->len) {
    if (span_is(st, "error")) {
      out->skip = true;
      return HMB_OK;
    }
    if (!span_is(st, "ok") && !span_is(st, "reversal"))
      return hmb_err_set(err, HMB_INVALID, "cl.status", c->name[CL_COL_STATUS],
                         "状态应为 ok、reversal 或 error");
  }
  result = datetime_parse(field[CL_COL_ACCIDENT].p, field[CL_COL_ACCIDENT].len, &acc,
                          c->name[CL_COL_ACCIDENT], err);
  if (!result)
    result = datetime_parse(field[CL_COL_PAID].p, field[CL_COL_PAID].len, &paid,
                            c->name[CL_COL_PAID], err);
  if (!result)
    result = money_parse(field[CL_COL_AMOUNT].p, field[CL_COL_AMOUNT].len, &out->amount,
                         c->name[CL_COL_AMOUNT], err);
  if (result)
    return result;
  out->accident = time_date(acc);
  out->paid = time_date(paid);
  return HMB_OK;
}

/*
 * fuzz_project_csv.c - the claims file of hmb project as cmd_project.c
 * reads it (the CSV scanner of io/, then cl_columns_find, cl_claim_parse and
 * cl_triangle_add of domain/chainladder.c) and the projection on whatever
 * triangle results. Every row ends in a claim or a located error; a
 * projection either fails with a cl.* code or keeps the header's promises:
 * IBNR = ultimate - paid per month, totals are the sums, bounds hold, the
 * verdict matches the ratio, doubling every amount keeps the factors and
 * doubles the ultimates to the fen. The text parsers must round-trip.
 */
#include "compat.h"
#include "chainladder.h"
#include "setl_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(enum hmb_status st, const struct hmb_err *err)
{
  if (st == HMB_OK)
    BUG("error path without a status");
  if (!err->code[0] || !err->message[0])
    BUG("error without code or message (%s)", hmb_status_name(st));
}

static void check_projection(const struct cl_triangle *t, const struct cl_params *p,
                             const struct cl_projection *r)
{
  int i, j;
  hmb_fen paid = 0, ult = 0, ibnr = 0;
  if (r->valuation != t->valuation || r->elapsed < 1 || r->elapsed > CL_MONTHS)
    BUG("valuation %d elapsed %d", r->valuation, r->elapsed);
  for (i = 0; i < CL_MONTHS; i++) {
    if (i >= r->elapsed) {
      if (r->lag[i] != -1 || r->ultimate[i] || r->paid[i])
        BUG("month %d not elapsed but projected", i);
      continue;
    }
    if (r->lag[i] != r->valuation - i)
      BUG("month %d lag %d", i, r->lag[i]);
    if (r->paid[i] != r->cum[i][r->lag[i]])
      BUG("month %d paid is not the latest cumulative", i);
    if (r->ibnr[i] != r->ultimate[i] - r->paid[i])
      BUG("month %d ibnr", i);
    if (r->ultimate[i] > CL_AMOUNT_LIMIT || r->ultimate[i] < -CL_AMOUNT_LIMIT)
      BUG("month %d ultimate out of range", i);
    paid += r->paid[i];
    ult += r->ultimate[i];
    ibnr += r->ibnr[i];
  }
  if (paid != r->paid_total || ult != r->ultimate_total || ibnr != r->ibnr_total)
    BUG("totals are not the sums");
  if (r->cdf[r->valuation] != p->tail)
    BUG("cdf at the last lag is not the tail");
  for (j = 0; j < r->valuation; j++) {
    const struct cl_factor *f = &r->factor[j];
    if (f->needed && f->state != CL_FACTOR_OK && f->state != CL_FACTOR_NO_DATA)
      BUG("needed factor %d is %s", j, cl_factor_state_name(f->state));
    if (f->needed && (r->cdf[j] < 0 || r->cdf[j] > CL_FACTOR_MAX))
      BUG("cdf %d out of range", j);
    if (f->state == CL_FACTOR_OK && (f->value < 0 || f->value > CL_FACTOR_MAX || f->den <= 0))
      BUG("factor %d out of range", j);
  }
  if (r->premium_earned <= 0 || r->premium_year < r->premium_earned)
    BUG("premium");
  if ((r->lr_earned < r->target_lo) != (r->verdict == CL_VERDICT_BELOW) ||
      (r->lr_earned > r->target_hi) != (r->verdict == CL_VERDICT_ABOVE))
    BUG("verdict %s for %" PRId64, cl_verdict_name(r->verdict), r->lr_earned);
  if (!r->message[0] || !setl_text_ok(r->message, strlen(r->message)))
    BUG("message not clean text");
}

/* The same triangle with every cell doubled: same factors, ultimates 2x
 * to within one fen of rounding, unless an amount leaves its range. */
static void check_doubled(const struct cl_triangle *t, const struct cl_params *p,
                          const struct cl_projection *r)
{
  struct cl_triangle t2 = *t;
  struct cl_projection *r2;
  struct cl_params p2 = *p;
  struct hmb_err err;
  enum hmb_status st;
  int i, j;
  for (i = 0; i < CL_MONTHS; i++)
    for (j = 0; j < CL_LAGS_MAX; j++) {
      if (t->inc[i][j] > HMB_FEN_LIMIT / 2 || t->inc[i][j] < -HMB_FEN_LIMIT / 2)
        return;
      t2.inc[i][j] = 2 * t->inc[i][j];
    }
  if (p2.premium_year > HMB_FEN_LIMIT / 2)
    return;
  p2.premium_year *= 2;
  r2 = hmb_malloc(sizeof(*r2));
  if (!r2)
    return;
  st = cl_project(&t2, &p2, r2, &err);
  if (st) {
    if (st != HMB_OVERFLOW)
      BUG("doubled triangle fails with %s (%s)", hmb_status_name(st), err.code);
    free(r2);
    return;
  }
  for (j = 0; j < r->valuation; j++)
    if (r2->factor[j].state != r->factor[j].state || r2->factor[j].value != r->factor[j].value)
      BUG("doubling changed factor %d", j);
  for (i = 0; i < r->elapsed; i++) {
    hmb_fen d = r2->ultimate[i] - 2 * r->ultimate[i];
    if (d > 1 || d < -1)
      BUG("doubling: month %d %" PRId64 " vs 2 x %" PRId64, i, r2->ultimate[i], r->ultimate[i]);
  }
  /* Ultimates move by at most a fen each and the earned premium by one
   * fen of rounding: the ratio moves by that much relative, plus its own
   * rounding. */
  {
    int64_t diff = r2->lr_earned - r->lr_earned;
    int64_t lr = r->lr_earned < 0 ? -r->lr_earned : r->lr_earned;
    int64_t allowed = 2 + (lr + 120000) / r->premium_earned;
    if (diff > allowed || diff < -allowed)
      BUG("doubling changed the loss ratio: %" PRId64 " vs %" PRId64 " (ult %" PRId64 "/%" PRId64
          ", earned %" PRId64 "/%" PRId64 ")",
          r->lr_earned, r2->lr_earned, r->ultimate_total, r2->ultimate_total, r->premium_earned,
          r2->premium_earned);
  }
  free(r2);
}

static void run_projection(const char *p, size_t n, int val_months)
{
  struct cl_triangle t;
  struct cl_params params;
  struct cl_projection *r;
  struct cl_columns cols;
  struct csvr *c;
  struct hmb_err err;
  const char **names;
  size_t i, ncols, rows = 0;
  enum hmb_status st;

  if (cl_triangle_init(&t, 2024, 1, 2024 + val_months / 12, val_months % 12 + 1, &err))
    BUG("init %d", val_months);
  if (csvr_open_mem(&c, "claims", p, n, &err))
    return;
  ncols = csvr_ncols(c);
  names = hmb_reallocarray(NULL, ncols ? ncols : 1, sizeof(*names));
  if (!names) {
    csvr_free(c);
    return;
  }
  for (i = 0; i < ncols; i++)
    names[i] = csvr_colname(c, i);
  st = cl_columns_find(&cols, names, ncols, &err);
  free(names);
  if (st) {
    check_err(st, &err);
    csvr_free(c);
    return;
  }
  for (;;) {
    const struct csvr_field *f;
    struct cl_span span[CL_COL_COUNT];
    struct cl_claim claim;
    bool eof;
    int k;
    hmb_err_init(&err);
    st = csvr_next(c, &f, &eof, &err);
    if (st == HMB_OK && eof)
      break;
    if (++rows > n + 2)
      BUG("scanner does not advance");
    if (st) {
      check_err(st, &err);
      continue;
    }
    for (k = 0; k < CL_COL_COUNT; k++) {
      span[k].p = cols.index[k] >= 0 ? f[cols.index[k]].p : "";
      span[k].len = cols.index[k] >= 0 ? f[cols.index[k]].len : 0;
    }
    st = cl_claim_parse(&claim, &cols, span, &err);
    if (!st && claim.skip)
      continue;
    if (!st) {
      struct cl_triangle before = t;
      st = cl_triangle_add(&t, claim.accident, claim.paid, claim.amount, &err);
      if (st && memcmp(&before, &t, sizeof(t)))
        BUG("a failed add changed the triangle");
    }
    if (st)
      check_err(st, &err);
  }
  csvr_free(c);

  cl_params_init(&params);
  params.premium_year = INT64_C(100000000) + (hmb_fen)n;
  r = hmb_malloc(sizeof(*r));
  if (!r)
    return;
  hmb_err_init(&err);
  st = cl_project(&t, &params, r, &err);
  if (st) {
    check_err(st, &err);
    if (strncmp(err.code, "cl.", 3))
      BUG("projection error outside cl.*: %s", err.code);
  } else {
    check_projection(&t, &params, r);
    check_doubled(&t, &params, r);
  }
  free(r);
}

/* The text parsers on the first line's bytes: what parses must format and
 * parse back to the same value. */
static void run_text(const char *p, size_t n)
{
  const char *nl = memchr(p, '\n', n);
  size_t len = nl ? (size_t)(nl - p) : n;
  int64_t v, w, lo, hi;
  int y, m;
  char buf[CL_FACTOR_TEXT_MAX];
  size_t k;
  if (cl_factor_parse(p, len, &v, "f", NULL) == HMB_OK) {
    if (v <= 0 || v > CL_FACTOR_MAX)
      BUG("factor out of range");
    k = cl_factor_format(v, 12, buf);
    if (cl_factor_parse(buf, k, &w, "f", NULL) || w != v)
      BUG("factor round trip %" PRId64 " -> %s", v, buf);
  }
  if (cl_target_parse(p, len, &lo, &hi, "t", NULL) == HMB_OK &&
      (lo < 0 || lo > hi || hi > CL_RATIO_MAX))
    BUG("target out of range");
  if (cl_month_parse(p, len, &y, &m, "m", NULL) == HMB_OK &&
      (y < 1900 || y > 2199 || m < 1 || m > 12))
    BUG("month out of range");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  run_text(p, size);
  run_projection(p, size, (int)(size % 30));
  run_projection(p, size, 23);
  return 0;
}

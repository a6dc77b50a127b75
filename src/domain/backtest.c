#include "compat.h"
#include "backtest.h"

const char *const bt_age_band_name[BT_AGE_BANDS] = {"0-17",  "18-34", "35-49", "50-59",
                                                    "60-69", "70-79", "80+",   "unknown"};
const char *const bt_scheme_name[BT_SCHEMES] = {"employees", "residents", "other"};
const char *const bt_bucket_name[BT_BUCKETS] = {
    "0-1k", "1k-5k", "5k-10k", "10k-50k", "50k-100k", "100k-200k", "200k-500k", "500k-1m", "1m+"};

/* Upper bounds of the buckets in fen (the last is open). */
static const hmb_fen bucket_top[BT_BUCKETS - 1] = {100000,   500000,   1000000,  5000000,
                                                   10000000, 20000000, 50000000, 100000000};

struct bt_person_acc {
  hmb_fen premium; /* -1: not enrolled (a hole in the caller's numbering) */
  hmb_fen paid;
  hmb_fen own_cost;
  int8_t age_band;
  int8_t scheme;
  bool has_year; /* given by bt_person_year() */
};

int bt_age_band(int age)
{
  static const int16_t lo[BT_AGE_BANDS - 1] = {0, 18, 35, 50, 60, 70, 80};
  int i;
  if (age < 0)
    return BT_AGE_BANDS - 1;
  for (i = BT_AGE_BANDS - 2; i > 0 && age < lo[i]; i--)
    ;
  return i;
}

int bt_scheme(int32_t insutype)
{
  return insutype == 310 ? 0 : insutype == 390 ? 1 : 2;
}

static int bucket_of(hmb_fen v)
{
  int i = 0;
  while (i < BT_BUCKETS - 1 && v > bucket_top[i])
    i++;
  return i;
}

hmb_bp bt_share_bp(hmb_fen num, hmb_fen den)
{
  hmb_i128 q;
  if (den <= 0)
    return -1;
  q = ((hmb_i128)(num < 0 ? -num : num) * 20000 + den) / (2 * (hmb_i128)den);
  if (num < 0)
    q = -q;
  if (q > INT32_MAX)
    return INT32_MAX;
  if (q < INT32_MIN + 1)
    return INT32_MIN + 1;
  return (hmb_bp)q;
}

void bt_init(struct bt *b, const struct plan *p)
{
  memset(b, 0, sizeof(*b));
  b->plan = p;
  b->nresp = p->nresp < PLAN_MAX_RESP ? p->nresp : PLAN_MAX_RESP;
}

void bt_release(struct bt *b)
{
  free(b->people);
  free(b->paid_pr);
  memset(b, 0, sizeof(*b));
}

enum hmb_status bt_reserve(struct bt *b, size_t n)
{
  struct bt_person_acc *a;
  hmb_fen *pr;
  if (n <= b->alloc)
    return HMB_OK;
  if (n > SIZE_MAX / PLAN_MAX_RESP / sizeof(*pr))
    return HMB_NOMEM;
  pr = hmb_reallocarray(b->paid_pr, n * (size_t)(b->nresp ? b->nresp : 1), sizeof(*pr));
  if (pr)
    b->paid_pr = pr;
  a = pr ? hmb_reallocarray(b->people, n, sizeof(*a)) : NULL;
  if (!a)
    return HMB_NOMEM;
  memset(pr + b->alloc * (size_t)b->nresp, 0, (n - b->alloc) * (size_t)b->nresp * sizeof(*pr));
  for (size_t i = b->alloc; i < n; i++) {
    memset(&a[i], 0, sizeof(a[i]));
    a[i].premium = -1;
  }
  b->people = a;
  b->alloc = n;
  return HMB_OK;
}

enum hmb_status bt_person(struct bt *b, size_t idx, int age, int32_t insutype, hmb_fen premium,
                          struct hmb_err *err)
{
  struct bt_person_acc *a;
  if (premium < 0)
    return hmb_err_set(err, HMB_INVALID, "backtest.premium", "premium", "保费不能为负数");
  if (idx >= b->alloc) {
    size_t n = b->alloc ? b->alloc : 1024;
    while (n <= idx)
      n *= 2;
    if (bt_reserve(b, n))
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  }
  a = &b->people[idx];
  if (a->premium >= 0)
    return hmb_err_set(err, HMB_INVALID, "backtest.person_twice", "psn_no", "同一参保人重复登记");
  a->premium = premium;
  a->age_band = (int8_t)bt_age_band(age);
  a->scheme = (int8_t)bt_scheme(insutype);
  if (idx >= b->npeople)
    b->npeople = idx + 1;
  return HMB_OK;
}

enum hmb_status bt_settlement(struct bt *b, size_t idx, const struct adj_result *res,
                              hmb_fen own_cost, struct hmb_err *err)
{
  struct bt_person_acc *a;
  if (idx >= b->npeople || b->people[idx].premium < 0)
    return hmb_err_set(err, HMB_INVALID, "backtest.not_enrolled", "psn_no",
                       "结算的参保人未登记投保");
  a = &b->people[idx];
  /* a family's adjustment counts with the member who settled */
  a->paid += res->payout + res->family_adjust;
  a->own_cost += own_cost;
  for (int r = 0; r < res->nresp && r < b->nresp; r++) {
    b->paid_resp[r] += res->r[r].payout;
    b->paid_pr[idx * (size_t)b->nresp + (size_t)r] += res->r[r].payout;
  }
  b->eligible += res->eligible;
  b->settlements++;
  return HMB_OK;
}

enum hmb_status bt_person_year(struct bt *b, size_t idx, const hmb_fen *paid, hmb_fen own_cost,
                               struct hmb_err *err)
{
  struct bt_person_acc *a;
  if (idx >= b->npeople || b->people[idx].premium < 0)
    return hmb_err_set(err, HMB_INVALID, "backtest.not_enrolled", "psn_no",
                       "结算的参保人未登记投保");
  a = &b->people[idx];
  if (a->has_year)
    return hmb_err_set(err, HMB_INVALID, "backtest.year_twice", "psn_no",
                       "同一参保人的年度汇总重复");
  a->has_year = true;
  a->own_cost += own_cost;
  for (int r = 0; r < b->nresp; r++) {
    a->paid += paid[r];
    b->paid_resp[r] += paid[r];
    b->paid_pr[idx * (size_t)b->nresp + (size_t)r] += paid[r];
  }
  return HMB_OK;
}

void bt_run_totals(struct bt *b, int64_t settlements, hmb_fen eligible)
{
  b->settlements += settlements;
  b->eligible += eligible;
}

/* Is x a larger payout than y (ties: the smaller person index first)? */
static bool top_before(const struct bt_top *x, const struct bt_top *y)
{
  return x->paid > y->paid || (x->paid == y->paid && x->person < y->person);
}

/* Keep the n largest in a min-heap on top_before (root: the smallest kept). */
static void top_offer(struct bt_top *h, int *n, int cap, const struct bt_top *t)
{
  int i;
  if (*n < cap) {
    i = (*n)++;
    while (i > 0 && top_before(&h[(i - 1) / 2], t)) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = *t;
    return;
  }
  if (!cap || !top_before(t, &h[0]))
    return;
  i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n)
      break;
    if (c + 1 < *n && top_before(&h[c], &h[c + 1]))
      c++;
    if (top_before(&h[c], t)) /* the lesser child still ranks above t */
      break;
    h[i] = h[c];
    i = c;
  }
  h[i] = *t;
}

static int top_cmp(const void *x, const void *y)
{
  const struct bt_top *a = x, *b = y;
  return top_before(a, b) ? -1 : top_before(b, a) ? 1 : 0;
}

static void group_add(struct bt_group *g, const struct bt_person_acc *a)
{
  g->people++;
  g->premium += a->premium;
  g->paid += a->paid;
  g->beneficiaries += a->paid > 0;
}

void bt_finish(const struct bt *b, hmb_date cover_start, hmb_date cover_end, hmb_date data_end,
               int top_n, struct bt_report *out)
{
  int64_t days = (int64_t)cover_end - cover_start + 1, elapsed;
  memset(out, 0, sizeof(*out));
  out->nresp = b->nresp;
  if (top_n < 0)
    top_n = 0;
  if (top_n > BT_TOP_MAX)
    top_n = BT_TOP_MAX;
  for (size_t i = 0; i < b->npeople; i++) {
    const struct bt_person_acc *a = &b->people[i];
    struct bt_top t;
    if (a->premium < 0)
      continue;
    out->people++;
    out->premium += a->premium;
    out->paid += a->paid;
    out->own_cost += a->own_cost;
    out->people_with_costs += a->own_cost > 0;
    out->beneficiaries += a->paid > 0;
    for (int r = 0; r < b->nresp; r++)
      out->beneficiaries_resp[r] += b->paid_pr[i * (size_t)b->nresp + (size_t)r] > 0;
    group_add(&out->age[a->age_band], a);
    group_add(&out->scheme[a->scheme], a);
    if (a->paid > 0) {
      struct bt_bucket *k = &out->payout_hist[bucket_of(a->paid)];
      k->people++;
      k->amount += a->paid;
    }
    if (a->own_cost > 0) {
      hmb_fen left = a->own_cost - a->paid;
      struct bt_bucket *k = &out->own_after_hist[bucket_of(left)];
      k->people++;
      k->amount += left;
    }
    if (a->paid > 0) {
      t.person = i;
      t.paid = a->paid;
      t.own_cost = a->own_cost;
      top_offer(out->top, &out->ntop, top_n, &t);
    }
  }
  qsort(out->top, (size_t)out->ntop, sizeof(out->top[0]), top_cmp);
  for (int r = 0; r < out->nresp; r++)
    out->paid_resp[r] = b->paid_resp[r];
  out->settlements = b->settlements;
  out->eligible = b->eligible;
  out->own_cost_after = out->own_cost - out->paid;
  out->beneficiary_share = out->people ? bt_share_bp(out->beneficiaries, out->people) : -1;
  out->loss_ratio = bt_share_bp(out->paid, out->premium);
  out->own_cost_reduction = bt_share_bp(out->paid, out->own_cost);
  if (data_end > cover_end)
    data_end = cover_end;
  elapsed = (int64_t)data_end - cover_start + 1;
  if (elapsed < 0)
    elapsed = 0;
  out->earned_premium =
      days > 0 ? (hmb_fen)(((hmb_i128)out->premium * elapsed * 2 + days) / (2 * days)) : 0;
  out->loss_ratio_earned = bt_share_bp(out->paid, out->earned_premium);
  for (int g = 0; g < BT_AGE_BANDS; g++)
    out->age[g].loss_ratio = bt_share_bp(out->age[g].paid, out->age[g].premium);
  for (int g = 0; g < BT_SCHEMES; g++)
    out->scheme[g].loss_ratio = bt_share_bp(out->scheme[g].paid, out->scheme[g].premium);
}

#include "compat.h"
#include "price.h"
#include "backtest.h"

const char *const price_kind_name[PRICE__KINDS] = {"deductible", "ratio", "band_edge", "cap",
                                                   "premium"};

uint64_t price_space_count(const struct price_space *sp)
{
  uint64_t n = 1;
  for (int a = 0; a < sp->naxes; a++) {
    n *= (uint64_t)(sp->axes[a].nv > 0 ? sp->axes[a].nv : 1);
    if (n > PRICE_MAX_VARIANTS)
      return PRICE_MAX_VARIANTS + 1; /* no overflow however many axes */
  }
  return n;
}

enum hmb_status price_space_check(const struct price_space *sp, const struct plan *p,
                                  struct hmb_err *err)
{
  if (p->has_family_scope)
    return hmb_err_set(err, HMB_UNSUPPORTED, "price.family_scope", "plan",
                       "方案含家庭共用的免赔额或限额，定价搜索尚不支持");
  if (p->has_path_rules)
    return hmb_err_set(err, HMB_UNSUPPORTED, "price.path_rules", "plan",
                       "方案含就诊次数、每次住院、单项限额或定额给付等与顺序有关的规则，"
                       "年度赔付不只取决于年度合计，定价搜索不支持");
  if (sp->target_min < 0 || sp->target_max < sp->target_min)
    return hmb_err_set(err, HMB_INVALID, "price.target", "target_loss_ratio",
                       "目标赔付率区间无效（下限应不大于上限）");
  if (sp->naxes > PRICE_MAX_AXES)
    BUG("%d axes", sp->naxes);
  for (int a = 0; a < sp->naxes; a++) {
    const struct price_axis *ax = &sp->axes[a];
    char f[64];
    snprintf(f, sizeof(f), "axes[%d]", a);
    if (ax->nt < 1 || ax->nt > PRICE_MAX_TARGETS)
      return hmb_err_set(err, HMB_INVALID, "price.targets", f, "每个维度需要 1 到 %d 个对象",
                         PRICE_MAX_TARGETS);
    if (ax->nv < 1 || ax->nv > PRICE_MAX_VALUES)
      return hmb_err_set(err, HMB_INVALID, "price.values", f, "每个维度需要 1 到 %d 个取值",
                         PRICE_MAX_VALUES);
    for (int i = 0; i < ax->nt; i++) {
      const struct price_target *t = &ax->t[i];
      int limit = 0;
      bool band_ok = true;
      switch (ax->kind) {
      case PRICE_DEDUCTIBLE: limit = p->npools; break;
      case PRICE_RATIO:
      case PRICE_BAND_EDGE:
        limit = p->nresp;
        if (t->index >= 0 && t->index < p->nresp)
          band_ok = ax->kind == PRICE_RATIO ? t->band >= -1 && t->band < p->resp[t->index].nbands
                                            : t->band >= 1 && t->band < p->resp[t->index].nbands;
        break;
      case PRICE_CAP: limit = t->shared ? p->ncaps : p->nresp; break;
      case PRICE_PREMIUM: limit = t->shared ? p->npremium_groups : p->npremium_bands; break;
      default: BUG("price kind %d", (int)ax->kind);
      }
      snprintf(f, sizeof(f), "axes[%d].%s[%d]", a, price_kind_name[ax->kind], i);
      if (t->index < 0 || t->index >= limit || !band_ok)
        return hmb_err_set(err, HMB_INVALID, "price.target", f, "方案中没有“%s”", t->label);
      if (ax->kind == PRICE_RATIO || ax->kind == PRICE_BAND_EDGE)
        if (p->resp[t->index].kind != RESP_INDEMNITY)
          return hmb_err_set(err, HMB_INVALID, "price.target", f, "“%s”是定额给付，没有比例",
                             t->label);
    }
    for (int i = 0; i < ax->nv; i++) {
      snprintf(f, sizeof(f), "axes[%d].values[%d]", a, i);
      if (ax->v[i] < 0)
        return hmb_err_set(err, HMB_INVALID, "price.value", f, "取值不能为负数");
      if (ax->kind == PRICE_RATIO && ax->v[i] > HMB_BP_ONE)
        return hmb_err_set(err, HMB_INVALID, "price.value", f, "比例不能超过 100%%");
    }
  }
  if (price_space_count(sp) > PRICE_MAX_VARIANTS)
    return hmb_err_set(err, HMB_TOO_LARGE, "price.too_many", "axes",
                       "方案组合超过 %d 个：请减少维度或取值", PRICE_MAX_VARIANTS);
  return HMB_OK;
}

void price_variant_values(const struct price_space *sp, uint64_t k, int64_t *out)
{
  for (int a = sp->naxes; a-- > 0;) {
    uint64_t nv = (uint64_t)sp->axes[a].nv;
    out[a] = sp->axes[a].v[k % nv];
    k /= nv;
  }
}

enum hmb_status price_variant_apply(const struct price_space *sp, uint64_t k, struct plan *q,
                                    struct hmb_err *err)
{
  int64_t val[PRICE_MAX_AXES] = {0};
  price_variant_values(sp, k, val);
  for (int a = 0; a < sp->naxes; a++) {
    const struct price_axis *ax = &sp->axes[a];
    for (int i = 0; i < ax->nt; i++) {
      const struct price_target *t = &ax->t[i];
      switch (ax->kind) {
      case PRICE_DEDUCTIBLE:
        q->pools[t->index].amount.value = val[a];
        q->pools[t->index].amount.param = -1;
        break;
      case PRICE_RATIO: {
        struct plan_resp *r = &q->resp[t->index];
        for (int b = 0; b < r->nbands; b++)
          if (t->band < 0 || t->band == b)
            r->bands[b].ratio = (hmb_bp)val[a];
        break;
      }
      case PRICE_BAND_EDGE:
        q->resp[t->index].bands[t->band].from = val[a];
        q->resp[t->index].bands[t->band - 1].to = val[a];
        break;
      case PRICE_CAP:
        if (t->shared) {
          q->caps[t->index].amount.value = val[a];
          q->caps[t->index].amount.param = -1;
        } else {
          q->resp[t->index].cap.value = val[a];
          q->resp[t->index].cap.param = -1;
        }
        break;
      case PRICE_PREMIUM:
        if (t->shared)
          q->premium_groups[t->index].amount = val[a];
        else
          q->premium_bands[t->index].amount = val[a];
        break;
      default: BUG("price kind %d", (int)ax->kind);
      }
    }
  }
  return plan_finish(q, NULL, NULL, err);
}

void price_table_init(struct price_table *t, const struct plan *base)
{
  memset(t, 0, sizeof(*t));
  t->plan = base;
  t->nresp = base->nresp;
}

void price_table_release(struct price_table *t)
{
  free(t->acc);
  free(t->key);
  free(t->cls);
  memset(t, 0, sizeof(*t));
}

/* The premium slot of a person under plan p: plan_premium()'s choice. */
static int premium_slot(const struct plan *p, int age, const char *groups)
{
  if (groups && *groups)
    for (int i = 0; i < p->npremium_groups; i++)
      if (plan_flag_present(groups, p->premium_groups[i].id))
        return PLAN_MAX_PREMIUM_BANDS + i;
  for (int i = 0; i < p->npremium_bands; i++) {
    const struct plan_premium_band *b = &p->premium_bands[i];
    if ((b->age_min < 0 || age >= b->age_min) && (b->age_max < 0 || age <= b->age_max))
      return i;
  }
  return -1;
}

enum hmb_status price_table_person(struct price_table *t, const struct adj_person *who, int *cls,
                                   struct hmb_err *err)
{
  struct adj_terms terms;
  enum hmb_status result;
  int age = who->age < 0 ? 0 : who->age, slot, c;
  if (t->finished)
    BUG("price_table_person() after price_table_finish()");
  result = adj_terms_resolve(t->plan, who, &terms, err);
  if (result)
    return result;
  slot = premium_slot(t->plan, age, who->groups);
  if (slot < 0)
    return hmb_err_set(err, HMB_NOT_FOUND, "premium.no_band", "age", "年龄 %d 没有对应的保费档次",
                       age);
  if (!t->slots[slot].people++) {
    t->slots[slot].age = age;
    t->slots[slot].groups = who->groups;
  }
  /* the terms follow from the variants matched and the scheme only */
  for (c = 0; c < t->nclasses; c++)
    if (t->classes[c].who.insutype == who->insutype &&
        t->classes[c].variant_mask == terms.variant_mask)
      break;
  if (c == t->nclasses) {
    if (c == PRICE_MAX_CLASSES)
      return hmb_err_set(err, HMB_TOO_LARGE, "price.classes", "people",
                         "参保人的条件组合超过 %d 种", PRICE_MAX_CLASSES);
    t->classes[c].who = *who;
    t->classes[c].variant_mask = terms.variant_mask;
    t->nclasses++;
  }
  t->classes[c].people++;
  t->people++;
  *cls = c;
  return HMB_OK;
}

enum hmb_status price_table_add(struct price_table *t, int cls, const int64_t *acc,
                                hmb_fen own_cost, struct hmb_err *err)
{
  const size_t nr = (size_t)t->nresp;
  bool any = false;
  int64_t key = 0;
  if (t->finished || cls < 0 || cls >= t->nclasses)
    BUG("price_table_add() of class %d", cls);
  t->own_cost += own_cost;
  for (size_t r = 0; r < nr; r++)
    any |= acc[r] != 0;
  if (!any)
    return HMB_OK;
  if (t->n == t->alloc) {
    size_t a = t->alloc ? t->alloc * 2 : 4096;
    int64_t *na = hmb_reallocarray(t->acc, a, nr * sizeof(*na));
    int64_t *nk;
    uint16_t *nc;
    if (na)
      t->acc = na;
    nk = na ? hmb_reallocarray(t->key, a, sizeof(*nk)) : NULL;
    if (nk)
      t->key = nk;
    nc = nk ? hmb_reallocarray(t->cls, a, sizeof(*nc)) : NULL;
    if (!nc)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    t->cls = nc;
    t->alloc = a;
  }
  for (int k = 0; k < t->plan->npools; k++) {
    const struct plan_pool *pool = &t->plan->pools[k];
    int64_t sum = 0;
    for (int j = 0; j < pool->nmembers; j++)
      sum += acc[pool->members[j]];
    if (sum > key)
      key = sum;
  }
  memcpy(t->acc + t->n * nr, acc, nr * sizeof(*acc));
  t->key[t->n] = key;
  t->cls[t->n] = (uint16_t)cls;
  t->n++;
  return HMB_OK;
}

struct sort_ctx {
  const int64_t *key;
};

/* Descending key; ties by position, so the order is the same on every run. */
static int by_key_desc(const void *a, const void *b, void *ctx)
{
  const struct sort_ctx *c = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if (c->key[x] != c->key[y])
    return c->key[x] > c->key[y] ? -1 : 1;
  return x < y ? -1 : x > y;
}

void price_table_finish(struct price_table *t)
{
  const size_t nr = (size_t)t->nresp;
  size_t *ord = t->n ? hmb_reallocarray(NULL, t->n, sizeof(*ord)) : NULL;
  int64_t *acc = t->n ? hmb_reallocarray(NULL, t->n, nr * sizeof(*acc)) : NULL;
  int64_t *key = t->n ? hmb_reallocarray(NULL, t->n, sizeof(*key)) : NULL;
  uint16_t *cls = t->n ? hmb_reallocarray(NULL, t->n, sizeof(*cls)) : NULL;
  struct sort_ctx c = {t->key};
  t->finished = true;
  if (!ord || !acc || !key || !cls) {
    /* keep the file order: evaluation then reads every person */
    free(ord);
    free(acc);
    free(key);
    free(cls);
    for (size_t i = 0; i < t->n; i++)
      t->key[i] = INT64_MAX;
    return;
  }
  for (size_t i = 0; i < t->n; i++)
    ord[i] = i;
  qsort_r(ord, t->n, sizeof(*ord), by_key_desc, &c);
  for (size_t i = 0; i < t->n; i++) {
    memcpy(acc + i * nr, t->acc + ord[i] * nr, nr * sizeof(*acc));
    key[i] = t->key[ord[i]];
    cls[i] = t->cls[ord[i]];
  }
  free(ord);
  free(t->acc);
  free(t->key);
  free(t->cls);
  t->acc = acc;
  t->key = key;
  t->cls = cls;
}

enum hmb_status price_eval(const struct price_table *t, const struct plan *q,
                           struct price_result *out, hmb_fen *paid_resp, struct hmb_err *err)
{
  const size_t nr = (size_t)t->nresp;
  struct adj_terms *terms;
  int64_t floor_ = INT64_MAX;
  hmb_fen pr[PLAN_MAX_RESP];
  enum hmb_status result = HMB_OK;

  memset(out, 0, sizeof(*out));
  if (!t->finished)
    BUG("price_eval() before price_table_finish()");
  for (int s = 0; s < PLAN_MAX_PREMIUM_BANDS + PLAN_MAX_PREMIUM_GROUPS; s++)
    if (t->slots[s].people) {
      hmb_fen amount;
      result = plan_premium(q, t->slots[s].age, t->slots[s].groups, &amount, err);
      if (result)
        return result;
      out->premium += amount * t->slots[s].people;
    }
  terms = hmb_reallocarray(NULL, t->nclasses ? (size_t)t->nclasses : 1, sizeof(*terms));
  if (!terms)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  for (int c = 0; c < t->nclasses && !result; c++) {
    result = adj_terms_resolve(q, &t->classes[c].who, &terms[c], err);
    for (int k = 0; k < q->npools && !result; k++)
      if (terms[c].pool_amount[k] * ADJ_ACC_PER_FEN < floor_)
        floor_ = terms[c].pool_amount[k] * ADJ_ACC_PER_FEN;
  }
  if (paid_resp)
    memset(paid_resp, 0, nr * sizeof(*paid_resp));
  for (size_t i = 0; i < t->n && !result; i++) {
    hmb_fen paid;
    /* within every deductible, and so is everyone after */
    if (t->key[i] <= floor_)
      break;
    paid = adj_year_paid(q, &terms[t->cls[i]], t->acc + i * nr, pr);
    out->paid += paid;
    out->beneficiaries += paid > 0;
    if (paid_resp)
      for (size_t r = 0; r < nr; r++)
        paid_resp[r] += pr[r];
  }
  free(terms);
  if (result)
    return result;
  out->loss_ratio = bt_share_bp(out->paid, out->premium);
  out->reduction = bt_share_bp(out->paid, t->own_cost);
  out->share = bt_share_bp(out->beneficiaries, t->people);
  out->premium_avg = t->people ? (out->premium * 2 + t->people) / (2 * t->people) : 0;
  return HMB_OK;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
  return a < b ? -1 : a > b;
}

int price_cmp_people(const void *a, const void *b)
{
  const struct price_result *x = a, *y = b;
  if (x->beneficiaries != y->beneficiaries)
    return x->beneficiaries > y->beneficiaries ? -1 : 1;
  if (x->paid != y->paid)
    return x->paid > y->paid ? -1 : 1;
  return cmp_u64(x->variant, y->variant);
}

int price_cmp_reduction(const void *a, const void *b)
{
  const struct price_result *x = a, *y = b;
  if (x->paid != y->paid) /* own costs are the same for every variant */
    return x->paid > y->paid ? -1 : 1;
  if (x->beneficiaries != y->beneficiaries)
    return x->beneficiaries > y->beneficiaries ? -1 : 1;
  return cmp_u64(x->variant, y->variant);
}

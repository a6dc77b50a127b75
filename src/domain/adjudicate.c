#include "compat.h"
#include "adjudicate.h"

/*
 * Units: eligible amounts are held in 1/10000 fen ("bpfen") so that weights
 * and line allocations never lose a fraction before the year's total is
 * known. A band's payout is ratio_bp x bpfen, i.e. 1/10^8 fen, rounded to
 * the fen once per responsibility on the year's cumulative amount.
 */
#define BPFEN    ADJ_ACC_PER_FEN
#define BP_BPFEN INT64_C(100000000)

struct adj_ext_entry {
  uint64_t key;
  uint8_t kind;
  uint8_t resp;
  int64_t value;
};

struct adj_ext {
  uint32_t n, alloc;
  struct adj_ext_entry e[];
};

/* ---- terms ---- */

static bool pcond_match(const struct plan_pcond *c, const struct adj_person *w)
{
  int i;
  if (c->preexisting >= 0 && (w->preexisting ? 1 : 0) != c->preexisting)
    return false;
  if (c->loyalty_min >= 0 && w->loyalty_years < c->loyalty_min)
    return false;
  if (c->claim_free_min >= 0 && w->claim_free_years < c->claim_free_min)
    return false;
  if (c->age_min >= 0 && (w->age < 0 || w->age < c->age_min))
    return false;
  if (c->age_max >= 0 && (w->age < 0 || w->age > c->age_max))
    return false;
  if (c->insutype.n) {
    bool hit = false;
    for (i = 0; i < c->insutype.n && !hit; i++)
      hit = c->insutype.v[i] == w->insutype;
    if (!hit)
      return false;
  }
  if (c->groups_any.n) {
    bool hit = false;
    for (i = 0; i < c->groups_any.n && !hit; i++)
      hit = plan_flag_present(w->groups, c->groups_any.v[i]);
    if (!hit)
      return false;
  }
  return true;
}

static uint32_t variants_of(const struct plan *p, const struct adj_person *who)
{
  uint32_t mask = 0;
  int i;
  for (i = 0; i < p->nvariants; i++)
    if (pcond_match(&p->variants[i].when, who))
      mask |= 1u << i;
  return mask;
}

uint64_t adj_terms_key(const struct plan *p, const struct adj_person *who)
{
  /* adj_terms_resolve() reads who only for the scheme (amounts by scheme)
   * and through the variants that apply */
  return (uint64_t)(uint32_t)who->insutype << 32 | variants_of(p, who);
}

static hmb_bp clamp_bp(int64_t v)
{
  return (hmb_bp)(v < 0 ? 0 : v > HMB_BP_ONE ? HMB_BP_ONE : v);
}

enum hmb_status adj_terms_resolve(const struct plan *p, const struct adj_person *who,
                                  struct adj_terms *out, struct hmb_err *err)
{
  enum hmb_status result;
  int i, b;
  memset(out, 0, sizeof(*out));
  out->insutype = who->insutype;
  for (i = 0; i < p->npools; i++) {
    result = plan_amount_value(p, &p->pools[i].amount, who->insutype, &out->pool_amount[i], err);
    if (result)
      return result;
  }
  for (i = 0; i < p->ncaps; i++) {
    result = plan_amount_value(p, &p->caps[i].amount, who->insutype, &out->cap_shared[i], err);
    if (result)
      return result;
  }
  for (i = 0; i < p->nresp; i++) {
    out->cap[i] = -1;
    if (p->resp[i].cap.param >= 0 || p->resp[i].cap.value >= 0) {
      result = plan_amount_value(p, &p->resp[i].cap, who->insutype, &out->cap[i], err);
      if (result)
        return result;
    }
    for (b = 0; b < p->resp[i].nbands; b++)
      out->ratio[i][b] = p->resp[i].bands[b].ratio;
  }
  out->variant_mask = variants_of(p, who);
  for (i = 0; i < p->nvariants; i++) {
    const struct plan_variant *v = &p->variants[i];
    if (!(out->variant_mask >> i & 1))
      continue;
    if (v->resp >= 0) {
      const struct plan_resp *r = &p->resp[v->resp];
      if (v->excluded)
        out->excluded_mask |= 1u << v->resp;
      for (b = 0; b < r->nbands; b++) {
        if (v->ratio >= 0)
          out->ratio[v->resp][b] = v->ratio;
        out->ratio[v->resp][b] = clamp_bp((int64_t)out->ratio[v->resp][b] + v->ratio_delta);
      }
      if (v->cap >= 0)
        out->cap[v->resp] = v->cap;
    }
    if (v->pool >= 0) {
      if (v->deductible >= 0)
        out->pool_amount[v->pool] = v->deductible;
      out->pool_amount[v->pool] += v->deductible_delta;
      if (out->pool_amount[v->pool] < 0)
        out->pool_amount[v->pool] = 0;
    }
  }
  return HMB_OK;
}

/* ---- states ---- */

size_t adj_state_size(const struct plan *p)
{
  return sizeof(struct adj_state) + 2 * (size_t)p->nresp * sizeof(int64_t);
}

void adj_state_init(const struct plan *p, struct adj_state *st, const struct adj_terms *terms)
{
  memset(st, 0, adj_state_size(p));
  st->terms = terms;
}

void adj_state_release(struct adj_state *st)
{
  free(st->ext);
  st->ext = NULL;
}

enum hmb_status adj_state_copy(const struct plan *p, struct adj_state *dst,
                               const struct adj_state *src)
{
  struct adj_ext *ext = NULL;
  if (src->ext) {
    size_t sz = sizeof(struct adj_ext) + src->ext->alloc * sizeof(struct adj_ext_entry);
    ext = hmb_malloc(sz);
    if (!ext)
      return HMB_NOMEM;
    memcpy(ext, src->ext, sz);
  }
  free(dst->ext);
  memcpy(dst, src, adj_state_size(p));
  dst->ext = ext;
  return HMB_OK;
}

static int64_t ext_get(const struct adj_state *st, uint8_t kind, uint8_t resp, uint64_t key)
{
  uint32_t i;
  if (!st->ext)
    return 0;
  for (i = 0; i < st->ext->n; i++) {
    const struct adj_ext_entry *e = &st->ext->e[i];
    if (e->key == key && e->kind == kind && e->resp == resp)
      return e->value;
  }
  return 0;
}

static int ext_count(const struct adj_state *st, uint8_t kind, uint8_t resp)
{
  uint32_t i;
  int n = 0;
  if (!st->ext)
    return 0;
  for (i = 0; i < st->ext->n; i++)
    if (st->ext->e[i].kind == kind && st->ext->e[i].resp == resp && st->ext->e[i].value)
      n++;
  return n;
}

/* Apply delta to an entry, creating it or removing it at zero so that a
 * reversal leaves exactly the entries there were. */
static enum hmb_status ext_apply(struct adj_state *st, const struct adj_ext_delta *d, int sign)
{
  uint32_t i;
  struct adj_ext *x = st->ext;
  int64_t v = sign * d->value;
  if (x)
    for (i = 0; i < x->n; i++) {
      struct adj_ext_entry *e = &x->e[i];
      if (e->key == d->key && e->kind == d->kind && e->resp == d->resp) {
        e->value += v;
        if (!e->value)
          x->e[i] = x->e[--x->n];
        return HMB_OK;
      }
    }
  if (!x || x->n == x->alloc) {
    uint32_t alloc = x ? x->alloc * 2 : 8;
    struct adj_ext *nx =
        hmb_realloc(x, sizeof(struct adj_ext) + alloc * sizeof(struct adj_ext_entry));
    if (!nx)
      return HMB_NOMEM;
    if (!x)
      nx->n = 0;
    nx->alloc = alloc;
    st->ext = x = nx;
  }
  x->e[x->n].key = d->key;
  x->e[x->n].kind = d->kind;
  x->e[x->n].resp = d->resp;
  x->e[x->n].value = v;
  x->n++;
  return HMB_OK;
}

hmb_fen adj_paid_total(const struct plan *p, const struct adj_state *st)
{
  hmb_fen sum = 0;
  int r;
  for (r = 0; r < p->nresp; r++)
    sum += st->v[p->nresp + r];
  return sum;
}

bool adj_state_equal(const struct plan *p, const struct adj_state *a, const struct adj_state *b)
{
  uint32_t i, na = a->ext ? a->ext->n : 0, nb = b->ext ? b->ext->n : 0;
  if (memcmp(a->v, b->v, 2 * (size_t)p->nresp * sizeof(int64_t)))
    return false;
  if (na != nb)
    return false;
  for (i = 0; i < na; i++) {
    const struct adj_ext_entry *e = &a->ext->e[i];
    if (ext_get(b, e->kind, e->resp, e->key) != e->value)
      return false;
  }
  return true;
}

/* ---- eligible amounts ---- */

/* Settlements with more detail lines than this get their line parts from the heap. */
#define ADJ_LINES_ON_STACK 64

struct line_parts {
  int64_t part[4]; /* bpfen: fulamt, overlmt, preselfpay, inscp_selfpay */
};

struct setl_work {
  struct setl_parts parts;
  int64_t setl_part[4]; /* bpfen */
  struct line_parts lp[ADJ_LINES_ON_STACK];
  struct line_parts *lines; /* lp or heap for many lines */
  uint32_t any_mask;        /* union of lines' masks */
};

static void work_prepare(const struct plan *p, const struct settlement *s, struct setl_work *w,
                         struct line_parts *lines)
{
  size_t i;
  settlement_parts(s, &w->parts);
  w->setl_part[COMP_FULAMT_OWNPAY] = w->parts.fulamt_ownpay * BPFEN;
  w->setl_part[COMP_OVERLMT_SELFPAY] = w->parts.overlmt_selfpay * BPFEN;
  w->setl_part[COMP_PRESELFPAY] = w->parts.preselfpay * BPFEN;
  w->setl_part[COMP_INSCP_SELFPAY] = w->parts.inscp_selfpay * BPFEN;
  w->lines = lines;
  w->any_mask = 0;
  if (s->nlines)
    plan_mark_lines(p, s->lines, s->nlines);
  for (i = 0; i < s->nlines; i++) {
    const struct setl_line *l = &s->lines[i];
    struct line_parts *x = &lines[i];
    x->part[COMP_FULAMT_OWNPAY] = l->fulamt_ownpay_amt * BPFEN;
    x->part[COMP_OVERLMT_SELFPAY] = l->overlmt_amt * BPFEN;
    x->part[COMP_PRESELFPAY] = l->preselfpay_amt * BPFEN;
    /* The funds' payment is not itemised: a line's share of the in-scope
     * self-pay is in proportion to its in-scope amount. */
    x->part[COMP_INSCP_SELFPAY] = s->inscp_scp_amt > 0
                                      ? (int64_t)((hmb_i128)l->inscp_scp_amt * BPFEN *
                                                  w->parts.inscp_selfpay / s->inscp_scp_amt)
                                      : 0;
    w->any_mask |= l->list_mask;
  }
}

/* Part k of the settlement as a term with this line filter counts it. */
static int64_t part_amount(const struct plan *p, const struct settlement *s,
                           const struct setl_work *w, const struct plan_term *t, int k)
{
  int64_t setl = w->setl_part[k], sum = 0;
  uint32_t excl = p->excl_lines_mask;
  size_t i;
  if (t->lines == LINES_IN) {
    if (!(w->any_mask & t->list_mask))
      return 0;
    for (i = 0; i < s->nlines; i++) {
      uint32_t m = s->lines[i].list_mask;
      if ((m & t->list_mask) && !(m & excl))
        sum += w->lines[i].part[k];
    }
    return sum < setl ? sum : setl;
  }
  if (w->any_mask & (excl | (t->lines == LINES_EXCEPT ? t->list_mask : 0))) {
    uint32_t drop = excl | (t->lines == LINES_EXCEPT ? t->list_mask : 0);
    for (i = 0; i < s->nlines; i++)
      if (s->lines[i].list_mask & drop)
        sum += w->lines[i].part[k];
  }
  return setl > sum ? setl - sum : 0;
}

static int64_t term_amount(const struct plan *p, const struct settlement *s,
                           const struct setl_work *w, const struct plan_term *t)
{
  int64_t v;
  int k;
  if (t->has_when && !plan_cond_match(p, &t->when, s))
    return 0;
  switch (t->comp) {
  case COMP_PSN_PART:
    v = 0;
    for (k = 0; k < 4; k++)
      v += part_amount(p, s, w, t, k);
    break;
  case COMP_ACT_PAY_DEDC:
    v = s->act_pay_dedc < w->parts.inscp_selfpay ? s->act_pay_dedc : w->parts.inscp_selfpay;
    v *= BPFEN;
    break;
  default: v = part_amount(p, s, w, t, (int)t->comp); break;
  }
  if (t->weight == HMB_BP_ONE)
    return v;
  return (int64_t)((hmb_i128)v * t->weight / HMB_BP_ONE);
}

/* What lines of one item-limit list contribute to r (before the limit). */
static int64_t line_contrib(const struct plan *p, const struct settlement *s,
                            const struct setl_work *w, const struct plan_resp *r, size_t li)
{
  int64_t v = 0;
  int t, k;
  uint32_t m = s->lines[li].list_mask;
  if (m & p->excl_lines_mask)
    return 0;
  for (t = 0; t < r->nterms; t++) {
    const struct plan_term *tm = &r->terms[t];
    int64_t x = 0;
    if (tm->has_when && !plan_cond_match(p, &tm->when, s))
      continue;
    if (tm->lines == LINES_IN && !(m & tm->list_mask))
      continue;
    if (tm->lines == LINES_EXCEPT && (m & tm->list_mask))
      continue;
    for (k = 0; k < 4; k++)
      if (tm->comp == COMP_PSN_PART || (int)tm->comp == k)
        x += w->lines[li].part[k];
    v += (int64_t)((hmb_i128)x * tm->weight / HMB_BP_ONE);
  }
  return v;
}

static int64_t pending(const struct adj_contrib *c, uint8_t kind, uint8_t resp, uint64_t key)
{
  int64_t v = 0;
  uint16_t i;
  for (i = 0; i < c->next; i++)
    if (c->ext[i].key == key && c->ext[i].kind == kind && c->ext[i].resp == resp)
      v += c->ext[i].value;
  return v;
}

static enum hmb_status push_delta(struct adj_contrib *c, uint8_t kind, uint8_t resp, uint64_t key,
                                  int64_t value, struct hmb_err *err)
{
  uint16_t i;
  for (i = 0; i < c->next; i++)
    if (c->ext[i].key == key && c->ext[i].kind == kind && c->ext[i].resp == resp) {
      c->ext[i].value += value;
      return HMB_OK;
    }
  if (c->next >= ADJ_MAX_EXT_DELTAS)
    return hmb_err_set(err, HMB_TOO_LARGE, "adj.too_many_items", "details",
                       "单笔结算涉及的限额项目过多（最多 %d）", ADJ_MAX_EXT_DELTAS);
  c->ext[c->next].key = key;
  c->ext[c->next].kind = kind;
  c->ext[c->next].resp = resp;
  c->ext[c->next].value = value;
  c->next++;
  return HMB_OK;
}

static enum hmb_status apply_item_limits(const struct plan *p, const struct adj_state *st,
                                         const struct settlement *s, const struct setl_work *w,
                                         int ri, int64_t *elig, struct adj_contrib *c,
                                         uint32_t *why, struct hmb_err *err)
{
  const struct plan_resp *r = &p->resp[ri];
  enum hmb_status result;
  int j;
  size_t li;
  for (j = 0; j < r->nitem_limits; j++) {
    const struct plan_item_limit *il = &r->item_limits[j];
    uint32_t bit = 1u << il->list;
    if (!(w->any_mask & bit))
      continue;
    for (li = 0; li < s->nlines; li++) {
      const struct setl_line *l = &s->lines[li];
      int64_t want, take;
      uint64_t key;
      if (!(l->list_mask & bit))
        continue;
      want = line_contrib(p, s, w, r, li);
      if (want <= 0)
        continue;
      take = want;
      key = il->per_code ? hmb_hash64(l->med_list_codg, strlen(l->med_list_codg))
                         : (uint64_t)il->list + 1;
      if (il->max_count_e4 >= 0) {
        int64_t used = ext_get(st, EXT_ITEM_COUNT, (uint8_t)ri, key) +
                       pending(c, EXT_ITEM_COUNT, (uint8_t)ri, key);
        int64_t left = il->max_count_e4 - used, units = l->cnt_e4 > 0 ? l->cnt_e4 : BPFEN;
        if (left <= 0)
          take = 0;
        else if (left < units)
          take = (int64_t)((hmb_i128)take * left / units);
        if (left > 0) {
          result =
              push_delta(c, EXT_ITEM_COUNT, (uint8_t)ri, key, left < units ? left : units, err);
          if (result)
            return result;
        }
      }
      if (il->max_amount >= 0 && take > 0) {
        int64_t used = ext_get(st, EXT_ITEM_AMOUNT, (uint8_t)ri, key) +
                       pending(c, EXT_ITEM_AMOUNT, (uint8_t)ri, key);
        int64_t left = il->max_amount * BPFEN - used;
        if (left < take)
          take = left > 0 ? left : 0;
        if (take > 0) {
          result = push_delta(c, EXT_ITEM_AMOUNT, (uint8_t)ri, key, take, err);
          if (result)
            return result;
        }
      }
      if (take < want) {
        *why |= WHY_ITEM_LIMIT;
        *elig -= want - take;
        if (*elig < 0)
          *elig = 0;
      }
    }
  }
  return HMB_OK;
}

/* Whether s triggers lump sum r: a line of its lists, not excluded (any
 * settlement when it names no lists). */
static bool lump_hit(const struct plan *p, const struct plan_resp *r, const struct settlement *s)
{
  size_t i;
  bool hit = !r->lump_lines_mask;
  for (i = 0; i < s->nlines && !hit; i++)
    hit = (s->lines[i].list_mask & r->lump_lines_mask) &&
          !(s->lines[i].list_mask & p->excl_lines_mask);
  return hit;
}

/* This settlement's eligible amount for r, with path-dependent limits. */
static enum hmb_status eligible(const struct plan *p, const struct adj_state *st,
                                const struct settlement *s, const struct setl_work *w,
                                uint32_t excl_resp, int ri, struct adj_resp_result *rr,
                                struct adj_contrib *c, struct hmb_err *err)
{
  const struct plan_resp *r = &p->resp[ri];
  enum hmb_status result;
  int64_t e = 0;
  uint64_t visit_key = 0;
  int t;

  if (r->has_when && !plan_cond_match(p, &r->when, s)) {
    rr->why |= WHY_NOT_APPLICABLE;
    return HMB_OK;
  }
  if (excl_resp >> ri & 1) {
    rr->why |= WHY_EXCLUDED;
    return HMB_OK;
  }
  if (st->terms->excluded_mask >> ri & 1)
    rr->why |= WHY_NOT_COVERED;
  if (r->kind == RESP_LUMP_SUM) {
    if (!lump_hit(p, r, s)) {
      rr->why |= WHY_NOT_APPLICABLE;
      return HMB_OK;
    }
    visit_key = hmb_hash64(s->mdtrt_id, strlen(s->mdtrt_id));
    if (ext_get(st, EXT_LUMP, (uint8_t)ri, visit_key))
      return HMB_OK; /* this visit already triggered it */
    if (ext_count(st, EXT_LUMP, (uint8_t)ri) >= r->lump_max_times) {
      rr->why |= WHY_VISIT_LIMIT;
      return HMB_OK;
    }
    result = push_delta(c, EXT_LUMP, (uint8_t)ri, visit_key, 1, err);
    if (result)
      return result;
    rr->eligible = 1; /* lump sums count triggers, not money */
    return HMB_OK;
  }
  for (t = 0; t < r->nterms; t++)
    e += term_amount(p, s, w, &r->terms[t]);
  if (s->nlines && (w->any_mask & p->excl_lines_mask))
    rr->why |= WHY_LINES_EXCLUDED;
  if (e > 0 && r->nitem_limits) {
    result = apply_item_limits(p, st, s, w, ri, &e, c, &rr->why, err);
    if (result)
      return result;
  }
  if (e > 0 && r->stay_limit >= 0) {
    uint64_t key = hmb_hash64(s->mdtrt_id, strlen(s->mdtrt_id));
    int64_t left = r->stay_limit * BPFEN - ext_get(st, EXT_STAY, (uint8_t)ri, key);
    if (left < e) {
      e = left > 0 ? left : 0;
      rr->why |= WHY_STAY_LIMIT;
    }
    if (e > 0) {
      result = push_delta(c, EXT_STAY, (uint8_t)ri, key, e, err);
      if (result)
        return result;
    }
  }
  if (e > 0 && r->max_visits >= 0) {
    visit_key = hmb_hash64(s->mdtrt_id, strlen(s->mdtrt_id));
    if (!ext_get(st, EXT_VISIT, (uint8_t)ri, visit_key)) {
      if (ext_count(st, EXT_VISIT, (uint8_t)ri) >= r->max_visits) {
        rr->why |= WHY_VISIT_LIMIT;
        e = 0;
      } else {
        result = push_delta(c, EXT_VISIT, (uint8_t)ri, visit_key, 1, err);
        if (result)
          return result;
      }
    }
  }
  rr->eligible = e;
  return HMB_OK;
}

/* ---- the year's payout function ---- */

struct eval {
  int64_t ded[PLAN_MAX_FAMILY][PLAN_MAX_RESP];
  hmb_fen gross[PLAN_MAX_FAMILY][PLAN_MAX_RESP];
  hmb_fen paid[PLAN_MAX_FAMILY][PLAN_MAX_RESP];
  uint32_t why[PLAN_MAX_FAMILY][PLAN_MAX_RESP];
};

static int64_t overlap(int64_t lo, int64_t hi, int64_t a, int64_t b)
{
  int64_t x = lo > a ? lo : a, y = b < 0 ? hi : (hi < b ? hi : b);
  return y > x ? y - x : 0;
}

/*
 * Evaluate the payout function for every member. acc[i] is member i's
 * cumulative eligible array. Pure: reads the plan and terms only.
 */
/* Deductible borne per member and responsibility: pools consumed in order. */
static void eval_pools(const struct plan *p, struct adj_state *const *m, size_t n,
                       const int64_t *const *acc, int64_t (*ded)[PLAN_MAX_RESP])
{
  size_t i;
  int k, j;
  for (k = 0; k < p->npools; k++) {
    const struct plan_pool *pool = &p->pools[k];
    if (pool->scope == SCOPE_PERSON || n == 1) {
      for (i = 0; i < n; i++) {
        int64_t rem = m[i]->terms->pool_amount[k] * BPFEN;
        for (j = 0; j < pool->nmembers; j++) {
          int r = pool->members[j];
          int64_t d = p->resp[r].kind == RESP_LUMP_SUM ? 0 : (acc[i][r] < rem ? acc[i][r] : rem);
          if (d < 0)
            d = 0;
          ded[i][r] = d;
          rem -= d;
        }
      }
    } else {
      int64_t rem = m[0]->terms->pool_amount[k] * BPFEN;
      for (j = 0; j < pool->nmembers; j++)
        for (i = 0; i < n; i++) {
          int r = pool->members[j];
          int64_t d = acc[i][r] < rem ? acc[i][r] : rem;
          if (d < 0)
            d = 0;
          ded[i][r] = d;
          rem -= d;
        }
    }
  }
}

/*
 * Evaluate the payout function for every member. acc[i] is member i's
 * cumulative eligible array. Pure: reads the plan and terms only.
 */
static void evaluate(const struct plan *p, struct adj_state *const *m, size_t n,
                     const int64_t *const *acc, struct eval *ev)
{
  size_t i;
  int k, j, a;

  eval_pools(p, m, n, acc, ev->ded);
  /* bands on each axis */
  for (a = 0; a < p->naxes; a++) {
    const struct plan_axis *ax = &p->axes[a];
    for (i = 0; i < n; i++) {
      int64_t offset = 0;
      for (j = 0; j < ax->nmembers; j++) {
        int r = ax->members[j];
        const struct plan_resp *rp = &p->resp[r];
        int64_t net = acc[i][r] - ev->ded[i][r], lo, hi;
        hmb_i128 raw = 0;
        int b;
        ev->why[i][r] = ev->ded[i][r] > 0 ? WHY_IN_DEDUCTIBLE : 0;
        if (rp->kind == RESP_LUMP_SUM) {
          int64_t times = acc[i][r] < rp->lump_max_times ? acc[i][r] : rp->lump_max_times;
          ev->gross[i][r] = rp->lump_amount * times;
          continue;
        }
        lo = offset + (rp->bands_net ? 0 : ev->ded[i][r]);
        hi = offset + (rp->bands_net ? net : acc[i][r]);
        for (b = 0; b < rp->nbands; b++) {
          const struct plan_band *bd = &rp->bands[b];
          int64_t ov = overlap(lo, hi, bd->from * BPFEN, bd->to < 0 ? -1 : bd->to * BPFEN);
          raw += (hmb_i128)ov * m[i]->terms->ratio[r][b];
        }
        /* 64-bit division when the value allows: __divti3 is slow */
        if (raw <= INT64_MAX - BP_BPFEN)
          ev->gross[i][r] = (int64_t)(raw + BP_BPFEN / 2) / BP_BPFEN;
        else
          ev->gross[i][r] = (hmb_fen)((raw + BP_BPFEN / 2) / BP_BPFEN);
        offset += rp->bands_net ? net : acc[i][r];
      }
    }
  }
  /* own caps and lost cover */
  for (i = 0; i < n; i++)
    for (j = 0; j < p->nresp; j++) {
      hmb_fen v = ev->gross[i][j], cap = m[i]->terms->cap[j];
      if (m[i]->terms->excluded_mask >> j & 1)
        v = 0;
      if (cap >= 0 && v > cap) {
        v = cap;
        ev->why[i][j] |= WHY_CAPPED;
      }
      ev->paid[i][j] = v;
    }
  /* exclusive groups: the largest pays */
  for (k = 0; k < p->ngroups; k++)
    for (i = 0; i < n; i++) {
      const struct plan_group *g = &p->groups[k];
      int best = g->members[0];
      for (j = 1; j < g->nmembers; j++)
        if (ev->paid[i][g->members[j]] > ev->paid[i][best])
          best = g->members[j];
      for (j = 0; j < g->nmembers; j++)
        if (g->members[j] != best && ev->paid[i][g->members[j]]) {
          ev->paid[i][g->members[j]] = 0;
          ev->why[i][g->members[j]] |= WHY_GROUP_LOST;
        }
    }
  /* shared caps, consumed in the stated order */
  for (k = 0; k < p->ncaps; k++) {
    const struct plan_cap *cap = &p->caps[k];
    if (cap->scope == SCOPE_PERSON || n == 1) {
      for (i = 0; i < n; i++) {
        hmb_fen rem = m[i]->terms->cap_shared[k];
        for (j = 0; j < cap->nmembers; j++) {
          int r = cap->members[j];
          if (ev->paid[i][r] > rem) {
            ev->paid[i][r] = rem;
            ev->why[i][r] |= WHY_SHARED_CAPPED;
          }
          rem -= ev->paid[i][r];
        }
      }
    } else {
      hmb_fen rem = m[0]->terms->cap_shared[k];
      for (j = 0; j < cap->nmembers; j++)
        for (i = 0; i < n; i++) {
          int r = cap->members[j];
          if (ev->paid[i][r] > rem) {
            ev->paid[i][r] = rem;
            ev->why[i][r] |= WHY_SHARED_CAPPED;
          }
          rem -= ev->paid[i][r];
        }
    }
  }
}

hmb_fen adj_year_paid(const struct plan *p, const struct adj_terms *t, const int64_t *acc,
                      hmb_fen *paid)
{
  struct adj_state st = {t, NULL};
  struct adj_state *m = &st;
  struct eval ev;
  hmb_fen total = 0;
  if (p->has_family_scope)
    BUG("adj_year_paid() of a plan with family scope");
  evaluate(p, &m, 1, &acc, &ev);
  for (int r = 0; r < p->nresp; r++) {
    paid[r] = ev.paid[0][r];
    total += paid[r];
  }
  return total;
}

static void result_init(const struct plan *p, struct adj_result *res, enum setl_kind kind)
{
  res->kind = kind;
  res->nresp = p->nresp;
  res->payout = 0;
  res->family_adjust = 0;
  res->eligible = 0;
  res->exclusions = 0;
  memset(res->r, 0, (size_t)p->nresp * sizeof(res->r[0]));
  memset(res->contrib.acc, 0, (size_t)p->nresp * sizeof(int64_t));
  res->contrib.next = 0;
}

/*
 * Shared tail of settle and reverse: evaluate with member `who`'s new
 * amounts, fill res, and unless trial, commit amounts, payouts and the
 * path-dependent usage (sign +1 adds res->contrib.ext, -1 removes it).
 */
static enum hmb_status finish(const struct plan *p, struct adj_state *const *members, size_t n,
                              size_t who, const int64_t *acc_new, int sign, unsigned flags,
                              struct adj_result *res, struct hmb_err *err)
{
  const int64_t *accs[PLAN_MAX_FAMILY] = {0};
  struct eval ev;
  int64_t elig_sum = 0;
  size_t i;
  int r;
  uint16_t d;

  for (i = 0; i < n; i++)
    accs[i] = i == who ? acc_new : adj_acc(members[i]);
  evaluate(p, members, n, accs, &ev);
  for (r = 0; r < p->nresp; r++) {
    struct adj_resp_result *rr = &res->r[r];
    const hmb_fen *paid = adj_paid(p, members[who]);
    rr->acc_before = adj_acc(members[who])[r];
    rr->ded_after = ev.ded[who][r];
    rr->paid_before = paid[r];
    rr->paid_after = ev.paid[who][r];
    rr->payout = rr->paid_after - rr->paid_before;
    rr->why |= ev.why[who][r];
    res->payout += rr->payout;
    if (p->resp[r].kind == RESP_INDEMNITY)
      elig_sum += rr->eligible;
  }
  res->eligible = money_round_bpfen(elig_sum);
  for (i = 0; i < n; i++) {
    const hmb_fen *paid;
    if (i == who)
      continue;
    paid = adj_paid(p, members[i]);
    for (r = 0; r < p->nresp; r++)
      res->family_adjust += ev.paid[i][r] - paid[r];
  }
  if (flags & ADJ_TRIAL)
    return HMB_OK;
  /* Make room for the usage first: the only step that can fail. */
  for (d = 0; d < res->contrib.next; d++) {
    enum hmb_status result = ext_apply(members[who], &res->contrib.ext[d], sign);
    if (result) {
      while (d-- > 0)
        ext_apply(members[who], &res->contrib.ext[d], -sign);
      return hmb_err_set(err, result, "nomem", "", "内存不足");
    }
  }
  for (i = 0; i < n; i++) {
    hmb_fen *paid = adj_paid(p, members[i]);
    for (r = 0; r < p->nresp; r++)
      paid[r] = ev.paid[i][r];
  }
  memcpy(adj_acc(members[who]), acc_new, (size_t)p->nresp * sizeof(int64_t));
  return HMB_OK;
}

static void ded_before(const struct plan *p, struct adj_state *const *members, size_t n, size_t who,
                       struct adj_result *res)
{
  const int64_t *accs[PLAN_MAX_FAMILY] = {0};
  int64_t ded[PLAN_MAX_FAMILY][PLAN_MAX_RESP];
  size_t i;
  int r;
  for (i = 0; i < n; i++)
    accs[i] = adj_acc(members[i]);
  eval_pools(p, members, n, accs, ded);
  for (r = 0; r < p->nresp; r++)
    res->r[r].ded_before = ded[who][r];
}

/* The responsibilities the plan's exclusions take s out of; *hit gets the
 * bits of the exclusions that apply. */
static uint32_t exclusions_of(const struct plan *p, const struct settlement *s,
                              const struct setl_work *w, uint32_t *hit)
{
  uint32_t excl_resp = 0;
  int k;
  for (k = 0; k < p->nexclusions; k++) {
    const struct plan_exclusion *ex = &p->exclusions[k];
    if (ex->has_when && plan_cond_match(p, &ex->when, s)) {
      excl_resp |= ex->resp_mask;
      *hit |= 1u << k;
    } else if (ex->lines_mask & w->any_mask) {
      *hit |= 1u << k;
    }
  }
  return excl_resp;
}

/*
 * eligible() without a state, as far as it goes: whether the responsibility
 * can be given anything by s. A lump sum triggered, or a sum of terms other
 * than 0 (limits may still cut it to 0, but they read the state), can;
 * anything else leaves eligible() with 0 and no usage whatever the state.
 */
static bool may_add(const struct plan *p, const struct settlement *s, const struct setl_work *w,
                    uint32_t excl_resp, int ri)
{
  const struct plan_resp *r = &p->resp[ri];
  int64_t e = 0;
  int t;
  if ((r->has_when && !plan_cond_match(p, &r->when, s)) || (excl_resp >> ri & 1))
    return false;
  if (r->kind == RESP_LUMP_SUM)
    return lump_hit(p, r, s);
  for (t = 0; t < r->nterms; t++)
    e += term_amount(p, s, w, &r->terms[t]);
  return e != 0;
}

/*
 * Whether r can be given anything by a settlement without detail lines:
 * false when it does not apply to s, or every term of it counts only lines
 * of lists (part_amount() of LINES_IN is then 0). Cheaper than may_add(),
 * which it never contradicts.
 */
static bool may_add_lineless(const struct plan *p, const struct settlement *s,
                             const struct plan_resp *r)
{
  int t;
  if (r->has_when && !plan_cond_match(p, &r->when, s))
    return false;
  if (r->kind == RESP_LUMP_SUM)
    return !r->lump_lines_mask;
  for (t = 0; t < r->nterms; t++) {
    const struct plan_term *tm = &r->terms[t];
    if ((tm->lines != LINES_IN || tm->comp == COMP_ACT_PAY_DEDC) &&
        !(tm->has_when && !plan_cond_match(p, &tm->when, s)))
      return true;
  }
  return false;
}

bool adj_settle_inert(const struct plan *p, const struct settlement *s)
{
  struct setl_work w;
  uint32_t excl_resp, hit = 0;
  int r;
  /* what adj_settle() refuses, or would need the heap for, is left to it */
  if (s->kind != SETL_SETTLE || s->nlines > ARRAY_SIZE(w.lp))
    return false;
  if (!s->nlines) {
    /* most settlements: decided without preparing their amounts */
    for (r = 0; r < p->nresp && !may_add_lineless(p, s, &p->resp[r]); r++)
      ;
    if (r == p->nresp)
      return true;
  }
  work_prepare(p, s, &w, w.lp);
  excl_resp = exclusions_of(p, s, &w, &hit);
  for (r = 0; r < p->nresp; r++)
    if (may_add(p, s, &w, excl_resp, r))
      return false;
  return true;
}

enum hmb_status adj_settle(const struct plan *p, struct adj_state *const *members, size_t n,
                           size_t who, const struct settlement *s, unsigned flags,
                           struct adj_result *res, struct hmb_err *err)
{
  struct setl_work w;
  struct line_parts *lines = w.lp;
  int64_t acc_new[PLAN_MAX_RESP];
  uint32_t excl_resp;
  struct adj_state *st;
  enum hmb_status result = HMB_OK;
  int r;

  if (n == 0 || n > PLAN_MAX_FAMILY || who >= n)
    BUG("adj_settle: bad account (n=%zu who=%zu)", n, who);
  if (s->kind != SETL_SETTLE)
    return hmb_err_set(err, HMB_INVALID, "adj.kind", "txn", "冲销请求应使用冲销接口");
  if (s->nlines > SETL_MAX_LINES)
    return hmb_err_set(err, HMB_TOO_LARGE, "setl.too_many_lines", "details", "费用明细超过 %d 条",
                       SETL_MAX_LINES);
  st = members[who];
  result_init(p, res, SETL_SETTLE);
  if (s->nlines > ARRAY_SIZE(w.lp)) {
    lines = hmb_calloc(s->nlines, sizeof(*lines));
    if (!lines)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  }
  work_prepare(p, s, &w, lines);
  excl_resp = exclusions_of(p, s, &w, &res->exclusions);
  for (r = 0; r < p->nresp && !result; r++) {
    result = eligible(p, st, s, &w, excl_resp, r, &res->r[r], &res->contrib, err);
    res->contrib.acc[r] = res->r[r].eligible;
    acc_new[r] = adj_acc(st)[r] + res->r[r].eligible;
    if (acc_new[r] > HMB_FEN_LIMIT * BPFEN)
      result =
          hmb_err_set(err, HMB_OVERFLOW, "adj.overflow", p->resp[r].id, "年度累计金额超出允许范围");
  }
  if (lines != w.lp)
    free(lines);
  if (result)
    return result;
  if (!(flags & ADJ_NO_DED_BEFORE))
    ded_before(p, members, n, who, res);
  if (!res->contrib.next) {
    bool changed = false;
    for (r = 0; r < p->nresp; r++)
      changed |= res->r[r].eligible != 0;
    if (!changed) {
      /* Nothing added: the payout function of every member is unchanged
       * (it depends only on the amounts), so there is nothing to evaluate
       * or commit. Most outpatient visits of an inpatient product end here. */
      const hmb_fen *paid = adj_paid(p, st);
      for (r = 0; r < p->nresp; r++) {
        struct adj_resp_result *rr = &res->r[r];
        rr->acc_before = adj_acc(st)[r];
        rr->ded_after = rr->ded_before;
        rr->paid_before = rr->paid_after = paid[r];
      }
      return HMB_OK;
    }
  }
  return finish(p, members, n, who, acc_new, +1, flags, res, err);
}

enum hmb_status adj_reverse(const struct plan *p, struct adj_state *const *members, size_t n,
                            size_t who, const struct adj_contrib *c, unsigned flags,
                            struct adj_result *res, struct hmb_err *err)
{
  int64_t acc_new[PLAN_MAX_RESP];
  struct adj_state *st;
  int r;
  uint16_t d;

  if (n == 0 || n > PLAN_MAX_FAMILY || who >= n)
    BUG("adj_reverse: bad account (n=%zu who=%zu)", n, who);
  st = members[who];
  result_init(p, res, SETL_REVERSAL);
  for (r = 0; r < p->nresp; r++) {
    acc_new[r] = adj_acc(st)[r] - c->acc[r];
    if (acc_new[r] < 0)
      return hmb_err_set(err, HMB_CONFLICT, "adj.not_held", p->resp[r].id,
                         "冲销金额超过年度累计金额：该结算可能已被冲销");
    res->r[r].eligible = -c->acc[r];
    res->contrib.acc[r] = c->acc[r];
  }
  for (d = 0; d < c->next; d++) {
    if (ext_get(st, c->ext[d].kind, c->ext[d].resp, c->ext[d].key) < c->ext[d].value)
      return hmb_err_set(err, HMB_CONFLICT, "adj.not_held", "",
                         "该结算的限额使用记录不存在：可能已被冲销");
    res->contrib.ext[d] = c->ext[d];
  }
  res->contrib.next = c->next;
  ded_before(p, members, n, who, res);
  return finish(p, members, n, who, acc_new, -1, flags, res, err);
}

/* ---- explanation ---- */

static enum hmb_status add_money(struct buf *b, hmb_fen v)
{
  return buf_add_money(b, v);
}

static enum hmb_status add_ratio(struct buf *b, hmb_bp bp)
{
  char t[16];
  size_t n = ratio_format(bp, t);
  return buf_add(b, t, n);
}

enum hmb_status adj_explain(const struct plan *p, const struct adj_state *st,
                            const struct adj_result *res, struct buf *out)
{
  enum hmb_status result = HMB_OK;
  int r, k, b;
  bool any = false;
  const bool rev = res->kind == SETL_REVERSAL;

  for (k = 0; k < p->nexclusions; k++)
    if (res->exclusions >> k & 1)
      result = buf_addf(out, "除外：%s。", p->exclusions[k].name);
  for (r = 0; r < p->nresp && !result; r++) {
    const struct plan_resp *rp = &p->resp[r];
    const struct adj_resp_result *rr = &res->r[r];
    int64_t acc_after = rr->acc_before + rr->eligible;
    if ((rr->why & WHY_NOT_APPLICABLE) && !rr->payout)
      continue;
    if (!rr->eligible && !rr->payout && !(rr->why & WHY_EXCLUDED))
      continue;
    any = true;
    buf_addf(out, "【%s】", rp->name);
    if (rr->why & WHY_EXCLUDED) {
      result = buf_addstr(out, "本次结算属于除外责任，不予赔付。");
      continue;
    }
    if (rp->kind == RESP_LUMP_SUM) {
      buf_addstr(out, rev ? "冲销定额给付" : "符合定额给付条件，给付");
      add_money(out, rp->lump_amount);
      result = buf_addstr(out, "元。");
      continue;
    }
    buf_addstr(out, rev ? "冲销可赔付金额" : "本次可赔付金额");
    add_money(out, money_round_bpfen(rev ? -rr->eligible : rr->eligible));
    buf_addstr(out, "元，年度累计");
    add_money(out, money_round_bpfen(acc_after));
    buf_addstr(out, "元；");
    if (p->pools[rp->pool].nmembers > 1 || p->pools[rp->pool].scope == SCOPE_FAMILY)
      buf_addf(out, "%s免赔额", p->pools[rp->pool].scope == SCOPE_FAMILY ? "家庭共用" : "共用");
    else
      buf_addstr(out, "免赔额");
    add_money(out, st->terms->pool_amount[rp->pool]);
    buf_addstr(out, "元，累计已抵扣");
    add_money(out, money_round_bpfen(rr->ded_after));
    buf_addstr(out, "元");
    if (rr->ded_after != rr->ded_before) {
      buf_addstr(out, "（本次");
      add_money(out, money_round_bpfen(rr->ded_after - rr->ded_before));
      buf_addstr(out, "元）");
    }
    buf_addstr(out, "；");
    if (rp->nbands == 1 && rp->bands[0].from == 0 && rp->bands[0].to < 0) {
      buf_addstr(out, "赔付比例");
      add_ratio(out, st->terms->ratio[r][0]);
    } else {
      buf_addstr(out, "分段赔付：");
      for (b = 0; b < rp->nbands; b++) {
        if (b)
          buf_addstr(out, "，");
        add_money(out, rp->bands[b].from);
        buf_addstr(out, "—");
        if (rp->bands[b].to < 0)
          buf_addstr(out, "以上");
        else {
          add_money(out, rp->bands[b].to);
          buf_addstr(out, "元");
        }
        buf_addstr(out, " ");
        add_ratio(out, st->terms->ratio[r][b]);
      }
      if (rp->bands_net)
        buf_addstr(out, "（按扣除免赔额后的金额分段）");
    }
    buf_addstr(out, "；本次");
    buf_addstr(out, rr->payout < 0 ? "冲回" : "赔付");
    add_money(out, rr->payout < 0 ? -rr->payout : rr->payout);
    buf_addstr(out, "元，年度累计赔付");
    add_money(out, rr->paid_after);
    buf_addstr(out, "元");
    if (st->terms->cap[r] >= 0) {
      buf_addstr(out, "（年度限额");
      add_money(out, st->terms->cap[r]);
      buf_addstr(out, "元）");
    }
    if (rr->why & WHY_CAPPED)
      buf_addstr(out, "，已达年度赔付限额");
    if (rr->why & WHY_SHARED_CAPPED)
      buf_addf(out, "，已达共享限额“%s”", p->caps[rp->shared_cap].id);
    if (rr->why & WHY_GROUP_LOST)
      buf_addstr(out, "，与其他责任不可兼得，按较高者赔付");
    if (rr->why & WHY_NOT_COVERED)
      buf_addstr(out, "，按产品条款该人员不享有此项保障");
    if (rr->why & WHY_VISIT_LIMIT)
      buf_addstr(out, "，已达年度次数限制");
    if (rr->why & WHY_STAY_LIMIT)
      buf_addstr(out, "，已达单次住院限额");
    if (rr->why & WHY_ITEM_LIMIT)
      buf_addstr(out, "，部分项目已达单项限额");
    if (rr->why & WHY_LINES_EXCLUDED)
      buf_addstr(out, "，部分明细属除外项目未计入");
    result = buf_addstr(out, "。");
  }
  if (!result && !any)
    result = buf_addstr(out, "本次结算不属于本产品保障范围或无个人负担费用，不予赔付。");
  if (!result && res->family_adjust)
    result =
        buf_addf(out, "家庭共用额度变动使其他家庭成员赔付调整 %s%" PRId64 ".%02" PRId64 " 元。",
                 res->family_adjust < 0 ? "-" : "",
                 (res->family_adjust < 0 ? -res->family_adjust : res->family_adjust) / 100,
                 (res->family_adjust < 0 ? -res->family_adjust : res->family_adjust) % 100);
  if (!result) {
    result = buf_addstr(out, rev ? "合计冲回" : "合计赔付");
    if (!result)
      result = add_money(out, res->payout < 0 ? -res->payout : res->payout);
    if (!result)
      result = buf_addstr(out, "元。");
  }
  return result;
}

/* ---- packing contributions ---- */

static size_t put_u64(uint8_t *o, uint64_t v)
{
  int i;
  for (i = 0; i < 8; i++)
    o[i] = (uint8_t)(v >> (8 * i));
  return 8;
}

static uint64_t get_u64(const uint8_t *in)
{
  uint64_t v = 0;
  int i;
  for (i = 0; i < 8; i++)
    v |= (uint64_t)in[i] << (8 * i);
  return v;
}

size_t adj_contrib_pack(const struct plan *p, const struct adj_contrib *c, uint8_t *out)
{
  size_t n = 4;
  uint16_t mask = 0;
  int r;
  uint16_t d;
  for (r = 0; r < p->nresp; r++)
    if (c->acc[r]) {
      mask |= (uint16_t)(1u << r);
      n += put_u64(out + n, (uint64_t)c->acc[r]);
    }
  out[0] = (uint8_t)mask;
  out[1] = (uint8_t)(mask >> 8);
  out[2] = (uint8_t)c->next;
  out[3] = (uint8_t)(c->next >> 8);
  for (d = 0; d < c->next; d++) {
    n += put_u64(out + n, c->ext[d].key);
    out[n++] = c->ext[d].kind;
    out[n++] = c->ext[d].resp;
    n += put_u64(out + n, (uint64_t)c->ext[d].value);
  }
  return n;
}

size_t adj_contrib_unpack(const struct plan *p, const uint8_t *in, size_t len,
                          struct adj_contrib *c)
{
  size_t n = 4;
  uint16_t mask, next, d;
  int r;
  if (len < 4)
    return 0;
  mask = (uint16_t)(in[0] | in[1] << 8);
  next = (uint16_t)(in[2] | in[3] << 8);
  if (next > ADJ_MAX_EXT_DELTAS)
    return 0;
  for (r = 0; r < PLAN_MAX_RESP; r++) {
    c->acc[r] = 0;
    if (mask >> r & 1) {
      if (r >= p->nresp || n + 8 > len)
        return 0;
      c->acc[r] = (int64_t)get_u64(in + n);
      n += 8;
    }
  }
  c->next = next;
  for (d = 0; d < next; d++) {
    if (n + 18 > len)
      return 0;
    c->ext[d].key = get_u64(in + n);
    c->ext[d].kind = in[n + 8];
    c->ext[d].resp = in[n + 9];
    c->ext[d].value = (int64_t)get_u64(in + n + 10);
    n += 18;
  }
  return n;
}

/* ---- packing states ---- */

#define STATE_FORMAT 1

enum hmb_status adj_state_pack(const struct plan *p, const struct adj_state *st, struct buf *out)
{
  uint8_t tmp[18];
  uint32_t i, n = st->ext ? st->ext->n : 0;
  int k;
  tmp[0] = STATE_FORMAT;
  tmp[1] = (uint8_t)p->nresp;
  tmp[2] = (uint8_t)n;
  tmp[3] = (uint8_t)(n >> 8);
  tmp[4] = (uint8_t)(n >> 16);
  tmp[5] = (uint8_t)(n >> 24);
  if (buf_add(out, tmp, 6))
    return HMB_NOMEM;
  for (k = 0; k < 2 * p->nresp; k++) {
    put_u64(tmp, (uint64_t)st->v[k]);
    if (buf_add(out, tmp, 8))
      return HMB_NOMEM;
  }
  for (i = 0; i < n; i++) {
    const struct adj_ext_entry *e = &st->ext->e[i];
    put_u64(tmp, e->key);
    tmp[8] = e->kind;
    tmp[9] = e->resp;
    put_u64(tmp + 10, (uint64_t)e->value);
    if (buf_add(out, tmp, 18))
      return HMB_NOMEM;
  }
  return HMB_OK;
}

enum hmb_status adj_state_unpack(const struct plan *p, const uint8_t *in, size_t len,
                                 struct adj_state *st, struct hmb_err *err)
{
  size_t at = 6;
  uint32_t i, n;
  int k;
  if (len < 6 || in[0] != STATE_FORMAT || in[1] != p->nresp)
    return hmb_err_set(err, HMB_INVALID, "state.format", "state", "保存的年度状态与产品不符");
  n = (uint32_t)in[2] | (uint32_t)in[3] << 8 | (uint32_t)in[4] << 16 | (uint32_t)in[5] << 24;
  if (len != 6 + 16 * (size_t)p->nresp + 18 * (size_t)n)
    return hmb_err_set(err, HMB_INVALID, "state.format", "state", "保存的年度状态长度不符");
  for (k = 0; k < 2 * p->nresp; k++, at += 8)
    st->v[k] = (int64_t)get_u64(in + at);
  for (i = 0; i < n; i++, at += 18) {
    struct adj_ext_delta d;
    d.key = get_u64(in + at);
    d.kind = in[at + 8];
    d.resp = in[at + 9];
    d.value = (int64_t)get_u64(in + at + 10);
    if (!d.value || ext_apply(st, &d, 1))
      return hmb_err_set(err, HMB_INVALID, "state.format", "state", "保存的年度状态无法读取");
  }
  return HMB_OK;
}

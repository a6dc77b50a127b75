/*
 * hmb backtest: what one or more plans would have paid on a year's history
 * of settlements of the enrolled people, and their loss ratios.
 *
 * The settlements are read once; each row is judged under every plan with
 * its own year states (domain/adjudicate.h) and aggregated per plan
 * (domain/backtest.h). Premium income is each enrolled person's premium
 * under the plan (age band or group). Rows of people not in --people are
 * counted and skipped (the product pays only the enrolled).
 *
 * As hmb adjudicate, a repeated setl_id is refused, and a reversal row
 * takes back its settlement under every plan (its payout and the person's
 * cost leave the year). Not yet: plans with family-scope pools or caps
 * (refused), the fast two-thread reader of hmb adjudicate.
 */
#include "compat.h"
#include "backtest.h"
#include "cli.h"
#include "people.h"
#include "plan_json.h"
#include "setl_reader.h"

#define BT_PLANS_MAX 16

static const char backtest_usage[] =
    "用法: hmb backtest --plan P [--plan Q ...] --settlements FILE [--details FILE]\n"
    "                   --people FILE [--json OUT] [--top 20] [--data-end YYYY-MM-DD]\n"
    "                   [--param NAME[.SCHEME]=AMOUNT] [--allow-draft]\n"
    "  以一年的结算记录回测产品方案：赔付率（按保费收入与已赚保费）、受益人数及占比、\n"
    "  各责任、年龄段、险种的赔付，赔付额与剩余自付的分布，以及最大的赔付。\n";

/* One plan's run: the plan, its terms by person variant, the states. */
struct bt_plan {
  struct plan plan;
  struct bt agg;
  struct adj_terms **terms; /* interned, owned */
  size_t nterms;
  struct adj_state **st; /* per person, allocated at the first settlement */
  size_t state_size;
};

/*
 * The settlements seen, by setl_id: the person, what they bore, whether a
 * reversal took it back, and per plan where its packed contribution is in
 * `packed` (0: it changed nothing). Open addressing on the id's hash.
 */
struct seen {
  uint64_t h;
  size_t id_off; /* into ids */
  size_t person;
  hmb_fen own_cost;
  bool reversed;
  size_t contrib_off[BT_PLANS_MAX]; /* into packed, +1; 0 none */
};

struct register_ {
  uint32_t *slot; /* entry + 1 */
  size_t cap;
  struct seen *e;
  size_t n, alloc;
  struct buf ids;
  struct buf packed;
};

static uint64_t id_hash(const char *s, size_t n)
{
  return setl_key_hash(s, n) | 1;
}

static struct seen *reg_find(const struct register_ *g, const char *id, uint64_t h)
{
  if (!g->cap)
    return NULL;
  for (size_t j = h & (g->cap - 1); g->slot[j]; j = (j + 1) & (g->cap - 1)) {
    struct seen *e = &g->e[g->slot[j] - 1];
    if (e->h == h && !strcmp(g->ids.ptr + e->id_off, id))
      return e;
  }
  return NULL;
}

static struct seen *reg_add(struct register_ *g, const char *id, uint64_t h)
{
  size_t j;
  if ((g->n + 1) * 2 > g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 1u << 16;
    uint32_t *slot = g->n < UINT32_MAX - 1 ? hmb_calloc(cap, sizeof(*slot)) : NULL;
    if (!slot)
      return NULL;
    for (size_t i = 0; i < g->n; i++) {
      for (j = g->e[i].h & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
        ;
      slot[j] = (uint32_t)(i + 1);
    }
    free(g->slot);
    g->slot = slot;
    g->cap = cap;
  }
  if (g->n == g->alloc) {
    size_t a = g->alloc ? g->alloc * 2 : 1u << 15;
    struct seen *ne = hmb_reallocarray(g->e, a, sizeof(*ne));
    if (!ne)
      return NULL;
    g->e = ne;
    g->alloc = a;
  }
  memset(&g->e[g->n], 0, sizeof(g->e[g->n]));
  g->e[g->n].h = h;
  g->e[g->n].id_off = g->ids.len;
  if (buf_add(&g->ids, id, strlen(id) + 1))
    return NULL;
  for (j = h & (g->cap - 1); g->slot[j]; j = (j + 1) & (g->cap - 1))
    ;
  g->slot[j] = (uint32_t)(g->n + 1);
  return &g->e[g->n++];
}

static void reg_release(struct register_ *g)
{
  free(g->slot);
  free(g->e);
  buf_release(&g->ids);
  buf_release(&g->packed);
}

static const struct adj_terms *terms_intern(struct bt_plan *bp, const struct adj_terms *t)
{
  struct adj_terms **nt, *copy;
  for (size_t i = 0; i < bp->nterms; i++)
    if (!memcmp(bp->terms[i], t, sizeof(*t)))
      return bp->terms[i];
  nt = hmb_reallocarray(bp->terms, bp->nterms + 1, sizeof(*nt));
  if (!nt)
    return NULL;
  bp->terms = nt;
  copy = hmb_malloc(sizeof(*copy));
  if (!copy)
    return NULL;
  *copy = *t;
  bp->terms[bp->nterms++] = copy;
  return copy;
}

/* The year state of person i under plan bp, made at its first settlement. */
static enum hmb_status state_of(struct bt_plan *bp, const struct people_entry *e, size_t i,
                                struct adj_state **out, struct hmb_err *err)
{
  struct adj_person who;
  struct adj_terms t;
  const struct adj_terms *ti;
  enum hmb_status result;
  if (bp->st[i]) {
    *out = bp->st[i];
    return HMB_OK;
  }
  people_adj_person(&bp->plan, e, &who);
  memset(&t, 0, sizeof(t));
  result = adj_terms_resolve(&bp->plan, &who, &t, err);
  if (result)
    return result;
  ti = terms_intern(bp, &t);
  bp->st[i] = ti ? hmb_calloc(1, bp->state_size) : NULL;
  if (!bp->st[i])
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  adj_state_init(&bp->plan, bp->st[i], ti);
  *out = bp->st[i];
  return HMB_OK;
}

/*
 * Take back a settlement under every plan: what it paid and what the
 * person bore leave the year. Refused (HMB_NOT_FOUND / HMB_CONFLICT /
 * HMB_INVALID) when the settlement is unknown, already reversed, or of
 * another person.
 */
static enum hmb_status reverse_row(struct bt_plan *bp, size_t nplans, struct register_ *reg,
                                   struct seen *seen, const struct people_entry *e, size_t idx,
                                   struct hmb_err *err)
{
  if (!seen)
    return hmb_err_set(err, HMB_NOT_FOUND, "reversal.unknown", "setl_id",
                       "冲销的结算不存在（该 setl_id 未曾结算）");
  if (seen->reversed)
    return hmb_err_set(err, HMB_CONFLICT, "reversal.repeated", "setl_id", "该结算已冲销");
  if (seen->person != idx)
    return hmb_err_set(err, HMB_INVALID, "reversal.person", "psn_no",
                       "冲销请求的人员编号与原结算不一致");
  for (size_t k = 0; k < nplans; k++) {
    struct adj_contrib c;
    struct adj_result res;
    struct adj_state *st;
    enum hmb_status result = state_of(&bp[k], e, idx, &st, err);
    memset(&c, 0, sizeof(c));
    if (!result && seen->contrib_off[k]) {
      const uint8_t *q = (const uint8_t *)reg->packed.ptr + seen->contrib_off[k] - 1;
      uint16_t n;
      memcpy(&n, q, sizeof(n));
      if (!adj_contrib_unpack(&bp[k].plan, q + 2, n, &c))
        BUG("a contribution packed here does not unpack");
    }
    if (!result)
      result = adj_reverse(&bp[k].plan, &st, 1, 0, &c, 0, &res, err);
    if (!result)
      result = bt_settlement(&bp[k].agg, idx, &res, -seen->own_cost, err);
    if (result)
      BUG("reversal of a settlement this run judged failed: %s", err->code);
  }
  seen->reversed = true;
  return HMB_OK;
}

static void bt_plan_release(struct bt_plan *bp, size_t npeople)
{
  if (bp->st)
    for (size_t i = 0; i < npeople; i++)
      if (bp->st[i]) {
        adj_state_release(bp->st[i]);
        free(bp->st[i]);
      }
  free(bp->st);
  for (size_t i = 0; i < bp->nterms; i++)
    free(bp->terms[i]);
  free(bp->terms);
  bt_release(&bp->agg);
  plan_release(&bp->plan);
}

/* "12.34" of an amount in fen. */
static const char *yuan(hmb_fen v, char *b)
{
  money_format(v, b);
  return b;
}

/* "62.31%" of basis points, "-" when undefined. */
static const char *pct(hmb_bp bp, char *b)
{
  if (bp < 0) {
    snprintf(b, 32, "-");
    return b;
  }
  ratio_format(bp, b);
  return b;
}

/* The groups with people (age bands or schemes): people, premium, paid, loss ratio, beneficiaries. */
static void print_groups(const struct bt_group *g, const char *const *names, int n, int width)
{
  char a[48], c[48], d[48];
  for (int i = 0; i < n; i++)
    if (g[i].people)
      printf("  %-*s %8" PRId64 " 人  %16s  %16s  %10s  %" PRId64 "\n", width, names[i],
             g[i].people, yuan(g[i].premium, a), yuan(g[i].paid, c), pct(g[i].loss_ratio, d),
             g[i].beneficiaries);
}

/* A distribution by bucket: people and amount. */
static void print_buckets(const struct bt_bucket *h)
{
  char a[48];
  for (int k = 0; k < BT_BUCKETS; k++)
    printf("  %-10s %8" PRId64 "  %16s\n", bt_bucket_name[k], h[k].people, yuan(h[k].amount, a));
}

static void print_text(const struct bt_plan *bp, const struct bt_report *r, const struct people *pp)
{
  const struct plan *p = &bp->plan;
  char a[48], c[48], d[48];
  printf("== %s（%s）\n", p->name ? p->name : p->id, p->id);
  printf("参保人数 %" PRId64 "，结算 %" PRId64 " 笔，有自付费用者 %" PRId64 " 人\n", r->people,
         r->settlements, r->people_with_costs);
  printf("保费收入 %s 元，已赚保费 %s 元\n", yuan(r->premium, a), yuan(r->earned_premium, c));
  printf("赔付 %s 元（合规费用 %s 元）\n", yuan(r->paid, a), yuan(r->eligible, c));
  printf("赔付率 %s（按已赚保费 %s）", pct(r->loss_ratio, a), pct(r->loss_ratio_earned, c));
  if (p->loss_ratio_target >= 0)
    printf("，目标 %s", pct(p->loss_ratio_target, d));
  printf("\n受益 %" PRId64 " 人，占参保人数 %s\n", r->beneficiaries, pct(r->beneficiary_share, a));
  printf("参保人自付 %s 元，赔付后 %s 元，减负 %s\n", yuan(r->own_cost, a),
         yuan(r->own_cost_after, c), pct(r->own_cost_reduction, d));
  printf("-- 各责任\n");
  for (int i = 0; i < r->nresp; i++)
    printf("  %-28s %16s 元  受益 %" PRId64 " 人\n", p->resp[i].id, yuan(r->paid_resp[i], a),
           r->beneficiaries_resp[i]);
  printf("-- 年龄段（保费、赔付、赔付率、受益人数）\n");
  print_groups(r->age, bt_age_band_name, BT_AGE_BANDS, 8);
  printf("-- 险种\n");
  print_groups(r->scheme, bt_scheme_name, BT_SCHEMES, 10);
  printf("-- 年度赔付额分布（元：人数、金额）\n");
  print_buckets(r->payout_hist);
  printf("-- 赔付后剩余自付分布（有自付费用者）\n");
  print_buckets(r->own_after_hist);
  printf("-- 最大的赔付\n");
  for (int k = 0; k < r->ntop; k++)
    printf("  %-24s %16s 元（自付 %s 元）\n", people_at(pp, r->top[k].person)->psn_no,
           yuan(r->top[k].paid, a), yuan(r->top[k].own_cost, c));
}

/* The members of a JSON object, one a group with people: "name":{...}. */
static void json_groups(struct buf *o, const struct bt_group *g, const char *const *names, int n)
{
  char a[48], c[48];
  for (int i = 0, k = 0; i < n; i++) {
    if (!g[i].people)
      continue;
    if (k++)
      buf_addch(o, ',');
    buf_add_json_str(o, names[i], strlen(names[i]));
    buf_addf(o,
             ":{\"people\":%" PRId64 ",\"beneficiaries\":%" PRId64
             ",\"premium\":\"%s\",\"paid\":\"%s\",\"loss_ratio_bp\":%d}",
             g[i].people, g[i].beneficiaries, yuan(g[i].premium, a), yuan(g[i].paid, c),
             (int)g[i].loss_ratio);
  }
}

/* The elements of a JSON array, one a bucket: {"bucket":...,"people":...,"amount":...}. */
static void json_buckets(struct buf *o, const struct bt_bucket *h)
{
  char a[48];
  for (int k = 0; k < BT_BUCKETS; k++)
    buf_addf(o, "%s{\"bucket\":\"%s\",\"people\":%" PRId64 ",\"amount\":\"%s\"}", k ? "," : "",
             bt_bucket_name[k], h[k].people, yuan(h[k].amount, a));
}

static void json_report(struct buf *o, const struct bt_plan *bp, const struct bt_report *r,
                        const struct people *pp)
{
  const struct plan *p = &bp->plan;
  char a[48], c[48];
  buf_addstr(o, "{\"plan_id\":");
  buf_add_json_str(o, p->id, strlen(p->id));
  buf_addf(o,
           ",\"people\":%" PRId64 ",\"settlements\":%" PRId64 ",\"people_with_costs\":%" PRId64
           ",\"beneficiaries\":%" PRId64 ",\"beneficiary_share_bp\":%d",
           r->people, r->settlements, r->people_with_costs, r->beneficiaries,
           (int)r->beneficiary_share);
  buf_addf(o, ",\"premium\":\"%s\",\"earned_premium\":\"%s\"", yuan(r->premium, a),
           yuan(r->earned_premium, c));
  buf_addf(o, ",\"eligible\":\"%s\",\"paid\":\"%s\"", yuan(r->eligible, a), yuan(r->paid, c));
  buf_addf(o, ",\"loss_ratio_bp\":%d,\"loss_ratio_earned_bp\":%d,\"loss_ratio_target_bp\":%d",
           (int)r->loss_ratio, (int)r->loss_ratio_earned, (int)p->loss_ratio_target);
  buf_addf(o, ",\"own_cost\":\"%s\",\"own_cost_after\":\"%s\",\"own_cost_reduction_bp\":%d",
           yuan(r->own_cost, a), yuan(r->own_cost_after, c), (int)r->own_cost_reduction);
  buf_addstr(o, ",\"by_responsibility\":{");
  for (int i = 0; i < r->nresp; i++) {
    if (i)
      buf_addch(o, ',');
    buf_add_json_str(o, p->resp[i].id, strlen(p->resp[i].id));
    buf_addf(o, ":{\"paid\":\"%s\",\"beneficiaries\":%" PRId64 "}", yuan(r->paid_resp[i], a),
             r->beneficiaries_resp[i]);
  }
  buf_addstr(o, "},\"by_age\":{");
  json_groups(o, r->age, bt_age_band_name, BT_AGE_BANDS);
  buf_addstr(o, "},\"by_scheme\":{");
  json_groups(o, r->scheme, bt_scheme_name, BT_SCHEMES);
  buf_addstr(o, "},\"payout_distribution\":[");
  json_buckets(o, r->payout_hist);
  buf_addstr(o, "],\"own_cost_after_distribution\":[");
  json_buckets(o, r->own_after_hist);
  buf_addstr(o, "],\"largest\":[");
  for (int k = 0; k < r->ntop; k++) {
    const char *psn = people_at(pp, r->top[k].person)->psn_no;
    buf_addstr(o, k ? ",{\"psn_no\":" : "{\"psn_no\":");
    buf_add_json_str(o, psn, strlen(psn));
    buf_addf(o, ",\"paid\":\"%s\",\"own_cost\":\"%s\"}", yuan(r->top[k].paid, a),
             yuan(r->top[k].own_cost, c));
  }
  buf_addstr(o, "]}");
}

int cmd_backtest(int argc, char **argv)
{
  const char *plan_path[BT_PLANS_MAX], *setl_path = NULL, *details = NULL, *people_path = NULL;
  const char *json_path = NULL, *params[64];
  size_t nplans = 0, nparams = 0, npeople = 0;
  struct bt_plan *bp = NULL;
  struct people *pp = NULL;
  struct setl_reader *rd = NULL;
  struct settlement s;
  struct hmb_err err;
  struct buf json = BUF_INIT((size_t)64 << 20);
  struct register_ reg = {
      NULL, 0, NULL, 0, 0, BUF_INIT((size_t)8 << 30), BUF_INIT((size_t)16 << 30)};
  bool allow_draft = false, eof = false;
  hmb_date data_end = INT32_MIN, last_day = INT32_MIN;
  int64_t top_n = 20, rows = 0, bad = 0, not_enrolled = 0, reversals = 0, repeated = 0;
  int rc = 0;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--allow-draft")) {
      allow_draft = true;
      continue;
    }
    if (!v)
      goto usage;
    i++;
    if (!strcmp(a, "--plan") && nplans < BT_PLANS_MAX)
      plan_path[nplans++] = v;
    else if (!strcmp(a, "--settlements"))
      setl_path = v;
    else if (!strcmp(a, "--details"))
      details = v;
    else if (!strcmp(a, "--people"))
      people_path = v;
    else if (!strcmp(a, "--json"))
      json_path = v;
    else if (!strcmp(a, "--param") && nparams < ARRAY_SIZE(params))
      params[nparams++] = v;
    else if (!strcmp(a, "--top")) {
      hmb_err_init(&err);
      if (str_to_i64(v, strlen(v), 0, BT_TOP_MAX, &top_n, "--top", &err)) {
        cli_print_err("hmb backtest", &err);
        return 2;
      }
    } else if (!strcmp(a, "--data-end")) {
      hmb_err_init(&err);
      if (date_parse(v, strlen(v), &data_end, "--data-end", &err)) {
        cli_print_err("hmb backtest", &err);
        return 2;
      }
    } else
      goto usage;
  }
  if (!nplans || !setl_path || !people_path)
    goto usage;

  hmb_err_init(&err);
  bp = hmb_calloc(nplans, sizeof(*bp));
  if (!bp) {
    fprintf(stderr, "hmb backtest: 内存不足\n");
    return 2;
  }
  for (size_t k = 0; k < nplans; k++)
    plan_init(&bp[k].plan);
  if (people_load(&pp, people_path, cli_report, NULL, &err)) {
    cli_print_err(people_path, &err);
    rc = 2;
    goto done;
  }
  npeople = people_count(pp);
  for (size_t k = 0; k < nplans; k++) {
    struct plan *p = &bp[k].plan;
    if (plan_load(p, plan_path[k], cli_report_path, &plan_path[k], &err)) {
      fprintf(stderr, "hmb backtest: %s：产品方案无效\n", plan_path[k]);
      rc = 2;
      goto done;
    }
    if (p->draft && !allow_draft) {
      fprintf(stderr, "hmb backtest: %s 是草案（status: draft），仅供测试时加 --allow-draft\n",
              plan_path[k]);
      rc = 2;
      goto done;
    }
    if (p->has_family_scope) {
      fprintf(stderr, "hmb backtest: %s 含家庭共用的免赔额或限额，回测尚不支持\n", plan_path[k]);
      rc = 2;
      goto done;
    }
    for (size_t i = 0; i < nparams; i++)
      if (plan_set_param(p, params[i], &err)) {
        cli_print_err(plan_path[k], &err);
        rc = 2;
        goto done;
      }
    bt_init(&bp[k].agg, p);
    bp[k].state_size = adj_state_size(p);
    bp[k].st = hmb_calloc(npeople ? npeople : 1, sizeof(*bp[k].st));
    if (!bp[k].st) {
      fprintf(stderr, "hmb backtest: 内存不足\n");
      rc = 2;
      goto done;
    }
    for (size_t i = 0; i < npeople; i++) {
      const struct people_entry *e = people_at(pp, i);
      hmb_fen premium = 0;
      struct adj_person who;
      people_adj_person(p, e, &who);
      /* the first premium group of the plan the person is in, else the
       * age band: the file does not say which group a person paid in */
      if (plan_premium(p, who.age < 0 ? 0 : who.age, e->groups, &premium, &err) ||
          bt_person(&bp[k].agg, i, who.age, e->insutype, premium, &err)) {
        cli_print_err(e->psn_no, &err);
        rc = 2;
        goto done;
      }
    }
  }

  if (setl_reader_open(&rd, setl_path, SETL_FMT_AUTO, details, &err)) {
    cli_print_err("hmb backtest", &err);
    rc = 2;
    goto done;
  }
  for (;;) {
    const struct people_entry *e;
    struct seen *seen;
    uint64_t h;
    size_t idx;
    enum hmb_status result = setl_reader_next(rd, &s, &eof, &err);
    if (!result && eof)
      break;
    if (result == HMB_IO || result == HMB_NOMEM) {
      cli_print_err("hmb backtest", &err);
      rc = 2;
      goto done;
    }
    rows++;
    if (!result)
      result = settlement_validate(&s, &err);
    if (result) {
      if (bad++ < 20)
        cli_print_err("", &err);
      continue;
    }
    e = people_find(pp, s.psn_no, strlen(s.psn_no));
    if (!e) {
      not_enrolled++;
      continue;
    }
    idx = people_index(pp, e);
    h = id_hash(s.setl_id, strlen(s.setl_id));
    seen = reg_find(&reg, s.setl_id, h);
    if (s.kind == SETL_REVERSAL) {
      result = reverse_row(bp, nplans, &reg, seen, e, idx, &err);
      if (result) {
        if (bad++ < 20)
          cli_print_err(s.setl_id, &err);
        continue;
      }
      reversals++;
      continue;
    }
    if (seen) {
      repeated++;
      if (bad++ < 20)
        fprintf(stderr, "%s: 重复的结算 setl_id，未计入 (setl.duplicate)\n", s.setl_id);
      continue;
    }
    if (time_date(s.setl_time) > last_day)
      last_day = time_date(s.setl_time);
    seen = reg_add(&reg, s.setl_id, h);
    if (!seen)
      goto nomem;
    seen->person = idx;
    seen->own_cost = s.psn_part_amt;
    for (size_t k = 0; k < nplans; k++) {
      struct adj_state *st;
      struct adj_result res;
      uint8_t pk[ADJ_CONTRIB_PACKED_MAX];
      uint16_t n;
      if (state_of(&bp[k], e, idx, &st, &err)) {
        cli_print_err(e->psn_no, &err);
        rc = 2;
        goto done;
      }
      plan_mark_lines(&bp[k].plan, s.lines, s.nlines);
      if (adj_settle(&bp[k].plan, &st, 1, 0, &s, ADJ_NO_DED_BEFORE, &res, &err)) {
        cli_print_err(s.setl_id, &err);
        rc = 2; /* a valid row the engine cannot judge: a broken invariant */
        goto done;
      }
      n = (uint16_t)adj_contrib_pack(&bp[k].plan, &res.contrib, pk);
      if (n) {
        seen->contrib_off[k] = reg.packed.len + 1;
        if (buf_add(&reg.packed, &n, sizeof(n)) || buf_add(&reg.packed, pk, n))
          goto nomem;
      }
      if (bt_settlement(&bp[k].agg, idx, &res, s.psn_part_amt, &err)) {
        cli_print_err(s.setl_id, &err);
        rc = 2;
        goto done;
      }
    }
  }
  if (data_end == INT32_MIN)
    data_end = last_day;

  buf_addstr(&json, "{\"rows\":");
  buf_addf(&json,
           "%" PRId64 ",\"rejected\":%" PRId64 ",\"repeated\":%" PRId64 ",\"not_enrolled\":%" PRId64
           ",\"reversals\":%" PRId64 ",\"plans\":[",
           rows, bad, repeated, not_enrolled, reversals);
  printf("结算记录 %" PRId64 " 行：有误 %" PRId64 "（其中重复 %" PRId64 "），非参保人 %" PRId64
         "，冲销 %" PRId64 "\n",
         rows, bad, repeated, not_enrolled, reversals);
  for (size_t k = 0; k < nplans; k++) {
    static struct bt_report r;
    struct plan *p = &bp[k].plan;
    bt_finish(&bp[k].agg, p->cover_start, p->cover_end,
              data_end == INT32_MIN ? p->cover_start - 1 : data_end, (int)top_n, &r);
    print_text(&bp[k], &r, pp);
    if (k)
      buf_addch(&json, ',');
    json_report(&json, &bp[k], &r, pp);
  }
  if (buf_addstr(&json, "]}\n")) {
    fprintf(stderr, "hmb backtest: 内存不足\n");
    rc = 2;
    goto done;
  }
  if (json_path) {
    FILE *f = fopen(json_path, "w");
    if (!f || fwrite(json.ptr, 1, json.len, f) != json.len || fclose(f)) {
      fprintf(stderr, "hmb backtest: 无法写入 %s\n", json_path);
      rc = 2;
      goto done;
    }
  }
  rc = bad ? 1 : 0;
  goto done;
nomem:
  fprintf(stderr, "hmb backtest: 内存不足\n");
  rc = 2;
done:
  reg_release(&reg);
  setl_reader_free(rd);
  if (bp)
    for (size_t k = 0; k < nplans; k++)
      bt_plan_release(&bp[k], npeople);
  free(bp);
  people_free(pp);
  buf_release(&json);
  return rc;
usage:
  fputs(backtest_usage, stderr);
  return 2;
}

#include "compat.h"
#include "profile.h"

/*
 * The checks of the profile vocabulary. Each one reads a finished plan and
 * reports violations with the plan file's JSON path; none of them changes
 * the plan. Where a figure depends on the person (a deductible or cap taken
 * from an outside parameter per scheme, a variant for 既往症 or loyalty),
 * every value the plan can take is checked and the worst one is reported.
 */

static const struct {
  const char *name;
  unsigned params;
} checks[PROFILE__COUNT] = {
    [PROFILE_DEDUCTIBLE_MAX] = {"deductible_max", PROFILE_P_AMOUNT},
    [PROFILE_RATIO_MIN] = {"ratio_min", PROFILE_P_RATIO},
    [PROFILE_CAP_MIN] = {"cap_min", PROFILE_P_AMOUNT | PROFILE_P_SCOPE},
    [PROFILE_PREMIUM_AVG_MAX] = {"premium_avg_max", PROFILE_P_AMOUNT | PROFILE_P_TIER},
    [PROFILE_LOSS_RATIO_TARGET_MIN] = {"loss_ratio_target_min", PROFILE_P_RATIO},
    [PROFILE_TERM_YEARS_MIN] = {"term_years_min", PROFILE_P_YEARS},
};

const char *regprofile_check_name(enum profile_check_kind k)
{
  return (unsigned)k < PROFILE__COUNT ? checks[k].name : "?";
}

int regprofile_check_find(const char *name)
{
  int i;
  for (i = 0; i < PROFILE__COUNT; i++)
    if (!strcmp(checks[i].name, name))
      return i;
  return -1;
}

unsigned regprofile_check_params(enum profile_check_kind k)
{
  return (unsigned)k < PROFILE__COUNT ? checks[k].params : 0;
}

void regprofile_init(struct profile *pr)
{
  memset(pr, 0, sizeof(*pr));
}

void regprofile_release(struct profile *pr)
{
  int i;
  free(pr->name);
  free(pr->source);
  for (i = 0; i < pr->nrules; i++)
    free(pr->rules[i].message);
  regprofile_init(pr);
}

enum hmb_status regprofile_validate(const struct profile *pr, struct hmb_err *err)
{
  char field[64];
  int i, j;
  if (!plan_valid_id(pr->id))
    return hmb_err_set(err, HMB_INVALID, "profile.id", "id",
                       "规则集ID只能由小写字母、数字、下划线、连字符组成");
  if (!pr->name || !*pr->name)
    return hmb_err_set(err, HMB_INVALID, "profile.missing", "name", "缺少规则集名称");
  if (!pr->source || !*pr->source)
    return hmb_err_set(err, HMB_INVALID, "profile.missing", "source", "缺少规则来源");
  if (pr->nrules <= 0)
    return hmb_err_set(err, HMB_INVALID, "profile.missing", "rules", "至少需要一条规则");
  if (pr->nrules > PROFILE_MAX_RULES)
    return hmb_err_set(err, HMB_INVALID, "profile.too_many", "rules", "规则最多 %d 条",
                       PROFILE_MAX_RULES);
  for (i = 0; i < pr->nrules; i++) {
    const struct profile_rule *r = &pr->rules[i];
    unsigned params;
    snprintf(field, sizeof(field), "rules[%d].id", i);
    if (!plan_valid_id(r->id))
      return hmb_err_set(err, HMB_INVALID, "profile.id", field,
                         "规则ID只能由小写字母、数字、下划线、连字符组成");
    for (j = 0; j < i; j++)
      if (!strcmp(pr->rules[j].id, r->id))
        return hmb_err_set(err, HMB_INVALID, "profile.duplicate_id", field, "规则ID“%s”重复",
                           r->id);
    snprintf(field, sizeof(field), "rules[%d].check", i);
    if ((unsigned)r->check >= PROFILE__COUNT)
      return hmb_err_set(err, HMB_INVALID, "profile.check", field, "未知的检查项");
    snprintf(field, sizeof(field), "rules[%d].message", i);
    if (!r->message || !*r->message)
      return hmb_err_set(err, HMB_INVALID, "profile.missing", field, "缺少规则依据原文");
    if (strlen(r->message) > PROFILE_MESSAGE_MAX)
      return hmb_err_set(err, HMB_INVALID, "profile.message_length", field,
                         "规则依据原文过长（最多 %d 字节）", PROFILE_MESSAGE_MAX);
    params = checks[r->check].params;
    if (params & PROFILE_P_AMOUNT) {
      snprintf(field, sizeof(field), "rules[%d].amount", i);
      if (r->amount < 0 || r->amount > HMB_FEN_LIMIT)
        return hmb_err_set(err, HMB_INVALID, "profile.amount", field, "金额应为非负数");
    }
    if (params & PROFILE_P_RATIO) {
      snprintf(field, sizeof(field), "rules[%d].ratio", i);
      if (r->ratio < 0 || r->ratio > HMB_BP_ONE)
        return hmb_err_set(err, HMB_INVALID, "profile.ratio", field, "比例应在 0%% 到 100%% 之间");
    }
    if (params & PROFILE_P_YEARS) {
      snprintf(field, sizeof(field), "rules[%d].years", i);
      if (r->years < 1 || r->years > 100)
        return hmb_err_set(err, HMB_INVALID, "profile.years", field, "年限应在 1 到 100 之间");
    }
    if (params & PROFILE_P_SCOPE) {
      snprintf(field, sizeof(field), "rules[%d].scope", i);
      if (r->scope != PROFILE_CAP_TOTAL && r->scope != PROFILE_CAP_EACH)
        return hmb_err_set(err, HMB_INVALID, "profile.scope", field, "scope 无效");
    }
    if (params & PROFILE_P_TIER) {
      snprintf(field, sizeof(field), "rules[%d].tier", i);
      if (r->tier != TIER_BASIC && r->tier != TIER_UPGRADED)
        return hmb_err_set(err, HMB_INVALID, "profile.tier", field, "tier 无效");
    }
  }
  return HMB_OK;
}

/* ---- reporting ---- */

struct vctx {
  const struct profile_rule *rule;
  plan_report_fn report;
  void *ctx;
  int n;
};

static void HMB_PRINTF(3, 4) violation(struct vctx *vc, const char *field, const char *fmt, ...)
{
  struct hmb_err e;
  char code[HMB_ERR_CODE_MAX];
  char msg[HMB_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  hmb_utf8_truncate(msg, sizeof(msg));
  snprintf(code, sizeof(code), "profile.%s", vc->rule->id);
  hmb_err_init(&e);
  hmb_err_set(&e, HMB_INVALID, code, field, "%s（%s）", msg, vc->rule->message);
  vc->n++;
  if (vc->report)
    vc->report(vc->ctx, &e);
}

struct money_text {
  char s[HMB_MONEY_TEXT_MAX];
};

static struct money_text M(hmb_fen v) {
  struct money_text t = {{0}};
  money_format(v, t.s);
  return t;
}

struct ratio_text {
  char s[16];
};

static struct ratio_text R(hmb_bp v) {
  struct ratio_text t = {{0}};
  ratio_format(v, t.s);
  return t;
}

/* ---- amounts that may depend on the scheme ---- */

/*
 * The extreme value an amount can take: its fixed value, or over every
 * scheme value of its parameter and the parameter's default. `scheme` is 0
 * for a fixed amount or the default, else the scheme code. Returns false
 * when the amount has no value at all.
 */
static bool
amount_extreme(const struct plan *p, const struct plan_amount *a, bool want_max, hmb_fen *out,
               int32_t *scheme)
{
  const struct plan_param *pp;
  bool have = false;
  int i;
  *scheme = 0;
  if (a->param < 0) {
    *out = a->value;
    return a->value >= 0;
  }
  pp = &p->params[a->param];
  if (pp->value >= 0) {
    *out = pp->value;
    have = true;
  }
  for (i = 0; i < pp->nschemes; i++)
    if (!have || (want_max ? pp->by_scheme[i] > *out : pp->by_scheme[i] < *out)) {
      *out = pp->by_scheme[i];
      *scheme = pp->schemes[i];
      have = true;
    }
  return have;
}

/* "" for a fixed amount, "（参数 X，险种 310）" / "（参数 X 默认值）" otherwise. */
static void amount_origin(const struct plan *p, const struct plan_amount *a, int32_t scheme,
                          char *buf, size_t size)
{
  if (a->param < 0)
    buf[0] = '\0';
  else if (scheme)
    snprintf(buf, size, "（参数“%s”，险种 %d）", p->params[a->param].id, (int)scheme);
  else
    snprintf(buf, size, "（参数“%s”默认值）", p->params[a->param].id);
}

static bool pool_has_indemnity(const struct plan *p, int k)
{
  int i;
  for (i = 0; i < p->pools[k].nmembers; i++)
    if (p->resp[p->pools[k].members[i]].kind == RESP_INDEMNITY)
      return true;
  return false;
}

/* JSON path of pool k's amount, and what to call it in a message. */
static void pool_where(const struct plan *p, int k, char *field, size_t fsize, char *what,
                       size_t wsize)
{
  const struct plan_pool *pool = &p->pools[k];
  int i, nexplicit = 0;
  if (pool->implicit) {
    int r = pool->members[0];
    snprintf(field, fsize, "responsibilities[%d].deductible", r);
    snprintf(what, wsize, "责任“%s”的起付线", p->resp[r].name ? p->resp[r].name : p->resp[r].id);
    return;
  }
  for (i = 0; i < k; i++)
    if (!p->pools[i].implicit)
      nexplicit++;
  snprintf(field, fsize, "deductible_pools[%d].amount", nexplicit);
  snprintf(what, wsize, "共用起付线“%s”", pool->id);
}

static const char *variant_name(const struct plan_variant *v)
{
  return v->note && *v->note ? v->note : "变体";
}

/* ---- deductible_max ---- */

static void check_deductible_max(struct vctx *vc, const struct plan *p)
{
  hmb_fen max = vc->rule->amount;
  char field[HMB_ERR_FIELD_MAX], what[160], origin[96];
  int k, v;

  for (k = 0; k < p->npools; k++) {
    hmb_fen worst;
    int32_t scheme;
    if (!pool_has_indemnity(p, k) || !amount_extreme(p, &p->pools[k].amount, true, &worst, &scheme))
      continue;
    if (worst <= max)
      continue;
    pool_where(p, k, field, sizeof(field), what, sizeof(what));
    amount_origin(p, &p->pools[k].amount, scheme, origin, sizeof(origin));
    violation(vc, field, "%s %s 元%s高于上限 %s 元", what, M(worst).s, origin, M(max).s);
  }

  for (v = 0; v < p->nvariants; v++) {
    const struct plan_variant *var = &p->variants[v];
    const struct plan_amount *base;
    hmb_fen worst = -1, b;
    int i;
    if (var->pool < 0 || (var->deductible < 0 && var->deductible_delta == 0) ||
        !pool_has_indemnity(p, var->pool))
      continue;
    base = &p->pools[var->pool].amount;
    /* every base value the delta may be added to */
    for (i = -1; i < (base->param < 0 ? 0 : p->params[base->param].nschemes); i++) {
      hmb_fen d;
      if (var->deductible >= 0)
        b = var->deductible;
      else if (base->param < 0)
        b = base->value;
      else if (i < 0)
        b = p->params[base->param].value;
      else
        b = p->params[base->param].by_scheme[i];
      if (b < 0)
        continue;
      d = b + var->deductible_delta;
      if (d < 0)
        d = 0;
      if (d > worst)
        worst = d;
    }
    if (worst <= max)
      continue;
    pool_where(p, var->pool, field, sizeof(field), what, sizeof(what));
    snprintf(field, sizeof(field), "variants[%d]", v);
    violation(vc, field, "%s：%s调整为 %s 元，高于上限 %s 元", variant_name(var), what, M(worst).s,
              M(max).s);
  }
}

/* ---- ratio_min ---- */

static void band_field(const struct plan *p, int i, int j, char *field, size_t size)
{
  const struct plan_resp *r = &p->resp[i];
  if (r->nbands == 1 && r->bands[0].from == 0 && r->bands[0].to < 0)
    snprintf(field, size, "responsibilities[%d].ratio", i);
  else
    snprintf(field, size, "responsibilities[%d].bands[%d].ratio", i, j);
}

static void check_ratio_min(struct vctx *vc, const struct plan *p)
{
  hmb_bp min = vc->rule->ratio;
  char field[HMB_ERR_FIELD_MAX];
  int i, j, v;

  for (i = 0; i < p->nresp; i++) {
    const struct plan_resp *r = &p->resp[i];
    if (r->kind != RESP_INDEMNITY)
      continue;
    for (j = 0; j < r->nbands; j++) {
      const struct plan_band *b = &r->bands[j];
      if (b->ratio <= 0 || b->ratio >= min)
        continue;
      band_field(p, i, j, field, sizeof(field));
      if (r->nbands == 1)
        violation(vc, field, "责任“%s”赔付比例 %s 低于下限 %s", r->name ? r->name : r->id,
                  R(b->ratio).s, R(min).s);
      else
        violation(vc, field, "责任“%s”第 %d 段赔付比例 %s 低于下限 %s", r->name ? r->name : r->id,
                  j + 1, R(b->ratio).s, R(min).s);
    }
  }

  for (v = 0; v < p->nvariants; v++) {
    const struct plan_variant *var = &p->variants[v];
    const struct plan_resp *r;
    hmb_bp worst = HMB_BP_ONE + 1;
    if (var->resp < 0 || var->excluded || (var->ratio < 0 && var->ratio_delta == 0))
      continue;
    r = &p->resp[var->resp];
    if (r->kind != RESP_INDEMNITY)
      continue;
    for (j = 0; j < r->nbands; j++) {
      int32_t x = (var->ratio >= 0 ? var->ratio : r->bands[j].ratio) + var->ratio_delta;
      if (x < 0)
        x = 0;
      if (x > HMB_BP_ONE)
        x = HMB_BP_ONE;
      if (x > 0 && x < worst)
        worst = x;
    }
    if (worst > HMB_BP_ONE || worst >= min)
      continue;
    snprintf(field, sizeof(field), "variants[%d]", v);
    violation(vc, field, "%s：责任“%s”赔付比例调整为 %s，低于下限 %s", variant_name(var),
              r->name ? r->name : r->id, R(worst).s, R(min).s);
  }
}

/* ---- cap_min ---- */

#define UNLIMITED (-1)

/*
 * The largest yearly payout one person of scheme `insutype` can get, with
 * variant `vi` applied (-1: none): the sum over responsibilities of their
 * caps, where a shared cap replaces the sum of its members by min(shared,
 * sum) and an exclusive group counts only its largest member. A
 * responsibility without any cap is unlimited; a lump sum is bounded by its
 * amount times its number of payments. HMB_NOT_FOUND when a parameter has
 * no value for the scheme.
 */
static enum hmb_status cap_total(const struct plan *p, int32_t insutype, int vi, hmb_fen *out)
{
  hmb_fen c[PLAN_MAX_RESP], total = 0;
  bool shared[PLAN_MAX_RESP];
  const struct plan_variant *var = vi >= 0 ? &p->variants[vi] : NULL;
  int i, k;

  for (i = 0; i < p->nresp; i++) {
    const struct plan_resp *r = &p->resp[i];
    c[i] = UNLIMITED;
    shared[i] = false;
    if ((r->cap.param >= 0 || r->cap.value >= 0) &&
        plan_amount_value(p, &r->cap, insutype, &c[i], NULL))
      return HMB_NOT_FOUND;
    if (var && var->resp == i) {
      if (var->excluded)
        c[i] = 0;
      else if (var->cap >= 0)
        c[i] = var->cap;
    }
    if (r->kind == RESP_LUMP_SUM) {
      hmb_fen lump = r->lump_amount * (hmb_fen)r->lump_max_times;
      if (c[i] == UNLIMITED || lump < c[i])
        c[i] = lump;
    }
  }
  for (k = 0; k < p->ngroups; k++) {
    const struct plan_group *g = &p->groups[k];
    int best = g->members[0];
    for (i = 1; i < g->nmembers; i++) {
      int m = g->members[i];
      if (c[best] != UNLIMITED && (c[m] == UNLIMITED || c[m] > c[best]))
        best = m;
    }
    for (i = 0; i < g->nmembers; i++)
      if (g->members[i] != best)
        c[g->members[i]] = 0;
  }
  for (k = 0; k < p->ncaps; k++) {
    const struct plan_cap *cap = &p->caps[k];
    hmb_fen amount, sum = 0;
    if (plan_amount_value(p, &cap->amount, insutype, &amount, NULL))
      return HMB_NOT_FOUND;
    for (i = 0; i < cap->nmembers; i++) {
      int m = cap->members[i];
      shared[m] = true;
      if (sum != UNLIMITED)
        sum = c[m] == UNLIMITED ? UNLIMITED : sum + c[m];
    }
    total += sum == UNLIMITED || amount < sum ? amount : sum;
  }
  for (i = 0; i < p->nresp; i++) {
    if (shared[i])
      continue;
    if (c[i] == UNLIMITED) {
      *out = UNLIMITED;
      return HMB_OK;
    }
    total += c[i];
  }
  *out = total;
  return HMB_OK;
}

static void add_scheme(int32_t *set, int *n, int32_t s)
{
  int i;
  for (i = 0; i < *n; i++)
    if (set[i] == s)
      return;
  if (*n < PLAN_MAX_PARAMS * PLAN_MAX_CODES)
    set[(*n)++] = s;
}

static void add_param_schemes(const struct plan *p, const struct plan_amount *a, int32_t *set,
                              int *n)
{
  int i;
  if (a->param < 0)
    return;
  for (i = 0; i < p->params[a->param].nschemes; i++)
    add_scheme(set, n, p->params[a->param].schemes[i]);
}

/* Smallest cap_total over the schemes that make a difference; false when
 * no scheme could be evaluated. */
static bool cap_total_worst(const struct plan *p, int vi, hmb_fen *out, int32_t *scheme)
{
  int32_t set[PLAN_MAX_PARAMS * PLAN_MAX_CODES];
  int n = 0, i, k;
  bool have = false;
  set[n++] = 0; /* a scheme no parameter names: defaults */
  for (i = 0; i < p->nresp; i++)
    add_param_schemes(p, &p->resp[i].cap, set, &n);
  for (k = 0; k < p->ncaps; k++)
    add_param_schemes(p, &p->caps[k].amount, set, &n);
  for (i = 0; i < n; i++) {
    hmb_fen t;
    if (cap_total(p, set[i], vi, &t))
      continue;
    if (!have || (t != UNLIMITED && (*out == UNLIMITED || t < *out))) {
      *out = t;
      *scheme = set[i];
      have = true;
    }
  }
  return have;
}

static void check_cap_total(struct vctx *vc, const struct plan *p)
{
  hmb_fen min = vc->rule->amount, worst = 0;
  int32_t scheme = 0;
  char field[32], origin[48];
  int v;

  if (cap_total_worst(p, -1, &worst, &scheme) && worst != UNLIMITED && worst < min) {
    if (scheme)
      snprintf(origin, sizeof(origin), "（险种 %d）", (int)scheme);
    else
      origin[0] = '\0';
    violation(vc, "responsibilities", "一人全年最高可获赔付合计 %s 元%s低于下限 %s 元", M(worst).s,
              origin, M(min).s);
  }
  for (v = 0; v < p->nvariants; v++) {
    const struct plan_variant *var = &p->variants[v];
    if (var->resp < 0 || (!var->excluded && var->cap < 0))
      continue;
    if (!cap_total_worst(p, v, &worst, &scheme) || worst == UNLIMITED || worst >= min)
      continue;
    snprintf(field, sizeof(field), "variants[%d]", v);
    violation(vc, field, "%s：一人全年最高可获赔付合计降为 %s 元，低于下限 %s 元",
              variant_name(var), M(worst).s, M(min).s);
  }
}

static void check_cap_each(struct vctx *vc, const struct plan *p)
{
  hmb_fen min = vc->rule->amount;
  char field[HMB_ERR_FIELD_MAX], origin[96];
  int i, k, v;

  for (i = 0; i < p->nresp; i++) {
    const struct plan_resp *r = &p->resp[i];
    hmb_fen worst;
    int32_t scheme;
    if (r->kind != RESP_INDEMNITY || !amount_extreme(p, &r->cap, false, &worst, &scheme) ||
        worst >= min)
      continue;
    snprintf(field, sizeof(field), "responsibilities[%d].cap", i);
    amount_origin(p, &r->cap, scheme, origin, sizeof(origin));
    violation(vc, field, "责任“%s”封顶线 %s 元%s低于下限 %s 元", r->name ? r->name : r->id,
              M(worst).s, origin, M(min).s);
  }
  for (k = 0; k < p->ncaps; k++) {
    const struct plan_cap *cap = &p->caps[k];
    hmb_fen worst;
    int32_t scheme;
    bool indemnity = false;
    for (i = 0; i < cap->nmembers; i++)
      indemnity |= p->resp[cap->members[i]].kind == RESP_INDEMNITY;
    if (!indemnity || !amount_extreme(p, &cap->amount, false, &worst, &scheme) || worst >= min)
      continue;
    snprintf(field, sizeof(field), "shared_caps[%d].amount", k);
    amount_origin(p, &cap->amount, scheme, origin, sizeof(origin));
    violation(vc, field, "共享封顶线“%s” %s 元%s低于下限 %s 元", cap->id, M(worst).s, origin,
              M(min).s);
  }
  for (v = 0; v < p->nvariants; v++) {
    const struct plan_variant *var = &p->variants[v];
    const struct plan_resp *r;
    if (var->resp < 0 || var->excluded || var->cap < 0 || var->cap >= min)
      continue;
    r = &p->resp[var->resp];
    if (r->kind != RESP_INDEMNITY)
      continue;
    snprintf(field, sizeof(field), "variants[%d]", v);
    violation(vc, field, "%s：责任“%s”封顶线调整为 %s 元，低于下限 %s 元", variant_name(var),
              r->name ? r->name : r->id, M(var->cap).s, M(min).s);
  }
}

/* ---- premium_avg_max ---- */

/* Write v (in 1/10000 fen, v >= 0) as yuan with as many decimals as it needs. */
static void format_fen_e4(hmb_i128 v, char *buf, size_t size)
{
  char whole[HMB_MONEY_TEXT_MAX];
  int frac = (int)(v % 10000), digits = 4;
  money_format((hmb_fen)(v / 10000), whole);
  if (!frac) {
    snprintf(buf, size, "%s", whole);
    return;
  }
  while (frac % 10 == 0) {
    frac /= 10;
    digits--;
  }
  snprintf(buf, size, "%s%0*d", whole, digits, frac);
}

static void check_premium_avg_max(struct vctx *vc, const struct plan *p)
{
  const struct profile_rule *rule = vc->rule;
  hmb_i128 weighted = 0;
  int32_t shares = 0;
  bool all_shares = p->npremium_bands > 0, any_share = false;
  char field[64], text[48];
  const char *tier = rule->tier == TIER_UPGRADED ? "升级保障" : "基础保障";
  int i, top = -1;

  if (p->tier != rule->tier)
    return;
  for (i = 0; i < p->npremium_bands; i++) {
    const struct plan_premium_band *b = &p->premium_bands[i];
    if (b->expected_share < 0) {
      all_shares = false;
    } else {
      any_share = true;
      shares += b->expected_share;
      weighted += (hmb_i128)b->amount * b->expected_share;
    }
    if (top < 0 || b->amount > p->premium_bands[top].amount)
      top = i;
  }
  if (top < 0)
    return;
  if (p->npremium_bands == 1) {
    /* one premium for every age: it is the average */
    if (p->premium_bands[0].amount <= rule->amount)
      return;
    violation(vc, "premiums.bands[0].amount", "%s统一保费 %s 元高于平均保费上限 %s 元", tier,
              M(p->premium_bands[0].amount).s, M(rule->amount).s);
    return;
  }
  if (all_shares && shares == HMB_BP_ONE) {
    /* avg = weighted / 10000: compare avg * 10000 with amount * 10000 */
    if (weighted <= (hmb_i128)rule->amount * HMB_BP_ONE)
      return;
    format_fen_e4(weighted, text, sizeof(text));
    violation(vc, "premiums.bands", "%s平均保费 %s 元（按各档参保人占比加权）高于上限 %s 元", tier,
              text, M(rule->amount).s);
    return;
  }
  if (p->premium_bands[top].amount <= rule->amount)
    return;
  snprintf(field, sizeof(field), "premiums.bands[%d].amount", top);
  violation(vc, field, "%s最高档保费 %s 元高于平均保费上限 %s 元（%s，按最高档保守判断）", tier,
            M(p->premium_bands[top].amount).s, M(rule->amount).s,
            any_share ? "各档参保人占比不完整或合计不为100%" : "各档未载明参保人占比");
}

/* ---- loss_ratio_target_min, term_years_min ---- */

static void check_loss_ratio(struct vctx *vc, const struct plan *p)
{
  if (p->loss_ratio_target < 0)
    violation(vc, "loss_ratio_target", "未载明目标赔付率，无法确认不低于 %s", R(vc->rule->ratio).s);
  else if (p->loss_ratio_target < vc->rule->ratio)
    violation(vc, "loss_ratio_target", "目标赔付率 %s 低于下限 %s", R(p->loss_ratio_target).s,
              R(vc->rule->ratio).s);
}

static void check_term_years(struct vctx *vc, const struct plan *p)
{
  if (p->term_years <= 0)
    violation(vc, "term_years", "未载明承保期限，无法确认不少于 %d 年", vc->rule->years);
  else if (p->term_years < vc->rule->years)
    violation(vc, "term_years", "承保期限 %d 年少于 %d 年", p->term_years, vc->rule->years);
}

enum hmb_status regprofile_check(const struct profile *pr, const struct plan *p,
                                 plan_report_fn report, void *ctx, int *violations)
{
  struct vctx vc = {NULL, report, ctx, 0};
  int i;
  for (i = 0; i < pr->nrules; i++) {
    vc.rule = &pr->rules[i];
    switch (vc.rule->check) {
    case PROFILE_DEDUCTIBLE_MAX: check_deductible_max(&vc, p); break;
    case PROFILE_RATIO_MIN: check_ratio_min(&vc, p); break;
    case PROFILE_CAP_MIN:
      if (vc.rule->scope == PROFILE_CAP_EACH)
        check_cap_each(&vc, p);
      else
        check_cap_total(&vc, p);
      break;
    case PROFILE_PREMIUM_AVG_MAX: check_premium_avg_max(&vc, p); break;
    case PROFILE_LOSS_RATIO_TARGET_MIN: check_loss_ratio(&vc, p); break;
    case PROFILE_TERM_YEARS_MIN: check_term_years(&vc, p); break;
    case PROFILE__COUNT:
    default: BUG("profile rule %d has check %d", i, (int)vc.rule->check);
    }
  }
  if (violations)
    *violations = vc.n;
  return HMB_OK;
}

#include "compat.h"
#include "plan.h"

static const char *const comp_names[COMP__COUNT] = {
    "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
    "inscp_selfpay",     "psn_part_amt",    "act_pay_dedc",
};

const char *plan_component_name(enum plan_component c)
{
  return (unsigned)c < COMP__COUNT ? comp_names[c] : "?";
}

void plan_init(struct plan *p)
{
  memset(p, 0, sizeof(*p));
  p->loss_ratio_target = -1;
}

static void free_list(struct plan_list *l)
{
  size_t i;
  for (i = 0; i < l->ncodes; i++)
    free(l->codes[i]);
  for (i = 0; i < l->nprefixes; i++)
    free(l->prefixes[i]);
  free(l->codes);
  free(l->prefixes);
  free(l->name);
}

void plan_release(struct plan *p)
{
  int i;
  free(p->name);
  free(p->city);
  free(p->source);
  for (i = 0; i < p->nresp; i++) {
    free(p->resp[i].name);
    free(p->resp[i].note);
  }
  for (i = 0; i < p->nlists; i++)
    free_list(&p->lists[i]);
  for (i = 0; i < p->nparams; i++)
    free(p->params[i].name);
  for (i = 0; i < p->nvariants; i++)
    free(p->variants[i].note);
  for (i = 0; i < p->nexclusions; i++)
    free(p->exclusions[i].name);
  for (i = 0; i < p->npremium_groups; i++)
    free(p->premium_groups[i].name);
  plan_init(p);
}

int plan_find_resp(const struct plan *p, const char *id)
{
  int i;
  for (i = 0; i < p->nresp; i++)
    if (!strcmp(p->resp[i].id, id))
      return i;
  return -1;
}

int plan_find_list(const struct plan *p, const char *id)
{
  int i;
  for (i = 0; i < p->nlists; i++)
    if (!strcmp(p->lists[i].id, id))
      return i;
  return -1;
}

int plan_find_param(const struct plan *p, const char *id)
{
  int i;
  for (i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].id, id))
      return i;
  return -1;
}

/* ---- matching (hot path) ---- */

static bool intset_has(const struct plan_intset *s, int32_t v)
{
  int i;
  for (i = 0; i < s->n; i++)
    if (s->v[i] == v)
      return true;
  return false;
}

bool plan_flag_present(const char *flags, const char *flag)
{
  size_t fl;
  const char *p = flags;
  if (!flags || !flag || !*flag)
    return false;
  fl = strlen(flag);
  while (*p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == fl && !memcmp(p, flag, n))
      return true;
    if (!end)
      break;
    p = end + 1;
  }
  return false;
}

static bool in_region(const struct plan *p, const struct settlement *s)
{
  if (!s->mdtrtarea_admvs[0] || !p->region_code[0])
    return true;
  return !strncmp(s->mdtrtarea_admvs, p->region_code, (size_t)p->region_prefix_len);
}

bool plan_cond_match(const struct plan *p, const struct plan_cond *c, const struct settlement *s)
{
  int i;
  if (c->med_type.n && !intset_has(&c->med_type, s->med_type))
    return false;
  if (c->insutype.n && !intset_has(&c->insutype, s->insutype))
    return false;
  if (c->psn_type.n && !intset_has(&c->psn_type, s->psn_type))
    return false;
  if (c->hosp_lv.n && !intset_has(&c->hosp_lv, s->hosp_lv))
    return false;
  if (c->in_region >= 0 && (int)in_region(p, s) != c->in_region)
    return false;
  if (c->out_filed >= 0 && s->out_filed != c->out_filed)
    return false;
  if (c->dise_prefix.n) {
    bool hit = false;
    for (i = 0; i < c->dise_prefix.n && !hit; i++)
      hit = !strncmp(s->dise_codg, c->dise_prefix.v[i], strlen(c->dise_prefix.v[i]));
    if (!hit)
      return false;
  }
  if (c->flags_any.n) {
    bool hit = false;
    for (i = 0; i < c->flags_any.n && !hit; i++)
      hit = plan_flag_present(s->flags, c->flags_any.v[i]);
    if (!hit)
      return false;
  }
  for (i = 0; i < c->flags_none.n; i++)
    if (plan_flag_present(s->flags, c->flags_none.v[i]))
      return false;
  return true;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

bool plan_list_has(const struct plan_list *l, const char *code)
{
  size_t i;
  if (l->ncodes && bsearch(&code, l->codes, l->ncodes, sizeof(char *), cmp_str))
    return true;
  for (i = 0; i < l->nprefixes; i++)
    if (!strncmp(code, l->prefixes[i], strlen(l->prefixes[i])))
      return true;
  return false;
}

void plan_mark_lines(const struct plan *p, struct setl_line *lines, size_t nlines)
{
  size_t i;
  int j;
  for (i = 0; i < nlines; i++) {
    uint32_t mask = 0;
    for (j = 0; j < p->nlists; j++)
      if ((p->used_lists_mask >> j & 1) && plan_list_has(&p->lists[j], lines[i].med_list_codg))
        mask |= 1u << j;
    lines[i].list_mask = mask;
  }
}

enum hmb_status plan_amount_value(const struct plan *p, const struct plan_amount *a,
                                  int32_t insutype, hmb_fen *out, struct hmb_err *err)
{
  const struct plan_param *pp;
  int i;
  if (a->param < 0) {
    *out = a->value;
    return HMB_OK;
  }
  pp = &p->params[a->param];
  for (i = 0; i < pp->nschemes; i++)
    if (pp->schemes[i] == insutype) {
      *out = pp->by_scheme[i];
      return HMB_OK;
    }
  if (pp->value >= 0) {
    *out = pp->value;
    return HMB_OK;
  }
  return hmb_err_set(err, HMB_NOT_FOUND, "plan.param_missing", pp->id, "参数“%s”没有险种 %d 的取值",
                     pp->name ? pp->name : pp->id, (int)insutype);
}

enum hmb_status plan_premium(const struct plan *p, int age, const char *group, hmb_fen *out,
                             struct hmb_err *err)
{
  int i;
  if (group && *group)
    for (i = 0; i < p->npremium_groups; i++)
      if (plan_flag_present(group, p->premium_groups[i].id)) {
        *out = p->premium_groups[i].amount;
        return HMB_OK;
      }
  for (i = 0; i < p->npremium_bands; i++) {
    const struct plan_premium_band *b = &p->premium_bands[i];
    if ((b->age_min < 0 || age >= b->age_min) && (b->age_max < 0 || age <= b->age_max)) {
      *out = b->amount;
      return HMB_OK;
    }
  }
  return hmb_err_set(err, HMB_NOT_FOUND, "premium.no_band", "age", "年龄 %d 没有对应的保费档次",
                     age);
}

/* ---- validation ---- */

struct checker {
  struct plan *p;
  plan_report_fn report;
  void *ctx;
  struct hmb_err *first;
  int problems;
};

static void HMB_PRINTF(4, 5)
    problem(struct checker *ck, const char *code, const char *field, const char *fmt, ...)
{
  struct hmb_err e;
  va_list ap;
  char msg[HMB_ERR_MSG_MAX];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  hmb_err_set(&e, HMB_INVALID, code, field, "%s", msg);
  if (!ck->problems && ck->first)
    *ck->first = e;
  ck->problems++;
  if (ck->report)
    ck->report(ck->ctx, &e);
}

bool plan_valid_id(const char *id)
{
  const char *c;
  if (!*id)
    return false;
  for (c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return false;
  return true;
}

static bool intsets_disjoint(const struct plan_intset *a, const struct plan_intset *b)
{
  int i;
  if (!a->n || !b->n)
    return false;
  for (i = 0; i < a->n; i++)
    if (intset_has(b, a->v[i]))
      return false;
  return true;
}

static bool prefixes_disjoint(const struct plan_strset *a, const struct plan_strset *b)
{
  int i, j;
  if (!a->n || !b->n)
    return false;
  for (i = 0; i < a->n; i++)
    for (j = 0; j < b->n; j++) {
      size_t la = strlen(a->v[i]), lb = strlen(b->v[j]);
      if (!strncmp(a->v[i], b->v[j], la < lb ? la : lb))
        return false;
    }
  return true;
}

static bool flags_contradict(const struct plan_strset *any, const struct plan_strset *none)
{
  int i, j;
  if (!any->n)
    return false;
  for (i = 0; i < any->n; i++) {
    bool excluded = false;
    for (j = 0; j < none->n && !excluded; j++)
      excluded = !strcmp(any->v[i], none->v[j]);
    if (!excluded)
      return false;
  }
  return true;
}

/* Can a settlement satisfy both a and b? (Conservative: true when unsure.) */
static bool conds_compatible(const struct plan_cond *a, const struct plan_cond *b)
{
  if (intsets_disjoint(&a->med_type, &b->med_type) ||
      intsets_disjoint(&a->insutype, &b->insutype) ||
      intsets_disjoint(&a->psn_type, &b->psn_type) || intsets_disjoint(&a->hosp_lv, &b->hosp_lv))
    return false;
  if (a->in_region >= 0 && b->in_region >= 0 && a->in_region != b->in_region)
    return false;
  if (a->out_filed >= 0 && b->out_filed >= 0 && a->out_filed != b->out_filed)
    return false;
  if (prefixes_disjoint(&a->dise_prefix, &b->dise_prefix))
    return false;
  if (flags_contradict(&a->flags_any, &b->flags_none) ||
      flags_contradict(&b->flags_any, &a->flags_none))
    return false;
  return true;
}

/* Weight with which term t counts part `part` (0..3) of a line of class
 * `cls` (-1: in no list, else list index). */
static hmb_bp term_weight_for(const struct plan *p, const struct plan_term *t, int part, int cls)
{
  bool covers;
  uint32_t bit = cls < 0 ? 0 : 1u << cls;
  switch (t->comp) {
  case COMP_PSN_PART: covers = true; break;
  case COMP_ACT_PAY_DEDC: covers = part == COMP_INSCP_SELFPAY; break;
  default: covers = (int)t->comp == part; break;
  }
  if (!covers)
    return 0;
  if (bit & p->excl_lines_mask)
    return 0;
  switch (t->lines) {
  case LINES_ALL: return t->weight;
  case LINES_IN: return (bit & t->list_mask) ? t->weight : 0;
  case LINES_EXCEPT: return (bit & t->list_mask) ? 0 : t->weight;
  }
  return 0;
}

struct atom {
  int resp, term;
};

static void check_overlap(struct checker *ck)
{
  struct plan *p = ck->p;
  struct atom atoms[PLAN_MAX_RESP * PLAN_MAX_TERMS];
  int na = 0, a, b, part, cls;
  char field[128];

  for (a = 0; a < p->nresp; a++) {
    int t;
    if (p->resp[a].kind != RESP_INDEMNITY)
      continue;
    for (t = 0; t < p->resp[a].nterms; t++) {
      atoms[na].resp = a;
      atoms[na].term = t;
      na++;
    }
  }
  for (cls = -1; cls < p->nlists; cls++)
    for (part = 0; part < 4; part++)
      for (a = 0; a < na; a++) {
        const struct plan_resp *ra = &p->resp[atoms[a].resp];
        const struct plan_term *ta = &ra->terms[atoms[a].term];
        int64_t sum = 0;
        if (!term_weight_for(p, ta, part, cls))
          continue;
        for (b = 0; b < na; b++) {
          const struct plan_resp *rb = &p->resp[atoms[b].resp];
          const struct plan_term *tb = &rb->terms[atoms[b].term];
          hmb_bp w = term_weight_for(p, tb, part, cls);
          if (!w)
            continue;
          if (b != a) {
            if (atoms[a].resp != atoms[b].resp && ra->group >= 0 && ra->group == rb->group)
              continue;
            if (ra->has_when && rb->has_when && !conds_compatible(&ra->when, &rb->when))
              continue;
            if (ta->has_when && tb->has_when && !conds_compatible(&ta->when, &tb->when))
              continue;
            if (ta->has_when && rb->has_when && !conds_compatible(&ta->when, &rb->when))
              continue;
            if (tb->has_when && ra->has_when && !conds_compatible(&tb->when, &ra->when))
              continue;
          }
          sum += w;
        }
        if (sum > HMB_BP_ONE) {
          snprintf(field, sizeof(field), "responsibilities[%d].sources[%d]", atoms[a].resp,
                   atoms[a].term);
          problem(ck, "plan.overlap", field,
                  "同一笔费用被重复计算：%s%s%s 的“%s”部分在可同时赔付的责任中合计按 %d.%02d%% "
                  "计入，超过 100%%（可能超过个人实际负担）",
                  cls < 0 ? "不属于任何目录的" : "目录“", cls < 0 ? "" : p->lists[cls].id,
                  cls < 0 ? "费用" : "”内费用", comp_names[part], (int)(sum / 100),
                  (int)(sum % 100));
          return; /* one report per plan is enough to point at the cause */
        }
      }
}

static void check_members(struct checker *ck, const char *what, int idx, const int *members, int n,
                          int *owner, bool must_be_single)
{
  char field[128];
  int i;
  for (i = 0; i < n; i++) {
    snprintf(field, sizeof(field), "%s[%d].members[%d]", what, idx, i);
    if (members[i] < 0 || members[i] >= ck->p->nresp) {
      problem(ck, "plan.ref", field, "引用了不存在的责任");
      continue;
    }
    if (owner[members[i]] >= 0 && must_be_single)
      problem(ck, "plan.member_twice", field, "责任“%s”出现在多个组中", ck->p->resp[members[i]].id);
    owner[members[i]] = idx;
  }
}

static void check_premiums(struct checker *ck)
{
  struct plan *p = ck->p;
  int age, i;
  if (!p->npremium_bands) {
    problem(ck, "plan.premium_missing", "premiums.bands", "缺少保费档次");
    return;
  }
  for (i = 0; i < p->npremium_bands; i++) {
    char field[64];
    snprintf(field, sizeof(field), "premiums.bands[%d]", i);
    if (p->premium_bands[i].amount < 0)
      problem(ck, "plan.premium_negative", field, "保费不能为负数");
    if (p->premium_bands[i].age_min >= 0 && p->premium_bands[i].age_max >= 0 &&
        p->premium_bands[i].age_min > p->premium_bands[i].age_max)
      problem(ck, "plan.premium_band", field, "年龄下限大于上限");
  }
  for (age = 0; age <= 150; age++) {
    int hits = 0;
    for (i = 0; i < p->npremium_bands; i++) {
      const struct plan_premium_band *b = &p->premium_bands[i];
      if ((b->age_min < 0 || age >= b->age_min) && (b->age_max < 0 || age <= b->age_max))
        hits++;
    }
    if (hits != 1) {
      problem(ck, hits ? "plan.premium_overlap" : "plan.premium_gap", "premiums.bands",
              hits ? "保费档次在 %d 岁处重叠" : "保费档次没有覆盖 %d 岁", age);
      return;
    }
  }
}

static void check_resp(struct checker *ck, int i)
{
  struct plan *p = ck->p;
  struct plan_resp *r = &p->resp[i];
  char field[128];
  int j;
  snprintf(field, sizeof(field), "responsibilities[%d].id", i);
  if (!plan_valid_id(r->id))
    problem(ck, "plan.id", field, "责任ID只能由小写字母、数字、下划线组成");
  for (j = 0; j < i; j++)
    if (!strcmp(p->resp[j].id, r->id))
      problem(ck, "plan.duplicate_id", field, "责任ID“%s”重复", r->id);
  if (!r->name || !*r->name) {
    snprintf(field, sizeof(field), "responsibilities[%d].name", i);
    problem(ck, "plan.missing", field, "缺少责任名称");
  }
  if (r->kind == RESP_LUMP_SUM) {
    snprintf(field, sizeof(field), "responsibilities[%d].amount", i);
    if (r->lump_amount <= 0)
      problem(ck, "plan.lump_amount", field, "定额给付金额必须大于零");
    if (r->lump_max_times < 1)
      problem(ck, "plan.lump_times", field, "给付次数至少为 1");
    return;
  }
  if (!r->nterms) {
    snprintf(field, sizeof(field), "responsibilities[%d].sources", i);
    problem(ck, "plan.missing", field, "缺少可赔付金额来源");
  }
  for (j = 0; j < r->nterms; j++) {
    const struct plan_term *t = &r->terms[j];
    snprintf(field, sizeof(field), "responsibilities[%d].sources[%d]", i, j);
    if (t->weight < 0 || t->weight > HMB_BP_ONE)
      problem(ck, "plan.weight", field, "计入比例应在 0%% 到 100%% 之间");
    if (t->comp == COMP_ACT_PAY_DEDC && t->lines != LINES_ALL)
      problem(ck, "plan.component_lines", field,
              "act_pay_dedc 只能按整笔结算计算，不能按明细目录筛选");
    if (t->lines != LINES_ALL && !t->list_mask)
      problem(ck, "plan.lines", field, "明细筛选缺少目录");
  }
  if (!r->nbands) {
    snprintf(field, sizeof(field), "responsibilities[%d].ratio", i);
    problem(ck, "plan.missing", field, "缺少赔付比例");
  }
  for (j = 0; j < r->nbands; j++) {
    const struct plan_band *b = &r->bands[j];
    snprintf(field, sizeof(field), "responsibilities[%d].bands[%d]", i, j);
    if (b->ratio < 0 || b->ratio > HMB_BP_ONE)
      problem(ck, "plan.ratio", field, "赔付比例应在 0%% 到 100%% 之间");
    if (b->from < 0 || (b->to >= 0 && b->to <= b->from))
      problem(ck, "plan.band", field, "分段区间无效：上限必须大于下限");
    if (j > 0 && (r->bands[j - 1].to < 0 || b->from < r->bands[j - 1].to))
      problem(ck, "plan.band_order", field, "分段区间必须递增且不重叠");
  }
  if (r->cap.param < 0 && r->cap.value < 0 && r->shared_cap < 0) {
    snprintf(field, sizeof(field), "responsibilities[%d].cap", i);
    problem(ck, "plan.cap_missing", field, "责任既没有自己的限额，也不属于共享限额");
  }
  for (j = 0; j < r->nitem_limits; j++) {
    const struct plan_item_limit *il = &r->item_limits[j];
    snprintf(field, sizeof(field), "responsibilities[%d].item_limits[%d]", i, j);
    if (il->max_amount < 0 && il->max_count_e4 < 0)
      problem(ck, "plan.item_limit", field, "单项限额需要金额上限或数量上限");
  }
}

enum hmb_status plan_finish(struct plan *p, plan_report_fn report, void *ctx, struct hmb_err *err)
{
  struct checker ck = {p, report, ctx, err, 0};
  int owner[PLAN_MAX_RESP], i, j;
  char field[128];
  size_t rl;

  if (!plan_valid_id(p->id))
    problem(&ck, "plan.id", "id", "产品ID只能由小写字母、数字、下划线、连字符组成");
  if (!p->name || !*p->name)
    problem(&ck, "plan.missing", "name", "缺少产品名称");
  if (p->year < 2000 || p->year > 2100)
    problem(&ck, "plan.year", "year", "年度应在 2000 到 2100 之间");
  if (p->cover_end < p->cover_start)
    problem(&ck, "plan.coverage", "coverage.end", "保障期结束日期早于开始日期");
  if (p->enrollment.window_end < p->enrollment.window_start)
    problem(&ck, "plan.window", "enrollment.window.end", "投保期结束日期早于开始日期");
  rl = strlen(p->region_code);
  if (rl && rl != 6)
    problem(&ck, "plan.region", "region_code", "医保区划代码应为 6 位数字");
  p->region_prefix_len = 6;
  while (p->region_prefix_len > 2 && !strncmp(p->region_code + p->region_prefix_len - 2, "00", 2))
    p->region_prefix_len -= 2;
  if (!p->nresp)
    problem(&ck, "plan.missing", "responsibilities", "至少需要一项保险责任");

  for (i = 0; i < p->nresp; i++)
    owner[i] = -1;
  for (i = 0; i < p->npools; i++) {
    check_members(&ck, "pools", i, p->pools[i].members, p->pools[i].nmembers, owner, true);
    snprintf(field, sizeof(field), "pools[%d].amount", i);
    if (p->pools[i].amount.param < 0 && p->pools[i].amount.value < 0)
      problem(&ck, "plan.pool_amount", field, "免赔额不能为负数");
  }
  for (i = 0; i < p->nresp; i++) {
    if (owner[i] < 0) {
      snprintf(field, sizeof(field), "responsibilities[%d]", i);
      problem(&ck, "plan.pool_missing", field, "责任“%s”没有免赔额设置", p->resp[i].id);
    }
    p->resp[i].pool = owner[i];
  }
  for (i = 0; i < p->nresp; i++)
    owner[i] = -1;
  for (i = 0; i < p->ncaps; i++)
    check_members(&ck, "shared_caps", i, p->caps[i].members, p->caps[i].nmembers, owner, true);
  for (i = 0; i < p->nresp; i++)
    p->resp[i].shared_cap = owner[i];
  /* after shared caps are known: a shared cap is a responsibility's cap */
  for (i = 0; i < p->nresp; i++)
    check_resp(&ck, i);
  for (i = 0; i < p->nresp; i++)
    owner[i] = -1;
  for (i = 0; i < p->ngroups; i++) {
    check_members(&ck, "exclusive", i, p->groups[i].members, p->groups[i].nmembers, owner, true);
    if (p->groups[i].nmembers < 2) {
      snprintf(field, sizeof(field), "exclusive[%d].members", i);
      problem(&ck, "plan.group_size", field, "互斥组至少需要两项责任");
    }
  }
  for (i = 0; i < p->nresp; i++)
    p->resp[i].group = owner[i];
  for (i = 0; i < p->nresp; i++)
    owner[i] = -1;
  for (i = 0; i < p->naxes; i++)
    check_members(&ck, "band_axes", i, p->axes[i].members, p->axes[i].nmembers, owner, true);
  for (i = 0; i < p->nresp; i++) {
    if (owner[i] < 0 && p->naxes < PLAN_MAX_RESP) {
      p->axes[p->naxes].members[0] = i;
      p->axes[p->naxes].nmembers = 1;
      owner[i] = p->naxes++;
    }
    p->resp[i].axis = owner[i];
  }

  p->has_family_scope = false;
  for (i = 0; i < p->npools; i++)
    if (p->pools[i].scope == SCOPE_FAMILY)
      p->has_family_scope = true;
  for (i = 0; i < p->ncaps; i++)
    if (p->caps[i].scope == SCOPE_FAMILY)
      p->has_family_scope = true;

  for (i = 0; i < p->nvariants; i++) {
    const struct plan_variant *v = &p->variants[i];
    snprintf(field, sizeof(field), "variants[%d]", i);
    if (v->resp < 0 && v->pool < 0)
      problem(&ck, "plan.variant_target", field, "变体既没有指定责任也没有指定免赔额");
    if (v->pool >= 0 && p->pools[v->pool].scope == SCOPE_FAMILY)
      problem(&ck, "plan.variant_family", field, "家庭共用免赔额不能按个人情况调整");
  }

  p->excl_lines_mask = 0;
  p->used_lists_mask = 0;
  p->has_path_rules = false;
  for (i = 0; i < p->nexclusions; i++)
    p->excl_lines_mask |= p->exclusions[i].lines_mask;
  p->used_lists_mask |= p->excl_lines_mask;
  for (i = 0; i < p->nresp; i++) {
    const struct plan_resp *r = &p->resp[i];
    for (j = 0; j < r->nterms; j++)
      p->used_lists_mask |= r->terms[j].list_mask;
    for (j = 0; j < r->nitem_limits; j++)
      p->used_lists_mask |= 1u << r->item_limits[j].list;
    p->used_lists_mask |= r->lump_lines_mask;
    if (r->max_visits >= 0 || r->stay_limit >= 0 || r->nitem_limits || r->kind == RESP_LUMP_SUM)
      p->has_path_rules = true;
  }
  check_premiums(&ck);
  if (!ck.problems)
    check_overlap(&ck);
  return ck.problems ? HMB_INVALID : HMB_OK;
}

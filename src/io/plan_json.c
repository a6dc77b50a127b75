#include "compat.h"
#include "plan_json.h"
#include "json_keys.h"
#include "buf.h"

#include <jansson.h>

struct pctx {
  struct plan *p;
  const char *base_dir;
  plan_report_fn report;
  void *rctx;
  struct hmb_err *first;
  int problems;
};

static void HMB_PRINTF(4, 5)
    bad(struct pctx *c, const char *code, const char *path, const char *fmt, ...)
{
  struct hmb_err e;
  char msg[HMB_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  hmb_err_set(&e, HMB_INVALID, code, path, "%s", msg);
  if (!c->problems && c->first)
    *c->first = e;
  c->problems++;
  if (c->report)
    c->report(c->rctx, &e);
}

static void report_err(struct pctx *c, const struct hmb_err *e)
{
  if (!c->problems && c->first)
    *c->first = *e;
  c->problems++;
  if (c->report)
    c->report(c->rctx, e);
}

#define PATH_MAX_LEN 160
/* JSON paths are truncated at PATH_MAX_LEN: they only label messages. */
static void join(char *out, const char *base, const char *key)
{
  int n = *base ? snprintf(out, PATH_MAX_LEN, "%s.%s", base, key)
                : snprintf(out, PATH_MAX_LEN, "%s", key);
  if (n < 0 || n >= PATH_MAX_LEN)
    hmb_utf8_truncate(out, PATH_MAX_LEN);
}

static void joini(char *out, const char *base, size_t i)
{
  int n = snprintf(out, PATH_MAX_LEN, "%s[%zu]", base, i);
  if (n < 0 || n >= PATH_MAX_LEN)
    hmb_utf8_truncate(out, PATH_MAX_LEN);
}

/* Reject keys outside `known` (NULL-terminated): typos must not pass silently. */
static void check_keys(struct pctx *c, json_t *obj, const char *path, const char *const *known)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v)
  {
    char kp[PATH_MAX_LEN];
    (void)v;
    if (!json_key_allowed(key, known)) {
      join(kp, path, key);
      bad(c, "plan.unknown_key", kp, "未知字段“%s”", key);
    }
  }
}

static bool want_object(struct pctx *c, json_t *v, const char *path)
{
  if (json_is_object(v))
    return true;
  bad(c, "plan.type", path, "应为对象");
  return false;
}

static bool want_array(struct pctx *c, json_t *v, const char *path)
{
  if (json_is_array(v))
    return true;
  bad(c, "plan.type", path, "应为数组");
  return false;
}

static char *get_text(struct pctx *c, json_t *obj, const char *key, const char *path, bool required)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  char *s;
  join(kp, path, key);
  if (!v) {
    if (required)
      bad(c, "plan.missing", kp, "缺少必填字段");
    return NULL;
  }
  if (!json_is_string(v)) {
    bad(c, "plan.type", kp, "应为字符串");
    return NULL;
  }
  s = hmb_strndup(json_string_value(v), json_string_length(v));
  if (!s)
    bad(c, "nomem", kp, "内存不足");
  return s;
}

static void get_id(struct pctx *c, json_t *obj, const char *key, const char *path, char *out,
                   bool required)
{
  char *s = get_text(c, obj, key, path, required);
  char kp[PATH_MAX_LEN];
  if (!s)
    return;
  if (strlen(s) >= PLAN_ID_MAX) {
    join(kp, path, key);
    bad(c, "plan.id_length", kp, "ID 过长（最多 %d 个字符）", PLAN_ID_MAX - 1);
  } else {
    memcpy(out, s, strlen(s) + 1);
  }
  free(s);
}

/* Money from a JSON string or number, exactly. */
static bool json_money(struct pctx *c, json_t *v, const char *path, hmb_fen *out)
{
  struct hmb_err e;
  char text[64];
  hmb_err_init(&e);
  if (json_is_string(v)) {
    if (money_parse(json_string_value(v), json_string_length(v), out, path, &e)) {
      report_err(c, &e);
      return false;
    }
    return true;
  }
  if (json_is_integer(v)) {
    json_int_t n = json_integer_value(v);
    if (n > HMB_FEN_LIMIT / 100 || n < -HMB_FEN_LIMIT / 100) {
      bad(c, "money.range", path, "金额超出允许范围");
      return false;
    }
    *out = (hmb_fen)n * 100;
    return true;
  }
  if (json_is_real(v)) {
    /* jansson keeps only the double: recover the shortest decimal text that
     * names the same double and accept it only if it has <= 2 decimals. */
    int n = snprintf(text, sizeof(text), "%.15g", json_real_value(v));
    if (n <= 0 || (size_t)n >= sizeof(text) || strchr(text, 'e') ||
        strtod(text, NULL) != json_real_value(v)) {
      bad(c, "money.precision", path, "金额数字无法精确表示：请写成字符串，如 \"123.45\"");
      return false;
    }
    if (money_parse(text, (size_t)n, out, path, &e)) {
      report_err(c, &e);
      return false;
    }
    return true;
  }
  bad(c, "plan.type", path, "金额应为字符串或数字");
  return false;
}

static bool get_money(struct pctx *c, json_t *obj, const char *key, const char *path, hmb_fen *out,
                      bool required)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  join(kp, path, key);
  if (!v) {
    if (required)
      bad(c, "plan.missing", kp, "缺少必填字段");
    return false;
  }
  return json_money(c, v, kp, out);
}

static bool get_ratio(struct pctx *c, json_t *obj, const char *key, const char *path, hmb_bp *out,
                      bool required, bool signed_ok)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  struct hmb_err e;
  const char *s;
  size_t n;
  bool neg = false;
  join(kp, path, key);
  if (!v) {
    if (required)
      bad(c, "plan.missing", kp, "缺少必填字段");
    return false;
  }
  if (!json_is_string(v)) {
    bad(c, "plan.type", kp, "比例应为字符串，如 \"80%%\"");
    return false;
  }
  s = json_string_value(v);
  n = json_string_length(v);
  if (signed_ok && n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  hmb_err_init(&e);
  if (ratio_parse(s, n, out, kp, &e)) {
    report_err(c, &e);
    return false;
  }
  if (neg)
    *out = -*out;
  return true;
}

static bool get_int(struct pctx *c, json_t *obj, const char *key, const char *path, int64_t min,
                    int64_t max, int64_t *out, bool required)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  join(kp, path, key);
  if (!v) {
    if (required)
      bad(c, "plan.missing", kp, "缺少必填字段");
    return false;
  }
  if (!json_is_integer(v)) {
    bad(c, "plan.type", kp, "应为整数");
    return false;
  }
  if (json_integer_value(v) < min || json_integer_value(v) > max) {
    bad(c, "plan.range", kp, "应在 %" PRId64 " 到 %" PRId64 " 之间", min, max);
    return false;
  }
  *out = json_integer_value(v);
  return true;
}

static bool get_bool(struct pctx *c, json_t *obj, const char *key, const char *path, bool *out)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  if (!v)
    return false;
  join(kp, path, key);
  if (!json_is_boolean(v)) {
    bad(c, "plan.type", kp, "应为 true 或 false");
    return false;
  }
  *out = json_is_true(v);
  return true;
}

static bool get_date(struct pctx *c, json_t *obj, const char *key, const char *path, hmb_date *out,
                     bool required)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  struct hmb_err e;
  join(kp, path, key);
  if (!v) {
    if (required)
      bad(c, "plan.missing", kp, "缺少必填字段");
    return false;
  }
  if (!json_is_string(v)) {
    bad(c, "plan.type", kp, "日期应为字符串 YYYY-MM-DD");
    return false;
  }
  hmb_err_init(&e);
  if (date_parse(json_string_value(v), json_string_length(v), out, kp, &e)) {
    report_err(c, &e);
    return false;
  }
  return true;
}

/* An amount: "16000", 16000, or {"param": "name"}. */
static bool get_amount(struct pctx *c, json_t *obj, const char *key, const char *path,
                       struct plan_amount *out)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_MAX_LEN];
  static const char *const keys[] = {"param", NULL};
  out->param = -1;
  out->value = -1;
  if (!v)
    return false;
  join(kp, path, key);
  if (json_is_object(v)) {
    char *name;
    check_keys(c, v, kp, keys);
    name = get_text(c, v, "param", kp, true);
    if (!name)
      return false;
    out->param = plan_find_param(c->p, name);
    if (out->param < 0) {
      char pp[PATH_MAX_LEN];
      join(pp, kp, "param");
      bad(c, "plan.ref", pp, "未定义的参数“%s”", name);
    }
    free(name);
    return out->param >= 0;
  }
  if (!json_money(c, v, kp, &out->value))
    return false;
  if (out->value < 0) {
    bad(c, "plan.negative", kp, "金额不能为负数");
    return false;
  }
  return true;
}

static void intset_parse(struct pctx *c, json_t *v, const char *path, struct plan_intset *s)
{
  size_t i;
  json_t *e;
  if (!want_array(c, v, path))
    return;
  if (json_array_size(v) > PLAN_MAX_CODES) {
    bad(c, "plan.too_many", path, "最多 %d 个代码", PLAN_MAX_CODES);
    return;
  }
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    const char *t;
    int64_t n;
    struct hmb_err err;
    joini(ep, path, i);
    if (!json_is_string(e)) {
      bad(c, "plan.type", ep, "代码应为字符串，如 \"21\"");
      continue;
    }
    t = json_string_value(e);
    hmb_err_init(&err);
    if (str_to_i64(t, strlen(t), 0, 99999999, &n, ep, &err) || t[0] == '-') {
      bad(c, "plan.code", ep, "代码应为数字串");
      continue;
    }
    s->v[s->n++] = (int32_t)n;
  }
}

static void strset_parse(struct pctx *c, json_t *v, const char *path, struct plan_strset *s)
{
  size_t i;
  json_t *e;
  if (!want_array(c, v, path))
    return;
  if (json_array_size(v) > PLAN_MAX_CODES) {
    bad(c, "plan.too_many", path, "最多 %d 项", PLAN_MAX_CODES);
    return;
  }
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    joini(ep, path, i);
    if (!json_is_string(e) || json_string_length(e) == 0 ||
        json_string_length(e) >= SETL_SHORT_MAX) {
      bad(c, "plan.type", ep, "应为非空字符串（最多 %d 字节）", SETL_SHORT_MAX - 1);
      continue;
    }
    memcpy(s->v[s->n++], json_string_value(e), json_string_length(e) + 1);
  }
}

static void tristate(struct pctx *c, json_t *obj, const char *key, const char *path, int8_t *out)
{
  bool b;
  if (get_bool(c, obj, key, path, &b))
    *out = b ? 1 : 0;
}

static void cond_parse(struct pctx *c, json_t *v, const char *path, struct plan_cond *cond)
{
  static const char *const keys[] = {"med_type",  "insutype",  "psn_type",   "hosp_lv",
                                     "dise_codg", "flags_any", "flags_none", "in_region",
                                     "out_filed", NULL};
  json_t *x;
  char kp[PATH_MAX_LEN];
  memset(cond, 0, sizeof(*cond));
  cond->in_region = -1;
  cond->out_filed = -1;
  if (!want_object(c, v, path))
    return;
  check_keys(c, v, path, keys);
#define SET(key, fn, field)                                                                        \
  if ((x = json_object_get(v, key))) {                                                             \
    join(kp, path, key);                                                                           \
    fn(c, x, kp, &cond->field);                                                                    \
  }
  SET("med_type", intset_parse, med_type)
  SET("insutype", intset_parse, insutype)
  SET("psn_type", intset_parse, psn_type)
  SET("hosp_lv", intset_parse, hosp_lv)
  SET("dise_codg", strset_parse, dise_prefix)
  SET("flags_any", strset_parse, flags_any)
  SET("flags_none", strset_parse, flags_none)
#undef SET
  tristate(c, v, "in_region", path, &cond->in_region);
  tristate(c, v, "out_filed", path, &cond->out_filed);
}

static uint32_t list_refs(struct pctx *c, json_t *v, const char *path)
{
  uint32_t mask = 0;
  size_t i;
  json_t *e;
  if (!want_array(c, v, path))
    return 0;
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    int idx;
    joini(ep, path, i);
    if (!json_is_string(e)) {
      bad(c, "plan.type", ep, "应为目录ID字符串");
      continue;
    }
    idx = plan_find_list(c->p, json_string_value(e));
    if (idx < 0) {
      bad(c, "plan.ref", ep, "未定义的目录“%s”", json_string_value(e));
      continue;
    }
    mask |= 1u << idx;
  }
  return mask;
}

static enum plan_component comp_parse(struct pctx *c, const char *name, const char *path)
{
  int i;
  for (i = 0; i < COMP__COUNT; i++)
    if (!strcmp(plan_component_name((enum plan_component)i), name))
      return (enum plan_component)i;
  bad(c, "plan.component", path,
      "未知的费用类别“%s”：可用 fulamt_ownpay_amt、overlmt_selfpay、preselfpay_amt、"
      "inscp_selfpay、psn_part_amt、act_pay_dedc",
      name);
  return COMP_PSN_PART;
}

static void term_parse(struct pctx *c, json_t *v, const char *path, struct plan_term *t)
{
  static const char *const keys[] = {"component", "weight", "lines", "when", NULL};
  static const char *const lkeys[] = {"in", "except", NULL};
  char *comp;
  json_t *lines, *when;
  char kp[PATH_MAX_LEN];
  memset(t, 0, sizeof(*t));
  t->weight = HMB_BP_ONE;
  if (!want_object(c, v, path))
    return;
  check_keys(c, v, path, keys);
  comp = get_text(c, v, "component", path, true);
  if (comp) {
    join(kp, path, "component");
    t->comp = comp_parse(c, comp, kp);
    free(comp);
  }
  get_ratio(c, v, "weight", path, &t->weight, false, false);
  if ((lines = json_object_get(v, "lines"))) {
    join(kp, path, "lines");
    if (json_is_string(lines) && !strcmp(json_string_value(lines), "all")) {
      t->lines = LINES_ALL;
    } else if (want_object(c, lines, kp)) {
      json_t *in = json_object_get(lines, "in"), *ex = json_object_get(lines, "except");
      char lp[PATH_MAX_LEN];
      check_keys(c, lines, kp, lkeys);
      if ((in != NULL) == (ex != NULL)) {
        bad(c, "plan.lines", kp, "lines 需要且只能有 in 或 except 之一");
      } else if (in) {
        join(lp, kp, "in");
        t->lines = LINES_IN;
        t->list_mask = list_refs(c, in, lp);
      } else {
        join(lp, kp, "except");
        t->lines = LINES_EXCEPT;
        t->list_mask = list_refs(c, ex, lp);
      }
    }
  }
  if ((when = json_object_get(v, "when"))) {
    join(kp, path, "when");
    t->has_when = true;
    cond_parse(c, when, kp, &t->when);
  }
}

static void bands_parse(struct pctx *c, json_t *v, const char *path, struct plan_resp *r)
{
  static const char *const keys[] = {"from", "to", "ratio", NULL};
  size_t i;
  json_t *e;
  if (!want_array(c, v, path))
    return;
  if (json_array_size(v) > PLAN_MAX_BANDS || json_array_size(v) == 0) {
    bad(c, "plan.bands", path, "分段数应为 1 到 %d", PLAN_MAX_BANDS);
    return;
  }
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    struct plan_band *b = &r->bands[r->nbands++];
    joini(ep, path, i);
    b->from = 0;
    b->to = -1;
    b->ratio = 0;
    if (!want_object(c, e, ep))
      continue;
    check_keys(c, e, ep, keys);
    get_money(c, e, "from", ep, &b->from, true);
    get_money(c, e, "to", ep, &b->to, false);
    get_ratio(c, e, "ratio", ep, &b->ratio, true, false);
  }
}

static void item_limits_parse(struct pctx *c, json_t *v, const char *path, struct plan_resp *r)
{
  static const char *const keys[] = {"list", "per", "max_amount", "max_count", NULL};
  size_t i;
  json_t *e;
  if (!want_array(c, v, path))
    return;
  if (json_array_size(v) > PLAN_MAX_ITEM_LIMITS) {
    bad(c, "plan.too_many", path, "单项限额最多 %d 条", PLAN_MAX_ITEM_LIMITS);
    return;
  }
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    struct plan_item_limit *il = &r->item_limits[r->nitem_limits];
    char *list, *per;
    int64_t count;
    joini(ep, path, i);
    if (!want_object(c, e, ep))
      continue;
    check_keys(c, e, ep, keys);
    il->max_amount = -1;
    il->max_count_e4 = -1;
    il->per_code = true;
    list = get_text(c, e, "list", ep, true);
    if (list) {
      il->list = plan_find_list(c->p, list);
      if (il->list < 0) {
        join(kp, ep, "list");
        bad(c, "plan.ref", kp, "未定义的目录“%s”", list);
      }
      free(list);
    }
    per = get_text(c, e, "per", ep, false);
    if (per) {
      if (!strcmp(per, "list"))
        il->per_code = false;
      else if (strcmp(per, "code")) {
        join(kp, ep, "per");
        bad(c, "plan.enum", kp, "per 只能是 \"code\" 或 \"list\"");
      }
      free(per);
    }
    get_money(c, e, "max_amount", ep, &il->max_amount, false);
    if (get_int(c, e, "max_count", ep, 0, 1000000, &count, false))
      il->max_count_e4 = count * 10000;
    if (il->list >= 0)
      r->nitem_limits++;
  }
}

static void resp_parse(struct pctx *c, json_t *v, const char *path, int idx)
{
  static const char *const keys[] = {
      "id",         "name",        "note",   "kind",       "when",          "sources",
      "deductible", "ratio",       "bands",  "band_basis", "cap",           "max_visits",
      "stay_limit", "item_limits", "amount", "max_times",  "trigger_lines", NULL};
  struct plan_resp *r = &c->p->resp[idx];
  json_t *x;
  char kp[PATH_MAX_LEN];
  char *s;
  int64_t n;

  r->pool = -1;
  r->axis = -1;
  r->shared_cap = -1;
  r->group = -1;
  r->max_visits = -1;
  r->stay_limit = -1;
  r->cap.param = -1;
  r->cap.value = -1;
  r->lump_max_times = 1;
  if (!want_object(c, v, path))
    return;
  check_keys(c, v, path, keys);
  get_id(c, v, "id", path, r->id, true);
  r->name = get_text(c, v, "name", path, true);
  r->note = get_text(c, v, "note", path, false);
  if ((s = get_text(c, v, "kind", path, false))) {
    if (!strcmp(s, "lump_sum"))
      r->kind = RESP_LUMP_SUM;
    else if (strcmp(s, "indemnity")) {
      join(kp, path, "kind");
      bad(c, "plan.enum", kp, "kind 只能是 \"indemnity\" 或 \"lump_sum\"");
    }
    free(s);
  }
  if ((x = json_object_get(v, "when"))) {
    join(kp, path, "when");
    r->has_when = true;
    cond_parse(c, x, kp, &r->when);
  }
  if (r->kind == RESP_LUMP_SUM) {
    get_money(c, v, "amount", path, &r->lump_amount, true);
    if (get_int(c, v, "max_times", path, 1, 1000, &n, false))
      r->lump_max_times = (int)n;
    if ((x = json_object_get(v, "trigger_lines"))) {
      join(kp, path, "trigger_lines");
      r->lump_lines_mask = list_refs(c, x, kp);
    }
    r->nbands = 1;
    r->bands[0].from = 0;
    r->bands[0].to = -1;
    r->bands[0].ratio = HMB_BP_ONE;
  } else {
    if ((x = json_object_get(v, "sources"))) {
      size_t i;
      json_t *e;
      join(kp, path, "sources");
      if (want_array(c, x, kp)) {
        if (json_array_size(x) > PLAN_MAX_TERMS)
          bad(c, "plan.too_many", kp, "来源最多 %d 项", PLAN_MAX_TERMS);
        else
          json_array_foreach(x, i, e)
          {
            char ep[PATH_MAX_LEN];
            joini(ep, kp, i);
            term_parse(c, e, ep, &r->terms[r->nterms++]);
          }
      }
    } else {
      join(kp, path, "sources");
      bad(c, "plan.missing", kp, "缺少必填字段");
    }
    x = json_object_get(v, "bands");
    if (x && json_object_get(v, "ratio")) {
      join(kp, path, "ratio");
      bad(c, "plan.ratio_and_bands", kp, "ratio 与 bands 只能二选一");
    } else if (x) {
      join(kp, path, "bands");
      bands_parse(c, x, kp, r);
    } else {
      hmb_bp ratio;
      if (get_ratio(c, v, "ratio", path, &ratio, true, false)) {
        r->nbands = 1;
        r->bands[0].from = 0;
        r->bands[0].to = -1;
        r->bands[0].ratio = ratio;
      }
    }
    if ((s = get_text(c, v, "band_basis", path, false))) {
      if (!strcmp(s, "net"))
        r->bands_net = true;
      else if (strcmp(s, "gross")) {
        join(kp, path, "band_basis");
        bad(c, "plan.enum", kp, "band_basis 只能是 \"gross\" 或 \"net\"");
      }
      free(s);
    }
  }
  /* deductible: an amount of its own, or {"pool": id} (handled by pools) */
  x = json_object_get(v, "deductible");
  if (x && json_is_object(x) && json_object_get(x, "pool")) {
    /* membership recorded when pools are parsed */
  } else {
    struct plan_pool *pool;
    if (c->p->npools >= PLAN_MAX_POOLS) {
      join(kp, path, "deductible");
      bad(c, "plan.too_many", kp, "免赔额设置过多（最多 %d）", PLAN_MAX_POOLS);
    } else {
      pool = &c->p->pools[c->p->npools++];
      memset(pool, 0, sizeof(*pool));
      snprintf(pool->id, sizeof(pool->id), "%.*s", PLAN_ID_MAX - 1, r->id);
      pool->implicit = true;
      pool->members[0] = idx;
      pool->nmembers = 1;
      pool->amount.param = -1;
      pool->amount.value = 0;
      if (x)
        get_amount(c, v, "deductible", path, &pool->amount);
    }
  }
  get_amount(c, v, "cap", path, &r->cap);
  if (get_int(c, v, "max_visits", path, 0, 100000, &n, false))
    r->max_visits = (int)n;
  get_money(c, v, "stay_limit", path, &r->stay_limit, false);
  if ((x = json_object_get(v, "item_limits"))) {
    join(kp, path, "item_limits");
    item_limits_parse(c, x, kp, r);
  }
}

/* Pool / cap / group membership lists by responsibility id. */
static void members_parse(struct pctx *c, json_t *v, const char *path, int *members, int *n)
{
  size_t i;
  json_t *e;
  *n = 0;
  if (!v) {
    bad(c, "plan.missing", path, "缺少必填字段");
    return;
  }
  if (!want_array(c, v, path))
    return;
  if (json_array_size(v) > PLAN_MAX_RESP) {
    bad(c, "plan.too_many", path, "成员过多");
    return;
  }
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    int idx;
    joini(ep, path, i);
    if (!json_is_string(e)) {
      bad(c, "plan.type", ep, "应为责任ID");
      continue;
    }
    idx = plan_find_resp(c->p, json_string_value(e));
    if (idx < 0) {
      bad(c, "plan.ref", ep, "未定义的责任“%s”", json_string_value(e));
      continue;
    }
    members[(*n)++] = idx;
  }
}

static enum plan_scope scope_parse(struct pctx *c, json_t *obj, const char *path)
{
  char *s = get_text(c, obj, "scope", path, false);
  enum plan_scope sc = SCOPE_PERSON;
  if (!s)
    return sc;
  if (!strcmp(s, "family"))
    sc = SCOPE_FAMILY;
  else if (strcmp(s, "person")) {
    char kp[PATH_MAX_LEN];
    join(kp, path, "scope");
    bad(c, "plan.enum", kp, "scope 只能是 \"person\" 或 \"family\"");
  }
  free(s);
  return sc;
}

/* The shared parts of a deductible pool and a shared cap. */
struct shared_amount {
  char *id;
  struct plan_amount *amount;
  enum plan_scope *scope;
  int *members, *nmembers;
};

static void shared_amount_parse(struct pctx *c, json_t *e, const char *ep,
                                const struct shared_amount *out)
{
  static const char *const keys[] = {"id", "amount", "scope", "members", NULL};
  char kp[PATH_MAX_LEN];
  check_keys(c, e, ep, keys);
  get_id(c, e, "id", ep, out->id, true);
  if (!get_amount(c, e, "amount", ep, out->amount) && !json_object_get(e, "amount")) {
    join(kp, ep, "amount");
    bad(c, "plan.missing", kp, "缺少必填字段");
  }
  *out->scope = scope_parse(c, e, ep);
  join(kp, ep, "members");
  members_parse(c, json_object_get(e, "members"), kp, out->members, out->nmembers);
}

/* "deductible_pools" (caps == false) or "shared_caps" (caps == true). */
static void shared_amounts_parse(struct pctx *c, json_t *v, bool caps)
{
  const char *section = caps ? "shared_caps" : "deductible_pools";
  size_t i;
  json_t *e;
  if (!want_array(c, v, section))
    return;
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN];
    struct shared_amount sa;
    joini(ep, section, i);
    if (!want_object(c, e, ep))
      continue;
    if (caps) {
      struct plan_cap *cap;
      if (c->p->ncaps >= PLAN_MAX_CAPS) {
        bad(c, "plan.too_many", ep, "共享限额过多（最多 %d）", PLAN_MAX_CAPS);
        return;
      }
      cap = &c->p->caps[c->p->ncaps++];
      memset(cap, 0, sizeof(*cap));
      sa = (struct shared_amount){cap->id, &cap->amount, &cap->scope, cap->members, &cap->nmembers};
    } else {
      struct plan_pool *pool;
      if (c->p->npools >= PLAN_MAX_POOLS) {
        bad(c, "plan.too_many", ep, "免赔额设置过多（最多 %d）", PLAN_MAX_POOLS);
        return;
      }
      pool = &c->p->pools[c->p->npools++];
      memset(pool, 0, sizeof(*pool));
      sa = (struct shared_amount){pool->id, &pool->amount, &pool->scope, pool->members,
                                  &pool->nmembers};
    }
    shared_amount_parse(c, e, ep, &sa);
  }
}

static void groups_parse(struct pctx *c, json_t *v, const char *name)
{
  static const char *const keys[] = {"id", "members", NULL};
  size_t i;
  json_t *e;
  if (!want_array(c, v, name))
    return;
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    int *members, *n;
    joini(ep, name, i);
    if (!want_object(c, e, ep))
      continue;
    check_keys(c, e, ep, keys);
    if (!strcmp(name, "exclusive")) {
      if (c->p->ngroups >= PLAN_MAX_GROUPS) {
        bad(c, "plan.too_many", ep, "互斥组过多（最多 %d）", PLAN_MAX_GROUPS);
        return;
      }
      get_id(c, e, "id", ep, c->p->groups[c->p->ngroups].id, true);
      members = c->p->groups[c->p->ngroups].members;
      n = &c->p->groups[c->p->ngroups].nmembers;
      c->p->ngroups++;
    } else {
      if (c->p->naxes >= PLAN_MAX_RESP) {
        bad(c, "plan.too_many", ep, "分段轴过多");
        return;
      }
      members = c->p->axes[c->p->naxes].members;
      n = &c->p->axes[c->p->naxes].nmembers;
      c->p->naxes++;
    }
    join(kp, ep, "members");
    members_parse(c, json_object_get(e, "members"), kp, members, n);
  }
}

static void pcond_parse(struct pctx *c, json_t *v, const char *path, struct plan_pcond *pc)
{
  static const char *const keys[] = {
      "preexisting", "loyalty_years_min", "claim_free_years_min", "age_min",
      "age_max",     "insutype",          "groups_any",           NULL};
  int64_t n;
  json_t *x;
  char kp[PATH_MAX_LEN];
  memset(pc, 0, sizeof(*pc));
  pc->preexisting = -1;
  pc->loyalty_min = pc->claim_free_min = pc->age_min = pc->age_max = -1;
  if (!want_object(c, v, path))
    return;
  check_keys(c, v, path, keys);
  tristate(c, v, "preexisting", path, &pc->preexisting);
  if (get_int(c, v, "loyalty_years_min", path, 0, 100, &n, false))
    pc->loyalty_min = (int16_t)n;
  if (get_int(c, v, "claim_free_years_min", path, 0, 100, &n, false))
    pc->claim_free_min = (int16_t)n;
  if (get_int(c, v, "age_min", path, 0, 150, &n, false))
    pc->age_min = (int16_t)n;
  if (get_int(c, v, "age_max", path, 0, 150, &n, false))
    pc->age_max = (int16_t)n;
  if ((x = json_object_get(v, "insutype"))) {
    join(kp, path, "insutype");
    intset_parse(c, x, kp, &pc->insutype);
  }
  if ((x = json_object_get(v, "groups_any"))) {
    join(kp, path, "groups_any");
    strset_parse(c, x, kp, &pc->groups_any);
  }
}

static void variants_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {
      "when",  "responsibility", "pool", "excluded", "deductible", "deductible_delta",
      "ratio", "ratio_delta",    "cap",  "note",     NULL};
  size_t i;
  json_t *e;
  if (!want_array(c, v, "variants"))
    return;
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    struct plan_variant *var;
    char *s;
    json_t *w;
    joini(ep, "variants", i);
    if (!want_object(c, e, ep))
      continue;
    if (c->p->nvariants >= PLAN_MAX_VARIANTS) {
      bad(c, "plan.too_many", ep, "变体过多（最多 %d）", PLAN_MAX_VARIANTS);
      return;
    }
    check_keys(c, e, ep, keys);
    var = &c->p->variants[c->p->nvariants++];
    memset(var, 0, sizeof(*var));
    var->resp = var->pool = -1;
    var->deductible = var->cap = -1;
    var->ratio = -1;
    join(kp, ep, "when");
    if ((w = json_object_get(e, "when")))
      pcond_parse(c, w, kp, &var->when);
    else
      bad(c, "plan.missing", kp, "缺少必填字段");
    var->note = get_text(c, e, "note", ep, false);
    if ((s = get_text(c, e, "responsibility", ep, false))) {
      var->resp = plan_find_resp(c->p, s);
      if (var->resp < 0) {
        join(kp, ep, "responsibility");
        bad(c, "plan.ref", kp, "未定义的责任“%s”", s);
      } else {
        var->pool = c->p->resp[var->resp].pool; /* resolved after pools: fixed below */
      }
      free(s);
    }
    if ((s = get_text(c, e, "pool", ep, false))) {
      int k;
      var->pool = -1;
      for (k = 0; k < c->p->npools; k++)
        if (!c->p->pools[k].implicit && !strcmp(c->p->pools[k].id, s))
          var->pool = k;
      if (var->pool < 0) {
        join(kp, ep, "pool");
        bad(c, "plan.ref", kp, "未定义的共用免赔额“%s”", s);
      }
      free(s);
    }
    get_bool(c, e, "excluded", ep, &var->excluded);
    get_money(c, e, "deductible", ep, &var->deductible, false);
    get_money(c, e, "deductible_delta", ep, &var->deductible_delta, false);
    get_ratio(c, e, "ratio", ep, &var->ratio, false, false);
    get_ratio(c, e, "ratio_delta", ep, &var->ratio_delta, false, true);
    get_money(c, e, "cap", ep, &var->cap, false);
  }
}

static void exclusions_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {"id", "name", "when", "lines", "responsibilities", NULL};
  size_t i;
  json_t *e, *x;
  if (!want_array(c, v, "exclusions"))
    return;
  json_array_foreach(v, i, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    struct plan_exclusion *ex;
    joini(ep, "exclusions", i);
    if (!want_object(c, e, ep))
      continue;
    if (c->p->nexclusions >= PLAN_MAX_EXCLUSIONS) {
      bad(c, "plan.too_many", ep, "除外责任过多（最多 %d）", PLAN_MAX_EXCLUSIONS);
      return;
    }
    check_keys(c, e, ep, keys);
    ex = &c->p->exclusions[c->p->nexclusions++];
    memset(ex, 0, sizeof(*ex));
    get_id(c, e, "id", ep, ex->id, true);
    ex->name = get_text(c, e, "name", ep, true);
    if ((x = json_object_get(e, "when"))) {
      join(kp, ep, "when");
      ex->has_when = true;
      cond_parse(c, x, kp, &ex->when);
    }
    if ((x = json_object_get(e, "lines"))) {
      join(kp, ep, "lines");
      ex->lines_mask = list_refs(c, x, kp);
    }
    if (ex->has_when == (ex->lines_mask != 0)) {
      bad(c, "plan.exclusion", ep, "除外责任需要且只能有 when（整笔结算）或 lines（明细目录）之一");
    }
    ex->resp_mask = UINT32_MAX;
    if ((x = json_object_get(e, "responsibilities"))) {
      int members[PLAN_MAX_RESP], n, k;
      join(kp, ep, "responsibilities");
      members_parse(c, x, kp, members, &n);
      ex->resp_mask = 0;
      for (k = 0; k < n; k++)
        ex->resp_mask |= 1u << members[k];
    }
  }
}

static enum hmb_status list_load_file(struct pctx *c, struct plan_list *l, const char *file,
                                      const char *path);

static int cmp_cstr(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool list_add(struct pctx *c, struct plan_list *l, const char *code, size_t n,
                     const char *path)
{
  char ***arr;
  size_t *cnt;
  char *dup;
  if (n == 0 || n >= SETL_CODE_MAX) {
    bad(c, "plan.list_code", path, "目录编码长度应为 1 到 %d", SETL_CODE_MAX - 1);
    return false;
  }
  if (code[n - 1] == '*') {
    n--;
    arr = &l->prefixes;
    cnt = &l->nprefixes;
    if (n == 0) {
      bad(c, "plan.list_code", path, "前缀不能为空");
      return false;
    }
  } else {
    arr = &l->codes;
    cnt = &l->ncodes;
  }
  dup = hmb_strndup(code, n);
  if (!dup || !(*arr = hmb_reallocarray(*arr, *cnt + 1, sizeof(char *)))) {
    free(dup);
    bad(c, "nomem", path, "内存不足");
    return false;
  }
  (*arr)[(*cnt)++] = dup;
  return true;
}

/*
 * Shared checks of an entry of an object keyed by id ("lists",
 * "parameters"): room for one more, a usable id, an object with only the
 * known keys. Returns 1 to take the entry, 0 to skip it, -1 to stop (full).
 */
static int keyed_entry(struct pctx *c, const char *section, const char *key, json_t *e, int count,
                       int max, const char *what, const char *const *keys, char *ep)
{
  join(ep, section, key);
  if (count >= max) {
    bad(c, "plan.too_many", ep, "%s过多（最多 %d）", what, max);
    return -1;
  }
  if (strlen(key) >= PLAN_ID_MAX || !*key) {
    bad(c, "plan.id_length", ep, "%sID过长", what);
    return 0;
  }
  if (!want_object(c, e, ep))
    return 0;
  check_keys(c, e, ep, keys);
  return 1;
}

static void lists_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {"name", "codes", "file", NULL};
  const char *key;
  json_t *e;
  if (!want_object(c, v, "lists"))
    return;
  json_object_foreach(v, key, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    struct plan_list *l;
    json_t *codes;
    char *file;
    int take = keyed_entry(c, "lists", key, e, c->p->nlists, PLAN_MAX_LISTS, "目录", keys, ep);
    if (take < 0)
      return;
    if (!take)
      continue;
    l = &c->p->lists[c->p->nlists++];
    memcpy(l->id, key, strlen(key) + 1);
    l->name = get_text(c, e, "name", ep, true);
    codes = json_object_get(e, "codes");
    file = get_text(c, e, "file", ep, false);
    if ((codes != NULL) == (file != NULL)) {
      bad(c, "plan.list_source", ep, "目录需要且只能有 codes 或 file 之一");
    } else if (codes) {
      size_t i;
      json_t *x;
      join(kp, ep, "codes");
      if (want_array(c, codes, kp))
        json_array_foreach(codes, i, x)
        {
          char xp[PATH_MAX_LEN];
          joini(xp, kp, i);
          if (!json_is_string(x))
            bad(c, "plan.type", xp, "目录编码应为字符串");
          else
            list_add(c, l, json_string_value(x), json_string_length(x), xp);
        }
    } else {
      join(kp, ep, "file");
      list_load_file(c, l, file, kp);
    }
    free(file);
    if (l->ncodes)
      qsort(l->codes, l->ncodes, sizeof(char *), cmp_cstr);
  }
}

static enum hmb_status list_load_file(struct pctx *c, struct plan_list *l, const char *file,
                                      const char *path)
{
  struct buf b = BUF_INIT(PLAN_LIST_FILE_MAX), full = BUF_INIT(4096);
  struct hmb_err e;
  size_t pos = 0;
  unsigned long lineno = 0;
  if (!c->base_dir) {
    bad(c, "plan.list_file", path, "此处不允许引用目录文件");
    return HMB_INVALID;
  }
  if (strstr(file, "..") || file[0] == '/') {
    bad(c, "plan.list_file", path, "目录文件必须位于产品文件所在目录之下");
    return HMB_INVALID;
  }
  hmb_err_init(&e);
  if (buf_addf(&full, "%s/%s", c->base_dir, file) || buf_read_file(&b, full.ptr, &e)) {
    bad(c, "plan.list_file", path, "无法读取目录文件 %s：%s", full.ptr, e.message);
    buf_release(&b);
    buf_release(&full);
    return HMB_IO;
  }
  while (pos < b.len) {
    char *nl = memchr(b.ptr + pos, '\n', b.len - pos);
    size_t end = nl ? (size_t)(nl - b.ptr) : b.len, n;
    char *line = b.ptr + pos, *tab;
    lineno++;
    n = end - pos;
    if (n && line[n - 1] == '\r')
      n--;
    line[n] = '\0';
    pos = end + 1;
    if (!n || line[0] == '#')
      continue;
    tab = strchr(line, '\t');
    if (tab)
      n = (size_t)(tab - line);
    while (n && line[n - 1] == ' ')
      n--;
    {
      char lp[PATH_MAX_LEN];
      snprintf(lp, sizeof(lp), "%s:%lu", full.ptr, lineno);
      list_add(c, l, line, n, lp);
    }
  }
  buf_release(&b);
  buf_release(&full);
  return HMB_OK;
}

static void params_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {"name", "value", "by_scheme", NULL};
  const char *key;
  json_t *e;
  if (!want_object(c, v, "parameters"))
    return;
  json_object_foreach(v, key, e)
  {
    char ep[PATH_MAX_LEN], kp[PATH_MAX_LEN];
    struct plan_param *pp;
    json_t *bs;
    int take =
        keyed_entry(c, "parameters", key, e, c->p->nparams, PLAN_MAX_PARAMS, "参数", keys, ep);
    if (take < 0)
      return;
    if (!take)
      continue;
    pp = &c->p->params[c->p->nparams++];
    memcpy(pp->id, key, strlen(key) + 1);
    pp->name = get_text(c, e, "name", ep, true);
    pp->value = -1;
    get_money(c, e, "value", ep, &pp->value, false);
    if ((bs = json_object_get(e, "by_scheme"))) {
      const char *sk;
      json_t *sv;
      join(kp, ep, "by_scheme");
      if (want_object(c, bs, kp))
        json_object_foreach(bs, sk, sv)
        {
          char sp[PATH_MAX_LEN];
          int64_t scheme;
          struct hmb_err err;
          join(sp, kp, sk);
          hmb_err_init(&err);
          if (pp->nschemes >= PLAN_MAX_CODES) {
            bad(c, "plan.too_many", sp, "险种过多");
            break;
          }
          if (str_to_i64(sk, strlen(sk), 1, 99999, &scheme, sp, &err)) {
            bad(c, "plan.scheme", sp, "险种代码应为数字，如 \"310\"");
            continue;
          }
          if (json_money(c, sv, sp, &pp->by_scheme[pp->nschemes]))
            pp->schemes[pp->nschemes++] = (int32_t)scheme;
        }
    }
    if (pp->value < 0 && !pp->nschemes)
      bad(c, "plan.param_value", ep, "参数需要 value 或 by_scheme");
  }
}

static void premiums_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {"age_basis", "bands", "groups", NULL};
  static const char *const bkeys[] = {"age_min", "age_max", "amount", "expected_share", NULL};
  static const char *const gkeys[] = {"id", "name", "amount", NULL};
  json_t *bands, *groups, *e;
  size_t i;
  char *basis;
  if (!want_object(c, v, "premiums"))
    return;
  check_keys(c, v, "premiums", keys);
  if ((basis = get_text(c, v, "age_basis", "premiums", false))) {
    if (!strcmp(basis, "coverage_end"))
      c->p->age_basis_end = 1;
    else if (strcmp(basis, "coverage_start"))
      bad(c, "plan.enum", "premiums.age_basis",
          "age_basis 只能是 \"coverage_start\" 或 \"coverage_end\"");
    free(basis);
  }
  bands = json_object_get(v, "bands");
  if (!bands)
    bad(c, "plan.missing", "premiums.bands", "缺少必填字段");
  else if (want_array(c, bands, "premiums.bands")) {
    if (json_array_size(bands) > PLAN_MAX_PREMIUM_BANDS)
      bad(c, "plan.too_many", "premiums.bands", "保费档次过多");
    else
      json_array_foreach(bands, i, e)
      {
        char ep[PATH_MAX_LEN];
        struct plan_premium_band *b = &c->p->premium_bands[c->p->npremium_bands++];
        int64_t n;
        joini(ep, "premiums.bands", i);
        b->age_min = b->age_max = -1;
        b->expected_share = -1;
        b->amount = 0;
        if (!want_object(c, e, ep))
          continue;
        check_keys(c, e, ep, bkeys);
        if (get_int(c, e, "age_min", ep, 0, 150, &n, false))
          b->age_min = (int16_t)n;
        if (get_int(c, e, "age_max", ep, 0, 150, &n, false))
          b->age_max = (int16_t)n;
        get_money(c, e, "amount", ep, &b->amount, true);
        get_ratio(c, e, "expected_share", ep, &b->expected_share, false, false);
      }
  }
  groups = json_object_get(v, "groups");
  if (groups && want_array(c, groups, "premiums.groups")) {
    if (json_array_size(groups) > PLAN_MAX_PREMIUM_GROUPS)
      bad(c, "plan.too_many", "premiums.groups", "保费人群过多");
    else
      json_array_foreach(groups, i, e)
      {
        char ep[PATH_MAX_LEN];
        struct plan_premium_group *g = &c->p->premium_groups[c->p->npremium_groups++];
        joini(ep, "premiums.groups", i);
        if (!want_object(c, e, ep))
          continue;
        check_keys(c, e, ep, gkeys);
        get_id(c, e, "id", ep, g->id, true);
        g->name = get_text(c, e, "name", ep, true);
        get_money(c, e, "amount", ep, &g->amount, true);
      }
  }
}

static void enrollment_parse(struct pctx *c, json_t *v)
{
  static const char *const keys[] = {"window",
                                     "eligible",
                                     "veterans_any_time",
                                     "newborn_both_parents",
                                     "free_minor_both_parents",
                                     "personal_account",
                                     NULL};
  static const char *const wkeys[] = {"start", "end", NULL};
  static const char *const akeys[] = {"relations", "scope", NULL};
  struct plan_enrollment *en = &c->p->enrollment;
  json_t *w, *el, *pa, *e;
  size_t i;
  if (!want_object(c, v, "enrollment"))
    return;
  check_keys(c, v, "enrollment", keys);
  w = json_object_get(v, "window");
  if (!w)
    bad(c, "plan.missing", "enrollment.window", "缺少必填字段");
  else if (want_object(c, w, "enrollment.window")) {
    check_keys(c, w, "enrollment.window", wkeys);
    get_date(c, w, "start", "enrollment.window", &en->window_start, true);
    get_date(c, w, "end", "enrollment.window", &en->window_end, true);
  }
  el = json_object_get(v, "eligible");
  if (el && want_array(c, el, "enrollment.eligible"))
    json_array_foreach(el, i, e)
    {
      char ep[PATH_MAX_LEN];
      const char *s = json_is_string(e) ? json_string_value(e) : "";
      joini(ep, "enrollment.eligible", i);
      if (!strcmp(s, "city_insured"))
        en->city_insured = true;
      else if (!strcmp(s, "province_workers_students"))
        en->province_workers_students = true;
      else
        bad(c, "plan.enum", ep, "可选值：city_insured、province_workers_students");
    }
  if (!el)
    en->city_insured = true;
  get_bool(c, v, "veterans_any_time", "enrollment", &en->veterans_any_time);
  get_bool(c, v, "newborn_both_parents", "enrollment", &en->newborn_both_parents);
  get_bool(c, v, "free_minor_both_parents", "enrollment", &en->free_minor_both_parents);
  pa = json_object_get(v, "personal_account");
  if (pa && want_object(c, pa, "enrollment.personal_account")) {
    json_t *rel = json_object_get(pa, "relations");
    char *scope;
    check_keys(c, pa, "enrollment.personal_account", akeys);
    if (rel && want_array(c, rel, "enrollment.personal_account.relations"))
      json_array_foreach(rel, i, e)
      {
        static const char *const names[] = {"self", "spouse", "child", "parent", "spouse_parent"};
        const char *s = json_is_string(e) ? json_string_value(e) : "";
        size_t k;
        bool ok = false;
        char ep[PATH_MAX_LEN];
        for (k = 0; k < ARRAY_SIZE(names); k++)
          if (!strcmp(s, names[k])) {
            en->account_relations |= 1u << k;
            ok = true;
          }
        if (!ok) {
          joini(ep, "enrollment.personal_account.relations", i);
          bad(c, "plan.enum", ep, "可选值：self、spouse、child、parent、spouse_parent");
        }
      }
    if ((scope = get_text(c, pa, "scope", "enrollment.personal_account", false))) {
      if (!strcmp(scope, "province"))
        en->account_province = true;
      else if (strcmp(scope, "city"))
        bad(c, "plan.enum", "enrollment.personal_account.scope", "scope 只能是 city 或 province");
      free(scope);
    }
  }
}

enum hmb_status plan_parse_json(struct plan *p, const char *text, size_t len, const char *base_dir,
                                plan_report_fn report, void *ctx, struct hmb_err *err)
{
  static const char *const keys[] = {"format",
                                     "status",
                                     "id",
                                     "name",
                                     "city",
                                     "region_code",
                                     "year",
                                     "coverage",
                                     "source",
                                     "term_years",
                                     "loss_ratio_target",
                                     "tier",
                                     "enrollment",
                                     "premiums",
                                     "lists",
                                     "parameters",
                                     "responsibilities",
                                     "deductible_pools",
                                     "shared_caps",
                                     "exclusive",
                                     "band_axes",
                                     "variants",
                                     "exclusions",
                                     NULL};
  static const char *const ckeys[] = {"start", "end", NULL};
  struct pctx c = {p, base_dir, report, ctx, err, 0};
  json_t *root, *x;
  char *s;
  int64_t n;
  enum hmb_status result;

  {
    struct hmb_err e;
    result = json_file_parse(text, len, PLAN_FILE_MAX, "plan", "产品文件", &root, &e);
    if (result == HMB_TOO_LARGE) {
      if (err)
        *err = e;
      return result;
    }
    if (result) {
      report_err(&c, &e); /* a syntax error is one of the file's problems */
      return result;
    }
  }
  if (!json_is_object(root)) {
    bad(&c, "plan.type", "", "产品文件顶层应为对象");
    json_decref(root);
    return HMB_INVALID;
  }
  check_keys(&c, root, "", keys);
  s = get_text(&c, root, "format", "", true);
  if (s && strcmp(s, "hmb-plan/1"))
    bad(&c, "plan.format", "format", "不支持的格式“%s”：应为 \"hmb-plan/1\"", s);
  free(s);
  get_id(&c, root, "id", "", p->id, true);
  p->name = get_text(&c, root, "name", "", true);
  p->city = get_text(&c, root, "city", "", false);
  p->source = get_text(&c, root, "source", "", true);
  if ((s = get_text(&c, root, "region_code", "", false))) {
    if (strlen(s) >= sizeof(p->region_code))
      bad(&c, "plan.region", "region_code", "医保区划代码应为 6 位数字");
    else
      memcpy(p->region_code, s, strlen(s) + 1);
    free(s);
  }
  if (get_int(&c, root, "year", "", 2000, 2100, &n, true))
    p->year = (int)n;
  x = json_object_get(root, "coverage");
  if (!x)
    bad(&c, "plan.missing", "coverage", "缺少必填字段");
  else if (want_object(&c, x, "coverage")) {
    check_keys(&c, x, "coverage", ckeys);
    get_date(&c, x, "start", "coverage", &p->cover_start, true);
    get_date(&c, x, "end", "coverage", &p->cover_end, true);
  }
  if (get_int(&c, root, "term_years", "", 1, 10, &n, false))
    p->term_years = (int)n;
  get_ratio(&c, root, "loss_ratio_target", "", &p->loss_ratio_target, false, false);
  if ((s = get_text(&c, root, "status", "", false))) {
    if (!strcmp(s, "draft"))
      p->draft = true;
    else if (strcmp(s, "final"))
      bad(&c, "plan.enum", "status", "status 只能是 \"final\" 或 \"draft\"");
    free(s);
  }
  if ((s = get_text(&c, root, "tier", "", false))) {
    if (!strcmp(s, "upgraded"))
      p->tier = TIER_UPGRADED;
    else if (strcmp(s, "basic"))
      bad(&c, "plan.enum", "tier", "tier 只能是 \"basic\" 或 \"upgraded\"");
    free(s);
  }
  if ((x = json_object_get(root, "enrollment")))
    enrollment_parse(&c, x);
  else {
    bad(&c, "plan.missing", "enrollment", "缺少必填字段");
  }
  if ((x = json_object_get(root, "premiums")))
    premiums_parse(&c, x);
  else
    bad(&c, "plan.missing", "premiums", "缺少必填字段");
  if ((x = json_object_get(root, "lists")))
    lists_parse(&c, x);
  if ((x = json_object_get(root, "parameters")))
    params_parse(&c, x);
  x = json_object_get(root, "responsibilities");
  if (!x)
    bad(&c, "plan.missing", "responsibilities", "缺少必填字段");
  else if (want_array(&c, x, "responsibilities")) {
    size_t i;
    json_t *e;
    if (json_array_size(x) > PLAN_MAX_RESP)
      bad(&c, "plan.too_many", "responsibilities", "保险责任最多 %d 项", PLAN_MAX_RESP);
    else {
      /* ids first, so pools, caps and variants can refer to any of them */
      json_array_foreach(x, i, e)
      {
        char ep[PATH_MAX_LEN];
        joini(ep, "responsibilities", i);
        resp_parse(&c, e, ep, p->nresp++);
      }
    }
    /* {"deductible": {"pool": id}} is only legal for members of that pool */
    json_array_foreach(x, i, e)
    {
      json_t *d = json_is_object(e) ? json_object_get(e, "deductible") : NULL;
      if (d && json_is_object(d)) {
        static const char *const dkeys[] = {"pool", "param", NULL};
        char dp[PATH_MAX_LEN];
        snprintf(dp, sizeof(dp), "responsibilities[%zu].deductible", i);
        check_keys(&c, d, dp, dkeys);
      }
    }
  }
  if ((x = json_object_get(root, "deductible_pools")))
    shared_amounts_parse(&c, x, false);
  if ((x = json_object_get(root, "shared_caps")))
    shared_amounts_parse(&c, x, true);
  if ((x = json_object_get(root, "exclusive")))
    groups_parse(&c, x, "exclusive");
  if ((x = json_object_get(root, "band_axes")))
    groups_parse(&c, x, "band_axes");
  /* pool of each responsibility is needed by variants naming a responsibility */
  {
    int i, j;
    for (i = 0; i < p->npools; i++)
      for (j = 0; j < p->pools[i].nmembers; j++)
        p->resp[p->pools[i].members[j]].pool = i;
  }
  if ((x = json_object_get(root, "variants")))
    variants_parse(&c, x);
  if ((x = json_object_get(root, "exclusions")))
    exclusions_parse(&c, x);
  json_decref(root);
  if (c.problems)
    return HMB_INVALID;
  result = plan_finish(p, report, ctx, err);
  return result;
}

static void dir_of(const char *path, struct buf *out)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    buf_addstr(out, ".");
  else if (slash == path)
    buf_addstr(out, "/");
  else
    buf_add(out, path, (size_t)(slash - path));
}

enum hmb_status plan_load(struct plan *p, const char *path, plan_report_fn report, void *ctx,
                          struct hmb_err *err)
{
  struct buf text = BUF_INIT(PLAN_FILE_MAX), dir = BUF_INIT(4096);
  enum hmb_status result = buf_read_file(&text, path, err);
  if (!result) {
    dir_of(path, &dir);
    result = plan_parse_json(p, text.ptr, text.len, dir.ptr, report, ctx, err);
  } else if (report) {
    report(ctx, err);
  }
  buf_release(&text);
  buf_release(&dir);
  return result;
}

enum hmb_status plan_set_param(struct plan *p, const char *assignment, struct hmb_err *err)
{
  const char *eq = strchr(assignment, '='), *dot;
  char name[PLAN_ID_MAX];
  int idx;
  int64_t scheme = -1;
  hmb_fen value;
  enum hmb_status result;
  size_t n;
  if (!eq)
    return hmb_err_set(err, HMB_INVALID, "param.syntax", "--param",
                       "参数格式应为 名称=金额 或 名称.险种=金额");
  dot = memchr(assignment, '.', (size_t)(eq - assignment));
  n = (size_t)((dot ? dot : eq) - assignment);
  if (n == 0 || n >= sizeof(name))
    return hmb_err_set(err, HMB_INVALID, "param.syntax", "--param", "参数名称无效");
  memcpy(name, assignment, n);
  name[n] = '\0';
  idx = plan_find_param(p, name);
  if (idx < 0)
    return hmb_err_set(err, HMB_NOT_FOUND, "param.unknown", "--param", "产品没有参数“%s”", name);
  if (dot) {
    result = str_to_i64(dot + 1, (size_t)(eq - dot - 1), 1, 99999, &scheme, "--param", err);
    if (result)
      return result;
  }
  result = money_parse_nonneg(eq + 1, strlen(eq + 1), &value, "--param", err);
  if (result)
    return result;
  if (scheme < 0) {
    p->params[idx].value = value;
    p->params[idx].nschemes = 0;
    return HMB_OK;
  }
  for (n = 0; n < (size_t)p->params[idx].nschemes; n++)
    if (p->params[idx].schemes[n] == scheme) {
      p->params[idx].by_scheme[n] = value;
      return HMB_OK;
    }
  if (p->params[idx].nschemes >= PLAN_MAX_CODES)
    return hmb_err_set(err, HMB_TOO_LARGE, "param.too_many", "--param", "险种过多");
  p->params[idx].schemes[p->params[idx].nschemes] = (int32_t)scheme;
  p->params[idx].by_scheme[p->params[idx].nschemes++] = value;
  return HMB_OK;
}

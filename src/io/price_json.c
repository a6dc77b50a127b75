#include "compat.h"
#include "price_json.h"
#include "buf.h"
#include "json_keys.h"

#include <jansson.h>

#define PATH_LEN HMB_ERR_FIELD_MAX

/* Reject keys outside `known` (NULL-terminated): typos must not pass silently. */
static enum hmb_status check_keys(json_t *obj, const char *path, const char *const *known,
                                  struct hmb_err *err)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v)
  {
    (void)v;
    if (!json_key_allowed(key, known))
      return hmb_err_set(err, HMB_INVALID, "price.unknown_key", path, "未知字段“%s”", key);
  }
  return HMB_OK;
}

/* A ratio "80%" (bp) or an amount in yuan (a string or an integer; fen). */
static enum hmb_status value_parse(json_t *v, bool ratio, const char *path, int64_t *out,
                                   struct hmb_err *err)
{
  if (ratio) {
    hmb_bp bp;
    if (!json_is_string(v))
      return hmb_err_set(err, HMB_INVALID, "price.type", path, "比例应为字符串，如 \"80%%\"");
    if (ratio_parse(json_string_value(v), json_string_length(v), &bp, path, err))
      return HMB_INVALID;
    *out = bp;
    return HMB_OK;
  }
  if (json_is_integer(v)) {
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > HMB_FEN_LIMIT / 100)
      return hmb_err_set(err, HMB_INVALID, "money.range", path, "金额超出允许范围");
    *out = (int64_t)n * 100;
    return HMB_OK;
  }
  if (!json_is_string(v))
    return hmb_err_set(err, HMB_INVALID, "price.type", path,
                       "金额应为字符串（如 \"15000\"）或整数（元）");
  return money_parse_nonneg(json_string_value(v), json_string_length(v), out, path, err);
}

enum hmb_status price_loss_ratio_parse(const char *s, size_t len, hmb_bp *out, const char *field,
                                       struct hmb_err *err)
{
  hmb_fen v;
  /* a percentage with two decimals is the basis points: the digits of money */
  if (!len || s[len - 1] != '%' || money_parse_nonneg(s, len - 1, &v, field, err) || v > 100000)
    return hmb_err_set(err, HMB_INVALID, "price.loss_ratio", field,
                       "赔付率应写成百分比，如 \"85%%\"（0 到 1000%%，至多两位小数）");
  *out = (hmb_bp)v;
  return HMB_OK;
}

/* "id.bands[N]" -> id and N; a plain id gives band -1. false if malformed. */
static bool split_band(const char *s, const char *prefix_sep, char *id, size_t idsz, int *band)
{
  const char *b = strstr(s, prefix_sep);
  char *end;
  long n;
  *band = -1;
  if (!b) {
    size_t len = strlen(s);
    if (len >= idsz)
      return false;
    memcpy(id, s, len + 1);
    return true;
  }
  if ((size_t)(b - s) >= idsz)
    return false;
  memcpy(id, s, (size_t)(b - s));
  id[b - s] = '\0';
  b += strlen(prefix_sep);
  if (*b < '0' || *b > '9')
    return false;
  n = strtol(b, &end, 10);
  if (strcmp(end, "]") || n > PLAN_MAX_BANDS)
    return false;
  *band = (int)n;
  return true;
}

static enum hmb_status target_parse(enum price_kind kind, const char *s, const struct plan *p,
                                    const char *path, struct price_target *t, struct hmb_err *err)
{
  char id[PRICE_NAME_MAX];
  memset(t, 0, sizeof(*t));
  t->index = -1;
  t->band = -1;
  snprintf(t->label, sizeof(t->label), "%s", s);
  switch (kind) {
  case PRICE_DEDUCTIBLE:
    for (int i = 0; i < p->npools; i++)
      if (!strcmp(p->pools[i].id, s))
        t->index = i;
    break;
  case PRICE_RATIO:
  case PRICE_BAND_EDGE:
    if (!split_band(s, ".bands[", id, sizeof(id), &t->band))
      return hmb_err_set(err, HMB_INVALID, "price.target", path,
                         "应为责任ID或“责任ID.bands[序号]”：“%s”", s);
    if (kind == PRICE_BAND_EDGE && t->band < 1)
      return hmb_err_set(err, HMB_INVALID, "price.target", path,
                         "分段起点应写成“责任ID.bands[序号]”，序号从 1 起：“%s”", s);
    t->index = plan_find_resp(p, id);
    break;
  case PRICE_CAP:
    t->index = plan_find_resp(p, s);
    for (int i = 0; i < p->ncaps && t->index < 0; i++)
      if (!strcmp(p->caps[i].id, s)) {
        t->index = i;
        t->shared = true;
      }
    break;
  case PRICE_PREMIUM:
    if (!strncmp(s, "bands[", 6)) {
      if (!split_band(s, "bands[", id, sizeof(id), &t->band) || id[0])
        return hmb_err_set(err, HMB_INVALID, "price.target", path, "保费档次应写成“bands[序号]”");
      t->index = t->band;
      t->band = -1;
    } else {
      for (int i = 0; i < p->npremium_groups; i++)
        if (!strcmp(p->premium_groups[i].id, s)) {
          t->index = i;
          t->shared = true;
        }
    }
    break;
  default: BUG("price kind %d", (int)kind);
  }
  if (t->index < 0)
    return hmb_err_set(err, HMB_INVALID, "price.target", path, "方案“%s”中没有“%s”", p->id, s);
  return HMB_OK;
}

static enum hmb_status axis_parse(json_t *v, size_t ai, const struct plan *p, struct price_axis *ax,
                                  struct hmb_err *err)
{
  char path[32];
  static const char *const known[] = {"deductible", "ratio",  "band_edge", "cap",
                                      "premium",    "values", "range",     NULL};
  char kp[PATH_LEN];
  json_t *targets = NULL, *values, *range;
  int kinds = 0;
  size_t i;
  json_t *e;
  enum hmb_status result;

  snprintf(path, sizeof(path), "axes[%zu]", ai);
  if (!json_is_object(v))
    return hmb_err_set(err, HMB_INVALID, "price.type", path, "应为对象");
  result = check_keys(v, path, known, err);
  if (result)
    return result;
  for (int k = 0; k < PRICE__KINDS; k++)
    if (json_object_get(v, price_kind_name[k])) {
      targets = json_object_get(v, price_kind_name[k]);
      ax->kind = (enum price_kind)k;
      kinds++;
    }
  if (kinds != 1)
    return hmb_err_set(err, HMB_INVALID, "price.axis", path,
                       "每个维度恰好需要 deductible、ratio、band_edge、cap、premium 之一");
  snprintf(kp, sizeof(kp), "%s.%s", path, price_kind_name[ax->kind]);
  if (!json_is_array(targets) || !json_array_size(targets) ||
      json_array_size(targets) > PRICE_MAX_TARGETS)
    return hmb_err_set(err, HMB_INVALID, "price.targets", kp, "应为 1 到 %d 个对象的数组",
                       PRICE_MAX_TARGETS);
  json_array_foreach(targets, i, e)
  {
    snprintf(kp, sizeof(kp), "%s.%s[%zu]", path, price_kind_name[ax->kind], i);
    if (!json_is_string(e))
      return hmb_err_set(err, HMB_INVALID, "price.type", kp, "应为字符串");
    result = target_parse(ax->kind, json_string_value(e), p, kp, &ax->t[ax->nt++], err);
    if (result)
      return result;
  }
  values = json_object_get(v, "values");
  range = json_object_get(v, "range");
  if (!values == !range)
    return hmb_err_set(err, HMB_INVALID, "price.values", path, "需要 values 或 range 之一");
  if (values) {
    snprintf(kp, sizeof(kp), "%s.values", path);
    if (!json_is_array(values) || !json_array_size(values) ||
        json_array_size(values) > PRICE_MAX_VALUES)
      return hmb_err_set(err, HMB_INVALID, "price.values", kp, "应为 1 到 %d 个取值的数组",
                         PRICE_MAX_VALUES);
    json_array_foreach(values, i, e)
    {
      snprintf(kp, sizeof(kp), "%s.values[%zu]", path, i);
      result = value_parse(e, ax->kind == PRICE_RATIO, kp, &ax->v[ax->nv++], err);
      if (result)
        return result;
    }
    return HMB_OK;
  }
  {
    static const char *const rknown[] = {"from", "to", "step", NULL};
    static const char *const names[] = {"from", "to", "step"};
    int64_t r[3];
    snprintf(kp, sizeof(kp), "%s.range", path);
    if (!json_is_object(range))
      return hmb_err_set(err, HMB_INVALID, "price.type", kp, "应为对象 {from, to, step}");
    result = check_keys(range, kp, rknown, err);
    for (int k = 0; k < 3 && !result; k++) {
      json_t *x = json_object_get(range, names[k]);
      snprintf(kp, sizeof(kp), "%s.range.%s", path, names[k]);
      if (!x)
        return hmb_err_set(err, HMB_INVALID, "price.missing", kp, "缺少必填字段");
      result = value_parse(x, ax->kind == PRICE_RATIO, kp, &r[k], err);
    }
    if (result)
      return result;
    if (r[2] <= 0)
      return hmb_err_set(err, HMB_INVALID, "price.range", kp, "步长应大于 0");
    snprintf(kp, sizeof(kp), "%s.range", path);
    if (r[1] < r[0])
      return hmb_err_set(err, HMB_INVALID, "price.range", kp, "终点小于起点");
    if ((r[1] - r[0]) / r[2] >= PRICE_MAX_VALUES)
      return hmb_err_set(err, HMB_INVALID, "price.values", kp, "取值超过 %d 个", PRICE_MAX_VALUES);
    for (int64_t x = r[0]; x <= r[1]; x += r[2])
      ax->v[ax->nv++] = x;
  }
  return HMB_OK;
}

static enum hmb_status space_from_json(struct price_space *sp, const struct plan *p, json_t *root,
                                       struct hmb_err *err)
{
  static const char *const known[] = {"format", "target_loss_ratio", "axes", NULL};
  static const char *const tknown[] = {"min", "max", NULL};
  json_t *fmt, *target, *axes, *e;
  enum hmb_status result;
  size_t i;

  memset(sp, 0, sizeof(*sp));
  if (!json_is_object(root))
    return hmb_err_set(err, HMB_INVALID, "price.type", "", "搜索空间文件应为 JSON 对象");
  result = check_keys(root, "", known, err);
  if (result)
    return result;
  fmt = json_object_get(root, "format");
  if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "hmb-price/1"))
    return hmb_err_set(err, HMB_INVALID, "price.format", "format", "应为 \"hmb-price/1\"");
  target = json_object_get(root, "target_loss_ratio");
  if (!json_is_object(target))
    return hmb_err_set(err, HMB_INVALID, "price.missing", "target_loss_ratio",
                       "缺少目标赔付率区间 {min, max}");
  result = check_keys(target, "target_loss_ratio", tknown, err);
  if (!result) {
    json_t *mn = json_object_get(target, "min"), *mx = json_object_get(target, "max");
    if (!json_is_string(mn) || !json_is_string(mx))
      return hmb_err_set(err, HMB_INVALID, "price.missing", "target_loss_ratio",
                         "需要 min 与 max（百分比字符串）");
    result = price_loss_ratio_parse(json_string_value(mn), json_string_length(mn), &sp->target_min,
                                    "target_loss_ratio.min", err);
    if (!result)
      result = price_loss_ratio_parse(json_string_value(mx), json_string_length(mx),
                                      &sp->target_max, "target_loss_ratio.max", err);
  }
  if (result)
    return result;
  axes = json_object_get(root, "axes");
  if (!json_is_array(axes) || json_array_size(axes) > PRICE_MAX_AXES)
    return hmb_err_set(err, HMB_INVALID, "price.axes", "axes", "应为至多 %d 个维度的数组",
                       PRICE_MAX_AXES);
  json_array_foreach(axes, i, e)
  {
    result = axis_parse(e, i, p, &sp->axes[sp->naxes++], err);
    if (result)
      return result;
  }
  return price_space_check(sp, p, err);
}

enum hmb_status price_space_parse_json(struct price_space *sp, const struct plan *p,
                                       const char *text, size_t len, struct hmb_err *err)
{
  json_t *root;
  enum hmb_status result =
      json_file_parse(text, len, PRICE_FILE_MAX, "price", "搜索空间文件", &root, err);

  if (result)
    return result;
  result = space_from_json(sp, p, root, err);
  json_decref(root);
  return result;
}

enum hmb_status price_space_load(struct price_space *sp, const struct plan *p, const char *path,
                                 struct hmb_err *err)
{
  struct buf text = BUF_INIT(PRICE_FILE_MAX);
  enum hmb_status result = buf_read_file(&text, path, err);
  if (!result)
    result = price_space_parse_json(sp, p, text.ptr, text.len, err);
  buf_release(&text);
  return result;
}

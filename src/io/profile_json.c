#include "compat.h"
#include "profile_json.h"
#include "buf.h"
#include "json_keys.h"

#include <jansson.h>
#include <unistd.h>

#define PATH_LEN HMB_ERR_FIELD_MAX

static void join(char *out, const char *base, const char *key)
{
  int n = snprintf(out, PATH_LEN, "%s%s%s", base, *base ? "." : "", key);
  if (n < 0 || n >= PATH_LEN)
    hmb_utf8_truncate(out, PATH_LEN);
}

/* Reject keys outside `known` (NULL-terminated): typos must not pass silently. */
static enum hmb_status check_keys(json_t *obj, const char *path, const char *const *known,
                                  struct hmb_err *err)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v)
  {
    char kp[PATH_LEN];
    (void)v;
    if (!json_key_allowed(key, known)) {
      join(kp, path, key);
      return hmb_err_set(err, HMB_INVALID, "profile.unknown_key", kp, "未知字段“%s”", key);
    }
  }
  return HMB_OK;
}

/* A required string member, duplicated into *out (caller frees). */
static enum hmb_status get_text(json_t *obj, const char *key, const char *path, char **out,
                                struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);
  char kp[PATH_LEN];
  join(kp, path, key);
  if (!v)
    return hmb_err_set(err, HMB_INVALID, "profile.missing", kp, "缺少必填字段");
  if (!json_is_string(v) || !json_string_length(v))
    return hmb_err_set(err, HMB_INVALID, "profile.type", kp, "应为非空字符串");
  if (strlen(json_string_value(v)) != json_string_length(v))
    return hmb_err_set(err, HMB_INVALID, "profile.type", kp, "字符串不能含 NUL 字符");
  *out = hmb_strndup(json_string_value(v), json_string_length(v));
  if (!*out)
    return hmb_err_set(err, HMB_NOMEM, "nomem", kp, "内存不足");
  return HMB_OK;
}

/* A required id member into a fixed buffer of `size` bytes. */
static enum hmb_status get_id(json_t *obj, const char *key, const char *path, char *out,
                              size_t size, struct hmb_err *err)
{
  char *s = NULL;
  char kp[PATH_LEN];
  enum hmb_status result = get_text(obj, key, path, &s, err);
  if (result || !s)
    return result ? result : HMB_NOMEM;
  if (strlen(s) >= size) {
    join(kp, path, key);
    result = hmb_err_set(err, HMB_INVALID, "profile.id_length", kp, "ID 过长（最多 %zu 个字符）",
                         size - 1);
  } else {
    memcpy(out, s, strlen(s) + 1);
  }
  free(s);
  return result;
}

/* The parameters a rule may carry, with the bit that allows each. */
static const struct {
  const char *key;
  unsigned bit;
} rule_params[] = {
    {"amount", PROFILE_P_AMOUNT}, {"ratio", PROFILE_P_RATIO}, {"scope", PROFILE_P_SCOPE},
    {"tier", PROFILE_P_TIER},     {"years", PROFILE_P_YEARS},
};

static enum hmb_status param_parse(json_t *v, const char *kp, unsigned bit, struct profile_rule *r,
                                   struct hmb_err *err)
{
  const char *s = json_is_string(v) ? json_string_value(v) : NULL;
  size_t n = json_is_string(v) ? json_string_length(v) : 0;
  switch (bit) {
  case PROFILE_P_AMOUNT:
    if (!s)
      return hmb_err_set(err, HMB_INVALID, "profile.type", kp, "金额应为字符串，如 \"15000\"");
    return money_parse_nonneg(s, n, &r->amount, kp, err);
  case PROFILE_P_RATIO:
    if (!s)
      return hmb_err_set(err, HMB_INVALID, "profile.type", kp, "比例应为字符串，如 \"70%%\"");
    return ratio_parse(s, n, &r->ratio, kp, err);
  case PROFILE_P_SCOPE:
    if (s && !strcmp(s, "total"))
      r->scope = PROFILE_CAP_TOTAL;
    else if (s && !strcmp(s, "each"))
      r->scope = PROFILE_CAP_EACH;
    else
      return hmb_err_set(err, HMB_INVALID, "profile.enum", kp,
                         "scope 只能是 \"total\" 或 \"each\"");
    return HMB_OK;
  case PROFILE_P_TIER:
    if (s && !strcmp(s, "basic"))
      r->tier = TIER_BASIC;
    else if (s && !strcmp(s, "upgraded"))
      r->tier = TIER_UPGRADED;
    else
      return hmb_err_set(err, HMB_INVALID, "profile.enum", kp,
                         "tier 只能是 \"basic\" 或 \"upgraded\"");
    return HMB_OK;
  case PROFILE_P_YEARS:
    if (!json_is_integer(v))
      return hmb_err_set(err, HMB_INVALID, "profile.type", kp, "年限应为整数");
    if (json_integer_value(v) < 1 || json_integer_value(v) > 100)
      return hmb_err_set(err, HMB_INVALID, "profile.range", kp, "年限应在 1 到 100 之间");
    r->years = (int)json_integer_value(v);
    return HMB_OK;
  default: BUG("unknown profile parameter bit %u", bit);
  }
}

static enum hmb_status rule_parse(json_t *v, const char *path, struct profile_rule *r,
                                  struct hmb_err *err)
{
  static const char *const keys[] = {"id",    "check", "message", "amount", "ratio",
                                     "scope", "tier",  "years",   NULL};
  enum hmb_status result;
  char *check = NULL;
  char kp[PATH_LEN];
  unsigned params;
  size_t i;
  int k;

  if (!json_is_object(v))
    return hmb_err_set(err, HMB_INVALID, "profile.type", path, "应为对象");
  result = check_keys(v, path, keys, err);
  if (!result)
    result = get_id(v, "id", path, r->id, sizeof(r->id), err);
  if (!result)
    result = get_text(v, "message", path, &r->message, err);
  if (!result)
    result = get_text(v, "check", path, &check, err);
  if (result)
    return result;
  k = regprofile_check_find(check);
  if (k < 0) {
    join(kp, path, "check");
    result = hmb_err_set(err, HMB_INVALID, "profile.check", kp,
                         "未知的检查项“%s”：可用 deductible_max、ratio_min、cap_min、"
                         "premium_avg_max、loss_ratio_target_min、term_years_min",
                         check);
    free(check);
    return result;
  }
  r->check = (enum profile_check_kind)k;
  params = regprofile_check_params(r->check);
  for (i = 0; i < ARRAY_SIZE(rule_params); i++) {
    json_t *x = json_object_get(v, rule_params[i].key);
    bool wanted = params & rule_params[i].bit;
    join(kp, path, rule_params[i].key);
    if (x && !wanted)
      result = hmb_err_set(err, HMB_INVALID, "profile.param", kp, "检查项 %s 不接受参数 %s", check,
                           rule_params[i].key);
    else if (!x && wanted)
      result = hmb_err_set(err, HMB_INVALID, "profile.missing", kp, "检查项 %s 需要参数 %s", check,
                           rule_params[i].key);
    else if (x)
      result = param_parse(x, kp, rule_params[i].bit, r, err);
    if (result)
      break;
  }
  free(check);
  return result;
}

static enum hmb_status profile_from_json(struct profile *pr, json_t *root, struct hmb_err *err)
{
  static const char *const keys[] = {"format", "id", "name", "source", "rules", NULL};
  enum hmb_status result;
  char *format = NULL;
  json_t *rules, *e;
  size_t i;

  if (!json_is_object(root))
    return hmb_err_set(err, HMB_INVALID, "profile.type", "", "规则集文件顶层应为对象");
  result = check_keys(root, "", keys, err);
  if (!result)
    result = get_text(root, "format", "", &format, err);
  if (result)
    return result;
  if (strcmp(format, "hmb-profile/1")) {
    result = hmb_err_set(err, HMB_INVALID, "profile.format", "format",
                         "不支持的格式“%s”：应为 \"hmb-profile/1\"", format);
    free(format);
    return result;
  }
  free(format);
  result = get_id(root, "id", "", pr->id, sizeof(pr->id), err);
  if (!result)
    result = get_text(root, "name", "", &pr->name, err);
  if (!result)
    result = get_text(root, "source", "", &pr->source, err);
  if (result)
    return result;
  rules = json_object_get(root, "rules");
  if (!rules)
    return hmb_err_set(err, HMB_INVALID, "profile.missing", "rules", "缺少必填字段");
  if (!json_is_array(rules))
    return hmb_err_set(err, HMB_INVALID, "profile.type", "rules", "应为数组");
  if (json_array_size(rules) > PROFILE_MAX_RULES)
    return hmb_err_set(err, HMB_TOO_LARGE, "profile.too_many", "rules", "规则最多 %d 条",
                       PROFILE_MAX_RULES);
  json_array_foreach(rules, i, e)
  {
    char ep[PATH_LEN];
    snprintf(ep, sizeof(ep), "rules[%zu]", i);
    pr->nrules++;
    result = rule_parse(e, ep, &pr->rules[i], err);
    if (result)
      return result;
  }
  return regprofile_validate(pr, err);
}

enum hmb_status regprofile_parse_json(struct profile *pr, const char *text, size_t len,
                                      struct hmb_err *err)
{
  json_t *root;
  enum hmb_status result =
      json_file_parse(text, len, PROFILE_FILE_MAX, "profile", "规则集文件", &root, err);

  if (result)
    return result;
  result = profile_from_json(pr, root, err);
  json_decref(root);
  return result;
}

enum hmb_status regprofile_load(struct profile *pr, const char *path, struct hmb_err *err)
{
  struct buf text = BUF_INIT(PROFILE_FILE_MAX);
  enum hmb_status result = buf_read_file(&text, path, err);
  if (!result)
    result = regprofile_parse_json(pr, text.ptr, text.len, err);
  buf_release(&text);
  return result;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

enum hmb_status regprofile_load_named(struct profile *pr, const char *name, struct hmb_err *err)
{
  const char *dirs[2];
  struct buf path = BUF_INIT(4096);
  enum hmb_status result;
  size_t i;

  if (strchr(name, '/') || ends_with(name, ".json"))
    return regprofile_load(pr, name, err);
  if (!*name || strlen(name) >= PLAN_ID_MAX || strstr(name, ".."))
    return hmb_err_set(err, HMB_INVALID, "profile.name", "--profile", "规则集名称无效“%s”", name);
  dirs[0] = getenv("HMB_HOME");
  dirs[1] = HMB_SOURCE_DIR;
  for (i = 0; i < ARRAY_SIZE(dirs); i++) {
    if (!dirs[i] || !*dirs[i])
      continue;
    buf_reset(&path);
    result = buf_addf(&path, "%s/profiles/%s.json", dirs[i], name);
    if (result) {
      buf_release(&path);
      return hmb_err_set(err, result, "profile.name", "--profile", "规则集路径过长");
    }
    if (!access(path.ptr, F_OK)) {
      result = regprofile_load(pr, path.ptr, err);
      buf_release(&path);
      return result;
    }
  }
  buf_release(&path);
  return hmb_err_set(err, HMB_NOT_FOUND, "profile.not_found", "--profile",
                     "找不到规则集“%s”（在 $HMB_HOME/profiles 与安装目录的 profiles 下查找）",
                     name);
}

#include "compat.h"
#include "http_json.h"
#include "setl_reader.h"

/*
 * jansson's own depth limit is a compile-time 2048; a request has no use
 * for more than a few levels, so nesting is measured before decoding.
 * Brackets inside strings do not count.
 */
static bool depth_ok(const char *s, size_t len, size_t *at)
{
  int depth = 0;
  bool in_str = false;
  size_t i;

  for (i = 0; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      if (++depth > HTTP_JSON_DEPTH_MAX) {
        *at = i;
        return false;
      }
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return true;
}

enum hmb_status http_json_object(const char *body, size_t len, json_t **out, struct hmb_err *err)
{
  json_error_t je;
  json_t *j;
  size_t at = 0;
  char field[32];

  *out = NULL;
  if (!depth_ok(body, len, &at)) {
    snprintf(field, sizeof(field), "@%zu", at);
    return hmb_err_set(err, HMB_INVALID, "json.depth", field, "JSON 嵌套层数超过 %d 层",
                       HTTP_JSON_DEPTH_MAX);
  }
  j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    snprintf(field, sizeof(field), "@%d", je.position);
    return hmb_err_set(err, HMB_INVALID, "json.syntax", field,
                       "请求体不是有效的 JSON（第 %d 行第 %d 列，字节 %d）：%s", je.line, je.column,
                       je.position, je.text);
  }
  if (!json_is_object(j)) {
    json_decref(j);
    return hmb_err_set(err, HMB_INVALID, "json.type", "", "请求体应为 JSON 对象");
  }
  *out = j;
  return HMB_OK;
}

enum hmb_status http_json_only(json_t *obj, const char *const *keys, struct hmb_err *err)
{
  const char *key;
  json_t *v;

  json_object_foreach(obj, key, v)
  {
    const char *const *k;
    (void)v;
    for (k = keys; *k; k++)
      if (!strcmp(*k, key))
        break;
    if (!*k) {
      char field[HMB_ERR_FIELD_MAX];
      size_t n = strlen(key);
      /* The key is echoed back: keep it printable and short. */
      if (n >= sizeof(field) || !setl_text_ok(key, n))
        return hmb_err_set(err, HMB_INVALID, "json.unknown_key", "", "请求中有未知的字段");
      memcpy(field, key, n + 1);
      return hmb_err_set(err, HMB_INVALID, "json.unknown_key", field, "未知的字段 %s", field);
    }
  }
  return HMB_OK;
}

enum hmb_status http_json_str(json_t *obj, const char *key, bool required, size_t max,
                              const char **out, struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);
  const char *s;
  size_t n;

  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required)
      return hmb_err_set(err, HMB_INVALID, "json.missing", key, "缺少字段 %s", key);
    return HMB_OK;
  }
  if (!json_is_string(v))
    return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 应为字符串", key);
  s = json_string_value(v);
  n = json_string_length(v);
  if (n >= max)
    return hmb_err_set(err, HMB_INVALID, "json.too_long", key, "%s 过长（最多 %zu 字节）", key,
                       max - 1);
  if (!setl_text_ok(s, n))
    return hmb_err_set(err, HMB_INVALID, "json.text", key, "%s 含有控制字符或无效的 UTF-8", key);
  if (required && !n)
    return hmb_err_set(err, HMB_INVALID, "json.missing", key, "字段 %s 不能为空", key);
  *out = s;
  return HMB_OK;
}

/* Skip one JSON value starting at s[i] (valid JSON assumed); returns the
 * index just after it. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
  int depth = 0;
  bool in_str = false;

  if (i < len && s[i] != '"' && s[i] != '{' && s[i] != '[') {
    while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\r' && s[i] != '\n')
      i++;
    return i;
  }
  for (; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"') {
        in_str = false;
        if (!depth)
          return i + 1;
      }
    } else if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return i + 1;
    }
  }
  return len;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
    i++;
  return i;
}

bool http_json_raw_member(const char *body, size_t len, const char *key, const char **p, size_t *n)
{
  size_t klen = strlen(key), i = skip_ws(body, len, 0);

  if (i >= len || body[i] != '{')
    return false;
  i++;
  for (;;) {
    size_t kstart, kend, vstart;
    i = skip_ws(body, len, i);
    if (i >= len || body[i] != '"')
      return false;
    kstart = i + 1;
    kend = skip_value(body, len, i) - 1;
    i = skip_ws(body, len, kend + 1);
    if (i >= len || body[i] != ':')
      return false;
    vstart = skip_ws(body, len, i + 1);
    i = skip_value(body, len, vstart);
    if (kend - kstart == klen && !memcmp(body + kstart, key, klen)) {
      *p = body + vstart;
      *n = i - vstart;
      return true;
    }
    i = skip_ws(body, len, i);
    if (i >= len || body[i] != ',')
      return false;
    i++;
  }
}

enum hmb_status http_json_money(json_t *obj, const char *body, size_t len, const char *key,
                                bool required, hmb_fen *out, bool *present, struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);
  const char *raw;
  size_t n;

  *present = false;
  if (!v || json_is_null(v)) {
    if (required)
      return hmb_err_set(err, HMB_INVALID, "json.missing", key, "缺少金额字段 %s", key);
    return HMB_OK;
  }
  if (json_is_string(v)) {
    *present = true;
    return money_parse(json_string_value(v), json_string_length(v), out, key, err);
  }
  if (!json_is_number(v))
    return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 应为金额（如 \"89.00\"）", key);
  if (!http_json_raw_member(body, len, key, &raw, &n))
    return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 请以字符串给出金额（如 \"89.00\"）",
                       key);
  *present = true;
  /* the number's own characters: what jansson read, whatever follows it */
  for (size_t k = 0; k < n; k++)
    if (!raw[k] || !strchr("-+0123456789.eE", raw[k])) {
      n = k;
      break;
    }
  return money_parse(raw, n, out, key, err);
}

enum hmb_status http_json_date(json_t *obj, const char *key, hmb_date *out, struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);

  if (!v || json_is_null(v))
    return HMB_OK;
  if (!json_is_string(v))
    return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 应为日期字符串 YYYY-MM-DD", key);
  return date_parse(json_string_value(v), json_string_length(v), out, key, err);
}

enum hmb_status http_json_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out,
                              struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);
  json_int_t i;

  if (!v || json_is_null(v))
    return HMB_OK;
  if (json_is_string(v))
    return str_to_i64(json_string_value(v), json_string_length(v), min, max, out, key, err);
  if (!json_is_integer(v))
    return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 应为整数", key);
  i = json_integer_value(v);
  if (i < min || i > max)
    return hmb_err_set(err, HMB_INVALID, "json.range", key,
                       "%s 应在 %" PRId64 " 到 %" PRId64 " 之间", key, min, max);
  *out = i;
  return HMB_OK;
}

enum hmb_status http_json_bool(json_t *obj, const char *key, bool *out, struct hmb_err *err)
{
  json_t *v = json_object_get(obj, key);

  if (!v || json_is_null(v))
    return HMB_OK;
  if (json_is_boolean(v)) {
    *out = json_is_true(v);
    return HMB_OK;
  }
  if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
    *out = json_integer_value(v) == 1;
    return HMB_OK;
  }
  return hmb_err_set(err, HMB_INVALID, "json.type", key, "%s 应为 true 或 false", key);
}

/* Length of the valid UTF-8 sequence at s[0..n) (no overlong forms, no
 * surrogates, at most U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
  size_t need, i;
  unsigned cp;

  if (s[0] < 0x80)
    return 1;
  if (s[0] < 0xC2 || s[0] > 0xF4)
    return 0;
  need = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
  cp = s[0] & (0x7Fu >> need);
  if (n < need)
    return 0;
  for (i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3Fu);
  }
  if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return need;
}

/*
 * A JSON string of an error's text. The text may quote the request (a
 * JSON parser's "near '...'" cuts the body at any byte), so a byte that is
 * not part of valid UTF-8 becomes U+FFFD: the answer stays valid JSON.
 */
static enum hmb_status add_text(struct buf *out, const char *s)
{
  char tmp[HMB_ERR_MSG_MAX * 3];
  size_t n = strlen(s), i = 0, k = 0;

  while (i < n && k + 4 <= sizeof(tmp)) {
    size_t m = utf8_len((const unsigned char *)s + i, n - i);
    if (m) {
      memcpy(tmp + k, s + i, m);
      k += m;
      i += m;
    } else {
      memcpy(tmp + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
    }
  }
  return buf_add_json_str(out, tmp, k);
}

enum hmb_status http_json_error(struct buf *out, const struct hmb_err *err)
{
  enum hmb_status result;

  result = buf_addstr(out, "{\"error\":{\"code\":");
  if (!result)
    result = add_text(out, err->code);
  if (!result)
    result = buf_addstr(out, ",\"field\":");
  if (!result)
    result = add_text(out, err->field);
  if (!result)
    result = buf_addstr(out, ",\"message\":");
  if (!result)
    result = add_text(out, err->message);
  if (!result)
    result = buf_addstr(out, "}}\n");
  return result;
}

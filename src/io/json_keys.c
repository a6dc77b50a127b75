#include "compat.h"
#include "json_keys.h"

bool json_key_allowed(const char *key, const char *const *known)
{
  size_t n = strlen(key);
  if (!strcmp(key, "comment") || !strncmp(key, "x_", 2) ||
      (n >= 8 && !strcmp(key + n - 8, "_comment")))
    return true;
  for (const char *const *k = known; *k; k++)
    if (!strcmp(*k, key))
      return true;
  return false;
}

enum hmb_status json_file_parse(const char *text, size_t len, size_t max, const char *prefix,
                                const char *what, json_t **root, struct hmb_err *err)
{
  json_error_t jerr;
  char code[32];
  *root = NULL;
  if (len > max) {
    snprintf(code, sizeof(code), "%s.too_large", prefix);
    return hmb_err_set(err, HMB_TOO_LARGE, code, "", "%s超过 %zu 字节上限", what, max);
  }
  *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!*root) {
    char where[64];
    snprintf(code, sizeof(code), "%s.json", prefix);
    snprintf(where, sizeof(where), "line %d, column %d", jerr.line, jerr.column);
    return hmb_err_set(err, HMB_INVALID, code, where, "JSON 格式错误：%s", jerr.text);
  }
  return HMB_OK;
}

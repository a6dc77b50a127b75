#include "compat.h"
#include "uscc.h"

static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* The value of c in the charset, or -1. */
static int char_value(char c)
{
  const char *p;
  if (c == '\0')
    return -1;
  p = strchr(charset, c);
  return p ? (int)(p - charset) : -1;
}

static char upper(char c)
{
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool valid_region(const char *r)
{
  int p, i;
  for (i = 0; i < 6; i++)
    if (!is_digit(r[i]))
      return false;
  p = (r[0] - '0') * 10 + (r[1] - '0');
  return p == 10 || (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
         p == 81 || p == 82;
}

enum hmb_status uscc_parse(const char *s, size_t len, char out[USCC_LEN + 1], const char *field,
                           struct hmb_err *err)
{
  char code[USCC_LEN + 1] = {0};
  int values[USCC_LEN] = {0}; /* filled below; zeroed for the static analyzer */
  int sum = 0, want;
  size_t i;

  if (len != USCC_LEN)
    return hmb_err_set(err, HMB_INVALID, "uscc.length", field,
                       "统一社会信用代码长度错误：应为 18 位，实为 %zu 位", len);
  for (i = 0; i < USCC_LEN; i++) {
    code[i] = upper(s[i]);
    values[i] = char_value(code[i]);
    if (values[i] < 0)
      return hmb_err_set(err, HMB_INVALID, "uscc.char", field,
                         "统一社会信用代码第 %zu 位字符无效：只能是数字或除 I、O、Z、S、V "
                         "以外的大写字母",
                         i + 1);
  }
  code[USCC_LEN] = '\0';
  if (!strchr("123456789ANY", code[0]))
    return hmb_err_set(err, HMB_INVALID, "uscc.authority", field,
                       "统一社会信用代码第 1 位（登记管理部门代码）无效：应为 1-9、A、N 或 Y");
  if (code[1] < '1' || code[1] > '9')
    return hmb_err_set(err, HMB_INVALID, "uscc.authority", field,
                       "统一社会信用代码第 2 位（机构类别代码）无效：应为数字 1-9");
  if (!valid_region(code + 2))
    return hmb_err_set(err, HMB_INVALID, "uscc.region", field,
                       "统一社会信用代码第 3–8 位（登记管理机关行政区划码）无效");
  for (i = 0; i < USCC_LEN - 1; i++)
    sum += values[i] * weights[i];
  want = 31 - sum % 31;
  if (want == 31)
    want = 0;
  if (values[USCC_LEN - 1] != want)
    return hmb_err_set(err, HMB_INVALID, "uscc.checksum", field,
                       "统一社会信用代码校验位错误：应为 %c", charset[want]);
  memcpy(out, code, sizeof(code));
  return HMB_OK;
}

bool uscc_valid(const char *s, size_t len)
{
  char out[USCC_LEN + 1];
  return uscc_parse(s, len, out, NULL, NULL) == HMB_OK;
}

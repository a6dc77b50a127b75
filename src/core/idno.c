#include "compat.h"
#include "idno.h"

/* ISO 7064 MOD 11-2 weights of positions 1..17, and the check characters. */
static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
static const char check_chars[] = "10X98765432";

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int two_digits(const char *s)
{
  return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Province-level codes of GB/T 2260, plus 83 (Taiwan residents' permits). */
static bool valid_province(int p)
{
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
         (p >= 81 && p <= 83);
}

enum hmb_status idno_parse(const char *s, size_t len, struct idno_info *out, const char *field,
                           struct hmb_err *err)
{
  size_t i;
  int sum = 0, y, m, d;
  char check, want;

  if (len == 15) {
    for (i = 0; i < len && is_digit(s[i]); i++)
      ;
    if (i == len)
      return hmb_err_set(err, HMB_INVALID, "idno.legacy15", field,
                         "不支持 15 位旧版身份证号：请提供 18 位公民身份号码");
  }
  if (len != IDNO_LEN)
    return hmb_err_set(err, HMB_INVALID, "idno.length", field,
                       "身份证号长度错误：应为 18 位，实为 %zu 位", len);
  for (i = 0; i < IDNO_LEN - 1; i++)
    if (!is_digit(s[i]))
      return hmb_err_set(err, HMB_INVALID, "idno.char", field,
                         "身份证号第 %zu 位不是数字：前 17 位只能是数字", i + 1);
  check = s[IDNO_LEN - 1] == 'x' ? 'X' : s[IDNO_LEN - 1];
  if (!is_digit(check) && check != 'X')
    return hmb_err_set(err, HMB_INVALID, "idno.char", field,
                       "身份证号第 18 位（校验位）只能是数字或 X");
  if (!valid_province(two_digits(s)))
    return hmb_err_set(err, HMB_INVALID, "idno.region", field,
                       "身份证号前两位不是有效的省级行政区划代码");
  y = two_digits(s + 6) * 100 + two_digits(s + 8);
  m = two_digits(s + 10);
  d = two_digits(s + 12);
  if (!date_valid(y, m, d))
    return hmb_err_set(
        err, HMB_INVALID, "idno.birth", field,
        "身份证号第 7–14 位不是有效的出生日期（应为 1900 至 2199 年间真实存在的日期）");
  for (i = 0; i < IDNO_LEN - 1; i++)
    sum += (s[i] - '0') * weights[i];
  want = check_chars[sum % 11];
  if (check != want)
    return hmb_err_set(err, HMB_INVALID, "idno.checksum", field, "身份证号校验位错误：应为 %c",
                       want);

  memcpy(out->region, s, 6);
  out->region[6] = '\0';
  out->birth = date_from_ymd(y, m, d);
  out->sex = (s[16] - '0') % 2 ? 'M' : 'F';
  return HMB_OK;
}

bool idno_valid(const char *s, size_t len)
{
  struct idno_info info;
  return idno_parse(s, len, &info, NULL, NULL) == HMB_OK;
}

static bool is_alnum_ascii(char c)
{
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void idno_mask(const char *s, size_t len, char *out, size_t outsz)
{
  size_t i, n = 0;
  if (!outsz)
    return;
  for (i = 0; i < len && n + 1 < outsz; i++) {
    bool keep = len > 10 && (i < 6 || i >= len - 4);
    out[n++] = keep && is_alnum_ascii(s[i]) ? s[i] : '*';
  }
  out[n] = '\0';
}

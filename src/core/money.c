#include "compat.h"
#include "money.h"

/*
 * Shared scanner for "-?digits(.d{1,max_dec})?" returning the value scaled by
 * 10^max_dec. Used for yuan (2 decimals) and percentages (2 decimals).
 */
static enum hmb_status scan_fixed2(const char *s, size_t len, int64_t limit, int64_t *out,
                                   const char *field, struct hmb_err *err, const char *what,
                                   const char *ns)
{
  char code[24];
  size_t i = 0, int_digits = 0, dec_digits = 0;
  bool neg = false;
  int64_t v = 0;

  if (len == 0)
    return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.empty", ns), code),
                       field, "%s为空", what);
  if (s[0] == '-') {
    neg = true;
    i = 1;
  }
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
    v = v * 10 + (s[i] - '0');
    if (v > limit)
      return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.range", ns), code),
                         field, "%s超出允许范围", what);
  }
  if (int_digits == 0)
    return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.syntax", ns), code),
                       field, "%s格式错误：应为数字，如 123.45", what);
  if (i < len && s[i] == '.') {
    i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, dec_digits++) {
      if (dec_digits >= 2)
        return hmb_err_set(err, HMB_INVALID,
                           (snprintf(code, sizeof(code), "%s.decimals", ns), code), field,
                           "%s最多两位小数", what);
      v = v * 10 + (s[i] - '0');
    }
    if (dec_digits == 0)
      return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.syntax", ns), code),
                         field, "%s格式错误：小数点后缺少数字", what);
  }
  if (i != len)
    return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.syntax", ns), code),
                       field, "%s格式错误：含有非法字符，应为如 123.45 的十进制数", what);
  for (; dec_digits < 2; dec_digits++)
    v *= 10;
  if (v > limit * 100)
    return hmb_err_set(err, HMB_INVALID, (snprintf(code, sizeof(code), "%s.range", ns), code),
                       field, "%s超出允许范围", what);
  *out = neg ? -v : v;
  return HMB_OK;
}

enum hmb_status money_parse(const char *s, size_t len, hmb_fen *out, const char *field,
                            struct hmb_err *err)
{
  int64_t v;
  enum hmb_status result =
      scan_fixed2(s, len, HMB_FEN_LIMIT / 100, &v, field, err, "金额", "money");
  if (result)
    return result;
  *out = v;
  return HMB_OK;
}

enum hmb_status money_parse_nonneg(const char *s, size_t len, hmb_fen *out, const char *field,
                                   struct hmb_err *err)
{
  hmb_fen v;
  enum hmb_status result = money_parse(s, len, &v, field, err);
  if (result)
    return result;
  if (v < 0)
    return hmb_err_set(err, HMB_INVALID, "money.negative", field, "金额不能为负数");
  *out = v;
  return HMB_OK;
}

static const char two_digits[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                    "31323334353637383940414243444546474849505152535455565758596061"
                                    "62636465666768697071727374757677787980818283848586878889909192"
                                    "93949596979899";

size_t money_format(hmb_fen v, char *buf)
{
  /* by hand, two digits at a time: this runs for every amount of every
   * result row, and most of them are small */
  uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, yuan = a / 100;
  char tmp[HMB_MONEY_TEXT_MAX];
  char *e = tmp + sizeof(tmp), *q = e;
  size_t i = 0;
  while (yuan >= 100) {
    q -= 2;
    memcpy(q, two_digits + yuan % 100 * 2, 2);
    yuan /= 100;
  }
  if (yuan >= 10) {
    q -= 2;
    memcpy(q, two_digits + yuan * 2, 2);
  } else {
    *--q = (char)('0' + yuan);
  }
  if (v < 0)
    buf[i++] = '-';
  memcpy(buf + i, q, (size_t)(e - q));
  i += (size_t)(e - q);
  buf[i++] = '.';
  memcpy(buf + i, two_digits + a % 100 * 2, 2);
  i += 2;
  buf[i] = '\0';
  return i;
}

enum hmb_status ratio_parse(const char *s, size_t len, hmb_bp *out, const char *field,
                            struct hmb_err *err)
{
  int64_t v;
  enum hmb_status result;
  if (len == 0 || s[len - 1] != '%')
    return hmb_err_set(err, HMB_INVALID, "ratio.syntax", field,
                       "比例格式错误：应为百分数，如 \"80%%\"");
  result = scan_fixed2(s, len - 1, 100, &v, field, err, "比例", "ratio");
  if (result)
    return result;
  if (v < 0 || v > HMB_BP_ONE)
    return hmb_err_set(err, HMB_INVALID, "ratio.range", field, "比例应在 0%% 到 100%% 之间");
  *out = (hmb_bp)v;
  return HMB_OK;
}

size_t ratio_format(hmb_bp bp, char *buf)
{
  int n;
  int32_t a = bp < 0 ? -bp : bp;
  if (a % 100 == 0)
    n = snprintf(buf, 16, "%s%d%%", bp < 0 ? "-" : "", a / 100);
  else if (a % 10 == 0)
    n = snprintf(buf, 16, "%s%d.%d%%", bp < 0 ? "-" : "", a / 100, (a % 100) / 10);
  else
    n = snprintf(buf, 16, "%s%d.%02d%%", bp < 0 ? "-" : "", a / 100, a % 100);
  return n < 0 ? 0 : (size_t)n;
}

hmb_fen money_apply_bp(hmb_fen amount, hmb_bp bp)
{
  return money_round_bpfen((hmb_i128)amount * bp);
}

enum hmb_status str_to_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out,
                           const char *field, struct hmb_err *err)
{
  size_t i = 0;
  bool neg = false;
  hmb_i128 v = 0;
  if (len && s[0] == '-') {
    neg = true;
    i = 1;
  }
  if (i == len)
    return hmb_err_set(err, HMB_INVALID, "int.syntax", field, "应为整数");
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return hmb_err_set(err, HMB_INVALID, "int.syntax", field, "应为整数，含有非法字符");
    v = v * 10 + (s[i] - '0');
    if (v > (hmb_i128)INT64_MAX + 1)
      return hmb_err_set(err, HMB_INVALID, "int.range", field, "整数超出范围");
  }
  if (neg)
    v = -v;
  if (v < min || v > max)
    return hmb_err_set(err, HMB_INVALID, "int.range", field,
                       "整数超出范围（%" PRId64 " 到 %" PRId64 "）", min, max);
  *out = (int64_t)v;
  return HMB_OK;
}

/*
 * test_uscc.c - unified social credit codes (GB 32100-2015).
 *
 * Every check character below was recomputed independently with python3
 * (values weighted by 3^(i-1) mod 31, check = (31 - sum mod 31) mod 31 over
 * "0123456789ABCDEFGHJKLMNPQRTUWXY"). The first five are the published codes
 * of large companies (Tencent, Alibaba, Huawei, Baidu, Xiaomi); the rest are
 * made up to reach the other authorities and the check value 0.
 */
#include "uscc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static const struct {
  const char *s;
  const char *want;
} good[] = {
    {"9144030071526726XG", "9144030071526726XG"},
    {"91330100716105852F", "91330100716105852F"},
    {"914403001922038216", "914403001922038216"},
    {"91110000802100433B", "91110000802100433B"},
    {"91110108551385082Q", "91110108551385082Q"},
    {"9144030071526726xg", "9144030071526726XG"}, /* lowercase is normalized */
    {"91330100716105852f", "91330100716105852F"},
    {"12100000400000397W", "12100000400000397W"}, /* 机构编制, central level */
    {"51110000500000001E", "51110000500000001E"}, /* 民政 */
    {"Y1370100MA3C00001U", "Y1370100MA3C00001U"}, /* 其他 */
    {"N2370102MA3C00001X", "N2370102MA3C00001X"}, /* 农业 */
    {"A1100000MA0000001F", "A1100000MA0000001F"},
    {"93370102MA3C000018", "93370102MA3C000018"}, /* 农民专业合作社 */
    {"91370102MA3C000260", "91370102MA3C000260"}, /* sum mod 31 == 0: check '0' */
    {"91370102MA3C00016Y", "91370102MA3C00016Y"}, /* check value 30 */
};

static void test_uscc__valid(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(good); i++) {
    char out[USCC_LEN + 1];
    struct hmb_err err;
    hmb_err_init(&err);
    memset(out, 0, sizeof(out));
    if (uscc_parse(good[i].s, strlen(good[i].s), out, "org.uscc", &err) != HMB_OK)
      fail_msg("%s rejected: %s %s", good[i].s, err.code, err.message);
    assert_string_equal(out, good[i].want);
    assert_true(uscc_valid(good[i].s, strlen(good[i].s)));
  }
}

static const struct {
  const char *s;
  const char *code;
} bad[] = {
    /* length */
    {"", "uscc.length"},
    {"9144030071526726X", "uscc.length"},
    {"9144030071526726XG0", "uscc.length"},
    {"440301103005678", "uscc.length"}, /* an old 15-digit registration number */
    {"71526726-X", "uscc.length"},      /* an old organization code */
    {"９１４４０３００７１５２６７２６ＸＧ", "uscc.length"},
    /* characters outside the charset */
    {"9144030071526726IG", "uscc.char"},
    {"9144030071526726OG", "uscc.char"},
    {"9144030071526726ZG", "uscc.char"},
    {"9144030071526726SG", "uscc.char"},
    {"9144030071526726VG", "uscc.char"},
    {"9144030071526726iG", "uscc.char"}, /* lowercase of a banned letter */
    {"9144030071526726X ", "uscc.char"},
    {" 144030071526726XG", "uscc.char"},
    {"91440300-1526726XG", "uscc.char"},
    /* registration authority and category */
    {"B11100001000005898", "uscc.authority"},
    {"01110000100000589K", "uscc.authority"},
    {"90110000100000589D", "uscc.authority"},
    {"9A110000100000589E", "uscc.authority"},
    /* region */
    {"91A10000100000589N", "uscc.region"},
    {"919900001000005891", "uscc.region"},
    {"91000000100000589F", "uscc.region"},
    /* check character */
    {"91110000100000589B", "uscc.checksum"}, /* the right one is A */
    {"9144030071526726XH", "uscc.checksum"},
    {"9144030071526726X0", "uscc.checksum"},
    {"91330100716105853F", "uscc.checksum"}, /* one digit changed */
    {"91330100761105852F", "uscc.checksum"}, /* two digits swapped */
};

static void test_uscc__invalid(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad); i++) {
    char out[USCC_LEN + 1] = "untouched";
    struct hmb_err err;
    hmb_err_init(&err);
    if (uscc_parse(bad[i].s, strlen(bad[i].s), out, "insurer.uscc", &err) != HMB_INVALID ||
        strcmp(err.code, bad[i].code) != 0)
      fail_msg("\"%s\": got %s, expected %s", bad[i].s, err.code, bad[i].code);
    assert_int_equal(err.status, HMB_INVALID);
    assert_string_equal(err.field, "insurer.uscc");
    assert_true(err.message[0] != '\0');
    assert_string_equal(out, "untouched");
    assert_false(uscc_valid(bad[i].s, strlen(bad[i].s)));
  }
}

static void test_uscc__messages(void **state)
{
  char out[USCC_LEN + 1];
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(uscc_parse("91110000100000589B", 18, out, "f", &err), HMB_INVALID);
  assert_string_equal(err.message, "统一社会信用代码校验位错误：应为 A");
  assert_int_equal(uscc_parse("9144030071526726OG", 18, out, "f", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "第 17 位"));
  assert_int_equal(uscc_parse("9144030071526726X", 17, out, "f", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "17 位"));
  assert_int_equal(uscc_parse("91110000100000589B", 18, out, "f", NULL), HMB_INVALID);
}

/* Exactly one check character passes for any body, and a changed character
 * anywhere in the body is caught. */
static void test_uscc__single_errors_caught(void **state)
{
  static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const char code[] = "9144030071526726XG";
  char s[USCC_LEN + 1];
  size_t pos, k;
  int ok = 0;
  (void)state;
  memcpy(s, code, sizeof(s));
  for (k = 0; k < 31; k++) {
    s[17] = charset[k];
    ok += uscc_valid(s, 18);
  }
  assert_int_equal(ok, 1);
  for (pos = 8; pos < 17; pos++) {
    memcpy(s, code, sizeof(s));
    for (k = 0; k < 31; k++) {
      if (charset[k] == code[pos])
        continue;
      s[pos] = charset[k];
      assert_false(uscc_valid(s, 18));
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uscc__valid),
      cmocka_unit_test(test_uscc__invalid),
      cmocka_unit_test(test_uscc__messages),
      cmocka_unit_test(test_uscc__single_errors_caught),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

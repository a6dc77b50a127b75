/*
 * test_money.c - exact money and ratio parsing, formatting and rounding.
 */
#include "money.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static const struct {
  const char *s;
  hmb_fen want;
} money_good[] = {
    {"0", 0},
    {"0.5", 50},
    {"0.05", 5},
    {"12.34", 1234},
    {"12.3", 1230},
    {"89.5", 8950},
    {"16000", 1600000},
    {"-0.01", -1},
    {"-12.34", -1234},
    {"1000000000000", HMB_FEN_LIMIT},
    {"1000000000000.00", HMB_FEN_LIMIT},
    {"-1000000000000", -HMB_FEN_LIMIT},
    {"999999999999.99", HMB_FEN_LIMIT - 1},
};

static void test_money__parse_accepts(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(money_good); i++) {
    hmb_fen v = 42;
    struct hmb_err err;
    hmb_err_init(&err);
    if (money_parse(money_good[i].s, strlen(money_good[i].s), &v, "amount", &err) != HMB_OK)
      fail_msg("\"%s\" rejected: %s %s", money_good[i].s, err.code, err.message);
    if (v != money_good[i].want)
      fail_msg("\"%s\" = %" PRId64 ", expected %" PRId64, money_good[i].s, v, money_good[i].want);
  }
}

static const struct {
  const char *s;
  const char *code;
} money_bad[] = {
    {"", "money.empty"},
    {"-", "money.syntax"},
    {"--1", "money.syntax"},
    {"1.", "money.syntax"},
    {".5", "money.syntax"},
    {"-.5", "money.syntax"},
    {"1.234", "money.decimals"},
    {"0.001", "money.decimals"},
    {"1e3", "money.syntax"},
    {" 1", "money.syntax"},
    {"1 ", "money.syntax"},
    {"+1", "money.syntax"},
    {"0x10", "money.syntax"},
    {"1,000", "money.syntax"},
    {"1.2.3", "money.syntax"},
    {"1-", "money.syntax"},
    {"12元", "money.syntax"},
    {"１２", "money.syntax"}, /* full-width digits */
    {"NaN", "money.syntax"},
    {"1000000000000.01", "money.range"},
    {"1000000000001", "money.range"},
    {"-1000000000000.01", "money.range"},
    {"99999999999999999999999999", "money.range"},
};

static void test_money__parse_rejects(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(money_bad); i++) {
    hmb_fen v = 42;
    struct hmb_err err;
    enum hmb_status result;
    hmb_err_init(&err);
    result = money_parse(money_bad[i].s, strlen(money_bad[i].s), &v, "claims[3].amount", &err);
    if (result != HMB_INVALID || strcmp(err.code, money_bad[i].code) != 0)
      fail_msg("\"%s\": got %s %s, expected %s", money_bad[i].s, hmb_status_name(result), err.code,
               money_bad[i].code);
    assert_int_equal(err.status, HMB_INVALID);
    assert_string_equal(err.field, "claims[3].amount");
    assert_true(err.message[0] != '\0');
    assert_int_equal(v, 42); /* untouched on failure */
  }
}

/* Only s[0..len) is read: the text need not be NUL-terminated. */
static void test_money__parse_length_bounded(void **state)
{
  hmb_fen v = 0;
  (void)state;
  assert_int_equal(money_parse("12.345", 5, &v, "a", NULL), HMB_OK);
  assert_int_equal(v, 1234);
  assert_int_equal(money_parse("7x", 1, &v, "a", NULL), HMB_OK);
  assert_int_equal(v, 700);
  assert_int_equal(money_parse("7", 0, &v, "a", NULL), HMB_INVALID);
}

static void test_money__parse_nonneg(void **state)
{
  hmb_fen v = 42;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(money_parse_nonneg("0", 1, &v, "premium", &err), HMB_OK);
  assert_int_equal(v, 0);
  assert_int_equal(money_parse_nonneg("12.5", 4, &v, "premium", &err), HMB_OK);
  assert_int_equal(v, 1250);
  v = 42;
  assert_int_equal(money_parse_nonneg("-0.01", 5, &v, "premium", &err), HMB_INVALID);
  assert_string_equal(err.code, "money.negative");
  assert_string_equal(err.field, "premium");
  assert_int_equal(v, 42);
  /* syntax errors keep their own code */
  assert_int_equal(money_parse_nonneg("1.234", 5, &v, "premium", &err), HMB_INVALID);
  assert_string_equal(err.code, "money.decimals");
}

static const struct {
  hmb_fen v;
  const char *want;
} formats[] = {
    {0, "0.00"},
    {5, "0.05"},
    {-5, "-0.05"},
    {50, "0.50"},
    {100, "1.00"},
    {123450, "1234.50"},
    {-1234, "-12.34"},
    {HMB_FEN_LIMIT, "1000000000000.00"},
    {-HMB_FEN_LIMIT, "-1000000000000.00"},
    {INT64_MAX, "92233720368547758.07"},
    {INT64_MIN, "-92233720368547758.08"},
};

static void test_money__format(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(formats); i++) {
    char buf[HMB_MONEY_TEXT_MAX];
    size_t n = money_format(formats[i].v, buf);
    assert_string_equal(buf, formats[i].want);
    assert_int_equal(n, strlen(formats[i].want));
  }
}

/* Property: parse(format(v)) == v over small values and a spread of large ones. */
static void test_money__format_round_trip(void **state)
{
  uint64_t x = 88172645463325252u; /* xorshift64 state */
  int64_t v;
  int i;
  (void)state;
  for (v = -20000; v <= 20000; v++) {
    char buf[HMB_MONEY_TEXT_MAX];
    hmb_fen back = 0;
    size_t n = money_format(v, buf);
    assert_int_equal(money_parse(buf, n, &back, "v", NULL), HMB_OK);
    assert_int_equal(back, v);
  }
  for (i = 0; i < 200000; i++) {
    char buf[HMB_MONEY_TEXT_MAX];
    hmb_fen back = 0;
    size_t n;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* magnitudes of every size up to the limit */
    v = (int64_t)(x % (uint64_t)HMB_FEN_LIMIT) >> (x >> 58);
    if (x & 1)
      v = -v;
    if (i == 0)
      v = HMB_FEN_LIMIT;
    n = money_format(v, buf);
    assert_int_equal(money_parse(buf, n, &back, "v", NULL), HMB_OK);
    assert_int_equal(back, v);
  }
}

static const struct {
  const char *s;
  hmb_bp want;
} ratio_good[] = {
    {"80%", 8000},  {"12.5%", 1250},  {"0.01%", 1},       {"100%", 10000}, {"0%", 0},
    {"7.25%", 725}, {"99.99%", 9999}, {"100.00%", 10000}, {"50.0%", 5000},
};

static void test_money__ratio_parse_accepts(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(ratio_good); i++) {
    hmb_bp v = -1;
    struct hmb_err err;
    hmb_err_init(&err);
    if (ratio_parse(ratio_good[i].s, strlen(ratio_good[i].s), &v, "ratio", &err) != HMB_OK)
      fail_msg("\"%s\" rejected: %s %s", ratio_good[i].s, err.code, err.message);
    assert_int_equal(v, ratio_good[i].want);
  }
}

static const struct {
  const char *s;
  const char *code;
} ratio_bad[] = {
    {"80", "ratio.syntax"},   {"", "ratio.syntax"},      {"0.8", "ratio.syntax"},
    {"%", "ratio.empty"},     {"101%", "ratio.range"},   {"100.01%", "ratio.range"},
    {"-1%", "ratio.range"},   {"-0.01%", "ratio.range"}, {"1.234%", "ratio.decimals"},
    {"80 %", "ratio.syntax"}, {"80%%", "ratio.syntax"},  {"+80%", "ratio.syntax"},
    {"八成", "ratio.syntax"},
};

static void test_money__ratio_parse_rejects(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(ratio_bad); i++) {
    hmb_bp v = 42;
    struct hmb_err err;
    enum hmb_status result;
    hmb_err_init(&err);
    result = ratio_parse(ratio_bad[i].s, strlen(ratio_bad[i].s), &v, "duties[0].ratio", &err);
    if (result != HMB_INVALID || strcmp(err.code, ratio_bad[i].code) != 0)
      fail_msg("\"%s\": got %s %s, expected %s", ratio_bad[i].s, hmb_status_name(result), err.code,
               ratio_bad[i].code);
    assert_string_equal(err.field, "duties[0].ratio");
    assert_int_equal(v, 42);
  }
}

static const struct {
  hmb_bp bp;
  const char *want;
} ratio_formats[] = {
    {8000, "80%"}, {1250, "12.5%"}, {725, "7.25%"},   {1, "0.01%"},
    {0, "0%"},     {10000, "100%"}, {9999, "99.99%"}, {10, "0.1%"},
};

static void test_money__ratio_format(void **state)
{
  size_t i;
  hmb_bp bp;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(ratio_formats); i++) {
    char buf[16];
    size_t n = ratio_format(ratio_formats[i].bp, buf);
    assert_string_equal(buf, ratio_formats[i].want);
    assert_int_equal(n, strlen(buf));
  }
  /* round trip over every valid ratio */
  for (bp = 0; bp <= HMB_BP_ONE; bp++) {
    char buf[16];
    hmb_bp back = -1;
    size_t n = ratio_format(bp, buf);
    assert_int_equal(ratio_parse(buf, n, &back, "r", NULL), HMB_OK);
    assert_int_equal(back, bp);
  }
}

static const struct {
  hmb_fen amount;
  hmb_bp bp;
  hmb_fen want;
} apply[] = {
    {1, 5000, 1},   /* 0.5 fen rounds away from zero */
    {3, 5000, 2},   /* 1.5 -> 2 */
    {-3, 5000, -2}, /* -1.5 -> -2 */
    {-1, 5000, -1},
    {1, 4999, 0}, /* 0.4999 -> 0 */
    {-1, 4999, 0},
    {12345, 8000, 9876}, /* 98.76 exactly */
    {12345, 7000, 8642}, /* 8641.5 -> 8642 */
    {-12345, 7000, -8642},
    {15, 3333, 5}, /* 4.9995 -> 5 */
    {100, 10000, 100},
    {12345, 0, 0},
    {0, 8000, 0},
    {HMB_FEN_LIMIT, HMB_BP_ONE, HMB_FEN_LIMIT},
    {-HMB_FEN_LIMIT, HMB_BP_ONE, -HMB_FEN_LIMIT},
    {HMB_FEN_LIMIT, 1, 10000000000},
    {1999999, 6500, 1299999}, /* 1299999.35 */
    {1999999, 6501, 1300199}, /* 1300199.3499 */
    {1999999, 6505, 1300999}, /* 1300999.3495 */
    {3, 8333, 2},             /* 2.4999 */
    {3, 8334, 3},             /* 2.5002 */
};

static void test_money__apply_bp(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(apply); i++) {
    hmb_fen got = money_apply_bp(apply[i].amount, apply[i].bp);
    if (got != apply[i].want)
      fail_msg("%" PRId64 " x %d bp = %" PRId64 ", expected %" PRId64, apply[i].amount, apply[i].bp,
               got, apply[i].want);
  }
}

static void test_money__round_bpfen(void **state)
{
  (void)state;
  assert_int_equal(money_round_bpfen(5000), 1);
  assert_int_equal(money_round_bpfen(4999), 0);
  assert_int_equal(money_round_bpfen(-5000), -1);
  assert_int_equal(money_round_bpfen(-4999), 0);
  assert_int_equal(money_round_bpfen(15000), 2);
  assert_int_equal(money_round_bpfen(-15000), -2);
  assert_int_equal(money_round_bpfen(0), 0);
}

static void test_money__add_ok(void **state)
{
  hmb_fen s = 7;
  (void)state;
  assert_true(money_add_ok(HMB_FEN_LIMIT - 1, 1, &s));
  assert_int_equal(s, HMB_FEN_LIMIT);
  s = 7;
  assert_false(money_add_ok(HMB_FEN_LIMIT, 1, &s));
  assert_int_equal(s, 7);
  assert_false(money_add_ok(-HMB_FEN_LIMIT, -1, &s));
  assert_true(money_add_ok(-HMB_FEN_LIMIT, HMB_FEN_LIMIT, &s));
  assert_int_equal(s, 0);
}

static const struct {
  const char *s;
  int64_t min, max;
  enum hmb_status status;
  int64_t want;
  const char *code;
} ints[] = {
    {"0", 0, 10, HMB_OK, 0, NULL},
    {"10", 0, 10, HMB_OK, 10, NULL},
    {"-5", -10, 10, HMB_OK, -5, NULL},
    {"007", 0, 10, HMB_OK, 7, NULL},
    {"9223372036854775807", INT64_MIN, INT64_MAX, HMB_OK, INT64_MAX, NULL},
    {"-9223372036854775808", INT64_MIN, INT64_MAX, HMB_OK, INT64_MIN, NULL},
    {"9223372036854775808", INT64_MIN, INT64_MAX, HMB_INVALID, 0, "int.range"},
    {"-9223372036854775809", INT64_MIN, INT64_MAX, HMB_INVALID, 0, "int.range"},
    {"123456789012345678901234567890", INT64_MIN, INT64_MAX, HMB_INVALID, 0, "int.range"},
    {"11", 0, 10, HMB_INVALID, 0, "int.range"},
    {"-1", 0, 10, HMB_INVALID, 0, "int.range"},
    {"", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"-", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"+1", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {" 1", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"1 ", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"1.0", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"0x1", 0, 10, HMB_INVALID, 0, "int.syntax"},
    {"--1", -10, 10, HMB_INVALID, 0, "int.syntax"},
};

static void test_money__str_to_i64(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(ints); i++) {
    int64_t v = 42;
    struct hmb_err err;
    enum hmb_status result;
    hmb_err_init(&err);
    result = str_to_i64(ints[i].s, strlen(ints[i].s), ints[i].min, ints[i].max, &v, "age", &err);
    if (result != ints[i].status)
      fail_msg("\"%s\": got %s, expected %s", ints[i].s, hmb_status_name(result),
               hmb_status_name(ints[i].status));
    if (result == HMB_OK) {
      assert_int_equal(v, ints[i].want);
    } else {
      assert_string_equal(err.code, ints[i].code);
      assert_string_equal(err.field, "age");
      assert_int_equal(v, 42);
    }
  }
}

/* err == NULL discards details; the status is still returned. */
static void test_money__null_err(void **state)
{
  hmb_fen v;
  hmb_bp bp;
  int64_t i;
  (void)state;
  assert_int_equal(money_parse("x", 1, &v, "a", NULL), HMB_INVALID);
  assert_int_equal(money_parse_nonneg("-1", 2, &v, "a", NULL), HMB_INVALID);
  assert_int_equal(ratio_parse("x", 1, &bp, "a", NULL), HMB_INVALID);
  assert_int_equal(str_to_i64("x", 1, 0, 1, &i, "a", NULL), HMB_INVALID);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_money__parse_accepts),
      cmocka_unit_test(test_money__parse_rejects),
      cmocka_unit_test(test_money__parse_length_bounded),
      cmocka_unit_test(test_money__parse_nonneg),
      cmocka_unit_test(test_money__format),
      cmocka_unit_test(test_money__format_round_trip),
      cmocka_unit_test(test_money__ratio_parse_accepts),
      cmocka_unit_test(test_money__ratio_parse_rejects),
      cmocka_unit_test(test_money__ratio_format),
      cmocka_unit_test(test_money__apply_bp),
      cmocka_unit_test(test_money__round_bpfen),
      cmocka_unit_test(test_money__add_ok),
      cmocka_unit_test(test_money__str_to_i64),
      cmocka_unit_test(test_money__null_err),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

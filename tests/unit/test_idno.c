/*
 * test_idno.c - resident identity numbers (GB 11643-1999).
 *
 * Check characters of the numbers below were computed independently with
 * python3 (sum of digit x weight mod 11 mapped through "10X98765432");
 * 11010519491231002X is the worked example of the standard. Apart from that
 * one, the numbers are made up.
 */
#include "idno.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static hmb_date D(const char *s)
{
  hmb_date d = 0;
  assert_int_equal(date_parse(s, strlen(s), &d, "test", NULL), HMB_OK);
  return d;
}

static const struct {
  const char *s;
  const char *region;
  const char *birth;
  char sex;
} good[] = {
    {"11010519491231002X", "110105", "1949-12-31", 'F'},
    {"11010519491231002x", "110105", "1949-12-31", 'F'}, /* lowercase x */
    {"440304199001010011", "440304", "1990-01-01", 'M'},
    {"371502200002291237", "371502", "2000-02-29", 'M'}, /* leap day */
    {"150102202402290001", "150102", "2024-02-29", 'F'},
    {"650101209912310002", "650101", "2099-12-31", 'F'},
    {"310115190001010028", "310115", "1900-01-01", 'F'}, /* first supported day */
    {"810000199912310039", "810000", "1999-12-31", 'M'}, /* Hong Kong permit */
    {"830000199006150022", "830000", "1990-06-15", 'F'}, /* Taiwan permit */
    {"710000198001010010", "710000", "1980-01-01", 'M'},
    {"520102198007315678", "520102", "1980-07-31", 'M'},
    {"130102194910012349", "130102", "1949-10-01", 'F'},
    {"530102199912319990", "530102", "1999-12-31", 'M'}, /* 17th digit 9 */
    {"540102197001018882", "540102", "1970-01-01", 'F'},
};

static void test_idno__valid(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(good); i++) {
    struct idno_info info;
    struct hmb_err err;
    memset(&info, 0, sizeof(info));
    hmb_err_init(&err);
    if (idno_parse(good[i].s, strlen(good[i].s), &info, "id_no", &err) != HMB_OK)
      fail_msg("%s rejected: %s %s", good[i].s, err.code, err.message);
    assert_string_equal(info.region, good[i].region);
    assert_int_equal(info.birth, D(good[i].birth));
    assert_int_equal(info.sex, good[i].sex);
    assert_true(idno_valid(good[i].s, strlen(good[i].s)));
  }
}

static const struct {
  const char *s;
  const char *code;
} bad[] = {
    /* 15-digit numbers of the pre-1999 form */
    {"110105491231002", "idno.legacy15"},
    {"371502850101123", "idno.legacy15"},
    /* length */
    {"", "idno.length"},
    {"11010519491231002", "idno.length"},
    {"11010519491231002X1", "idno.length"},
    {"11010519491231X02", "idno.length"},
    {"11010549123100X", "idno.length"},      /* 15 characters but not 15 digits */
    {"１１０１０５１９４９", "idno.length"}, /* full-width digits: 30 bytes */
    /* characters */
    {"11010519491231002A", "idno.char"},
    {"1101051949123100X2", "idno.char"}, /* X only as the last character */
    {"X10105194912310021", "idno.char"},
    {"11010519491231002 ", "idno.char"},
    {" 11010519491231002", "idno.char"},
    {"110105-1949123100X", "idno.char"},
    {"11010519491231002\n", "idno.char"},
    /* region (check characters are right, so only the region is wrong) */
    {"91010119800101001X", "idno.region"},
    {"000101198001010015", "idno.region"},
    {"16010119800101001X", "idno.region"},
    {"380101198001010010", "idno.region"},
    {"470101198001010012", "idno.region"},
    {"840101198001010011", "idno.region"},
    /* birth date */
    {"371502198502291233", "idno.birth"}, /* 1985 is not a leap year */
    {"371502190002290019", "idno.birth"}, /* nor is 1900 */
    {"371502189912310017", "idno.birth"}, /* before 1900 */
    {"371502220001010016", "idno.birth"}, /* after 2199 */
    {"371502198013010015", "idno.birth"}, /* month 13 */
    {"371502198001000012", "idno.birth"}, /* day 0 */
    /* check character */
    {"110105194912310021", "idno.checksum"},
    {"110105194912310020", "idno.checksum"},
    {"11010519491231003X", "idno.checksum"},
    {"440304199001010012", "idno.checksum"},
    {"440304199001010017", "idno.checksum"},
    {"44030419900101001X", "idno.checksum"},
};

static void test_idno__invalid(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad); i++) {
    struct idno_info info;
    struct hmb_err err;
    size_t len = strlen(bad[i].s);
    memset(&info, 0x5a, sizeof(info));
    hmb_err_init(&err);
    if (idno_parse(bad[i].s, len, &info, "insured.id_no", &err) != HMB_INVALID ||
        strcmp(err.code, bad[i].code) != 0)
      fail_msg("\"%s\": got %s, expected %s", bad[i].s, err.code, bad[i].code);
    assert_int_equal(err.status, HMB_INVALID);
    assert_string_equal(err.field, "insured.id_no");
    assert_true(err.message[0] != '\0');
    /* personal data never reaches a message */
    if (len >= 8)
      assert_null(strstr(err.message, bad[i].s));
    if (len == 18) {
      char birth[9];
      memcpy(birth, bad[i].s + 6, 8);
      birth[8] = '\0';
      assert_null(strstr(err.message, birth));
    }
    /* out is untouched */
    assert_int_equal((unsigned char)info.region[0], 0x5a);
    assert_int_equal((unsigned char)info.sex, 0x5a);
    assert_false(idno_valid(bad[i].s, len));
  }
}

static void test_idno__messages(void **state)
{
  struct idno_info info;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(idno_parse("110105194912310021", 18, &info, "id", &err), HMB_INVALID);
  assert_string_equal(err.message, "身份证号校验位错误：应为 X");
  assert_int_equal(idno_parse("440304199001010012", 18, &info, "id", &err), HMB_INVALID);
  assert_string_equal(err.message, "身份证号校验位错误：应为 1");
  assert_int_equal(idno_parse("11010519491231002", 17, &info, "id", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "17"));
  assert_int_equal(idno_parse("11010519A91231002X", 18, &info, "id", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "第 9 位"));
  assert_int_equal(idno_parse("110105491231002", 15, &info, "id", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "15 位"));
  /* err may be NULL */
  assert_int_equal(idno_parse("110105194912310021", 18, &info, "id", NULL), HMB_INVALID);
}

/* Only the given length is read: a longer buffer is fine. */
static void test_idno__length_bounded(void **state)
{
  static const char s[] = "11010519491231002X99999";
  struct idno_info info;
  (void)state;
  assert_int_equal(idno_parse(s, 18, &info, "id", NULL), HMB_OK);
  assert_false(idno_valid(s, 19));
  assert_false(idno_valid(s, 0));
}

static const struct {
  const char *s;
  size_t outsz;
  const char *want;
} masks[] = {
    {"371502198501011236", IDNO_MASK_MAX, "371502********1236"},
    {"11010519491231002X", IDNO_MASK_MAX, "110105********002X"},
    {"11010519491231002x", IDNO_MASK_MAX, "110105********002x"},
    {"110105491231002", 32, "110105*****1002"},
    {"12345678901", 32, "123456*8901"},
    {"1234567890", 32, "**********"}, /* too short to keep anything */
    {"123", 32, "***"},
    {"", 32, ""},
    {"371502198501011236", 10, "371502***"}, /* truncated, still masked */
    {"371502198501011236", 1, ""},
    {"37-502198501011236", IDNO_MASK_MAX, "37*502********1236"},
    {"身份证号码：37150219850101", 64,
     "****************************0101"}, /* bytes, never half a character */
};

static void test_idno__mask(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(masks); i++) {
    char out[64];
    memset(out, '!', sizeof(out));
    idno_mask(masks[i].s, strlen(masks[i].s), out, masks[i].outsz);
    if (strcmp(out, masks[i].want) != 0)
      fail_msg("mask(\"%s\", %zu) = \"%s\", expected \"%s\"", masks[i].s, masks[i].outsz, out,
               masks[i].want);
  }
}

static void test_idno__mask_zero_size(void **state)
{
  char out[4] = "abc";
  (void)state;
  idno_mask("371502198501011236", 18, out, 0);
  assert_string_equal(out, "abc");
}

/* Every check character 0-9/X is reachable and only the right one passes. */
static void test_idno__all_check_chars(void **state)
{
  static const char chars[] = "0123456789X";
  char s[19] = "11010519491231000?";
  int seq;
  (void)state;
  for (seq = 0; seq < 1000; seq++) {
    size_t k;
    int ok = 0;
    s[14] = (char)('0' + seq / 100);
    s[15] = (char)('0' + seq / 10 % 10);
    s[16] = (char)('0' + seq % 10);
    for (k = 0; k < 11; k++) {
      s[17] = chars[k];
      ok += idno_valid(s, 18);
    }
    assert_int_equal(ok, 1);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idno__valid),
      cmocka_unit_test(test_idno__invalid),
      cmocka_unit_test(test_idno__messages),
      cmocka_unit_test(test_idno__length_bounded),
      cmocka_unit_test(test_idno__mask),
      cmocka_unit_test(test_idno__mask_zero_size),
      cmocka_unit_test(test_idno__all_check_chars),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

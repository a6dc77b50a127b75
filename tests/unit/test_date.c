/*
 * test_date.c - civil dates and times.
 */
#include "date.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static const struct {
  int y, m, d;
  bool valid;
} valid_cases[] = {
    {2024, 2, 29, true},   {2023, 2, 29, false},  {2000, 2, 29, true},  {1900, 2, 29, false},
    {2100, 2, 29, false},  {2196, 2, 29, true},   {2023, 2, 28, true},  {1900, 1, 1, true},
    {1899, 12, 31, false}, {2199, 12, 31, true},  {2200, 1, 1, false},  {2024, 4, 30, true},
    {2024, 4, 31, false},  {2024, 12, 31, true},  {2024, 13, 1, false}, {2024, 0, 1, false},
    {2024, 1, 0, false},   {2024, 1, 32, false},  {2024, -1, 1, false}, {2024, 6, 31, false},
    {2024, 9, 31, false},  {2024, 11, 31, false}, {2024, 7, 31, true},  {2024, 8, 31, true},
};

static void test_date__valid(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(valid_cases); i++)
    if (date_valid(valid_cases[i].y, valid_cases[i].m, valid_cases[i].d) != valid_cases[i].valid)
      fail_msg("%d-%d-%d: expected %d", valid_cases[i].y, valid_cases[i].m, valid_cases[i].d,
               valid_cases[i].valid);
}

static const struct {
  int y, m, d;
  hmb_date days;
  int weekday;
} known[] = {
    {1970, 1, 1, 0, 4},                               /* Thursday */
    {1969, 12, 31, -1, 3},    {2024, 1, 1, 19723, 1}, /* Monday */
    {2000, 3, 1, 11017, 3},   {1900, 1, 1, -25567, 1},  {2199, 12, 31, 84005, 2},
    {2024, 2, 29, 19782, 4},  {2023, 12, 31, 19722, 7}, /* Sunday */
    {2024, 10, 12, 20008, 6},                           /* Saturday */
};

static void test_date__known_days(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(known); i++) {
    hmb_date d = date_from_ymd(known[i].y, known[i].m, known[i].d);
    int y, m, dd;
    assert_int_equal(d, known[i].days);
    assert_int_equal(date_weekday(d), known[i].weekday);
    date_to_ymd(d, &y, &m, &dd);
    assert_int_equal(y, known[i].y);
    assert_int_equal(m, known[i].m);
    assert_int_equal(dd, known[i].d);
    assert_int_equal(date_year(d), known[i].y);
  }
}

/* Every supported day converts both ways, days are consecutive, weekdays cycle. */
static void test_date__round_trip_all_days(void **state)
{
  hmb_date first = date_from_ymd(1900, 1, 1), last = date_from_ymd(2199, 12, 31), d;
  int py = 1899, pm = 12, pd = 31, pw = 7; /* 1899-12-31 was a Sunday */
  long count = 0;
  (void)state;
  for (d = first; d <= last; d++) {
    int y, m, dd, w = date_weekday(d);
    char buf[HMB_DATE_TEXT_MAX];
    hmb_date back = 0;
    date_to_ymd(d, &y, &m, &dd);
    assert_true(date_valid(y, m, dd));
    assert_int_equal(date_from_ymd(y, m, dd), d);
    /* the successor of the previous day */
    if (dd == 1) {
      assert_true(!date_valid(py, pm, pd + 1));
      assert_true(m == pm + 1 || (m == 1 && pm == 12 && y == py + 1));
    } else {
      assert_int_equal(y, py);
      assert_int_equal(m, pm);
      assert_int_equal(dd, pd + 1);
    }
    assert_int_equal(w, pw % 7 + 1);
    assert_int_equal(date_format(d, buf), 10);
    assert_int_equal(date_parse(buf, 10, &back, "d", NULL), HMB_OK);
    assert_int_equal(back, d);
    py = y;
    pm = m;
    pd = dd;
    pw = w;
    count++;
  }
  /* 300 years with 73 leap years (1900, 2100 are not; 2000 is) */
  assert_int_equal(count, 300 * 365 + 73);
}

static const struct {
  const char *s;
  const char *code; /* NULL when valid */
  const char *want;
} parse_cases[] = {
    {"2024-02-29", NULL, "2024-02-29"},
    {"20240229", NULL, "2024-02-29"},
    {"1900-01-01", NULL, "1900-01-01"},
    {"2199-12-31", NULL, "2199-12-31"},
    {"2023-02-29", "date.invalid", NULL},
    {"1899-12-31", "date.invalid", NULL},
    {"2200-01-01", "date.invalid", NULL},
    {"2024-13-01", "date.invalid", NULL},
    {"2024-00-10", "date.invalid", NULL},
    {"20230229", "date.invalid", NULL},
    {"2024-2-29", "date.syntax", NULL},
    {"2024/02/29", "date.syntax", NULL},
    {"2024-02-29 ", "date.syntax", NULL},
    {" 2024-02-29", "date.syntax", NULL},
    {"2024-02-2a", "date.syntax", NULL},
    {"+024-02-29", "date.syntax", NULL},
    {"2024-+2-29", "date.syntax", NULL},
    {"2024022", "date.syntax", NULL},
    {"", "date.syntax", NULL},
    {"2024年2月29日", "date.syntax", NULL},
};

static void test_date__parse(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
    hmb_date d = 4242;
    struct hmb_err err;
    enum hmb_status result;
    hmb_err_init(&err);
    result = date_parse(parse_cases[i].s, strlen(parse_cases[i].s), &d, "birth", &err);
    if (!parse_cases[i].code) {
      char buf[HMB_DATE_TEXT_MAX];
      if (result != HMB_OK)
        fail_msg("\"%s\" rejected: %s", parse_cases[i].s, err.message);
      date_format(d, buf);
      assert_string_equal(buf, parse_cases[i].want);
    } else {
      if (result != HMB_INVALID || strcmp(err.code, parse_cases[i].code) != 0)
        fail_msg("\"%s\": got %s, expected %s", parse_cases[i].s, err.code, parse_cases[i].code);
      assert_string_equal(err.field, "birth");
      assert_int_equal(d, 4242);
    }
  }
}

static const struct {
  const char *s;
  const char *code;
  const char *want;
} dt_cases[] = {
    {"2024-02-29 23:59:59", NULL, "2024-02-29 23:59:59"},
    {"2024-02-29T08:00:00", NULL, "2024-02-29 08:00:00"},
    {"2024-02-29", NULL, "2024-02-29 00:00:00"},
    {"1900-01-01 00:00:00", NULL, "1900-01-01 00:00:00"},
    {"1969-12-31 23:59:59", NULL, "1969-12-31 23:59:59"},
    {"2199-12-31 23:59:59", NULL, "2199-12-31 23:59:59"},
    {"2024-02-29 24:00:00", "datetime.invalid", NULL},
    {"2024-02-29 12:60:00", "datetime.invalid", NULL},
    {"2024-02-29 12:00:60", "datetime.invalid", NULL},
    {"2024-02-29 12:00", "datetime.syntax", NULL},
    {"2024-02-29X12:00:00", "datetime.syntax", NULL},
    {"2024-02-29 12-00-00", "datetime.syntax", NULL},
    {"2024-02-29 1a:00:00", "datetime.syntax", NULL},
    {"2024-02-29 12:00:00Z", "datetime.syntax", NULL},
    {"", "datetime.syntax", NULL},
    {"2024-02-30 00:00:00", "date.invalid", NULL},
    {"2024/02/28 00:00:00", "date.syntax", NULL},
};

static void test_date__datetime(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(dt_cases); i++) {
    hmb_time t = 4242;
    struct hmb_err err;
    enum hmb_status result;
    hmb_err_init(&err);
    result = datetime_parse(dt_cases[i].s, strlen(dt_cases[i].s), &t, "setl_time", &err);
    if (!dt_cases[i].code) {
      char buf[HMB_DATETIME_TEXT_MAX];
      hmb_time back = 0;
      size_t n;
      if (result != HMB_OK)
        fail_msg("\"%s\" rejected: %s", dt_cases[i].s, err.message);
      n = datetime_format(t, buf);
      assert_string_equal(buf, dt_cases[i].want);
      assert_int_equal(n, 19);
      assert_int_equal(datetime_parse(buf, n, &back, "t", NULL), HMB_OK);
      assert_int_equal(back, t);
    } else {
      if (result != HMB_INVALID || strcmp(err.code, dt_cases[i].code) != 0)
        fail_msg("\"%s\": got %s, expected %s", dt_cases[i].s, err.code, dt_cases[i].code);
      assert_string_equal(err.field, "setl_time");
      assert_int_equal(t, 4242);
    }
  }
}

static void test_date__time_date(void **state)
{
  (void)state;
  assert_int_equal(time_date(0), 0);
  assert_int_equal(time_date(86399), 0);
  assert_int_equal(time_date(86400), 1);
  assert_int_equal(time_date(-1), -1);
  assert_int_equal(time_date(-86400), -1);
  assert_int_equal(time_date(-86401), -2);
  assert_int_equal(date_time(19723), (hmb_time)19723 * 86400);
  assert_int_equal(time_date(date_time(-25567) + 3600), -25567);
}

static const struct {
  const char *birth, *on;
  int age;
} ages[] = {
    {"1990-06-15", "2024-06-14", 33},
    {"1990-06-15", "2024-06-15", 34},
    {"1990-06-15", "2024-06-16", 34},
    {"2000-02-29", "2001-02-28", 0}, /* 29 Feb birthdays turn over on 1 Mar */
    {"2000-02-29", "2001-03-01", 1},
    {"2000-02-29", "2004-02-28", 3},
    {"2000-02-29", "2004-02-29", 4},
    {"2000-02-29", "2100-02-28", 99}, /* 2100 is not a leap year */
    {"2000-02-29", "2100-03-01", 100},
    {"2024-01-01", "2024-01-01", 0},
    {"2024-01-01", "2024-12-31", 0},
    {"2024-01-02", "2024-01-01", -1}, /* before birth */
    {"2024-06-01", "2023-06-01", -1},
    {"1949-12-31", "2024-01-01", 74},
    {"1900-01-01", "2199-12-31", 299},
};

static void test_date__age_on(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(ages); i++) {
    hmb_date b = 0, o = 0;
    int age;
    assert_int_equal(date_parse(ages[i].birth, 10, &b, "b", NULL), HMB_OK);
    assert_int_equal(date_parse(ages[i].on, 10, &o, "o", NULL), HMB_OK);
    age = date_age_on(b, o);
    if (age != ages[i].age)
      fail_msg("born %s, on %s: age %d, expected %d", ages[i].birth, ages[i].on, age, ages[i].age);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_date__valid),
      cmocka_unit_test(test_date__known_days),
      cmocka_unit_test(test_date__round_trip_all_days),
      cmocka_unit_test(test_date__parse),
      cmocka_unit_test(test_date__datetime),
      cmocka_unit_test(test_date__time_date),
      cmocka_unit_test(test_date__age_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

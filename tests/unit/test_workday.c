/*
 * test_workday.c - the working-day calendar and data/holidays-cn.tsv.
 *
 * Expected deadlines were worked out by hand from the State Council notices
 * (each case's walk is spelled out next to it) and cross-checked with an
 * independent Python implementation reading the same file.
 */
#include "workday.h"
#include "buf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static struct workday_cal cal;

static hmb_date D(const char *s)
{
  hmb_date d = 0;
  assert_int_equal(date_parse(s, strlen(s), &d, "test", NULL), HMB_OK);
  return d;
}

static int setup_cal(void **state)
{
  const char *home = getenv("HMB_HOME");
  char path[4096];
  struct hmb_err err;
  (void)state;
  snprintf(path, sizeof(path), "%s/data/holidays-cn.tsv", home && *home ? home : ".");
  hmb_err_init(&err);
  workday_cal_init(&cal);
  if (workday_cal_load(&cal, path, &err)) {
    fprintf(stderr, "cannot load %s: %s %s %s\n", path, err.code, err.field, err.message);
    return -1;
  }
  return 0;
}

static int teardown_cal(void **state)
{
  (void)state;
  workday_cal_release(&cal);
  return 0;
}

/* ---- the shipped calendar ---- */

static void test_workday__coverage(void **state)
{
  (void)state;
  assert_int_equal(cal.first_year, 2021);
  assert_int_equal(cal.last_year, 2026);
  assert_true(workday_covers(&cal, D("2021-01-01")));
  assert_true(workday_covers(&cal, D("2026-12-31")));
  assert_false(workday_covers(&cal, D("2020-12-31")));
  assert_false(workday_covers(&cal, D("2027-01-01")));
  /* named by the 2023 notice, and covered because 2022 is declared */
  assert_true(workday_covers(&cal, D("2022-12-31")));
}

static const struct {
  const char *date;
  bool workday;
  const char *name; /* holiday name, or NULL */
} day_cases[] = {
    /* 2021 */
    {"2021-01-01", false, "元旦"},
    {"2021-02-12", false, "春节"},   /* Friday inside 春节 */
    {"2021-02-20", true, NULL},      /* Saturday, 调休上班 */
    {"2021-02-07", true, NULL},      /* Sunday, 调休上班 */
    {"2021-03-06", false, NULL},     /* ordinary Saturday */
    {"2021-03-08", true, NULL},      /* ordinary Monday */
    {"2021-10-07", false, "国庆节"}, /* Thursday */
    {"2021-09-18", true, NULL},      /* Saturday before 中秋 */
    /* 2022 */
    {"2022-02-01", false, "春节"},
    {"2022-04-02", true, NULL}, /* Saturday before 清明 */
    {"2022-03-05", false, NULL},
    {"2022-03-07", true, NULL},
    {"2022-10-09", true, NULL},    /* Sunday after 国庆 */
    {"2022-12-31", false, "元旦"}, /* named by the 2023 notice */
    /* 2023 */
    {"2023-01-02", false, "元旦"},   /* Monday */
    {"2023-04-05", false, "清明节"}, /* Wednesday, one day only */
    {"2023-04-06", true, NULL},
    {"2023-06-25", true, NULL}, /* Sunday after 端午 */
    {"2023-03-04", false, NULL},
    {"2023-03-06", true, NULL},
    {"2023-09-29", false, "中秋节、国庆节"},
    {"2023-10-07", true, NULL},
    {"2023-12-30", false, "元旦"}, /* named by the 2024 notice */
    /* 2024 */
    {"2024-01-01", false, "元旦"},
    {"2024-02-09", true, NULL}, /* 除夕 Friday: only "encouraged" off */
    {"2024-02-12", false, "春节"},
    {"2024-02-18", true, NULL}, /* Sunday, 调休上班 */
    {"2024-04-07", true, NULL}, /* Sunday after 清明 */
    {"2024-10-12", true, NULL}, /* Saturday after 国庆 */
    {"2024-03-02", false, NULL},
    {"2024-03-04", true, NULL},
    {"2024-06-10", false, "端午节"},
    /* 2025 */
    {"2025-01-01", false, "元旦"},
    {"2025-01-02", true, NULL},
    {"2025-01-28", false, "春节"}, /* 除夕 is a holiday from 2025 on */
    {"2025-01-26", true, NULL},
    {"2025-04-27", true, NULL}, /* Sunday before 劳动节 */
    {"2025-03-01", false, NULL},
    {"2025-03-03", true, NULL},
    {"2025-10-08", false, "国庆节、中秋节"},
    {"2025-10-11", true, NULL},
    /* 2026 */
    {"2026-01-04", true, NULL},    /* Sunday after 元旦 */
    {"2026-02-23", false, "春节"}, /* Monday, 9-day 春节 */
    {"2026-02-14", true, NULL},
    {"2026-02-28", true, NULL},
    {"2026-03-07", false, NULL},
    {"2026-03-09", true, NULL},
    {"2026-09-20", true, NULL}, /* Sunday before 国庆 */
    {"2026-09-25", false, "中秋节"},
    {"2026-12-31", true, NULL},
};

static void test_workday__days(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(day_cases); i++) {
    hmb_date d = D(day_cases[i].date);
    bool w = !day_cases[i].workday;
    const char *name = workday_name(&cal, d);
    struct hmb_err err;
    hmb_err_init(&err);
    if (workday_check(&cal, d, &w, &err) != HMB_OK || w != day_cases[i].workday)
      fail_msg("%s: expected workday=%d", day_cases[i].date, day_cases[i].workday);
    assert_true(workday_is_workday(&cal, d) == day_cases[i].workday);
    if (day_cases[i].name)
      assert_non_null(name);
    if (!day_cases[i].name ? name != NULL : strcmp(name, day_cases[i].name) != 0)
      fail_msg("%s: name %s, expected %s", day_cases[i].date, name ? name : "(null)",
               day_cases[i].name ? day_cases[i].name : "(null)");
  }
}

/*
 * Working days per year: Monday..Friday minus the statutory days that fall on
 * them plus the make-up days; every notice balances its 调休, so this is
 * weekdays - statutory days (11 up to 2024, 13 from 2025).
 */
static void test_workday__year_totals(void **state)
{
  static const struct {
    int year, total;
  } totals[] = {
      {2021, 250}, /* 261 weekdays - 11 */
      {2022, 249}, /* 260 - 11 */
      {2023, 249}, /* 260 - 11 */
      {2024, 251}, /* 262 - 11 */
      {2025, 248}, /* 261 - 13 */
      {2026, 248}, /* 261 - 13 */
  };
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(totals); i++) {
    int n = -1;
    hmb_date from = date_from_ymd(totals[i].year, 1, 1) - 1;
    hmb_date to = date_from_ymd(totals[i].year, 12, 31);
    struct hmb_err err;
    hmb_err_init(&err);
    assert_int_equal(workday_count(&cal, from, to, &n, &err), HMB_OK);
    if (n != totals[i].total)
      fail_msg("%d: %d working days, expected %d", totals[i].year, n, totals[i].total);
  }
}

static const struct {
  const char *from;
  int n;
  const char *want;
} add_cases[] = {
    /* 2024-09-30 Mon: 10-01..10-07 off; 10-08(1) 09(2) 10(3) 11(4), 10-12 Sat
   * make-up (5), 10-13 Sun off, 10-14(6), 10-15(7). */
    {"2024-09-30", 7, "2024-10-15"},
    {"2024-09-30", 0, "2024-09-30"},
    {"2024-09-30", 1, "2024-10-08"},
    {"2024-09-30", 5, "2024-10-12"},
    /* 2024-02-08 Thu: 02-09 除夕 is a working day (1); 02-10..02-17 off;
   * 02-18 Sun make-up (2); 02-19..02-23 (3..7). */
    {"2024-02-08", 7, "2024-02-23"},
    {"2024-02-08", 1, "2024-02-09"},
    {"2024-02-08", 2, "2024-02-18"},
    /* 2021-02-10 Wed: 02-11..02-17 off; 02-18(1) 19(2), 02-20 Sat make-up (3),
   * 02-22..02-25 (4..7). */
    {"2021-02-10", 7, "2021-02-25"},
    {"2021-02-10", 3, "2021-02-20"},
    /* 2021-09-30 Thu: 10-01..10-07 off; 10-08(1), 10-09 Sat (2), 10-11..15 (3..7). */
    {"2021-09-30", 7, "2021-10-15"},
    {"2021-09-30", 2, "2021-10-09"},
    /* 2022-01-28 Fri: 01-29 Sat (1), 01-30 Sun (2), 01-31..02-06 off,
   * 02-07..02-11 (3..7). */
    {"2022-01-28", 7, "2022-02-11"},
    {"2022-01-28", 3, "2022-02-07"},
    /* 2022-09-30 Fri: 10-01..10-07 off; 10-08 Sat (1), 10-09 Sun (2),
   * 10-10..10-14 (3..7). */
    {"2022-09-30", 7, "2022-10-14"},
    /* 2023-01-20 Fri: 01-21..01-27 off; 01-28 Sat (1), 01-29 Sun (2),
   * 01-30..02-03 (3..7). */
    {"2023-01-20", 7, "2023-02-03"},
    /* 2023-09-28 Thu: 09-29..10-06 off; 10-07 Sat (1), 10-08 Sun (2),
   * 10-09..10-13 (3..7). */
    {"2023-09-28", 7, "2023-10-13"},
    {"2023-09-28", 1, "2023-10-07"},
    /* 2025-01-27 Mon: 01-28..02-04 off; 02-05(1) 06(2) 07(3), 02-08 Sat (4),
   * 02-10(5) 11(6) 12(7). */
    {"2025-01-27", 7, "2025-02-12"},
    {"2025-01-27", 4, "2025-02-08"},
    /* 2025-09-30 Tue: 10-01..10-08 off; 10-09(1) 10(2), 10-11 Sat (3),
   * 10-13(4) 14(5) 15(6) 16(7). */
    {"2025-09-30", 7, "2025-10-16"},
    /* 2026-02-13 Fri: 02-14 Sat (1), 02-15..02-23 off, 02-24(2) 25(3) 26(4)
   * 27(5), 02-28 Sat (6), 03-02 Mon (7). */
    {"2026-02-13", 7, "2026-03-02"},
    {"2026-02-13", 6, "2026-02-28"},
    /* 2026-09-30 Wed: 10-01..10-07 off; 10-08(1) 09(2), 10-10 Sat (3),
   * 10-12(4) 13(5) 14(6) 15(7). */
    {"2026-09-30", 7, "2026-10-15"},
    /* 元旦 across the year boundary: 2022-12-31..2023-01-02 off. */
    {"2022-12-30", 1, "2023-01-03"},
    /* The start day itself may lie before the calendar. */
    {"2020-12-31", 1, "2021-01-04"},
    {"2026-12-30", 1, "2026-12-31"},
    /* A long walk: 2024 has 251 working days, the last on 12-31 (Tue). */
    {"2023-12-31", 251, "2024-12-31"},
};

static void test_workday__add(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(add_cases); i++) {
    hmb_date out = -1;
    int back = -1;
    char t[HMB_DATE_TEXT_MAX];
    struct hmb_err err;
    hmb_err_init(&err);
    if (workday_add(&cal, D(add_cases[i].from), add_cases[i].n, &out, &err) != HMB_OK)
      fail_msg("%s + %d: %s", add_cases[i].from, add_cases[i].n, err.message);
    date_format(out, t);
    if (strcmp(t, add_cases[i].want) != 0)
      fail_msg("%s + %d = %s, expected %s", add_cases[i].from, add_cases[i].n, t,
               add_cases[i].want);
    if (add_cases[i].n > 0 && workday_covers(&cal, D(add_cases[i].from))) {
      assert_int_equal(workday_count(&cal, D(add_cases[i].from), out, &back, &err), HMB_OK);
      assert_int_equal(back, add_cases[i].n);
    }
  }
}

/* workday_count() undoes workday_add(), and every answer is a working day. */
static void test_workday__add_count_agree(void **state)
{
  hmb_date d;
  (void)state;
  for (d = D("2021-01-01"); d <= D("2026-11-30"); d++) {
    int n;
    for (n = 0; n <= 20; n++) {
      hmb_date out;
      int back = -1;
      assert_int_equal(workday_add(&cal, d, n, &out, NULL), HMB_OK);
      assert_int_equal(workday_count(&cal, d, out, &back, NULL), HMB_OK);
      assert_int_equal(back, n);
      if (n > 0) {
        assert_true(workday_is_workday(&cal, out));
        assert_true(out > d);
      } else {
        assert_int_equal(out, d);
      }
    }
  }
}

static void test_workday__uncovered(void **state)
{
  struct hmb_err err;
  hmb_date out = 12345;
  bool w = false;
  int n = 77;
  (void)state;

  hmb_err_init(&err);
  assert_int_equal(workday_check(&cal, D("2027-01-01"), &w, &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "workday.uncovered");
  assert_non_null(strstr(err.message, "2027-01-01"));
  assert_non_null(strstr(err.message, "2021–2026"));

  hmb_err_init(&err);
  assert_int_equal(workday_check(&cal, D("2020-12-31"), &w, &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "workday.uncovered");

  /* walks that leave the calendar: never guessed from weekdays */
  hmb_err_init(&err);
  assert_int_equal(workday_add(&cal, D("2026-12-25"), 10, &out, &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "workday.uncovered");
  assert_non_null(strstr(err.message, "2027-01-01"));
  assert_int_equal(out, 12345);
  assert_int_equal(workday_add(&cal, D("2026-12-31"), 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&cal, D("2020-12-30"), 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&cal, D("1990-01-01"), 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&cal, D("2199-12-31"), 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&cal, INT32_MAX, 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&cal, INT32_MIN, 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(out, 12345);

  hmb_err_init(&err);
  assert_int_equal(workday_add(&cal, D("2024-01-01"), -1, &out, &err), HMB_INVALID);
  assert_string_equal(err.code, "workday.negative");

  assert_int_equal(workday_count(&cal, D("2026-12-01"), D("2027-01-05"), &n, &err), HMB_NOT_FOUND);
  assert_int_equal(workday_count(&cal, D("2020-12-01"), D("2021-01-05"), &n, &err), HMB_NOT_FOUND);
  /* (2020-12-31, 2021-01-05]: every day of the interval is covered */
  assert_int_equal(workday_count(&cal, D("2020-12-31"), D("2021-01-05"), &n, &err), HMB_OK);
  assert_int_equal(n, 2);
  hmb_err_init(&err);
  assert_int_equal(workday_count(&cal, D("2024-02-01"), D("2024-01-01"), &n, &err), HMB_INVALID);
  assert_string_equal(err.code, "workday.order");
  assert_int_equal(workday_count(&cal, D("2099-01-01"), D("2099-01-01"), &n, &err), HMB_OK);
  assert_int_equal(n, 0);

  assert_null(workday_name(&cal, D("2027-01-01")));
}

static void test_workday__empty_calendar(void **state)
{
  struct workday_cal empty;
  struct hmb_err err;
  hmb_date out;
  bool w;
  (void)state;
  workday_cal_init(&empty);
  hmb_err_init(&err);
  assert_false(workday_covers(&empty, D("2024-01-01")));
  assert_int_equal(workday_check(&empty, D("2024-01-01"), &w, &err), HMB_NOT_FOUND);
  assert_non_null(strstr(err.message, "未加载"));
  assert_int_equal(workday_add(&empty, D("2024-01-01"), 1, &out, NULL), HMB_NOT_FOUND);
  assert_int_equal(workday_add(&empty, -1, 1, &out, NULL), HMB_NOT_FOUND);
  assert_null(workday_name(&empty, D("2024-01-01")));
  workday_cal_release(&empty);
}

/* ---- the parser ---- */

#define Y24  "years\t2024\t2024\n"
#define NY24 "holiday\t2024-01-01\t2024-01-01\t元旦\n"

static const struct {
  const char *text;
  const char *code;
  const char *field;
} bad_cases[] = {
    {Y24 "holidy\t2024-01-01\t2024-01-01\t元旦\n", "calendar.kind", "t:2"},
    {Y24 "Holiday\t2024-01-01\t2024-01-01\t元旦\n", "calendar.kind", "t:2"},
    {Y24 NY24 "holiday\t2024-02-30\t2024-02-30\t春节\n", "calendar.date", "t:3"},
    {Y24 "holiday\t2024/01/01\t2024-01-01\t元旦\n", "calendar.date", "t:2"},
    {Y24 "holiday\t20240101\t2024-01-01\t元旦\n", "calendar.date", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-1-1\t元旦\n", "calendar.date", "t:2"},
    {Y24 "holiday\t2024-01-03\t2024-01-01\t元旦\n", "calendar.order", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-20\t元旦\n", "calendar.span", "t:2"},
    {Y24 NY24 "holiday\t2025-01-01\t2025-01-01\t元旦\n", "calendar.range", "t:3"},
    {Y24 NY24 "holiday\t2024-12-31\t2025-01-01\t元旦\n", "calendar.range", "t:3"},
    {Y24 "holiday\t2023-11-30\t2023-11-30\t元旦\n", "calendar.range", "t:2"},
    {Y24 "holiday\t2023-11-30\t2024-01-01\t元旦\n", "calendar.span", "t:2"},
    {"years\t2024\t2025\n" NY24 "holiday\t2024-11-30\t2024-11-30\t元旦\n"
     "holiday\t2025-01-01\t2025-01-01\t元旦\nholiday\t2023-12-31\t2024-01-01\t元旦\n",
     "calendar.overlap", "t:5"},
    {Y24 NY24 "workday\t2024-01-01\t2024-01-01\t元旦\n", "calendar.overlap", "t:3"},
    {Y24 "holiday\t2024-02-10\t2024-02-17\t春节\nholiday\t2024-02-17\t2024-02-18\t春节\n",
     "calendar.overlap", "t:3"},
    {Y24 NY24 "workday\t2024-02-05\t2024-02-05\t春节\n", "calendar.weekday", "t:3"},
    {Y24 NY24 "workday\t2024-02-03\t2024-02-05\t春节\n", "calendar.weekday", "t:3"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t新年\n", "calendar.name", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t中秋节、\n", "calendar.name", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t中秋节、中秋节\n", "calendar.name", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t中秋节,国庆节\n", "calendar.name", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\n", "calendar.syntax", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t元旦\textra\n", "calendar.syntax", "t:2"},
    {Y24 "holiday\t2024-01-01\t2024-01-01\t元旦\t\n", "calendar.syntax", "t:2"},
    {Y24 "holiday\t\t2024-01-01\t2024-01-01\t元旦\n", "calendar.syntax", "t:2"},
    {Y24 "holiday 2024-01-01 2024-01-01 元旦\n", "calendar.kind", "t:2"},
    {Y24 "holiday\t2024-01-01 \t2024-01-01\t元旦\n", "calendar.syntax", "t:2"},
    {Y24 " holiday\t2024-01-01\t2024-01-01\t元旦\n", "calendar.syntax", "t:2"},
    {"# comment\n\n" NY24 Y24, "calendar.no_years", "t:3"},
    {"# only comments\n\n", "calendar.no_years", "t"},
    {"", "calendar.no_years", "t"},
    {Y24 NY24 Y24, "calendar.years", "t:3"},
    {"years\t2024\n" NY24, "calendar.syntax", "t:1"},
    {"years\t2025\t2024\n" NY24, "calendar.years", "t:1"},
    {"years\t20x4\t2024\n" NY24, "calendar.years", "t:1"},
    {"years\t1900\t1901\n", "calendar.years", "t:1"},
    {"years\t2024\t2200\n", "calendar.years", "t:1"},
    {"years\t1901\t2199\n", "calendar.years", "t:1"},
    {"# c\nyears\t2024\t2025\n" NY24, "calendar.year_empty", "t:2"},
    {Y24 "workday\t2024-02-04\t2024-02-04\t春节\n", "calendar.year_empty", "t:1"},
};

static void test_workday__parse_errors(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
    struct workday_cal c;
    struct hmb_err err;
    enum hmb_status result;
    workday_cal_init(&c);
    hmb_err_init(&err);
    result = workday_cal_parse(&c, bad_cases[i].text, strlen(bad_cases[i].text), "t", &err);
    if (result != HMB_INVALID || strcmp(err.code, bad_cases[i].code) ||
        strcmp(err.field, bad_cases[i].field))
      fail_msg("case %zu: got %s %s %s (%s), expected %s %s", i, hmb_status_name(result), err.code,
               err.field, err.message, bad_cases[i].code, bad_cases[i].field);
    assert_true(err.message[0] != '\0');
    /* a failed parse leaves the calendar empty */
    assert_null(c.kind);
    assert_int_equal(c.first_year, 0);
    workday_cal_release(&c);
  }
}

static void test_workday__parse_messages(void **state)
{
  struct workday_cal c;
  struct hmb_err err;
  const char *text = Y24 NY24 "# comment\n"
                              "holiday\t2024-02-10\t2024-02-17\t春节\n"
                              "workday\t2024-02-17\t2024-02-17\t春节\n";
  (void)state;
  workday_cal_init(&c);
  hmb_err_init(&err);
  assert_int_equal(workday_cal_parse(&c, text, strlen(text), "data/h.tsv", &err), HMB_INVALID);
  assert_string_equal(err.code, "calendar.overlap");
  assert_string_equal(err.field, "data/h.tsv:5");
  assert_non_null(strstr(err.message, "2024-02-17"));
  assert_non_null(strstr(err.message, "第 4 行"));

  text = Y24 NY24 "workday\t2024-02-05\t2024-02-05\t春节\n";
  assert_int_equal(workday_cal_parse(&c, text, strlen(text), "t", &err), HMB_INVALID);
  assert_non_null(strstr(err.message, "星期一"));
  workday_cal_release(&c);
}

static void test_workday__parse_accepts(void **state)
{
  struct workday_cal c;
  struct hmb_err err;
  /* BOM, CRLF, comments, blank and whitespace-only lines, a range reaching
   * back into the previous December, a combined name, no final newline */
  static const char text[] = "\xef\xbb\xbf# header\r\n"
                             "\r\n"
                             "years\t2024\t2024\r\n"
                             "  \t \n"
                             "holiday\t2023-12-30\t2024-01-01\t元旦\r\n"
                             "workday\t2023-12-02\t2023-12-02\t元旦\n"
                             "holiday\t2024-10-01\t2024-10-07\t中秋节、国庆节\n"
                             "workday\t2024-10-12\t2024-10-13\t国庆节";
  hmb_date out;
  bool w;
  (void)state;
  workday_cal_init(&c);
  hmb_err_init(&err);
  if (workday_cal_parse(&c, text, sizeof(text) - 1, "t", &err))
    fail_msg("%s %s %s", err.code, err.field, err.message);
  assert_int_equal(c.first_year, 2024);
  assert_false(workday_covers(&c, D("2023-12-31")));
  assert_null(workday_name(&c, D("2023-12-31")));
  assert_string_equal(workday_name(&c, D("2024-01-01")), "元旦");
  assert_string_equal(workday_name(&c, D("2024-10-01")), "中秋节、国庆节");
  assert_null(workday_name(&c, D("2024-10-12")));
  assert_int_equal(workday_check(&c, D("2024-10-13"), &w, &err), HMB_OK);
  assert_true(w);
  assert_int_equal(workday_add(&c, D("2024-09-27"), 1, &out, &err), HMB_OK);
  assert_int_equal(out, D("2024-09-30")); /* 09-28, 09-29 an ordinary weekend */
  assert_int_equal(workday_add(&c, D("2024-09-27"), 2, &out, &err), HMB_OK);
  assert_int_equal(out, D("2024-10-08"));
  /* 10-08..10-11 (2..5), then the make-up days 10-12 Sat (6) and 10-13 Sun (7) */
  assert_int_equal(workday_add(&c, D("2024-09-27"), 7, &out, &err), HMB_OK);
  assert_int_equal(out, D("2024-10-13"));

  /* parsing again replaces the previous content */
  assert_int_equal(workday_cal_parse(&c, Y24 NY24, strlen(Y24 NY24), "t", &err), HMB_OK);
  assert_null(workday_name(&c, D("2024-10-01")));
  workday_cal_release(&c);
  workday_cal_release(&c);
}

static void test_workday__parse_limits(void **state)
{
  struct workday_cal c;
  struct hmb_err err;
  char *big;
  static const char nul_line[] = Y24 "holiday\t2024-01-01\0\t2024-01-01\t元旦\n";
  size_t n = WORKDAY_TEXT_LIMIT + 1;
  (void)state;
  workday_cal_init(&c);
  hmb_err_init(&err);
  big = malloc(n);
  assert_non_null(big);
  memset(big, '#', n);
  assert_int_equal(workday_cal_parse(&c, big, n, "big", &err), HMB_TOO_LARGE);
  assert_string_equal(err.code, "calendar.too_large");
  big[0] = '\n';
  /* exactly at the limit it is read (and fails only for lacking years) */
  assert_int_equal(workday_cal_parse(&c, big, n - 1, "big", &err), HMB_INVALID);
  assert_string_equal(err.code, "calendar.no_years");
  free(big);

  assert_int_equal(workday_cal_parse(&c, nul_line, sizeof(nul_line) - 1, "t", &err), HMB_INVALID);
  assert_string_equal(err.code, "calendar.syntax");
  assert_string_equal(err.field, "t:2");

  /* allocation failure is reported, not a crash */
  hmb_alloc_fail_after(1);
  assert_int_equal(workday_cal_parse(&c, Y24 NY24, strlen(Y24 NY24), "t", &err), HMB_NOMEM);
  hmb_alloc_fail_after(0);
  assert_null(c.kind);
  workday_cal_release(&c);
}

static void test_workday__load_errors(void **state)
{
  struct workday_cal c;
  struct hmb_err err;
  (void)state;
  workday_cal_init(&c);
  hmb_err_init(&err);
  assert_int_equal(workday_cal_load(&c, "/nonexistent/holidays.tsv", &err), HMB_IO);
  assert_string_equal(err.field, "/nonexistent/holidays.tsv");
  assert_null(c.kind);
  workday_cal_release(&c);
}

int main(void)
{
  const struct CMUnitTest shipped[] = {
      cmocka_unit_test(test_workday__coverage),        cmocka_unit_test(test_workday__days),
      cmocka_unit_test(test_workday__year_totals),     cmocka_unit_test(test_workday__add),
      cmocka_unit_test(test_workday__add_count_agree), cmocka_unit_test(test_workday__uncovered),
  };
  const struct CMUnitTest parser[] = {
      cmocka_unit_test(test_workday__empty_calendar), cmocka_unit_test(test_workday__parse_errors),
      cmocka_unit_test(test_workday__parse_messages), cmocka_unit_test(test_workday__parse_accepts),
      cmocka_unit_test(test_workday__parse_limits),   cmocka_unit_test(test_workday__load_errors),
  };
  int failed = cmocka_run_group_tests_name("workday_shipped", shipped, setup_cal, teardown_cal);
  failed += cmocka_run_group_tests_name("workday_parser", parser, NULL, NULL);
  return failed ? 1 : 0;
}

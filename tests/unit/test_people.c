/*
 * test_people.c - the --people table: fields, the psn_no index, families
 * as contiguous members, bad rows reported with file, line and column and
 * skipped, and file-level errors.
 */
#include "compat.h"
#include "people.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct collected {
  size_t n;
  struct hmb_err errs[16];
};

static void collect(void *ctx, const struct hmb_err *err)
{
  struct collected *c = ctx;
  if (c->n < ARRAY_SIZE(c->errs))
    c->errs[c->n] = *err;
  c->n++;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const struct people_entry *find(const struct people *pp, const char *psn_no)
{
  return people_find(pp, psn_no, strlen(psn_no));
}

static void test_people__load_sample(void **state)
{
  char path[512];
  const char *home = getenv("HMB_HOME");
  struct people *pp = NULL;
  struct collected bad = {0};
  struct hmb_err err;
  const struct people_entry *e, *m;
  size_t n;
  static const struct {
    const char *field;
    const char *code;
  } want[] = {
      {"people_sample.csv:6:psn_no", "people.duplicate"},
      {"people_sample.csv:7:brdy", "date.invalid"},
      {"people_sample.csv:8:gend", "gend.syntax"},
      {"people_sample.csv:9:claim_free_years", "claim_free_years.range"},
      {"people_sample.csv:10:preexisting", "preexisting.syntax"},
      {"people_sample.csv:11:insutype", "int.syntax"},
  };
  size_t i;
  (void)state;

  snprintf(path, sizeof(path), "%s/tests/data/people_sample.csv", home ? home : ".");
  hmb_err_init(&err);
  if (people_load(&pp, path, collect, &bad, &err))
    fail_msg("%s: %s", err.field, err.message);
  assert_int_equal(bad.n, ARRAY_SIZE(want));
  for (i = 0; i < ARRAY_SIZE(want); i++) {
    if (!ends_with(bad.errs[i].field, want[i].field) || strcmp(bad.errs[i].code, want[i].code))
      fail_msg("bad row %zu: want %s %s, got %s %s (%s)", i, want[i].field, want[i].code,
               bad.errs[i].field, bad.errs[i].code, bad.errs[i].message);
  }
  assert_int_equal(people_count(pp), 5);
  assert_int_equal(people_skipped(pp), 6);
  assert_int_equal(people_family_count(pp), 2);

  e = find(pp, "P001");
  assert_non_null(e);
  assert_int_equal(e->insutype, 310);
  assert_int_equal(e->birth, date_from_ymd(1990, 1, 1));
  assert_int_equal(e->gend, 1);
  assert_int_equal(e->preexisting, 0);
  assert_int_equal(e->loyalty_years, 3);
  assert_int_equal(e->claim_free_years, 2);
  assert_string_equal(e->groups, "medical_assistance;low_income");
  assert_string_equal(e->family_id, "F1");
  assert_int_equal(people_family_members(pp, e->family, &m, &n), HMB_OK);
  assert_int_equal(n, 2);
  assert_string_equal(m[0].psn_no, "P001"); /* file order inside the family */
  assert_string_equal(m[1].psn_no, "P003");

  e = find(pp, "P002");
  assert_non_null(e);
  assert_int_equal(e->birth, -1); /* 1969-12-31 is a real date, distinct from unknown */
  assert_int_equal(e->preexisting, 1);
  assert_int_equal(e->family, -1);
  assert_null(e->family_id);
  assert_string_equal(e->groups, "");

  e = find(pp, "P003");
  assert_non_null(e);
  assert_int_equal(e->birth, PEOPLE_BIRTH_UNKNOWN);
  assert_int_equal(e->gend, 9);
  assert_int_equal(e->loyalty_years, 0);

  e = find(pp, "P010");
  assert_non_null(e);
  assert_int_equal(people_family_members(pp, e->family, &m, &n), HMB_OK);
  assert_int_equal(n, 2);
  assert_string_equal(m[0].psn_no, "P004");
  assert_string_equal(m[1].psn_no, "P010");

  assert_null(find(pp, "P005"));
  assert_null(find(pp, "P00"));
  assert_null(find(pp, ""));
  assert_null(people_find(pp, "P0010", 4 + 40)); /* longer than any psn_no */
  assert_int_equal(people_family_members(pp, 2, &m, &n), HMB_NOT_FOUND);
  assert_int_equal(people_family_members(pp, -1, &m, &n), HMB_NOT_FOUND);
  people_free(pp);
}

struct load_case {
  const char *name;
  const char *csv;
  enum hmb_status st; /* with report == NULL */
  const char *code;
  const char *field;
};

static const struct load_case load_cases[] = {
    {"no psn_no column", "certno,brdy\nx,1990-01-01\n", HMB_INVALID, "csv.missing_column",
     "mem:1:psn_no"},
    {"duplicate column", "psn_no,gend,gend\nP1,1,1\n", HMB_INVALID, "csv.duplicate_column",
     "mem:1:gend"},
    {"empty file", "", HMB_INVALID, "csv.empty", "mem:1"},
    {"first bad row fails", "psn_no,brdy\nP1,1990-01-01\nP2,1990-1-1\n", HMB_INVALID, "date.syntax",
     "mem:3:brdy"},
    {"empty psn_no", "psn_no,gend\n,1\n", HMB_INVALID, "field.missing", "mem:2:psn_no"},
    {"psn_no too long", "psn_no\nP1234567890123456789012345678901234567890\n", HMB_INVALID,
     "text.too_long", "mem:2:psn_no"},
    {"bad utf-8 groups", "psn_no,groups\nP1,\xff\n", HMB_INVALID, "text.invalid", "mem:2:groups"},
    {"loyalty range", "psn_no,loyalty_years\nP1,201\n", HMB_INVALID, "int.range",
     "mem:2:loyalty_years"},
    {"columns", "psn_no,gend\nP1\n", HMB_INVALID, "csv.columns", "mem:2"},
    {"fine", "\xef\xbb\xbfpsn_no,unknown\r\nP1,x\r\n", HMB_OK, "", ""},
};

static void test_people__load_errors(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(load_cases); i++) {
    const struct load_case *c = &load_cases[i];
    struct people *pp = NULL;
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = people_load_mem(&pp, "mem", c->csv, strlen(c->csv), NULL, NULL, &err);
    if (st != c->st || strcmp(err.code, c->code) != 0 || !ends_with(err.field, c->field))
      fail_msg("%s: want %s %s at %s, got %s %s at %s: %s", c->name, hmb_status_name(c->st),
               c->code, c->field, hmb_status_name(st), err.code, err.field, err.message);
    if (st == HMB_OK) {
      assert_non_null(pp);
      assert_non_null(find(pp, "P1"));
      assert_int_equal(people_count(pp), 1);
    } else {
      assert_null(pp);
    }
    people_free(pp);
  }
}

static void test_people__many_and_families(void **state)
{
  size_t n = 50000, i, cap = n * 48 + 64, k;
  char *csv = malloc(cap), *p = csv;
  struct people *pp = NULL;
  struct hmb_err err;
  (void)state;
  assert_non_null(csv);
  p += snprintf(p, 64, "family_id,psn_no,claim_free_years,loyalty_years\n");
  for (i = 0; i < n; i++) {
    if (i % 3)
      p += snprintf(p, 48, "F%zu,P%zu,1,2\n", i / 3, i);
    else
      p += snprintf(p, 48, ",P%zu,,\n", i);
  }
  assert_int_equal(people_load_mem(&pp, "mem", csv, (size_t)(p - csv), NULL, NULL, &err), HMB_OK);
  assert_int_equal(people_count(pp), n);
  for (i = 0; i < n; i += 997) {
    char id[32];
    const struct people_entry *e, *m;
    size_t nm;
    snprintf(id, sizeof(id), "P%zu", i);
    e = find(pp, id);
    assert_non_null(e);
    assert_string_equal(e->psn_no, id);
    if (i % 3 == 0) {
      assert_int_equal(e->family, -1);
      continue;
    }
    assert_int_equal(e->claim_free_years, 1);
    assert_int_equal(people_family_members(pp, e->family, &m, &nm), HMB_OK);
    assert_int_equal(nm, 2);
    for (k = 0; k < nm; k++)
      assert_string_equal(m[k].family_id, e->family_id);
  }
  people_free(pp);
  free(csv);
}

/* Reports in file order, by line and code, across the loader's chunks. */
struct lines {
  size_t n;
  unsigned long line[256];
  char code[256][HMB_ERR_CODE_MAX];
};

static void collect_line(void *ctx, const struct hmb_err *err)
{
  struct lines *l = ctx;
  const char *colon = strchr(err->field, ':');
  assert_non_null(colon);
  assert_true(l->n < ARRAY_SIZE(l->line));
  l->line[l->n] = strtoul(colon + 1, NULL, 10);
  snprintf(l->code[l->n], HMB_ERR_CODE_MAX, "%s", err->code);
  l->n++;
}

static void test_people__bad_rows_in_order(void **state)
{
  /* 3000 rows: every 97th repeats the psn_no of a row far back (in an
   * earlier chunk of the loader) or just before (the same chunk), every
   * 101st has a bad date; the reports must come in line order and name
   * each bad row */
  size_t n = 3000, i, cap = n * 48 + 64, want = 0, dups = 0;
  char *csv = malloc(cap), *p = csv;
  struct people *pp = NULL;
  struct lines got;
  struct hmb_err err;
  enum hmb_status st;
  (void)state;
  assert_non_null(csv);
  memset(&got, 0, sizeof(got));
  p += snprintf(p, 64, "psn_no,brdy,family_id\n");
  for (i = 0; i < n; i++) {
    size_t id = i;
    const char *brdy = "1990-01-01";
    if (i % 97 == 96) {
      id = i % 2 ? i - 1 : i / 2; /* just before, or far back */
      dups++;
    }
    if (i % 101 == 100)
      brdy = "1990-02-30";
    p += snprintf(p, 48, "P%zu,%s,F%zu\n", id, brdy, id / 4);
  }
  st = people_load_mem(&pp, "mem", csv, (size_t)(p - csv), collect_line, &got, &err);
  assert_int_equal(st, HMB_OK);
  for (i = 0; i < n; i++) {
    bool dup = i % 97 == 96, bad_date = i % 101 == 100;
    if (!dup && !bad_date)
      continue;
    assert_true(want < got.n);
    assert_int_equal(got.line[want], i + 2);
    /* a bad date is found while parsing, before the psn_no is looked up */
    assert_string_equal(got.code[want], bad_date ? "date.invalid" : "people.duplicate");
    want++;
  }
  assert_int_equal(got.n, want);
  assert_int_equal(people_skipped(pp), want);
  assert_int_equal(people_count(pp), n - want);
  assert_true(dups > 20);
  people_free(pp);

  /* without a report the first bad row in file order fails the load, a
   * repeated psn_no before a bad date of the same chunk */
  p = csv;
  p += snprintf(p, 64, "psn_no,brdy\n");
  for (i = 0; i < 600; i++)
    p += snprintf(p, 48, "P%zu,%s\n", i == 300 ? (size_t)5 : i, i == 301 ? "x" : "1990-01-01");
  hmb_err_init(&err);
  st = people_load_mem(&pp, "mem", csv, (size_t)(p - csv), NULL, NULL, &err);
  assert_int_equal(st, HMB_INVALID);
  assert_string_equal(err.code, "people.duplicate");
  assert_true(ends_with(err.field, "mem:302:psn_no"));
  assert_null(pp);
  free(csv);
}

static void test_people__alloc_failures(void **state)
{
  const char *csv = "psn_no,groups,family_id\nP1,a;b,F1\nP2,,F1\nP3,c,\nP1,,\n";
  unsigned long n;
  size_t bad = 0;
  (void)state;
  for (n = 1; n < 48; n++) {
    struct people *pp = NULL;
    struct collected c = {0};
    struct hmb_err err;
    hmb_alloc_fail_after(n);
    if (people_load_mem(&pp, "mem", csv, strlen(csv), collect, &c, &err) == HMB_OK) {
      assert_non_null(pp);
      people_free(pp);
    } else {
      assert_null(pp);
      bad++;
    }
    hmb_alloc_fail_after(0);
  }
  assert_true(bad > 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_people__load_sample),
      cmocka_unit_test(test_people__load_errors),
      cmocka_unit_test(test_people__many_and_families),
      cmocka_unit_test(test_people__bad_rows_in_order),
      cmocka_unit_test(test_people__alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

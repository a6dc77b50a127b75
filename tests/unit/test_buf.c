/*
 * test_buf.c - the growable buffer with a hard ceiling.
 */
#include "buf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_buf__init_empty(void **state)
{
  struct buf b = BUF_INIT(100);
  struct buf c;
  (void)state;
  assert_ptr_equal(b.ptr, hmb_buf_empty);
  assert_string_equal(b.ptr, "");
  assert_int_equal(b.len, 0);
  assert_int_equal(b.alloc, 0);
  buf_init(&c, 5);
  assert_ptr_equal(c.ptr, hmb_buf_empty);
  assert_int_equal(c.limit, 5);
  buf_release(&c); /* releasing an empty buffer is fine */
  buf_release(&b);
  assert_ptr_equal(b.ptr, hmb_buf_empty);
  assert_int_equal(b.limit, 100);
}

static void test_buf__growth(void **state)
{
  struct buf b = BUF_INIT(1 << 20);
  size_t i;
  (void)state;
  for (i = 0; i < 100000; i++) {
    assert_int_equal(buf_addch(&b, (char)('a' + i % 26)), HMB_OK);
    assert_int_equal(b.len, i + 1);
    assert_true(b.alloc >= b.len + 1);
    assert_int_equal(b.ptr[b.len], '\0');
  }
  for (i = 0; i < 100000; i++)
    if (b.ptr[i] != (char)('a' + i % 26))
      fail_msg("byte %zu is %c", i, b.ptr[i]);
  assert_int_equal(strlen(b.ptr), 100000);
  buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.ptr, "");
  assert_int_equal(buf_addstr(&b, "again"), HMB_OK);
  assert_string_equal(b.ptr, "again");
  buf_release(&b);
  assert_int_equal(b.len, 0);
  /* usable again after release */
  assert_int_equal(buf_add(&b, "xyz", 3), HMB_OK);
  assert_string_equal(b.ptr, "xyz");
  buf_release(&b);
}

static void test_buf__limit(void **state)
{
  struct buf b = BUF_INIT(10);
  (void)state;
  assert_int_equal(buf_addstr(&b, "12345678"), HMB_OK);
  assert_int_equal(buf_addstr(&b, "abc"), HMB_TOO_LARGE);
  assert_string_equal(b.ptr, "12345678");
  assert_int_equal(b.len, 8);
  assert_int_equal(buf_addf(&b, "%d", 123), HMB_TOO_LARGE);
  assert_string_equal(b.ptr, "12345678");
  assert_int_equal(buf_addf(&b, "%0300d", 1), HMB_TOO_LARGE); /* the long path */
  assert_string_equal(b.ptr, "12345678");
  assert_int_equal(buf_addstr(&b, "ab"), HMB_OK); /* exactly at the limit */
  assert_int_equal(b.len, 10);
  assert_string_equal(b.ptr, "12345678ab");
  assert_int_equal(buf_addch(&b, 'x'), HMB_TOO_LARGE);
  assert_int_equal(buf_add(&b, "", 0), HMB_OK);
  assert_int_equal(buf_grow(&b, SIZE_MAX), HMB_TOO_LARGE);
  assert_int_equal(buf_grow(&b, SIZE_MAX - 5), HMB_TOO_LARGE);
  assert_string_equal(b.ptr, "12345678ab");
  assert_true(b.alloc <= b.limit + 1);
  buf_release(&b);

  /* a limit of 0 holds only the empty string */
  buf_init(&b, 0);
  assert_int_equal(buf_addch(&b, 'x'), HMB_TOO_LARGE);
  assert_int_equal(buf_add(&b, "", 0), HMB_OK);
  assert_string_equal(b.ptr, "");
  buf_release(&b);
}

static void test_buf__nomem(void **state)
{
  struct buf b = BUF_INIT(1 << 20);
  char big[200];
  (void)state;
  assert_int_equal(buf_addstr(&b, "keep"), HMB_OK);
  memset(big, 'z', sizeof(big));
  hmb_alloc_fail_after(1);
  assert_int_equal(buf_add(&b, big, sizeof(big)), HMB_NOMEM);
  hmb_alloc_fail_after(0);
  assert_string_equal(b.ptr, "keep");
  assert_int_equal(b.len, 4);
  buf_release(&b);
}

static void test_buf__addf(void **state)
{
  struct buf b = BUF_INIT(1 << 20);
  char long_arg[5000];
  size_t i;
  (void)state;
  assert_int_equal(buf_addf(&b, "%s=%d;", "n", 42), HMB_OK);
  assert_string_equal(b.ptr, "n=42;");
  memset(long_arg, 'q', sizeof(long_arg) - 1);
  long_arg[sizeof(long_arg) - 1] = '\0';
  /* longer than the 256-byte fast path, appended after existing content */
  assert_int_equal(buf_addf(&b, "[%s|%05d]", long_arg, 7), HMB_OK);
  assert_int_equal(b.len, 5 + 1 + 4999 + 1 + 5 + 1);
  assert_int_equal(memcmp(b.ptr, "n=42;[qqq", 9), 0);
  assert_string_equal(b.ptr + b.len - 7, "|00007]");
  for (i = 6; i < 6 + 4999; i++)
    assert_int_equal(b.ptr[i], 'q');
  assert_int_equal(b.ptr[b.len], '\0');
  /* exactly 255 and 256 bytes: both sides of the fast path */
  buf_reset(&b);
  assert_int_equal(buf_addf(&b, "%0255d", 0), HMB_OK);
  assert_int_equal(b.len, 255);
  assert_int_equal(buf_addf(&b, "%0256d", 0), HMB_OK);
  assert_int_equal(b.len, 511);
  assert_int_equal(strlen(b.ptr), 511);
  buf_release(&b);
}

static void test_buf__money(void **state)
{
  struct buf b = BUF_INIT(100);
  (void)state;
  assert_int_equal(buf_add_money(&b, 123456), HMB_OK);
  assert_int_equal(buf_addch(&b, ','), HMB_OK);
  assert_int_equal(buf_add_money(&b, -5), HMB_OK);
  assert_string_equal(b.ptr, "1234.56,-0.05");
  buf_release(&b);
}

static const struct {
  const char *in;
  size_t len;
  const char *want;
} json_cases[] = {
    {"plain", 5, "\"plain\""},
    {"", 0, "\"\""},
    {"a\"b", 3, "\"a\\\"b\""},
    {"back\\slash", 10, "\"back\\\\slash\""},
    {"n\nr\rt\t", 6, "\"n\\nr\\rt\\t\""},
    {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
    {"nul\0x", 5, "\"nul\\u0000x\""},
    {"中文/slash", 12, "\"中文/slash\""},
    {"\b\f", 2, "\"\\u0008\\u000c\""},
};

static void test_buf__json_escape(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(json_cases); i++) {
    struct buf b = BUF_INIT(1000);
    assert_int_equal(buf_add_json_str(&b, json_cases[i].in, json_cases[i].len), HMB_OK);
    if (strcmp(b.ptr, json_cases[i].want) != 0)
      fail_msg("case %zu: %s, expected %s", i, b.ptr, json_cases[i].want);
    buf_release(&b);
  }
}

static const struct {
  const char *in;
  const char *want;
} csv_cases[] = {
    {"plain", "plain"},
    {"", ""},
    {"中文", "中文"},
    {"a,b", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"\"", "\"\"\"\""},
    {"line\nbreak", "\"line\nbreak\""},
    {"cr\r", "\"cr\r\""},
    {" spaces ", " spaces "},
    {"semi;colon", "semi;colon"},
};

static void test_buf__csv_escape(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(csv_cases); i++) {
    struct buf b = BUF_INIT(1000);
    assert_int_equal(buf_add_csv_field(&b, csv_cases[i].in, strlen(csv_cases[i].in)), HMB_OK);
    if (strcmp(b.ptr, csv_cases[i].want) != 0)
      fail_msg("case %zu: [%s], expected [%s]", i, b.ptr, csv_cases[i].want);
    buf_release(&b);
  }
}

static void test_buf__detach(void **state)
{
  struct buf b = BUF_INIT(100);
  size_t len = 99;
  char *p;
  (void)state;
  assert_int_equal(buf_addstr(&b, "owned"), HMB_OK);
  p = buf_detach(&b, &len);
  assert_non_null(p);
  assert_string_equal(p, "owned");
  assert_int_equal(len, 5);
  assert_ptr_equal(b.ptr, hmb_buf_empty);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.alloc, 0);
  assert_int_equal(b.limit, 100);
  free(p);

  /* an empty buffer still gives a string the caller can free */
  p = buf_detach(&b, &len);
  assert_non_null(p);
  assert_string_equal(p, "");
  assert_int_equal(len, 0);
  assert_true(p != hmb_buf_empty);
  free(p);

  /* len may be NULL */
  assert_int_equal(buf_addstr(&b, "x"), HMB_OK);
  p = buf_detach(&b, NULL);
  assert_string_equal(p, "x");
  free(p);
}

static void test_buf__read_file(void **state)
{
  const char *home = getenv("HMB_HOME");
  char path[4096];
  struct buf b = BUF_INIT(1 << 20);
  struct buf small = BUF_INIT(100);
  struct hmb_err err;
  (void)state;
  snprintf(path, sizeof(path), "%s/data/holidays-cn.tsv", home && *home ? home : ".");
  hmb_err_init(&err);
  assert_int_equal(buf_read_file(&b, path, &err), HMB_OK);
  assert_true(b.len > 100);
  assert_int_equal(strlen(b.ptr), b.len);
  assert_int_equal(memcmp(b.ptr, "# holidays-cn.tsv", 17), 0);

  assert_int_equal(buf_read_file(&small, path, &err), HMB_TOO_LARGE);
  assert_string_equal(err.code, "file.too_large");
  assert_string_equal(err.field, path);

  hmb_err_init(&err);
  assert_int_equal(buf_read_file(&small, "/nonexistent/file", &err), HMB_IO);
  assert_string_equal(err.code, "file.open");
  assert_string_equal(err.field, "/nonexistent/file");
  buf_release(&b);
  buf_release(&small);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf__init_empty),  cmocka_unit_test(test_buf__growth),
      cmocka_unit_test(test_buf__limit),       cmocka_unit_test(test_buf__nomem),
      cmocka_unit_test(test_buf__addf),        cmocka_unit_test(test_buf__money),
      cmocka_unit_test(test_buf__json_escape), cmocka_unit_test(test_buf__csv_escape),
      cmocka_unit_test(test_buf__detach),      cmocka_unit_test(test_buf__read_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

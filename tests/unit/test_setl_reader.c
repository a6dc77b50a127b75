/*
 * test_setl_reader.c - the settlement readers: CSV (column order, optional
 * columns, quoting, CRLF, BOM, limits, details joined on setl_id, reversals,
 * pipes) and JSON lines (exact numbers, string amounts, escapes, details,
 * syntax and type errors). Every bad row must name file, line and field and
 * leave the reader on the next row.
 */
#include "compat.h"
#include "buf.h"
#include "setl_reader.h"

#include <pthread.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define H                                                                                          \
  "setl_id,psn_no,setl_time,med_type,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,"             \
  "preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt\n"
#define GOOD "S9,P9,2024-01-01 00:00:00,21,100,0,0,0,100,60,40\n"

static void data_path(char *out, size_t n, const char *name)
{
  const char *home = getenv("HMB_HOME");
  snprintf(out, n, "%s/tests/data/%s", home ? home : ".", name);
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static struct setl_reader *open_mem(const char *csv, const char *details)
{
  struct setl_reader *r = NULL;
  struct hmb_err err;
  hmb_err_init(&err);
  if (setl_reader_open_mem(&r, "mem", csv, strlen(csv), SETL_FMT_AUTO, "det", details,
                           details ? strlen(details) : 0, &err))
    fail_msg("open: %s: %s (%s)", err.field, err.message, err.code);
  return r;
}

static void expect_ok(struct setl_reader *r, struct settlement *s, unsigned long line)
{
  struct hmb_err err;
  bool eof = true;
  hmb_err_init(&err);
  if (setl_reader_next(r, s, &eof, &err))
    fail_msg("line %lu: %s: %s (%s)", line, err.field, err.message, err.code);
  assert_false(eof);
  assert_int_equal(setl_reader_line(r), line);
}

static void expect_err(struct setl_reader *r, enum hmb_status st, const char *code,
                       const char *field)
{
  struct settlement s;
  struct hmb_err err;
  bool eof = false;
  enum hmb_status got;
  hmb_err_init(&err);
  got = setl_reader_next(r, &s, &eof, &err);
  if (got != st || strcmp(err.code, code) != 0 || !ends_with(err.field, field))
    fail_msg("want %s %s at %s, got %s %s at %s: %s", hmb_status_name(st), code, field,
             hmb_status_name(got), err.code, err.field, err.message);
  assert_true(err.message[0] != '\0');
}

static void expect_eof(struct setl_reader *r)
{
  struct settlement s;
  struct hmb_err err;
  bool eof = false;
  assert_int_equal(setl_reader_next(r, &s, &eof, &err), HMB_OK);
  assert_true(eof);
}

/* ------------------------------------------------------------ CSV */

static void test_setl_reader__csv_column_order_and_optional(void **state)
{
  char path[512];
  struct setl_reader *r;
  struct settlement s;
  struct hmb_err err;
  (void)state;
  data_path(path, sizeof(path), "setl_sample.csv");
  assert_int_equal(setl_reader_open(&r, path, SETL_FMT_AUTO, NULL, &err), HMB_OK);
  assert_int_equal(setl_reader_format(r), SETL_FMT_CSV);

  expect_ok(r, &s, 2);
  assert_int_equal(s.kind, SETL_SETTLE);
  assert_string_equal(s.setl_id, "S001");
  assert_string_equal(s.mdtrt_id, "M001");
  assert_string_equal(s.psn_no, "P001");
  assert_int_equal(s.insutype, 310);
  assert_int_equal(s.med_type, 21);
  assert_int_equal(s.psn_type, 11);
  assert_int_equal(s.hosp_lv, 3);
  assert_int_equal(s.out_filed, 1);
  assert_string_equal(s.flags, "icu;tumor");
  assert_string_equal(s.dise_codg, "C34.901");
  assert_string_equal(s.mdtrtarea_admvs, "371502");
  assert_int_equal(s.medfee_sumamt, 3000000);
  assert_int_equal(s.fulamt_ownpay_amt, 500000);
  assert_int_equal(s.overlmt_selfpay, 10000);
  assert_int_equal(s.preselfpay_amt, 90000);
  assert_int_equal(s.inscp_scp_amt, 2400000);
  assert_int_equal(s.hifp_pay, 1800000);
  assert_int_equal(s.fund_pay_sumamt, 1800000);
  assert_int_equal(s.psn_part_amt, 1200000);
  assert_int_equal(s.acct_pay, 200000);
  assert_int_equal(s.psn_cash_pay, 1000000);
  assert_int_equal(s.hifmi_pay, 0);
  assert_int_equal(s.nlines, 0);
  {
    char t[HMB_DATETIME_TEXT_MAX];
    datetime_format(s.setl_time, t);
    assert_string_equal(t, "2024-03-05 10:20:30");
  }

  /* A quoted, two-line "memo" (ignored column): the row starts on line 3. */
  expect_ok(r, &s, 3);
  assert_string_equal(s.setl_id, "S002");
  assert_string_equal(s.mdtrt_id, "S002"); /* default */
  assert_int_equal(s.medfee_sumamt, 20050);
  assert_int_equal(s.hifp_pay, 10025);
  assert_int_equal(s.out_filed, -1);
  assert_int_equal(s.hosp_lv, 0);
  assert_int_equal(s.psn_type, 0);
  assert_int_equal(s.kind, SETL_SETTLE);
  assert_string_equal(s.flags, "");

  /* A reversal needs only setl_id and psn_no. */
  expect_ok(r, &s, 5);
  assert_int_equal(s.kind, SETL_REVERSAL);
  assert_string_equal(s.setl_id, "S001");
  assert_int_equal(s.medfee_sumamt, 0);
  expect_eof(r);
  expect_eof(r);
  setl_reader_free(r);
}

static void test_setl_reader__csv_crlf_bom(void **state)
{
  char path[512];
  struct setl_reader *r;
  struct settlement s;
  struct hmb_err err;
  (void)state;
  data_path(path, sizeof(path), "setl_crlf_bom.csv");
  assert_int_equal(setl_reader_open(&r, path, SETL_FMT_AUTO, NULL, &err), HMB_OK);
  expect_ok(r, &s, 2);
  assert_string_equal(s.setl_id, "C1"); /* the BOM is not part of the first name */
  assert_int_equal(s.psn_part_amt, 400);
  expect_ok(r, &s, 4); /* line 3 is blank */
  assert_string_equal(s.setl_id, "C2");
  assert_int_equal(s.psn_part_amt, 100);
  expect_ok(r, &s, 6); /* the quoted CRLF took line 5 */
  assert_string_equal(s.setl_id, "C3");
  assert_int_equal(s.psn_part_amt, 250);
  expect_eof(r);
  setl_reader_free(r);
}

static void test_setl_reader__csv_quoting(void **state)
{
  const char *csv = "\"setl_id\",psn_no,setl_time,med_type,medfee_sumamt,fulamt_ownpay_amt,"
                    "overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt,x\n"
                    "\"S1\",\"P\"\"1\",\"2024-01-01 00:00:00\",\"21\",\"100.00\",0,0,0,100,60,"
                    "40,\"a,b\"\"\nc\"\n"
                    "S2,\"\",2024-01-01,21,1,0,0,0,1,0,1,\"\"\n"
                    "S3,ab\"c,2024-01-01,21,1,0,0,0,1,0,1,\n";
  struct setl_reader *r = open_mem(csv, NULL);
  struct settlement s;
  (void)state;
  expect_ok(r, &s, 2);
  assert_string_equal(s.setl_id, "S1");
  assert_string_equal(s.psn_no, "P\"1");
  assert_int_equal(s.medfee_sumamt, 10000);
  expect_err(r, HMB_INVALID, "field.missing", "mem:4:psn_no"); /* "" is empty */
  expect_ok(r, &s, 5);
  assert_string_equal(s.psn_no, "ab\"c"); /* a bare quote inside a field is literal */
  expect_eof(r);
  setl_reader_free(r);
}

struct bad_case {
  const char *name;
  const char *row;
  enum hmb_status st;
  const char *code;
  const char *field;
  bool swallows; /* the error runs to the end of the data */
};

static const struct bad_case bad_cases[] = {
    {"three decimals", "S1,P1,2024-01-01 00:00:00,21,100.001,0,0,0,100,60,40\n", HMB_INVALID,
     "money.decimals", "mem:2:medfee_sumamt", false},
    {"exponent", "S1,P1,2024-01-01 00:00:00,21,1e3,0,0,0,100,60,40\n", HMB_INVALID, "money.syntax",
     "mem:2:medfee_sumamt", false},
    {"space in amount", "S1,P1,2024-01-01 00:00:00,21,100,0,0,0,100, 60,40\n", HMB_INVALID,
     "money.syntax", "mem:2:fund_pay_sumamt", false},
    {"bad date", "S1,P1,2024-02-30 00:00:00,21,100,0,0,0,100,60,40\n", HMB_INVALID, "date.invalid",
     "mem:2:setl_time", false},
    {"bad time", "S1,P1,2024-02-01 24:00:00,21,100,0,0,0,100,60,40\n", HMB_INVALID,
     "datetime.invalid", "mem:2:setl_time", false},
    {"code letters", "S1,P1,2024-01-01,2a,100,0,0,0,100,60,40\n", HMB_INVALID, "code.syntax",
     "mem:2:med_type", false},
    {"code range", "S1,P1,2024-01-01,1234567,100,0,0,0,100,60,40\n", HMB_INVALID, "code.range",
     "mem:2:med_type", false},
    {"negative code", "S1,P1,2024-01-01,-21,100,0,0,0,100,60,40\n", HMB_INVALID, "code.syntax",
     "mem:2:med_type", false},
    {"too few columns", "S1,P1,2024-01-01\n", HMB_INVALID, "csv.columns", "mem:2", false},
    {"too many columns", "S1,P1,2024-01-01,21,100,0,0,0,100,60,40,x\n", HMB_INVALID, "csv.columns",
     "mem:2", false},
    {"empty required", "S1,P1,2024-01-01,,100,0,0,0,100,60,40\n", HMB_INVALID, "field.missing",
     "mem:2:med_type", false},
    {"empty setl_id", ",P1,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID, "field.missing",
     "mem:2:setl_id", false},
    {"id too long",
     "S123456789012345678901234567890123456789,P1,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID,
     "text.too_long", "mem:2:setl_id", false},
    {"bad utf-8", "S1,P\xff,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID, "text.invalid",
     "mem:2:psn_no", false},
    {"overlong utf-8", "S1,P\xc0\xaf,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID,
     "text.invalid", "mem:2:psn_no", false},
    {"control char", "S1,P\x01,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID, "text.invalid",
     "mem:2:psn_no", false},
    {"text after quote", "S1,\"P1\"x,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID,
     "csv.after_quote", "mem:2:psn_no", false},
    {"unterminated quote", "S1,\"P1,2024-01-01,21,100,0,0,0,100,60,40\n", HMB_INVALID,
     "csv.unterminated_quote", "mem:2:psn_no", true},
};

static void test_setl_reader__csv_bad_rows(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    char csv[1024];
    struct setl_reader *r;
    struct settlement s;
    snprintf(csv, sizeof(csv), "%s%s%s", H, c->row, GOOD);
    print_message("case: %s\n", c->name);
    r = open_mem(csv, NULL);
    expect_err(r, c->st, c->code, c->field);
    assert_int_equal(setl_reader_line(r), 2);
    if (!c->swallows) {
      expect_ok(r, &s, 3);
      assert_string_equal(s.setl_id, "S9");
      assert_int_equal(s.psn_part_amt, 4000);
    }
    expect_eof(r);
    setl_reader_free(r);
  }
}

/* setl_reader_next() in two steps, as hmb adjudicate reads: split, then
 * convert a deferred row (with cv, the line it was split at). */
static enum hmb_status next2(struct setl_reader *r, struct setl_conv *cv, uint32_t *ends,
                             struct settlement *s, bool *eof, struct hmb_err *err)
{
  const char *row = NULL;
  bool deferred = false;
  enum hmb_status st = setl_reader_split(r, s, &row, ends, &deferred, eof, err);
  if (st || *eof || !deferred)
    return st;
  return setl_reader_convert(r, cv, row, ends, setl_reader_line(r), s, err);
}

/* Every bad row of bad_cases and the joined details of the sample files
 * come out of the two steps as they do out of setl_reader_next(). */
static void test_setl_reader__csv_split_convert(void **state)
{
  char path[512], dpath[512];
  uint32_t ends[64];
  struct setl_conv *cv;
  struct setl_reader *r;
  struct settlement s;
  struct hmb_err err;
  bool eof = false;
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    char csv[1024];
    enum hmb_status got;
    snprintf(csv, sizeof(csv), "%s%s%s", H, c->row, GOOD);
    print_message("case: %s\n", c->name);
    r = open_mem(csv, NULL);
    assert_int_equal(setl_conv_new(r, &cv), HMB_OK);
    hmb_err_init(&err);
    got = next2(r, cv, ends, &s, &eof, &err);
    if (got != c->st || strcmp(err.code, c->code) != 0 || !ends_with(err.field, c->field))
      fail_msg("want %s %s at %s, got %s %s at %s", hmb_status_name(c->st), c->code, c->field,
               hmb_status_name(got), err.code, err.field);
    if (!c->swallows) {
      hmb_err_init(&err);
      assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
      assert_false(eof);
      assert_int_equal(setl_reader_line(r), 3);
      assert_string_equal(s.setl_id, "S9");
      assert_int_equal(s.psn_part_amt, 4000);
      assert_int_equal(setl_conv_keys(cv)->setl_id_len, 2);
    }
    assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
    assert_true(eof);
    setl_conv_free(cv);
    setl_reader_free(r);
  }

  data_path(path, sizeof(path), "setl_sample.csv");
  data_path(dpath, sizeof(dpath), "setl_sample_details.csv");
  hmb_err_init(&err);
  if (setl_reader_open(&r, path, SETL_FMT_CSV, dpath, &err))
    fail_msg("%s: %s", err.field, err.message);
  assert_true(setl_reader_ncols(r) <= ARRAY_SIZE(ends));
  assert_int_equal(setl_conv_new(r, &cv), HMB_OK);
  assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
  assert_int_equal(s.nlines, 2);
  assert_string_equal(s.lines[1].med_list_codg, "B02");
  assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
  assert_int_equal(s.nlines, 1);
  assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
  assert_int_equal(setl_reader_line(r), 5);
  assert_int_equal(s.kind, SETL_REVERSAL);
  assert_int_equal(next2(r, cv, ends, &s, &eof, &err), HMB_OK);
  assert_true(eof);
  assert_int_equal(setl_reader_unmatched_details(r, NULL), 1); /* S999, as row by row */
  setl_conv_free(cv);
  setl_reader_free(r);
}

static void test_setl_reader__csv_amounts_exact(void **state)
{
  struct setl_reader *r = open_mem(H "S1,P1,2024-01-01,21,12345678.91,0.1,0.2,0.3,12345678.3,"
                                     "999999999999.99,-0.05\n",
                                   NULL);
  struct settlement s;
  (void)state;
  expect_ok(r, &s, 2);
  assert_int_equal(s.medfee_sumamt, INT64_C(1234567891));
  assert_int_equal(s.fulamt_ownpay_amt, 10);
  assert_int_equal(s.overlmt_selfpay, 20);
  assert_int_equal(s.preselfpay_amt, 30);
  assert_int_equal(s.inscp_scp_amt, INT64_C(1234567830));
  assert_int_equal(s.fund_pay_sumamt, INT64_C(99999999999999));
  assert_int_equal(s.psn_part_amt, -5); /* parsed; settlement_validate() refuses it */
  expect_eof(r);
  setl_reader_free(r);
}

/* Amounts in every usual form ("d{1,4}.dd", read from one word at fixed
 * places) and in forms the word does not take, in every money column, read
 * row by row and in two steps: each equals its value in fen. */
static void test_setl_reader__csv_amounts_every_form(void **state)
{
  static const char *const odd[] = {"5", "5.5", "12345.67", "0.05", "100000000.00", "7.10"};
  static const int64_t odd_fen[] = {500, 550, 1234567, 5, 10000000000, 710};
  struct buf csv;
  int64_t want[2000][7];
  size_t nrows = 0, i, pass;
  (void)state;
  buf_init(&csv, 1u << 24);
  assert_int_equal(buf_addstr(&csv, H), HMB_OK);
  for (i = 0; nrows < ARRAY_SIZE(want); i++) {
    char f[7][32];
    int k;
    for (k = 0; k < 7; k++) {
      size_t j = i * 7 + (size_t)k;
      if (j % 11 == 10) {
        snprintf(f[k], sizeof(f[k]), "%s", odd[j / 11 % ARRAY_SIZE(odd)]);
        want[nrows][k] = odd_fen[j / 11 % ARRAY_SIZE(odd)];
      } else {
        /* 1 to 4 digits before the point, leading zeros included */
        int digits = 1 + (int)(j % 4), lim = digits == 1   ? 10
                                             : digits == 2 ? 100
                                             : digits == 3 ? 1000
                                                           : 10000;
        int ip = (int)((j * 7919) % (size_t)lim), dec = (int)((j * 31) % 100);
        snprintf(f[k], sizeof(f[k]), "%0*d.%02d", digits, ip, dec);
        want[nrows][k] = (int64_t)ip * 100 + dec;
      }
    }
    assert_int_equal(buf_addf(&csv, "S%zu,P%zu,2024-01-01 00:00:00,21,%s,%s,%s,%s,%s,%s,%s\n", i, i,
                              f[0], f[1], f[2], f[3], f[4], f[5], f[6]),
                     HMB_OK);
    nrows++;
  }
  for (pass = 0; pass < 2; pass++) {
    struct setl_reader *r = open_mem(csv.ptr, NULL);
    struct setl_conv *cv = NULL;
    uint32_t ends[64];
    struct settlement st;
    struct hmb_err err;
    bool eof = false;
    if (pass)
      assert_int_equal(setl_conv_new(r, &cv), HMB_OK);
    for (i = 0; i < nrows; i++) {
      const int64_t *w = want[i];
      hmb_err_init(&err);
      if (pass ? next2(r, cv, ends, &st, &eof, &err) : setl_reader_next(r, &st, &eof, &err))
        fail_msg("row %zu: %s: %s", i, err.field, err.message);
      assert_false(eof);
      assert_int_equal(st.medfee_sumamt, w[0]);
      assert_int_equal(st.fulamt_ownpay_amt, w[1]);
      assert_int_equal(st.overlmt_selfpay, w[2]);
      assert_int_equal(st.preselfpay_amt, w[3]);
      assert_int_equal(st.inscp_scp_amt, w[4]);
      assert_int_equal(st.fund_pay_sumamt, w[5]);
      assert_int_equal(st.psn_part_amt, w[6]);
    }
    setl_conv_free(cv);
    setl_reader_free(r);
  }
  buf_release(&csv);
}

/* The 17 amount fields in the order of struct settlement. */
static const char *const amount_cols[17] = {
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",  "inscp_scp_amt",
    "act_pay_dedc",  "hifp_pay",          "hifmi_pay",       "hifob_pay",       "maf_pay",
    "cvlserv_pay",   "hifes_pay",         "oth_pay",         "fund_pay_sumamt", "psn_part_amt",
    "acct_pay",      "psn_cash_pay"};

static int64_t amount_of(const struct settlement *s, size_t k)
{
  const int64_t v[17] = {s->medfee_sumamt,  s->fulamt_ownpay_amt, s->overlmt_selfpay,
                         s->preselfpay_amt, s->inscp_scp_amt,     s->act_pay_dedc,
                         s->hifp_pay,       s->hifmi_pay,         s->hifob_pay,
                         s->maf_pay,        s->cvlserv_pay,       s->hifes_pay,
                         s->oth_pay,        s->fund_pay_sumamt,   s->psn_part_amt,
                         s->acct_pay,       s->psn_cash_pay};
  return v[k];
}

/*
 * Read csv's nrows rows (ids S<i> and P<i>, med_type 21) from a copy in a
 * buffer of its own size, so that nothing past the input is read: row by
 * row, then in two steps with each of the split's ends checked against the
 * row's bytes. Every amount k of row i must be want[i][k]; what names the
 * case in failures.
 */
static void read_rows(const struct buf *csv, size_t nrows, const int64_t (*want)[17],
                      const char *what)
{
  size_t pass, i, k;
  for (pass = 0; pass < 2; pass++) {
    char *copy = hmb_malloc(csv->len);
    struct setl_reader *r = NULL;
    struct setl_conv *cv = NULL;
    uint32_t ends[80];
    struct settlement st;
    struct hmb_err err;
    bool eof = false;
    assert_non_null(copy);
    memcpy(copy, csv->ptr, csv->len);
    hmb_err_init(&err);
    assert_int_equal(
        setl_reader_open_mem(&r, "mem", copy, csv->len, SETL_FMT_CSV, NULL, NULL, 0, &err), HMB_OK);
    assert_true(setl_reader_ncols(r) <= ARRAY_SIZE(ends));
    if (pass)
      assert_int_equal(setl_conv_new(r, &cv), HMB_OK);
    for (i = 0; i < nrows; i++) {
      char id[32];
      hmb_err_init(&err);
      if (pass) {
        const char *row = NULL;
        bool deferred = false;
        size_t at, nf = 0;
        assert_int_equal(setl_reader_split(r, &st, &row, ends, &deferred, &eof, &err), HMB_OK);
        assert_false(eof);
        assert_true(deferred);
        for (at = 0; row[at] != '\n'; at++)
          if (row[at] == ',' && ends[nf++] != at)
            fail_msg("%s row %zu: field %zu ends at %u, not %zu", what, i, nf - 1, ends[nf - 1],
                     at);
        assert_int_equal(nf + 1, setl_reader_ncols(r));
        assert_int_equal(ends[nf], at);
        if (setl_reader_convert(r, cv, row, ends, setl_reader_line(r), &st, &err))
          fail_msg("%s row %zu: %s: %s", what, i, err.field, err.message);
      } else if (setl_reader_next(r, &st, &eof, &err)) {
        fail_msg("%s row %zu: %s: %s", what, i, err.field, err.message);
      }
      assert_false(eof);
      snprintf(id, sizeof(id), "S%zu", i);
      assert_string_equal(st.setl_id, id);
      snprintf(id, sizeof(id), "P%zu", i);
      assert_string_equal(st.psn_no, id);
      assert_int_equal(st.med_type, 21);
      for (k = 0; k < 17; k++)
        if (amount_of(&st, k) != want[i][k])
          fail_msg("%s row %zu pass %zu: %s is %" PRId64 ", not %" PRId64, what, i, pass,
                   amount_cols[k], amount_of(&st, k), want[i][k]);
    }
    hmb_err_init(&err);
    assert_int_equal(setl_reader_next(r, &st, &eof, &err), HMB_OK);
    assert_true(eof);
    setl_conv_free(cv);
    setl_reader_free(r);
    free(copy);
  }
}

/*
 * All 17 amount columns, in three headers: in the struct's order (runs
 * longer than a vector's 8 lanes), shuffled (runs of one and two), and
 * with an amount first. Every form: usual ones (up to five digits before
 * the point: what the vector path converts) beside longer ones (six digits,
 * and past the window the vector path picks bytes from), short ones,
 * negative ones, empty optional ones, and rows at the very end of the
 * input, where the window does not fit. Row by row and in two steps, each
 * amount equals its value in fen (test_setl_reader_portable and
 * test_setl_reader_avx2 run the same without vectors).
 */
static void test_setl_reader__csv_amount_runs(void **state)
{
  static const char *const form[] = {
      "12.34",    "0.00",      "9999.99",  "123456789012.34", "5",        "5.5",
      "",         "0.05",      "100.00",   "1234567.89",      "07.10",    "12345.67",
      "99999.99", "100000.00", "00000.01", "-12.50",          "-99999.99"};
  static const int64_t form_fen[] = {1234,    0,         999999, INT64_C(12345678901234),
                                     500,     550,       0,      5,
                                     10000,   123456789, 710,    1234567,
                                     9999999, 10000000,  1,      -1250,
                                     -9999999};
  static const size_t order[3][17] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                      {16, 0, 2, 1, 3, 5, 4, 6, 8, 7, 13, 9, 14, 11, 10, 12, 15},
                                      {4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 16, 15, 14, 13, 12, 11, 10}};
  size_t h, i, k;
  char what[32];
  (void)state;
  for (h = 0; h < ARRAY_SIZE(order); h++) {
    struct buf csv;
    int64_t want[300][17];
    const size_t nrows = ARRAY_SIZE(want);
    buf_init(&csv, 1u << 22);
    /* header 2 starts with an amount: no column before it to end at */
    for (k = 0; k < 17; k++)
      assert_int_equal(buf_addf(&csv, "%s%s", k ? "," : "", amount_cols[order[h][k]]), HMB_OK);
    assert_int_equal(buf_addstr(&csv, ",setl_id,psn_no,setl_time,med_type\n"), HMB_OK);
    if (h != 2) {
      buf_reset(&csv);
      assert_int_equal(buf_addstr(&csv, "setl_id,psn_no,setl_time,med_type"), HMB_OK);
      for (k = 0; k < 17; k++)
        assert_int_equal(buf_addf(&csv, ",%s", amount_cols[order[h][k]]), HMB_OK);
      assert_int_equal(buf_addch(&csv, '\n'), HMB_OK);
    }
    for (i = 0; i < nrows; i++) {
      char id[64];
      snprintf(id, sizeof(id), "S%zu,P%zu,2024-01-01 08:00:00,21", i, i);
      if (h != 2)
        assert_int_equal(buf_addf(&csv, "%s,", id), HMB_OK);
      for (k = 0; k < 17; k++) {
        const size_t col = order[h][k];
        /* mostly usual amounts, the others in turn; required ones never empty */
        size_t f = (i * 17 + k) % 5 ? (i * 3 + k) % 3 : (i + k * 7) % ARRAY_SIZE(form);
        const bool required = col <= 4 || col == 13 || col == 14;
        if (required && !form[f][0])
          f = 0;
        want[i][col] = form_fen[f];
        assert_int_equal(buf_addf(&csv, "%s%s", form[f], k < 16 ? "," : ""), HMB_OK);
      }
      assert_int_equal(buf_addf(&csv, "%s%s\n", h == 2 ? "," : "", h == 2 ? id : ""), HMB_OK);
    }
    snprintf(what, sizeof(what), "header %zu", h);
    read_rows(&csv, nrows, (const int64_t(*)[17])want, what);
    buf_release(&csv);
  }
}

/*
 * setl_key_hash() reads the id's bytes and no others, and every one of them
 * counts: for each length 0 to 40 (one, two or three words and the loop
 * beyond), the bytes after the id change nothing, and changing any byte of
 * it, or the length, changes the hash.
 */
static void test_setl_reader__key_hash(void **state)
{
  char a[64], b[64];
  size_t n, i;
  (void)state;
  for (n = 0; n <= 40; n++) {
    uint64_t h;
    for (i = 0; i < sizeof(a); i++) {
      a[i] = (char)(i < n ? '0' + (i * 7 + n) % 10 : 'x');
      b[i] = i < n ? a[i] : 'y';
    }
    h = setl_key_hash(a, n);
    assert_true(h == setl_key_hash(b, n));
    if (n < 40)
      assert_true(h != setl_key_hash(a, n + 1));
    for (i = 0; i < n; i++) {
      b[i] = 'P';
      if (setl_key_hash(b, n) == h)
        fail_msg("length %zu: byte %zu changes nothing", n, i);
      b[i] = a[i];
    }
  }
}

/*
 * Rows of many short fields: 45 ignored columns, mostly empty, 17 amounts
 * of one to three bytes, then the ids. Up to 60 field ends fall in one
 * 64-byte block, where the AVX-512 split stores them sixteen at a time;
 * their places change from row to row (a row's end left unstored would
 * keep the row before's). Row by row and in two steps, every amount and
 * id comes out as written.
 */
static void test_setl_reader__csv_dense_fields(void **state)
{
  static const char *const form[] = {"5", "0", "12", "1.5", ""};
  static const int64_t form_fen[] = {500, 0, 1200, 150, 0};
  enum { NROWS = 300, NEXTRA = 45 };
  struct buf csv;
  int64_t want[NROWS][17];
  size_t i, k;
  (void)state;
  buf_init(&csv, 1u << 22);
  for (k = 0; k < NEXTRA; k++)
    assert_int_equal(buf_addf(&csv, "x%zu,", k), HMB_OK);
  for (k = 0; k < 17; k++)
    assert_int_equal(buf_addf(&csv, "%s,", amount_cols[k]), HMB_OK);
  assert_int_equal(buf_addstr(&csv, "setl_id,psn_no,setl_time,med_type\n"), HMB_OK);
  for (i = 0; i < NROWS; i++) {
    for (k = 0; k < NEXTRA; k++)
      assert_int_equal(buf_addstr(&csv, (i + k) % (2 + i % 9) ? "," : "y,"), HMB_OK);
    for (k = 0; k < 17; k++) {
      size_t f = (i * 7 + k * 3 + i / 5) % ARRAY_SIZE(form);
      if ((k <= 4 || k == 13 || k == 14) && !form[f][0])
        f = 0; /* required */
      want[i][k] = form_fen[f];
      assert_int_equal(buf_addf(&csv, "%s,", form[f]), HMB_OK);
    }
    assert_int_equal(buf_addf(&csv, "S%zu,P%zu,2024-01-01 08:00:00,21\n", i, i), HMB_OK);
  }
  read_rows(&csv, NROWS, (const int64_t(*)[17])want, "dense");
  buf_release(&csv);
}

static void test_setl_reader__csv_field_too_long(void **state)
{
  size_t big = SETL_FIELD_MAX + 10, n = strlen(H);
  char *csv = malloc(n + big + 203);
  struct setl_reader *r;
  struct settlement s;
  (void)state;
  assert_non_null(csv);
  memcpy(csv, H, n);
  memcpy(csv + n, "S1,", 3);
  memset(csv + n + 3, 'x', big);
  snprintf(csv + n + 3 + big, 200, ",2024-01-01,21,100,0,0,0,100,60,40\n%s", GOOD);
  r = open_mem(csv, NULL);
  expect_err(r, HMB_TOO_LARGE, "csv.field_too_large", "mem:2:psn_no");
  expect_ok(r, &s, 3);
  expect_eof(r);
  setl_reader_free(r);
  /* The same field quoted takes the general path. */
  csv[n + 3] = '"';
  csv[n + 3 + big - 1] = '"';
  r = open_mem(csv, NULL);
  expect_err(r, HMB_TOO_LARGE, "csv.field_too_large", "mem:2:psn_no");
  expect_ok(r, &s, 3);
  expect_eof(r);
  setl_reader_free(r);
  free(csv);
}

static void test_setl_reader__csv_row_too_long(void **state)
{
  size_t n = strlen(H), cols = SETL_ROW_MAX / 60000 + 2, i;
  char *csv = malloc(n + cols * 60001 + 200), *p;
  struct setl_reader *r;
  struct settlement s;
  (void)state;
  assert_non_null(csv);
  memcpy(csv, H, n);
  p = csv + n;
  for (i = 0; i < cols; i++) {
    memset(p, 'y', 60000);
    p[60000] = ',';
    p += 60001;
  }
  snprintf(p, 200, "\n%s", GOOD);
  r = open_mem(csv, NULL);
  expect_err(r, HMB_TOO_LARGE, "csv.row_too_large", "mem:2");
  expect_ok(r, &s, 3);
  expect_eof(r);
  setl_reader_free(r);
  free(csv);
}

struct header_case {
  const char *csv;
  const char *code;
  const char *field;
};

static void test_setl_reader__csv_header_errors(void **state)
{
  static const struct header_case cases[] = {
      {"setl_id,psn_no\n", "csv.missing_column", "mem:1:med_type"},
      {H "", "", ""}, /* fine: no rows */
      {"setl_id,psn_no,setl_id,setl_time,med_type,medfee_sumamt,fulamt_ownpay_amt,"
       "overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,psn_part_amt\n",
       "csv.duplicate_column", "mem:1:setl_id"},
      {"", "csv.empty", "mem:1"},
      {"\n\n", "csv.empty", "mem:3"},
      {"a,\"b\n", "csv.unterminated_quote", "mem:1"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(cases); i++) {
    struct setl_reader *r = NULL;
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = setl_reader_open_mem(&r, "mem", cases[i].csv, strlen(cases[i].csv), SETL_FMT_CSV, NULL,
                              NULL, 0, &err);
    if (!cases[i].code[0]) {
      assert_int_equal(st, HMB_OK);
      expect_eof(r);
      setl_reader_free(r);
      continue;
    }
    if (st == HMB_OK || strcmp(err.code, cases[i].code) != 0 ||
        !ends_with(err.field, cases[i].field))
      fail_msg("case %zu: want %s at %s, got %s at %s", i, cases[i].code, cases[i].field, err.code,
               err.field);
    assert_null(r);
  }
}

static void test_setl_reader__csv_details_join(void **state)
{
  char path[512], dpath[512];
  struct setl_reader *r;
  struct settlement s;
  struct hmb_err err;
  size_t nl = 0;
  (void)state;
  data_path(path, sizeof(path), "setl_sample.csv");
  data_path(dpath, sizeof(dpath), "setl_sample_details.csv");
  hmb_err_init(&err);
  if (setl_reader_open(&r, path, SETL_FMT_CSV, dpath, &err))
    fail_msg("%s: %s", err.field, err.message);
  expect_ok(r, &s, 2);
  assert_int_equal(s.nlines, 2); /* lines 2 and 5 of the file, in file order */
  assert_string_equal(s.lines[0].med_list_codg, "XL01XC18");
  assert_string_equal(s.lines[0].chrgitm_lv, "03");
  assert_string_equal(s.lines[0].med_chrgitm_type, "09");
  assert_int_equal(s.lines[0].det_item_fee_sumamt, 2000000);
  assert_int_equal(s.lines[0].fulamt_ownpay_amt, 2000000);
  assert_int_equal(s.lines[0].cnt_e4, 20000);
  assert_string_equal(s.lines[1].med_list_codg, "B02");
  assert_int_equal(s.lines[1].overlmt_amt, 10000);
  assert_int_equal(s.lines[1].preselfpay_amt, 90000);
  assert_int_equal(s.lines[1].inscp_scp_amt, 900000);
  assert_int_equal(s.lines[1].cnt_e4, 1);
  expect_ok(r, &s, 3);
  assert_int_equal(s.nlines, 1);
  assert_string_equal(s.lines[0].med_list_codg, "A01");
  assert_int_equal(s.lines[0].cnt_e4, 15000);
  expect_ok(r, &s, 5);
  assert_int_equal(s.kind, SETL_REVERSAL);
  assert_int_equal(s.nlines, 0); /* reversals carry no lines */
  expect_eof(r);
  assert_int_equal(setl_reader_unmatched_details(r, &nl), 1); /* S999 */
  assert_int_equal(nl, 1);
  assert_int_equal(setl_reader_detail_errors(r, NULL, NULL), 0);
  setl_reader_free(r);
}

static void test_setl_reader__csv_details_errors(void **state)
{
  const char *det = "cnt,det_item_fee_sumamt,setl_id,med_list_codg\n"
                    "1,1.001,S1,A\n"
                    "1,1,,B\n"
                    "1,2,S2,C\n"
                    "1,3,S1,D\n"
                    "1.00001,3,S3,E\n"
                    "1,,S4,F\n"
                    "1,1,S5\n";
  const char *csv = H "S1,P1,2024-01-01,21,1,0,0,0,1,0,1\n"
                      "S2,P1,2024-01-01,21,1,0,0,0,1,0,1\n"
                      "S3,P1,2024-01-01,21,1,0,0,0,1,0,1\n"
                      "S4,P1,2024-01-01,21,1,0,0,0,1,0,1\n";
  struct setl_reader *r = open_mem(csv, det);
  const struct hmb_err *errs;
  size_t nstored;
  struct settlement s;
  struct hmb_err err;
  bool eof;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(setl_reader_next(r, &s, &eof, &err), HMB_INVALID);
  assert_string_equal(err.code, "money.decimals");
  assert_string_equal(err.field, "det:2:det_item_fee_sumamt");
  assert_non_null(strstr(err.message, "费用明细"));
  assert_int_equal(setl_reader_line(r), 2);
  expect_ok(r, &s, 3);
  assert_int_equal(s.nlines, 1);
  assert_int_equal(s.lines[0].det_item_fee_sumamt, 200);
  expect_err(r, HMB_INVALID, "cnt.decimals", "det:6:cnt");
  expect_err(r, HMB_INVALID, "field.missing", "det:7:det_item_fee_sumamt");
  expect_eof(r);
  assert_int_equal(setl_reader_detail_errors(r, &errs, &nstored), 2);
  assert_int_equal(nstored, 2);
  assert_string_equal(errs[0].field, "det:3:setl_id");
  assert_string_equal(errs[1].field, "det:8");
  assert_string_equal(errs[1].code, "csv.columns");
  assert_int_equal(setl_reader_unmatched_details(r, NULL), 0);
  setl_reader_free(r);
}

static void test_setl_reader__csv_details_limit(void **state)
{
  size_t i, n = SETL_MAX_LINES + 1;
  char *det = malloc(128 + 2 * n * 16), *p = det;
  struct setl_reader *r;
  struct settlement s;
  (void)state;
  assert_non_null(det);
  p += snprintf(p, 64, "setl_id,med_list_codg,det_item_fee_sumamt\n");
  for (i = 0; i < n; i++) /* S1 has one line too many; S2 exactly the maximum */
    p += snprintf(p, 16, "S1,X,1\n");
  for (i = 0; i + 1 < n; i++)
    p += snprintf(p, 16, "S2,Y,1\n");
  r = open_mem(H "S1,P1,2024-01-01,21,1,0,0,0,1,0,1\n"
                 "S2,P1,2024-01-01,21,1,0,0,0,1,0,1\n",
               det);
  expect_err(r, HMB_TOO_LARGE, "details.too_many", "mem:2:details");
  expect_ok(r, &s, 3);
  assert_int_equal(s.nlines, SETL_MAX_LINES);
  expect_eof(r);
  setl_reader_free(r);
  free(det);
}

/* A stream (pipe) with rows crossing the read window, quoted line breaks. */
struct writer {
  int fd;
  const char *data;
  size_t len;
};

static void *write_all(void *arg)
{
  struct writer *w = arg;
  size_t off = 0;
  while (off < w->len) {
    ssize_t n = write(w->fd, w->data + off, w->len - off > 7919 ? 7919 : w->len - off);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  close(w->fd);
  return NULL;
}

static void test_setl_reader__csv_pipe_matches_memory(void **state)
{
  size_t rows = 80000, i, cap = rows * 120 + 256, len;
  char *csv = malloc(cap), *p = csv, path[64];
  int fds[2];
  pthread_t th;
  struct writer w;
  struct setl_reader *a, *b;
  struct hmb_err err;
  unsigned long n = 0;
  (void)state;
  assert_non_null(csv);
  p += snprintf(p, 256, "%s",
                "setl_id,psn_no,setl_time,med_type,medfee_sumamt,fulamt_ownpay_amt,"
                "overlmt_selfpay,preselfpay_amt,inscp_scp_amt,fund_pay_sumamt,"
                "psn_part_amt,memo\r\n");
  for (i = 0; i < rows; i++)
    p += snprintf(
        p, 120, "S%zu,P%zu,2024-01-01 00:00:00,21,%zu.%02zu,0,0,0,%zu.%02zu,0,%zu.%02zu,%s\n", i,
        i % 977, i, i % 100, i, i % 100, i, i % 100, i % 7 ? "plain" : "\"quoted,\nline\"");
  len = (size_t)(p - csv);
  assert_true(len > 4u * 1024u * 1024u);
  assert_int_equal(pipe(fds), 0);
  w.fd = fds[1];
  w.data = csv;
  w.len = len;
  assert_int_equal(pthread_create(&th, NULL, write_all, &w), 0);
  snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
  assert_int_equal(setl_reader_open(&a, path, SETL_FMT_CSV, NULL, &err), HMB_OK);
  assert_int_equal(setl_reader_open_mem(&b, "mem", csv, len, SETL_FMT_CSV, NULL, NULL, 0, &err),
                   HMB_OK);
  for (;;) {
    struct settlement sa, sb;
    bool ea, eb;
    assert_int_equal(setl_reader_next(a, &sa, &ea, &err), HMB_OK);
    assert_int_equal(setl_reader_next(b, &sb, &eb, &err), HMB_OK);
    assert_int_equal(ea, eb);
    if (ea)
      break;
    assert_string_equal(sa.setl_id, sb.setl_id);
    assert_int_equal(sa.medfee_sumamt, sb.medfee_sumamt);
    assert_int_equal(setl_reader_line(a), setl_reader_line(b));
    n++;
  }
  assert_int_equal(n, rows);
  {
    /* every 7th row takes two lines */
    unsigned long line = 2;
    for (i = 0; i + 1 < rows; i++)
      line += i % 7 ? 1 : 2;
    assert_int_equal(setl_reader_line(a), line);
  }
  pthread_join(th, NULL);
  close(fds[0]);
  setl_reader_free(a);
  setl_reader_free(b);
  free(csv);
}

static void test_setl_reader__open_missing_file(void **state)
{
  struct setl_reader *r = NULL;
  struct hmb_err err;
  (void)state;
  assert_int_equal(setl_reader_open(&r, "/nonexistent/x.csv", SETL_FMT_AUTO, NULL, &err), HMB_IO);
  assert_null(r);
  assert_string_equal(err.field, "/nonexistent/x.csv");
}

/* ------------------------------------------------------------ JSON lines */

#define JREQ                                                                                       \
  "\"setl_id\":\"J1\",\"psn_no\":\"P1\",\"setl_time\":\"2024-05-01 09:00:00\",\"med_type\":21,"    \
  "\"fulamt_ownpay_amt\":0,\"overlmt_selfpay\":0,\"preselfpay_amt\":0,\"fund_pay_sumamt\":0,"      \
  "\"psn_part_amt\":0"

static void parse_ok(const char *line, struct settlement *s, struct setl_line *lines, size_t max)
{
  struct hmb_err err;
  hmb_err_init(&err);
  if (setl_parse_json_line(line, strlen(line), s, lines, max, &err))
    fail_msg("%s\n%s: %s (%s)", line, err.field, err.message, err.code);
}

static void test_setl_reader__jsonl_numbers_exact(void **state)
{
  struct settlement s;
  struct setl_line lines[4];
  (void)state;
  parse_ok("{" JREQ ",\"medfee_sumamt\":12345678.91,\"inscp_scp_amt\":0.3,\"hifp_pay\":0.1,"
           "\"hifmi_pay\":0.2,\"hifob_pay\":\"0.30\",\"maf_pay\":-0.05,\"oth_pay\":100,"
           "\"cvlserv_pay\":\"7\",\"acct_pay\":0.0,\"psn_cash_pay\":999999999999.99}",
           &s, lines, 4);
  assert_int_equal(s.medfee_sumamt, INT64_C(1234567891));
  assert_int_equal(s.inscp_scp_amt, 30);
  assert_int_equal(s.hifp_pay + s.hifmi_pay, 30); /* 0.1 + 0.2 is 0.3, to the fen */
  assert_int_equal(s.hifob_pay, 30);
  assert_int_equal(s.maf_pay, -5);
  assert_int_equal(s.oth_pay, 10000);
  assert_int_equal(s.cvlserv_pay, 700);
  assert_int_equal(s.acct_pay, 0);
  assert_int_equal(s.psn_cash_pay, INT64_C(99999999999999));
  assert_int_equal(s.med_type, 21);
  assert_string_equal(s.mdtrt_id, "J1");
  assert_int_equal(s.nlines, 0);
  assert_ptr_equal(s.lines, lines);
}

static void test_setl_reader__jsonl_escapes(void **state)
{
  struct settlement s;
  (void)state;
  parse_ok(" {" JREQ ",\"medfee_sumamt\":\"1\",\"inscp_scp_amt\":1,"
           "\"dise_codg\":\"\\u5f20\\u4e09\",\"hmb_flags\":\"a\\/b\\\\c\\\"d \\ud83d\\ude00 "
           "\xe5\xbc\xa0\",\"psn_name\":\"x\\ny\\t\\b\\f\\r\",\"gend\":null,\"age\":42.5,"
           "\"ok\":true,\"no\":false} \r",
           &s, NULL, 0);
  assert_string_equal(s.dise_codg, "\xe5\xbc\xa0\xe4\xb8\x89");
  assert_string_equal(s.flags, "a/b\\c\"d \xf0\x9f\x98\x80 \xe5\xbc\xa0");
}

static void test_setl_reader__jsonl_details(void **state)
{
  struct settlement s;
  struct setl_line lines[3];
  (void)state;
  parse_ok("{\"details\":[{\"med_list_codg\":\"XL01\",\"det_item_fee_sumamt\":\"100.00\","
           "\"cnt\":2.5,\"setl_id\":\"ignored\"},{\"cnt\":\"0.0001\",\"med_list_codg\":\"B02\","
           "\"det_item_fee_sumamt\":1,\"chrgitm_lv\":\"02\",\"overlmt_amt\":0.5}]," JREQ
           ",\"medfee_sumamt\":1,\"inscp_scp_amt\":1}",
           &s, lines, 3);
  assert_int_equal(s.nlines, 2);
  assert_string_equal(s.lines[0].med_list_codg, "XL01");
  assert_int_equal(s.lines[0].det_item_fee_sumamt, 10000);
  assert_int_equal(s.lines[0].cnt_e4, 25000);
  assert_string_equal(s.lines[1].chrgitm_lv, "02");
  assert_int_equal(s.lines[1].cnt_e4, 1);
  assert_int_equal(s.lines[1].overlmt_amt, 50);
  parse_ok("{" JREQ ",\"medfee_sumamt\":1,\"inscp_scp_amt\":1,\"details\":[ ]}", &s, lines, 3);
  assert_int_equal(s.nlines, 0);
}

struct jbad {
  const char *name;
  const char *line;
  enum hmb_status st;
  const char *code;
  const char *field;
};

#define JOK JREQ ",\"medfee_sumamt\":1,\"inscp_scp_amt\":1"

static const struct jbad jbad_cases[] = {
    {"three decimals", "{" JREQ ",\"medfee_sumamt\":1.234,\"inscp_scp_amt\":1}", HMB_INVALID,
     "money.decimals", "medfee_sumamt"},
    {"three decimals string", "{" JREQ ",\"medfee_sumamt\":\"1.234\",\"inscp_scp_amt\":1}",
     HMB_INVALID, "money.decimals", "medfee_sumamt"},
    {"exponent", "{" JREQ ",\"medfee_sumamt\":1e2,\"inscp_scp_amt\":1}", HMB_INVALID,
     "json.exponent", "medfee_sumamt"},
    {"leading zero", "{" JREQ ",\"medfee_sumamt\":01,\"inscp_scp_amt\":1}", HMB_INVALID,
     "json.syntax", "@"},
    {"duplicate key", "{" JOK ",\"psn_no\":\"P2\"}", HMB_INVALID, "json.duplicate_key", "psn_no"},
    {"duplicate unknown key", "{" JOK ",\"x\":1,\"x\":2}", HMB_INVALID, "json.duplicate_key", "x"},
    {"duplicate escaped key", "{" JOK ",\"x\":1,\"\\u0078\":2}", HMB_INVALID, "json.duplicate_key",
     "x"},
    {"id as number", "{" JOK ",\"mdtrt_id\":123}", HMB_INVALID, "json.type", "mdtrt_id"},
    {"amount as bool", "{" JREQ ",\"medfee_sumamt\":true,\"inscp_scp_amt\":1}", HMB_INVALID,
     "json.type", "medfee_sumamt"},
    {"details as object", "{" JOK ",\"details\":{}}", HMB_INVALID, "json.type", "details"},
    {"details of strings", "{" JOK ",\"details\":[\"a\"]}", HMB_INVALID, "json.type", "details"},
    {"nested unknown", "{" JOK ",\"extra\":{\"a\":1}}", HMB_INVALID, "json.nesting", "extra"},
    {"nested in details",
     "{" JOK ",\"details\":[{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":"
     "1,\"x\":[1]}]}",
     HMB_INVALID, "json.nesting", "details[0].x"},
    {"bad detail",
     "{" JOK ",\"details\":[{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":1},"
     "{\"med_list_codg\":\"B\",\"det_item_fee_sumamt\":1,\"cnt\":1.00001}]}",
     HMB_INVALID, "cnt.decimals", "details[1].cnt"},
    {"detail missing", "{" JOK ",\"details\":[{\"med_list_codg\":\"A\"}]}", HMB_INVALID,
     "field.missing", "details[0].det_item_fee_sumamt"},
    {"too many details",
     "{" JOK ",\"details\":[{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":1},"
     "{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":1},"
     "{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":1}]}",
     HMB_TOO_LARGE, "details.too_many", "details"},
    {"trailing garbage", "{" JOK "} x", HMB_INVALID, "json.syntax", "@"},
    {"two objects", "{" JOK "}{}", HMB_INVALID, "json.syntax", "@"},
    {"missing required", "{\"setl_id\":\"J1\",\"psn_no\":\"P1\"}", HMB_INVALID, "field.missing",
     "med_type"},
    {"null required", "{" JREQ ",\"medfee_sumamt\":null,\"inscp_scp_amt\":1}", HMB_INVALID,
     "field.missing", "medfee_sumamt"},
    {"not an object", "[1]", HMB_INVALID, "json.syntax", "@1"},
    {"empty", "", HMB_INVALID, "json.syntax", "@1"},
    {"unterminated string", "{\"setl_id\":\"J1", HMB_INVALID, "json.syntax", "@"},
    {"unterminated object", "{" JOK, HMB_INVALID, "json.syntax", "@"},
    {"lone low surrogate", "{" JOK ",\"x\":\"\\udc00\"}", HMB_INVALID, "json.syntax", "@"},
    {"lone high surrogate", "{" JOK ",\"x\":\"\\ud800x\"}", HMB_INVALID, "json.syntax", "@"},
    {"nul escape", "{" JOK ",\"x\":\"\\u0000\"}", HMB_INVALID, "json.syntax", "@"},
    {"bad escape", "{" JOK ",\"x\":\"\\q\"}", HMB_INVALID, "json.syntax", "@"},
    {"raw control", "{" JOK ",\"x\":\"a\tb\"}", HMB_INVALID, "json.syntax", "@"},
    {"bad utf-8", "{" JOK ",\"x\":\"\xed\xa0\x80\"}", HMB_INVALID, "json.syntax", "@"},
    {"control in id", "{" JOK ",\"mdtrt_id\":\"a\\nb\"}", HMB_INVALID, "text.invalid", "mdtrt_id"},
    {"id too long", "{" JOK ",\"mdtrt_id\":\"0123456789012345678901234567890123456789\"}",
     HMB_INVALID, "text.too_long", "mdtrt_id"},
    {"bad txn", "{" JOK ",\"txn\":2209}", HMB_INVALID, "txn.unknown", "txn"},
    {"bad out_filed", "{" JOK ",\"out_filed\":2}", HMB_INVALID, "out_filed.syntax", "out_filed"},
    {"code float", "{" JOK ",\"hosp_lv\":1.5}", HMB_INVALID, "code.syntax", "hosp_lv"},
    {"bad literal", "{" JOK ",\"x\":nul}", HMB_INVALID, "json.syntax", "@"},
    {"missing colon", "{\"setl_id\" \"J1\"}", HMB_INVALID, "json.syntax", "@12"},
    {"trailing comma", "{" JOK ",}", HMB_INVALID, "json.syntax", "@"},
};

static void test_setl_reader__jsonl_errors(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(jbad_cases); i++) {
    const struct jbad *c = &jbad_cases[i];
    struct settlement s;
    struct setl_line lines[2];
    struct hmb_err err;
    enum hmb_status st;
    hmb_err_init(&err);
    st = setl_parse_json_line(c->line, strlen(c->line), &s, lines, 2, &err);
    if (st != c->st || strcmp(err.code, c->code) != 0 ||
        strncmp(err.field, c->field, strlen(c->field)) != 0)
      fail_msg("%s: want %s %s at %s, got %s %s at %s: %s", c->name, hmb_status_name(c->st),
               c->code, c->field, hmb_status_name(st), err.code, err.field, err.message);
    assert_true(err.message[0] != '\0');
  }
}

static void test_setl_reader__jsonl_file(void **state)
{
  char path[512];
  struct setl_reader *r;
  struct settlement s;
  struct hmb_err err;
  (void)state;
  data_path(path, sizeof(path), "setl_sample.jsonl");
  hmb_err_init(&err);
  if (setl_reader_open(&r, path, SETL_FMT_AUTO, NULL, &err))
    fail_msg("%s: %s", err.field, err.message);
  assert_int_equal(setl_reader_format(r), SETL_FMT_JSONL);
  expect_ok(r, &s, 1);
  assert_int_equal(s.medfee_sumamt, INT64_C(1234567891));
  assert_int_equal(s.fulamt_ownpay_amt + s.overlmt_selfpay, 30);
  assert_int_equal(s.nlines, 2);
  assert_int_equal(s.lines[0].cnt_e4, 25000);
  expect_err(r, HMB_INVALID, "money.decimals", "setl_sample.jsonl:3:medfee_sumamt");
  expect_ok(r, &s, 4);
  assert_string_equal(s.psn_no, "\xe5\xbc\xa0\xe4\xb8\x89");
  assert_int_equal(s.out_filed, 1);
  assert_int_equal(s.kind, SETL_SETTLE);
  assert_string_equal(s.flags, "a/b \xf0\x9f\x98\x80");
  expect_ok(r, &s, 5);
  assert_int_equal(s.kind, SETL_REVERSAL);
  expect_eof(r);
  setl_reader_free(r);
}

static void test_setl_reader__jsonl_with_details_file(void **state)
{
  const char *jl = "{" JOK ",\"setl_id\":\"A\"}\n";
  const char *jl2 = "{\"setl_id\":\"A\",\"psn_no\":\"P1\",\"setl_time\":\"2024-05-01\","
                    "\"med_type\":21,\"fulamt_ownpay_amt\":0,\"overlmt_selfpay\":0,"
                    "\"preselfpay_amt\":0,\"fund_pay_sumamt\":0,\"psn_part_amt\":0,"
                    "\"medfee_sumamt\":1,\"inscp_scp_amt\":1}\n"
                    "{\"setl_id\":\"B\",\"psn_no\":\"P1\",\"setl_time\":\"2024-05-01\","
                    "\"med_type\":21,\"fulamt_ownpay_amt\":0,\"overlmt_selfpay\":0,"
                    "\"preselfpay_amt\":0,\"fund_pay_sumamt\":0,\"psn_part_amt\":0,"
                    "\"medfee_sumamt\":1,\"inscp_scp_amt\":1,\"details\":[]}\n";
  const char *det = "setl_id,med_list_codg,det_item_fee_sumamt\nA,X,1\nB,Y,2\nC,Z,3\n";
  struct setl_reader *r;
  struct settlement s;
  (void)state;
  /* A record with setl_id twice is refused. */
  r = open_mem(jl, det);
  expect_err(r, HMB_INVALID, "json.duplicate_key", "mem:1:setl_id");
  expect_eof(r);
  setl_reader_free(r);
  r = open_mem(jl2, det);
  expect_ok(r, &s, 1);
  assert_int_equal(s.nlines, 1);
  assert_string_equal(s.lines[0].med_list_codg, "X");
  expect_ok(r, &s, 2);
  assert_int_equal(s.nlines, 0); /* its own (empty) details win */
  expect_eof(r);
  assert_int_equal(setl_reader_unmatched_details(r, NULL), 1);
  setl_reader_free(r);
}

static void test_setl_reader__cnt_parse(void **state)
{
  static const struct {
    const char *text;
    enum hmb_status st;
    int64_t v;
  } cases[] = {
      {"1", HMB_OK, 10000},
      {"0.0001", HMB_OK, 1},
      {"-2.5", HMB_OK, -25000},
      {"100000000000", HMB_OK, INT64_C(1000000000000000)},
      {"100000000001", HMB_INVALID, 0},
      {"1.00001", HMB_INVALID, 0},
      {"1.", HMB_INVALID, 0},
      {".5", HMB_INVALID, 0},
      {"", HMB_INVALID, 0},
      {"1e3", HMB_INVALID, 0},
      {"-", HMB_INVALID, 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(cases); i++) {
    int64_t v = 0;
    struct hmb_err err;
    enum hmb_status st = setl_parse_cnt(cases[i].text, strlen(cases[i].text), &v, "cnt", &err);
    if (st != cases[i].st || (st == HMB_OK && v != cases[i].v))
      fail_msg("cnt \"%s\": got %s %" PRId64, cases[i].text, hmb_status_name(st), v);
  }
}

/* Fail each allocation in turn: every path must clean up (ASan checks leaks). */
static void test_setl_reader__alloc_failures(void **state)
{
  const char *csv = H "S1,P1,2024-01-01,21,1,0,0,0,1,0,1\n"
                      "\"S2\",\"P\"\"2\",2024-01-01,21,1,0,0,0,1,0,1\n";
  const char *det = "setl_id,med_list_codg,det_item_fee_sumamt\nS1,A,1\nS2,B,1\nS3,C,1\n";
  const char *jl = "{" JOK ",\"details\":[{\"med_list_codg\":\"A\",\"det_item_fee_sumamt\":1}]}\n";
  unsigned long n;
  int fmt;
  (void)state;
  for (fmt = 0; fmt < 2; fmt++) {
    for (n = 1; n < 64; n++) {
      struct setl_reader *r = NULL;
      struct hmb_err err;
      const char *text = fmt ? jl : csv;
      hmb_alloc_fail_after(n);
      if (setl_reader_open_mem(&r, "mem", text, strlen(text), fmt ? SETL_FMT_JSONL : SETL_FMT_CSV,
                               "det", det, strlen(det), &err) == HMB_OK) {
        for (;;) {
          struct settlement s;
          bool eof = false;
          enum hmb_status st = setl_reader_next(r, &s, &eof, &err);
          if (eof || st == HMB_NOMEM || st == HMB_IO)
            break;
          assert_int_equal(st, HMB_OK);
        }
        setl_reader_free(r);
      } else {
        assert_null(r);
        assert_int_equal(err.status, HMB_NOMEM);
      }
      hmb_alloc_fail_after(0);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_setl_reader__csv_column_order_and_optional),
      cmocka_unit_test(test_setl_reader__csv_crlf_bom),
      cmocka_unit_test(test_setl_reader__csv_quoting),
      cmocka_unit_test(test_setl_reader__csv_bad_rows),
      cmocka_unit_test(test_setl_reader__csv_split_convert),
      cmocka_unit_test(test_setl_reader__csv_amounts_exact),
      cmocka_unit_test(test_setl_reader__csv_amounts_every_form),
      cmocka_unit_test(test_setl_reader__csv_amount_runs),
      cmocka_unit_test(test_setl_reader__csv_dense_fields),
      cmocka_unit_test(test_setl_reader__key_hash),
      cmocka_unit_test(test_setl_reader__csv_field_too_long),
      cmocka_unit_test(test_setl_reader__csv_row_too_long),
      cmocka_unit_test(test_setl_reader__csv_header_errors),
      cmocka_unit_test(test_setl_reader__csv_details_join),
      cmocka_unit_test(test_setl_reader__csv_details_errors),
      cmocka_unit_test(test_setl_reader__csv_details_limit),
      cmocka_unit_test(test_setl_reader__csv_pipe_matches_memory),
      cmocka_unit_test(test_setl_reader__open_missing_file),
      cmocka_unit_test(test_setl_reader__jsonl_numbers_exact),
      cmocka_unit_test(test_setl_reader__jsonl_escapes),
      cmocka_unit_test(test_setl_reader__jsonl_details),
      cmocka_unit_test(test_setl_reader__jsonl_errors),
      cmocka_unit_test(test_setl_reader__jsonl_file),
      cmocka_unit_test(test_setl_reader__jsonl_with_details_file),
      cmocka_unit_test(test_setl_reader__cnt_parse),
      cmocka_unit_test(test_setl_reader__alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_money.c - the exact text parsers of core/: money_parse, ratio_parse,
 * date_parse, datetime_parse and str_to_i64 on raw bytes. Whatever parses
 * must format and parse back to the same value (BUG otherwise), stay inside
 * its documented range, and the CSV reader's fast amount path must agree
 * with money_parse() on every text it is given.
 */
#include "compat.h"
#include "date.h"
#include "money.h"
#include "setl_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void money_roundtrip(const char *s, size_t n)
{
  hmb_fen v, w;
  char buf[HMB_MONEY_TEXT_MAX];
  size_t k;
  struct hmb_err err;
  if (money_parse(s, n, &v, "m", &err) != HMB_OK) {
    if (!err.message[0] || strcmp(err.field, "m") != 0)
      BUG("money error without message or field");
    return;
  }
  if (v > HMB_FEN_LIMIT || v < -HMB_FEN_LIMIT)
    BUG("money out of range: %" PRId64, v);
  k = money_format(v, buf);
  if (k == 0 || k >= sizeof(buf))
    BUG("money_format length %zu", k);
  if (money_parse(buf, k, &w, "m", &err) != HMB_OK || w != v)
    BUG("money round trip: %" PRId64 " -> %s -> %" PRId64, v, buf, w);
}

static void ratio_roundtrip(const char *s, size_t n)
{
  hmb_bp v, w;
  char buf[16];
  size_t k;
  struct hmb_err err;
  if (ratio_parse(s, n, &v, "r", &err) != HMB_OK)
    return;
  if (v < 0 || v > HMB_BP_ONE)
    BUG("ratio out of range: %d", (int)v);
  k = ratio_format(v, buf);
  if (ratio_parse(buf, k, &w, "r", &err) != HMB_OK || w != v)
    BUG("ratio round trip: %d -> %s", (int)v, buf);
}

static void date_roundtrip(const char *s, size_t n)
{
  hmb_date d, e;
  hmb_time t, u;
  char buf[HMB_DATETIME_TEXT_MAX];
  size_t k;
  struct hmb_err err;
  if (date_parse(s, n, &d, "d", &err) == HMB_OK) {
    k = date_format(d, buf);
    if (date_parse(buf, k, &e, "d", &err) != HMB_OK || e != d)
      BUG("date round trip: %s", buf);
  }
  if (datetime_parse(s, n, &t, "t", &err) == HMB_OK) {
    k = datetime_format(t, buf);
    if (datetime_parse(buf, k, &u, "t", &err) != HMB_OK || u != t)
      BUG("datetime round trip: %s", buf);
    if (time_date(t) < date_from_ymd(1900, 1, 1) || time_date(t) > date_from_ymd(2199, 12, 31))
      BUG("datetime outside the supported years");
  }
}

static void int_roundtrip(const char *s, size_t n)
{
  int64_t v, w;
  char buf[32];
  int k;
  struct hmb_err err;
  if (str_to_i64(s, n, INT64_MIN, INT64_MAX, &v, "i", &err) != HMB_OK)
    return;
  k = snprintf(buf, sizeof(buf), "%" PRId64, v);
  if (k <= 0 || str_to_i64(buf, (size_t)k, INT64_MIN, INT64_MAX, &w, "i", &err) != HMB_OK || w != v)
    BUG("int round trip: %s", buf);
}

/* The reader's amount fast path against money_parse(), through a one-row CSV. */
static void reader_agrees(const char *s, size_t n)
{
  static const char head[] = "setl_id,psn_no,setl_time,med_type,medfee_sumamt,"
                             "fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,"
                             "fund_pay_sumamt,psn_part_amt\nS,P,2024-01-01,21,";
  static const char tail[] = ",0,0,0,0,0,0\n";
  char csv[sizeof(head) + sizeof(tail) + 64];
  struct setl_reader *r;
  struct settlement st;
  struct hmb_err err;
  hmb_fen want = 0;
  enum hmb_status a, b;
  bool eof;
  if (n == 0 || n > 64 || memchr(s, ',', n) || memchr(s, '\n', n) || memchr(s, '"', n) ||
      memchr(s, '\r', n))
    return;
  memcpy(csv, head, sizeof(head) - 1);
  memcpy(csv + sizeof(head) - 1, s, n);
  memcpy(csv + sizeof(head) - 1 + n, tail, sizeof(tail) - 1);
  if (setl_reader_open_mem(&r, "m", csv, sizeof(head) - 1 + n + sizeof(tail) - 1, SETL_FMT_CSV,
                           NULL, NULL, 0, &err))
    BUG("open failed: %s", err.message);
  a = money_parse(s, n, &want, "m", &err);
  b = setl_reader_next(r, &st, &eof, &err);
  if (eof || (a == HMB_OK) != (b == HMB_OK) || (a == HMB_OK && st.medfee_sumamt != want))
    BUG("reader and money_parse disagree on \"%.*s\"", (int)n, s);
  setl_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  int64_t cnt;
  struct hmb_err err;
  money_roundtrip(s, size);
  ratio_roundtrip(s, size);
  date_roundtrip(s, size);
  int_roundtrip(s, size);
  reader_agrees(s, size);
  (void)setl_parse_cnt(s, size, &cnt, "c", &err);
  return 0;
}

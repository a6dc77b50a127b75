/*
 * fuzz_setl_csv.c - the CSV side of io/: the row scanner on its own, the
 * settlement reader (with a details file when the input holds the line
 * "#DETAILS#": settlements before it, details after) and the people table.
 * Every row must end in a settlement that keeps the reader's promises or in
 * a located error, the reader must reach the end, and nothing may leak.
 */
#include "compat.h"
#include "people.h"
#include "setl_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
  size_t n = strnlen(s, cap);
  if (n == cap)
    BUG("text field not terminated");
  if (!setl_text_ok(s, n))
    BUG("text field not clean UTF-8: %s", s);
}

static void check_amount(hmb_fen v)
{
  if (v > HMB_FEN_LIMIT || v < -HMB_FEN_LIMIT)
    BUG("amount out of range: %" PRId64, v);
}

static void check_settlement(const struct settlement *s)
{
  size_t i;
  check_text(s->setl_id, sizeof(s->setl_id));
  check_text(s->mdtrt_id, sizeof(s->mdtrt_id));
  check_text(s->psn_no, sizeof(s->psn_no));
  check_text(s->mdtrtarea_admvs, sizeof(s->mdtrtarea_admvs));
  check_text(s->dise_codg, sizeof(s->dise_codg));
  check_text(s->flags, sizeof(s->flags));
  if (!s->setl_id[0] || !s->psn_no[0] || !s->mdtrt_id[0])
    BUG("settlement without an identifier");
  if (s->kind != SETL_SETTLE && s->kind != SETL_REVERSAL)
    BUG("bad kind");
  if (s->out_filed < -1 || s->out_filed > 1)
    BUG("bad out_filed");
  check_amount(s->medfee_sumamt);
  check_amount(s->psn_part_amt);
  check_amount(s->fund_pay_sumamt);
  if (s->nlines > SETL_MAX_LINES || (s->nlines && !s->lines))
    BUG("bad lines");
  if (s->kind == SETL_REVERSAL && s->nlines)
    BUG("reversal with lines");
  for (i = 0; i < s->nlines; i++) {
    check_text(s->lines[i].med_list_codg, sizeof(s->lines[i].med_list_codg));
    check_text(s->lines[i].chrgitm_lv, sizeof(s->lines[i].chrgitm_lv));
    check_text(s->lines[i].med_chrgitm_type, sizeof(s->lines[i].med_chrgitm_type));
    check_amount(s->lines[i].det_item_fee_sumamt);
    s->lines[i].list_mask = 1; /* the engine may write this */
  }
}

static void check_error(enum hmb_status st, const struct hmb_err *err)
{
  if (st != HMB_INVALID && st != HMB_TOO_LARGE)
    BUG("unexpected status %s", hmb_status_name(st));
  if (!err->field[0] || !err->message[0] || !err->code[0])
    BUG("error without location or message");
  if (strncmp(err->field, "setl:", 5) != 0 && strncmp(err->field, "det:", 4) != 0)
    BUG("error not located: %s", err->field);
}

static void run_csvr(const char *p, size_t n)
{
  struct csvr *c;
  struct hmb_err err;
  size_t rows = 0, i;
  if (csvr_open_mem(&c, "csv", p, n, &err))
    return;
  for (;;) {
    const struct csvr_field *f;
    bool eof;
    enum hmb_status st = csvr_next(c, &f, &eof, &err);
    if (st == HMB_OK && eof)
      break;
    if (++rows > n + 2)
      BUG("csvr does not advance");
    if (st)
      continue;
    for (i = 0; i < csvr_ncols(c); i++)
      if (f[i].len > SETL_FIELD_MAX || (f[i].len && !f[i].p))
        BUG("bad field");
  }
  csvr_free(c);
}

static void ignore(void *ctx, const struct hmb_err *err)
{
  (void)err;
  (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char mark[] = "\n#DETAILS#\n";
  const char *p = (const char *)data;
  const char *m = memmem(p, size, mark, sizeof(mark) - 1);
  size_t n = m ? (size_t)(m - p) : size;
  const char *det = m ? m + sizeof(mark) - 1 : NULL;
  size_t ndet = m ? size - n - (sizeof(mark) - 1) : 0;
  struct setl_reader *r;
  struct people *pp;
  struct hmb_err err;
  size_t rows = 0, bad = 0;

  run_csvr(p, size);
  if (people_load_mem(&pp, "people", p, size, ignore, &bad, &err) == HMB_OK) {
    if (people_count(pp) + people_skipped(pp) > size)
      BUG("people: more rows than bytes");
    people_free(pp);
  }

  if (setl_reader_open_mem(&r, "setl", p, n, SETL_FMT_CSV, "det", det, ndet, &err))
    return 0;
  for (;;) {
    struct settlement s;
    bool eof = false;
    enum hmb_status st;
    hmb_err_init(&err);
    st = setl_reader_next(r, &s, &eof, &err);
    if (st == HMB_OK && eof)
      break;
    if (++rows > size + 2)
      BUG("reader does not advance");
    if (st)
      check_error(st, &err);
    else
      check_settlement(&s);
  }
  (void)setl_reader_unmatched_details(r, NULL);
  (void)setl_reader_detail_errors(r, NULL, NULL);
  setl_reader_free(r);
  return 0;
}

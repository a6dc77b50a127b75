/*
 * fuzz_setl_csv.c - the CSV side of io/: the row scanner on its own, the
 * settlement reader (with a details file when the input holds the line
 * "#DETAILS#": settlements before it, details after) and the people table.
 * Every row must end in a settlement that keeps the reader's promises or in
 * a located error, the reader must reach the end, and nothing may leak;
 * reading in two steps (split, convert), with the vector code where the CPU
 * has it, must give what reading row by row with the portable code gives.
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

/* The same settlement, field by field (text up to its terminator). */
static void same_settlement(const struct settlement *a, const struct settlement *b)
{
  size_t i;
  if (a->kind != b->kind || strcmp(a->setl_id, b->setl_id) || strcmp(a->mdtrt_id, b->mdtrt_id) ||
      strcmp(a->psn_no, b->psn_no) || a->insutype != b->insutype || a->med_type != b->med_type ||
      a->psn_type != b->psn_type || a->hosp_lv != b->hosp_lv || a->setl_time != b->setl_time ||
      strcmp(a->mdtrtarea_admvs, b->mdtrtarea_admvs) || a->out_filed != b->out_filed ||
      strcmp(a->dise_codg, b->dise_codg) || strcmp(a->flags, b->flags))
    BUG("split+convert: other codes or text than next() for %s", a->setl_id);
  if (a->medfee_sumamt != b->medfee_sumamt || a->fulamt_ownpay_amt != b->fulamt_ownpay_amt ||
      a->overlmt_selfpay != b->overlmt_selfpay || a->preselfpay_amt != b->preselfpay_amt ||
      a->inscp_scp_amt != b->inscp_scp_amt || a->act_pay_dedc != b->act_pay_dedc ||
      a->hifp_pay != b->hifp_pay || a->hifmi_pay != b->hifmi_pay || a->hifob_pay != b->hifob_pay ||
      a->maf_pay != b->maf_pay || a->cvlserv_pay != b->cvlserv_pay ||
      a->hifes_pay != b->hifes_pay || a->oth_pay != b->oth_pay ||
      a->fund_pay_sumamt != b->fund_pay_sumamt || a->psn_part_amt != b->psn_part_amt ||
      a->acct_pay != b->acct_pay || a->psn_cash_pay != b->psn_cash_pay)
    BUG("split+convert: other amounts than next() for %s", a->setl_id);
  if (a->nlines != b->nlines)
    BUG("split+convert: other lines than next() for %s", a->setl_id);
  for (i = 0; i < a->nlines; i++)
    if (strcmp(a->lines[i].med_list_codg, b->lines[i].med_list_codg) ||
        a->lines[i].det_item_fee_sumamt != b->lines[i].det_item_fee_sumamt ||
        a->lines[i].inscp_scp_amt != b->lines[i].inscp_scp_amt ||
        a->lines[i].cnt_e4 != b->lines[i].cnt_e4)
      BUG("split+convert: other line %zu than next() for %s", i, a->setl_id);
}

/*
 * Read the input again in two steps (setl_reader_split, then
 * setl_reader_convert of each deferred row, as hmb adjudicate does on two
 * threads) beside a reader going row by row with the portable code only
 * (HMB_TEST_SCALAR): every row must come out the same, with the same
 * error, line and keys.
 */
static void run_split(const char *p, size_t n, const char *det, size_t ndet, size_t size)
{
  struct setl_reader *a, *b;
  struct setl_conv *cv;
  struct hmb_err ea, eb;
  uint32_t *ends;
  size_t rows = 0;
  const bool scalar = getenv("HMB_TEST_SCALAR") != NULL;
  enum hmb_status opened;
  if (!scalar && setenv("HMB_TEST_SCALAR", "1", 1))
    BUG("setenv");
  opened = setl_reader_open_mem(&a, "setl", p, n, SETL_FMT_CSV, "det", det, ndet, &ea);
  if (!scalar && unsetenv("HMB_TEST_SCALAR"))
    BUG("unsetenv");
  if (opened)
    return;
  if (setl_reader_open_mem(&b, "setl", p, n, SETL_FMT_CSV, "det", det, ndet, &eb))
    BUG("second reader does not open");
  if (setl_conv_new(b, &cv))
    BUG("setl_conv_new");
  ends = hmb_reallocarray(NULL, setl_reader_ncols(b) + 1, sizeof(*ends));
  if (!ends)
    BUG("no memory");
  for (;;) {
    struct settlement sa, sb;
    const struct setl_keys *ka, *kb;
    const char *row = NULL;
    bool eofa = false, eofb = false, deferred = false;
    enum hmb_status sta, stb;
    unsigned long line;
    hmb_err_init(&ea);
    hmb_err_init(&eb);
    sta = setl_reader_next(a, &sa, &eofa, &ea);
    stb = setl_reader_split(b, &sb, &row, ends, &deferred, &eofb, &eb);
    line = setl_reader_line(b);
    kb = setl_reader_keys(b);
    if (!stb && !eofb && deferred) {
      stb = setl_reader_convert(b, cv, row, ends, line, &sb, &eb);
      kb = setl_conv_keys(cv);
    }
    if (sta != stb || eofa != eofb)
      BUG("split+convert: status %d/%d, eof %d/%d", (int)sta, (int)stb, eofa, eofb);
    if (sta == HMB_OK && eofa)
      break;
    if (++rows > size + 2)
      BUG("reader does not advance");
    if (setl_reader_line(a) != line)
      BUG("split+convert: line %lu, next() %lu", line, setl_reader_line(a));
    if (sta) {
      if (strcmp(ea.code, eb.code) || strcmp(ea.field, eb.field) || strcmp(ea.message, eb.message))
        BUG("split+convert: error %s %s, next() %s %s", eb.code, eb.field, ea.code, ea.field);
      continue;
    }
    same_settlement(&sa, &sb);
    ka = setl_reader_keys(a);
    if (ka->setl_id_hash != kb->setl_id_hash || ka->psn_no_hash != kb->psn_no_hash ||
        ka->setl_id_len != kb->setl_id_len || ka->psn_no_len != kb->psn_no_len ||
        (kb->setl_id_in && memcmp(kb->setl_id_in, sb.setl_id, kb->setl_id_len)))
      BUG("split+convert: other keys than next()");
  }
  if (setl_reader_unmatched_details(a, NULL) != setl_reader_unmatched_details(b, NULL))
    BUG("split+convert: other unmatched details");
  free(ends);
  setl_conv_free(cv);
  setl_reader_free(a);
  setl_reader_free(b);
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

  run_split(p, n, det, ndet, size);
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

/*
 * fuzz_setl_jsonl.c - the JSON-lines records: the whole input as one record
 * through setl_parse_json_line(), then as a JSON-lines file through the
 * reader. A record read must keep every promise of struct settlement; a bad
 * one must come back as a located error; nothing may leak.
 */
#include "compat.h"
#include "setl_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 8

static void check_text(const char *s, size_t cap)
{
  size_t n = strnlen(s, cap);
  if (n == cap)
    BUG("text field not terminated");
  if (!setl_text_ok(s, n))
    BUG("text field not clean UTF-8");
}

static void check_settlement(const struct settlement *s, size_t max)
{
  size_t i;
  check_text(s->setl_id, sizeof(s->setl_id));
  check_text(s->mdtrt_id, sizeof(s->mdtrt_id));
  check_text(s->psn_no, sizeof(s->psn_no));
  check_text(s->mdtrtarea_admvs, sizeof(s->mdtrtarea_admvs));
  check_text(s->dise_codg, sizeof(s->dise_codg));
  check_text(s->flags, sizeof(s->flags));
  if (!s->setl_id[0] || !s->psn_no[0])
    BUG("record without an identifier");
  if (s->nlines > max)
    BUG("more lines than room");
  for (i = 0; i < s->nlines; i++) {
    check_text(s->lines[i].med_list_codg, sizeof(s->lines[i].med_list_codg));
    check_text(s->lines[i].chrgitm_lv, sizeof(s->lines[i].chrgitm_lv));
    check_text(s->lines[i].med_chrgitm_type, sizeof(s->lines[i].med_chrgitm_type));
    if (!s->lines[i].med_list_codg[0])
      BUG("line without a code");
  }
  if (s->medfee_sumamt > HMB_FEN_LIMIT || s->medfee_sumamt < -HMB_FEN_LIMIT)
    BUG("amount out of range");
}

static void check_error(enum hmb_status st, const struct hmb_err *err)
{
  if (st != HMB_INVALID && st != HMB_TOO_LARGE)
    BUG("unexpected status %s", hmb_status_name(st));
  if (!err->code[0] || !err->message[0])
    BUG("error without code or message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct setl_line lines[MAX_LINES];
  struct settlement s;
  struct hmb_err err;
  struct setl_reader *r;
  enum hmb_status st;
  size_t rows = 0;

  hmb_err_init(&err);
  st = setl_parse_json_line((const char *)data, size, &s, lines, MAX_LINES, &err);
  if (st)
    check_error(st, &err);
  else
    check_settlement(&s, MAX_LINES);

  if (setl_reader_open_mem(&r, "jl", (const char *)data, size, SETL_FMT_JSONL, NULL, NULL, 0, &err))
    BUG("open of a JSON-lines memory buffer failed");
  for (;;) {
    bool eof = false;
    hmb_err_init(&err);
    st = setl_reader_next(r, &s, &eof, &err);
    if (st == HMB_OK && eof)
      break;
    if (++rows > size + 2)
      BUG("reader does not advance");
    if (st) {
      check_error(st, &err);
      if (strncmp(err.field, "jl:", 3) != 0)
        BUG("error not located: %s", err.field);
    } else {
      check_settlement(&s, SETL_MAX_LINES);
    }
  }
  setl_reader_free(r);
  return 0;
}

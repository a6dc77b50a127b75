/*
 * setl_reader.h - streaming readers of settlement files (CSV and JSON lines)
 * into struct settlement, and the CSV row scanner they are built on.
 *
 * Input formats
 * -------------
 *
 * CSV: a header row of national field names (docs: DOMAIN.md section 4) in
 * any order; unknown columns are ignored. Required columns: setl_id, psn_no,
 * setl_time, med_type, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay,
 * preselfpay_amt, inscp_scp_amt, fund_pay_sumamt, psn_part_amt. Optional:
 * mdtrt_id (empty = setl_id), insutype, psn_type, hosp_lv, act_pay_dedc,
 * hifp_pay, hifmi_pay, hifob_pay, maf_pay, cvlserv_pay, hifes_pay, oth_pay,
 * acct_pay, psn_cash_pay, mdtrtarea_admvs, dise_codg, out_filed (0/1, empty =
 * unknown), hmb_flags (into settlement.flags) and txn (2207/2304 settle,
 * 2208/2305 reversal, empty = settle). RFC 4180 quoting, CRLF or LF, a UTF-8
 * BOM is skipped, blank lines are skipped. An empty value is an absent
 * value: 0 for amounts and codes. A settle row needs every required field
 * non-empty; a reversal row needs only setl_id and psn_no.
 *
 * JSON lines: one flat object per line with the same keys. Amounts are JSON
 * numbers with at most two decimals or strings ("12.34"), read exactly from
 * their text (never through a double). Code fields (insutype, med_type,
 * psn_type, hosp_lv, txn) may be integers or digit strings; out_filed may be
 * 0/1, "0"/"1" or a boolean; null is an absent value. The only nesting
 * allowed is "details": [ {line}, ... ]. Duplicate keys, trailing text,
 * other nesting and values of the wrong type are errors.
 *
 * Fee detail lines (med_list_codg, chrgitm_lv, med_chrgitm_type,
 * det_item_fee_sumamt, fulamt_ownpay_amt, overlmt_amt, preselfpay_amt,
 * inscp_scp_amt, cnt with up to four decimals) come from "details" in JSON
 * lines, or from a details CSV file (setl_id + the line fields; required:
 * setl_id, med_list_codg, det_item_fee_sumamt) loaded fully at open and
 * joined on setl_id, keeping file order. Reversal rows get no lines.
 *
 * Limits: a CSV field holds at most SETL_FIELD_MAX bytes, a row or line at
 * most SETL_ROW_MAX bytes, a settlement at most SETL_MAX_LINES lines
 * (HMB_TOO_LARGE for that row). Text fields must be UTF-8 without control
 * characters and fit the fixed arrays of struct settlement.
 *
 * Errors
 * ------
 *
 * A bad row is reported, never fatal: setl_reader_next() returns HMB_INVALID
 * or HMB_TOO_LARGE with err->field = "PATH:LINE:COLUMN" (COLUMN is the field
 * name, or "@N" for the byte column of a JSON syntax error) and a Chinese
 * message, and the reader is already positioned on the next row, so the
 * caller reports the error and calls again. Only HMB_IO and HMB_NOMEM end a
 * reading (calling again then returns the same kind of error or eof).
 *
 * Threads: a reader is used by one thread at a time. Distinct readers are
 * independent.
 *
 * Vector code: the CSV row split uses AVX-512 (VBMI2) when the CPU has it,
 * else AVX2, else SSE2, and the amounts of a row AVX-512 (VBMI) when the
 * CPU has it; every path gives the same rows. Set in the environment when a
 * reader is opened, HMB_TEST_SCALAR makes it use the SSE2 split and scalar
 * amounts, HMB_TEST_AVX2 the AVX2 split and scalar amounts, so that tests
 * cover every path.
 */
#ifndef HMB_SETL_READER_H
#define HMB_SETL_READER_H

#include "settlement.h"

#define SETL_FIELD_MAX (64u * 1024u)   /* bytes of one CSV field */
#define SETL_ROW_MAX   (1024u * 1024u) /* bytes of one row or line, without its end */
#define SETL_COLS_MAX  4096u           /* columns of a CSV header */

enum setl_format {
  SETL_FMT_AUTO = 0, /* by extension (.csv / .jsonl .ndjson .json), else by the first byte */
  SETL_FMT_CSV,
  SETL_FMT_JSONL
};

struct setl_reader;

/*
 * Open the settlement file `path` ("-" reads standard input) and, when
 * details_path is not NULL, load the details CSV file into memory. Regular
 * files are mapped with mmap, pipes are read in a sliding window. For CSV the
 * header is read and checked here: a missing required column or a known
 * column given twice is HMB_INVALID naming "PATH:1:COLUMN". Errors in the
 * details file do not fail the open: a bad detail row whose setl_id is known
 * makes that settlement's row fail when it is read; one whose setl_id cannot
 * be known is kept for setl_reader_detail_errors(). On success *out owns
 * everything and is released by setl_reader_free(); on failure *out is NULL.
 */
enum hmb_status setl_reader_open(struct setl_reader **out, const char *path, enum setl_format fmt,
                                 const char *details_path, struct hmb_err *err);

/*
 * Like setl_reader_open() on memory: `name` is used in error locations.
 * data (and details, when not NULL) are borrowed and must outlive the
 * reader. SETL_FMT_AUTO looks at the first byte ('{' means JSON lines).
 */
enum hmb_status setl_reader_open_mem(struct setl_reader **out, const char *name, const char *data,
                                     size_t len, enum setl_format fmt, const char *details_name,
                                     const char *details, size_t details_len, struct hmb_err *err);

/*
 * Read the next settlement into *s (every field is written; validation is
 * the caller's business: see settlement_validate()). At the end *eof is set
 * and HMB_OK returned. s->lines points into the reader's memory and stays
 * valid until the next call or setl_reader_free(); the engine may write the
 * lines' list_mask. On a row error *s holds an unspecified partial row.
 */
enum hmb_status setl_reader_next(struct setl_reader *r, struct settlement *s, bool *eof,
                                 struct hmb_err *err);

/*
 * The 64-bit hash of ids (setl_id, psn_no) used by the reader and the
 * tables built on its keys (not hmb_hash64(): nothing keeps these values).
 * An id of 8 to 24 bytes, the usual, is read as three words (the last two
 * may overlap) mixed by three 64x64->128-bit multiplies, two of them side
 * by side: a short chain, where one multiply per word and a finalizer had
 * been a long one (twice per row). Reads only s[0..n).
 */
__extension__ typedef unsigned __int128 setl_u128; /* gcc and clang on 64-bit targets */

static inline uint64_t setl_key_mix(uint64_t a, uint64_t b)
{
  const setl_u128 p = (setl_u128)a * b;
  return (uint64_t)p ^ (uint64_t)(p >> 64);
}

static inline uint64_t setl_key_hash(const char *s, size_t n)
{
  const uint64_t k0 = UINT64_C(0xa0761d6478bd642f), k1 = UINT64_C(0xe7037ed1a0b428db),
                 k2 = UINT64_C(0x8ebc6af09c88c6e3), k3 = UINT64_C(0x589965cc75374cc3);
  uint64_t a = 0, b = 0, c = 0, h = k0 ^ (uint64_t)n;
  size_t i;
  if (n >= 8 && n <= 24) {
    memcpy(&a, s, sizeof(a));
    memcpy(&c, s + n - 8, sizeof(c));
    if (n > 16) {
      memcpy(&b, s + 8, sizeof(b));
    } else if (n > 8) {
      b = c; /* two words: a, then the last 8 bytes */
      c = 0;
    }
  } else {
    /* short or long ids: all but the last < 8 bytes folded in words */
    for (; n >= 8; s += 8, n -= 8) {
      memcpy(&a, s, sizeof(a));
      h = setl_key_mix(h ^ a, k1);
    }
    a = 0;
    for (i = 0; i < n; i++)
      a |= (uint64_t)(unsigned char)s[i] << (8 * i);
  }
  return setl_key_mix(setl_key_mix(a ^ k1, b ^ h) ^ k3, setl_key_mix(c ^ k2, h ^ k3) ^ k0);
}

/*
 * What the reader knows of the settlement last returned with HMB_OK (not
 * eof): the setl_key_hash() and the lengths of its setl_id and psn_no, so
 * that callers indexing rows by them need not measure or hash them again.
 * Owned by the reader, overwritten by its next call; unspecified after an
 * error. (A pointer, not a copy: the fields were just stored one by one,
 * and a copy of the whole struct would wait for those stores.)
 */
struct setl_keys {
  uint64_t setl_id_hash;
  uint64_t psn_no_hash;
  size_t setl_id_len;
  size_t psn_no_len;
  /* The setl_id's bytes in the input itself, when they stay there unchanged
   * until setl_reader_free() (a mapped file or memory, a plain CSV field):
   * a caller remembering many ids can point at them instead of copying.
   * NULL otherwise. */
  const char *setl_id_in;
};
const struct setl_keys *setl_reader_keys(const struct setl_reader *r);

/*
 * Reading in two steps, so that the second can run on another thread.
 *
 * setl_reader_split() is setl_reader_next(), except that a usual CSV row
 * of a mapped file or of memory (unquoted, without CR, the header's number
 * of fields, shorter than SETL_FIELD_MAX) may be left to convert: then
 * *deferred is set, *row points at the row in the input (valid until
 * setl_reader_free()), ends[0..setl_reader_ncols(r)) receive the offsets
 * of its fields' ends (the ',' or '\n' after each), setl_reader_line()
 * gives its line, and *s is not touched. Otherwise it is exactly
 * setl_reader_next() (ends may have been written).
 *
 * setl_reader_convert() turns a deferred row into *s with what
 * setl_reader_next() would have returned for it: the same settlement and
 * detail lines, or the same error naming "PATH:LINE:COLUMN" (line: its
 * setl_reader_line() when split). Its keys (setl_reader_keys()' for that
 * row) are then at setl_conv_keys(cv). It changes nothing in r but the
 * "matched" mark of the details it joins, atomically, so calls on several
 * threads at once are safe, each with its own cv, and with one thread
 * splitting meanwhile. s->lines points into the reader's details.
 */
struct setl_conv;
enum hmb_status setl_conv_new(const struct setl_reader *r, struct setl_conv **out);
void setl_conv_free(struct setl_conv *cv);
const struct setl_keys *setl_conv_keys(const struct setl_conv *cv);
/* Ends per deferred row: the CSV header's columns; 0 for JSON lines. */
size_t setl_reader_ncols(const struct setl_reader *r);
/* The whole input when it is a regular file read through a mapping: *data
 * (valid until setl_reader_free()) and *len; false otherwise. Lets a caller
 * fault the mapping in ahead of the reading (madvise), nothing else. */
bool setl_reader_mapping(const struct setl_reader *r, const char **data, size_t *len);
enum hmb_status setl_reader_split(struct setl_reader *r, struct settlement *s, const char **row,
                                  uint32_t *ends, bool *deferred, bool *eof, struct hmb_err *err);
enum hmb_status setl_reader_convert(const struct setl_reader *r, struct setl_conv *cv,
                                    const char *row, const uint32_t *ends, unsigned long line,
                                    struct settlement *s, struct hmb_err *err);

/*
 * The settlement of the CSV row of r's mapping (setl_reader_mapping()) that
 * holds the byte at `at`, converted again into *s as setl_reader_convert()
 * did (with cv, without its detail lines: s->lines is NULL). For a caller
 * that kept only where a row's setl_id is (hmb adjudicate's records of
 * settlements that added nothing) and needs the row back, rarely: for its
 * reversal. The row must be one that was split for conversion before
 * (setl_reader_split()); anything else is a bug.
 */
enum hmb_status setl_reader_reread(const struct setl_reader *r, struct setl_conv *cv,
                                   const char *at, struct settlement *s, struct hmb_err *err);

/* The (first) line number of the row last returned or rejected; 0 before any. */
unsigned long setl_reader_line(const struct setl_reader *r);

/* The format actually read (never SETL_FMT_AUTO). */
enum setl_format setl_reader_format(const struct setl_reader *r);

/*
 * Detail setl_ids that no settle row has matched so far (final once eof is
 * reached); *nlines, when not NULL, receives the number of their lines.
 */
size_t setl_reader_unmatched_details(const struct setl_reader *r, size_t *nlines);

/*
 * Errors of the details file that could not be tied to a settlement (no
 * readable setl_id). Returns their total number; *errs receives the first
 * *nstored of them (at most 100), owned by the reader.
 */
size_t setl_reader_detail_errors(const struct setl_reader *r, const struct hmb_err **errs,
                                 size_t *nstored);

void setl_reader_free(struct setl_reader *r);

/*
 * Parse one JSON-lines record from line[0..len) (no NUL needed; a trailing
 * "\r" or spaces are allowed). Fills every field of *s, sets s->lines =
 * lines and s->nlines to the number of "details" (at most max_lines, else
 * HMB_TOO_LARGE). Errors name the key ("medfee_sumamt", "details[2].cnt")
 * or the byte column ("@17") of a syntax error.
 */
enum hmb_status setl_parse_json_line(const char *line, size_t len, struct settlement *s,
                                     struct setl_line *lines, size_t max_lines,
                                     struct hmb_err *err);

/*
 * Exact decimal quantities: "-?digits(.d{1,4})?" into units of 10^-4, at
 * most 10^11 units in magnitude.
 */
enum hmb_status setl_parse_cnt(const char *s, size_t len, int64_t *out_e4, const char *field,
                               struct hmb_err *err);

/*
 * csvr - the CSV row scanner (RFC 4180) under the readers of io/.
 *
 * A header row is read at open; csvr_next() then returns data rows as
 * arrays of exactly csvr_ncols() fields. Fields point into the mapped file,
 * the read window or a scratch buffer (quoted fields with "" escapes) and
 * stay valid until the next call. Field and row limits are SETL_FIELD_MAX
 * and SETL_ROW_MAX. A row error (bad quoting, wrong number of fields, a
 * limit) is returned with err->field = "PATH:LINE[:COLUMN]" and the scanner
 * positioned on the next row.
 */
struct csvr;

struct csvr_field {
  const char *p;
  size_t len;
};

enum hmb_status csvr_open(struct csvr **out, const char *path, struct hmb_err *err);
/* data is borrowed and must outlive the scanner. */
enum hmb_status csvr_open_mem(struct csvr **out, const char *name, const char *data, size_t len,
                              struct hmb_err *err);
size_t csvr_ncols(const struct csvr *c);
/* Name of column i as written in the header (trimmed of spaces), NUL-terminated. */
const char *csvr_colname(const struct csvr *c, size_t i);
enum hmb_status csvr_next(struct csvr *c, const struct csvr_field **fields, bool *eof,
                          struct hmb_err *err);
/* Line number where the last returned (or rejected) row starts. */
unsigned long csvr_line(const struct csvr *c);
/* Rows left, guessed from the lines of the next 64 KiB and the bytes left,
 * for sizing tables; 0 when unknown (a stream). */
size_t csvr_estimate_rows(const struct csvr *c);
/*
 * Rewrite err->field ("psn_no", or "" for the whole row) as
 * "PATH:LINE:psn_no" for the last row.
 */
void csvr_locate(const struct csvr *c, struct hmb_err *err);
/* csvr_locate() for an earlier row, starting at `line`. */
void csvr_locate_line(const struct csvr *c, unsigned long line, struct hmb_err *err);
void csvr_free(struct csvr *c);

/* true when s[0..n) is valid UTF-8 without C0 controls or DEL. */
bool setl_text_ok(const char *s, size_t n);

#endif /* HMB_SETL_READER_H */

/*
 * err.h - the one status enum of hmb and the error object that carries details.
 *
 * Every fallible function returns enum hmb_status (HMB_OK == 0) and, when it
 * fails because of its input, fills a caller-provided struct hmb_err with a
 * stable English code for machines, the field path that is wrong (a JSON path
 * such as "responsibilities[2].ratio" or a CSV column name) and a message for
 * people, in Chinese. The error object is plain data owned by the caller: it
 * holds no pointers and needs no release. Passing err == NULL is allowed and
 * discards the details.
 */
#ifndef HMB_ERR_H
#define HMB_ERR_H

#include "compat.h"

enum hmb_status {
  HMB_OK = 0,
  HMB_INVALID,     /* bad input; err names the field */
  HMB_NOMEM,       /* allocation failed */
  HMB_IO,          /* read or write failed */
  HMB_TOO_LARGE,   /* input over a hard size limit */
  HMB_NOT_FOUND,   /* referenced thing does not exist */
  HMB_CONFLICT,    /* duplicate or contradicting state (e.g. setl_id seen twice) */
  HMB_OVERFLOW,    /* an amount or accumulator left its allowed range */
  HMB_UNSUPPORTED, /* valid but not handled here */
};

#define HMB_ERR_CODE_MAX  48
#define HMB_ERR_FIELD_MAX 160
#define HMB_ERR_MSG_MAX   384

struct hmb_err {
  enum hmb_status status;
  char code[HMB_ERR_CODE_MAX];
  char field[HMB_ERR_FIELD_MAX];
  char message[HMB_ERR_MSG_MAX];
};

/* Clear an error object to "no error". Inline: the adjudicating pipeline
 * calls it three times per row (10M rows: 30M calls). */
static inline void hmb_err_init(struct hmb_err *err)
{
  if (!err)
    return;
  err->status = HMB_OK;
  err->code[0] = err->field[0] = err->message[0] = '\0';
}

/*
 * Record an error and return its status, so a caller can write
 * `return hmb_err_set(err, HMB_INVALID, "money.decimals", field, "...")`.
 * field may be NULL. Strings are truncated to the buffers' sizes (at a UTF-8
 * character boundary) rather than overflowing.
 */
enum hmb_status hmb_err_set(struct hmb_err *err, enum hmb_status status, const char *code,
                            const char *field, const char *fmt, ...) HMB_PRINTF(5, 6);

/*
 * Prefix the field path with `prefix` (e.g. "premiums" + "bands[0].amount"
 * gives "premiums.bands[0].amount"; a field starting with '[' is joined
 * without a dot). Does nothing when err is NULL.
 */
void hmb_err_prefix(struct hmb_err *err, const char *prefix);

/* Stable English name of a status, e.g. "invalid". */
const char *hmb_status_name(enum hmb_status status);

/* Truncate s in place to at most max bytes - 1 without cutting a UTF-8 sequence. */
void hmb_utf8_truncate(char *s, size_t max);

#endif /* HMB_ERR_H */

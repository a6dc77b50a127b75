/*
 * money.h - money as int64 fen and ratios as integer basis points.
 *
 * No floating point touches money anywhere in hmb. Amounts in text are
 * decimal yuan with at most two decimals ("16000", "89.5", "-12.34") and are
 * parsed exactly. Ratios are basis points (1 bp = 0.01%, 10000 bp = 100%),
 * written in text as percentages with at most two decimals ("80%", "12.5%").
 *
 * The one rounding rule: a product of an amount and a ratio is rounded half
 * away from zero to the fen (四舍五入), computed exactly in 128 bits.
 */
#ifndef HMB_MONEY_H
#define HMB_MONEY_H

#include "err.h"

typedef int64_t hmb_fen;
typedef int32_t hmb_bp;

/* Hard limit on one amount: 10^14 fen (one trillion yuan). Products with a
 * ratio or a weight then stay far inside int64 and i128. */
#define HMB_FEN_LIMIT INT64_C(100000000000000)
#define HMB_BP_ONE    10000

/* Longest text money_format() writes, with the terminating NUL. */
#define HMB_MONEY_TEXT_MAX 24

/*
 * Parse decimal yuan from s[0..len) into *out fen. Accepts an optional '-',
 * digits, and an optional '.' followed by one or two digits. Rejects empty
 * text, spaces, '+', exponents, more than two decimals, and magnitudes above
 * HMB_FEN_LIMIT, with err naming `field`. *out is untouched on failure.
 */
enum hmb_status money_parse(const char *s, size_t len, hmb_fen *out, const char *field,
                            struct hmb_err *err);

/* Like money_parse() but also rejects negative amounts. */
enum hmb_status money_parse_nonneg(const char *s, size_t len, hmb_fen *out, const char *field,
                                   struct hmb_err *err);

/*
 * Write fen as yuan with exactly two decimals ("1234.50", "-0.05") into buf,
 * which must hold HMB_MONEY_TEXT_MAX bytes. Returns the length written.
 */
size_t money_format(hmb_fen v, char *buf);

/*
 * Parse a percentage ("80%", "12.5%", "0%", "100%") into basis points. The
 * '%' is required; at most two decimals; 0..100%. Codes are ratio.*.
 */
enum hmb_status ratio_parse(const char *s, size_t len, hmb_bp *out, const char *field,
                            struct hmb_err *err);

/* Write basis points as a percentage ("80%", "12.5%", "7.25%"); buf >= 16 bytes. */
size_t ratio_format(hmb_bp bp, char *buf);

/* amount x bp / 10000, rounded half away from zero. */
hmb_fen money_apply_bp(hmb_fen amount, hmb_bp bp);

/*
 * Round a value held in units of 1/10000 fen to the fen, half away from
 * zero. The engine keeps weighted amounts in these units so that weights
 * never lose a fraction before the year's total is known.
 */
static inline hmb_fen money_round_bpfen(hmb_i128 v)
{
  hmb_i128 q = v >= 0 ? (v + 5000) / 10000 : -((-v + 5000) / 10000);
  return (hmb_fen)q;
}

/* Checked addition within +-HMB_FEN_LIMIT; false when out of range. */
static inline bool money_add_ok(hmb_fen a, hmb_fen b, hmb_fen *sum)
{
  hmb_fen s = a + b; /* cannot overflow int64: both are within 1e14 */
  if (s > HMB_FEN_LIMIT || s < -HMB_FEN_LIMIT)
    return false;
  *sum = s;
  return true;
}

/*
 * Parse a decimal integer with range check (the replacement of atoi).
 * Accepts an optional '-' and digits only.
 */
enum hmb_status str_to_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out,
                           const char *field, struct hmb_err *err);

#endif /* HMB_MONEY_H */

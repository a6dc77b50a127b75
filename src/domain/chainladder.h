/*
 * chainladder.h - mid-year loss-ratio projection by the chain-ladder method
 * on monthly development (docs/actuarial.md, "Mid-year projection
 * (chain-ladder)").
 *
 * Pure arithmetic: no I/O, no store. The caller adds paid claims one by one
 * (accident month, payment month, net amount in fen) into a struct
 * cl_triangle for one product year and one valuation month, then
 * cl_project() answers: the cumulative run-off triangle, the
 * volume-weighted age-to-age factors, the cumulative-to-ultimate factors,
 * ultimate claims and IBNR per accident month, and the projected loss ratio
 * (赔付率) against a target range, with a verdict in Chinese.
 *
 * Months
 * ------
 * The product year is 12 accident months from its first month (usually
 * January). An accident month is the month of the settlement or visit
 * (setl_time); the payment month is the month the claim was paid or
 * reported. Development lag = payment month - accident month (0 = paid in
 * the accident month). The valuation month is the last month with data and
 * is taken as complete. With valuation month index v (0 = the first month
 * of the year), accident month i (0..11) is observed at lags 0..v-i; months
 * with i > v have not happened yet. v may run past the year's end, up to
 * CL_LAGS_MAX - 1 (run-off of the year in the following years).
 *
 * Method
 * ------
 * C[i][L] is the cumulative net paid of accident month i up to lag L. The
 * factor from lag j to j+1 is f[j] = sum C[i][j+1] / sum C[i][j] over the
 * accident months observed at both lags (j = 0..v-1). The
 * cumulative-to-ultimate factor of lag L is cdf[L] = f[L] x ... x f[v-1] x
 * tail (cdf[v] = tail). An elapsed accident month's ultimate is
 * U[i] = C[i][v-i] x cdf[v-i] and its IBNR is U[i] - C[i][v-i].
 *
 * Exact arithmetic and the rounding rule
 * --------------------------------------
 * Money is int64 fen; no floating point. Factors are fixed point in units
 * of 1/CL_SCALE (10^-12):
 *   1. f[j] = num/den rounded half up to 10^-12 (num >= 0, den > 0);
 *   2. cdf[v] = tail; cdf[L] = cdf[L+1] x f[L] rounded half up to 10^-12,
 *      from the oldest lag down (one rounding per step);
 *   3. U[i] = C[i][v-i] x cdf[v-i] rounded half away from zero to the fen,
 *      once (money.h's rule);
 *   4. sums of fen are exact; a loss ratio is rounded half away from zero
 *      to the basis point, once, from the exact fen totals.
 * Products are formed in 128 bits. Bounds: a record and a cell are within
 * +-HMB_FEN_LIMIT (10^14 fen), so a cumulative amount is within 4.8x10^15
 * and a column sum within 5.8x10^16; num x CL_SCALE < 10^29; factors and
 * cdf are at most CL_FACTOR_MAX (10^18 units), so cdf x f < 10^36 and
 * C x cdf < 4.8x10^33, all inside int128 (1.7x10^38). Ultimates are kept
 * within +-CL_AMOUNT_LIMIT. A national year (10^13 fen per cell) is far
 * inside every bound. The fixed point differs from exact rational
 * arithmetic by at most about (v+1) x 10^-12 x cdf relative to an
 * ultimate: under one fen for a city year (see the test's reference).
 *
 * Zero and negative sums
 * ----------------------
 * Net amounts may be negative (reversals, 冲销); a cell, a cumulative
 * amount and an ultimate may be negative. A factor is:
 *   CL_FACTOR_OK        den > 0 and num >= 0: the rounded ratio;
 *   CL_FACTOR_NO_DATA   num == 0 and den == 0 (nothing paid at either lag):
 *                       1, nothing develops;
 *   CL_FACTOR_UNDEFINED den <= 0 otherwise, or num < 0: no meaning;
 *   CL_FACTOR_TOO_LARGE above CL_FACTOR_MAX.
 * Only factors some elapsed accident month needs (lags v-min(v,11) .. v-1)
 * must be usable: cl_project() fails on an undefined or too large factor
 * only when it is needed, naming it ("factors[j]").
 *
 * Premium and loss ratios
 * -----------------------
 * Either the year's written premium, earned evenly by month (the first E
 * months earn premium x E / 12, rounded half away from zero to the fen), or
 * the earned premium of each month. With E = min(v+1, 12) elapsed months:
 *   lr_earned  = sum U / earned premium of the E months (满期赔付率): the
 *                projected year loss ratio, assuming the months still to
 *                come run at the same ratio; the verdict uses it;
 *   lr_written = sum U / the year's premium (equals lr_earned when E = 12);
 *   lr_paid    = sum paid / earned premium of the E months;
 *   ultimate_year = sum U x year premium / earned premium (fen).
 *
 * Error codes (HMB_INVALID unless noted) and their fields:
 *   cl.year             year          first month of the year not valid
 *   cl.valuation        valuation     before the year, or CL_LAGS_MAX months after
 *   cl.month            month         accident month index outside 0..11
 *   cl.lag              lag           lag < 0 or after the valuation
 *   cl.accident_outside accident_date accident month outside the product year
 *   cl.paid_before      paid_date     paid before the accident month
 *   cl.after_valuation  paid_date     paid after the valuation month
 *   cl.amount           amount        beyond +-HMB_FEN_LIMIT
 *   cl.cell_range       amount        HMB_OVERFLOW: a cell's net sum beyond it
 *   cl.empty            claims        no record added
 *   cl.premium          premium       year premium <= 0, a month's < 0 or beyond
 *                                     HMB_FEN_LIMIT (premium[i])
 *   cl.premium_earned   premium       nothing earned in the elapsed months
 *   cl.tail             tail          tail factor <= 0 or above CL_FACTOR_MAX
 *   cl.target           target        not 0 <= low <= high <= CL_RATIO_MAX
 *   cl.factor_undefined factors[j]    a needed factor with den <= 0 or num < 0
 *   cl.factor_range     factors[j]    HMB_OVERFLOW: a needed factor too large
 *   cl.cdf_range        cdf[L]        HMB_OVERFLOW: a cumulative factor too large
 *   cl.ultimate_range   ultimate[i]   HMB_OVERFLOW: beyond +-CL_AMOUNT_LIMIT
 *   cl.ratio_range      premium       HMB_OVERFLOW: ratio beyond CL_RATIO_MAX
 * and for the claims file (cl_columns_find, cl_claim_parse): cl.column (a
 * required column missing), cl.column_twice (two names of one column),
 * cl.status, plus the codes of datetime_parse() and money_parse(). The text
 * parsers use cl.month_syntax, cl.factor_syntax, cl.factor_value and
 * cl.target with the field the caller names.
 *
 * Ownership: every struct here is plain data without pointers to heap
 * memory and needs no release; the caller owns it (a struct cl_projection
 * is about 8 KiB: fine on the stack). Pointers passed in are borrowed for
 * the call only, except that struct cl_columns keeps the header names it
 * was given (borrowed: they must outlive its use for error fields).
 * Functions are thread-safe on distinct objects.
 */
#ifndef HMB_CHAINLADDER_H
#define HMB_CHAINLADDER_H

#include "date.h"
#include "money.h"

#define CL_MONTHS          12
#define CL_LAGS_MAX        48                     /* lags 0..47: valuation up to 47 months on */
#define CL_SCALE           INT64_C(1000000000000) /* factor units: 10^-12 */
#define CL_FACTOR_MAX      (INT64_C(1000000) * CL_SCALE) /* a factor of at most 10^6 */
#define CL_AMOUNT_LIMIT    INT64_C(10000000000000000)    /* 10^16 fen per ultimate */
#define CL_YEAR_LIMIT      INT64_C(100000000000000000)   /* 10^17 fen for a year's projection */
#define CL_RATIO_MAX       INT64_C(100000000)            /* 10^8 bp = 1,000,000% */
#define CL_MESSAGE_MAX     384
#define CL_FACTOR_TEXT_MAX 32
#define CL_MONTH_TEXT_MAX  16 /* "YYYY-MM" + NUL, room for any int year */

/* Default target range of cl_params_init(): 75%..85%. */
#define CL_TARGET_LO_DEFAULT 7500
#define CL_TARGET_HI_DEFAULT 8500

/*
 * The incremental run-off triangle of one product year at one valuation.
 * inc[i][L] is the net paid of accident month i at lag L; only cells with
 * i + L <= valuation are ever non-zero.
 */
struct cl_triangle {
  int start;     /* first month of the year as year * 12 + month - 1 */
  int valuation; /* valuation month index, 0-based from start */
  uint64_t nrecords;
  uint64_t nnegative; /* records with a negative amount (reversals) */
  hmb_fen inc[CL_MONTHS][CL_LAGS_MAX];
};

/*
 * Set t up, empty, for the product year starting in start_year-start_month
 * and the valuation month val_year-val_month (cl.year, cl.valuation). t is
 * untouched on failure.
 */
enum hmb_status cl_triangle_init(struct cl_triangle *t, int start_year, int start_month,
                                 int val_year, int val_month, struct hmb_err *err);

/*
 * Add a net paid amount to accident month `month` (0..11) at lag `lag`
 * (cl.month, cl.lag, cl.amount, cl.cell_range). t is untouched on failure.
 */
enum hmb_status cl_triangle_add_cell(struct cl_triangle *t, int month, int lag, hmb_fen amount,
                                     struct hmb_err *err);

/*
 * Add one paid claim by dates: the accident date (settlement or visit) and
 * the payment or report date; only their months count. Errors name
 * accident_date, paid_date or amount (cl.accident_outside, cl.paid_before,
 * cl.after_valuation, cl.amount, cl.cell_range). t is untouched on failure.
 */
enum hmb_status cl_triangle_add(struct cl_triangle *t, hmb_date accident, hmb_date paid,
                                hmb_fen amount, struct hmb_err *err);

/* Write accident month i of t (any int) as "YYYY-MM"; buf holds CL_MONTH_TEXT_MAX. */
size_t cl_month_format(const struct cl_triangle *t, int i, char *buf);

struct cl_params {
  bool premium_by_month;            /* false: premium_year, earned evenly by month */
  hmb_fen premium_year;             /* the year's written premium (> 0) */
  hmb_fen premium_month[CL_MONTHS]; /* earned premium of each month (>= 0) */
  int64_t tail;                     /* tail factor in 1/CL_SCALE; CL_SCALE = none */
  int64_t target_lo, target_hi;     /* target loss-ratio range in bp, inclusive */
};

/* No premium (the caller must set one), no tail, target 75%..85%. */
void cl_params_init(struct cl_params *p);

enum cl_factor_state {
  CL_FACTOR_OK = 0,
  CL_FACTOR_NO_DATA,   /* 0 / 0: taken as 1 */
  CL_FACTOR_UNDEFINED, /* den <= 0 (not 0/0) or num < 0 */
  CL_FACTOR_TOO_LARGE, /* above CL_FACTOR_MAX */
};

/* "ok", "no_data", "undefined", "too_large". */
const char *cl_factor_state_name(enum cl_factor_state s);

struct cl_factor {
  enum cl_factor_state state;
  int64_t value; /* 1/CL_SCALE units: the factor, CL_SCALE for NO_DATA, 0 otherwise */
  hmb_fen num;   /* sum of C[i][j+1] over the months observed at both lags */
  hmb_fen den;   /* sum of C[i][j] over the same months */
  int months;    /* how many accident months */
  bool needed;   /* some elapsed accident month's cdf uses it */
};

enum cl_verdict { CL_VERDICT_BELOW = 0, CL_VERDICT_WITHIN, CL_VERDICT_ABOVE };

/* "below", "within", "above". */
const char *cl_verdict_name(enum cl_verdict v);

struct cl_projection {
  int valuation; /* v: lags 0..v are columns of the triangle */
  int elapsed;   /* E = min(v + 1, 12) accident months observed */
  /* cumulative paid; valid where i < elapsed and L <= v - i, 0 elsewhere */
  hmb_fen cum[CL_MONTHS][CL_LAGS_MAX];
  struct cl_factor factor[CL_LAGS_MAX]; /* j = 0..v-1: lag j -> j+1 */
  int64_t tail;
  int64_t cdf[CL_LAGS_MAX]; /* lags v-E+1..v; 0 for lags no month needs */
  /* per accident month; 0 for months not elapsed */
  int lag[CL_MONTHS]; /* latest observed lag, -1 when not elapsed */
  hmb_fen paid[CL_MONTHS], ultimate[CL_MONTHS], ibnr[CL_MONTHS];
  hmb_fen premium[CL_MONTHS]; /* earned premium of each month (all 12) */
  hmb_fen paid_total, ultimate_total, ibnr_total;
  hmb_fen premium_year, premium_earned;
  hmb_fen ultimate_year;                  /* projected claims of the whole year */
  int64_t lr_earned, lr_written, lr_paid; /* bp */
  int64_t target_lo, target_hi;           /* bp */
  enum cl_verdict verdict;                /* of lr_earned against the target */
  char message[CL_MESSAGE_MAX];           /* the verdict for people, Chinese */
};

/*
 * Project the year from t with params p into *out. Fails with the codes
 * above (cl.empty, cl.premium*, cl.tail, cl.target, cl.factor_*,
 * cl.cdf_range, cl.ultimate_range, cl.ratio_range); *out is then
 * unspecified. t and p are only read.
 */
enum hmb_status cl_project(const struct cl_triangle *t, const struct cl_params *p,
                           struct cl_projection *out, struct hmb_err *err);

/*
 * Parse a factor ("1.05", "1", "0.987654321012"): digits with up to 12
 * decimals, greater than 0 and at most CL_FACTOR_MAX (cl.factor_syntax,
 * cl.factor_value), into 1/CL_SCALE units. *out untouched on failure.
 */
enum hmb_status cl_factor_parse(const char *s, size_t len, int64_t *out, const char *field,
                                struct hmb_err *err);

/*
 * Write a factor (1/CL_SCALE units, >= 0) with `decimals` decimals (0..12),
 * rounded half up: cl_factor_format(3490606547932, 4, buf) is "3.4906".
 * buf holds CL_FACTOR_TEXT_MAX bytes. Returns the length.
 */
size_t cl_factor_format(int64_t v, int decimals, char *buf);

/*
 * Parse "YYYY-MM" (years 1900..2199) into *year and *month (cl.month_syntax).
 * Untouched on failure.
 */
enum hmb_status cl_month_parse(const char *s, size_t len, int *year, int *month, const char *field,
                               struct hmb_err *err);

/*
 * Parse a target range: "7500-8500" in basis points or "75%-85%" in
 * percent with up to two decimals; low <= high, both within 0..CL_RATIO_MAX
 * (percent: 0..100%). Code cl.target. Untouched on failure.
 */
enum hmb_status cl_target_parse(const char *s, size_t len, int64_t *lo, int64_t *hi,
                                const char *field, struct hmb_err *err);

/*
 * The claims file (docs/actuarial.md): a CSV header names the columns
 *   accident: setl_time or accident_date   (date or date-time)
 *   paid:     paid_date or report_date     (date or date-time)
 *   amount:   amount or payout             (decimal yuan, may be negative)
 *   status:   status, optional             (hmb adjudicate --out: "error"
 *                                           rows are skipped; "ok",
 *                                           "reversal" or empty are used)
 * Other columns are ignored, so hmb adjudicate's result file with a
 * setl_time and a paid_date column added is read as it is.
 */
enum cl_col { CL_COL_ACCIDENT = 0, CL_COL_PAID, CL_COL_AMOUNT, CL_COL_STATUS, CL_COL_COUNT };

struct cl_columns {
  int index[CL_COL_COUNT];        /* column number in the file, -1 absent */
  const char *name[CL_COL_COUNT]; /* the header's name (borrowed), or the first alias */
};

/*
 * Find the columns among the n header names (borrowed, kept in c->name).
 * A missing required column is cl.column naming the first alias
 * ("setl_time"); two names of one column (setl_time and accident_date) are
 * cl.column_twice. c is fully written either way.
 */
enum hmb_status cl_columns_find(struct cl_columns *c, const char *const *names, size_t n,
                                struct hmb_err *err);

struct cl_span {
  const char *p;
  size_t len;
};

struct cl_claim {
  hmb_date accident, paid;
  hmb_fen amount;
  bool skip; /* a status "error" row: not a claim, the rest is not read */
};

/*
 * Parse one row's fields (field[k] is the text of column k of enum cl_col;
 * an absent status column is an empty span). Errors name the column as the
 * header does. *out is unspecified on failure.
 */
enum hmb_status cl_claim_parse(struct cl_claim *out, const struct cl_columns *c,
                               const struct cl_span field[CL_COL_COUNT], struct hmb_err *err);

#endif /* HMB_CHAINLADDER_H */

/*
 * idno.h - resident identity numbers (公民身份号码, GB 11643-1999).
 *
 * An identity number is 18 characters: a 6-digit administrative region of
 * first registration, the birth date YYYYMMDD, a 3-digit sequence whose last
 * digit is odd for men and even for women, and a check character (0-9 or X)
 * computed by ISO 7064 MOD 11-2. A lowercase 'x' is accepted as 'X'.
 * 15-digit numbers issued before 1999 are rejected: 医保 settlement data
 * always carries the 18-digit form.
 *
 * Personal data: an identity number must never reach a log or an error
 * message in clear. Messages written here never quote the number; use
 * idno_mask() to show one in a log.
 */
#ifndef HMB_IDNO_H
#define HMB_IDNO_H

#include "date.h"
#include "err.h"

#define IDNO_LEN 18
/* Buffer size for idno_mask() of an 18-character number. */
#define IDNO_MASK_MAX (IDNO_LEN + 1)

struct idno_info {
  char region[7]; /* 6 digits of the region code, NUL-terminated */
  hmb_date birth;
  char sex; /* 'M' or 'F' */
};

/*
 * Check s[0..len) and fill *out (untouched on failure). Checks, in order, each
 * with its own err->code:
 *
 *   idno.legacy15  a 15-digit number of the pre-1999 form
 *   idno.length    not 18 characters
 *   idno.char      a non-digit among the first 17, or a last one not 0-9/X
 *   idno.region    the first two digits are not a province-level code
 *                  (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81-83;
 *                  83 is used by residence permits of Taiwan residents)
 *   idno.birth     digits 7-14 are not a real date in 1900..2199
 *   idno.checksum  the check character is wrong (the message names the
 *                  right one)
 *
 * A birth date in the future is not detected here: compare out->birth with
 * the date that matters to the caller.
 */
enum hmb_status idno_parse(const char *s, size_t len, struct idno_info *out, const char *field,
                           struct hmb_err *err);

/* Whether idno_parse() would accept s[0..len). */
bool idno_valid(const char *s, size_t len);

/*
 * Write a masked copy of s[0..len) for logs into out (outsz bytes, always
 * NUL-terminated when outsz > 0, truncated if needed): the first 6 and the
 * last 4 characters are kept and the rest become '*', so an 18-character
 * number gives "371502********123X". Input of 10 characters or fewer is
 * masked entirely, and a kept byte that is not an ASCII letter or digit is
 * written as '*', so the output is always plain ASCII.
 */
void idno_mask(const char *s, size_t len, char *out, size_t outsz);

#endif /* HMB_IDNO_H */

/*
 * uscc.h - unified social credit codes (统一社会信用代码, GB 32100-2015).
 *
 * Every legal entity in China (companies, hospitals, insurers, social
 * organizations) has one 18-character code:
 *
 *   position 1      registration authority (1-9, A, N, Y)
 *   position 2      entity category (a digit 1-9)
 *   positions 3-8   administrative region of registration (6 digits)
 *   positions 9-17  organization code (GB 11714)
 *   position 18     check character
 *
 * Characters come from "0123456789ABCDEFGHJKLMNPQRTUWXY" (I, O, Z, S and V
 * are never used). The check character is the one at index
 * 31 - (sum mod 31) (31 becoming 0), where sum weights the values of
 * positions 1..17 by 3^(i-1) mod 31.
 */
#ifndef HMB_USCC_H
#define HMB_USCC_H

#include "err.h"

#define USCC_LEN 18

/*
 * Check s[0..len) and write it, with lowercase letters made uppercase and a
 * terminating NUL, into out (untouched on failure). Checks, in order, each
 * with its own err->code:
 *
 *   uscc.length     not 18 characters
 *   uscc.char       a character outside the charset (I, O, Z, S, V, spaces,
 *                   punctuation, ...)
 *   uscc.authority  position 1 not a registration authority (1-9, A, N, Y)
 *                   or position 2 not a category digit (1-9)
 *   uscc.region     positions 3-8 not a region code: 6 digits whose first
 *                   two are a province-level code or 10 (central level)
 *   uscc.checksum   the check character is wrong (the message names the
 *                   right one)
 */
enum hmb_status uscc_parse(const char *s, size_t len, char out[USCC_LEN + 1], const char *field,
                           struct hmb_err *err);

/* Whether uscc_parse() would accept s[0..len). */
bool uscc_valid(const char *s, size_t len);

#endif /* HMB_USCC_H */

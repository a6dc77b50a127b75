/*
 * synth_csv.h - the CSV text of hmb gen's records (domain/synth.h), in the
 * formats the rest of hmb reads:
 *
 *   roster      `hmb roster import` (service/roster.c): psn_no, certno,
 *               psn_name, insutype, admdvs, status, status_date, gend, brdy,
 *               emp_uscc, family_id, relation, veteran_year, groups
 *   people      `--people FILE` (io/people.h): psn_no, insutype, brdy, gend,
 *               preexisting, loyalty_years, claim_free_years, groups,
 *               family_id
 *   settlements io/setl_reader.h, the columns of bench/gen_settlements.c:
 *               setl_id, mdtrt_id, psn_no, insutype, psn_type, med_type,
 *               setl_time and the fourteen amounts
 *   details     setl_id, med_list_codg, chrgitm_lv, det_item_fee_sumamt,
 *               fulamt_ownpay_amt, overlmt_amt, preselfpay_amt,
 *               inscp_scp_amt, cnt
 *
 * Amounts are written with exactly two decimals, dates as YYYY-MM-DD, every
 * line ends in "\n". No field needs quoting (names are CJK characters).
 *
 * The writers format into the caller's memory: each writes at most
 * SYNTH_CSV_ROW_MAX bytes at `out` and returns the end of what it wrote
 * (no NUL). They do no I/O and allocate nothing.
 */
#ifndef HMB_SYNTH_CSV_H
#define HMB_SYNTH_CSV_H

#include "synth.h"

#define SYNTH_CSV_ROW_MAX 4096

extern const char synth_csv_roster_header[];
extern const char synth_csv_people_header[];
extern const char synth_csv_setl_header[];
extern const char synth_csv_detail_header[];

/* Formatting context: the configuration (borrowed) and the year's dates. */
struct synth_csv {
  const struct synth_config *cfg;
  char day_text[366][11]; /* "YYYY-MM-DD " of each day of the year */
};

void synth_csv_init(struct synth_csv *w, const struct synth_config *c);

char *synth_csv_roster(const struct synth_csv *w, const struct synth_person *p, char *out);
/* For an enrolled person. */
char *synth_csv_people(const struct synth_csv *w, const struct synth_person *p, char *out);
char *synth_csv_setl(const struct synth_csv *w, const struct synth_setl *s, char *out);
/* The settlement's detail lines (nothing when it has none). */
char *synth_csv_details(const struct synth_csv *w, const struct synth_setl *s, char *out);

/*
 * The writers' number formatting, also used by bench/gen_settlements.c:
 * each writes at p and returns the end of what it wrote (no NUL).
 */

/* The low `width` decimal digits of v, zero-padded. */
static inline char *synth_csv_put_digits(char *p, uint64_t v, int width)
{
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

/* v in decimal. */
static inline char *synth_csv_put_u64(char *p, uint64_t v)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    *p++ = tmp[--n];
  return p;
}

/* fen (>= 0: the generators make no negative amounts) as yuan with two decimals. */
static inline char *synth_csv_put_money(char *p, int64_t fen)
{
  ASSERT(fen >= 0);
  p = synth_csv_put_u64(p, (uint64_t)fen / 100);
  *p++ = '.';
  return synth_csv_put_digits(p, (uint64_t)fen % 100, 2);
}

/* d as YYYY-MM-DD. */
char *synth_csv_put_date(char *p, hmb_date d);

/* sec seconds after midnight (< 86400) as HH:MM:SS. */
static inline char *synth_csv_put_clock(char *p, uint32_t sec)
{
  p = synth_csv_put_digits(p, sec / 3600, 2);
  *p++ = ':';
  p = synth_csv_put_digits(p, sec / 60 % 60, 2);
  *p++ = ':';
  return synth_csv_put_digits(p, sec % 60, 2);
}

#endif /* HMB_SYNTH_CSV_H */

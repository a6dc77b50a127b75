/*
 * date.h - civil dates and times without time zones.
 *
 * hmb works in China Standard Time throughout: settlement times from the
 * national platform are local civil times, so no zone arithmetic is done.
 * A date is the number of days since 1970-01-01 (proleptic Gregorian); a
 * time is seconds since 1970-01-01 00:00:00 of the same civil clock.
 * Supported years: 1900..2199.
 */
#ifndef HMB_DATE_H
#define HMB_DATE_H

#include "err.h"

typedef int32_t hmb_date;
typedef int64_t hmb_time;

#define HMB_DATE_TEXT_MAX     11 /* "YYYY-MM-DD" + NUL */
#define HMB_DATETIME_TEXT_MAX 20 /* "YYYY-MM-DD HH:MM:SS" + NUL */

bool date_valid(int y, int m, int d);
/* Days since the epoch; y/m/d must be valid (BUG otherwise). */
hmb_date date_from_ymd(int y, int m, int d);
void date_to_ymd(hmb_date date, int *y, int *m, int *d);
/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int date_weekday(hmb_date date);
int date_year(hmb_date date);

/* Parse "YYYY-MM-DD" (also "YYYYMMDD"). */
enum hmb_status date_parse(const char *s, size_t len, hmb_date *out, const char *field,
                           struct hmb_err *err);
/* Writes "YYYY-MM-DD"; buf holds HMB_DATE_TEXT_MAX bytes. */
size_t date_format(hmb_date date, char *buf);

/*
 * Parse "YYYY-MM-DD HH:MM:SS" (a 'T' may replace the space; a bare date is
 * midnight).
 */
enum hmb_status datetime_parse(const char *s, size_t len, hmb_time *out, const char *field,
                               struct hmb_err *err);
size_t datetime_format(hmb_time t, char *buf);
hmb_date time_date(hmb_time t);
static inline hmb_time date_time(hmb_date d)
{
  return (hmb_time)d * 86400;
}

/* Completed years of age on `on` for someone born on `birth` (29 Feb birthdays
 * turn over on 1 Mar in common years). Negative when on < birth. */
int date_age_on(hmb_date birth, hmb_date on);

#endif /* HMB_DATE_H */

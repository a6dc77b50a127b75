/*
 * workday.h - China's working-day calendar (法定节假日与调休).
 *
 * Deadlines in 惠民保 operations are counted in working days ("人工理赔材料
 * 齐全后 7 个工作日内赔付"). A working day is a day the State Council's
 * yearly notice makes one: Monday to Friday unless inside a public holiday,
 * plus the Saturdays and Sundays it names as make-up working days (调休上班).
 *
 * The calendar is data, not code: it is read from a TSV file
 * (data/holidays-cn.tsv, whose header documents the format) that declares
 * the years it covers. Outside those years the answer is unknown and every
 * checked function says so (HMB_NOT_FOUND); nothing is ever guessed from the
 * weekday alone.
 *
 * Usage:
 *
 *   struct workday_cal cal;
 *   workday_cal_init(&cal);
 *   if (workday_cal_load(&cal, "data/holidays-cn.tsv", &err))
 *     ... report err ...
 *   result = workday_add(&cal, received, 7, &deadline, &err);
 *   workday_cal_release(&cal);
 *
 * Ownership: the calendar owns its arrays; workday_cal_release() frees them
 * and leaves an empty calendar that may be parsed into again. A loaded
 * calendar is read-only and may be shared between threads.
 */
#ifndef HMB_WORKDAY_H
#define HMB_WORKDAY_H

#include "date.h"
#include "err.h"

/* Hard limit on the size of a calendar file. */
#define WORKDAY_TEXT_LIMIT ((size_t)1 << 20)
/* Longest range of one line, in days (the longest real one is 9). */
#define WORKDAY_RANGE_MAX 15

/*
 * The fields are private to workday.c; use the functions below. Covered
 * days are first..last (1 Jan of first_year .. 31 Dec of last_year); the
 * per-day arrays start at `base`, the 1st of December before, so that a range
 * reaching back into the previous year can still be checked for overlaps.
 */
struct workday_cal {
  int first_year, last_year; /* 0, 0 while empty */
  hmb_date base, first, last;
  size_t nr_days;
  unsigned char *kind; /* per day: 0 none, 1 holiday, 2 make-up workday */
  unsigned char *name; /* per day: index + 1 into names, 0 for none */
  char **names;
  size_t nr_names;
};

void workday_cal_init(struct workday_cal *cal);
void workday_cal_release(struct workday_cal *cal);

/*
 * Parse calendar text text[0..len) into cal, which must have been
 * initialized. `name` (a file name) is used in error fields:
 * a bad line is reported with err->field "name:LINE" (1-based line number)
 * and err->code one of
 *
 *   calendar.syntax     wrong number of fields, stray whitespace, NUL byte
 *   calendar.kind       KIND is neither holiday nor workday
 *   calendar.date       a date that is not YYYY-MM-DD or does not exist
 *   calendar.order      TO before FROM
 *   calendar.span       a range longer than WORKDAY_RANGE_MAX days
 *   calendar.years      a bad or repeated years line
 *   calendar.no_years   a range before the years line, or no years line
 *   calendar.range      a range outside the declared years (it may reach
 *                       back into the December before the first year, as
 *                       元旦 2022-12-31 of the 2023 notice; those days are
 *                       checked for overlaps but are not covered)
 *   calendar.overlap    a day named by two lines
 *   calendar.weekday    a workday line naming Monday..Friday (not 调休)
 *   calendar.name       a name that is not one of the seven festivals
 *   calendar.year_empty a declared year without any holiday line
 *
 * Input above WORKDAY_TEXT_LIMIT bytes is HMB_TOO_LARGE ("calendar.too_large"),
 * and HMB_NOMEM is possible. Whatever cal held before is released first; on
 * any failure cal is left empty.
 */
enum hmb_status workday_cal_parse(struct workday_cal *cal, const char *text, size_t len,
                                  const char *name, struct hmb_err *err);

/* Read the file at path (HMB_IO, HMB_TOO_LARGE) and parse it as above. */
enum hmb_status workday_cal_load(struct workday_cal *cal, const char *path, struct hmb_err *err);

/* Whether cal knows about d (d lies inside the declared years). */
bool workday_covers(const struct workday_cal *cal, hmb_date d);

/*
 * Whether d is a working day. d must be covered (workday_covers()); BUG()
 * otherwise. Use workday_check() for dates that come from input.
 */
bool workday_is_workday(const struct workday_cal *cal, hmb_date d);

/*
 * Like workday_is_workday() but returns HMB_NOT_FOUND (code
 * "workday.uncovered") when d lies outside the declared years.
 */
enum hmb_status workday_check(const struct workday_cal *cal, hmb_date d, bool *is_workday,
                              struct hmb_err *err);

/*
 * The date n working days after d into *out: counting starts the day after
 * d, so the answer is the n-th working day in (d, ...). n == 0 gives d itself.
 * Errors: n < 0 is HMB_INVALID ("workday.negative"); a walk that leaves the
 * covered years is HMB_NOT_FOUND ("workday.uncovered"). *out is untouched on
 * failure.
 */
enum hmb_status workday_add(const struct workday_cal *cal, hmb_date d, int n, hmb_date *out,
                            struct hmb_err *err);

/*
 * The number of working days in (from, to] into *out, so that
 * workday_add(from, n) == to implies workday_count(from, to) == n. from == to
 * gives 0; to < from is HMB_INVALID ("workday.order"); a day of the interval
 * outside the covered years is HMB_NOT_FOUND ("workday.uncovered").
 */
enum hmb_status workday_count(const struct workday_cal *cal, hmb_date from, hmb_date to, int *out,
                              struct hmb_err *err);

/*
 * The festival name of a public-holiday date ("春节", "中秋节、国庆节"), or
 * NULL when d is not a holiday or not covered. Make-up working days have no
 * name here. The string belongs to cal.
 */
const char *workday_name(const struct workday_cal *cal, hmb_date d);

#endif /* HMB_WORKDAY_H */

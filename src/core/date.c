#include "compat.h"
#include "date.h"

static bool is_leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool date_valid(int y, int m, int d)
{
  return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* Howard Hinnant's days_from_civil, restricted to years after 0. */
hmb_date date_from_ymd(int y, int m, int d)
{
  int era, yoe, doy, doe;
  if (!date_valid(y, m, d))
    BUG("invalid date %d-%d-%d", y, m, d);
  y -= m <= 2;
  era = y / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (hmb_date)(era * 146097 + doe - 719468);
}

void date_to_ymd(hmb_date date, int *y, int *m, int *d)
{
  int z = date + 719468;
  int era = z / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  int dd = doy - (153 * mp + 2) / 5 + 1;
  int mm = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (mm <= 2);
  *m = mm;
  *d = dd;
}

int date_year(hmb_date date)
{
  int y, m, d;
  date_to_ymd(date, &y, &m, &d);
  return y;
}

int date_weekday(hmb_date date)
{
  /* 1970-01-01 was a Thursday (4). */
  int w = (int)((date % 7 + 7 + 3) % 7);
  return w + 1;
}

static bool digits(const char *s, size_t n, int *out)
{
  int v = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

enum hmb_status date_parse(const char *s, size_t len, hmb_date *out, const char *field,
                           struct hmb_err *err)
{
  int y, m, d;
  bool ok;
  if (len == 10 && s[4] == '-' && s[7] == '-')
    ok = digits(s, 4, &y) && digits(s + 5, 2, &m) && digits(s + 8, 2, &d);
  else if (len == 8)
    ok = digits(s, 4, &y) && digits(s + 4, 2, &m) && digits(s + 6, 2, &d);
  else
    ok = false;
  if (!ok)
    return hmb_err_set(err, HMB_INVALID, "date.syntax", field, "日期格式错误：应为 YYYY-MM-DD");
  if (!date_valid(y, m, d))
    return hmb_err_set(err, HMB_INVALID, "date.invalid", field, "日期不存在：%04d-%02d-%02d", y, m,
                       d);
  *out = date_from_ymd(y, m, d);
  return HMB_OK;
}

size_t date_format(hmb_date date, char *buf)
{
  int y, m, d, n;
  date_to_ymd(date, &y, &m, &d);
  n = snprintf(buf, HMB_DATE_TEXT_MAX, "%04d-%02d-%02d", y, m, d);
  return n < 0 ? 0 : (size_t)n;
}

enum hmb_status datetime_parse(const char *s, size_t len, hmb_time *out, const char *field,
                               struct hmb_err *err)
{
  hmb_date d;
  int hh, mi, ss;
  enum hmb_status result;
  if (len == 10)
    result = date_parse(s, 10, &d, field, err);
  else if (len == 19 && (s[10] == ' ' || s[10] == 'T'))
    result = date_parse(s, 10, &d, field, err);
  else
    return hmb_err_set(err, HMB_INVALID, "datetime.syntax", field,
                       "时间格式错误：应为 YYYY-MM-DD HH:MM:SS");
  if (result)
    return result;
  if (len == 10) {
    *out = date_time(d);
    return HMB_OK;
  }
  if (s[13] != ':' || s[16] != ':' || !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mi) ||
      !digits(s + 17, 2, &ss))
    return hmb_err_set(err, HMB_INVALID, "datetime.syntax", field,
                       "时间格式错误：应为 YYYY-MM-DD HH:MM:SS");
  if (hh > 23 || mi > 59 || ss > 59)
    return hmb_err_set(err, HMB_INVALID, "datetime.invalid", field, "时间不存在");
  *out = date_time(d) + hh * 3600 + mi * 60 + ss;
  return HMB_OK;
}

hmb_date time_date(hmb_time t)
{
  hmb_time q = t / 86400;
  if (t % 86400 < 0)
    q--;
  return (hmb_date)q;
}

size_t datetime_format(hmb_time t, char *buf)
{
  hmb_date d = time_date(t);
  int64_t sec = t - date_time(d);
  int y, m, dd, n;
  date_to_ymd(d, &y, &m, &dd);
  n = snprintf(buf, HMB_DATETIME_TEXT_MAX, "%04d-%02d-%02d %02d:%02d:%02d", y, m, dd,
               (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
  return n < 0 ? 0 : (size_t)n;
}

int date_age_on(hmb_date birth, hmb_date on)
{
  int by, bm, bd, oy, om, od, age;
  date_to_ymd(birth, &by, &bm, &bd);
  date_to_ymd(on, &oy, &om, &od);
  age = oy - by;
  if (om < bm || (om == bm && od < bd))
    age--;
  return age;
}

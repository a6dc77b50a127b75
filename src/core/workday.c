#include "compat.h"
#include "workday.h"
#include "buf.h"
#include "money.h"

enum { DAY_NONE = 0, DAY_HOLIDAY = 1, DAY_WORKDAY = 2 };

/* Names a line may carry, alone or joined by "、" (U+3001). */
static const char *const festivals[] = {"元旦",   "春节",   "清明节", "劳动节",
                                        "端午节", "中秋节", "国庆节"};
#define NAME_SEP "\xe3\x80\x81"

static const char *const weekday_names[] = {"一", "二", "三", "四", "五", "六", "日"};

/* Lowest and highest year a calendar may declare: the arrays start in the
 * December before the first year, and date.h stops at 1900..2199. */
#define YEAR_MIN       1901
#define YEAR_MAX       2199
#define YEARS_SPAN_MAX 100

void workday_cal_init(struct workday_cal *cal)
{
  memset(cal, 0, sizeof(*cal));
}

void workday_cal_release(struct workday_cal *cal)
{
  size_t i;
  free(cal->kind);
  free(cal->name);
  for (i = 0; i < cal->nr_names; i++)
    free(cal->names[i]);
  free(cal->names);
  workday_cal_init(cal);
}

/* State of one parse, beyond what ends up in the calendar. */
struct parser {
  struct workday_cal *cal;
  const char *name;
  size_t lineno;
  size_t years_line;
  size_t *line_of; /* per day: the line that named it, for overlap messages */
  size_t alloc_names;
  char field[HMB_ERR_FIELD_MAX];
};

static const char *line_field(struct parser *p)
{
  snprintf(p->field, sizeof(p->field), "%s:%zu", p->name, p->lineno);
  hmb_utf8_truncate(p->field, sizeof(p->field));
  return p->field;
}

static bool is_blank(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return false;
  return true;
}

struct span {
  const char *ptr;
  size_t len;
};

static bool span_eq(struct span f, const char *s)
{
  return f.len == strlen(s) && !memcmp(f.ptr, s, f.len);
}

/* Split a line at TABs into at most max fields; returns the field count, or
 * max + 1 when there are more. */
static size_t split_tabs(const char *s, size_t n, struct span *f, size_t max)
{
  size_t nr = 0, start = 0, i;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '\t')
      continue;
    if (nr == max)
      return max + 1;
    f[nr].ptr = s + start;
    f[nr].len = i - start;
    nr++;
    start = i + 1;
  }
  return nr;
}

static enum hmb_status parse_day(struct parser *p, struct span f, const char *what, hmb_date *out,
                                 struct hmb_err *err)
{
  struct hmb_err e;
  if (f.len != 10 || f.ptr[4] != '-' || f.ptr[7] != '-')
    return hmb_err_set(err, HMB_INVALID, "calendar.date", line_field(p),
                       "%s日期格式错误：应为 YYYY-MM-DD", what);
  hmb_err_init(&e);
  if (date_parse(f.ptr, f.len, out, NULL, &e))
    return hmb_err_set(err, HMB_INVALID, "calendar.date", line_field(p), "%s%s", what, e.message);
  return HMB_OK;
}

/* Whether name is one festival or several joined by "、", each at most once. */
static bool valid_name(struct span f)
{
  size_t pos = 0, seplen = strlen(NAME_SEP), i;
  unsigned seen = 0;
  if (f.len == 0)
    return false;
  for (;;) {
    size_t end = pos;
    bool found = false;
    while (end < f.len && !(f.len - end >= seplen && !memcmp(f.ptr + end, NAME_SEP, seplen)))
      end++;
    for (i = 0; i < ARRAY_SIZE(festivals); i++) {
      if (end - pos == strlen(festivals[i]) && !memcmp(f.ptr + pos, festivals[i], end - pos)) {
        if (seen & (1u << i))
          return false;
        seen |= 1u << i;
        found = true;
        break;
      }
    }
    if (!found)
      return false;
    if (end == f.len)
      return true;
    pos = end + seplen;
    if (pos == f.len)
      return false;
  }
}

/* The 1-based index of name in cal->names, adding it when new; 0 on failure. */
static size_t intern_name(struct parser *p, struct span f)
{
  struct workday_cal *cal = p->cal;
  size_t i;
  char *copy;
  for (i = 0; i < cal->nr_names; i++)
    if (strlen(cal->names[i]) == f.len && !memcmp(cal->names[i], f.ptr, f.len))
      return i + 1;
  if (cal->nr_names >= UCHAR_MAX)
    return 0;
  if (cal->nr_names == p->alloc_names) {
    size_t n = p->alloc_names ? p->alloc_names * 2 : 8;
    char **names = hmb_reallocarray(cal->names, n, sizeof(*names));
    if (!names)
      return 0;
    cal->names = names;
    p->alloc_names = n;
  }
  copy = hmb_strndup(f.ptr, f.len);
  if (!copy)
    return 0;
  cal->names[cal->nr_names++] = copy;
  return cal->nr_names;
}

static enum hmb_status parse_years(struct parser *p, struct span *f, size_t nr, struct hmb_err *err)
{
  struct workday_cal *cal = p->cal;
  int64_t first, last;
  struct hmb_err e;

  if (nr != 3)
    return hmb_err_set(err, HMB_INVALID, "calendar.syntax", line_field(p),
                       "years 行格式错误：应为 years<TAB>起始年<TAB>截止年");
  if (cal->first_year)
    return hmb_err_set(err, HMB_INVALID, "calendar.years", line_field(p),
                       "重复的 years 行（第 %zu 行已声明覆盖年份）", p->years_line);
  hmb_err_init(&e);
  if (str_to_i64(f[1].ptr, f[1].len, YEAR_MIN, YEAR_MAX, &first, NULL, &e) ||
      str_to_i64(f[2].ptr, f[2].len, YEAR_MIN, YEAR_MAX, &last, NULL, &e))
    return hmb_err_set(err, HMB_INVALID, "calendar.years", line_field(p),
                       "years 行的年份无效：应为 %d 到 %d 之间的整数", YEAR_MIN, YEAR_MAX);
  if (last < first)
    return hmb_err_set(err, HMB_INVALID, "calendar.years", line_field(p),
                       "years 行的截止年 %" PRId64 " 早于起始年 %" PRId64, last, first);
  if (last - first >= YEARS_SPAN_MAX)
    return hmb_err_set(err, HMB_INVALID, "calendar.years", line_field(p),
                       "years 行覆盖的年份过多（最多 %d 年）", YEARS_SPAN_MAX);

  cal->first_year = (int)first;
  cal->last_year = (int)last;
  cal->base = date_from_ymd((int)first - 1, 12, 1);
  cal->first = date_from_ymd((int)first, 1, 1);
  cal->last = date_from_ymd((int)last, 12, 31);
  cal->nr_days = (size_t)(cal->last - cal->base) + 1;
  cal->kind = hmb_calloc(cal->nr_days, 1);
  cal->name = hmb_calloc(cal->nr_days, 1);
  p->line_of = hmb_calloc(cal->nr_days, sizeof(*p->line_of));
  if (!cal->kind || !cal->name || !p->line_of)
    return hmb_err_set(err, HMB_NOMEM, "nomem", p->name, "内存不足");
  p->years_line = p->lineno;
  return HMB_OK;
}

static enum hmb_status parse_range(struct parser *p, bool holiday, struct span *f, size_t nr,
                                   struct hmb_err *err)
{
  struct workday_cal *cal = p->cal;
  hmb_date from, to, d;
  size_t name_idx;
  enum hmb_status result;
  char t1[HMB_DATE_TEXT_MAX], t2[HMB_DATE_TEXT_MAX];

  if (nr != 4)
    return hmb_err_set(err, HMB_INVALID, "calendar.syntax", line_field(p),
                       "格式错误：应为 类型<TAB>起始日期<TAB>截止日期<TAB>节日名称 四个字段");
  if (!cal->first_year)
    return hmb_err_set(err, HMB_INVALID, "calendar.no_years", line_field(p),
                       "日期行之前缺少 years 行（应先声明覆盖年份）");
  result = parse_day(p, f[1], "起始", &from, err);
  if (!result)
    result = parse_day(p, f[2], "截止", &to, err);
  if (result)
    return result;
  date_format(from, t1);
  date_format(to, t2);
  if (to < from)
    return hmb_err_set(err, HMB_INVALID, "calendar.order", line_field(p),
                       "截止日期 %s 早于起始日期 %s", t2, t1);
  if (to - from + 1 > WORKDAY_RANGE_MAX)
    return hmb_err_set(err, HMB_INVALID, "calendar.span", line_field(p),
                       "区间 %s 至 %s 过长：一行最多 %d 天", t1, t2, WORKDAY_RANGE_MAX);
  if (from < cal->base || to > cal->last)
    return hmb_err_set(err, HMB_INVALID, "calendar.range", line_field(p),
                       "区间 %s 至 %s 超出声明的覆盖年份 %d–%d", t1, t2, cal->first_year,
                       cal->last_year);
  if (!valid_name(f[3]))
    return hmb_err_set(err, HMB_INVALID, "calendar.name", line_field(p),
                       "节日名称无效：应为元旦、春节、清明节、劳动节、端午节、中秋节、国庆节之一，"
                       "或用\"、\"连接的多个");
  name_idx = intern_name(p, f[3]);
  if (!name_idx)
    return hmb_err_set(err, HMB_NOMEM, "nomem", line_field(p), "内存不足或节日名称过多");

  for (d = from; d <= to; d++) {
    size_t i = (size_t)(d - cal->base);
    char t[HMB_DATE_TEXT_MAX];
    date_format(d, t);
    if (cal->kind[i] != DAY_NONE)
      return hmb_err_set(err, HMB_INVALID, "calendar.overlap", line_field(p),
                         "日期 %s 与第 %zu 行重叠", t, p->line_of[i]);
    if (!holiday && date_weekday(d) <= 5)
      return hmb_err_set(err, HMB_INVALID, "calendar.weekday", line_field(p),
                         "调休上班日 %s 是星期%s：调休上班日只能是周六或周日", t,
                         weekday_names[date_weekday(d) - 1]);
    cal->kind[i] = holiday ? DAY_HOLIDAY : DAY_WORKDAY;
    cal->name[i] = (unsigned char)name_idx;
    p->line_of[i] = p->lineno;
  }
  return HMB_OK;
}

static enum hmb_status parse_line(struct parser *p, const char *s, size_t n, struct hmb_err *err)
{
  struct span f[5];
  size_t nr, i;

  if (n && s[n - 1] == '\r')
    n--;
  if (memchr(s, '\0', n))
    return hmb_err_set(err, HMB_INVALID, "calendar.syntax", line_field(p), "行中含有 NUL 字节");
  if (is_blank(s, n) || s[0] == '#')
    return HMB_OK;
  nr = split_tabs(s, n, f, ARRAY_SIZE(f) - 1);
  for (i = 0; i < nr && i < ARRAY_SIZE(f) - 1; i++)
    if (!f[i].len || f[i].ptr[0] == ' ' || f[i].ptr[f[i].len - 1] == ' ')
      return hmb_err_set(err, HMB_INVALID, "calendar.syntax", line_field(p),
                         "第 %zu 个字段为空或首尾有空格：字段之间只能用一个 TAB 分隔", i + 1);
  if (span_eq(f[0], "years"))
    return parse_years(p, f, nr, err);
  if (span_eq(f[0], "holiday"))
    return parse_range(p, true, f, nr, err);
  if (span_eq(f[0], "workday"))
    return parse_range(p, false, f, nr, err);
  return hmb_err_set(err, HMB_INVALID, "calendar.kind", line_field(p),
                     "类型无效：应为 holiday（放假）或 workday（调休上班）");
}

/* Every declared year needs a holiday: a missing one means a missing notice. */
static enum hmb_status check_years(struct parser *p, struct hmb_err *err)
{
  struct workday_cal *cal = p->cal;
  int y;
  for (y = cal->first_year; y <= cal->last_year; y++) {
    hmb_date d = date_from_ymd(y, 1, 1), end = date_from_ymd(y, 12, 31);
    bool any = false;
    for (; d <= end && !any; d++)
      any = cal->kind[d - cal->base] == DAY_HOLIDAY;
    if (!any) {
      p->lineno = p->years_line;
      return hmb_err_set(err, HMB_INVALID, "calendar.year_empty", line_field(p),
                         "声明覆盖 %d 年，但没有该年的节假日：请补全当年国务院办公厅通知的安排", y);
    }
  }
  return HMB_OK;
}

enum hmb_status workday_cal_parse(struct workday_cal *cal, const char *text, size_t len,
                                  const char *name, struct hmb_err *err)
{
  struct parser p;
  size_t pos = 0;
  enum hmb_status result = HMB_OK;

  workday_cal_release(cal);
  memset(&p, 0, sizeof(p));
  p.cal = cal;
  p.name = name ? name : "calendar";
  if (len > WORKDAY_TEXT_LIMIT)
    return hmb_err_set(err, HMB_TOO_LARGE, "calendar.too_large", p.name,
                       "节假日日历超过上限 %zu 字节", WORKDAY_TEXT_LIMIT);
  if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
    pos = 3;
  while (pos < len && !result) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    p.lineno++;
    result = parse_line(&p, text + pos, end - pos, err);
    pos = end + 1;
  }
  if (!result && !cal->first_year)
    result = hmb_err_set(err, HMB_INVALID, "calendar.no_years", p.name,
                         "节假日日历缺少 years 行（覆盖年份）");
  if (!result)
    result = check_years(&p, err);
  free(p.line_of);
  if (result)
    workday_cal_release(cal);
  return result;
}

enum hmb_status workday_cal_load(struct workday_cal *cal, const char *path, struct hmb_err *err)
{
  struct buf b = BUF_INIT(WORKDAY_TEXT_LIMIT);
  enum hmb_status result = buf_read_file(&b, path, err);
  if (!result)
    result = workday_cal_parse(cal, b.ptr, b.len, path, err);
  else
    workday_cal_release(cal);
  buf_release(&b);
  return result;
}

bool workday_covers(const struct workday_cal *cal, hmb_date d)
{
  return cal->kind && d >= cal->first && d <= cal->last;
}

bool workday_is_workday(const struct workday_cal *cal, hmb_date d)
{
  unsigned char k;
  if (!workday_covers(cal, d))
    BUG("workday_is_workday: day %" PRId32 " outside the calendar", d);
  k = cal->kind[d - cal->base];
  if (k == DAY_HOLIDAY)
    return false;
  if (k == DAY_WORKDAY)
    return true;
  return date_weekday(d) <= 5;
}

static enum hmb_status uncovered(const struct workday_cal *cal, hmb_date d, struct hmb_err *err)
{
  char t[HMB_DATE_TEXT_MAX];
  if (!cal->kind)
    return hmb_err_set(err, HMB_NOT_FOUND, "workday.uncovered", NULL,
                       "节假日日历未加载，无法判断工作日");
  date_format(d, t);
  return hmb_err_set(err, HMB_NOT_FOUND, "workday.uncovered", NULL,
                     "日期 %s 不在节假日日历覆盖范围（%d–%d 年）内，无法判断是否为工作日", t,
                     cal->first_year, cal->last_year);
}

enum hmb_status workday_check(const struct workday_cal *cal, hmb_date d, bool *is_workday,
                              struct hmb_err *err)
{
  if (!workday_covers(cal, d))
    return uncovered(cal, d, err);
  *is_workday = workday_is_workday(cal, d);
  return HMB_OK;
}

enum hmb_status workday_add(const struct workday_cal *cal, hmb_date d, int n, hmb_date *out,
                            struct hmb_err *err)
{
  hmb_date cur = d;
  if (n < 0)
    return hmb_err_set(err, HMB_INVALID, "workday.negative", NULL, "工作日天数不能为负数：%d", n);
  while (n > 0) {
    if (!cal->kind)
      return uncovered(cal, cur, err);
    /* tested before the increment so that cur + 1 cannot overflow */
    if (cur >= cal->last)
      return uncovered(cal, cal->last + 1, err);
    if (cur < cal->first - 1)
      return uncovered(cal, cur + 1, err);
    cur++;
    if (workday_is_workday(cal, cur))
      n--;
  }
  *out = cur;
  return HMB_OK;
}

enum hmb_status workday_count(const struct workday_cal *cal, hmb_date from, hmb_date to, int *out,
                              struct hmb_err *err)
{
  hmb_date d;
  int n = 0;
  if (to < from) {
    char t1[HMB_DATE_TEXT_MAX], t2[HMB_DATE_TEXT_MAX];
    date_format(from, t1);
    date_format(to, t2);
    return hmb_err_set(err, HMB_INVALID, "workday.order", NULL, "截止日期 %s 早于起始日期 %s", t2,
                       t1);
  }
  if (to == from) {
    *out = 0;
    return HMB_OK;
  }
  if (!workday_covers(cal, from + 1))
    return uncovered(cal, from + 1, err);
  if (!workday_covers(cal, to))
    return uncovered(cal, to, err);
  for (d = from + 1; d <= to; d++)
    n += workday_is_workday(cal, d);
  *out = n;
  return HMB_OK;
}

const char *workday_name(const struct workday_cal *cal, hmb_date d)
{
  size_t i;
  if (!workday_covers(cal, d))
    return NULL;
  i = (size_t)(d - cal->base);
  if (cal->kind[i] != DAY_HOLIDAY || !cal->name[i])
    return NULL;
  return cal->names[cal->name[i] - 1];
}

/*
 * hmb project: mid-year loss-ratio projection of one product year by the
 * chain-ladder method on monthly development (domain/chainladder.h,
 * docs/actuarial.md).
 *
 * Reads a claims CSV (setl_time or accident_date, paid_date or
 * report_date, amount or payout, optional status: hmb adjudicate's result
 * file with a settlement and a payment date added is read as it is), builds
 * the run-off triangle at the valuation month and prints the triangle, the
 * factors, the ultimate and IBNR per accident month and the projected loss
 * ratio against the target, as text or JSON (amounts as decimal strings).
 *
 * Bad rows are reported with file, line and column and left out; the
 * projection of the other rows is still printed and the exit status is 1.
 * A projection that cannot be made from the data (no rows, an undefined
 * factor a month needs) is exit status 1 with the reason; usage errors
 * (including a premium that earns nothing) and I/O errors are 2.
 */
#include "compat.h"
#include "buf.h"
#include "chainladder.h"
#include "cli.h"
#include "setl_reader.h"

#define MAX_REPORTED_ERRORS 100
#define OUT_ROOM            (256u << 10)
#define OUT_LIMIT           (16u << 20)

static const char usage_text[] =
    "用法: hmb project --claims FILE --premium AMOUNT[,AMOUNT...x12] --valuation YYYY-MM\n"
    "       [--year YYYY|YYYY-MM] [--target 7500-8500|75%-85%] [--tail FACTOR]\n"
    "       [--ignore-later] [--format text|json]\n";

struct opts {
  const char *claims, *premium, *valuation, *year, *target, *tail, *format;
  bool ignore_later;
};

struct counts {
  unsigned long rows, skipped, rejected, later;
  unsigned long rejected_later; /* of rejected: paid after the valuation */
};

static const char *need_arg(int *i, int argc, char **argv)
{
  if (*i + 1 >= argc) {
    fprintf(stderr, "hmb project: %s 需要一个参数\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

/* --premium: one amount for the year, or twelve comma-separated monthly
 * earned amounts. */
static enum hmb_status parse_premium(const char *s, struct cl_params *p, struct hmb_err *err)
{
  const char *comma = strchr(s, ',');
  int i;
  if (!comma) {
    p->premium_by_month = false;
    return money_parse(s, strlen(s), &p->premium_year, "--premium", err);
  }
  p->premium_by_month = true;
  for (i = 0; i < CL_MONTHS; i++) {
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    char field[32];
    snprintf(field, sizeof(field), "--premium[%d]", i);
    if (money_parse(s, len, &p->premium_month[i], field, err))
      return HMB_INVALID;
    if (!end) {
      if (i != CL_MONTHS - 1)
        break;
      return HMB_OK;
    }
    s = end + 1;
  }
  return hmb_err_set(err, HMB_INVALID, "cl.premium", "--premium",
                     "按月满期保费须正好 12 个金额，以逗号分隔");
}

/* --year: "2024" (from January) or "2024-07" (the year's first month). */
static enum hmb_status parse_year(const char *s, int *y, int *m, struct hmb_err *err)
{
  int64_t v;
  if (strlen(s) == 4) {
    if (str_to_i64(s, 4, 1900, 2199, &v, "--year", err))
      return HMB_INVALID;
    *y = (int)v;
    *m = 1;
    return HMB_OK;
  }
  return cl_month_parse(s, strlen(s), y, m, "--year", err);
}

static void report_row(struct counts *n, const struct hmb_err *err)
{
  n->rejected++;
  if (n->rejected <= MAX_REPORTED_ERRORS)
    cli_print_err(NULL, err);
}

/* Name the column of the file instead of the domain's generic field. */
static void field_to_column(struct hmb_err *err, const struct cl_columns *c)
{
  static const char *const generic[] = {
      [CL_COL_ACCIDENT] = "accident_date", [CL_COL_PAID] = "paid_date", [CL_COL_AMOUNT] = "amount"};
  int k;
  for (k = 0; k < CL_COL_STATUS; k++)
    if (!strcmp(err->field, generic[k])) {
      snprintf(err->field, sizeof(err->field), "%s", c->name[k]);
      return;
    }
}

/*
 * Read every row of the claims file into t. Row errors are reported and
 * counted; HMB_IO, HMB_NOMEM or a bad header end the reading with err set.
 */
static enum hmb_status load_claims(struct csvr *csv, struct cl_triangle *t, bool ignore_later,
                                   struct counts *n, struct hmb_err *err)
{
  struct cl_columns cols;
  const char **names;
  size_t i, ncols = csvr_ncols(csv);
  enum hmb_status result;

  names = hmb_reallocarray(NULL, ncols ? ncols : 1, sizeof(*names));
  if (!names)
    return hmb_err_set(err, HMB_NOMEM, "io.nomem", "", "内存不足");
  for (i = 0; i < ncols; i++)
    names[i] = csvr_colname(csv, i);
  result = cl_columns_find(&cols, names, ncols, err);
  free(names);
  if (result) {
    csvr_locate(csv, err);
    return result;
  }
  for (;;) {
    const struct csvr_field *f;
    struct cl_span span[CL_COL_COUNT];
    struct cl_claim claim;
    struct hmb_err rerr;
    bool eof;
    int k;

    hmb_err_init(&rerr);
    result = csvr_next(csv, &f, &eof, &rerr);
    if (result == HMB_IO || result == HMB_NOMEM) {
      *err = rerr;
      return result;
    }
    if (result) {
      report_row(n, &rerr);
      continue;
    }
    if (eof)
      return HMB_OK;
    n->rows++;
    for (k = 0; k < CL_COL_COUNT; k++) {
      span[k].p = cols.index[k] >= 0 ? f[cols.index[k]].p : "";
      span[k].len = cols.index[k] >= 0 ? f[cols.index[k]].len : 0;
    }
    result = cl_claim_parse(&claim, &cols, span, &rerr);
    if (!result && claim.skip) {
      n->skipped++;
      continue;
    }
    if (!result)
      result = cl_triangle_add(t, claim.accident, claim.paid, claim.amount, &rerr);
    if (!result)
      continue;
    if (ignore_later && !strcmp(rerr.code, "cl.after_valuation")) {
      n->later++;
      continue;
    }
    if (!strcmp(rerr.code, "cl.after_valuation"))
      n->rejected_later++;
    field_to_column(&rerr, &cols);
    csvr_locate(csv, &rerr);
    report_row(n, &rerr);
  }
}

/* ---- text output ---- */

/* Display columns of UTF-8 text: CJK (3-byte sequences) count two. */
static size_t text_width(const char *s)
{
  size_t w = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x80)
      w++;
    else if (c >= 0xE0)
      w += 2;
    else if (c >= 0xC0)
      w++;
  }
  return w;
}

/* s right-aligned (left when left) in width display columns. */
static void add_cell(struct buf *b, const char *s, size_t width, bool left)
{
  size_t w = text_width(s);
  if (left)
    buf_addstr(b, s);
  for (; w < width; w++)
    buf_addch(b, ' ');
  if (!left)
    buf_addstr(b, s);
}

static void add_money_cell(struct buf *b, hmb_fen v, size_t width)
{
  char t[HMB_MONEY_TEXT_MAX];
  money_format(v, t);
  buf_addch(b, ' ');
  add_cell(b, t, width, false);
}

static void add_factor_cell(struct buf *b, int64_t v, size_t width)
{
  char t[CL_FACTOR_TEXT_MAX];
  cl_factor_format(v, 6, t);
  buf_addch(b, ' ');
  add_cell(b, t, width, false);
}

static size_t money_width(hmb_fen v)
{
  char t[HMB_MONEY_TEXT_MAX];
  return money_format(v, t);
}

static void add_ratio(struct buf *b, int64_t bp)
{
  char t[16];
  ratio_format((hmb_bp)bp, t);
  buf_addstr(b, t);
}

/* "label 1234.56 元" and a newline. */
static void add_money_line(struct buf *b, const char *label, hmb_fen v)
{
  buf_addstr(b, label);
  buf_add_money(b, v);
  buf_addstr(b, " 元\n");
}

/* "label 81.6%" and a newline. */
static void add_ratio_line(struct buf *b, const char *label, int64_t bp)
{
  buf_addstr(b, label);
  add_ratio(b, bp);
  buf_addch(b, '\n');
}

static void print_text(struct buf *b, const struct cl_triangle *t, const struct cl_projection *r,
                       const struct counts *n)
{
  char m[CL_MONTH_TEXT_MAX], m2[CL_MONTH_TEXT_MAX], lbl[32];
  size_t w = 10, fw = 10;
  int i, j, v = r->valuation;

  for (i = 0; i < r->elapsed; i++)
    for (j = 0; j <= r->lag[i]; j++)
      if (money_width(r->cum[i][j]) > w)
        w = money_width(r->cum[i][j]);
  for (i = 0; i < r->elapsed; i++) {
    if (money_width(r->ultimate[i]) > w)
      w = money_width(r->ultimate[i]);
    if (money_width(r->premium[i]) > w)
      w = money_width(r->premium[i]);
  }
  if (money_width(r->ultimate_total) > w)
    w = money_width(r->ultimate_total);
  if (money_width(r->premium_earned) > w)
    w = money_width(r->premium_earned);
  for (j = 0; j <= v; j++) {
    char ft[CL_FACTOR_TEXT_MAX];
    if (r->cdf[j] && cl_factor_format(r->cdf[j], 6, ft) > fw)
      fw = strlen(ft);
    if (j < v && r->factor[j].value && cl_factor_format(r->factor[j].value, 6, ft) > fw)
      fw = strlen(ft);
  }

  cl_month_format(t, 0, m);
  cl_month_format(t, CL_MONTHS - 1, m2);
  buf_addf(b, "链梯法中期赔付率预测：产品年度 %s 至 %s，", m, m2);
  cl_month_format(t, v, m);
  buf_addf(b, "评估月 %s（已满期 %d 个月）\n", m, r->elapsed);
  buf_addf(b, "赔款记录 %" PRIu64 " 条（其中负数/冲销 %" PRIu64 " 条）", t->nrecords, t->nnegative);
  if (n->skipped)
    buf_addf(b, "；跳过 status=error 的行 %lu 行", n->skipped);
  if (n->later)
    buf_addf(b, "；支付月晚于评估月、未计入 %lu 行", n->later);
  if (n->rejected)
    buf_addf(b, "；有错误、未计入 %lu 行（见标准错误输出）", n->rejected);
  buf_addstr(b, "\n");

  buf_addstr(b, "\n累计已付赔款（元）：行为出险月，列为进展月数（0 = 出险当月支付）\n");
  add_cell(b, "出险月", 8, true);
  for (j = 0; j <= v; j++) {
    snprintf(lbl, sizeof(lbl), "%d", j);
    buf_addch(b, ' ');
    add_cell(b, lbl, w, false);
  }
  buf_addch(b, '\n');
  for (i = 0; i < r->elapsed; i++) {
    cl_month_format(t, i, m);
    add_cell(b, m, 8, true);
    for (j = 0; j <= r->lag[i]; j++)
      add_money_cell(b, r->cum[i][j], w);
    buf_addch(b, '\n');
  }

  buf_addstr(b, "\n进展因子（加权平均：第 j+1 月累计合计 / 第 j 月累计合计）\n");
  add_cell(b, "进展月", 10, true);
  for (j = 0; j < v; j++) {
    snprintf(lbl, sizeof(lbl), "%d-%d", j, j + 1);
    buf_addch(b, ' ');
    add_cell(b, lbl, fw, false);
  }
  buf_addstr(b, "\n");
  add_cell(b, "因子", 10, true);
  for (j = 0; j < v; j++) {
    const struct cl_factor *f = &r->factor[j];
    if (f->state == CL_FACTOR_OK || f->state == CL_FACTOR_NO_DATA) {
      add_factor_cell(b, f->value, fw);
    } else {
      buf_addch(b, ' ');
      add_cell(b, f->state == CL_FACTOR_UNDEFINED ? "无法计算" : "过大", fw, false);
    }
  }
  buf_addstr(b, "\n");
  add_cell(b, "至终因子", 10, true);
  for (j = 0; j < v; j++) {
    if (r->cdf[j]) {
      add_factor_cell(b, r->cdf[j], fw);
    } else {
      buf_addch(b, ' ');
      add_cell(b, "-", fw, false);
    }
  }
  buf_addstr(b, "\n尾部因子 ");
  {
    char ft[CL_FACTOR_TEXT_MAX];
    cl_factor_format(r->tail, 6, ft);
    buf_addstr(b, ft);
  }
  buf_addstr(b, "\n");
  for (j = 0; j < v; j++)
    if (r->factor[j].state == CL_FACTOR_NO_DATA && r->factor[j].needed)
      buf_addf(b, "注：第 %d-%d 月两列均无赔款，因子取 1\n", j, j + 1);

  buf_addstr(b, "\n");
  add_cell(b, "出险月", 8, true);
  buf_addch(b, ' ');
  add_cell(b, "已付赔款", w, false);
  buf_addch(b, ' ');
  add_cell(b, "至终因子", fw, false);
  buf_addch(b, ' ');
  add_cell(b, "最终赔款", w, false);
  buf_addch(b, ' ');
  add_cell(b, "IBNR", w, false);
  buf_addch(b, ' ');
  add_cell(b, "满期保费", w, false);
  buf_addch(b, '\n');
  for (i = 0; i < r->elapsed; i++) {
    cl_month_format(t, i, m);
    add_cell(b, m, 8, true);
    add_money_cell(b, r->paid[i], w);
    add_factor_cell(b, r->cdf[r->lag[i]], fw);
    add_money_cell(b, r->ultimate[i], w);
    add_money_cell(b, r->ibnr[i], w);
    add_money_cell(b, r->premium[i], w);
    buf_addch(b, '\n');
  }
  add_cell(b, "合计", 8, true);
  add_money_cell(b, r->paid_total, w);
  buf_addch(b, ' ');
  add_cell(b, "", fw, false);
  add_money_cell(b, r->ultimate_total, w);
  add_money_cell(b, r->ibnr_total, w);
  add_money_cell(b, r->premium_earned, w);
  buf_addstr(b, "\n");
  for (i = 0; i < r->elapsed; i++)
    if (!r->paid[i]) {
      cl_month_format(t, i, m);
      buf_addf(b, "注：出险月 %s 尚无已付赔款，链梯法推算其最终赔款为 0，可能低估\n", m);
    }
  buf_addstr(b, "\n");

  buf_addstr(b, "满期保费（已满期月份）  ");
  buf_add_money(b, r->premium_earned);
  add_money_line(b, " 元；全年保费 ", r->premium_year);
  add_ratio_line(b, "已付赔付率（满期）      ", r->lr_paid);
  add_ratio_line(b, "预计赔付率（满期口径）  ", r->lr_earned);
  add_ratio_line(b, "最终赔款 / 全年保费     ", r->lr_written);
  add_money_line(b, "预计全年赔款            ", r->ultimate_year);
  buf_addstr(b, "目标区间                ");
  add_ratio(b, r->target_lo);
  add_ratio_line(b, "–", r->target_hi);
  buf_addstr(b, "\n结论：");
  buf_addstr(b, r->message);
  buf_addch(b, '\n');
  if (n->rejected)
    buf_addf(b, "注意：%lu 行有错误未计入，上述结果可能偏低\n", n->rejected);
}

/* ---- JSON output ---- */

static void json_money(struct buf *b, const char *key, hmb_fen v)
{
  buf_addf(b, "\"%s\":\"", key);
  buf_add_money(b, v);
  buf_addch(b, '"');
}

static void json_factor(struct buf *b, const char *key, int64_t v)
{
  char t[CL_FACTOR_TEXT_MAX];
  cl_factor_format(v, 12, t);
  buf_addf(b, "\"%s\":\"%s\"", key, t);
}

static void json_ratio(struct buf *b, const char *key, int64_t bp)
{
  char t[16];
  ratio_format((hmb_bp)bp, t);
  buf_addf(b, "\"%s_bp\":%" PRId64 ",\"%s\":\"%s\"", key, bp, key, t);
}

static void print_json(struct buf *b, const struct cl_triangle *t, const struct cl_projection *r,
                       const struct counts *n)
{
  char m[CL_MONTH_TEXT_MAX];
  int i, j, v = r->valuation;

  cl_month_format(t, 0, m);
  buf_addf(b, "{\"format\":\"hmb-projection/1\",\"method\":\"chain-ladder\",\"year_start\":\"%s\"",
           m);
  cl_month_format(t, v, m);
  buf_addf(b, ",\"valuation\":\"%s\",\"months_elapsed\":%d", m, r->elapsed);
  buf_addf(b,
           ",\"records\":%" PRIu64 ",\"negative_records\":%" PRIu64
           ",\"rows\":%lu,\"skipped\":%lu,\"rejected\":%lu,\"after_valuation\":%lu",
           t->nrecords, t->nnegative, n->rows, n->skipped, n->rejected, n->later);

  buf_addstr(b, ",\"triangle\":[");
  for (i = 0; i < r->elapsed; i++) {
    cl_month_format(t, i, m);
    buf_addf(b, "%s{\"month\":\"%s\",\"cumulative\":[", i ? "," : "", m);
    for (j = 0; j <= r->lag[i]; j++) {
      buf_addstr(b, j ? ",\"" : "\"");
      buf_add_money(b, r->cum[i][j]);
      buf_addch(b, '"');
    }
    buf_addstr(b, "]}");
  }
  buf_addstr(b, "],\"factors\":[");
  for (j = 0; j < v; j++) {
    const struct cl_factor *f = &r->factor[j];
    buf_addf(b, "%s{\"from\":%d,\"to\":%d,\"state\":\"%s\",", j ? "," : "", j, j + 1,
             cl_factor_state_name(f->state));
    if (f->state == CL_FACTOR_OK || f->state == CL_FACTOR_NO_DATA)
      json_factor(b, "factor", f->value);
    else
      buf_addstr(b, "\"factor\":null");
    buf_addch(b, ',');
    if (r->cdf[j])
      json_factor(b, "to_ultimate", r->cdf[j]);
    else
      buf_addstr(b, "\"to_ultimate\":null");
    buf_addch(b, ',');
    json_money(b, "numerator", f->num);
    buf_addch(b, ',');
    json_money(b, "denominator", f->den);
    buf_addf(b, ",\"months\":%d,\"needed\":%s}", f->months, f->needed ? "true" : "false");
  }
  buf_addstr(b, "],");
  json_factor(b, "tail", r->tail);
  buf_addstr(b, ",\"months\":[");
  for (i = 0; i < CL_MONTHS; i++) {
    cl_month_format(t, i, m);
    buf_addf(b, "%s{\"month\":\"%s\",\"elapsed\":%s", i ? "," : "", m,
             i < r->elapsed ? "true" : "false");
    if (i < r->elapsed) {
      buf_addf(b, ",\"lag\":%d,", r->lag[i]);
      json_money(b, "paid", r->paid[i]);
      buf_addch(b, ',');
      json_factor(b, "to_ultimate", r->cdf[r->lag[i]]);
      buf_addch(b, ',');
      json_money(b, "ultimate", r->ultimate[i]);
      buf_addch(b, ',');
      json_money(b, "ibnr", r->ibnr[i]);
    }
    buf_addch(b, ',');
    json_money(b, "earned_premium", r->premium[i]);
    buf_addch(b, '}');
  }
  buf_addstr(b, "],\"totals\":{");
  json_money(b, "paid", r->paid_total);
  buf_addch(b, ',');
  json_money(b, "ultimate", r->ultimate_total);
  buf_addch(b, ',');
  json_money(b, "ibnr", r->ibnr_total);
  buf_addch(b, ',');
  json_money(b, "earned_premium", r->premium_earned);
  buf_addch(b, ',');
  json_money(b, "year_premium", r->premium_year);
  buf_addch(b, ',');
  json_money(b, "ultimate_year", r->ultimate_year);
  buf_addstr(b, "},\"loss_ratio\":{");
  json_ratio(b, "earned", r->lr_earned);
  buf_addch(b, ',');
  json_ratio(b, "written", r->lr_written);
  buf_addch(b, ',');
  json_ratio(b, "paid", r->lr_paid);
  buf_addstr(b, "},\"target\":{");
  json_ratio(b, "low", r->target_lo);
  buf_addch(b, ',');
  json_ratio(b, "high", r->target_hi);
  buf_addf(b, "},\"verdict\":\"%s\",\"message\":", cl_verdict_name(r->verdict));
  buf_add_json_str(b, r->message, strlen(r->message));
  buf_addstr(b, "}\n");
}

/* ---- the command ---- */

static int parse_opts(int argc, char **argv, struct opts *o)
{
  int i;
  memset(o, 0, sizeof(*o));
  o->format = "text";
  for (i = 0; i < argc; i++) {
    const char **dst = NULL;
    if (!strcmp(argv[i], "--claims"))
      dst = &o->claims;
    else if (!strcmp(argv[i], "--premium"))
      dst = &o->premium;
    else if (!strcmp(argv[i], "--valuation"))
      dst = &o->valuation;
    else if (!strcmp(argv[i], "--year"))
      dst = &o->year;
    else if (!strcmp(argv[i], "--target"))
      dst = &o->target;
    else if (!strcmp(argv[i], "--tail"))
      dst = &o->tail;
    else if (!strcmp(argv[i], "--format"))
      dst = &o->format;
    else if (!strcmp(argv[i], "--ignore-later")) {
      o->ignore_later = true;
      continue;
    } else {
      fprintf(stderr, "hmb project: 未知选项“%s”\n%s", argv[i], usage_text);
      return 2;
    }
    if (!(*dst = need_arg(&i, argc, argv)))
      return 2;
  }
  if (!o->claims || !o->premium || !o->valuation) {
    fputs(usage_text, stderr);
    return 2;
  }
  if (strcmp(o->format, "text") && strcmp(o->format, "json")) {
    fprintf(stderr, "hmb project: --format 只能是 text 或 json\n");
    return 2;
  }
  return 0;
}

int cmd_project(int argc, char **argv)
{
  struct opts o;
  struct cl_params p;
  struct cl_triangle t;
  struct cl_projection *r = NULL;
  struct counts n = {0, 0, 0, 0, 0};
  struct csvr *csv = NULL;
  struct hmb_err err;
  struct buf out = BUF_INIT(OUT_LIMIT);
  int vy, vm, sy, sm, rc;
  enum hmb_status result;

  rc = parse_opts(argc, argv, &o);
  if (rc)
    return rc;
  hmb_err_init(&err);
  cl_params_init(&p);
  result = cl_month_parse(o.valuation, strlen(o.valuation), &vy, &vm, "--valuation", &err);
  /* the product year defaults to the valuation's calendar year */
  sy = vy;
  sm = 1;
  if (result || (o.year && parse_year(o.year, &sy, &sm, &err)) ||
      parse_premium(o.premium, &p, &err) ||
      (o.target &&
       cl_target_parse(o.target, strlen(o.target), &p.target_lo, &p.target_hi, "--target", &err)) ||
      (o.tail && cl_factor_parse(o.tail, strlen(o.tail), &p.tail, "--tail", &err)) ||
      cl_triangle_init(&t, sy, sm, vy, vm, &err)) {
    cli_print_err("hmb project", &err);
    return 2;
  }

  if (csvr_open(&csv, o.claims, &err)) {
    cli_print_err("hmb project", &err);
    return 2;
  }
  result = load_claims(csv, &t, o.ignore_later, &n, &err);
  csvr_free(csv);
  if (result) {
    cli_print_err("hmb project", &err);
    return 2;
  }
  if (n.rejected > MAX_REPORTED_ERRORS)
    fprintf(stderr, "hmb project: 另有 %lu 行错误未列出\n", n.rejected - MAX_REPORTED_ERRORS);
  if (n.rejected)
    fprintf(stderr, "hmb project: %lu 行有错误，未计入推算%s\n", n.rejected,
            n.rejected_later ? "（支付月晚于评估月的行可加 --ignore-later 略过）" : "");

  r = hmb_malloc(sizeof(*r));
  if (!r) {
    fprintf(stderr, "hmb project: 内存不足\n");
    return 2;
  }
  result = cl_project(&t, &p, r, &err);
  if (result) {
    /* a bad --premium, --tail or --target is a usage error; the rest is the data's */
    bool usage = !strncmp(err.code, "cl.premium", 10) || !strcmp(err.code, "cl.tail") ||
                 !strcmp(err.code, "cl.target");
    cli_print_err("hmb project: 无法推算", &err);
    free(r);
    return usage ? 2 : 1;
  }
  /* The output is at most a few tens of KiB (12 x 48 cells): with this
   * room taken first, the appends below cannot fail. */
  if (buf_grow(&out, OUT_ROOM)) {
    fprintf(stderr, "hmb project: 内存不足\n");
    free(r);
    return 2;
  }
  if (!strcmp(o.format, "json"))
    print_json(&out, &t, r, &n);
  else
    print_text(&out, &t, r, &n);
  free(r);
  rc = n.rejected ? 1 : 0;
  if (fwrite(out.ptr, 1, out.len, stdout) != out.len || fflush(stdout)) {
    fprintf(stderr, "hmb project: 写出结果失败\n");
    rc = 2;
  }
  buf_release(&out);
  return rc;
}

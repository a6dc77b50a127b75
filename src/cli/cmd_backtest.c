/*
 * hmb backtest: what one or more plans would have paid on a year's history
 * of settlements of the enrolled people, and their loss ratios.
 *
 * Each plan's year is run by hmb adjudicate's fast two-thread reader
 * (adjudicate_year() in cmd_adjudicate.c: the same rows judged by the same
 * engine, without writing a result per row); each person's year, the
 * payout per responsibility and what the person bore, is then aggregated
 * (domain/backtest.h). The file is read once per plan. Premium income is
 * each enrolled person's premium under the plan (age band or group). Rows
 * of people not in --people are counted and skipped (the product pays only
 * the enrolled).
 *
 * As hmb adjudicate, a repeated setl_id is refused, and a reversal row
 * takes back its settlement (its payout and the person's cost leave the
 * year). Not yet: plans with family-scope pools or caps (refused).
 */
#include "compat.h"
#include "backtest.h"
#include "cli.h"
#include "people.h"
#include "plan_json.h"
#include "setl_reader.h"

#define BT_PLANS_MAX 16

static const char backtest_usage[] =
    "用法: hmb backtest --plan P [--plan Q ...] --settlements FILE [--details FILE]\n"
    "                   --people FILE [--json OUT] [--top 20] [--data-end YYYY-MM-DD]\n"
    "                   [--param NAME[.SCHEME]=AMOUNT] [--allow-draft]\n"
    "  以一年的结算记录回测产品方案：赔付率（按保费收入与已赚保费）、受益人数及占比、\n"
    "  各责任、年龄段、险种的赔付，赔付额与剩余自付的分布，以及最大的赔付。\n";

struct premiums;

/* One plan's run: the plan and its aggregation. */
struct bt_plan {
  struct plan plan;
  struct bt agg;
  const struct premiums *pj;
};

/* Every enrolled person's premium under each plan (bt_person()), given to
 * the thread that prepared the year (year_prep_then()): it runs while the
 * year is read. status and err: the first failure, for psn_no. */
struct premiums {
  struct bt_plan *bp;
  size_t nplans;
  const struct people *pp;
  enum hmb_status status;
  struct hmb_err err;
  const char *psn_no;
};

static void premiums_job(void *ctx)
{
  struct premiums *pj = ctx;
  size_t npeople = people_count(pj->pp);
  hmb_err_init(&pj->err);
  for (size_t k = 0; k < pj->nplans; k++) {
    const struct plan *p = &pj->bp[k].plan;
    /* at their number: doubling left up to half of the tables unused,
     * faulted in all the same */
    if (bt_reserve(&pj->bp[k].agg, npeople)) {
      pj->status = hmb_err_set(&pj->err, HMB_NOMEM, "nomem", "", "内存不足");
      pj->psn_no = "hmb backtest";
      return;
    }
    for (size_t i = 0; i < npeople; i++) {
      const struct people_entry *e = people_at(pj->pp, i);
      hmb_fen premium = 0;
      struct adj_person who;
      people_adj_person(p, e, &who);
      /* the first premium group of the plan the person is in, else the
       * age band: the file does not say which group a person paid in */
      if (plan_premium(p, who.age < 0 ? 0 : who.age, e->groups, &premium, &pj->err) ||
          bt_person(&pj->bp[k].agg, i, who.age, e->insutype, premium, &pj->err)) {
        pj->status = pj->err.status;
        pj->psn_no = e->psn_no;
        return;
      }
    }
  }
}

/* adjudicate_year()'s callback: a person's year into the plan's report
 * (the premiums are in: adjudicate_year() waited for them). */
static enum hmb_status take_year(void *ctx, const struct year_person *yp, struct hmb_err *err)
{
  struct bt_plan *bp = ctx;
  if (bp->pj->status) {
    /* a person without a premium: said by cmd_backtest() */
    *err = bp->pj->err;
    return bp->pj->status;
  }
  return bt_person_year(&bp->agg, yp->people_index, yp->paid, yp->own_cost, err);
}

static void bt_plan_release(struct bt_plan *bp)
{
  bt_release(&bp->agg);
  plan_release(&bp->plan);
}

/* "12.34" of an amount in fen. */
static const char *yuan(hmb_fen v, char *b)
{
  money_format(v, b);
  return b;
}

/* "62.31%" of basis points, "-" when undefined. */
static const char *pct(hmb_bp bp, char *b)
{
  if (bp < 0) {
    snprintf(b, 32, "-");
    return b;
  }
  ratio_format(bp, b);
  return b;
}

/* The groups with people (age bands or schemes): people, premium, paid, loss ratio, beneficiaries. */
static void print_groups(const struct bt_group *g, const char *const *names, int n, int width)
{
  char a[48], c[48], d[48];
  for (int i = 0; i < n; i++)
    if (g[i].people)
      printf("  %-*s %8" PRId64 " 人  %16s  %16s  %10s  %" PRId64 "\n", width, names[i],
             g[i].people, yuan(g[i].premium, a), yuan(g[i].paid, c), pct(g[i].loss_ratio, d),
             g[i].beneficiaries);
}

/* A distribution by bucket: people and amount. */
static void print_buckets(const struct bt_bucket *h)
{
  char a[48];
  for (int k = 0; k < BT_BUCKETS; k++)
    printf("  %-10s %8" PRId64 "  %16s\n", bt_bucket_name[k], h[k].people, yuan(h[k].amount, a));
}

static void print_text(const struct bt_plan *bp, const struct bt_report *r, const struct people *pp)
{
  const struct plan *p = &bp->plan;
  char a[48], c[48], d[48];
  printf("== %s（%s）\n", p->name ? p->name : p->id, p->id);
  printf("参保人数 %" PRId64 "，结算 %" PRId64 " 笔，有自付费用者 %" PRId64 " 人\n", r->people,
         r->settlements, r->people_with_costs);
  printf("保费收入 %s 元，已赚保费 %s 元\n", yuan(r->premium, a), yuan(r->earned_premium, c));
  printf("赔付 %s 元（合规费用 %s 元）\n", yuan(r->paid, a), yuan(r->eligible, c));
  printf("赔付率 %s（按已赚保费 %s）", pct(r->loss_ratio, a), pct(r->loss_ratio_earned, c));
  if (p->loss_ratio_target >= 0)
    printf("，目标 %s", pct(p->loss_ratio_target, d));
  printf("\n受益 %" PRId64 " 人，占参保人数 %s\n", r->beneficiaries, pct(r->beneficiary_share, a));
  printf("参保人自付 %s 元，赔付后 %s 元，减负 %s\n", yuan(r->own_cost, a),
         yuan(r->own_cost_after, c), pct(r->own_cost_reduction, d));
  printf("-- 各责任\n");
  for (int i = 0; i < r->nresp; i++)
    printf("  %-28s %16s 元  受益 %" PRId64 " 人\n", p->resp[i].id, yuan(r->paid_resp[i], a),
           r->beneficiaries_resp[i]);
  printf("-- 年龄段（保费、赔付、赔付率、受益人数）\n");
  print_groups(r->age, bt_age_band_name, BT_AGE_BANDS, 8);
  printf("-- 险种\n");
  print_groups(r->scheme, bt_scheme_name, BT_SCHEMES, 10);
  printf("-- 年度赔付额分布（元：人数、金额）\n");
  print_buckets(r->payout_hist);
  printf("-- 赔付后剩余自付分布（有自付费用者）\n");
  print_buckets(r->own_after_hist);
  printf("-- 最大的赔付\n");
  for (int k = 0; k < r->ntop; k++)
    printf("  %-24s %16s 元（自付 %s 元）\n", people_at(pp, r->top[k].person)->psn_no,
           yuan(r->top[k].paid, a), yuan(r->top[k].own_cost, c));
}

/* The members of a JSON object, one a group with people: "name":{...}. */
static void json_groups(struct buf *o, const struct bt_group *g, const char *const *names, int n)
{
  char a[48], c[48];
  for (int i = 0, k = 0; i < n; i++) {
    if (!g[i].people)
      continue;
    if (k++)
      buf_addch(o, ',');
    buf_add_json_str(o, names[i], strlen(names[i]));
    buf_addf(o,
             ":{\"people\":%" PRId64 ",\"beneficiaries\":%" PRId64
             ",\"premium\":\"%s\",\"paid\":\"%s\",\"loss_ratio_bp\":%d}",
             g[i].people, g[i].beneficiaries, yuan(g[i].premium, a), yuan(g[i].paid, c),
             (int)g[i].loss_ratio);
  }
}

/* The elements of a JSON array, one a bucket: {"bucket":...,"people":...,"amount":...}. */
static void json_buckets(struct buf *o, const struct bt_bucket *h)
{
  char a[48];
  for (int k = 0; k < BT_BUCKETS; k++)
    buf_addf(o, "%s{\"bucket\":\"%s\",\"people\":%" PRId64 ",\"amount\":\"%s\"}", k ? "," : "",
             bt_bucket_name[k], h[k].people, yuan(h[k].amount, a));
}

static void json_report(struct buf *o, const struct bt_plan *bp, const struct bt_report *r,
                        const struct people *pp)
{
  const struct plan *p = &bp->plan;
  char a[48], c[48];
  buf_addstr(o, "{\"plan_id\":");
  buf_add_json_str(o, p->id, strlen(p->id));
  buf_addf(o,
           ",\"people\":%" PRId64 ",\"settlements\":%" PRId64 ",\"people_with_costs\":%" PRId64
           ",\"beneficiaries\":%" PRId64 ",\"beneficiary_share_bp\":%d",
           r->people, r->settlements, r->people_with_costs, r->beneficiaries,
           (int)r->beneficiary_share);
  buf_addf(o, ",\"premium\":\"%s\",\"earned_premium\":\"%s\"", yuan(r->premium, a),
           yuan(r->earned_premium, c));
  buf_addf(o, ",\"eligible\":\"%s\",\"paid\":\"%s\"", yuan(r->eligible, a), yuan(r->paid, c));
  buf_addf(o, ",\"loss_ratio_bp\":%d,\"loss_ratio_earned_bp\":%d,\"loss_ratio_target_bp\":%d",
           (int)r->loss_ratio, (int)r->loss_ratio_earned, (int)p->loss_ratio_target);
  buf_addf(o, ",\"own_cost\":\"%s\",\"own_cost_after\":\"%s\",\"own_cost_reduction_bp\":%d",
           yuan(r->own_cost, a), yuan(r->own_cost_after, c), (int)r->own_cost_reduction);
  buf_addstr(o, ",\"by_responsibility\":{");
  for (int i = 0; i < r->nresp; i++) {
    if (i)
      buf_addch(o, ',');
    buf_add_json_str(o, p->resp[i].id, strlen(p->resp[i].id));
    buf_addf(o, ":{\"paid\":\"%s\",\"beneficiaries\":%" PRId64 "}", yuan(r->paid_resp[i], a),
             r->beneficiaries_resp[i]);
  }
  buf_addstr(o, "},\"by_age\":{");
  json_groups(o, r->age, bt_age_band_name, BT_AGE_BANDS);
  buf_addstr(o, "},\"by_scheme\":{");
  json_groups(o, r->scheme, bt_scheme_name, BT_SCHEMES);
  buf_addstr(o, "},\"payout_distribution\":[");
  json_buckets(o, r->payout_hist);
  buf_addstr(o, "],\"own_cost_after_distribution\":[");
  json_buckets(o, r->own_after_hist);
  buf_addstr(o, "],\"largest\":[");
  for (int k = 0; k < r->ntop; k++) {
    const char *psn = people_at(pp, r->top[k].person)->psn_no;
    buf_addstr(o, k ? ",{\"psn_no\":" : "{\"psn_no\":");
    buf_add_json_str(o, psn, strlen(psn));
    buf_addf(o, ",\"paid\":\"%s\",\"own_cost\":\"%s\"}", yuan(r->top[k].paid, a),
             yuan(r->top[k].own_cost, c));
  }
  buf_addstr(o, "]}");
}

int cmd_backtest(int argc, char **argv)
{
  const char *plan_path[BT_PLANS_MAX], *setl_path = NULL, *details = NULL, *people_path = NULL;
  const char *json_path = NULL, *params[64];
  size_t nplans = 0, nparams = 0;
  struct bt_plan *bp = NULL;
  struct people *pp = NULL;
  struct year_prep *prep = NULL;
  struct premiums pj;
  struct hmb_err err;
  struct buf json = BUF_INIT((size_t)64 << 20);
  struct year_totals tot;
  bool allow_draft = false;
  hmb_date data_end = INT32_MIN;
  int64_t top_n = 20;
  int rc = 0;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--allow-draft")) {
      allow_draft = true;
      continue;
    }
    if (!v)
      goto usage;
    i++;
    if (!strcmp(a, "--plan") && nplans < BT_PLANS_MAX)
      plan_path[nplans++] = v;
    else if (!strcmp(a, "--settlements"))
      setl_path = v;
    else if (!strcmp(a, "--details"))
      details = v;
    else if (!strcmp(a, "--people"))
      people_path = v;
    else if (!strcmp(a, "--json"))
      json_path = v;
    else if (!strcmp(a, "--param") && nparams < ARRAY_SIZE(params))
      params[nparams++] = v;
    else if (!strcmp(a, "--top")) {
      hmb_err_init(&err);
      if (str_to_i64(v, strlen(v), 0, BT_TOP_MAX, &top_n, "--top", &err)) {
        cli_print_err("hmb backtest", &err);
        return 2;
      }
    } else if (!strcmp(a, "--data-end")) {
      hmb_err_init(&err);
      if (date_parse(v, strlen(v), &data_end, "--data-end", &err)) {
        cli_print_err("hmb backtest", &err);
        return 2;
      }
    } else
      goto usage;
  }
  if (!nplans || !setl_path || !people_path)
    goto usage;

  hmb_err_init(&err);
  bp = hmb_calloc(nplans, sizeof(*bp));
  if (!bp) {
    fprintf(stderr, "hmb backtest: 内存不足\n");
    return 2;
  }
  for (size_t k = 0; k < nplans; k++)
    plan_init(&bp[k].plan);
  /* the settlements' file is opened and mapped in meanwhile */
  prep = adjudicate_year_prepare(setl_path, details);
  if (people_load(&pp, people_path, cli_report, NULL, &err)) {
    cli_print_err(people_path, &err);
    rc = 2;
    goto done;
  }
  for (size_t k = 0; k < nplans; k++) {
    struct plan *p = &bp[k].plan;
    if (plan_load(p, plan_path[k], cli_report_path, &plan_path[k], &err)) {
      fprintf(stderr, "hmb backtest: %s：产品方案无效\n", plan_path[k]);
      rc = 2;
      goto done;
    }
    if (p->draft && !allow_draft) {
      fprintf(stderr, "hmb backtest: %s 是草案（status: draft），仅供测试时加 --allow-draft\n",
              plan_path[k]);
      rc = 2;
      goto done;
    }
    if (p->has_family_scope) {
      fprintf(stderr, "hmb backtest: %s 含家庭共用的免赔额或限额，回测尚不支持\n", plan_path[k]);
      rc = 2;
      goto done;
    }
    for (size_t i = 0; i < nparams; i++)
      if (plan_set_param(p, params[i], &err)) {
        cli_print_err(plan_path[k], &err);
        rc = 2;
        goto done;
      }
    bt_init(&bp[k].agg, p);
    bp[k].pj = &pj;
  }
  memset(&pj, 0, sizeof(pj));
  pj.bp = bp;
  pj.nplans = nplans;
  pj.pp = pp;
  year_prep_then(prep, premiums_job, &pj);

  for (size_t k = 0; k < nplans; k++) {
    struct year_totals yt;
    struct year_prep *yp = prep;
    prep = NULL; /* the first run takes it */
    enum hmb_status result = adjudicate_year("hmb backtest", &bp[k].plan, pp, setl_path, details,
                                             yp, take_year, &bp[k], &yt);
    if (pj.status) {
      /* adjudicate_year() has waited for the premiums */
      cli_print_err(pj.psn_no, &pj.err);
      rc = 2;
      goto done;
    }
    if (result) {
      rc = 2;
      goto done;
    }
    bt_run_totals(&bp[k].agg, yt.settled + yt.reversals, yt.eligible);
    if (!k)
      tot = yt;
    else if (yt.rejected != tot.rejected || yt.not_enrolled != tot.not_enrolled)
      BUG("plans judged the same rows differently");
  }
  if (data_end == INT32_MIN)
    data_end = tot.last_day;

  buf_addstr(&json, "{\"rows\":");
  buf_addf(&json,
           "%" PRId64 ",\"rejected\":%" PRId64 ",\"repeated\":%" PRId64 ",\"not_enrolled\":%" PRId64
           ",\"reversals\":%" PRId64 ",\"plans\":[",
           tot.rows, tot.rejected, tot.repeated, tot.not_enrolled, tot.reversals);
  printf("结算记录 %" PRId64 " 行：有误 %" PRId64 "（其中重复 %" PRId64 "），非参保人 %" PRId64
         "，冲销 %" PRId64 "\n",
         tot.rows, tot.rejected, tot.repeated, tot.not_enrolled, tot.reversals);
  for (size_t k = 0; k < nplans; k++) {
    static struct bt_report r;
    struct plan *p = &bp[k].plan;
    bt_finish(&bp[k].agg, p->cover_start, p->cover_end,
              data_end == INT32_MIN ? p->cover_start - 1 : data_end, (int)top_n, &r);
    print_text(&bp[k], &r, pp);
    if (k)
      buf_addch(&json, ',');
    json_report(&json, &bp[k], &r, pp);
  }
  if (buf_addstr(&json, "]}\n")) {
    fprintf(stderr, "hmb backtest: 内存不足\n");
    rc = 2;
    goto done;
  }
  if (json_path) {
    FILE *f = fopen(json_path, "w");
    if (!f || fwrite(json.ptr, 1, json.len, f) != json.len || fclose(f)) {
      fprintf(stderr, "hmb backtest: 无法写入 %s\n", json_path);
      rc = 2;
      goto done;
    }
  }
  rc = tot.rejected ? 1 : 0;
done:
  year_prep_free(prep);
  if (bp)
    for (size_t k = 0; k < nplans; k++)
      bt_plan_release(&bp[k]);
  free(bp);
  people_free(pp);
  buf_release(&json);
  return rc;
usage:
  fputs(backtest_usage, stderr);
  return 2;
}

/*
 * hmb price: search a space of plan variants (deductibles, ratios, band
 * edges, caps, premiums) for those that meet a target loss ratio range and
 * a regulatory profile on a year's history, ranked by the people helped and
 * by the reduction of what the enrolled pay themselves.
 *
 * The year is run once under the base plan with hmb adjudicate's fast
 * reader (adjudicate_year()); each enrolled person's year becomes their
 * eligible totals per responsibility (domain/price.h), and every variant is
 * judged on those totals by the engine's payout function, on all cores.
 * Figures are exact: the base plan's equal hmb backtest's to the fen, and
 * so does any variant's (tests/cli/price.sh checks both).
 */
#include "compat.h"
#include "cli.h"
#include "people.h"
#include "plan_json.h"
#include "price_json.h"
#include "profile_json.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define PRICE_THREADS_MAX 64

static const char price_usage[] =
    "用法: hmb price --plan P --space S --settlements FILE [--details FILE] --people FILE\n"
    "                [--profile yunnan-2023] [--target 80%-90%] [--top 10] [--json OUT]\n"
    "                [--threads N] [--param NAME[.SCHEME]=AMOUNT] [--allow-draft]\n"
    "  在一年的结算记录上评估方案参数（免赔额、比例、分段、限额、保费）的所有组合，\n"
    "  找出赔付率落在目标区间且符合监管规则的方案，按受益人数与减负程度排序。\n";

/* What is known of one variant after its evaluation. */
struct variant {
  struct price_result r;
  int16_t violations; /* of the profile's rules; -1: not a valid plan */
};

struct job {
  const struct price_space *sp;
  const struct price_table *table;
  const struct plan *base;
  const struct profile *profile; /* may be NULL */
  struct variant *out;
  uint64_t count;
  int tid, nthreads;
  enum hmb_status status;
  struct hmb_err err;
};

static void *job_main(void *arg)
{
  struct job *j = arg;
  struct plan *q = hmb_malloc(sizeof(*q));
  if (!q) {
    j->status = hmb_err_set(&j->err, HMB_NOMEM, "nomem", "", "内存不足");
    return NULL;
  }
  /* interleaved, so that both threads get costly and cheap variants alike */
  for (uint64_t k = (uint64_t)j->tid; k < j->count && !j->status; k += (uint64_t)j->nthreads) {
    struct variant *v = &j->out[k];
    struct hmb_err e;
    int viol = 0;
    *q = *j->base; /* shallow: the variant only writes amounts */
    hmb_err_init(&e);
    v->r.variant = k;
    if (price_variant_apply(j->sp, k, q, &e)) {
      v->violations = -1;
      continue;
    }
    if (j->profile && regprofile_check(j->profile, q, NULL, NULL, &viol))
      viol = INT16_MAX;
    v->violations = (int16_t)(viol < INT16_MAX ? viol : INT16_MAX);
    j->status = price_eval(j->table, q, &v->r, NULL, &j->err);
    v->r.variant = k;
  }
  free(q);
  return NULL;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Chinese name of an axis kind. */
static const char *kind_zh(enum price_kind k)
{
  static const char *const zh[PRICE__KINDS] = {"免赔额", "赔付比例", "分段起点", "限额", "保费"};
  return zh[k];
}

/* "15000.00" or "80.00%" of an axis value. */
static const char *value_text(enum price_kind k, int64_t v, char *b)
{
  if (k == PRICE_RATIO)
    ratio_format((hmb_bp)v, b);
  else
    money_format(v, b);
  return b;
}

static const char *pct(hmb_bp bp, char *b)
{
  if (bp < 0)
    snprintf(b, 32, "-");
  else
    ratio_format(bp, b);
  return b;
}

static const char *yuan(hmb_fen v, char *b)
{
  money_format(v, b);
  return b;
}

/* One line per variant: the values of its axes, then its figures. */
static void print_variant(const struct price_space *sp, const struct variant *v)
{
  int64_t val[PRICE_MAX_AXES] = {0};
  char a[48], c[48], d[48], e[48], f[48], g[48];
  price_variant_values(sp, v->r.variant, val);
  if (sp->naxes)
    printf("  #%-8" PRIu64, v->r.variant);
  else
    printf("  方案文件中的参数");
  for (int x = 0; x < sp->naxes; x++)
    printf(" %s[%s%s] %s", kind_zh(sp->axes[x].kind), sp->axes[x].t[0].label,
           sp->axes[x].nt > 1 ? " 等" : "", value_text(sp->axes[x].kind, val[x], a));
  printf("\n            赔付率 %s，保费 %s 元（人均 %s），赔付 %s 元，受益 %" PRId64
         " 人（%s），减负 %s\n",
         pct(v->r.loss_ratio, a), yuan(v->r.premium, c), yuan(v->r.premium_avg, d),
         yuan(v->r.paid, e), v->r.beneficiaries, pct(v->r.share, f), pct(v->r.reduction, g));
}

static void json_variant(struct buf *o, const struct price_space *sp, const struct plan *base,
                         const struct price_table *t, const struct variant *v)
{
  int64_t val[PRICE_MAX_AXES] = {0};
  hmb_fen paid_resp[PLAN_MAX_RESP];
  struct price_result again;
  struct hmb_err err;
  struct plan *q = hmb_malloc(sizeof(*q));
  char a[48];
  price_variant_values(sp, v->r.variant, val);
  buf_addf(o, "{\"variant\":%" PRIu64 ",\"values\":[", v->r.variant);
  for (int x = 0; x < sp->naxes; x++) {
    buf_addstr(o, x ? ",\"" : "\"");
    buf_addstr(o, value_text(sp->axes[x].kind, val[x], a));
    buf_addch(o, '"');
  }
  buf_addf(o, "],\"premium\":\"%s\"", yuan(v->r.premium, a));
  buf_addf(o, ",\"premium_avg\":\"%s\"", yuan(v->r.premium_avg, a));
  buf_addf(o, ",\"paid\":\"%s\"", yuan(v->r.paid, a));
  buf_addf(o,
           ",\"loss_ratio_bp\":%d,\"beneficiaries\":%" PRId64
           ",\"beneficiary_share_bp\":%d,\"own_cost_reduction_bp\":%d,\"profile_violations\":%d",
           (int)v->r.loss_ratio, v->r.beneficiaries, (int)v->r.share, (int)v->r.reduction,
           (int)v->violations);
  /* the payout by responsibility, for the variants shown */
  hmb_err_init(&err);
  if (q) {
    *q = *base;
    if (!price_variant_apply(sp, v->r.variant, q, &err) &&
        !price_eval(t, q, &again, paid_resp, &err)) {
      buf_addstr(o, ",\"by_responsibility\":{");
      for (int r = 0; r < base->nresp; r++) {
        if (r)
          buf_addch(o, ',');
        buf_add_json_str(o, base->resp[r].id, strlen(base->resp[r].id));
        buf_addf(o, ":\"%s\"", yuan(paid_resp[r], a));
      }
      buf_addch(o, '}');
    }
    free(q);
  }
  buf_addch(o, '}');
}

/* People's classes, then their years: the table's two passes. */
struct fill {
  struct price_table *t;
  const int *cls;
};

static enum hmb_status take_year(void *ctx, const struct year_person *yp, struct hmb_err *err)
{
  struct fill *f = ctx;
  return price_table_add(f->t, f->cls[yp->people_index], yp->acc, yp->own_cost, err);
}

/* "80%-90%" */
static enum hmb_status target_parse(const char *s, hmb_bp *lo, hmb_bp *hi, struct hmb_err *err)
{
  const char *dash = strchr(s, '-');
  if (!dash)
    return hmb_err_set(err, HMB_INVALID, "price.target", "--target",
                       "应写成“下限-上限”，如 80%%-90%%");
  if (price_loss_ratio_parse(s, (size_t)(dash - s), lo, "--target", err) ||
      price_loss_ratio_parse(dash + 1, strlen(dash + 1), hi, "--target", err))
    return HMB_INVALID;
  if (*hi < *lo)
    return hmb_err_set(err, HMB_INVALID, "price.target", "--target", "下限大于上限");
  return HMB_OK;
}

/* Distance of a loss ratio from the target range (0 inside). */
static int64_t off_target(const struct price_space *sp, hmb_bp lr)
{
  return lr < sp->target_min ? sp->target_min - lr : lr > sp->target_max ? lr - sp->target_max : 0;
}

/* qsort_r() orders: ctx is the space for the distance from its target range. */
static int cmp_closest(const void *a, const void *b, void *ctx)
{
  const struct variant *x = a, *y = b;
  const struct price_space *sp = ctx;
  int64_t dx = off_target(sp, x->r.loss_ratio), dy = off_target(sp, y->r.loss_ratio);
  if (dx != dy)
    return dx < dy ? -1 : 1;
  return price_cmp_people(&x->r, &y->r);
}

static int cmp_people(const void *a, const void *b, void *ctx)
{
  (void)ctx;
  return price_cmp_people(&((const struct variant *)a)->r, &((const struct variant *)b)->r);
}

static int cmp_reduction(const void *a, const void *b, void *ctx)
{
  (void)ctx;
  return price_cmp_reduction(&((const struct variant *)a)->r, &((const struct variant *)b)->r);
}

/* The first n of a ranking: printed under title, and as the JSON member key. */
static void show_ranking(struct buf *json, const char *key, const char *title,
                         const struct price_space *sp, const struct plan *plan,
                         const struct price_table *t, const struct variant *v, uint64_t n)
{
  printf("-- %s（前 %" PRIu64 " 个）\n", title, n);
  buf_addf(json, ",\"%s\":[", key);
  for (uint64_t k = 0; k < n; k++) {
    print_variant(sp, &v[k]);
    if (k)
      buf_addch(json, ',');
    json_variant(json, sp, plan, t, &v[k]);
  }
  buf_addch(json, ']');
}

int cmd_price(int argc, char **argv)
{
  const char *plan_path = NULL, *space_path = NULL, *setl_path = NULL, *details = NULL;
  const char *people_path = NULL, *profile_name = NULL, *json_path = NULL, *target = NULL;
  const char *params[64];
  size_t nparams = 0, npeople;
  int64_t top_n = 10, nthreads = 0;
  bool allow_draft = false, have_profile = false;
  struct plan plan;
  struct profile profile;
  struct people *pp = NULL;
  struct year_prep *prep = NULL;
  static struct price_space sp;
  struct price_table table;
  struct year_totals yt;
  struct hmb_err err;
  struct variant *vs = NULL, *feasible = NULL, base_v;
  struct job jobs[PRICE_THREADS_MAX];
  pthread_t th[PRICE_THREADS_MAX];
  struct buf json = BUF_INIT((size_t)64 << 20);
  int *cls = NULL, rc = 0, nth;
  uint64_t count, nvalid = 0, ncompliant = 0, ntarget = 0, nfeasible = 0;
  double t0, t_year, t_eval;
  char a[48], b[48];

  for (int i = 0; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(o, "--allow-draft")) {
      allow_draft = true;
      continue;
    }
    if (!v)
      goto usage;
    i++;
    hmb_err_init(&err);
    if (!strcmp(o, "--plan"))
      plan_path = v;
    else if (!strcmp(o, "--space"))
      space_path = v;
    else if (!strcmp(o, "--settlements"))
      setl_path = v;
    else if (!strcmp(o, "--details"))
      details = v;
    else if (!strcmp(o, "--people"))
      people_path = v;
    else if (!strcmp(o, "--profile"))
      profile_name = v;
    else if (!strcmp(o, "--json"))
      json_path = v;
    else if (!strcmp(o, "--target"))
      target = v;
    else if (!strcmp(o, "--param") && nparams < ARRAY_SIZE(params))
      params[nparams++] = v;
    else if (!strcmp(o, "--top") || !strcmp(o, "--threads")) {
      bool top = !strcmp(o, "--top");
      if (str_to_i64(v, strlen(v), top ? 0 : 1, top ? 1000 : PRICE_THREADS_MAX,
                     top ? &top_n : &nthreads, o, &err)) {
        cli_print_err("hmb price", &err);
        return 2;
      }
    } else
      goto usage;
  }
  if (!plan_path || !space_path || !setl_path || !people_path)
    goto usage;

  hmb_err_init(&err);
  plan_init(&plan);
  regprofile_init(&profile);
  price_table_init(&table, &plan);
  t0 = now_s();
  if (plan_load(&plan, plan_path, cli_report_path, &plan_path, &err)) {
    fprintf(stderr, "hmb price: %s：产品方案无效\n", plan_path);
    rc = 2;
    goto done;
  }
  if (plan.draft && !allow_draft) {
    fprintf(stderr, "hmb price: %s 是草案（status: draft），仅供测试时加 --allow-draft\n",
            plan_path);
    rc = 2;
    goto done;
  }
  for (size_t i = 0; i < nparams; i++)
    if (plan_set_param(&plan, params[i], &err)) {
      cli_print_err(plan_path, &err);
      rc = 2;
      goto done;
    }
  price_table_init(&table, &plan); /* now that the plan is known */
  if (price_space_load(&sp, &plan, space_path, &err)) {
    cli_print_err(space_path, &err);
    rc = 2;
    goto done;
  }
  if (target && target_parse(target, &sp.target_min, &sp.target_max, &err)) {
    cli_print_err("hmb price", &err);
    rc = 2;
    goto done;
  }
  if (profile_name) {
    if (regprofile_load_named(&profile, profile_name, &err)) {
      cli_print_err(profile_name, &err);
      rc = 2;
      goto done;
    }
    have_profile = true;
  }
  /* the settlements' file is opened and mapped in meanwhile */
  prep = adjudicate_year_prepare(setl_path, details);
  if (people_load(&pp, people_path, cli_report, NULL, &err)) {
    cli_print_err(people_path, &err);
    rc = 2;
    goto done;
  }

  /* who everyone is, then each person's year under the base plan */
  npeople = people_count(pp);
  cls = hmb_reallocarray(NULL, npeople ? npeople : 1, sizeof(*cls));
  if (!cls) {
    fprintf(stderr, "hmb price: 内存不足\n");
    rc = 2;
    goto done;
  }
  for (size_t i = 0; i < npeople; i++) {
    struct adj_person who;
    people_adj_person(&plan, people_at(pp, i), &who);
    if (price_table_person(&table, &who, &cls[i], &err)) {
      cli_print_err(people_at(pp, i)->psn_no, &err);
      rc = 2;
      goto done;
    }
  }
  {
    struct fill f = {&table, cls};
    struct year_prep *yp = prep;
    prep = NULL; /* the run takes it */
    if (adjudicate_year("hmb price", &plan, pp, setl_path, details, yp, take_year, &f, &yt)) {
      rc = 2;
      goto done;
    }
  }
  price_table_finish(&table);
  t_year = now_s() - t0;

  /* every variant, on all cores */
  count = price_space_count(&sp);
  vs = hmb_calloc(count, sizeof(*vs));
  feasible = vs ? hmb_calloc(count, sizeof(*feasible)) : NULL;
  if (!feasible) {
    fprintf(stderr, "hmb price: 内存不足\n");
    rc = 2;
    goto done;
  }
  if (!nthreads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = n < 1 ? 1 : n > PRICE_THREADS_MAX ? PRICE_THREADS_MAX : n;
  }
  nth = (int)((uint64_t)nthreads < count ? (uint64_t)nthreads : count);
  t0 = now_s();
  for (int k = 0; k < nth; k++) {
    memset(&jobs[k], 0, sizeof(jobs[k]));
    jobs[k].sp = &sp;
    jobs[k].table = &table;
    jobs[k].base = &plan;
    jobs[k].profile = have_profile ? &profile : NULL;
    jobs[k].out = vs;
    jobs[k].count = count;
    jobs[k].tid = k;
    jobs[k].nthreads = nth;
    hmb_err_init(&jobs[k].err);
    if (pthread_create(&th[k], NULL, job_main, &jobs[k])) {
      fprintf(stderr, "hmb price: 无法创建线程\n");
      nth = k;
      rc = 2;
      break;
    }
  }
  for (int k = 0; k < nth; k++)
    pthread_join(th[k], NULL);
  t_eval = now_s() - t0;
  for (int k = 0; k < nth && !rc; k++)
    if (jobs[k].status) {
      cli_print_err("hmb price", &jobs[k].err);
      rc = 2;
    }
  if (rc)
    goto done;

  /* the base plan as it is, for comparison */
  memset(&base_v, 0, sizeof(base_v));
  if (price_eval(&table, &plan, &base_v.r, NULL, &err)) {
    cli_print_err("hmb price", &err);
    rc = 2;
    goto done;
  }
  {
    int viol = 0;
    if (have_profile && regprofile_check(&profile, &plan, NULL, NULL, &viol))
      viol = INT16_MAX;
    base_v.violations = (int16_t)viol;
  }

  for (uint64_t k = 0; k < count; k++) {
    const struct variant *v = &vs[k];
    bool in = v->violations >= 0 && !off_target(&sp, v->r.loss_ratio) && v->r.loss_ratio >= 0;
    nvalid += v->violations >= 0;
    ncompliant += v->violations == 0;
    ntarget += in;
    if (in && v->violations == 0)
      feasible[nfeasible++] = *v;
  }

  printf("结算记录 %" PRId64 " 行：理算 %" PRId64 "，冲销 %" PRId64 "，有误 %" PRId64
         "，非参保人 %" PRId64 "；参保 %" PRId64 " 人，有合规费用 %zu 人\n",
         yt.rows, yt.settled, yt.reversals, yt.rejected, yt.not_enrolled, table.people, table.n);
  printf("方案 %s：%" PRIu64 " 个组合，有效 %" PRIu64 "，符合%s %" PRIu64
         "，赔付率在 %s–%s 的 %" PRIu64 "，两者兼备 %" PRIu64 "\n",
         plan.id, count, nvalid, have_profile ? profile.id : "规则（未指定）", ncompliant,
         pct(sp.target_min, a), pct(sp.target_max, b), ntarget, nfeasible);
  printf("用时：读取与理算 %.2f s，评估 %.3f s（%d 线程，每秒 %.0f 个方案）\n", t_year, t_eval, nth,
         t_eval > 0 ? (double)count / t_eval : 0.0);
  printf("-- 现行方案%s\n", base_v.violations > 0 ? "（不符合规则）" : "");
  {
    struct price_space none = sp;
    none.naxes = 0;
    print_variant(&none, &base_v);
  }

  buf_addstr(&json, "{\"plan_id\":");
  buf_add_json_str(&json, plan.id, strlen(plan.id));
  buf_addf(&json,
           ",\"profile\":%s%s%s,\"target_min_bp\":%d,\"target_max_bp\":%d,\"people\":%" PRId64
           ",\"own_cost\":\"%s\",\"variants\":%" PRIu64 ",\"valid\":%" PRIu64
           ",\"compliant\":%" PRIu64 ",\"in_target\":%" PRIu64 ",\"feasible\":%" PRIu64
           ",\"axes\":[",
           have_profile ? "\"" : "", have_profile ? profile.id : "null", have_profile ? "\"" : "",
           (int)sp.target_min, (int)sp.target_max, table.people, yuan(table.own_cost, a), count,
           nvalid, ncompliant, ntarget, nfeasible);
  for (int x = 0; x < sp.naxes; x++) {
    buf_addf(&json, "%s{\"kind\":\"%s\",\"targets\":[", x ? "," : "",
             price_kind_name[sp.axes[x].kind]);
    for (int i = 0; i < sp.axes[x].nt; i++) {
      if (i)
        buf_addch(&json, ',');
      buf_add_json_str(&json, sp.axes[x].t[i].label, strlen(sp.axes[x].t[i].label));
    }
    buf_addstr(&json, "]}");
  }
  buf_addstr(&json, "],\"base\":");
  {
    struct price_space none = sp;
    none.naxes = 0;
    json_variant(&json, &none, &plan, &table, &base_v);
  }
  if (nfeasible) {
    uint64_t n = (uint64_t)top_n < nfeasible ? (uint64_t)top_n : nfeasible;
    qsort_r(feasible, nfeasible, sizeof(*feasible), cmp_people, NULL);
    show_ranking(&json, "by_people", "受益人数最多的方案", &sp, &plan, &table, feasible, n);
    qsort_r(feasible, nfeasible, sizeof(*feasible), cmp_reduction, NULL);
    show_ranking(&json, "by_reduction", "减负最多的方案", &sp, &plan, &table, feasible, n);
  } else {
    /* nothing meets both: the compliant variants nearest the range */
    uint64_t n = 0;
    for (uint64_t k = 0; k < count; k++)
      if (vs[k].violations == 0)
        feasible[n++] = vs[k];
    qsort_r(feasible, n, sizeof(*feasible), cmp_closest, &sp);
    show_ranking(&json, "closest", "没有方案同时满足目标赔付率与规则；最接近目标的合规方案", &sp,
                 &plan, &table, feasible, n < (uint64_t)top_n ? n : (uint64_t)top_n);
  }
  buf_addf(&json, ",\"seconds_year\":%.3f,\"seconds_eval\":%.3f,\"threads\":%d}\n", t_year, t_eval,
           nth);
  if (json_path) {
    FILE *f = fopen(json_path, "w");
    if (!f || fwrite(json.ptr, 1, json.len, f) != json.len || fclose(f)) {
      fprintf(stderr, "hmb price: 无法写入 %s\n", json_path);
      rc = 2;
      goto done;
    }
  }
  rc = yt.rejected ? 1 : 0;
done:
  year_prep_free(prep);
  free(vs);
  free(feasible);
  free(cls);
  buf_release(&json);
  price_table_release(&table);
  people_free(pp);
  regprofile_release(&profile);
  plan_release(&plan);
  return rc;
usage:
  fputs(price_usage, stderr);
  return 2;
}

#include "compat.h"
#include "cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "synth.h"
#include "synth_csv.h"

/*
 * `hmb gen`: a deterministic synthetic city (docs/gen.md). The records come
 * from domain/synth.c and their text from io/synth_csv.c; this file parses
 * the options, holds the year's events in memory, sorts them into time
 * order and writes the four files in writes of 8 MiB at multiples of 8 MiB:
 * the page cache then holds them in 2 MiB folios, which a reader's mmap()
 * maps with one page-table entry each (see out_room()).
 *
 * Memory: about 42 bytes per enrolled person (member record, year so far,
 * event count) and 32 bytes per settlement (the events and the sort's
 * second array): about 360 MB for a year of 10 million.
 */

static const char usage[] =
    "用法: hmb gen --out-dir DIR [--seed N] [--people N] [--enroll-rate BP]\n"
    "              [--settlements N] [--year 2024] [--admdvs 371500]\n"
    "  生成一个确定的合成城市：参保名单 roster.csv（hmb roster import）、投保人员 people.csv\n"
    "  （--people）、一年的结算 settlements.csv 及费用明细 details.csv（hmb adjudicate）\n"
    "  --seed N          随机种子（默认 1）；同一组参数总是生成相同的文件\n"
    "  --people N        基本医保参保人数（默认 1000000）\n"
    "  --enroll-rate BP  投保人数占参保人数的比例，基点（默认 3500 = 35%）\n"
    "  --settlements N   结算笔数（默认按人群的就诊率得出）；给定时恰好生成 N 笔\n"
    "  --year Y          年度（默认 2024）\n"
    "  --admdvs CODE     统筹区划（默认 371500 聊城市）\n";

#define OUT_BUF (8u << 20) /* what one write() writes; a multiple of 2 MiB */

struct out {
  int fd;
  char *path;
  char *buf;
  size_t len;
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum hmb_status out_open(struct out *o, const char *dir, const char *name,
                                struct hmb_err *err)
{
  size_t n = strlen(dir) + strlen(name) + 2;
  memset(o, 0, sizeof(*o));
  o->fd = -1;
  o->path = hmb_malloc(n);
  o->buf = hmb_malloc(OUT_BUF + SYNTH_CSV_ROW_MAX);
  if (!o->path || !o->buf)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  snprintf(o->path, n, "%s/%s", dir, name);
  o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (o->fd < 0)
    return hmb_err_set(err, HMB_IO, "gen.open", o->path, "无法创建文件：%s", strerror(errno));
  return HMB_OK;
}

/* Write the first n bytes of the buffer and keep the rest at its start. */
static enum hmb_status out_write(struct out *o, size_t n, struct hmb_err *err)
{
  size_t done = 0;
  if (n > o->len)
    BUG("writing %zu of %zu buffered bytes", n, o->len);
  while (done < n) {
    ssize_t w = write(o->fd, o->buf + done, n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return hmb_err_set(err, HMB_IO, "gen.write", o->path, "写入失败：%s",
                         w < 0 ? strerror(errno) : "no progress");
    done += (size_t)w;
  }
  memmove(o->buf, o->buf + n, o->len - n);
  o->len -= n;
  return HMB_OK;
}

static enum hmb_status out_flush(struct out *o, struct hmb_err *err)
{
  return out_write(o, o->len, err);
}

/* Room for one more row (SYNTH_CSV_ROW_MAX bytes) at o->buf + o->len.
 * Once the buffer holds more than OUT_BUF bytes, exactly OUT_BUF of them
 * are written and the row cut there waits for the next write: every write
 * but the last then starts and ends at a multiple of 2 MiB, and a buffered
 * write to ext4 (Linux 6.16 on) caches each aligned 2 MiB in one folio.
 * Writes cut at row ends left smaller folios around each cut (a quarter
 * of a generated file), and mapping a file cached in 4 KiB folios costs a
 * 10-million-row read 0.17-0.25 s more CPU (docs/gen.md). */
static inline enum hmb_status out_room(struct out *o, struct hmb_err *err)
{
  if (o->len > OUT_BUF)
    return out_write(o, OUT_BUF, err);
  return HMB_OK;
}

static enum hmb_status out_str(struct out *o, const char *s, struct hmb_err *err)
{
  size_t n = strlen(s);
  enum hmb_status result = out_room(o, err);
  if (result)
    return result;
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  return HMB_OK;
}

/* Flush and close; also on failure paths (then errors are not reported twice). */
static enum hmb_status out_close(struct out *o, bool flush, struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  if (o->fd >= 0) {
    if (flush)
      result = out_flush(o, err);
    if (close(o->fd) != 0 && !result && flush)
      result = hmb_err_set(err, HMB_IO, "gen.close", o->path, "写入失败：%s", strerror(errno));
    o->fd = -1;
  }
  free(o->buf);
  free(o->path);
  o->buf = o->path = NULL;
  return result;
}

static bool parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
  char *end = NULL;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s || *end != '\0' || s[0] == '-' || s[0] == '+' || v < min || v > max) {
    fprintf(stderr, "hmb gen: %s 应为 %" PRIu64 " 至 %" PRIu64 " 之间的整数，而不是“%s”\n", opt,
            min, max, s);
    return false;
  }
  *out = (uint64_t)v;
  return true;
}

/* ---- sorting the year: by day, then by key within the day ---- */

static int ev_cmp(const void *a, const void *b)
{
  uint64_t x = ((const struct synth_event *)a)->key, y = ((const struct synth_event *)b)->key;
  return (x > y) - (x < y);
}

static void sort_events(struct synth_event *ev, struct synth_event *tmp, size_t n, int days)
{
  size_t start[367];
  memset(start, 0, sizeof(start));
  for (size_t i = 0; i < n; i++)
    start[SYNTH_KEY_TIME(ev[i].key) / 86400 + 1]++;
  for (int d = 1; d <= days; d++)
    start[d] += start[d - 1];
  for (size_t i = 0; i < n; i++)
    tmp[start[SYNTH_KEY_TIME(ev[i].key) / 86400]++] = ev[i];
  /* start[d] is now the end of day d */
  for (int d = 0; d < days; d++) {
    size_t lo = d ? start[d - 1] : 0;
    qsort(tmp + lo, start[d] - lo, sizeof(*tmp), ev_cmp);
  }
  memcpy(ev, tmp, n * sizeof(*ev));
}

/* ---- the summary ---- */

static double pct(uint64_t a, uint64_t b)
{
  return b ? 100.0 * (double)a / (double)b : 0.0;
}

static double per(uint64_t a, uint64_t b)
{
  return b ? (double)a / (double)b : 0.0;
}

static void print_summary(const struct synth_config *c, const struct synth_stats *st,
                          size_t details_rows, const double t[5], off_t sizes[4])
{
  double tt = t[4] - t[0];
  printf("hmb gen: %s %d 年，种子 %" PRIu64 "\n", c->admdvs, c->year, c->seed);
  printf("  参保名单 %" PRIu64
         " 人：0-14 岁 %.1f%%，15-59 岁 %.1f%%，60 岁及以上 %.1f%%，平均 %.1f "
         "岁；职工 %.1f%%（其中退休 %.1f%%）；医疗救助 %.1f%%；暂停 %.1f%%，终止 %.1f%%；"
         "家庭成员 %.1f%%\n",
         st->people, pct(st->age_band[0], st->people), pct(st->age_band[1], st->people),
         pct(st->age_band[2], st->people), per(st->age_sum, st->people),
         pct(st->employees, st->people), pct(st->retired, st->employees),
         pct(st->assistance, st->people), pct(st->suspended, st->people),
         pct(st->ended, st->people), pct(st->in_family, st->people));
  printf("  模型期望（全体参保人，每人每年）：住院 %.3f 次，门诊/慢特病/药店 %.2f 笔；"
         "慢病 %.1f%%，重病 %.1f%%，危重 %.2f%%\n",
         per(st->expect_all.stays_milli, st->people) / 1000.0,
         per(st->expect_all.minor_milli, st->people) / 1000.0, pct(st->health[1], st->people),
         pct(st->health[2], st->people), pct(st->health[3], st->people));
  printf("  投保 %" PRIu64
         " 人（%.2f%%）：0-14 岁 %.1f%%，15-59 岁 %.1f%%，60 岁及以上 %.1f%%，平均 "
         "%.1f 岁；职工 %.1f%%；医疗救助 %.1f%%；既往症 %.1f%%；慢病 %.1f%%，重病 %.1f%%，危重 "
         "%.2f%%；续保 %.1f%%\n",
         st->enrolled, pct(st->enrolled, st->people), pct(st->enr_age_band[0], st->enrolled),
         pct(st->enr_age_band[1], st->enrolled), pct(st->enr_age_band[2], st->enrolled),
         per(st->enr_age_sum, st->enrolled), pct(st->enr_employees, st->enrolled),
         pct(st->enr_assistance, st->enrolled), pct(st->enr_preexisting, st->enrolled),
         pct(st->enr_health[1], st->enrolled), pct(st->enr_health[2], st->enrolled),
         pct(st->enr_health[3], st->enrolled), pct(st->enr_loyal, st->enrolled));
  printf("  结算 %" PRIu64
         " 笔（每名投保人 %.2f 笔）：普通门诊 %.1f%%，门诊慢特病 %.1f%%，药店 %.1f%%，"
         "住院 %.1f%%，生育 %.2f%%；住院 %" PRIu64 " 次（每名投保人 %.3f 次）\n",
         st->setl, per(st->setl, st->enrolled), pct(st->med_type[0], st->setl),
         pct(st->med_type[1], st->setl), pct(st->med_type[2], st->setl),
         pct(st->med_type[3], st->setl), pct(st->med_type[4], st->setl), st->stays,
         per(st->stays, st->enrolled));
  printf("  次均住院费用：居民 %.0f 元，职工 %.0f 元；目录内基金支付比例：居民 %.1f%%，职工 "
         "%.1f%%；超过 10 万元 %" PRIu64 " 笔，超过 100 万元 %" PRIu64 " 笔\n",
         per((uint64_t)st->stay_cost[0], st->stays_by[0]) / 100.0,
         per((uint64_t)st->stay_cost[1], st->stays_by[1]) / 100.0,
         pct((uint64_t)st->stay_fund[0], (uint64_t)st->stay_catalogue[0]),
         pct((uint64_t)st->stay_fund[1], (uint64_t)st->stay_catalogue[1]), st->rows_over_100k,
         st->rows_over_1m);
  printf("  费用明细 %zu 行（%" PRIu64 " 笔结算，其中特药目录内 %" PRIu64
         " 行）；基金支付超过范围内金额 "
         "%" PRIu64 " 笔\n",
         details_rows, st->rows_with_lines, st->listed_lines, st->excess_rows);
  printf(
      "  文件：roster.csv %.1f MB，people.csv %.1f MB，settlements.csv %.1f MB，details.csv %.1f "
      "MB\n",
      (double)sizes[0] / 1e6, (double)sizes[1] / 1e6, (double)sizes[2] / 1e6,
      (double)sizes[3] / 1e6);
  printf("  用时 %.2f s（名单 %.2f s，排期 %.2f s，排序 %.2f s，结算 %.2f s）；%.0f 笔结算/s\n", tt,
         t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], per(st->setl, 1) / (tt > 0 ? tt : 1));
}

/* ---- the command ---- */

struct gen {
  struct synth_config cfg;
  struct synth_csv csv;
  struct synth_roster roster;
  struct synth_stats st;
  struct out o[4];
  struct synth_member *members;
  size_t nmembers, amembers;
  uint16_t *nseq;        /* events planned per member */
  struct synth_acc *acc; /* each member's year so far */
  struct synth_event *ev, *tmp;
  size_t nev, aev;
  uint64_t target; /* 0: as planned */
  size_t details_rows;
};

static enum hmb_status grow_events(struct gen *g, size_t need, struct hmb_err *err)
{
  size_t na;
  struct synth_event *ne;
  if (need <= g->aev)
    return HMB_OK;
  na = g->aev ? g->aev : 1u << 16;
  while (na < need)
    na *= 2;
  ne = hmb_reallocarray(g->ev, na, sizeof(*ne));
  if (!ne)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  g->ev = ne;
  g->aev = na;
  return HMB_OK;
}

/* Phase 1: the roster and the enrolled. */
static enum hmb_status gen_roster(struct gen *g, struct hmb_err *err)
{
  const struct synth_person *p;
  enum hmb_status result;
  struct out *ro = &g->o[0], *po = &g->o[1];

  result = synth_roster_init(&g->roster, &g->cfg, err);
  if (result)
    return result;
  while ((p = synth_roster_next(&g->roster))) {
    result = out_room(ro, err);
    if (result)
      return result;
    ro->len = (size_t)(synth_csv_roster(&g->csv, p, ro->buf + ro->len) - ro->buf);
    synth_stats_person(&g->st, &g->cfg, p);
    if (!p->enrolled)
      continue;
    result = out_room(po, err);
    if (result)
      return result;
    po->len = (size_t)(synth_csv_people(&g->csv, p, po->buf + po->len) - po->buf);
    if (g->nmembers == g->amembers) {
      size_t na = g->amembers ? g->amembers * 2 : 1u << 14;
      struct synth_member *nm = hmb_reallocarray(g->members, na, sizeof(*nm));
      if (!nm)
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      g->members = nm;
      g->amembers = na;
    }
    synth_member_of(&g->cfg, p, &g->members[g->nmembers++]);
  }
  return HMB_OK;
}

/* Phase 2: the year's events of every member, brought to the target count. */
static enum hmb_status gen_plan(struct gen *g, struct hmb_err *err)
{
  struct synth_event *one = NULL;
  enum hmb_status result = HMB_OK;
  struct rng fix;

  if (g->target) {
    struct synth_expect e = {0, 0, 0};
    uint64_t want = g->target * 1000;
    for (size_t i = 0; i < g->nmembers; i++)
      synth_expect_add(&g->cfg, &g->members[i], &e);
    if (want >= e.major_milli) {
      /* the minor visits make up the difference, at most 1000 times their rate */
      uint64_t s = e.minor_milli ? (want - e.major_milli) * 1000 / e.minor_milli : 1000;
      g->cfg.minor_scale_milli = (uint32_t)(s > 1000000 ? 1000000 : s);
    } else {
      /* too few rows for the stays and drugs of this population: scale them all */
      uint64_t s = want * 1000 / (e.major_milli + e.minor_milli);
      g->cfg.minor_scale_milli = g->cfg.major_scale_milli = (uint32_t)s;
    }
    if (g->nmembers && g->target / g->nmembers > SYNTH_SEQ_MAX / 2)
      return hmb_err_set(err, HMB_INVALID, "gen.settlements", "--settlements",
                         "结算笔数过多：每名投保人一年最多约 %u 笔（投保 %zu 人）",
                         SYNTH_SEQ_MAX / 2, g->nmembers);
  }
  g->nseq = hmb_calloc(g->nmembers ? g->nmembers : 1, sizeof(*g->nseq));
  one = hmb_malloc(SYNTH_SEQ_MAX * sizeof(*one));
  if (!g->nseq || !one) {
    free(one);
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  }
  result = grow_events(g, (size_t)(g->target ? g->target + g->target / 50 + 1024 : 1u << 20), err);
  for (size_t i = 0; i < g->nmembers && !result; i++) {
    size_t n = synth_plan(&g->cfg, (uint32_t)i, &g->members[i], one);
    result = grow_events(g, g->nev + n, err);
    if (result)
      break;
    memcpy(g->ev + g->nev, one, n * sizeof(*one));
    g->nev += n;
    g->nseq[i] = (uint16_t)n;
  }
  free(one);
  if (result || !g->target)
    return result;

  rng_seed3(&fix, g->cfg.seed, UINT64_C(0x4649585550), g->target);
  if (g->nev > g->target) {
    /* drop the surplus, every event alike (selection sampling keeps exactly target) */
    size_t keep = (size_t)g->target, kept = 0;
    for (size_t i = 0; i < g->nev; i++)
      if (rng_below(&fix, g->nev - i) < keep - kept)
        g->ev[kept++] = g->ev[i];
    g->nev = kept;
  } else if (g->nev < g->target) {
    /* add ordinary visits to members drawn at random */
    if (!g->nmembers)
      return hmb_err_set(err, HMB_INVALID, "gen.settlements", "--settlements",
                         "没有投保人，无法生成结算");
    result = grow_events(g, (size_t)g->target, err);
    while (!result && g->nev < g->target) {
      size_t i = (size_t)rng_below(&fix, g->nmembers);
      if (g->nseq[i] >= SYNTH_SEQ_MAX)
        continue;
      synth_extra_event(&g->cfg, (uint32_t)i, &g->members[i], g->nseq[i]++, g->target,
                        &g->ev[g->nev++]);
    }
  }
  return result;
}

/* Phase 4: the settlements in time order. */
static enum hmb_status gen_settle(struct gen *g, struct hmb_err *err)
{
  struct synth_setl s;
  enum hmb_status result;
  struct out *so = &g->o[2], *dout = &g->o[3];

  g->acc = hmb_calloc(g->nmembers ? g->nmembers : 1, sizeof(*g->acc));
  if (!g->acc)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  for (size_t i = 0; i < g->nev; i++) {
    const struct synth_event *e = &g->ev[i];
    uint32_t k = SYNTH_KEY_MEMBER(e->key);
    synth_settlement(&g->cfg, &g->members[k], e, &g->acc[k], &s);
    synth_stats_setl(&g->st, &s, e);
    result = out_room(so, err);
    if (result)
      return result;
    so->len = (size_t)(synth_csv_setl(&g->csv, &s, so->buf + so->len) - so->buf);
    if (s.nlines) {
      result = out_room(dout, err);
      if (result)
        return result;
      dout->len = (size_t)(synth_csv_details(&g->csv, &s, dout->buf + dout->len) - dout->buf);
      g->details_rows += s.nlines;
    }
  }
  return HMB_OK;
}

int cmd_gen(int argc, char **argv)
{
  static const char *const names[4] = {"roster.csv", "people.csv", "settlements.csv",
                                       "details.csv"};
  const char *dir = NULL, *admdvs = "371500";
  uint64_t seed = 1, people = 1000000, enroll = 3500, year = 2024, target = 0;
  struct gen *g = NULL;
  struct hmb_err err;
  enum hmb_status result = HMB_OK;
  double t[5];
  off_t sizes[4] = {0, 0, 0, 0};
  int rc = 0;

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = true;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage, stdout);
      return 0;
    }
    if (!v) {
      fprintf(stderr, "hmb gen: 选项“%s”缺少取值或未知\n%s", a, usage);
      return 2;
    }
    i++;
    if (!strcmp(a, "--out-dir"))
      dir = v;
    else if (!strcmp(a, "--seed"))
      ok = parse_u64(a, v, 0, UINT64_MAX, &seed);
    else if (!strcmp(a, "--people"))
      ok = parse_u64(a, v, 1, SYNTH_PEOPLE_MAX, &people);
    else if (!strcmp(a, "--enroll-rate"))
      ok = parse_u64(a, v, 1, 10000, &enroll);
    else if (!strcmp(a, "--settlements"))
      ok = parse_u64(a, v, 1, UINT64_C(1000000000), &target);
    else if (!strcmp(a, "--year"))
      ok = parse_u64(a, v, 2000, 2100, &year);
    else if (!strcmp(a, "--admdvs"))
      admdvs = v;
    else {
      fprintf(stderr, "hmb gen: 未知选项“%s”\n%s", a, usage);
      return 2;
    }
    if (!ok)
      return 2;
  }
  if (!dir) {
    fputs(usage, stderr);
    return 2;
  }
  hmb_err_init(&err);
  g = hmb_calloc(1, sizeof(*g));
  if (!g) {
    fprintf(stderr, "hmb gen: 内存不足 (nomem)\n");
    return 2;
  }
  for (int k = 0; k < 4; k++)
    g->o[k].fd = -1;
  result =
      synth_config_init(&g->cfg, seed, (uint32_t)people, (uint32_t)enroll, (int)year, admdvs, &err);
  if (result) {
    cli_print_err("hmb gen", &err);
    free(g);
    return 2;
  }
  g->target = target;
  synth_csv_init(&g->csv, &g->cfg);
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    hmb_err_set(&err, HMB_IO, "gen.mkdir", dir, "无法创建目录：%s", strerror(errno));
    result = HMB_IO;
  }
  t[0] = now_s();
  for (int k = 0; k < 4 && !result; k++) {
    static const char *const hdr[4] = {synth_csv_roster_header, synth_csv_people_header,
                                       synth_csv_setl_header, synth_csv_detail_header};
    result = out_open(&g->o[k], dir, names[k], &err);
    if (!result)
      result = out_str(&g->o[k], hdr[k], &err);
  }
  if (!result)
    result = gen_roster(g, &err);
  t[1] = now_s();
  if (!result)
    result = gen_plan(g, &err);
  t[2] = now_s();
  if (!result) {
    g->tmp = hmb_reallocarray(NULL, g->nev ? g->nev : 1, sizeof(*g->tmp));
    if (!g->tmp)
      result = hmb_err_set(&err, HMB_NOMEM, "nomem", "", "内存不足");
    else
      sort_events(g->ev, g->tmp, g->nev, g->cfg.days);
    free(g->tmp);
    g->tmp = NULL;
  }
  t[3] = now_s();
  if (!result)
    result = gen_settle(g, &err);
  for (int k = 0; k < 4; k++) {
    struct stat sb;
    enum hmb_status r2;
    if (!result && g->o[k].fd >= 0)
      result = out_flush(&g->o[k], &err);
    if (!result && g->o[k].fd >= 0 && fstat(g->o[k].fd, &sb) == 0)
      sizes[k] = sb.st_size;
    r2 = out_close(&g->o[k], !result, &err);
    if (!result)
      result = r2;
  }
  t[4] = now_s();
  if (result) {
    cli_print_err("hmb gen", &err);
    rc = 2;
  } else {
    print_summary(&g->cfg, &g->st, g->details_rows, t, sizes);
  }
  synth_roster_release(&g->roster);
  free(g->members);
  free(g->nseq);
  free(g->acc);
  free(g->ev);
  free(g);
  return rc;
}

#include "compat.h"
#include "cli.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "svc.h"

/*
 * `hmb demo`: a demo city on a store. A deterministic roster of families
 * in 聊城 (valid ID numbers and USCCs, employees and residents, a few
 * suspended, medical-assistance recipients), the plan 聊惠保 2024,
 * enrollments through every channel (online, personal account for
 * relatives, employer, sponsor funds), API keys for each role, and a
 * year of settlements through the settlement service. Everything is
 * derived from --seed, so two runs make the same city.
 */

#define DEMO_REGION "371502" /* 东昌府区 */

struct rng {
  uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
  /* splitmix64: deterministic and good enough for synthetic data */
  uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static unsigned below(struct rng *r, unsigned n)
{
  return (unsigned)(rnd(r) % n);
}

/* A GB 11643 number for a birth date and sequence (odd = male). */
static void make_certno(char out[19], hmb_date birth, unsigned seq3)
{
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static const char check[] = "10X98765432";
  int y, m, d, sum = 0;
  date_to_ymd(birth, &y, &m, &d);
  snprintf(out, 19, "%s%04d%02d%02d%03u", DEMO_REGION, y, m, d, seq3 % 1000);
  for (int i = 0; i < 17; i++)
    sum += (out[i] - '0') * w[i];
  out[17] = check[sum % 11];
  out[18] = '\0';
}

/* A GB 32100 code with a computed check character. */
static void make_uscc(char out[19], unsigned n)
{
  static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  int sum = 0, c;
  snprintf(out, 19, "91%s%09u", DEMO_REGION, n % 1000000000u);
  for (int i = 0; i < 17; i++)
    sum += (int)(strchr(cs, out[i]) - cs) * w[i];
  c = 31 - sum % 31;
  out[17] = cs[c == 31 ? 0 : c];
  out[18] = '\0';
}

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                                       "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军",
                                    "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"};

struct demo_person {
  char psn_no[32];
  int age;
  bool employee, suspended, assistance;
  int relation; /* 1 head, 2 spouse, 3 child, 4 parent */
  int family;
};

static hmb_date birth_for_age(struct rng *r, int age)
{
  /* ages are counted at 2024-01-01, the plan's coverage start; babies are
   * born before the enrollment window opens */
  return date_from_ymd(2023 - age, 1, 1) + (hmb_date)below(r, age ? 365 : 330);
}

/* ID numbers in use: bit (birth day since 1900) * 500 + seq / 2 */
#define DEMO_DAYS (200 * 366)

static void add_csv_row(struct buf *b, const struct demo_person *p, struct rng *r, uint8_t *used)
{
  char certno[19], uscc[19];
  hmb_date birth = birth_for_age(r, p->age);
  unsigned seq = (unsigned)(p->family % 500) * 2 + (p->relation == 2 || p->relation == 3 ? 0 : 1);
  size_t day = (size_t)(birth - date_from_ymd(1900, 1, 1)) % DEMO_DAYS;
  /* the same birth date and sequence would be the same ID number */
  for (unsigned k = 0; k < 500; k++, seq = (seq + 2) % 1000) {
    size_t bit = day * 500 + seq / 2;
    if (!(used[bit / 8] & (1u << (bit % 8)))) {
      used[bit / 8] |= (uint8_t)(1u << (bit % 8));
      break;
    }
  }
  static const char *const rel[] = {"", "head", "spouse", "child", "parent"};
  make_certno(certno, birth, seq);
  buf_addf(b, "%s,%s,%s%s,%d,%s,%s,2023-01-01,,%s,%d,%s,%s\n", p->psn_no, certno,
           surnames[below(r, ARRAY_SIZE(surnames))], given[below(r, ARRAY_SIZE(given))],
           p->employee ? 310 : 390, DEMO_REGION, p->suspended ? "suspended" : "active",
           p->employee ? (make_uscc(uscc, 1000 + (unsigned)p->family % 40), uscc) : "", p->family,
           rel[p->relation], p->assistance ? "medical_assistance" : "");
}

static void settlement_body(struct buf *b, struct rng *r, const char *psn, long n, hmb_time t)
{
  static const int types[] = {11, 11, 11, 11, 14, 14, 41, 41, 41, 21};
  int mt = types[below(r, ARRAY_SIZE(types))];
  int64_t base = mt == 21 ? 300000 : mt == 14 ? 30000 : 8000;
  int oct = 0;
  int64_t total, ful, over, pre, inscp, fund;
  char ts[32];
  while (oct < 9 && below(r, 100) < (mt == 21 ? 45u : 20u))
    oct++;
  total = base / 2 + (int64_t)(rnd(r) % (uint64_t)(base << oct));
  ful = total * (int64_t)below(r, 25) / 100;
  over = total * (int64_t)below(r, 3) / 100;
  pre = total * (int64_t)below(r, 10) / 100;
  inscp = total - ful - over - pre;
  fund = mt == 11 || mt == 41 ? inscp * (int64_t)below(r, 60) / 100 : inscp * 65 / 100;
  datetime_format(t, ts);
  buf_addf(
      b,
      "{\"setl_id\":\"DEMO%08ld\",\"mdtrt_id\":\"DM%08ld\",\"psn_no\":\"%s\",\"med_type\":\"%d\","
      "\"setl_time\":\"%s\",\"medfee_sumamt\":\"",
      n, n, psn, mt, ts);
  buf_add_money(b, total);
  buf_addstr(b, "\",\"fulamt_ownpay_amt\":\"");
  buf_add_money(b, ful);
  buf_addstr(b, "\",\"overlmt_selfpay\":\"");
  buf_add_money(b, over);
  buf_addstr(b, "\",\"preselfpay_amt\":\"");
  buf_add_money(b, pre);
  buf_addstr(b, "\",\"inscp_scp_amt\":\"");
  buf_add_money(b, inscp);
  buf_addstr(b, "\",\"hifp_pay\":\"");
  buf_add_money(b, fund);
  buf_addstr(b, "\",\"fund_pay_sumamt\":\"");
  buf_add_money(b, fund);
  buf_addstr(b, "\",\"psn_part_amt\":\"");
  buf_add_money(b, total - fund);
  buf_addstr(b, "\"}");
}

/* Completion of an asynchronous settlement: count and release. */
struct demo_flight {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  long inflight, ok, failed;
  hmb_fen paid;
};

struct demo_job {
  struct svc_job job;
  struct demo_flight *fl;
  struct buf body;
};

static void demo_done(struct svc_job *job)
{
  struct demo_job *dj = (struct demo_job *)job;
  struct demo_flight *fl = dj->fl;
  const char *p = job->status ? NULL : strstr(job->response.ptr, "\"payout\":\"");
  hmb_fen v = 0;
  if (p) {
    const char *q = strchr(p + 10, '"');
    if (q)
      money_parse(p + 10, (size_t)(q - p - 10), &v, "payout", NULL);
  }
  pthread_mutex_lock(&fl->mu);
  if (job->status)
    fl->failed++;
  else
    fl->ok++;
  fl->paid += v;
  fl->inflight--;
  pthread_cond_signal(&fl->cv);
  pthread_mutex_unlock(&fl->mu);
  buf_release(&job->response);
  buf_release(&dj->body);
  free(dj);
}

/* Count a refusal under its code in a "code x N" list (few distinct codes). */
static void tally(struct buf *b, const char *code, long *total)
{
  struct buf nb = BUF_INIT(1 << 20);
  const char *p = b->ptr;
  bool found = false;
  ++*total;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *x = memchr(p, ' ', len);
    long cnt = x ? strtol(x + 3, NULL, 10) : 0;
    if (nb.len)
      buf_addstr(&nb, "; ");
    if (x && (size_t)(x - p) == strlen(code) && !memcmp(p, code, strlen(code))) {
      cnt++;
      found = true;
    }
    buf_add(&nb, p, x ? (size_t)(x - p) : len);
    buf_addf(&nb, " x %ld", cnt);
    p = end ? end + 2 : p + len;
  }
  if (!found)
    buf_addf(&nb, "%s%s x 1", nb.len ? "; " : "", code);
  buf_reset(b);
  buf_add(b, nb.ptr, nb.len);
  buf_release(&nb);
}

static int write_keys(struct svc *svc, const char *path, const char *sponsor)
{
  static const struct {
    const char *name;
    int role;
  } keys[] = {{"demo-operator", ROLE_OPERATOR},
              {"demo-hospital", ROLE_HOSPITAL},
              {"demo-bureau", ROLE_BUREAU},
              {"demo-sponsor", ROLE_SPONSOR}};
  FILE *f = fopen(path, "w");
  struct hmb_err err;
  if (!f) {
    fprintf(stderr, "hmb demo: 无法写入 %s\n", path);
    return 2;
  }
  chmod(path, 0600);
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
    char key[65];
    hmb_err_init(&err);
    if (svc_key_add(svc, keys[i].name, keys[i].role, sponsor, key, &err)) {
      cli_print_err("hmb demo", &err);
      fclose(f);
      return 2;
    }
    fprintf(f, "%s=%s\n", keys[i].name + 5, key);
  }
  fclose(f);
  return 0;
}

int cmd_demo(int argc, char **argv)
{
  static const char usage[] =
      "用法: hmb demo [--db DB] [--people N] [--settlements M] [--seed S] [--all]\n"
      "               [--write-roster FILE] [--key-file F] [--keys-out F]\n"
      "  --all           everyone enrolled and active (for load tests: every settlement is valid)\n"
      "  --write-roster  only write the roster CSV to FILE (for import benchmarks) and stop\n";
  bool all = false;
  const char *roster_out = NULL, *key_file = NULL, *keys_out = NULL;
  const char *db = getenv("HMB_DB") && *getenv("HMB_DB") ? getenv("HMB_DB") : "hmb-demo.db";
  long npeople = 20000, nsetl = 50000;
  uint64_t seed = 2024;
  struct svc_opts o;
  struct svc *svc = NULL;
  struct hmb_err err;
  struct rng r;
  struct demo_person *people = NULL;
  struct buf csv = BUF_INIT((size_t)4 << 30), path = BUF_INIT(4096), json = BUF_INIT(16u << 20),
             id = BUF_INIT(256), keyp = BUF_INIT(4096);
  struct svc_import_report rep;
  struct store_sponsor sp;
  struct demo_flight fl = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};
  long enrolled = 0, refused = 0, nfam = 0, n = 0, example = -1;
  struct buf why = BUF_INIT(1 << 20);
  int rc = 2;
  struct timespec t0, t1;

  for (int i = 0; i < argc; i++) {
    int64_t v;
    if (!strcmp(argv[i], "--db") && i + 1 < argc) {
      db = argv[++i];
    } else if (!strcmp(argv[i], "--people") && i + 1 < argc &&
               !str_to_i64(argv[i + 1], strlen(argv[i + 1]), 10, 10000000, &v, "--people", NULL)) {
      npeople = (long)v;
      i++;
    } else if (!strcmp(argv[i], "--settlements") && i + 1 < argc &&
               !str_to_i64(argv[i + 1], strlen(argv[i + 1]), 0, 100000000, &v, "--settlements",
                           NULL)) {
      nsetl = (long)v;
      i++;
    } else if (!strcmp(argv[i], "--all")) {
      all = true;
    } else if (!strcmp(argv[i], "--write-roster") && i + 1 < argc) {
      roster_out = argv[++i];
    } else if (!strcmp(argv[i], "--key-file") && i + 1 < argc) {
      key_file = argv[++i];
    } else if (!strcmp(argv[i], "--keys-out") && i + 1 < argc) {
      keys_out = argv[++i];
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc &&
               !str_to_i64(argv[i + 1], strlen(argv[i + 1]), 0, INT64_MAX, &v, "--seed", NULL)) {
      seed = (uint64_t)v;
      i++;
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  r.s = seed;
  memset(&o, 0, sizeof(o));
  o.db_url = db;
  o.key_file = key_file;
  hmb_err_init(&err);
  if (!roster_out && svc_open(&svc, &o, &err)) {
    cli_print_err(db, &err);
    return 2;
  }

  /* the plan */
  if (roster_out)
    goto roster;
  buf_addf(&path, "%s/plans/liaocheng-2024.json", cli_home());
  if (buf_read_file(&json, path.ptr, &err)) {
    cli_print_err(path.ptr, &err);
    goto out;
  }
  buf_reset(&path);
  buf_addf(&path, "%s/plans", cli_home());
  if (svc_plan_add(svc, json.ptr, json.len, path.ptr, &id, &err)) {
    cli_print_err("plans/liaocheng-2024.json", &err);
    goto out;
  }

roster:
  /* the roster: families of a head, maybe a spouse, children, a parent */
  people = hmb_calloc((size_t)npeople, sizeof(*people));
  if (!people)
    goto out;
  while (n < npeople) {
    int head_age = 25 + (int)below(&r, 50), size = 1 + (int)below(&r, 4);
    bool emp = below(&r, 100) < 55;
    for (int k = 0; k < size && n < npeople; k++, n++) {
      struct demo_person *p = &people[n];
      snprintf(p->psn_no, sizeof(p->psn_no), "P%s%08ld", "371500", n);
      p->family = (int)nfam;
      p->relation = k == 0 ? 1 : k == 1 ? 2 : k == 3 && head_age < 50 ? 4 : 3;
      p->age = p->relation == 3   ? (int)below(&r, 18)
               : p->relation == 4 ? head_age + 25 + (int)below(&r, 10)
                                  : head_age + (int)below(&r, 5);
      if (p->relation == 3 && p->age > head_age - 18)
        p->age = head_age > 20 ? head_age - 20 : 0;
      p->employee = p->relation <= 2 && p->age < 60 && (k == 0 ? emp : below(&r, 100) < 40);
      p->suspended = !all && below(&r, 1000) < 8;
      p->assistance = !p->employee && below(&r, 100) < 2;
    }
    nfam++;
  }
  buf_addstr(&csv, "psn_no,certno,psn_name,insutype,admdvs,status,status_date,gend,emp_uscc,"
                   "family_id,relation,groups\n");
  {
    uint8_t *used = hmb_calloc((size_t)DEMO_DAYS * 500 / 8 + 1, 1);
    if (!used)
      goto out;
    for (long i = 0; i < npeople; i++)
      add_csv_row(&csv, &people[i], &r, used);
    free(used);
  }
  if (roster_out) {
    FILE *f = fopen(roster_out, "w");
    bool ok = f && fwrite(csv.ptr, 1, csv.len, f) == csv.len;
    if (f && fclose(f))
      ok = false;
    if (!ok) {
      fprintf(stderr, "hmb demo: 无法写入 %s\n", roster_out);
      goto out;
    }
    printf("名单 roster: %ld rows written to %s\n", npeople, roster_out);
    rc = 0;
    goto out;
  }
  svc_import_report_init(&rep);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (svc_roster_import(svc, "demo-roster.csv", csv.ptr, csv.len, &rep, &err)) {
    cli_print_err("roster", &err);
    svc_import_report_release(&rep);
    goto out;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("名单 roster: %" PRId64 " rows, %" PRId64 " accepted, %" PRId64 " rejected (%.2f s)\n",
         rep.rows, rep.accepted, rep.rejected,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  if (rep.rejected)
    printf("  first rejected row: %.300s\n", rep.errors_json.ptr);
  svc_import_report_release(&rep);

  /* sponsor funds: Liaocheng's donation of 100,000 yuan */
  memset(&sp, 0, sizeof(sp));
  snprintf(sp.id, sizeof(sp.id), "liaocheng-charity");
  snprintf(sp.name, sizeof(sp.name), "聊城市慈善总会（惠民保资助）");
  sp.budget = 10000000;
  if (svc_sponsor_put(svc, &sp, &err)) {
    cli_print_err("sponsor", &err);
    goto out;
  }

  /* enrollment: about 85% of people, through every channel */
  for (long i = 0; i < npeople; i++) {
    struct demo_person *p = &people[i];
    struct svc_enroll_req q;
    struct store_enrollment e;
    long head = i;
    while (head > 0 && people[head].family == p->family && people[head].relation != 1)
      head--;
    if ((!all && below(&r, 100) >= 85) || p->suspended)
      continue;
    memset(&q, 0, sizeof(q));
    q.plan_id = id.ptr;
    q.psn_no = p->psn_no;
    q.on = date_from_ymd(2023, 12, 1) + (hmb_date)below(&r, 30);
    q.preexisting = below(&r, 100) < 6 ? 1 : 0;
    q.pay = true;
    if (p->assistance) {
      q.channel = CH_SPONSOR;
      q.payer = sp.id;
    } else if (p->relation != 1 && people[head].employee && below(&r, 100) < 70) {
      q.channel = CH_PERSONAL_ACCOUNT;
      q.payer = people[head].psn_no;
    } else if (p->employee && below(&r, 100) < 25) {
      char uscc[19];
      make_uscc(uscc, 1000 + (unsigned)p->family % 40);
      q.channel = CH_EMPLOYER;
      q.payer = uscc;
      hmb_err_init(&err);
      if (svc_enroll(svc, &q, &e, &err))
        tally(&why, err.code, &refused);
      else
        enrolled++;
      continue;
    } else {
      q.channel = below(&r, 100) < 80 ? CH_ONLINE : CH_COUNTER;
    }
    hmb_err_init(&err);
    if (svc_enroll(svc, &q, &e, &err) && err.status == HMB_CONFLICT &&
        !strcmp(err.code, "sponsor.budget")) {
      /* the sponsor's funds are spent: the family pays itself */
      q.channel = CH_ONLINE;
      q.payer = NULL;
      hmb_err_init(&err);
      svc_enroll(svc, &q, &e, &err);
    }
    if (err.status)
      tally(&why, err.code, &refused);
    else
      enrolled++;
    if (!err.status && example < 0 && q.channel == CH_ONLINE)
      example = i;
  }
  printf("参保 enrollments: %ld enrolled, %ld refused%s%s\n", enrolled, refused,
         why.len ? ": " : "", why.ptr);

  if (keys_out)
    buf_addstr(&keyp, keys_out);
  else if (strstr(db, "://"))
    buf_addstr(&keyp, "hmb-demo.keys");
  else
    buf_addf(&keyp, "%s.keys", db);
  if (write_keys(svc, keyp.ptr, sp.id))
    goto out;

  /* a year of settlements, asynchronously so they commit in groups */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long k = 0; k < nsetl; k++) {
    struct demo_job *dj = hmb_calloc(1, sizeof(*dj));
    hmb_time t =
        date_time(date_from_ymd(2024, 1, 1)) + (hmb_time)(k * (366LL * 86400 / (nsetl + 1)));
    const struct demo_person *p = &people[below(&r, (unsigned)npeople)];
    if (!dj)
      goto out;
    buf_init(&dj->body, 1u << 20);
    settlement_body(&dj->body, &r, p->psn_no, k, t);
    dj->fl = &fl;
    dj->job.op = SVC_SETTLE;
    dj->job.body = dj->body.ptr;
    dj->job.len = dj->body.len;
    dj->job.done = demo_done;
    pthread_mutex_lock(&fl.mu);
    while (fl.inflight >= 2048)
      pthread_cond_wait(&fl.cv, &fl.mu);
    fl.inflight++;
    pthread_mutex_unlock(&fl.mu);
    if (svc_submit(svc, &dj->job)) {
      buf_release(&dj->body);
      free(dj);
      goto out;
    }
  }
  pthread_mutex_lock(&fl.mu);
  while (fl.inflight)
    pthread_cond_wait(&fl.cv, &fl.mu);
  pthread_mutex_unlock(&fl.mu);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  {
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char paid[32];
    money_format(fl.paid, paid);
    printf("结算 settlements: %ld settled, %ld refused (not enrolled, suspended...), paid %s yuan "
           "(%.2f s, %.0f/s)\n",
           fl.ok, fl.failed, paid, s, s > 0 ? (double)nsetl / s : 0.0);
  }
  printf("API keys: %s\n", keyp.ptr);
  if (example >= 0)
    printf("example person: %s\n", people[example].psn_no);
  rc = 0;
out:
  if (rc)
    fprintf(stderr, "hmb demo: failed\n");
  svc_close(svc);
  free(people);
  buf_release(&csv);
  buf_release(&path);
  buf_release(&json);
  buf_release(&id);
  buf_release(&keyp);
  buf_release(&why);
  return rc;
}

/*
 * gen_settlements.c - deterministic generator of a year of settlements of
 * the national medical insurance platform for 聊城 2024, for the end-to-end
 * benchmark (bench/cli_vs_duckdb.sh) and for cross-checking the engine.
 *
 * Usage:
 *   gen_settlements --count N --seed S --out-settlements F --out-details F
 *                   [--people P]
 *
 * Writes two CSV files with the national field names: the settlements
 * (setlinfo) and their fee detail lines. The same N, S and P always give
 * byte-identical files. Rows are in time order through 2024 (setl_time
 * strictly non-decreasing, 07:00 to 21:00 every day).
 *
 * Every amount is fen in an int64 and is printed with exactly two decimals;
 * no floating point is used anywhere. Every row is internally consistent:
 *   medfee_sumamt   = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt
 *                     + inscp_scp_amt
 *   fund_pay_sumamt = hifp_pay + hifmi_pay + hifob_pay + maf_pay
 *   psn_part_amt    = medfee_sumamt - fund_pay_sumamt
 *   acct_pay + psn_cash_pay = psn_part_amt
 * all amounts are >= 0, and the detail lines of a settlement never add up to
 * more than its settlement-level parts (each of the four parts separately).
 * In about 99% of rows fund_pay_sumamt <= inscp_scp_amt; in the others
 * medical assistance (maf_pay) also covers part of what lies outside the
 * policy scope, so the funds exceed the in-scope amount.
 *
 * The mix: about 46% ordinary outpatient (med_type 11), 20% chronic and
 * special outpatient (14), 25% pharmacy (41), 9% inpatient (21, a few 22,
 * 23, 24) with heavy-tailed costs (some above 100,000 yuan, a few above
 * 1,000,000), 0.25% maternity inpatient (52, which the inpatient
 * responsibilities do not cover), 0.5% rows with detail lines for drugs of
 * the two lists of plans/liaocheng-2024.json and 0.3% rows with detail lines
 * in no list only. About 10% of the stays of med_type 21 settle twice
 * (interim and final) under one mdtrt_id. About 0.3% of the rows are a
 * second bill of the same person in the same second as the row before (a
 * listed drug after a listed drug, a stay after a stay): equal setl_time,
 * so the year's order rests on the row order of the file.
 *
 * It shares the random numbers (src/core/rng.h: splitmix64 seeding
 * xoshiro256**), the pieces of a settlement (src/domain/synth.h) and the
 * number formatting (src/io/synth_csv.h) with hmb gen; CMake links it with
 * the project's libraries. Without CMake (as bench/cli_vs_duckdb.sh falls
 * back to):
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/core -Isrc/domain -Isrc/io \
 *      bench/gen_settlements.c src/core/rng.c src/core/date.c src/core/err.c \
 *      src/domain/synth.c src/io/synth_csv.c -o gen_settlements
 * (gcc and clang give byte-identical output: one random draw per statement).
 */
#include "compat.h"
#include "rng.h"
#include "synth.h"
#include "synth_csv.h"

#include <time.h>

/* ---- random variates ---------------------------------------------------- */

/*
 * A heavy-tailed amount in fen: the octave e is geometric (climb one more
 * octave with probability q_ppm / 10^6, at most maxe times), the amount is
 * uniform in [base * 2^e, base * 2^(e+1)). P(X > base * 2^k) is about q^k: a
 * Pareto tail with alpha = log2(1/q), all in integers.
 */
static int64_t heavy(struct rng *r, int64_t base, uint32_t q_ppm, int maxe)
{
  int e = 0;
  while (e < maxe && rng_ppm(r, q_ppm))
    e++;
  int64_t lo = base << e;
  return lo + (int64_t)rng_below(r, (uint64_t)lo);
}

/* amount x permille / 1000, truncated (amounts here are far below 2^53). */
static inline int64_t pm(int64_t amount, int64_t permille)
{
  return amount * permille / 1000;
}

static inline int64_t min64(int64_t a, int64_t b)
{
  return a < b ? a : b;
}
static inline int64_t max64(int64_t a, int64_t b)
{
  return a > b ? a : b;
}

/* ---- the two lists of plans/liaocheng-2024.json ---------------------- */

/*
 * Hard-coded copies of the prefixes of plans/lists/liaocheng-2024-special-drugs.txt
 * and plans/lists/shandong-special-efficacy-drugs.txt (every entry there
 * ends in '*'). Regenerate the data when those files change. Costs are
 * yuan per purchase; weight is per thousand within its list. Any special
 * drug, CAR-T too, is billed inside the catalogue 15% of the time.
 */
static const struct synth_drug special_drugs[] = {
    {"XL01XL03", 1000000, 1300000, 5, 150000}, /* CAR-T: above 1 million yuan */
    {"XL01XL06", 990000, 1290000, 5, 150000},  /* CAR-T */
    {"XL01FF02", 3000, 25000, 250, 150000},    /* PD-1 */
    {"XL01FF01", 3000, 25000, 250, 150000},    /* PD-1 */
    {"XL01EX", 2000, 30000, 350, 150000},      /* kinase inhibitors */
    {"XL04AC", 1500, 12000, 140, 150000},      /* interleukin inhibitors */
};

static const struct synth_drug efficacy_drugs[] = {
    {"XL01FD", 2000, 40000, 250, 0}, /* HER2 */
    {"XL01FG", 1500, 20000, 200, 0}, /* VEGF */
    {"XL01EB", 1000, 15000, 250, 0}, /* EGFR TKI */
    {"XL01EA", 800, 12000, 150, 0},  /* BCR-ABL TKI */
    {"XL01FA", 2000, 30000, 150, 0}, /* CD20 */
};

/*
 * Codes in no list, some of them near misses of listed prefixes (same ATC
 * class but another substance, or a shorter prefix) to test prefix matching.
 * "#" is replaced by a service item code, "C" by a consumable code.
 */
static const char *const plain_codes[] = {
    "XA10BA02", "XJ01DD04", "XC10AA05", "XB01AB05", "XN02BE01", "XL01FF03",
    "XL01XX",   "XL01XL",   "XL04AB02", "XL01EC",   "XL01FX",   "XR05CB01",
    "#",        "#",        "#",        "C",        "C",
};

/* ---- settlements ----------------------------------------------------- */

/*
 * A settlement: this generator's identifiers, and the amounts and lines in
 * hmb gen's record (its member, person, seq, episode and time are unused).
 * A row has at most six lines (three listed drugs and three in no list).
 */
struct setl {
  uint64_t setl_no, mdtrt_no, psn;
  struct synth_setl r;
};

/* What never changes for a person: taken from a hash of (seed, index). */
struct person {
  int insutype;
  int psn_type;
  bool low_income;   /* receives medical assistance (maf_pay) */
  int acct_permille; /* employees: share of what they bear paid from the account */
};

static uint64_t g_seed;

static void person_of(uint64_t idx, struct person *p)
{
  uint64_t h = rng_mix64(g_seed ^ rng_mix64(idx ^ UINT64_C(0x5045525330313536)));
  bool employee = (h & 0xffff) < 29491; /* 45% employees (310), else residents (390) */
  p->insutype = employee ? 310 : 390;
  bool retired = ((h >> 16) & 0xff) < 90;
  p->psn_type = employee ? (retired ? 12 : 11) : (retired ? 16 : 15);
  p->low_income = ((h >> 24) & 0xffff) < 2300; /* 3.5% */
  p->acct_permille = employee ? (int)((h >> 40) % 1001) : 0;
}

/* A bijection of [0, mod) for ids that do not reveal the generation order. */
static uint64_t scramble(uint64_t v, uint64_t mult, uint64_t add, uint64_t mod)
{
  return (uint64_t)(((rng_u128)v * mult + add) % mod);
}

static void base_amounts(struct rng *r, struct synth_setl *s)
{
  /* One random draw per statement: the order of evaluation of a call's
   * arguments is unspecified, and the output must not depend on it. */
  int64_t medfee;
  int ful_hi;
  switch (s->med_type) {
  case 11: /* ordinary outpatient: 15 yuan up, a few thousand at most */
    medfee = heavy(r, 1500, 400000, 9);
    ful_hi = rng_ppm(r, 500000) ? 0 : 200;
    synth_split_parts(r, s, medfee, 0, ful_hi, 30000, 50, 0, 100);
    break;
  case 14: /* chronic and special outpatient */
    medfee = heavy(r, 10000, 420000, 10);
    synth_split_parts(r, s, medfee, 0, 120, 20000, 30, 0, 120);
    break;
  case 41: /* pharmacy */
    medfee = heavy(r, 1000, 380000, 8);
    ful_hi = rng_ppm(r, 600000) ? 0 : 400;
    synth_split_parts(r, s, medfee, 0, ful_hi, 0, 1, 0, 100);
    break;
  case 52: /* maternity inpatient */
    medfee = heavy(r, 300000, 300000, 5);
    synth_split_parts(r, s, medfee, 20, 100, 50000, 20, 20, 80);
    break;
  default: /* inpatient: 2,500 yuan up, heavy tail to above 1 million */
    medfee = heavy(r, 250000, 470000, 11);
    synth_split_parts(r, s, medfee, 30, 150, 300000, 20, 30, 120);
    break;
  }
}

/* The funds' payment, psn_part_amt, acct_pay and psn_cash_pay from the parts. */
static void pay_funds(struct rng *r, struct synth_setl *s, const struct person *p,
                      bool dual_channel)
{
  int64_t inscp = s->inscp;
  bool employee = p->insutype == 310;
  s->dedc = s->hifp = s->hifmi = s->hifob = s->maf = 0;

  if (synth_inpatient(s->med_type)) {
    static const int64_t thresholds[] = {30000, 50000, 80000, 120000};
    s->dedc = min64(inscp, thresholds[rng_below(r, 4)]);
    int64_t ratio = employee ? rng_range(r, 850, 920) : rng_range(r, 600, 800);
    s->hifp = min64(pm(inscp - s->dedc, ratio), employee ? 40000000 : 25000000);
    int64_t rest = inscp - s->hifp;
    if (employee)
      s->hifob = pm(max64(0, rest - 2000000), 500);
    else
      s->hifmi = pm(max64(0, rest - 1500000), 600);
  } else {
    synth_pay_minor(r, s, employee, dual_channel);
  }
  synth_pay_assistance(r, s, p->low_income);

  s->acct = 0;
  if (employee) {
    if ((s->med_type == 11 || s->med_type == 41) && rng_ppm(r, 700000))
      s->acct = s->psn_part;
    else
      s->acct = pm(s->psn_part, p->acct_permille);
  } else if (rng_ppm(r, 100000)) {
    s->acct = pm(s->psn_part, rng_range(r, 0, 1000)); /* family account */
  }
  s->cash = s->psn_part - s->acct;
}

static const struct synth_drug *pick_drug(struct rng *r, const struct synth_drug *list, size_t n)
{
  int64_t u = (int64_t)rng_below(r, 1000);
  for (size_t i = 0; i < n; i++) {
    u -= list[i].weight;
    if (u < 0)
      return &list[i];
  }
  return &list[n - 1];
}

static void rem_of(const struct synth_setl *s, int64_t rem[4])
{
  rem[0] = s->ful;
  rem[1] = s->ovl;
  rem[2] = s->pre;
  rem[3] = s->inscp;
}

/* ---- output ----------------------------------------------------------- */

struct out {
  FILE *f;
  const char *path;
  char *buf;
  size_t len, cap;
};

#define OUT_BUF  (16u << 20)
#define OUT_ROOM 4096 /* most one settlement with its lines can write */

static void out_open(struct out *o, const char *path)
{
  o->path = path;
  o->f = fopen(path, "wb");
  if (!o->f) {
    fprintf(stderr, "gen_settlements: cannot write %s: %s\n", path, strerror(errno));
    exit(1);
  }
  o->buf = malloc(OUT_BUF);
  if (!o->buf) {
    fprintf(stderr, "gen_settlements: out of memory\n");
    exit(1);
  }
  o->len = 0;
  o->cap = OUT_BUF;
}

static void out_flush(struct out *o)
{
  if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len) {
    fprintf(stderr, "gen_settlements: write %s: %s\n", o->path, strerror(errno));
    exit(1);
  }
  o->len = 0;
}

static char *out_reserve(struct out *o)
{
  if (o->cap - o->len < OUT_ROOM)
    out_flush(o);
  return o->buf + o->len;
}

static void out_close(struct out *o)
{
  out_flush(o);
  if (fclose(o->f) != 0) {
    fprintf(stderr, "gen_settlements: close %s: %s\n", o->path, strerror(errno));
    exit(1);
  }
  free(o->buf);
}

static void out_str(struct out *o, const char *s)
{
  size_t n = strlen(s);
  char *p = out_reserve(o);
  memcpy(p, s, n);
  o->len += n;
}

/* "YYYY-MM-DD " of each day of 2024. */
static char day_text[366][11];

static void init_days(void)
{
  hmb_date first = date_from_ymd(2024, 1, 1);
  for (int d = 0; d < 366; d++)
    *synth_csv_put_date(day_text[d], first + d) = ' ';
}

static char *put_time(char *p, uint64_t i, uint64_t n)
{
  uint64_t day = i * 366 / n;
  uint64_t first = (day * n + 365) / 366;
  uint64_t next = ((day + 1) * n + 365) / 366;
  uint64_t sec = 25200 + (i - first) * 50400 / (next - first);
  memcpy(p, day_text[day], 11);
  return synth_csv_put_clock(p + 11, (uint32_t)sec);
}

static void write_setl(struct out *os, struct out *od, const struct setl *st, uint64_t i,
                       uint64_t n)
{
  const struct synth_setl *s = &st->r;
  char *p = out_reserve(os);
  char *start = p;
  char id[18];
  memcpy(id, "S2024", 5);
  synth_csv_put_digits(id + 5, st->setl_no, 12);
  memcpy(p, id, 17);
  p += 17;
  memcpy(p, ",M2024", 6);
  p = synth_csv_put_digits(p + 6, st->mdtrt_no, 12);
  memcpy(p, ",P3715", 6);
  p = synth_csv_put_digits(p + 6, st->psn, 10);
  *p++ = ',';
  p = synth_csv_put_u64(p, (uint64_t)s->insutype);
  *p++ = ',';
  p = synth_csv_put_u64(p, (uint64_t)s->psn_type);
  *p++ = ',';
  p = synth_csv_put_u64(p, (uint64_t)s->med_type);
  *p++ = ',';
  p = put_time(p, i, n);
  const int64_t amounts[] = {s->medfee, s->ful,   s->ovl, s->pre,  s->inscp,    s->dedc, s->hifp,
                             s->hifmi,  s->hifob, s->maf, s->fund, s->psn_part, s->acct, s->cash};
  for (size_t k = 0; k < ARRAY_SIZE(amounts); k++) {
    *p++ = ',';
    p = synth_csv_put_money(p, amounts[k]);
  }
  *p++ = '\n';
  os->len += (size_t)(p - start);

  for (size_t k = 0; k < s->nlines; k++) {
    const struct synth_line *l = &s->lines[k];
    p = out_reserve(od);
    start = p;
    memcpy(p, id, 17);
    p += 17;
    *p++ = ',';
    memcpy(p, l->code, l->code_len);
    p += l->code_len;
    *p++ = ',';
    memcpy(p, l->lv, 2);
    p += 2;
    const int64_t la[] = {l->ful + l->ovl + l->pre + l->inscp, l->ful, l->ovl, l->pre, l->inscp};
    for (size_t j = 0; j < ARRAY_SIZE(la); j++) {
      *p++ = ',';
      p = synth_csv_put_money(p, la[j]);
    }
    *p++ = ',';
    p = synth_csv_put_u64(p, (uint64_t)l->cnt);
    *p++ = '\n';
    od->len += (size_t)(p - start);
  }
}

/* ---- pending final settlements of stays that settled an interim one ---- */

struct pending {
  uint64_t due; /* row index from which it may be written */
  uint64_t psn, mdtrt_no;
  int med_type;
};

struct heap {
  struct pending *v;
  size_t n, cap;
};

static void heap_push(struct heap *h, struct pending x)
{
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 1024;
    struct pending *v = realloc(h->v, cap * sizeof(*v));
    if (!v) {
      fprintf(stderr, "gen_settlements: out of memory\n");
      exit(1);
    }
    h->v = v;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (h->v[up].due <= x.due)
      break;
    h->v[i] = h->v[up];
    i = up;
  }
  h->v[i] = x;
}

static struct pending heap_pop(struct heap *h)
{
  struct pending top = h->v[0];
  struct pending last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->v[c + 1].due < h->v[c].due)
      c++;
    if (last.due <= h->v[c].due)
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n)
    h->v[i] = last;
  return top;
}

/* ---- main ------------------------------------------------------------- */

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
    fprintf(stderr,
            "gen_settlements: %s wants an integer in [%" PRIu64 ", %" PRIu64 "], got '%s'\n", opt,
            min, max, s);
    exit(2);
  }
  return (uint64_t)v;
}

static void usage(void)
{
  fprintf(stderr, "usage: gen_settlements --count N --seed S --out-settlements FILE "
                  "--out-details FILE [--people P]\n");
  exit(2);
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pick a person: a skewed draw (the chronically ill come back often). */
static uint64_t pick_person(struct rng *r, uint64_t people, bool inpatient)
{
  if (inpatient && rng_ppm(r, 400000))
    return rng_below(r, max64(1, (int64_t)(people / 30))); /* the seriously ill */
  uint64_t u = rng_next(r) >> 32;
  return (uint64_t)(((rng_u128)(u * u) * people) >> 64);
}

int main(int argc, char **argv)
{
  uint64_t count = 0, people = 0;
  bool have_count = false, have_seed = false;
  const char *out_s = NULL, *out_d = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc)
      usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--count")) {
      count = parse_u64(a, v, 1, UINT64_C(1000000000));
      have_count = true;
    } else if (!strcmp(a, "--seed")) {
      g_seed = parse_u64(a, v, 0, UINT64_MAX);
      have_seed = true;
    } else if (!strcmp(a, "--people")) {
      people = parse_u64(a, v, 1, UINT64_C(9999999999));
    } else if (!strcmp(a, "--out-settlements")) {
      out_s = v;
    } else if (!strcmp(a, "--out-details")) {
      out_d = v;
    } else {
      usage();
    }
  }
  if (!have_count || !have_seed || !out_s || !out_d)
    usage();
  if (!people)
    people = count / 7 ? count / 7 : 1;

  double t0 = now_s();
  init_days();
  struct rng rng;
  rng_seed(&rng, g_seed);
  struct out os, od;
  out_open(&os, out_s);
  out_open(&od, out_d);
  out_str(&os, "setl_id,mdtrt_id,psn_no,insutype,psn_type,med_type,setl_time,medfee_sumamt,"
               "fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,act_pay_dedc,"
               "hifp_pay,hifmi_pay,hifob_pay,maf_pay,fund_pay_sumamt,psn_part_amt,acct_pay,"
               "psn_cash_pay\n");
  out_str(&od, "setl_id,med_list_codg,chrgitm_lv,det_item_fee_sumamt,fulamt_ownpay_amt,"
               "overlmt_amt,preselfpay_amt,inscp_scp_amt,cnt\n");

  /* Odd multipliers that are not multiples of 5: bijections mod 10^k. */
  const uint64_t setl_mod = UINT64_C(1000000000000), psn_mod = UINT64_C(10000000000);
  const uint64_t setl_mul = UINT64_C(736474362913), setl_add = g_seed % setl_mod;
  const uint64_t mdtrt_mul = UINT64_C(192837465583);
  const uint64_t psn_mul = UINT64_C(7381957263), psn_add = rng_mix64(g_seed) % psn_mod;
  const uint64_t rows_per_day = count / 366 ? count / 366 : 1;

  struct heap pend = {NULL, 0, 0};
  uint64_t next_mdtrt = 0;
  uint64_t n_inpatient = 0, n_lines = 0, n_with_lines = 0, n_listed = 0, n_excess = 0;
  uint64_t n_interim = 0, n_over_100k = 0, n_over_1m = 0, n_companion = 0;
  uint64_t trow = 0; /* the row whose time this one carries */
  struct {
    bool active, drug_row;
    uint64_t psn;
    int med_type;
  } comp = {false, false, 0, 0};
  static struct setl row;
  struct synth_setl *s = &row.r;
  struct person who;

  for (uint64_t i = 0; i < count; i++) {
    uint64_t remaining = count - i;
    row.mdtrt_no = row.psn = 0;
    memset(s, 0, offsetof(struct synth_setl, lines));
    row.setl_no = scramble(i, setl_mul, setl_add, setl_mod);

    bool forced_final = pend.n && pend.n >= remaining;
    bool companion = comp.active && !forced_final;
    comp.active = false;
    if (!companion && pend.n && (forced_final || pend.v[0].due <= i)) {
      /* the final settlement of a stay that settled an interim one */
      struct pending f = heap_pop(&pend);
      row.psn = f.psn;
      row.mdtrt_no = f.mdtrt_no;
      s->med_type = f.med_type;
      person_of(row.psn, &who);
      base_amounts(&rng, s);
      pay_funds(&rng, s, &who, false);
      trow = i;
    } else {
      uint64_t u = rng_below(&rng, 1000000);
      bool drug_row = companion ? comp.drug_row : u < 5000;
      bool plain_lines_row = !drug_row && u >= 5000 && u < 8000;
      u = rng_below(&rng, 1000000);
      if (companion && !drug_row)
        s->med_type = comp.med_type;
      else if (drug_row)
        s->med_type = u < 400000 ? 41 : u < 750000 ? 14 : 21;
      else
        s->med_type = u < 78000    ? 21
                      : u < 80500  ? 22
                      : u < 82500  ? 23
                      : u < 84000  ? 24
                      : u < 86500  ? 52
                      : u < 286500 ? 14
                      : u < 536500 ? 41
                                   : 11;

      const struct synth_drug *sd = NULL, *ed = NULL;
      if (drug_row) {
        uint64_t k = rng_below(&rng, 100);
        if (k < 55 || k >= 90)
          sd = pick_drug(&rng, special_drugs, ARRAY_SIZE(special_drugs));
        if (k >= 55)
          ed = pick_drug(&rng, efficacy_drugs, ARRAY_SIZE(efficacy_drugs));
        if (sd && sd->cost_lo >= 900000)
          s->med_type = 21; /* CAR-T is an inpatient infusion */
      }
      row.psn = companion ? comp.psn : pick_person(&rng, people, synth_inpatient(s->med_type));
      row.mdtrt_no = scramble(next_mdtrt++, mdtrt_mul, setl_add, setl_mod);
      person_of(row.psn, &who);
      base_amounts(&rng, s);

      int64_t rem[4];
      rem_of(s, rem);
      if (drug_row) {
        if (sd)
          synth_add_drug_line(&rng, s, sd, false);
        if (ed)
          synth_add_drug_line(&rng, s, ed, true);
        if (rng_ppm(&rng, 200000))
          synth_add_drug_line(&rng, s, pick_drug(&rng, efficacy_drugs, ARRAY_SIZE(efficacy_drugs)),
                              true);
        synth_add_plain_lines(&rng, s, rem, (int)rng_below(&rng, 4), plain_codes,
                              ARRAY_SIZE(plain_codes));
        n_listed++;
      } else if (plain_lines_row) {
        synth_add_plain_lines(&rng, s, rem, 1 + (int)rng_below(&rng, 4), plain_codes,
                              ARRAY_SIZE(plain_codes));
      }
      pay_funds(&rng, s, &who, drug_row);

      if (companion) {
        n_companion++; /* same person, same second as the row before */
      } else {
        trow = i;
        /* an interim settlement: the stay settles again some days later */
        if (s->med_type == 21 && !drug_row && pend.n + 1 < remaining && rng_ppm(&rng, 100000)) {
          uint64_t days = (uint64_t)rng_range(&rng, 3, 20);
          uint64_t within = rng_below(&rng, rows_per_day);
          struct pending f = {i + rows_per_day * days + within, row.psn, row.mdtrt_no, 21};
          heap_push(&pend, f);
          n_interim++;
        }
        /* a second settlement of the same person in the same second (two
         * bills at one checkout): the year's order then rests on the row */
        if ((drug_row || synth_inpatient(s->med_type)) && rng_ppm(&rng, 30000)) {
          comp.active = true;
          comp.psn = row.psn;
          comp.med_type = s->med_type;
          comp.drug_row = drug_row;
        }
      }
    }

    row.psn = scramble(row.psn, psn_mul, psn_add, psn_mod);
    s->insutype = who.insutype;
    s->psn_type = who.psn_type;
    if (synth_inpatient(s->med_type) && s->med_type != 52)
      n_inpatient++;
    if (s->nlines) {
      n_with_lines++;
      n_lines += (uint64_t)s->nlines;
    }
    if (s->fund > s->inscp)
      n_excess++;
    if (s->medfee > 10000000)
      n_over_100k++;
    if (s->medfee > 100000000)
      n_over_1m++;
    write_setl(&os, &od, &row, trow, count);
  }
  ASSERT(pend.n == 0);
  free(pend.v);
  out_close(&os);
  out_close(&od);
  double dt = now_s() - t0;
  fprintf(stderr,
          "gen_settlements: %" PRIu64 " rows (%" PRIu64 " inpatient, %" PRIu64 " interim, %" PRIu64
          " in the same second as the person's previous row, %" PRIu64 " above 100k yuan, %" PRIu64
          " above 1M yuan, %" PRIu64 " with funds above the in-scope amount), %" PRIu64
          " with detail lines (%" PRIu64 " with listed drugs), %" PRIu64 " lines, %" PRIu64
          " people; %.2f s, %.0f rows/s\n",
          count, n_inpatient, n_interim, n_companion, n_over_100k, n_over_1m, n_excess,
          n_with_lines, n_listed, n_lines, people, dt, (double)count / dt);
  return 0;
}

/*
 * test_synth.c - the synthetic city of hmb gen (core/rng.h, domain/synth.h,
 * io/synth_csv.h): the generator's known answers and determinism, integer
 * variates within tolerances, valid and unique ID numbers consistent with
 * birth date and sex, the population's distributions within tolerances of
 * their calibration, every settlement's consistency rules, listed codes
 * matching the lists of plans/liaocheng-2024.json, and the CSV text read
 * back by hmb's own readers (people.h, setl_reader.h).
 *
 * Known answers of the generator were computed independently with python3
 * (splitmix64 and xoshiro256** written from their published definitions);
 * splitmix64's first output for seed 0, 0xe220a8397b1dcdaf, is the
 * reference value of its author.
 */
#include "compat.h"
#include "buf.h"
#include "idno.h"
#include "people.h"
#include "plan.h"
#include "plan_json.h"
#include "rng.h"
#include "setl_reader.h"
#include "settlement.h"
#include "synth.h"
#include "synth_csv.h"
#include "uscc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* ---- the generator ---- */

static void test_synth__rng_known_answers(void **state)
{
  static const struct {
    uint64_t seed;
    uint64_t first_state;
    uint64_t out[3];
  } cases[] = {
      {0,
       UINT64_C(0xe220a8397b1dcdaf),
       {UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a), UINT64_C(0x1a5f849d4933e6e0)}},
      {1,
       UINT64_C(0x910a2dec89025cc1),
       {UINT64_C(0xb3f2af6d0fc710c5), UINT64_C(0x853b559647364cea), UINT64_C(0x92f89756082a4514)}},
      {20240101,
       UINT64_C(0xd3226ffd1f801897),
       {UINT64_C(0xd05ef55272cdfb14), UINT64_C(0x2e2f422341add64e), UINT64_C(0x1c120f3d1ce63170)}},
  };
  struct rng r;
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    rng_seed(&r, cases[i].seed);
    assert_true(r.s[0] == cases[i].first_state);
    for (size_t k = 0; k < 3; k++)
      assert_true(rng_next(&r) == cases[i].out[k]);
  }
  rng_seed3(&r, 1, 2, 3);
  assert_true(rng_next(&r) == UINT64_C(0xca69c028e6e283e8));
  assert_true(rng_next(&r) == UINT64_C(0xc86df1a5f8f50802));
}

static void test_synth__rng_streams(void **state)
{
  struct rng a, b;
  (void)state;
  /* the same stream twice gives the same numbers, neighbouring streams differ */
  rng_seed3(&a, 42, 7, 9);
  rng_seed3(&b, 42, 7, 9);
  for (int i = 0; i < 1000; i++)
    assert_true(rng_next(&a) == rng_next(&b));
  rng_seed3(&a, 42, 7, 9);
  rng_seed3(&b, 42, 7, 10);
  assert_true(rng_next(&a) != rng_next(&b));
  rng_seed3(&b, 43, 7, 9);
  rng_seed3(&a, 42, 7, 9);
  assert_true(rng_next(&a) != rng_next(&b));
}

static void test_synth__fixed_point(void **state)
{
  static const struct {
    uint64_t x;
    int64_t want;
  } logs[] = {{1, 0},       {2, 65536},         {3, 103872},
              {10, 217706}, {1024, 10 * 65536}, {UINT64_C(1) << 63, 63 * 65536}};
  static const struct {
    int64_t value, x_q16, max, want, tol;
  } exps[] = {
      {1000, 0, INT64_MAX, 1000, 0},
      {1000, 65536, INT64_MAX, 2000, 0},
      {1000, -65536, INT64_MAX, 500, 0},
      {1000, 32768, INT64_MAX, 1414, 1},
      {1000000, 3 * 65536, INT64_MAX, 8000000, 1},
      {1000000, -16384, INT64_MAX, 840896, 2},
      {5, 70 * 65536, 77, 77, 0}, /* capped at max */
      {1000, 65536, 1500, 1500, 0},
      {0, 65536, INT64_MAX, 0, 0},
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
    int64_t got = rng_log2_q16(logs[i].x);
    if (got < logs[i].want - 1 || got > logs[i].want + 1)
      fail_msg("log2(%" PRIu64 ") = %" PRId64 ", want %" PRId64, logs[i].x, got, logs[i].want);
  }
  for (size_t i = 0; i < ARRAY_SIZE(exps); i++) {
    int64_t got = rng_scale_exp2(exps[i].value, exps[i].x_q16, exps[i].max);
    if (got < exps[i].want - exps[i].tol || got > exps[i].want + exps[i].tol)
      fail_msg("scale_exp2(%" PRId64 ", %" PRId64 ") = %" PRId64 ", want %" PRId64, exps[i].value,
               exps[i].x_q16, got, exps[i].want);
  }
}

/* Mean and variance (thousandths) of n Poisson draws. */
static void test_synth__variates(void **state)
{
  static const uint32_t means[] = {300, 2500, 15000, 42000};
  struct rng r;
  const int n = 200000;
  (void)state;
  rng_seed(&r, 99);
  for (size_t i = 0; i < ARRAY_SIZE(means); i++) {
    int64_t s = 0, s2 = 0, mean_m, var_m;
    for (int k = 0; k < n; k++) {
      int64_t v = rng_poisson(&r, means[i]);
      s += v;
      s2 += v * v;
    }
    mean_m = s * 1000 / n;
    var_m = (s2 * 1000 - s * s * 1000 / n) / n;
    /* within 2% of the mean, 5% of the variance (= the mean) */
    if (llabs(mean_m - means[i]) > (int64_t)means[i] / 50 + 5 ||
        llabs(var_m - means[i]) > (int64_t)means[i] / 20 + 10)
      fail_msg("poisson(%u): mean %" PRId64 " var %" PRId64, means[i], mean_m, var_m);
  }
  {
    /* the normal: mean 0, variance 1, P(Z > 1.96) about 2.5% */
    int64_t s = 0, s2 = 0, over = 0;
    for (int k = 0; k < n; k++) {
      int64_t z = rng_normal_milli(&r);
      s += z;
      s2 += z * z;
      over += z > 1960;
    }
    assert_true(llabs(s / n) < 10);
    assert_true(llabs(s2 / n - 1000000) < 20000);
    assert_true(over > n * 22 / 1000 && over < n * 28 / 1000);
  }
  {
    /* the lognormal's median, the Pareto's tail: P(X > 4 xmin) = 4^-alpha */
    int64_t below = 0, over = 0;
    for (int k = 0; k < n; k++) {
      below += rng_lognormal(&r, 100000, 800, INT64_MAX) < 100000;
      over += rng_pareto(&r, 100000, 1500, INT64_MAX) > 400000;
    }
    assert_true(below > n * 48 / 100 && below < n * 52 / 100);
    assert_true(over > n * 115 / 1000 && over < n * 135 / 1000); /* 4^-1.5 = 12.5% */
  }
  {
    /* uniformity of rng_below over 10 buckets */
    int64_t cnt[10] = {0};
    for (int k = 0; k < n; k++)
      cnt[rng_below(&r, 10)]++;
    for (int b = 0; b < 10; b++)
      assert_true(cnt[b] > n / 10 * 97 / 100 && cnt[b] < n / 10 * 103 / 100);
  }
}

/* ---- the city ---- */

struct city {
  struct synth_config cfg;
  struct synth_person *people;
  size_t npeople;
  struct synth_member *members;
  size_t nmembers;
  struct synth_event *ev;
  size_t nev;
};

static int ev_cmp(const void *a, const void *b)
{
  uint64_t x = ((const struct synth_event *)a)->key, y = ((const struct synth_event *)b)->key;
  return (x > y) - (x < y);
}

static void city_make(struct city *c, uint64_t seed, uint32_t people)
{
  struct synth_roster *r = hmb_calloc(1, sizeof(*r));
  const struct synth_person *p;
  struct synth_event *one = hmb_malloc(SYNTH_SEQ_MAX * sizeof(*one));
  struct hmb_err err;
  memset(c, 0, sizeof(*c));
  assert_non_null(r);
  assert_non_null(one);
  assert_int_equal(synth_config_init(&c->cfg, seed, people, 3500, 2024, "371500", &err), HMB_OK);
  assert_int_equal(synth_roster_init(r, &c->cfg, &err), HMB_OK);
  c->people = hmb_calloc(people, sizeof(*c->people));
  c->members = hmb_calloc(people, sizeof(*c->members));
  assert_non_null(c->people);
  assert_non_null(c->members);
  while ((p = synth_roster_next(r))) {
    c->people[c->npeople++] = *p;
    if (p->enrolled)
      synth_member_of(&c->cfg, p, &c->members[c->nmembers++]);
  }
  assert_int_equal(c->npeople, people);
  synth_roster_release(r);
  free(r);
  for (size_t i = 0; i < c->nmembers; i++) {
    size_t n = synth_plan(&c->cfg, (uint32_t)i, &c->members[i], one);
    struct synth_event *ne = hmb_reallocarray(c->ev, c->nev + n + 1, sizeof(*ne));
    assert_non_null(ne);
    c->ev = ne;
    memcpy(c->ev + c->nev, one, n * sizeof(*one));
    c->nev += n;
  }
  free(one);
  qsort(c->ev, c->nev, sizeof(*c->ev), ev_cmp);
}

static void city_free(struct city *c)
{
  free(c->people);
  free(c->members);
  free(c->ev);
}

static int cmp_str18(const void *a, const void *b)
{
  return memcmp(a, b, 18);
}

static void test_synth__roster_ids(void **state)
{
  struct city c;
  char(*ids)[IDNO_LEN] = NULL;
  char(*psn)[SYNTH_ID_MAX] = NULL;
  (void)state;
  city_make(&c, 7, 20000);
  ids = hmb_calloc(c.npeople, sizeof(*ids));
  psn = hmb_calloc(c.npeople, sizeof(*psn));
  assert_non_null(ids);
  assert_non_null(psn);
  for (size_t i = 0; i < c.npeople; i++) {
    const struct synth_person *p = &c.people[i];
    struct idno_info info;
    struct hmb_err err;
    char uscc[USCC_LEN + 1], norm[USCC_LEN + 1];
    hmb_err_init(&err);
    if (idno_parse(p->certno, strlen(p->certno), &info, "certno", &err))
      fail_msg("person %zu: %s (%s)", i, err.message, err.code);
    assert_int_equal(info.birth, p->birth);
    assert_int_equal(info.sex, p->gend == 1 ? 'M' : 'F');
    assert_int_equal(date_age_on(p->birth, c.cfg.year_start), p->age);
    assert_true(p->name[0] != '\0' && setl_text_ok(p->name, strlen(p->name)));
    if (p->employer) {
      synth_uscc(&c.cfg, p->employer, uscc);
      assert_int_equal(uscc_parse(uscc, USCC_LEN, norm, "emp_uscc", &err), HMB_OK);
    }
    /* households are contiguous; a relation only in households of two or more */
    assert_true(p->household_size >= 1 && p->household_size <= 8);
    assert_true((p->household_size == 1) == (p->relation == SYNTH_REL_NONE));
    if (i > 0 && c.people[i - 1].household != p->household)
      assert_true(p->household == c.people[i - 1].household + 1);
    assert_true(!p->enrolled || p->status == SYNTH_ACTIVE);
    assert_true(p->claim_free_years <= p->loyalty_years);
    memcpy(ids[i], p->certno, IDNO_LEN);
    synth_psn_no(&c.cfg, p->index, psn[i]);
  }
  qsort(ids, c.npeople, sizeof(*ids), cmp_str18);
  for (size_t i = 1; i < c.npeople; i++)
    if (!memcmp(ids[i - 1], ids[i], IDNO_LEN))
      fail_msg("ID number repeated");
  qsort(psn, c.npeople, sizeof(*psn), cmp_str18);
  for (size_t i = 1; i < c.npeople; i++)
    assert_true(memcmp(psn[i - 1], psn[i], 18) != 0);
  /* one family_id per household: the ids of distinct households differ */
  for (size_t i = 0; i < c.npeople; i++)
    synth_family_id(&c.cfg, c.people[i].household, psn[i]);
  qsort(psn, c.npeople, sizeof(*psn), cmp_str18);
  for (size_t i = 1, fams = 1; i < c.npeople; i++) {
    fams += memcmp(psn[i - 1], psn[i], 17) != 0;
    if (i + 1 == c.npeople)
      assert_int_equal(fams, c.people[c.npeople - 1].household + 1);
  }
  free(ids);
  free(psn);
  city_free(&c);
}

/* Shares within tolerances of the calibration (docs/gen.md), on 100,000 people. */
static void test_synth__distributions(void **state)
{
  struct synth_config cfg;
  struct synth_roster *r = hmb_calloc(1, sizeof(*r));
  struct synth_stats st;
  const struct synth_person *p;
  struct hmb_err err;
  uint64_t enr_pre = 0, all_pre = 0;
  static const struct {
    const char *what;
    int lo, hi; /* per ten thousand */
  } want[] = {
      {"0-14", 1700, 1900},      {"15-59", 6200, 6450},         {"60+", 1780, 1960},
      {"employees", 2300, 2700}, {"enrolled", 3350, 3650},      {"enrolled 60+", 2800, 4000},
      {"assistance", 150, 350},  {"in households", 8700, 9300},
  };
  int64_t got[ARRAY_SIZE(want)];
  (void)state;
  assert_non_null(r);
  memset(&st, 0, sizeof(st));
  assert_int_equal(synth_config_init(&cfg, 11, 100000, 3500, 2024, "371500", &err), HMB_OK);
  assert_int_equal(synth_roster_init(r, &cfg, &err), HMB_OK);
  while ((p = synth_roster_next(r))) {
    synth_stats_person(&st, &cfg, p);
    all_pre += p->preexisting;
    enr_pre += p->enrolled && p->preexisting;
  }
  synth_roster_release(r);
  free(r);
  got[0] = (int64_t)(st.age_band[0] * 10000 / st.people);
  got[1] = (int64_t)(st.age_band[1] * 10000 / st.people);
  got[2] = (int64_t)(st.age_band[2] * 10000 / st.people);
  got[3] = (int64_t)(st.employees * 10000 / st.people);
  got[4] = (int64_t)(st.enrolled * 10000 / st.people);
  got[5] = (int64_t)(st.enr_age_band[2] * 10000 / st.enrolled);
  got[6] = (int64_t)(st.assistance * 10000 / st.people);
  got[7] = (int64_t)(st.in_family * 10000 / st.people);
  for (size_t i = 0; i < ARRAY_SIZE(want); i++)
    if (got[i] < want[i].lo || got[i] > want[i].hi)
      fail_msg("%s: %" PRId64 " per 10,000, want %d..%d", want[i].what, got[i], want[i].lo,
               want[i].hi);
  /* adverse selection: the enrolled are older and more often ill than the insured */
  assert_true(st.enr_age_sum * st.people > st.age_sum * st.enrolled + 5 * st.people * st.enrolled);
  assert_true(enr_pre * st.people > 2 * all_pre * st.enrolled);
  assert_true(st.enr_health[SYNTH_GRAVE] * st.people > 2 * st.health[SYNTH_GRAVE] * st.enrolled);
  /* the model's admissions per insured person and year: NHSA 2023 about 0.21 */
  assert_true(st.expect_all.stays_milli / st.people >= 190 &&
              st.expect_all.stays_milli / st.people <= 260);
}

static void check_setl(const struct synth_setl *s)
{
  hmb_fen lines[4] = {0, 0, 0, 0};
  assert_true(s->medfee >= 0 && s->ful >= 0 && s->ovl >= 0 && s->pre >= 0 && s->inscp >= 0);
  assert_true(s->dedc >= 0 && s->hifp >= 0 && s->hifmi >= 0 && s->hifob >= 0 && s->maf >= 0);
  assert_true(s->acct >= 0 && s->cash >= 0);
  assert_true(s->medfee == s->ful + s->ovl + s->pre + s->inscp);
  assert_true(s->fund == s->hifp + s->hifmi + s->hifob + s->maf);
  assert_true(s->psn_part == s->medfee - s->fund);
  assert_true(s->psn_part == s->acct + s->cash);
  assert_true(s->dedc <= s->inscp);
  assert_true(s->fund <= s->medfee);
  assert_true(s->nlines <= SYNTH_MAX_LINES);
  for (size_t k = 0; k < s->nlines; k++) {
    const struct synth_line *l = &s->lines[k];
    assert_true(l->ful >= 0 && l->ovl >= 0 && l->pre >= 0 && l->inscp >= 0);
    assert_true(l->code_len > 0 && l->code_len == strlen(l->code));
    lines[0] += l->ful;
    lines[1] += l->ovl;
    lines[2] += l->pre;
    lines[3] += l->inscp;
  }
  assert_true(lines[0] <= s->ful && lines[1] <= s->ovl && lines[2] <= s->pre &&
              lines[3] <= s->inscp);
}

static bool has_prefix(const char *code, const char *const *prefixes)
{
  for (size_t j = 0; prefixes[j]; j++)
    if (!strncmp(code, prefixes[j], strlen(prefixes[j])))
      return true;
  return false;
}

static void test_synth__settlements(void **state)
{
  struct city c;
  struct synth_acc *acc;
  struct synth_setl s;
  struct plan *plan = hmb_calloc(1, sizeof(*plan));
  struct hmb_err err;
  int ls, le;
  uint64_t last = 0, kinds[SYNTH_EV__COUNT] = {0}, listed = 0, plain = 0, over_100k = 0;
  (void)state;
  assert_non_null(plan);
  plan_init(plan);
  hmb_err_init(&err);
  if (plan_load(plan, "plans/liaocheng-2024.json", NULL, NULL, &err))
    fail_msg("plan: %s %s", err.field, err.message);
  ls = plan_find_list(plan, "special_drugs");
  le = plan_find_list(plan, "special_efficacy");
  assert_true(ls >= 0 && le >= 0);

  city_make(&c, 3, 30000);
  acc = hmb_calloc(c.nmembers, sizeof(*acc));
  assert_non_null(acc);
  assert_true(c.nev > c.nmembers * 5);
  for (size_t i = 0; i < c.nev; i++) {
    const struct synth_event *e = &c.ev[i];
    uint32_t m = SYNTH_KEY_MEMBER(e->key);
    struct settlement v;
    struct setl_line vl[SYNTH_MAX_LINES];
    assert_true(e->key > last || i == 0);
    last = e->key;
    assert_true(m < c.nmembers);
    assert_true(SYNTH_KEY_TIME(e->key) < (uint32_t)c.cfg.days * 86400);
    kinds[e->kind]++;
    synth_settlement(&c.cfg, &c.members[m], e, &acc[m], &s);
    check_setl(&s);
    over_100k += s.medfee > 10000000;
    /* the engine's own validation agrees */
    settlement_init(&v);
    snprintf(v.setl_id, sizeof(v.setl_id), "S%zu", i);
    snprintf(v.psn_no, sizeof(v.psn_no), "P%u", m);
    v.med_type = s.med_type;
    v.medfee_sumamt = s.medfee;
    v.fulamt_ownpay_amt = s.ful;
    v.overlmt_selfpay = s.ovl;
    v.preselfpay_amt = s.pre;
    v.inscp_scp_amt = s.inscp;
    v.act_pay_dedc = s.dedc;
    v.hifp_pay = s.hifp;
    v.hifmi_pay = s.hifmi;
    v.hifob_pay = s.hifob;
    v.maf_pay = s.maf;
    v.fund_pay_sumamt = s.fund;
    v.psn_part_amt = s.psn_part;
    v.acct_pay = s.acct;
    v.psn_cash_pay = s.cash;
    memset(vl, 0, sizeof(vl));
    for (size_t k = 0; k < s.nlines; k++) {
      memcpy(vl[k].med_list_codg, s.lines[k].code, s.lines[k].code_len + 1);
      vl[k].fulamt_ownpay_amt = s.lines[k].ful;
      vl[k].overlmt_amt = s.lines[k].ovl;
      vl[k].preselfpay_amt = s.lines[k].pre;
      vl[k].inscp_scp_amt = s.lines[k].inscp;
      vl[k].det_item_fee_sumamt =
          s.lines[k].ful + s.lines[k].ovl + s.lines[k].pre + s.lines[k].inscp;
    }
    v.lines = vl;
    v.nlines = s.nlines;
    if (settlement_validate(&v, &err))
      fail_msg("event %zu: %s %s", i, err.field, err.message);
    /* listed codes are in the plan's lists, the others in neither */
    plan_mark_lines(plan, vl, s.nlines);
    for (size_t k = 0; k < s.nlines; k++) {
      bool sp = has_prefix(vl[k].med_list_codg, synth_special_prefixes);
      bool ef = has_prefix(vl[k].med_list_codg, synth_efficacy_prefixes);
      assert_int_equal(sp, (vl[k].list_mask >> ls) & 1);
      assert_int_equal(ef, (vl[k].list_mask >> le) & 1);
      listed += sp || ef;
      plain += !sp && !ef;
    }
  }
  /* every kind of event occurs in a city of 30,000 (CAR-T aside: too rare) */
  for (int k = 0; k < SYNTH_EV__COUNT; k++)
    if (k != SYNTH_EV_CART && !kinds[k])
      fail_msg("no event of kind %d", k);
  assert_true(listed > 0 && plain > 0 && over_100k > 0);
  free(acc);
  city_free(&c);
  plan_release(plan);
  free(plan);
}

/* Every prefix the generator bills as listed is an entry of the plan's list files. */
static void test_synth__prefixes_in_list_files(void **state)
{
  static const struct {
    const char *file;
    const char *const *prefixes;
  } files[] = {
      {"plans/lists/liaocheng-2024-special-drugs.txt", synth_special_prefixes},
      {"plans/lists/shandong-special-efficacy-drugs.txt", synth_efficacy_prefixes},
  };
  (void)state;
  for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
    struct buf b = BUF_INIT(1u << 20);
    struct hmb_err err;
    if (buf_read_file(&b, files[f].file, &err))
      fail_msg("%s: %s", files[f].file, err.message);
    for (size_t j = 0; files[f].prefixes[j]; j++) {
      char entry[64];
      snprintf(entry, sizeof(entry), "\n%s*\t", files[f].prefixes[j]);
      if (!strstr(b.ptr, entry))
        fail_msg("%s is not an entry of %s", files[f].prefixes[j], files[f].file);
    }
    for (size_t j = 0; synth_plain_prefixes[j]; j++) {
      char entry[64];
      snprintf(entry, sizeof(entry), "\n%s", synth_plain_prefixes[j]);
      if (synth_plain_prefixes[j][0] == 'X' && strstr(b.ptr, entry))
        fail_msg("plain code %s is listed in %s", synth_plain_prefixes[j], files[f].file);
    }
    buf_release(&b);
  }
}

/* The CSV text goes back through hmb's readers without a bad row. */
static void test_synth__csv_round_trip(void **state)
{
  struct city c;
  struct synth_csv *w = hmb_calloc(1, sizeof(*w));
  struct buf people = BUF_INIT(64u << 20), setl = BUF_INIT(256u << 20), det = BUF_INIT(64u << 20);
  char row[SYNTH_CSV_ROW_MAX];
  struct synth_acc *acc;
  struct synth_setl s;
  struct people *pp = NULL;
  struct setl_reader *rd = NULL;
  struct settlement v;
  struct hmb_err err;
  size_t enrolled = 0, nread = 0, nlines = 0, glines = 0;
  bool eof = false;
  (void)state;
  assert_non_null(w);
  city_make(&c, 5, 5000);
  synth_csv_init(w, &c.cfg);
  buf_addstr(&people, synth_csv_people_header);
  for (size_t i = 0; i < c.npeople; i++) {
    char *end;
    if (!c.people[i].enrolled)
      continue;
    end = synth_csv_people(w, &c.people[i], row);
    assert_true(end > row && end - row < SYNTH_CSV_ROW_MAX);
    buf_add(&people, row, (size_t)(end - row));
    enrolled++;
  }
  hmb_err_init(&err);
  if (people_load_mem(&pp, "people.csv", people.ptr, people.len, NULL, NULL, &err))
    fail_msg("people: %s %s", err.field, err.message);
  assert_int_equal(people_count(pp), enrolled);
  assert_int_equal(people_skipped(pp), 0);

  acc = hmb_calloc(c.nmembers, sizeof(*acc));
  assert_non_null(acc);
  buf_addstr(&setl, synth_csv_setl_header);
  buf_addstr(&det, synth_csv_detail_header);
  for (size_t i = 0; i < c.nev; i++) {
    uint32_t m = SYNTH_KEY_MEMBER(c.ev[i].key);
    char *end;
    synth_settlement(&c.cfg, &c.members[m], &c.ev[i], &acc[m], &s);
    end = synth_csv_setl(w, &s, row);
    buf_add(&setl, row, (size_t)(end - row));
    end = synth_csv_details(w, &s, row);
    assert_true(end - row < SYNTH_CSV_ROW_MAX);
    buf_add(&det, row, (size_t)(end - row));
    glines += s.nlines;
  }
  if (setl_reader_open_mem(&rd, "settlements.csv", setl.ptr, setl.len, SETL_FMT_CSV, "details.csv",
                           det.ptr, det.len, &err))
    fail_msg("open: %s %s", err.field, err.message);
  for (;;) {
    const struct people_entry *pe;
    if (setl_reader_next(rd, &v, &eof, &err))
      fail_msg("row: %s %s", err.field, err.message);
    if (eof)
      break;
    if (settlement_validate(&v, &err))
      fail_msg("%s: %s %s", v.setl_id, err.field, err.message);
    pe = people_find(pp, v.psn_no, strlen(v.psn_no));
    assert_non_null(pe);
    assert_int_equal(pe->insutype, v.insutype);
    nread++;
    nlines += v.nlines;
  }
  assert_int_equal(nread, c.nev);
  assert_int_equal(nlines, glines);
  assert_int_equal(setl_reader_unmatched_details(rd, NULL), 0);
  setl_reader_free(rd);
  people_free(pp);
  buf_release(&people);
  buf_release(&setl);
  buf_release(&det);
  free(acc);
  free(w);
  city_free(&c);
}

/* The same configuration gives the same city; another seed another one. */
static uint64_t city_hash(uint64_t seed)
{
  struct city c;
  struct synth_csv *w = hmb_calloc(1, sizeof(*w));
  struct synth_acc *acc;
  struct synth_setl s;
  char row[SYNTH_CSV_ROW_MAX];
  uint64_t h = 0;
  assert_non_null(w);
  city_make(&c, seed, 3000);
  synth_csv_init(w, &c.cfg);
  for (size_t i = 0; i < c.npeople; i++) {
    char *end = synth_csv_roster(w, &c.people[i], row);
    h = rng_mix64(h ^ hmb_hash64(row, (size_t)(end - row)));
  }
  acc = hmb_calloc(c.nmembers + 1, sizeof(*acc));
  assert_non_null(acc);
  for (size_t i = 0; i < c.nev; i++) {
    uint32_t m = SYNTH_KEY_MEMBER(c.ev[i].key);
    char *end;
    synth_settlement(&c.cfg, &c.members[m], &c.ev[i], &acc[m], &s);
    end = synth_csv_setl(w, &s, row);
    end = synth_csv_details(w, &s, end);
    h = rng_mix64(h ^ hmb_hash64(row, (size_t)(end - row)));
  }
  free(acc);
  free(w);
  city_free(&c);
  return h;
}

static void test_synth__deterministic(void **state)
{
  (void)state;
  assert_true(city_hash(1) == city_hash(1));
  assert_true(city_hash(1) != city_hash(2));
}

static void test_synth__config_errors(void **state)
{
  static const struct {
    uint32_t people, enroll;
    int year;
    const char *admdvs, *code;
  } bad[] = {
      {0, 3500, 2024, "371500", "gen.people"},
      {SYNTH_PEOPLE_MAX + 1, 3500, 2024, "371500", "gen.people"},
      {10, 0, 2024, "371500", "gen.enroll_rate"},
      {10, 10001, 2024, "371500", "gen.enroll_rate"},
      {10, 3500, 1999, "371500", "gen.year"},
      {10, 3500, 2024, "37150", "gen.admdvs"},
      {10, 3500, 2024, "3715a0", "gen.admdvs"},
      {10, 3500, 2024, "991500", "gen.admdvs"},
  };
  struct synth_config cfg;
  struct hmb_err err;
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    hmb_err_init(&err);
    assert_int_equal(
        synth_config_init(&cfg, 1, bad[i].people, bad[i].enroll, bad[i].year, bad[i].admdvs, &err),
        HMB_INVALID);
    assert_string_equal(err.code, bad[i].code);
  }
  /* another city: ID numbers carry its region */
  assert_int_equal(synth_config_init(&cfg, 1, 10, 3500, 2030, "440300", &err), HMB_OK);
  assert_int_equal(cfg.days, 365);
  assert_memory_equal(cfg.regions[0], "4403", 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_synth__rng_known_answers),
      cmocka_unit_test(test_synth__rng_streams),
      cmocka_unit_test(test_synth__fixed_point),
      cmocka_unit_test(test_synth__variates),
      cmocka_unit_test(test_synth__roster_ids),
      cmocka_unit_test(test_synth__distributions),
      cmocka_unit_test(test_synth__settlements),
      cmocka_unit_test(test_synth__prefixes_in_list_files),
      cmocka_unit_test(test_synth__csv_round_trip),
      cmocka_unit_test(test_synth__deterministic),
      cmocka_unit_test(test_synth__config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

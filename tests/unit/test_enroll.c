/*
 * Enrollment rules (domain/enroll.c) on the shipped plans, one table row
 * per rule and per refusal; then the service's store-free helpers
 * (svc_enrollment_json, svc_adj_person).
 */
#include "compat.h"
#include "enroll.h"
#include "plan_json.h"
#include "svc_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

enum { LC = 0, WH = 1 };

static struct plan plans[2];

static int setup(void **state)
{
  static const char *const files[] = {"plans/liaocheng-2024.json", "plans/weihai-2024.json"};
  const char *home = getenv("HMB_HOME");
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(files); i++) {
    char path[512];
    struct hmb_err err;
    snprintf(path, sizeof(path), "%s/%s", home ? home : ".", files[i]);
    plan_init(&plans[i]);
    hmb_err_init(&err);
    if (plan_load(&plans[i], path, NULL, NULL, &err)) {
      fprintf(stderr, "%s: %s: %s\n", files[i], err.field, err.message);
      return -1;
    }
  }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  plan_release(&plans[LC]);
  plan_release(&plans[WH]);
  return 0;
}

static hmb_date d(const char *s)
{
  hmb_date out = 0;
  if (date_parse(s, strlen(s), &out, "date", NULL))
    fail_msg("bad date %s", s);
  return out;
}

#define UNKNOWN_STATUS 9

/*
 * One case. Zero means the default: born 1990-05-01, resident (390),
 * active, insured in the plan's city, a child of family F1, request on
 * 2023-12-10 online, preexisting -1. The payer (personal account) is the
 * head of F1, an active employee of the plan's city, unless changed.
 */
struct row {
  const char *name;
  int plan;
  const char *birth;
  int insutype, status;
  const char *admdvs, *work_admdvs;
  int relation;
  int veteran;
  const char *groups;
  int channel;
  const char *payer;
  const char *group;
  const char *on;
  int preexisting;
  int parents;
  int payer_relation, payer_insutype, payer_status;
  const char *payer_admdvs, *payer_family;
  const char *past; /* "2023:p,2022:c" p = preexisting, c = claimed */
  /* expected */
  const char *code;
  hmb_fen premium;
  const char *cover;
  const char *want_group;
  int want_channel;
  int loyalty, claim_free, want_pre;
};

#define USCC_OK "91110000802100433B"

static const struct row rows[] = {
    /* Liaocheng: flat 89, city scope, all five relations, no free minors. */
    {"lc in window", LC, .premium = 8900, .cover = "2024-01-01"},
    {"lc window end day", LC, .on = "2023-12-31", .premium = 8900, .cover = "2024-01-01"},
    {"lc window first day", LC, .on = "2023-12-01", .premium = 8900, .cover = "2024-01-01"},
    {"lc after window", LC, .on = "2024-02-01", .code = "enroll.window_closed"},
    {"lc before window", LC, .on = "2023-11-30", .code = "enroll.window_closed"},
    {"lc veteran of the year", LC, .veteran = 2024, .on = "2024-03-10", .premium = 8900,
     .cover = "2024-03-11"},
    {"lc veteran of last year", LC, .veteran = 2023, .on = "2024-06-30", .premium = 8900,
     .cover = "2024-07-01"},
    {"lc veteran too old", LC, .veteran = 2022, .on = "2024-03-10", .code = "enroll.window_closed"},
    {"lc veteran after cover end", LC, .veteran = 2024, .on = "2025-01-02",
     .code = "enroll.plan_ended"},
    {"lc veteran on last day", LC, .veteran = 2024, .on = "2024-12-31",
     .code = "enroll.plan_ended"},
    {"lc newborn both parents", LC, .birth = "2024-03-01", .parents = 2, .on = "2024-03-20",
     .premium = 8900, .cover = "2024-03-01"},
    {"lc newborn born in window", LC, .birth = "2023-12-15", .parents = 2, .on = "2024-01-20",
     .premium = 8900, .cover = "2024-01-01"},
    {"lc newborn one parent", LC, .birth = "2024-03-01", .parents = 1, .on = "2024-03-20",
     .code = "enroll.window_closed"},
    {"lc born before window", LC, .birth = "2023-11-20", .parents = 2, .on = "2024-01-20",
     .code = "enroll.window_closed"},
    {"lc not yet born", LC, .birth = "2024-02-01", .code = "enroll.not_born"},
    {"lc other city", LC, .admdvs = "371002", .code = "enroll.not_eligible"},
    {"lc no province workers", LC, .admdvs = "370102", .work_admdvs = "371502",
     .code = "enroll.not_eligible"},
    {"lc suspended", LC, .status = 2, .code = "enroll.suspended"},
    {"lc ended", LC, .status = 3, .code = "enroll.ended"},
    {"lc no status", LC, .status = UNKNOWN_STATUS, .code = "enroll.no_status"},
    {"lc group not in plan", LC, .group = "medical_assistance", .groups = "medical_assistance",
     .code = "enroll.group_unknown"},
    {"lc no free minors", LC, .birth = "2015-01-01", .parents = 2, .channel = ENROLL_CH_FREE,
     .code = "enroll.not_free"},
    {"lc minor pays", LC, .birth = "2015-01-01", .parents = 2, .premium = 8900,
     .cover = "2024-01-01"},
    {"lc unknown channel", LC, .channel = 9, .code = "enroll.channel"},
    {"lc bad preexisting", LC, .preexisting = 2, .code = "enroll.preexisting"},
    /* personal account (the beneficiary is a child of F1 unless said) */
    {"lc account for child", LC, .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1",
     .premium = 8900, .cover = "2024-01-01"},
    {"lc account for spouse", LC, .relation = ENROLL_REL_SPOUSE,
     .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1", .premium = 8900},
    {"lc account for spouse's parent", LC, .relation = ENROLL_REL_SPOUSE_PARENT,
     .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1", .premium = 8900},
    {"lc spouse pays head's parent", LC, .relation = ENROLL_REL_PARENT,
     .payer_relation = ENROLL_REL_SPOUSE, .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1",
     .premium = 8900},
    {"lc child pays grandparent", LC, .relation = ENROLL_REL_PARENT,
     .payer_relation = ENROLL_REL_CHILD, .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1",
     .code = "enroll.relation"},
    {"lc account other family", LC, .payer_family = "F2", .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .code = "enroll.relation"},
    {"lc account of a resident", LC, .payer_insutype = 390, .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .code = "enroll.payer_not_employee"},
    {"lc account suspended", LC, .payer_status = 2, .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .code = "enroll.payer_inactive"},
    {"lc account other city", LC, .payer_admdvs = "371002", .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .code = "enroll.account_scope"},
    {"lc account no payer", LC, .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .code = "enroll.payer_missing"},
    {"lc employer", LC, .channel = ENROLL_CH_EMPLOYER, .payer = USCC_OK, .premium = 8900},
    {"lc employer bad code", LC, .channel = ENROLL_CH_EMPLOYER, .payer = "91110000802100433A",
     .code = "enroll.payer_uscc"},
    {"lc employer no code", LC, .channel = ENROLL_CH_EMPLOYER, .code = "enroll.payer_missing"},
    {"lc sponsor", LC, .channel = ENROLL_CH_SPONSOR, .payer = "charity-1", .premium = 8900},
    {"lc sponsor missing", LC, .channel = ENROLL_CH_SPONSOR, .code = "enroll.payer_missing"},
    /* loyalty and pre-existing status */
    {"lc loyal, status kept", LC, .preexisting = 0, .past = "2023:p,2022:c,2020:", .premium = 8900,
     .loyalty = 2, .claim_free = 1, .want_pre = 1},
    {"lc gap resets", LC, .preexisting = 1, .past = "2022:,2021:", .premium = 8900, .want_pre = 1},
    {"lc new, not assessed", LC, .preexisting = -1, .premium = 8900, .want_pre = 0},

    /* Weihai: age bands 39/89/139, groups, province workers, free minors. */
    {"wh age 33", WH, .on = "2023-11-10", .premium = 8900, .cover = "2024-01-01"},
    {"wh age 22", WH, .birth = "2001-01-02", .premium = 3900},
    {"wh age 23", WH, .birth = "2001-01-01", .premium = 8900},
    {"wh age 59", WH, .birth = "1964-01-02", .premium = 8900},
    {"wh age 60", WH, .birth = "1964-01-01", .premium = 13900},
    {"wh before window", WH, .on = "2023-11-09", .code = "enroll.window_closed"},
    {"wh medical assistance", WH, .birth = "1950-01-01", .groups = "low_income;medical_assistance",
     .group = "medical_assistance", .premium = 3900, .want_group = "medical_assistance"},
    {"wh group not in roster", WH, .groups = "low_income", .group = "medical_assistance",
     .code = "enroll.group"},
    {"wh group unknown", WH, .groups = "veteran", .group = "veteran",
     .code = "enroll.group_unknown"},
    {"wh province worker", WH, .admdvs = "370102", .work_admdvs = "371002", .premium = 8900},
    {"wh province, works elsewhere", WH, .admdvs = "370102", .work_admdvs = "370102",
     .code = "enroll.not_eligible"},
    {"wh province, work unknown", WH, .admdvs = "370102", .code = "enroll.not_eligible"},
    {"wh other province", WH, .admdvs = "110101", .work_admdvs = "371002",
     .code = "enroll.not_eligible"},
    {"wh free minor", WH, .birth = "2014-02-01", .parents = 2, .channel = ENROLL_CH_FREE,
     .premium = 0, .want_group = "free_minor", .want_channel = ENROLL_CH_FREE},
    {"wh free minor asked online", WH, .birth = "2014-02-01", .parents = 2, .premium = 0,
     .want_group = "free_minor", .want_channel = ENROLL_CH_FREE},
    {"wh minor one parent", WH, .birth = "2014-02-01", .parents = 1, .premium = 3900},
    {"wh minor one parent free", WH, .birth = "2014-02-01", .parents = 1, .channel = ENROLL_CH_FREE,
     .code = "enroll.not_free"},
    {"wh 18 not a minor", WH, .birth = "2005-06-01", .parents = 2, .channel = ENROLL_CH_FREE,
     .code = "enroll.not_free"},
    {"wh newborn free from birth", WH, .birth = "2024-04-01", .parents = 2, .on = "2024-04-15",
     .premium = 0, .cover = "2024-04-01", .want_group = "free_minor",
     .want_channel = ENROLL_CH_FREE},
    {"wh account for spouse's parent", WH, .relation = ENROLL_REL_SPOUSE_PARENT,
     .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "P1", .code = "enroll.relation"},
    {"wh account from Jinan", WH, .payer_admdvs = "370102", .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .premium = 8900},
    {"wh account from Beijing", WH, .payer_admdvs = "110101", .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "P1", .code = "enroll.account_scope"},
    {"wh account self", WH, .relation = ENROLL_REL_HEAD, .insutype = 310,
     .channel = ENROLL_CH_PERSONAL_ACCOUNT, .payer = "SELF", .premium = 8900},
    {"wh self not employee", WH, .relation = ENROLL_REL_HEAD, .channel = ENROLL_CH_PERSONAL_ACCOUNT,
     .payer = "SELF", .code = "enroll.payer_not_employee"},
};

static size_t parse_past(const char *s, struct enroll_year *out, size_t max)
{
  size_t n = 0;
  while (s && *s && n < max) {
    char *end;
    memset(&out[n], 0, sizeof(out[n]));
    out[n].year = (int)strtol(s, &end, 10);
    s = end;
    if (*s == ':')
      s++;
    while (*s && *s != ',') {
      if (*s == 'p')
        out[n].preexisting = 1;
      if (*s == 'c')
        out[n].claimed = true;
      s++;
    }
    if (*s == ',')
      s++;
    n++;
  }
  return n;
}

static void run_row(const struct row *r)
{
  const struct plan *p = &plans[r->plan];
  const char *city = r->plan == LC ? "371502" : "371002";
  struct enroll_person who = {0}, payer = {0};
  struct enroll_year past[8];
  struct enroll_input in = {0};
  struct enroll_result res;
  struct hmb_err err;
  enum hmb_status st;

  who.psn_no = "B1";
  who.birth = d(r->birth ? r->birth : "1990-05-01");
  who.insutype = r->insutype ? r->insutype : 390;
  who.status = r->status == UNKNOWN_STATUS ? 0 : r->status ? r->status : ENROLL_PSN_ACTIVE;
  who.admdvs = r->admdvs ? r->admdvs : city;
  who.work_admdvs = r->work_admdvs ? r->work_admdvs : "";
  who.family_id = "F1";
  who.relation = r->relation ? r->relation : ENROLL_REL_CHILD;
  who.veteran_year = r->veteran;
  who.groups = r->groups;

  payer.psn_no = "P1";
  payer.birth = d("1985-01-01");
  payer.insutype = r->payer_insutype ? r->payer_insutype : ENROLL_INSUTYPE_EMPLOYEE;
  payer.status = r->payer_status ? r->payer_status : ENROLL_PSN_ACTIVE;
  payer.admdvs = r->payer_admdvs ? r->payer_admdvs : city;
  payer.family_id = r->payer_family ? r->payer_family : "F1";
  payer.relation = r->payer_relation ? r->payer_relation : ENROLL_REL_HEAD;

  in.plan = p;
  in.person = &who;
  in.channel = r->channel ? r->channel : ENROLL_CH_ONLINE;
  in.group = r->group;
  in.on = d(r->on ? r->on : "2023-12-10");
  in.preexisting = r->preexisting;
  in.parents_enrolled = r->parents;
  in.npast = parse_past(r->past, past, ARRAY_SIZE(past));
  in.past = past;
  if (r->payer && !strcmp(r->payer, "SELF")) {
    in.payer = who.psn_no;
    in.payer_person = &who;
  } else if (r->payer) {
    in.payer = r->payer;
    if (in.channel == ENROLL_CH_PERSONAL_ACCOUNT)
      in.payer_person = &payer;
  }

  hmb_err_init(&err);
  memset(&res, 0x5a, sizeof(res));
  st = enroll_decide(&in, &res, &err);
  if (r->code) {
    if (st == HMB_OK)
      fail_msg("%s: accepted, expected %s", r->name, r->code);
    assert_int_equal(st, HMB_INVALID);
    if (strcmp(err.code, r->code))
      fail_msg("%s: got %s (%s), expected %s", r->name, err.code, err.message, r->code);
    assert_true(err.message[0] && err.field[0]);
    return;
  }
  if (st)
    fail_msg("%s: refused %s: %s", r->name, err.code, err.message);
  if (res.premium != r->premium)
    fail_msg("%s: premium %" PRId64 ", expected %" PRId64, r->name, res.premium, r->premium);
  if (r->cover && res.cover_start != d(r->cover)) {
    char got[HMB_DATE_TEXT_MAX];
    date_format(res.cover_start, got);
    fail_msg("%s: cover starts %s, expected %s", r->name, got, r->cover);
  }
  assert_string_equal(res.group, r->want_group ? r->want_group : "");
  assert_int_equal(res.channel, r->want_channel ? r->want_channel : in.channel);
  assert_int_equal(res.free_cover, res.channel == ENROLL_CH_FREE);
  assert_int_equal(res.loyalty_years, r->loyalty);
  assert_int_equal(res.claim_free_years, r->claim_free);
  if (r->past || r->preexisting)
    assert_int_equal(res.preexisting, r->want_pre);
}

static void test_enroll__rules(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(rows); i++)
    run_row(&rows[i]);
}

static void test_enroll__relations(void **state)
{
  static const struct {
    int payer, ben;
    const char *payer_family;
    uint32_t want;
  } t[] = {
      {ENROLL_REL_HEAD, ENROLL_REL_SPOUSE, "F1", PLAN_REL_SPOUSE},
      {ENROLL_REL_HEAD, ENROLL_REL_CHILD, "F1", PLAN_REL_CHILD},
      {ENROLL_REL_HEAD, ENROLL_REL_PARENT, "F1", PLAN_REL_PARENT},
      {ENROLL_REL_HEAD, ENROLL_REL_SPOUSE_PARENT, "F1", PLAN_REL_SPOUSE_PARENT},
      {ENROLL_REL_HEAD, ENROLL_REL_OTHER, "F1", 0},
      {ENROLL_REL_SPOUSE, ENROLL_REL_HEAD, "F1", PLAN_REL_SPOUSE},
      {ENROLL_REL_SPOUSE, ENROLL_REL_CHILD, "F1", PLAN_REL_CHILD},
      {ENROLL_REL_SPOUSE, ENROLL_REL_SPOUSE_PARENT, "F1", PLAN_REL_PARENT},
      {ENROLL_REL_SPOUSE, ENROLL_REL_PARENT, "F1", PLAN_REL_SPOUSE_PARENT},
      {ENROLL_REL_CHILD, ENROLL_REL_HEAD, "F1", PLAN_REL_PARENT},
      {ENROLL_REL_CHILD, ENROLL_REL_SPOUSE, "F1", PLAN_REL_PARENT},
      {ENROLL_REL_CHILD, ENROLL_REL_CHILD, "F1", 0},
      {ENROLL_REL_CHILD, ENROLL_REL_PARENT, "F1", 0},
      {ENROLL_REL_PARENT, ENROLL_REL_HEAD, "F1", 0},
      {ENROLL_REL_HEAD, ENROLL_REL_CHILD, "F2", 0},
      {ENROLL_REL_HEAD, ENROLL_REL_CHILD, "", 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(t); i++) {
    struct enroll_person a = {
        .psn_no = "A", .family_id = t[i].payer_family, .relation = t[i].payer};
    struct enroll_person b = {.psn_no = "B", .family_id = "F1", .relation = t[i].ben};
    if (!t[i].payer_family[0])
      b.family_id = "";
    if (enroll_payer_relation(&a, &b) != t[i].want)
      fail_msg("row %zu: relation %u", i, enroll_payer_relation(&a, &b));
  }
  {
    struct enroll_person a = {.psn_no = "A"};
    assert_int_equal(enroll_payer_relation(&a, &a), PLAN_REL_SELF);
  }
}

static void test_enroll__parents(void **state)
{
  struct enroll_person fam[] = {
      {.psn_no = "H", .family_id = "F", .relation = ENROLL_REL_HEAD, .enrolled = true},
      {.psn_no = "S", .family_id = "F", .relation = ENROLL_REL_SPOUSE, .enrolled = true},
      {.psn_no = "C", .family_id = "F", .relation = ENROLL_REL_CHILD},
      {.psn_no = "GP1", .family_id = "F", .relation = ENROLL_REL_PARENT, .enrolled = true},
      {.psn_no = "GP2", .family_id = "F", .relation = ENROLL_REL_PARENT},
      {.psn_no = "SP1", .family_id = "F", .relation = ENROLL_REL_SPOUSE_PARENT, .enrolled = true},
      {.psn_no = "SP2", .family_id = "F", .relation = ENROLL_REL_SPOUSE_PARENT, .enrolled = true},
  };
  struct enroll_person other = {.psn_no = "X", .family_id = "G", .relation = ENROLL_REL_CHILD};
  (void)state;
  assert_int_equal(enroll_parents_enrolled(&fam[2], fam, ARRAY_SIZE(fam)), 2);
  assert_int_equal(enroll_parents_enrolled(&fam[0], fam, ARRAY_SIZE(fam)), 1);
  assert_int_equal(enroll_parents_enrolled(&fam[1], fam, ARRAY_SIZE(fam)), 2);
  assert_int_equal(enroll_parents_enrolled(&fam[3], fam, ARRAY_SIZE(fam)), 0);
  assert_int_equal(enroll_parents_enrolled(&other, fam, ARRAY_SIZE(fam)), 0);
  fam[1].enrolled = false;
  assert_int_equal(enroll_parents_enrolled(&fam[2], fam, ARRAY_SIZE(fam)), 1);
  /* three "parents" (a roster error) never count as both */
  fam[1].enrolled = true;
  fam[4].relation = ENROLL_REL_SPOUSE;
  fam[4].enrolled = true;
  assert_int_equal(enroll_parents_enrolled(&fam[2], fam, ARRAY_SIZE(fam)), 1);
}

static void test_enroll__helpers(void **state)
{
  int c;
  (void)state;
  assert_true(plan_flag_present("a;medical_assistance;b", "medical_assistance"));
  assert_true(plan_flag_present("medical_assistance", "medical_assistance"));
  assert_false(plan_flag_present("medical_assistance_x", "medical_assistance"));
  assert_false(plan_flag_present("", "x"));
  assert_false(plan_flag_present(NULL, "x"));
  for (c = ENROLL_CH_ONLINE; c <= ENROLL_CH_FREE; c++)
    assert_int_equal(enroll_channel_parse(enroll_channel_name(c)), c);
  assert_string_equal(enroll_channel_name(0), "unknown");
  assert_int_equal(enroll_channel_parse("cash"), 0);
  assert_int_equal(enroll_age(&plans[WH], d("2001-01-01")), 23);
  assert_int_equal(enroll_age(&plans[WH], d("2024-05-01")), 0);
}

static void test_enroll__json(void **state)
{
  struct store_enrollment e;
  struct buf out = BUF_INIT(4096);
  (void)state;
  memset(&e, 0, sizeof(e));
  snprintf(e.policy_no, sizeof(e.policy_no), "LIAOCHENG2024-00000042");
  snprintf(e.plan_id, sizeof(e.plan_id), "liaocheng-2024");
  snprintf(e.psn_no, sizeof(e.psn_no), "P\"1");
  e.year = 2024;
  e.status = ENR_CANCELLED;
  e.channel = CH_PERSONAL_ACCOUNT;
  snprintf(e.payer, sizeof(e.payer), "P0");
  e.premium = 8900;
  e.paid = 8900;
  e.refunded = 4450;
  e.enrolled_on = d("2023-12-05");
  e.cover_start = d("2024-01-01");
  e.preexisting = 1;
  e.loyalty_years = 2;
  assert_int_equal(svc_enrollment_json(&e, &out), HMB_OK);
  assert_string_equal(out.ptr,
                      "{\"policy_no\":\"LIAOCHENG2024-00000042\",\"plan_id\":\"liaocheng-2024\","
                      "\"psn_no\":\"P\\\"1\",\"year\":2024,\"status\":\"cancelled\","
                      "\"channel\":\"personal_account\",\"payer\":\"P0\",\"group\":\"\","
                      "\"premium\":\"89.00\",\"paid\":\"89.00\",\"refunded\":\"44.50\","
                      "\"enrolled_on\":\"2023-12-05\",\"cover_start\":\"2024-01-01\","
                      "\"preexisting\":true,\"loyalty_years\":2,\"claim_free_years\":0}");
  /* a buffer at its limit is left as it was */
  {
    struct buf small = BUF_INIT(20);
    assert_int_equal(buf_addstr(&small, "x"), HMB_OK);
    assert_int_equal(svc_enrollment_json(&e, &small), HMB_TOO_LARGE);
    assert_string_equal(small.ptr, "x");
    buf_release(&small);
  }
  buf_release(&out);
}

static void test_enroll__adj_person(void **state)
{
  struct store_person psn;
  struct store_enrollment e;
  struct adj_person who;
  (void)state;
  memset(&psn, 0, sizeof(psn));
  memset(&e, 0, sizeof(e));
  psn.insutype = 390;
  psn.birth = d("1964-01-01");
  snprintf(psn.groups, sizeof(psn.groups), "medical_assistance");
  e.preexisting = 1;
  e.loyalty_years = 3;
  e.claim_free_years = 2;
  svc_adj_person(&plans[WH], &psn, &e, &who);
  assert_int_equal(who.insutype, 390);
  assert_int_equal(who.preexisting, 1);
  assert_int_equal(who.loyalty_years, 3);
  assert_int_equal(who.claim_free_years, 2);
  assert_int_equal(who.age, 60);
  assert_string_equal(who.groups, "medical_assistance");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_enroll__rules),   cmocka_unit_test(test_enroll__relations),
      cmocka_unit_test(test_enroll__parents), cmocka_unit_test(test_enroll__helpers),
      cmocka_unit_test(test_enroll__json),    cmocka_unit_test(test_enroll__adj_person),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Engine tests: the seeds' products to the fen, every rule pattern of
 * docs/plan-format.md on a small inline plan, and the money properties
 * (split and order invariance, reversal restores, monotone, caps).
 */
#include "compat.h"
#include "adjudicate.h"
#include "plan_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define Y(yuan) ((hmb_fen)(yuan)*100)

static void load_file(struct plan *p, const char *rel)
{
  char path[512];
  struct hmb_err err;
  const char *home = getenv("HMB_HOME");
  snprintf(path, sizeof(path), "%s/%s", home ? home : ".", rel);
  plan_init(p);
  hmb_err_init(&err);
  if (plan_load(p, path, NULL, NULL, &err))
    fail_msg("%s: %s: %s", rel, err.field, err.message);
}

static void load_text(struct plan *p, const char *json)
{
  struct hmb_err err;
  plan_init(p);
  hmb_err_init(&err);
  if (plan_parse_json(p, json, strlen(json), NULL, NULL, NULL, &err))
    fail_msg("inline plan: %s: %s (%s)", err.field, err.message, err.code);
}

/* A consistent settlement from the parts the person bore and the funds. */
static void mk(struct settlement *s, const char *id, int med_type, hmb_fen inscp_self,
               hmb_fen presel, hmb_fen fulamt, hmb_fen overlmt, hmb_fen fund)
{
  settlement_init(s);
  snprintf(s->setl_id, sizeof(s->setl_id), "%s", id);
  snprintf(s->mdtrt_id, sizeof(s->mdtrt_id), "%s", id);
  snprintf(s->psn_no, sizeof(s->psn_no), "P1");
  s->insutype = 390;
  s->med_type = med_type;
  s->fulamt_ownpay_amt = fulamt;
  s->overlmt_selfpay = overlmt;
  s->preselfpay_amt = presel;
  s->inscp_scp_amt = inscp_self + fund;
  s->fund_pay_sumamt = fund;
  s->hifp_pay = fund;
  s->medfee_sumamt = fulamt + overlmt + presel + inscp_self + fund;
  s->psn_part_amt = s->medfee_sumamt - fund;
}

struct person {
  struct adj_terms terms;
  struct adj_state *st;
};

static void person_init(struct person *pp, const struct plan *p, const struct adj_person *who)
{
  struct adj_person dflt = {390, 0, 0, 0, 40, NULL};
  struct hmb_err err;
  hmb_err_init(&err);
  if (adj_terms_resolve(p, who ? who : &dflt, &pp->terms, &err))
    fail_msg("terms: %s", err.message);
  pp->st = malloc(adj_state_size(p));
  assert_non_null(pp->st);
  adj_state_init(p, pp->st, &pp->terms);
}

static void person_release(struct person *pp)
{
  adj_state_release(pp->st);
  free(pp->st);
}

static hmb_fen settle(const struct plan *p, struct person *pp, const struct settlement *s,
                      struct adj_result *res)
{
  struct hmb_err err;
  struct adj_result local;
  hmb_err_init(&err);
  if (!res)
    res = &local;
  if (settlement_validate(s, &err))
    fail_msg("invalid settlement %s: %s %s", s->setl_id, err.field, err.message);
  if (adj_settle(p, &pp->st, 1, 0, s, 0, res, &err))
    fail_msg("settle %s: %s", s->setl_id, err.message);
  return res->payout;
}

/* ---- 聊惠保 2024 (seed 001) ---- */

static void test_adjudicate__liaocheng_worked_figures(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  person_init(&pp, &p, NULL);

  /* A stay with 36,000 in-scope self-pay and 26,000 out of scope (乙类先行自付
   * 6,000 + 全自费 20,000): (36000-16000)x80% + (26000-16000)x10%. */
  mk(&s, "S1", 21, Y(36000), Y(6000), Y(20000), 0, Y(50000));
  assert_int_equal(settle(&p, &pp, &s, &res), Y(16000) + Y(1000));
  assert_int_equal(res.r[0].payout, Y(16000));
  assert_int_equal(res.r[1].payout, Y(1000));
  assert_int_equal(res.eligible, Y(62000));

  /* The deductible is yearly: a second stay pays its whole eligible amount. */
  mk(&s, "S2", 21, Y(10000), 0, Y(1000), 0, Y(20000));
  assert_int_equal(settle(&p, &pp, &s, &res), Y(8000) + Y(100));

  /* Outpatient costs are not inpatient responsibilities. */
  mk(&s, "S3", 11, Y(5000), Y(200), Y(300), 0, Y(1000));
  assert_int_equal(settle(&p, &pp, &s, &res), 0);
  assert_true(res.r[0].why & WHY_NOT_APPLICABLE);

  /* The cap: in-scope 1,300,000 more pays at most up to 1,000,000 a year. */
  mk(&s, "S4", 21, Y(1300000), 0, 0, 0, Y(100000));
  settle(&p, &pp, &s, &res);
  assert_int_equal(adj_paid(&p, pp.st)[0], Y(1000000));
  assert_true(res.r[0].why & WHY_CAPPED);

  /* Half-fen rounding happens once on the year's total, half away from zero:
   * 10% of 16000.05 over the deductible. */
  person_release(&pp);
  person_init(&pp, &p, NULL);
  mk(&s, "S5", 21, 0, 0, Y(16000) + 5, 0, 0);
  assert_int_equal(settle(&p, &pp, &s, &res), 1); /* 0.05 x 10% = 0.005 -> 0.01 */
  person_release(&pp);
  plan_release(&p);
}

static void test_adjudicate__liaocheng_drug_lines(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  struct setl_line lines[3];
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  person_init(&pp, &p, NULL);
  memset(lines, 0, sizeof(lines));
  /* An inpatient stay: a CAR-T infusion of 116,000 fully self-paid (listed
   * special drug), 4,000 of other fully self-paid items. */
  snprintf(lines[0].med_list_codg, SETL_CODE_MAX, "XL01XL03A001010100001");
  lines[0].det_item_fee_sumamt = lines[0].fulamt_ownpay_amt = Y(116000);
  snprintf(lines[1].med_list_codg, SETL_CODE_MAX, "C0000000000");
  lines[1].det_item_fee_sumamt = lines[1].fulamt_ownpay_amt = Y(4000);
  mk(&s, "D1", 21, Y(20000), 0, Y(120000), 0, Y(30000));
  s.lines = lines;
  s.nlines = 2;
  settle(&p, &pp, &s, &res);
  /* special drugs: (116000-16000) x 80% = 80000; out of scope: only the 4000
   * other self-paid items count, below the deductible; in scope: 4000 x 80%. */
  assert_int_equal(res.r[2].payout, Y(80000));
  assert_int_equal(res.r[1].payout, 0);
  assert_int_equal(res.r[0].payout, Y(3200));
  assert_int_equal(res.payout, Y(83200));

  /* A special-efficacy drug in scope: its share of the in-scope self-pay is
   * in proportion to its in-scope amount and leaves the inpatient one. */
  memset(lines, 0, sizeof(lines));
  snprintf(lines[0].med_list_codg, SETL_CODE_MAX, "XL01EB04A001");
  lines[0].det_item_fee_sumamt = lines[0].inscp_scp_amt = Y(30000);
  mk(&s, "D2", 14, Y(12000), 0, 0, 0, Y(18000)); /* in scope 30000, self 12000 */
  s.lines = lines;
  s.nlines = 1;
  settle(&p, &pp, &s, &res);
  assert_int_equal(res.r[3].eligible, Y(12000) * 10000);
  assert_int_equal(res.r[3].payout, Y(1600)); /* (12000-10000) x 80% */
  person_release(&pp);
  plan_release(&p);
}

/* ---- patterns on inline plans ---- */

#define HEAD                                                                                       \
  "{\"format\":\"hmb-plan/1\",\"id\":\"t\",\"name\":\"测试\",\"source\":\"test\","               \
  "\"year\":2024,\"region_code\":\"371500\",\"coverage\":{\"start\":\"2024-01-01\","               \
  "\"end\":\"2024-12-31\"},\"enrollment\":{\"window\":{\"start\":\"2023-10-01\","                  \
  "\"end\":\"2023-12-31\"}},\"premiums\":{\"bands\":[{\"amount\":\"89\"}]},"

static void test_adjudicate__shared_pool_in_order(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  (void)state;
  load_text(
      &p, HEAD
      "\"responsibilities\":["
      "{\"id\":\"ins\",\"name\":\"目录内\",\"sources\":[{\"component\":\"inscp_selfpay\"}],"
      "\"deductible\":{\"pool\":\"d\"},\"ratio\":\"80%\",\"cap\":\"1000000\"},"
      "{\"id\":\"out\",\"name\":\"目录外\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\"}],"
      "\"deductible\":{\"pool\":\"d\"},\"ratio\":\"40%\",\"cap\":\"1000000\"}],"
      "\"deductible_pools\":[{\"id\":\"d\",\"amount\":\"20000\",\"members\":[\"ins\",\"out\"]}]}");
  person_init(&pp, &p, NULL);
  /* out-of-scope first in time: it uses the pool only after in-scope has. */
  mk(&s, "A", 21, 0, 0, Y(15000), 0, 0);
  assert_int_equal(settle(&p, &pp, &s, &res), 0);
  mk(&s, "B", 21, Y(12000), 0, 0, 0, Y(10000));
  /* in-scope takes 12000 of the pool, leaving 8000 for out-of-scope: paid
   * 0 x 80% + (15000-8000) x 40% = 2800 */
  assert_int_equal(settle(&p, &pp, &s, &res), Y(2800));
  assert_int_equal(res.r[1].payout, Y(2800));
  assert_int_equal(res.r[0].ded_after, Y(12000) * 10000);
  person_release(&pp);
  plan_release(&p);
}

static void test_adjudicate__bands_gross_net_and_shared_axis(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  (void)state;
  /* deductible 13000, bands on the gross cumulative amount */
  load_text(&p, HEAD
            "\"responsibilities\":[{\"id\":\"a\",\"name\":\"分段\",\"sources\":[{\"component\":"
            "\"psn_part_amt\"}],\"deductible\":\"13000\",\"bands\":[{\"from\":\"13000\",\"to\":"
            "\"30000\",\"ratio\":\"10%\"},{\"from\":\"30000\",\"to\":\"50000\",\"ratio\":\"20%\"},"
            "{\"from\":\"50000\",\"ratio\":\"50%\"}],\"cap\":\"2000000\"}]}");
  person_init(&pp, &p, NULL);
  mk(&s, "A", 21, Y(60000), 0, 0, 0, 0);
  /* 17000 x 10% + 20000 x 20% + 10000 x 50% */
  assert_int_equal(settle(&p, &pp, &s, NULL), Y(1700) + Y(4000) + Y(5000));
  person_release(&pp);
  plan_release(&p);

  /* net basis: bands on the amount after the deductible */
  load_text(
      &p, HEAD
      "\"responsibilities\":[{\"id\":\"a\",\"name\":\"分段\",\"sources\":[{\"component\":"
      "\"psn_part_amt\"}],\"deductible\":\"10000\",\"band_basis\":\"net\",\"bands\":[{"
      "\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"60%\"},{\"from\":\"50000\",\"ratio\":\"80%\"}],"
      "\"cap\":\"2000000\"}]}");
  person_init(&pp, &p, NULL);
  mk(&s, "A", 21, Y(70000), 0, 0, 0, 0);
  assert_int_equal(settle(&p, &pp, &s, NULL), Y(30000) + Y(8000));
  person_release(&pp);
  plan_release(&p);

  /* two cost types add up on one axis: in-scope first, then out-of-scope */
  load_text(
      &p, HEAD
      "\"responsibilities\":["
      "{\"id\":\"ins\",\"name\":\"目录内\",\"sources\":[{\"component\":\"inscp_selfpay\"}],"
      "\"bands\":[{\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"50%\"},{\"from\":\"50000\","
      "\"ratio\":\"70%\"}],\"cap\":\"1000000\"},"
      "{\"id\":\"out\",\"name\":\"目录外\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\"}],"
      "\"bands\":[{\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"20%\"},{\"from\":\"50000\","
      "\"ratio\":\"40%\"}],\"cap\":\"1000000\"}],"
      "\"band_axes\":[{\"members\":[\"ins\",\"out\"]}]}");
  person_init(&pp, &p, NULL);
  mk(&s, "A", 21, Y(40000), 0, Y(20000), 0, 0);
  /* ins on [0,40000): 50%; out on [40000,60000): 10000 x 20% + 10000 x 40% */
  assert_int_equal(settle(&p, &pp, &s, NULL), Y(20000) + Y(2000) + Y(4000));
  person_release(&pp);
  plan_release(&p);
}

/* A parameter by scheme and variants (pre-existing conditions, loyalty). */
#define PLAN_VARIANTS                                                                                 \
  HEAD "\"parameters\":{\"mi\":{\"name\":\"大病保险起付线\",\"by_scheme\":{\"310\":\"20000\"," \
       "\"390\":\"15000\"}}},"                                                                        \
       "\"responsibilities\":[{\"id\":\"a\",\"name\":\"住院\",\"sources\":[{\"component\":"         \
       "\"inscp_selfpay\"}],\"deductible\":{\"param\":\"mi\"},\"ratio\":\"70%\","                     \
       "\"cap\":\"1000000\"},"                                                                        \
       "{\"id\":\"drug\",\"name\":\"特药\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\"}],"    \
       "\"ratio\":\"70%\",\"cap\":\"1000000\"}],"                                                     \
       "\"variants\":[{\"when\":{\"preexisting\":true},\"responsibility\":\"a\","                     \
       "\"ratio\":\"30%\",\"note\":\"既往症\"},"                                                   \
       "{\"when\":{\"preexisting\":true},\"responsibility\":\"drug\",\"excluded\":true},"             \
       "{\"when\":{\"loyalty_years_min\":2},\"responsibility\":\"a\",\"ratio_delta\":\"+5%\","        \
       "\"deductible_delta\":\"-1000\"}]}"

static void test_adjudicate__variants_and_params(void **state)
{
  struct plan p;
  struct person a, b, c, d;
  struct settlement s;
  struct adj_person pre = {390, 1, 0, 0, 40, NULL}, loyal = {310, 0, 3, 0, 40, NULL};
  struct adj_person emp = {310, 0, 0, 0, 40, NULL};
  struct hmb_err err;
  (void)state;
  load_text(&p, PLAN_VARIANTS);
  person_init(&a, &p, NULL);
  person_init(&b, &p, &pre);
  person_init(&c, &p, &loyal);
  person_init(&d, &p, &emp);
  mk(&s, "A", 21, Y(35000), 0, Y(10000), 0, 0);
  assert_int_equal(settle(&p, &a, &s, NULL), Y(14000) + Y(7000)); /* 390: 20000 x 70% */
  assert_int_equal(settle(&p, &b, &s, NULL), Y(6000));            /* 30%, no drug cover */
  assert_int_equal(settle(&p, &c, &s, NULL), Y(12000) + Y(7000)); /* 310 loyal: 16000 x 75% */
  assert_int_equal(settle(&p, &d, &s, NULL), Y(10500) + Y(7000)); /* 310: 15000 x 70% */
  person_release(&a);
  person_release(&b);
  person_release(&c);
  person_release(&d);
  /* --param overrides the parameter */
  hmb_err_init(&err);
  assert_int_equal(plan_set_param(&p, "mi.390=10000", &err), HMB_OK);
  person_init(&a, &p, NULL);
  assert_int_equal(settle(&p, &a, &s, NULL), Y(17500) + Y(7000));
  person_release(&a);
  assert_int_equal(plan_set_param(&p, "nope=1", &err), HMB_NOT_FOUND);
  assert_int_equal(plan_set_param(&p, "mi=1.234", &err), HMB_INVALID);
  plan_release(&p);
}

/* Caps, exclusive groups and a lump sum. */
#define PLAN_CAPS                                                                                  \
  HEAD "\"lists\":{\"cart\":{\"name\":\"CAR-T\",\"codes\":[\"XCART*\"]}},"                         \
       "\"responsibilities\":["                                                                    \
       "{\"id\":\"a\",\"name\":\"甲\",\"sources\":[{\"component\":\"inscp_selfpay\"}],"           \
       "\"ratio\":\"100%\",\"cap\":\"30000\"},"                                                    \
       "{\"id\":\"b\",\"name\":\"乙\",\"sources\":[{\"component\":\"preselfpay_amt\"}],"          \
       "\"ratio\":\"100%\",\"cap\":\"30000\"},"                                                    \
       "{\"id\":\"x\",\"name\":\"互斥一\",\"sources\":[{\"component\":\"overlmt_selfpay\"}],"   \
       "\"ratio\":\"50%\",\"cap\":\"100000\"},"                                                    \
       "{\"id\":\"y\",\"name\":\"互斥二\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\","   \
       "\"lines\":{\"except\":[\"cart\"]}}],\"ratio\":\"50%\",\"cap\":\"100000\"},"                \
       "{\"id\":\"l\",\"name\":\"CAR-T定额\",\"kind\":\"lump_sum\",\"amount\":\"10000\","        \
       "\"trigger_lines\":[\"cart\"],\"cap\":\"10000\"}],"                                         \
       "\"shared_caps\":[{\"id\":\"ab\",\"amount\":\"40000\",\"members\":[\"a\",\"b\"]}],"         \
       "\"exclusive\":[{\"id\":\"xy\",\"members\":[\"x\",\"y\"]}]}"

/* Path-dependent limits and exclusions. */
#define PLAN_PATH                                                                                  \
  HEAD                                                                                             \
      "\"lists\":{\"petct\":{\"name\":\"PET-CT\",\"codes\":[\"PETCT\"]},"                          \
      "\"tonic\":{\"name\":\"滋补保健\",\"codes\":[\"TONIC*\"]}},"                             \
      "\"responsibilities\":["                                                                     \
      "{\"id\":\"pet\",\"name\":\"PET-CT\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\","     \
      "\"lines\":{\"in\":[\"petct\"]}}],\"ratio\":\"100%\",\"cap\":\"100000\","                    \
      "\"item_limits\":[{\"list\":\"petct\",\"max_count\":1}]},"                                   \
      "{\"id\":\"stay\",\"name\":\"住院\",\"when\":{\"med_type\":[\"21\"]},\"sources\":[{"       \
      "\"component\":\"preselfpay_amt\"},{\"component\":\"overlmt_selfpay\",\"weight\":\"50%\"}]," \
      "\"ratio\":\"100%\",\"cap\":\"100000\",\"stay_limit\":\"3000\",\"max_visits\":2},"           \
      "{\"id\":\"own\",\"name\":\"自费\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\","     \
      "\"lines\":{\"except\":[\"petct\"]}}],\"ratio\":\"100%\",\"cap\":\"100000\"}],"              \
      "\"exclusions\":[{\"id\":\"work_injury\",\"name\":\"应当由工伤保险基金支付的\"," \
      "\"when\":{\"flags_any\":[\"work_injury\"]}},{\"id\":\"tonic\",\"name\":\"滋补保健\","   \
      "\"lines\":[\"tonic\"]}]}"

static void test_adjudicate__caps_groups_lumps(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  struct setl_line line;
  (void)state;
  load_text(&p, PLAN_CAPS);
  person_init(&pp, &p, NULL);
  mk(&s, "A", 21, Y(25000), Y(25000), 0, 0, 0);
  /* a pays 25000, b 25000 but the shared cap leaves it 15000 */
  assert_int_equal(settle(&p, &pp, &s, &res), Y(40000));
  assert_true(res.r[1].why & WHY_SHARED_CAPPED);
  mk(&s, "B", 21, 0, 0, Y(10000), Y(4000), 0);
  /* x = 2000, y = 5000: only the larger pays */
  assert_int_equal(settle(&p, &pp, &s, &res), Y(5000));
  assert_true(res.r[2].why & WHY_GROUP_LOST);
  mk(&s, "C", 21, 0, 0, 0, Y(8000), 0);
  /* x becomes 6000 > y 5000: the group's payout moves to x (+1000 net) */
  assert_int_equal(settle(&p, &pp, &s, &res), Y(1000));
  assert_int_equal(res.r[2].payout, Y(6000));
  assert_int_equal(res.r[3].payout, -Y(5000));
  /* a lump sum on a CAR-T line, once per year */
  memset(&line, 0, sizeof(line));
  snprintf(line.med_list_codg, SETL_CODE_MAX, "XCART01");
  line.det_item_fee_sumamt = line.fulamt_ownpay_amt = Y(1000);
  mk(&s, "D", 21, 0, 0, Y(1000), 0, 0);
  s.lines = &line;
  s.nlines = 1;
  assert_int_equal(settle(&p, &pp, &s, &res), Y(10000));
  mk(&s, "E", 21, 0, 0, Y(1000), 0, 0);
  s.lines = &line;
  s.nlines = 1;
  assert_int_equal(settle(&p, &pp, &s, &res), 0);
  person_release(&pp);
  plan_release(&p);
}

static void test_adjudicate__path_rules_and_exclusions(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  struct setl_line lines[2];
  (void)state;
  load_text(&p, PLAN_PATH);
  person_init(&pp, &p, NULL);
  memset(lines, 0, sizeof(lines));
  snprintf(lines[0].med_list_codg, SETL_CODE_MAX, "PETCT");
  lines[0].det_item_fee_sumamt = lines[0].fulamt_ownpay_amt = Y(7000);
  lines[0].cnt_e4 = 10000;
  snprintf(lines[1].med_list_codg, SETL_CODE_MAX, "TONIC9");
  lines[1].det_item_fee_sumamt = lines[1].fulamt_ownpay_amt = Y(500);
  mk(&s, "A", 11, 0, 0, Y(8000), 0, 0);
  s.lines = lines;
  s.nlines = 2;
  /* PET-CT 7000 (first one this year), own: 8000 - 7000 - 500 tonic = 500 */
  assert_int_equal(settle(&p, &pp, &s, &res), Y(7000) + Y(500));
  assert_true(res.r[2].why & WHY_LINES_EXCLUDED);
  mk(&s, "B", 11, 0, 0, Y(7000), 0, 0);
  s.lines = lines;
  s.nlines = 1;
  assert_int_equal(settle(&p, &pp, &s, &res), 0); /* second PET-CT: count limit */
  assert_true(res.r[0].why & WHY_ITEM_LIMIT);
  /* stays: 2000 + 50% x 4000 = 4000 -> per-stay limit 3000 */
  mk(&s, "C", 21, 0, Y(2000), 0, Y(4000), 0);
  assert_int_equal(settle(&p, &pp, &s, &res), Y(3000));
  assert_true(res.r[1].why & WHY_STAY_LIMIT);
  mk(&s, "D", 21, 0, Y(100), 0, 0, 0);
  assert_int_equal(settle(&p, &pp, &s, &res), Y(100));
  mk(&s, "E", 21, 0, Y(100), 0, 0, 0);
  assert_int_equal(settle(&p, &pp, &s, &res), 0); /* third stay: max_visits 2 */
  assert_true(res.r[1].why & WHY_VISIT_LIMIT);
  mk(&s, "F", 21, 0, Y(100), 0, 0, 0);
  snprintf(s.flags, sizeof(s.flags), "third_party;work_injury");
  assert_int_equal(settle(&p, &pp, &s, &res), 0);
  assert_true(res.exclusions & 1);
  person_release(&pp);
  plan_release(&p);
}

static void test_adjudicate__family_pool(void **state)
{
  struct plan p;
  struct person a, b;
  struct adj_state *fam[2];
  struct settlement s;
  struct adj_result res;
  struct hmb_err err;
  (void)state;
  load_text(&p, HEAD
            "\"responsibilities\":[{\"id\":\"a\",\"name\":\"住院\",\"sources\":[{\"component\":"
            "\"inscp_selfpay\"}],\"deductible\":{\"pool\":\"fam\"},\"ratio\":\"50%\","
            "\"cap\":\"100000\"}],"
            "\"deductible_pools\":[{\"id\":\"fam\",\"amount\":\"10000\",\"scope\":\"family\","
            "\"members\":[\"a\"]}]}");
  person_init(&a, &p, NULL);
  person_init(&b, &p, NULL);
  fam[0] = a.st;
  fam[1] = b.st;
  hmb_err_init(&err);
  mk(&s, "A", 21, Y(6000), 0, 0, 0, 0);
  assert_int_equal(adj_settle(&p, fam, 2, 1, &s, 0, &res, &err), HMB_OK);
  assert_int_equal(res.payout, 0);
  mk(&s, "B", 21, Y(6000), 0, 0, 0, 0);
  assert_int_equal(adj_settle(&p, fam, 2, 0, &s, 0, &res, &err), HMB_OK);
  /* the family's 12000 exceeds the shared 10000 by 2000: 1000 paid; the
   * first member in family order bears the deductible first, so the payout
   * appears on the second member's account */
  assert_int_equal(res.payout + res.family_adjust, Y(1000));
  person_release(&a);
  person_release(&b);
  plan_release(&p);
}

/* ---- properties ---- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static hmb_fen rnd_amount(void)
{
  /* heavy-tailed, in fen */
  int shift = (int)(rnd() % 24);
  return (hmb_fen)(rnd() % ((uint64_t)1 << shift));
}

struct gen_setl {
  int med_type;
  hmb_fen is, ps, fa, ol, fund;
};

static void gen(struct gen_setl *g)
{
  static const int types[] = {11, 14, 21, 21, 22, 41};
  g->med_type = types[rnd() % ARRAY_SIZE(types)];
  g->is = rnd_amount() * 4;
  g->ps = rnd_amount();
  g->fa = rnd_amount() * 2;
  g->ol = rnd_amount() / 4;
  g->fund = rnd_amount() * 3;
}

static hmb_fen run_year(const struct plan *p, const struct gen_setl *g, size_t n,
                        const size_t *order, hmb_fen *paid_out)
{
  struct person pp;
  struct settlement s;
  struct adj_result res;
  hmb_fen total = 0;
  size_t i;
  char id[32];
  person_init(&pp, p, NULL);
  for (i = 0; i < n; i++) {
    const struct gen_setl *x = &g[order ? order[i] : i];
    snprintf(id, sizeof(id), "S%zu", i);
    mk(&s, id, x->med_type, x->is, x->ps, x->fa, x->ol, x->fund);
    total += settle(p, &pp, &s, &res);
    assert_true(res.payout <= s.psn_part_amt); /* never above what was borne */
  }
  if (paid_out)
    memcpy(paid_out, adj_paid(p, pp.st), (size_t)p->nresp * sizeof(hmb_fen));
  person_release(&pp);
  return total;
}

/* plans without path-dependent rules: split and order invariance must hold */
static const char *const property_plans[] = {"plans/liaocheng-2024.json",
                                             "plans/shanghai-2021.json", "plans/weihai-2024.json"};

static void test_adjudicate__split_and_order_invariance(void **state)
{
  struct plan p;
  size_t k, trial;
  (void)state;
  for (k = 0; k < ARRAY_SIZE(property_plans); k++) {
    load_file(&p, property_plans[k]);
    for (trial = 0; trial < 300; trial++) {
      struct gen_setl g[12], split[36];
      size_t n = 1 + rnd() % 12, ns = 0, i, order[36];
      hmb_fen whole, parts, shuffled, paid[PLAN_MAX_RESP];
      int r;
      for (i = 0; i < n; i++)
        gen(&g[i]);
      whole = run_year(&p, g, n, NULL, paid);
      for (r = 0; r < p.nresp; r++) {
        hmb_fen cap = p.resp[r].cap.value;
        assert_true(paid[r] >= 0 && (cap < 0 || paid[r] <= cap));
      }
      /* split every settlement into up to 3 visits of the same kind */
      for (i = 0; i < n; i++) {
        size_t pieces = 1 + rnd() % 3, j;
        struct gen_setl rest = g[i];
        for (j = 0; j + 1 < pieces; j++) {
          struct gen_setl part = rest;
          part.is = rest.is ? (hmb_fen)(rnd() % (uint64_t)(rest.is + 1)) : 0;
          part.ps = rest.ps ? (hmb_fen)(rnd() % (uint64_t)(rest.ps + 1)) : 0;
          part.fa = rest.fa ? (hmb_fen)(rnd() % (uint64_t)(rest.fa + 1)) : 0;
          part.ol = rest.ol ? (hmb_fen)(rnd() % (uint64_t)(rest.ol + 1)) : 0;
          part.fund = rest.fund ? (hmb_fen)(rnd() % (uint64_t)(rest.fund + 1)) : 0;
          rest.is -= part.is;
          rest.ps -= part.ps;
          rest.fa -= part.fa;
          rest.ol -= part.ol;
          rest.fund -= part.fund;
          split[ns++] = part;
        }
        split[ns++] = rest;
      }
      parts = run_year(&p, split, ns, NULL, NULL);
      assert_int_equal(whole, parts);
      for (i = 0; i < ns; i++)
        order[i] = i;
      for (i = ns; i > 1; i--) {
        size_t j = rnd() % i, t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
      }
      shuffled = run_year(&p, split, ns, order, NULL);
      assert_int_equal(whole, shuffled);
    }
    plan_release(&p);
  }
}

/* adj_settle_inert() promises that settling adds nothing whatever the
 * state: checked on random settlements, with and without lines, against
 * states built up by the settlements before them, for plans of every rule
 * pattern (lines in and out of lists, when-conditions, path-dependent
 * limits, lump sums, exclusions). */
static void test_adjudicate__inert_adds_nothing(void **state)
{
  static const char *const codes[] = {
      "XL01XL03A001010100001", "XL01EB04A001", "XCART01", "PETCT", "TONIC9", "C0000000000"};
  static const int types[] = {11, 14, 21, 22, 41};
  struct plan p;
  size_t k, round, inert_seen = 0, active_seen = 0;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  for (k = 0; k < ARRAY_SIZE(property_plans) + 2; k++) {
    struct person pp, before;
    if (k < ARRAY_SIZE(property_plans))
      load_file(&p, property_plans[k]);
    else
      load_text(&p, k == ARRAY_SIZE(property_plans) ? PLAN_CAPS : PLAN_PATH);
    person_init(&pp, &p, NULL);
    person_init(&before, &p, NULL);
    for (round = 0; round < 3000; round++) {
      struct settlement s;
      struct setl_line lines[2];
      struct adj_result res;
      char id[32];
      size_t i, nl = rnd() % 3 == 0 ? 1 + rnd() % 2 : 0;
      bool inert;
      int r;
      /* components are often 0, so that many rows add nothing */
      hmb_fen is = rnd() % 3 ? 0 : rnd_amount(), ps = rnd() % 3 ? 0 : rnd_amount();
      hmb_fen fa = rnd() % 3 ? 0 : rnd_amount(), ol = rnd() % 4 ? 0 : rnd_amount();
      if (round % 20 == 0) {
        /* a new person now and then: first-time lump sums and limits */
        person_release(&pp);
        person_init(&pp, &p, NULL);
      }
      snprintf(id, sizeof(id), "I%zu", round);
      mk(&s, id, types[rnd() % ARRAY_SIZE(types)], is, ps, fa, ol, rnd() % 2 ? 0 : rnd_amount());
      memset(lines, 0, sizeof(lines));
      for (i = 0; i < nl; i++) {
        snprintf(lines[i].med_list_codg, SETL_CODE_MAX, "%s", codes[rnd() % ARRAY_SIZE(codes)]);
        lines[i].fulamt_ownpay_amt = rnd() % 2 ? 0 : rnd_amount();
        lines[i].inscp_scp_amt = rnd() % 2 ? 0 : rnd_amount();
        lines[i].det_item_fee_sumamt = lines[i].fulamt_ownpay_amt + lines[i].inscp_scp_amt;
        lines[i].cnt_e4 = 10000;
      }
      s.lines = nl ? lines : NULL;
      s.nlines = nl;
      if (rnd() % 16 == 0)
        snprintf(s.flags, sizeof(s.flags), "work_injury");
      inert = adj_settle_inert(&p, &s);
      assert_int_equal(adj_state_copy(&p, before.st, pp.st), HMB_OK);
      assert_int_equal(adj_settle(&p, &pp.st, 1, 0, &s, 0, &res, &err), HMB_OK);
      if (!inert) {
        active_seen++;
        continue;
      }
      inert_seen++;
      assert_int_equal(res.payout, 0);
      assert_int_equal(res.family_adjust, 0);
      assert_int_equal(res.eligible, 0);
      assert_int_equal(res.contrib.next, 0);
      for (r = 0; r < p.nresp; r++)
        assert_int_equal(res.contrib.acc[r], 0);
      assert_true(adj_state_equal(&p, before.st, pp.st));
    }
    person_release(&pp);
    person_release(&before);
    plan_release(&p);
  }
  /* both kinds were met often, or the test proved little */
  assert_true(inert_seen > 1000 && active_seen > 1000);
}

/* adj_terms_key(): persons with the same key get the same terms. */
static void test_adjudicate__terms_key(void **state)
{
  static const int32_t schemes[] = {310, 390, 320};
  static const char *const groups[] = {NULL, "mi", "veteran;mi"};
  struct plan p;
  size_t k;
  (void)state;
  for (k = 0; k < ARRAY_SIZE(property_plans) + 1; k++) {
    uint64_t keys[64];
    struct adj_terms seen[64];
    size_t nkeys = 0, si, gi;
    int pre, loyal, age;
    if (k < ARRAY_SIZE(property_plans))
      load_file(&p, property_plans[k]);
    else
      load_text(&p, PLAN_VARIANTS);
    for (si = 0; si < ARRAY_SIZE(schemes); si++)
      for (gi = 0; gi < ARRAY_SIZE(groups); gi++)
        for (pre = 0; pre <= 1; pre++)
          for (loyal = 0; loyal <= 4; loyal++)
            for (age = -1; age <= 100; age += 3) {
              struct adj_person who = {schemes[si],          (int8_t)pre,  (int16_t)loyal,
                                       (int16_t)(4 - loyal), (int16_t)age, groups[gi]};
              struct adj_terms t;
              struct hmb_err err;
              uint64_t key = adj_terms_key(&p, &who);
              size_t i;
              hmb_err_init(&err);
              if (adj_terms_resolve(&p, &who, &t, &err))
                continue; /* the same key fails the same way: nothing to compare */
              for (i = 0; i < nkeys && keys[i] != key; i++)
                ;
              if (i == nkeys) {
                assert_true(nkeys < ARRAY_SIZE(keys));
                keys[nkeys] = key;
                seen[nkeys++] = t;
              } else {
                assert_memory_equal(&seen[i], &t, sizeof(t));
              }
            }
    /* schemes alone give several keys: the test compares something */
    assert_true(nkeys >= ARRAY_SIZE(schemes));
    plan_release(&p);
  }
}

static void test_adjudicate__reversal_restores_and_trial(void **state)
{
  struct plan p;
  struct person pp, before;
  struct settlement s;
  struct adj_result res, rev, trial;
  struct hmb_err err;
  size_t round;
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  person_init(&pp, &p, NULL);
  person_init(&before, &p, NULL);
  hmb_err_init(&err);
  for (round = 0; round < 500; round++) {
    struct gen_setl g;
    char id[32];
    gen(&g);
    snprintf(id, sizeof(id), "R%zu", round);
    mk(&s, id, g.med_type, g.is, g.ps, g.fa, g.ol, g.fund);
    assert_int_equal(adj_state_copy(&p, before.st, pp.st), HMB_OK);
    assert_int_equal(adj_settle(&p, &pp.st, 1, 0, &s, ADJ_TRIAL, &trial, &err), HMB_OK);
    assert_true(adj_state_equal(&p, before.st, pp.st)); /* trial changes nothing */
    assert_int_equal(adj_settle(&p, &pp.st, 1, 0, &s, 0, &res, &err), HMB_OK);
    assert_int_equal(trial.payout, res.payout);
    if (round % 3 == 0) {
      assert_int_equal(adj_reverse(&p, &pp.st, 1, 0, &res.contrib, 0, &rev, &err), HMB_OK);
      assert_int_equal(rev.payout, -res.payout);
      assert_true(adj_state_equal(&p, before.st, pp.st));
    }
  }
  person_release(&pp);
  person_release(&before);
  plan_release(&p);
}

static void test_adjudicate__reversal_of_earlier_settlement(void **state)
{
  struct plan p;
  struct person a, b;
  struct settlement s;
  struct adj_result res, first;
  struct hmb_err err;
  int i;
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  person_init(&a, &p, NULL);
  person_init(&b, &p, NULL);
  hmb_err_init(&err);
  mk(&s, "X", 21, Y(9000), Y(3000), Y(9000), 0, Y(1000));
  assert_int_equal(adj_settle(&p, &a.st, 1, 0, &s, 0, &first, &err), HMB_OK);
  for (i = 0; i < 5; i++) {
    char id[8];
    snprintf(id, sizeof(id), "Y%d", i);
    mk(&s, id, 21, Y(7000), Y(1000), Y(4000), 0, Y(1000));
    settle(&p, &a, &s, &res);
    settle(&p, &b, &s, &res);
  }
  /* reversing the first stay leaves exactly the state of never having had it */
  assert_int_equal(adj_reverse(&p, &a.st, 1, 0, &first.contrib, 0, &res, &err), HMB_OK);
  assert_true(adj_state_equal(&p, a.st, b.st));
  /* a state that never held the settlement refuses its reversal (repeated
   * reversals are refused by setl_id in the caller) */
  person_release(&b);
  person_init(&b, &p, NULL);
  assert_int_equal(adj_reverse(&p, &b.st, 1, 0, &first.contrib, 0, &res, &err), HMB_CONFLICT);
  assert_string_equal(err.code, "adj.not_held");
  person_release(&a);
  person_release(&b);
  plan_release(&p);
}

static void test_adjudicate__monotone_in_cost(void **state)
{
  struct plan p;
  size_t round;
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  for (round = 0; round < 300; round++) {
    struct person a, b;
    struct settlement s;
    struct gen_setl prior, g;
    hmb_fen pa, pb;
    gen(&prior);
    gen(&g);
    person_init(&a, &p, NULL);
    person_init(&b, &p, NULL);
    mk(&s, "P", prior.med_type, prior.is, prior.ps, prior.fa, prior.ol, prior.fund);
    settle(&p, &a, &s, NULL);
    settle(&p, &b, &s, NULL);
    mk(&s, "Q", g.med_type, g.is, g.ps, g.fa, g.ol, g.fund);
    pa = settle(&p, &a, &s, NULL);
    mk(&s, "Q", g.med_type, g.is + rnd_amount(), g.ps + rnd_amount(), g.fa + rnd_amount(), g.ol,
       g.fund);
    pb = settle(&p, &b, &s, NULL);
    assert_true(pb >= pa);
    person_release(&a);
    person_release(&b);
  }
  plan_release(&p);
}

static void test_adjudicate__explanation_in_chinese(void **state)
{
  struct plan p;
  struct person pp;
  struct settlement s;
  struct adj_result res;
  struct buf b = BUF_INIT(1 << 16);
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  person_init(&pp, &p, NULL);
  mk(&s, "S1", 21, Y(36000), Y(6000), Y(20000), 0, Y(50000));
  settle(&p, &pp, &s, &res);
  assert_int_equal(adj_explain(&p, pp.st, &res, &b), HMB_OK);
  assert_non_null(strstr(b.ptr, "【基本医疗保险范围内住院自付医疗费用】本次可赔付金额36000.00元"));
  assert_non_null(strstr(b.ptr, "免赔额16000.00元"));
  assert_non_null(strstr(b.ptr, "赔付比例80%"));
  assert_non_null(strstr(b.ptr, "合计赔付17000.00元"));
  buf_release(&b);
  person_release(&pp);
  plan_release(&p);
}

static void test_adjudicate__contrib_pack_roundtrip(void **state)
{
  struct plan p;
  struct adj_contrib c, d;
  uint8_t buf[ADJ_CONTRIB_PACKED_MAX];
  size_t n;
  (void)state;
  load_file(&p, "plans/liaocheng-2024.json");
  memset(&c, 0, sizeof(c));
  c.acc[0] = 123456789;
  c.acc[3] = 5;
  c.next = 2;
  c.ext[0].key = 77;
  c.ext[0].kind = EXT_STAY;
  c.ext[0].resp = 1;
  c.ext[0].value = -3;
  c.ext[1].key = UINT64_MAX;
  c.ext[1].kind = EXT_LUMP;
  c.ext[1].value = 1;
  n = adj_contrib_pack(&p, &c, buf);
  memset(&d, 0xff, sizeof(d));
  assert_int_equal(adj_contrib_unpack(&p, buf, n, &d), n);
  assert_memory_equal(c.acc, d.acc, sizeof(c.acc));
  assert_int_equal(d.next, 2);
  for (n = 0; n < 2; n++) {
    assert_true(c.ext[n].key == d.ext[n].key);
    assert_int_equal(c.ext[n].kind, d.ext[n].kind);
    assert_int_equal(c.ext[n].resp, d.ext[n].resp);
    assert_int_equal(c.ext[n].value, d.ext[n].value);
  }
  n = adj_contrib_pack(&p, &c, buf);
  assert_int_equal(adj_contrib_unpack(&p, buf, n - 1, &d), 0);
  plan_release(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adjudicate__liaocheng_worked_figures),
      cmocka_unit_test(test_adjudicate__liaocheng_drug_lines),
      cmocka_unit_test(test_adjudicate__shared_pool_in_order),
      cmocka_unit_test(test_adjudicate__bands_gross_net_and_shared_axis),
      cmocka_unit_test(test_adjudicate__variants_and_params),
      cmocka_unit_test(test_adjudicate__caps_groups_lumps),
      cmocka_unit_test(test_adjudicate__path_rules_and_exclusions),
      cmocka_unit_test(test_adjudicate__family_pool),
      cmocka_unit_test(test_adjudicate__split_and_order_invariance),
      cmocka_unit_test(test_adjudicate__inert_adds_nothing),
      cmocka_unit_test(test_adjudicate__terms_key),
      cmocka_unit_test(test_adjudicate__reversal_restores_and_trial),
      cmocka_unit_test(test_adjudicate__reversal_of_earlier_settlement),
      cmocka_unit_test(test_adjudicate__monotone_in_cost),
      cmocka_unit_test(test_adjudicate__explanation_in_chinese),
      cmocka_unit_test(test_adjudicate__contrib_pack_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

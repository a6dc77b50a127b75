/*
 * The pricing search (domain/price.c): variants numbered in mixed radix,
 * targets and values checked, and the property it rests on: a variant
 * judged on the year totals of the base plan's run pays, to the fen, what
 * the engine pays settlement by settlement under that variant.
 */
#include "compat.h"
#include "plan_json.h"
#include "price.h"
#include "rng.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define Y(yuan) ((hmb_fen)(yuan)*100)

/* Two banded responsibilities in one pool, one with its own deductible,
 * a shared cap, and a pre-existing-condition variant. */
static const char plan_text[] =
    "{\"format\":\"hmb-plan/1\",\"id\":\"t\",\"name\":\"T\",\"source\":\"test\",\"year\":2024,"
    "\"coverage\":{\"start\":\"2024-01-01\",\"end\":\"2024-12-31\"},"
    "\"enrollment\":{\"window\":{\"start\":\"2023-12-01\",\"end\":\"2023-12-31\"}},"
    "\"premiums\":{\"bands\":[{\"age_max\":59,\"amount\":\"60\"},{\"age_min\":60,\"amount\":"
    "\"120\"}],"
    " \"groups\":[{\"id\":\"medical_assistance\",\"name\":\"救助\",\"amount\":\"0\"}]},"
    "\"responsibilities\":["
    " {\"id\":\"in\",\"name\":\"内\",\"when\":{\"med_type\":[\"21\"]},"
    "  \"sources\":[{\"component\":\"inscp_selfpay\"}],\"deductible\":{\"pool\":\"stay\"},"
    "  "
    "\"bands\":[{\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"60%\"},{\"from\":\"50000\",\"ratio\":"
    "\"80%\"}],"
    "  \"cap\":\"200000\"},"
    " {\"id\":\"out\",\"name\":\"外\",\"when\":{\"med_type\":[\"21\"]},"
    "  \"sources\":[{\"component\":\"fulamt_ownpay_amt\",\"weight\":\"50%\"}],\"ratio\":\"40%\","
    "  \"deductible\":{\"pool\":\"stay\"}},"
    " {\"id\":\"clinic\",\"name\":\"门\",\"when\":{\"med_type\":[\"11\",\"14\"]},"
    "  \"sources\":[{\"component\":\"psn_part_amt\"}],\"deductible\":\"3000\",\"ratio\":\"50%\"}],"
    "\"deductible_pools\":[{\"id\":\"stay\",\"amount\":\"10000\",\"members\":[\"in\",\"out\"]}],"
    "\"shared_caps\":[{\"id\":\"all\",\"amount\":\"300000\",\"members\":[\"in\",\"out\",\"clinic\"]"
    "}],"
    "\"variants\":[{\"when\":{\"preexisting\":true},\"responsibility\":\"in\",\"ratio_delta\":\"-"
    "20%\","
    " \"note\":\"既往症\"}]}";

static struct plan base;

static int setup(void **state)
{
  struct hmb_err err;
  (void)state;
  plan_init(&base);
  hmb_err_init(&err);
  if (plan_parse_json(&base, plan_text, strlen(plan_text), NULL, NULL, NULL, &err))
    fail_msg("plan: %s: %s (%s)", err.field, err.message, err.code);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  plan_release(&base);
  return 0;
}

static void space_of(struct price_space *sp)
{
  memset(sp, 0, sizeof(*sp));
  sp->target_min = 7000;
  sp->target_max = 9000;
  sp->naxes = 5;
  sp->axes[0] = (struct price_axis){
      PRICE_DEDUCTIBLE, {{0, -1, false, "stay"}}, 1, {Y(0), Y(5000), Y(15000)}, 3};
  sp->axes[1] =
      (struct price_axis){PRICE_RATIO, {{0, 1, false, "in.bands[1]"}}, 1, {5000, 9000}, 2};
  sp->axes[2] = (struct price_axis){
      PRICE_BAND_EDGE, {{0, 1, false, "in.bands[1]"}}, 1, {Y(20000), Y(80000)}, 2};
  sp->axes[3] = (struct price_axis){
      PRICE_CAP, {{0, -1, true, "all"}, {2, -1, false, "clinic"}}, 2, {Y(30000), Y(150000)}, 2};
  sp->axes[4] = (struct price_axis){
      PRICE_PREMIUM, {{1, -1, false, "bands[1]"}, {0, -1, true, "ma"}}, 2, {Y(100), Y(150)}, 2};
}

static void test_price__numbering(void **state)
{
  struct price_space sp;
  int64_t v[PRICE_MAX_AXES];
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  space_of(&sp);
  assert_int_equal(price_space_count(&sp), 3 * 2 * 2 * 2 * 2);
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_OK);
  /* the last axis varies fastest */
  price_variant_values(&sp, 0, v);
  assert_int_equal(v[0], 0);
  assert_int_equal(v[4], Y(100));
  price_variant_values(&sp, 1, v);
  assert_int_equal(v[4], Y(150));
  price_variant_values(&sp, 47, v);
  assert_int_equal(v[0], Y(15000));
  assert_int_equal(v[1], 9000);
  assert_int_equal(v[2], Y(80000));
  assert_int_equal(v[3], Y(150000));
  assert_int_equal(v[4], Y(150));
  price_variant_values(&sp, 16, v); /* 16 = 1*16: the second deductible, the rest first */
  assert_int_equal(v[0], Y(5000));
  assert_int_equal(v[1], 5000);
}

static void test_price__checks(void **state)
{
  struct price_space sp;
  struct plan q;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  space_of(&sp);
  sp.axes[1].v[1] = 10001; /* above 100% */
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_INVALID);
  assert_string_equal(err.field, "axes[1].values[1]");
  space_of(&sp);
  sp.axes[2].t[0].band = 0; /* band 0 has no lower edge to move */
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_INVALID);
  assert_string_equal(err.field, "axes[2].band_edge[0]");
  space_of(&sp);
  sp.axes[0].t[0].index = 9;
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_INVALID);
  space_of(&sp);
  sp.target_max = 6000;
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_INVALID);
  assert_string_equal(err.code, "price.target");
  space_of(&sp);
  for (int a = 0; a < sp.naxes; a++)
    sp.axes[a].nv = PRICE_MAX_VALUES;
  assert_int_equal(price_space_check(&sp, &base, &err), HMB_TOO_LARGE);

  /* a band edge moved onto the next band's is not a valid plan */
  space_of(&sp);
  sp.axes[2].v[0] = 0;
  q = base;
  assert_int_equal(price_variant_apply(&sp, 0, &q, &err), HMB_INVALID);
  q = base;
  assert_int_equal(price_variant_apply(&sp, 4, &q, &err), HMB_OK); /* edge 80,000 */
  assert_int_equal(q.resp[0].bands[1].from, Y(80000));
  assert_int_equal(q.resp[0].bands[0].to, Y(80000));
  assert_int_equal(q.pools[0].amount.value, 0);
  /* the base plan itself is untouched */
  assert_int_equal(base.resp[0].bands[1].from, Y(50000));
}

/* A random year of one person. */
#define NPEOPLE 120
#define MAXROWS 8
struct year {
  struct adj_person who;
  struct settlement s[MAXROWS];
  int n;
};

static void make_years(struct year *ys)
{
  struct rng r;
  rng_seed(&r, 20241124);
  for (int i = 0; i < NPEOPLE; i++) {
    struct year *y = &ys[i];
    y->who = (struct adj_person){rng_below(&r, 2) ? 310 : 390,
                                 (int8_t)rng_ppm(&r, 150000),
                                 0,
                                 0,
                                 (int16_t)rng_range(&r, -1, 90),
                                 rng_ppm(&r, 50000) ? NULL : "medical_assistance"};
    y->n = (int)rng_below(&r, MAXROWS + 1);
    for (int k = 0; k < y->n; k++) {
      struct settlement *s = &y->s[k];
      /* heavy enough that deductibles, both bands and the caps all bite */
      hmb_fen inscp = Y(rng_range(&r, 0, rng_ppm(&r, 300000) ? 120000 : 8000));
      hmb_fen full = Y(rng_range(&r, 0, 40000));
      settlement_init(s);
      snprintf(s->setl_id, sizeof(s->setl_id), "S%d-%d", i, k);
      snprintf(s->mdtrt_id, sizeof(s->mdtrt_id), "S%d-%d", i, k);
      snprintf(s->psn_no, sizeof(s->psn_no), "P%d", i);
      s->insutype = y->who.insutype;
      s->med_type = rng_below(&r, 3) ? 21 : 11;
      s->fulamt_ownpay_amt = full;
      s->inscp_scp_amt = inscp + Y(1000);
      s->fund_pay_sumamt = Y(1000);
      s->hifp_pay = Y(1000);
      s->medfee_sumamt = full + inscp + Y(1000);
      s->psn_part_amt = full + inscp;
    }
  }
}

/* The engine's year under plan q, settlement by settlement. */
static void engine_year(const struct plan *q, struct year *ys, hmb_fen *paid, int64_t *benef,
                        hmb_fen *premium, struct price_table *fill, const int *cls)
{
  struct hmb_err err;
  hmb_err_init(&err);
  *paid = 0;
  *benef = 0;
  *premium = 0;
  for (int i = 0; i < NPEOPLE; i++) {
    struct adj_terms t;
    struct adj_state *st = malloc(adj_state_size(q));
    hmb_fen mine = 0, pr;
    assert_non_null(st);
    assert_int_equal(adj_terms_resolve(q, &ys[i].who, &t, &err), HMB_OK);
    adj_state_init(q, st, &t);
    for (int k = 0; k < ys[i].n; k++) {
      struct adj_result res;
      assert_int_equal(adj_settle(q, &st, 1, 0, &ys[i].s[k], ADJ_NO_DED_BEFORE, &res, &err),
                       HMB_OK);
      mine += res.payout;
    }
    *paid += mine;
    *benef += mine > 0;
    assert_int_equal(
        plan_premium(q, ys[i].who.age < 0 ? 0 : ys[i].who.age, ys[i].who.groups, &pr, &err),
        HMB_OK);
    *premium += pr;
    if (fill)
      assert_int_equal(price_table_add(fill, cls[i], adj_acc(st), ys[i].s[0].psn_part_amt, &err),
                       HMB_OK);
    adj_state_release(st);
    free(st);
  }
}

static void test_price__equals_engine(void **state)
{
  static struct year ys[NPEOPLE];
  static struct price_space sp;
  struct price_table t;
  struct hmb_err err;
  int cls[NPEOPLE];
  hmb_fen paid, premium;
  int64_t benef;
  uint64_t n, k, checked = 0, paying = 0;
  struct plan *q = malloc(sizeof(*q));
  (void)state;
  assert_non_null(q);
  hmb_err_init(&err);
  make_years(ys);
  space_of(&sp);
  price_table_init(&t, &base);
  for (int i = 0; i < NPEOPLE; i++)
    assert_int_equal(price_table_person(&t, &ys[i].who, &cls[i], &err), HMB_OK);
  assert_true(t.nclasses >= 4); /* two schemes x with and without 既往症 */
  engine_year(&base, ys, &paid, &benef, &premium, &t, cls);
  price_table_finish(&t);
  /* sorted by the largest pool total, descending */
  for (size_t i = 1; i < t.n; i++)
    assert_true(t.key[i - 1] >= t.key[i]);

  n = price_space_count(&sp);
  for (k = 0; k <= n; k++) {
    struct price_result r;
    hmb_fen by_resp[PLAN_MAX_RESP], sum = 0;
    *q = base;
    if (k < n && price_variant_apply(&sp, k, q, &err))
      continue; /* not a valid plan: nothing to compare */
    engine_year(q, ys, &paid, &benef, &premium, NULL, NULL);
    assert_int_equal(price_eval(&t, q, &r, by_resp, &err), HMB_OK);
    assert_int_equal(r.paid, paid);
    assert_int_equal(r.beneficiaries, benef);
    assert_int_equal(r.premium, premium);
    for (int x = 0; x < base.nresp; x++)
      sum += by_resp[x];
    assert_int_equal(sum, paid);
    assert_int_equal(r.loss_ratio, premium ? (paid * 20000 + premium) / (2 * premium) : -1);
    checked++;
    paying += paid > 0;
  }
  assert_true(checked >= n / 2);
  assert_true(paying == checked); /* the year is heavy enough that every variant pays */
  free(q);
  price_table_release(&t);
}

static void test_price__ranking(void **state)
{
  struct price_result r[4] = {{3, 0, 500, 10, 0, 0, 0, 0},
                              {1, 0, 900, 10, 0, 0, 0, 0},
                              {2, 0, 100, 12, 0, 0, 0, 0},
                              {0, 0, 900, 10, 0, 0, 0, 0}};
  (void)state;
  qsort(r, 4, sizeof(r[0]), price_cmp_people);
  assert_int_equal(r[0].variant, 2); /* most people */
  assert_int_equal(r[1].variant, 0); /* then more paid, then the lower number */
  assert_int_equal(r[2].variant, 1);
  assert_int_equal(r[3].variant, 3);
  qsort(r, 4, sizeof(r[0]), price_cmp_reduction);
  assert_int_equal(r[0].variant, 0);
  assert_int_equal(r[1].variant, 1);
  assert_int_equal(r[2].variant, 3);
  assert_int_equal(r[3].variant, 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_price__numbering),
      cmocka_unit_test(test_price__checks),
      cmocka_unit_test(test_price__equals_engine),
      cmocka_unit_test(test_price__ranking),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

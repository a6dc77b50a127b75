/*
 * The backtest aggregation (domain/backtest.c): figures of a small year
 * worked by hand, independence of the order of calls, reversals, earned
 * premium, buckets at their edges, the largest payouts, refusals.
 */
#include "compat.h"
#include "backtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static struct plan plan4;

static int setup(void **state)
{
  (void)state;
  plan_init(&plan4);
  plan4.nresp = 4;
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  plan_release(&plan4);
  return 0;
}

/* A result paying `pay` under responsibility r with `elig` eligible fen. */
static struct adj_result res_of(int r, hmb_fen pay, hmb_fen elig)
{
  struct adj_result x;
  memset(&x, 0, sizeof(x));
  x.nresp = 4;
  x.payout = pay;
  x.eligible = elig;
  x.r[r].payout = pay;
  return x;
}

struct row {
  size_t who;
  int resp;
  hmb_fen pay, elig, own;
};

/* people: 0 age 10 residents, 1 age 40 employees, 2 age 65 residents, 3 unknown age, other scheme */
static const struct row year[] = {
    {1, 0, 500000, 2000000, 2000000},     /* 5,000 yuan: bucket 1k-5k */
    {1, 2, 10000000, 12000000, 15000000}, /* then 100,000 more */
    {2, 0, 0, 0, 30000},                  /* costs, no payout */
    {3, 3, 100000, 150000, 150000},       /* exactly 1,000 yuan: bucket 0-1k */
    {2, 1, 100001, 100001, 100001},       /* one fen above: bucket 1k-5k */
};

static void enroll_all(struct bt *b)
{
  struct hmb_err err;
  hmb_err_init(&err);
  assert_int_equal(bt_person(b, 0, 10, 390, 9900, &err), HMB_OK);
  assert_int_equal(bt_person(b, 1, 40, 310, 9900, &err), HMB_OK);
  assert_int_equal(bt_person(b, 2, 65, 390, 9900, &err), HMB_OK);
  assert_int_equal(bt_person(b, 3, -1, 0, 3300, &err), HMB_OK);
}

static void run_rows(struct bt *b, const size_t *order, size_t n)
{
  struct hmb_err err;
  hmb_err_init(&err);
  for (size_t i = 0; i < n; i++) {
    const struct row *w = &year[order ? order[i] : i];
    struct adj_result x = res_of(w->resp, w->pay, w->elig);
    assert_int_equal(bt_settlement(b, w->who, &x, w->own, &err), HMB_OK);
  }
}

static void test_backtest__figures(void **state)
{
  static struct bt_report rep;
  struct bt b;
  (void)state;
  bt_init(&b, &plan4);
  enroll_all(&b);
  run_rows(&b, NULL, ARRAY_SIZE(year));
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 12, 31),
            10, &rep);

  assert_int_equal(rep.people, 4);
  assert_int_equal(rep.settlements, 5);
  assert_int_equal(rep.premium, 33000);
  assert_int_equal(rep.earned_premium, 33000);
  assert_int_equal(rep.paid, 500000 + 10000000 + 100000 + 100001);
  assert_int_equal(rep.eligible, 2000000 + 12000000 + 150000 + 100001);
  assert_int_equal(rep.beneficiaries, 3);
  assert_int_equal(rep.beneficiary_share, 7500);
  assert_int_equal(rep.people_with_costs, 3);
  /* 10,700,001 / 33,000 = 324.242454... = 3,242,424.5 bp, half up */
  assert_int_equal(rep.loss_ratio, 3242425);
  assert_int_equal(rep.own_cost, 2000000 + 15000000 + 30000 + 150000 + 100001);
  assert_int_equal(rep.own_cost_after, rep.own_cost - rep.paid);
  /* 10,700,001 / 17,280,001 = 0.619213... */
  assert_int_equal(rep.own_cost_reduction, 6192);
  assert_int_equal(rep.paid_resp[0], 500000);
  assert_int_equal(rep.paid_resp[1], 100001);
  assert_int_equal(rep.paid_resp[2], 10000000);
  assert_int_equal(rep.paid_resp[3], 100000);
  assert_int_equal(rep.beneficiaries_resp[0], 1);
  assert_int_equal(rep.beneficiaries_resp[2], 1);
  /* groups */
  assert_int_equal(rep.age[bt_age_band(10)].people, 1);
  assert_int_equal(rep.age[bt_age_band(10)].paid, 0);
  assert_int_equal(rep.age[bt_age_band(10)].loss_ratio, 0);
  assert_int_equal(rep.age[bt_age_band(40)].paid, 10500000);
  assert_int_equal(rep.age[BT_AGE_BANDS - 1].people, 1);
  assert_int_equal(rep.scheme[0].paid, 10500000);
  assert_int_equal(rep.scheme[1].people, 2);
  assert_int_equal(rep.scheme[1].paid, 100001);
  assert_int_equal(rep.scheme[1].beneficiaries, 1);
  assert_int_equal(rep.scheme[2].premium, 3300);
  /* buckets at their edges: 1,000 yuan is in the first, one fen more in the second */
  assert_int_equal(rep.payout_hist[0].people, 1);
  assert_int_equal(rep.payout_hist[0].amount, 100000);
  assert_int_equal(rep.payout_hist[1].people, 1);
  assert_int_equal(rep.payout_hist[1].amount, 100001);
  assert_int_equal(rep.payout_hist[5].people, 1); /* 105,000 yuan: 100k-200k */
  /* what remains theirs: person 1 6,500,000 fen (65k), person 2 29,999 + 1 - ... */
  assert_int_equal(rep.own_after_hist[4].people, 1); /* 65,000 yuan: 50k-100k */
  /* largest first */
  assert_int_equal(rep.ntop, 3);
  assert_int_equal(rep.top[0].person, 1);
  assert_int_equal(rep.top[0].paid, 10500000);
  assert_int_equal(rep.top[0].own_cost, 17000000);
  assert_int_equal(rep.top[1].person, 2);
  assert_int_equal(rep.top[2].person, 3);
  bt_release(&b);
}

static void test_backtest__order_and_reversal(void **state)
{
  static struct bt_report a, c, d;
  static const size_t shuffled[] = {4, 2, 0, 3, 1};
  struct bt b;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);

  bt_init(&b, &plan4);
  enroll_all(&b);
  run_rows(&b, NULL, ARRAY_SIZE(year));
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 12, 31),
            10, &a);
  bt_release(&b);

  /* people enrolled in another order, settlements in another order */
  bt_init(&b, &plan4);
  assert_int_equal(bt_person(&b, 3, -1, 0, 3300, &err), HMB_OK);
  assert_int_equal(bt_person(&b, 1, 40, 310, 9900, &err), HMB_OK);
  assert_int_equal(bt_person(&b, 0, 10, 390, 9900, &err), HMB_OK);
  assert_int_equal(bt_person(&b, 2, 65, 390, 9900, &err), HMB_OK);
  run_rows(&b, shuffled, ARRAY_SIZE(shuffled));
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 12, 31),
            10, &c);
  assert_memory_equal(&a, &c, sizeof(a));

  /* a settlement and its reversal change nothing but the count */
  {
    struct adj_result x = res_of(2, 777777, 800000), y = res_of(2, -777777, -800000);
    assert_int_equal(bt_settlement(&b, 0, &x, 900000, &err), HMB_OK);
    assert_int_equal(bt_settlement(&b, 0, &y, -900000, &err), HMB_OK);
  }
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 12, 31),
            10, &d);
  assert_int_equal(d.settlements, a.settlements + 2);
  d.settlements = a.settlements;
  assert_memory_equal(&a, &d, sizeof(a));
  bt_release(&b);
}

/* A person's year given at once equals its settlements one by one. */
static void test_backtest__person_year(void **state)
{
  static struct bt_report a, c;
  struct bt b;
  struct hmb_err err;
  hmb_fen paid[4][4] = {{0}}, own[4] = {0}, elig = 0;
  (void)state;
  hmb_err_init(&err);
  bt_init(&b, &plan4);
  enroll_all(&b);
  run_rows(&b, NULL, ARRAY_SIZE(year));
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 6, 30),
            10, &a);
  bt_release(&b);

  for (size_t i = 0; i < ARRAY_SIZE(year); i++) {
    paid[year[i].who][year[i].resp] += year[i].pay;
    own[year[i].who] += year[i].own;
    elig += year[i].elig;
  }
  bt_init(&b, &plan4);
  enroll_all(&b);
  for (size_t w = 4; w-- > 0;) /* persons in another order; person 0 has no settlement */
    if (w)
      assert_int_equal(bt_person_year(&b, w, paid[w], own[w], &err), HMB_OK);
  bt_run_totals(&b, (int64_t)ARRAY_SIZE(year), elig);
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2024, 6, 30),
            10, &c);
  assert_memory_equal(&a, &c, sizeof(a));
  /* a second year of the same person, or of someone not enrolled, is refused */
  assert_int_equal(bt_person_year(&b, 1, paid[1], own[1], &err), HMB_INVALID);
  assert_string_equal(err.code, "backtest.year_twice");
  assert_int_equal(bt_person_year(&b, 9, paid[1], own[1], &err), HMB_INVALID);
  assert_string_equal(err.code, "backtest.not_enrolled");
  bt_release(&b);
}

/* Reserved at the people's number (as hmb backtest does), grown by
 * doubling from there, or grown from nothing: the same report; a person
 * enrolled twice is refused either way. */
static void test_backtest__reserve(void **state)
{
  static struct bt_report a, c;
  static const size_t reserve[] = {0, 1, 4, 3000};
  struct hmb_err err;
  (void)state;
  for (size_t k = 0; k < ARRAY_SIZE(reserve); k++) {
    struct bt b;
    hmb_err_init(&err);
    bt_init(&b, &plan4);
    assert_int_equal(bt_reserve(&b, reserve[k]), HMB_OK);
    enroll_all(&b);
    /* past what was reserved: grown on demand, holes not enrolled */
    assert_int_equal(bt_person(&b, 2000, 30, 310, 9900, &err), HMB_OK);
    assert_int_equal(bt_person(&b, 2, 65, 390, 9900, &err), HMB_INVALID);
    assert_string_equal(err.code, "backtest.person_twice");
    run_rows(&b, NULL, ARRAY_SIZE(year));
    assert_int_equal(bt_settlement(&b, 1999, NULL, 0, &err), HMB_INVALID);
    bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31),
              date_from_ymd(2024, 6, 30), 10, k ? &c : &a);
    bt_release(&b);
    if (k)
      assert_memory_equal(&a, &c, sizeof(a));
  }
}

static void test_backtest__earned_premium(void **state)
{
  static const struct {
    int m, d;       /* the last day of the data in 2024 */
    hmb_fen earned; /* of 36,600 fen over 366 days */
  } cases[] = {
      {1, 1, 100},     /* one day */
      {6, 30, 18200},  /* 182 days */
      {12, 31, 36600}, /* the whole year */
  };
  static struct bt_report rep;
  struct bt b;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  bt_init(&b, &plan4);
  assert_int_equal(bt_person(&b, 0, 30, 390, 36600, &err), HMB_OK);
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31),
              date_from_ymd(2024, cases[i].m, cases[i].d), 0, &rep);
    assert_int_equal(rep.earned_premium, cases[i].earned);
  }
  /* after the cover period: the whole premium; before it: nothing earned */
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2025, 3, 1),
            0, &rep);
  assert_int_equal(rep.earned_premium, 36600);
  bt_finish(&b, date_from_ymd(2024, 1, 1), date_from_ymd(2024, 12, 31), date_from_ymd(2023, 12, 1),
            0, &rep);
  assert_int_equal(rep.earned_premium, 0);
  assert_int_equal(rep.loss_ratio_earned, -1);
  assert_int_equal(rep.loss_ratio, 0);
  bt_release(&b);
}

static void test_backtest__top_n(void **state)
{
  static struct bt_report rep;
  struct bt b;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  bt_init(&b, &plan4);
  for (size_t i = 0; i < 50; i++) {
    /* payouts 0, 1000, 2000, ... with ties on pairs */
    struct adj_result x = res_of(0, (hmb_fen)(i / 2) * 1000, 0);
    assert_int_equal(bt_person(&b, i, 30, 390, 100, &err), HMB_OK);
    assert_int_equal(bt_settlement(&b, i, &x, 0, &err), HMB_OK);
  }
  bt_finish(&b, 0, 365, 365, 5, &rep);
  assert_int_equal(rep.ntop, 5);
  assert_int_equal(rep.top[0].paid, 24000);
  assert_int_equal(rep.top[0].person, 48);
  assert_int_equal(rep.top[1].person, 49);
  assert_int_equal(rep.top[2].person, 46);
  assert_int_equal(rep.top[3].person, 47);
  assert_int_equal(rep.top[4].person, 44);
  bt_finish(&b, 0, 365, 365, 0, &rep);
  assert_int_equal(rep.ntop, 0);
  bt_finish(&b, 0, 365, 365, 100000, &rep);
  assert_int_equal(rep.ntop, 48); /* everyone paid above 0 */
  assert_int_equal(rep.top[47].paid, 1000);
  bt_release(&b);
}

static void test_backtest__refusals(void **state)
{
  struct bt b;
  struct hmb_err err;
  struct adj_result x = res_of(0, 1, 1);
  (void)state;
  hmb_err_init(&err);
  bt_init(&b, &plan4);
  assert_int_equal(bt_person(&b, 5, 30, 390, -1, &err), HMB_INVALID);
  assert_string_equal(err.code, "backtest.premium");
  assert_int_equal(bt_person(&b, 5, 30, 390, 0, &err), HMB_OK);
  assert_int_equal(bt_person(&b, 5, 30, 390, 0, &err), HMB_INVALID);
  assert_string_equal(err.code, "backtest.person_twice");
  /* 0..4 are holes of the numbering, 6 is beyond it */
  assert_int_equal(bt_settlement(&b, 4, &x, 0, &err), HMB_INVALID);
  assert_string_equal(err.code, "backtest.not_enrolled");
  assert_int_equal(bt_settlement(&b, 6, &x, 0, &err), HMB_INVALID);
  assert_int_equal(bt_settlement(&b, 5, &x, 0, &err), HMB_OK);
  bt_release(&b);
}

static void test_backtest__bands(void **state)
{
  static const struct {
    int age, band;
  } ages[] = {{-1, 7}, {0, 0},  {17, 0}, {18, 1}, {34, 1}, {35, 2}, {49, 2}, {50, 3},
              {59, 3}, {60, 4}, {69, 4}, {70, 5}, {79, 5}, {80, 6}, {120, 6}};
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(ages); i++)
    assert_int_equal(bt_age_band(ages[i].age), ages[i].band);
  assert_int_equal(bt_scheme(310), 0);
  assert_int_equal(bt_scheme(390), 1);
  assert_int_equal(bt_scheme(0), 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backtest__figures),
      cmocka_unit_test(test_backtest__order_and_reversal),
      cmocka_unit_test(test_backtest__person_year),
      cmocka_unit_test(test_backtest__reserve),
      cmocka_unit_test(test_backtest__earned_premium),
      cmocka_unit_test(test_backtest__top_n),
      cmocka_unit_test(test_backtest__refusals),
      cmocka_unit_test(test_backtest__bands),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

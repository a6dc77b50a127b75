/*
 * backtest.h - what a plan would have done on a year's history: its loss
 * ratio, who it helped, and what the enrolled still paid themselves.
 *
 * Pure aggregation. The caller runs the engine (adjudicate.h) over a year
 * of settlements and feeds, in any order: each enrolled person once
 * (bt_person: age band, scheme, premium) and each settlement of an enrolled
 * person (bt_settlement: the engine's result and what the person bore,
 * psn_part_amt). bt_finish() then fills a report. A person's payout is the
 * sum of their settlements' payouts, so the report does not depend on the
 * order of the calls.
 *
 * Money is int64 fen; shares and loss ratios are basis points, rounded half
 * up (money.h's rule). The earned premium of a partial year is the premium
 * times the elapsed days of the cover period over its length, rounded half
 * up once on the total.
 *
 * Ownership: struct bt owns its per-person table (bt_release() frees it);
 * the plan is borrowed and must outlive it. A report is plain data.
 */
#ifndef HMB_BACKTEST_H
#define HMB_BACKTEST_H

#include "adjudicate.h"
#include "date.h"
#include "err.h"
#include "money.h"
#include "plan.h"

/* Age bands of the report (age at cover start): 0-17, 18-34, 35-49,
 * 50-59, 60-69, 70-79, 80 and over; and one for an unknown age. */
#define BT_AGE_BANDS 8
/* Schemes: employees (310), residents (390), any other code. */
#define BT_SCHEMES 3
/* Amount buckets in yuan: (0, 1k], (1k, 5k], (5k, 10k], (10k, 50k],
 * (50k, 100k], (100k, 200k], (200k, 500k], (500k, 1M], over 1M. */
#define BT_BUCKETS 9
#define BT_TOP_MAX 1000

extern const char *const bt_age_band_name[BT_AGE_BANDS];
extern const char *const bt_scheme_name[BT_SCHEMES];
extern const char *const bt_bucket_name[BT_BUCKETS];

/* The age band of an age (-1 unknown) and the scheme slot of an insutype. */
int bt_age_band(int age);
/* num / den in basis points, halves away from zero; -1 when den <= 0. */
hmb_bp bt_share_bp(hmb_fen num, hmb_fen den);
int bt_scheme(int32_t insutype);

struct bt_group {
  int64_t people;        /* enrolled */
  int64_t beneficiaries; /* with a payout above 0 */
  hmb_fen premium;
  hmb_fen paid;
  hmb_bp loss_ratio; /* paid / premium; -1 without premium */
};

struct bt_bucket {
  int64_t people;
  hmb_fen amount;
};

struct bt_top {
  size_t person; /* the caller's index */
  hmb_fen paid;
  hmb_fen own_cost; /* what the person bore before the payout */
};

struct bt_report {
  int64_t people;            /* enrolled */
  int64_t settlements;       /* of enrolled people */
  int64_t people_with_costs; /* with a settlement of psn_part_amt above 0 */
  int64_t beneficiaries;
  hmb_bp beneficiary_share; /* of the enrolled */
  hmb_fen premium;          /* written premium income */
  hmb_fen earned_premium;   /* for the elapsed part of the cover period */
  hmb_fen eligible;
  hmb_fen paid;
  hmb_bp loss_ratio;         /* paid / premium, -1 without premium */
  hmb_bp loss_ratio_earned;  /* paid / earned premium, -1 without */
  hmb_fen own_cost;          /* psn_part_amt of the enrolled, before the payout */
  hmb_fen own_cost_after;    /* own_cost - paid */
  hmb_bp own_cost_reduction; /* paid / own_cost */
  hmb_fen paid_resp[PLAN_MAX_RESP];
  int64_t beneficiaries_resp[PLAN_MAX_RESP];
  int nresp;
  struct bt_group age[BT_AGE_BANDS];
  struct bt_group scheme[BT_SCHEMES];
  struct bt_bucket payout_hist[BT_BUCKETS];    /* people by their year's payout */
  struct bt_bucket own_after_hist[BT_BUCKETS]; /* people with costs by what remains theirs */
  struct bt_top top[BT_TOP_MAX];
  int ntop;
};

struct bt_person_acc; /* per person: group slots, premium, totals */

struct bt {
  const struct plan *plan;
  int nresp;
  struct bt_person_acc *people;
  hmb_fen *paid_pr; /* people x nresp: each person's payout by responsibility */
  size_t npeople, alloc;
  int64_t settlements;
  hmb_fen eligible;
  hmb_fen paid_resp[PLAN_MAX_RESP];
};

void bt_init(struct bt *b, const struct plan *p);
void bt_release(struct bt *b);

/* Room for persons 0..n-1 at once, when the caller knows how many it
 * enrolls (bt_person() grows by doubling otherwise). HMB_NOMEM. */
enum hmb_status bt_reserve(struct bt *b, size_t n);

/* Enroll person `idx` (0, 1, ... as the caller numbers them; may come in
 * any order, each once). HMB_NOMEM; HMB_INVALID when idx was given before
 * or the premium is negative. */
enum hmb_status bt_person(struct bt *b, size_t idx, int age, int32_t insutype, hmb_fen premium,
                          struct hmb_err *err);

/* A settlement of person idx: the engine's result (payout per
 * responsibility, eligible) and what the person bore (psn_part_amt; for a
 * reversal the original's, negated, as its payout is). HMB_INVALID when
 * idx is not enrolled. */
enum hmb_status bt_settlement(struct bt *b, size_t idx, const struct adj_result *res,
                              hmb_fen own_cost, struct hmb_err *err);

/*
 * The whole year of person idx at once, instead of its settlements one by
 * one: the payout per responsibility (paid[0..nresp), e.g. a year state's
 * adj_paid()) and what the person bore in all. The report is the same as
 * from the settlements, as a year's payout is the sum of its settlements'.
 * The run's counts that belong to no person come with bt_run_totals().
 * HMB_INVALID when idx is not enrolled or was given a year before.
 */
enum hmb_status bt_person_year(struct bt *b, size_t idx, const hmb_fen *paid, hmb_fen own_cost,
                               struct hmb_err *err);
void bt_run_totals(struct bt *b, int64_t settlements, hmb_fen eligible);

/*
 * The report. Days: the cover period [cover_start, cover_end] and the last
 * day of the history (data_end; after cover_end counts as cover_end). top_n
 * (at most BT_TOP_MAX) largest year payouts, largest first, ties by person
 * index.
 */
void bt_finish(const struct bt *b, hmb_date cover_start, hmb_date cover_end, hmb_date data_end,
               int top_n, struct bt_report *out);

#endif /* HMB_BACKTEST_H */

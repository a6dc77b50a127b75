/*
 * price.h - the pricing search of hmb price: thousands of variants of a
 * plan judged on one year's history, without running the engine again per
 * variant.
 *
 * Why it can: the payout of a settlement is the difference of the year's
 * payout function before and after it (adjudicate.h), so what a person is
 * paid in a year is that function of their year's cumulative eligible
 * amounts per responsibility. For a plan without path-dependent rules
 * (visit counts, per-stay and per-item limits, lump sums) and without
 * family scope, those amounts depend only on what counts as eligible
 * (sources, weights, lists, exclusions), not on deductibles, ratios, band
 * edges, caps or premiums. The caller runs the year once under the base
 * plan and hands each person's year to price_table_add(); a variant is
 * then judged by evaluating the payout function on those totals
 * (adj_year_paid()): the engine's own arithmetic, so the figures are the
 * ones hmb backtest gives for the same plan, to the fen.
 *
 * Speed: people are kept in descending order of their largest deductible
 * pool's total. A person whose every pool total is within that pool's
 * deductible is paid nothing, so the evaluation of a variant stops at the
 * first person below its smallest deductible.
 *
 * A search space is a list of axes; each axis sets one kind of parameter
 * (a deductible, a ratio, a band edge, a cap, a premium) on one or more
 * targets to each of its values in turn. Variants are the combinations,
 * numbered in mixed radix with the first axis varying slowest.
 *
 * Ownership: a table owns its arrays (price_table_release()); the plan and
 * the people's groups strings it was given are borrowed and must outlive
 * it. A space is plain data. A finished table is read-only and may be
 * shared by threads; each thread evaluates into its own plan copy.
 */
#ifndef HMB_PRICE_H
#define HMB_PRICE_H

#include "adjudicate.h"
#include "err.h"
#include "money.h"
#include "plan.h"

#define PRICE_MAX_AXES     8
#define PRICE_MAX_TARGETS  16
#define PRICE_MAX_VALUES   256
#define PRICE_MAX_VARIANTS 10000000 /* combinations of one space */
#define PRICE_MAX_CLASSES  4096     /* distinct (variants matched, scheme) of people */
#define PRICE_NAME_MAX     64

enum price_kind {
  PRICE_DEDUCTIBLE = 0, /* a deductible pool's amount, fen */
  PRICE_RATIO,          /* a responsibility's ratio (every band, or one), bp */
  PRICE_BAND_EDGE,      /* where band `band` of a responsibility starts, fen */
  PRICE_CAP,            /* a responsibility's own cap or a shared cap, fen */
  PRICE_PREMIUM,        /* a premium band's or group's amount, fen */
  PRICE__KINDS
};
/* "deductible", "ratio", "band_edge", "cap", "premium" (the space file's keys). */
extern const char *const price_kind_name[PRICE__KINDS];

struct price_target {
  int index;                  /* pool, responsibility, shared cap, premium band or premium group */
  int band;                   /* RATIO: -1 every band; BAND_EDGE: 1 .. nbands-1 */
  bool shared;                /* CAP: a shared cap; PREMIUM: a premium group */
  char label[PRICE_NAME_MAX]; /* as written in the space file */
};

struct price_axis {
  enum price_kind kind;
  struct price_target t[PRICE_MAX_TARGETS];
  int nt;
  int64_t v[PRICE_MAX_VALUES]; /* fen or bp */
  int nv;
};

struct price_space {
  struct price_axis axes[PRICE_MAX_AXES];
  int naxes;
  hmb_bp target_min, target_max; /* loss ratio range sought, inclusive */
};

/* Number of variants (product of the axes' value counts; 1 without axes). */
uint64_t price_space_count(const struct price_space *sp);

/*
 * Check the space against the plan it varies: targets exist, values in
 * range (amounts >= 0, ratios 0..100%), at most PRICE_MAX_VARIANTS
 * variants, target range ordered. err names the first problem with its
 * JSON path in the space file ("axes[1].values[2]").
 */
enum hmb_status price_space_check(const struct price_space *sp, const struct plan *p,
                                  struct hmb_err *err);

/*
 * Set the values of variant k (0 <= k < price_space_count()) on q, a
 * shallow copy of the base plan (struct assignment; never released): every
 * axis writes all its targets, so the same q serves variant after
 * variant. Then q is checked as a plan (plan_finish(): band edges
 * increasing ...); HMB_INVALID with the reason when the combination is not
 * a valid plan (e.g. a band edge moved past the next one).
 */
enum hmb_status price_variant_apply(const struct price_space *sp, uint64_t k, struct plan *q,
                                    struct hmb_err *err);

/* The values of variant k, one per axis, in axis order. */
void price_variant_values(const struct price_space *sp, uint64_t k, int64_t *out);

/* A person's class: who they are for the plan's variants (adj_person). */
struct price_class {
  struct adj_person who; /* the first person of the class; groups borrowed */
  uint32_t variant_mask; /* the plan's variants that apply */
  int64_t people;        /* enrolled people of the class */
};

/* A premium slot: the band or group a person's premium comes from. */
struct price_slot {
  int age;            /* a representative age, for plan_premium() */
  const char *groups; /* borrowed */
  int64_t people;
};

struct price_table {
  const struct plan *plan;
  int nresp;
  /* persons with an eligible amount, after price_table_finish() in
   * descending order of key (their largest pool total, 1/10000 fen) */
  int64_t *acc; /* n x nresp */
  int64_t *key;
  uint16_t *cls;
  size_t n, alloc;
  struct price_class classes[PRICE_MAX_CLASSES];
  int nclasses;
  struct price_slot slots[PLAN_MAX_PREMIUM_BANDS + PLAN_MAX_PREMIUM_GROUPS];
  int64_t people;   /* enrolled */
  hmb_fen own_cost; /* what the enrolled bore in the year, before any payout */
  bool finished;
};

void price_table_init(struct price_table *t, const struct plan *base);
void price_table_release(struct price_table *t);

/* Who a person is (their premium and class): once per enrolled person. */
enum hmb_status price_table_person(struct price_table *t, const struct adj_person *who, int *cls,
                                   struct hmb_err *err);
/* The year of a person of class cls (from price_table_person()):
 * cumulative eligible per responsibility (an adj_state's adj_acc()) and
 * what they bore. Persons without eligible amounts only add own_cost. */
enum hmb_status price_table_add(struct price_table *t, int cls, const int64_t *acc,
                                hmb_fen own_cost, struct hmb_err *err);
/* Sort the persons for evaluation; after it the table is read-only. */
void price_table_finish(struct price_table *t);

struct price_result {
  uint64_t variant;
  hmb_fen premium, paid;
  int64_t beneficiaries;
  hmb_bp loss_ratio;   /* paid / premium, -1 without premium */
  hmb_bp reduction;    /* paid / own_cost of the enrolled */
  hmb_bp share;        /* beneficiaries / enrolled */
  hmb_fen premium_avg; /* premium / enrolled, half up */
};

/*
 * Judge plan q (a variant made by price_variant_apply(), or the base plan
 * itself) on the table: premium income, paid, beneficiaries, ratios. With
 * paid_resp not NULL, the payout per responsibility is added up too (a
 * little slower: for the variants reported). Thread-safe for distinct q.
 */
enum hmb_status price_eval(const struct price_table *t, const struct plan *q,
                           struct price_result *out, hmb_fen *paid_resp, struct hmb_err *err);

/* Ranking orders: more beneficiaries first, then the larger reduction (or
 * the other way round), then the lower variant number. For qsort(). */
int price_cmp_people(const void *a, const void *b);
int price_cmp_reduction(const void *a, const void *b);

#endif /* HMB_PRICE_H */

/*
 * adjudicate.h - the claims engine: a pure function from a plan, a person's
 * year state and one settlement to the payout per responsibility, its
 * explanation, and the new state.
 *
 * The payout of a settlement is the difference of the year's payout function
 * before and after it. The function depends only on the year's cumulative
 * eligible amounts (held exactly, in 1/10000 fen, so weights lose nothing),
 * so a person's year total does not depend on how costs were split into
 * visits or on their order, and a reversal restores the state exactly. The
 * exceptions are the rules that are path-dependent by the product's own
 * terms: visit-count limits, per-stay limits, per-item count limits and
 * lump sums counted on distinct visits (docs/plan-format.md lists them).
 *
 * Nothing here allocates on the hot path except the optional extension of a
 * state for path-dependent rules. No I/O, no locks: callers serialise the
 * use of one person's (or family's) states.
 */
#ifndef HMB_ADJUDICATE_H
#define HMB_ADJUDICATE_H

#include "buf.h"
#include "plan.h"

/* Eligible amounts are held in 1/10000 fen, so weights lose nothing. */
#define ADJ_ACC_PER_FEN INT64_C(10000)

/* Who the person is for the year: what variants look at. */
struct adj_person {
  int32_t insutype;      /* 310 / 390 ...; 0 = take it from the settlement */
  int8_t preexisting;    /* 1 when 既往症 status was fixed at enrollment */
  int16_t loyalty_years; /* continuous years enrolled before this year */
  int16_t claim_free_years;
  int16_t age;        /* at coverage start, -1 unknown */
  const char *groups; /* ';'-separated premium/benefit groups, may be NULL */
};

/* A person's terms after the variants: resolved once per person-year and
 * shared by everyone with the same variant outcome. Plain data. */
struct adj_terms {
  hmb_fen pool_amount[PLAN_MAX_POOLS];
  hmb_fen cap[PLAN_MAX_RESP]; /* -1: none */
  hmb_bp ratio[PLAN_MAX_RESP][PLAN_MAX_BANDS];
  hmb_fen cap_shared[PLAN_MAX_CAPS];
  uint32_t excluded_mask; /* responsibilities not covered */
  uint32_t variant_mask;  /* variants that applied */
  int32_t insutype;
};

enum hmb_status adj_terms_resolve(const struct plan *p, const struct adj_person *who,
                                  struct adj_terms *out, struct hmb_err *err);

/*
 * What adj_terms_resolve() of who depends on: persons with the same key get
 * the same terms, or the same error, so a caller resolving many persons may
 * keep one resolution per key.
 */
uint64_t adj_terms_key(const struct plan *p, const struct adj_person *who);

/* Path-dependent usage of one member (visits, stays, items, lump sums). */
struct adj_ext;

/*
 * One member's year. Variable size: v holds acc[nresp] (eligible so far,
 * 1/10000 fen) then paid[nresp] (payout so far, fen). Allocate
 * adj_state_size(plan) bytes, then adj_state_init(). terms is borrowed and
 * must outlive the state; ext is owned and freed by adj_state_release().
 */
struct adj_state {
  const struct adj_terms *terms;
  struct adj_ext *ext;
  int64_t v[];
};

size_t adj_state_size(const struct plan *p);
void adj_state_init(const struct plan *p, struct adj_state *st, const struct adj_terms *terms);
void adj_state_release(struct adj_state *st);
/* Copy src into dst (same plan), duplicating ext; HMB_NOMEM on failure. */
enum hmb_status adj_state_copy(const struct plan *p, struct adj_state *dst,
                               const struct adj_state *src);
/* true when both states hold the same amounts and usage. */
bool adj_state_equal(const struct plan *p, const struct adj_state *a, const struct adj_state *b);

static inline int64_t *adj_acc(struct adj_state *st)
{
  return st->v;
}
static inline hmb_fen *adj_paid(const struct plan *p, struct adj_state *st)
{
  return st->v + p->nresp;
}

/* The member's payout for the year so far, all responsibilities. */
hmb_fen adj_paid_total(const struct plan *p, const struct adj_state *st);

/*
 * The payout function itself for one person (no family scope): what a
 * person with terms t and the year's cumulative eligible amounts acc
 * (1/10000 fen, per responsibility) is paid in all, per responsibility in
 * paid[0..nresp) and in total as the return value. A year's settlements
 * pay exactly this sum whatever their split and order, for plans without
 * path-dependent rules. Pure; for evaluating plan variants on year totals
 * (domain/price.h).
 */
hmb_fen adj_year_paid(const struct plan *p, const struct adj_terms *t, const int64_t *acc,
                      hmb_fen *paid);

/* What a settlement added to its member's state: what a reversal takes back. */
#define ADJ_MAX_EXT_DELTAS 64
enum adj_ext_kind { EXT_VISIT = 1, EXT_STAY, EXT_ITEM_AMOUNT, EXT_ITEM_COUNT, EXT_LUMP };
struct adj_ext_delta {
  uint64_t key; /* hash of mdtrt_id or catalogue code / list */
  uint8_t kind; /* enum adj_ext_kind */
  uint8_t resp;
  int64_t value; /* amount (1/10000 fen) or count (x 10^4) or 1 */
};
struct adj_contrib {
  int64_t acc[PLAN_MAX_RESP];
  uint16_t next;
  struct adj_ext_delta ext[ADJ_MAX_EXT_DELTAS];
};

/* Why a responsibility paid what it paid (bits of adj_resp_result.why). */
enum adj_why {
  WHY_NOT_APPLICABLE = 1 << 0, /* the settlement is not of this kind (med_type ...) */
  WHY_EXCLUDED = 1 << 1,       /* an exclusion removed the settlement */
  WHY_NOT_COVERED = 1 << 2,    /* a variant removed this cover (e.g. 既往症) */
  WHY_IN_DEDUCTIBLE = 1 << 3,  /* all or part went to the deductible */
  WHY_CAPPED = 1 << 4,         /* the responsibility's cap was reached */
  WHY_SHARED_CAPPED = 1 << 5,  /* a shared cap was reached */
  WHY_GROUP_LOST = 1 << 6,     /* an exclusive group paid another responsibility */
  WHY_VISIT_LIMIT = 1 << 7,
  WHY_STAY_LIMIT = 1 << 8,
  WHY_ITEM_LIMIT = 1 << 9,
  WHY_LINES_EXCLUDED = 1 << 10 /* some detail lines were excluded */
};

struct adj_resp_result {
  int64_t eligible;   /* this settlement, 1/10000 fen */
  int64_t acc_before; /* cumulative eligible, 1/10000 fen */
  int64_t ded_before; /* deductible borne so far, 1/10000 fen */
  int64_t ded_after;
  hmb_fen paid_before;
  hmb_fen paid_after;
  hmb_fen payout; /* paid_after - paid_before */
  uint32_t why;   /* enum adj_why bits */
};

struct adj_result {
  enum setl_kind kind;
  int nresp;
  hmb_fen payout;        /* for the settling member */
  hmb_fen family_adjust; /* change of other members' payouts caused by it */
  hmb_fen eligible;      /* rounded sum of the responsibilities' eligible */
  uint32_t exclusions;   /* bits of plan.exclusions that applied */
  struct adj_resp_result r[PLAN_MAX_RESP];
  struct adj_contrib contrib;
};

enum adj_flags {
  ADJ_TRIAL = 1 << 0, /* 预结算: compute, change nothing */
  /* adj_settle() for a caller that does not explain: the deductibles before
   * the settlement (r[].ded_before, and ded_after when it adds nothing) are
   * left 0 instead of being evaluated; every amount paid is the same */
  ADJ_NO_DED_BEFORE = 1 << 1
};

/*
 * Adjudicate settlement s of members[who]. members[0..n) is the account:
 * one person, or a family when the plan has family-scope pools or caps (n
 * at most PLAN_MAX_FAMILY). Lines of s are marked with the plan's lists.
 * Without ADJ_TRIAL the states are updated; with it they are untouched and
 * res holds what a settlement would pay. res->contrib is what a later
 * reversal needs. On error nothing is changed and err says why.
 */
#define PLAN_MAX_FAMILY 16
enum hmb_status adj_settle(const struct plan *p, struct adj_state *const *members, size_t n,
                           size_t who, const struct settlement *s, unsigned flags,
                           struct adj_result *res, struct hmb_err *err);

/*
 * True when adj_settle() of s adds nothing to any state under p, whatever
 * the state: no responsibility applies to s with an amount other than 0 and
 * no lump sum is triggered. Such a settlement pays 0 of eligible 0 with an
 * empty contribution, and a caller may leave the person's state alone (hmb
 * adjudicate makes a person's record at their first settlement that is not
 * inert). False also for what adj_settle() refuses. Lines of s are marked
 * with the plan's lists, as adj_settle() does.
 */
bool adj_settle_inert(const struct plan *p, const struct settlement *s);

/*
 * Take back what settlement c added to members[who] (2208/2305 semantics):
 * the payout in res is negative or zero. Fails with HMB_CONFLICT when the
 * state does not hold c (already reversed).
 */
enum hmb_status adj_reverse(const struct plan *p, struct adj_state *const *members, size_t n,
                            size_t who, const struct adj_contrib *c, unsigned flags,
                            struct adj_result *res, struct hmb_err *err);

/*
 * Append a Chinese explanation of res to out: per responsibility the
 * eligible amount, deductible used, bands and ratios, caps hit and
 * exclusions applied.
 */
enum hmb_status adj_explain(const struct plan *p, const struct adj_state *st,
                            const struct adj_result *res, struct buf *out);

/* Bytes adj_contrib_pack() needs at most, and the packing itself (for
 * keeping contributions of a whole year compactly). */
#define ADJ_CONTRIB_PACKED_MAX (4 + PLAN_MAX_RESP * 9 + ADJ_MAX_EXT_DELTAS * 18)
size_t adj_contrib_pack(const struct plan *p, const struct adj_contrib *c, uint8_t *out);
size_t adj_contrib_unpack(const struct plan *p, const uint8_t *in, size_t len,
                          struct adj_contrib *c);

/*
 * A member's state as bytes, for a store: the amounts and the
 * path-dependent usage, not the terms (they are resolved again from the
 * enrollment). adj_state_pack() appends to out; adj_state_unpack() fills
 * st (initialised with its terms) and returns HMB_INVALID for bytes that
 * are not a state of this plan.
 */
enum hmb_status adj_state_pack(const struct plan *p, const struct adj_state *st, struct buf *out);
enum hmb_status adj_state_unpack(const struct plan *p, const uint8_t *in, size_t len,
                                 struct adj_state *st, struct hmb_err *err);

#endif /* HMB_ADJUDICATE_H */

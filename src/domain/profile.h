/*
 * profile.h - regulatory profiles: what a province's or city's guidance
 * (e.g. 云医保〔2023〕152号) requires of a 惠民保 product, as data.
 *
 * A profile is a list of rules. Each rule names one check of a fixed
 * vocabulary implemented in profile.c (deductible_max, ratio_min, cap_min,
 * premium_avg_max, loss_ratio_target_min, term_years_min) with its
 * parameters, and the sentence of the source it comes from. The file format
 * (profiles/<id>.json, "hmb-profile/1") is read by io/profile_json.c and
 * described in docs/plan-format.md, section "Regulatory profiles".
 *
 * regprofile_check() runs every rule against a finished plan (plan_finish()
 * passed) and reports each violation with the plan's JSON path, so that the
 * same report function serves `hmb plan check` for both plan errors and
 * profile violations.
 *
 * Ownership: a profile owns its strings; regprofile_release() frees them and
 * leaves an initialised, empty profile. A released or initialised profile
 * may be released again. A finished profile is read-only and may be shared
 * by threads.
 */
#ifndef HMB_PROFILE_H
#define HMB_PROFILE_H

#include "plan.h"

#define PROFILE_MAX_RULES 64
/* Rule ids become error codes "profile.<id>": they must fit HMB_ERR_CODE_MAX. */
#define PROFILE_RULE_ID_MAX 32
/* Longest rule message in bytes: the violation text quotes it and must fit
 * HMB_ERR_MSG_MAX with the figures in front of it. */
#define PROFILE_MESSAGE_MAX 240

enum profile_check_kind {
  PROFILE_DEDUCTIBLE_MAX = 0,
  PROFILE_RATIO_MIN,
  PROFILE_CAP_MIN,
  PROFILE_PREMIUM_AVG_MAX,
  PROFILE_LOSS_RATIO_TARGET_MIN,
  PROFILE_TERM_YEARS_MIN,
  PROFILE__COUNT
};

/* Parameters a check takes (bits of regprofile_check_params()). */
#define PROFILE_P_AMOUNT (1u << 0) /* "amount": yuan as a string */
#define PROFILE_P_RATIO  (1u << 1) /* "ratio": "70%" */
#define PROFILE_P_SCOPE  (1u << 2) /* "scope": "total" | "each" */
#define PROFILE_P_TIER   (1u << 3) /* "tier": "basic" | "upgraded" */
#define PROFILE_P_YEARS  (1u << 4) /* "years": integer */

enum profile_cap_scope { PROFILE_CAP_TOTAL = 0, PROFILE_CAP_EACH };

struct profile_rule {
  char id[PROFILE_RULE_ID_MAX];
  enum profile_check_kind check;
  char *message;                /* source sentence quoted in every violation */
  hmb_fen amount;               /* PROFILE_P_AMOUNT */
  hmb_bp ratio;                 /* PROFILE_P_RATIO */
  enum profile_cap_scope scope; /* PROFILE_P_SCOPE */
  enum plan_tier tier;          /* PROFILE_P_TIER */
  int years;                    /* PROFILE_P_YEARS */
};

struct profile {
  char id[PLAN_ID_MAX];
  char *name;
  char *source;
  struct profile_rule rules[PROFILE_MAX_RULES];
  int nrules;
};

void regprofile_init(struct profile *pr);
void regprofile_release(struct profile *pr);

/* Name of a check ("deductible_max" ...), and the check of a name (-1 if none). */
const char *regprofile_check_name(enum profile_check_kind k);
int regprofile_check_find(const char *name);
/* PROFILE_P_* bits: the parameters check k requires (all of them, no others). */
unsigned regprofile_check_params(enum profile_check_kind k);

/*
 * Check the profile itself: ids present, made of [a-z0-9_-] and unique,
 * rule ids short enough, messages present and short enough, parameters in
 * range. The parser calls it; a profile built in code should too. err names
 * the first problem with its JSON path ("rules[2].id").
 */
enum hmb_status regprofile_validate(const struct profile *pr, struct hmb_err *err);

/*
 * Run every rule of pr against plan p (which must have passed plan_finish()).
 * For each violation, report(ctx, &e) is called once with e.status =
 * HMB_INVALID, e.code = "profile.<rule id>", e.field = the JSON path in the
 * plan file of what violates the rule ("responsibilities[1].ratio",
 * "deductible_pools[0].amount", "variants[3]", "premiums.bands[2].amount",
 * "loss_ratio_target" ...) and e.message = Chinese text naming the figure,
 * the limit and the rule's message. report may be NULL. *violations (may be
 * NULL) receives the number of violations.
 *
 * Returns HMB_OK when every rule could be checked, whether or not the plan
 * complies; the result of the check is *violations.
 */
enum hmb_status regprofile_check(const struct profile *pr, const struct plan *p,
                                 plan_report_fn report, void *ctx, int *violations);

#endif /* HMB_PROFILE_H */

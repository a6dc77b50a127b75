/*
 * enroll.h - who may enroll in a plan, on which terms (docs/plan-format.md,
 * "Enrollment" and "Premiums"; DOMAIN.md section 3).
 *
 * Pure rules: no I/O and no store. The service gathers the facts (the
 * person and their basic-insurance status on the request date, the family
 * and who of it is enrolled, the payer, the past enrollments) into the
 * plain structs below and enroll_decide() answers: eligible, with the
 * premium, premium group, cover start and the variants' inputs fixed at
 * enrollment (pre-existing status, loyalty), or refused with a stable code
 * (enroll.*), the request field at fault and a Chinese message.
 *
 * Codes and their fields:
 *   enroll.channel          channel      unknown channel
 *   enroll.preexisting      preexisting  not -1, 0 or 1
 *   enroll.not_born         psn_no       request dated before the birth
 *   enroll.no_status        psn_no       no basic-insurance status on the date
 *   enroll.suspended        psn_no       basic insurance suspended on the date
 *   enroll.ended            psn_no       basic insurance ended on the date
 *   enroll.not_eligible     psn_no       insured outside the plan's area
 *   enroll.plan_ended       on           request after the coverage end
 *   enroll.window_closed    on           outside the window, no exception
 *   enroll.group_unknown    group        not a premium group of the plan
 *   enroll.group            group        not in the person's roster groups
 *   enroll.not_free         channel      free cover asked, not a free minor
 *   enroll.payer_missing    payer        channel needs a payer
 *   enroll.payer_not_employee payer      personal account of a non-employee
 *   enroll.payer_inactive   payer        payer's basic insurance not active
 *   enroll.relation         payer        relation not allowed by the plan
 *   enroll.account_scope    payer        payer insured outside the scope
 *   enroll.payer_uscc       payer        employer code invalid
 * All refusals are HMB_INVALID; messages name only the psn_no.
 *
 * Ownership: every pointer in the inputs is borrowed for the call; the
 * result is plain data.
 */
#ifndef HMB_ENROLL_H
#define HMB_ENROLL_H

#include "plan.h"

/* The same values as store.h's enum store_channel (the service checks). */
enum enroll_channel {
  ENROLL_CH_ONLINE = 1,
  ENROLL_CH_COUNTER,
  ENROLL_CH_PERSONAL_ACCOUNT,
  ENROLL_CH_EMPLOYER,
  ENROLL_CH_SPONSOR,
  ENROLL_CH_FREE
};

/* Stable English name ("online", "personal_account" ...), "unknown" otherwise. */
const char *enroll_channel_name(int channel);
/* The channel with this name, 0 when none. */
int enroll_channel_parse(const char *name);

/* Relation to the family's head: the values of store.h's enum store_relation. */
enum enroll_relation {
  ENROLL_REL_NONE = 0,
  ENROLL_REL_HEAD,
  ENROLL_REL_SPOUSE,
  ENROLL_REL_CHILD,
  ENROLL_REL_PARENT,
  ENROLL_REL_SPOUSE_PARENT,
  ENROLL_REL_OTHER
};

/* Basic-insurance status: the values of store.h's enum store_psn_status. */
enum enroll_psn_status {
  ENROLL_PSN_UNKNOWN = 0, /* no status recorded on the date */
  ENROLL_PSN_ACTIVE = 1,
  ENROLL_PSN_SUSPENDED = 2,
  ENROLL_PSN_ENDED = 3
};

#define ENROLL_INSUTYPE_EMPLOYEE 310
#define ENROLL_MINOR_AGE         18

/* What the rules need of a person. Strings are borrowed. */
struct enroll_person {
  const char *psn_no;
  hmb_date birth;
  int32_t insutype;
  int status;              /* enum enroll_psn_status on the request date */
  const char *admdvs;      /* 6-digit region of the basic insurance */
  const char *work_admdvs; /* "" or NULL unknown */
  const char *family_id;   /* "" or NULL none */
  int relation;            /* enum enroll_relation */
  int veteran_year;        /* 0 none */
  const char *groups;      /* ';'-separated roster groups, may be NULL */
  bool enrolled;           /* family members: an active (paid) enrollment in this plan */
};

/* One earlier year with an active (paid, not cancelled) enrollment of a
 * plan of the same region. */
struct enroll_year {
  int year;
  int8_t preexisting; /* as fixed at that enrollment */
  bool claimed;       /* a settlement of that year paid something */
};

struct enroll_input {
  const struct plan *plan;
  const struct enroll_person *person;
  int channel; /* enum enroll_channel */
  const char *payer;
  /* personal account: the payer (may be person itself), status on the
   * date filled; NULL when the payer is not in the roster */
  const struct enroll_person *payer_person;
  const char *group; /* premium group claimed, NULL or "" none */
  hmb_date on;
  int preexisting;                /* -1 not assessed, 0, 1 */
  int parents_enrolled;           /* enroll_parents_enrolled() */
  const struct enroll_year *past; /* any order */
  size_t npast;
};

struct enroll_result {
  hmb_fen premium;
  char group[PLAN_ID_MAX]; /* premium group, "" none */
  int channel;             /* the request's, or ENROLL_CH_FREE for free cover */
  hmb_date cover_start;
  int age; /* at the plan's age basis, 0 for the unborn */
  bool free_cover;
  bool newborn;        /* the newborn rule applied */
  bool outside_window; /* admitted outside the window (veteran, newborn) */
  int8_t preexisting;
  int16_t loyalty_years;
  int16_t claim_free_years;
};

/* Age at the plan's age basis (coverage start or end); 0 when born later. */
int enroll_age(const struct plan *p, hmb_date birth);

/*
 * How many of who's parents in the family (n members, who may be among
 * them) are enrolled: a child's parents are the head and the spouse, the
 * head's are the members with relation parent, the spouse's those with
 * relation spouse_parent. Returns 2 only when exactly two parents are
 * listed and both are enrolled.
 */
int enroll_parents_enrolled(const struct enroll_person *who, const struct enroll_person *family,
                            size_t n);

/*
 * The payer's relation to the beneficiary as a PLAN_REL_* bit, from both
 * people's relation to the head of the same family: PLAN_REL_SELF for the
 * same psn_no, 0 when not related in a way the plans know.
 */
uint32_t enroll_payer_relation(const struct enroll_person *payer,
                               const struct enroll_person *beneficiary);

/*
 * Check a personal-account payer for the beneficiary on the plan: an
 * active employee, related as the plan allows, insured within its scope.
 */
enum hmb_status enroll_check_account(const struct plan *p, const struct enroll_person *payer,
                                     const struct enroll_person *beneficiary, struct hmb_err *err);

/* Apply every rule; *out is filled only on success. */
enum hmb_status enroll_decide(const struct enroll_input *in, struct enroll_result *out,
                              struct hmb_err *err);

#endif /* HMB_ENROLL_H */

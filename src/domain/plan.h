/*
 * plan.h - one city's product year (惠民保) as the engine sees it.
 *
 * A plan is built by a parser (io/plan_json.c reads docs/plan-format.md's
 * JSON), checked by plan_validate(), then used read-only by any number of
 * threads. Everything a plan points to is owned by the plan and freed by
 * plan_release(). Limits below are hard: a plan exceeding one is rejected
 * with the JSON path of the offending element.
 *
 * Amounts are fen, ratios and weights basis points. "-1" means "none" for
 * optional amounts (no cap, no limit).
 */
#ifndef HMB_PLAN_H
#define HMB_PLAN_H

#include "date.h"
#include "money.h"
#include "settlement.h"

#define PLAN_MAX_RESP           16
#define PLAN_MAX_TERMS          8
#define PLAN_MAX_BANDS          8
#define PLAN_MAX_LISTS          32
#define PLAN_MAX_POOLS          16
#define PLAN_MAX_CAPS           16
#define PLAN_MAX_GROUPS         8 /* exclusive groups */
#define PLAN_MAX_VARIANTS       32
#define PLAN_MAX_EXCLUSIONS     32
#define PLAN_MAX_PARAMS         16
#define PLAN_MAX_CODES          16 /* codes in one condition set */
#define PLAN_MAX_PREMIUM_BANDS  16
#define PLAN_MAX_PREMIUM_GROUPS 16
#define PLAN_MAX_ITEM_LIMITS    8 /* per responsibility */
#define PLAN_ID_MAX             40
#define PLAN_NONE               (-1)

/* What a source term takes from a settlement: the parts the person bore. */
enum plan_component {
  COMP_FULAMT_OWNPAY = 0, /* 全自费 */
  COMP_OVERLMT_SELFPAY,   /* 超限价自付 */
  COMP_PRESELFPAY,        /* 乙类先行自付 */
  COMP_INSCP_SELFPAY,     /* 政策范围内个人自付 (in scope minus funds) */
  COMP_PSN_PART,          /* all four above */
  COMP_ACT_PAY_DEDC,      /* basic-insurance deductible paid (within inscp_selfpay) */
  COMP__COUNT
};
const char *plan_component_name(enum plan_component c);

/* A set of small integer codes (med_type, insutype, psn_type, hosp_lv). */
struct plan_intset {
  uint8_t n;
  int32_t v[PLAN_MAX_CODES];
};

/* A set of short strings (diagnosis prefixes, flags). */
struct plan_strset {
  uint8_t n;
  char v[PLAN_MAX_CODES][SETL_SHORT_MAX];
};

/* A condition on a settlement; unset parts always hold. */
struct plan_cond {
  struct plan_intset med_type, insutype, psn_type, hosp_lv;
  struct plan_strset dise_prefix; /* dise_codg starts with one of these */
  struct plan_strset flags_any;   /* settlement carries one of these flags */
  struct plan_strset flags_none;  /* settlement carries none of these */
  int8_t in_region;               /* -1 any, 0 out of the plan's region, 1 inside */
  int8_t out_filed;               /* -1 any, 0 not filed, 1 filed (异地备案) */
};

/* A condition on the person for the year (variants). */
struct plan_pcond {
  int8_t preexisting;       /* -1 any, 0 no, 1 yes */
  int16_t loyalty_min;      /* continuous years enrolled before this one, -1 any */
  int16_t claim_free_min;   /* of which without a claim, -1 any */
  int16_t age_min, age_max; /* age at coverage start, -1 any */
  struct plan_intset insutype;
  struct plan_strset groups_any; /* e.g. "medical_assistance" */
};

/* Which detail lines a term counts. */
enum plan_lines { LINES_ALL = 0, LINES_IN, LINES_EXCEPT };

struct plan_term {
  enum plan_component comp;
  hmb_bp weight; /* 10000 = counted in full */
  enum plan_lines lines;
  uint32_t list_mask; /* lists for LINES_IN / LINES_EXCEPT */
  bool has_when;
  struct plan_cond when;
};

struct plan_band {
  hmb_fen from, to; /* [from, to) on the axis; to = -1 open */
  hmb_bp ratio;
};

enum plan_resp_kind { RESP_INDEMNITY = 0, RESP_LUMP_SUM };

/* A yearly limit on the eligible amount of lines of one list. */
struct plan_item_limit {
  int list;             /* index into plan.lists */
  bool per_code;        /* per catalogue code, else for the list as a whole */
  hmb_fen max_amount;   /* eligible amount per year, -1 none */
  int64_t max_count_e4; /* units per year x 10^4, -1 none */
};

/* An amount that may come from an outside parameter per scheme. */
struct plan_amount {
  hmb_fen value; /* used when param < 0 */
  int param;     /* index into plan.params, or -1 */
};

struct plan_resp {
  char id[PLAN_ID_MAX];
  char *name; /* Chinese name as published */
  char *note; /* optional explanation / source text */
  enum plan_resp_kind kind;
  bool has_when;
  struct plan_cond when;
  struct plan_term terms[PLAN_MAX_TERMS];
  int nterms;
  int pool;       /* deductible pool (an own deductible is a pool of one) */
  int axis;       /* band axis (own axis unless shared) */
  bool bands_net; /* bands on the amount after the deductible */
  struct plan_band bands[PLAN_MAX_BANDS];
  int nbands;
  struct plan_amount cap; /* value -1: no cap of its own */
  int shared_cap;         /* index or -1 */
  int group;              /* exclusive group or -1 */
  int max_visits;         /* distinct mdtrt_id paid per year, -1 none */
  hmb_fen stay_limit;     /* eligible amount per mdtrt_id, -1 none */
  struct plan_item_limit item_limits[PLAN_MAX_ITEM_LIMITS];
  int nitem_limits;
  /* lump sums */
  hmb_fen lump_amount;
  int lump_max_times;
  uint32_t lump_lines_mask; /* trigger needs a line of these lists (0: none needed) */
};

enum plan_scope { SCOPE_PERSON = 0, SCOPE_FAMILY };

struct plan_pool {
  char id[PLAN_ID_MAX];
  struct plan_amount amount;
  enum plan_scope scope;
  int members[PLAN_MAX_RESP]; /* responsibilities in consumption order */
  int nmembers;
  bool implicit; /* made from a responsibility's own deductible */
};

struct plan_cap {
  char id[PLAN_ID_MAX];
  struct plan_amount amount;
  enum plan_scope scope;
  int members[PLAN_MAX_RESP]; /* consumption order */
  int nmembers;
};

struct plan_group {
  char id[PLAN_ID_MAX];
  int members[PLAN_MAX_RESP];
  int nmembers;
};

struct plan_axis {
  int members[PLAN_MAX_RESP]; /* stacking order of responsibilities */
  int nmembers;
};

/* Changes for people matching `when`. Applied in order; all that match apply. */
struct plan_variant {
  struct plan_pcond when;
  int resp;                 /* responsibility changed, or -1 */
  int pool;                 /* pool whose amount changes, or -1 */
  bool excluded;            /* no cover for resp */
  hmb_fen deductible;       /* pool: replaced amount, -1 keep */
  hmb_fen deductible_delta; /* pool: added (may be negative), 0 keep */
  hmb_bp ratio;             /* resp: every band's ratio replaced, -1 keep */
  hmb_bp ratio_delta;       /* resp: added to every band, clamped to 0..100% */
  hmb_fen cap;              /* resp: cap replaced, -1 keep */
  char *note;               /* what the variant is (既往症, 连续参保 ...) */
};

struct plan_exclusion {
  char id[PLAN_ID_MAX];
  char *name; /* Chinese wording as published */
  bool has_when;
  struct plan_cond when; /* settlement-level: the whole settlement */
  uint32_t lines_mask;   /* line-level: these lists' lines */
  uint32_t resp_mask;    /* responsibilities it applies to (all bits = all) */
};

struct plan_list {
  char id[PLAN_ID_MAX];
  char *name;
  char **codes; /* sorted exact codes */
  size_t ncodes;
  char **prefixes; /* codes ending in '*' in the source, '*' removed */
  size_t nprefixes;
};

struct plan_param {
  char id[PLAN_ID_MAX];
  char *name;
  hmb_fen value; /* default, -1 none */
  int32_t schemes[PLAN_MAX_CODES];
  hmb_fen by_scheme[PLAN_MAX_CODES];
  int nschemes;
};

struct plan_premium_band {
  int16_t age_min, age_max; /* inclusive; -1 open */
  hmb_fen amount;
  hmb_bp expected_share; /* expected share of enrollees, -1 unknown */
};

struct plan_premium_group {
  char id[PLAN_ID_MAX]; /* e.g. medical_assistance, free_minor */
  char *name;
  hmb_fen amount;
};

enum plan_tier { TIER_BASIC = 0, TIER_UPGRADED };

struct plan_enrollment {
  hmb_date window_start, window_end;
  bool city_insured;              /* everyone in the city's basic insurance */
  bool province_workers_students; /* Weihai: insured elsewhere in the province */
  bool veterans_any_time;
  bool newborn_both_parents;
  bool free_minor_both_parents;
  uint32_t account_relations; /* PLAN_REL_* who an employee's personal account may pay for */
  bool account_province;      /* relatives insured in the province (else city) */
};

#define PLAN_REL_SELF          (1u << 0)
#define PLAN_REL_SPOUSE        (1u << 1)
#define PLAN_REL_CHILD         (1u << 2)
#define PLAN_REL_PARENT        (1u << 3)
#define PLAN_REL_SPOUSE_PARENT (1u << 4)

struct plan {
  char id[PLAN_ID_MAX];
  char *name;
  char *city;
  char *source;          /* where the terms come from */
  char region_code[8];   /* 6-digit 医保区划 of the product's area */
  int region_prefix_len; /* digits that decide "in region" */
  int year;
  hmb_date cover_start, cover_end;
  int term_years;           /* consortium term, 0 unknown */
  hmb_bp loss_ratio_target; /* -1 unknown */
  enum plan_tier tier;
  bool draft; /* "status": "draft": figures not final, not for claims */

  struct plan_enrollment enrollment;
  int age_basis_end; /* 0: age at coverage start */
  struct plan_premium_band premium_bands[PLAN_MAX_PREMIUM_BANDS];
  int npremium_bands;
  struct plan_premium_group premium_groups[PLAN_MAX_PREMIUM_GROUPS];
  int npremium_groups;

  struct plan_list lists[PLAN_MAX_LISTS];
  int nlists;
  struct plan_param params[PLAN_MAX_PARAMS];
  int nparams;
  struct plan_resp resp[PLAN_MAX_RESP];
  int nresp;
  struct plan_pool pools[PLAN_MAX_POOLS];
  int npools;
  struct plan_cap caps[PLAN_MAX_CAPS];
  int ncaps;
  struct plan_group groups[PLAN_MAX_GROUPS];
  int ngroups;
  struct plan_axis axes[PLAN_MAX_RESP];
  int naxes;
  struct plan_variant variants[PLAN_MAX_VARIANTS];
  int nvariants;
  struct plan_exclusion exclusions[PLAN_MAX_EXCLUSIONS];
  int nexclusions;

  /* derived by plan_finish() */
  uint32_t excl_lines_mask; /* union of line-level exclusions */
  uint32_t used_lists_mask; /* lists any rule looks at */
  bool has_family_scope;
  bool has_path_rules; /* visits, stay or item limits, lump sums */
};

void plan_init(struct plan *p);
void plan_release(struct plan *p);

/* true for a usable id: lower-case letters, digits, '_' and '-', not empty. */
bool plan_valid_id(const char *id);

/* Index of the responsibility / list / param with this id, or -1. */
int plan_find_resp(const struct plan *p, const char *id);
int plan_find_list(const struct plan *p, const char *id);
int plan_find_param(const struct plan *p, const char *id);

/*
 * Derive the indexes the engine uses (axes, masks) and check every
 * cross-reference and rule of docs/plan-format.md: ids unique, every
 * responsibility in exactly one pool, band edges increasing, ratios and
 * weights within 0..100%, premiums covering every age exactly once, no part
 * of any cost counted above 100% across responsibilities that can pay
 * together, and so on. Reports the first problem in err and every problem
 * through `report` when it is not NULL (called once per problem with the
 * error filled). Returns HMB_OK when the plan is usable.
 */
typedef void (*plan_report_fn)(void *ctx, const struct hmb_err *problem);
enum hmb_status plan_finish(struct plan *p, plan_report_fn report, void *ctx, struct hmb_err *err);

/*
 * Mark each line with the bit of every list containing its code
 * (lines[i].list_mask). Lists are matched by exact code or by prefix.
 */
void plan_mark_lines(const struct plan *p, struct setl_line *lines, size_t nlines);
bool plan_list_has(const struct plan_list *l, const char *code);

/* Does settlement s satisfy cond under plan p? */
bool plan_cond_match(const struct plan *p, const struct plan_cond *c, const struct settlement *s);

/* The value of an amount for a person of the given scheme; HMB_NOT_FOUND
 * when a parameter has no value for that scheme. */
enum hmb_status plan_amount_value(const struct plan *p, const struct plan_amount *a,
                                  int32_t insutype, hmb_fen *out, struct hmb_err *err);

/* Is item one of the ';'-separated entries of list (settlement flags,
 * a person's groups)? false for a NULL list or an empty item. */
bool plan_flag_present(const char *list, const char *item);

/* Premium for a person of `age` in premium group `group` (NULL = none; a
 * ';'-separated list: the first of the plan's groups found in it). */
enum hmb_status plan_premium(const struct plan *p, int age, const char *group, hmb_fen *out,
                             struct hmb_err *err);

#endif /* HMB_PLAN_H */

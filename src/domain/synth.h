/*
 * synth.h - a deterministic synthetic city for actuarial work (hmb gen):
 * the bureau's roster of every insured person, the people enrolled in the
 * city's 惠民保 product, and a year of their settlements with fee detail
 * lines. Pure logic: no I/O (io/synth_csv.h formats the records, the
 * command cli/cmd_gen.c writes the files).
 *
 * What the distributions are and where their figures come from is in
 * docs/gen.md; the tables are at the top of synth.c.
 *
 * Determinism
 * -----------
 * Everything derives from cfg->seed through rng.h (integer arithmetic only),
 * with its own stream per unit of work: a block of SYNTH_BLOCK people (ages
 * and households), a person (scheme, health, name, enrollment), an enrolled
 * member's year (its events) and an event (its amounts). The same
 * configuration gives the same records on every machine.
 *
 * Flow
 * ----
 *   synth_config_init()                   parameters, derived tables
 *   synth_roster_init() / _next()         the roster, person by person,
 *                                         households contiguous
 *   synth_member_of()                     an enrolled person's compact record
 *   synth_expect_add(), set *_scale_milli optional: aim at a row count
 *   synth_plan()                          a member's events of the year
 *   (the caller sorts all events by key: that is the file's time order)
 *   synth_settlement()                    one event's settlement and lines
 *
 * Money is int64 fen; every settlement satisfies the rules of
 * settlement_validate() (settlement.h) and those listed at synth_settlement().
 */
#ifndef HMB_SYNTH_H
#define HMB_SYNTH_H

#include "date.h"
#include "idno.h"
#include "money.h"
#include "rng.h"

#define SYNTH_PEOPLE_MAX 100000000u /* roster size limit */
#define SYNTH_BLOCK      4096u      /* people per block of households */
#define SYNTH_SEQ_MAX    4096u      /* events of one member in a year */
#define SYNTH_MAX_LINES  8u         /* detail lines of one settlement */
#define SYNTH_NAME_MAX   16u        /* bytes of a name with its NUL (UTF-8) */
#define SYNTH_CODE_MAX   40u        /* bytes of a catalogue code with its NUL */
#define SYNTH_REGIONS    8u         /* county codes used in ID numbers */

/* Households' members and the roster's relation column. */
enum synth_relation {
  SYNTH_REL_NONE = 0, /* alone: no family_id */
  SYNTH_REL_HEAD,
  SYNTH_REL_SPOUSE,
  SYNTH_REL_CHILD,
  SYNTH_REL_PARENT,
  SYNTH_REL_SPOUSE_PARENT,
  SYNTH_REL_OTHER
};

/* Basic medical insurance scheme: insutype 390, or 310 in service / retired. */
enum synth_scheme { SYNTH_RESIDENT = 0, SYNTH_EMPLOYEE, SYNTH_RETIRED };

/*
 * Health state for the year (the model's latent risk): well; chronic (a
 * 门诊慢特病 condition such as hypertension or diabetes); serious (heart
 * failure, COPD, stroke sequelae, chronic kidney disease); grave (cancer in
 * treatment, end-stage renal disease and the like).
 */
enum synth_health { SYNTH_WELL = 0, SYNTH_CHRONIC, SYNTH_SERIOUS, SYNTH_GRAVE };

/* Roster status (the roster's status column). */
enum synth_status { SYNTH_ACTIVE = 1, SYNTH_SUSPENDED = 2, SYNTH_ENDED = 3 };

/* A listed-drug regime of a member (grave health only). */
enum synth_drug_regime {
  SYNTH_DRUG_NONE = 0,
  SYNTH_DRUG_SPECIAL,  /* a drug of the special high-cost list (out of the catalogue) */
  SYNTH_DRUG_EFFICACY, /* a special-efficacy drug (in the catalogue, Class B) */
  SYNTH_DRUG_BOTH,
  SYNTH_DRUG_CART /* one CAR-T infusion stay */
};

struct synth_config {
  uint64_t seed;
  uint32_t people;    /* roster size */
  uint32_t enroll_bp; /* enrolled share of the roster, basis points */
  int year;
  char admdvs[7];                 /* the city: roster admdvs, prefix of ids */
  char regions[SYNTH_REGIONS][7]; /* county codes for ID numbers */
  hmb_date year_start;            /* 1 January of `year`: ages are counted on it */
  int days;                       /* days in the year */
  uint32_t minor_scale_milli;     /* x outpatient, chronic and pharmacy rates */
  uint32_t major_scale_milli;     /* x stays, births and drug purchases */
  uint64_t enroll_coef;           /* solved at init: enrollment = min(1, coef x weight) */
};

/*
 * Set up *c. people 1..SYNTH_PEOPLE_MAX, enroll_bp 1..10000, year
 * 2000..2100, admdvs 6 digits whose first two are a province-level code.
 * HMB_INVALID with err naming the parameter otherwise. The scales start at
 * 1000 (the calibrated rates).
 */
enum hmb_status synth_config_init(struct synth_config *c, uint64_t seed, uint32_t people,
                                  uint32_t enroll_bp, int year, const char *admdvs,
                                  struct hmb_err *err);

/* One person of the roster. */
struct synth_person {
  uint32_t index;     /* position in the roster, 0-based */
  uint32_t household; /* household number (family_id when household_size >= 2) */
  uint8_t household_size;
  uint8_t relation; /* enum synth_relation */
  uint8_t age;      /* completed years on cfg->year_start */
  uint8_t gend;     /* 1 male, 2 female */
  hmb_date birth;
  uint8_t scheme; /* enum synth_scheme */
  uint8_t status; /* enum synth_status */
  hmb_date status_date;
  uint8_t health;   /* enum synth_health */
  bool assistance;  /* medical-assistance recipient (group medical_assistance) */
  bool preexisting; /* 既往症 as the product's list defines it */
  bool enrolled;
  uint8_t loyalty_years, claim_free_years; /* enrolled only */
  int16_t veteran_year;                    /* 0: none */
  uint32_t employer;                       /* 0: none; employer number otherwise */
  char certno[IDNO_LEN + 1];
  char name[SYNTH_NAME_MAX];
};

static inline int synth_insutype(const struct synth_person *p)
{
  return p->scheme == SYNTH_RESIDENT ? 390 : 310;
}

/*
 * The roster generator. synth_roster_init() allocates the ID-number
 * sequence table (about 2 MB); synth_roster_release() frees it. `cfg` is
 * borrowed and must outlive the generator.
 */
struct synth_roster {
  const struct synth_config *cfg;
  uint32_t next_index; /* people made so far */
  uint32_t next_household;
  uint32_t block;
  struct synth_person people[SYNTH_BLOCK];
  size_t n, pos;
  uint16_t *idseq; /* used sequence numbers per region, birth day and sex */
  hmb_date idseq_day0;
  size_t idseq_days;
};

enum hmb_status synth_roster_init(struct synth_roster *r, const struct synth_config *cfg,
                                  struct hmb_err *err);

/*
 * The next person, or NULL after the last. The pointer is valid until the
 * next call. Every certno is valid (GB 11643), agrees with birth and gend,
 * and is distinct from every other of the roster.
 */
const struct synth_person *synth_roster_next(struct synth_roster *r);

void synth_roster_release(struct synth_roster *r);

/* An enrolled person as the year's events need it (16 bytes). */
struct synth_member {
  uint32_t person;
  uint8_t age, gend, health, scheme;
  uint8_t assistance;
  uint8_t drug;          /* enum synth_drug_regime */
  uint8_t drug_special;  /* index into the special list (regimes SPECIAL, BOTH) */
  uint8_t drug_efficacy; /* index into the efficacy list (EFFICACY, BOTH) */
  uint32_t severity;     /* x the cost of each stay, thousandths (mean 1000) */
};

/* The member record of person p (enrolled or not: the expectations of the
 * whole roster use it too). Deterministic in (cfg->seed, p->index). */
void synth_member_of(const struct synth_config *c, const struct synth_person *p,
                     struct synth_member *m);

/*
 * Expected events of a year, in thousandths, at scales 1000: minor
 * (outpatient, chronic outpatient, pharmacy) and major (stay settlements,
 * births, listed-drug purchases), and expected admissions (stays).
 */
struct synth_expect {
  uint64_t minor_milli, major_milli, stays_milli;
};
void synth_expect_add(const struct synth_config *c, const struct synth_member *m,
                      struct synth_expect *e);

/* Event kinds. */
enum synth_kind {
  SYNTH_EV_OUT = 0,       /* ordinary outpatient (med_type 11) */
  SYNTH_EV_CHRONIC,       /* chronic or special outpatient (14) */
  SYNTH_EV_PHARMACY,      /* pharmacy (41) */
  SYNTH_EV_STAY,          /* a stay settled once (21, a few 22-24) */
  SYNTH_EV_STAY_INTERIM,  /* first settlement of a stay settled twice (21) */
  SYNTH_EV_STAY_FINAL,    /* its final settlement, same mdtrt_id */
  SYNTH_EV_MATERNITY,     /* maternity stay (52) */
  SYNTH_EV_DRUG_SPECIAL,  /* purchase of a special high-cost drug */
  SYNTH_EV_DRUG_EFFICACY, /* purchase of a special-efficacy drug */
  SYNTH_EV_CART,          /* CAR-T infusion stay (21) */
  SYNTH_EV__COUNT
};

/*
 * One settlement to make. key orders the year: the settlement time in
 * seconds since 1 January (25 bits), then the member index (27 bits), then
 * the member's sequence number (12 bits). Sorting events by key gives the
 * file's order; setl_id derives from (member, seq), mdtrt_id from
 * (member, episode): episodes below SYNTH_SEQ_MAX come from synth_plan(),
 * SYNTH_SEQ_MAX + seq from synth_extra_event().
 */
struct synth_event {
  uint64_t key;
  uint16_t episode;
  uint8_t kind; /* enum synth_kind */
  uint8_t arg;  /* drug index, or a stay's med_type */
  uint8_t flags;
  uint8_t spare[3];
};

#define SYNTH_KEY(t, member, seq)                                                                  \
  (((uint64_t)(t) << 39) | ((uint64_t)(member) << 12) | (uint64_t)(seq))
#define SYNTH_KEY_TIME(k)   ((uint32_t)((k) >> 39))
#define SYNTH_KEY_MEMBER(k) ((uint32_t)(((k) >> 12) & ((UINT32_C(1) << 27) - 1)))
#define SYNTH_KEY_SEQ(k)    ((uint32_t)((k)&4095u))
#define SYNTH_MEMBERS_MAX   (UINT32_C(1) << 27)

/* Event flags. */
#define SYNTH_EF_PLAIN_LINES 0x01 /* give the row detail lines in no list */

/*
 * The events of member number `idx` (0-based among the enrolled) for the
 * year, at the configured scales, sorted by key with seq 0, 1, ...;
 * writes at most SYNTH_SEQ_MAX into out and returns how many.
 */
size_t synth_plan(const struct synth_config *c, uint32_t idx, const struct synth_member *m,
                  struct synth_event *out);

/*
 * One extra ordinary visit (outpatient or pharmacy) of member idx with
 * sequence number seq at a time drawn from `salt`: used to bring a year to
 * an exact row count.
 */
void synth_extra_event(const struct synth_config *c, uint32_t idx, const struct synth_member *m,
                       uint32_t seq, uint64_t salt, struct synth_event *out);

/* A fee detail line. */
struct synth_line {
  char code[SYNTH_CODE_MAX]; /* med_list_codg */
  uint8_t code_len;
  char lv[3]; /* chrgitm_lv: "01" 甲, "02" 乙, "03" 丙 */
  hmb_fen ful, ovl, pre, inscp;
  uint32_t cnt;
};

/* A settlement as hmb reads it (setlinfo), with its lines. */
struct synth_setl {
  uint32_t member, person;
  uint16_t seq, episode;
  uint32_t time; /* seconds since 1 January 00:00:00 */
  int med_type, insutype, psn_type;
  hmb_fen medfee, ful, ovl, pre, inscp;
  hmb_fen dedc, hifp, hifmi, hifob, maf, fund, psn_part, acct, cash;
  size_t nlines;
  struct synth_line lines[SYNTH_MAX_LINES];
};

/*
 * What a member's settlements of the year have used of basic insurance's
 * yearly deductible, caps and thresholds. Zero it before the year.
 */
struct synth_acc {
  hmb_fen rest;   /* in-scope amount of stays left after the pooled fund */
  hmb_fen hifp;   /* pooled fund paid for stays */
  uint32_t stays; /* stays opened */
};

/*
 * The settlement of event e of member m, given the member's year so far
 * *acc (updated; NULL: as if it were the year's first stay). Settlements
 * must be made in time order for acc to mean the year so far; the amounts
 * of a settlement depend on its event and on *acc only. Every amount is
 * >= 0 and
 *   medfee = ful + ovl + pre + inscp
 *   fund   = hifp + hifmi + hifob + maf
 *   psn_part = medfee - fund = acct + cash
 *   dedc <= inscp
 * and the lines never add up to more than the settlement's parts (each of
 * the four separately). fund exceeds inscp only when medical assistance
 * also covers costs outside the policy scope.
 */
void synth_settlement(const struct synth_config *c, const struct synth_member *m,
                      const struct synth_event *e, struct synth_acc *acc, struct synth_setl *s);

/*
 * The pieces synth_settlement() makes a settlement of, for generators of
 * other mixes too (bench/gen_settlements.c). Each draws from g in a fixed
 * order, so the same generator state gives the same settlement.
 */

/* A stay: med_type 21-24, or maternity (52). */
static inline bool synth_inpatient(int med_type)
{
  return med_type == 21 || med_type == 22 || med_type == 23 || med_type == 24 || med_type == 52;
}

/*
 * Set s->medfee and split it into the four parts: ful and pre uniform in
 * the permille ranges given, ovl (1 to ovl_hi permille) with probability
 * ovl_ppm / 10^6, inscp the rest.
 */
void synth_split_parts(struct rng *g, struct synth_setl *s, hmb_fen medfee, int ful_lo, int ful_hi,
                       uint32_t ovl_ppm, int ovl_hi, int pre_lo, int pre_hi);

/*
 * A catalogue code of `prefix` into l->code and l->code_len: "#" a medical
 * service item (15 digits), "C" a consumable ("C" and 19 digits), otherwise
 * a drug (the ATC prefix completed to 8 characters, a dosage form letter and
 * 12 digits).
 */
void synth_make_code(struct rng *g, struct synth_line *l, const char *prefix);

/* A drug of a list. */
struct synth_drug {
  const char *prefix;        /* of its catalogue codes */
  int64_t cost_lo, cost_hi;  /* yuan per purchase, uniform */
  uint32_t weight;           /* per thousand within its list */
  uint32_t in_catalogue_ppm; /* a special drug: chance of a bill inside the catalogue */
};

/*
 * A detail line of drug d on top of the parts of s (which it adds to;
 * nothing when s has SYNTH_MAX_LINES lines). A special-efficacy drug
 * (efficacy) is in the catalogue (Class B): first self-pay, sometimes above
 * the price limit. A special drug is billed inside the catalogue with
 * probability d->in_catalogue_ppm / 10^6 (no draw when 0) and is fully
 * self-paid otherwise.
 */
void synth_add_drug_line(struct rng *g, struct synth_setl *s, const struct synth_drug *d,
                         bool efficacy);

/*
 * k detail lines (fewer when s reaches SYNTH_MAX_LINES) with codes of
 * prefixes drawn from codes[0..ncodes), each taking 0-70% of what rem[]
 * (ful, ovl, pre, inscp; updated) has left; the parts of s stay as they are.
 */
void synth_add_plain_lines(struct rng *g, struct synth_setl *s, int64_t rem[4], int k,
                           const char *const *codes, size_t ncodes);

/*
 * The pooled fund (hifp) and, for residents' chronic care, 大病保险 (hifmi)
 * of an ordinary outpatient (11), chronic outpatient (14) or pharmacy (41)
 * settlement from its parts; nothing for another med_type. dual_channel: a
 * pharmacy purchase the fund pays (双通道).
 */
void synth_pay_minor(struct rng *g, struct synth_setl *s, bool employee, bool dual_channel);

/*
 * Medical assistance (maf) when `assisted`: of a stay 70% and of chronic
 * care 50% of what the other funds left of the in-scope amount, or at times
 * all of it and part of what lies outside the scope. Then fund and
 * psn_part from the funds.
 */
void synth_pay_assistance(struct rng *g, struct synth_setl *s, bool assisted);

/* Identifiers, NUL-terminated; each returns its length. */
#define SYNTH_ID_MAX 24
size_t synth_psn_no(const struct synth_config *c, uint32_t person, char *out);
size_t synth_setl_id(const struct synth_config *c, uint32_t member, uint32_t seq, char *out);
size_t synth_mdtrt_id(const struct synth_config *c, uint32_t member, uint32_t episode, char *out);
size_t synth_family_id(const struct synth_config *c, uint32_t household, char *out);
/* The USCC of employer number n (>= 1), valid by GB 32100; out holds 19 bytes. */
void synth_uscc(const struct synth_config *c, uint32_t n, char *out);

/*
 * Prefixes of the catalogue codes the generator bills, by list: the special
 * high-cost drugs and the special-efficacy drugs of plans/liaocheng-2024.json,
 * and codes in neither (some in other cities' lists, some near misses).
 * For tests; NULL-terminated arrays.
 */
extern const char *const synth_special_prefixes[];
extern const char *const synth_efficacy_prefixes[];
extern const char *const synth_plain_prefixes[];

/* Counters for the summary and the tests (all plain counts and sums). */
struct synth_stats {
  uint64_t people, age_band[3], age_sum, employees, retired, assistance, active, suspended, ended;
  uint64_t in_family, veterans;
  uint64_t health[4];
  struct synth_expect expect_all; /* the model's expectations over the whole roster */
  uint64_t enrolled, enr_age_band[3], enr_age_sum, enr_employees, enr_assistance, enr_preexisting,
      enr_health[4], enr_loyal;
  uint64_t setl, med_type[6]; /* 11, 14, 41, 21-24, 52, other */
  uint64_t stays, rows_over_100k, rows_over_1m, rows_with_lines, lines, listed_lines;
  uint64_t excess_rows;      /* fund > inscp */
  hmb_fen stay_cost[2];      /* stays' medfee by resident / employee (no drug purchases) */
  uint64_t stay_rows[2];     /* stays' settlements by resident / employee */
  uint64_t stays_by[2];      /* stays by resident / employee */
  hmb_fen stay_catalogue[2]; /* inscp + pre */
  hmb_fen stay_fund[2];
  hmb_fen medfee_total;
};

void synth_stats_person(struct synth_stats *st, const struct synth_config *c,
                        const struct synth_person *p);
void synth_stats_setl(struct synth_stats *st, const struct synth_setl *s,
                      const struct synth_event *e);

#endif /* HMB_SYNTH_H */

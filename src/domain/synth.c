#include "compat.h"
#include "synth.h"

/*
 * The synthetic city of hmb gen. docs/gen.md gives the sources of the
 * figures below and says which are assumptions. Rates are per person and
 * year in thousandths ("milli"), probabilities in parts per million
 * ("ppm"), money in fen.
 */

#define AGE_MAX 104

/* Stream salts: one stream per kind of unit and its number. */
#define SALT_BLOCK   UINT64_C(0x424c4f434b000001)
#define SALT_PERSON  UINT64_C(0x504552534f4e0002)
#define SALT_MEMBER  UINT64_C(0x4d454d4245520003)
#define SALT_PLAN    UINT64_C(0x504c414e00000004)
#define SALT_EVENT   UINT64_C(0x4556454e54000005)
#define SALT_EPISODE UINT64_C(0x4550495344450006)
#define SALT_EXTRA   UINT64_C(0x4558545241000007)

/* ---- population tables ------------------------------------------------- */

/*
 * Age: the 2020 census (7th), whole country, by 5-year group 0-4 .. 95-99,
 * 100+ (ten thousands of people; 0-14 17.95%, 15-59 63.35%, 60+ 18.70%).
 * Ages within a group are uniform; 100+ is spread over 100-104.
 */
static const uint32_t age_groups[21] = {7788, 9024, 8526,  7268,  7494,  9185, 12415,
                                        9901, 9330, 11422, 12116, 10140, 7338, 7401,
                                        4776, 3104, 2039,  1154,  435,   96,   12};

/* Households by size 1..8 (2020 census, shares of households x 10^4; mean 2.62). */
static const uint32_t household_sizes[8] = {2539, 2968, 2099, 1317, 619, 300, 108, 50};

/* Male share by age (ppm): sex ratio 105 overall, women outlive men. */
static uint32_t male_ppm(int age)
{
  return age < 60 ? 515000 : age < 80 ? 495000 : 430000;
}

/* Age bands of the rate tables: 0-4, 5-14, 15-29, 30-44, 45-59, 60-69, 70-79, 80+. */
static int band8(int age)
{
  return age < 5    ? 0
         : age < 15 ? 1
         : age < 30 ? 2
         : age < 45 ? 3
         : age < 60 ? 4
         : age < 70 ? 5
         : age < 80 ? 6
                    : 7;
}

/*
 * Scheme by age and sex (ppm): employees in service, retired employees;
 * the rest are residents. About 25% employees, 29% of them retired
 * (national 2023: 27.8% and 27%; 聊城 is assumed a little below the
 * national share).
 */
static void scheme_ppm(int age, int gend, uint32_t *employee, uint32_t *retired)
{
  *employee = *retired = 0;
  if (age < 18)
    return;
  if (age < 23)
    *employee = 60000;
  else if (age < 30)
    *employee = 300000;
  else if (age < 50)
    *employee = 380000;
  else if (age < 60 && gend == 1)
    *employee = 300000;
  else if (age < 60) {
    *employee = 120000; /* women retire at 50 or 55 */
    *retired = 200000;
  } else
    *retired = 300000;
}

/* Health state prevalence by band (ppm): grave, serious, chronic. */
static const uint32_t grave_ppm[8] = {400, 500, 1500, 4500, 14000, 32000, 40000, 42000};
static const uint32_t serious_ppm[8] = {1500, 1500, 4000, 9000, 32000, 80000, 120000, 160000};
static const uint32_t chronic_ppm[8] = {2000, 3000, 10000, 30000, 100000, 220000, 280000, 300000};

static void health_ppm(int age, uint32_t p[4])
{
  int b = band8(age);
  p[SYNTH_GRAVE] = grave_ppm[b];
  p[SYNTH_SERIOUS] = serious_ppm[b];
  p[SYNTH_CHRONIC] = chronic_ppm[b];
  p[SYNTH_WELL] = 1000000 - p[1] - p[2] - p[3];
}

/* Medical-assistance recipients (residents only), ppm. */
static uint32_t assistance_ppm(int age, int scheme, int health)
{
  uint32_t p;
  if (scheme != SYNTH_RESIDENT)
    return 0;
  p = age < 60 ? 25000 : 45000;
  return health >= SYNTH_SERIOUS ? 2 * p : p;
}

#define ACTIVE_PPM    985000
#define SUSPENDED_PPM 10000 /* the rest are ended */

/*
 * Enrollment weight (adverse selection), in 10^-12 units as the product of
 * four factors in thousandths: age, health, scheme (employees may pay from
 * their personal account) and medical assistance (premiums often paid by
 * charity or government funds).
 */
static uint64_t enroll_weight(int age, int health, int scheme, bool assistance)
{
  static const uint64_t by_health[4] = {1000, 1400, 2200, 3200};
  uint64_t a = age < 40 ? 550 : age < 60 ? 1000 : age < 75 ? 1450 : 1250;
  uint64_t s = scheme == SYNTH_RESIDENT ? 1000 : 1150;
  uint64_t m = assistance ? 1800 : 1000;
  return a * by_health[health] * s * m;
}

#define WEIGHT_UNIT UINT64_C(1000000000000) /* enroll_weight() of 1 x 1 x 1 x 1 */

/* ---- utilisation and cost tables -------------------------------------- */

/* Ordinary outpatient settlements per year, well people (milli). */
static const uint32_t out_rate[8] = {4000, 2000, 1500, 1800, 2400, 3400, 4000, 4200};
static const uint32_t out_health[4] = {1000, 1300, 1600, 1800};
#define OUT_EMPLOYEE 1400 /* employees' outpatient pooling: x 1.4 */
/* Chronic or special outpatient settlements per year, by health. */
static const uint32_t chronic_rate[4] = {0, 6000, 10000, 12000};
/* Pharmacy settlements per year, by scheme; x by health. */
static const uint32_t pharmacy_rate[3] = {600, 4000, 8000};
static const uint32_t pharmacy_health[4] = {1000, 1500, 1600, 1600};
/* Admissions per year of well people; chronic x 1.4 + 40; serious x 1.4 + 1800; grave x 1.4 +
 * 5000 (cancer treatment cycles, complications). */
static const uint32_t stay_rate[8] = {140, 60, 55, 75, 120, 200, 290, 390};

static uint32_t stay_rate_of(int age, int health)
{
  uint32_t r = stay_rate[band8(age)];
  switch (health) {
  case SYNTH_CHRONIC: return r * 7 / 5 + 40;
  case SYNTH_SERIOUS: return r * 7 / 5 + 1800;
  case SYNTH_GRAVE: return r * 7 / 5 + 5000;
  default: return r;
  }
}

/* Births per woman and year (milli): about 9 million births in 2023. */
static uint32_t birth_rate(int age, int gend)
{
  if (gend != 2 || age < 20 || age > 39)
    return 0;
  return age >= 22 && age <= 34 ? 70 : 25;
}

/* Median cost of a stay (yuan) by band, x by health (thousandths). */
static const int64_t stay_median[8] = {1900, 2100, 2300, 2500, 2800, 3000, 3200, 3400};
static const int64_t stay_health[4] = {1000, 1150, 4000, 4500};
/* Lognormal sigma of a stay's cost by health (thousandths). */
static const uint32_t stay_sigma[4] = {850, 800, 700, 600};
#define STAY_EMPLOYEE 1500 /* higher-level hospitals, longer stays */
/* Hospital level (1..3) of a stay by health, per thousand. */
static const uint32_t level_w[4][3] = {
    {250, 450, 300}, {200, 450, 350}, {100, 400, 500}, {30, 250, 720}};
/* A person's severity for the year: lognormal with sigma 0.35, median
 * exp(-0.35^2 / 2) so that the mean is 1 (thousandths). */
#define SEVERITY_SIGMA  350
#define SEVERITY_MEDIAN 941
/* A stay's chance of the Pareto tail (ICU, major surgery, implants), ppm. */
static const uint32_t severe_ppm[4] = {2000, 3000, 5000, 8000};
#define SEVERE_XMIN  5000000 /* fen: 50,000 yuan */
#define SEVERE_ALPHA 2000
#define COST_MAX     300000000 /* fen: 3 million yuan */

/* ---- catalogue codes --------------------------------------------------- */

/*
 * The lists of plans/liaocheng-2024.json (the files in plans/lists: every entry is
 * a prefix). Costs are yuan per purchase; weights per thousand within the
 * list. tests/unit/test_synth.c checks the prefixes against the files. A
 * special drug's purchase is billed inside the catalogue 15% of the time,
 * a CAR-T infusion never.
 */
static const struct synth_drug special_drugs[] = {
    {"XL01XL03", 1000000, 1300000, 0, 0},   /* CAR-T (regime CART only) */
    {"XL01XL06", 990000, 1290000, 0, 0},    /* CAR-T */
    {"XL01FF02", 3000, 25000, 280, 150000}, /* PD-1 */
    {"XL01FF01", 3000, 25000, 250, 150000}, /* PD-1 */
    {"XL01EX", 2000, 30000, 330, 150000},   /* kinase inhibitors */
    {"XL04AC", 1500, 12000, 140, 150000},   /* interleukin inhibitors */
};

static const struct synth_drug efficacy_drugs[] = {
    {"XL01FD", 2000, 40000, 250, 0}, /* HER2 */
    {"XL01FG", 1500, 20000, 200, 0}, /* VEGF */
    {"XL01EB", 1000, 15000, 250, 0}, /* EGFR TKI */
    {"XL01EA", 800, 12000, 150, 0},  /* BCR-ABL TKI */
    {"XL01FA", 2000, 30000, 150, 0}, /* CD20 */
};

const char *const synth_special_prefixes[] = {"XL01XL03", "XL01XL06", "XL01FF02", "XL01FF01",
                                              "XL01EX",   "XL04AC",   NULL};
const char *const synth_efficacy_prefixes[] = {"XL01FD", "XL01FG", "XL01EB",
                                               "XL01EA", "XL01FA", NULL};
/*
 * In neither list: common drugs, near misses of listed prefixes (same ATC
 * class, another substance or a shorter prefix), codes of other cities'
 * lists (威海: tonics XA13, enzyme replacement XA16AB, XM09AX, TNF XL04AB;
 * 上海: XL01XC, XL01XE). "#" is a service item, "C" a consumable.
 */
const char *const synth_plain_prefixes[] = {
    "XA10BA02", "XJ01DD04", "XC10AA05", "XB01AB05", "XN02BE01", "XL01FF03", "XL01XX", "XL01XL01",
    "XL04AB02", "XL01EC",   "XL01FX",   "XR05CB01", "XA13AA",   "XA16AB",   "XM09AX", "XL01XC",
    "XL01XE",   "#",        "#",        "#",        "C",        "C",        NULL};

#define N_PLAIN (ARRAY_SIZE(synth_plain_prefixes) - 1)

/* ---- names ------------------------------------------------------------- */

/* Common surnames, weighted roughly by national frequency (‰). */
static const struct {
  const char *s;
  uint32_t w;
} surnames[] = {
    {"王", 71}, {"李", 70}, {"张", 67}, {"刘", 51}, {"陈", 46}, {"杨", 32}, {"黄", 24}, {"赵", 22},
    {"吴", 20}, {"周", 19}, {"徐", 17}, {"孙", 15}, {"马", 15}, {"朱", 14}, {"胡", 13}, {"郭", 13},
    {"何", 12}, {"林", 11}, {"高", 11}, {"罗", 10}, {"郑", 9},  {"梁", 9},  {"谢", 8},  {"宋", 8},
    {"唐", 8},  {"许", 7},  {"韩", 7},  {"冯", 7},  {"邓", 7},  {"曹", 7},  {"彭", 6},  {"曾", 6},
    {"肖", 6},  {"田", 6},  {"董", 6},  {"袁", 5},  {"潘", 5},  {"于", 5},  {"蒋", 5},  {"蔡", 5},
    {"余", 5},  {"杜", 5},  {"叶", 4},  {"程", 4},  {"苏", 4},  {"魏", 4},  {"吕", 4},  {"丁", 4},
    {"任", 4},  {"沈", 4},  {"姚", 4},  {"卢", 4},  {"姜", 4},  {"崔", 4},  {"钟", 3},  {"谭", 3},
    {"陆", 3},  {"汪", 3},  {"范", 3},  {"金", 3},  {"石", 3},  {"廖", 3},  {"贾", 3},  {"夏", 3},
    {"付", 3},  {"方", 3},  {"白", 3},  {"邹", 3},  {"孟", 3},  {"秦", 3},  {"邱", 3},  {"尹", 3},
    {"薛", 3},  {"闫", 3},  {"段", 3},  {"雷", 3},  {"侯", 3},  {"史", 3},  {"陶", 2},  {"贺", 2},
    {"顾", 2},  {"毛", 2},  {"郝", 2},  {"邵", 2},  {"万", 2},  {"钱", 2},  {"严", 2},  {"武", 2},
    {"戴", 2},  {"孔", 2},
};

static uint32_t pick_surname(struct rng *g)
{
  uint64_t tot = 0, u;
  uint32_t i;
  for (i = 0; i < ARRAY_SIZE(surnames); i++)
    tot += surnames[i].w;
  u = rng_below(g, tot);
  for (i = 0; i + 1 < ARRAY_SIZE(surnames); i++) {
    if (u < surnames[i].w)
      return i;
    u -= surnames[i].w;
  }
  return i;
}

static const char *const given_m[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
    "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "阳", "志", "建", "国",
    "文", "海", "峰", "亮", "成", "东", "博", "晨", "子", "轩", "然", "睿", "泽", "一", "诚", "庆"};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "燕", "玲", "桂", "兰", "萍", "红",
    "梅", "琳", "雪", "慧", "颖", "倩", "婷", "欣", "怡", "佳", "悦", "雨", "涵", "璐", "晶", "蕾",
    "薇", "月", "彤", "琪", "瑶", "思", "梓", "诗", "可", "馨", "欢", "云", "玉", "凤", "洁", "华"};

/* 聊城's eight county-level divisions and rough weights (ten thousands of people). */
static const char *const liaocheng_counties[SYNTH_REGIONS] = {
    "371502", "371503", "371521", "371522", "371524", "371525", "371526", "371581"};
static const uint32_t county_w[SYNTH_REGIONS] = {130, 52, 75, 96, 37, 78, 47, 76};

/* ---- small helpers ------------------------------------------------------ */

static inline int64_t min64(int64_t a, int64_t b)
{
  return a < b ? a : b;
}
static inline int64_t max64(int64_t a, int64_t b)
{
  return a > b ? a : b;
}

/* amount x permille / 1000, truncated. */
static inline int64_t pm(int64_t amount, int64_t permille)
{
  return amount * permille / 1000;
}

static char *put_digits(char *p, uint64_t v, int width)
{
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

/* A bijection of [0, mod) (mult odd and prime to 5, mod a power of ten). */
static uint64_t scramble(uint64_t v, uint64_t mult, uint64_t add, uint64_t mod)
{
  return (uint64_t)(((rng_u128)v * mult + add) % mod);
}

static bool digits_only(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static bool province_ok(int p)
{
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65);
}

static int days_in_year(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 366 : 365;
}

/* ---- configuration and the enrollment coefficient ---------------------- */

static uint32_t age_ppm(int age)
{
  uint64_t total = 0;
  for (size_t g = 0; g < ARRAY_SIZE(age_groups); g++)
    total += age_groups[g];
  return (uint32_t)((uint64_t)age_groups[age / 5] * 1000000 / 5 / total);
}

/*
 * Expected enrollment (in 10^-24 of the roster) at coefficient coef: the
 * sum over ages, sexes, schemes, health states and assistance of the
 * cell's probability times min(1, coef x weight / WEIGHT_UNIT / 10^6).
 */
static rng_u128 expected_enrolled(uint64_t coef)
{
  rng_u128 total = 0;
  for (int age = 0; age <= AGE_MAX; age++) {
    uint64_t pa = age_ppm(age);
    uint32_t hp[4];
    health_ppm(age, hp);
    for (int gend = 1; gend <= 2; gend++) {
      uint64_t ps = gend == 1 ? male_ppm(age) : 1000000 - male_ppm(age);
      uint32_t pe, pr;
      scheme_ppm(age, gend, &pe, &pr);
      for (int scheme = 0; scheme < 3; scheme++) {
        uint64_t pc = scheme == SYNTH_EMPLOYEE  ? pe
                      : scheme == SYNTH_RETIRED ? pr
                                                : 1000000 - pe - pr;
        for (int h = 0; h < 4; h++) {
          uint64_t pas = assistance_ppm(age, scheme, h);
          for (int a = 0; a < 2; a++) {
            uint64_t pa2 = a ? pas : 1000000 - pas;
            /* ppm of the cell among the age's people */
            uint64_t cell = ps * pc / 1000000 * hp[h] / 1000000 * pa2 / 1000000;
            rng_u128 w = (rng_u128)coef * enroll_weight(age, h, scheme, a) / WEIGHT_UNIT;
            uint64_t prob = w > 1000000 ? 1000000 : (uint64_t)w; /* ppm */
            total += (rng_u128)pa * cell * prob * ACTIVE_PPM;
          }
        }
      }
    }
  }
  return total;
}

enum hmb_status synth_config_init(struct synth_config *c, uint64_t seed, uint32_t people,
                                  uint32_t enroll_bp, int year, const char *admdvs,
                                  struct hmb_err *err)
{
  rng_u128 want;
  uint64_t lo = 0, hi = UINT64_C(1) << 32;

  memset(c, 0, sizeof(*c));
  if (people < 1 || people > SYNTH_PEOPLE_MAX)
    return hmb_err_set(err, HMB_INVALID, "gen.people", "--people", "参保人数应在 1 至 %u 之间",
                       SYNTH_PEOPLE_MAX);
  if (enroll_bp < 1 || enroll_bp > 10000)
    return hmb_err_set(err, HMB_INVALID, "gen.enroll_rate", "--enroll-rate",
                       "投保率应为 1 至 10000 个基点（10000 = 100%%）");
  if (year < 2000 || year > 2100)
    return hmb_err_set(err, HMB_INVALID, "gen.year", "--year", "年度应在 2000 至 2100 之间");
  if (!admdvs || strlen(admdvs) != 6 || !digits_only(admdvs, 6) ||
      !province_ok((admdvs[0] - '0') * 10 + (admdvs[1] - '0')))
    return hmb_err_set(err, HMB_INVALID, "gen.admdvs", "--admdvs",
                       "统筹区划应为 6 位数字，前两位为省级代码（如 371500）");
  c->seed = seed;
  c->people = people;
  c->enroll_bp = enroll_bp;
  c->year = year;
  memcpy(c->admdvs, admdvs, 7);
  for (size_t i = 0; i < SYNTH_REGIONS; i++) {
    if (!strcmp(admdvs, "371500")) {
      memcpy(c->regions[i], liaocheng_counties[i], 7);
    } else {
      memcpy(c->regions[i], admdvs, 4);
      c->regions[i][4] = '0';
      c->regions[i][5] = (char)('1' + i);
      c->regions[i][6] = '\0';
    }
  }
  c->year_start = date_from_ymd(year, 1, 1);
  c->days = days_in_year(year);
  c->minor_scale_milli = c->major_scale_milli = 1000;

  /* the smallest coefficient reaching the target (bisection: the expectation
   * grows with the coefficient); a target above what the weights allow ends
   * at the top */
  want = (rng_u128)enroll_bp * 100 * UINT64_C(1000000) * UINT64_C(1000000) * UINT64_C(1000000);
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (expected_enrolled(mid) < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  c->enroll_coef = lo;
  return HMB_OK;
}

/* ---- identifiers --------------------------------------------------------- */

/*
 * An identifier into out: `letter`, the n bytes of `head` (the city's code
 * or the year) and v scrambled into `width` digits by multiplier mult (odd
 * and prime to 5) with an offset from the seed and `salt`, one salt per kind
 * of identifier. NUL-terminated; returns the length.
 */
static size_t make_id(const struct synth_config *c, char letter, const char *head, size_t n,
                      uint64_t v, uint64_t mult, uint64_t salt, int width, char *out)
{
  uint64_t mod = 1;
  char *p = out;
  for (int i = 0; i < width; i++)
    mod *= 10;
  *p++ = letter;
  memcpy(p, head, n);
  p += n;
  p = put_digits(p, scramble(v, mult, rng_mix64(c->seed ^ salt) % mod, mod), width);
  *p = '\0';
  return (size_t)(p - out);
}

size_t synth_psn_no(const struct synth_config *c, uint32_t person, char *out)
{
  return make_id(c, 'P', c->admdvs, 6, person, UINT64_C(7381957263), 0, 10, out);
}

size_t synth_setl_id(const struct synth_config *c, uint32_t member, uint32_t seq, char *out)
{
  char year[4];
  put_digits(year, (uint64_t)c->year, 4);
  return make_id(c, 'S', year, 4, ((uint64_t)member << 12) | seq, UINT64_C(736474362913), 1, 15,
                 out);
}

size_t synth_mdtrt_id(const struct synth_config *c, uint32_t member, uint32_t episode, char *out)
{
  char year[4];
  put_digits(year, (uint64_t)c->year, 4);
  return make_id(c, 'M', year, 4, ((uint64_t)member << 13) | episode, UINT64_C(192837465583), 2, 15,
                 out);
}

size_t synth_family_id(const struct synth_config *c, uint32_t household, char *out)
{
  return make_id(c, 'F', c->admdvs, 6, household, UINT64_C(918273647), 3, 9, out);
}

void synth_uscc(const struct synth_config *c, uint32_t n, char *out)
{
  static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  uint64_t org = scramble(n, UINT64_C(48271), rng_mix64(c->seed ^ 4) % UINT64_C(1000000000),
                          UINT64_C(1000000000));
  int sum = 0, chk;
  out[0] = '9'; /* registered by the market regulator */
  out[1] = '1'; /* an enterprise */
  memcpy(out + 2, c->admdvs, 6);
  put_digits(out + 8, org, 9);
  for (int i = 0; i < 17; i++)
    sum += (int)(strchr(cs, out[i]) - cs) * w[i];
  chk = 31 - sum % 31;
  out[17] = cs[chk == 31 ? 0 : chk];
  out[18] = '\0';
}

/* The GB 11643 check character of s[0..17). */
static char idno_check(const char *s)
{
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; i++)
    sum += (s[i] - '0') * w[i];
  return "10X98765432"[sum % 11];
}

/* ---- the roster ------------------------------------------------------------ */

enum hmb_status synth_roster_init(struct synth_roster *r, const struct synth_config *cfg,
                                  struct hmb_err *err)
{
  memset(r, 0, sizeof(*r));
  r->cfg = cfg;
  r->idseq_day0 = date_from_ymd(cfg->year - AGE_MAX - 2, 1, 1);
  r->idseq_days = (size_t)(cfg->year_start - r->idseq_day0) + 1;
  r->idseq = hmb_calloc(SYNTH_REGIONS * r->idseq_days * 2, sizeof(uint16_t));
  if (!r->idseq)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  return HMB_OK;
}

void synth_roster_release(struct synth_roster *r)
{
  free(r->idseq);
  r->idseq = NULL;
}

/* One person of age in [lo, hi] nearest to target (ties: the younger), or -1. */
static int take_near(uint32_t *cnt, int lo, int hi, int target)
{
  if (lo < 0)
    lo = 0;
  if (hi > AGE_MAX)
    hi = AGE_MAX;
  if (lo > hi)
    return -1;
  if (target < lo)
    target = lo;
  if (target > hi)
    target = hi;
  for (int d = 0;; d++) {
    bool any = false;
    int a = target - d;
    if (a >= lo) {
      any = true;
      if (cnt[a]) {
        cnt[a]--;
        return a;
      }
    }
    a = target + d;
    if (d && a <= hi) {
      any = true;
      if (cnt[a]) {
        cnt[a]--;
        return a;
      }
    }
    if (!any)
      return -1;
  }
}

/* One person of age in [lo, hi] at random (weighted by the counts), or -1. */
static int take_weighted(struct rng *g, uint32_t *cnt, int lo, int hi)
{
  uint64_t tot = 0, u;
  for (int a = lo; a <= hi; a++)
    tot += cnt[a];
  if (!tot)
    return -1;
  u = rng_below(g, tot);
  for (int a = lo; a <= hi; a++) {
    if (u < cnt[a]) {
      cnt[a]--;
      return a;
    }
    u -= cnt[a];
  }
  return -1; /* not reached */
}

enum role { R_SPOUSE, R_CHILD, R_PARENT, R_GRANDCHILD, R_OTHER };

/* Take a member of role `role` for a head of age h; sets *rel. */
static int take_member(uint32_t *cnt, int h, bool head_male, int role, int *rel)
{
  int a = -1;
  switch (role) {
  case R_SPOUSE:
    a = take_near(cnt, h - 12 < 18 ? 18 : h - 12, h + 12, head_male ? h - 2 : h + 2);
    *rel = SYNTH_REL_SPOUSE;
    break;
  case R_CHILD:
    a = take_near(cnt, h - 45, h - 18, h - 28);
    *rel = SYNTH_REL_CHILD;
    break;
  case R_PARENT:
    a = take_near(cnt, h + 18, AGE_MAX, h + 27);
    *rel = SYNTH_REL_PARENT;
    break;
  case R_GRANDCHILD:
    a = take_near(cnt, h - 70, h - 36, h - 55);
    *rel = SYNTH_REL_OTHER;
    break;
  default: break;
  }
  if (a >= 0)
    return a;
  /* nobody fits the role in this block: the nearest in age, named by the gap */
  a = take_near(cnt, 0, AGE_MAX, h);
  *rel = a <= h - 16 ? SYNTH_REL_CHILD : a >= h + 16 ? SYNTH_REL_PARENT : SYNTH_REL_OTHER;
  return a;
}

static int draw_age(struct rng *g)
{
  size_t grp = rng_pick(g, age_groups, ARRAY_SIZE(age_groups));
  return (int)grp * 5 + (int)rng_below(g, 5);
}

static int draw_gend(struct rng *g, int age)
{
  return rng_ppm(g, male_ppm(age)) ? 1 : 2;
}

/* Ages and households of the next block (sex and relation included). */
static void make_block(struct synth_roster *r, uint32_t *surname_of)
{
  const struct synth_config *c = r->cfg;
  struct rng g;
  uint32_t cnt[AGE_MAX + 1];
  uint32_t n = c->people - r->next_index;
  size_t k = 0, left;

  if (n > SYNTH_BLOCK)
    n = SYNTH_BLOCK;
  memset(cnt, 0, sizeof(cnt));
  rng_seed3(&g, c->seed, SALT_BLOCK, r->block);
  for (uint32_t i = 0; i < n; i++)
    cnt[draw_age(&g)]++;
  left = n;
  while (left) {
    size_t size = 1 + rng_pick(&g, household_sizes, ARRAY_SIZE(household_sizes));
    uint32_t hh = r->next_household++;
    uint32_t sn = pick_surname(&g);
    int h, head_gend;
    bool has_spouse = false;
    if (size > left)
      size = left;
    /* the head: an adult, of working age when there is a household to run */
    h = size > 1 ? take_weighted(&g, cnt, 22, 64) : -1;
    if (h < 0)
      h = take_weighted(&g, cnt, 18, AGE_MAX);
    if (h < 0)
      h = take_weighted(&g, cnt, 0, AGE_MAX);
    head_gend = draw_gend(&g, h);
    for (size_t j = 0; j < size; j++) {
      struct synth_person *p = &r->people[k];
      int age = h, rel = size > 1 ? SYNTH_REL_HEAD : SYNTH_REL_NONE, gend = head_gend;
      uint32_t own_surname = sn;
      if (j > 0) {
        int role;
        uint64_t u = rng_below(&g, 1000);
        if (j == 1 && h >= 20 && u < 820)
          role = R_SPOUSE;
        else {
          u = rng_below(&g, 1000);
          if (h < 45)
            role = u < 850 ? R_CHILD : R_PARENT;
          else if (h < 65)
            role = u < 550 ? R_CHILD : u < 750 ? R_PARENT : u < 900 ? R_GRANDCHILD : R_OTHER;
          else
            role = u < 500 ? R_CHILD : u < 900 ? R_GRANDCHILD : R_OTHER;
        }
        age = take_member(cnt, h, head_gend == 1, role, &rel);
        if (rel == SYNTH_REL_SPOUSE) {
          has_spouse = true;
          gend = 3 - head_gend;
          own_surname = pick_surname(&g);
        } else {
          gend = draw_gend(&g, age);
          if (rel == SYNTH_REL_PARENT && has_spouse && rng_ppm(&g, 400000)) {
            rel = SYNTH_REL_SPOUSE_PARENT;
            own_surname = pick_surname(&g);
          } else if (rel == SYNTH_REL_PARENT && gend == 2) {
            own_surname = pick_surname(&g);
          }
        }
      }
      memset(p, 0, sizeof(*p));
      p->index = r->next_index + (uint32_t)k;
      p->household = hh;
      p->household_size = (uint8_t)size;
      p->relation = (uint8_t)rel;
      p->age = (uint8_t)age;
      p->gend = (uint8_t)gend;
      surname_of[k] = own_surname;
      k++;
    }
    left -= size;
  }
  r->n = n;
  r->pos = 0;
  r->block++;
}

/* The ID number of p (region from its stream), unique in the roster. */
static void make_certno(struct synth_roster *r, struct rng *g, struct synth_person *p)
{
  const struct synth_config *c = r->cfg;
  size_t reg = rng_pick(g, county_w, SYNTH_REGIONS);
  size_t day = (size_t)(p->birth - r->idseq_day0);
  int y, m, d;
  uint32_t k = 0;
  size_t slot = 0;

  for (size_t t = 0; t < SYNTH_REGIONS; t++, reg = (reg + 1) % SYNTH_REGIONS) {
    slot = ((reg * r->idseq_days) + day) * 2 + (p->gend == 1);
    if (r->idseq[slot] < 500)
      break;
  }
  k = r->idseq[slot]++;
  if (k >= 500)
    BUG("ID sequence numbers exhausted for one birth date"); /* SYNTH_PEOPLE_MAX keeps below */
  /* a permutation of 0..499 per region and day, so numbers are not 001, 003, ... */
  k = (uint32_t)((k * 37 + rng_mix64(c->seed ^ (reg * 1000003 + day)) % 500) % 500);
  memcpy(p->certno, c->regions[reg], 6);
  date_to_ymd(p->birth, &y, &m, &d);
  put_digits(p->certno + 6, (uint64_t)y, 4);
  put_digits(p->certno + 10, (uint64_t)m, 2);
  put_digits(p->certno + 12, (uint64_t)d, 2);
  put_digits(p->certno + 14, k * 2 + (p->gend == 1 ? 1 : 0), 3);
  p->certno[17] = idno_check(p->certno);
  p->certno[18] = '\0';
}

static void make_name(struct rng *g, struct synth_person *p, uint32_t surname)
{
  const char *const *pool = p->gend == 1 ? given_m : given_f;
  size_t npool = p->gend == 1 ? ARRAY_SIZE(given_m) : ARRAY_SIZE(given_f);
  size_t len = strlen(surnames[surname].s), parts = rng_ppm(g, 200000) ? 1 : 2;
  memcpy(p->name, surnames[surname].s, len);
  for (size_t i = 0; i < parts; i++) {
    const char *ch = pool[rng_below(g, npool)];
    size_t l = strlen(ch);
    memcpy(p->name + len, ch, l);
    len += l;
  }
  p->name[len] = '\0';
}

/* Enrollment probability (ppm) of a person. */
static uint32_t enroll_ppm(const struct synth_config *c, const struct synth_person *p)
{
  rng_u128 w;
  if (p->status != SYNTH_ACTIVE)
    return 0;
  w = (rng_u128)c->enroll_coef * enroll_weight(p->age, p->health, p->scheme, p->assistance) /
      WEIGHT_UNIT;
  return w > 1000000 ? 1000000 : (uint32_t)w;
}

/* Everything of p that is its own: from the person's stream. */
static void person_traits(struct synth_roster *r, struct synth_person *p, uint32_t surname)
{
  const struct synth_config *c = r->cfg;
  struct rng g;
  hmb_date lo, hi;
  uint32_t pe, pr, hp[4], u;

  rng_seed3(&g, c->seed, SALT_PERSON, p->index);
  /* completed years p->age on 1 January: born in the year before that birthday */
  lo = date_from_ymd(c->year - p->age - 1, 1, 2);
  hi = date_from_ymd(c->year - p->age, 1, 1);
  p->birth = lo + (hmb_date)rng_below(&g, (uint64_t)(hi - lo) + 1);
  scheme_ppm(p->age, p->gend, &pe, &pr);
  u = (uint32_t)rng_below(&g, 1000000);
  p->scheme = u < pe ? SYNTH_EMPLOYEE : u < pe + pr ? SYNTH_RETIRED : SYNTH_RESIDENT;
  u = (uint32_t)rng_below(&g, 1000000);
  p->status = u < ACTIVE_PPM                   ? SYNTH_ACTIVE
              : u < ACTIVE_PPM + SUSPENDED_PPM ? SYNTH_SUSPENDED
                                               : SYNTH_ENDED;
  p->status_date = 0;
  if (p->status != SYNTH_ACTIVE) {
    hmb_date from = date_from_ymd(c->year - 1, 1, 1);
    p->status_date = from + (hmb_date)rng_below(&g, (uint64_t)days_in_year(c->year - 1));
    if (p->status_date < p->birth)
      p->status_date = p->birth;
  }
  health_ppm(p->age, hp);
  u = (uint32_t)rng_below(&g, 1000000);
  p->health = u < hp[SYNTH_GRAVE]                                           ? SYNTH_GRAVE
              : u < hp[SYNTH_GRAVE] + hp[SYNTH_SERIOUS]                     ? SYNTH_SERIOUS
              : u < hp[SYNTH_GRAVE] + hp[SYNTH_SERIOUS] + hp[SYNTH_CHRONIC] ? SYNTH_CHRONIC
                                                                            : SYNTH_WELL;
  p->assistance = rng_ppm(&g, assistance_ppm(p->age, p->scheme, p->health));
  /* 既往症 of the usual lists: cancer, renal failure, heart failure, stroke ... */
  p->preexisting = p->health == SYNTH_GRAVE     ? true
                   : p->health == SYNTH_SERIOUS ? rng_ppm(&g, 600000)
                   : p->health == SYNTH_CHRONIC ? rng_ppm(&g, 50000)
                                                : false;
  p->enrolled = rng_ppm(&g, enroll_ppm(c, p));
  p->loyalty_years = p->claim_free_years = 0;
  if (p->enrolled) {
    /* continuous years before this one (the product began three years ago) */
    static const uint32_t loyal_w[4] = {300, 150, 150, 400};
    static const uint32_t claim_ppm[4] = {20000, 60000, 200000, 450000};
    p->loyalty_years = (uint8_t)rng_pick(&g, loyal_w, 4);
    for (int y = 0; y < p->loyalty_years; y++) {
      if (rng_ppm(&g, claim_ppm[p->health]))
        break;
      p->claim_free_years++; /* counted back from last year */
    }
  }
  p->veteran_year = 0;
  if (p->gend == 1 && p->age >= 25 && p->age <= 75 && rng_ppm(&g, 30000)) {
    int vy = c->year - p->age + 20 + (int)rng_below(&g, 5);
    p->veteran_year = (int16_t)(vy < 1950 ? 1950 : vy >= c->year ? c->year - 1 : vy);
  }
  p->employer = 0;
  if (p->scheme == SYNTH_EMPLOYEE) {
    uint64_t ne = c->people / 40 + 10, e = rng_below(&g, ne);
    p->employer = (uint32_t)(1 + e * e / ne); /* a few large employers, many small ones */
  }
  make_name(&g, p, surname);
  make_certno(r, &g, p);
}

const struct synth_person *synth_roster_next(struct synth_roster *r)
{
  if (r->pos == r->n) {
    uint32_t surname_of[SYNTH_BLOCK];
    if (r->next_index >= r->cfg->people)
      return NULL;
    make_block(r, surname_of);
    for (size_t i = 0; i < r->n; i++)
      person_traits(r, &r->people[i], surname_of[i]);
    r->next_index += (uint32_t)r->n;
  }
  return &r->people[r->pos++];
}

/* ---- members, expectations, planning ------------------------------------ */

void synth_member_of(const struct synth_config *c, const struct synth_person *p,
                     struct synth_member *m)
{
  struct rng g;
  memset(m, 0, sizeof(*m));
  m->person = p->index;
  m->age = p->age;
  m->gend = p->gend;
  m->health = p->health;
  m->scheme = p->scheme;
  m->assistance = p->assistance;
  m->drug = SYNTH_DRUG_NONE;
  rng_seed3(&g, c->seed, SALT_MEMBER, p->index);
  /* how severe this person's illnesses are this year: lognormal, mean 1 */
  m->severity = (uint32_t)rng_lognormal(&g, SEVERITY_MEDIAN, SEVERITY_SIGMA, 20000);
  if (p->health == SYNTH_GRAVE) {
    uint32_t ws[ARRAY_SIZE(special_drugs)], we[ARRAY_SIZE(efficacy_drugs)];
    uint64_t u;
    for (size_t i = 0; i < ARRAY_SIZE(ws); i++)
      ws[i] = special_drugs[i].weight;
    for (size_t i = 0; i < ARRAY_SIZE(we); i++)
      we[i] = efficacy_drugs[i].weight;
    u = rng_below(&g, 100000);
    m->drug = u < 1000   ? SYNTH_DRUG_SPECIAL
              : u < 3000 ? SYNTH_DRUG_EFFICACY
              : u < 3300 ? SYNTH_DRUG_BOTH
              : u < 3320 ? SYNTH_DRUG_CART
                         : SYNTH_DRUG_NONE;
    m->drug_special = (uint8_t)rng_pick(&g, ws, ARRAY_SIZE(ws));
    m->drug_efficacy = (uint8_t)rng_pick(&g, we, ARRAY_SIZE(we));
    if (m->drug == SYNTH_DRUG_CART)
      m->drug_special = (uint8_t)rng_below(&g, 2);
  }
}

static uint32_t out_rate_of(const struct synth_member *m)
{
  uint64_t r = (uint64_t)out_rate[band8(m->age)] * out_health[m->health] / 1000;
  return (uint32_t)(m->scheme != SYNTH_RESIDENT ? r * OUT_EMPLOYEE / 1000 : r);
}

static uint32_t pharmacy_rate_of(const struct synth_member *m)
{
  return (uint32_t)((uint64_t)pharmacy_rate[m->scheme] * pharmacy_health[m->health] / 1000);
}

/* Listed-drug treatment: cycles of 21-30 days; the year's part of a course. */
#define DRUG_CYCLES_MAX 18

static void drug_course(struct rng *g, int days, int *first, int *every, int *count)
{
  int start = (int)rng_range(g, -200, days - 1);
  int n = (int)rng_range(g, 4, DRUG_CYCLES_MAX);
  *every = (int)rng_range(g, 21, 30);
  while (start < 0 && n > 0) {
    start += *every;
    n--;
  }
  *first = start;
  *count = 0;
  for (int k = 0; k < n && start + k * *every < days; k++)
    (*count)++;
}

/* Expected purchases of a course (approximately; for the row target). */
#define DRUG_EXPECTED 7000

void synth_expect_add(const struct synth_config *c, const struct synth_member *m,
                      struct synth_expect *e)
{
  uint64_t stays = stay_rate_of(m->age, m->health), major;
  (void)c;
  e->minor_milli += out_rate_of(m) + chronic_rate[m->health] + pharmacy_rate_of(m);
  major = stays * 11 / 10 + birth_rate(m->age, m->gend); /* interim settlements: about 10% */
  if (m->drug == SYNTH_DRUG_SPECIAL || m->drug == SYNTH_DRUG_EFFICACY)
    major += DRUG_EXPECTED;
  else if (m->drug == SYNTH_DRUG_BOTH)
    major += 2 * DRUG_EXPECTED;
  else if (m->drug == SYNTH_DRUG_CART)
    major += 1000;
  e->major_milli += major;
  e->stays_milli += stays + birth_rate(m->age, m->gend) + (m->drug == SYNTH_DRUG_CART ? 1000 : 0);
}

/* Seconds of a visit of kind k on day d (opening hours). */
static uint32_t visit_time(struct rng *g, int kind, int day)
{
  uint32_t open = 8 * 3600, len;
  switch (kind) {
  case SYNTH_EV_PHARMACY: len = 14 * 3600; break;
  case SYNTH_EV_STAY:
  case SYNTH_EV_STAY_INTERIM:
  case SYNTH_EV_STAY_FINAL:
  case SYNTH_EV_MATERNITY:
  case SYNTH_EV_CART: len = 9 * 3600; break;
  default: len = 10 * 3600; break;
  }
  return (uint32_t)day * 86400 + open + (uint32_t)rng_below(g, len);
}

struct stay {
  int64_t cost; /* fen */
  int los;      /* days */
  bool severe;
  int level; /* hospital level 1..3 */
};

static int64_t isqrt64(int64_t v)
{
  int64_t x = 0, b = INT64_C(1) << 62;
  if (v <= 0)
    return 0;
  while (b > v)
    b >>= 2;
  while (b) {
    if (v >= x + b) {
      v -= x + b;
      x = (x >> 1) + b;
    } else {
      x >>= 1;
    }
    b >>= 2;
  }
  return x;
}

/* A stay's total cost, length and hospital: from the episode's stream, so
 * that planning and both settlements of the stay agree. */
static void stay_of(const struct synth_config *c, uint32_t idx, uint32_t episode,
                    const struct synth_member *m, int kind, struct stay *s)
{
  struct rng g;
  int64_t median;
  rng_seed3(&g, c->seed, ((uint64_t)idx << 12) | episode, SALT_EPISODE);
  s->level = 1 + (int)rng_pick(&g, level_w[m->health], 3);
  if (kind == SYNTH_EV_MATERNITY) {
    s->severe = false;
    s->cost = rng_lognormal(&g, 450000, 450, COST_MAX);
  } else {
    median = stay_median[band8(m->age)] * 100 * stay_health[m->health] / 1000 * m->severity / 1000;
    if (m->scheme != SYNTH_RESIDENT)
      median = median * STAY_EMPLOYEE / 1000;
    s->severe = rng_ppm(&g, severe_ppm[m->health]);
    if (s->severe) {
      s->cost = rng_pareto(&g, SEVERE_XMIN, SEVERE_ALPHA, COST_MAX);
      s->level = 3;
    } else {
      s->cost = rng_lognormal(&g, median, stay_sigma[m->health], COST_MAX);
    }
    if (s->cost < 30000)
      s->cost = 30000 + (int64_t)rng_below(&g, 20000); /* at least 300 yuan */
  }
  /* about 9 days on average, longer for costly stays */
  s->los = (int)(2 + isqrt64(s->cost / 100) / 12 + (int64_t)rng_below(&g, 4));
  if (s->los > 90)
    s->los = 90;
}

static void ev_set(struct synth_event *e, uint32_t t, int kind, uint32_t episode, int arg,
                   int flags)
{
  memset(e, 0, sizeof(*e));
  e->key = (uint64_t)t << 39; /* member and seq are set after sorting */
  e->kind = (uint8_t)kind;
  e->episode = (uint16_t)episode;
  e->arg = (uint8_t)arg;
  e->flags = (uint8_t)flags;
}

static int ev_cmp_key(const void *a, const void *b)
{
  uint64_t x = ((const struct synth_event *)a)->key, y = ((const struct synth_event *)b)->key;
  return (x > y) - (x < y);
}

#define PLAIN_LINES_PPM 4000  /* rows of outpatient or stays with lines in no list */
#define COMPANION_PPM   30000 /* stays and drug purchases with a second bill at checkout */

size_t synth_plan(const struct synth_config *c, uint32_t idx, const struct synth_member *m,
                  struct synth_event *out)
{
  struct rng g;
  size_t n = 0;
  uint32_t episode = 0, k, cnt;
  const size_t cap = SYNTH_SEQ_MAX;
  uint32_t minor = c->minor_scale_milli, major = c->major_scale_milli;

  rng_seed3(&g, c->seed, SALT_PLAN, idx);

  /* ordinary visits: Poisson counts on uniform days */
  static const int minor_kinds[3] = {SYNTH_EV_OUT, SYNTH_EV_CHRONIC, SYNTH_EV_PHARMACY};
  uint32_t minor_rates[3] = {out_rate_of(m), chronic_rate[m->health], pharmacy_rate_of(m)};
  for (int t = 0; t < 3; t++) {
    cnt = rng_poisson(&g, (uint32_t)((uint64_t)minor_rates[t] * minor / 1000));
    for (k = 0; k < cnt && n < cap; k++) {
      int day = (int)rng_below(&g, (uint64_t)c->days);
      int flags = minor_kinds[t] != SYNTH_EV_PHARMACY && rng_ppm(&g, PLAIN_LINES_PPM)
                      ? SYNTH_EF_PLAIN_LINES
                      : 0;
      ev_set(&out[n++], visit_time(&g, minor_kinds[t], day), minor_kinds[t], episode++, 0, flags);
    }
  }

  /* stays: the discharge day is uniform over the year; 20% of long stays of
   * med_type 21 also settle half way (an interim settlement) */
  cnt = rng_poisson(&g, (uint32_t)((uint64_t)stay_rate_of(m->age, m->health) * major / 1000));
  for (k = 0; k < cnt && n + 3 < cap; k++) {
    struct stay st;
    uint64_t u = rng_below(&g, 1000);
    int mt = u < 28 ? 22 : u < 48 ? 23 : u < 63 ? 24 : 21;
    int day = (int)rng_below(&g, (uint64_t)c->days);
    int flags = rng_ppm(&g, PLAIN_LINES_PPM) ? SYNTH_EF_PLAIN_LINES : 0;
    uint32_t t;
    stay_of(c, idx, episode, m, SYNTH_EV_STAY, &st);
    t = visit_time(&g, SYNTH_EV_STAY, day);
    if (mt == 21 && st.los >= 16 && day - st.los / 2 >= 0 && rng_ppm(&g, 200000)) {
      ev_set(&out[n++], visit_time(&g, SYNTH_EV_STAY_INTERIM, day - st.los / 2),
             SYNTH_EV_STAY_INTERIM, episode, mt, 0);
      ev_set(&out[n++], t, SYNTH_EV_STAY_FINAL, episode, mt, flags);
    } else {
      ev_set(&out[n++], t, SYNTH_EV_STAY, episode, mt, flags);
    }
    episode++;
    if (rng_ppm(&g, COMPANION_PPM)) /* a second bill at the same checkout */
      ev_set(&out[n++], t, SYNTH_EV_OUT, episode++, 0, 0);
  }
  cnt = rng_poisson(&g, (uint32_t)((uint64_t)birth_rate(m->age, m->gend) * major / 1000));
  for (k = 0; k < cnt && k < 2 && n < cap; k++) {
    int day = (int)rng_below(&g, (uint64_t)c->days);
    ev_set(&out[n++], visit_time(&g, SYNTH_EV_MATERNITY, day), SYNTH_EV_MATERNITY, episode++, 52,
           0);
  }

  /* listed drugs: courses of monthly purchases */
  for (int which = 0; which < 2; which++) {
    bool on = which == 0 ? (m->drug == SYNTH_DRUG_SPECIAL || m->drug == SYNTH_DRUG_BOTH)
                         : (m->drug == SYNTH_DRUG_EFFICACY || m->drug == SYNTH_DRUG_BOTH);
    int first, every, count;
    if (!on)
      continue;
    drug_course(&g, c->days, &first, &every, &count);
    if (major != 1000) {
      uint64_t scaled = (uint64_t)count * major;
      count = (int)(scaled / 1000) + (rng_below(&g, 1000) < scaled % 1000 ? 1 : 0);
    }
    for (int j = 0; j < count && n + 1 < cap; j++) {
      int day = first + j * every;
      uint32_t t;
      if (day >= c->days)
        break;
      t = visit_time(&g, SYNTH_EV_DRUG_SPECIAL, day);
      ev_set(&out[n++], t, which == 0 ? SYNTH_EV_DRUG_SPECIAL : SYNTH_EV_DRUG_EFFICACY, episode,
             which == 0 ? m->drug_special : m->drug_efficacy, 0);
      episode++;
      if (rng_ppm(&g, COMPANION_PPM))
        ev_set(&out[n++], t, SYNTH_EV_OUT, episode++, 0, 0);
    }
  }
  if (m->drug == SYNTH_DRUG_CART && n < cap) {
    int day = (int)rng_below(&g, (uint64_t)c->days);
    ev_set(&out[n++], visit_time(&g, SYNTH_EV_CART, day), SYNTH_EV_CART, episode++, m->drug_special,
           0);
  }

  /* time order, ties in planning order (a companion after its bill): the
   * planning index in the low bits while sorting, then member and seq */
  for (size_t i = 0; i < n; i++)
    out[i].key |= i;
  qsort(out, n, sizeof(*out), ev_cmp_key);
  for (size_t i = 0; i < n; i++)
    out[i].key = (out[i].key & ~((UINT64_C(1) << 39) - 1)) | ((uint64_t)idx << 12) | (uint64_t)i;
  return n;
}

void synth_extra_event(const struct synth_config *c, uint32_t idx, const struct synth_member *m,
                       uint32_t seq, uint64_t salt, struct synth_event *out)
{
  struct rng g;
  uint32_t ro = out_rate_of(m), rp = pharmacy_rate_of(m);
  int kind, day;
  rng_seed3(&g, c->seed ^ SALT_EXTRA, ((uint64_t)idx << 12) | seq, salt);
  kind = rng_below(&g, (uint64_t)ro + rp + 1) < ro ? SYNTH_EV_OUT : SYNTH_EV_PHARMACY;
  day = (int)rng_below(&g, (uint64_t)c->days);
  /* an episode number of its own, above the plan's (which are below SYNTH_SEQ_MAX) */
  ev_set(out, visit_time(&g, kind, day), kind, SYNTH_SEQ_MAX + seq, 0, 0);
  out->key |= ((uint64_t)idx << 12) | seq;
}

/* ---- settlements ------------------------------------------------------------- */

void synth_split_parts(struct rng *g, struct synth_setl *s, hmb_fen medfee, int ful_lo, int ful_hi,
                       uint32_t ovl_ppm, int ovl_hi, int pre_lo, int pre_hi)
{
  int64_t ful_pm = rng_range(g, ful_lo, ful_hi);
  s->ful = pm(medfee, ful_pm);
  s->ovl = rng_ppm(g, ovl_ppm) ? pm(medfee, rng_range(g, 1, ovl_hi)) : 0;
  s->pre = pm(medfee, rng_range(g, pre_lo, pre_hi));
  s->inscp = medfee - s->ful - s->ovl - s->pre;
  s->medfee = medfee;
}

void synth_pay_minor(struct rng *g, struct synth_setl *s, bool employee, bool dual_channel)
{
  int64_t inscp = s->inscp;
  if (s->med_type == 14) {
    s->hifp = pm(inscp, rng_range(g, 600, 750));
    if (!employee)
      s->hifmi = pm(max64(0, inscp - s->hifp - 1000000), 500);
  } else if (s->med_type == 11) {
    if (rng_ppm(g, 600000))
      s->hifp = pm(inscp, employee ? 600 : 500);
  } else if (s->med_type == 41) {
    if (dual_channel)
      s->hifp = pm(inscp, 700);
  }
}

void synth_pay_assistance(struct rng *g, struct synth_setl *s, bool assisted)
{
  int64_t outside = s->ful + s->ovl + s->pre, rest;
  bool stay = synth_inpatient(s->med_type);
  int maf_share = stay ? 700 : s->med_type == 14 ? 500 : 0; /* permille of the in-scope rest */
  uint32_t excess_ppm = stay ? 500000 : 300000; /* chance of covering out-of-scope costs too */

  if (assisted && maf_share > 0) {
    rest = s->inscp - s->hifp - s->hifmi - s->hifob;
    if (outside > 0 && rng_ppm(g, excess_ppm))
      /* all of the in-scope rest and some of what lies outside the scope */
      s->maf = rest + rng_range(g, 1, outside);
    else
      s->maf = pm(rest, maf_share);
  }
  s->fund = s->hifp + s->hifmi + s->hifob + s->maf;
  s->psn_part = s->medfee - s->fund;
}

/*
 * The funds' payment, psn_part_amt, acct_pay and psn_cash_pay from the
 * parts. Stays use the member's year so far (*acc): the 起付线 in full on
 * the year's first stay and half on later ones, the pooled fund's yearly
 * cap, and 大病保险 (residents) or 大额补助 (employees) on the year's
 * cumulative in-scope rest above their thresholds. new_stay: this row
 * opens a stay (not the final settlement of a stay settled twice).
 */
static void pay_funds(struct rng *g, struct synth_setl *s, const struct synth_member *m, int level,
                      bool dual_channel, bool new_stay, struct synth_acc *acc)
{
  int64_t inscp = s->inscp, rest;
  bool employee = m->scheme != SYNTH_RESIDENT;

  s->dedc = s->hifp = s->hifmi = s->hifob = s->maf = 0;
  if (synth_inpatient(s->med_type)) {
    /* residents' ratios fall with the hospital's level, employees' hardly */
    static const int64_t dedc_res[4] = {0, 20000, 50000, 100000};
    static const int64_t dedc_emp[4] = {0, 20000, 40000, 80000};
    static const int ratio_res[4] = {0, 920, 840, 550};
    static const int ratio_emp[4] = {0, 970, 960, 950};
    int64_t d = employee ? dedc_emp[level] : dedc_res[level], ratio, before, after, thr, cap;
    if (!new_stay)
      d = 0;
    else if (acc->stays > 0)
      d /= 2;
    s->dedc = min64(inscp, d);
    ratio = (employee ? ratio_emp[level] : ratio_res[level]) + rng_range(g, -30, 30);
    cap = employee ? 40000000 : 25000000; /* the pooled fund's yearly maximum */
    s->hifp = min64(pm(inscp - s->dedc, ratio), max64(0, cap - acc->hifp));
    rest = inscp - s->hifp;
    thr = employee ? 2000000 : 1500000;
    before = acc->rest;
    after = before + rest;
    if (employee) {
      s->hifob = pm(max64(0, after - max64(before, thr)), 750);
    } else {
      /* 60% of the year's rest from the threshold to 100,000 yuan, 70% above */
      int64_t low = max64(0, min64(after, 10000000) - max64(before, thr));
      int64_t high = max64(0, after - max64(before, 10000000));
      s->hifmi = pm(low, 600) + pm(high, 700);
    }
    acc->rest = after;
    acc->hifp += s->hifp;
    if (new_stay)
      acc->stays++;
  } else {
    synth_pay_minor(g, s, employee, dual_channel);
  }
  synth_pay_assistance(g, s, m->assistance);
  s->acct = 0;
  if (m->scheme == SYNTH_EMPLOYEE || m->scheme == SYNTH_RETIRED) {
    /* employees pay small bills from the personal account */
    if ((s->med_type == 11 || s->med_type == 41) && rng_ppm(g, 700000))
      s->acct = s->psn_part;
    else
      s->acct = pm(s->psn_part, rng_range(g, 0, 1000));
  } else if (rng_ppm(g, 100000)) {
    s->acct = pm(s->psn_part, rng_range(g, 0, 1000)); /* a relative's family account */
  }
  s->cash = s->psn_part - s->acct;
}

void synth_make_code(struct rng *g, struct synth_line *l, const char *prefix)
{
  char *p = l->code;
  if (prefix[0] == '#') {
    /* a medical service item code: 15 digits */
    p = put_digits(p, UINT64_C(1201000000000) + rng_below(g, UINT64_C(90000000000)), 15);
  } else if (prefix[0] == 'C' && prefix[1] == '\0') {
    /* a medical consumable code */
    *p++ = 'C';
    p = put_digits(p, rng_below(g, UINT64_C(10000000000000000000)), 19);
  } else {
    size_t n = strlen(prefix);
    memcpy(p, prefix, n);
    p += n;
    if (n < 8) /* complete the ATC code to its substance level */
      p = put_digits(p, 1 + rng_below(g, 30), (int)(8 - n));
    *p++ = "ABCX"[rng_below(g, 4)]; /* dosage form */
    p = put_digits(p, rng_below(g, UINT64_C(1000000000000)), 12);
  }
  *p = '\0';
  l->code_len = (uint8_t)(p - l->code);
}

void synth_add_drug_line(struct rng *g, struct synth_setl *s, const struct synth_drug *d,
                         bool efficacy)
{
  struct synth_line *l;
  int64_t cost;
  if (s->nlines >= SYNTH_MAX_LINES)
    return;
  l = &s->lines[s->nlines++];
  synth_make_code(g, l, d->prefix);
  cost = rng_range(g, d->cost_lo * 100, d->cost_hi * 100);
  l->cnt = (uint32_t)rng_range(g, 1, 6);
  l->ful = l->ovl = l->pre = l->inscp = 0;
  if (efficacy) {
    /* in the catalogue (乙类): first self-pay, sometimes above the price limit */
    memcpy(l->lv, "02", 3);
    l->pre = pm(cost, rng_range(g, 50, 100));
    l->ovl = rng_ppm(g, 150000) ? pm(cost, rng_range(g, 1, 30)) : 0;
    l->inscp = cost - l->pre - l->ovl;
  } else if (d->in_catalogue_ppm > 0 && rng_ppm(g, d->in_catalogue_ppm)) {
    /* a listed code billed inside the catalogue: not fully self-paid */
    memcpy(l->lv, "02", 3);
    l->pre = pm(cost, 100);
    l->inscp = cost - l->pre;
  } else {
    memcpy(l->lv, "03", 3);
    l->ful = cost;
  }
  s->ful += l->ful;
  s->ovl += l->ovl;
  s->pre += l->pre;
  s->inscp += l->inscp;
  s->medfee += cost;
}

void synth_add_plain_lines(struct rng *g, struct synth_setl *s, int64_t rem[4], int k,
                           const char *const *codes, size_t ncodes)
{
  for (int i = 0; i < k && s->nlines < SYNTH_MAX_LINES; i++) {
    struct synth_line *l = &s->lines[s->nlines++];
    int64_t take[4];
    synth_make_code(g, l, codes[rng_below(g, ncodes)]);
    for (int j = 0; j < 4; j++) {
      take[j] = rem[j] > 0 ? pm(rem[j], rng_range(g, 0, 700)) : 0;
      rem[j] -= take[j];
    }
    l->ful = take[0];
    l->ovl = take[1];
    l->pre = take[2];
    l->inscp = take[3];
    memcpy(l->lv, l->ful > 0 && l->pre == 0 && l->inscp == 0 ? "03" : l->pre > 0 ? "02" : "01", 3);
    l->cnt = (uint32_t)rng_range(g, 1, 30);
  }
}

static int psn_type_of(const struct synth_member *m)
{
  switch (m->scheme) {
  case SYNTH_EMPLOYEE: return 11;
  case SYNTH_RETIRED: return 12;
  default: return m->age >= 60 ? 16 : 15;
  }
}

void synth_settlement(const struct synth_config *c, const struct synth_member *m,
                      const struct synth_event *e, struct synth_acc *acc, struct synth_setl *s)
{
  struct synth_acc fresh = {0, 0, 0};
  struct rng g;
  uint32_t idx = SYNTH_KEY_MEMBER(e->key), seq = SYNTH_KEY_SEQ(e->key);
  int64_t medfee, rem[4];
  int level = 2, ful_hi;
  bool dual = false, plain = (e->flags & SYNTH_EF_PLAIN_LINES) != 0;
  struct stay st;

  memset(s, 0, offsetof(struct synth_setl, lines));
  rng_seed3(&g, c->seed, ((uint64_t)idx << 12) | seq, SALT_EVENT);
  s->member = idx;
  s->person = m->person;
  s->seq = (uint16_t)seq;
  s->episode = e->episode;
  s->time = SYNTH_KEY_TIME(e->key);
  s->insutype = m->scheme == SYNTH_RESIDENT ? 390 : 310;
  s->psn_type = psn_type_of(m);

  switch (e->kind) {
  case SYNTH_EV_OUT:
    s->med_type = 11;
    medfee = rng_lognormal(&g, 12000, 900, 2000000);
    ful_hi = rng_ppm(&g, 500000) ? 0 : 200;
    synth_split_parts(&g, s, medfee, 0, ful_hi, 30000, 50, 0, 100);
    break;
  case SYNTH_EV_CHRONIC:
    s->med_type = 14;
    medfee = rng_lognormal(&g, m->health == SYNTH_GRAVE ? 150000 : 40000, 800, 10000000);
    synth_split_parts(&g, s, medfee, 0, 120, 20000, 30, 0, 120);
    break;
  case SYNTH_EV_PHARMACY:
    s->med_type = 41;
    medfee = rng_lognormal(&g, 9000, 900, 1000000);
    ful_hi = rng_ppm(&g, 600000) ? 0 : 400;
    synth_split_parts(&g, s, medfee, 0, ful_hi, 0, 1, 0, 100);
    break;
  case SYNTH_EV_MATERNITY:
    s->med_type = 52;
    stay_of(c, idx, e->episode, m, SYNTH_EV_MATERNITY, &st);
    level = st.level;
    synth_split_parts(&g, s, st.cost, 20, 100, 50000, 20, 20, 80);
    break;
  case SYNTH_EV_STAY:
  case SYNTH_EV_STAY_INTERIM:
  case SYNTH_EV_STAY_FINAL:
    s->med_type = e->arg ? e->arg : 21;
    stay_of(c, idx, e->episode, m, SYNTH_EV_STAY, &st);
    level = st.level;
    medfee = st.cost;
    if (e->kind != SYNTH_EV_STAY) {
      /* the interim settlement bills 40-60% of the stay, the final one the rest */
      struct rng eg;
      int64_t first;
      rng_seed3(&eg, c->seed ^ 5, ((uint64_t)idx << 12) | e->episode, SALT_EPISODE);
      first = pm(medfee, rng_range(&eg, 400, 600));
      medfee = e->kind == SYNTH_EV_STAY_INTERIM ? first : medfee - first;
    }
    if (st.severe)
      synth_split_parts(&g, s, medfee, 50, 250, 400000, 30, 30, 150);
    else if (m->health == SYNTH_GRAVE) /* targeted drugs and materials outside the catalogue */
      synth_split_parts(&g, s, medfee, 80, 300, 300000, 20, 40, 150);
    else
      synth_split_parts(&g, s, medfee, 30, 150, 300000, 20, 30, 120);
    break;
  case SYNTH_EV_CART:
    s->med_type = 21;
    level = 3;
    medfee = rng_lognormal(&g, 800000, 600, 20000000);
    synth_split_parts(&g, s, medfee, 30, 150, 300000, 20, 30, 120);
    break;
  default: /* listed-drug purchases: a small bill with the drug on top */
  {
    uint64_t u = rng_below(&g, 1000);
    s->med_type = u < 450 ? 41 : u < 800 ? 14 : 21;
    dual = s->med_type == 41;
    medfee = s->med_type == 41   ? rng_range(&g, 500, 30000)
             : s->med_type == 14 ? rng_range(&g, 20000, 100000)
                                 : rng_range(&g, 200000, 800000);
    synth_split_parts(&g, s, medfee, 0, 100, 20000, 30, 0, 100);
    break;
  }
  }

  rem[0] = s->ful;
  rem[1] = s->ovl;
  rem[2] = s->pre;
  rem[3] = s->inscp;
  if (e->kind == SYNTH_EV_DRUG_SPECIAL || e->kind == SYNTH_EV_DRUG_EFFICACY) {
    bool eff = e->kind == SYNTH_EV_DRUG_EFFICACY;
    const struct synth_drug *d = eff ? &efficacy_drugs[e->arg % ARRAY_SIZE(efficacy_drugs)]
                                     : &special_drugs[e->arg % ARRAY_SIZE(special_drugs)];
    if (!eff && d->cost_lo >= 900000) /* CAR-T is never a purchase */
      d = &special_drugs[2];
    synth_add_drug_line(&g, s, d, eff);
    if (rng_ppm(&g, 100000)) /* a second listed drug of the other list */
      synth_add_drug_line(&g, s,
                          eff ? &special_drugs[2 + rng_below(&g, 4)]
                              : &efficacy_drugs[rng_below(&g, ARRAY_SIZE(efficacy_drugs))],
                          !eff);
    synth_add_plain_lines(&g, s, rem, (int)rng_below(&g, 4), synth_plain_prefixes, N_PLAIN);
  } else if (e->kind == SYNTH_EV_CART) {
    synth_add_drug_line(&g, s, &special_drugs[e->arg & 1], false);
    synth_add_plain_lines(&g, s, rem, 1 + (int)rng_below(&g, 3), synth_plain_prefixes, N_PLAIN);
  } else if (plain) {
    synth_add_plain_lines(&g, s, rem, 1 + (int)rng_below(&g, 4), synth_plain_prefixes, N_PLAIN);
  }
  pay_funds(&g, s, m, level, dual, e->kind != SYNTH_EV_STAY_FINAL, acc ? acc : &fresh);
}

/* ---- statistics ---------------------------------------------------------------- */

static int band3(int age)
{
  return age < 15 ? 0 : age < 60 ? 1 : 2;
}

void synth_stats_person(struct synth_stats *st, const struct synth_config *c,
                        const struct synth_person *p)
{
  struct synth_member m;
  st->people++;
  st->age_band[band3(p->age)]++;
  st->age_sum += p->age;
  st->employees += p->scheme != SYNTH_RESIDENT;
  st->retired += p->scheme == SYNTH_RETIRED;
  st->assistance += p->assistance;
  st->active += p->status == SYNTH_ACTIVE;
  st->suspended += p->status == SYNTH_SUSPENDED;
  st->ended += p->status == SYNTH_ENDED;
  st->in_family += p->household_size > 1;
  st->veterans += p->veteran_year != 0;
  st->health[p->health]++;
  synth_member_of(c, p, &m);
  synth_expect_add(c, &m, &st->expect_all);
  if (!p->enrolled)
    return;
  st->enrolled++;
  st->enr_age_band[band3(p->age)]++;
  st->enr_age_sum += p->age;
  st->enr_employees += p->scheme != SYNTH_RESIDENT;
  st->enr_assistance += p->assistance;
  st->enr_preexisting += p->preexisting;
  st->enr_health[p->health]++;
  st->enr_loyal += p->loyalty_years > 0;
}

void synth_stats_setl(struct synth_stats *st, const struct synth_setl *s,
                      const struct synth_event *e)
{
  int mt = s->med_type;
  st->setl++;
  st->med_type[mt == 11              ? 0
               : mt == 14            ? 1
               : mt == 41            ? 2
               : mt == 52            ? 4
               : synth_inpatient(mt) ? 3
                                     : 5]++;
  st->medfee_total += s->medfee;
  if (e->kind == SYNTH_EV_STAY || e->kind == SYNTH_EV_STAY_INTERIM ||
      e->kind == SYNTH_EV_STAY_FINAL || e->kind == SYNTH_EV_CART) {
    int k = s->insutype == 310;
    st->stay_rows[k]++;
    st->stay_cost[k] += s->medfee;
    st->stay_catalogue[k] += s->inscp + s->pre;
    st->stay_fund[k] += s->fund;
    if (e->kind != SYNTH_EV_STAY_INTERIM) {
      st->stays++;
      st->stays_by[k]++;
    }
  }
  if (s->medfee > 10000000)
    st->rows_over_100k++;
  if (s->medfee > 100000000)
    st->rows_over_1m++;
  if (s->nlines) {
    st->rows_with_lines++;
    st->lines += s->nlines;
  }
  for (size_t i = 0; i < s->nlines; i++)
    if (s->lines[i].code[0] == 'X') {
      for (size_t j = 0; synth_special_prefixes[j]; j++)
        if (!strncmp(s->lines[i].code, synth_special_prefixes[j],
                     strlen(synth_special_prefixes[j])))
          st->listed_lines++;
      for (size_t j = 0; synth_efficacy_prefixes[j]; j++)
        if (!strncmp(s->lines[i].code, synth_efficacy_prefixes[j],
                     strlen(synth_efficacy_prefixes[j])))
          st->listed_lines++;
    }
  if (s->fund > s->inscp)
    st->excess_rows++;
}

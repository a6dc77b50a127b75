#include "compat.h"
#include "rng.h"

/* splitmix64's step: the state advances by the golden-ratio increment. */
static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = *x;
  *x += UINT64_C(0x9e3779b97f4a7c15);
  return rng_mix64(z);
}

void rng_seed(struct rng *r, uint64_t seed)
{
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
  /* xoshiro's one bad state; splitmix64 never gives four zero words, but say so */
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
    r->s[0] = 1;
}

void rng_seed3(struct rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
  rng_seed(r, rng_mix64(rng_mix64(rng_mix64(seed) ^ a) ^ b));
}

size_t rng_pick(struct rng *r, const uint32_t *w, size_t n)
{
  uint64_t sum = 0, u;
  size_t i;
  for (i = 0; i < n; i++)
    sum += w[i];
  u = rng_below(r, sum);
  for (i = 0; i + 1 < n; i++) {
    if (u < w[i])
      return i;
    u -= w[i];
  }
  return n - 1;
}

/*
 * ln(2)^k / k! in Q62, k = 1..7 (computed with python3: round(log(2)**k /
 * factorial(k) * 2**62)): the Taylor series of 2^f = e^(f ln 2) on [0, 1),
 * whose first omitted term is below 1.3e-6.
 */
static const uint64_t exp2_coef[7] = {
    UINT64_C(3196577161300663808), UINT64_C(1107849223398934272), UINT64_C(255967521894832096),
    UINT64_C(44355791529079736),   UINT64_C(6149018367977264),    UINT64_C(710362457495793),
    UINT64_C(70340819226978),
};

#define Q62_ONE (UINT64_C(1) << 62)

/* 2^f in Q62 for f in Q62, 0 <= f < 1: a value in [2^62, 2^63). */
static uint64_t exp2_frac_q62(uint64_t f)
{
  uint64_t p = exp2_coef[6];
  for (int k = 5; k >= 0; k--)
    p = exp2_coef[k] + (uint64_t)(((rng_u128)p * f) >> 62);
  return Q62_ONE + (uint64_t)(((rng_u128)p * f) >> 62);
}

/* floor(v / 65536) and the remainder in [0, 65536), without relying on >> of negatives. */
static void split_q16(int64_t v, int64_t *ip, uint64_t *frac)
{
  int64_t q = v >= 0 ? v / 65536 : -((-v + 65535) / 65536);
  *ip = q;
  *frac = (uint64_t)(v - q * 65536);
}

int64_t rng_scale_exp2(int64_t value, int64_t x_q16, int64_t max)
{
  int64_t ip;
  uint64_t frac, m;
  rng_u128 prod;
  int shift;

  if (value <= 0)
    return 0;
  split_q16(x_q16, &ip, &frac);
  if (ip > 62)
    return max;
  if (ip < -70)
    return 0;
  m = exp2_frac_q62(frac << 46);
  prod = (rng_u128)(uint64_t)value * m; /* < 2^126 */
  shift = 62 - (int)ip;                 /* 0 .. 132 */
  if (shift >= 128)
    return 0;
  prod >>= shift;
  if (prod > (rng_u128)max)
    return max;
  return (int64_t)prod;
}

int64_t rng_log2_q16(uint64_t x)
{
  int ip;
  uint64_t y;
  int64_t frac = 0;

  if (!x)
    return INT64_MIN;
  ip = 63 - __builtin_clzll(x);
  y = ip <= 62 ? x << (62 - ip) : x >> 1; /* the mantissa in [1, 2), Q62 */
  for (int i = 0; i < 16; i++) {
    y = (uint64_t)(((rng_u128)y * y) >> 62);
    frac <<= 1;
    if (y >= (UINT64_C(1) << 63)) {
      frac |= 1;
      y >>= 1;
    }
  }
  return (int64_t)ip * 65536 + frac;
}

/* e^(-m/1000) in Q64 for 0 < m <= 16000 (the Poisson chunk). */
static uint64_t exp_neg_q64(uint32_t m)
{
  /* 2^(64 - m log2(e) / 1000); log2(e) = 1.442695040888963 */
  int64_t v = 64 * 65536 - (int64_t)(((rng_u128)m * 65536 * UINT64_C(1442695040889)) /
                                     UINT64_C(1000000000000000));
  int64_t ip;
  uint64_t frac, p;
  split_q16(v, &ip, &frac);
  p = exp2_frac_q62(frac << 46);
  return ip >= 62 ? p << (ip - 62) : p >> (62 - ip);
}

#define POISSON_CHUNK 16000

uint32_t rng_poisson(struct rng *r, uint32_t mean_milli)
{
  uint32_t k = 0;
  /* Knuth's product of uniforms, in chunks of mean 16 so that e^-mean
   * keeps 40 significant bits in Q64; a sum of Poissons is Poisson. */
  while (mean_milli > 0) {
    uint32_t m = mean_milli > POISSON_CHUNK ? POISSON_CHUNK : mean_milli;
    uint64_t limit = exp_neg_q64(m), p = UINT64_MAX;
    mean_milli -= m;
    for (;;) {
      p = (uint64_t)(((rng_u128)p * rng_next(r)) >> 64);
      if (p <= limit)
        break;
      k++;
    }
  }
  return k;
}

int32_t rng_normal_milli(struct rng *r)
{
  int64_t s = 0;
  for (int i = 0; i < 3; i++) {
    uint64_t x = rng_next(r);
    s += (int64_t)(x & 0xffff) + (int64_t)((x >> 16) & 0xffff) + (int64_t)((x >> 32) & 0xffff) +
         (int64_t)(x >> 48);
  }
  /* (sum - 12 x 32767.5) / 65536 has mean 0 and variance 12 x 1/12 = 1 */
  return (int32_t)((2 * s - 12 * 65535) * 1000 / 131072);
}

int64_t rng_lognormal(struct rng *r, int64_t median, uint32_t sigma_milli, int64_t max)
{
  int64_t t = (int64_t)sigma_milli * rng_normal_milli(r); /* sigma Z in 10^-6 */
  /* exp(sigma Z) = 2^(sigma Z log2(e)) */
  hmb_i128 v = (hmb_i128)t * 65536 * INT64_C(1442695040889) / INT64_C(1000000000000000000);
  return rng_scale_exp2(median, (int64_t)v, max);
}

int64_t rng_pareto(struct rng *r, int64_t xmin, uint32_t alpha_milli, int64_t max)
{
  uint64_t u = (rng_next(r) >> 11) + 1;     /* uniform in (0, 1] as u / 2^53 */
  int64_t l = rng_log2_q16(u) - 53 * 65536; /* log2 of the uniform, <= 0 */
  if (alpha_milli < 100)
    alpha_milli = 100;
  /* xmin x U^(-1/alpha) = xmin x 2^(-log2(U) / alpha) */
  return rng_scale_exp2(xmin, -l * 1000 / (int64_t)alpha_milli, max);
}

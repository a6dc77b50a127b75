/*
 * rng.h - a fast seeded pseudo-random generator and integer-only random
 * variates, for synthetic data (hmb gen) and tests.
 *
 * The generator is xoshiro256** (Blackman and Vigna, 2018) seeded through
 * splitmix64. Every variate below is computed with integer arithmetic only
 * (no floating point, no libm): the same seed gives the same numbers on every
 * machine, compiler and C library, which a floating-point exp() or log()
 * would not promise. Fixed-point formats are named by their suffix: _q16
 * has 16 fraction bits, _milli is thousandths.
 *
 * Not for secrets: use libsodium's randombytes_buf() for keys and tokens.
 *
 * Streams: rng_seed3(r, seed, a, b) gives an independent stream for each
 * (a, b), e.g. (person, event), so that a record's numbers do not depend on
 * how many numbers other records drew or in which order they were made.
 *
 * Threads: a struct rng is plain state owned by its caller; distinct
 * generators may be used by distinct threads.
 */
#ifndef HMB_RNG_H
#define HMB_RNG_H

#include "compat.h"

__extension__ typedef unsigned __int128 rng_u128;

struct rng {
  uint64_t s[4];
};

/* splitmix64's finaliser: a stateless bijective 64-bit mix. */
static inline uint64_t rng_mix64(uint64_t z)
{
  z += UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Seed from one 64-bit value (the four state words come from splitmix64). */
void rng_seed(struct rng *r, uint64_t seed);

/* Seed the stream of (a, b) under `seed`. */
void rng_seed3(struct rng *r, uint64_t seed, uint64_t a, uint64_t b);

static inline uint64_t rng_rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

/* The next 64 uniform bits (xoshiro256**). */
static inline uint64_t rng_next(struct rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng_rotl(s[3], 45);
  return result;
}

/* Uniform in [0, n) by a 128-bit multiply (bias below n / 2^64); 0 when n is 0. */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
  return (uint64_t)(((rng_u128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi] (lo <= hi). */
static inline int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
  return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo) + 1);
}

/* true with probability ppm / 10^6. */
static inline bool rng_ppm(struct rng *r, uint32_t ppm)
{
  return rng_below(r, 1000000) < ppm;
}

/*
 * An index drawn from integer weights w[0..n) (at least one positive):
 * i with probability w[i] / sum(w).
 */
size_t rng_pick(struct rng *r, const uint32_t *w, size_t n);

/* Poisson with mean mean_milli / 1000 (at most 10^7 thousandths). */
uint32_t rng_poisson(struct rng *r, uint32_t mean_milli);

/*
 * A standard normal variate in thousandths, by the sum of twelve uniforms
 * (Irwin-Hall): mean 0, variance 1, tails cut at +-6.
 */
int32_t rng_normal_milli(struct rng *r);

/*
 * value x 2^(x_q16 / 65536), truncated, for value >= 0; `max` when the
 * result would exceed it (or overflow). Relative error below 10^-5.
 */
int64_t rng_scale_exp2(int64_t value, int64_t x_q16, int64_t max);

/* log2(x) for x >= 1, in 1/65536 (truncated, error below 2^-15). */
int64_t rng_log2_q16(uint64_t x);

/*
 * Lognormal: median x exp(sigma x Z), Z standard normal, sigma in
 * thousandths; capped at max.
 */
int64_t rng_lognormal(struct rng *r, int64_t median, uint32_t sigma_milli, int64_t max);

/*
 * Pareto: P(X > x) = (xmin / x)^alpha for x >= xmin, alpha in thousandths
 * (>= 100); capped at max.
 */
int64_t rng_pareto(struct rng *r, int64_t xmin, uint32_t alpha_milli, int64_t max);

#endif /* HMB_RNG_H */

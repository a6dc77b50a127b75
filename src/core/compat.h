/*
 * compat.h - included first by every .c file of hmb (git's git-compat-util.h).
 *
 * Brings in the C library headers the project relies on, the BUG() and
 * ASSERT() macros for broken invariants, and banned.h, which turns calls to
 * misuse-prone libc functions into compile errors.
 */
#ifndef HMB_COMPAT_H
#define HMB_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define HMB_NORETURN     __attribute__((noreturn))
#define HMB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HMB_LIKELY(x)    __builtin_expect(!!(x), 1)
#define HMB_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#else
#define HMB_NORETURN
#define HMB_PRINTF(f, a)
#define HMB_LIKELY(x)   (x)
#define HMB_UNLIKELY(x) (x)
#endif

/*
 * BUG() reports a broken internal invariant and aborts. It is never the
 * answer to bad input: input errors are returned as an hmb_status.
 */
HMB_NORETURN void hmb_bug_fl(const char *file, int line, const char *fmt, ...) HMB_PRINTF(3, 4);
#define BUG(...) hmb_bug_fl(__FILE__, __LINE__, __VA_ARGS__)

/* ASSERT() is checked in every build: the engine is cheap enough to afford it. */
#define ASSERT(cond)                                                                               \
  do {                                                                                             \
    if (HMB_UNLIKELY(!(cond)))                                                                     \
      BUG("assertion failed: %s", #cond);                                                          \
  } while (0)

/* 128-bit intermediates for products of money and basis points. */
__extension__ typedef __int128 hmb_i128;

/*
 * Allocation wrappers: every allocation goes through these so that a test
 * build can inject failure. They return NULL on failure; callers turn that
 * into HMB_NOMEM.
 */
void *hmb_malloc(size_t n);
void *hmb_calloc(size_t n, size_t size);
/*
 * n zeroed bytes on whole cache lines of their own (freed with free()):
 * for an object one thread writes all the time while another thread
 * writes its neighbour, which would otherwise share a line with it and
 * make it travel between the cores at every write.
 */
#define HMB_CACHE_LINE 64
void *hmb_calloc_lines(size_t n);
void *hmb_realloc(void *p, size_t n);
/* Like hmb_realloc for an array of nmemb elements; NULL on overflow too. */
void *hmb_reallocarray(void *p, size_t nmemb, size_t size);
char *hmb_strndup(const char *s, size_t n);
/* Test hook: make the n-th allocation from now on fail (0 disables). */
void hmb_alloc_fail_after(unsigned long n);

#include "banned.h"

#endif /* HMB_COMPAT_H */

#include "compat.h"

/* Countdown for failure injection; 0 = off. Not thread-safe by design: tests only. */
static unsigned long fail_countdown;

void hmb_alloc_fail_after(unsigned long n)
{
  fail_countdown = n;
}

static bool should_fail(void)
{
  if (!fail_countdown)
    return false;
  if (--fail_countdown == 0)
    return true;
  return false;
}

void *hmb_malloc(size_t n)
{
  if (should_fail())
    return NULL;
  return malloc(n ? n : 1);
}

void *hmb_calloc(size_t n, size_t size)
{
  if (should_fail())
    return NULL;
  return calloc(n ? n : 1, size ? size : 1);
}

void *hmb_calloc_lines(size_t n)
{
  size_t sz = (n ? n : 1) + HMB_CACHE_LINE - 1;
  void *p;
  if (sz < n || should_fail())
    return NULL;
  sz -= sz % HMB_CACHE_LINE;
  p = aligned_alloc(HMB_CACHE_LINE, sz);
  if (p)
    memset(p, 0, sz);
  return p;
}

void *hmb_realloc(void *p, size_t n)
{
  if (should_fail())
    return NULL;
  return realloc(p, n ? n : 1);
}

void *hmb_reallocarray(void *p, size_t nmemb, size_t size)
{
  if (size && nmemb > SIZE_MAX / size)
    return NULL;
  return hmb_realloc(p, nmemb * size);
}

char *hmb_strndup(const char *s, size_t n)
{
  char *d = hmb_malloc(n + 1);
  if (!d)
    return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

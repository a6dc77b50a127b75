#include "compat.h"
#include "err.h"

void hmb_bug_fl(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "BUG: %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void hmb_utf8_truncate(char *s, size_t max)
{
  size_t len = strnlen(s, max);
  size_t i, lead, need;
  if (max == 0)
    return;
  if (len >= max)
    len = max - 1;
  s[len] = '\0';
  /* drop a trailing multi-byte sequence that the cut left incomplete */
  i = len;
  while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
    i--;
  if (i == 0 || (i == len && ((unsigned char)s[len - 1] & 0x80) == 0))
    return;
  lead = (unsigned char)s[i - 1];
  need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (len - (i - 1) < need)
    s[i - 1] = '\0';
}

static void copy_trunc(char *dst, size_t max, const char *src)
{
  size_t n = strlen(src);
  if (n >= max)
    n = max - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  hmb_utf8_truncate(dst, max);
}

enum hmb_status hmb_err_set(struct hmb_err *err, enum hmb_status status, const char *code,
                            const char *field, const char *fmt, ...)
{
  va_list ap;
  if (!err)
    return status;
  err->status = status;
  copy_trunc(err->code, sizeof(err->code), code ? code : "");
  copy_trunc(err->field, sizeof(err->field), field ? field : "");
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  hmb_utf8_truncate(err->message, sizeof(err->message));
  return status;
}

void hmb_err_prefix(struct hmb_err *err, const char *prefix)
{
  char tmp[2 * HMB_ERR_FIELD_MAX + 2];
  if (!err || !prefix || !*prefix)
    return;
  {
    size_t pl = strnlen(prefix, HMB_ERR_FIELD_MAX), fl = strnlen(err->field, HMB_ERR_FIELD_MAX);
    memcpy(tmp, prefix, pl);
    if (fl && err->field[0] != '[')
      tmp[pl++] = '.';
    memcpy(tmp + pl, err->field, fl);
    tmp[pl + fl] = '\0';
    copy_trunc(err->field, sizeof(err->field), tmp);
  }
}

const char *hmb_status_name(enum hmb_status status)
{
  switch (status) {
  case HMB_OK: return "ok";
  case HMB_INVALID: return "invalid";
  case HMB_NOMEM: return "nomem";
  case HMB_IO: return "io";
  case HMB_TOO_LARGE: return "too_large";
  case HMB_NOT_FOUND: return "not_found";
  case HMB_CONFLICT: return "conflict";
  case HMB_OVERFLOW: return "overflow";
  case HMB_UNSUPPORTED: return "unsupported";
  }
  return "unknown";
}

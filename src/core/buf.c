#include "compat.h"
#include "buf.h"
#include "money.h"

char hmb_buf_empty[1];

void buf_init(struct buf *b, size_t limit)
{
  b->ptr = hmb_buf_empty;
  b->len = 0;
  b->alloc = 0;
  b->limit = limit;
}

void buf_release(struct buf *b)
{
  if (b->alloc)
    free(b->ptr);
  buf_init(b, b->limit);
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  /* never write the shared empty string: other threads read it */
  if (b->alloc)
    b->ptr[0] = '\0';
  else
    b->ptr = hmb_buf_empty;
}

char *buf_detach(struct buf *b, size_t *len)
{
  char *p;
  size_t n = b->len;
  if (!b->alloc) {
    p = hmb_malloc(1);
    if (p)
      p[0] = '\0';
  } else {
    p = b->ptr;
  }
  if (len)
    *len = p ? n : 0;
  buf_init(b, b->limit);
  return p;
}

enum hmb_status buf_grow(struct buf *b, size_t extra)
{
  size_t need, n;
  char *p;
  if (extra > b->limit || b->len > b->limit - extra)
    return HMB_TOO_LARGE;
  need = b->len + extra + 1;
  if (need <= b->alloc)
    return HMB_OK;
  n = b->alloc ? b->alloc : 64;
  while (n < need)
    n = n > SIZE_MAX / 2 ? need : n * 2;
  if (n > b->limit + 1)
    n = b->limit + 1;
  p = hmb_realloc(b->alloc ? b->ptr : NULL, n);
  if (!p)
    return HMB_NOMEM;
  if (!b->alloc)
    p[0] = '\0';
  b->ptr = p;
  b->alloc = n;
  return HMB_OK;
}

enum hmb_status buf_add_slow(struct buf *b, const void *data, size_t n)
{
  enum hmb_status result = buf_grow(b, n);
  if (result)
    return result;
  memcpy(b->ptr + b->len, data, n);
  b->len += n;
  b->ptr[b->len] = '\0';
  return HMB_OK;
}

enum hmb_status buf_addf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  enum hmb_status result;
  char small[256];

  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0)
    BUG("vsnprintf failed for format %s", fmt);
  if ((size_t)n < sizeof(small))
    return buf_add(b, small, (size_t)n);
  result = buf_grow(b, (size_t)n);
  if (result)
    return result;
  va_start(ap, fmt);
  vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return HMB_OK;
}

enum hmb_status buf_add_money(struct buf *b, int64_t fen)
{
  char t[HMB_MONEY_TEXT_MAX];
  size_t n = money_format(fen, t);
  return buf_add(b, t, n);
}

static enum hmb_status json_str(struct buf *b, const char *s, size_t n)
{
  enum hmb_status result = buf_addch(b, '"');
  size_t i, start = 0;
  for (i = 0; i < n && !result; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[8];
    if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\r')
      esc = "\\r";
    else if (c == '\t')
      esc = "\\t";
    else if (c < 0x20) {
      snprintf(u, sizeof(u), "\\u%04x", c);
      esc = u;
    }
    if (esc) {
      result = buf_add(b, s + start, i - start);
      if (!result)
        result = buf_addstr(b, esc);
      start = i + 1;
    }
  }
  if (!result)
    result = buf_add(b, s + start, n - start);
  if (!result)
    result = buf_addch(b, '"');
  return result;
}

/* On failure, put the buffer back as it was (the header's promise). */
static enum hmb_status undo_on_error(struct buf *b, size_t len, enum hmb_status result)
{
  if (result) {
    b->len = len;
    b->ptr[len] = '\0';
  }
  return result;
}

enum hmb_status buf_add_json_str(struct buf *b, const char *s, size_t n)
{
  size_t len = b->len;
  return undo_on_error(b, len, json_str(b, s, n));
}

static enum hmb_status csv_field(struct buf *b, const char *s, size_t n);
enum hmb_status buf_add_csv_field(struct buf *b, const char *s, size_t n)
{
  size_t len = b->len;
  return undo_on_error(b, len, csv_field(b, s, n));
}

static enum hmb_status csv_field(struct buf *b, const char *s, size_t n)
{
  size_t i;
  bool quote = false;
  enum hmb_status result;
  for (i = 0; i < n; i++)
    if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') {
      quote = true;
      break;
    }
  if (!quote)
    return buf_add(b, s, n);
  result = buf_addch(b, '"');
  for (i = 0; i < n && !result; i++) {
    if (s[i] == '"')
      result = buf_addch(b, '"');
    if (!result)
      result = buf_addch(b, s[i]);
  }
  if (!result)
    result = buf_addch(b, '"');
  return result;
}

enum hmb_status buf_read_file(struct buf *b, const char *path, struct hmb_err *err)
{
  FILE *f = fopen(path, "rb");
  char chunk[65536];
  size_t n;
  enum hmb_status result = HMB_OK;
  if (!f)
    return hmb_err_set(err, HMB_IO, "file.open", path, "无法打开文件：%s", strerror(errno));
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    result = buf_add(b, chunk, n);
    if (result == HMB_TOO_LARGE) {
      hmb_err_set(err, result, "file.too_large", path, "文件超过上限 %zu 字节", b->limit);
      break;
    }
    if (result) {
      hmb_err_set(err, result, "nomem", path, "内存不足");
      break;
    }
  }
  if (!result && ferror(f))
    result = hmb_err_set(err, HMB_IO, "file.read", path, "读取文件失败");
  fclose(f);
  return result;
}

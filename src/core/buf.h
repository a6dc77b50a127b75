/*
 * buf.h - a growable byte buffer with a hard ceiling (git's strbuf with
 * curl's "toobig" limit).
 *
 * Invariants: ptr is always NUL-terminated (ptr[len] == '\0'), even when
 * empty (it then points at a static empty string and alloc == 0); len never
 * exceeds limit. Growing past the limit is a normal error (HMB_TOO_LARGE),
 * not a crash, and leaves the buffer as it was.
 *
 * Ownership: the buffer owns ptr. buf_release() frees it and leaves an empty
 * buffer that may be reused; buf_detach() is the only way to take ptr, and
 * the caller then frees it with free().
 */
#ifndef HMB_BUF_H
#define HMB_BUF_H

#include "err.h"

struct buf {
  char *ptr;
  size_t len;
  size_t alloc;
  size_t limit;
};

extern char hmb_buf_empty[];
#define BUF_INIT(lim)                                                                              \
  {                                                                                                \
    hmb_buf_empty, 0, 0, (lim)                                                                     \
  }

void buf_init(struct buf *b, size_t limit);
void buf_release(struct buf *b);
/* Returns the string (never NULL, caller frees) and resets b to empty. */
char *buf_detach(struct buf *b, size_t *len);
/* Ensure room for `extra` more bytes plus the NUL. */
enum hmb_status buf_grow(struct buf *b, size_t extra);
enum hmb_status buf_add_slow(struct buf *b, const void *data, size_t n);

/* Append n bytes; the common case (room left) is inline. */
static inline enum hmb_status buf_add(struct buf *b, const void *data, size_t n)
{
  if (b->len + n < b->alloc) {
    memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return HMB_OK;
  }
  return buf_add_slow(b, data, n);
}

static inline enum hmb_status buf_addstr(struct buf *b, const char *s)
{
  return buf_add(b, s, strlen(s));
}

static inline enum hmb_status buf_addch(struct buf *b, char c)
{
  if (b->len + 1 < b->alloc) {
    b->ptr[b->len++] = c;
    b->ptr[b->len] = '\0';
    return HMB_OK;
  }
  return buf_add_slow(b, &c, 1);
}
enum hmb_status buf_addf(struct buf *b, const char *fmt, ...) HMB_PRINTF(2, 3);
/* Append fen as "123.45". */
enum hmb_status buf_add_money(struct buf *b, int64_t fen);
/* Append s as a JSON string literal with quotes, escaping as RFC 8259 asks. */
enum hmb_status buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Append s as one CSV field, quoted only when it must be (RFC 4180). */
enum hmb_status buf_add_csv_field(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b);

/*
 * Read a whole file into b (up to b->limit bytes). Returns HMB_IO with err
 * naming the path when it cannot be read, HMB_TOO_LARGE when it is bigger.
 */
enum hmb_status buf_read_file(struct buf *b, const char *path, struct hmb_err *err);

#endif /* HMB_BUF_H */

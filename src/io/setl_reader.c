#include "compat.h"
#include "setl_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_SPLIT 1
#endif

/*
 * Layout of this file: a byte source (a mapped file, a read window over a
 * pipe, or borrowed memory), the CSV row scanner on top of it, the field
 * tables shared by both formats, the details store, the JSON-lines scanner,
 * then the reader itself.
 *
 * The hot path is an unquoted CSV row: one memchr for the row end, one for a
 * quote, then the fields are split in place and each known column is parsed
 * straight from the row bytes into the settlement. Nothing is allocated or
 * copied per row except the text fields into their fixed arrays.
 */

/* Room for one row plus its terminator: every row fits a read window. */
#define SRC_BUF_SIZE     (4u * 1024u * 1024u)
#define ROW_SPAN         ((size_t)SETL_ROW_MAX + 2)
#define DETAIL_ERRS_KEPT 100
#define MSZ(T, m)        sizeof(((T *)0)->m)

/* ---------------------------------------------------------------- errors */

/*
 * Rewrite err->field as "PATH:LINE:FIELD" (or "PATH:LINE" when empty). A
 * path too long for the field buffer is shortened to its last component.
 */
static void locate(struct hmb_err *err, const char *path, unsigned long line)
{
  char tmp[2 * HMB_ERR_FIELD_MAX + 32];
  const char *sep;
  int n;
  if (!err)
    return;
  sep = err->field[0] ? ":" : "";
  n = snprintf(tmp, sizeof(tmp), "%s:%lu%s%s", path, line, sep, err->field);
  if (n < 0 || (size_t)n >= HMB_ERR_FIELD_MAX) {
    const char *base = strrchr(path, '/');
    snprintf(tmp, sizeof(tmp), "%s:%lu%s%s", base ? base + 1 : path, line, sep, err->field);
  }
  hmb_utf8_truncate(tmp, HMB_ERR_FIELD_MAX);
  memcpy(err->field, tmp, HMB_ERR_FIELD_MAX);
}

static enum hmb_status nomem(struct hmb_err *err, const char *field)
{
  return hmb_err_set(err, HMB_NOMEM, "io.nomem", field, "内存不足");
}

static const char *errno_text(int e, char *buf, size_t n)
{
  /* GNU strerror_r: returns a string that may or may not be buf. */
  return strerror_r(e, buf, n);
}

/* No byte of x is below 0x20 or at or above 0x7f (false negatives only). */
static inline bool ascii_printable8(uint64_t x)
{
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  uint64_t low = (x - 0x20 * ones) & ~x & highs;
  uint64_t high = ((x + ones) | x) & highs;
  return !(low | high);
}

bool setl_text_ok(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s, *e = p + n;
  while (e - p >= 8) {
    uint64_t x;
    memcpy(&x, p, sizeof(x));
    if (!ascii_printable8(x))
      break;
    p += 8;
  }
  while (p < e) {
    unsigned c = *p;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return false;
      p++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      if (e - p < 2 || (p[1] & 0xc0) != 0x80)
        return false;
      p += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      if (e - p < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
        return false;
      p += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      if (e - p < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
        return false;
      p += 4;
    } else {
      return false;
    }
  }
  return true;
}

static unsigned long count_nl(const char *p, size_t n)
{
  unsigned long k = 0;
  const char *e = p + n;
  while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
    k++;
    p++;
  }
  return k;
}

/* ---------------------------------------------------------------- source */

struct src {
  char *name; /* owned copy, for messages */
  int fd;     /* read side of a stream, -1 otherwise */
  bool close_fd;
  void *map; /* mmap of a regular file */
  size_t map_len;
  char *buf;        /* read window of a stream */
  const char *data; /* the bytes at hand: map, buf or borrowed memory */
  size_t len;
  size_t pos;         /* next unread byte */
  bool at_eof;        /* nothing beyond data[len] */
  bool failed;        /* a read failed: stay failed */
  unsigned long line; /* line number of data[pos] */
  unsigned long gen;  /* changes whenever data[] is refilled */
};

static void src_init(struct src *s)
{
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  s->data = "";
  s->line = 1;
}

static void src_release(struct src *s)
{
  if (s->map)
    munmap(s->map, s->map_len);
  if (s->close_fd && s->fd >= 0)
    close(s->fd);
  free(s->buf);
  free(s->name);
  src_init(s);
}

static enum hmb_status src_fill(struct src *s, struct hmb_err *err)
{
  ssize_t n;
  char eb[128];
  if (s->failed)
    return hmb_err_set(err, HMB_IO, "io.read", s->name, "读取文件失败");
  if (s->at_eof)
    return HMB_OK;
  s->gen++;
  if (s->pos) {
    memmove(s->buf, s->buf + s->pos, s->len - s->pos);
    s->len -= s->pos;
    s->pos = 0;
  }
  if (s->len >= SRC_BUF_SIZE)
    BUG("read window full");
  do
    n = read(s->fd, s->buf + s->len, SRC_BUF_SIZE - s->len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    s->failed = true;
    return hmb_err_set(err, HMB_IO, "io.read", s->name, "读取文件失败：%s",
                       errno_text(errno, eb, sizeof(eb)));
  }
  if (n == 0)
    s->at_eof = true;
  s->len += (size_t)n;
  return HMB_OK;
}

/* Skip a UTF-8 byte order mark at the very start. */
static enum hmb_status src_start(struct src *s, struct hmb_err *err)
{
  enum hmb_status result;
  while (s->len < 3 && !s->at_eof) {
    result = src_fill(s, err);
    if (result)
      return result;
  }
  if (s->len >= 3 && memcmp(s->data, "\xEF\xBB\xBF", 3) == 0)
    s->pos = 3;
  return HMB_OK;
}

static enum hmb_status src_open_mem(struct src *s, const char *name, const char *data, size_t len,
                                    struct hmb_err *err)
{
  src_init(s);
  s->name = hmb_strndup(name, strlen(name));
  if (!s->name)
    return nomem(err, name);
  s->data = len ? data : "";
  s->len = len;
  s->at_eof = true;
  return src_start(s, err);
}

static enum hmb_status src_open_file(struct src *s, const char *path, struct hmb_err *err)
{
  struct stat st;
  char eb[128];
  src_init(s);
  s->name = hmb_strndup(path, strlen(path));
  if (!s->name)
    return nomem(err, path);
  if (strcmp(path, "-") == 0) {
    s->fd = 0;
  } else {
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
      return hmb_err_set(err, HMB_IO, "io.open", path, "无法打开文件：%s",
                         errno_text(errno, eb, sizeof(eb)));
    s->close_fd = true;
  }
  if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode) && s->fd != 0) {
    if (st.st_size == 0) {
      s->at_eof = true;
      return HMB_OK;
    }
    if ((uint64_t)st.st_size <= (uint64_t)SIZE_MAX) {
      void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, s->fd, 0);
      if (m != MAP_FAILED) {
        (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
        /* what a fault reads from disk comes in 2 MiB folios (where the
         * file system has large folios: ext4 from Linux 6.16), mapped with
         * one page-table entry each, now and by later readers: a file
         * cached in 4 KiB folios costs a 10-million-row read 0.17-0.25 s
         * more CPU in faults and unmapping (docs/gen.md) */
        (void)madvise(m, (size_t)st.st_size, MADV_HUGEPAGE);
        s->map = m;
        s->map_len = (size_t)st.st_size;
        s->data = m;
        s->len = s->map_len;
        s->at_eof = true;
        close(s->fd);
        s->fd = -1;
        s->close_fd = false;
        return src_start(s, err);
      }
    }
  }
  s->buf = hmb_malloc(SRC_BUF_SIZE);
  if (!s->buf)
    return nomem(err, path);
  s->data = s->buf;
  return src_start(s, err);
}

/*
 * Move past the end of the physical line that contains data[from] (from >=
 * pos), counting lines: used to get back in step after a broken row.
 */
static enum hmb_status src_skip_line(struct src *s, size_t from, struct hmb_err *err)
{
  enum hmb_status result;
  s->line += count_nl(s->data + s->pos, from - s->pos);
  s->pos = from;
  for (;;) {
    const char *nl = memchr(s->data + s->pos, '\n', s->len - s->pos);
    if (nl) {
      s->pos = (size_t)(nl - s->data) + 1;
      s->line++;
      return HMB_OK;
    }
    s->pos = s->len;
    if (s->at_eof)
      return HMB_OK;
    result = src_fill(s, err);
    if (result)
      return result;
  }
}

/* ---------------------------------------------------------------- CSV rows */

struct csvr {
  struct src src;
  size_t ncols;
  char *names;      /* the header's names, NUL-separated */
  size_t *name_off; /* ncols offsets into names */
  bool have_header;
  struct csvr_field *fields; /* fcap entries */
  size_t fcap;               /* SETL_COLS_MAX for the header, then its width */
  size_t nf;                 /* fields of the last row (may exceed fcap) */
  char *scratch;             /* unescaped quoted fields: ROW_SPAN bytes, made on first use */
  unsigned long row_line;
  size_t resync; /* after a row error: skip the line holding this offset */
  /* the fused path of setl_reader: rows that start before fast_end end
   * with a '\n' before it (fast_gen: src.gen it was computed for) */
  size_t fast_end;
  unsigned long fast_gen;
  bool fast_known;
};

enum row_rc { ROW_OK, ROW_BLANK, ROW_MORE, ROW_EOF, ROW_ERR };

#define NO_RESYNC SIZE_MAX

static const char *col_label(const struct csvr *c, size_t col)
{
  if (c->have_header && col < c->ncols)
    return c->names + c->name_off[col];
  return "";
}

static enum row_rc field_too_large(struct csvr *c, size_t col, struct hmb_err *err,
                                   enum hmb_status *st)
{
  *st = hmb_err_set(err, HMB_TOO_LARGE, "csv.field_too_large", col_label(c, col),
                    "字段过长：最多 %u 字节", SETL_FIELD_MAX);
  return ROW_ERR;
}

static enum row_rc row_too_large(struct csvr *c, size_t resync, struct hmb_err *err,
                                 enum hmb_status *st)
{
  c->resync = resync;
  *st = hmb_err_set(err, HMB_TOO_LARGE, "csv.row_too_large", "", "行过长：最多 %u 字节",
                    SETL_ROW_MAX);
  return ROW_ERR;
}

static inline void put_field(struct csvr *c, size_t n, const char *p, size_t len)
{
  if (n < c->fcap) {
    c->fields[n].p = p;
    c->fields[n].len = len;
  }
}

/*
 * The general RFC 4180 row, from data[pos]: quoted fields may hold commas,
 * doubled quotes and line breaks. A quote inside an unquoted field is taken
 * literally. Text after a closing quote other than a separator is an error.
 */
static enum row_rc parse_quoted(struct csvr *c, struct hmb_err *err, enum hmb_status *st)
{
  struct src *s = &c->src;
  const char *p = s->data + s->pos, *e = s->data + s->len;
  const char *lim = (size_t)(e - p) > ROW_SPAN ? p + ROW_SPAN : e;
  bool cut = lim < e; /* the row limit, not the data, ends the window */
  const char *q = p, *row_end = NULL, *next = NULL;
  char *w;
  unsigned long lines = 0;
  size_t n = 0, big_col = SIZE_MAX;

  if (!c->scratch) {
    c->scratch = hmb_malloc(ROW_SPAN);
    if (!c->scratch) {
      *st = nomem(err, "");
      return ROW_ERR;
    }
  }
  w = c->scratch;

  for (;;) {
    const char *fp;
    size_t flen;
    if (q < lim && *q == '"') {
      const char *seg = ++q;
      char *wstart = w;
      bool copied = false;
      for (;;) {
        const char *quote = memchr(q, '"', (size_t)(lim - q));
        if (!quote) {
          if (cut)
            return row_too_large(c, (size_t)(lim - s->data), err, st);
          if (!s->at_eof)
            return ROW_MORE;
          c->resync = s->len;
          *st = hmb_err_set(err, HMB_INVALID, "csv.unterminated_quote", col_label(c, n),
                            "引号没有闭合：字段从此处起一直到文件末尾");
          return ROW_ERR;
        }
        lines += count_nl(q, (size_t)(quote - q));
        if (quote + 1 == lim) {
          if (cut)
            return row_too_large(c, (size_t)(lim - s->data), err, st);
          if (!s->at_eof)
            return ROW_MORE;
        }
        if (quote + 1 < lim && quote[1] == '"') {
          size_t k = (size_t)(quote + 1 - seg);
          memcpy(w, seg, k);
          w += k;
          copied = true;
          seg = q = quote + 2;
          continue;
        }
        if (copied) {
          size_t k = (size_t)(quote - seg);
          memcpy(w, seg, k);
          w += k;
          fp = wstart;
          flen = (size_t)(w - wstart);
        } else {
          fp = seg;
          flen = (size_t)(quote - seg);
        }
        q = quote + 1;
        break;
      }
      if (flen > SETL_FIELD_MAX && big_col == SIZE_MAX)
        big_col = n;
      put_field(c, n++, fp, flen);
      if (q == lim) {
        /* at_eof and not cut: checked above */
        row_end = next = q;
      } else if (*q == ',') {
        q++;
        continue;
      } else if (*q == '\n') {
        row_end = q;
        next = q + 1;
        lines++;
      } else if (*q == '\r' && q + 1 < lim && q[1] == '\n') {
        row_end = q;
        next = q + 2;
        lines++;
      } else if (*q == '\r' && q + 1 == lim && !cut && s->at_eof) {
        row_end = q;
        next = q + 1;
      } else if (*q == '\r' && q + 1 == lim) {
        if (cut)
          return row_too_large(c, (size_t)(lim - s->data), err, st);
        return ROW_MORE;
      } else {
        c->resync = (size_t)(q - s->data);
        *st = hmb_err_set(err, HMB_INVALID, "csv.after_quote", col_label(c, n - 1),
                          "引号格式错误：闭合引号后应为逗号或换行");
        return ROW_ERR;
      }
      break;
    } else {
      const char *f = q, *fe;
      while (q < lim && *q != ',' && *q != '\n')
        q++;
      if (q == lim) {
        if (cut)
          return row_too_large(c, (size_t)(lim - s->data), err, st);
        if (!s->at_eof)
          return ROW_MORE;
      }
      fe = q;
      if ((q == lim || *q == '\n') && fe > f && fe[-1] == '\r')
        fe--;
      flen = (size_t)(fe - f);
      if (flen > SETL_FIELD_MAX && big_col == SIZE_MAX)
        big_col = n;
      put_field(c, n++, f, flen);
      if (q < lim && *q == ',') {
        q++;
        continue;
      }
      row_end = fe;
      if (q < lim) {
        next = q + 1;
        lines++;
      } else {
        next = q;
      }
      break;
    }
  }
  if ((size_t)(row_end - p) > SETL_ROW_MAX)
    return row_too_large(c, (size_t)(row_end - s->data), err, st);
  c->nf = n;
  s->line += lines;
  s->pos = (size_t)(next - s->data);
  if (big_col != SIZE_MAX)
    return field_too_large(c, big_col, err, st);
  return ROW_OK;
}

/*
 * Split the row at p on commas up to its '\n' (returned; NULL when there
 * is none before lim, the last field then running to lim). Stops early with
 * *quoted set when a '"' comes before the row's end: the caller then parses
 * the row again with parse_quoted(). SSE2 finds commas, line feeds and
 * quotes sixteen bytes at a time.
 */
static const char *scan_plain(struct csvr *c, const char *p, const char *lim, bool *quoted)
{
  const char *f = p, *q = p;
  size_t n = 0;
#if defined(__SSE2__)
  const __m128i vc = _mm_set1_epi8(','), vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8('"');
  while (lim - q >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
    unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vc));
    unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vn));
    unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq));
    if (HMB_UNLIKELY(mn | mq)) {
      unsigned below = mn ? (mn & (0u - mn)) - 1 : 0xffffu;
      if (mq & below) {
        *quoted = true;
        return NULL;
      }
      if (mn) {
        const char *nl = q + __builtin_ctz(mn);
        mc &= below;
        while (mc) {
          const char *cp = q + __builtin_ctz(mc);
          put_field(c, n++, f, (size_t)(cp - f));
          f = cp + 1;
          mc &= mc - 1;
        }
        put_field(c, n++, f, (size_t)(nl - f));
        c->nf = n;
        return nl;
      }
    }
    while (mc) {
      const char *cp = q + __builtin_ctz(mc);
      put_field(c, n++, f, (size_t)(cp - f));
      f = cp + 1;
      mc &= mc - 1;
    }
    q += 16;
  }
#endif
  for (; q < lim; q++) {
    char ch = *q;
    if (ch == ',') {
      put_field(c, n++, f, (size_t)(q - f));
      f = q + 1;
    } else if (ch == '\n') {
      put_field(c, n++, f, (size_t)(q - f));
      c->nf = n;
      return q;
    } else if (ch == '"') {
      *quoted = true;
      return NULL;
    }
  }
  put_field(c, n++, f, (size_t)(lim - f));
  c->nf = n;
  return NULL;
}

static enum row_rc parse_row(struct csvr *c, struct hmb_err *err, enum hmb_status *st)
{
  struct src *s = &c->src;
  const char *p, *e, *lim, *nl, *re, *ce;
  bool quoted = false;
  size_t i;

  c->resync = NO_RESYNC;
  if (s->pos >= s->len)
    return s->at_eof ? ROW_EOF : ROW_MORE;
  p = s->data + s->pos;
  e = s->data + s->len;
  lim = (size_t)(e - p) > ROW_SPAN ? p + ROW_SPAN : e;
  c->row_line = s->line;
  nl = scan_plain(c, p, lim, &quoted);
  if (quoted)
    return parse_quoted(c, err, st);
  if (nl) {
    re = nl;
  } else {
    if (lim < e)
      return row_too_large(c, (size_t)(lim - s->data), err, st);
    if (!s->at_eof)
      return ROW_MORE;
    re = e;
  }
  ce = re;
  if (ce > p && ce[-1] == '\r') {
    ce--;
    if (c->nf <= c->fcap)
      c->fields[c->nf - 1].len--;
  }
  s->pos = nl ? (size_t)(nl - s->data) + 1 : s->len;
  if (nl)
    s->line++;
  if (ce == p)
    return ROW_BLANK;
  if ((size_t)(ce - p) > SETL_ROW_MAX) {
    *st = hmb_err_set(err, HMB_TOO_LARGE, "csv.row_too_large", "", "行过长：最多 %u 字节",
                      SETL_ROW_MAX);
    return ROW_ERR;
  }
  if (HMB_UNLIKELY((size_t)(ce - p) > SETL_FIELD_MAX)) {
    for (i = 0; i < c->nf && i < c->fcap; i++)
      if (c->fields[i].len > SETL_FIELD_MAX)
        return field_too_large(c, i, err, st);
  }
  return ROW_OK;
}

/*
 * Scan rows until one is complete (blank lines skipped), refilling a stream's
 * window as needed; a row error is returned after getting back in step.
 */
static enum hmb_status next_row(struct csvr *c, bool *eof, struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  *eof = false;
  for (;;) {
    switch (parse_row(c, err, &result)) {
    case ROW_OK: return HMB_OK;
    case ROW_BLANK: continue;
    case ROW_MORE:
      result = src_fill(&c->src, err);
      if (result)
        return result;
      continue;
    case ROW_EOF: *eof = true; return HMB_OK;
    case ROW_ERR:
      if (c->resync != NO_RESYNC && src_skip_line(&c->src, c->resync, NULL))
        return hmb_err_set(err, HMB_IO, "io.read", c->src.name, "读取文件失败");
      csvr_locate(c, err);
      return result;
    }
  }
}

static void trim_span(const char **p, size_t *n)
{
  while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
    (*p)++;
    (*n)--;
  }
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
    (*n)--;
}

static enum hmb_status csvr_read_header(struct csvr *c, struct hmb_err *err)
{
  enum hmb_status result;
  bool eof;
  size_t i, total = 0, off = 0;

  result = next_row(c, &eof, err);
  if (result)
    return result;
  if (eof) {
    hmb_err_set(err, HMB_INVALID, "csv.empty", "", "文件为空：缺少表头行");
    locate(err, c->src.name, c->src.line);
    return HMB_INVALID;
  }
  if (c->nf > SETL_COLS_MAX) {
    hmb_err_set(err, HMB_TOO_LARGE, "csv.columns", "", "表头列数过多：最多 %u 列", SETL_COLS_MAX);
    csvr_locate(c, err);
    return HMB_TOO_LARGE;
  }
  for (i = 0; i < c->nf; i++)
    total += c->fields[i].len + 1;
  c->names = hmb_malloc(total);
  c->name_off = hmb_calloc(c->nf, sizeof(*c->name_off));
  if (!c->names || !c->name_off)
    return nomem(err, c->src.name);
  for (i = 0; i < c->nf; i++) {
    const char *p = c->fields[i].p;
    size_t n = c->fields[i].len;
    trim_span(&p, &n);
    if (!setl_text_ok(p, n)) {
      hmb_err_set(err, HMB_INVALID, "csv.header", "", "表头第 %zu 列的名称不是有效的 UTF-8 文本",
                  i + 1);
      csvr_locate(c, err);
      return HMB_INVALID;
    }
    c->name_off[i] = off;
    memcpy(c->names + off, p, n);
    c->names[off + n] = '\0';
    off += n + 1;
  }
  c->ncols = c->nf;
  c->have_header = true;
  /* Data rows need room for the header's width only: more is an error. */
  {
    struct csvr_field *f = hmb_reallocarray(c->fields, c->ncols ? c->ncols : 1, sizeof(*f));
    if (f) {
      c->fields = f;
      c->fcap = c->ncols ? c->ncols : 1;
    }
  }
  return HMB_OK;
}

/* Takes over *s (left released) whatever the outcome. */
static enum hmb_status csvr_from_src(struct csvr **out, struct src *s, struct hmb_err *err)
{
  enum hmb_status result;
  /* on lines of its own: the splitting thread writes its position at
   * every row, and no object the converting thread reads may share those
   * lines (perf had found up to a fifth of the splitting thread's time in
   * the two stores of fast_advance(); see also batch_split()) */
  struct csvr *c = hmb_calloc_lines(sizeof(*c));
  *out = NULL;
  if (!c) {
    result = nomem(err, s->name);
    src_release(s);
    return result;
  }
  c->src = *s;
  src_init(s);
  c->fields = hmb_reallocarray(NULL, SETL_COLS_MAX, sizeof(*c->fields));
  c->fcap = SETL_COLS_MAX;
  if (!c->fields) {
    result = nomem(err, c->src.name);
    csvr_free(c);
    return result;
  }
  result = csvr_read_header(c, err);
  if (result) {
    csvr_free(c);
    return result;
  }
  *out = c;
  return HMB_OK;
}

enum hmb_status csvr_open(struct csvr **out, const char *path, struct hmb_err *err)
{
  struct src s;
  enum hmb_status result = src_open_file(&s, path, err);
  *out = NULL;
  if (result) {
    src_release(&s);
    return result;
  }
  return csvr_from_src(out, &s, err);
}

enum hmb_status csvr_open_mem(struct csvr **out, const char *name, const char *data, size_t len,
                              struct hmb_err *err)
{
  struct src s;
  enum hmb_status result = src_open_mem(&s, name, data, len, err);
  *out = NULL;
  if (result) {
    src_release(&s);
    return result;
  }
  return csvr_from_src(out, &s, err);
}

size_t csvr_ncols(const struct csvr *c)
{
  return c->ncols;
}

const char *csvr_colname(const struct csvr *c, size_t i)
{
  if (i >= c->ncols)
    BUG("column %zu of %zu", i, c->ncols);
  return c->names + c->name_off[i];
}

enum hmb_status csvr_next(struct csvr *c, const struct csvr_field **fields, bool *eof,
                          struct hmb_err *err)
{
  enum hmb_status result = next_row(c, eof, err);
  *fields = NULL;
  if (result || *eof)
    return result;
  if (c->nf != c->ncols) {
    hmb_err_set(err, HMB_INVALID, "csv.columns", "", "列数与表头不符：表头 %zu 列，本行 %zu 列",
                c->ncols, c->nf);
    csvr_locate(c, err);
    return HMB_INVALID;
  }
  *fields = c->fields;
  return HMB_OK;
}

unsigned long csvr_line(const struct csvr *c)
{
  return c->row_line;
}

size_t csvr_estimate_rows(const struct csvr *c)
{
  const struct src *s = &c->src;
  size_t rest, n, nl;
  if (!s->at_eof || s->pos >= s->len)
    return 0; /* a stream (or nothing left) */
  rest = s->len - s->pos;
  n = rest < ((size_t)64 << 10) ? rest : (size_t)64 << 10;
  nl = count_nl(s->data + s->pos, n);
  return (size_t)((uint64_t)nl * rest / n) + 1;
}

void csvr_locate(const struct csvr *c, struct hmb_err *err)
{
  locate(err, c->src.name, c->row_line);
}

void csvr_locate_line(const struct csvr *c, unsigned long line, struct hmb_err *err)
{
  locate(err, c->src.name, line);
}

void csvr_free(struct csvr *c)
{
  if (!c)
    return;
  src_release(&c->src);
  free(c->names);
  free(c->name_off);
  free(c->fields);
  free(c->scratch);
  free(c);
}

/* ---------------------------------------------------------------- fields */

enum fkind {
  FK_ID,       /* identifier text */
  FK_TEXT,     /* other text */
  FK_CODE,     /* digit-string code into int32 */
  FK_MONEY,    /* yuan into fen */
  FK_TIME,     /* datetime */
  FK_TXN,      /* transaction code into enum setl_kind */
  FK_OUTFILED, /* 0/1 into int8 */
  FK_CNT,      /* quantity into 1/10000 units */
  FK_DETAILS,  /* JSON "details" array */
  FK_KEY       /* the details file's setl_id */
};

enum { REQ_NO = 0, REQ_SETTLE, REQ_ALWAYS };

struct fdesc {
  const char *name;
  uint8_t len;
  uint8_t kind;
  uint8_t req;
  uint16_t off;
  uint16_t cap;
  int32_t max;
};

#define SDN(n, k, r, m, x)                                                                         \
  {                                                                                                \
    n, sizeof(n) - 1, k, r, offsetof(struct settlement, m), MSZ(struct settlement, m), x           \
  }
#define SD(m, k, r, x) SDN(#m, k, r, m, x)

enum { F_SETL_ID = 0, F_MDTRT_ID, F_PSN_NO, F_TXN = 12, F_DETAILS = 30, F__COUNT };

static const struct fdesc setl_fields[] = {
    SD(setl_id, FK_ID, REQ_ALWAYS, 0),
    SD(mdtrt_id, FK_ID, REQ_NO, 0),
    SD(psn_no, FK_ID, REQ_ALWAYS, 0),
    SD(insutype, FK_CODE, REQ_NO, 999),
    SD(med_type, FK_CODE, REQ_SETTLE, 999999),
    SD(psn_type, FK_CODE, REQ_NO, 99999999),
    SD(hosp_lv, FK_CODE, REQ_NO, 99),
    SD(setl_time, FK_TIME, REQ_SETTLE, 0),
    SD(mdtrtarea_admvs, FK_TEXT, REQ_NO, 0),
    SD(dise_codg, FK_TEXT, REQ_NO, 0),
    SDN("hmb_flags", FK_TEXT, REQ_NO, flags, 0),
    SD(out_filed, FK_OUTFILED, REQ_NO, 0),
    SDN("txn", FK_TXN, REQ_NO, kind, 0),
    SD(medfee_sumamt, FK_MONEY, REQ_SETTLE, 0),
    SD(fulamt_ownpay_amt, FK_MONEY, REQ_SETTLE, 0),
    SD(overlmt_selfpay, FK_MONEY, REQ_SETTLE, 0),
    SD(preselfpay_amt, FK_MONEY, REQ_SETTLE, 0),
    SD(inscp_scp_amt, FK_MONEY, REQ_SETTLE, 0),
    SD(act_pay_dedc, FK_MONEY, REQ_NO, 0),
    SD(hifp_pay, FK_MONEY, REQ_NO, 0),
    SD(hifmi_pay, FK_MONEY, REQ_NO, 0),
    SD(hifob_pay, FK_MONEY, REQ_NO, 0),
    SD(maf_pay, FK_MONEY, REQ_NO, 0),
    SD(cvlserv_pay, FK_MONEY, REQ_NO, 0),
    SD(hifes_pay, FK_MONEY, REQ_NO, 0),
    SD(oth_pay, FK_MONEY, REQ_NO, 0),
    SD(fund_pay_sumamt, FK_MONEY, REQ_SETTLE, 0),
    SD(psn_part_amt, FK_MONEY, REQ_SETTLE, 0),
    SD(acct_pay, FK_MONEY, REQ_NO, 0),
    SD(psn_cash_pay, FK_MONEY, REQ_NO, 0),
    {"details", 7, FK_DETAILS, REQ_NO, 0, 0, 0},
};

#define LD(m, k, r)                                                                                \
  {                                                                                                \
#m, sizeof(#m) - 1, k, r, offsetof(struct setl_line, m), MSZ(struct setl_line, m), 0           \
  }

/* Entry 0 is the join key of the details file; JSON details skip it. */
static const struct fdesc line_fields[] = {
    {"setl_id", 7, FK_KEY, REQ_ALWAYS, 0, SETL_ID_MAX, 0},
    LD(med_list_codg, FK_TEXT, REQ_ALWAYS),
    LD(chrgitm_lv, FK_TEXT, REQ_NO),
    LD(med_chrgitm_type, FK_TEXT, REQ_NO),
    LD(det_item_fee_sumamt, FK_MONEY, REQ_ALWAYS),
    LD(fulamt_ownpay_amt, FK_MONEY, REQ_NO),
    LD(overlmt_amt, FK_MONEY, REQ_NO),
    LD(preselfpay_amt, FK_MONEY, REQ_NO),
    LD(inscp_scp_amt, FK_MONEY, REQ_NO),
    {"cnt", 3, FK_CNT, REQ_NO, offsetof(struct setl_line, cnt_e4), 8, 0},
};
#define NLINE_FIELDS ARRAY_SIZE(line_fields)

_Static_assert(ARRAY_SIZE(setl_fields) == F__COUNT, "setl_fields and F__COUNT disagree");

static int fd_lookup(const struct fdesc *tab, size_t n, const char *name, size_t len)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (tab[i].len == len && memcmp(tab[i].name, name, len) == 0)
      return (int)i;
  return -1;
}

static enum hmb_status parse_code(const char *t, size_t n, int32_t max, int32_t *out,
                                  const char *field, struct hmb_err *err)
{
  int32_t v = 0;
  size_t i;
  if (n > 9)
    return hmb_err_set(err, HMB_INVALID, "code.range", field, "代码过长：最大为 %" PRId32, max);
  for (i = 0; i < n; i++) {
    if (t[i] < '0' || t[i] > '9')
      return hmb_err_set(err, HMB_INVALID, "code.syntax", field, "代码应为数字，如 310");
    v = v * 10 + (t[i] - '0');
  }
  if (v > max)
    return hmb_err_set(err, HMB_INVALID, "code.range", field, "代码超出范围：0 到 %" PRId32, max);
  *out = v;
  return HMB_OK;
}

static enum hmb_status parse_txn(const char *t, size_t n, enum setl_kind *out, const char *field,
                                 struct hmb_err *err)
{
  if (n == 4 && (memcmp(t, "2207", 4) == 0 || memcmp(t, "2304", 4) == 0)) {
    *out = SETL_SETTLE;
    return HMB_OK;
  }
  if (n == 4 && (memcmp(t, "2208", 4) == 0 || memcmp(t, "2305", 4) == 0)) {
    *out = SETL_REVERSAL;
    return HMB_OK;
  }
  return hmb_err_set(err, HMB_INVALID, "txn.unknown", field,
                     "交易代码应为 2207 或 2304（结算）、2208 或 2305（冲正）");
}

enum hmb_status setl_parse_cnt(const char *s, size_t len, int64_t *out_e4, const char *field,
                               struct hmb_err *err)
{
  /* 10^11 units = 10^15 in 1/10000 units: far inside int64. */
  const int64_t limit = INT64_C(1000000000000000);
  size_t i = 0, nint = 0, ndec = 0;
  bool neg = false;
  int64_t v = 0;
  if (len == 0)
    return hmb_err_set(err, HMB_INVALID, "cnt.empty", field, "数量为空");
  if (s[0] == '-') {
    neg = true;
    i = 1;
  }
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nint++) {
    v = v * 10 + (s[i] - '0');
    if (v > limit / 10000)
      return hmb_err_set(err, HMB_INVALID, "cnt.range", field, "数量超出允许范围");
  }
  if (nint == 0)
    return hmb_err_set(err, HMB_INVALID, "cnt.syntax", field, "数量格式错误：应为数字，如 2.5");
  if (i < len && s[i] == '.') {
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndec++) {
      if (ndec >= 4)
        return hmb_err_set(err, HMB_INVALID, "cnt.decimals", field, "数量最多四位小数");
      v = v * 10 + (s[i] - '0');
    }
    if (ndec == 0)
      return hmb_err_set(err, HMB_INVALID, "cnt.syntax", field, "数量格式错误：小数点后缺少数字");
  }
  if (i != len)
    return hmb_err_set(err, HMB_INVALID, "cnt.syntax", field,
                       "数量格式错误：含有非法字符，应为如 2.5 的十进制数");
  for (; ndec < 4; ndec++)
    v *= 10;
  *out_e4 = neg ? -v : v;
  return HMB_OK;
}

/*
 * The common case of money_parse(): "-?d{1,13}(.d{1,2})?" within the money
 * limit, parsed exactly. Anything else (including every error) goes to
 * money_parse(), which accepts the same texts with the same values.
 */
static inline bool money_fast(const char *t, size_t n, hmb_fen *out)
{
  size_t i = 0, nd = 0;
  bool neg = false;
  int64_t v = 0;
  if (n == 0 || n > 18)
    return false;
  if (t[0] == '-') {
    neg = true;
    i = 1;
  }
  for (; i < n && (unsigned)(t[i] - '0') < 10u; i++, nd++)
    v = v * 10 + (t[i] - '0');
  if (nd == 0 || nd > 13)
    return false;
  if (i == n)
    v *= 100;
  else if (t[i] == '.' && n - i == 2 && (unsigned)(t[i + 1] - '0') < 10u)
    v = v * 100 + (t[i + 1] - '0') * 10;
  else if (t[i] == '.' && n - i == 3 && (unsigned)(t[i + 1] - '0') < 10u &&
           (unsigned)(t[i + 2] - '0') < 10u)
    v = v * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
  else
    return false;
  if (v > HMB_FEN_LIMIT)
    return false;
  *out = neg ? -v : v;
  return true;
}

/* Parse non-empty text t[0..n) as field d of the struct at base. */
static enum hmb_status store_field(void *base, const struct fdesc *d, const char *t, size_t n,
                                   struct hmb_err *err)
{
  enum hmb_status result;
  char *dst = (char *)base + d->off;
  switch ((enum fkind)d->kind) {
  case FK_ID:
  case FK_TEXT:
  case FK_KEY:
    if (n >= d->cap)
      return hmb_err_set(err, HMB_INVALID, "text.too_long", d->name, "文本过长：最多 %u 字节",
                         (unsigned)d->cap - 1);
    if (!setl_text_ok(t, n))
      return hmb_err_set(err, HMB_INVALID, "text.invalid", d->name,
                         "文本含有非法字符：须为 UTF-8 且不含控制字符");
    memcpy(dst, t, n);
    dst[n] = '\0';
    return HMB_OK;
  case FK_MONEY: {
    hmb_fen v = 0;
    if (!money_fast(t, n, &v)) {
      result = money_parse(t, n, &v, d->name, err);
      if (result)
        return result;
    }
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_CODE: {
    int32_t v = 0;
    result = parse_code(t, n, d->max, &v, d->name, err);
    if (result)
      return result;
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_TIME: {
    hmb_time v = 0;
    result = datetime_parse(t, n, &v, d->name, err);
    if (result)
      return result;
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_TXN: {
    enum setl_kind v = SETL_SETTLE;
    result = parse_txn(t, n, &v, d->name, err);
    if (result)
      return result;
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_OUTFILED: {
    int8_t v;
    if (n != 1 || (t[0] != '0' && t[0] != '1'))
      return hmb_err_set(err, HMB_INVALID, "out_filed.syntax", d->name, "异地备案标志应为 0 或 1");
    v = (int8_t)(t[0] - '0');
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_CNT: {
    int64_t v = 0;
    result = setl_parse_cnt(t, n, &v, d->name, err);
    if (result)
      return result;
    memcpy(dst, &v, sizeof(v));
    return HMB_OK;
  }
  case FK_DETAILS: break;
  }
  BUG("field %s of kind %d stored as text", d->name, d->kind);
}

static enum hmb_status missing(const struct fdesc *d, struct hmb_err *err)
{
  return hmb_err_set(err, HMB_INVALID, "field.missing", d->name, "缺少必填字段 %s", d->name);
}

static void setl_defaults(struct settlement *s)
{
  if (!s->mdtrt_id[0])
    memcpy(s->mdtrt_id, s->setl_id, sizeof(s->mdtrt_id));
}

/* ---------------------------------------------------------------- details */

struct det_group {
  uint64_t hash;
  uint32_t start, count;
  int32_t err; /* index into gerrs, -1 when the lines are good */
  bool matched;
  char id[SETL_ID_MAX];
};

struct details {
  char *name;
  struct setl_line *lines;
  size_t nlines, alines;
  uint32_t *gidx; /* group of each line while loading */
  struct det_group *groups;
  size_t ngroups, agroups;
  uint64_t *slots;       /* open addressing: hash tag << 32 | group index + 1; 0 empty */
  size_t nslots;         /* power of two */
  struct hmb_err *gerrs; /* first error of each bad group */
  size_t ngerrs, agerrs;
  struct hmb_err orphans[DETAIL_ERRS_KEPT];
  size_t norphans; /* total, may exceed DETAIL_ERRS_KEPT */
  uint32_t last;   /* group of the previous row: files come grouped */
  bool have_last;
  uint64_t *bloom;   /* two bits per group: most rows have no details */
  size_t bloom_mask; /* bits - 1 */
};

static void details_free(struct details *d)
{
  if (!d)
    return;
  free(d->name);
  free(d->lines);
  free(d->gidx);
  free(d->bloom);
  free(d->groups);
  free(d->slots);
  free(d->gerrs);
  free(d);
}

/* Slots keep the hash's high half as a tag: probing reads no group. */
static inline uint64_t det_slot(uint64_t h, size_t g)
{
  return (h & ~UINT64_C(0xffffffff)) | (g + 1);
}

static struct det_group *det_find_h(const struct details *d, const char *id, size_t n, uint64_t h)
{
  size_t mask, i;
  uint64_t tag = h & ~UINT64_C(0xffffffff);
  if (!d->nslots || n >= SETL_ID_MAX)
    return NULL;
  mask = d->nslots - 1;
  i = (size_t)h & mask;
  for (;;) {
    uint64_t v = d->slots[i];
    if (!v)
      return NULL;
    if ((v & ~UINT64_C(0xffffffff)) == tag) {
      struct det_group *g = &d->groups[(v & 0xffffffffu) - 1];
      if (memcmp(g->id, id, n) == 0 && g->id[n] == '\0')
        return g;
    }
    i = (i + 1) & mask;
  }
}

static struct det_group *det_find(const struct details *d, const char *id, size_t n)
{
  return d->nslots ? det_find_h(d, id, n, setl_key_hash(id, n)) : NULL;
}

static enum hmb_status det_rehash(struct details *d, size_t nslots)
{
  uint64_t *slots = hmb_calloc(nslots, sizeof(*slots));
  size_t g;
  if (!slots)
    return HMB_NOMEM;
  for (g = 0; g < d->ngroups; g++) {
    size_t i = (size_t)d->groups[g].hash & (nslots - 1);
    while (slots[i])
      i = (i + 1) & (nslots - 1);
    slots[i] = det_slot(d->groups[g].hash, g);
  }
  free(d->slots);
  d->slots = slots;
  d->nslots = nslots;
  return HMB_OK;
}

/* Find or add the group of id (valid text shorter than SETL_ID_MAX). */
static enum hmb_status det_group_of(struct details *d, const char *id, size_t n, uint32_t *out)
{
  uint64_t h;
  struct det_group *g;
  size_t i;
  if (d->have_last && memcmp(d->groups[d->last].id, id, n) == 0 &&
      d->groups[d->last].id[n] == '\0') {
    *out = d->last;
    return HMB_OK;
  }
  h = setl_key_hash(id, n);
  g = det_find_h(d, id, n, h);
  if (g) {
    *out = d->last = (uint32_t)(g - d->groups);
    d->have_last = true;
    return HMB_OK;
  }
  if (d->ngroups >= UINT32_MAX - 1)
    return HMB_TOO_LARGE;
  if ((d->ngroups + 1) * 2 > d->nslots && det_rehash(d, d->nslots ? d->nslots * 2 : 1024) != HMB_OK)
    return HMB_NOMEM;
  if (d->ngroups == d->agroups) {
    size_t na = d->agroups ? d->agroups * 2 : 256;
    struct det_group *ng = hmb_reallocarray(d->groups, na, sizeof(*ng));
    if (!ng)
      return HMB_NOMEM;
    d->groups = ng;
    d->agroups = na;
  }
  g = &d->groups[d->ngroups];
  memset(g, 0, sizeof(*g));
  g->hash = h;
  g->err = -1;
  memcpy(g->id, id, n);
  g->id[n] = '\0';
  i = (size_t)g->hash & (d->nslots - 1);
  while (d->slots[i])
    i = (i + 1) & (d->nslots - 1);
  d->slots[i] = det_slot(h, d->ngroups);
  *out = d->last = (uint32_t)d->ngroups++;
  d->have_last = true;
  return HMB_OK;
}

static void det_orphan(struct details *d, const struct hmb_err *e)
{
  if (d->norphans < DETAIL_ERRS_KEPT)
    d->orphans[d->norphans] = *e;
  d->norphans++;
}

static enum hmb_status det_group_error(struct details *d, uint32_t g, const struct hmb_err *e)
{
  if (d->groups[g].err >= 0)
    return HMB_OK;
  if (d->ngerrs >= INT32_MAX)
    return HMB_TOO_LARGE;
  if (d->ngerrs == d->agerrs) {
    size_t na = d->agerrs ? d->agerrs * 2 : 16;
    struct hmb_err *ne = hmb_reallocarray(d->gerrs, na, sizeof(*ne));
    if (!ne)
      return HMB_NOMEM;
    d->gerrs = ne;
    d->agerrs = na;
  }
  d->gerrs[d->ngerrs] = *e;
  d->groups[g].err = (int32_t)d->ngerrs++;
  return HMB_OK;
}

static enum hmb_status det_append(struct details *d, const struct setl_line *ln, uint32_t g)
{
  if (d->nlines >= UINT32_MAX - 1)
    return HMB_TOO_LARGE;
  if (d->nlines == d->alines) {
    size_t na = d->alines ? d->alines * 2 : 1024;
    struct setl_line *nl = hmb_reallocarray(d->lines, na, sizeof(*nl));
    uint32_t *ni;
    if (!nl)
      return HMB_NOMEM;
    d->lines = nl;
    ni = hmb_reallocarray(d->gidx, na, sizeof(*ni));
    if (!ni)
      return HMB_NOMEM;
    d->gidx = ni;
    d->alines = na;
  }
  d->lines[d->nlines] = *ln;
  d->gidx[d->nlines++] = g;
  d->groups[g].count++;
  return HMB_OK;
}

/*
 * Make each group's lines contiguous, in file order, without a second copy
 * of the lines: compute every line's destination, then follow the cycles of
 * that permutation swapping in place.
 */
static void det_finish(struct details *d)
{
  size_t g, i;
  uint32_t run = 0;
  for (g = 0; g < d->ngroups; g++) {
    d->groups[g].start = run;
    run += d->groups[g].count;
  }
  for (i = 0; i < d->nlines; i++)
    d->gidx[i] = d->groups[d->gidx[i]].start++;
  for (g = 0; g < d->ngroups; g++)
    d->groups[g].start -= d->groups[g].count;
  for (i = 0; i < d->nlines; i++) {
    while (d->gidx[i] != i) {
      uint32_t j = d->gidx[i], tj;
      struct setl_line tl = d->lines[j];
      d->lines[j] = d->lines[i];
      d->lines[i] = tl;
      tj = d->gidx[j];
      d->gidx[j] = j;
      d->gidx[i] = tj;
    }
  }
  free(d->gidx);
  d->gidx = NULL;
}

/* Build the filter once all detail groups are known. */
static bool bloom_build(struct details *d)
{
  size_t bits = 1024, g;
  while (bits < d->ngroups * 16)
    bits *= 2;
  d->bloom = hmb_calloc(bits / 64, sizeof(uint64_t));
  if (!d->bloom)
    return false;
  d->bloom_mask = bits - 1;
  for (g = 0; g < d->ngroups; g++) {
    uint64_t h = d->groups[g].hash, a = h & d->bloom_mask, b = (h >> 32) & d->bloom_mask;
    d->bloom[a / 64] |= UINT64_C(1) << (a % 64);
    d->bloom[b / 64] |= UINT64_C(1) << (b % 64);
  }
  return true;
}

static bool bloom_maybe(const struct details *d, uint64_t h)
{
  uint64_t a = h & d->bloom_mask, b = (h >> 32) & d->bloom_mask;
  return (d->bloom[a / 64] >> (a % 64) & 1) && (d->bloom[b / 64] >> (b % 64) & 1);
}

/* One row of the details file: a bad row is recorded, never fatal. */
static enum hmb_status det_row(struct details *d, struct csvr *c, const int8_t *colmap,
                               size_t idcol, const size_t *fcol, const struct csvr_field *f)
{
  const struct csvr_field *id = &f[idcol];
  struct hmb_err e;
  struct setl_line ln;
  uint32_t g;
  size_t i;
  enum hmb_status result;

  hmb_err_init(&e);
  if (id->len == 0 || id->len >= SETL_ID_MAX || !setl_text_ok(id->p, id->len)) {
    if (id->len == 0)
      missing(&line_fields[0], &e);
    else if (id->len >= SETL_ID_MAX)
      hmb_err_set(&e, HMB_INVALID, "text.too_long", "setl_id", "文本过长：最多 %u 字节",
                  (unsigned)SETL_ID_MAX - 1);
    else
      hmb_err_set(&e, HMB_INVALID, "text.invalid", "setl_id",
                  "文本含有非法字符：须为 UTF-8 且不含控制字符");
    csvr_locate(c, &e);
    det_orphan(d, &e);
    return HMB_OK;
  }
  result = det_group_of(d, id->p, id->len, &g);
  if (result)
    return result;
  memset(&ln, 0, sizeof(ln));
  for (i = 0; i < csvr_ncols(c); i++) {
    int k = colmap[i];
    if (k <= 0 || f[i].len == 0)
      continue;
    if (store_field(&ln, &line_fields[k], f[i].p, f[i].len, &e)) {
      csvr_locate(c, &e);
      return det_group_error(d, g, &e);
    }
  }
  for (i = 1; i < NLINE_FIELDS; i++) {
    if (line_fields[i].req == REQ_ALWAYS && f[fcol[i]].len == 0) {
      missing(&line_fields[i], &e);
      csvr_locate(c, &e);
      return det_group_error(d, g, &e);
    }
  }
  return det_append(d, &ln, g);
}

/* Load the whole details file behind c (header already read). */
static enum hmb_status details_load(struct details **out, struct csvr *c, struct hmb_err *err)
{
  struct details *d;
  int8_t *colmap = NULL;
  size_t fcol[NLINE_FIELDS];
  size_t i, ncols = csvr_ncols(c);
  enum hmb_status result = HMB_OK;

  *out = NULL;
  d = hmb_calloc(1, sizeof(*d));
  colmap = hmb_calloc(ncols, 1);
  if (!d || !colmap) {
    result = nomem(err, c->src.name);
    goto done;
  }
  d->name = hmb_strndup(c->src.name, strlen(c->src.name));
  if (!d->name) {
    result = nomem(err, c->src.name);
    goto done;
  }
  for (i = 0; i < NLINE_FIELDS; i++)
    fcol[i] = SIZE_MAX;
  for (i = 0; i < ncols; i++) {
    const char *name = csvr_colname(c, i);
    int k = fd_lookup(line_fields, NLINE_FIELDS, name, strlen(name));
    colmap[i] = -1;
    if (k < 0)
      continue;
    if (fcol[k] != SIZE_MAX) {
      result =
          hmb_err_set(err, HMB_INVALID, "csv.duplicate_column", name, "表头中 %s 列重复", name);
      locate(err, c->src.name, csvr_line(c));
      goto done;
    }
    fcol[k] = i;
    colmap[i] = (int8_t)k;
  }
  for (i = 0; i < NLINE_FIELDS; i++) {
    if (line_fields[i].req == REQ_ALWAYS && fcol[i] == SIZE_MAX) {
      result = hmb_err_set(err, HMB_INVALID, "csv.missing_column", line_fields[i].name,
                           "费用明细文件缺少必需的列 %s", line_fields[i].name);
      locate(err, c->src.name, csvr_line(c));
      goto done;
    }
  }
  for (;;) {
    const struct csvr_field *f;
    struct hmb_err e;
    bool eof;
    hmb_err_init(&e);
    result = csvr_next(c, &f, &eof, &e);
    if (result == HMB_IO || result == HMB_NOMEM) {
      if (err)
        *err = e;
      goto done;
    }
    if (result) {
      det_orphan(d, &e);
      continue;
    }
    if (eof)
      break;
    result = det_row(d, c, colmap, fcol[0], fcol, f);
    if (result) {
      if (result == HMB_TOO_LARGE)
        hmb_err_set(err, result, "details.too_large", d->name,
                    "费用明细文件过大：行数或结算数过多");
      else
        nomem(err, d->name);
      goto done;
    }
  }
  det_finish(d);
  /* built now, not at the first lookup: rows may be converted on two
   * threads at once (setl_reader_convert) */
  if (d->ngroups && !bloom_build(d)) {
    result = nomem(err, d->name);
    goto done;
  }
  result = HMB_OK;
done:
  free(colmap);
  if (result)
    details_free(d);
  else
    *out = d;
  return result;
}

/* ---------------------------------------------------------------- JSON */

struct jctx {
  const char *s, *p, *e;
  struct hmb_err *err;
};

#define JSON_VALUE_MAX     256 /* decoded value of a known key (text fields are shorter) */
#define JSON_KEY_MAX       256
#define JSON_UNKNOWN_MAX   256
#define JSON_UNKNOWN_BYTES 8192

static enum hmb_status jsyntax(struct jctx *j, const char *what)
{
  char f[32];
  snprintf(f, sizeof(f), "@%zu", (size_t)(j->p - j->s) + 1);
  return hmb_err_set(j->err, HMB_INVALID, "json.syntax", f, "JSON 格式错误：%s", what);
}

static void jws(struct jctx *j)
{
  while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool hex4(const char *p, const char *e, uint32_t *out)
{
  uint32_t v = 0;
  int i;
  if (e - p < 4)
    return false;
  for (i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0)
      return false;
    v = v << 4 | (uint32_t)h;
  }
  *out = v;
  return true;
}

static size_t utf8_put(uint32_t cp, char *o)
{
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
  o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* Length of the valid UTF-8 sequence at p (a non-ASCII lead), 0 if invalid. */
static size_t utf8_len(const char *p, const char *e)
{
  size_t k;
  unsigned c = (unsigned char)*p;
  if (c >= 0xc2 && c <= 0xdf)
    k = 2;
  else if (c >= 0xe0 && c <= 0xef)
    k = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    k = 4;
  else
    return 0;
  if ((size_t)(e - p) < k)
    return 0;
  /* setl_text_ok checks the ranges; the lead is not a control character. */
  return setl_text_ok(p, k) ? k : 0;
}

/*
 * Decode the string at j->p (on its opening quote) into dst[0..cap), NUL
 * terminated when it fits; *n receives the full decoded length (dst holds
 * only its first cap - 1 bytes when n >= cap). dst may be NULL.
 */
static enum hmb_status jstring(struct jctx *j, char *dst, size_t cap, size_t *n)
{
  size_t len = 0;
  const char *p = j->p + 1, *e = j->e;
  for (;;) {
    char tmp[4];
    const char *src;
    size_t k;
    unsigned char c;
    if (p >= e) {
      j->p = p;
      return jsyntax(j, "字符串缺少结束引号");
    }
    c = (unsigned char)*p;
    if (c == '"') {
      p++;
      break;
    }
    if (c == '\\') {
      uint32_t cp;
      if (e - p < 2) {
        j->p = p;
        return jsyntax(j, "字符串缺少结束引号");
      }
      src = tmp;
      k = 1;
      switch (p[1]) {
      case '"': tmp[0] = '"'; break;
      case '\\': tmp[0] = '\\'; break;
      case '/': tmp[0] = '/'; break;
      case 'b': tmp[0] = '\b'; break;
      case 'f': tmp[0] = '\f'; break;
      case 'n': tmp[0] = '\n'; break;
      case 'r': tmp[0] = '\r'; break;
      case 't': tmp[0] = '\t'; break;
      case 'u':
        if (!hex4(p + 2, e, &cp)) {
          j->p = p;
          return jsyntax(j, "\\u 后应为四位十六进制数");
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
          j->p = p;
          return jsyntax(j, "孤立的 UTF-16 低位代理项");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (e - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, e, &lo) || lo < 0xdc00 ||
              lo > 0xdfff) {
            j->p = p;
            return jsyntax(j, "UTF-16 高位代理项后缺少低位代理项");
          }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
        if (cp == 0) {
          j->p = p;
          return jsyntax(j, "字符串中不允许 \\u0000");
        }
        k = utf8_put(cp, tmp);
        p += 4;
        break;
      default: j->p = p; return jsyntax(j, "非法的转义序列");
      }
      p += 2;
    } else if (c < 0x20) {
      j->p = p;
      return jsyntax(j, "字符串中含有未转义的控制字符");
    } else if (c < 0x80) {
      src = p;
      k = 1;
      p++;
    } else {
      k = utf8_len(p, e);
      if (!k) {
        j->p = p;
        return jsyntax(j, "字符串不是有效的 UTF-8");
      }
      src = p;
      p += k;
    }
    if (dst && len + k < cap)
      memcpy(dst + len, src, k);
    len += k;
  }
  if (dst && len < cap)
    dst[len] = '\0';
  *n = len;
  j->p = p;
  return HMB_OK;
}

/* Check a JSON number at j->p; *t, *n receive its text. */
static enum hmb_status jnumber(struct jctx *j, const char **t, size_t *n)
{
  const char *p = j->p, *e = j->e;
  if (p < e && *p == '-')
    p++;
  if (p < e && *p == '0') {
    p++;
  } else if (p < e && *p >= '1' && *p <= '9') {
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  } else {
    j->p = p;
    return jsyntax(j, "数字格式错误");
  }
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') {
      j->p = p;
      return jsyntax(j, "数字格式错误：小数点后缺少数字");
    }
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-'))
      p++;
    if (p >= e || *p < '0' || *p > '9') {
      j->p = p;
      return jsyntax(j, "数字格式错误：指数缺少数字");
    }
    while (p < e && *p >= '0' && *p <= '9')
      p++;
  }
  *t = j->p;
  *n = (size_t)(p - j->p);
  j->p = p;
  return HMB_OK;
}

static bool jlit(struct jctx *j, const char *lit, size_t n)
{
  if ((size_t)(j->e - j->p) >= n && memcmp(j->p, lit, n) == 0) {
    j->p += n;
    return true;
  }
  return false;
}

static enum hmb_status wrong_type(struct jctx *j, const struct fdesc *d, const char *want)
{
  return hmb_err_set(j->err, HMB_INVALID, "json.type", d->name, "%s 的值类型错误：应为%s", d->name,
                     want);
}

static const char *kind_want(enum fkind k)
{
  switch (k) {
  case FK_ID:
  case FK_TEXT:
  case FK_KEY:
  case FK_TIME: return "字符串";
  case FK_MONEY:
  case FK_CNT: return "数字或数字字符串";
  case FK_CODE:
  case FK_TXN: return "整数或数字字符串";
  case FK_OUTFILED: return "0 或 1";
  case FK_DETAILS: return "对象数组";
  }
  return "?";
}

/*
 * The value of known key d at j->p: stored into base when not null and not
 * empty; *present tells which.
 */
static enum hmb_status jvalue(struct jctx *j, const struct fdesc *d, void *base, bool *present)
{
  char v[JSON_VALUE_MAX];
  const char *t;
  size_t n;
  enum hmb_status result;
  enum fkind k = (enum fkind)d->kind;

  *present = false;
  if (j->p >= j->e)
    return jsyntax(j, "缺少值");
  switch (*j->p) {
  case '"':
    result = jstring(j, v, sizeof(v), &n);
    if (result)
      return result;
    if (n == 0)
      return HMB_OK;
    if (n >= sizeof(v)) {
      if (k == FK_ID || k == FK_TEXT || k == FK_KEY)
        return hmb_err_set(j->err, HMB_INVALID, "text.too_long", d->name, "文本过长：最多 %u 字节",
                           (unsigned)d->cap - 1);
      return hmb_err_set(j->err, HMB_INVALID, "json.too_long", d->name, "%s 的值过长", d->name);
    }
    t = v;
    break;
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9':
    if (k != FK_MONEY && k != FK_CNT && k != FK_CODE && k != FK_TXN && k != FK_OUTFILED)
      return wrong_type(j, d, kind_want(k));
    result = jnumber(j, &t, &n);
    if (result)
      return result;
    if ((k == FK_MONEY || k == FK_CNT) && (memchr(t, 'e', n) || memchr(t, 'E', n)))
      return hmb_err_set(j->err, HMB_INVALID, "json.exponent", d->name, "%s 不能使用科学计数法",
                         d->name);
    break;
  case 't':
  case 'f':
    if (k != FK_OUTFILED)
      return wrong_type(j, d, kind_want(k));
    if (jlit(j, "true", 4))
      t = "1";
    else if (jlit(j, "false", 5))
      t = "0";
    else
      return jsyntax(j, "无法识别的值");
    n = 1;
    break;
  case 'n':
    if (!jlit(j, "null", 4))
      return jsyntax(j, "无法识别的值");
    return HMB_OK;
  case '{':
  case '[': return wrong_type(j, d, kind_want(k));
  default: return jsyntax(j, "无法识别的值");
  }
  result = store_field(base, d, t, n, j->err);
  if (result)
    return result;
  *present = true;
  return HMB_OK;
}

/* Skip the value of an unknown key: any scalar; nesting is refused. */
static enum hmb_status jskip(struct jctx *j, const char *key)
{
  const char *t;
  size_t n;
  if (j->p >= j->e)
    return jsyntax(j, "缺少值");
  switch (*j->p) {
  case '"': return jstring(j, NULL, 0, &n);
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9': return jnumber(j, &t, &n);
  case 't': return jlit(j, "true", 4) ? HMB_OK : jsyntax(j, "无法识别的值");
  case 'f': return jlit(j, "false", 5) ? HMB_OK : jsyntax(j, "无法识别的值");
  case 'n': return jlit(j, "null", 4) ? HMB_OK : jsyntax(j, "无法识别的值");
  case '{':
  case '[':
    return hmb_err_set(j->err, HMB_INVALID, "json.nesting", key,
                       "不允许嵌套的对象或数组（只有 details 可以是数组）");
  default: return jsyntax(j, "无法识别的值");
  }
}

struct jlines {
  struct setl_line *lines;
  size_t max, n;
  bool seen;
};

static enum hmb_status jobject(struct jctx *j, const struct fdesc *tab, size_t ntab, void *base,
                               struct jlines *jl, uint64_t *present);

static enum hmb_status jdetails(struct jctx *j, struct jlines *jl)
{
  enum hmb_status result;
  if (j->p < j->e && *j->p == 'n' && jlit(j, "null", 4))
    return HMB_OK;
  if (j->p >= j->e || *j->p != '[')
    return hmb_err_set(j->err, HMB_INVALID, "json.type", "details",
                       "details 的值类型错误：应为对象数组");
  j->p++;
  jws(j);
  if (j->p < j->e && *j->p == ']') {
    j->p++;
    return HMB_OK;
  }
  for (;;) {
    uint64_t present = 0;
    size_t i;
    char where[32];
    struct setl_line *ln;
    if (j->p >= j->e || *j->p != '{') {
      if (j->p < j->e &&
          (*j->p == '"' || *j->p == '[' || *j->p == '-' || (*j->p >= '0' && *j->p <= '9') ||
           *j->p == 't' || *j->p == 'f' || *j->p == 'n'))
        return hmb_err_set(j->err, HMB_INVALID, "json.type", "details", "details 的元素应为对象");
      return jsyntax(j, "details 中应为对象");
    }
    if (jl->n >= jl->max)
      return hmb_err_set(j->err, HMB_TOO_LARGE, "details.too_many", "details",
                         "费用明细过多：最多 %zu 行", jl->max);
    ln = &jl->lines[jl->n];
    memset(ln, 0, sizeof(*ln));
    snprintf(where, sizeof(where), "details[%zu]", jl->n);
    result = jobject(j, line_fields + 1, NLINE_FIELDS - 1, ln, NULL, &present);
    if (!result) {
      for (i = 1; i < NLINE_FIELDS; i++) {
        if (line_fields[i].req == REQ_ALWAYS && !(present & (UINT64_C(1) << (i - 1)))) {
          result = missing(&line_fields[i], j->err);
          break;
        }
      }
    }
    if (result) {
      if (j->err && j->err->field[0] != '@')
        hmb_err_prefix(j->err, where);
      return result;
    }
    jl->n++;
    jws(j);
    if (j->p < j->e && *j->p == ',') {
      j->p++;
      jws(j);
      continue;
    }
    if (j->p < j->e && *j->p == ']') {
      j->p++;
      return HMB_OK;
    }
    return jsyntax(j, "details 数组中应为逗号或 ]");
  }
}

/*
 * A flat object at j->p ('{'). Known keys of tab are stored into base and
 * flagged in *present (bit i: key tab[i] had a non-empty value); unknown
 * keys are checked and skipped; "details" is parsed into jl when given.
 */
static enum hmb_status jobject(struct jctx *j, const struct fdesc *tab, size_t ntab, void *base,
                               struct jlines *jl, uint64_t *present)
{
  char key[JSON_KEY_MAX];
  char unk[JSON_UNKNOWN_BYTES];
  uint16_t unk_off[JSON_UNKNOWN_MAX], unk_len[JSON_UNKNOWN_MAX];
  size_t nunk = 0, unk_used = 0;
  uint64_t seen = 0;
  enum hmb_status result;

  j->p++; /* '{' */
  jws(j);
  if (j->p < j->e && *j->p == '}') {
    j->p++;
    return HMB_OK;
  }
  for (;;) {
    size_t n, i;
    int k;
    if (j->p >= j->e || *j->p != '"')
      return jsyntax(j, "应为带引号的键名");
    result = jstring(j, key, sizeof(key), &n);
    if (result)
      return result;
    if (n >= sizeof(key))
      return jsyntax(j, "键名过长");
    jws(j);
    if (j->p >= j->e || *j->p != ':')
      return jsyntax(j, "键名后应为冒号");
    j->p++;
    jws(j);
    k = fd_lookup(tab, ntab, key, n);
    if (k >= 0) {
      bool here;
      if (seen & (UINT64_C(1) << k))
        return hmb_err_set(j->err, HMB_INVALID, "json.duplicate_key", key, "键 %s 重复出现", key);
      seen |= UINT64_C(1) << k;
      if (tab[k].kind == FK_DETAILS) {
        if (!jl)
          BUG("details inside details");
        jl->seen = true;
        result = jdetails(j, jl);
      } else {
        result = jvalue(j, &tab[k], base, &here);
        if (!result && here)
          *present |= UINT64_C(1) << k;
      }
    } else {
      for (i = 0; i < nunk; i++)
        if (unk_len[i] == n && memcmp(unk + unk_off[i], key, n) == 0)
          return hmb_err_set(j->err, HMB_INVALID, "json.duplicate_key", key, "键 %s 重复出现", key);
      if (nunk >= JSON_UNKNOWN_MAX || unk_used + n > sizeof(unk))
        return hmb_err_set(j->err, HMB_TOO_LARGE, "json.too_many_keys", key, "对象中的键过多");
      memcpy(unk + unk_used, key, n);
      unk_off[nunk] = (uint16_t)unk_used;
      unk_len[nunk++] = (uint16_t)n;
      unk_used += n;
      result = jskip(j, key);
    }
    if (result)
      return result;
    jws(j);
    if (j->p < j->e && *j->p == ',') {
      j->p++;
      jws(j);
      continue;
    }
    if (j->p < j->e && *j->p == '}') {
      j->p++;
      return HMB_OK;
    }
    return jsyntax(j, "应为逗号或 }");
  }
}

static enum hmb_status json_record(const char *line, size_t len, struct settlement *s,
                                   struct setl_line *lines, size_t max_lines, bool *has_details,
                                   struct hmb_err *err)
{
  struct jctx j = {line, line, line + len, err};
  struct jlines jl = {lines, max_lines, 0, false};
  uint64_t present = 0;
  enum hmb_status result;
  size_t i;

  settlement_init(s);
  s->lines = lines;
  s->nlines = 0;
  *has_details = false;
  jws(&j);
  if (j.p >= j.e || *j.p != '{')
    return jsyntax(&j, "每行应为一个 JSON 对象");
  result = jobject(&j, setl_fields, ARRAY_SIZE(setl_fields), s, &jl, &present);
  if (result)
    return result;
  jws(&j);
  if (j.p != j.e)
    return jsyntax(&j, "JSON 对象之后有多余内容");
  for (i = 0; i < ARRAY_SIZE(setl_fields); i++) {
    const struct fdesc *d = &setl_fields[i];
    if ((d->req == REQ_ALWAYS || (d->req == REQ_SETTLE && s->kind == SETL_SETTLE)) &&
        !(present & (UINT64_C(1) << i)))
      return missing(d, err);
  }
  setl_defaults(s);
  s->nlines = jl.n;
  *has_details = jl.seen;
  return HMB_OK;
}

enum hmb_status setl_parse_json_line(const char *line, size_t len, struct settlement *s,
                                     struct setl_line *lines, size_t max_lines, struct hmb_err *err)
{
  bool has_details;
  return json_record(line, len, s, lines, max_lines, &has_details, err);
}

/* ---------------------------------------------------------------- reader */

struct colmap_ent {
  uint16_t col;
  uint8_t fid;
};

#define COL_IGNORED 0xff

/* Consecutive amount columns col..col+len-1 into fields fid..fid+len-1,
 * which lie one after the other in struct settlement (col >= 1). */
struct money_run {
  uint16_t col;
  uint8_t len;
  uint8_t fid;
};
_Static_assert(F__COUNT <= 32, "field bits must fit a uint32_t");

/* What converting rows changes: one per thread converting (see
 * setl_reader_convert), and the reader's own for setl_reader_next(). */
struct setl_conv {
  hmb_date last_date; /* the date last parsed by the fused path */
  char last_day[10];  /* its text (YYYY-MM-DD), valid when have_day */
  bool have_day;
  size_t cursor;            /* details: the group after the one last matched */
  struct setl_keys keys;    /* of the row last converted */
  struct csvr_field *spans; /* a deferred row's fields, for the general path */
};

struct setl_reader {
  enum setl_format fmt;
  struct csvr *csv;       /* CSV */
  struct colmap_ent *map; /* known columns but txn, in column order */
  size_t nmap;
  struct colmap_ent req[F__COUNT]; /* required columns; fid of REQ_SETTLE ones */
  size_t nreq;
  size_t fcol[F__COUNT];           /* column of each field, SIZE_MAX when absent */
  uint8_t *colfid;                 /* CSV: field of each column, COL_IGNORED when none */
  struct money_run runs[F__COUNT]; /* CSV with vec: what money_runs_vec() converts */
  size_t nruns;
  /* CSV: the columns the fused path converts one by one, in column order
   * (with vec, all but the runs'): it loops over these, not every column */
  struct colmap_ent conv[F__COUNT];
  size_t nconv;
  uint32_t *fends;      /* CSV: the fused path's field ends, one per column */
  uint32_t req_always;  /* bits of the fields required in every row */
  uint32_t req_settle;  /* bits of the fields required in a settle row */
  struct setl_conv own; /* setl_reader_next()'s */
  bool avx2;            /* row_split_avx2() may be used */
  bool split512;        /* row_split_512() may be used */
  bool vec;             /* money_runs_vec() converts the amounts of the fused path */
  /* What converting a deferred row reads of the CSV scanner, copied once
   * the header is read: the scanner's position and line, on the same cache
   * lines, change with every row the splitting thread passes, and reading
   * them on the converting thread made each row's line travel between the
   * cores both ways (perf: a third of the split's time in two stores). */
  size_t ncols;            /* the header's columns */
  const char *lim;         /* the end of the input (mapped or borrowed) */
  const char *name;        /* its name, for messages */
  struct src js;           /* JSON lines */
  struct setl_line *lines; /* JSON lines: SETL_MAX_LINES */
  unsigned long line;
  struct details *det;
};

const struct setl_keys *setl_reader_keys(const struct setl_reader *r)
{
  return &r->own.keys;
}

enum setl_format setl_reader_format(const struct setl_reader *r)
{
  return r->fmt;
}

unsigned long setl_reader_line(const struct setl_reader *r)
{
  return r->fmt == SETL_FMT_CSV ? csvr_line(r->csv) : r->line;
}

void setl_reader_free(struct setl_reader *r)
{
  if (!r)
    return;
  csvr_free(r->csv);
  free(r->map);
  free(r->colfid);
  free(r->fends);
  src_release(&r->js);
  free(r->lines);
  details_free(r->det);
  free(r);
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static enum setl_format sniff(const struct src *s)
{
  size_t i;
  for (i = s->pos; i < s->len; i++) {
    char c = s->data[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    return c == '{' ? SETL_FMT_JSONL : SETL_FMT_CSV;
  }
  return SETL_FMT_CSV;
}

#if defined(HAVE_AVX2_SPLIT)
/* The runs of amount columns of a header whose colfid is set: every column
 * after the first holding an amount is in a run. */
static void money_runs_plan(struct setl_reader *r, size_t ncols)
{
  size_t i;
  for (i = 1; i < ncols; i++) {
    const unsigned f = r->colfid[i];
    struct money_run *mr = r->nruns ? &r->runs[r->nruns - 1] : NULL;
    if (f == COL_IGNORED || setl_fields[f].kind != FK_MONEY)
      continue;
    if (mr && mr->col + mr->len == i && mr->fid + mr->len == f &&
        setl_fields[f].off == setl_fields[f - 1].off + sizeof(hmb_fen)) {
      mr->len++;
    } else {
      ASSERT(r->nruns < ARRAY_SIZE(r->runs));
      mr = &r->runs[r->nruns++];
      mr->col = (uint16_t)i;
      mr->len = 1;
      mr->fid = (uint8_t)f;
    }
  }
}
#endif

/* Column col is in one of r's runs (none without vec). */
static bool in_run(const struct setl_reader *r, size_t col)
{
  size_t q;
  for (q = 0; q < r->nruns; q++)
    if (r->runs[q].col <= col && col < (size_t)r->runs[q].col + r->runs[q].len)
      return true;
  return false;
}

static enum hmb_status map_header(struct setl_reader *r, struct hmb_err *err)
{
  struct csvr *c = r->csv;
  size_t i, ncols = csvr_ncols(c);
  ASSERT(setl_fields[F_TXN].kind == FK_TXN && setl_fields[F_DETAILS].kind == FK_DETAILS &&
         setl_fields[F_SETL_ID].kind == FK_ID && setl_fields[F_PSN_NO].kind == FK_ID);
  for (i = 0; i < F__COUNT; i++)
    r->fcol[i] = SIZE_MAX;
  r->map = hmb_calloc(ncols, sizeof(*r->map));
  r->colfid = hmb_malloc(ncols ? ncols : 1);
  r->fends = hmb_reallocarray(NULL, ncols ? ncols : 1, sizeof(*r->fends));
  if (!r->map || !r->colfid || !r->fends)
    return nomem(err, c->src.name);
  memset(r->colfid, COL_IGNORED, ncols);
  r->ncols = ncols;
  r->lim = c->src.data + c->src.len; /* used only for a mapped or borrowed input */
  r->name = c->src.name;
#if defined(HAVE_AVX2_SPLIT)
  /* HMB_TEST_SCALAR set: the portable code only (the SSE2 split, the
   * amounts one by one), for tests of both paths */
  const bool portable = getenv("HMB_TEST_SCALAR") != NULL;
  /* HMB_TEST_AVX2 set: the AVX2 split without AVX-512, as on cores that
   * have no AVX-512 */
  const bool avx2_only = getenv("HMB_TEST_AVX2") != NULL;
  r->avx2 = !portable && __builtin_cpu_supports("avx2");
  r->split512 = r->avx2 && !avx2_only && __builtin_cpu_supports("avx512f") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("popcnt");
  r->vec = !portable && !avx2_only && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi");
#endif
  for (i = 0; i < ncols; i++) {
    const char *name = csvr_colname(c, i);
    int k = fd_lookup(setl_fields, ARRAY_SIZE(setl_fields), name, strlen(name));
    if (k < 0 || k == F_DETAILS)
      continue;
    if (r->fcol[k] != SIZE_MAX) {
      hmb_err_set(err, HMB_INVALID, "csv.duplicate_column", name, "表头中 %s 列重复", name);
      csvr_locate(c, err);
      return HMB_INVALID;
    }
    r->fcol[k] = i;
    r->colfid[i] = (uint8_t)k;
    if (k != F_TXN) {
      r->map[r->nmap].col = (uint16_t)i;
      r->map[r->nmap++].fid = (uint8_t)k;
    }
  }
#if defined(HAVE_AVX2_SPLIT)
  if (r->vec)
    money_runs_plan(r, ncols);
#endif
  for (i = 0; i < ncols; i++) {
    const uint8_t f = r->colfid[i];
    if (f == COL_IGNORED || in_run(r, i))
      continue; /* not a field, or an amount money_runs_vec() converts */
    ASSERT(r->nconv < ARRAY_SIZE(r->conv));
    r->conv[r->nconv].col = (uint16_t)i;
    r->conv[r->nconv++].fid = f;
  }
  for (i = 0; i < F__COUNT; i++) {
    if (setl_fields[i].req == REQ_NO)
      continue;
    if (r->fcol[i] == SIZE_MAX) {
      hmb_err_set(err, HMB_INVALID, "csv.missing_column", setl_fields[i].name,
                  "结算文件缺少必需的列 %s", setl_fields[i].name);
      csvr_locate(c, err);
      return HMB_INVALID;
    }
    r->req[r->nreq].col = (uint16_t)r->fcol[i];
    r->req[r->nreq++].fid = (uint8_t)i;
    if (setl_fields[i].req == REQ_ALWAYS)
      r->req_always |= UINT32_C(1) << i;
    else
      r->req_settle |= UINT32_C(1) << i;
  }
  return HMB_OK;
}

/* Takes over *s. */
static enum hmb_status reader_setup(struct setl_reader **out, struct src *s, enum setl_format fmt,
                                    const char *ext_name, struct csvr *dc, struct hmb_err *err)
{
  struct setl_reader *r = hmb_calloc(1, sizeof(*r));
  enum hmb_status result = HMB_OK;

  *out = NULL;
  if (!r) {
    result = nomem(err, s->name);
    src_release(s);
    return result;
  }
  src_init(&r->js);
  if (fmt == SETL_FMT_AUTO && ext_name) {
    if (ends_with(ext_name, ".csv"))
      fmt = SETL_FMT_CSV;
    else if (ends_with(ext_name, ".jsonl") || ends_with(ext_name, ".ndjson") ||
             ends_with(ext_name, ".json"))
      fmt = SETL_FMT_JSONL;
  }
  if (fmt == SETL_FMT_AUTO)
    fmt = sniff(s);
  r->fmt = fmt;
  if (fmt == SETL_FMT_CSV) {
    result = csvr_from_src(&r->csv, s, err);
    if (!result)
      result = map_header(r, err);
  } else {
    r->js = *s;
    src_init(s);
    r->lines = hmb_reallocarray(NULL, SETL_MAX_LINES, sizeof(*r->lines));
    if (!r->lines)
      result = nomem(err, r->js.name);
  }
  if (!result && dc)
    result = details_load(&r->det, dc, err);
  if (result) {
    setl_reader_free(r);
    return result;
  }
  *out = r;
  return HMB_OK;
}

enum hmb_status setl_reader_open(struct setl_reader **out, const char *path, enum setl_format fmt,
                                 const char *details_path, struct hmb_err *err)
{
  struct src s;
  struct csvr *dc = NULL;
  enum hmb_status result;

  *out = NULL;
  if (details_path) {
    result = csvr_open(&dc, details_path, err);
    if (result)
      return result;
  }
  result = src_open_file(&s, path, err);
  if (result) {
    src_release(&s);
    csvr_free(dc);
    return result;
  }
  result = reader_setup(out, &s, fmt, strcmp(path, "-") ? path : NULL, dc, err);
  csvr_free(dc);
  return result;
}

enum hmb_status setl_reader_open_mem(struct setl_reader **out, const char *name, const char *data,
                                     size_t len, enum setl_format fmt, const char *details_name,
                                     const char *details, size_t details_len, struct hmb_err *err)
{
  struct src s;
  struct csvr *dc = NULL;
  enum hmb_status result;

  *out = NULL;
  if (details) {
    result = csvr_open_mem(&dc, details_name ? details_name : "details", details, details_len, err);
    if (result)
      return result;
  }
  result = src_open_mem(&s, name, data, len, err);
  if (result) {
    src_release(&s);
    csvr_free(dc);
    return result;
  }
  result = reader_setup(out, &s, fmt, NULL, dc, err);
  csvr_free(dc);
  return result;
}

/*
 * The last step of every row read: note its keys for setl_reader_keys()
 * (lengths SIZE_MAX when not known yet) and join its detail lines.
 */
static enum hmb_status attach_details(const struct setl_reader *r, struct setl_conv *cv,
                                      struct settlement *s, const char *where, unsigned long line,
                                      size_t idlen, size_t psnlen, const uint64_t *hash,
                                      const uint64_t *psnhash, const char *id_in,
                                      struct hmb_err *err)
{
  struct det_group *g;
  uint64_t h;
  if (idlen == SIZE_MAX)
    idlen = strnlen(s->setl_id, sizeof(s->setl_id));
  if (psnlen == SIZE_MAX)
    psnlen = strnlen(s->psn_no, sizeof(s->psn_no));
  h = hash ? *hash : setl_key_hash(s->setl_id, idlen);
  cv->keys.setl_id_hash = h;
  cv->keys.psn_no_hash = psnhash ? *psnhash : setl_key_hash(s->psn_no, psnlen);
  cv->keys.setl_id_len = idlen;
  cv->keys.psn_no_len = psnlen;
  cv->keys.setl_id_in = id_in;
  if (!r->det || s->kind != SETL_SETTLE || !r->det->ngroups)
    return HMB_OK;
  if (!bloom_maybe(r->det, h))
    return HMB_OK;
  /* Both files usually come in the same order: try the next group first. */
  g = cv->cursor < r->det->ngroups ? &r->det->groups[cv->cursor] : NULL;
  if (!g || strcmp(g->id, s->setl_id) != 0)
    g = det_find_h(r->det, s->setl_id, idlen, h);
  if (!g)
    return HMB_OK;
  cv->cursor = (size_t)(g - r->det->groups) + 1;
  /* rows may be converted on two threads at once (setl_reader_convert) */
  __atomic_store_n(&g->matched, true, __ATOMIC_RELAXED);
  if (g->err >= 0) {
    const struct hmb_err *e = &r->det->gerrs[g->err];
    return hmb_err_set(err, e->status, e->code, e->field, "费用明细有误：%s", e->message);
  }
  if (g->count > SETL_MAX_LINES) {
    hmb_err_set(err, HMB_TOO_LARGE, "details.too_many", "details",
                "费用明细过多：%" PRIu32 " 行，最多 %u 行", g->count, (unsigned)SETL_MAX_LINES);
    locate(err, where, line);
    return HMB_TOO_LARGE;
  }
  s->lines = r->det->lines + g->start;
  s->nlines = g->count;
  return HMB_OK;
}

/*
 * The fused path for the common CSV row: unquoted, LF or CRLF, every field
 * of the expected width. It converts each field while scanning for its end,
 * instead of splitting the row into spans and dispatching by descriptor.
 * Anything unusual (a quote, a control byte, a field it cannot convert, an
 * error of any kind, a missing required field, the wrong number of columns,
 * the end of the data at hand) makes it give up before changing the
 * reader's position: the general path then reads the row again and reports
 * exactly what it always has.
 */

/*
 * The ends of the fields of the unquoted row at p, as offsets of their ','
 * and of the row's '\n', into ends[0..max); returns the number of fields, or
 * 0 when a '"' or '\r' comes first, the row has more than max fields or is
 * longer than SETL_ROW_MAX. The row's '\n' comes before lim. SSE2 finds the
 * separators sixteen bytes at a time.
 */
/* row_split() from q on, byte by byte, with n ends already found. */
static inline size_t row_split_tail(const char *p, const char *q, const char *lim, uint32_t *ends,
                                    size_t n, size_t max)
{
  for (; q < lim && (size_t)(q - p) <= SETL_ROW_MAX; q++) {
    if (*q == ',' || *q == '\n') {
      if (n == max)
        return 0;
      ends[n++] = (uint32_t)(q - p);
      if (*q == '\n')
        return n;
    } else if (*q == '"' || *q == '\r') {
      return 0;
    }
  }
  return 0;
}

/*
 * One block of row_split() at q, from its masks (bit i: byte q + i is a
 * ',' in mc, the '\n' in mn, a '"' or '\r' in mq; `all` is the block's
 * full mask). Appends the ends found to ends[*n..]; returns 1 when the row
 * ended in the block, 0 to go on with the next, -1 to give up.
 */
static inline __attribute__((always_inline)) int
row_split_block(const char *p, const char *q, uint32_t mc, uint32_t mn, uint32_t mq, uint32_t all,
                uint32_t *ends, size_t *n, size_t max)
{
  uint32_t below = mn ? (mn & (0u - mn)) - 1 : all;
  if ((mq & below) || (size_t)(q - p) > SETL_ROW_MAX)
    return -1;
  for (mc &= below; mc; mc &= mc - 1) {
    if (*n == max)
      return -1;
    ends[(*n)++] = (uint32_t)(q - p) + (uint32_t)__builtin_ctz(mc);
  }
  if (!mn)
    return 0;
  if (*n == max)
    return -1;
  ends[(*n)++] = (uint32_t)(q - p) + (uint32_t)__builtin_ctz(mn);
  return 1;
}

static size_t row_split(const char *p, const char *lim, uint32_t *ends, size_t max)
{
  const char *q = p;
  size_t n = 0;
#if defined(__SSE2__)
  const __m128i vc = _mm_set1_epi8(','), vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8('"'),
                vr = _mm_set1_epi8('\r');
  while (lim - q >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
    uint32_t mc = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vc));
    uint32_t mn = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vn));
    uint32_t mq =
        (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vr)));
    int k = row_split_block(p, q, mc, mn, mq, 0xffffu, ends, &n, max);
    if (k)
      return k > 0 ? n : 0;
    q += 16;
  }
#endif
  return row_split_tail(p, q, lim, ends, n, max);
}

#if defined(HAVE_AVX2_SPLIT)
/* row_split() thirty-two bytes at a time, for cores with AVX2 (checked once
 * when the reader is set up); the same result for every input. */
__attribute__((target("avx2"))) static size_t row_split_avx2(const char *p, const char *lim,
                                                             uint32_t *ends, size_t max)
{
  const char *q = p;
  size_t n = 0;
  const __m256i vc = _mm256_set1_epi8(','), vn = _mm256_set1_epi8('\n'), vq = _mm256_set1_epi8('"'),
                vr = _mm256_set1_epi8('\r');
  while (lim - q >= 32) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)q);
    uint32_t mc = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, vc));
    uint32_t mn = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, vn));
    uint32_t mq = (uint32_t)_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(x, vq), _mm256_cmpeq_epi8(x, vr)));
    int k = row_split_block(p, q, mc, mn, mq, UINT32_MAX, ends, &n, max);
    if (k)
      return k > 0 ? n : 0;
    q += 32;
  }
  return row_split_tail(p, q, lim, ends, n, max);
}

/*
 * row_split() sixty-four bytes at a time, for cores with AVX-512 VBMI2
 * (r->split512): the block's separators up to the row's end are gathered
 * by one compress of their byte offsets, then stored sixteen at a time,
 * without a branch per field (which the loops over mask bits mispredict
 * as the fields' lengths vary). The same result as row_split() for every
 * row that fast_split() takes (row_split() gives up on a row over
 * SETL_ROW_MAX at 16-byte steps, this at 64-byte ones: fast_split()
 * refuses rows over SETL_FIELD_MAX anyway).
 */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,popcnt"))) static size_t
row_split_512(const char *p, const char *lim, uint32_t *ends, size_t max)
{
  const char *q = p;
  size_t n = 0;
  const __m512i vc = _mm512_set1_epi8(','), vn = _mm512_set1_epi8('\n'), vq = _mm512_set1_epi8('"'),
                vr = _mm512_set1_epi8('\r');
  const __m512i iota = _mm512_set_epi64(INT64_C(0x3f3e3d3c3b3a3938), INT64_C(0x3736353433323130),
                                        INT64_C(0x2f2e2d2c2b2a2928), INT64_C(0x2726252423222120),
                                        INT64_C(0x1f1e1d1c1b1a1918), INT64_C(0x1716151413121110),
                                        INT64_C(0x0f0e0d0c0b0a0908), INT64_C(0x0706050403020100));
  while (lim - q >= 64) {
    const __m512i x = _mm512_loadu_si512(q);
    const uint64_t mc = _mm512_cmpeq_epi8_mask(x, vc), mn = _mm512_cmpeq_epi8_mask(x, vn);
    const uint64_t mq = _mm512_cmpeq_epi8_mask(x, vq) | _mm512_cmpeq_epi8_mask(x, vr);
    const uint64_t nl = mn & (0 - mn); /* the row's '\n', if in this block */
    const uint64_t below = nl ? nl - 1 : UINT64_MAX, sel = (mc & below) | nl;
    const size_t base = (size_t)(q - p), cnt = (size_t)__builtin_popcountll(sel);
    size_t k;
    __m512i at, off;
    if ((mq & below) || base > SETL_ROW_MAX || cnt > max - n)
      return 0;
    at = _mm512_maskz_compress_epi8(sel, iota);
    off = _mm512_set1_epi32((int)base);
    /* sixteen ends a store, the next sixteen offsets then shifted down */
    for (k = 0; k < cnt; k += 16) {
      _mm512_mask_storeu_epi32(
          ends + n + k, (__mmask16)(cnt - k >= 16 ? 0xffffu : (1u << (cnt - k)) - 1),
          _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(at)), off));
      at = _mm512_alignr_epi32(_mm512_setzero_si512(), at, 4);
    }
    n += cnt;
    if (nl)
      return n;
    q += 64;
  }
  return row_split_tail(p, q, lim, ends, n, max);
}
#else
#define row_split_avx2 row_split
#define row_split_512  row_split
#endif

/*
 * The usual amount, "d{1,4}.dd", from one 8-byte word without a branch per
 * digit; false for anything else (money_fast() and money_parse() then read
 * it, with the same value for what both accept).
 */
static inline bool money_word(const char *t, size_t n, const char *lim, hmb_fen *out)
{
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  uint64_t w, x, sh;
  uint32_t y, a;
  if (n - 4 > 3 || lim - t < 8 || t[n - 3] != '.')
    return false;
  memcpy(&w, t, sizeof(w));
  sh = 8 * (uint64_t)(n - 3);
  /* the field's bytes as digit values, its '.' as a 0 */
  x = (w ^ (ones * '0')) & ((UINT64_C(1) << (8 * n)) - 1) & ~(UINT64_C(0xff) << sh);
  if (((x + ones * 0x76) | x) & highs)
    return false;
  /* the n-3 digits before the point as bytes 7-n..3 of y, most significant
   * first, then paired and summed */
  y = (uint32_t)(x << (64 - sh) >> 32);
  a = (y * 10 + (y >> 8)) & 0x00ff00ff;
  *out = (hmb_fen)((a & 0xff) * 100 + (a >> 16)) * 100 +
         (hmb_fen)((x >> (sh + 8) & 0xff) * 10 + (x >> (sh + 16) & 0xff));
  return true;
}

/*
 * A text field into dst (cap bytes) with its terminator: n < cap, and
 * setl_text_ok(). Printable ASCII of up to 31 bytes, with 32 bytes readable
 * at t and writable at dst, is checked and copied as two 16-byte words (no
 * call per field); anything else the byte by byte way. false when the text
 * is not allowed.
 */
static inline bool text_copy(char *dst, size_t cap, const char *t, size_t n, const char *lim)
{
#if defined(__SSE2__)
  if (n < 32 && cap >= 32 && lim - t >= 32) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)t);
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(t + 16));
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7e);
    /* signed: bytes of 0x80 and up (UTF-8) count as below the space */
    uint32_t bad =
        (uint32_t)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmplt_epi8(a, space), _mm_cmpgt_epi8(a, del))) |
        (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(b, space), _mm_cmpgt_epi8(b, del)))
            << 16;
    if (!(bad & ((UINT32_C(1) << n) - 1))) {
      _mm_storeu_si128((__m128i *)(void *)dst, a);
      _mm_storeu_si128((__m128i *)(void *)(dst + 16), b);
      dst[n] = '\0';
      return true;
    }
  }
#else
  (void)lim;
#endif
  if (!setl_text_ok(t, n))
    return false;
  memcpy(dst, t, n);
  dst[n] = '\0';
  return true;
}

/*
 * money_word() from the 8 bytes that end with the field (readable: the
 * caller knows a row starts at least 8 bytes before), so that the digits
 * sit at fixed places: the '.' is dropped with fixed shifts and the 6 digit
 * places become the amount in fen by the 8-digit SWAR multiply steps. The
 * same results as money_word() for every field.
 */
static inline bool money_tail(const char *t, size_t n, hmb_fen *out)
{
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  uint64_t w, x;
  if (n - 4 > 3)
    return false;
  memcpy(&w, t + n - 8, sizeof(w));
  if ((uint8_t)(w >> 40) != '.')
    return false;
  /* bytes 0-4 up by one over the '.', bytes 6-7 (the decimals) kept */
  w = ((w << 8) & UINT64_C(0x0000ffffffffffff)) | (w & UINT64_C(0xffff000000000000));
  /* the field's n - 1 digits are the top bytes: the rest become 0 */
  x = (w ^ (ones * '0')) & (~UINT64_C(0) << (8 * (9 - n)));
  if (((x + ones * 0x76) | x) & highs)
    return false;
  x = (x * 10 + (x >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
  x = (x * 100 + (x >> 16)) & UINT64_C(0x0000ffff0000ffff);
  x = (x * 10000 + (x >> 32)) & UINT64_C(0xffffffff);
  *out = (hmb_fen)x;
  return true;
}

static inline bool two_digits(const char *t, int *v)
{
  if ((unsigned)(t[0] - '0') >= 10u || (unsigned)(t[1] - '0') >= 10u)
    return false;
  *v = (t[0] - '0') * 10 + (t[1] - '0');
  return true;
}

/* A setl_time of the same day as the last one: only the clock is read. */
static inline bool same_day(const char *t, const char *day)
{
  /* ten bytes as two loads: gcc calls memcmp() for memcmp(t, day, 10) */
  uint64_t a, b;
  uint16_t c, d;
  memcpy(&a, t, sizeof(a));
  memcpy(&b, day, sizeof(b));
  memcpy(&c, t + 8, sizeof(c));
  memcpy(&d, day + 8, sizeof(d));
  return a == b && c == d;
}

static bool fast_time(struct setl_conv *r, const char *t, size_t n, hmb_time *out)
{
  int hh, mi, ss;
  hmb_time v;
  if (n == 19 && r->have_day && (t[10] == ' ' || t[10] == 'T') && t[13] == ':' && t[16] == ':' &&
      same_day(t, r->last_day) && two_digits(t + 11, &hh) && two_digits(t + 14, &mi) &&
      two_digits(t + 17, &ss) && hh <= 23 && mi <= 59 && ss <= 59) {
    *out = date_time(r->last_date) + hh * 3600 + mi * 60 + ss;
    return true;
  }
  if (datetime_parse(t, n, &v, "", NULL))
    return false;
  memcpy(r->last_day, t, 10);
  r->last_date = time_date(v);
  r->have_day = true;
  *out = v;
  return true;
}

/*
 * What settlement_init() does for every field the settlement's users read,
 * without writing the whole record: text fields are read only up to their
 * terminator, so only their first byte is cleared. The batch slot being
 * filled was last read by the adjudicating thread's core; the lines this
 * leaves alone (most of flags and dise_codg) then need not travel back.
 */
_Static_assert(offsetof(struct settlement, dise_codg) ==
                       offsetof(struct settlement, nlines) + sizeof(size_t) &&
                   offsetof(struct settlement, flags) ==
                       offsetof(struct settlement, dise_codg) + SETL_SHORT_MAX &&
                   sizeof(struct settlement) == offsetof(struct settlement, flags) + SETL_FLAGS_MAX,
               "setl_clear() clears the amounts up to nlines, then two text fields");
static inline void setl_clear(struct settlement *s)
{
  s->kind = SETL_SETTLE;
  s->setl_id[0] = '\0';
  s->mdtrt_id[0] = '\0';
  s->psn_no[0] = '\0';
  s->insutype = 0;
  s->med_type = 0;
  s->psn_type = 0;
  s->hosp_lv = 0;
  s->setl_time = 0;
  s->mdtrtarea_admvs[0] = '\0';
  s->dise_codg[0] = '\0';
  s->flags[0] = '\0';
  s->out_filed = -1;
#if defined(__SSE2__)
  {
    /* 152 bytes as nine 16-byte stores and one of 8: gcc makes a memset()
     * of this size a "rep stos", which starts slowly (~8% of the parse) */
    enum {
      AMT_BYTES = offsetof(struct settlement, nlines) + sizeof(size_t) -
                  offsetof(struct settlement, medfee_sumamt)
    };
    char *z = (char *)&s->medfee_sumamt;
    __m128i zero = _mm_setzero_si128();
    size_t i;
    __asm__("" : "+x"(zero)); /* or gcc makes the loop a memset() again */
    _Static_assert(AMT_BYTES % 8 == 0, "amounts and lines clear in 8-byte steps");
    for (i = 0; i + 16 <= AMT_BYTES; i += 16)
      _mm_storeu_si128((__m128i *)(void *)(z + i), zero);
    if (i < AMT_BYTES)
      _mm_storel_epi64((__m128i *)(void *)(z + i), zero);
  }
#else
  memset(&s->medfee_sumamt, 0,
         offsetof(struct settlement, nlines) + sizeof(s->nlines) -
             offsetof(struct settlement, medfee_sumamt));
#endif
}

/*
 * The amount field [t, t + n) of the row at row into field d of s the
 * scalar way: money_tail() or money_word() for the usual form, else
 * store_field(). false when the field is not an amount (the general path
 * then reads the row and says why).
 */
static inline __attribute__((always_inline)) bool money_field(struct settlement *s,
                                                              const struct fdesc *d,
                                                              const char *row, const char *t,
                                                              size_t n, const char *lim)
{
  hmb_fen v;
  if (t - row >= 8 ? money_tail(t, n, &v) : money_word(t, n, lim, &v)) {
    memcpy((char *)s + d->off, &v, sizeof(v));
    return true;
  }
  return !store_field(s, d, t, n, NULL);
}

#if defined(HAVE_AVX2_SPLIT)
/*
 * The fused path's amounts of r's runs (r->vec), eight at a time in the
 * lanes of a vector. The 8 bytes that end each field are picked out of a
 * 128-byte window of the row in one permute; a lane of the usual form,
 * "d{1,5}.dd", then has its '.' in byte 5 and its digits in bytes 8-n..4
 * and 6..7, so that fixed weights make the amount in fen: pairs of digits
 * by multiply-add of bytes (x10 + x1, the '.' weighted 0), those by
 * multiply-add of words (x100 + x1), and the two halves by one multiply
 * (x1000 + x1). A short chain of single instructions: the steps of
 * money_tail() in lanes had taken 5% of the backtest's CPU per row, most
 * of it waiting on each other. A lane not of that form (or outside the
 * window, or too near lim) is left to the scalar way: returned as its
 * field's bit, so that every amount comes out as the scalar path has it
 * (money_parse() reads "d{1,5}.dd" as the same number). Sets the fields'
 * bits in *present. It calls nothing, so its constants stay in registers.
 */
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi"))) static uint32_t
money_runs_vec(const struct setl_reader *r, const char *row, const uint32_t *ends, const char *lim,
               struct settlement *s, uint32_t *present)
{
  const __m512i one = _mm512_set1_epi64(1), four = _mm512_set1_epi64(4);
  /* each lane's bytes less '0', less '.' in byte 5 */
  const __m512i zeros = _mm512_set1_epi64(INT64_C(0x30302e3030303030));
  /* added with saturation: a byte above 9 (above 0 in byte 5) reaches 0x80 */
  const __m512i over = _mm512_set1_epi64(INT64_C(0x76767f7676767676));
  const __m512i highs = _mm512_set1_epi64((int64_t)UINT64_C(0x8080808080808080));
  /* bytes 0-7: x10, x1, x10, x1, x1 (10^2), x0 ('.'), x10, x1 */
  const __m512i wbytes = _mm512_set1_epi64(INT64_C(0x010a0001010a010a));
  /* words 0-3: x100, x1, x100, x1 */
  const __m512i wwords = _mm512_set1_epi64(INT64_C(0x0001006400010064));
  const __m512i thousand = _mm512_set1_epi64(1000);
  /* for a byte shuffle (within 16-byte blocks): each lane's low byte in all
   * of its bytes */
  const int64_t hi8 = INT64_C(0x0808080808080808);
  const __m512i bcast = _mm512_set_epi64(hi8, 0, hi8, 0, hi8, 0, hi8, 0);
  const __m512i seq = _mm512_set1_epi64(INT64_C(0x0706050403020100));
  uint32_t slow = 0;
  size_t q, c;
  for (q = 0; q < r->nruns; q++) {
    const size_t col = r->runs[q].col, m = r->runs[q].len;
    const unsigned fid = r->runs[q].fid;
    hmb_fen *out = (hmb_fen *)(void *)((char *)s + setl_fields[fid].off);
    for (c = 0; c < m; c += 8) {
      const size_t k = col + c, lanes_n = m - c < 8 ? m - c : 8;
      const __mmask8 lanes = (__mmask8)((1u << lanes_n) - 1);
      /* each lane's field: its end, and its length from the end before */
      const __m512i e = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(lanes, ends + k));
      const __m512i n = _mm512_sub_epi64(
          _mm512_sub_epi64(e, _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(lanes, ends + k - 1))),
          one);
      const __mmask8 full = _mm512_mask_cmpneq_epu64_mask(lanes, n, _mm512_setzero_si512());
      /* lengths 4 to 8 */
      __mmask8 ok = _mm512_mask_cmple_epu64_mask(full, _mm512_sub_epi64(n, four), four);
      const uint32_t w0 = ends[k - 1] >= 8 ? ends[k - 1] - 8 : 0;
      __m512i w = _mm512_setzero_si512(), x;
      if (lim - row >= 128 && (size_t)(lim - row) - 128 >= w0) {
        /* byte i of lane j: row[w0 + rel_j + i], rel_j = e_j - 8 - w0 */
        const __m512i rel = _mm512_sub_epi64(e, _mm512_set1_epi64((int64_t)w0 + 8));
        const __m512i idx = _mm512_add_epi8(_mm512_shuffle_epi8(rel, bcast), seq);
        ok = _mm512_mask_cmple_epu64_mask(ok, rel, _mm512_set1_epi64(120));
        w = _mm512_permutex2var_epi8(_mm512_loadu_si512(row + w0), idx,
                                     _mm512_loadu_si512(row + w0 + 64));
      } else {
        ok = 0;
      }
      /* digit values, the bytes before the field (8 - n of them) as 0 */
      x = _mm512_and_si512(
          _mm512_sub_epi8(w, zeros),
          _mm512_sllv_epi64(_mm512_set1_epi64(-1),
                            _mm512_sub_epi64(_mm512_set1_epi64(64), _mm512_slli_epi64(n, 3))));
      ok = _mm512_mask_testn_epi64_mask(ok, _mm512_adds_epu8(x, over), highs);
      x = _mm512_madd_epi16(_mm512_maddubs_epi16(x, wbytes), wwords);
      x = _mm512_add_epi64(_mm512_mul_epu32(x, thousand), _mm512_srli_epi64(x, 32));
      _mm512_mask_storeu_epi64(out + c, ok, x);
      *present |= (uint32_t)full << (fid + c);
      slow |= (uint32_t)(full & (__mmask8)~ok) << (fid + c);
    }
  }
  return slow;
}
#endif

/*
 * The fused path in three steps. fast_split(): the usual row at the
 * reader's position (unquoted, without CR, the header's number of
 * fields, no field longer than SETL_FIELD_MAX) split into ends, the
 * position unchanged; false when the general path must read it.
 * fast_convert(): that row's fields into *s, touching only cv of what
 * changes (rows of one reader may be converted on two threads at once);
 * false when the general path must convert it. fast_advance(): past it.
 */
static inline __attribute__((always_inline)) bool
fast_split(struct setl_reader *r, const char **rowp, const char **limp, uint32_t *ends)
{
  struct csvr *c = r->csv;
  struct src *sr = &c->src;
  const char *row, *lim;
  size_t ncols = c->ncols;

  if (!c->fast_known || c->fast_gen != sr->gen) {
    const char *nl = sr->len ? memrchr(sr->data, '\n', sr->len) : NULL;
    c->fast_end = nl ? (size_t)(nl - sr->data) : 0;
    c->fast_gen = sr->gen;
    c->fast_known = true;
  }
  if (sr->pos >= c->fast_end)
    return false;
  row = sr->data + sr->pos;
  lim = sr->data + c->fast_end + 1;
  /* a blank line or the wrong number of fields: the general path says so */
  if (!ncols || *row == '\n' ||
      (r->split512 ? row_split_512(row, lim, ends, ncols)
       : r->avx2   ? row_split_avx2(row, lim, ends, ncols)
                   : row_split(row, lim, ends, ncols)) != ncols ||
      ends[ncols - 1] > SETL_FIELD_MAX)
    return false;
  *rowp = row;
  *limp = lim;
  return true;
}

static void fast_advance(struct setl_reader *r, const char *row, const uint32_t *ends)
{
  struct csvr *c = r->csv;
  struct src *sr = &c->src;
  c->row_line = sr->line;
  c->resync = NO_RESYNC;
  c->nf = c->ncols;
  sr->pos = (size_t)(row - sr->data) + ends[c->ncols - 1] + 1;
  sr->line++;
}

/* Reading 8 bytes at t is allowed when t + 8 <= lim; id_in: the row stays
 * in place until the reader is freed. */
static inline __attribute__((always_inline)) bool
fast_convert(const struct setl_reader *r, struct setl_conv *cv, const char *row,
             const uint32_t *ends, const char *lim, bool id_in_place, struct settlement *s,
             size_t *idlen, size_t *psnlen, uint64_t *hash, uint64_t *psnhash, const char **id_in)
{
  size_t j;
  uint32_t present = 0;

  setl_clear(s);
  /* the field boundaries are known: each field converts on its own */
  for (j = 0; j < r->nconv; j++) {
    const size_t col = r->conv[j].col, start = col ? ends[col - 1] + 1 : 0;
    const unsigned fid = r->conv[j].fid;
    const char *t = row + start;
    const size_t n = ends[col] - start;
    const struct fdesc *d;
    char *dst;
    if (!n)
      continue; /* empty: absent */
    present |= UINT32_C(1) << fid;
    d = &setl_fields[fid];
    dst = (char *)s + d->off;
    switch ((enum fkind)d->kind) {
    case FK_MONEY:
      if (!money_field(s, d, row, t, n, lim))
        return false;
      break;
    case FK_CODE: {
      int32_t v = 0;
      size_t i;
      for (i = 0; i < n && n <= 9 && (unsigned)(t[i] - '0') < 10u; i++)
        v = v * 10 + (t[i] - '0');
      if (i == n && n <= 9 && v <= d->max)
        memcpy(dst, &v, sizeof(v));
      else if (store_field(s, d, t, n, NULL))
        return false;
      break;
    }
    case FK_ID:
    case FK_TEXT:
      if (n >= d->cap || !text_copy(dst, d->cap, t, n, lim))
        return false;
      if (fid == F_SETL_ID) {
        *idlen = n;
        *id_in = id_in_place ? t : NULL;
        /* hashed from the file's bytes: reading back the copy just stored
         * would wait for its cache line */
        *hash = setl_key_hash(t, n);
        /* the details filter is looked up once the row is read: start
         * fetching its word now (it does not stay in cache beside the
         * file's stream) */
        if (r->det && r->det->bloom) {
          const uint64_t *wp = &r->det->bloom[(*hash & r->det->bloom_mask) / 64];
          __asm__("" : : "r"(wp));
          __builtin_prefetch(wp);
        }
      } else if (fid == F_PSN_NO) {
        *psnlen = n;
        *psnhash = setl_key_hash(t, n);
      }
      break;
    case FK_TIME: {
      hmb_time v;
      if (!fast_time(cv, t, n, &v))
        return false;
      memcpy(dst, &v, sizeof(v));
      break;
    }
    default:
      if (store_field(s, d, t, n, NULL))
        return false;
      break;
    }
  }
#if defined(HAVE_AVX2_SPLIT)
  if (r->vec) {
    uint32_t slow = money_runs_vec(r, row, ends, lim, s, &present);
    for (; slow; slow &= slow - 1) {
      const unsigned f = (unsigned)__builtin_ctz(slow);
      const size_t col = r->fcol[f]; /* >= 1: see money_runs_plan() */
      if (!money_field(s, &setl_fields[f], row, row + ends[col - 1] + 1,
                       ends[col] - ends[col - 1] - 1, lim))
        return false;
    }
  }
#endif
  if ((r->req_always & ~present) || (s->kind == SETL_SETTLE && (r->req_settle & ~present)))
    return false;
  setl_defaults(s);
  return true;
}

/*
 * The general path's conversion of a row split into fields f (one per
 * column): every field, then the required ones. Errors name the field only
 * (the caller adds file and line).
 */
static enum hmb_status convert_fields(const struct setl_reader *r, const struct csvr_field *f,
                                      struct settlement *s, struct hmb_err *err)
{
  enum hmb_status result;
  size_t i;
  settlement_init(s);
  if (r->fcol[F_TXN] != SIZE_MAX && f[r->fcol[F_TXN]].len) {
    const struct csvr_field *t = &f[r->fcol[F_TXN]];
    result = store_field(s, &setl_fields[F_TXN], t->p, t->len, err);
    if (result)
      return result;
  }
  for (i = 0; i < r->nmap; i++) {
    const struct csvr_field *v = &f[r->map[i].col];
    if (!v->len)
      continue;
    result = store_field(s, &setl_fields[r->map[i].fid], v->p, v->len, err);
    if (result)
      return result;
  }
  for (i = 0; i < r->nreq; i++) {
    const struct fdesc *d = &setl_fields[r->req[i].fid];
    if (!f[r->req[i].col].len && (d->req == REQ_ALWAYS || s->kind == SETL_SETTLE))
      return missing(d, err);
  }
  setl_defaults(s);
  return HMB_OK;
}

static enum hmb_status next_csv(struct setl_reader *r, struct settlement *s, bool *eof,
                                struct hmb_err *err)
{
  const struct csvr_field *f;
  enum hmb_status result;
  size_t idlen = 0, psnlen = 0;
  uint64_t h = 0, hp = 0;
  const char *id_in = NULL, *row, *lim;

  *eof = false;
  if (fast_split(r, &row, &lim, r->fends) &&
      fast_convert(r, &r->own, row, r->fends, lim, !r->csv->src.buf, s, &idlen, &psnlen, &h, &hp,
                   &id_in)) {
    fast_advance(r, row, r->fends);
    return attach_details(r, &r->own, s, r->csv->src.name, csvr_line(r->csv), idlen, psnlen, &h,
                          &hp, id_in, err);
  }
  result = csvr_next(r->csv, &f, eof, err);
  if (result || *eof)
    return result;
  result = convert_fields(r, f, s, err);
  if (result) {
    csvr_locate(r->csv, err);
    return result;
  }
  return attach_details(r, &r->own, s, r->csv->src.name, csvr_line(r->csv), SIZE_MAX, SIZE_MAX,
                        NULL, NULL, NULL, err);
}

enum hmb_status setl_reader_split(struct setl_reader *r, struct settlement *s, const char **row,
                                  uint32_t *ends, bool *deferred, bool *eof, struct hmb_err *err)
{
  const char *p, *lim;
  *deferred = false;
  if (r->fmt == SETL_FMT_CSV && !r->csv->src.buf && fast_split(r, &p, &lim, ends)) {
    fast_advance(r, p, ends);
    *row = p;
    *deferred = true;
    *eof = false;
    return HMB_OK;
  }
  return setl_reader_next(r, s, eof, err);
}

enum hmb_status setl_reader_convert(const struct setl_reader *r, struct setl_conv *cv,
                                    const char *row, const uint32_t *ends, unsigned long line,
                                    struct settlement *s, struct hmb_err *err)
{
  enum hmb_status result;
  size_t k, idlen = 0, psnlen = 0, start = 0;
  uint64_t h = 0, hp = 0;
  const char *id_in = NULL;

  /* r->csv is the splitting thread's: see setl_reader.ncols */
  if (fast_convert(r, cv, row, ends, r->lim, true, s, &idlen, &psnlen, &h, &hp, &id_in))
    return attach_details(r, cv, s, r->name, line, idlen, psnlen, &h, &hp, id_in, err);
  /* what the general path would make of it: an unquoted row's fields are
   * the spans between its commas */
  for (k = 0; k < r->ncols; start = ends[k++] + 1) {
    cv->spans[k].p = row + start;
    cv->spans[k].len = ends[k] - start;
  }
  result = convert_fields(r, cv->spans, s, err);
  if (result) {
    locate(err, r->name, line);
    return result;
  }
  return attach_details(r, cv, s, r->name, line, SIZE_MAX, SIZE_MAX, NULL, NULL, NULL, err);
}

enum hmb_status setl_reader_reread(const struct setl_reader *r, struct setl_conv *cv,
                                   const char *at, struct settlement *s, struct hmb_err *err)
{
  const size_t ncols = setl_reader_ncols(r);
  const struct src *sr;
  const char *row;
  uint32_t *ends;
  enum hmb_status result;
  if (!ncols || !r->csv->src.map)
    BUG("setl_reader_reread() on a reader without a mapped CSV file");
  sr = &r->csv->src;
  if (at < sr->data || at >= sr->data + sr->len)
    BUG("setl_reader_reread() outside the file");
  for (row = at; row > sr->data && row[-1] != '\n'; row--)
    ;
  ends = hmb_reallocarray(NULL, ncols, sizeof(*ends));
  if (!ends)
    return nomem(err, sr->name);
  if (row_split(row, sr->data + sr->len, ends, ncols) != ncols)
    BUG("setl_reader_reread(): the row at byte %zu was not split before", (size_t)(row - sr->data));
  result = setl_reader_convert(r, cv, row, ends, 0, s, err);
  free(ends);
  s->lines = NULL;
  s->nlines = 0;
  return result;
}

size_t setl_reader_ncols(const struct setl_reader *r)
{
  return r->fmt == SETL_FMT_CSV ? r->csv->ncols : 0;
}

bool setl_reader_mapping(const struct setl_reader *r, const char **data, size_t *len)
{
  const struct src *sr = r->fmt == SETL_FMT_CSV ? &r->csv->src : &r->js;
  if (!sr->map)
    return false;
  *data = sr->map;
  *len = sr->map_len;
  return true;
}

enum hmb_status setl_conv_new(const struct setl_reader *r, struct setl_conv **out)
{
  /* on lines of its own: each converting thread writes its own with every
   * row (keys, the day), and two made one after the other shared a line */
  struct setl_conv *cv = hmb_calloc_lines(sizeof(*cv));
  size_t n = setl_reader_ncols(r);
  *out = NULL;
  if (!cv)
    return HMB_NOMEM;
  cv->spans = hmb_calloc(n ? n : 1, sizeof(*cv->spans));
  if (!cv->spans) {
    free(cv);
    return HMB_NOMEM;
  }
  *out = cv;
  return HMB_OK;
}

const struct setl_keys *setl_conv_keys(const struct setl_conv *cv)
{
  return &cv->keys;
}

void setl_conv_free(struct setl_conv *cv)
{
  if (cv) {
    free(cv->spans);
    free(cv);
  }
}

static enum hmb_status next_jsonl(struct setl_reader *r, struct settlement *s, bool *eof,
                                  struct hmb_err *err)
{
  struct src *js = &r->js;
  enum hmb_status result;
  *eof = false;
  for (;;) {
    const char *p, *e, *lim, *nl, *end, *q;
    bool has_details;
    if (js->pos >= js->len) {
      if (js->at_eof) {
        *eof = true;
        return HMB_OK;
      }
      result = src_fill(js, err);
      if (result)
        return result;
      continue;
    }
    p = js->data + js->pos;
    e = js->data + js->len;
    lim = (size_t)(e - p) > ROW_SPAN ? p + ROW_SPAN : e;
    nl = memchr(p, '\n', (size_t)(lim - p));
    if (!nl) {
      if (lim < e) {
        r->line = js->line;
        if (src_skip_line(js, (size_t)(lim - js->data), NULL))
          return hmb_err_set(err, HMB_IO, "io.read", js->name, "读取文件失败");
        hmb_err_set(err, HMB_TOO_LARGE, "json.line_too_large", "", "行过长：最多 %u 字节",
                    SETL_ROW_MAX);
        locate(err, js->name, r->line);
        return HMB_TOO_LARGE;
      }
      if (!js->at_eof) {
        result = src_fill(js, err);
        if (result)
          return result;
        continue;
      }
      end = e;
    } else {
      end = nl;
    }
    r->line = js->line;
    js->pos = nl ? (size_t)(nl - js->data) + 1 : js->len;
    if (nl)
      js->line++;
    for (q = p; q < end && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
      ;
    if (q == end)
      continue;
    if ((size_t)(end - p) > SETL_ROW_MAX + (end > p && end[-1] == '\r')) {
      hmb_err_set(err, HMB_TOO_LARGE, "json.line_too_large", "", "行过长：最多 %u 字节",
                  SETL_ROW_MAX);
      locate(err, js->name, r->line);
      return HMB_TOO_LARGE;
    }
    result = json_record(p, (size_t)(end - p), s, r->lines, SETL_MAX_LINES, &has_details, err);
    if (result) {
      locate(err, js->name, r->line);
      return result;
    }
    if (!has_details)
      return attach_details(r, &r->own, s, js->name, r->line, SIZE_MAX, SIZE_MAX, NULL, NULL, NULL,
                            err);
    if (r->det && s->kind == SETL_SETTLE) {
      /* The record carries its own lines: the details file's are not used. */
      struct det_group *g = det_find(r->det, s->setl_id, strlen(s->setl_id));
      if (g)
        __atomic_store_n(&g->matched, true, __ATOMIC_RELAXED);
    }
    return HMB_OK;
  }
}

enum hmb_status setl_reader_next(struct setl_reader *r, struct settlement *s, bool *eof,
                                 struct hmb_err *err)
{
  if (r->fmt == SETL_FMT_CSV)
    return next_csv(r, s, eof, err);
  return next_jsonl(r, s, eof, err);
}

size_t setl_reader_unmatched_details(const struct setl_reader *r, size_t *nlines)
{
  size_t g, n = 0, nl = 0;
  if (r->det) {
    for (g = 0; g < r->det->ngroups; g++) {
      if (!__atomic_load_n(&r->det->groups[g].matched, __ATOMIC_RELAXED)) {
        n++;
        nl += r->det->groups[g].count;
      }
    }
  }
  if (nlines)
    *nlines = nl;
  return n;
}

size_t setl_reader_detail_errors(const struct setl_reader *r, const struct hmb_err **errs,
                                 size_t *nstored)
{
  size_t total = r->det ? r->det->norphans : 0;
  if (errs)
    *errs = r->det ? r->det->orphans : NULL;
  if (nstored)
    *nstored = total < DETAIL_ERRS_KEPT ? total : DETAIL_ERRS_KEPT;
  return total;
}

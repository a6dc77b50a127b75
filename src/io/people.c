#include "compat.h"
#include "people.h"

#include "buf.h"
#include "enroll.h"
#include "setl_reader.h"

/*
 * Loading keeps entries in file order with their strings as offsets into
 * one arena (which may move while it grows). At the end the entries are
 * reordered so that each family's members are contiguous (families in order
 * of first appearance, then everyone without a family, each in file order),
 * the offsets become pointers, and the psn_no index is built on the final
 * array.
 */

#define NO_OFF      SIZE_MAX
#define ARENA_LIMIT ((size_t)1 << 40)

enum pcol {
  PC_PSN_NO = 0,
  PC_CERTNO,
  PC_INSUTYPE,
  PC_BRDY,
  PC_GEND,
  PC_PREEXISTING,
  PC_LOYALTY,
  PC_CLAIM_FREE,
  PC_GROUPS,
  PC_FAMILY_ID,
  PC__COUNT
};

static const char *const pcol_names[PC__COUNT] = {
    "psn_no",      "certno",        "insutype",         "brdy",   "gend",
    "preexisting", "loyalty_years", "claim_free_years", "groups", "family_id",
};

struct pending {
  size_t groups_off; /* NO_OFF: none */
  size_t family_off; /* NO_OFF: none */
  uint64_t hash;     /* of psn_no, for the index */
};

struct family {
  uint64_t hash;
  size_t id_off;
  uint32_t start, count;
};

struct people {
  struct people_entry *e;
  size_t n, alloc;
  struct pending *pend; /* while loading */
  struct buf arena;
  uint64_t *hash;  /* hmb_hash64() of each entry's psn_no */
  uint64_t *slots; /* tag (the hash's high half) << 32 | entry index + 1 */
  size_t nslots;
  struct family *fam;
  size_t nfam, afam;
  uint64_t *fslots; /* tag << 32 | family index + 1, while loading */
  size_t nfslots;
  size_t skipped;
};

static size_t pow2_at_least(size_t n)
{
  size_t p = 1024;
  while (p < n)
    p *= 2;
  return p;
}

static const char *arena_str(const struct people *pp, size_t off)
{
  return pp->arena.ptr + off;
}

/* ---------------------------------------------------------------- index */

/*
 * n zeroed slots, written rather than calloc()ed: a large calloc() is a
 * fresh mapping whose pages a probe first reads as the shared zero page,
 * and the write that follows must then flush that page from every core
 * running the process (perf: a third of the load while another thread of
 * hmb ran). NULL when out of memory.
 */
static uint64_t *slots_alloc(size_t n)
{
  uint64_t *s = hmb_reallocarray(NULL, n, sizeof(*s));
  if (s)
    memset(s, 0, n * sizeof(*s));
  return s;
}

/* A slot of the psn_no index: a tag from the hash, so that a probe reads an
 * entry (a cache miss away) only when it is likely the one, and its index. */
static inline uint64_t slot_of(uint64_t h, size_t idx)
{
  return (h & ~(uint64_t)UINT32_MAX) | ((uint64_t)idx + 1);
}

/* The entry of psn_no, whose hmb_hash64() is h, or NULL. */
static struct people_entry *find_entry_h(const struct people *pp, const char *psn_no, size_t len,
                                         uint64_t h)
{
  size_t mask, i;
  if (!pp->nslots || len >= SETL_ID_MAX)
    return NULL;
  mask = pp->nslots - 1;
  for (i = (size_t)h & mask;; i = (i + 1) & mask) {
    uint64_t k = pp->slots[i];
    struct people_entry *e;
    if (!k)
      return NULL;
    if ((k ^ h) >> 32)
      continue;
    e = &pp->e[(uint32_t)k - 1];
    if (memcmp(e->psn_no, psn_no, len) == 0 && e->psn_no[len] == '\0')
      return e;
  }
}

static struct people_entry *find_entry(const struct people *pp, const char *psn_no, size_t len)
{
  if (!pp->nslots || len >= SETL_ID_MAX)
    return NULL; /* before hashing: no psn_no is that long, nothing to read */
  return find_entry_h(pp, psn_no, len, hmb_hash64(psn_no, len));
}

static void index_put(struct people *pp, size_t idx)
{
  size_t mask = pp->nslots - 1, i = (size_t)pp->hash[idx] & mask;
  while (pp->slots[i])
    i = (i + 1) & mask;
  pp->slots[i] = slot_of(pp->hash[idx], idx);
}

static enum hmb_status index_build(struct people *pp, size_t nslots)
{
  size_t i;
  uint64_t *s = slots_alloc(nslots);
  if (!s)
    return HMB_NOMEM;
  free(pp->slots);
  pp->slots = s;
  pp->nslots = nslots;
  for (i = 0; i < pp->n; i++)
    index_put(pp, i);
  return HMB_OK;
}

/* The family of id (len bytes, hash h), made when new. */
static enum hmb_status family_of(struct people *pp, const char *id, size_t len, uint64_t h,
                                 int32_t *out)
{
  size_t mask, i, f;
  enum hmb_status result;

  if (pp->nfslots) {
    mask = pp->nfslots - 1;
    for (i = (size_t)h & mask; pp->fslots[i]; i = (i + 1) & mask) {
      const struct family *fm;
      const char *s;
      if ((pp->fslots[i] ^ h) >> 32)
        continue;
      fm = &pp->fam[(uint32_t)pp->fslots[i] - 1];
      s = arena_str(pp, fm->id_off);
      if (fm->hash == h && memcmp(s, id, len) == 0 && s[len] == '\0') {
        *out = (int32_t)((uint32_t)pp->fslots[i] - 1);
        return HMB_OK;
      }
    }
  }
  if (pp->nfam >= INT32_MAX - 1)
    return HMB_TOO_LARGE;
  if ((pp->nfam + 1) * 2 > pp->nfslots) {
    size_t ns = pow2_at_least((pp->nfam + 1) * 4);
    uint64_t *s = slots_alloc(ns);
    if (!s)
      return HMB_NOMEM;
    for (f = 0; f < pp->nfam; f++) {
      for (i = (size_t)pp->fam[f].hash & (ns - 1); s[i]; i = (i + 1) & (ns - 1))
        ;
      s[i] = slot_of(pp->fam[f].hash, f);
    }
    free(pp->fslots);
    pp->fslots = s;
    pp->nfslots = ns;
  }
  if (pp->nfam == pp->afam) {
    size_t na = pp->afam ? pp->afam * 2 : 64;
    struct family *nf = hmb_reallocarray(pp->fam, na, sizeof(*nf));
    if (!nf)
      return HMB_NOMEM;
    pp->fam = nf;
    pp->afam = na;
  }
  pp->fam[pp->nfam].hash = h;
  pp->fam[pp->nfam].id_off = pp->arena.len;
  pp->fam[pp->nfam].start = pp->fam[pp->nfam].count = 0;
  result = buf_add(&pp->arena, id, len);
  if (!result)
    result = buf_addch(&pp->arena, '\0');
  if (result)
    return result;
  mask = pp->nfslots - 1;
  for (i = (size_t)h & mask; pp->fslots[i]; i = (i + 1) & mask)
    ;
  pp->fslots[i] = slot_of(h, pp->nfam);
  *out = (int32_t)pp->nfam++;
  return HMB_OK;
}

/* ---------------------------------------------------------------- rows */

static enum hmb_status parse_small(const struct csvr_field *f, int32_t max, int32_t *out,
                                   const char *field, struct hmb_err *err)
{
  int32_t v = 0;
  size_t i;
  if (f->len > 9)
    return hmb_err_set(err, HMB_INVALID, "int.range", field, "数值超出范围：0 到 %" PRId32, max);
  for (i = 0; i < f->len; i++) {
    if (f->p[i] < '0' || f->p[i] > '9')
      return hmb_err_set(err, HMB_INVALID, "int.syntax", field, "应为非负整数");
    v = v * 10 + (f->p[i] - '0');
  }
  if (v > max)
    return hmb_err_set(err, HMB_INVALID, "int.range", field, "数值超出范围：0 到 %" PRId32, max);
  *out = v;
  return HMB_OK;
}

static enum hmb_status check_text(const struct csvr_field *f, size_t cap, const char *field,
                                  struct hmb_err *err)
{
  if (cap && f->len >= cap)
    return hmb_err_set(err, HMB_INVALID, "text.too_long", field, "文本过长：最多 %zu 字节",
                       cap - 1);
  if (!setl_text_ok(f->p, f->len))
    return hmb_err_set(err, HMB_INVALID, "text.invalid", field,
                       "文本含有非法字符：须为 UTF-8 且不含控制字符");
  return HMB_OK;
}

/*
 * Parse one data row into *pe and *pd (its groups appended to the arena),
 * all but what needs the tables: whether the psn_no is new (pd->hash is
 * its hash) and the family, whose id is left at *fam (fam_len bytes, 0 for
 * none; valid until the next row is read).
 */
static enum hmb_status parse_row(struct people *pp, const size_t *col, const struct csvr_field *row,
                                 struct people_entry *pe, struct pending *pd, const char **fam,
                                 size_t *fam_len, struct hmb_err *err)
{
  const struct csvr_field none = {"", 0};
  const struct csvr_field *f[PC__COUNT];
  enum hmb_status result;
  int32_t v;
  size_t i;

  for (i = 0; i < PC__COUNT; i++)
    f[i] = col[i] == SIZE_MAX ? &none : &row[col[i]];
  memset(pe, 0, sizeof(*pe));
  pe->birth = PEOPLE_BIRTH_UNKNOWN;
  pe->family = -1;
  pd->groups_off = pd->family_off = NO_OFF;

  if (!f[PC_PSN_NO]->len)
    return hmb_err_set(err, HMB_INVALID, "field.missing", "psn_no", "缺少必填字段 psn_no");
  result = check_text(f[PC_PSN_NO], SETL_ID_MAX, "psn_no", err);
  if (result)
    return result;
  pd->hash = hmb_hash64(f[PC_PSN_NO]->p, f[PC_PSN_NO]->len);
  *fam_len = 0;
  memcpy(pe->psn_no, f[PC_PSN_NO]->p, f[PC_PSN_NO]->len);
  pe->psn_no[f[PC_PSN_NO]->len] = '\0';

  if (f[PC_INSUTYPE]->len) {
    result = parse_small(f[PC_INSUTYPE], 999, &pe->insutype, "insutype", err);
    if (result)
      return result;
  }
  if (f[PC_BRDY]->len) {
    result = date_parse(f[PC_BRDY]->p, f[PC_BRDY]->len, &pe->birth, "brdy", err);
    if (result)
      return result;
  }
  if (f[PC_GEND]->len) {
    const struct csvr_field *g = f[PC_GEND];
    if (g->len != 1 || (g->p[0] != '0' && g->p[0] != '1' && g->p[0] != '2' && g->p[0] != '9'))
      return hmb_err_set(err, HMB_INVALID, "gend.syntax", "gend",
                         "性别代码应为 0（未知）、1（男）、2（女）或 9（未说明）");
    pe->gend = (int8_t)(g->p[0] - '0');
  }
  if (f[PC_PREEXISTING]->len) {
    result = parse_small(f[PC_PREEXISTING], 1, &v, "preexisting", err);
    if (result)
      return hmb_err_set(err, HMB_INVALID, "preexisting.syntax", "preexisting",
                         "既往症标志应为 0 或 1");
    pe->preexisting = (int8_t)v;
  }
  if (f[PC_LOYALTY]->len) {
    result = parse_small(f[PC_LOYALTY], 200, &v, "loyalty_years", err);
    if (result)
      return result;
    pe->loyalty_years = (int16_t)v;
  }
  if (f[PC_CLAIM_FREE]->len) {
    result = parse_small(f[PC_CLAIM_FREE], 200, &v, "claim_free_years", err);
    if (result)
      return result;
    pe->claim_free_years = (int16_t)v;
  }
  if (pe->claim_free_years > pe->loyalty_years)
    return hmb_err_set(err, HMB_INVALID, "claim_free_years.range", "claim_free_years",
                       "无理赔年数（%d）不能大于连续参保年数（%d）", pe->claim_free_years,
                       pe->loyalty_years);
  if (f[PC_GROUPS]->len) {
    result = check_text(f[PC_GROUPS], 0, "groups", err);
    if (result)
      return result;
  }
  if (f[PC_FAMILY_ID]->len) {
    result = check_text(f[PC_FAMILY_ID], SETL_ID_MAX, "family_id", err);
    if (result)
      return result;
  }
  /* Everything parsed: only now touch the arena and the families. */
  if (f[PC_GROUPS]->len) {
    pd->groups_off = pp->arena.len;
    result = buf_add(&pp->arena, f[PC_GROUPS]->p, f[PC_GROUPS]->len);
    if (!result)
      result = buf_addch(&pp->arena, '\0');
    if (result)
      return hmb_err_set(err, HMB_NOMEM, "io.nomem", "", "内存不足");
  }
  *fam = f[PC_FAMILY_ID]->p;
  *fam_len = f[PC_FAMILY_ID]->len;
  return HMB_OK;
}

/* Room for na entries, na > pp->alloc (from the file's size at first:
 * each doubling copied the table into fresh memory). */
static enum hmb_status entries_grow(struct people *pp, size_t na)
{
  struct people_entry *ne = hmb_reallocarray(pp->e, na, sizeof(*ne));
  struct pending *np;
  uint64_t *nh;
  if (!ne)
    return HMB_NOMEM;
  pp->e = ne;
  np = hmb_reallocarray(pp->pend, na, sizeof(*np));
  if (!np)
    return HMB_NOMEM;
  pp->pend = np;
  nh = hmb_reallocarray(pp->hash, na, sizeof(*nh));
  if (!nh)
    return HMB_NOMEM;
  pp->hash = nh;
  pp->alloc = na;
  return HMB_OK;
}

static enum hmb_status append(struct people *pp, const struct people_entry *pe,
                              const struct pending *pd)
{
  if (pp->n >= UINT32_MAX - 1)
    return HMB_TOO_LARGE;
  if (pp->n == pp->alloc && entries_grow(pp, pp->alloc ? pp->alloc * 2 : 1024))
    return HMB_NOMEM;
  if ((pp->n + 1) * 2 > pp->nslots && index_build(pp, pow2_at_least((pp->n + 1) * 4)))
    return HMB_NOMEM;
  pp->e[pp->n] = *pe;
  pp->pend[pp->n] = *pd;
  pp->hash[pp->n] = pd->hash;
  index_put(pp, pp->n);
  pp->n++;
  return HMB_OK;
}

#define CYCLE_AHEAD 8 /* entries of a cycle fetched ahead (finish()) */

/* What moving entry j reads: the entry (80 bytes, two lines) and its hash. */
static inline void entry_prefetch(const struct people *pp, size_t j)
{
  __builtin_prefetch(&pp->e[j]);
  __builtin_prefetch(&pp->e[j].family);
  __builtin_prefetch(&pp->hash[j]);
}

/* Reorder by family (in place: a copy was tens of megabytes of fresh
 * memory), turn offsets into pointers, point the index at the entries'
 * new places (in one pass over it, not built again). */
static enum hmb_status finish(struct people *pp)
{
  uint32_t *moved;
  size_t i, f, rest = 0;
  uint32_t run = 0;

  for (i = 0; i < pp->n; i++) {
    if (pp->e[i].family >= 0)
      pp->fam[pp->e[i].family].count++;
  }
  for (f = 0; f < pp->nfam; f++) {
    pp->fam[f].start = run;
    run += pp->fam[f].count;
    pp->fam[f].count = 0;
  }
  moved = hmb_reallocarray(NULL, pp->n ? pp->n : 1, sizeof(*moved));
  if (!moved)
    return HMB_NOMEM;
  for (i = 0; i < pp->n; i++) {
    struct people_entry *e = &pp->e[i];
    const struct pending *pd = &pp->pend[i];
    size_t to;
    if (e->family >= 0) {
      struct family *fm = &pp->fam[e->family];
      to = fm->start + fm->count++;
    } else {
      to = run + rest++;
    }
    e->groups = pd->groups_off == NO_OFF ? "" : arena_str(pp, pd->groups_off);
    e->family_id = pd->family_off == NO_OFF ? NULL : arena_str(pp, pd->family_off);
    moved[i] = (uint32_t)to;
  }
  /* every entry is in the index (load() made it, at most half full) */
  for (i = 0; i < pp->nslots; i++)
    if (pp->slots[i])
      pp->slots[i] = slot_of(pp->slots[i], moved[(uint32_t)pp->slots[i] - 1]);
  /* each entry to its place, cycle by cycle: moved[i] says where the
   * entry now at i goes. The places are random (perf: a third of the
   * load's own time waited for them): the cycle's next ones, still as
   * moved[] has them, are fetched a few steps ahead. */
  for (i = 0; i < pp->n; i++) {
    size_t ahead = i, k;
    if (moved[i] == i)
      continue;
    for (k = 0; k < CYCLE_AHEAD; k++) {
      ahead = moved[ahead];
      entry_prefetch(pp, ahead);
    }
    while (moved[i] != i) {
      const uint32_t to = moved[i];
      struct people_entry te = pp->e[to];
      uint64_t th = pp->hash[to];
      pp->e[to] = pp->e[i];
      pp->hash[to] = pp->hash[i];
      pp->e[i] = te;
      pp->hash[i] = th;
      moved[i] = moved[to];
      moved[to] = to;
      ahead = moved[ahead];
      entry_prefetch(pp, ahead);
    }
  }
  free(moved);
  free(pp->pend);
  pp->pend = NULL;
  free(pp->fslots);
  pp->fslots = NULL;
  pp->nfslots = 0;
  return HMB_OK;
}

static enum hmb_status map_columns(struct csvr *c, size_t *col, struct hmb_err *err)
{
  size_t i, k;
  for (k = 0; k < PC__COUNT; k++)
    col[k] = SIZE_MAX;
  for (i = 0; i < csvr_ncols(c); i++) {
    const char *name = csvr_colname(c, i);
    for (k = 0; k < PC__COUNT; k++) {
      if (strcmp(name, pcol_names[k]) != 0)
        continue;
      if (col[k] != SIZE_MAX) {
        hmb_err_set(err, HMB_INVALID, "csv.duplicate_column", name, "表头中 %s 列重复", name);
        csvr_locate(c, err);
        return HMB_INVALID;
      }
      col[k] = i;
    }
  }
  if (col[PC_PSN_NO] == SIZE_MAX) {
    hmb_err_set(err, HMB_INVALID, "csv.missing_column", "psn_no", "人员文件缺少必需的列 psn_no");
    csvr_locate(c, err);
    return HMB_INVALID;
  }
  return HMB_OK;
}

/*
 * Rows are loaded in chunks: each row of a chunk is parsed (parse_row()),
 * then, in file order, checked against the psn_no index, given its family
 * and appended, with the slots of both indexes for the row LOAD_AHEAD on
 * fetched ahead. One row at a time, those two lookups into tables of
 * megabytes were 70% of the load (perf), each a cache miss waited for.
 * Reports keep the file's order.
 */
#define LOAD_CHUNK 256
#define LOAD_AHEAD 16

struct staged {
  struct people_entry pe;
  struct pending pd;
  unsigned long line;
  uint64_t fhash;  /* of the family id, when fam_len */
  uint8_t psn_len; /* bytes of pe.psn_no */
  uint8_t fam_len; /* bytes of the family id at famid[] (< SETL_ID_MAX) */
  int16_t err;     /* its parse error in the chunk's errs[], -1 when none */
};

struct loader {
  struct staged row[LOAD_CHUNK];
  struct hmb_err errs[LOAD_CHUNK];
  char famid[LOAD_CHUNK][SETL_ID_MAX];
  size_t n, nerrs;
};

/* always_inline: gcc finds a function that only prefetches free of
 * effects and drops the calls to it */
static inline __attribute__((always_inline)) void stage_prefetch(const struct people *pp,
                                                                 const struct staged *st)
{
  if (st->err >= 0)
    return;
  if (pp->nslots)
    __builtin_prefetch(&pp->slots[st->pd.hash & (pp->nslots - 1)]);
  if (st->fam_len && pp->nfslots)
    __builtin_prefetch(&pp->fslots[st->fhash & (pp->nfslots - 1)]);
}

/*
 * The chunk's rows into the table, in order. A bad row goes to report (or,
 * without one, fails the load with its error in *fail). HMB_OK, or the
 * status that ends the load (*fail set).
 */
static enum hmb_status commit_chunk(struct people *pp, struct loader *l, const struct csvr *c,
                                    people_report_fn *report, void *ctx, struct hmb_err *fail)
{
  enum hmb_status result;
  size_t i;
  for (i = 0; i < LOAD_AHEAD && i < l->n; i++)
    stage_prefetch(pp, &l->row[i]);
  for (i = 0; i < l->n; i++) {
    struct staged *st = &l->row[i];
    struct hmb_err dup;
    const struct hmb_err *bad;
    if (i + LOAD_AHEAD < l->n)
      stage_prefetch(pp, &l->row[i + LOAD_AHEAD]);
    if (st->err >= 0) {
      bad = &l->errs[st->err];
    } else if (find_entry_h(pp, st->pe.psn_no, st->psn_len, st->pd.hash)) {
      hmb_err_init(&dup);
      hmb_err_set(&dup, HMB_INVALID, "people.duplicate", "psn_no",
                  "人员编号重复出现：保留第一次出现的行");
      csvr_locate_line(c, st->line, &dup);
      bad = &dup;
    } else {
      if (st->fam_len) {
        result = family_of(pp, l->famid[i], st->fam_len, st->fhash, &st->pe.family);
        if (result)
          return hmb_err_set(fail, result, "io.nomem", "", "内存不足");
        st->pd.family_off = pp->fam[st->pe.family].id_off;
      }
      result = append(pp, &st->pe, &st->pd);
      if (result)
        return hmb_err_set(fail, result, "io.nomem", "", "内存不足或人员过多");
      continue;
    }
    if (!report) {
      *fail = *bad;
      return bad->status;
    }
    report(ctx, bad);
    pp->skipped++;
  }
  l->n = l->nerrs = 0;
  return HMB_OK;
}

static enum hmb_status load(struct people **out, struct csvr *c, people_report_fn *report,
                            void *ctx, struct hmb_err *err)
{
  struct people *pp;
  struct loader *l;
  size_t col[PC__COUNT];
  struct hmb_err e;
  enum hmb_status result;
  bool eof = false;

  *out = NULL;
  result = map_columns(c, col, err);
  if (result)
    return result;
  pp = hmb_calloc(1, sizeof(*pp));
  l = hmb_malloc(sizeof(*l));
  if (!pp || !l) {
    free(pp);
    free(l);
    return hmb_err_set(err, HMB_NOMEM, "io.nomem", "", "内存不足");
  }
  l->n = l->nerrs = 0;
  buf_init(&pp->arena, ARENA_LIMIT);
  {
    /* the index and the entries at their final size from the start when
     * the file's size tells (see finish()): a table of megabytes built
     * again at each doubling is random writes all over it, and each
     * doubling copied the entries into fresh memory */
    size_t expect = csvr_estimate_rows(c);
    if (expect && expect < UINT32_MAX / 4 &&
        (index_build(pp, pow2_at_least(expect * 2 + 1)) ||
         entries_grow(pp, expect + expect / 16 + 1024))) {
      free(l);
      people_free(pp);
      return hmb_err_set(err, HMB_NOMEM, "io.nomem", "", "内存不足");
    }
  }
  while (!eof) {
    /* a chunk parsed; a read error ends it, to be returned once the rows
     * before it are in (and reported) */
    enum hmb_status read_failed = HMB_OK;
    while (l->n < LOAD_CHUNK) {
      const struct csvr_field *row;
      struct staged *st = &l->row[l->n];
      const char *fam = NULL;
      size_t fam_len = 0;
      hmb_err_init(&e);
      result = csvr_next(c, &row, &eof, &e);
      if (!result && eof)
        break;
      if (!result) {
        result = parse_row(pp, col, row, &st->pe, &st->pd, &fam, &fam_len, &e);
        if (result && result != HMB_NOMEM)
          csvr_locate(c, &e);
      }
      if (result == HMB_IO || result == HMB_NOMEM) {
        read_failed = result;
        break;
      }
      st->line = csvr_line(c);
      st->err = -1;
      st->fam_len = 0;
      if (result) {
        l->errs[l->nerrs] = e;
        st->err = (int16_t)l->nerrs++;
      } else {
        st->psn_len = (uint8_t)strlen(st->pe.psn_no);
        if (fam_len) {
          memcpy(l->famid[l->n], fam, fam_len);
          st->fam_len = (uint8_t)fam_len;
          st->fhash = hmb_hash64(fam, fam_len);
        }
      }
      l->n++;
    }
    result = commit_chunk(pp, l, c, report, ctx, &e);
    if (!result && read_failed)
      result = read_failed; /* e is its error */
    if (result)
      goto fail;
  }
  free(l);
  l = NULL;
  result = finish(pp);
  if (result) {
    hmb_err_set(err, result, "io.nomem", "", "内存不足");
    people_free(pp);
    return result;
  }
  *out = pp;
  return HMB_OK;
fail:
  free(l);
  if (err)
    *err = e;
  people_free(pp);
  return result;
}

enum hmb_status people_load(struct people **out, const char *path, people_report_fn *report,
                            void *ctx, struct hmb_err *err)
{
  struct csvr *c;
  enum hmb_status result = csvr_open(&c, path, err);
  *out = NULL;
  if (result)
    return result;
  result = load(out, c, report, ctx, err);
  csvr_free(c);
  return result;
}

enum hmb_status people_load_mem(struct people **out, const char *name, const char *data, size_t len,
                                people_report_fn *report, void *ctx, struct hmb_err *err)
{
  struct csvr *c;
  enum hmb_status result = csvr_open_mem(&c, name, data, len, err);
  *out = NULL;
  if (result)
    return result;
  result = load(out, c, report, ctx, err);
  csvr_free(c);
  return result;
}

const struct people_entry *people_find(const struct people *pp, const char *psn_no, size_t len)
{
  return find_entry(pp, psn_no, len);
}

uint64_t people_prefetch_slot(const struct people *pp, const char *psn_no, size_t len)
{
  uint64_t h;
  if (!pp->nslots || len >= SETL_ID_MAX)
    return 0;
  h = hmb_hash64(psn_no, len);
  __builtin_prefetch(&pp->slots[h & (pp->nslots - 1)]);
  return h;
}

void people_prefetch_entry(const struct people *pp, uint64_t h)
{
  size_t mask, i, k;
  if (!pp->nslots)
    return;
  /* the first entry of the probe whose tag matches (usually the one) */
  mask = pp->nslots - 1;
  for (i = (size_t)h & mask, k = 0; k < 4 && pp->slots[i]; i = (i + 1) & mask, k++)
    if (!((pp->slots[i] ^ h) >> 32)) {
      const char *e = (const char *)&pp->e[(uint32_t)pp->slots[i] - 1];
      __builtin_prefetch(e);
      __builtin_prefetch(e + sizeof(struct people_entry) - 1);
      return;
    }
}

enum hmb_status people_family_members(const struct people *pp, int32_t family,
                                      const struct people_entry **members, size_t *n)
{
  if (family < 0 || (size_t)family >= pp->nfam) {
    *members = NULL;
    *n = 0;
    return HMB_NOT_FOUND;
  }
  *members = pp->e + pp->fam[family].start;
  *n = pp->fam[family].count;
  return HMB_OK;
}

void people_adj_person(const struct plan *p, const struct people_entry *e, struct adj_person *out)
{
  memset(out, 0, sizeof(*out));
  out->insutype = e->insutype;
  out->preexisting = e->preexisting ? 1 : 0;
  out->loyalty_years = e->loyalty_years;
  out->claim_free_years = e->claim_free_years;
  out->age = (int16_t)(e->birth == PEOPLE_BIRTH_UNKNOWN ? -1 : enroll_age(p, e->birth));
  out->groups = e->groups;
}

const struct people_entry *people_at(const struct people *pp, size_t i)
{
  if (i >= pp->n)
    BUG("people_at(%zu) of %zu", i, pp->n);
  return &pp->e[i];
}

size_t people_index(const struct people *pp, const struct people_entry *e)
{
  if (e < pp->e || e >= pp->e + pp->n)
    BUG("entry not of this table");
  return (size_t)(e - pp->e);
}

size_t people_count(const struct people *pp)
{
  return pp->n;
}
size_t people_family_count(const struct people *pp)
{
  return pp->nfam;
}
size_t people_skipped(const struct people *pp)
{
  return pp->skipped;
}

void people_free(struct people *pp)
{
  if (!pp)
    return;
  free(pp->e);
  free(pp->pend);
  free(pp->hash);
  buf_release(&pp->arena);
  free(pp->slots);
  free(pp->fam);
  free(pp->fslots);
  free(pp);
}

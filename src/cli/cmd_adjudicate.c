/*
 * hmb adjudicate: a year of settlements through the engine, one result per
 * settlement, person states kept in memory, settlements remembered by
 * setl_id so that a repeated id is refused and a reversal can take back
 * exactly what its settlement added.
 */
#include "compat.h"
#include "adjudicate.h"
#include "buf.h"
#include "cli.h"
#include "people.h"
#include "plan_json.h"
#include "setl_reader.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_FLUSH           (1u << 20)
#define MAX_REPORTED_ERRORS 1000 /* bad rows printed; all are counted */

/* Fetch the cache line at p to be written. gcc makes a plain read prefetch
 * of __builtin_prefetch(p, 1) unless the target has PREFETCHW, which every
 * x86-64 core of the last decade has (and older ones take as a no-op). */
static inline void prefetch_write(const void *p)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __asm__("prefetchw %0" : : "m"(*(const char *)p));
#else
  __builtin_prefetch(p, 1);
#endif
}

/* ---- large mappings ---- */

#define HUGE_PAGE (2u << 20)

static size_t huge_round(size_t sz)
{
  return (sz + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

/*
 * A mapping of sz bytes (a multiple of 4 KiB) aligned on a huge page;
 * fresh pages arrive zeroed. NULL on failure. With `huge` it is advised onto
 * huge pages: what is probed at random (the indexes, the persons) then
 * misses the TLB far less, which perf showed to be most of the worker's
 * stalls. Settlement records are written in order and stay on small pages,
 * which this VM hands out faster than fresh huge ones.
 */
static void *huge_alloc(size_t sz, bool huge)
{
  char *p = mmap(NULL, sz + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uintptr_t a;
  if (p == MAP_FAILED)
    return NULL;
  a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  if (a > (uintptr_t)p)
    munmap(p, a - (uintptr_t)p);
  munmap((char *)a + sz, (uintptr_t)p + HUGE_PAGE - a);
  if (huge)
    madvise((void *)a, sz, MADV_HUGEPAGE);
  return (void *)a;
}

static void huge_free(void *p, size_t sz)
{
  if (p)
    munmap(p, sz);
}

/* ---- faulting memory in ahead of its use ----
 *
 * A fresh page costs its first writer a fault and a clearing, and on this
 * kind of virtual machine often a trip to the host as well: perf put a
 * sixth of the worker's time there, mostly in the person records. So the
 * chunks the worker will fill are mapped one ahead of need, and a thread
 * that would otherwise wait (the worker for a batch, the reading thread
 * for a free one) faults in a piece of them with MADV_POPULATE_WRITE,
 * which leaves the contents alone. A region is never unmapped before the
 * run ends, so a piece may be faulted in by either thread at any time. */

#define WARM_UNIT ((size_t)HUGE_PAGE)
#define WARM_MAX  8

struct warm_region {
  char *p;
  size_t len;
};

/* Fault in [p, p + len), page aligned. false when the kernel cannot
 * (MADV_POPULATE_WRITE is Linux 5.14): warming then stops, nothing else. */
static bool warm_fault(char *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
  return !madvise(p, len, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)len;
  return false;
#endif
}

/* Take the next piece of the first region with some left. */
static bool warm_take(struct warm_region *r, size_t *n, struct warm_region *piece)
{
  while (*n) {
    if (r[0].len) {
      piece->p = r[0].p;
      piece->len = r[0].len < WARM_UNIT ? r[0].len : WARM_UNIT;
      r[0].p += piece->len;
      r[0].len -= piece->len;
      return true;
    }
    memmove(r, r + 1, --*n * sizeof(*r));
  }
  return false;
}

/* Append a region, dropping it when the list is full (it is then faulted
 * in by its user, as without warming). */
static void warm_add(struct warm_region *r, size_t *n, char *p, size_t len)
{
  if (*n < WARM_MAX && len) {
    r[*n].p = p;
    r[*n].len = len;
    ++*n;
  }
}

/* ---- a chunked arena: stable pointers, freed at once (terms, accounts) ---- */

#define ARENA_BLOCK (64u << 10)

struct arena {
  char **blocks;
  size_t nblocks;
  size_t used; /* in the last block */
};

static void *arena_alloc(struct arena *a, size_t n)
{
  char *p;
  n = (n + 7) & ~(size_t)7;
  if (!a->nblocks || a->used + n > ARENA_BLOCK) {
    char **nb = hmb_reallocarray(a->blocks, a->nblocks + 1, sizeof(char *));
    if (!nb || n > ARENA_BLOCK)
      return NULL; /* records are small; a block holds hundreds */
    a->blocks = nb;
    a->blocks[a->nblocks] = hmb_malloc(ARENA_BLOCK);
    if (!a->blocks[a->nblocks])
      return NULL;
    a->nblocks++;
    a->used = 0;
  }
  p = a->blocks[a->nblocks - 1] + a->used;
  a->used += n;
  return p;
}

static void arena_release(struct arena *a)
{
  size_t i;
  for (i = 0; i < a->nblocks; i++)
    free(a->blocks[i]);
  free(a->blocks);
  memset(a, 0, sizeof(*a));
}

/* ---- hash index: 6-byte slots, 14-bit hash tag + 34 bits of where ----
 *
 * A slot is 48 bits, stored little-endian in 6 bytes (read as 8: the table
 * has 8 bytes more). It holds the top 14 bits of the key's hash (never 0:
 * 0 is an empty slot) and where the key is: a record (SLOT_FILE clear), or
 * with SLOT_FILE the offset of a settlement's setl_id in the mapped input
 * (the settlements that added nothing, see setl_add_ref(); an input past
 * 8 GiB leaves records instead); the low bits of the hash choose the home
 * slot. A tag match is only a candidate: the caller compares the id and
 * goes on probing when it differs (at 3.6 slots a probe, a 14-bit tag
 * sends one insert in 4,500 to a needless compare). Nothing is ever
 * deleted. A year of 10 million settlements takes 96 MiB: with 8-byte
 * slots it took 128, and the 32 MiB more of fresh memory cost more than
 * the compares (bench/README.md, session 14). */

#define SLOT_BYTES     6
#define SLOT_TAG_SHIFT 34
#define SLOT_FILE      ((uint64_t)1 << 33)
#define SLOT_REF       (SLOT_FILE - 1) /* a record's reference or a file offset */
#define SLOT_BITS      (((uint64_t)1 << 48) - 1)

struct tidx {
  unsigned char *s; /* cap slots of SLOT_BYTES, then 8 bytes of zeroes */
  size_t cap, n, bytes;
  uint64_t tags; /* the tag bits kept: all, or 1 (HMB_TEST_NARROW_TAGS) */
};

static inline uint64_t tag_of(const struct tidx *t, uint64_t h)
{
  uint64_t tag = (h >> (64 - (48 - SLOT_TAG_SHIFT))) & t->tags;
  return (tag ? tag : 1) << SLOT_TAG_SHIFT;
}

static inline unsigned char *slot_at(const struct tidx *t, size_t j)
{
  return t->s + j * SLOT_BYTES;
}

static inline uint64_t slot_load(const unsigned char *p)
{
  uint64_t v;
  memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v & SLOT_BITS;
}

static inline void slot_store(unsigned char *p, uint64_t v)
{
  int i;
  for (i = 0; i < SLOT_BYTES; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* sz bytes of zeroes: small tables come from the heap (*bytes = 0), large
 * ones are mapped (*bytes: the mapping's size). NULL when out of memory.
 * A mapping ends at the page after sz, not at the next huge page: the
 * part past the last whole huge page then takes small pages, and a table
 * a little over a power of two (the person index and its pad) does not
 * fault in 2 MiB more for its last bytes. */
static void *table_alloc(size_t sz, size_t *bytes)
{
  void *s;
  if (sz < HUGE_PAGE) {
    *bytes = 0;
    return hmb_calloc(1, sz);
  }
  sz = (sz + 4095) & ~(size_t)4095;
  s = huge_alloc(sz, true);
  *bytes = s ? sz : 0;
  return s;
}

static void table_free(void *s, size_t bytes)
{
  if (bytes)
    munmap(s, bytes);
  else
    free(s);
}

/* A table_alloc() of n entries of size bytes holding the first keep of
 * old (freed, *bytes its table_alloc() size, then the new one's); NULL
 * when out of memory, old untouched. */
static void *table_regrow(void *old, size_t *bytes, size_t keep, size_t n, size_t size)
{
  size_t nb;
  void *p = n <= SIZE_MAX / size ? table_alloc(n * size, &nb) : NULL;
  if (!p)
    return NULL;
  if (keep)
    memcpy(p, old, keep * size);
  table_free(old, *bytes);
  *bytes = nb;
  return p;
}

static bool tidx_init(struct tidx *t, size_t cap)
{
  t->s = cap <= (SIZE_MAX - 8) / SLOT_BYTES ? table_alloc(cap * SLOT_BYTES + 8, &t->bytes) : NULL;
  if (!t->s)
    return false;
  t->cap = cap;
  t->n = 0;
  t->tags = ~(uint64_t)0;
  return true;
}

/* Smallest power of two >= 1024 holding n entries at a load of at most
 * three quarters (linear probing stays short there). */
static size_t tidx_cap_for(size_t n)
{
  size_t cap = 1024;
  while (cap * 3 < n * 4)
    cap *= 2;
  return cap;
}

/* A probe often runs on past its home slot (some 3.6 slots at 60% load):
 * near the end of a cache line the next line is fetched too. */
static inline void tidx_prefetch(const struct tidx *t, uint64_t h)
{
  const unsigned char *p = slot_at(t, h & (t->cap - 1));
  __builtin_prefetch(p);
  if (((uintptr_t)p & 63) >= 40)
    __builtin_prefetch(p + 64);
}

/* Put a key known to be absent at the end of h's probe sequence: where
 * it is (ref, with SLOT_FILE or without). */
static void tidx_put(struct tidx *t, uint64_t h, uint64_t ref)
{
  size_t j = h & (t->cap - 1);
  while (slot_load(slot_at(t, j)))
    j = (j + 1) & (t->cap - 1);
  slot_store(slot_at(t, j), tag_of(t, h) | ref);
  t->n++;
}

static void tidx_release(struct tidx *t)
{
  table_free(t->s, t->bytes);
  memset(t, 0, sizeof(*t));
}

/* ---- persons ----
 *
 * A person seen is a 32-byte slot of the person index (struct pslot) and
 * an entry of run->pinfo under their number, given in the order first
 * seen. The slot holds the id, so a row's person is found and confirmed
 * with one random access. Their year state is a record (struct person_rec)
 * made at their first settlement that can add something (see
 * adj_settle_inert()): under an inpatient product a minority ever has one
 * (430 k of 1.41 M persons in the benchmark year), and their other rows
 * never touch it. With run->eager (explanations, HMB_TEST_EAGER) the record
 * is made when the person is first seen; a family's are made together. */

#define PSLOT_ID 22

struct pslot {
  uint8_t len;       /* of the id; 0: a free slot */
  uint8_t unknown;   /* not in --people: their rows are refused */
  char id[PSLOT_ID]; /* inline when len <= PSLOT_ID, else a pointer to the arena's copy */
  uint32_t num;      /* the person's number (none when unknown) */
  uint32_t rec;      /* their record's number + 1; 0 while there is none */
};
_Static_assert(sizeof(struct pslot) == 32, "two slots a cache line");
#define NO_PERSON UINT32_MAX
/* same_id32() reads 32 bytes of a slot's id: the table has this after it */
#define PTAB_PAD 64

struct ptab {
  struct pslot *s;
  size_t cap, n, bytes; /* bytes: 0 when from the heap */
};

struct pinfo {
  const struct adj_terms *terms; /* resolved when first seen (terms_of) */
  size_t pidx;                   /* index in run->people, when given */
  hmb_fen own; /* year runs: what own_add() did not keep in own32, and reversals */
};

#define PREC_HDR 16

struct person_rec {
  struct adj_state **members; /* a family's states, NULL for a person alone */
  uint8_t nmembers;
  uint8_t member;
};

_Static_assert(sizeof(struct person_rec) == PREC_HDR, "person header size");
#define PCHUNK_SHIFT 15
#define PCHUNK       ((size_t)1 << PCHUNK_SHIFT)

struct account_rec {
  uint16_t n;
  struct adj_state *m[PLAN_MAX_FAMILY];
};

/*
 * What a settlement leaves behind for idempotency and reversal: its
 * person's number, its id and what it added, only when not empty (after
 * the id: a 16-bit length, then adj_contrib_pack()'s bytes). A settlement
 * that added nothing and was read from a mapped file has none: its index
 * slot points at its setl_id in the file, and its reversal reads the row
 * again (setl_reader_reread()). That is 90% of a year's rows under an
 * inpatient product, whose records were 160 MiB of fresh memory, slow to
 * come by on this kind of VM (see warm_fault()). The id is kept
 * inline, or with SR_IDREF as a pointer to its bytes in the input
 * (setl_keys.setl_id_in, valid until the reader is freed: ids are read only
 * while it runs), which halves a year's records. Records are appended
 * to chunks of SCHUNK bytes, 8-byte aligned, and referred to by their
 * offset in units of 8 bytes (32 GiB of records at most); a usual one takes
 * 16 bytes.
 */
struct setl_rec {
  uint32_t person;
  uint8_t len;
  uint8_t flags; /* SR_* */
  char id[];     /* len bytes, no terminator, or with SR_IDREF a pointer */
};

/* SR_OWN, SR_OWN16 (year runs only): what the person bore, after the
 * contribution, taken back from their pinfo's own if it is reversed. */
enum { SR_REVERSED = 1, SR_CONTRIB = 2, SR_OWN = 4, SR_IDREF = 8, SR_OWN16 = 16 };
#define SREC_HDR offsetof(struct setl_rec, id)

/* Bytes of the own cost at the record's end: SR_OWN16 keeps one below
 * 65536 fen (most visits) in 2 bytes, so such a year-run record still
 * takes 16 bytes. */
static inline size_t setl_rec_ownbytes(uint8_t flags)
{
  return flags & SR_OWN16 ? sizeof(uint16_t) : flags & SR_OWN ? sizeof(hmb_fen) : 0;
}

/* Bytes of the record after the header before its contribution. */
static inline size_t setl_rec_idbytes(uint8_t flags, size_t len)
{
  return flags & SR_IDREF ? sizeof(const char *) : len;
}

static inline const char *setl_rec_id(const struct setl_rec *r)
{
  const char *p;
  if (!(r->flags & SR_IDREF))
    return r->id;
  memcpy(&p, r->id, sizeof(p));
  return p;
}

static size_t setl_rec_contrib(const struct setl_rec *r, const uint8_t **packed)
{
  const char *tail = r->id + setl_rec_idbytes(r->flags, r->len);
  uint16_t n = 0;
  if (r->flags & SR_CONTRIB)
    memcpy(&n, tail, sizeof(n));
  *packed = (const uint8_t *)tail + sizeof(n);
  return n;
}

static hmb_fen setl_rec_own(const struct setl_rec *r)
{
  const char *tail = r->id + setl_rec_idbytes(r->flags, r->len);
  hmb_fen v = 0;
  if (r->flags & SR_CONTRIB) {
    uint16_t n;
    memcpy(&n, tail, sizeof(n));
    tail += sizeof(n) + n;
  }
  if (r->flags & SR_OWN16) {
    uint16_t small;
    memcpy(&small, tail, sizeof(small));
    v = small;
  } else if (r->flags & SR_OWN) {
    memcpy(&v, tail, sizeof(v));
  }
  return v;
}

/* 4 MiB: the benchmark's 10 M rows fill about four (rows that add nothing
 * keep no record), and the chunk mapped ahead is faulted in whole */
#define SCHUNK_SHIFT 22
#define SCHUNK       ((size_t)1 << SCHUNK_SHIFT)
#define SETL_REF_MAX UINT32_MAX
_Static_assert(SETL_REF_MAX <= SLOT_REF, "a record reference fits a slot");

struct term_entry {
  uint64_t key;
  const struct adj_terms *t;
};

struct mapping {
  void *p;
  size_t bytes; /* 0: from the heap */
};

struct run {
  const struct plan *plan;
  const struct people *people;
  struct arena arena;
  struct ptab persons;
  struct tidx setls;
  struct term_entry *terms; /* resolved terms by adj_terms_key() */
  size_t nterms;
  bool eager;      /* records made when a person is first seen */
  bool settle_all; /* inert rows through adj_settle() too */
  /* the mapped input (NULL when not mapped: every settlement then gets a
   * record), and the reader and a converter of its own to read a row again */
  const char *file;
  size_t file_len;
  const struct setl_reader *rd;
  struct setl_conv *rcv;
  /* persons: numbers 0..npersons-1 */
  struct pinfo *pinfo;
  size_t npersons, apinfo, pinfo_bytes; /* pinfo_bytes: as table_alloc() */
  /* year runs: the psn_part_amt of each person's settlements not reversed
   * is own32[num] + pinfo[num].own; every row adds to it, and 4 bytes a
   * person keep the array dense enough to stay in the cache (own_add()) */
  uint32_t *own32;
  size_t own32_bytes;
  /* person records: numbers 0..nrecs-1 */
  char **pchunks;
  size_t nrecs, npchunks, pstride, pchunk_bytes;
  /* settlement records */
  char **schunks;
  size_t nschunks, sused; /* bytes used in the last chunk */
  /* the next chunk of each kind, mapped ahead; fresh: spares mapped since
   * the worker last handed them to the pipeline to be warmed */
  char *pspare, *sspare;
  struct warm_region fresh[WARM_MAX];
  size_t nfresh;
  struct mapping retired[64]; /* index tables replaced, unmapped at the end */
  size_t nretired;
  /* summary */
  unsigned long settled, reversals, rejected, out_of_order;
  hmb_fen eligible, paid;
  hmb_time last_time;
  /* year runs (adjudicate_year): rows of people not enrolled are counted
   * apart */
  bool year;
  /* a year run's reader, left by run_file() for year_run() to free while
   * it adds up the persons: unmapping a file of gigabytes takes a while */
  struct setl_reader *rd_left;
  unsigned long not_enrolled, repeated;
  hmb_time max_time;
};

/* Add v to what person num bore in a year run: to own32 while it fits. */
static inline void own_add(struct run *run, uint32_t num, hmb_fen v)
{
  uint32_t *o = &run->own32[num];
  if (v >= 0 && (uint64_t)v <= UINT32_MAX - *o)
    *o += (uint32_t)v;
  else
    run->pinfo[num].own += v;
}

static inline struct person_rec *rec_at(const struct run *run, size_t i)
{
  return (struct person_rec *)(run->pchunks[i >> PCHUNK_SHIFT] + (i & (PCHUNK - 1)) * run->pstride);
}

static inline struct adj_state *person_state(struct person_rec *pr)
{
  return (struct adj_state *)(void *)((char *)pr + PREC_HDR);
}

static inline const char *pslot_id(const struct pslot *ps)
{
  const char *id;
  if (ps->len <= PSLOT_ID)
    return ps->id;
  memcpy(&id, ps->id, sizeof(id));
  return id;
}

/* The first len <= 32 bytes of a and b are equal; both are readable for 32
 * bytes. Four word compares instead of a call to memcmp(), which perf showed
 * at 2-5% of the worker for the person compare of every row. */
static inline bool same_id32(const char *a, const char *b, size_t len)
{
  uint64_t d = 0, x, y;
  size_t k;
  for (k = 0; k < 32; k += 8) {
    memcpy(&x, a + k, sizeof(x));
    memcpy(&y, b + k, sizeof(y));
    x ^= y;
    if (len < k + 8)
      x &= len > k ? ~UINT64_C(0) >> (64 - 8 * (len - k)) : 0;
    d |= x;
  }
  return !d;
}

/* Slot ps holds psn_no, a settlement's (an array of SETL_ID_MAX bytes). */
static inline bool pslot_is(const struct pslot *ps, const char *psn_no, size_t len)
{
  _Static_assert(PSLOT_ID + PTAB_PAD >= 32 && SETL_ID_MAX >= 32, "32 bytes readable on both sides");
  if (ps->len != len)
    return false;
  return len <= PSLOT_ID ? same_id32(ps->id, psn_no, len) : !memcmp(pslot_id(ps), psn_no, len);
}

static inline struct setl_rec *setl_at(const struct run *run, uint32_t ref)
{
  size_t off = (size_t)ref * 8;
  return (struct setl_rec *)(run->schunks[off >> SCHUNK_SHIFT] + (off & (SCHUNK - 1)));
}

static uint64_t nonzero_hash(const char *s, size_t n)
{
  uint64_t h = setl_key_hash(s, n); /* as the reader's setl_keys */
  return h ? h : 1;
}

/* Put away a table being replaced: a mapped one stays mapped until the run
 * ends, as the reading thread may be faulting in a piece of it. */
static void table_retire(struct run *run, void *p, size_t bytes)
{
  if (bytes && run->nretired < ARRAY_SIZE(run->retired)) {
    run->retired[run->nretired].p = p;
    run->retired[run->nretired].bytes = bytes;
    run->nretired++;
  } else {
    table_free(p, bytes); /* more than 64 doublings cannot happen */
  }
}

static bool ptab_init(struct ptab *t, size_t cap)
{
  t->s = table_alloc(cap * sizeof(struct pslot) + PTAB_PAD, &t->bytes);
  if (!t->s)
    return false;
  t->cap = cap;
  t->n = 0;
  return true;
}

static void ptab_release(struct ptab *t)
{
  table_free(t->s, t->bytes);
  memset(t, 0, sizeof(*t));
}

/* The home slot's line and the next: a probe for a person found looks at
 * two slots on average at two-thirds load (PTAB_PAD covers the end). */
static inline void ptab_prefetch(const struct ptab *t, uint64_t h)
{
  size_t j = h & (t->cap - 1);
  __builtin_prefetch(&t->s[j]);
  __builtin_prefetch(&t->s[j + 2]);
}

/* The slot of psn_no (a settlement's: see pslot_is), or NULL. */
static inline struct pslot *ptab_find(const struct ptab *t, const char *psn_no, size_t len,
                                      uint64_t h)
{
  size_t j = h & (t->cap - 1);
  for (; t->s[j].len; j = (j + 1) & (t->cap - 1))
    if (pslot_is(&t->s[j], psn_no, len))
      return &t->s[j];
  return NULL;
}

/* The free slot at the end of h's probe sequence, counted as taken. */
static struct pslot *ptab_put(struct ptab *t, uint64_t h)
{
  size_t j = h & (t->cap - 1);
  while (t->s[j].len)
    j = (j + 1) & (t->cap - 1);
  t->n++;
  return &t->s[j];
}

/* Double the person index. */
static bool persons_grow(struct run *run)
{
  struct ptab nt;
  size_t i;
  if (!ptab_init(&nt, run->persons.cap * 2))
    return false;
  for (i = 0; i < run->persons.cap; i++) {
    const struct pslot *ps = &run->persons.s[i];
    if (ps->len)
      *ptab_put(&nt, nonzero_hash(pslot_id(ps), ps->len)) = *ps;
  }
  table_retire(run, run->persons.s, run->persons.bytes);
  run->persons = nt;
  return true;
}

/* The setl_id a slot's value points at (*len its bytes). */
static const char *slot_id(const struct run *run, uint64_t v, size_t *len)
{
  const char *id;
  if (v & SLOT_FILE) {
    /* an unquoted field of the fast path: it ends at a ',' or the '\n' */
    id = run->file + (v & SLOT_REF);
    for (*len = 0; id[*len] != ',' && id[*len] != '\n'; ++*len)
      ;
    return id;
  }
  {
    const struct setl_rec *r = setl_at(run, (uint32_t)(v & SLOT_REF));
    *len = r->len;
    return setl_rec_id(r);
  }
}

/* Double the settlement index, its keys hashed again. */
static bool setls_grow(struct run *run)
{
  struct tidx nt;
  size_t k;
  if (!tidx_init(&nt, run->setls.cap * 2))
    return false;
  nt.tags = run->setls.tags;
  for (k = 0; k < run->setls.cap; k++) {
    const uint64_t v = slot_load(slot_at(&run->setls, k));
    const char *id;
    size_t len;
    if (!v)
      continue;
    id = slot_id(run, v, &len);
    tidx_put(&nt, nonzero_hash(id, len), v & (SLOT_FILE | SLOT_REF));
  }
  table_retire(run, run->setls.s, run->setls.bytes);
  run->setls = nt;
  return true;
}

/* Make room for `more` insertions into both indexes. */
static bool run_reserve(struct run *run, size_t more)
{
  while ((run->setls.n + more) * 4 > run->setls.cap * 3)
    if (!setls_grow(run))
      return false;
  while ((run->persons.n + more) * 4 > run->persons.cap * 3)
    if (!persons_grow(run))
      return false;
  return true;
}

/* The terms of persons with key (adj_terms_key()), resolved for the first
 * of them; NULL with err set when they cannot be. Few keys exist (schemes
 * times variant outcomes), so they are searched in order. */
static const struct adj_terms *terms_of(struct run *run, const struct adj_person *who,
                                        struct hmb_err *err)
{
  const uint64_t key = adj_terms_key(run->plan, who);
  struct term_entry *nt;
  struct adj_terms t, *copy;
  size_t i;
  for (i = 0; i < run->nterms; i++)
    if (run->terms[i].key == key)
      return run->terms[i].t;
  if (adj_terms_resolve(run->plan, who, &t, err))
    return NULL;
  nt = hmb_reallocarray(run->terms, run->nterms + 1, sizeof(*nt));
  copy = nt ? arena_alloc(&run->arena, sizeof(*copy)) : NULL;
  if (nt)
    run->terms = nt;
  if (!copy) {
    hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    return NULL;
  }
  *copy = t;
  run->terms[run->nterms].key = key;
  run->terms[run->nterms++].t = copy;
  return copy;
}

/* A chunk of sz bytes for the worker to fill now: the spare mapped ahead
 * when there is one; a new spare is mapped for next time and noted to be
 * warmed. NULL when out of memory. */
static char *chunk_take(struct run *run, char **spare, size_t sz, bool huge)
{
  char *c = *spare ? *spare : huge_alloc(sz, huge);
  *spare = NULL;
  if (c) {
    *spare = huge_alloc(sz, huge);
    if (*spare)
      warm_add(run->fresh, &run->nfresh, *spare, sz);
  }
  return c;
}

/* The record of the person in slot ps, made now when there is none: a
 * fresh state under the person's terms. */
static enum hmb_status person_record(struct run *run, struct pslot *ps, struct person_rec **out,
                                     struct hmb_err *err)
{
  struct person_rec *pr;
  if (ps->rec) {
    *out = rec_at(run, ps->rec - 1);
    return HMB_OK;
  }
  if (run->nrecs >= UINT32_MAX - 1)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  if (run->nrecs == run->npchunks * PCHUNK) {
    char **nc = hmb_reallocarray(run->pchunks, run->npchunks + 1, sizeof(*nc));
    if (!nc)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    run->pchunks = nc;
    run->pchunks[run->npchunks] = chunk_take(run, &run->pspare, run->pchunk_bytes, true);
    if (!run->pchunks[run->npchunks])
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    run->npchunks++;
  }
  pr = rec_at(run, run->nrecs);
  adj_state_init(run->plan, person_state(pr), run->pinfo[ps->num].terms);
  pr->members = NULL;
  pr->nmembers = 1;
  pr->member = 0;
  ps->rec = (uint32_t)++run->nrecs;
  *out = pr;
  return HMB_OK;
}

/* Put id into free slot ps. */
static bool pslot_fill(struct run *run, struct pslot *ps, const char *psn_no, size_t len)
{
  if (len > PSLOT_ID) {
    char *copy = arena_alloc(&run->arena, len);
    if (!copy)
      return false;
    memcpy(copy, psn_no, len);
    memcpy(ps->id, &copy, sizeof(copy));
  } else {
    memcpy(ps->id, psn_no, len);
  }
  ps->len = (uint8_t)len;
  return true;
}

/* Room for n persons in pinfo (and own32): made at the people's number
 * before the run, doubled as persons come beyond; from table_alloc() as
 * they may grow large (pinfo may be left larger than apinfo says: nothing
 * is lost). false when out of memory. */
static bool pinfo_grow(struct run *run, size_t n)
{
  struct pinfo *np = table_regrow(run->pinfo, &run->pinfo_bytes, run->npersons, n, sizeof(*np));
  if (!np)
    return false;
  run->pinfo = np;
  if (run->year) {
    uint32_t *no = table_regrow(run->own32, &run->own32_bytes, run->npersons, n, sizeof(*no));
    if (!no)
      return false;
    run->own32 = no;
  }
  run->apinfo = n;
  return true;
}

/*
 * A person not in the index (hash h): checked against --people, their terms
 * resolved, then given a number and a slot (and a record when run->eager).
 * One not in --people gets a slot marked unknown, so that their other rows
 * are refused without looking again, and the error person.unknown.
 */
static enum hmb_status make_person(struct run *run, const char *psn_no, size_t len, uint64_t h,
                                   int32_t insutype_hint, struct pslot **out, struct hmb_err *err)
{
  const struct plan *p = run->plan;
  struct adj_person who = {insutype_hint, 0, 0, 0, -1, NULL};
  const struct adj_terms *ti;
  const struct people_entry *pe = NULL;
  struct pinfo *pi;
  struct pslot *ps;

  if (len >= SETL_ID_MAX)
    BUG("person id of %zu bytes", len);
  if ((run->persons.n + 1) * 4 > run->persons.cap * 3 && !persons_grow(run))
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  if (run->people) {
    pe = people_find(run->people, psn_no, len);
    if (!pe) {
      ps = ptab_put(&run->persons, h);
      if (!pslot_fill(run, ps, psn_no, len))
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      ps->unknown = 1;
      ps->num = UINT32_MAX;
      return hmb_err_set(err, HMB_NOT_FOUND, "person.unknown", "psn_no",
                         "人员不在参保名单（--people）中");
    }
    people_adj_person(p, pe, &who);
    if (!who.insutype)
      who.insutype = insutype_hint;
  }
  ti = terms_of(run, &who, err);
  if (!ti)
    return err->status; /* no slot: their next row tries again */
  if (run->npersons >= UINT32_MAX)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  if (run->npersons == run->apinfo &&
      !pinfo_grow(run, run->apinfo ? run->apinfo * 2 : run->persons.cap))
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  pi = &run->pinfo[run->npersons];
  pi->terms = ti;
  pi->pidx = pe ? people_index(run->people, pe) : 0;
  pi->own = 0;
  if (run->year)
    run->own32[run->npersons] = 0;
  ps = ptab_put(&run->persons, h);
  if (!pslot_fill(run, ps, psn_no, len)) {
    run->persons.n--;
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  }
  ps->unknown = 0;
  ps->num = (uint32_t)run->npersons++;
  ps->rec = 0;
  *out = ps;
  if (run->eager) {
    struct person_rec *pr;
    return person_record(run, ps, &pr, err);
  }
  return HMB_OK;
}

/* The slot of the settlement's person, seen before or now (with their
 * family, when the plan shares amounts in one); valid until the next
 * person is made. */
static enum hmb_status get_person(struct run *run, const struct settlement *s, size_t len,
                                  uint64_t h, struct pslot **out, struct hmb_err *err)
{
  size_t i;
  struct account_rec *acct = NULL;
  enum hmb_status result;
  struct pslot *ps = ptab_find(&run->persons, s->psn_no, len, h);

  if (ps) {
    if (ps->unknown)
      return hmb_err_set(err, HMB_NOT_FOUND, "person.unknown", "psn_no",
                         "人员不在参保名单（--people）中");
    *out = ps;
    return HMB_OK;
  }
  if (run->plan->has_family_scope && run->people) {
    const struct people_entry *pe = people_find(run->people, s->psn_no, len);
    const struct people_entry *fam = NULL;
    struct person_rec *made[PLAN_MAX_FAMILY];
    size_t nfam = 0;
    uint32_t num = NO_PERSON;
    if (pe && pe->family >= 0)
      people_family_members(run->people, pe->family, &fam, &nfam);
    if (nfam > PLAN_MAX_FAMILY)
      return hmb_err_set(err, HMB_TOO_LARGE, "family.too_large", "family_id", "家庭成员超过 %d 人",
                         PLAN_MAX_FAMILY);
    acct = arena_alloc(&run->arena, sizeof(*acct));
    if (!acct)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    acct->n = 0;
    for (i = 0; i < nfam; i++) {
      size_t flen = strlen(fam[i].psn_no);
      struct pslot *fps;
      result = make_person(run, fam[i].psn_no, flen, nonzero_hash(fam[i].psn_no, flen), s->insutype,
                           &fps, err);
      if (!result)
        result = person_record(run, fps, &made[i], err);
      if (result)
        return result;
      made[i]->members = acct->m;
      made[i]->member = (uint8_t)acct->n;
      acct->m[acct->n++] = person_state(made[i]);
      if (flen == len && !memcmp(fam[i].psn_no, s->psn_no, len))
        num = fps->num;
    }
    for (i = 0; i < nfam; i++)
      made[i]->nmembers = (uint8_t)acct->n;
    if (nfam) {
      /* the table may have grown since: the slot is found again */
      if (num == NO_PERSON || !(*out = ptab_find(&run->persons, s->psn_no, len, h)))
        BUG("person of settlement %s missing from its own family", s->setl_id);
      return HMB_OK;
    }
  }
  return make_person(run, s->psn_no, len, h, s->insutype, out, err);
}

/* The index slot of settlement id (hash h), or NULL. */
static unsigned char *setl_find(const struct run *run, const char *id, size_t len, uint64_t h)
{
  const struct tidx *t = &run->setls;
  const uint64_t want = tag_of(t, h);
  size_t j = h & (t->cap - 1);
  uint64_t v;
  for (; (v = slot_load(slot_at(t, j))) != 0; j = (j + 1) & (t->cap - 1))
    if ((v & ~(SLOT_FILE | SLOT_REF)) == want) {
      size_t n;
      const char *p = slot_id(run, v, &n);
      if (n == len && !memcmp(p, id, len))
        return slot_at(t, j);
    }
  return NULL;
}

/* Settlement id that added nothing: its slot points at id_in, its setl_id
 * in the mapped input, when there is one (true); room in the index was
 * reserved for the batch. */
static bool setl_add_ref(struct run *run, const char *id_in, uint64_t h)
{
  size_t off;
  if (!run->file || !id_in || id_in < run->file || id_in >= run->file + run->file_len)
    return false;
  off = (size_t)(id_in - run->file);
  if (off > SLOT_REF)
    return false; /* beyond what a slot can point into */
  tidx_put(&run->setls, h, SLOT_FILE | off);
  return true;
}

/* Append the record of a settlement (*ref: its reference), not indexed. */
static enum hmb_status setl_append(struct run *run, const char *id, const char *id_in, size_t len,
                                   uint32_t person, const uint8_t *contrib, size_t contrib_len,
                                   hmb_fen own, uint8_t more_flags, uint32_t *out_ref,
                                   struct hmb_err *err)
{
  const uint8_t flags =
      (uint8_t)((id_in && len > sizeof(id_in) ? SR_IDREF : 0) | (contrib_len ? SR_CONTRIB : 0) |
                (own > 0 && own <= UINT16_MAX ? SR_OWN16
                 : own                        ? SR_OWN
                                              : 0) |
                more_flags);
  const size_t idbytes = setl_rec_idbytes(flags, len);
  size_t need = (SREC_HDR + idbytes + (contrib_len ? sizeof(uint16_t) + contrib_len : 0) +
                 setl_rec_ownbytes(flags) + 7) &
                ~(size_t)7;
  size_t ref;
  struct setl_rec *r;
  char *tail;
  if (!len || len >= SETL_ID_MAX)
    BUG("settlement id of %zu bytes", len);
  if (!run->nschunks || run->sused + need > SCHUNK) {
    char **nc = hmb_reallocarray(run->schunks, run->nschunks + 1, sizeof(*nc));
    if (!nc)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    run->schunks = nc;
    run->schunks[run->nschunks] = chunk_take(run, &run->sspare, SCHUNK, false);
    if (!run->schunks[run->nschunks])
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    run->nschunks++;
    run->sused = 0;
  }
  ref = ((run->nschunks - 1) * SCHUNK + run->sused) / 8;
  if (ref > SETL_REF_MAX)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  r = (struct setl_rec *)(void *)(run->schunks[run->nschunks - 1] + run->sused);
  r->person = person;
  r->len = (uint8_t)len;
  r->flags = flags;
  if (flags & SR_IDREF)
    memcpy(r->id, &id_in, sizeof(id_in));
  else
    memcpy(r->id, id, len);
  tail = r->id + idbytes;
  if (contrib_len) {
    uint16_t n = (uint16_t)contrib_len;
    memcpy(tail, &n, sizeof(n));
    memcpy(tail + sizeof(n), contrib, contrib_len);
    tail += sizeof(n) + contrib_len;
  }
  if (flags & SR_OWN16) {
    uint16_t small = (uint16_t)own;
    memcpy(tail, &small, sizeof(small));
  } else if (own) {
    memcpy(tail, &own, sizeof(own));
  }
  run->sused += need;
  *out_ref = (uint32_t)ref;
  return HMB_OK;
}

/* Append and index the record of a settlement just made; room in the index
 * was reserved for the batch. */
static enum hmb_status setl_add(struct run *run, const char *id, const char *id_in, size_t len,
                                uint64_t h, uint32_t person, const uint8_t *contrib,
                                size_t contrib_len, hmb_fen own, struct hmb_err *err)
{
  uint32_t ref;
  enum hmb_status result =
      setl_append(run, id, id_in, len, person, contrib, contrib_len, own, 0, &ref, err);
  if (!result)
    tidx_put(&run->setls, h, ref);
  return result;
}

/* ---- output ---- */

struct out {
  FILE *f;
  /* an existing file is emptied by a thread of its own (see out_open) */
  pthread_t trunc;
  bool trunc_running;
  int trunc_fd, trunc_err;
  struct buf b;
  bool jsonl;
  bool explain;
  /* the end of a CSV row that pays nothing: ",ok,0.00,...\n" */
  char zero[16 + (PLAN_MAX_RESP + 3) * 5];
  size_t zero_len;
};

#define OUT_HOLD (32u << 20) /* output kept while the file is being emptied */

static void *truncate_main(void *arg)
{
  struct out *o = arg;
  char proc[64];
  int fd;
  /* Through a second open file of the same inode, closed at once: ext4
   * marks a file emptied this way to have its new blocks allocated when it
   * is closed ("auto_da_alloc"), which on our own descriptor would cost a
   * quarter of a second at exit; here it finds nothing to allocate yet. */
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->trunc_fd);
  fd = open(proc, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    fd = o->trunc_fd;
  if (ftruncate(fd, 0))
    o->trunc_err = errno;
  if (fd != o->trunc_fd)
    close(fd);
  return NULL;
}

/*
 * Open path for writing, emptied as fopen(path, "w") would. Emptying a
 * large existing file (a previous run's results) costs the kernel a tenth
 * of a second; a thread does it beside the first rows, and nothing is
 * written to the file before it is done (out_flush() waits). NULL with
 * errno set on failure.
 */
static FILE *out_open(struct out *o, const char *path)
{
  struct stat st;
  FILE *f;
  int fd = open(path, O_WRONLY | O_CREAT, 0666), e;
  if (fd < 0)
    return NULL;
  if (!(f = fdopen(fd, "w"))) {
    e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size)
    return f;
  o->trunc_fd = fd;
  o->trunc_err = 0;
  if (!pthread_create(&o->trunc, NULL, truncate_main, o)) {
    o->trunc_running = true;
    return f;
  }
  if (ftruncate(fd, 0)) {
    e = errno;
    fclose(f);
    errno = e;
    return NULL;
  }
  return f;
}

/* Wait for the emptying of the file, if any; HMB_IO when it failed. */
static enum hmb_status out_ready(struct out *o, bool wait, bool *ready, struct hmb_err *err)
{
  *ready = true;
  if (!o->trunc_running)
    return HMB_OK;
  if (wait || o->b.len >= OUT_HOLD) {
    pthread_join(o->trunc, NULL);
  } else if (pthread_tryjoin_np(o->trunc, NULL)) {
    *ready = false; /* still emptying it: keep the rows meanwhile */
    return HMB_OK;
  }
  o->trunc_running = false;
  if (o->trunc_err)
    return hmb_err_set(err, HMB_IO, "out.write", "--out", "写入结果失败：%s",
                       strerror(o->trunc_err));
  return HMB_OK;
}

/* Write out what is buffered (unless the file is still being emptied and
 * `wait` is false: then later). */
static enum hmb_status out_flush(struct out *o, bool wait, struct hmb_err *err)
{
  bool ready;
  enum hmb_status result = out_ready(o, wait, &ready, err);
  if (result || !ready)
    return result;
  if (o->b.len && fwrite(o->b.ptr, 1, o->b.len, o->f) != o->b.len)
    return hmb_err_set(err, HMB_IO, "out.write", "--out", "写入结果失败：%s", strerror(errno));
  buf_reset(&o->b);
  return HMB_OK;
}

static void out_header(struct out *o, const struct plan *p)
{
  int r;
  if (o->jsonl)
    return;
  {
    size_t n = 0;
    memcpy(o->zero, ",ok,0.00,0.00", 13);
    n = 13;
    for (r = 0; r < p->nresp; r++) {
      memcpy(o->zero + n, ",0.00", 5);
      n += 5;
    }
    if (p->has_family_scope) {
      memcpy(o->zero + n, ",0.00", 5);
      n += 5;
    }
    o->zero[n++] = '\n';
    o->zero_len = n;
  }
  buf_addstr(&o->b, "setl_id,psn_no,status,eligible,payout");
  for (r = 0; r < p->nresp; r++) {
    buf_addch(&o->b, ',');
    buf_addstr(&o->b, p->resp[r].id);
  }
  /* with family-scope pools or caps a settlement can change what other
   * members are paid: that change has its own column, so the payout and
   * family_adjust columns add up to the summary's total */
  if (p->has_family_scope)
    buf_addstr(&o->b, ",family_adjust");
  if (o->explain)
    buf_addstr(&o->b, ",explanation");
  buf_addch(&o->b, '\n');
}

/* What the worker found for one row, formatted by it after the batch. */
enum row_status { ROW_OK = 0, ROW_REVERSAL, ROW_ERROR };
struct row_out {
  /* what every row uses first: a result of a few responsibilities then
   * spans two cache lines, which pass from the worker's core to the
   * reader's */
  uint8_t status;
  uint32_t text_len; /* explanation or error message (a batch text is < 4 GiB) */
  size_t text_at;    /* where in the batch's text */
  hmb_fen eligible, payout, family_adjust;
  hmb_fen r[PLAN_MAX_RESP];
};

static const char *const status_names[] = {"ok", "reversal", "error"};

/* s[0..n) needs no CSV quoting (ids hold no control characters). */
static inline bool csv_plain(const char *s, size_t n)
{
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  for (; n >= 8; s += 8, n -= 8) {
    uint64_t w, c, q;
    memcpy(&w, s, sizeof(w));
    c = w ^ (ones * ',');
    q = w ^ (ones * '"');
    if (((c - ones) & ~c & highs) | ((q - ones) & ~q & highs))
      return false;
  }
  for (; n; s++, n--)
    if (*s == ',' || *s == '"')
      return false;
  return true;
}

/*
 * Append id (n bytes of an array of SETL_ID_MAX) to w, which has room for
 * 32 bytes more, when it needs no CSV quoting; false when it does. An id
 * of up to 32 bytes is checked and copied as two 16-byte words.
 */
static inline bool id_put(char *w, const char *id, size_t n)
{
#if defined(__SSE2__)
  _Static_assert(SETL_ID_MAX >= 32, "32 bytes of an id readable");
  if (n <= 32) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)id);
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(id + 16));
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    uint32_t hit = (uint32_t)_mm_movemask_epi8(
                       _mm_or_si128(_mm_cmpeq_epi8(a, comma), _mm_cmpeq_epi8(a, quote))) |
                   (uint32_t)_mm_movemask_epi8(
                       _mm_or_si128(_mm_cmpeq_epi8(b, comma), _mm_cmpeq_epi8(b, quote)))
                       << 16;
    if (hit & (n == 32 ? UINT32_MAX : (UINT32_C(1) << n) - 1))
      return false;
    _mm_storeu_si128((__m128i *)(void *)w, a);
    _mm_storeu_si128((__m128i *)(void *)(w + 16), b);
    return true;
  }
#endif
  if (!csv_plain(id, n))
    return false;
  memcpy(w, id, n);
  return true;
}

/* The common CSV row (a result, no explanation) written in place: the same
 * bytes as the general path below, without a call per field. */
static bool format_row_plain(const struct out *o, struct buf *b, const struct plan *p,
                             const struct settlement *s, size_t idlen, size_t plen,
                             const struct row_out *ro)
{
  char *w;
  hmb_fen any;
  int r;
  if (o->jsonl || o->explain || ro->status == ROW_ERROR ||
      buf_grow(b,
               idlen + plen + 64 + sizeof(o->zero) + (size_t)(p->nresp + 3) * HMB_MONEY_TEXT_MAX))
    return false;
  w = b->ptr + b->len;
  if (!id_put(w, s->setl_id, idlen))
    return false;
  w += idlen;
  *w++ = ',';
  if (!id_put(w, s->psn_no, plen))
    return false;
  w += plen;
  any = ro->eligible | ro->payout | ro->family_adjust;
  for (r = 0; r < p->nresp; r++)
    any |= ro->r[r];
  if (ro->status == ROW_OK && o->zero_len && !any) {
    /* most settlements add nothing: their row ends the same every time
     * (copied whole, a fixed size, rather than by a call) */
    memcpy(w, o->zero, sizeof(o->zero));
    w += o->zero_len;
    *w = '\0';
    b->len = (size_t)(w - b->ptr);
    return true;
  }
  if (ro->status == ROW_OK) {
    memcpy(w, ",ok,", 4);
    w += 4;
  } else {
    memcpy(w, ",reversal,", 10);
    w += 10;
  }
  w += money_format(ro->eligible, w);
  *w++ = ',';
  w += money_format(ro->payout, w);
  for (r = 0; r < p->nresp; r++) {
    *w++ = ',';
    w += money_format(ro->r[r], w);
  }
  if (p->has_family_scope) {
    *w++ = ',';
    w += money_format(ro->family_adjust, w);
  }
  *w++ = '\n';
  *w = '\0';
  b->len = (size_t)(w - b->ptr);
  return true;
}

static void format_row(const struct out *o, struct buf *b, const struct plan *p,
                       const struct settlement *s, size_t idlen, size_t plen,
                       const struct row_out *ro, const char *text)
{
  int r;
  const bool has_res = ro->status != ROW_ERROR;
  if (format_row_plain(o, b, p, s, idlen, plen, ro))
    return;
  if (o->jsonl) {
    buf_addstr(b, "{\"setl_id\":");
    buf_add_json_str(b, s->setl_id, strlen(s->setl_id));
    buf_addstr(b, ",\"psn_no\":");
    buf_add_json_str(b, s->psn_no, strlen(s->psn_no));
    buf_addstr(b, ",\"status\":\"");
    buf_addstr(b, status_names[ro->status]);
    buf_addch(b, '"');
    if (has_res) {
      buf_addstr(b, ",\"eligible\":\"");
      buf_add_money(b, ro->eligible);
      buf_addstr(b, "\",\"payout\":\"");
      buf_add_money(b, ro->payout);
      buf_addstr(b, "\",\"responsibilities\":{");
      for (r = 0; r < p->nresp; r++) {
        buf_addstr(b, r ? ",\"" : "\"");
        buf_addstr(b, p->resp[r].id);
        buf_addstr(b, "\":\"");
        buf_add_money(b, ro->r[r]);
        buf_addch(b, '"');
      }
      buf_addch(b, '}');
      if (ro->family_adjust) {
        buf_addstr(b, ",\"family_adjust\":\"");
        buf_add_money(b, ro->family_adjust);
        buf_addch(b, '"');
      }
      if (ro->text_len) {
        buf_addstr(b, ",\"explanation\":");
        buf_add_json_str(b, text, ro->text_len);
      }
    } else {
      buf_addstr(b, ",\"message\":");
      buf_add_json_str(b, text, ro->text_len);
    }
    buf_addstr(b, "}\n");
    return;
  }
  buf_add_csv_field(b, s->setl_id, strlen(s->setl_id));
  buf_addch(b, ',');
  buf_add_csv_field(b, s->psn_no, strlen(s->psn_no));
  buf_addch(b, ',');
  buf_addstr(b, status_names[ro->status]);
  buf_addch(b, ',');
  if (has_res) {
    buf_add_money(b, ro->eligible);
    buf_addch(b, ',');
    buf_add_money(b, ro->payout);
    for (r = 0; r < p->nresp; r++) {
      buf_addch(b, ',');
      buf_add_money(b, ro->r[r]);
    }
    if (p->has_family_scope) {
      buf_addch(b, ',');
      buf_add_money(b, ro->family_adjust);
    }
  } else {
    buf_addch(b, ',');
    for (r = 0; r < p->nresp; r++)
      buf_addch(b, ',');
    if (p->has_family_scope)
      buf_addch(b, ',');
  }
  if (o->explain) {
    buf_addch(b, ',');
    if (ro->text_len)
      buf_add_csv_field(b, text, ro->text_len);
  }
  buf_addch(b, '\n');
}

/* Record res for the main thread; with explain, add the explanation text. */
static void keep_result(const struct plan *p, struct row_out *ro, enum row_status st,
                        const struct adj_result *res, const struct adj_state *state,
                        struct buf *text, bool explain)
{
  int r;
  if (!ro)
    return; /* a year run writes no result rows */
  ro->status = (uint8_t)st;
  ro->eligible = res->eligible;
  ro->payout = res->payout;
  ro->family_adjust = res->family_adjust;
  for (r = 0; r < p->nresp; r++)
    ro->r[r] = res->r[r].payout;
  ro->text_at = text->len;
  ro->text_len = 0;
  if (explain && !adj_explain(p, state, res, text))
    ro->text_len = (uint32_t)(text->len - ro->text_at);
}

/* ---- one row ---- */

/* A result of nothing: what an inert settlement, or the reversal of one,
 * comes to (without an explanation: explaining runs judge every row). */
static void keep_nothing(const struct plan *p, struct row_out *ro, enum row_status st,
                         const struct buf *text)
{
  int r;
  if (!ro)
    return; /* a year run writes no result rows */
  ro->status = (uint8_t)st;
  ro->eligible = ro->payout = ro->family_adjust = 0;
  for (r = 0; r < p->nresp; r++)
    ro->r[r] = 0;
  ro->text_at = text->len;
  ro->text_len = 0;
}

/*
 * The reversal s of a settlement that added nothing and left no record,
 * only its slot in the index (SLOT_FILE): its row is read again for its
 * person and own cost, then it gets a record marked reversed, so that it
 * is not reversed twice.
 */
static enum hmb_status reverse_unrecorded(struct run *run, const struct settlement *s, size_t plen,
                                          uint64_t hp, unsigned char *slot, struct row_out *ro,
                                          struct buf *text, struct hmb_err *err)
{
  struct settlement orig;
  const struct pslot *ps;
  const uint64_t v = slot_load(slot);
  const char *id_in = run->file + (v & SLOT_REF);
  uint32_t ref;
  enum hmb_status result;
  result = setl_reader_reread(run->rd, run->rcv, id_in, &orig, err);
  if (result)
    return result;
  ps = ptab_find(&run->persons, s->psn_no, plen, hp);
  if (!ps || ps->unknown || strlen(orig.psn_no) != plen || memcmp(orig.psn_no, s->psn_no, plen))
    return hmb_err_set(err, HMB_INVALID, "reversal.person", "psn_no",
                       "冲销请求的人员编号与原结算不一致");
  result = setl_append(run, orig.setl_id, id_in, strlen(orig.setl_id), ps->num, NULL, 0, 0,
                       SR_REVERSED, &ref, err);
  if (result)
    return result;
  slot_store(slot, (v & ~(SLOT_FILE | SLOT_REF)) | ref);
  if (run->year)
    run->pinfo[ps->num].own -= orig.psn_part_amt;
  keep_nothing(run->plan, ro, ROW_REVERSAL, text);
  run->reversals++;
  return HMB_OK;
}

/*
 * One row. num: its person's number when the batch found them already
 * (NO_PERSON when not: see batch_process); inert: adj_settle_inert() of the
 * row (batch_convert).
 */
static enum hmb_status process(struct run *run, struct settlement *s, const char *id_in,
                               size_t idlen, uint64_t h, size_t plen, uint64_t hp, uint32_t num,
                               bool inert, struct row_out *ro, struct buf *text, bool explain,
                               struct hmb_err *err)
{
  const struct plan *p = run->plan;
  struct adj_result res;
  struct person_rec *pr = NULL;
  struct adj_state *st;
  struct setl_rec *rec = NULL;
  unsigned char *slot;
  uint64_t v = 0;
  enum hmb_status result;

  slot = setl_find(run, s->setl_id, idlen, h);
  if (slot)
    v = slot_load(slot);
  if (slot && !(v & SLOT_FILE))
    rec = setl_at(run, (uint32_t)(v & SLOT_REF));

  if (s->kind == SETL_REVERSAL) {
    struct adj_contrib c;
    const uint8_t *packed;
    const struct pslot *ps;
    size_t clen;
    if (!slot && run->year && !people_find(run->people, s->psn_no, plen))
      return hmb_err_set(err, HMB_NOT_FOUND, "person.unknown", "psn_no",
                         "人员不在参保名单（--people）中");
    if (!slot)
      return hmb_err_set(err, HMB_NOT_FOUND, "reversal.unknown", "setl_id",
                         "冲销的结算不存在（setl_id 未曾结算）");
    if (!rec)
      return reverse_unrecorded(run, s, plen, hp, slot, ro, text, err);
    if (rec->flags & SR_REVERSED)
      return hmb_err_set(err, HMB_CONFLICT, "reversal.repeated", "setl_id", "该结算已冲销");
    ps = ptab_find(&run->persons, s->psn_no, plen, hp);
    if (!ps || ps->unknown || ps->num != rec->person)
      return hmb_err_set(err, HMB_INVALID, "reversal.person", "psn_no",
                         "冲销请求的人员编号与原结算不一致");
    clen = setl_rec_contrib(rec, &packed);
    if (ps->rec) {
      memset(&c, 0, sizeof(c));
      if (clen && !adj_contrib_unpack(p, packed, clen, &c))
        BUG("stored contribution of %s does not unpack", s->setl_id);
      pr = rec_at(run, ps->rec - 1);
      st = person_state(pr);
      result = adj_reverse(p, pr->members ? pr->members : &st, pr->nmembers, pr->member, &c, 0,
                           &res, err);
      if (result)
        return result;
      run->paid += res.payout + res.family_adjust;
      run->eligible += res.eligible;
      keep_result(p, ro, ROW_REVERSAL, &res, st, text, explain);
    } else {
      /* only inert settlements, which added nothing */
      if (clen)
        BUG("settlement %s added to a person without a record", s->setl_id);
      keep_nothing(p, ro, ROW_REVERSAL, text);
    }
    rec->flags |= SR_REVERSED;
    if (run->year)
      run->pinfo[rec->person].own -= setl_rec_own(rec); /* no longer counts */
    run->reversals++;
    return HMB_OK;
  }
  if (slot) {
    run->repeated++;
    return hmb_err_set(err, HMB_CONFLICT, "setl.duplicate", "setl_id",
                       "结算ID重复：同一结算只赔付一次");
  }
  if (!run->year) {
    /* the product pays what happens in its benefit period; a year run
     * (hmb backtest, hmb price) judges a candidate plan on any year's
     * history, so it does not look at the dates */
    hmb_date day = time_date(s->setl_time);
    if (day < p->cover_start || day > p->cover_end) {
      char d[16], a[16], b[16];
      date_format(day, d);
      date_format(p->cover_start, a);
      date_format(p->cover_end, b);
      return hmb_err_set(err, HMB_INVALID, "setl.out_of_cover", "setl_time",
                         "结算日期 %s 不在本产品的保障期（%s 至 %s）内", d, a, b);
    }
  }
  if (s->setl_time < run->last_time)
    run->out_of_order++;
  else
    run->last_time = s->setl_time;
  if (num == NO_PERSON || !inert) {
    /* a new person, or one whose state the row needs */
    struct pslot *ps;
    result = get_person(run, s, plen, hp, &ps, err);
    if (!result && !inert)
      result = person_record(run, ps, &pr, err);
    if (result)
      return result;
    num = ps->num;
  }
  if (inert) {
    /* nothing for the person's state: it is left alone, even unmade; the
     * settlement leaves a record only when the input is not mapped */
    if (!setl_add_ref(run, id_in, h)) {
      result = setl_add(run, s->setl_id, id_in, idlen, h, num, NULL, 0,
                        run->year ? s->psn_part_amt : 0, err);
      if (result)
        return result;
    }
    keep_nothing(p, ro, ROW_OK, text);
  } else {
    st = person_state(pr);
    /* only an explanation shows the deductibles before the settlement */
    result = adj_settle(p, pr->members ? pr->members : &st, pr->nmembers, pr->member, s,
                        explain ? 0 : ADJ_NO_DED_BEFORE, &res, err);
    if (result)
      return result;
    {
      int r;
      bool any = res.contrib.next > 0;
      uint8_t tmp[ADJ_CONTRIB_PACKED_MAX];
      size_t n = 0;
      for (r = 0; r < p->nresp && !any; r++)
        any = res.contrib.acc[r] != 0;
      if (any)
        n = adj_contrib_pack(p, &res.contrib, tmp);
      result = setl_add(run, s->setl_id, id_in, idlen, h, num, tmp, n,
                        run->year ? s->psn_part_amt : 0, err);
      if (result)
        return result;
    }
    run->paid += res.payout + res.family_adjust;
    run->eligible += res.eligible;
    keep_result(p, ro, ROW_OK, &res, st, text, explain);
  }
  if (run->year) {
    own_add(run, num, s->psn_part_amt);
    if (s->setl_time > run->max_time)
      run->max_time = s->setl_time;
  }
  run->settled++;
  return HMB_OK;
}

/*
 * Rows are taken in batches: their hashes are computed when they are read,
 * and the index slots and records they will touch are fetched ahead of the
 * row that needs them, so the cache misses of a batch overlap instead of
 * queueing. Rows are still processed one by one in file order.
 */
#define BATCH 1024
#define RING  8

/* EMPTY -> SPLIT (main thread) -> CONVERTING (either thread) -> PARSED ->
 * DONE (worker) -> EMPTY (main thread, once written) */
enum batch_state { B_EMPTY = 0, B_SPLIT, B_CONVERTING, B_PARSED, B_DONE };

/* What the main thread left in a batch's item i (see batch_split) */
enum item_kind {
  IT_ROW = 0, /* a settlement read in full, at s[i] */
  IT_DEFER,   /* a row to convert: row[i], ends + i * ncols */
  IT_ERROR    /* a row rejected when read: its report is before item i */
};

/* A rejected row (or unreadable text) reported before row `before` of its
 * batch: reports are printed by the main thread as it writes the batch,
 * so they come in file order whichever thread found them. */
struct report {
  size_t before;
  unsigned long line; /* 0: err->field already names file and line */
  struct hmb_err err;
};

struct batch {
  enum batch_state state;
  struct settlement s[BATCH];
  struct row_out out[BATCH];
  struct buf text; /* explanations and error messages of the batch */
  struct buf fmt;  /* the batch's rows as written out, when formatted */
  bool formatted;  /* by the worker, into fmt */
  struct report *reports;
  size_t nreports, areports;
  unsigned long line[BATCH];
  size_t pool_at[BATCH]; /* where row i's lines start in pool */
  uint64_t hs[BATCH], hp[BATCH];
  uint32_t num[BATCH];          /* the rows' persons (batch_process) */
  uint64_t ph[BATCH];           /* people_prefetch_slot() of new ones, or 0 */
  uint8_t ls[BATCH], lp[BATCH]; /* lengths of setl_id and psn_no */
  const char *idin[BATCH];      /* setl_keys.setl_id_in */
  size_t n;
  struct setl_line *pool; /* copies of the rows' detail lines */
  size_t npool, pool_cap;
  /* as split, before conversion packs the rows into s[0..n) */
  size_t nitems;
  uint8_t kind[BATCH];
  const char *row[BATCH];
  uint32_t *ends; /* BATCH * ncols */
  uint16_t kept[BATCH + 1];
  unsigned long read_rejected; /* rows rejected when converted */
  /* rows that settlement_validate() refused (reported, with an error
   * result): the worker skips them */
  uint8_t invalid[BATCH];
  unsigned long invalid_rows;
  uint8_t inert[BATCH]; /* adj_settle_inert() of the row */
};

static enum hmb_status batch_report(struct batch *b, size_t before, unsigned long line,
                                    const struct hmb_err *err)
{
  if (b->nreports == b->areports) {
    size_t n = b->areports ? b->areports * 2 : 16;
    struct report *r = hmb_reallocarray(b->reports, n, sizeof(*r));
    if (!r)
      return HMB_NOMEM;
    b->reports = r;
    b->areports = n;
  }
  b->reports[b->nreports].before = before;
  b->reports[b->nreports].line = line;
  b->reports[b->nreports].err = *err;
  b->nreports++;
  return HMB_OK;
}

/* Row i of the batch is rejected: report it and give it an error result. */
static enum hmb_status batch_reject_row(struct batch *b, size_t i, const struct hmb_err *err)
{
  struct row_out *ro = &b->out[i];
  if (batch_report(b, i, b->line[i], err))
    return HMB_NOMEM;
  ro->status = ROW_ERROR;
  ro->text_at = b->text.len;
  buf_addstr(&b->text, err->message);
  ro->text_len = (uint32_t)(b->text.len - ro->text_at);
  return HMB_OK;
}

/* Keep the row just read into b->s[b->n]: copy its detail lines, which
 * live in the reader only until its next call. */
static enum hmb_status batch_add(struct batch *b, size_t i, unsigned long line,
                                 const struct setl_keys *k)
{
  struct settlement *s = &b->s[i];
  b->line[i] = line;
  b->ls[i] = (uint8_t)k->setl_id_len;
  b->idin[i] = k->setl_id_in;
  b->lp[i] = (uint8_t)k->psn_no_len;
  b->hs[i] = k->setl_id_hash ? k->setl_id_hash : 1; /* nonzero_hash() */
  b->hp[i] = k->psn_no_hash ? k->psn_no_hash : 1;
  if (s->nlines) {
    if (b->npool + s->nlines > b->pool_cap) {
      size_t cap = b->pool_cap ? b->pool_cap : 256;
      struct setl_line *np;
      while (cap < b->npool + s->nlines)
        cap *= 2;
      np = hmb_reallocarray(b->pool, cap, sizeof(*np));
      if (!np)
        return HMB_NOMEM;
      b->pool = np;
      b->pool_cap = cap;
    }
    memcpy(b->pool + b->npool, s->lines, s->nlines * sizeof(*s->lines));
    b->pool_at[i] = b->npool;
    b->npool += s->nlines;
  }
  return HMB_OK;
}

/* Reports in the order of `before`, ties kept in the order they came. */
static void sort_reports(struct batch *b)
{
  size_t i, j;
  for (i = 1; i < b->nreports; i++) {
    struct report r = b->reports[i];
    for (j = i; j > 0 && b->reports[j - 1].before > r.before; j--)
      b->reports[j] = b->reports[j - 1];
    b->reports[j] = r;
  }
}

/* Move kept row i down to j (a row rejected before it was dropped). */
static void batch_move(struct batch *b, size_t i, size_t j)
{
  b->s[j] = b->s[i];
  b->line[j] = b->line[i];
  b->ls[j] = b->ls[i];
  b->lp[j] = b->lp[i];
  b->idin[j] = b->idin[i];
  b->hs[j] = b->hs[i];
  b->hp[j] = b->hp[i];
  b->pool_at[j] = b->pool_at[i];
}

/*
 * Main thread: read up to BATCH rows into items, leaving the usual CSV rows
 * of a mapped file to be converted by whichever thread is free (see
 * setl_reader_split). HMB_OK at the end of the file too (*eof set); other
 * statuses are fatal, err then says why.
 */
static enum hmb_status batch_split(struct batch *b, struct setl_reader *rd, size_t ncols, bool *eof,
                                   unsigned long *rejected, struct hmb_err *err)
{
  enum hmb_status result;
  b->n = 0;
  b->nitems = 0;
  b->npool = 0;
  b->nreports = 0;
  b->read_rejected = 0;
  buf_reset(&b->text);
  while (b->nitems < BATCH) {
    size_t i = b->nitems;
    bool deferred;
    if (ncols && i + 8 < BATCH) {
      /* the ends a few rows on were last read by the converting thread,
       * maybe on the other core: ask for their lines now, or the split's
       * stores wait for them (perf: 20% of this thread's time) */
      const char *e = (const char *)(b->ends + (i + 8) * ncols);
      prefetch_write(e);
      prefetch_write(e + ncols * sizeof(*b->ends) - 1);
    }
    hmb_err_init(err);
    result = setl_reader_split(rd, &b->s[i], &b->row[i], b->ends + i * ncols, &deferred, eof, err);
    if (result == HMB_INVALID || result == HMB_TOO_LARGE) {
      ++*rejected;
      if (batch_report(b, i, 0, err))
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      b->kind[b->nitems++] = IT_ERROR;
      continue;
    }
    if (result)
      return result;
    if (*eof)
      break;
    b->line[i] = setl_reader_line(rd);
    if (deferred) {
      b->kind[i] = IT_DEFER;
    } else {
      b->kind[i] = IT_ROW;
      if (batch_add(b, i, b->line[i], setl_reader_keys(rd)))
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    }
    b->nitems++;
  }
  return HMB_OK;
}

static void batch_fix_lines(struct batch *b);

/*
 * Either thread: convert the deferred rows of a split batch with cv and pack
 * the rows into s[0..n), a row rejected now reported like one rejected when
 * read, then check them (settlement_validate) and mark those that can add
 * nothing under plan (adj_settle_inert; none with settle_all). HMB_NOMEM is
 * fatal; rejected rows are counted in b->read_rejected.
 */
static enum hmb_status batch_convert(struct batch *b, const struct setl_reader *rd,
                                     struct setl_conv *cv, size_t ncols, const struct plan *plan,
                                     bool settle_all)
{
  struct hmb_err err;
  size_t i, j = 0;
  for (i = 0; i < b->nitems; i++) {
    b->kept[i] = (uint16_t)j;
    if (b->kind[i] == IT_ERROR)
      continue;
    if (b->kind[i] == IT_ROW) {
      if (i != j)
        batch_move(b, i, j);
      j++;
      continue;
    }
    if (j + 4 < BATCH) {
      /* the slot a few rows on was last read by the other core: ask for
       * its lines now rather than when it is cleared */
      const char *ns = (const char *)&b->s[j + 4];
      size_t off;
      for (off = 0; off < SETL_HOT_BYTES; off += 64)
        prefetch_write(ns + off);
    }
    hmb_err_init(&err);
    switch (
        setl_reader_convert(rd, cv, b->row[i], b->ends + i * ncols, b->line[i], &b->s[j], &err)) {
    case HMB_OK:
      b->line[j] = b->line[i];
      if (batch_add(b, j, b->line[i], setl_conv_keys(cv)))
        return HMB_NOMEM;
      j++;
      break;
    case HMB_INVALID:
    case HMB_TOO_LARGE:
      b->read_rejected++;
      if (batch_report(b, i, 0, &err))
        return HMB_NOMEM;
      break;
    default: return HMB_NOMEM;
    }
  }
  b->kept[b->nitems] = (uint16_t)j;
  b->n = j;
  /* reports were made in item order when split, then when converted:
   * order them by item, then place them by row */
  sort_reports(b);
  for (i = 0; i < b->nreports; i++)
    b->reports[i].before = b->kept[b->reports[i].before];
  /* the checks that need no state are done here too, by whichever thread
   * has the time, rather than by the worker */
  batch_fix_lines(b);
  b->invalid_rows = 0;
  for (i = 0; i < b->n; i++) {
    b->invalid[i] = 0;
    b->inert[i] = 0;
    hmb_err_init(&err);
    if (settlement_validate(&b->s[i], &err)) {
      b->invalid[i] = 1;
      b->invalid_rows++;
      if (batch_reject_row(b, i, &err))
        return HMB_NOMEM;
    } else if (!settle_all) {
      b->inert[i] = adj_settle_inert(plan, &b->s[i]);
    }
  }
  return HMB_OK;
}

/* Point rows at their lines (the pool may have moved while the batch filled). */
static void batch_fix_lines(struct batch *b)
{
  size_t i;
  for (i = 0; i < b->n; i++)
    if (b->s[i].nlines)
      b->s[i].lines = b->pool + b->pool_at[i];
}

#define SLOT_AHEAD 48

/* Row i's person when the index has them already (NO_PERSON when not,
 * or unknown: process() sees to them). When the row is not inert, their
 * record is fetched too, or what making it reads. */
static inline uint32_t person_ahead(const struct run *run, const struct batch *b, size_t i)
{
  const struct pslot *ps = ptab_find(&run->persons, b->s[i].psn_no, b->lp[i], b->hp[i]);
  if (!ps || ps->unknown)
    return NO_PERSON;
  if (!b->inert[i] && ps->rec) {
    const char *pr = (const char *)rec_at(run, ps->rec - 1);
    size_t k;
    for (k = 0; k < run->pstride; k += 64)
      prefetch_write(pr + k);
  } else if (!b->inert[i]) {
    __builtin_prefetch(&run->pinfo[ps->num]); /* their terms, for the record */
  }
  if (run->year)
    prefetch_write(&run->own32[ps->num]); /* every row adds to it (own_add()) */
  return ps->num;
}

/* Worker side: adjudicate every row of a parsed batch in order. */
static enum hmb_status batch_process(struct run *run, struct batch *b, bool explain,
                                     const char *path)
{
  struct hmb_err err;
  enum hmb_status result;
  size_t i;
  if (!run_reserve(run, b->n))
    return HMB_NOMEM;
  run->rejected += b->invalid_rows;
  /* First the rows' persons, whose numbers never change: with nothing
   * else in the loop, many index probes are in flight at once. A person
   * new in this batch is found (or made) when their row is processed. */
  for (i = 0; i < SLOT_AHEAD && i < b->n; i++)
    ptab_prefetch(&run->persons, b->hp[i]);
  for (i = 0; i < b->n; i++) {
    if (i + SLOT_AHEAD < b->n)
      ptab_prefetch(&run->persons, b->hp[i + SLOT_AHEAD]);
    if (i + 8 < b->n) {
      /* the 32 bytes pslot_is() reads, from the converting thread's core
       * (rows are not line-aligned: they may span two lines) */
      __builtin_prefetch(b->s[i + 8].psn_no);
      __builtin_prefetch(b->s[i + 8].psn_no + 31);
    }
    b->num[i] = b->invalid[i] ? NO_PERSON : person_ahead(run, b, i);
    /* a person first seen: their --people entry is looked up when the row
     * is processed, two cache misses away, unless fetched now */
    b->ph[i] = b->num[i] == NO_PERSON && run->people && !b->invalid[i]
                   ? people_prefetch_slot(run->people, b->s[i].psn_no, b->lp[i])
                   : 0;
  }
  for (i = 0; i < b->n; i++)
    if (b->ph[i])
      people_prefetch_entry(run->people, b->ph[i]);
  for (i = 0; i < SLOT_AHEAD && i < b->n; i++)
    tidx_prefetch(&run->setls, b->hs[i]);
  for (i = 0; i < b->n; i++) {
    if (i + SLOT_AHEAD < b->n)
      tidx_prefetch(&run->setls, b->hs[i + SLOT_AHEAD]);
    if (i + 8 < b->n) {
      /* the rows come from the reading thread's core: fetching them ahead
       * measured ~8% less CPU */
      const char *ns = (const char *)&b->s[i + 8];
      size_t off;
      for (off = 0; off < SETL_HOT_BYTES; off += 64)
        __builtin_prefetch(ns + off);
      /* what the person bore, added to by every row (own_add()): fetched
       * by the first pass too, but a batch later it has left the L1 */
      if (run->year && b->num[i + 8] != NO_PERSON)
        prefetch_write(&run->own32[b->num[i + 8]]);
    }
    if (b->invalid[i])
      continue; /* refused by settlement_validate() (batch_convert) */
    hmb_err_init(&err);
    /* a year run writes no result rows: nothing is kept for them (NULL) */
    result = process(run, &b->s[i], b->idin[i], b->ls[i], b->hs[i], b->lp[i], b->hp[i], b->num[i],
                     b->inert[i], run->year ? NULL : &b->out[i], &b->text, explain, &err);
    if (result == HMB_NOMEM || result == HMB_IO) {
      cli_print_err(path, &err);
      return result;
    }
    if (result && run->year && !strcmp(err.code, "person.unknown")) {
      run->not_enrolled++; /* not an error here: skipped */
      b->out[i].status = ROW_ERROR;
      b->out[i].text_len = 0;
      continue;
    }
    if (result) {
      run->rejected++;
      if (batch_reject_row(b, i, &err))
        return HMB_NOMEM;
    }
  }
  return HMB_OK;
}

/*
 * Two threads share the work of a run: the main thread reads and parses
 * batches and formats and writes the results of finished ones; the worker
 * adjudicates batches in order. A ring of RING batches passes between them
 * under one mutex; each batch is owned by one thread at a time, as its
 * state says (EMPTY and DONE: main thread; PARSED: worker).
 */
struct pipeline {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct batch *ring[RING];
  size_t submitted; /* batches handed to the worker */
  bool no_more;     /* the main thread will submit nothing else */
  bool failed;      /* a fatal error (processing or converting): stop */
  struct run *run;
  bool explain;
  const char *path;
  const struct out *o; /* the output's settings (its buffer is the main thread's) */
  /* Memory to fault in ahead of the worker, by either thread when it
   * would wait: the index tables and the chunks mapped ahead. */
  struct warm_region warm[WARM_MAX];
  size_t nwarm;
  bool warm_off; /* the kernel cannot (see warm_fault) */
  /* the reader, for converting split batches (see batch_convert) */
  const struct setl_reader *rd;
  size_t ncols;
  struct setl_conv *wcv; /* the worker's */
};

/* Called with pl->mu held, by the worker after a batch and by the main
 * thread before the worker starts: the chunks mapped since can be warmed. */
static void pipeline_note_fresh(struct pipeline *pl)
{
  struct run *run = pl->run;
  size_t k;
  for (k = 0; k < run->nfresh; k++)
    warm_add(pl->warm, &pl->nwarm, run->fresh[k].p, run->fresh[k].len);
  run->nfresh = 0;
}

static void batch_format(struct batch *b, const struct out *o, const struct plan *p)
{
  size_t i;
  buf_reset(&b->fmt);
  for (i = 0; i < b->n; i++)
    format_row(o, &b->fmt, p, &b->s[i], b->ls[i], b->lp[i], &b->out[i],
               b->text.ptr + b->out[i].text_at);
}

/*
 * Called with pl->mu held by a thread about to wait: fault in one piece of
 * what the worker will write, with the mutex released meanwhile. false when
 * there is nothing to do.
 */
static bool warm_step(struct pipeline *pl)
{
  struct warm_region piece;
  bool ok;
  if (pl->warm_off || !warm_take(pl->warm, &pl->nwarm, &piece))
    return false;
  pthread_mutex_unlock(&pl->mu);
  ok = warm_fault(piece.p, piece.len);
  pthread_mutex_lock(&pl->mu);
  if (!ok)
    pl->warm_off = true;
  return true;
}

/*
 * Called with pl->mu held: convert the oldest split batch among batches
 * from..to-1 (in the order they were split) with cv, the mutex released
 * meanwhile. false when there is none. A fatal error stops the pipeline.
 */
static bool convert_step(struct pipeline *pl, size_t from, size_t to, struct setl_conv *cv)
{
  struct batch *b = NULL;
  enum hmb_status result;
  for (; from < to && !b; from++)
    if (pl->ring[from % RING]->state == B_SPLIT)
      b = pl->ring[from % RING];
  if (!b)
    return false;
  b->state = B_CONVERTING;
  pthread_mutex_unlock(&pl->mu);
  result = batch_convert(b, pl->rd, cv, pl->ncols, pl->run->plan, pl->run->settle_all);
  pthread_mutex_lock(&pl->mu);
  if (result)
    pl->failed = true;
  b->state = B_PARSED;
  pthread_cond_broadcast(&pl->cv);
  return true;
}

static void *worker_main(void *arg)
{
  struct pipeline *pl = arg;
  size_t j;
  pthread_setname_np(pthread_self(), "hmb-adjudicate"); /* for top and perf */
  for (j = 0;; j++) {
    struct batch *b = pl->ring[j % RING];
    enum hmb_status result;
    bool idle;
    pthread_mutex_lock(&pl->mu);
    /* while the next batch is not ready: convert one (it first), or warm
     * memory, or wait */
    while (!(j < pl->submitted && b->state == B_PARSED) && !(pl->no_more && j >= pl->submitted) &&
           !pl->failed)
      if (!convert_step(pl, j, pl->submitted, pl->wcv) && !warm_step(pl))
        pthread_cond_wait(&pl->cv, &pl->mu);
    if (j >= pl->submitted || pl->failed) {
      pthread_mutex_unlock(&pl->mu);
      return NULL;
    }
    pthread_mutex_unlock(&pl->mu);
    result = batch_process(pl->run, b, pl->explain, pl->path);
    /* Whichever thread has time formats the rows: the worker when the next
     * batch is not parsed yet (it would wait), else the main thread as it
     * writes them. The bytes are the same either way. */
    pthread_mutex_lock(&pl->mu);
    idle = !(j + 1 < pl->submitted && pl->ring[(j + 1) % RING]->state == B_PARSED);
    pthread_mutex_unlock(&pl->mu);
    b->formatted = idle && pl->o;
    if (b->formatted)
      batch_format(b, pl->o, pl->run->plan);
    pthread_mutex_lock(&pl->mu);
    pipeline_note_fresh(pl);
    if (result)
      pl->failed = true;
    b->state = B_DONE;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    if (result)
      return NULL;
  }
}

/* Stable: reports for the same row keep the order they were found in. */

static void print_report(const struct report *r, const char *path, unsigned long *printed)
{
  char where[512];
  if (++*printed > MAX_REPORTED_ERRORS) {
    if (*printed == MAX_REPORTED_ERRORS + 1)
      fprintf(stderr, "hmb: 错误行过多，其余错误只计数不再逐条显示\n");
    return;
  }
  if (r->line)
    snprintf(where, sizeof(where), "%s:%lu", path, r->line);
  else
    where[0] = '\0';
  cli_print_err(where, &r->err);
}

/* Rows in the file at path, from its size and the newlines of its first
 * 256 KiB; 0 when unknown (not a regular file). Only sizes tables. */
static size_t estimate_rows(const char *path)
{
  enum { HEAD = 256u << 10 };
  char *head; /* not static: the preparing thread may be here too */
  struct stat st;
  size_t n = 0, nl = 0, i;
  FILE *f;
  if (stat(path, &st) || !S_ISREG(st.st_mode) || !(head = hmb_malloc(HEAD)))
    return 0;
  if (!(f = fopen(path, "rb"))) {
    free(head);
    return 0;
  }
  n = fread(head, 1, HEAD, f);
  fclose(f);
  for (i = 0; i < n; i++)
    nl += head[i] == '\n';
  free(head);
  if (!nl)
    return 0;
  return (size_t)((uint64_t)st.st_size / n * nl + (uint64_t)st.st_size / n * nl / 16);
}

/* Free what a run holds (its person states, records and indexes). */
static void run_release(struct run *run)
{
  size_t k;
  for (k = 0; k < run->nrecs; k++)
    adj_state_release(person_state(rec_at(run, k)));
  table_free(run->pinfo, run->pinfo_bytes);
  table_free(run->own32, run->own32_bytes);
  for (k = 0; k < run->npchunks; k++)
    huge_free(run->pchunks[k], run->pchunk_bytes);
  free(run->pchunks);
  for (k = 0; k < run->nschunks; k++)
    huge_free(run->schunks[k], SCHUNK);
  free(run->schunks);
  huge_free(run->pspare, run->pchunk_bytes);
  huge_free(run->sspare, SCHUNK);
  free(run->terms);
  ptab_release(&run->persons);
  tidx_release(&run->setls);
  for (k = 0; k < run->nretired; k++)
    table_free(run->retired[k].p, run->retired[k].bytes);
  arena_release(&run->arena);
  memset(run, 0, sizeof(*run));
}

/* Write out a finished batch (o) or only print its reports (o NULL). */
static int batch_write(struct batch *b, struct out *o, const struct plan *plan, const char *who,
                       const char *setl_path, unsigned long *printed, int rc)
{
  size_t ri = 0, bi;
  struct hmb_err err;
  sort_reports(b);
  if (!o) {
    while (ri < b->nreports)
      print_report(&b->reports[ri++], setl_path, printed);
    return rc;
  }
  if (!b->formatted) {
    for (bi = 0; bi <= b->n; bi++) {
      while (ri < b->nreports && b->reports[ri].before == bi)
        print_report(&b->reports[ri++], setl_path, printed);
      if (bi + 8 < b->n) {
        /* the ids and results of a row on, from the worker's core */
        __builtin_prefetch(b->s[bi + 8].setl_id);
        __builtin_prefetch(b->s[bi + 8].psn_no);
        __builtin_prefetch(&b->out[bi + 8]);
        __builtin_prefetch((const char *)&b->out[bi + 8] + 64);
      }
      if (bi < b->n)
        format_row(o, &o->b, plan, &b->s[bi], b->ls[bi], b->lp[bi], &b->out[bi],
                   b->text.ptr + b->out[bi].text_at);
    }
  } else {
    while (ri < b->nreports)
      print_report(&b->reports[ri++], setl_path, printed);
    if (buf_add(&o->b, b->fmt.ptr, b->fmt.len) && !rc) {
      /* more than the output buffer holds: write it out directly */
      hmb_err_init(&err);
      if (!out_flush(o, true, &err) && fwrite(b->fmt.ptr, 1, b->fmt.len, o->f) != b->fmt.len)
        hmb_err_set(&err, HMB_IO, "out.write", "--out", "写入结果失败：%s", strerror(errno));
      if (err.status) {
        cli_print_err(who, &err);
        rc = 2;
      }
    }
  }
  hmb_err_init(&err);
  if (!rc && o->b.len >= OUT_FLUSH && out_flush(o, false, &err)) {
    cli_print_err(who, &err);
    rc = 2;
  }
  return rc;
}

/* ---- a year run prepared ahead ----
 *
 * What a year run needs before its first row that depends on neither the
 * plan nor the people: the settlement index sized for the file and the
 * first chunk of records, their pages faulted in (the index alone is 128
 * MiB for 10 M rows, and a fresh page is slow on this kind of VM: see
 * warm_fault()), and the reader (the file mapped, the details loaded).
 * hmb backtest and hmb price start it on a thread of its own before they
 * load the people, which keeps the main thread about as long; the thread
 * then faults in the file's mapping from the start until the run begins,
 * and runs the job it may have been given (year_prep_then()). */

#define PREP_MAP_STEP ((size_t)2 << 20) /* the file touched between looks at stop */

struct year_prep {
  pthread_t th;
  const char *setl_path, *details; /* borrowed; details may be NULL */
  /* the thread's results, taken by run_file() once made (below) */
  enum hmb_status status; /* of opening the reader; err says why */
  struct hmb_err err;
  struct setl_reader *rd;
  size_t rows;       /* estimate_rows() */
  struct tidx setls; /* faulted in; s NULL when it could not be made */
  char *sspare;      /* a chunk of records, faulted in; NULL when none */
  atomic_bool stop;  /* the run is starting: leave the rest of the file */
  bool joined;
  /* the index's pieces of WARM_UNIT bytes, faulted in by the thread and by
   * run_file() too once the run's own tables are (touch_pieces()): idx is
   * published when the index is made (idx_bytes long, the last piece
   * maybe shorter), next is the next piece to take */
  _Atomic(char *) idx;
  atomic_size_t idx_bytes, idx_next;
  /* under mu: made, once the results above are (run_file() waits for it,
   * not for the thread's end); a job given by year_prep_then(), run by
   * the thread after its own work unless the run had started (closed) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool made, closed;
  void (*job)(void *);
  void *job_ctx;
};

/* Touch a page in every 4 KiB of [p, p + len): by faults, which take only
 * the mapping's own lock, where MADV_POPULATE_* holds the whole address
 * space's and stalled the main thread's allocations (perf: the people load
 * took three times as long). */
static void touch_write(char *p, size_t len)
{
  size_t off;
  for (off = 0; off < len; off += 4096)
    *(volatile char *)(p + off) = 0;
}

static void touch_read(const char *p, size_t len, const atomic_bool *stop)
{
  size_t off;
  for (off = 0; off < len; off += 4096) {
    if (!(off & (PREP_MAP_STEP - 1)) && atomic_load_explicit(stop, memory_order_relaxed))
      return;
    (void)*(const volatile char *)(p + off);
  }
}

/* Fault in the index's pieces that no thread has taken yet. */
static void touch_pieces(struct year_prep *yp)
{
  char *idx = atomic_load_explicit(&yp->idx, memory_order_acquire);
  const size_t bytes = atomic_load_explicit(&yp->idx_bytes, memory_order_relaxed);
  const size_t n = (bytes + WARM_UNIT - 1) / WARM_UNIT;
  size_t i;
  if (!idx)
    return;
  while ((i = atomic_fetch_add_explicit(&yp->idx_next, 1, memory_order_relaxed)) < n) {
    const size_t off = i * WARM_UNIT;
    touch_write(idx + off, bytes - off < WARM_UNIT ? bytes - off : WARM_UNIT);
  }
}

/* Tell run_file() that the reader and the index are there (or not). */
static void prep_made(struct year_prep *yp)
{
  pthread_mutex_lock(&yp->mu);
  yp->made = true;
  pthread_cond_broadcast(&yp->cv);
  pthread_mutex_unlock(&yp->mu);
}

/* The thread's own work but for the file's pages: true when there is a
 * mapping to touch, [*data, *data + *len). */
static bool prep_main(struct year_prep *yp, const char **data, size_t *len)
{
  pthread_setname_np(pthread_self(), "hmb-prepare"); /* for top and perf */
  /* the index first (zeroes: writing 0 changes nothing), the slowest part
   * when the host has to find the huge pages, then the first chunk of
   * records, the reader, and the file from its start until the run begins */
  yp->rows = estimate_rows(yp->setl_path);
  if (!tidx_init(&yp->setls, tidx_cap_for(yp->rows)))
    yp->setls.s = NULL; /* the run tries again and says so */
  yp->sspare = huge_alloc(SCHUNK, false);
  if (yp->setls.s && yp->setls.bytes) {
    atomic_store_explicit(&yp->idx_bytes, yp->setls.bytes, memory_order_relaxed);
    atomic_store_explicit(&yp->idx, (char *)yp->setls.s, memory_order_release);
    touch_pieces(yp);
  }
  if (yp->sspare)
    touch_write(yp->sspare, SCHUNK);
  yp->status = setl_reader_open(&yp->rd, yp->setl_path, SETL_FMT_AUTO, yp->details, &yp->err);
  /* the reader is the run's once made: its mapping is asked for first */
  return !yp->status && setl_reader_mapping(yp->rd, data, len);
}

/* The thread: its work, then the job it may have been given. */
static void *prep_thread(void *arg)
{
  struct year_prep *yp = arg;
  void (*job)(void *);
  const char *data;
  size_t len;
  bool mapped = prep_main(yp, &data, &len);
  prep_made(yp);
  if (mapped)
    touch_read(data, len, &yp->stop);
  /* the job (year_prep_then()), given before or after, runs here beside
   * the run, not before it on the caller's thread */
  pthread_mutex_lock(&yp->mu);
  while (!yp->job && !atomic_load(&yp->stop))
    pthread_cond_wait(&yp->cv, &yp->mu);
  yp->closed = true;
  job = yp->job;
  pthread_mutex_unlock(&yp->mu);
  if (job)
    job(yp->job_ctx);
  return NULL;
}

struct year_prep *adjudicate_year_prepare(const char *setl_path, const char *details)
{
  struct year_prep *yp;
  /* standard input is read in the order the command asks for it */
  if (!strcmp(setl_path, "-") || (details && !strcmp(details, "-")))
    return NULL;
  yp = hmb_calloc(1, sizeof(*yp));
  if (!yp)
    return NULL;
  hmb_err_init(&yp->err);
  atomic_init(&yp->stop, false);
  atomic_init(&yp->idx, NULL);
  atomic_init(&yp->idx_bytes, 0);
  atomic_init(&yp->idx_next, 0);
  yp->setl_path = setl_path;
  yp->details = details;
  pthread_mutex_init(&yp->mu, NULL);
  pthread_cond_init(&yp->cv, NULL);
  if (pthread_create(&yp->th, NULL, prep_thread, yp)) {
    pthread_mutex_destroy(&yp->mu);
    pthread_cond_destroy(&yp->cv);
    free(yp);
    return NULL; /* the run does it all itself */
  }
  return yp;
}

void year_prep_then(struct year_prep *yp, void (*job)(void *), void *ctx)
{
  bool now = !yp;
  if (yp) {
    pthread_mutex_lock(&yp->mu);
    /* queued even while the thread still makes the index: the caller then
     * shares the index's pieces instead (run_file()), and does not wait
     * idle at the end for the thread's last work (the details) */
    if (yp->closed || yp->job)
      now = true;
    else {
      yp->job = job;
      yp->job_ctx = ctx;
      pthread_cond_broadcast(&yp->cv);
    }
    pthread_mutex_unlock(&yp->mu);
  }
  if (now)
    job(ctx);
}

/* Whether the thread is still making the reader and the index. */
static bool prep_busy(struct year_prep *yp)
{
  bool busy;
  pthread_mutex_lock(&yp->mu);
  busy = !yp->made;
  pthread_mutex_unlock(&yp->mu);
  return busy;
}

/* Wait until the thread has made the reader and the index, then tell it
 * to leave the rest of the file: the run is starting. */
static void prep_wait_made(struct year_prep *yp)
{
  pthread_mutex_lock(&yp->mu);
  while (!yp->made)
    pthread_cond_wait(&yp->cv, &yp->mu);
  atomic_store(&yp->stop, true);
  pthread_cond_broadcast(&yp->cv);
  pthread_mutex_unlock(&yp->mu);
}

/* Wait for the thread, telling it to stop mapping the file in. */
static void prep_join(struct year_prep *yp)
{
  if (yp->joined)
    return;
  pthread_mutex_lock(&yp->mu);
  atomic_store(&yp->stop, true);
  pthread_cond_broadcast(&yp->cv);
  pthread_mutex_unlock(&yp->mu);
  pthread_join(yp->th, NULL);
  yp->joined = true;
}

void year_prep_free(struct year_prep *yp)
{
  if (!yp)
    return;
  prep_join(yp);
  pthread_mutex_destroy(&yp->mu);
  pthread_cond_destroy(&yp->cv);
  setl_reader_free(yp->rd);
  if (yp->setls.s)
    tidx_release(&yp->setls);
  huge_free(yp->sspare, SCHUNK);
  free(yp);
}

/*
 * Fault in [p, p + len) (page aligned) a piece at a time while prep is
 * still at work: run_file() would wait for it anyway. The rest is left to
 * the pipeline to warm, from while a thread of the run waits.
 */
static void fault_early(struct run *run, struct year_prep *prep, char *p, size_t len)
{
  size_t off = 0;
  if (!p || !len)
    return; /* from the heap, or none */
  while (prep && off < len && prep_busy(prep)) {
    size_t n = len - off < WARM_UNIT ? len - off : WARM_UNIT;
    touch_write(p + off, n);
    off += n;
  }
  warm_add(run->fresh, &run->nfresh, p + off, len - off);
}

/*
 * Judge every row of setl_path (with details) into run, whose plan and
 * people are set: the main thread reads and parses batches and writes the
 * results of finished ones to o (NULL: no output), a worker thread judges
 * them in order. prep (NULL: none) was started for the same setl_path and
 * details; what it made is taken from it. Returns 0, or 2 after printing
 * why the run stopped.
 */
static int run_file(struct run *run, struct out *o, const char *who, const char *setl_path,
                    const char *details, bool explain, struct year_prep *prep)
{
  bool prep_index = false; /* run->setls made (and faulted in) by prep */
  struct setl_reader *rd = NULL;
  struct setl_conv *mcv = NULL; /* the main thread's */
  struct hmb_err err;
  struct pipeline pl;
  pthread_t worker;
  bool worker_started = false, eof = false;
  unsigned long read_rejected = 0, printed = 0;
  enum hmb_status result;
  int rc = 0;
  size_t k;

  hmb_err_init(&err);
  memset(&pl, 0, sizeof(pl));
  /* HMB_TEST_EAGER: every row the long way, for tests to compare */
  run->settle_all = explain || (getenv("HMB_TEST_EAGER") && *getenv("HMB_TEST_EAGER"));
  run->eager = run->settle_all;
  run->last_time = INT64_MIN;
  run->max_time = INT64_MIN;
  {
    /* Size both indexes for the whole file now: growing a table of tens
     * of millions of slots by doubling costs more than the probes. The
     * run's own tables first: with prep, while it still faults in the
     * settlement index (slow when the host has to find the memory), they
     * are faulted in here rather than by the two threads of the run. */
    size_t rows = prep && run->people ? 0 : estimate_rows(setl_path); /* prep's, once made */
    size_t persons = run->people ? people_count(run->people) : rows / 8;
    run->pstride = (PREC_HDR + adj_state_size(run->plan) + 63) & ~(size_t)63;
    run->pchunk_bytes = huge_round(PCHUNK * run->pstride);
    /* with --people, only they get a pinfo entry (see make_person()) */
    if (!ptab_init(&run->persons, tidx_cap_for(persons)) ||
        !pinfo_grow(run, run->people ? (persons ? persons : 1) : run->persons.cap)) {
      fprintf(stderr, "%s: 内存不足\n", who);
      return 2;
    }
    run->pspare = huge_alloc(run->pchunk_bytes, true);
    fault_early(run, prep, (char *)run->persons.s, run->persons.bytes);
    fault_early(run, prep, (char *)run->pinfo, run->pinfo_bytes);
    fault_early(run, prep, (char *)run->own32, run->own32_bytes);
    fault_early(run, prep, run->pspare, run->pchunk_bytes);
    if (prep) {
      /* then the index with it; its job (year_prep_then()) may still
       * run: year_run() joins it */
      touch_pieces(prep);
      prep_wait_made(prep);
      if (prep->status) {
        cli_print_err(who, &prep->err);
        return 2;
      }
      rd = prep->rd;
      prep->rd = NULL;
      rows = prep->rows;
    } else if (setl_reader_open(&rd, setl_path, SETL_FMT_AUTO, details, &err)) {
      cli_print_err(who, &err);
      return 2;
    }
    if (prep && prep->setls.s) {
      run->setls = prep->setls;
      prep_index = true;
      memset(&prep->setls, 0, sizeof(prep->setls));
    } else if (!tidx_init(&run->setls, tidx_cap_for(rows))) {
      fprintf(stderr, "%s: 内存不足\n", who);
      rc = 2;
      goto done;
    }
  }
  /* HMB_TEST_NARROW_TAGS: slot tags of one bit, so that nearly every slot
   * a probe passes is a candidate whose id is compared (tests compare) */
  if (getenv("HMB_TEST_NARROW_TAGS") && *getenv("HMB_TEST_NARROW_TAGS"))
    run->setls.tags = 1;
  for (k = 0; k < RING; k++) {
    pl.ring[k] = hmb_calloc(1, sizeof(struct batch));
    if (!pl.ring[k]) {
      fprintf(stderr, "%s: 内存不足\n", who);
      rc = 2;
      goto done;
    }
    buf_init(&pl.ring[k]->text, 256u << 20);
    buf_init(&pl.ring[k]->fmt, 512u << 20);
  }
  pl.rd = rd;
  pl.ncols = setl_reader_ncols(rd);
  run->rd = rd;
  if (!setl_reader_mapping(rd, &run->file, &run->file_len) || !pl.ncols)
    run->file = NULL; /* JSON lines are not read again: records for all */
  if (setl_conv_new(rd, &mcv) || setl_conv_new(rd, &pl.wcv) || setl_conv_new(rd, &run->rcv)) {
    fprintf(stderr, "%s: 内存不足\n", who);
    rc = 2;
    goto done;
  }
  for (k = 0; k < RING; k++) {
    pl.ring[k]->ends =
        hmb_reallocarray(NULL, (size_t)BATCH * (pl.ncols ? pl.ncols : 1), sizeof(uint32_t));
    if (!pl.ring[k]->ends) {
      fprintf(stderr, "%s: 内存不足\n", who);
      rc = 2;
      goto done;
    }
  }
  pthread_mutex_init(&pl.mu, NULL);
  pthread_cond_init(&pl.cv, NULL);
  pl.run = run;
  pl.explain = explain;
  pl.path = setl_path;
  pl.o = o;
  /* what is left to fault in (what prep made is, and the run's own tables
   * are with fault_early()) is warmed first, from while the worker waits
   * for its first batch */
  if (prep && prep->sspare) {
    run->sspare = prep->sspare;
    prep->sspare = NULL;
  } else {
    run->sspare = huge_alloc(SCHUNK, false);
    if (run->sspare)
      warm_add(run->fresh, &run->nfresh, run->sspare, SCHUNK);
  }
  if (!prep_index)
    warm_add(run->fresh, &run->nfresh, (char *)run->setls.s, run->setls.bytes);
  pipeline_note_fresh(&pl);
  if (pthread_create(&worker, NULL, worker_main, &pl)) {
    fprintf(stderr, "%s: 无法创建线程\n", who);
    rc = 2;
    goto done;
  }
  worker_started = true;
  {
    size_t nparsed = 0, nformatted = 0;
    for (;;) {
      struct batch *b;
      pthread_mutex_lock(&pl.mu);
      /* write out finished batches in order */
      while (nformatted < nparsed && pl.ring[nformatted % RING]->state == B_DONE) {
        b = pl.ring[nformatted % RING];
        pthread_mutex_unlock(&pl.mu);
        rc = batch_write(b, o, run->plan, who, setl_path, &printed, rc);
        read_rejected += b->read_rejected;
        pthread_mutex_lock(&pl.mu);
        b->state = B_EMPTY;
        nformatted++;
      }
      if (pl.failed) {
        /* a fatal error: nothing more will be finished */
        rc = 2;
        pthread_mutex_unlock(&pl.mu);
        break;
      }
      if (!eof && !rc && nparsed - nformatted < RING) {
        /* a free batch: read into it, leaving rows to convert */
        b = pl.ring[nparsed % RING];
        pthread_mutex_unlock(&pl.mu);
        result = batch_split(b, rd, pl.ncols, &eof, &read_rejected, &err);
        if (result) {
          if (result == HMB_NOMEM)
            fprintf(stderr, "%s: 内存不足\n", who);
          else
            cli_print_err(setl_path, &err);
          rc = 2;
        }
        pthread_mutex_lock(&pl.mu);
        if ((b->nitems || b->nreports) && !rc) {
          b->state = B_SPLIT;
          nparsed++;
          pl.submitted = nparsed;
          pthread_cond_broadcast(&pl.cv);
        }
        pthread_mutex_unlock(&pl.mu);
        continue;
      }
      if (convert_step(&pl, nformatted, nparsed, mcv)) {
        pthread_mutex_unlock(&pl.mu);
        continue;
      }
      if ((eof || rc) && nformatted == nparsed) {
        pthread_mutex_unlock(&pl.mu);
        break;
      }
      if (eof || rc) {
        pl.no_more = true;
        pthread_cond_broadcast(&pl.cv);
      } else if (warm_step(&pl)) {
        pthread_mutex_unlock(&pl.mu);
        continue; /* the ring may have moved meanwhile */
      }
      pthread_cond_wait(&pl.cv, &pl.mu);
      pthread_mutex_unlock(&pl.mu);
    }
  }
  run->rejected += read_rejected;
  {
    size_t nlines = 0, unmatched = setl_reader_unmatched_details(rd, &nlines);
    if (unmatched)
      fprintf(stderr, "%s: %zu 个 setl_id 的费用明细（%zu 行）没有对应的结算\n", who, unmatched,
              nlines);
  }
done:
  if (worker_started) {
    pthread_mutex_lock(&pl.mu);
    pl.no_more = true;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    pthread_join(worker, NULL);
  }
  if (pl.run) {
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
  }
  for (k = 0; k < RING; k++)
    if (pl.ring[k]) {
      buf_release(&pl.ring[k]->text);
      buf_release(&pl.ring[k]->fmt);
      free(pl.ring[k]->pool);
      free(pl.ring[k]->reports);
      free(pl.ring[k]->ends);
      free(pl.ring[k]);
    }
  setl_conv_free(mcv);
  setl_conv_free(pl.wcv);
  setl_conv_free(run->rcv);
  run->rcv = NULL;
  run->rd = NULL; /* it may be left to the caller, never used again */
  run->file = NULL;
  if (run->year && !rc) {
    run->rd_left = rd;
  } else {
    if (prep)
      prep_join(prep); /* it may still be reading the file */
    setl_reader_free(rd);
  }
  return rc;
}

static void *reader_free_main(void *arg)
{
  pthread_setname_np(pthread_self(), "hmb-unmap"); /* for top and perf */
  setl_reader_free(arg);
  return NULL;
}

/* adjudicate_year() but for freeing prep. */
static enum hmb_status year_run(const char *who, const struct plan *plan,
                                const struct people *people, const char *setl_path,
                                const char *details, struct year_prep *prep, year_person_fn fn,
                                void *ctx, struct year_totals *out)
{
  static const int64_t zero[PLAN_MAX_RESP];
  uint32_t *recs = NULL, *byp = NULL;
  struct run run;
  struct hmb_err err;
  enum hmb_status result = HMB_OK;
  pthread_t reaper;
  bool reaping = false;
  size_t k, npeople;

  memset(out, 0, sizeof(*out));
  out->last_day = INT32_MIN;
  if (plan->has_family_scope || !people) {
    fprintf(stderr, "%s: 含家庭共用的免赔额或限额的方案尚不支持按年汇总\n", who);
    return HMB_UNSUPPORTED;
  }
  memset(&run, 0, sizeof(run));
  run.plan = plan;
  run.people = people;
  run.year = true;
  if (run_file(&run, NULL, who, setl_path, details, false, prep)) {
    run_release(&run);
    return HMB_IO;
  }
  /* what the caller gave the preparing thread to do (year_prep_then())
   * is done before the persons are handed out */
  if (prep)
    prep_join(prep);
  /* the reader is freed meanwhile (joined below) */
  if (run.rd_left && !pthread_create(&reaper, NULL, reader_free_main, run.rd_left))
    reaping = true;
  else
    setl_reader_free(run.rd_left);
  run.rd_left = NULL;
  out->settled = (int64_t)run.settled;
  out->reversals = (int64_t)run.reversals;
  out->rejected = (int64_t)run.rejected;
  out->repeated = (int64_t)run.repeated;
  out->not_enrolled = (int64_t)run.not_enrolled;
  out->out_of_order = (int64_t)run.out_of_order;
  out->rows = out->settled + out->reversals + out->rejected + out->not_enrolled;
  out->eligible = run.eligible;
  out->paid = run.paid;
  if (run.max_time != INT64_MIN)
    out->last_day = time_date(run.max_time);
  /* each person's record by number, then the persons in the people's
   * order: the callback's tables are indexed by it, and visited in order
   * they stream instead of missing the cache person by person */
  recs = hmb_reallocarray(NULL, run.npersons ? run.npersons : 1, sizeof(*recs));
  npeople = people_count(people);
  byp = hmb_reallocarray(NULL, npeople ? npeople : 1, sizeof(*byp));
  if (!recs || !byp) {
    fprintf(stderr, "%s: 内存不足\n", who);
    result = HMB_NOMEM;
    goto out;
  }
  for (k = 0; k < run.persons.cap; k++) {
    const struct pslot *ps = &run.persons.s[k];
    if (ps->len && !ps->unknown)
      recs[ps->num] = ps->rec;
  }
  memset(byp, 0xff, (npeople ? npeople : 1) * sizeof(*byp));
  for (k = 0; k < run.npersons; k++)
    byp[run.pinfo[k].pidx] = (uint32_t)k;
  for (k = 0; k < npeople && !result; k++) {
    const uint32_t num = byp[k];
    struct year_person yp;
    if (k + 16 < npeople && byp[k + 16] != NO_PERSON) {
      /* a person's numbers are at random places: fetched a few ahead */
      __builtin_prefetch(&recs[byp[k + 16]]);
      __builtin_prefetch(&run.own32[byp[k + 16]]);
      __builtin_prefetch(&run.pinfo[byp[k + 16]].own);
    }
    if (num == NO_PERSON)
      continue; /* no settlement */
    yp.people_index = k;
    if (recs[num]) {
      struct adj_state *st = person_state(rec_at(&run, recs[num] - 1));
      yp.acc = adj_acc(st);
      yp.paid = adj_paid(plan, st);
    } else {
      /* their settlements never added anything */
      yp.acc = zero;
      yp.paid = zero;
    }
    yp.own_cost = run.pinfo[num].own + run.own32[num];
    hmb_err_init(&err);
    result = fn(ctx, &yp, &err);
    if (result)
      cli_print_err(who, &err);
  }
out:
  free(recs);
  free(byp);
  if (reaping)
    pthread_join(reaper, NULL);
  run_release(&run);
  return result;
}

enum hmb_status adjudicate_year(const char *who, const struct plan *plan,
                                const struct people *people, const char *setl_path,
                                const char *details, struct year_prep *prep, year_person_fn fn,
                                void *ctx, struct year_totals *out)
{
  enum hmb_status result = year_run(who, plan, people, setl_path, details, prep, fn, ctx, out);
  year_prep_free(prep);
  return result;
}

static const char *need_arg(int *i, int argc, char **argv)
{
  if (*i + 1 >= argc) {
    fprintf(stderr, "hmb adjudicate: %s 需要一个参数\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

int cmd_adjudicate(int argc, char **argv)
{
  const char *plan_path = NULL, *setl_path = NULL, *details = NULL, *people_path = NULL;
  const char *out_path = NULL, *summary_path = NULL, *format = "csv";
  const char *params[PLAN_MAX_PARAMS * PLAN_MAX_CODES];
  size_t nparams = 0, pi;
  struct plan plan;
  struct people *people = NULL;
  struct run run;
  struct out o;
  struct hmb_err err;
  enum hmb_status result;
  int i, rc = 0;
  bool explain = false, allow_draft = false;
  unsigned long people_paid = 0;
  size_t k;
  FILE *sum_out;
  char t1[HMB_MONEY_TEXT_MAX], t2[HMB_MONEY_TEXT_MAX];

  for (i = 0; i < argc; i++) {
    const char **dst = NULL;
    if (!strcmp(argv[i], "--plan"))
      dst = &plan_path;
    else if (!strcmp(argv[i], "--settlements"))
      dst = &setl_path;
    else if (!strcmp(argv[i], "--details"))
      dst = &details;
    else if (!strcmp(argv[i], "--people"))
      dst = &people_path;
    else if (!strcmp(argv[i], "--out"))
      dst = &out_path;
    else if (!strcmp(argv[i], "--format"))
      dst = &format;
    else if (!strcmp(argv[i], "--summary-json"))
      dst = &summary_path;
    else if (!strcmp(argv[i], "--explain")) {
      explain = true;
      continue;
    } else if (!strcmp(argv[i], "--allow-draft")) {
      allow_draft = true;
      continue;
    } else if (!strcmp(argv[i], "--param")) {
      const char *v = need_arg(&i, argc, argv);
      if (!v || nparams == ARRAY_SIZE(params))
        return 2;
      params[nparams++] = v;
      continue;
    } else {
      fprintf(stderr, "hmb adjudicate: 未知选项“%s”\n", argv[i]);
      return 2;
    }
    if (!(*dst = need_arg(&i, argc, argv)))
      return 2;
  }
  if (!plan_path || !setl_path) {
    fprintf(stderr, "用法: hmb adjudicate --plan P --settlements F [--details D] [--people F]\n"
                    "       [--out F] [--format csv|jsonl] [--summary-json F] [--explain]\n"
                    "       [--param NAME[.SCHEME]=AMOUNT] [--allow-draft]\n");
    return 2;
  }
  if (strcmp(format, "csv") && strcmp(format, "jsonl")) {
    fprintf(stderr, "hmb adjudicate: --format 只能是 csv 或 jsonl\n");
    return 2;
  }
  hmb_err_init(&err);
  plan_init(&plan);
  memset(&run, 0, sizeof(run));
  memset(&o, 0, sizeof(o));
  buf_init(&o.b, 64u << 20);
  o.jsonl = !strcmp(format, "jsonl");
  o.explain = explain;

  if (plan_load(&plan, plan_path, cli_report_path, &plan_path, &err)) {
    fprintf(stderr, "hmb adjudicate: 产品方案无效，未理算\n");
    rc = 2;
    goto done;
  }
  if (plan.draft && !allow_draft) {
    fprintf(stderr,
            "hmb adjudicate: %s 是草案（status: draft），其中部分数字未经核实，不能用于理赔；"
            "仅供测试时加 --allow-draft\n",
            plan_path);
    rc = 2;
    goto done;
  }
  for (pi = 0; pi < nparams; pi++)
    if (plan_set_param(&plan, params[pi], &err)) {
      cli_print_err("hmb adjudicate", &err);
      rc = 2;
      goto done;
    }
  if (people_path) {
    result = people_load(&people, people_path, cli_report, NULL, &err);
    if (result) {
      cli_print_err(people_path, &err);
      rc = 2;
      goto done;
    }
  }
  run.plan = &plan;
  run.people = people;
  o.f = stdout;
  if (out_path && strcmp(out_path, "-") && !(o.f = out_open(&o, out_path))) {
    fprintf(stderr, "hmb adjudicate: 无法写入 %s：%s\n", out_path, strerror(errno));
    rc = 2;
    goto done;
  }
  out_header(&o, &plan);
  rc = run_file(&run, &o, "hmb adjudicate", setl_path, details, explain, NULL);
  if (!rc && (out_flush(&o, true, &err) || fflush(o.f))) {
    cli_print_err("hmb adjudicate", &err);
    rc = 2;
  }
  if (rc)
    goto done;
  for (k = 0; k < run.nrecs; k++)
    people_paid += adj_paid_total(&plan, person_state(rec_at(&run, k))) > 0;
  money_format(run.eligible, t1);
  money_format(run.paid, t2);
  sum_out = o.f == stdout ? stderr : stdout;
  fprintf(
      sum_out,
      "理算完成：结算 %lu 笔，冲销 %lu 笔，拒绝 %lu 行；可赔付金额 %s 元，赔付 %s 元，获赔 %lu 人"
      "（参与理算 %zu 人）\n",
      run.settled, run.reversals, run.rejected, t1, t2, people_paid, run.npersons);
  if (run.out_of_order)
    fprintf(sum_out, "注意：%lu 笔结算的时间早于其前一笔（文件未按时间排序）\n", run.out_of_order);
  if (summary_path) {
    FILE *f = fopen(summary_path, "w");
    if (!f) {
      fprintf(stderr, "hmb adjudicate: 无法写入 %s\n", summary_path);
      rc = 2;
    } else {
      fprintf(f,
              "{\"plan\":\"%s\",\"settlements\":%lu,\"reversals\":%lu,\"rejected\":%lu,"
              "\"eligible\":\"%s\",\"paid\":\"%s\",\"people_paid\":%lu,\"people\":%zu,"
              "\"out_of_order\":%lu}\n",
              plan.id, run.settled, run.reversals, run.rejected, t1, t2, people_paid, run.npersons,
              run.out_of_order);
      fclose(f);
    }
  }
  if (!rc && run.rejected)
    rc = 1;
done:
  if (o.trunc_running)
    pthread_join(o.trunc, NULL);
  if (o.f && o.f != stdout)
    fclose(o.f);
  buf_release(&o.b);
  run_release(&run);
  people_free(people);
  plan_release(&plan);
  return rc;
}

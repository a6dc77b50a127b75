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

#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define OUT_FLUSH           (1u << 20)
#define MAX_REPORTED_ERRORS 1000 /* bad rows printed; all are counted */

/* ---- a chunked arena: stable pointers, freed at once ---- */

/*
 * Blocks faulted in ahead of time by the reading thread (MAP_POPULATE), so
 * the worker does not stop to have fresh pages zeroed: in a virtual machine
 * a page fault costs microseconds, and a year's records fill ~1 GB.
 */
#define SPARE_BLOCKS 2
struct spare {
  pthread_mutex_t mu;
  void *blocks[SPARE_BLOCKS];
  int n;
  bool on;
};

struct arena {
  char **blocks;
  size_t nblocks;
  size_t used; /* in the last block */
  size_t block;
  struct spare *spare; /* may be NULL */
};

static void *spare_take(struct spare *sp)
{
  void *b = NULL;
  if (!sp || !sp->on)
    return NULL;
  pthread_mutex_lock(&sp->mu);
  if (sp->n)
    b = sp->blocks[--sp->n];
  pthread_mutex_unlock(&sp->mu);
  return b;
}

static void *huge_alloc(size_t sz);
static void huge_free(void *p, size_t sz);

static void *arena_alloc(struct arena *a, size_t n)
{
  char *p;
  n = (n + 7) & ~(size_t)7;
  if (!a->nblocks || a->used + n > a->block) {
    char **nb = hmb_reallocarray(a->blocks, a->nblocks + 1, sizeof(char *));
    if (!nb || n > a->block)
      return NULL; /* records are small; a block holds thousands */
    a->blocks = nb;
    /* blocks on huge pages: a year's records fault in 2 MiB at a time */
    a->blocks[a->nblocks] = spare_take(a->spare);
    if (!a->blocks[a->nblocks])
      a->blocks[a->nblocks] = huge_alloc(a->block);
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
    huge_free(a->blocks[i], a->block);
  free(a->blocks);
  memset(a, 0, sizeof(*a));
}

/* ---- hash index: 64-bit hash -> record pointer (open addressing) ----
 *
 * Key and value share one 16-byte slot so a probe costs one cache line; the
 * tables of a year (tens of millions of settlements) sit on transparent huge
 * pages, which removes most TLB misses of the random probes. */

struct hslot {
  uint64_t key; /* 0 = empty */
  void *val;
};

struct hidx {
  struct hslot *s;
  size_t cap, n, bytes;
};

#define HUGE_PAGE (2u << 20)

/* A mapping of sz bytes (a multiple of HUGE_PAGE) aligned on a huge page and
 * advised onto huge pages; fresh pages arrive zeroed. NULL on failure. */
static void *huge_alloc(size_t sz)
{
  char *p = mmap(NULL, sz + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uintptr_t a;
  if (p == MAP_FAILED)
    return NULL;
  a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  if (a > (uintptr_t)p)
    munmap(p, a - (uintptr_t)p);
  munmap((char *)a + sz, (uintptr_t)p + HUGE_PAGE - a);
  madvise((void *)a, sz, MADV_HUGEPAGE);
  return (void *)a;
}

static void huge_free(void *p, size_t sz)
{
  if (p)
    munmap(p, sz);
}

/* Reading thread: keep SPARE_BLOCKS blocks of sz bytes faulted in. */
static void spare_refill(struct spare *sp, size_t sz)
{
  for (;;) {
    void *b;
    int n;
    pthread_mutex_lock(&sp->mu);
    n = sp->n;
    pthread_mutex_unlock(&sp->mu);
    if (n >= SPARE_BLOCKS)
      return;
    b = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (b == MAP_FAILED)
      return;
    pthread_mutex_lock(&sp->mu);
    sp->blocks[sp->n++] = b;
    pthread_mutex_unlock(&sp->mu);
  }
}

/* Small tables come from the heap (bytes = 0); large ones are mapped, which
 * gives zeroed pages without a second pass, and advised onto huge pages. */
static struct hslot *slots_alloc(size_t n, size_t *bytes)
{
  size_t sz = n * sizeof(struct hslot);
  struct hslot *s;
  if (sz < HUGE_PAGE) {
    *bytes = 0;
    return hmb_calloc(n, sizeof(struct hslot));
  }
  sz = (sz + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
  s = huge_alloc(sz);
  *bytes = s ? sz : 0;
  return s;
}

static void slots_free(struct hslot *s, size_t bytes)
{
  if (bytes)
    munmap(s, bytes);
  else
    free(s);
}

static bool hidx_grow(struct hidx *h)
{
  size_t ncap = h->cap ? h->cap * 2 : 1024, i, bytes;
  struct hslot *ns = slots_alloc(ncap, &bytes);
  if (!ns)
    return false;
  for (i = 0; i < h->cap; i++)
    if (h->s[i].key) {
      size_t j = h->s[i].key & (ncap - 1);
      while (ns[j].key)
        j = (j + 1) & (ncap - 1);
      ns[j] = h->s[i];
    }
  slots_free(h->s, h->bytes);
  h->s = ns;
  h->cap = ncap;
  h->bytes = bytes;
  return true;
}

/* Make room for `more` insertions at a load of at most three quarters
 * (linear probing stays short there, and the table is a third smaller). */
static bool hidx_reserve(struct hidx *h, size_t more)
{
  while ((h->n + more) * 4 > h->cap * 3)
    if (!hidx_grow(h))
      return false;
  return true;
}

static inline void hidx_prefetch(const struct hidx *h, uint64_t key)
{
  __builtin_prefetch(&h->s[key & (h->cap - 1)]);
}

/* Find the slot for key: *found tells whether it holds a record whose hash
 * matches (the caller still compares the full id). */
static size_t hidx_slot(const struct hidx *h, uint64_t key, bool *found)
{
  size_t j = key & (h->cap - 1);
  while (h->s[j].key) {
    if (h->s[j].key == key) {
      *found = true;
      return j;
    }
    j = (j + 1) & (h->cap - 1);
  }
  *found = false;
  return j;
}

static void hidx_release(struct hidx *h)
{
  slots_free(h->s, h->bytes);
  memset(h, 0, sizeof(*h));
}

/* ---- records ---- */

struct person_rec {
  struct person_rec *next_same_hash; /* chain for hash collisions */
  struct adj_state *st;
  struct adj_state **members; /* the account: &st alone, or a family's array */
  uint16_t nmembers;
  uint16_t member;
  char psn_no[];
};

struct account_rec {
  uint16_t n;
  struct adj_state *m[PLAN_MAX_FAMILY];
};

struct setl_rec {
  struct setl_rec *next_same_hash;
  struct person_rec *person;
  uint8_t *contrib; /* packed, NULL when nothing was added */
  uint16_t contrib_len;
  uint8_t reversed;
  char setl_id[];
};

struct run {
  const struct plan *plan;
  const struct people *people;
  struct arena arena;
  struct hidx persons, setls;
  struct adj_terms **terms; /* distinct resolved terms */
  size_t nterms;
  size_t npersons;
  struct person_rec **person_list;
  size_t person_cap;
  /* summary */
  unsigned long settled, reversals, rejected, out_of_order;
  hmb_fen eligible, paid;
  hmb_time last_time;
};

static uint64_t nonzero_hash(const char *s, size_t n)
{
  uint64_t h = hmb_hash64(s, n);
  return h ? h : 1;
}

static const struct adj_terms *terms_intern(struct run *run, const struct adj_terms *t)
{
  size_t i;
  struct adj_terms **nt, *copy;
  for (i = 0; i < run->nterms; i++)
    if (!memcmp(run->terms[i], t, sizeof(*t)))
      return run->terms[i];
  nt = hmb_reallocarray(run->terms, run->nterms + 1, sizeof(*nt));
  if (!nt)
    return NULL;
  run->terms = nt;
  copy = arena_alloc(&run->arena, sizeof(*copy));
  if (!copy)
    return NULL;
  *copy = *t;
  run->terms[run->nterms++] = copy;
  return copy;
}

static int age_at(hmb_date birth, hmb_date on)
{
  return birth < 0 ? -1 : date_age_on(birth, on);
}

static enum hmb_status make_person(struct run *run, const char *psn_no, size_t len,
                                   int32_t insutype_hint, struct person_rec **out,
                                   struct hmb_err *err)
{
  const struct plan *p = run->plan;
  struct adj_person who = {insutype_hint, 0, 0, 0, -1, NULL};
  struct adj_terms t;
  const struct adj_terms *ti;
  const struct people_entry *pe = NULL;
  struct person_rec *pr;
  enum hmb_status result;

  if (run->people) {
    pe = people_find(run->people, psn_no, len);
    if (!pe)
      return hmb_err_set(err, HMB_NOT_FOUND, "person.unknown", "psn_no",
                         "人员不在参保名单（--people）中");
    if (pe->insutype)
      who.insutype = pe->insutype;
    who.preexisting = pe->preexisting ? 1 : 0;
    who.loyalty_years = (int16_t)pe->loyalty_years;
    who.claim_free_years = (int16_t)pe->claim_free_years;
    who.age = (int16_t)(pe->birth == PEOPLE_BIRTH_UNKNOWN
                            ? -1
                            : age_at(pe->birth, p->age_basis_end ? p->cover_end : p->cover_start));
    who.groups = pe->groups;
  }
  result = adj_terms_resolve(p, &who, &t, err);
  if (result)
    return result;
  ti = terms_intern(run, &t);
  pr = arena_alloc(&run->arena, sizeof(*pr) + len + 1);
  if (!ti || !pr)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  pr->st = arena_alloc(&run->arena, adj_state_size(p));
  if (!pr->st)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  adj_state_init(p, pr->st, ti);
  memcpy(pr->psn_no, psn_no, len);
  pr->psn_no[len] = '\0';
  pr->next_same_hash = NULL;
  pr->members = NULL;
  pr->nmembers = 0;
  pr->member = 0;
  if (run->npersons == run->person_cap) {
    size_t ncap = run->person_cap ? run->person_cap * 2 : 4096;
    struct person_rec **nl = hmb_reallocarray(run->person_list, ncap, sizeof(*nl));
    if (!nl)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    run->person_list = nl;
    run->person_cap = ncap;
  }
  run->person_list[run->npersons++] = pr;
  *out = pr;
  return HMB_OK;
}

static struct person_rec *person_lookup(struct run *run, const char *psn_no, size_t len, uint64_t h,
                                        size_t *slot, bool *found)
{
  struct person_rec *pr;
  *slot = hidx_slot(&run->persons, h, found);
  if (!*found)
    return NULL;
  for (pr = run->persons.s[*slot].val; pr; pr = pr->next_same_hash)
    if (!strncmp(pr->psn_no, psn_no, len) && !pr->psn_no[len])
      return pr;
  return NULL;
}

static enum hmb_status person_insert(struct run *run, struct person_rec *pr, struct hmb_err *err)
{
  size_t len = strlen(pr->psn_no), slot;
  uint64_t h = nonzero_hash(pr->psn_no, len);
  bool found;
  if (!hidx_reserve(&run->persons, 1))
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  slot = hidx_slot(&run->persons, h, &found);
  if (found) {
    pr->next_same_hash = run->persons.s[slot].val;
  } else {
    run->persons.s[slot].key = h;
    run->persons.n++;
  }
  run->persons.s[slot].val = pr;
  return HMB_OK;
}

/* The person and their account (a family when the plan shares amounts). */
static enum hmb_status get_person(struct run *run, const struct settlement *s, uint64_t h,
                                  struct person_rec **out, struct hmb_err *err)
{
  size_t len = strlen(s->psn_no), slot, i;
  bool found;
  struct person_rec *pr, *made[PLAN_MAX_FAMILY];
  struct account_rec *acct = NULL;
  enum hmb_status result;

  *out = NULL;
  if (run->persons.cap) {
    pr = person_lookup(run, s->psn_no, len, h, &slot, &found);
    if (pr) {
      *out = pr;
      return HMB_OK;
    }
  }
  if (run->plan->has_family_scope && run->people) {
    const struct people_entry *pe = people_find(run->people, s->psn_no, len);
    const struct people_entry *fam = NULL;
    size_t nfam = 0;
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
      result = make_person(run, fam[i].psn_no, strlen(fam[i].psn_no), s->insutype, &made[i], err);
      if (!result)
        result = person_insert(run, made[i], err);
      if (result)
        return result;
      made[i]->members = acct->m;
      made[i]->member = acct->n;
      acct->m[acct->n++] = made[i]->st;
      if (!strcmp(made[i]->psn_no, s->psn_no))
        *out = made[i];
    }
    for (i = 0; i < nfam; i++)
      made[i]->nmembers = acct->n;
    if (nfam) {
      if (!*out)
        BUG("person of settlement %s missing from its own family", s->setl_id);
      return HMB_OK;
    }
  }
  result = make_person(run, s->psn_no, len, s->insutype, &pr, err);
  if (!result)
    result = person_insert(run, pr, err);
  if (result)
    return result;
  pr->members = &pr->st;
  pr->nmembers = 1;
  pr->member = 0;
  *out = pr;
  return HMB_OK;
}

static struct setl_rec *setl_find(struct run *run, const char *id, size_t len, uint64_t h,
                                  size_t *slot, bool *hash_found)
{
  struct setl_rec *r;
  *slot = hidx_slot(&run->setls, h, hash_found);
  if (!*hash_found)
    return NULL;
  for (r = run->setls.s[*slot].val; r; r = r->next_same_hash)
    if (!strncmp(r->setl_id, id, len) && !r->setl_id[len])
      return r;
  return NULL;
}

/* ---- output ---- */

struct out {
  FILE *f;
  struct buf b;
  bool jsonl;
  bool explain;
};

static enum hmb_status out_flush(struct out *o, struct hmb_err *err)
{
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

/* What the worker found for one row, formatted later by the main thread. */
enum row_status { ROW_OK = 0, ROW_REVERSAL, ROW_ERROR };
struct row_out {
  uint8_t status;
  hmb_fen eligible, payout, family_adjust;
  hmb_fen r[PLAN_MAX_RESP];
  size_t text_at, text_len; /* explanation or error message in the batch's text */
};

static const char *const status_names[] = {"ok", "reversal", "error"};

static void format_row(struct out *o, const struct plan *p, const struct settlement *s,
                       const struct row_out *ro, const char *text)
{
  int r;
  const bool has_res = ro->status != ROW_ERROR;
  if (o->jsonl) {
    buf_addstr(&o->b, "{\"setl_id\":");
    buf_add_json_str(&o->b, s->setl_id, strlen(s->setl_id));
    buf_addstr(&o->b, ",\"psn_no\":");
    buf_add_json_str(&o->b, s->psn_no, strlen(s->psn_no));
    buf_addstr(&o->b, ",\"status\":\"");
    buf_addstr(&o->b, status_names[ro->status]);
    buf_addch(&o->b, '"');
    if (has_res) {
      buf_addstr(&o->b, ",\"eligible\":\"");
      buf_add_money(&o->b, ro->eligible);
      buf_addstr(&o->b, "\",\"payout\":\"");
      buf_add_money(&o->b, ro->payout);
      buf_addstr(&o->b, "\",\"responsibilities\":{");
      for (r = 0; r < p->nresp; r++) {
        buf_addstr(&o->b, r ? ",\"" : "\"");
        buf_addstr(&o->b, p->resp[r].id);
        buf_addstr(&o->b, "\":\"");
        buf_add_money(&o->b, ro->r[r]);
        buf_addch(&o->b, '"');
      }
      buf_addch(&o->b, '}');
      if (ro->family_adjust) {
        buf_addstr(&o->b, ",\"family_adjust\":\"");
        buf_add_money(&o->b, ro->family_adjust);
        buf_addch(&o->b, '"');
      }
      if (ro->text_len) {
        buf_addstr(&o->b, ",\"explanation\":");
        buf_add_json_str(&o->b, text, ro->text_len);
      }
    } else {
      buf_addstr(&o->b, ",\"message\":");
      buf_add_json_str(&o->b, text, ro->text_len);
    }
    buf_addstr(&o->b, "}\n");
    return;
  }
  buf_add_csv_field(&o->b, s->setl_id, strlen(s->setl_id));
  buf_addch(&o->b, ',');
  buf_add_csv_field(&o->b, s->psn_no, strlen(s->psn_no));
  buf_addch(&o->b, ',');
  buf_addstr(&o->b, status_names[ro->status]);
  buf_addch(&o->b, ',');
  if (has_res) {
    buf_add_money(&o->b, ro->eligible);
    buf_addch(&o->b, ',');
    buf_add_money(&o->b, ro->payout);
    for (r = 0; r < p->nresp; r++) {
      buf_addch(&o->b, ',');
      buf_add_money(&o->b, ro->r[r]);
    }
    if (p->has_family_scope) {
      buf_addch(&o->b, ',');
      buf_add_money(&o->b, ro->family_adjust);
    }
  } else {
    buf_addch(&o->b, ',');
    for (r = 0; r < p->nresp; r++)
      buf_addch(&o->b, ',');
    if (p->has_family_scope)
      buf_addch(&o->b, ',');
  }
  if (o->explain) {
    buf_addch(&o->b, ',');
    if (ro->text_len)
      buf_add_csv_field(&o->b, text, ro->text_len);
  }
  buf_addch(&o->b, '\n');
}

/* Record res for the main thread; with explain, add the explanation text. */
static void keep_result(const struct plan *p, struct row_out *ro, enum row_status st,
                        const struct adj_result *res, const struct adj_state *state,
                        struct buf *text, bool explain)
{
  int r;
  ro->status = (uint8_t)st;
  ro->eligible = res->eligible;
  ro->payout = res->payout;
  ro->family_adjust = res->family_adjust;
  for (r = 0; r < p->nresp; r++)
    ro->r[r] = res->r[r].payout;
  ro->text_at = text->len;
  ro->text_len = 0;
  if (explain && !adj_explain(p, state, res, text))
    ro->text_len = text->len - ro->text_at;
}

/* ---- one row ---- */

static enum hmb_status process(struct run *run, struct settlement *s, uint64_t h, uint64_t hp,
                               struct row_out *ro, struct buf *text, bool explain,
                               struct hmb_err *err)
{
  const struct plan *p = run->plan;
  struct adj_result res;
  struct person_rec *pr = NULL;
  struct setl_rec *rec;
  enum hmb_status result;
  size_t idlen = strlen(s->setl_id), slot;
  bool hash_found;

  /* room for this row's insertion was reserved for the whole batch */
  rec = setl_find(run, s->setl_id, idlen, h, &slot, &hash_found);

  if (s->kind == SETL_REVERSAL) {
    struct adj_contrib c;
    if (!rec)
      return hmb_err_set(err, HMB_NOT_FOUND, "reversal.unknown", "setl_id",
                         "冲销的结算不存在（setl_id 未曾结算）");
    if (rec->reversed)
      return hmb_err_set(err, HMB_CONFLICT, "reversal.repeated", "setl_id", "该结算已冲销");
    if (strcmp(rec->person->psn_no, s->psn_no))
      return hmb_err_set(err, HMB_INVALID, "reversal.person", "psn_no",
                         "冲销请求的人员编号与原结算不一致");
    memset(&c, 0, sizeof(c));
    if (rec->contrib && !adj_contrib_unpack(p, rec->contrib, rec->contrib_len, &c))
      BUG("stored contribution of %s does not unpack", rec->setl_id);
    pr = rec->person;
    result = adj_reverse(p, pr->members, pr->nmembers, pr->member, &c, 0, &res, err);
    if (result)
      return result;
    rec->reversed = 1;
    run->reversals++;
    run->paid += res.payout + res.family_adjust;
    run->eligible += res.eligible;
    keep_result(p, ro, ROW_REVERSAL, &res, pr->st, text, explain);
    return HMB_OK;
  }
  if (rec)
    return hmb_err_set(err, HMB_CONFLICT, "setl.duplicate", "setl_id",
                       "结算ID重复：同一结算只赔付一次");
  if (s->setl_time < run->last_time)
    run->out_of_order++;
  else
    run->last_time = s->setl_time;
  result = get_person(run, s, hp, &pr, err);
  if (result)
    return result;
  if (!pr || !pr->members)
    BUG("no person for settlement %s", s->setl_id);
  result = adj_settle(p, pr->members, pr->nmembers, pr->member, s, 0, &res, err);
  if (result)
    return result;
  rec = arena_alloc(&run->arena, sizeof(*rec) + idlen + 1);
  if (!rec)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  memcpy(rec->setl_id, s->setl_id, idlen + 1);
  rec->person = pr;
  rec->reversed = 0;
  rec->contrib = NULL;
  rec->contrib_len = 0;
  {
    int r;
    bool any = res.contrib.next > 0;
    for (r = 0; r < p->nresp && !any; r++)
      any = res.contrib.acc[r] != 0;
    if (any) {
      uint8_t tmp[ADJ_CONTRIB_PACKED_MAX];
      size_t n = adj_contrib_pack(p, &res.contrib, tmp);
      rec->contrib = arena_alloc(&run->arena, n);
      if (!rec->contrib)
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      memcpy(rec->contrib, tmp, n);
      rec->contrib_len = (uint16_t)n;
    }
  }
  if (hash_found) {
    rec->next_same_hash = run->setls.s[slot].val;
  } else {
    rec->next_same_hash = NULL;
    run->setls.s[slot].key = h;
    run->setls.n++;
  }
  run->setls.s[slot].val = rec;
  run->settled++;
  run->paid += res.payout + res.family_adjust;
  run->eligible += res.eligible;
  keep_result(p, ro, ROW_OK, &res, pr->st, text, explain);
  return HMB_OK;
}

/*
 * Rows are taken in batches: their hashes are computed and the table slots
 * and person records they will touch are prefetched before any is
 * processed, so the cache misses of a batch overlap instead of queueing.
 * Rows are still processed one by one in file order.
 */
#define BATCH 256
#define RING  4

enum batch_state { B_EMPTY = 0, B_PARSED, B_DONE };

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
  struct report *reports;
  size_t nreports, areports;
  unsigned long line[BATCH];
  size_t pool_at[BATCH]; /* where row i's lines start in pool */
  bool invalid[BATCH];   /* settlement_validate() failed: out[i] holds the error */
  uint64_t hs[BATCH], hp[BATCH];
  size_t n;
  struct setl_line *pool; /* copies of the rows' detail lines */
  size_t npool, pool_cap;
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
  ro->text_len = b->text.len - ro->text_at;
  return HMB_OK;
}

/* Keep the row just read into b->s[b->n]: copy its detail lines, which
 * live in the reader only until its next call. */
static enum hmb_status batch_add(struct batch *b, unsigned long line, unsigned long *rejected)
{
  struct settlement *s = &b->s[b->n];
  struct hmb_err err;
  b->line[b->n] = line;
  b->hs[b->n] = nonzero_hash(s->setl_id, strlen(s->setl_id));
  b->hp[b->n] = nonzero_hash(s->psn_no, strlen(s->psn_no));
  /* per-row checks that need no state run here, beside the parsing */
  hmb_err_init(&err);
  b->invalid[b->n] = settlement_validate(s, &err) != HMB_OK;
  if (b->invalid[b->n]) {
    ++*rejected;
    if (batch_reject_row(b, b->n, &err))
      return HMB_NOMEM;
  }
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
    b->pool_at[b->n] = b->npool;
    b->npool += s->nlines;
  }
  b->n++;
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

#define SLOT_AHEAD   48
#define PERSON_AHEAD 24
static inline void prefetch_person(struct run *run, uint64_t h)
{
  /* follow the probe sequence a little: at three-quarters load a person is
   * often a slot or two past their home slot */
  size_t mask = run->persons.cap - 1, j = h & mask, k;
  for (k = 0; k < 4; k++, j = (j + 1) & mask) {
    const struct hslot *sl = &run->persons.s[j];
    if (!sl->key)
      return;
    if (sl->key == h) {
      const char *pr = sl->val;
      __builtin_prefetch(pr);
      __builtin_prefetch(pr + 64);
      __builtin_prefetch(pr + 128);
      return;
    }
  }
}

/* Worker side: adjudicate every row of a parsed batch in order. */
static enum hmb_status batch_process(struct run *run, struct batch *b, bool explain,
                                     const char *path)
{
  struct hmb_err err;
  enum hmb_status result;
  size_t i;
  if (!hidx_reserve(&run->setls, b->n) || !hidx_reserve(&run->persons, b->n))
    return HMB_NOMEM;
  batch_fix_lines(b);
  for (i = 0; i < SLOT_AHEAD && i < b->n; i++) {
    hidx_prefetch(&run->setls, b->hs[i]);
    hidx_prefetch(&run->persons, b->hp[i]);
  }
  for (i = 0; i < b->n; i++) {
    /* index slots SLOT_AHEAD rows ahead; person records PERSON_AHEAD rows
     * ahead, from slots prefetched SLOT_AHEAD - PERSON_AHEAD rows ago */
    if (i + SLOT_AHEAD < b->n) {
      hidx_prefetch(&run->setls, b->hs[i + SLOT_AHEAD]);
      hidx_prefetch(&run->persons, b->hp[i + SLOT_AHEAD]);
    }
    if (i + PERSON_AHEAD < b->n)
      prefetch_person(run, b->hp[i + PERSON_AHEAD]);
    if (b->invalid[i])
      continue;
    hmb_err_init(&err);
    result = process(run, &b->s[i], b->hs[i], b->hp[i], &b->out[i], &b->text, explain, &err);
    if (result == HMB_NOMEM || result == HMB_IO) {
      cli_print_err(path, &err);
      return result;
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
  bool failed;      /* the worker stopped on a fatal error */
  struct run *run;
  bool explain;
  const char *path;
};

static void *worker_main(void *arg)
{
  struct pipeline *pl = arg;
  size_t j;
  pthread_setname_np(pthread_self(), "hmb-adjudicate"); /* for top and perf */
  for (j = 0;; j++) {
    struct batch *b = pl->ring[j % RING];
    enum hmb_status result;
    pthread_mutex_lock(&pl->mu);
    while (!(j < pl->submitted && b->state == B_PARSED) && !(pl->no_more && j >= pl->submitted))
      pthread_cond_wait(&pl->cv, &pl->mu);
    if (j >= pl->submitted) {
      pthread_mutex_unlock(&pl->mu);
      return NULL;
    }
    pthread_mutex_unlock(&pl->mu);
    result = batch_process(pl->run, b, pl->explain, pl->path);
    pthread_mutex_lock(&pl->mu);
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

static void report_plan(void *ctx, const struct hmb_err *e)
{
  cli_print_err(*(const char **)ctx, e);
}

static void report_people(void *ctx, const struct hmb_err *e)
{
  (void)ctx;
  cli_print_err("", e);
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
  struct setl_reader *rd = NULL;
  struct run run;
  struct out o;
  struct hmb_err err;
  struct pipeline pl;
  struct spare spare;
  pthread_t worker;
  bool worker_started = false;
  unsigned long read_rejected = 0, printed = 0;
  enum hmb_status result;
  int i, rc = 0;
  bool eof = false, explain = false, allow_draft = false;
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
  memset(&pl, 0, sizeof(pl));
  memset(&spare, 0, sizeof(spare));
  memset(&run, 0, sizeof(run));
  run.arena.block = 32u << 20;
  pthread_mutex_init(&spare.mu, NULL);
  spare.on = true;
  run.arena.spare = &spare;
  run.last_time = INT64_MIN;
  memset(&o, 0, sizeof(o));
  buf_init(&o.b, 64u << 20);
  o.jsonl = !strcmp(format, "jsonl");
  o.explain = explain;

  if (plan_load(&plan, plan_path, report_plan, &plan_path, &err)) {
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
    result = people_load(&people, people_path, report_people, NULL, &err);
    if (result) {
      cli_print_err(people_path, &err);
      rc = 2;
      goto done;
    }
  }
  run.plan = &plan;
  run.people = people;
  if (setl_reader_open(&rd, setl_path, SETL_FMT_AUTO, details, &err)) {
    cli_print_err("hmb adjudicate", &err);
    rc = 2;
    goto done;
  }
  {
    /* Size the settlement index for the whole file now (a CSV row is at
     * least ~100 bytes): growing a table of tens of millions of slots by
     * doubling costs more than the probes themselves. */
    struct stat st;
    if (!stat(setl_path, &st) && S_ISREG(st.st_mode)) {
      size_t rows = (size_t)st.st_size / 100, want = 1024;
      while (want * 3 < rows * 4 && want < (size_t)1 << 27)
        want *= 2;
      if ((run.setls.s = slots_alloc(want, &run.setls.bytes)))
        run.setls.cap = want;
    }
  }
  o.f = stdout;
  if (out_path && strcmp(out_path, "-") && !(o.f = fopen(out_path, "w"))) {
    fprintf(stderr, "hmb adjudicate: 无法写入 %s：%s\n", out_path, strerror(errno));
    rc = 2;
    goto done;
  }
  out_header(&o, &plan);
  for (k = 0; k < RING; k++) {
    pl.ring[k] = hmb_calloc(1, sizeof(struct batch));
    if (!pl.ring[k]) {
      fprintf(stderr, "hmb adjudicate: 内存不足\n");
      rc = 2;
      goto done;
    }
    buf_init(&pl.ring[k]->text, 256u << 20);
  }
  pthread_mutex_init(&pl.mu, NULL);
  pthread_cond_init(&pl.cv, NULL);
  pl.run = &run;
  pl.explain = explain;
  pl.path = setl_path;
  if (pthread_create(&worker, NULL, worker_main, &pl)) {
    fprintf(stderr, "hmb adjudicate: 无法创建线程\n");
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
        size_t bi;
        b = pl.ring[nformatted % RING];
        pthread_mutex_unlock(&pl.mu);
        {
          size_t ri = 0;
          sort_reports(b);
          for (bi = 0; bi <= b->n; bi++) {
            while (ri < b->nreports && b->reports[ri].before == bi)
              print_report(&b->reports[ri++], setl_path, &printed);
            if (bi < b->n)
              format_row(&o, &plan, &b->s[bi], &b->out[bi], b->text.ptr + b->out[bi].text_at);
          }
        }
        if (!rc && o.b.len >= OUT_FLUSH && out_flush(&o, &err)) {
          cli_print_err("hmb adjudicate", &err);
          rc = 2;
        }
        pthread_mutex_lock(&pl.mu);
        b->state = B_EMPTY;
        nformatted++;
      }
      if (pl.failed) {
        /* the worker has stopped: nothing more will be finished */
        rc = 2;
        pthread_mutex_unlock(&pl.mu);
        break;
      }
      if (!eof && !rc && nparsed - nformatted < RING) {
        b = pl.ring[nparsed % RING];
        pthread_mutex_unlock(&pl.mu);
        b->n = 0;
        b->npool = 0;
        b->nreports = 0;
        buf_reset(&b->text);
        while (b->n < BATCH) {
          hmb_err_init(&err);
          result = setl_reader_next(rd, &b->s[b->n], &eof, &err);
          if (result == HMB_INVALID || result == HMB_TOO_LARGE) {
            read_rejected++;
            if (batch_report(b, b->n, 0, &err)) {
              fprintf(stderr, "hmb adjudicate: 内存不足\n");
              rc = 2;
              break;
            }
            continue;
          }
          if (result) {
            cli_print_err(setl_path, &err);
            rc = 2;
            break;
          }
          if (eof)
            break;
          if (batch_add(b, setl_reader_line(rd), &read_rejected)) {
            fprintf(stderr, "hmb adjudicate: 内存不足\n");
            rc = 2;
            break;
          }
        }
        pthread_mutex_lock(&pl.mu);
        if ((b->n || b->nreports) && !rc) {
          b->state = B_PARSED;
          nparsed++;
          pl.submitted = nparsed;
          pthread_cond_broadcast(&pl.cv);
        }
        pthread_mutex_unlock(&pl.mu);
        spare_refill(&spare, run.arena.block);
        continue;
      }
      if ((eof || rc) && nformatted == nparsed) {
        pthread_mutex_unlock(&pl.mu);
        break;
      }
      if (eof || rc) {
        pl.no_more = true;
        pthread_cond_broadcast(&pl.cv);
      }
      pthread_cond_wait(&pl.cv, &pl.mu);
      pthread_mutex_unlock(&pl.mu);
    }
  }
  pthread_mutex_lock(&pl.mu);
  pl.no_more = true;
  pthread_cond_broadcast(&pl.cv);
  pthread_mutex_unlock(&pl.mu);
  pthread_join(worker, NULL);
  worker_started = false;
  run.rejected += read_rejected;
  if (!rc && (out_flush(&o, &err) || fflush(o.f))) {
    cli_print_err("hmb adjudicate", &err);
    rc = 2;
  }
  for (k = 0; k < run.npersons; k++)
    people_paid += adj_paid_total(&plan, run.person_list[k]->st) > 0;
  {
    size_t nlines = 0, unmatched = setl_reader_unmatched_details(rd, &nlines);
    if (unmatched)
      fprintf(stderr, "hmb adjudicate: %zu 个 setl_id 的费用明细（%zu 行）没有对应的结算\n",
              unmatched, nlines);
  }
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
  if (o.f && o.f != stdout)
    fclose(o.f);
  buf_release(&o.b);
  for (k = 0; k < run.npersons; k++)
    adj_state_release(run.person_list[k]->st);
  free(run.person_list);
  free(run.terms);
  hidx_release(&run.persons);
  hidx_release(&run.setls);
  arena_release(&run.arena);
  if (worker_started) {
    pthread_mutex_lock(&pl.mu);
    pl.no_more = true;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    pthread_join(worker, NULL);
  }
  if (spare.on) {
    int sb;
    for (sb = 0; sb < spare.n; sb++)
      munmap(spare.blocks[sb], run.arena.block);
    pthread_mutex_destroy(&spare.mu);
  }
  if (pl.run) {
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
  }
  for (k = 0; k < RING; k++)
    if (pl.ring[k]) {
      buf_release(&pl.ring[k]->text);
      free(pl.ring[k]->pool);
      free(pl.ring[k]->reports);
      free(pl.ring[k]);
    }
  setl_reader_free(rd);
  people_free(people);
  plan_release(&plan);
  return rc;
}

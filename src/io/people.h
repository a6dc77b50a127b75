/*
 * people.h - the enrolled people table given with `--people FILE`.
 *
 * The file is CSV with a header row (any column order, unknown columns
 * ignored, RFC 4180 quoting, BOM and CRLF accepted):
 *
 *   psn_no            required, the person number of the settlements
 *   certno            accepted and not kept (least necessary personal data)
 *   insutype          scheme code, digits, 0..999 (empty = unknown, 0)
 *   brdy              birth date YYYY-MM-DD or YYYYMMDD (empty = unknown)
 *   gend              0 unknown, 1 male, 2 female, 9 unstated (empty = 0)
 *   preexisting       0 or 1 (既往症 fixed at enrollment; empty = 0)
 *   loyalty_years     continuous years enrolled before this one, 0..200
 *   claim_free_years  of which without a claim, 0..loyalty_years
 *   groups            ';'-separated premium/benefit groups (may be empty)
 *   family_id         people sharing one family_id form a family account
 *
 * The whole table is loaded into memory with a hash index on psn_no. A bad
 * row (a field that does not parse, a psn_no already seen) is reported with
 * "PATH:LINE:COLUMN" and skipped: the first row of a psn_no wins.
 *
 * Ownership: the table owns every entry and string; pointers returned by
 * people_find() and people_family_members() stay valid until people_free().
 * A loaded table is read-only and may be shared by threads.
 */
#ifndef HMB_PEOPLE_H
#define HMB_PEOPLE_H

#include "adjudicate.h"
#include "date.h"
#include "settlement.h"

/* birth of an entry without brdy. (-1 would be 1969-12-31, a real birth date.) */
#define PEOPLE_BIRTH_UNKNOWN INT32_MIN

struct people_entry {
  char psn_no[SETL_ID_MAX];
  int32_t insutype;   /* 0 when unknown */
  hmb_date birth;     /* PEOPLE_BIRTH_UNKNOWN when unknown */
  int8_t gend;        /* 0, 1, 2 or 9 */
  int8_t preexisting; /* 0 or 1 */
  int16_t loyalty_years;
  int16_t claim_free_years;
  const char *groups;    /* ';'-separated, "" when none; never NULL */
  const char *family_id; /* NULL when none */
  int32_t family;        /* family index, -1 when none */
};

struct people;

/* Called for each bad row; err is valid only during the call. */
typedef void people_report_fn(void *ctx, const struct hmb_err *err);

/*
 * Load the table from `path` ("-" reads standard input). Bad rows are given
 * to report(ctx, err) and skipped; with report == NULL the first bad row
 * fails the load with its error. Returns HMB_IO, HMB_NOMEM or HMB_INVALID
 * (no psn_no column, a known column twice, an empty file) for the file as a
 * whole, with *out NULL; on success *out is freed with people_free().
 */
enum hmb_status people_load(struct people **out, const char *path, people_report_fn *report,
                            void *ctx, struct hmb_err *err);

/* Like people_load() from memory (borrowed for the call only). */
enum hmb_status people_load_mem(struct people **out, const char *name, const char *data, size_t len,
                                people_report_fn *report, void *ctx, struct hmb_err *err);

/* The entry of psn_no[0..len), or NULL. */
const struct people_entry *people_find(const struct people *pp, const char *psn_no, size_t len);

/*
 * Fetch ahead what people_find(pp, psn_no, len) will read, in two steps some
 * time apart (each a cache miss otherwise): people_prefetch_slot() the index
 * slot, returning the hash for the second step, then, once the slot has
 * arrived, people_prefetch_entry() the entry it names. Hints only.
 */
uint64_t people_prefetch_slot(const struct people *pp, const char *psn_no, size_t len);
void people_prefetch_entry(const struct people *pp, uint64_t h);

/*
 * The members of family `family` (an entry's family index) in file order:
 * *members points at *n contiguous entries. HMB_NOT_FOUND for an index out
 * of range.
 */
enum hmb_status people_family_members(const struct people *pp, int32_t family,
                                      const struct people_entry **members, size_t *n);

/*
 * The engine's view of entry e under plan p (adjudicate.h adj_person): its
 * scheme (0 when the file gives none: the settlement's), 既往症 status,
 * loyalty years, age at the plan's age basis (enroll.h enroll_age(); -1
 * when the birth date is unknown) and groups (pointing into the table).
 */
void people_adj_person(const struct plan *p, const struct people_entry *e, struct adj_person *out);

size_t people_count(const struct people *pp);
/* Entry i (0 <= i < people_count()), and the index of an entry of pp. */
const struct people_entry *people_at(const struct people *pp, size_t i);
size_t people_index(const struct people *pp, const struct people_entry *e);
size_t people_family_count(const struct people *pp);
/* Rows skipped as bad during the load. */
size_t people_skipped(const struct people *pp);

void people_free(struct people *pp);

#endif /* HMB_PEOPLE_H */

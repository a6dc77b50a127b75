/*
 * svc.h - hmb's use cases over the store: roster import, enrollment and
 * premiums, one-stop settlement. The faces (CLI, HTTP API) call only this.
 *
 * A struct svc owns:
 *  - the plans, loaded from the store (or added with svc_plan_add()),
 *    read-only once loaded and shared by every thread;
 *  - the personal-data keys (pii.h);
 *  - the settlement writer: one thread that owns the store's write
 *    connection for settlements and commits them in groups (all jobs
 *    queued while the previous commit ran go into the next transaction,
 *    each in its own savepoint; one fsync for the group). Two settlements
 *    of one person are therefore never adjudicated concurrently, and a
 *    job's completion callback runs only after its commit is durable;
 *  - a pool of store handles for the other use cases (reads, imports,
 *    enrollments), each taken by one thread for the duration of a call.
 *
 * Every function here is thread-safe unless it says otherwise. Errors: the
 * status, with err naming the field (JSON path or CSV column) and a Chinese
 * message; svc_http_status() maps a status to the HTTP status the API uses.
 */
#ifndef HMB_SVC_H
#define HMB_SVC_H

#include "buf.h"
#include "err.h"
#include "store.h"

struct svc;

struct svc_opts {
  const char *db_url;   /* store_open() URL */
  const char *key_file; /* 32-byte personal-data master key; created 0600 when missing */
  unsigned group_max;   /* jobs per group commit at most (default 512) */
  hmb_date today;       /* 0: the system date (tests and demos fix it) */
  bool no_pipeline;     /* the writer sends each statement on its own (store pipeline off;
                           for comparison and diagnosis) */
};

/* Open the service: the store (migrated), the keys, every stored plan, and
 * start the writer thread. Free with svc_close(), which finishes queued
 * jobs first. */
enum hmb_status svc_open(struct svc **out, const struct svc_opts *o, struct hmb_err *err);
void svc_close(struct svc *svc);

/* The date the service takes as today. */
hmb_date svc_today(const struct svc *svc);

/* The HTTP status for a failed call (400, 404, 409, 413, 500 ...). */
int svc_http_status(enum hmb_status st);

/* ---- plans ---- */

/* Check the plan JSON (plan_finish()), store it and make it usable. A plan
 * with the same id is replaced only when no settlement used it yet. */
enum hmb_status svc_plan_add(struct svc *svc, const char *json, size_t len, const char *base_dir,
                             struct buf *plan_id, struct hmb_err *err);
/* The loaded plan with this id, NULL when none; valid until svc_close(). */
const struct plan *svc_plan(struct svc *svc, const char *plan_id);
/* The plan whose coverage contains `day` for a person of region admdvs
 * (by the plan's region prefix), NULL when none. */
const struct plan *svc_plan_for(struct svc *svc, const char *admdvs, hmb_date day);
/* JSON array of the loaded plans (id, name, city, year, coverage). */
enum hmb_status svc_plans_json(struct svc *svc, struct buf *out);

/* ---- roster ---- */

struct svc_import_report {
  int64_t rows, accepted, inserted, updated, status_changes, rejected;
  /* the first SVC_IMPORT_ERRORS rejected rows as a JSON array of
   * {"line":N,"field":"...","code":"...","message":"..."} */
  struct buf errors_json;
};
#define SVC_IMPORT_ERRORS 1000

void svc_import_report_init(struct svc_import_report *r);
void svc_import_report_release(struct svc_import_report *r);

/*
 * Import the bureau's roster CSV (docs/api.md lists the columns). Every
 * row is validated (ID check digit, codes, dates, USCC, relation); bad rows
 * are counted and reported with their line; good rows are committed in
 * transactions of a few thousand rows. A row for a known psn_no updates the
 * person; a status change (e.g. active -> suspended) is recorded from the
 * row's status_date (or today). `effective` 0 = today. Fails only for an
 * unreadable file or a header without the required columns.
 */
enum hmb_status svc_roster_import(struct svc *svc, const char *name, const char *data, size_t len,
                                  struct svc_import_report *rep, struct hmb_err *err);

/* ---- enrollment and premiums ---- */

struct svc_enroll_req {
  const char *plan_id;
  const char *psn_no;
  int channel;              /* enum store_channel */
  const char *payer;        /* personal account: payer's psn_no; employer: USCC; sponsor: id */
  const char *group;        /* premium group claimed (must be in the roster's groups), NULL none */
  hmb_date on;              /* date of the request, 0 = today */
  int preexisting;          /* 1 / 0 as assessed at enrollment, -1 not assessed (0) */
  bool pay;                 /* take the premium now through the channel (online/counter) */
  const char *only_sponsor; /* a sponsor's key may enroll only with its own funds */
};

/* Enroll a person (every rule of the plan's enrollment section); on
 * refusal err->code says why (enroll.not_eligible, enroll.window_closed,
 * enroll.already, enroll.relation, sponsor.budget ...). */
enum hmb_status svc_enroll(struct svc *svc, const struct svc_enroll_req *req,
                           struct store_enrollment *out, struct hmb_err *err);
/* Record a premium payment for a pending enrollment (exact amount due). */
enum hmb_status svc_pay(struct svc *svc, const char *policy_no, int channel, const char *payer,
                        hmb_fen amount, struct store_enrollment *out, struct hmb_err *err);
/* Cancel an enrollment; the refund rule is in docs/api.md. */
enum hmb_status svc_cancel(struct svc *svc, const char *policy_no, hmb_date on,
                           struct store_enrollment *out, struct hmb_err *err);
/* The enrollment with this policy number (HMB_NOT_FOUND when none). */
enum hmb_status svc_enrollment_get(struct svc *svc, const char *policy_no,
                                   struct store_enrollment *out, struct hmb_err *err);
/* JSON of an enrollment record. */
enum hmb_status svc_enrollment_json(const struct store_enrollment *e, struct buf *out);

/* ---- sponsors and keys ---- */

enum hmb_status svc_sponsor_put(struct svc *svc, const struct store_sponsor *sp,
                                struct hmb_err *err);
enum hmb_status svc_sponsor_get(struct svc *svc, const char *id, struct store_sponsor *out,
                                struct hmb_err *err);
/* Make a new API key for role (sponsor: its sponsor id): key_out gets the
 * secret (64 hex chars), shown once; only its hash is stored. */
enum hmb_status svc_key_add(struct svc *svc, const char *name, int role, const char *sponsor,
                            char key_out[65], struct hmb_err *err);
/* Who holds this key: HMB_NOT_FOUND for an unknown or revoked key. */
enum hmb_status svc_key_check(struct svc *svc, const char *key, size_t len, struct store_key *out,
                              struct hmb_err *err);

/* ---- one-stop settlement ---- */

enum svc_op {
  SVC_TRIAL = 1, /* 预结算: compute, change nothing */
  SVC_SETTLE,    /* 2207/2304: idempotent on setl_id */
  SVC_REVERSE    /* 2208/2305: idempotent on setl_id */
};

/*
 * One settlement request, queued to the writer. body is the request JSON:
 * the settlement's national field names with "details" nested (as one line
 * of `hmb adjudicate` JSONL); for SVC_REVERSE {"setl_id", "psn_no"}. On
 * completion `done` is called on the writer thread (after the group's
 * commit for writes) with status, err and response filled: response is
 * the JSON answer, the same bytes for a repeated request. The job and body
 * are the caller's and must stay valid until done has been called; done
 * must not block.
 */
struct svc_job {
  enum svc_op op;
  const char *body;
  size_t len;
  void (*done)(struct svc_job *job);
  void *ctx;
  /* results */
  enum hmb_status status;
  struct hmb_err err;
  struct buf response;
  bool repeated; /* answered from the stored record */
  /* private to the service */
  struct svc_job *next;
  struct svc_parsed *parsed; /* the request parsed by svc_submit() */
};

/* Parse the request on the caller's thread (so the writer only judges
 * and writes) and queue the job; initialises its results. HMB_UNSUPPORTED
 * when the service is closing (done is not called then). A request that
 * does not parse is still queued and answered through done, in order. */
enum hmb_status svc_submit(struct svc *svc, struct svc_job *job);
/* Submit and wait: for the CLI and tests. */
enum hmb_status svc_run(struct svc *svc, enum svc_op op, const char *body, size_t len,
                        struct buf *response, struct hmb_err *err);

/* The stored response of a settlement (with its reversal state). */
enum hmb_status svc_setl_json(struct svc *svc, const char *setl_id, struct buf *out,
                              struct hmb_err *err);
/* A person's cover and year: enrollments, per plan the amounts used so far
 * (deductible left, paid per responsibility) and the settlements. Personal
 * data in the answer is masked. */
enum hmb_status svc_person_json(struct svc *svc, const char *psn_no, struct buf *out,
                                struct hmb_err *err);

/*
 * Recompute every person's state of every plan from their stored
 * settlements (in seq order, reversals included) and compare with the
 * stored state and payouts. *bad counts people whose state differs
 * (details appended to report, one line each, no personal data).
 */
enum hmb_status svc_verify(struct svc *svc, int64_t *people, int64_t *settlements, int64_t *bad,
                           struct buf *report, struct hmb_err *err);

/* Counters for /metrics (monotonic since open). */
struct svc_stats {
  uint64_t jobs, settled, reversed, trials, repeated, rejected, groups, queue_max;
  uint64_t commit_ns_total;
};
void svc_stats(struct svc *svc, struct svc_stats *out);

#endif /* HMB_SVC_H */

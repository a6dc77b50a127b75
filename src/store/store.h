/*
 * store.h - the one persistent-store interface of hmb.
 *
 * The service layer sees only this header. Behind it sit implementations
 * selected by the URL given to store_open(): "sqlite:PATH" or a bare path
 * (the embedded default, store_sqlite.c), later "postgres://..." (libpq).
 * The interface speaks in plain records (this file's structs): it knows
 * nothing of the claims engine beyond the sizes it stores, and holds no
 * business rule except the integrity constraints a database enforces
 * (uniqueness, foreign keys, a sponsor's budget).
 *
 * Threads: a `struct store` is one connection. It is used by one thread at
 * a time; threads that need the store concurrently open a handle each.
 * Several handles on the same database see each other's committed writes.
 *
 * Transactions: every read and write runs inside store_begin() ..
 * store_commit() / store_rollback(). A write transaction
 * (STORE_TX_WRITE) takes the database's write lock at once (SQLite BEGIN
 * IMMEDIATE), so it never fails half way for lock upgrade. Inside a write
 * transaction, savepoints nest one level: store_savepoint() then
 * store_release() or store_rollback_to() (group commit runs each job of a
 * batch in its own savepoint so that one failing job does not undo the
 * others). store_commit() returns only when the transaction is durable
 * (synchronous=FULL in WAL mode): an acknowledged write survives kill -9
 * and power loss.
 *
 * Errors: HMB_NOT_FOUND for a missing record (err names the key field),
 * HMB_CONFLICT for a uniqueness or budget violation, HMB_IO for a database
 * failure (err->message carries the database's text, never personal data).
 * On any error inside a transaction the caller rolls back (or back to its
 * savepoint): nothing half-written is ever committed.
 *
 * Ownership: records are caller-owned plain data. Text and blobs that vary
 * in size come back in a caller's struct buf (appended to, NUL-terminated);
 * strings passed in are borrowed for the call only.
 */
#ifndef HMB_STORE_H
#define HMB_STORE_H

#include "buf.h"
#include "date.h"
#include "err.h"
#include "money.h"
#include "adjudicate.h"
#include "plan.h"
#include "settlement.h"
#include "uscc.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_BIDX_LEN       32  /* blind index of an ID number (keyed BLAKE2b) */
#define STORE_ENC_MAX        192 /* an encrypted value: version + nonce + text + tag */
#define STORE_POLICY_MAX     32
#define STORE_NAME_MAX       64 /* key names, sponsor ids */
#define STORE_LIST_MAX       64 /* records returned by one list call at most */

/* ---- people (the bureau's roster) ---- */

enum store_psn_status { PSN_ACTIVE = 1, PSN_SUSPENDED = 2, PSN_ENDED = 3 };

/* Relation to the family's head (roster column `relation`). */
enum store_relation {
  REL_NONE = 0, /* no family given */
  REL_HEAD,
  REL_SPOUSE,
  REL_CHILD,
  REL_PARENT,
  REL_SPOUSE_PARENT,
  REL_OTHER
};

/*
 * One person of the roster. certno and name are stored only encrypted
 * (service/pii.h makes the ciphertexts and the blind index); nothing in
 * the store can read them.
 */
struct store_person {
  char psn_no[SETL_ID_MAX];
  uint8_t certno_bidx[STORE_BIDX_LEN];
  uint8_t certno_enc[STORE_ENC_MAX];
  uint16_t certno_enc_len;
  uint8_t name_enc[STORE_ENC_MAX];
  uint16_t name_enc_len;
  int8_t gend;          /* 1 male, 2 female, 0/9 unknown */
  hmb_date birth;       /* from the ID number */
  int32_t insutype;     /* 310 employees, 390 residents */
  int8_t status;        /* enum store_psn_status */
  hmb_date status_date; /* since when */
  char admdvs[8];       /* 6-digit region of the basic insurance */
  char work_admdvs[8];  /* where they work or study, "" unknown */
  char emp_uscc[USCC_LEN + 1];
  char family_id[SETL_ID_MAX]; /* "" none */
  int8_t relation;             /* enum store_relation */
  int16_t veteran_year;        /* year of discharge, 0 none */
  char groups[64];             /* ';'-separated groups, e.g. medical_assistance */
};

/* ---- enrollments, payments, sponsors ---- */

enum store_enr_status {
  ENR_PENDING = 1,  /* enrolled, premium not yet paid */
  ENR_ACTIVE = 2,   /* paid: covered from cover_start */
  ENR_CANCELLED = 3 /* cancelled (refund recorded) */
};

enum store_channel {
  CH_ONLINE = 1,
  CH_COUNTER,
  CH_PERSONAL_ACCOUNT, /* an employee's personal account, for self or a relative */
  CH_EMPLOYER,         /* group purchase by an employer (USCC) */
  CH_SPONSOR,          /* charity, government or union funds */
  CH_FREE              /* free cover (minors of two enrolled parents) */
};

struct store_enrollment {
  char policy_no[STORE_POLICY_MAX]; /* one per person and plan (一人一单) */
  char plan_id[PLAN_ID_MAX];
  char psn_no[SETL_ID_MAX];
  int year;
  int8_t status; /* enum store_enr_status */
  int8_t channel;
  char payer[SETL_ID_MAX]; /* psn_no (personal account), USCC (employer), sponsor id */
  char group[PLAN_ID_MAX]; /* premium group, "" none */
  hmb_fen premium;         /* due */
  hmb_fen paid;            /* received */
  hmb_fen refunded;
  hmb_date enrolled_on;
  hmb_date cover_start;  /* first covered day (newborns: birth) */
  int8_t preexisting;    /* fixed at enrollment */
  int16_t loyalty_years; /* continuous years enrolled before this one */
  int16_t claim_free_years;
  hmb_time created_at, updated_at;
};

struct store_payment {
  int64_t id; /* assigned by the store */
  char policy_no[STORE_POLICY_MAX];
  int8_t channel;
  char payer[SETL_ID_MAX];
  hmb_fen amount; /* negative for a refund */
  hmb_time at;
};

struct store_sponsor {
  char id[STORE_NAME_MAX];
  char name[128];
  hmb_fen budget;
  hmb_fen spent;
};

/* ---- settlements ---- */

/*
 * One accepted request of the settlement service: a settlement or a
 * reversal (kind). (setl_id, kind) is unique: the same request twice finds
 * this record and returns its stored response.
 */
struct store_setl {
  int64_t seq; /* assigned by store_setl_put(), increasing */
  char setl_id[SETL_ID_MAX];
  int8_t kind; /* enum setl_kind */
  char plan_id[PLAN_ID_MAX];
  char psn_no[SETL_ID_MAX];
  char policy_no[STORE_POLICY_MAX];
  hmb_time setl_time;
  hmb_fen eligible;
  hmb_fen payout; /* negative for a reversal */
  hmb_fen family_adjust;
  int8_t reversed; /* kind settle: a reversal was accepted */
  uint8_t contrib[ADJ_CONTRIB_PACKED_MAX];
  uint16_t contrib_len;
  uint8_t request_hash[16]; /* BLAKE2b of the request as stored: a repeat must match */
  hmb_time created_at;
};

/*
 * What a settlement reads before it is judged (store_ops.setl_reads): the
 * stored record of its (setl_id, kind), the person's enrollment in the plan
 * covering their region, their roster status on the settlement's day and
 * their year state under that plan. Each part is optional (the flags).
 */
struct store_setl_reads {
  bool prior_found;
  struct store_setl prior; /* response appended to the caller's buffer */
  bool enr_found;
  struct store_enrollment enr;
  int status;       /* enum store_psn_status on the day, 0 when none recorded */
  bool state_found; /* blob appended to the caller's buffer */
};

/* ---- API keys ---- */

enum store_role { ROLE_OPERATOR = 1, ROLE_HOSPITAL, ROLE_BUREAU, ROLE_SPONSOR };

struct store_key {
  uint8_t hash[32]; /* BLAKE2b of the key; the key itself is never stored */
  char name[STORE_NAME_MAX];
  int8_t role;                  /* enum store_role */
  char sponsor[STORE_NAME_MAX]; /* ROLE_SPONSOR: whose budget */
  int8_t revoked;
};

/* ---- the interface ---- */

enum store_tx { STORE_TX_READ = 0, STORE_TX_WRITE = 1 };

struct store;

struct store_ops {
  const char *name; /* "sqlite", "postgres" */
  void (*close)(struct store *s);
  enum hmb_status (*schema_version)(struct store *s, int *version, struct hmb_err *err);

  enum hmb_status (*begin)(struct store *s, enum store_tx tx, struct hmb_err *err);
  enum hmb_status (*commit)(struct store *s, struct hmb_err *err);
  void (*rollback)(struct store *s);
  enum hmb_status (*savepoint)(struct store *s, struct hmb_err *err);
  enum hmb_status (*release)(struct store *s, struct hmb_err *err);
  void (*rollback_to)(struct store *s);

  enum hmb_status (*meta_get)(struct store *s, const char *key, struct buf *out,
                              struct hmb_err *err);
  enum hmb_status (*meta_put)(struct store *s, const char *key, const char *value,
                              struct hmb_err *err);

  enum hmb_status (*plan_put)(struct store *s, const char *plan_id, const char *json, size_t len,
                              struct hmb_err *err);
  enum hmb_status (*plan_get)(struct store *s, const char *plan_id, struct buf *json,
                              struct hmb_err *err);
  /* Ids of every stored plan, ';'-separated, appended to out. */
  enum hmb_status (*plan_ids)(struct store *s, struct buf *out, struct hmb_err *err);

  /* Insert or update; *changed tells whether anything differed. A change
   * of status is also recorded in the status history from p->status_date. */
  enum hmb_status (*person_put)(struct store *s, const struct store_person *p, bool *changed,
                                struct hmb_err *err);
  enum hmb_status (*person_get)(struct store *s, const char *psn_no, struct store_person *out,
                                struct hmb_err *err);
  /*
   * Bulk forms for imports (PostgreSQL: one query and one COPY per batch
   * instead of round trips per row). person_get_many fills out[i] and
   * found[i] for each psn[i]. person_put_many is person_put for each row
   * in order, the psn_no and ID numbers of a batch all distinct:
   * outcome[i] = 1 stored and changed, 0 unchanged, -1 refused because
   * another person holds its ID number (nothing of that row is written).
   */
  enum hmb_status (*person_get_many)(struct store *s, const char (*psn)[SETL_ID_MAX], size_t n,
                                     struct store_person *out, bool *found, struct hmb_err *err);
  enum hmb_status (*person_put_many)(struct store *s, const struct store_person *p, size_t n,
                                     int8_t *outcome, struct hmb_err *err);
  enum hmb_status (*person_by_bidx)(struct store *s, const uint8_t bidx[STORE_BIDX_LEN],
                                    struct store_person *out, struct hmb_err *err);
  /* Status in force on `day` (the latest change on or before it);
   * HMB_NOT_FOUND when the person is unknown or had no status yet. */
  enum hmb_status (*person_status_at)(struct store *s, const char *psn_no, hmb_date day,
                                      int *status, struct hmb_err *err);
  enum hmb_status (*family)(struct store *s, const char *family_id, struct store_person *out,
                            size_t max, size_t *n, struct hmb_err *err);
  enum hmb_status (*person_count)(struct store *s, int64_t *n, struct hmb_err *err);

  enum hmb_status (*enrollment_put)(struct store *s, const struct store_enrollment *e,
                                    struct hmb_err *err); /* insert or update by policy_no */
  enum hmb_status (*enrollment_get)(struct store *s, const char *plan_id, const char *psn_no,
                                    struct store_enrollment *out, struct hmb_err *err);
  enum hmb_status (*enrollment_by_policy)(struct store *s, const char *policy_no,
                                          struct store_enrollment *out, struct hmb_err *err);
  /* A person's enrollments, newest year first, at most max. */
  enum hmb_status (*enrollments_of)(struct store *s, const char *psn_no,
                                    struct store_enrollment *out, size_t max, size_t *n,
                                    struct hmb_err *err);
  /* Next number of a plan's policy sequence (1, 2, ...), inside the write tx. */
  enum hmb_status (*policy_seq_next)(struct store *s, const char *plan_id, int64_t *out,
                                     struct hmb_err *err);
  enum hmb_status (*payment_add)(struct store *s, struct store_payment *p, struct hmb_err *err);

  enum hmb_status (*sponsor_put)(struct store *s, const struct store_sponsor *sp,
                                 struct hmb_err *err);
  enum hmb_status (*sponsor_get)(struct store *s, const char *id, struct store_sponsor *out,
                                 struct hmb_err *err);
  /* Add amount to spent; HMB_CONFLICT (nothing changed) when spent would
   * exceed the budget. amount may be negative (a refund). */
  enum hmb_status (*sponsor_spend)(struct store *s, const char *id, hmb_fen amount,
                                   struct hmb_err *err);

  /* Settlement records; request and response are JSON texts kept verbatim. */
  enum hmb_status (*setl_get)(struct store *s, const char *setl_id, int kind,
                              struct store_setl *out, struct buf *response, struct hmb_err *err);
  enum hmb_status (*setl_put)(struct store *s, struct store_setl *r, const char *request,
                              const char *response, struct hmb_err *err);
  enum hmb_status (*setl_mark_reversed)(struct store *s, const char *setl_id, struct hmb_err *err);
  /* A person's records of one plan in seq order, from seq > after, at most
   * max; requests (JSON) appended to requests separated by '\n' when not NULL. */
  enum hmb_status (*setl_of_person)(struct store *s, const char *plan_id, const char *psn_no,
                                    int64_t after, struct store_setl *out, size_t max, size_t *n,
                                    struct buf *requests, struct hmb_err *err);
  enum hmb_status (*setl_count)(struct store *s, int64_t *n, struct hmb_err *err);

  /*
   * setl_get(setl_id, kind) with response, enrollment_get(plan_id,
   * psn_no), person_status_at(psn_no, day) and state_get(plan_id, psn_no)
   * with blob (locking as state_get does), with each HMB_NOT_FOUND turned
   * into a flag of out: the reads a settlement starts with, in one round
   * trip on a server backend in pipeline mode. store_setl_reads_each() is
   * the plain sequence of the four calls.
   */
  enum hmb_status (*setl_reads)(struct store *s, const char *setl_id, int kind, const char *plan_id,
                                const char *psn_no, hmb_date day, struct store_setl_reads *out,
                                struct buf *response, struct buf *blob, struct hmb_err *err);

  /* A person's year state of a plan (engine state, packed by the service);
   * an empty blob reads as no state (HMB_NOT_FOUND). */
  enum hmb_status (*state_get)(struct store *s, const char *plan_id, const char *psn_no,
                               struct buf *blob, struct hmb_err *err);
  enum hmb_status (*state_put)(struct store *s, const char *plan_id, const char *psn_no,
                               const void *blob, size_t len, struct hmb_err *err);
  /* The people holding a state of plan_id, psn_no > after (""), in psn_no
   * order, at most max; *n = how many were stored in psn. */
  enum hmb_status (*state_people)(struct store *s, const char *plan_id, const char *after,
                                  char (*psn)[SETL_ID_MAX], size_t max, size_t *n,
                                  struct hmb_err *err);

  /* Copy committed log pages into the database without waiting for
   * readers or writers (SQLite WAL; a no-op for servers that manage their
   * own log), and turn the checkpoint a commit runs itself off or on: the
   * settlement writer turns it off so that no commit pays for one, and a
   * background thread checkpoints instead. */
  enum hmb_status (*checkpoint)(struct store *s, struct hmb_err *err);
  enum hmb_status (*autocheckpoint)(struct store *s, bool on, struct hmb_err *err);

  /*
   * Pipelined group commit. With deferred sync on, commit() on this handle
   * makes the transaction visible and ordered but returns before it is
   * durable; sync() (on any handle of the same database, from any thread)
   * returns when every transaction committed before the call is durable.
   * The settlement writer commits group N+1 while group N is being synced,
   * and acknowledges a group only after its sync. Default: off (every
   * commit durable). A backend whose commits are cheap may make sync a
   * no-op and ignore deferral.
   */
  enum hmb_status (*deferred_sync)(struct store *s, bool on, struct hmb_err *err);

  /*
   * Deferred writes (a server backend's pipeline; off by default). With it
   * on, inside a write transaction, savepoint(), setl_put() and
   * state_put() may return HMB_OK before the database has run them
   * (setl_put() then leaves r->seq 0): they travel with the next call that
   * reads, and a failure of theirs is returned by that call, by release()
   * or by commit(). A failed release() leaves the savepoint open, so
   * rollback_to() undoes the job. A duplicate setl_put() is HMB_CONFLICT
   * either way. Only the settlement writer's
   * handle turns it on; bulk loads (person_put_many) are refused in it.
   * SQLite: nothing to do (every call runs at once).
   */
  enum hmb_status (*pipeline)(struct store *s, bool on, struct hmb_err *err);

  /*
   * Lock keys (e.g. hashes of the people a group of settlements is for)
   * until the write transaction ends, in ascending order, so that writers
   * of several processes locking overlapping sets wait for each other
   * instead of deadlocking. keys is sorted in place. SQLite: nothing to
   * do (the write transaction already excludes every other writer).
   */
  enum hmb_status (*lock_keys)(struct store *s, int64_t *keys, size_t n, struct hmb_err *err);
  enum hmb_status (*sync)(struct store *s, struct hmb_err *err);

  enum hmb_status (*key_put)(struct store *s, const struct store_key *k, struct hmb_err *err);
  enum hmb_status (*key_get)(struct store *s, const uint8_t hash[32], struct store_key *out,
                             struct hmb_err *err);
};

struct store {
  const struct store_ops *ops;
};

/*
 * Open the store at url ("sqlite:PATH", or a path), creating the database
 * and migrating its schema to STORE_SCHEMA_VERSION when needed (each
 * migration in its own transaction, recorded in the version table). A
 * database with a newer schema than this binary knows is refused
 * (HMB_UNSUPPORTED). The handle is freed with store_close().
 */
enum hmb_status store_open(struct store **out, const char *url, struct hmb_err *err);
void store_close(struct store *s);

/* store_ops.setl_reads as four calls (a backend without round trips to save). */
enum hmb_status store_setl_reads_each(struct store *s, const char *setl_id, int kind,
                                      const char *plan_id, const char *psn_no, hmb_date day,
                                      struct store_setl_reads *out, struct buf *response,
                                      struct buf *blob, struct hmb_err *err);

/* The schema version of an open store. */
enum hmb_status store_schema_version(struct store *s, int *version, struct hmb_err *err);

#endif /* HMB_STORE_H */

#include "compat.h"
#include "store_sqlite.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>
#include <time.h>

/*
 * The embedded store: one SQLite connection per handle, settings of
 * ENGINEERING.md B.7. Every statement is a constant string prepared once per
 * handle (SQLITE_PREPARE_PERSISTENT) and reset after each use; row values
 * only ever travel as bound parameters, and never into error messages.
 */

/* ---- schema ---- */

/*
 * Migration 1: the whole first schema. Tables are STRICT; money is INTEGER
 * fen, dates INTEGER days and times INTEGER seconds (core/date.h). The
 * sponsor budget check is named so that its failure can be told apart
 * from other CHECK failures (sq_fail()).
 */
static const char migration_1[] =
    "CREATE TABLE meta("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL"
    ") STRICT;"

    "CREATE TABLE plans("
    " plan_id TEXT PRIMARY KEY NOT NULL CHECK(length(plan_id) BETWEEN 1 AND 39),"
    " json TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") STRICT;"

    "CREATE TABLE persons("
    " psn_no TEXT PRIMARY KEY NOT NULL CHECK(length(psn_no) BETWEEN 1 AND 39),"
    " certno_bidx BLOB NOT NULL UNIQUE CHECK(length(certno_bidx) = 32),"
    " certno_enc BLOB NOT NULL CHECK(length(certno_enc) <= 192),"
    " name_enc BLOB NOT NULL CHECK(length(name_enc) <= 192),"
    " gend INTEGER NOT NULL CHECK(gend IN (0, 1, 2, 9)),"
    " birth INTEGER NOT NULL,"
    " insutype INTEGER NOT NULL,"
    " status INTEGER NOT NULL CHECK(status IN (1, 2, 3)),"
    " status_date INTEGER NOT NULL,"
    " admdvs TEXT NOT NULL,"
    " work_admdvs TEXT NOT NULL,"
    " emp_uscc TEXT NOT NULL,"
    " family_id TEXT NOT NULL,"
    " relation INTEGER NOT NULL CHECK(relation BETWEEN 0 AND 6),"
    " veteran_year INTEGER NOT NULL CHECK(veteran_year >= 0),"
    " groups TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX persons_family ON persons(family_id);"

    "CREATE TABLE person_status("
    " psn_no TEXT NOT NULL REFERENCES persons(psn_no),"
    " day INTEGER NOT NULL,"
    " status INTEGER NOT NULL CHECK(status IN (1, 2, 3)),"
    " PRIMARY KEY(psn_no, day)"
    ") STRICT, WITHOUT ROWID;"

    "CREATE TABLE enrollments("
    " policy_no TEXT PRIMARY KEY NOT NULL CHECK(length(policy_no) BETWEEN 1 AND 31),"
    " plan_id TEXT NOT NULL REFERENCES plans(plan_id),"
    " psn_no TEXT NOT NULL REFERENCES persons(psn_no),"
    " year INTEGER NOT NULL,"
    " status INTEGER NOT NULL CHECK(status IN (1, 2, 3)),"
    " channel INTEGER NOT NULL CHECK(channel BETWEEN 0 AND 6),"
    " payer TEXT NOT NULL,"
    " premium_group TEXT NOT NULL,"
    " premium INTEGER NOT NULL CHECK(premium >= 0),"
    " paid INTEGER NOT NULL,"
    " refunded INTEGER NOT NULL CHECK(refunded >= 0),"
    " enrolled_on INTEGER NOT NULL,"
    " cover_start INTEGER NOT NULL,"
    " preexisting INTEGER NOT NULL,"
    " loyalty_years INTEGER NOT NULL CHECK(loyalty_years >= 0),"
    " claim_free_years INTEGER NOT NULL CHECK(claim_free_years >= 0),"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE(plan_id, psn_no)"
    ") STRICT;"
    "CREATE INDEX enrollments_psn ON enrollments(psn_no, year);"

    /* next: the number the next policy_seq_next() call hands out */
    "CREATE TABLE policy_seq("
    " plan_id TEXT PRIMARY KEY NOT NULL REFERENCES plans(plan_id),"
    " next INTEGER NOT NULL CHECK(next >= 1)"
    ") STRICT;"

    "CREATE TABLE payments("
    " id INTEGER PRIMARY KEY,"
    " policy_no TEXT NOT NULL REFERENCES enrollments(policy_no),"
    " channel INTEGER NOT NULL CHECK(channel BETWEEN 0 AND 6),"
    " payer TEXT NOT NULL,"
    " amount INTEGER NOT NULL,"
    " at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX payments_policy ON payments(policy_no);"

    "CREATE TABLE sponsors("
    " id TEXT PRIMARY KEY NOT NULL CHECK(length(id) BETWEEN 1 AND 63),"
    " name TEXT NOT NULL,"
    " budget INTEGER NOT NULL,"
    " spent INTEGER NOT NULL DEFAULT 0,"
    " CONSTRAINT sponsor_budget CHECK(spent <= budget AND spent >= 0)"
    ") STRICT;"

    "CREATE TABLE settlements("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " setl_id TEXT NOT NULL CHECK(length(setl_id) BETWEEN 1 AND 39),"
    " kind INTEGER NOT NULL CHECK(kind IN (0, 1)),"
    " plan_id TEXT NOT NULL,"
    " psn_no TEXT NOT NULL,"
    " policy_no TEXT NOT NULL,"
    " setl_time INTEGER NOT NULL,"
    " eligible INTEGER NOT NULL,"
    " payout INTEGER NOT NULL,"
    " family_adjust INTEGER NOT NULL,"
    " reversed INTEGER NOT NULL DEFAULT 0 CHECK(reversed IN (0, 1)),"
    " contrib BLOB NOT NULL,"
    " request TEXT NOT NULL,"
    " response TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " prev_seq INTEGER NOT NULL DEFAULT 0,"
    " request_hash BLOB NOT NULL,"
    " UNIQUE(setl_id, kind)"
    ") STRICT;"

    /* A person's records are chained (settlements.prev_seq, from
     * states.last_seq) rather than indexed: a settlement then dirties the
     * state's page, which it changes anyway, and no page of an index
     * ordered by person (one random page per settlement in the log). */
    "CREATE TABLE states("
    " plan_id TEXT NOT NULL,"
    " psn_no TEXT NOT NULL,"
    " blob BLOB NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(plan_id, psn_no)"
    ") STRICT, WITHOUT ROWID;"

    "CREATE TABLE api_keys("
    " hash BLOB PRIMARY KEY NOT NULL CHECK(length(hash) = 32),"
    " name TEXT NOT NULL,"
    " role INTEGER NOT NULL CHECK(role BETWEEN 1 AND 4),"
    " sponsor TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0 CHECK(revoked IN (0, 1))"
    ") STRICT;";

/* migrations[i] brings the schema from version i to i + 1. */
static const char *const migrations[] = {migration_1};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION, "one migration per schema version");

/* ---- statements ---- */

#define PERSON_COLS                                                                                \
  "psn_no, certno_bidx, certno_enc, name_enc, gend, birth, insutype, status, status_date, "        \
  "admdvs, work_admdvs, emp_uscc, family_id, relation, veteran_year, groups"
#define ENR_COLS                                                                                   \
  "policy_no, plan_id, psn_no, year, status, channel, payer, premium_group, premium, paid, "       \
  "refunded, enrolled_on, cover_start, preexisting, loyalty_years, claim_free_years, created_at, " \
  "updated_at"
#define SETL_COLS                                                                                  \
  "seq, setl_id, kind, plan_id, psn_no, policy_no, setl_time, eligible, payout, family_adjust, "   \
  "reversed, contrib, created_at, request_hash"

#define SQ_STMTS(X)                                                                                \
  X(BEGIN_READ, "BEGIN")                                                                           \
  X(BEGIN_WRITE, "BEGIN IMMEDIATE")                                                                \
  X(COMMIT, "COMMIT")                                                                              \
  X(ROLLBACK, "ROLLBACK")                                                                          \
  X(SAVEPOINT, "SAVEPOINT job")                                                                    \
  X(RELEASE, "RELEASE job")                                                                        \
  X(ROLLBACK_TO, "ROLLBACK TO job")                                                                \
  X(VERSION, "SELECT coalesce(max(version), 0) FROM schema_version")                               \
  X(META_GET, "SELECT value FROM meta WHERE key = ?1")                                             \
  X(META_PUT, "INSERT INTO meta(key, value) VALUES(?1, ?2)"                                        \
              " ON CONFLICT(key) DO UPDATE SET value = excluded.value")                            \
  X(PLAN_PUT, "INSERT INTO plans(plan_id, json, updated_at) VALUES(?1, ?2, ?3)"                    \
              " ON CONFLICT(plan_id) DO UPDATE SET json = excluded.json,"                          \
              " updated_at = excluded.updated_at")                                                 \
  X(PLAN_GET, "SELECT json FROM plans WHERE plan_id = ?1")                                         \
  X(PLAN_IDS, "SELECT plan_id FROM plans ORDER BY plan_id")                                        \
  X(PERSON_PUT,                                                                                    \
    "INSERT INTO persons(" PERSON_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"    \
    " ?12, ?13, ?14, ?15, ?16) ON CONFLICT(psn_no) DO UPDATE SET"                                  \
    " certno_bidx = excluded.certno_bidx, certno_enc = excluded.certno_enc,"                       \
    " name_enc = excluded.name_enc, gend = excluded.gend, birth = excluded.birth,"                 \
    " insutype = excluded.insutype, status = excluded.status,"                                     \
    " status_date = excluded.status_date, admdvs = excluded.admdvs,"                               \
    " work_admdvs = excluded.work_admdvs, emp_uscc = excluded.emp_uscc,"                           \
    " family_id = excluded.family_id, relation = excluded.relation,"                               \
    " veteran_year = excluded.veteran_year, groups = excluded.groups")                             \
  X(PERSON_GET, "SELECT " PERSON_COLS " FROM persons WHERE psn_no = ?1")                           \
  X(PERSON_BY_BIDX, "SELECT " PERSON_COLS " FROM persons WHERE certno_bidx = ?1")                  \
  X(STATUS_PUT, "INSERT INTO person_status(psn_no, day, status) VALUES(?1, ?2, ?3)"                \
                " ON CONFLICT(psn_no, day) DO UPDATE SET status = excluded.status")                \
  X(STATUS_AT, "SELECT status FROM person_status WHERE psn_no = ?1 AND day <= ?2"                  \
               " ORDER BY day DESC LIMIT 1")                                                       \
  X(PERSON_KNOWN, "SELECT 1 FROM persons WHERE psn_no = ?1")                                       \
  X(FAMILY, "SELECT " PERSON_COLS " FROM persons WHERE family_id = ?1 ORDER BY psn_no LIMIT ?2")   \
  X(PERSON_COUNT, "SELECT count(*) FROM persons")                                                  \
  X(ENR_PUT,                                                                                       \
    "INSERT INTO enrollments(" ENR_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"   \
    " ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT(policy_no) DO UPDATE SET"                     \
    " plan_id = excluded.plan_id, psn_no = excluded.psn_no, year = excluded.year,"                 \
    " status = excluded.status, channel = excluded.channel, payer = excluded.payer,"               \
    " premium_group = excluded.premium_group, premium = excluded.premium,"                         \
    " paid = excluded.paid, refunded = excluded.refunded, enrolled_on = excluded.enrolled_on,"     \
    " cover_start = excluded.cover_start, preexisting = excluded.preexisting,"                     \
    " loyalty_years = excluded.loyalty_years, claim_free_years = excluded.claim_free_years,"       \
    " created_at = excluded.created_at, updated_at = excluded.updated_at")                         \
  X(ENR_GET, "SELECT " ENR_COLS " FROM enrollments WHERE plan_id = ?1 AND psn_no = ?2")            \
  X(ENR_BY_POLICY, "SELECT " ENR_COLS " FROM enrollments WHERE policy_no = ?1")                    \
  X(ENR_OF, "SELECT " ENR_COLS " FROM enrollments WHERE psn_no = ?1"                               \
            " ORDER BY year DESC, policy_no LIMIT ?2")                                             \
  X(POLICY_SEQ, "INSERT INTO policy_seq(plan_id, next) VALUES(?1, 2)"                              \
                " ON CONFLICT(plan_id) DO UPDATE SET next = next + 1 RETURNING next - 1")          \
  X(PAYMENT_ADD, "INSERT INTO payments(policy_no, channel, payer, amount, at)"                     \
                 " VALUES(?1, ?2, ?3, ?4, ?5)")                                                    \
  X(SPONSOR_PUT, "INSERT INTO sponsors(id, name, budget, spent) VALUES(?1, ?2, ?3, ?4)"            \
                 " ON CONFLICT(id) DO UPDATE SET name = excluded.name, budget = excluded.budget")  \
  X(SPONSOR_GET, "SELECT id, name, budget, spent FROM sponsors WHERE id = ?1")                     \
  X(SPONSOR_SPEND, "UPDATE sponsors SET spent = spent + ?2 WHERE id = ?1")                         \
  X(SETL_GET, "SELECT " SETL_COLS ", response FROM settlements WHERE setl_id = ?1 AND kind = ?2")  \
  X(SETL_PUT,                                                                                      \
    "INSERT INTO settlements(setl_id, kind, plan_id, psn_no, policy_no, setl_time,"                \
    " eligible, payout, family_adjust, reversed, contrib, request, response, created_at,"          \
    " request_hash, prev_seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14," \
    " ?15, coalesce((SELECT last_seq FROM states WHERE plan_id = ?3 AND psn_no = ?4), 0))")        \
  X(SETL_LINK, "INSERT INTO states(plan_id, psn_no, blob, last_seq) VALUES(?1, ?2, x'', ?3)"       \
               " ON CONFLICT(plan_id, psn_no) DO UPDATE SET last_seq = excluded.last_seq")         \
  X(SETL_PREV, "SELECT prev_seq FROM settlements WHERE seq = ?1")                                  \
  X(STATE_LAST, "SELECT last_seq FROM states WHERE plan_id = ?1 AND psn_no = ?2")                  \
  X(SETL_MARK, "UPDATE settlements SET reversed = 1 WHERE setl_id = ?1 AND kind = ?2")             \
  X(SETL_OF, "SELECT " SETL_COLS ", request FROM settlements WHERE seq = ?1")                      \
  X(SETL_COUNT, "SELECT count(*) FROM settlements")                                                \
  X(STATE_GET, "SELECT blob FROM states WHERE plan_id = ?1 AND psn_no = ?2 AND length(blob) > 0")  \
  X(STATE_PEOPLE,                                                                                  \
    "SELECT psn_no FROM states WHERE plan_id = ?1 AND psn_no > ?2 AND length(blob) > 0"            \
    " ORDER BY psn_no LIMIT ?3")                                                                   \
  X(STATE_PUT, "INSERT INTO states(plan_id, psn_no, blob) VALUES(?1, ?2, ?3)"                      \
               " ON CONFLICT(plan_id, psn_no) DO UPDATE SET blob = excluded.blob")                 \
  X(KEY_PUT, "INSERT INTO api_keys(hash, name, role, sponsor, revoked) VALUES(?1, ?2, ?3, ?4, ?5)" \
             " ON CONFLICT(hash) DO UPDATE SET name = excluded.name, role = excluded.role,"        \
             " sponsor = excluded.sponsor, revoked = excluded.revoked")                            \
  X(KEY_GET, "SELECT hash, name, role, sponsor, revoked FROM api_keys WHERE hash = ?1")

#define SQ_ENUM(name, sql) ST_##name,
#define SQ_TEXT(name, sql) sql,
enum sq_stmt { SQ_STMTS(SQ_ENUM) ST__COUNT };
static const char *const stmt_sql[] = {SQ_STMTS(SQ_TEXT)};
#undef SQ_ENUM
#undef SQ_TEXT

struct sq {
  struct store base; /* first: a struct store * is a struct sq * */
  sqlite3 *db;
  char *wal_path;                /* the database's write-ahead log, for sync() */
  sqlite3_stmt *stmt[ST__COUNT]; /* prepared on first use */
};

static struct sq *sq_of(struct store *s)
{
  return (struct sq *)s;
}

/*
 * Current time on the civil clock of core/date.h (China Standard Time,
 * UTC+8, no zone arithmetic elsewhere).
 */
static hmb_time sq_now(void)
{
  return (hmb_time)time(NULL) + 8 * 3600;
}

/* ---- errors ---- */

/*
 * Map a SQLite result code to an hmb status. Messages carry SQLite's own
 * text (schema names, never row values: SQLite does not put values in
 * constraint messages).
 */
static enum hmb_status sq_fail(struct sq *s, int rc, struct hmb_err *err)
{
  const char *msg = sqlite3_errmsg(s->db);
  const char *what;

  if (rc == SQLITE_TOOBIG)
    return hmb_err_set(err, HMB_INVALID, "store.too_long", NULL, "字段内容过长");
  switch (rc & 0xff) {
  case SQLITE_NOMEM: return hmb_err_set(err, HMB_NOMEM, "store.nomem", NULL, "内存不足");
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return hmb_err_set(err, HMB_IO, "store.busy", NULL, "数据库繁忙，请稍后重试：%s", msg);
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return hmb_err_set(err, HMB_IO, "store.corrupt", NULL, "数据库文件已损坏：%s", msg);
  default: break;
  }
  /* "UNIQUE constraint failed: persons.certno_bidx" names the columns */
  what = strstr(msg, "failed: ");
  what = what ? what + 8 : NULL;
  switch (rc) {
  case SQLITE_CONSTRAINT_UNIQUE:
  case SQLITE_CONSTRAINT_PRIMARYKEY:
    return hmb_err_set(err, HMB_CONFLICT, "store.conflict", what, "记录已存在（%s）", msg);
  case SQLITE_CONSTRAINT_CHECK:
    if (strstr(msg, "sponsor_budget"))
      return hmb_err_set(err, HMB_CONFLICT, "sponsor.budget", "budget",
                         "资助资金预算不足（已用金额不能超过预算，也不能为负）");
    break;
  case SQLITE_CONSTRAINT_FOREIGNKEY:
    return hmb_err_set(err, HMB_NOT_FOUND, "store.reference", NULL,
                       "引用的记录不存在（方案、人员或保单）：%s", msg);
  default: break;
  }
  return hmb_err_set(err, HMB_IO, "store.sqlite", what, "数据库错误：%s", msg);
}

static enum hmb_status sq_buf_fail(enum hmb_status result, struct hmb_err *err)
{
  if (result == HMB_TOO_LARGE)
    return hmb_err_set(err, result, "store.too_large", NULL, "数据超出缓冲区上限");
  return hmb_err_set(err, result, "store.nomem", NULL, "内存不足");
}

static enum hmb_status sq_corrupt(struct hmb_err *err)
{
  return hmb_err_set(err, HMB_IO, "store.corrupt", NULL,
                     "数据库内容不符合预期（字段超长或类型错误）");
}

/* ---- statements: prepare once, bind, step, reset ---- */

static enum hmb_status sq_stmt(struct sq *s, enum sq_stmt id, sqlite3_stmt **out,
                               struct hmb_err *err)
{
  int rc;
  if (!s->stmt[id]) {
    rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL);
    if (rc != SQLITE_OK) {
      s->stmt[id] = NULL;
      *out = NULL;
      return sq_fail(s, rc, err);
    }
  }
  *out = s->stmt[id];
  return HMB_OK;
}

/* Leave a statement ready for its next use; drops borrowed bindings. */
static void sq_done(sqlite3_stmt *st)
{
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/*
 * Sequential binder: parameters are bound ?1, ?2, ... in call order; the
 * first failure sticks in rc and later calls do nothing. Strings and blobs
 * are bound SQLITE_STATIC: they are borrowed for the call, and sq_done()
 * clears the bindings before the call returns.
 */
struct bd {
  sqlite3_stmt *st;
  int i;
  int rc;
};

static void bd_start(struct bd *b, sqlite3_stmt *st)
{
  b->st = st;
  b->i = 0;
  b->rc = SQLITE_OK;
}

/* Prepare statement id (cached) and start binding its parameters. */
static enum hmb_status sq_bind(struct sq *s, enum sq_stmt id, struct bd *b, struct hmb_err *err)
{
  sqlite3_stmt *st;
  enum hmb_status result = sq_stmt(s, id, &st, err);
  if (!result)
    bd_start(b, st);
  return result;
}

/* A NUL-terminated string held in an array of cap bytes. */
static void bd_text(struct bd *b, const char *s, size_t cap)
{
  size_t n;
  int i = ++b->i;
  if (b->rc)
    return;
  if (!s) {
    b->rc = sqlite3_bind_null(b->st, i);
    return;
  }
  n = strnlen(s, cap);
  if (n == cap || n > INT_MAX) {
    b->rc = SQLITE_TOOBIG;
    return;
  }
  b->rc = sqlite3_bind_text(b->st, i, s, (int)n, SQLITE_STATIC);
}

static void bd_str(struct bd *b, const char *s)
{
  bd_text(b, s, (size_t)INT_MAX + 1);
}

static void bd_textn(struct bd *b, const char *s, size_t n)
{
  int i = ++b->i;
  if (b->rc)
    return;
  b->rc = sqlite3_bind_text64(b->st, i, s, (sqlite3_uint64)n, SQLITE_STATIC, SQLITE_UTF8);
}

static void bd_blob(struct bd *b, const void *p, size_t n)
{
  int i = ++b->i;
  if (b->rc)
    return;
  /* a zero-length blob, not NULL, when p is NULL */
  if (!n)
    b->rc = sqlite3_bind_zeroblob(b->st, i, 0);
  else
    b->rc = sqlite3_bind_blob64(b->st, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

static void bd_i64(struct bd *b, int64_t v)
{
  int i = ++b->i;
  if (b->rc)
    return;
  b->rc = sqlite3_bind_int64(b->st, i, v);
}

/* Step once (unless binding failed). */
static int bd_step(struct bd *b)
{
  return b->rc ? b->rc : sqlite3_step(b->st);
}

/*
 * Sequential column reader. A value of the wrong type, out of its C type's
 * range or longer than its destination marks the row bad (the database was
 * changed behind our back): the caller reports HMB_IO "store.corrupt".
 */
struct rd {
  sqlite3_stmt *st;
  int i;
  bool bad;
};

static void rd_start(struct rd *r, sqlite3_stmt *st)
{
  r->st = st;
  r->i = 0;
  r->bad = false;
}

static void rd_text(struct rd *r, char *dst, size_t cap)
{
  int col = r->i++;
  const unsigned char *t;
  int n;
  dst[0] = '\0';
  if (sqlite3_column_type(r->st, col) != SQLITE_TEXT) {
    r->bad = true;
    return;
  }
  t = sqlite3_column_text(r->st, col);
  n = sqlite3_column_bytes(r->st, col);
  if (!t || n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n)) {
    r->bad = true;
    return;
  }
  memcpy(dst, t, (size_t)n);
  dst[n] = '\0';
}

/* A blob of at most cap bytes; *len gets its size (exactly cap when !len). */
static void rd_blob(struct rd *r, uint8_t *dst, size_t cap, uint16_t *len)
{
  int col = r->i++;
  const void *p;
  int n;
  if (len)
    *len = 0;
  if (sqlite3_column_type(r->st, col) != SQLITE_BLOB) {
    r->bad = true;
    return;
  }
  p = sqlite3_column_blob(r->st, col);
  n = sqlite3_column_bytes(r->st, col);
  if (n < 0 || (size_t)n > cap || (!len && (size_t)n != cap) || (n && !p) || n > UINT16_MAX) {
    r->bad = true;
    return;
  }
  if (n)
    memcpy(dst, p, (size_t)n);
  if (len)
    *len = (uint16_t)n;
}

static int64_t rd_int(struct rd *r, int64_t lo, int64_t hi)
{
  int col = r->i++;
  int64_t v;
  if (sqlite3_column_type(r->st, col) != SQLITE_INTEGER) {
    r->bad = true;
    return 0;
  }
  v = sqlite3_column_int64(r->st, col);
  if (v < lo || v > hi) {
    r->bad = true;
    return 0;
  }
  return v;
}

#define RD_I8(r)  ((int8_t)rd_int((r), INT8_MIN, INT8_MAX))
#define RD_I16(r) ((int16_t)rd_int((r), INT16_MIN, INT16_MAX))
#define RD_I32(r) ((int32_t)rd_int((r), INT32_MIN, INT32_MAX))
#define RD_I64(r) rd_int((r), INT64_MIN, INT64_MAX)

/* Append a TEXT (or BLOB) column's bytes to out. */
static enum hmb_status rd_append(struct rd *r, struct buf *out, struct hmb_err *err)
{
  int col = r->i++;
  int type = sqlite3_column_type(r->st, col);
  const void *p;
  int n;
  enum hmb_status result;
  if (type == SQLITE_TEXT)
    p = sqlite3_column_text(r->st, col);
  else if (type == SQLITE_BLOB)
    p = sqlite3_column_blob(r->st, col);
  else
    return sq_corrupt(err);
  n = sqlite3_column_bytes(r->st, col);
  if (n < 0 || (n && !p))
    return sq_corrupt(err);
  if (!out || !n)
    return HMB_OK;
  result = buf_add(out, p, (size_t)n);
  return result ? sq_buf_fail(result, err) : HMB_OK;
}

/*
 * Run a statement that returns no rows (or whose rows are not wanted) to
 * completion, then reset it.
 */
static enum hmb_status sq_run(struct sq *s, struct bd *b, struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  int rc;
  while ((rc = bd_step(b)) == SQLITE_ROW)
    ;
  if (rc != SQLITE_DONE)
    result = sq_fail(s, rc, err);
  sq_done(b->st);
  return result;
}

/* Run a constant statement without parameters. */
static enum hmb_status sq_run_id(struct sq *s, enum sq_stmt id, struct hmb_err *err)
{
  sqlite3_stmt *st;
  struct bd b;
  enum hmb_status result = sq_stmt(s, id, &st, err);
  if (result)
    return result;
  bd_start(&b, st);
  return sq_run(s, &b, err);
}

/* A single count(*)-like integer. */
static enum hmb_status sq_count(struct sq *s, enum sq_stmt id, int64_t *n, struct hmb_err *err)
{
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_stmt(s, id, &st, err);
  *n = 0;
  if (result)
    return result;
  bd_start(&b, st);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    rd_start(&r, st);
    *n = RD_I64(&r);
    if (r.bad)
      result = sq_corrupt(err);
  } else {
    result = rc == SQLITE_DONE ? sq_corrupt(err) : sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

/* ---- open, migrate, close ---- */

static void sq_close(struct store *base)
{
  struct sq *s = sq_of(base);
  size_t i;
  for (i = 0; i < ST__COUNT; i++)
    sqlite3_finalize(s->stmt[i]);
  sqlite3_close_v2(s->db);
  free(s->wal_path);
  free(s);
}

/* Run constant SQL (PRAGMAs, migrations) through sqlite3_exec. */
static enum hmb_status sq_exec(struct sq *s, const char *sql, struct hmb_err *err)
{
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? HMB_OK : sq_fail(s, rc, err);
}

/*
 * The recorded schema version, 0 for a new database. The version table
 * may be missing (a new file): that is version 0, not an error.
 */
static enum hmb_status sq_read_version(struct sq *s, int *version, struct hmb_err *err)
{
  sqlite3_stmt *st = NULL;
  int rc;
  int64_t v;
  enum hmb_status result = HMB_OK;
  *version = 0;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT count(*) FROM sqlite_schema"
                          " WHERE type = 'table' AND name = 'schema_version'",
                          -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    result = sq_fail(s, rc, err);
    sqlite3_finalize(st);
    return result;
  }
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (!v)
    return HMB_OK;
  result = sq_count(s, ST_VERSION, &v, err);
  if (result)
    return result;
  if (v < 0 || v > INT_MAX)
    return sq_corrupt(err);
  *version = (int)v;
  return HMB_OK;
}

static enum hmb_status sq_too_new(int version, struct hmb_err *err)
{
  return hmb_err_set(err, HMB_UNSUPPORTED, "store.schema_newer", "db",
                     "数据库结构版本为 %d，高于本程序支持的版本 %d：请使用更新版本的 hmb", version,
                     STORE_SCHEMA_VERSION);
}

/*
 * Bring the schema to STORE_SCHEMA_VERSION, one migration per BEGIN
 * IMMEDIATE transaction. The version is read again inside each write
 * transaction, so that of two handles opening a new file at once only the
 * first migrates and the second finds the work done.
 */
static enum hmb_status sq_migrate(struct sq *s, struct hmb_err *err)
{
  enum hmb_status result;
  int version;

  /* The common case, a current database, takes no write lock. */
  result = sq_read_version(s, &version, err);
  if (result)
    return result;
  if (version > STORE_SCHEMA_VERSION)
    return sq_too_new(version, err);
  while (version < STORE_SCHEMA_VERSION) {
    result = sq_run_id(s, ST_BEGIN_WRITE, err);
    if (result)
      return result;
    result = sq_exec(
        s, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL) STRICT", err);
    if (!result)
      result = sq_read_version(s, &version, err);
    if (!result && version > STORE_SCHEMA_VERSION)
      result = sq_too_new(version, err);
    if (!result && version < STORE_SCHEMA_VERSION) {
      sqlite3_stmt *st = NULL;
      int rc;
      result = sq_exec(s, migrations[version], err);
      if (!result) {
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO schema_version(version) VALUES(?1)", -1, &st,
                                NULL);
        if (rc == SQLITE_OK)
          rc = sqlite3_bind_int(st, 1, version + 1);
        if (rc == SQLITE_OK)
          rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
          result = sq_fail(s, rc, err);
        sqlite3_finalize(st);
      }
      if (!result)
        version++;
    }
    if (!result)
      result = sq_run_id(s, ST_COMMIT, err);
    if (result) {
      if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return result;
    }
  }
  return HMB_OK;
}

static enum hmb_status sq_setup(struct sq *s, const char *path, struct hmb_err *err)
{
  /* busy_timeout first: switching a new file to WAL may wait for another handle */
  static const char pragmas[] = "PRAGMA busy_timeout=10000;"
                                "PRAGMA foreign_keys=ON;"
                                "PRAGMA synchronous=FULL;"
                                "PRAGMA cache_size=-65536;"
                                "PRAGMA temp_store=MEMORY;"
                                "PRAGMA journal_size_limit=67108864;"
                                "PRAGMA mmap_size=268435456;";
  sqlite3_stmt *st = NULL;
  enum hmb_status result;
  const unsigned char *mode;
  int rc = sqlite3_open_v2(path, &s->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    if (!s->db)
      return hmb_err_set(err, HMB_NOMEM, "store.nomem", "db", "内存不足");
    return hmb_err_set(err, HMB_IO, "store.open", "db", "无法打开数据库：%s",
                       sqlite3_errmsg(s->db));
  }
  sqlite3_extended_result_codes(s->db, 1);
  result = sq_exec(s, pragmas, err);
  if (result)
    return result;
  rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
  /* Switching a new file to WAL while another handle does the same (or
   * runs its first WAL recovery) can be refused at once with SQLITE_BUSY,
   * without the busy handler: retry for up to the busy timeout. */
  for (int tries = 0; rc == SQLITE_OK; tries++) {
    rc = sqlite3_step(st);
    if ((rc & 0xff) != SQLITE_BUSY || tries == 2000)
      break;
    sqlite3_reset(st);
    rc = SQLITE_OK;
    sqlite3_sleep(5);
  }
  if (rc != SQLITE_ROW) {
    result = sq_fail(s, rc, err);
    sqlite3_finalize(st);
    return result;
  }
  mode = sqlite3_column_text(st, 0);
  /* an in-memory database (tests) cannot use WAL and needs no durability */
  if (!mode || (strcmp((const char *)mode, "wal") && strcmp((const char *)mode, "memory")))
    result = hmb_err_set(err, HMB_IO, "store.wal", "db", "数据库无法切换到 WAL 日志模式");
  sqlite3_finalize(st);
  if (result)
    return result;
  /* synchronous is per connection but reset by a journal mode change on some builds */
  result = sq_exec(s, "PRAGMA synchronous=FULL", err);
  if (result)
    return result;
  return sq_migrate(s, err);
}

/* ---- schema version and transactions ---- */

static enum hmb_status sq_schema_version(struct store *base, int *version, struct hmb_err *err)
{
  return sq_read_version(sq_of(base), version, err);
}

static enum hmb_status sq_begin(struct store *base, enum store_tx tx, struct hmb_err *err)
{
  return sq_run_id(sq_of(base), tx == STORE_TX_WRITE ? ST_BEGIN_WRITE : ST_BEGIN_READ, err);
}

static enum hmb_status sq_commit(struct store *base, struct hmb_err *err)
{
  return sq_run_id(sq_of(base), ST_COMMIT, err);
}

static void sq_rollback(struct store *base)
{
  struct sq *s = sq_of(base);
  /* outside a transaction there is nothing to undo */
  if (!sqlite3_get_autocommit(s->db))
    sq_run_id(s, ST_ROLLBACK, NULL);
}

static enum hmb_status sq_savepoint(struct store *base, struct hmb_err *err)
{
  return sq_run_id(sq_of(base), ST_SAVEPOINT, err);
}

static enum hmb_status sq_release(struct store *base, struct hmb_err *err)
{
  return sq_run_id(sq_of(base), ST_RELEASE, err);
}

static void sq_rollback_to(struct store *base)
{
  struct sq *s = sq_of(base);
  /* ROLLBACK TO keeps the savepoint open; RELEASE then removes it */
  if (sq_run_id(s, ST_ROLLBACK_TO, NULL) == HMB_OK)
    sq_run_id(s, ST_RELEASE, NULL);
}

/* ---- meta and plans ---- */

/* Look up one row by text keys and append its first column to out. */
static enum hmb_status sq_get_text(struct sq *s, enum sq_stmt id, const char *k1, const char *k2,
                                   struct buf *out, struct hmb_err *err, const char *code,
                                   const char *field, const char *msg)
{
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_stmt(s, id, &st, err);
  if (result)
    return result;
  bd_start(&b, st);
  bd_str(&b, k1);
  if (k2)
    bd_str(&b, k2);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    rd_start(&r, st);
    result = rd_append(&r, out, err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, code, field, "%s", msg);
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_meta_get(struct store *base, const char *key, struct buf *out,
                                   struct hmb_err *err)
{
  return sq_get_text(sq_of(base), ST_META_GET, key, NULL, out, err, "meta.not_found", "key",
                     "配置项不存在");
}

static enum hmb_status sq_meta_put(struct store *base, const char *key, const char *value,
                                   struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_META_PUT, &b, err);
  if (result)
    return result;
  bd_str(&b, key);
  bd_str(&b, value);
  return sq_run(s, &b, err);
}

static enum hmb_status sq_plan_put(struct store *base, const char *plan_id, const char *json,
                                   size_t len, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_PLAN_PUT, &b, err);
  if (result)
    return result;
  bd_text(&b, plan_id, PLAN_ID_MAX);
  bd_textn(&b, json, len);
  bd_i64(&b, sq_now());
  return sq_run(s, &b, err);
}

static enum hmb_status sq_plan_get(struct store *base, const char *plan_id, struct buf *json,
                                   struct hmb_err *err)
{
  return sq_get_text(sq_of(base), ST_PLAN_GET, plan_id, NULL, json, err, "plan.not_found",
                     "plan_id", "保险方案不存在");
}

static enum hmb_status sq_plan_ids(struct store *base, struct buf *out, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc = SQLITE_DONE;
  size_t n = 0;
  enum hmb_status result = sq_bind(s, ST_PLAN_IDS, &b, err);
  if (result)
    return result;
  st = b.st;
  while (!result && (rc = bd_step(&b)) == SQLITE_ROW) {
    if (n++ && (result = buf_addch(out, ';')))
      result = sq_buf_fail(result, err);
    if (!result) {
      rd_start(&r, st);
      result = rd_append(&r, out, err);
    }
  }
  if (!result && rc != SQLITE_DONE)
    result = sq_fail(s, rc, err);
  sq_done(st);
  return result;
}

/* ---- persons ---- */

static void bind_person(struct bd *b, const struct store_person *p)
{
  bd_text(b, p->psn_no, sizeof(p->psn_no));
  bd_blob(b, p->certno_bidx, sizeof(p->certno_bidx));
  if (p->certno_enc_len > sizeof(p->certno_enc) || p->name_enc_len > sizeof(p->name_enc)) {
    b->rc = b->rc ? b->rc : SQLITE_TOOBIG;
    return;
  }
  bd_blob(b, p->certno_enc, p->certno_enc_len);
  bd_blob(b, p->name_enc, p->name_enc_len);
  bd_i64(b, p->gend);
  bd_i64(b, p->birth);
  bd_i64(b, p->insutype);
  bd_i64(b, p->status);
  bd_i64(b, p->status_date);
  bd_text(b, p->admdvs, sizeof(p->admdvs));
  bd_text(b, p->work_admdvs, sizeof(p->work_admdvs));
  bd_text(b, p->emp_uscc, sizeof(p->emp_uscc));
  bd_text(b, p->family_id, sizeof(p->family_id));
  bd_i64(b, p->relation);
  bd_i64(b, p->veteran_year);
  bd_text(b, p->groups, sizeof(p->groups));
}

static bool read_person(sqlite3_stmt *st, struct store_person *p)
{
  struct rd r;
  memset(p, 0, sizeof(*p));
  rd_start(&r, st);
  rd_text(&r, p->psn_no, sizeof(p->psn_no));
  rd_blob(&r, p->certno_bidx, sizeof(p->certno_bidx), NULL);
  rd_blob(&r, p->certno_enc, sizeof(p->certno_enc), &p->certno_enc_len);
  rd_blob(&r, p->name_enc, sizeof(p->name_enc), &p->name_enc_len);
  p->gend = RD_I8(&r);
  p->birth = RD_I32(&r);
  p->insutype = RD_I32(&r);
  p->status = RD_I8(&r);
  p->status_date = RD_I32(&r);
  rd_text(&r, p->admdvs, sizeof(p->admdvs));
  rd_text(&r, p->work_admdvs, sizeof(p->work_admdvs));
  rd_text(&r, p->emp_uscc, sizeof(p->emp_uscc));
  rd_text(&r, p->family_id, sizeof(p->family_id));
  p->relation = RD_I8(&r);
  p->veteran_year = RD_I16(&r);
  rd_text(&r, p->groups, sizeof(p->groups));
  return !r.bad;
}

/* Every stored column equal (the input is known to bind, so strings fit). */
static bool person_same(const struct store_person *a, const struct store_person *b)
{
  return !strcmp(a->psn_no, b->psn_no) &&
         !memcmp(a->certno_bidx, b->certno_bidx, sizeof(a->certno_bidx)) &&
         a->certno_enc_len == b->certno_enc_len &&
         !memcmp(a->certno_enc, b->certno_enc, a->certno_enc_len) &&
         a->name_enc_len == b->name_enc_len && !memcmp(a->name_enc, b->name_enc, a->name_enc_len) &&
         a->gend == b->gend && a->birth == b->birth && a->insutype == b->insutype &&
         a->status == b->status && a->status_date == b->status_date &&
         !strcmp(a->admdvs, b->admdvs) && !strcmp(a->work_admdvs, b->work_admdvs) &&
         !strcmp(a->emp_uscc, b->emp_uscc) && !strcmp(a->family_id, b->family_id) &&
         a->relation == b->relation && a->veteran_year == b->veteran_year &&
         !strcmp(a->groups, b->groups);
}

/* One person by a key bound by the caller's key function. */
static enum hmb_status sq_person_one(struct sq *s, sqlite3_stmt *st, struct bd *b,
                                     struct store_person *out, const char *field,
                                     struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  int rc = bd_step(b);
  if (rc == SQLITE_ROW) {
    if (!read_person(st, out))
      result = sq_corrupt(err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "person.not_found", field, "人员不存在");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_person_get(struct store *base, const char *psn_no,
                                     struct store_person *out, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_PERSON_GET, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_str(&b, psn_no);
  return sq_person_one(s, st, &b, out, "psn_no", err);
}

static enum hmb_status sq_person_by_bidx(struct store *base, const uint8_t bidx[STORE_BIDX_LEN],
                                         struct store_person *out, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_PERSON_BY_BIDX, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_blob(&b, bidx, STORE_BIDX_LEN);
  return sq_person_one(s, st, &b, out, "certno", err);
}

static enum hmb_status sq_status_put(struct sq *s, const struct store_person *p,
                                     struct hmb_err *err)
{
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_STATUS_PUT, &b, err);
  if (result)
    return result;
  bd_text(&b, p->psn_no, sizeof(p->psn_no));
  bd_i64(&b, p->status_date);
  bd_i64(&b, p->status);
  return sq_run(s, &b, err);
}

static enum hmb_status sq_person_put(struct store *base, const struct store_person *p,
                                     bool *changed, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct store_person old;
  struct hmb_err ignore;
  struct bd b;
  bool found;
  enum hmb_status result;

  *changed = false;
  if (strnlen(p->psn_no, sizeof(p->psn_no)) == sizeof(p->psn_no))
    return hmb_err_set(err, HMB_INVALID, "store.too_long", "psn_no", "字段内容过长");
  result = sq_person_get(base, p->psn_no, &old, &ignore);
  if (result && result != HMB_NOT_FOUND) {
    if (err)
      *err = ignore;
    return result;
  }
  found = !result;
  if (found && person_same(&old, p))
    return HMB_OK;

  result = sq_bind(s, ST_PERSON_PUT, &b, err);
  if (result)
    return result;
  bind_person(&b, p);
  result = sq_run(s, &b, err);
  if (!result && (!found || old.status != p->status))
    result = sq_status_put(s, p, err);
  if (!result)
    *changed = true;
  return result;
}

static enum hmb_status sq_person_status_at(struct store *base, const char *psn_no, hmb_date day,
                                           int *status, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_stmt(s, ST_STATUS_AT, &st, err);
  *status = 0;
  if (result)
    return result;
  bd_start(&b, st);
  bd_str(&b, psn_no);
  bd_i64(&b, day);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    rd_start(&r, st);
    *status = (int)rd_int(&r, PSN_ACTIVE, PSN_ENDED);
    if (r.bad)
      result = sq_corrupt(err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "person.no_status", "psn_no",
                         "人员不存在，或在该日期尚无参保状态");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

/* Reads row i of a list statement into element i of out. */
typedef bool sq_read_fn(sqlite3_stmt *st, void *out, size_t i);

/*
 * Run list statement id with text keys k1 (and k2 when not NULL) and
 * the row limit max as the last parameter; read up to max rows with fn.
 * *n = rows read; 0 on failure.
 */
static enum hmb_status sq_list(struct sq *s, enum sq_stmt id, const char *k1, const char *k2,
                               size_t max, sq_read_fn *fn, void *out, size_t *n,
                               struct hmb_err *err)
{
  sqlite3_stmt *st;
  struct bd b;
  int rc;
  enum hmb_status result;

  *n = 0;
  if (!max)
    return HMB_OK;
  result = sq_stmt(s, id, &st, err);
  if (result)
    return result;
  bd_start(&b, st);
  bd_str(&b, k1);
  if (k2)
    bd_str(&b, k2);
  bd_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
  while ((rc = bd_step(&b)) == SQLITE_ROW && *n < max) {
    if (!fn(st, out, *n)) {
      result = sq_corrupt(err);
      break;
    }
    (*n)++;
  }
  if (!result && rc != SQLITE_DONE && rc != SQLITE_ROW)
    result = sq_fail(s, rc, err);
  sq_done(st);
  if (result)
    *n = 0;
  return result;
}

static bool read_person_at(sqlite3_stmt *st, void *out, size_t i)
{
  return read_person(st, (struct store_person *)out + i);
}

static enum hmb_status sq_family(struct store *base, const char *family_id,
                                 struct store_person *out, size_t max, size_t *n,
                                 struct hmb_err *err)
{
  *n = 0;
  /* "" means "no family": those people are not one family */
  if (!family_id || !*family_id)
    return HMB_OK;
  return sq_list(sq_of(base), ST_FAMILY, family_id, NULL, max, read_person_at, out, n, err);
}

static enum hmb_status sq_person_count(struct store *base, int64_t *n, struct hmb_err *err)
{
  return sq_count(sq_of(base), ST_PERSON_COUNT, n, err);
}

/* ---- enrollments and payments ---- */

static void bind_enrollment(struct bd *b, const struct store_enrollment *e)
{
  bd_text(b, e->policy_no, sizeof(e->policy_no));
  bd_text(b, e->plan_id, sizeof(e->plan_id));
  bd_text(b, e->psn_no, sizeof(e->psn_no));
  bd_i64(b, e->year);
  bd_i64(b, e->status);
  bd_i64(b, e->channel);
  bd_text(b, e->payer, sizeof(e->payer));
  bd_text(b, e->group, sizeof(e->group));
  bd_i64(b, e->premium);
  bd_i64(b, e->paid);
  bd_i64(b, e->refunded);
  bd_i64(b, e->enrolled_on);
  bd_i64(b, e->cover_start);
  bd_i64(b, e->preexisting);
  bd_i64(b, e->loyalty_years);
  bd_i64(b, e->claim_free_years);
  bd_i64(b, e->created_at);
  bd_i64(b, e->updated_at);
}

static bool read_enrollment(sqlite3_stmt *st, struct store_enrollment *e)
{
  struct rd r;
  memset(e, 0, sizeof(*e));
  rd_start(&r, st);
  rd_text(&r, e->policy_no, sizeof(e->policy_no));
  rd_text(&r, e->plan_id, sizeof(e->plan_id));
  rd_text(&r, e->psn_no, sizeof(e->psn_no));
  e->year = (int)rd_int(&r, INT_MIN, INT_MAX);
  e->status = RD_I8(&r);
  e->channel = RD_I8(&r);
  rd_text(&r, e->payer, sizeof(e->payer));
  rd_text(&r, e->group, sizeof(e->group));
  e->premium = RD_I64(&r);
  e->paid = RD_I64(&r);
  e->refunded = RD_I64(&r);
  e->enrolled_on = RD_I32(&r);
  e->cover_start = RD_I32(&r);
  e->preexisting = RD_I8(&r);
  e->loyalty_years = RD_I16(&r);
  e->claim_free_years = RD_I16(&r);
  e->created_at = RD_I64(&r);
  e->updated_at = RD_I64(&r);
  return !r.bad;
}

static enum hmb_status sq_enrollment_put(struct store *base, const struct store_enrollment *e,
                                         struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_ENR_PUT, &b, err);
  if (result)
    return result;
  bind_enrollment(&b, e);
  return sq_run(s, &b, err);
}

static enum hmb_status sq_enrollment_one(struct sq *s, sqlite3_stmt *st, struct bd *b,
                                         struct store_enrollment *out, const char *field,
                                         struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  int rc = bd_step(b);
  if (rc == SQLITE_ROW) {
    if (!read_enrollment(st, out))
      result = sq_corrupt(err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "enrollment.not_found", field, "参保记录不存在");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_enrollment_get(struct store *base, const char *plan_id,
                                         const char *psn_no, struct store_enrollment *out,
                                         struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_ENR_GET, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  return sq_enrollment_one(s, st, &b, out, "psn_no", err);
}

static enum hmb_status sq_enrollment_by_policy(struct store *base, const char *policy_no,
                                               struct store_enrollment *out, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_ENR_BY_POLICY, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_str(&b, policy_no);
  return sq_enrollment_one(s, st, &b, out, "policy_no", err);
}

static bool read_enrollment_at(sqlite3_stmt *st, void *out, size_t i)
{
  return read_enrollment(st, (struct store_enrollment *)out + i);
}

static enum hmb_status sq_enrollments_of(struct store *base, const char *psn_no,
                                         struct store_enrollment *out, size_t max, size_t *n,
                                         struct hmb_err *err)
{
  return sq_list(sq_of(base), ST_ENR_OF, psn_no, NULL, max, read_enrollment_at, out, n, err);
}

static enum hmb_status sq_policy_seq_next(struct store *base, const char *plan_id, int64_t *out,
                                          struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_stmt(s, ST_POLICY_SEQ, &st, err);
  *out = 0;
  if (result)
    return result;
  bd_start(&b, st);
  bd_text(&b, plan_id, PLAN_ID_MAX);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    rd_start(&r, st);
    *out = rd_int(&r, 1, INT64_MAX);
    if (r.bad)
      result = sq_corrupt(err);
    else
      rc = sqlite3_step(st);
  }
  if (!result && rc != SQLITE_DONE)
    result = rc == SQLITE_ROW ? sq_corrupt(err) : sq_fail(s, rc, err);
  sq_done(st);
  if (result)
    *out = 0;
  return result;
}

static enum hmb_status sq_payment_add(struct store *base, struct store_payment *p,
                                      struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_PAYMENT_ADD, &b, err);
  if (result)
    return result;
  bd_text(&b, p->policy_no, sizeof(p->policy_no));
  bd_i64(&b, p->channel);
  bd_text(&b, p->payer, sizeof(p->payer));
  bd_i64(&b, p->amount);
  bd_i64(&b, p->at);
  result = sq_run(s, &b, err);
  if (!result)
    p->id = sqlite3_last_insert_rowid(s->db);
  return result;
}

/* ---- sponsors ---- */

/*
 * On update only name and budget change: spent is the sponsor's ledger and
 * moves only through sponsor_spend(). A budget below what is already spent
 * is refused like an overspend.
 */
static enum hmb_status sq_sponsor_put(struct store *base, const struct store_sponsor *sp,
                                      struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_SPONSOR_PUT, &b, err);
  if (result)
    return result;
  bd_text(&b, sp->id, sizeof(sp->id));
  bd_text(&b, sp->name, sizeof(sp->name));
  bd_i64(&b, sp->budget);
  bd_i64(&b, sp->spent);
  return sq_run(s, &b, err);
}

static enum hmb_status sq_sponsor_get(struct store *base, const char *id, struct store_sponsor *out,
                                      struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_bind(s, ST_SPONSOR_GET, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_str(&b, id);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof(*out));
    rd_start(&r, st);
    rd_text(&r, out->id, sizeof(out->id));
    rd_text(&r, out->name, sizeof(out->name));
    out->budget = RD_I64(&r);
    out->spent = RD_I64(&r);
    if (r.bad)
      result = sq_corrupt(err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "sponsor.not_found", "sponsor", "资助方不存在");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_sponsor_spend(struct store *base, const char *id, hmb_fen amount,
                                        struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result;

  /* keeps spent + amount far from int64 overflow (SQLite would turn it into a REAL) */
  if (amount > HMB_FEN_LIMIT || amount < -HMB_FEN_LIMIT)
    return hmb_err_set(err, HMB_OVERFLOW, "sponsor.amount", "amount", "金额超出允许范围");
  result = sq_bind(s, ST_SPONSOR_SPEND, &b, err);
  if (result)
    return result;
  bd_str(&b, id);
  bd_i64(&b, amount);
  result = sq_run(s, &b, err);
  if (!result && sqlite3_changes(s->db) == 0)
    result = hmb_err_set(err, HMB_NOT_FOUND, "sponsor.not_found", "sponsor", "资助方不存在");
  return result;
}

/* ---- settlements ---- */

static bool read_setl(struct rd *r, struct store_setl *o)
{
  memset(o, 0, sizeof(*o));
  o->seq = rd_int(r, 1, INT64_MAX);
  rd_text(r, o->setl_id, sizeof(o->setl_id));
  o->kind = (int8_t)rd_int(r, SETL_SETTLE, SETL_REVERSAL);
  rd_text(r, o->plan_id, sizeof(o->plan_id));
  rd_text(r, o->psn_no, sizeof(o->psn_no));
  rd_text(r, o->policy_no, sizeof(o->policy_no));
  o->setl_time = RD_I64(r);
  o->eligible = RD_I64(r);
  o->payout = RD_I64(r);
  o->family_adjust = RD_I64(r);
  o->reversed = (int8_t)rd_int(r, 0, 1);
  rd_blob(r, o->contrib, sizeof(o->contrib), &o->contrib_len);
  o->created_at = RD_I64(r);
  rd_blob(r, o->request_hash, sizeof(o->request_hash), NULL);
  return !r->bad;
}

static enum hmb_status sq_setl_get(struct store *base, const char *setl_id, int kind,
                                   struct store_setl *out, struct buf *response,
                                   struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_bind(s, ST_SETL_GET, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_str(&b, setl_id);
  bd_i64(&b, kind);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    rd_start(&r, st);
    if (!read_setl(&r, out))
      result = sq_corrupt(err);
    else
      result = rd_append(&r, response, err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "setl.not_found", "setl_id", "结算记录不存在");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_setl_put(struct store *base, struct store_setl *r, const char *request,
                                   const char *response, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result;

  if (r->contrib_len > sizeof(r->contrib))
    return hmb_err_set(err, HMB_INVALID, "store.too_long", "contrib", "字段内容过长");
  result = sq_bind(s, ST_SETL_PUT, &b, err);
  if (result)
    return result;
  bd_text(&b, r->setl_id, sizeof(r->setl_id));
  bd_i64(&b, r->kind);
  bd_text(&b, r->plan_id, sizeof(r->plan_id));
  bd_text(&b, r->psn_no, sizeof(r->psn_no));
  bd_text(&b, r->policy_no, sizeof(r->policy_no));
  bd_i64(&b, r->setl_time);
  bd_i64(&b, r->eligible);
  bd_i64(&b, r->payout);
  bd_i64(&b, r->family_adjust);
  bd_i64(&b, r->reversed);
  bd_blob(&b, r->contrib, r->contrib_len);
  bd_str(&b, request ? request : "");
  bd_str(&b, response ? response : "");
  bd_i64(&b, r->created_at);
  bd_blob(&b, r->request_hash, sizeof(r->request_hash));
  result = sq_run(s, &b, err);
  if (result)
    return result;
  r->seq = sqlite3_last_insert_rowid(s->db);
  result = sq_bind(s, ST_SETL_LINK, &b, err);
  if (result)
    return result;
  bd_text(&b, r->plan_id, sizeof(r->plan_id));
  bd_text(&b, r->psn_no, sizeof(r->psn_no));
  bd_i64(&b, r->seq);
  return sq_run(s, &b, err);
}

/* One integer from a one-row statement with one or two text keys or an
 * integer key; *found false when there is no row. */
static enum hmb_status sq_int_of(struct sq *s, enum sq_stmt id, const char *k1, const char *k2,
                                 int64_t ik, int64_t *out, bool *found, struct hmb_err *err)
{
  sqlite3_stmt *st;
  struct bd b;
  int rc;
  enum hmb_status result = sq_stmt(s, id, &st, err);
  *found = false;
  if (result)
    return result;
  bd_start(&b, st);
  if (k1) {
    bd_str(&b, k1);
    bd_str(&b, k2);
  } else {
    bd_i64(&b, ik);
  }
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    *found = true;
  } else if (rc != SQLITE_DONE) {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

static enum hmb_status sq_setl_mark_reversed(struct store *base, const char *setl_id,
                                             struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_SETL_MARK, &b, err);
  if (result)
    return result;
  bd_str(&b, setl_id);
  bd_i64(&b, SETL_SETTLE);
  result = sq_run(s, &b, err);
  if (!result && sqlite3_changes(s->db) == 0)
    result = hmb_err_set(err, HMB_NOT_FOUND, "setl.not_found", "setl_id", "结算记录不存在");
  return result;
}

static enum hmb_status sq_setl_of_person(struct store *base, const char *plan_id,
                                         const char *psn_no, int64_t after, struct store_setl *out,
                                         size_t max, size_t *n, struct buf *requests,
                                         struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  size_t len0 = requests ? requests->len : 0, nseq = 0, aseq = 0, first;
  int64_t *seqs = NULL, seq = 0;
  bool found;
  enum hmb_status result;

  *n = 0;
  if (!max)
    return HMB_OK;
  /* walk the person's chain back to `after`, then read forwards */
  result = sq_int_of(s, ST_STATE_LAST, plan_id, psn_no, 0, &seq, &found, err);
  while (!result && found && seq > after) {
    if (nseq == aseq) {
      size_t na = aseq ? aseq * 2 : 64;
      int64_t *ns = hmb_reallocarray(seqs, na, sizeof(*ns));
      if (!ns) {
        result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
        break;
      }
      seqs = ns;
      aseq = na;
    }
    seqs[nseq++] = seq;
    result = sq_int_of(s, ST_SETL_PREV, NULL, NULL, seq, &seq, &found, err);
    if (!result && !found)
      result = sq_corrupt(err);
  }
  first = nseq;
  while (!result && first > 0 && *n < max) {
    sqlite3_stmt *st;
    struct bd b;
    struct rd r;
    int rc;
    result = sq_stmt(s, ST_SETL_OF, &st, err);
    if (result)
      break;
    bd_start(&b, st);
    bd_i64(&b, seqs[--first]);
    rc = bd_step(&b);
    if (rc == SQLITE_ROW) {
      rd_start(&r, st);
      if (!read_setl(&r, &out[*n])) {
        result = sq_corrupt(err);
      } else if (requests) {
        /* '\n' between requests, also across pages appended to one buffer */
        if (requests->len && (result = buf_addch(requests, '\n')))
          result = sq_buf_fail(result, err);
        if (!result)
          result = rd_append(&r, requests, err);
      }
      if (!result)
        (*n)++;
    } else {
      result = rc == SQLITE_DONE ? sq_corrupt(err) : sq_fail(s, rc, err);
    }
    sq_done(st);
  }
  free(seqs);
  if (result) {
    *n = 0;
    /* a failed call leaves the buffer as it was */
    if (requests && requests->len > len0) {
      requests->len = len0;
      requests->ptr[len0] = '\0';
    }
  }
  return result;
}

static enum hmb_status sq_setl_count(struct store *base, int64_t *n, struct hmb_err *err)
{
  return sq_count(sq_of(base), ST_SETL_COUNT, n, err);
}

/* ---- year states ---- */

static enum hmb_status sq_state_get(struct store *base, const char *plan_id, const char *psn_no,
                                    struct buf *blob, struct hmb_err *err)
{
  return sq_get_text(sq_of(base), ST_STATE_GET, plan_id, psn_no, blob, err, "state.not_found",
                     "psn_no", "该人员在此方案下尚无年度状态");
}

static enum hmb_status sq_state_put(struct store *base, const char *plan_id, const char *psn_no,
                                    const void *blob, size_t len, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_STATE_PUT, &b, err);
  if (result)
    return result;
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  bd_blob(&b, blob, len);
  return sq_run(s, &b, err);
}

static bool read_psn_at(sqlite3_stmt *st, void *out, size_t i)
{
  struct rd r;
  rd_start(&r, st);
  rd_text(&r, ((char(*)[SETL_ID_MAX])out)[i], SETL_ID_MAX);
  return !r.bad;
}

static enum hmb_status sq_state_people(struct store *base, const char *plan_id, const char *after,
                                       char (*psn)[SETL_ID_MAX], size_t max, size_t *n,
                                       struct hmb_err *err)
{
  return sq_list(sq_of(base), ST_STATE_PEOPLE, plan_id, after ? after : "", max, read_psn_at, psn,
                 n, err);
}

/* ---- write-ahead log ---- */

static enum hmb_status sq_checkpoint(struct store *base, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
    return sq_fail(s, rc, err);
  return HMB_OK;
}

static enum hmb_status sq_autocheckpoint(struct store *base, bool on, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  int rc = sqlite3_wal_autocheckpoint(s->db, on ? 1000 : 0);
  return rc == SQLITE_OK ? HMB_OK : sq_fail(s, rc, err);
}

static enum hmb_status sq_person_get_many(struct store *base, const char (*psn)[SETL_ID_MAX],
                                          size_t n, struct store_person *out, bool *found,
                                          struct hmb_err *err)
{
  for (size_t i = 0; i < n; i++) {
    struct hmb_err e;
    enum hmb_status result = base->ops->person_get(base, psn[i], &out[i], &e);
    found[i] = result == HMB_OK;
    if (result && result != HMB_NOT_FOUND) {
      if (err)
        *err = e;
      return result;
    }
  }
  return HMB_OK;
}

static enum hmb_status sq_person_put_many(struct store *base, const struct store_person *p,
                                          size_t n, int8_t *outcome, struct hmb_err *err)
{
  for (size_t i = 0; i < n; i++) {
    struct hmb_err e;
    bool changed = false;
    enum hmb_status result = base->ops->person_put(base, &p[i], &changed, &e);
    if (result == HMB_CONFLICT) {
      outcome[i] = -1;
      continue;
    }
    if (result) {
      if (err)
        *err = e;
      return result;
    }
    outcome[i] = changed ? 1 : 0;
  }
  return HMB_OK;
}

static enum hmb_status sq_lock_keys(struct store *base, int64_t *keys, size_t n,
                                    struct hmb_err *err)
{
  (void)base;
  (void)keys;
  (void)n;
  (void)err;
  return HMB_OK; /* BEGIN IMMEDIATE holds the only write lock there is */
}

/* Every call runs at once: there is no round trip to save. */
static enum hmb_status sq_pipeline(struct store *base, bool on, struct hmb_err *err)
{
  (void)base;
  (void)on;
  (void)err;
  return HMB_OK;
}

static enum hmb_status sq_deferred_sync(struct store *base, bool on, struct hmb_err *err)
{
  /* NORMAL in WAL mode: a commit writes its log frames but does not wait
   * for them to reach the disk; sq_sync() does that for all of them */
  return sq_exec(sq_of(base), on ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", err);
}

/*
 * fdatasync() of the log through a descriptor of our own: it flushes the
 * file's pages whoever wrote them, so every frame written before the call
 * (every commit already returned) is on disk when it returns. Frames of a
 * commit still being written are not claimed durable by anyone yet.
 */
static enum hmb_status sq_sync(struct store *base, struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  int fd = open(s->wal_path, O_RDONLY | O_CLOEXEC), rc;
  if (fd < 0 && errno == ENOENT)
    return HMB_OK; /* no log: everything is in the (synced) database */
  if (fd < 0)
    return hmb_err_set(err, HMB_IO, "store.sync", "db", "无法打开数据库日志文件以同步");
  rc = fdatasync(fd);
  close(fd);
  if (rc)
    return hmb_err_set(err, HMB_IO, "store.sync", "db", "数据库日志写入磁盘失败");
  return HMB_OK;
}

/* ---- API keys ---- */

static enum hmb_status sq_key_put(struct store *base, const struct store_key *k,
                                  struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  struct bd b;
  enum hmb_status result = sq_bind(s, ST_KEY_PUT, &b, err);
  if (result)
    return result;
  bd_blob(&b, k->hash, sizeof(k->hash));
  bd_text(&b, k->name, sizeof(k->name));
  bd_i64(&b, k->role);
  bd_text(&b, k->sponsor, sizeof(k->sponsor));
  bd_i64(&b, k->revoked);
  return sq_run(s, &b, err);
}

static enum hmb_status sq_key_get(struct store *base, const uint8_t hash[32], struct store_key *out,
                                  struct hmb_err *err)
{
  struct sq *s = sq_of(base);
  sqlite3_stmt *st;
  struct bd b;
  struct rd r;
  int rc;
  enum hmb_status result = sq_bind(s, ST_KEY_GET, &b, err);
  if (result)
    return result;
  st = b.st;
  bd_blob(&b, hash, 32);
  rc = bd_step(&b);
  if (rc == SQLITE_ROW) {
    memset(out, 0, sizeof(*out));
    rd_start(&r, st);
    rd_blob(&r, out->hash, sizeof(out->hash), NULL);
    rd_text(&r, out->name, sizeof(out->name));
    out->role = RD_I8(&r);
    rd_text(&r, out->sponsor, sizeof(out->sponsor));
    out->revoked = RD_I8(&r);
    if (r.bad)
      result = sq_corrupt(err);
  } else if (rc == SQLITE_DONE) {
    result = hmb_err_set(err, HMB_NOT_FOUND, "key.not_found", "key", "API 密钥不存在");
  } else {
    result = sq_fail(s, rc, err);
  }
  sq_done(st);
  return result;
}

/* ---- the ops table and open ---- */

static const struct store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
    .plan_put = sq_plan_put,
    .plan_get = sq_plan_get,
    .plan_ids = sq_plan_ids,
    .person_put = sq_person_put,
    .person_get = sq_person_get,
    .person_by_bidx = sq_person_by_bidx,
    .person_status_at = sq_person_status_at,
    .family = sq_family,
    .person_count = sq_person_count,
    .enrollment_put = sq_enrollment_put,
    .enrollment_get = sq_enrollment_get,
    .enrollment_by_policy = sq_enrollment_by_policy,
    .enrollments_of = sq_enrollments_of,
    .policy_seq_next = sq_policy_seq_next,
    .payment_add = sq_payment_add,
    .sponsor_put = sq_sponsor_put,
    .sponsor_get = sq_sponsor_get,
    .sponsor_spend = sq_sponsor_spend,
    .setl_get = sq_setl_get,
    .setl_put = sq_setl_put,
    .setl_mark_reversed = sq_setl_mark_reversed,
    .setl_of_person = sq_setl_of_person,
    .setl_count = sq_setl_count,
    .state_get = sq_state_get,
    .state_put = sq_state_put,
    .state_people = sq_state_people,
    .checkpoint = sq_checkpoint,
    .autocheckpoint = sq_autocheckpoint,
    .deferred_sync = sq_deferred_sync,
    .setl_reads = store_setl_reads_each,
    .pipeline = sq_pipeline,
    .lock_keys = sq_lock_keys,
    .person_get_many = sq_person_get_many,
    .person_put_many = sq_person_put_many,
    .sync = sq_sync,
    .key_put = sq_key_put,
    .key_get = sq_key_get,
};

/* Once per process, before SQLite initialises: no global allocation
 * statistics (a mutex taken on every allocation of every connection). */
static pthread_once_t sq_config_once = PTHREAD_ONCE_INIT;
static void sq_config(void)
{
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum hmb_status store_sqlite_open(struct store **out, const char *path, struct hmb_err *err)
{
  struct sq *s;
  enum hmb_status result;

  pthread_once(&sq_config_once, sq_config);
  *out = NULL;
  if (!path || !*path)
    return hmb_err_set(err, HMB_INVALID, "store.url", "db", "未指定数据库文件");
  s = hmb_calloc(1, sizeof(*s));
  if (!s)
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "db", "内存不足");
  s->base.ops = &sq_ops;
  s->wal_path = hmb_malloc(strlen(path) + 5);
  if (!s->wal_path) {
    free(s);
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "db", "内存不足");
  }
  snprintf(s->wal_path, strlen(path) + 5, "%s-wal", path);
  result = sq_setup(s, path, err);
  if (result) {
    sq_close(&s->base);
    return result;
  }
  *out = &s->base;
  return HMB_OK;
}

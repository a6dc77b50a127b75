#include "compat.h"
#include "store_pg.h"

#include <libpq-fe.h>
#include <time.h>

/*
 * The server store: one libpq connection per handle. Every statement is a
 * constant string prepared once per connection under a stable name and run
 * with PQexecPrepared (in pipeline mode PQsendQueryPrepared, the results
 * read in order by pg_drain_n()); row values travel only as parameters (numbers and
 * text in text format, blobs in binary format) and never into error
 * messages (only the server's primary message is kept: its DETAIL lines
 * may quote row values). Results come back in binary format and are
 * checked for type, size and range like store_sqlite.c checks its columns.
 */

/* ---- schema ---- */

#define CTEXT "TEXT COLLATE \"C\"" /* bytewise order and comparison, as SQLite */

/*
 * Migration 1: the schema of store_sqlite.c in PostgreSQL types. Money,
 * days and seconds are BIGINT, small codes SMALLINT; text is compared and
 * ordered bytewise (collation "C") so that lists and paging follow the same
 * order as with SQLite. The sponsor budget check keeps its name so that its
 * failure can be told apart (pg_fail()).
 */
static const char pg_migration_1[] =
    "CREATE TABLE meta("
    " key " CTEXT " PRIMARY KEY,"
    " value " CTEXT " NOT NULL"
    ");"

    "CREATE TABLE plans("
    " plan_id " CTEXT " PRIMARY KEY CHECK(length(plan_id) BETWEEN 1 AND 39),"
    " json " CTEXT " NOT NULL,"
    " updated_at BIGINT NOT NULL"
    ");"

    "CREATE TABLE persons("
    " psn_no " CTEXT " PRIMARY KEY CHECK(length(psn_no) BETWEEN 1 AND 39),"
    " certno_bidx BYTEA NOT NULL UNIQUE CHECK(length(certno_bidx) = 32),"
    " certno_enc BYTEA NOT NULL CHECK(length(certno_enc) <= 192),"
    " name_enc BYTEA NOT NULL CHECK(length(name_enc) <= 192),"
    " gend SMALLINT NOT NULL CHECK(gend IN (0, 1, 2, 9)),"
    " birth BIGINT NOT NULL,"
    " insutype INTEGER NOT NULL,"
    " status SMALLINT NOT NULL CHECK(status IN (1, 2, 3)),"
    " status_date BIGINT NOT NULL,"
    " admdvs " CTEXT " NOT NULL,"
    " work_admdvs " CTEXT " NOT NULL,"
    " emp_uscc " CTEXT " NOT NULL,"
    " family_id " CTEXT " NOT NULL,"
    " relation SMALLINT NOT NULL CHECK(relation BETWEEN 0 AND 6),"
    " veteran_year SMALLINT NOT NULL CHECK(veteran_year >= 0),"
    " groups " CTEXT " NOT NULL"
    ");"
    "CREATE INDEX persons_family ON persons(family_id);"

    "CREATE TABLE person_status("
    " psn_no " CTEXT " NOT NULL REFERENCES persons(psn_no),"
    " day BIGINT NOT NULL,"
    " status SMALLINT NOT NULL CHECK(status IN (1, 2, 3)),"
    " PRIMARY KEY(psn_no, day)"
    ");"

    "CREATE TABLE enrollments("
    " policy_no " CTEXT " PRIMARY KEY CHECK(length(policy_no) BETWEEN 1 AND 31),"
    " plan_id " CTEXT " NOT NULL REFERENCES plans(plan_id),"
    " psn_no " CTEXT " NOT NULL REFERENCES persons(psn_no),"
    " year INTEGER NOT NULL,"
    " status SMALLINT NOT NULL CHECK(status IN (1, 2, 3)),"
    " channel SMALLINT NOT NULL CHECK(channel BETWEEN 0 AND 6),"
    " payer " CTEXT " NOT NULL,"
    " premium_group " CTEXT " NOT NULL,"
    " premium BIGINT NOT NULL CHECK(premium >= 0),"
    " paid BIGINT NOT NULL,"
    " refunded BIGINT NOT NULL CHECK(refunded >= 0),"
    " enrolled_on BIGINT NOT NULL,"
    " cover_start BIGINT NOT NULL,"
    " preexisting SMALLINT NOT NULL,"
    " loyalty_years SMALLINT NOT NULL CHECK(loyalty_years >= 0),"
    " claim_free_years SMALLINT NOT NULL CHECK(claim_free_years >= 0),"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " UNIQUE(plan_id, psn_no)"
    ");"
    "CREATE INDEX enrollments_psn ON enrollments(psn_no, year);"

    /* next: the number the next policy_seq_next() call hands out */
    "CREATE TABLE policy_seq("
    " plan_id " CTEXT " PRIMARY KEY REFERENCES plans(plan_id),"
    " next BIGINT NOT NULL CHECK(next >= 1)"
    ");"

    "CREATE TABLE payments("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " policy_no " CTEXT " NOT NULL REFERENCES enrollments(policy_no),"
    " channel SMALLINT NOT NULL CHECK(channel BETWEEN 0 AND 6),"
    " payer " CTEXT " NOT NULL,"
    " amount BIGINT NOT NULL,"
    " at BIGINT NOT NULL"
    ");"
    "CREATE INDEX payments_policy ON payments(policy_no);"

    "CREATE TABLE sponsors("
    " id " CTEXT " PRIMARY KEY CHECK(length(id) BETWEEN 1 AND 63),"
    " name " CTEXT " NOT NULL,"
    " budget BIGINT NOT NULL,"
    " spent BIGINT NOT NULL DEFAULT 0,"
    " CONSTRAINT sponsor_budget CHECK(spent <= budget AND spent >= 0)"
    ");"

    "CREATE TABLE settlements("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " setl_id " CTEXT " NOT NULL CHECK(length(setl_id) BETWEEN 1 AND 39),"
    " kind SMALLINT NOT NULL CHECK(kind IN (0, 1)),"
    " plan_id " CTEXT " NOT NULL,"
    " psn_no " CTEXT " NOT NULL,"
    " policy_no " CTEXT " NOT NULL,"
    " setl_time BIGINT NOT NULL,"
    " eligible BIGINT NOT NULL,"
    " payout BIGINT NOT NULL,"
    " family_adjust BIGINT NOT NULL,"
    " reversed SMALLINT NOT NULL DEFAULT 0 CHECK(reversed IN (0, 1)),"
    " contrib BYTEA NOT NULL,"
    " request " CTEXT " NOT NULL,"
    " response " CTEXT " NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " prev_seq BIGINT NOT NULL DEFAULT 0,"
    " request_hash BYTEA NOT NULL,"
    " UNIQUE(setl_id, kind)"
    ");"

    /* A person's records are chained (settlements.prev_seq, from
     * states.last_seq) as in store_sqlite.c; the state row is also the
     * person's lock between servers (pg_state_get()). */
    "CREATE TABLE states("
    " plan_id " CTEXT " NOT NULL,"
    " psn_no " CTEXT " NOT NULL,"
    " blob BYTEA NOT NULL,"
    " last_seq BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY(plan_id, psn_no)"
    ");"

    "CREATE TABLE api_keys("
    " hash BYTEA PRIMARY KEY CHECK(length(hash) = 32),"
    " name " CTEXT " NOT NULL,"
    " role SMALLINT NOT NULL CHECK(role BETWEEN 1 AND 4),"
    " sponsor " CTEXT " NOT NULL,"
    " revoked SMALLINT NOT NULL DEFAULT 0 CHECK(revoked IN (0, 1))"
    ");";

/* pg_migrations[i] brings the schema from version i to i + 1. */
static const char *const pg_migrations[] = {pg_migration_1};

_Static_assert(ARRAY_SIZE(pg_migrations) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* The advisory lock key that serialises migrations ("hmb" in ASCII). */
#define PG_MIGRATE_LOCK "6843746"

/* ---- statements ---- */

#define PERSON_COLS                                                                                \
  "psn_no, certno_bidx, certno_enc, name_enc, gend, birth, insutype, status, status_date, "        \
  "admdvs, work_admdvs, emp_uscc, family_id, relation, veteran_year, groups"
/* every column but the key, as "persons.a, persons.b ..." and "excluded.a, ..." */
#define PERSON_VALS(T)                                                                             \
  "certno_bidx, " T "certno_enc, " T "name_enc, " T "gend, " T "birth, " T "insutype, " T          \
  "status, " T "status_date, " T "admdvs, " T "work_admdvs, " T "emp_uscc, " T "family_id, " T     \
  "relation, " T "veteran_year, " T "groups"
#define PERSON_COLS_TUPLE   PERSON_VALS("persons.")
#define PERSON_COLS_TUPLE_X PERSON_VALS("excluded.")
#define ENR_COLS                                                                                   \
  "policy_no, plan_id, psn_no, year, status, channel, payer, premium_group, premium, paid, "       \
  "refunded, enrolled_on, cover_start, preexisting, loyalty_years, claim_free_years, created_at, " \
  "updated_at"
#define SETL_COLS                                                                                  \
  "seq, setl_id, kind, plan_id, psn_no, policy_no, setl_time, eligible, payout, family_adjust, "   \
  "reversed, contrib, created_at, request_hash"

#define SETL_PUT_SQL(on_conflict)                                                                  \
  "WITH ins AS (INSERT INTO settlements(setl_id, kind, plan_id, psn_no, policy_no, setl_time,"     \
  " eligible, payout, family_adjust, reversed, contrib, request, response, created_at,"            \
  " request_hash, prev_seq) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"   \
  " $15, coalesce((SELECT last_seq FROM states WHERE plan_id = $3 AND psn_no = $4"                 \
  " FOR UPDATE), 0))" on_conflict " RETURNING seq),"                                               \
  " link AS (INSERT INTO states(plan_id, psn_no, blob, last_seq)"                                  \
  " SELECT $3, $4, '\\x'::bytea, seq FROM ins"                                                     \
  " ON CONFLICT(plan_id, psn_no) DO UPDATE SET last_seq = excluded.last_seq)"                      \
  " SELECT seq FROM ins"

#define PG_STMTS(X)                                                                                \
  X(VERSION_TABLE, "SELECT count(to_regclass('schema_version'))")                                  \
  X(VERSION, "SELECT coalesce(max(version), 0)::bigint FROM schema_version")                       \
  X(META_GET, "SELECT value FROM meta WHERE key = $1")                                             \
  X(META_PUT, "INSERT INTO meta(key, value) VALUES($1, $2)"                                        \
              " ON CONFLICT(key) DO UPDATE SET value = excluded.value")                            \
  X(PLAN_PUT, "INSERT INTO plans(plan_id, json, updated_at) VALUES($1, $2, $3)"                    \
              " ON CONFLICT(plan_id) DO UPDATE SET json = excluded.json,"                          \
              " updated_at = excluded.updated_at")                                                 \
  X(PLAN_GET, "SELECT json FROM plans WHERE plan_id = $1")                                         \
  X(PLAN_IDS, "SELECT plan_id FROM plans ORDER BY plan_id")                                        \
  X(PERSON_PUT,                                                                                    \
    "INSERT INTO persons(" PERSON_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"    \
    " $12, $13, $14, $15, $16) ON CONFLICT(psn_no) DO UPDATE SET"                                  \
    " certno_bidx = excluded.certno_bidx, certno_enc = excluded.certno_enc,"                       \
    " name_enc = excluded.name_enc, gend = excluded.gend, birth = excluded.birth,"                 \
    " insutype = excluded.insutype, status = excluded.status,"                                     \
    " status_date = excluded.status_date, admdvs = excluded.admdvs,"                               \
    " work_admdvs = excluded.work_admdvs, emp_uscc = excluded.emp_uscc,"                           \
    " family_id = excluded.family_id, relation = excluded.relation,"                               \
    " veteran_year = excluded.veteran_year, groups = excluded.groups")                             \
  X(PERSON_GET, "SELECT " PERSON_COLS " FROM persons WHERE psn_no = $1")                           \
  X(PERSON_GET_MANY,                                                                               \
    "SELECT " PERSON_COLS ", i.n FROM unnest($1::text[]) WITH ORDINALITY AS i(psn, n)"             \
    " JOIN persons p ON p.psn_no = i.psn")                                                         \
  X(BIDX_TAKEN_MANY,                                                                               \
    "SELECT i.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(psn, hx, n)"              \
    " JOIN persons p ON p.certno_bidx = decode(i.hx, 'hex') AND p.psn_no <> i.psn")                \
  /* the batch COPYed into hmb_import: upsert, record status changes, and                        \
   * name the rows that changed (old reads the table as it was before) */ \
  X(IMPORT_APPLY,                                                                                  \
    "WITH old AS (SELECT p.psn_no, p.status FROM persons p JOIN hmb_import i USING (psn_no)),"     \
    " up AS (INSERT INTO persons(" PERSON_COLS ") SELECT " PERSON_COLS " FROM hmb_import"          \
    " ON CONFLICT(psn_no) DO UPDATE SET"                                                           \
    " certno_bidx = excluded.certno_bidx, certno_enc = excluded.certno_enc,"                       \
    " name_enc = excluded.name_enc, gend = excluded.gend, birth = excluded.birth,"                 \
    " insutype = excluded.insutype, status = excluded.status,"                                     \
    " status_date = excluded.status_date, admdvs = excluded.admdvs,"                               \
    " work_admdvs = excluded.work_admdvs, emp_uscc = excluded.emp_uscc,"                           \
    " family_id = excluded.family_id, relation = excluded.relation,"                               \
    " veteran_year = excluded.veteran_year, groups = excluded.groups"                              \
    " WHERE (persons." PERSON_COLS_TUPLE ") IS DISTINCT FROM (excluded." PERSON_COLS_TUPLE_X ")"   \
    " RETURNING psn_no, status, status_date),"                                                     \
    " hist AS (INSERT INTO person_status(psn_no, day, status)"                                     \
    " SELECT up.psn_no, up.status_date, up.status FROM up LEFT JOIN old USING (psn_no)"            \
    " WHERE old.status IS DISTINCT FROM up.status"                                                 \
    " ON CONFLICT(psn_no, day) DO UPDATE SET status = excluded.status)"                            \
    " SELECT psn_no FROM up")                                                                      \
  X(PERSON_BY_BIDX, "SELECT " PERSON_COLS " FROM persons WHERE certno_bidx = $1")                  \
  X(BIDX_OTHER, "SELECT psn_no FROM persons WHERE certno_bidx = $1 AND psn_no <> $2")              \
  X(STATUS_PUT, "INSERT INTO person_status(psn_no, day, status) VALUES($1, $2, $3)"                \
                " ON CONFLICT(psn_no, day) DO UPDATE SET status = excluded.status")                \
  X(STATUS_AT, "SELECT status FROM person_status WHERE psn_no = $1 AND day <= $2"                  \
               " ORDER BY day DESC LIMIT 1")                                                       \
  X(FAMILY, "SELECT " PERSON_COLS " FROM persons WHERE family_id = $1 ORDER BY psn_no LIMIT $2")   \
  X(PERSON_COUNT, "SELECT count(*) FROM persons")                                                  \
  X(ENR_PUT,                                                                                       \
    "INSERT INTO enrollments(" ENR_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"   \
    " $12, $13, $14, $15, $16, $17, $18) ON CONFLICT(policy_no) DO UPDATE SET"                     \
    " plan_id = excluded.plan_id, psn_no = excluded.psn_no, year = excluded.year,"                 \
    " status = excluded.status, channel = excluded.channel, payer = excluded.payer,"               \
    " premium_group = excluded.premium_group, premium = excluded.premium,"                         \
    " paid = excluded.paid, refunded = excluded.refunded, enrolled_on = excluded.enrolled_on,"     \
    " cover_start = excluded.cover_start, preexisting = excluded.preexisting,"                     \
    " loyalty_years = excluded.loyalty_years, claim_free_years = excluded.claim_free_years,"       \
    " created_at = excluded.created_at, updated_at = excluded.updated_at")                         \
  X(ENR_GET, "SELECT " ENR_COLS " FROM enrollments WHERE plan_id = $1 AND psn_no = $2")            \
  X(ENR_BY_POLICY, "SELECT " ENR_COLS " FROM enrollments WHERE policy_no = $1")                    \
  X(ENR_OF, "SELECT " ENR_COLS " FROM enrollments WHERE psn_no = $1"                               \
            " ORDER BY year DESC, policy_no LIMIT $2")                                             \
  X(POLICY_SEQ, "INSERT INTO policy_seq(plan_id, next) VALUES($1, 2)"                              \
                " ON CONFLICT(plan_id) DO UPDATE SET next = policy_seq.next + 1"                   \
                " RETURNING next - 1")                                                             \
  X(PAYMENT_ADD, "INSERT INTO payments(policy_no, channel, payer, amount, at)"                     \
                 " VALUES($1, $2, $3, $4, $5) RETURNING id")                                       \
  X(SPONSOR_PUT, "INSERT INTO sponsors(id, name, budget, spent) VALUES($1, $2, $3, $4)"            \
                 " ON CONFLICT(id) DO UPDATE SET name = excluded.name, budget = excluded.budget")  \
  X(SPONSOR_GET, "SELECT id, name, budget, spent FROM sponsors WHERE id = $1")                     \
  X(SPONSOR_SPEND, "UPDATE sponsors SET spent = spent + $2::bigint"                                \
                   " WHERE id = $1 AND spent + $2::bigint BETWEEN 0 AND budget")                   \
  X(SPONSOR_KNOWN, "SELECT id FROM sponsors WHERE id = $1")                                        \
  X(SETL_GET, "SELECT " SETL_COLS ", response FROM settlements WHERE setl_id = $1 AND kind = $2")  \
  /* the record and its link into the person's chain in one round trip */                          \
  X(SETL_PUT, SETL_PUT_SQL(" ON CONFLICT(setl_id, kind) DO NOTHING"))                              \
  /* the same failing on a duplicate (queued in pipeline mode, pg_setl_put()) */                   \
  X(SETL_PUT_STRICT, SETL_PUT_SQL(""))                                                             \
  X(SETL_MARK, "UPDATE settlements SET reversed = 1 WHERE setl_id = $1 AND kind = $2")             \
  X(SETL_OF,                                                                                       \
    "WITH RECURSIVE chain(seq) AS ("                                                               \
    " SELECT last_seq FROM states WHERE plan_id = $1 AND psn_no = $2 AND last_seq > $3"            \
    " UNION ALL"                                                                                   \
    " SELECT s.prev_seq FROM chain c JOIN settlements s ON s.seq = c.seq"                          \
    " WHERE s.prev_seq > $3 AND s.prev_seq < s.seq)"                                               \
    " SELECT " SETL_COLS ", request FROM settlements WHERE seq IN (SELECT seq FROM chain)"         \
    " ORDER BY seq LIMIT $4")                                                                      \
  X(SETL_COUNT, "SELECT count(*) FROM settlements")                                                \
  X(STATE_GET, "SELECT blob FROM states WHERE plan_id = $1 AND psn_no = $2 AND length(blob) > 0")  \
  /* the subquery's order is the order the locks are taken in */                                   \
  X(LOCK_KEYS, "SELECT count(pg_advisory_xact_lock(k)) FROM"                                       \
               " (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS sorted")                  \
  X(STATE_ENSURE, "INSERT INTO states(plan_id, psn_no, blob, last_seq)"                            \
                  " VALUES($1, $2, '\\x'::bytea, 0) ON CONFLICT DO NOTHING")                       \
  X(STATE_LOCK, "SELECT blob FROM states WHERE plan_id = $1 AND psn_no = $2 FOR UPDATE")           \
  X(STATE_PEOPLE,                                                                                  \
    "SELECT psn_no FROM states WHERE plan_id = $1 AND psn_no > $2 AND length(blob) > 0"            \
    " ORDER BY psn_no LIMIT $3")                                                                   \
  X(STATE_PUT, "INSERT INTO states(plan_id, psn_no, blob) VALUES($1, $2, $3)"                      \
               " ON CONFLICT(plan_id, psn_no) DO UPDATE SET blob = excluded.blob")                 \
  X(KEY_PUT, "INSERT INTO api_keys(hash, name, role, sponsor, revoked) VALUES($1, $2, $3, $4, $5)" \
             " ON CONFLICT(hash) DO UPDATE SET name = excluded.name, role = excluded.role,"        \
             " sponsor = excluded.sponsor, revoked = excluded.revoked")                            \
  X(KEY_GET, "SELECT hash, name, role, sponsor, revoked FROM api_keys WHERE hash = $1")

#define PG_ENUM(name, sql) PS_##name,
#define PG_TEXT(name, sql) sql,
#define PG_NAME(name, sql) "hmb_" #name,
enum pg_stmt { PG_STMTS(PG_ENUM) PS__COUNT };
static const char *const pg_sql[] = {PG_STMTS(PG_TEXT)};
static const char *const pg_name[] = {PG_STMTS(PG_NAME)};
#undef PG_ENUM
#undef PG_TEXT
#undef PG_NAME

/* Built-in type OIDs (fixed in the server's catalog since forever). */
#define OID_BYTEA   17
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_TEXT    25
#define OID_VARCHAR 1043

/*
 * Pipeline mode (store.h pipeline()): statements sent and not yet synced,
 * in order, so that their results are read and checked in order. At most
 * PG_PEND_MAX: one job of the settlement writer queues a handful.
 *
 * The connection stays in blocking mode. That cannot deadlock here: we
 * read the results after sending a few statements, and what the server
 * answers before we read (command tags, a few rows of kilobytes) fits the
 * socket buffers, so it never waits to write while we wait to write.
 */
#define PG_PEND_MAX 64
enum pg_pend_kind { PEND_CMD, PEND_PREPARE, PEND_QUERY };
struct pg_pend {
  int8_t kind;  /* enum pg_pend_kind */
  int16_t stmt; /* enum pg_stmt of a PEND_PREPARE */
};

struct pg {
  struct store base; /* first: a struct store * is a struct pg * */
  PGconn *conn;
  bool write;     /* the open transaction is a write transaction */
  bool in_tx;     /* between begin and commit or rollback */
  bool sp_open;   /* savepoint "job" is open */
  bool pipe_want; /* pipeline(): write transactions run in pipeline mode */
  bool prepared[PS__COUNT];
  int npend;
  struct pg_pend pend[PG_PEND_MAX];
};

static struct pg *pg_of(struct store *s)
{
  return (struct pg *)s;
}

/* Civil clock of core/date.h (China Standard Time), as store_sqlite.c. */
static hmb_time pg_now(void)
{
  return (hmb_time)time(NULL) + 8 * 3600;
}

/* ---- errors ---- */

/* libpq's last connection message without its trailing newline. */
static int conn_msg_len(const char *m)
{
  size_t n = strlen(m);
  while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
    n--;
  return n > INT_MAX ? INT_MAX : (int)n;
}

static enum hmb_status pg_conn_fail(struct pg *s, struct hmb_err *err)
{
  const char *m = s->conn ? PQerrorMessage(s->conn) : "";
  return hmb_err_set(err, HMB_IO, "store.connection", "db", "与 PostgreSQL 数据库的连接失败：%.*s",
                     conn_msg_len(m), m);
}

/*
 * Map a failed result (NULL when libpq could not even produce one) to an
 * hmb status by SQLSTATE. Only the primary message is kept: the server
 * puts row values in DETAIL ("Failing row contains ..."), never there,
 * except for encoding errors, whose text is therefore dropped.
 */
static enum hmb_status pg_fail(struct pg *s, const PGresult *res, struct hmb_err *err)
{
  const char *state, *msg, *cons;

  if (!res || PQstatus(s->conn) != CONNECTION_OK)
    return pg_conn_fail(s, err);
  state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
  if (!msg) {
    msg = PQresultErrorMessage(res);
    if (!*msg)
      msg = "未知错误";
  }
  if (!state)
    state = "";
  if (!strncmp(state, "08", 2))
    return pg_conn_fail(s, err);
  if (!strcmp(state, "23505"))
    return hmb_err_set(err, HMB_CONFLICT, "store.unique", cons, "记录已存在（%s）", msg);
  if (!strcmp(state, "23514") && cons && !strcmp(cons, "sponsor_budget"))
    return hmb_err_set(err, HMB_CONFLICT, "sponsor.budget", "budget",
                       "资助资金预算不足（已用金额不能超过预算，也不能为负）");
  if (!strcmp(state, "23503"))
    return hmb_err_set(err, HMB_NOT_FOUND, "store.reference", cons,
                       "引用的记录不存在（方案、人员或保单）：%s", msg);
  if (!strcmp(state, "40P01") || !strcmp(state, "40001") || !strcmp(state, "55P03"))
    return hmb_err_set(err, HMB_CONFLICT, "store.retry", NULL,
                       "与其他事务冲突（死锁或等待锁超时），请重试：%s", msg);
  if (!strcmp(state, "22021") || !strcmp(state, "22P05"))
    return hmb_err_set(err, HMB_INVALID, "store.encoding", NULL, "文本不是有效的 UTF-8");
  if (!strcmp(state, "25P02"))
    return hmb_err_set(err, HMB_IO, "store.aborted", NULL, "事务中此前的语句已失败，须先回滚：%s",
                       msg);
  return hmb_err_set(err, HMB_IO, "store.pg", cons, "数据库错误：%s", msg);
}

static enum hmb_status pg_buf_fail(enum hmb_status result, struct hmb_err *err)
{
  if (result == HMB_TOO_LARGE)
    return hmb_err_set(err, result, "store.too_large", NULL, "数据超出缓冲区上限");
  return hmb_err_set(err, result, "store.nomem", NULL, "内存不足");
}

static enum hmb_status pg_corrupt(struct hmb_err *err)
{
  return hmb_err_set(err, HMB_IO, "store.corrupt", NULL,
                     "数据库内容不符合预期（字段超长或类型错误）");
}

/* ---- parameters ---- */

#define PG_PARAMS_MAX 20

/*
 * Sequential binder: parameters $1, $2, ... in call order. Strings and
 * blobs are borrowed for the call; numbers are formatted into the binder.
 * A string that does not fit its field sticks as HMB_INVALID.
 */
struct bd {
  int n;
  enum hmb_status rc;
  const char *val[PG_PARAMS_MAX];
  int len[PG_PARAMS_MAX];
  int fmt[PG_PARAMS_MAX];
  char num[PG_PARAMS_MAX][24];
};

static void bd_start(struct bd *b)
{
  b->n = 0;
  b->rc = HMB_OK;
}

static int bd_next(struct bd *b)
{
  if (b->n == PG_PARAMS_MAX)
    BUG("too many statement parameters");
  b->len[b->n] = 0;
  b->fmt[b->n] = 0;
  b->val[b->n] = NULL;
  return b->n++;
}

/* A NUL-terminated string held in an array of cap bytes (text format). */
static void bd_text(struct bd *b, const char *s, size_t cap)
{
  int i = bd_next(b);
  if (s && strnlen(s, cap) == cap)
    b->rc = b->rc ? b->rc : HMB_INVALID;
  b->val[i] = s;
}

static void bd_str(struct bd *b, const char *s)
{
  b->val[bd_next(b)] = s;
}

/* n bytes of text, not NUL-terminated (binary format: the bytes as they are). */
static void bd_textn(struct bd *b, const char *s, size_t n)
{
  int i = bd_next(b);
  if (n > INT_MAX) {
    b->rc = b->rc ? b->rc : HMB_INVALID;
    n = 0;
  }
  b->val[i] = n ? s : "";
  b->len[i] = (int)n;
  b->fmt[i] = 1;
}

/* A blob (binary format); zero bytes when p is NULL, never SQL NULL. */
static void bd_blob(struct bd *b, const void *p, size_t n)
{
  int i = bd_next(b);
  if (n > INT_MAX) {
    b->rc = b->rc ? b->rc : HMB_INVALID;
    n = 0;
  }
  b->val[i] = n ? (const char *)p : "";
  b->len[i] = (int)n;
  b->fmt[i] = 1;
}

static void bd_i64(struct bd *b, int64_t v)
{
  int i = bd_next(b);
  snprintf(b->num[i], sizeof(b->num[i]), "%" PRId64, v);
  b->val[i] = b->num[i];
}

/* ---- results ---- */

/*
 * Sequential column reader over one row of a binary-format result. A
 * NULL, a value of another type, out of its C type's range or longer than
 * its destination marks the row bad (HMB_IO "store.corrupt").
 */
struct rd {
  const PGresult *res;
  int row;
  int col;
  bool bad;
};

static void rd_start(struct rd *r, const PGresult *res, int row)
{
  r->res = res;
  r->row = row;
  r->col = 0;
  r->bad = false;
}

/* The next column's bytes when it has one of the types a and b. */
static const char *rd_col(struct rd *r, Oid a, Oid b, int *len)
{
  int col = r->col++;
  Oid t;
  *len = 0;
  if (col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col) || PQfformat(r->res, col) != 1) {
    r->bad = true;
    return NULL;
  }
  t = PQftype(r->res, col);
  if (t != a && t != b) {
    r->bad = true;
    return NULL;
  }
  *len = PQgetlength(r->res, r->row, col);
  return PQgetvalue(r->res, r->row, col);
}

static void rd_text(struct rd *r, char *dst, size_t cap)
{
  int n;
  const char *t = rd_col(r, OID_TEXT, OID_VARCHAR, &n);
  dst[0] = '\0';
  if (!t)
    return;
  if (n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n)) {
    r->bad = true;
    return;
  }
  memcpy(dst, t, (size_t)n);
  dst[n] = '\0';
}

/* A blob of at most cap bytes; *len gets its size (exactly cap when !len). */
static void rd_blob(struct rd *r, uint8_t *dst, size_t cap, uint16_t *len)
{
  int n;
  const char *p = rd_col(r, OID_BYTEA, OID_BYTEA, &n);
  if (len)
    *len = 0;
  if (!p)
    return;
  if (n < 0 || (size_t)n > cap || (!len && (size_t)n != cap) || n > UINT16_MAX) {
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
  int col = r->col, n, i;
  const unsigned char *p;
  Oid t;
  uint64_t u = 0;
  int64_t v;

  if (col < PQnfields(r->res))
    t = PQftype(r->res, col);
  else
    t = OID_INT8;
  p = (const unsigned char *)rd_col(r, t == OID_INT8 ? OID_INT8 : OID_INT4,
                                    t == OID_INT8 ? OID_INT8 : OID_INT2, &n);
  if (!p)
    return 0;
  if (n != (t == OID_INT8 ? 8 : t == OID_INT4 ? 4 : 2)) {
    r->bad = true;
    return 0;
  }
  for (i = 0; i < n; i++)
    u = u << 8 | p[i];
  if (n < 8 && (p[0] & 0x80))
    u |= ~UINT64_C(0) << (8 * n); /* sign-extend */
  v = (int64_t)u;
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

/* Append a TEXT (or BYTEA) column's bytes to out (nothing when out is NULL). */
static enum hmb_status rd_append(struct rd *r, struct buf *out, struct hmb_err *err)
{
  int n;
  const char *p = rd_col(r, OID_TEXT, OID_BYTEA, &n);
  enum hmb_status result;
  if (!p || n < 0)
    return pg_corrupt(err);
  if (!out || !n)
    return HMB_OK;
  result = buf_add(out, p, (size_t)n);
  return result ? pg_buf_fail(result, err) : HMB_OK;
}

/* ---- running statements ---- */

static bool pg_piped(const struct pg *s)
{
  return PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF;
}

static enum hmb_status pg_prepare(struct pg *s, enum pg_stmt id, struct hmb_err *err);
static enum hmb_status pg_drain(struct pg *s, PGresult **last, struct hmb_err *err);

/* Room for n more statements in the pipeline: sync what is queued when full. */
static enum hmb_status pg_room(struct pg *s, int n, struct hmb_err *err)
{
  if (s->npend + n <= PG_PEND_MAX)
    return HMB_OK;
  return pg_drain(s, NULL, err);
}

static void pg_pushed(struct pg *s, enum pg_pend_kind kind, int stmt)
{
  if (s->npend >= PG_PEND_MAX)
    BUG("pipeline queue overflow");
  s->pend[s->npend].kind = (int8_t)kind;
  s->pend[s->npend].stmt = (int16_t)stmt;
  s->npend++;
}

/* Queue constant SQL (one statement) in pipeline mode. */
static enum hmb_status pg_send_sql(struct pg *s, const char *sql, struct hmb_err *err)
{
  enum hmb_status result = pg_room(s, 1, err);
  if (result)
    return result;
  if (!PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
    return pg_conn_fail(s, err);
  pg_pushed(s, PEND_CMD, -1);
  return HMB_OK;
}

/* Queue prepared statement id (prepared first when new) in pipeline mode. */
static enum hmb_status pg_send(struct pg *s, enum pg_stmt id, const struct bd *b,
                               struct hmb_err *err)
{
  enum hmb_status result;
  if (b->rc)
    return hmb_err_set(err, b->rc, "store.too_long", NULL, "字段内容过长");
  result = pg_room(s, 2, err);
  if (result)
    return result;
  if (!s->prepared[id]) {
    if (!PQsendPrepare(s->conn, pg_name[id], pg_sql[id], 0, NULL))
      return pg_conn_fail(s, err);
    pg_pushed(s, PEND_PREPARE, id);
    s->prepared[id] = true; /* undone by pg_drain() if it failed */
  }
  if (!PQsendQueryPrepared(s->conn, pg_name[id], b->n, b->val, b->len, b->fmt, 1))
    return pg_conn_fail(s, err);
  pg_pushed(s, PEND_QUERY, id);
  return HMB_OK;
}

/*
 * Sync the pipeline and read every queued statement's results in order.
 * The first failure is returned (the server then skips the rest up to the
 * sync: their results are PGRES_PIPELINE_ABORTED). When everything
 * succeeded, the results of the last nout statements (prepares aside)
 * are handed over in
 * out[0..nout-1] (PQclear() by the caller); on failure they are NULL. A
 * lost connection ends the reading early; the next begin() reconnects.
 */
static enum hmb_status pg_drain_n(struct pg *s, PGresult **out, int nout, struct hmb_err *err)
{
  enum hmb_status result = HMB_OK;
  PGresult *res;
  int n = s->npend, q = 0, first_kept;

  for (int i = 0; i < nout; i++)
    out[i] = NULL;
  for (int i = 0; i < n; i++)
    q += s->pend[i].kind != PEND_PREPARE;
  first_kept = q - nout; /* index among the statements of the first result kept */
  q = 0;
  s->npend = 0;
  if (!PQpipelineSync(s->conn)) {
    /* nothing can be read without the sync; the connection is gone */
    for (int i = 0; i < n; i++)
      if (s->pend[i].kind == PEND_PREPARE)
        s->prepared[s->pend[i].stmt] = false;
    return pg_conn_fail(s, err);
  }
  for (int i = 0; i < n; i++) {
    int slot = s->pend[i].kind != PEND_PREPARE ? q++ - first_kept : -1;
    bool any = false;
    while ((res = PQgetResult(s->conn))) {
      ExecStatusType st = PQresultStatus(res);
      any = true;
      if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (slot >= 0 && !out[slot]) {
          out[slot] = res;
          continue;
        }
      } else {
        /* a skipped or failed prepare is not there on the server */
        if (s->pend[i].kind == PEND_PREPARE)
          s->prepared[s->pend[i].stmt] = false;
        if (!result)
          result = st == PGRES_PIPELINE_ABORTED ? hmb_err_set(err, HMB_IO, "store.aborted", NULL,
                                                              "事务中此前的语句已失败，须先回滚")
                                                : pg_fail(s, res, err);
      }
      PQclear(res);
    }
    if (!any && !result)
      result = pg_conn_fail(s, err);
  }
  /* the sync point (nothing when the connection was lost) */
  if ((res = PQgetResult(s->conn))) {
    if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && !result)
      result = pg_fail(s, res, err);
    PQclear(res);
  }
  for (int i = 0; i < nout; i++)
    if (result || !out[i]) {
      if (!result)
        result = pg_corrupt(err);
      for (int j = 0; j < nout; j++) {
        PQclear(out[j]);
        out[j] = NULL;
      }
      break;
    }
  return result;
}

static enum hmb_status pg_drain(struct pg *s, PGresult **last, struct hmb_err *err)
{
  return pg_drain_n(s, last, last ? 1 : 0, err);
}

/* Constant SQL without parameters (session settings, transaction control;
 * one statement in pipeline mode). */
static enum hmb_status pg_exec(struct pg *s, const char *sql, struct hmb_err *err)
{
  PGresult *res;
  ExecStatusType st;
  enum hmb_status result = HMB_OK;
  if (pg_piped(s)) {
    result = pg_send_sql(s, sql, err);
    return result ? result : pg_drain(s, NULL, err);
  }
  res = PQexec(s->conn, sql);
  st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    result = pg_fail(s, res, err);
  PQclear(res);
  return result;
}

static enum hmb_status pg_prepare(struct pg *s, enum pg_stmt id, struct hmb_err *err)
{
  PGresult *res;
  enum hmb_status result = HMB_OK;
  if (s->prepared[id])
    return HMB_OK;
  res = PQprepare(s->conn, pg_name[id], pg_sql[id], 0, NULL);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
    result = pg_fail(s, res, err);
  else
    s->prepared[id] = true;
  PQclear(res);
  return result;
}

/*
 * Run prepared statement id with b's parameters; results in binary
 * format. On success *out holds the result (PQclear() by the caller). In
 * pipeline mode the statements queued before it go in the same round trip
 * and a failure of theirs is returned.
 */
static enum hmb_status pg_query(struct pg *s, enum pg_stmt id, const struct bd *b, PGresult **out,
                                struct hmb_err *err)
{
  PGresult *res;
  ExecStatusType st;
  enum hmb_status result;

  *out = NULL;
  if (b->rc)
    return hmb_err_set(err, b->rc, "store.too_long", NULL, "字段内容过长");
  if (pg_piped(s)) {
    result = pg_send(s, id, b, err);
    return result ? result : pg_drain(s, out, err);
  }
  result = pg_prepare(s, id, err);
  if (result)
    return result;
  res = PQexecPrepared(s->conn, pg_name[id], b->n, b->val, b->len, b->fmt, 1);
  st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    result = pg_fail(s, res, err);
    PQclear(res);
    return result;
  }
  *out = res;
  return HMB_OK;
}

/*
 * A write whose result is only success or failure: queued in pipeline
 * mode (its failure comes back from the next call that syncs), else run
 * at once.
 */
static enum hmb_status pg_defer(struct pg *s, enum pg_stmt id, const struct bd *b,
                                struct hmb_err *err)
{
  PGresult *res;
  enum hmb_status result;
  if (pg_piped(s))
    return pg_send(s, id, b, err);
  result = pg_query(s, id, b, &res, err);
  PQclear(res);
  return result;
}

/* Run a statement whose rows are not wanted; *changed = rows affected. */
static enum hmb_status pg_run(struct pg *s, enum pg_stmt id, const struct bd *b, int64_t *changed,
                              struct hmb_err *err)
{
  PGresult *res;
  enum hmb_status result = pg_query(s, id, b, &res, err);
  if (changed)
    *changed = 0;
  if (result)
    return result;
  if (changed) {
    const char *t = PQcmdTuples(res);
    int64_t v = 0;
    for (; *t >= '0' && *t <= '9' && v < INT64_MAX / 10; t++)
      v = v * 10 + (*t - '0');
    *changed = v;
  }
  PQclear(res);
  return HMB_OK;
}

/* A single bigint from a one-row statement without parameters. */
static enum hmb_status pg_count(struct pg *s, enum pg_stmt id, int64_t *n, struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  *n = 0;
  bd_start(&b);
  result = pg_query(s, id, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) != 1) {
    result = pg_corrupt(err);
  } else {
    rd_start(&r, res, 0);
    *n = RD_I64(&r);
    if (r.bad)
      result = pg_corrupt(err);
  }
  PQclear(res);
  return result;
}

/* ---- open, migrate, close ---- */

static void pg_close(struct store *base)
{
  struct pg *s = pg_of(base);
  PQfinish(s->conn);
  free(s);
}

/* Notices ("relation already exists, skipping") are not for our stderr. */
static void pg_quiet(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

/* Session settings, after connecting and after every reconnection. */
static enum hmb_status pg_session(struct pg *s, struct hmb_err *err)
{
  memset(s->prepared, 0, sizeof(s->prepared));
  s->write = false;
  s->in_tx = false;
  s->sp_open = false;
  s->npend = 0;
  if (PQstatus(s->conn) != CONNECTION_OK)
    return pg_conn_fail(s, err);
  PQsetNoticeProcessor(s->conn, pg_quiet, NULL);
  return pg_exec(s,
                 "SET synchronous_commit = on;"
                 "SET client_encoding = 'UTF8';"
                 "SET statement_timeout = '30s';"
                 "SET lock_timeout = '10s'",
                 err);
}

/* The recorded schema version, 0 for a new database (no version table). */
static enum hmb_status pg_read_version(struct pg *s, int *version, struct hmb_err *err)
{
  int64_t v;
  enum hmb_status result = pg_count(s, PS_VERSION_TABLE, &v, err);
  *version = 0;
  if (result || !v)
    return result;
  result = pg_count(s, PS_VERSION, &v, err);
  if (result)
    return result;
  if (v < 0 || v > INT_MAX)
    return pg_corrupt(err);
  *version = (int)v;
  return HMB_OK;
}

static enum hmb_status pg_too_new(int version, struct hmb_err *err)
{
  return hmb_err_set(err, HMB_UNSUPPORTED, "store.schema_newer", "db",
                     "数据库结构版本为 %d，高于本程序支持的版本 %d：请使用更新版本的 hmb", version,
                     STORE_SCHEMA_VERSION);
}

/* Leave any transaction and pipeline mode, ignoring errors (cleanup paths). */
static void pg_abandon(struct pg *s)
{
  if (pg_piped(s)) {
    /* what is queued is read and dropped first: a failure among it would
     * make the server skip a ROLLBACK sent in the same pipeline */
    if (s->npend)
      pg_drain(s, NULL, NULL);
    if (!pg_send_sql(s, "ROLLBACK", NULL))
      pg_drain(s, NULL, NULL);
    s->npend = 0;
    PQexitPipelineMode(s->conn); /* fails only on a lost connection: begin() resets it */
  } else {
    PGTransactionStatusType t = PQtransactionStatus(s->conn);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
      PQclear(PQexec(s->conn, "ROLLBACK"));
  }
  s->write = false;
  s->in_tx = false;
  s->sp_open = false;
}

/*
 * Bring the schema to STORE_SCHEMA_VERSION, one migration per transaction.
 * Each transaction first takes a transaction-level advisory lock and then
 * reads the version again, so that of several processes opening a new
 * database at once only the first migrates; the others wait for its
 * commit and find the work done.
 */
static enum hmb_status pg_migrate(struct pg *s, struct hmb_err *err)
{
  enum hmb_status result;
  int version;

  /* the common case, a current database, takes no lock */
  result = pg_read_version(s, &version, err);
  if (result)
    return result;
  if (version > STORE_SCHEMA_VERSION)
    return pg_too_new(version, err);
  while (version < STORE_SCHEMA_VERSION) {
    result = pg_exec(s, "BEGIN", err);
    if (!result)
      result = pg_exec(s, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")", err);
    if (!result)
      result =
          pg_exec(s, "CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)", err);
    if (!result)
      result = pg_read_version(s, &version, err);
    if (!result && version > STORE_SCHEMA_VERSION)
      result = pg_too_new(version, err);
    if (!result && version < STORE_SCHEMA_VERSION) {
      result = pg_exec(s, pg_migrations[version], err);
      if (!result) {
        char v[16];
        const char *vals[1] = {v};
        PGresult *res;
        snprintf(v, sizeof(v), "%d", version + 1);
        res = PQexecParams(s->conn, "INSERT INTO schema_version(version) VALUES($1::bigint)", 1,
                           NULL, vals, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
          result = pg_fail(s, res, err);
        PQclear(res);
      }
      if (!result)
        version++;
    }
    if (!result)
      result = pg_exec(s, "COMMIT", err);
    if (result) {
      pg_abandon(s);
      return result;
    }
  }
  return HMB_OK;
}

/* ---- schema version and transactions ---- */

static enum hmb_status pg_schema_version(struct store *base, int *version, struct hmb_err *err)
{
  return pg_read_version(pg_of(base), version, err);
}

/*
 * BEGIN (READ COMMITTED for both kinds). A connection lost since the last
 * transaction (a server restart) is re-established here, between
 * transactions, where nothing can be lost by doing so.
 */
static enum hmb_status pg_begin(struct store *base, enum store_tx tx, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  enum hmb_status result;
  if (PQstatus(s->conn) != CONNECTION_OK) {
    PQreset(s->conn);
    result = pg_session(s, err);
    if (result)
      return result;
  }
  if (pg_piped(s) && !PQexitPipelineMode(s->conn))
    return pg_conn_fail(s, err);
  s->sp_open = false;
  s->npend = 0;
  if (tx == STORE_TX_WRITE && s->pipe_want) {
    /* BEGIN travels with the transaction's first read */
    if (!PQenterPipelineMode(s->conn))
      return pg_conn_fail(s, err);
    result = pg_send_sql(s, "BEGIN ISOLATION LEVEL READ COMMITTED", err);
  } else {
    result = pg_exec(s, "BEGIN ISOLATION LEVEL READ COMMITTED", err);
  }
  if (result) {
    pg_abandon(s);
    return result;
  }
  s->write = tx == STORE_TX_WRITE;
  s->in_tx = true;
  return HMB_OK;
}

/*
 * COMMIT. The server answers a COMMIT of a transaction that an earlier
 * error aborted with ROLLBACK and no error: that is reported, since
 * nothing was committed.
 */
static enum hmb_status pg_commit(struct store *base, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  PGresult *res = NULL;
  enum hmb_status result = HMB_OK;
  if (!s->in_tx || (!pg_piped(s) && PQtransactionStatus(s->conn) == PQTRANS_IDLE))
    return hmb_err_set(err, HMB_IO, "store.no_tx", NULL, "没有进行中的事务可提交");
  if (pg_piped(s)) {
    /* a queued write that failed is reported and the transaction left
     * open for rollback(), which ends it */
    result = pg_send_sql(s, "COMMIT", err);
    if (!result)
      result = pg_drain(s, &res, err);
    if (result)
      return result;
  } else {
    res = PQexec(s->conn, "COMMIT");
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
      result = pg_fail(s, res, err);
  }
  if (!result && !strcmp(PQcmdStatus(res), "ROLLBACK"))
    result = hmb_err_set(err, HMB_IO, "store.aborted", NULL,
                         "事务因此前的错误已被数据库回滚，未提交任何内容");
  PQclear(res);
  if (pg_piped(s) && !PQexitPipelineMode(s->conn) && !result)
    result = pg_conn_fail(s, err);
  s->write = false;
  s->in_tx = false;
  s->sp_open = false;
  return result;
}

static void pg_rollback(struct store *base)
{
  pg_abandon(pg_of(base));
}

static enum hmb_status pg_savepoint(struct store *base, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  /* in pipeline mode it travels with the job's first read */
  enum hmb_status result =
      pg_piped(s) ? pg_send_sql(s, "SAVEPOINT job", err) : pg_exec(s, "SAVEPOINT job", err);
  if (!result)
    s->sp_open = true;
  return result;
}

/* Releasing a savepoint that is not open fails without touching the
 * transaction (the server would abort it), as SQLite's does. In pipeline
 * mode the job's queued writes go in the same round trip; when one of
 * them (or the release) fails, the savepoint stays open for rollback_to(). */
static enum hmb_status pg_release(struct store *base, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  enum hmb_status result;
  if (!s->sp_open)
    return hmb_err_set(err, HMB_IO, "store.savepoint", NULL, "没有可释放的保存点");
  result = pg_exec(s, "RELEASE SAVEPOINT job", err);
  if (!result)
    s->sp_open = false;
  return result;
}

static void pg_rollback_to(struct store *base)
{
  struct pg *s = pg_of(base);
  if (!s->sp_open)
    return;
  /* one round trip: ROLLBACK TO keeps the savepoint open, RELEASE removes
   * it (in pipeline mode after reading what the job queued before failing,
   * which could otherwise make the server skip them) */
  if (pg_piped(s)) {
    if (s->npend)
      pg_drain(s, NULL, NULL);
    if (!pg_send_sql(s, "ROLLBACK TO SAVEPOINT job", NULL) &&
        !pg_send_sql(s, "RELEASE SAVEPOINT job", NULL))
      pg_drain(s, NULL, NULL);
  } else {
    pg_exec(s, "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job", NULL);
  }
  s->sp_open = false;
}

/* ---- meta and plans ---- */

/* Look up one row by text keys and append its first column to out. */
static enum hmb_status pg_get_text(struct pg *s, enum pg_stmt id, const char *k1, const char *k2,
                                   struct buf *out, struct hmb_err *err, const char *code,
                                   const char *field, const char *msg)
{
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  bd_start(&b);
  bd_str(&b, k1);
  if (k2)
    bd_str(&b, k2);
  result = pg_query(s, id, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0) {
    rd_start(&r, res, 0);
    result = rd_append(&r, out, err);
  } else {
    result = hmb_err_set(err, HMB_NOT_FOUND, code, field, "%s", msg);
  }
  PQclear(res);
  return result;
}

static enum hmb_status pg_meta_get(struct store *base, const char *key, struct buf *out,
                                   struct hmb_err *err)
{
  return pg_get_text(pg_of(base), PS_META_GET, key, NULL, out, err, "meta.not_found", "key",
                     "配置项不存在");
}

static enum hmb_status pg_meta_put(struct store *base, const char *key, const char *value,
                                   struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_str(&b, key);
  bd_str(&b, value);
  return pg_run(pg_of(base), PS_META_PUT, &b, NULL, err);
}

static enum hmb_status pg_plan_put(struct store *base, const char *plan_id, const char *json,
                                   size_t len, struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_text(&b, plan_id, PLAN_ID_MAX);
  bd_textn(&b, json, len);
  bd_i64(&b, pg_now());
  return pg_run(pg_of(base), PS_PLAN_PUT, &b, NULL, err);
}

static enum hmb_status pg_plan_get(struct store *base, const char *plan_id, struct buf *json,
                                   struct hmb_err *err)
{
  return pg_get_text(pg_of(base), PS_PLAN_GET, plan_id, NULL, json, err, "plan.not_found",
                     "plan_id", "保险方案不存在");
}

static enum hmb_status pg_plan_ids(struct store *base, struct buf *out, struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  int i;
  bd_start(&b);
  result = pg_query(pg_of(base), PS_PLAN_IDS, &b, &res, err);
  if (result)
    return result;
  for (i = 0; !result && i < PQntuples(res); i++) {
    if (i && (result = buf_addch(out, ';')))
      result = pg_buf_fail(result, err);
    if (!result) {
      rd_start(&r, res, i);
      result = rd_append(&r, out, err);
    }
  }
  PQclear(res);
  return result;
}

/* ---- persons ---- */

static void bind_person(struct bd *b, const struct store_person *p)
{
  bd_text(b, p->psn_no, sizeof(p->psn_no));
  bd_blob(b, p->certno_bidx, sizeof(p->certno_bidx));
  if (p->certno_enc_len > sizeof(p->certno_enc) || p->name_enc_len > sizeof(p->name_enc))
    b->rc = b->rc ? b->rc : HMB_INVALID;
  bd_blob(b, p->certno_enc, p->certno_enc_len > sizeof(p->certno_enc) ? 0 : p->certno_enc_len);
  bd_blob(b, p->name_enc, p->name_enc_len > sizeof(p->name_enc) ? 0 : p->name_enc_len);
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

static bool read_person(const PGresult *res, int row, struct store_person *p)
{
  struct rd r;
  memset(p, 0, sizeof(*p));
  rd_start(&r, res, row);
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

/* Reads row `row` of a result into element i of out. */
typedef bool pg_read_fn(const PGresult *res, int row, void *out, size_t i);

/* The one row of statement id with the key in b, read by fn into out;
 * HMB_NOT_FOUND with code and message naming field when there is none. */
static enum hmb_status pg_one(struct pg *s, enum pg_stmt id, const struct bd *b, pg_read_fn *fn,
                              void *out, const char *code, const char *field, const char *msg,
                              struct hmb_err *err)
{
  PGresult *res;
  enum hmb_status result = pg_query(s, id, b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0) {
    if (!fn(res, 0, out, 0))
      result = pg_corrupt(err);
  } else {
    result = hmb_err_set(err, HMB_NOT_FOUND, code, field, "%s", msg);
  }
  PQclear(res);
  return result;
}

static bool read_person_at(const PGresult *res, int row, void *out, size_t i)
{
  return read_person(res, row, (struct store_person *)out + i);
}

static enum hmb_status pg_person_get(struct store *base, const char *psn_no,
                                     struct store_person *out, struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_str(&b, psn_no);
  return pg_one(pg_of(base), PS_PERSON_GET, &b, read_person_at, out, "person.not_found", "psn_no",
                "人员不存在", err);
}

static enum hmb_status pg_person_by_bidx(struct store *base, const uint8_t bidx[STORE_BIDX_LEN],
                                         struct store_person *out, struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_blob(&b, bidx, STORE_BIDX_LEN);
  return pg_one(pg_of(base), PS_PERSON_BY_BIDX, &b, read_person_at, out, "person.not_found",
                "certno", "人员不存在", err);
}

/*
 * An ID number held by another person is found by a query rather than
 * by the unique index's error, which would abort the caller's transaction
 * (a roster import reports the row and goes on). Another server inserting
 * the same ID number at the same moment still ends in the index's error.
 */
static enum hmb_status pg_bidx_free(struct pg *s, const struct store_person *p, struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  enum hmb_status result;
  bd_start(&b);
  bd_blob(&b, p->certno_bidx, sizeof(p->certno_bidx));
  bd_str(&b, p->psn_no);
  result = pg_query(s, PS_BIDX_OTHER, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0)
    result = hmb_err_set(err, HMB_CONFLICT, "store.unique", "persons_certno_bidx_key",
                         "记录已存在（身份证号码的盲索引 persons_certno_bidx_key 重复）");
  PQclear(res);
  return result;
}

static enum hmb_status pg_person_put(struct store *base, const struct store_person *p,
                                     bool *changed, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  struct store_person old;
  struct hmb_err ignore;
  struct bd b;
  bool found;
  enum hmb_status result;

  *changed = false;
  if (strnlen(p->psn_no, sizeof(p->psn_no)) == sizeof(p->psn_no))
    return hmb_err_set(err, HMB_INVALID, "store.too_long", "psn_no", "字段内容过长");
  result = pg_person_get(base, p->psn_no, &old, &ignore);
  if (result && result != HMB_NOT_FOUND) {
    if (err)
      *err = ignore;
    return result;
  }
  found = !result;
  if (found && person_same(&old, p))
    return HMB_OK;

  bd_start(&b);
  bind_person(&b, p);
  if (b.rc)
    return hmb_err_set(err, b.rc, "store.too_long", NULL, "字段内容过长");
  if (!found || memcmp(old.certno_bidx, p->certno_bidx, sizeof(p->certno_bidx))) {
    result = pg_bidx_free(s, p, err);
    if (result)
      return result;
  }
  result = pg_run(s, PS_PERSON_PUT, &b, NULL, err);
  if (!result && (!found || old.status != p->status)) {
    bd_start(&b);
    bd_text(&b, p->psn_no, sizeof(p->psn_no));
    bd_i64(&b, p->status_date);
    bd_i64(&b, p->status);
    result = pg_run(s, PS_STATUS_PUT, &b, NULL, err);
  }
  if (!result)
    *changed = true;
  return result;
}

/* Column col of row as a bigint (results come in binary: 8 bytes, big endian); -1 if not one. */
static int64_t col_int8(const PGresult *res, int row, int col)
{
  const unsigned char *v = (const unsigned char *)PQgetvalue(res, row, col);
  uint64_t x = 0;
  if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8 || PQfformat(res, col) != 1)
    return -1;
  for (int i = 0; i < 8; i++)
    x = x << 8 | v[i];
  return (int64_t)x;
}

static enum hmb_status pg_person_get_many(struct store *base, const char (*psn)[SETL_ID_MAX],
                                          size_t n, struct store_person *out, bool *found,
                                          struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  struct buf arr = BUF_INIT((size_t)64 << 20);
  PGresult *res;
  struct bd b;
  enum hmb_status result;

  for (size_t i = 0; i < n; i++)
    found[i] = false;
  if (!n)
    return HMB_OK;
  buf_addch(&arr, '{');
  for (size_t i = 0; i < n; i++) {
    buf_addstr(&arr, i ? ",\"" : "\"");
    for (const char *t = psn[i]; *t; t++) {
      if (*t == '"' || *t == '\\')
        buf_addch(&arr, '\\');
      buf_addch(&arr, *t);
    }
    buf_addch(&arr, '"');
  }
  if (buf_addch(&arr, '}')) {
    buf_release(&arr);
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "", "内存不足");
  }
  bd_start(&b);
  bd_str(&b, arr.ptr);
  result = pg_query(s, PS_PERSON_GET_MANY, &b, &res, err);
  buf_release(&arr);
  if (result)
    return result;
  for (int r = 0; r < PQntuples(res) && !result; r++) {
    int64_t k = col_int8(res, r, PQnfields(res) - 1) - 1;
    if (k < 0 || (uint64_t)k >= n || !read_person(res, r, &out[k]))
      result = pg_corrupt(err);
    else
      found[k] = true;
  }
  PQclear(res);
  return result;
}

/* Append a COPY text field: backslash, tab, newline and CR escaped. */
static void copy_text(struct buf *b, const char *t)
{
  for (; *t; t++) {
    if (*t == '\\')
      buf_addstr(b, "\\\\");
    else if (*t == '\t')
      buf_addstr(b, "\\t");
    else if (*t == '\n')
      buf_addstr(b, "\\n");
    else if (*t == '\r')
      buf_addstr(b, "\\r");
    else
      buf_addch(b, *t);
  }
}

/* A bytea as COPY text: \\x and hex digits. */
static void copy_bytea(struct buf *b, const uint8_t *p, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  buf_addstr(b, "\\\\x");
  for (size_t i = 0; i < n; i++) {
    buf_addch(b, hex[p[i] >> 4]);
    buf_addch(b, hex[p[i] & 15]);
  }
}

static enum hmb_status pg_person_put_many(struct store *base, const struct store_person *p,
                                          size_t n, int8_t *outcome, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  struct buf a1 = BUF_INIT((size_t)64 << 20), a2 = BUF_INIT((size_t)64 << 20),
             rows = BUF_INIT((size_t)256 << 20);
  PGresult *res = NULL;
  struct bd b;
  enum hmb_status result;
  static const char hex[] = "0123456789abcdef";

  if (!n)
    return HMB_OK;
  if (pg_piped(s))
    return hmb_err_set(err, HMB_UNSUPPORTED, "store.pipeline", NULL,
                       "批量导入不能在流水线模式的连接上进行");
  /* ID numbers another person already holds: those rows are refused */
  buf_addch(&a1, '{');
  buf_addch(&a2, '{');
  for (size_t i = 0; i < n; i++) {
    outcome[i] = 0;
    buf_addstr(&a1, i ? ",\"" : "\"");
    for (const char *t = p[i].psn_no; *t; t++) {
      if (*t == '"' || *t == '\\')
        buf_addch(&a1, '\\');
      buf_addch(&a1, *t);
    }
    buf_addch(&a1, '"');
    if (i)
      buf_addch(&a2, ',');
    for (size_t k = 0; k < STORE_BIDX_LEN; k++) {
      buf_addch(&a2, hex[p[i].certno_bidx[k] >> 4]);
      buf_addch(&a2, hex[p[i].certno_bidx[k] & 15]);
    }
  }
  buf_addch(&a1, '}');
  if (buf_addch(&a2, '}')) {
    result = hmb_err_set(err, HMB_NOMEM, "store.nomem", "", "内存不足");
    goto out;
  }
  bd_start(&b);
  bd_str(&b, a1.ptr);
  bd_str(&b, a2.ptr);
  result = pg_query(s, PS_BIDX_TAKEN_MANY, &b, &res, err);
  if (result)
    goto out;
  for (int r = 0; r < PQntuples(res); r++) {
    int64_t k = col_int8(res, r, 0) - 1;
    if (k < 0 || (uint64_t)k >= n) {
      result = pg_corrupt(err);
      goto out;
    }
    outcome[k] = -1;
  }
  PQclear(res);
  res = NULL;

  /* the other rows through COPY into a session table, then one statement */
  result =
      pg_exec(s,
              "CREATE TEMP TABLE IF NOT EXISTS hmb_import (LIKE persons) ON COMMIT DELETE ROWS;"
              "TRUNCATE hmb_import",
              err);
  if (result)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const struct store_person *q = &p[i];
    if (outcome[i] < 0)
      continue;
    if (q->certno_enc_len > sizeof(q->certno_enc) || q->name_enc_len > sizeof(q->name_enc)) {
      result = hmb_err_set(err, HMB_INVALID, "store.too_long", "certno", "字段内容过长");
      goto out;
    }
    copy_text(&rows, q->psn_no);
    buf_addch(&rows, '\t');
    copy_bytea(&rows, q->certno_bidx, sizeof(q->certno_bidx));
    buf_addch(&rows, '\t');
    copy_bytea(&rows, q->certno_enc, q->certno_enc_len);
    buf_addch(&rows, '\t');
    copy_bytea(&rows, q->name_enc, q->name_enc_len);
    buf_addf(&rows, "\t%d\t%" PRId32 "\t%" PRId32 "\t%d\t%" PRId32 "\t", q->gend, q->birth,
             q->insutype, q->status, q->status_date);
    copy_text(&rows, q->admdvs);
    buf_addch(&rows, '\t');
    copy_text(&rows, q->work_admdvs);
    buf_addch(&rows, '\t');
    copy_text(&rows, q->emp_uscc);
    buf_addch(&rows, '\t');
    copy_text(&rows, q->family_id);
    buf_addf(&rows, "\t%d\t%d\t", q->relation, q->veteran_year);
    copy_text(&rows, q->groups);
    if (buf_addch(&rows, '\n')) {
      result = hmb_err_set(err, HMB_NOMEM, "store.nomem", "", "内存不足");
      goto out;
    }
  }
  res = PQexec(s->conn, "COPY hmb_import(" PERSON_COLS ") FROM STDIN");
  if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
    result = pg_fail(s, res, err);
    goto out;
  }
  PQclear(res);
  res = NULL;
  if (PQputCopyData(s->conn, rows.ptr, (int)rows.len) != 1 || PQputCopyEnd(s->conn, NULL) != 1) {
    result = pg_conn_fail(s, err);
    goto out;
  }
  res = PQgetResult(s->conn);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
    result = pg_fail(s, res, err);
    while (res) {
      PQclear(res);
      res = PQgetResult(s->conn);
    }
    goto out;
  }
  PQclear(res);
  while ((res = PQgetResult(s->conn)))
    PQclear(res);
  bd_start(&b);
  result = pg_query(s, PS_IMPORT_APPLY, &b, &res, err);
  if (result)
    goto out;
  /* hmb_import has no row numbers: match the changed rows by psn_no */
  for (int r = 0; r < PQntuples(res); r++) {
    const char *psn = PQgetvalue(res, r, 0);
    for (size_t i = 0; i < n; i++)
      if (outcome[i] == 0 && !strcmp(p[i].psn_no, psn)) {
        outcome[i] = 1;
        break;
      }
  }
out:
  PQclear(res);
  buf_release(&a1);
  buf_release(&a2);
  buf_release(&rows);
  return result;
}

/* The status of a STATUS_AT result; *found false (status 0) for no row. */
static enum hmb_status status_row(const PGresult *res, int *status, bool *found,
                                  struct hmb_err *err)
{
  struct rd r;
  *status = 0;
  *found = false;
  if (PQntuples(res) < 1)
    return HMB_OK;
  rd_start(&r, res, 0);
  *status = (int)rd_int(&r, PSN_ACTIVE, PSN_ENDED);
  if (r.bad)
    return pg_corrupt(err);
  *found = true;
  return HMB_OK;
}

static enum hmb_status pg_person_status_at(struct store *base, const char *psn_no, hmb_date day,
                                           int *status, struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  bool found;
  enum hmb_status result;
  *status = 0;
  bd_start(&b);
  bd_str(&b, psn_no);
  bd_i64(&b, day);
  result = pg_query(pg_of(base), PS_STATUS_AT, &b, &res, err);
  if (result)
    return result;
  result = status_row(res, status, &found, err);
  if (!result && !found)
    result = hmb_err_set(err, HMB_NOT_FOUND, "person.no_status", "psn_no",
                         "人员不存在，或在该日期尚无参保状态");
  PQclear(res);
  return result;
}

/* Reads row `row` of a list result into element i of out. */

/*
 * Run list statement id with text keys k1 (and k2 when not NULL) and the
 * row limit max as the last parameter; read up to max rows with fn.
 * *n = rows read; 0 on failure.
 */
static enum hmb_status pg_list(struct pg *s, enum pg_stmt id, const char *k1, const char *k2,
                               size_t max, pg_read_fn *fn, void *out, size_t *n,
                               struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  enum hmb_status result;
  int i;

  *n = 0;
  if (!max)
    return HMB_OK;
  bd_start(&b);
  bd_str(&b, k1);
  if (k2)
    bd_str(&b, k2);
  bd_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
  result = pg_query(s, id, &b, &res, err);
  if (result)
    return result;
  for (i = 0; i < PQntuples(res) && *n < max; i++) {
    if (!fn(res, i, out, *n)) {
      result = pg_corrupt(err);
      *n = 0;
      break;
    }
    (*n)++;
  }
  PQclear(res);
  return result;
}

static enum hmb_status pg_family(struct store *base, const char *family_id,
                                 struct store_person *out, size_t max, size_t *n,
                                 struct hmb_err *err)
{
  *n = 0;
  /* "" means "no family": those people are not one family */
  if (!family_id || !*family_id)
    return HMB_OK;
  return pg_list(pg_of(base), PS_FAMILY, family_id, NULL, max, read_person_at, out, n, err);
}

static enum hmb_status pg_person_count(struct store *base, int64_t *n, struct hmb_err *err)
{
  return pg_count(pg_of(base), PS_PERSON_COUNT, n, err);
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

static bool read_enrollment(const PGresult *res, int row, struct store_enrollment *e)
{
  struct rd r;
  memset(e, 0, sizeof(*e));
  rd_start(&r, res, row);
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

static enum hmb_status pg_enrollment_put(struct store *base, const struct store_enrollment *e,
                                         struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bind_enrollment(&b, e);
  return pg_run(pg_of(base), PS_ENR_PUT, &b, NULL, err);
}

static bool read_enrollment_at(const PGresult *res, int row, void *out, size_t i)
{
  return read_enrollment(res, row, (struct store_enrollment *)out + i);
}

static enum hmb_status pg_enrollment_get(struct store *base, const char *plan_id,
                                         const char *psn_no, struct store_enrollment *out,
                                         struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  return pg_one(pg_of(base), PS_ENR_GET, &b, read_enrollment_at, out, "enrollment.not_found",
                "psn_no", "参保记录不存在", err);
}

static enum hmb_status pg_enrollment_by_policy(struct store *base, const char *policy_no,
                                               struct store_enrollment *out, struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_str(&b, policy_no);
  return pg_one(pg_of(base), PS_ENR_BY_POLICY, &b, read_enrollment_at, out, "enrollment.not_found",
                "policy_no", "参保记录不存在", err);
}

static enum hmb_status pg_enrollments_of(struct store *base, const char *psn_no,
                                         struct store_enrollment *out, size_t max, size_t *n,
                                         struct hmb_err *err)
{
  return pg_list(pg_of(base), PS_ENR_OF, psn_no, NULL, max, read_enrollment_at, out, n, err);
}

/* One row, one column: the RETURNING value of an insert, within [lo, hi]. */
static enum hmb_status pg_returning(struct pg *s, enum pg_stmt id, const struct bd *b, int64_t lo,
                                    int64_t hi, int64_t *out, bool *found, struct hmb_err *err)
{
  PGresult *res;
  struct rd r;
  enum hmb_status result = pg_query(s, id, b, &res, err);
  *out = 0;
  *found = false;
  if (result)
    return result;
  if (PQntuples(res) > 1) {
    result = pg_corrupt(err);
  } else if (PQntuples(res) == 1) {
    rd_start(&r, res, 0);
    *out = rd_int(&r, lo, hi);
    if (r.bad)
      result = pg_corrupt(err);
    else
      *found = true;
  }
  PQclear(res);
  return result;
}

/* One statement, atomic across servers: the row lock of the upsert orders them. */
static enum hmb_status pg_policy_seq_next(struct store *base, const char *plan_id, int64_t *out,
                                          struct hmb_err *err)
{
  struct bd b;
  bool found;
  enum hmb_status result;
  bd_start(&b);
  bd_text(&b, plan_id, PLAN_ID_MAX);
  result = pg_returning(pg_of(base), PS_POLICY_SEQ, &b, 1, INT64_MAX, out, &found, err);
  if (!result && !found)
    result = pg_corrupt(err);
  if (result)
    *out = 0;
  return result;
}

static enum hmb_status pg_payment_add(struct store *base, struct store_payment *p,
                                      struct hmb_err *err)
{
  struct bd b;
  bool found;
  int64_t id;
  enum hmb_status result;
  bd_start(&b);
  bd_text(&b, p->policy_no, sizeof(p->policy_no));
  bd_i64(&b, p->channel);
  bd_text(&b, p->payer, sizeof(p->payer));
  bd_i64(&b, p->amount);
  bd_i64(&b, p->at);
  result = pg_returning(pg_of(base), PS_PAYMENT_ADD, &b, 1, INT64_MAX, &id, &found, err);
  if (!result && !found)
    result = pg_corrupt(err);
  if (!result)
    p->id = id;
  return result;
}

/* ---- sponsors ---- */

/*
 * On update only name and budget change: spent moves only through
 * sponsor_spend(). A budget below what is already spent fails the
 * sponsor_budget check (HMB_CONFLICT "sponsor.budget").
 */
static enum hmb_status pg_sponsor_put(struct store *base, const struct store_sponsor *sp,
                                      struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_text(&b, sp->id, sizeof(sp->id));
  bd_text(&b, sp->name, sizeof(sp->name));
  bd_i64(&b, sp->budget);
  bd_i64(&b, sp->spent);
  return pg_run(pg_of(base), PS_SPONSOR_PUT, &b, NULL, err);
}

static enum hmb_status pg_sponsor_get(struct store *base, const char *id, struct store_sponsor *out,
                                      struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  bd_start(&b);
  bd_str(&b, id);
  result = pg_query(pg_of(base), PS_SPONSOR_GET, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0) {
    memset(out, 0, sizeof(*out));
    rd_start(&r, res, 0);
    rd_text(&r, out->id, sizeof(out->id));
    rd_text(&r, out->name, sizeof(out->name));
    out->budget = RD_I64(&r);
    out->spent = RD_I64(&r);
    if (r.bad)
      result = pg_corrupt(err);
  } else {
    result = hmb_err_set(err, HMB_NOT_FOUND, "sponsor.not_found", "sponsor", "资助方不存在");
  }
  PQclear(res);
  return result;
}

/*
 * One conditional UPDATE: the budget condition is evaluated on the row as
 * locked (READ COMMITTED re-reads a row another transaction changed), so
 * two servers can never overspend together. No row changed means an
 * unknown sponsor or a refused amount; a second query tells which. The
 * transaction stays usable either way, as with SQLite.
 */
static enum hmb_status pg_sponsor_spend(struct store *base, const char *id, hmb_fen amount,
                                        struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  PGresult *res;
  struct bd b;
  int64_t changed;
  enum hmb_status result;

  if (amount > HMB_FEN_LIMIT || amount < -HMB_FEN_LIMIT)
    return hmb_err_set(err, HMB_OVERFLOW, "sponsor.amount", "amount", "金额超出允许范围");
  bd_start(&b);
  bd_str(&b, id);
  bd_i64(&b, amount);
  result = pg_run(s, PS_SPONSOR_SPEND, &b, &changed, err);
  if (result || changed)
    return result;
  bd_start(&b);
  bd_str(&b, id);
  result = pg_query(s, PS_SPONSOR_KNOWN, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0)
    result = hmb_err_set(err, HMB_CONFLICT, "sponsor.budget", "budget",
                         "资助资金预算不足（已用金额不能超过预算，也不能为负）");
  else
    result = hmb_err_set(err, HMB_NOT_FOUND, "sponsor.not_found", "sponsor", "资助方不存在");
  PQclear(res);
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

/* The record (and response) of a SETL_GET result; *found false for no row. */
static enum hmb_status setl_row(const PGresult *res, struct store_setl *out, struct buf *response,
                                bool *found, struct hmb_err *err)
{
  struct rd r;
  enum hmb_status result;
  *found = false;
  if (PQntuples(res) < 1)
    return HMB_OK;
  rd_start(&r, res, 0);
  if (!read_setl(&r, out))
    return pg_corrupt(err);
  result = rd_append(&r, response, err);
  *found = !result;
  return result;
}

static enum hmb_status pg_setl_get(struct store *base, const char *setl_id, int kind,
                                   struct store_setl *out, struct buf *response,
                                   struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  bool found;
  enum hmb_status result;
  bd_start(&b);
  bd_str(&b, setl_id);
  bd_i64(&b, kind);
  result = pg_query(pg_of(base), PS_SETL_GET, &b, &res, err);
  if (result)
    return result;
  result = setl_row(res, out, response, &found, err);
  if (!result && !found)
    result = hmb_err_set(err, HMB_NOT_FOUND, "setl.not_found", "setl_id", "结算记录不存在");
  PQclear(res);
  return result;
}

/*
 * Insert the record, chained after the person's last one (the state row
 * is locked for the read), then make it the last one. A record with the
 * same (setl_id, kind) already there, or committed meanwhile by another
 * server, is HMB_CONFLICT "store.unique" without an error on the server,
 * so the caller's transaction stays usable.
 */
static enum hmb_status pg_setl_put(struct store *base, struct store_setl *r, const char *request,
                                   const char *response, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  struct bd b;
  bool found;
  int64_t seq;
  enum hmb_status result;

  if (r->contrib_len > sizeof(r->contrib))
    return hmb_err_set(err, HMB_INVALID, "store.too_long", "contrib", "字段内容过长");
  bd_start(&b);
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
  if (pg_piped(s)) {
    /* queued: a duplicate is then a server error (23505, "store.unique"),
     * which makes the server skip the rest of the job's pipeline */
    r->seq = 0;
    return pg_send(s, PS_SETL_PUT_STRICT, &b, err);
  }
  result = pg_returning(s, PS_SETL_PUT, &b, 1, INT64_MAX, &seq, &found, err);
  if (result)
    return result;
  if (!found)
    return hmb_err_set(err, HMB_CONFLICT, "store.unique", "settlements_setl_id_kind_key",
                       "记录已存在（同一 setl_id 的同类结算记录已存在）");
  r->seq = seq;
  return HMB_OK;
}

static enum hmb_status pg_setl_mark_reversed(struct store *base, const char *setl_id,
                                             struct hmb_err *err)
{
  struct bd b;
  int64_t changed;
  enum hmb_status result;
  bd_start(&b);
  bd_str(&b, setl_id);
  bd_i64(&b, SETL_SETTLE);
  result = pg_run(pg_of(base), PS_SETL_MARK, &b, &changed, err);
  if (!result && !changed)
    result = hmb_err_set(err, HMB_NOT_FOUND, "setl.not_found", "setl_id", "结算记录不存在");
  return result;
}

/*
 * The person's chain from states.last_seq back to `after`, walked by one
 * recursive query on the server (one round trip), read forwards.
 */
static enum hmb_status pg_setl_of_person(struct store *base, const char *plan_id,
                                         const char *psn_no, int64_t after, struct store_setl *out,
                                         size_t max, size_t *n, struct buf *requests,
                                         struct hmb_err *err)
{
  size_t len0 = requests ? requests->len : 0;
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  int i;

  *n = 0;
  if (!max)
    return HMB_OK;
  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  bd_i64(&b, after);
  bd_i64(&b, max > INT64_MAX ? INT64_MAX : (int64_t)max);
  result = pg_query(pg_of(base), PS_SETL_OF, &b, &res, err);
  if (result)
    return result;
  for (i = 0; !result && i < PQntuples(res) && *n < max; i++) {
    rd_start(&r, res, i);
    if (!read_setl(&r, &out[*n])) {
      result = pg_corrupt(err);
    } else if (requests) {
      /* '\n' between requests, also across pages appended to one buffer */
      if (requests->len && (result = buf_addch(requests, '\n')))
        result = pg_buf_fail(result, err);
      if (!result)
        result = rd_append(&r, requests, err);
    }
    if (!result)
      (*n)++;
  }
  PQclear(res);
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

static enum hmb_status pg_setl_count(struct store *base, int64_t *n, struct hmb_err *err)
{
  return pg_count(pg_of(base), PS_SETL_COUNT, n, err);
}

/* ---- year states ---- */

/* The blob of a STATE_GET / STATE_LOCK result; *found false for none or
 * an empty blob (no state). */
static enum hmb_status state_row(const PGresult *res, struct buf *blob, bool *found,
                                 struct hmb_err *err)
{
  struct rd r;
  enum hmb_status result;
  *found = false;
  if (PQntuples(res) < 1 || PQgetlength(res, 0, 0) == 0)
    return HMB_OK;
  rd_start(&r, res, 0);
  result = rd_append(&r, blob, err);
  *found = !result;
  return result;
}

/*
 * In a write transaction the person's state row is created (empty) when
 * missing and locked until the transaction ends: a second server settling
 * the same person waits here, then reads the first one's committed state
 * (the lock is taken by its own statement, with a fresh snapshot, after
 * the insert). An empty blob still reads as no state. In a read
 * transaction nothing is locked.
 */
static enum hmb_status pg_state_get(struct store *base, const char *plan_id, const char *psn_no,
                                    struct buf *blob, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  PGresult *res;
  struct bd b;
  bool found;
  bool lock = s->write && s->in_tx;
  enum hmb_status result;

  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  if (lock) {
    /* pipeline mode: in one round trip with the locking read */
    result = pg_defer(s, PS_STATE_ENSURE, &b, err);
    if (result)
      return result;
  }
  result = pg_query(s, lock ? PS_STATE_LOCK : PS_STATE_GET, &b, &res, err);
  if (result)
    return result;
  result = state_row(res, blob, &found, err);
  if (!result && !found)
    result = hmb_err_set(err, HMB_NOT_FOUND, "state.not_found", "psn_no",
                         "该人员在此方案下尚无年度状态");
  PQclear(res);
  return result;
}

static enum hmb_status pg_state_put(struct store *base, const char *plan_id, const char *psn_no,
                                    const void *blob, size_t len, struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  bd_blob(&b, blob, len);
  return pg_defer(pg_of(base), PS_STATE_PUT, &b, err);
}

/*
 * The four reads of a settlement in one round trip (pipeline mode; else
 * one call after the other): the record, the enrollment, the status on
 * the day and the year state, created empty and locked in a write
 * transaction as pg_state_get() does.
 */
static enum hmb_status pg_setl_reads(struct store *base, const char *setl_id, int kind,
                                     const char *plan_id, const char *psn_no, hmb_date day,
                                     struct store_setl_reads *out, struct buf *response,
                                     struct buf *blob, struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  PGresult *res[4];
  struct bd b;
  bool found;
  bool lock = s->write && s->in_tx;
  enum hmb_status result = HMB_OK;

  if (!pg_piped(s))
    return store_setl_reads_each(base, setl_id, kind, plan_id, psn_no, day, out, response, blob,
                                 err);
  memset(out, 0, sizeof(*out));
  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  if (lock)
    result = pg_send(s, PS_STATE_ENSURE, &b, err);
  if (!result)
    result = pg_send(s, PS_ENR_GET, &b, err);
  bd_start(&b);
  bd_str(&b, setl_id);
  bd_i64(&b, kind);
  if (!result)
    result = pg_send(s, PS_SETL_GET, &b, err);
  bd_start(&b);
  bd_str(&b, plan_id);
  bd_str(&b, psn_no);
  if (!result)
    result = pg_send(s, lock ? PS_STATE_LOCK : PS_STATE_GET, &b, err);
  bd_start(&b);
  bd_str(&b, psn_no);
  bd_i64(&b, day);
  if (!result)
    result = pg_send(s, PS_STATUS_AT, &b, err);
  if (!result)
    result = pg_drain_n(s, res, 4, err);
  if (result)
    return result;
  /* res: enrollment, record, state, status (the last four statements:
   * ENSURE's result, first, is dropped) */
  result = setl_row(res[1], &out->prior, response, &out->prior_found, err);
  if (!result && PQntuples(res[0]) > 0) {
    if (!read_enrollment(res[0], 0, &out->enr))
      result = pg_corrupt(err);
    out->enr_found = !result;
  }
  if (!result)
    result = state_row(res[2], blob, &out->state_found, err);
  if (!result)
    result = status_row(res[3], &out->status, &found, err);
  for (int i = 0; i < 4; i++)
    PQclear(res[i]);
  return result;
}

static bool read_psn_at(const PGresult *res, int row, void *out, size_t i)
{
  struct rd r;
  rd_start(&r, res, row);
  rd_text(&r, ((char(*)[SETL_ID_MAX])out)[i], SETL_ID_MAX);
  return !r.bad;
}

static enum hmb_status pg_state_people(struct store *base, const char *plan_id, const char *after,
                                       char (*psn)[SETL_ID_MAX], size_t max, size_t *n,
                                       struct hmb_err *err)
{
  return pg_list(pg_of(base), PS_STATE_PEOPLE, plan_id, after ? after : "", max, read_psn_at, psn,
                 n, err);
}

/* ---- the server's log: nothing to do ---- */

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static enum hmb_status pg_lock_keys(struct store *base, int64_t *keys, size_t n,
                                    struct hmb_err *err)
{
  struct pg *s = pg_of(base);
  struct buf arr = BUF_INIT(1u << 20);
  struct bd b;
  enum hmb_status result;
  if (!n)
    return HMB_OK;
  qsort(keys, n, sizeof(*keys), cmp_i64);
  buf_addch(&arr, '{');
  for (size_t i = 0; i < n; i++)
    buf_addf(&arr, "%s%" PRId64, i ? "," : "", keys[i]);
  if (buf_addch(&arr, '}')) {
    buf_release(&arr);
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "", "内存不足");
  }
  bd_start(&b);
  bd_str(&b, arr.ptr);
  /* pipeline mode: with BEGIN and the group's first read */
  result = pg_defer(s, PS_LOCK_KEYS, &b, err);
  buf_release(&arr);
  return result;
}

static enum hmb_status pg_checkpoint(struct store *base, struct hmb_err *err)
{
  (void)base;
  (void)err;
  return HMB_OK;
}

static enum hmb_status pg_autocheckpoint(struct store *base, bool on, struct hmb_err *err)
{
  (void)base;
  (void)on;
  (void)err;
  return HMB_OK;
}

/* Deferral is ignored: every commit is durable (synchronous_commit=on). */
static enum hmb_status pg_deferred_sync(struct store *base, bool on, struct hmb_err *err)
{
  (void)base;
  (void)on;
  (void)err;
  return HMB_OK;
}

/* Takes effect at the next begin() of a write transaction. */
static enum hmb_status pg_pipeline(struct store *base, bool on, struct hmb_err *err)
{
  (void)err;
  pg_of(base)->pipe_want = on;
  return HMB_OK;
}

static enum hmb_status pg_sync(struct store *base, struct hmb_err *err)
{
  (void)base;
  (void)err;
  return HMB_OK;
}

/* ---- API keys ---- */

static enum hmb_status pg_key_put(struct store *base, const struct store_key *k,
                                  struct hmb_err *err)
{
  struct bd b;
  bd_start(&b);
  bd_blob(&b, k->hash, sizeof(k->hash));
  bd_text(&b, k->name, sizeof(k->name));
  bd_i64(&b, k->role);
  bd_text(&b, k->sponsor, sizeof(k->sponsor));
  bd_i64(&b, k->revoked);
  return pg_run(pg_of(base), PS_KEY_PUT, &b, NULL, err);
}

static enum hmb_status pg_key_get(struct store *base, const uint8_t hash[32], struct store_key *out,
                                  struct hmb_err *err)
{
  PGresult *res;
  struct bd b;
  struct rd r;
  enum hmb_status result;
  bd_start(&b);
  bd_blob(&b, hash, 32);
  result = pg_query(pg_of(base), PS_KEY_GET, &b, &res, err);
  if (result)
    return result;
  if (PQntuples(res) > 0) {
    memset(out, 0, sizeof(*out));
    rd_start(&r, res, 0);
    rd_blob(&r, out->hash, sizeof(out->hash), NULL);
    rd_text(&r, out->name, sizeof(out->name));
    out->role = RD_I8(&r);
    rd_text(&r, out->sponsor, sizeof(out->sponsor));
    out->revoked = RD_I8(&r);
    if (r.bad)
      result = pg_corrupt(err);
  } else {
    result = hmb_err_set(err, HMB_NOT_FOUND, "key.not_found", "key", "API 密钥不存在");
  }
  PQclear(res);
  return result;
}

/* ---- the ops table and open ---- */

static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .meta_get = pg_meta_get,
    .meta_put = pg_meta_put,
    .plan_put = pg_plan_put,
    .plan_get = pg_plan_get,
    .plan_ids = pg_plan_ids,
    .person_put = pg_person_put,
    .person_get = pg_person_get,
    .person_by_bidx = pg_person_by_bidx,
    .person_status_at = pg_person_status_at,
    .family = pg_family,
    .person_count = pg_person_count,
    .enrollment_put = pg_enrollment_put,
    .enrollment_get = pg_enrollment_get,
    .enrollment_by_policy = pg_enrollment_by_policy,
    .enrollments_of = pg_enrollments_of,
    .policy_seq_next = pg_policy_seq_next,
    .payment_add = pg_payment_add,
    .sponsor_put = pg_sponsor_put,
    .sponsor_get = pg_sponsor_get,
    .sponsor_spend = pg_sponsor_spend,
    .setl_get = pg_setl_get,
    .setl_put = pg_setl_put,
    .setl_mark_reversed = pg_setl_mark_reversed,
    .setl_of_person = pg_setl_of_person,
    .setl_count = pg_setl_count,
    .state_get = pg_state_get,
    .state_put = pg_state_put,
    .state_people = pg_state_people,
    .checkpoint = pg_checkpoint,
    .autocheckpoint = pg_autocheckpoint,
    .deferred_sync = pg_deferred_sync,
    .setl_reads = pg_setl_reads,
    .pipeline = pg_pipeline,
    .lock_keys = pg_lock_keys,
    .person_get_many = pg_person_get_many,
    .person_put_many = pg_person_put_many,
    .sync = pg_sync,
    .key_put = pg_key_put,
    .key_get = pg_key_get,
};

enum hmb_status store_pg_open(struct store **out, const char *url, struct hmb_err *err)
{
  struct pg *s;
  enum hmb_status result;

  *out = NULL;
  if (!url || !*url)
    return hmb_err_set(err, HMB_INVALID, "store.url", "db", "未指定数据库 URL");
  s = hmb_calloc(1, sizeof(*s));
  if (!s)
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "db", "内存不足");
  s->base.ops = &pg_ops;
  {
    /*
     * GSSAPI encryption is off unless the URL asks for it: hmb talks to
     * its database over loopback or a private network with TLS where
     * needed (sslmode), and trying GSS loads Kerberos on every connect.
     * (Kerberos exports profile_init() and profile_release(); hmb's
     * regulatory profiles are named regprofile_* so as not to clash.)
     * The URL's own settings, expanded from dbname, override this default.
     */
    static const char *const keys[] = {"gssencmode", "dbname", NULL};
    const char *vals[] = {"disable", url, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
  }
  if (!s->conn) {
    free(s);
    return hmb_err_set(err, HMB_NOMEM, "store.nomem", "db", "内存不足");
  }
  result = pg_session(s, err);
  if (!result)
    result = pg_migrate(s, err);
  if (result) {
    pg_close(&s->base);
    return result;
  }
  *out = &s->base;
  return HMB_OK;
}

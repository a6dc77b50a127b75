/*
 * test_store.c - the store behind store.h: schema migration, records,
 * constraints mapped to hmb statuses, transactions and savepoints, several
 * handles. The table of cases runs against SQLite (a fresh file per test)
 * and, when HMB_TEST_PG holds a server URL, against PostgreSQL (a database
 * created for this run, its schema emptied before each test, dropped at
 * the end); without HMB_TEST_PG the PostgreSQL cases are skipped.
 */
#include "compat.h"
#include "store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* ---- fixture: a fresh database per test ---- */

struct fx {
  bool pg;        /* PostgreSQL; else a SQLite file */
  char dir[64];   /* SQLite: the temp directory */
  char path[512]; /* store_open() URL: the SQLite file, or the PostgreSQL URL */
  struct store *s;
};

static struct hmb_err E;

/* PostgreSQL: the URL of the database made for this run and a connection to it. */
static char pg_url[512];
static PGconn *pg_admin;

#define OK(call)                                                                                   \
  do {                                                                                             \
    enum hmb_status r_;                                                                            \
    hmb_err_init(&E);                                                                              \
    r_ = (call);                                                                                   \
    if (r_ != HMB_OK)                                                                              \
      fail_msg("%s: %s %s %s %s", #call, hmb_status_name(r_), E.code, E.field, E.message);         \
  } while (0)

#define IS(want, call)                                                                             \
  do {                                                                                             \
    enum hmb_status r_;                                                                            \
    hmb_err_init(&E);                                                                              \
    r_ = (call);                                                                                   \
    if (r_ != (want))                                                                              \
      fail_msg("%s: got %s (%s %s), want %s", #call, hmb_status_name(r_), E.code, E.message,       \
               hmb_status_name(want));                                                             \
  } while (0)

/* The code of a uniqueness violation and of another database error. */
static const char *unique_code(const struct fx *f)
{
  return f->pg ? "store.unique" : "store.conflict";
}

static const char *db_error_code(const struct fx *f)
{
  return f->pg ? "store.pg" : "store.sqlite";
}

static void fx_files_remove(const struct fx *f)
{
  static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
  char p[600];
  size_t i;
  for (i = 0; i < ARRAY_SIZE(sfx); i++) {
    snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
    unlink(p);
  }
  rmdir(f->dir);
}

static int fx_setup(void **state)
{
  struct fx *f = hmb_calloc(1, sizeof(*f));
  if (!f)
    return -1;
  snprintf(f->dir, sizeof(f->dir), "/tmp/hmb_store_XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof(f->path), "%s/hmb.db", f->dir);
  hmb_err_init(&E);
  if (store_open(&f->s, f->path, &E) != HMB_OK) {
    print_error("store_open: %s %s\n", E.code, E.message);
    fx_files_remove(f);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int fx_teardown(void **state)
{
  struct fx *f = *state;
  store_close(f->s);
  if (!f->pg)
    fx_files_remove(f);
  free(f);
  return 0;
}

/* PostgreSQL: constant SQL on the run's database through the admin connection. */
static bool pg_admin_exec(const char *sql)
{
  PGresult *res = PQexec(pg_admin, sql);
  bool ok =
      res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
  if (!ok)
    print_error("%s: %s\n", sql, PQerrorMessage(pg_admin));
  PQclear(res);
  return ok;
}

/* An empty database: no tables, no schema version. */
static bool pg_empty(void)
{
  return pg_admin_exec("DROP SCHEMA public CASCADE") && pg_admin_exec("CREATE SCHEMA public");
}

static int fx_setup_pg(void **state)
{
  struct fx *f = hmb_calloc(1, sizeof(*f));
  if (!f)
    return -1;
  f->pg = true;
  snprintf(f->path, sizeof(f->path), "%s", pg_url);
  hmb_err_init(&E);
  if (!pg_empty() || store_open(&f->s, f->path, &E) != HMB_OK) {
    print_error("store_open: %s %s\n", E.code, E.message);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

/* Run one constant statement on the database behind the store's back. */
static void raw_exec(const struct fx *f, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;
  if (f->pg) {
    if (!pg_admin_exec(sql))
      fail_msg("%s", sql);
    return;
  }
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("%s: %s", sql, msg);
  sqlite3_close(db);
}

static int64_t raw_count(const struct fx *f, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t n;
  if (f->pg) {
    PGresult *res = PQexec(pg_admin, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
      fail_msg("%s: %s", sql, PQerrorMessage(pg_admin));
    n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
  }
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* ---- record makers ---- */

static void mk_person(struct store_person *p, const char *psn_no, uint8_t seed, const char *family)
{
  memset(p, 0, sizeof(*p));
  snprintf(p->psn_no, sizeof(p->psn_no), "%s", psn_no);
  memset(p->certno_bidx, seed, sizeof(p->certno_bidx));
  p->certno_enc_len = 60;
  memset(p->certno_enc, seed ^ 0x5a, p->certno_enc_len);
  p->name_enc_len = 45;
  memset(p->name_enc, seed ^ 0xa5, p->name_enc_len);
  p->gend = 1;
  p->birth = date_from_ymd(1980, 5, 17);
  p->insutype = 390;
  p->status = PSN_ACTIVE;
  p->status_date = date_from_ymd(2024, 1, 1);
  snprintf(p->admdvs, sizeof(p->admdvs), "330100");
  snprintf(p->family_id, sizeof(p->family_id), "%s", family);
  p->relation = *family ? REL_HEAD : REL_NONE;
  snprintf(p->groups, sizeof(p->groups), "medical_assistance");
}

static void mk_enrollment(struct store_enrollment *e, const char *policy_no, const char *plan_id,
                          const char *psn_no, int year)
{
  memset(e, 0, sizeof(*e));
  snprintf(e->policy_no, sizeof(e->policy_no), "%s", policy_no);
  snprintf(e->plan_id, sizeof(e->plan_id), "%s", plan_id);
  snprintf(e->psn_no, sizeof(e->psn_no), "%s", psn_no);
  e->year = year;
  e->status = ENR_PENDING;
  e->channel = CH_ONLINE;
  snprintf(e->payer, sizeof(e->payer), "%s", psn_no);
  e->premium = 8900;
  e->enrolled_on = date_from_ymd(year - 1, 11, 3);
  e->cover_start = date_from_ymd(year, 1, 1);
  e->loyalty_years = 2;
  e->created_at = date_time(e->enrolled_on) + 3600;
  e->updated_at = e->created_at;
}

static void mk_setl(struct store_setl *r, const char *setl_id, int kind, const char *plan_id,
                    const char *psn_no, hmb_fen payout)
{
  memset(r, 0, sizeof(*r));
  snprintf(r->setl_id, sizeof(r->setl_id), "%s", setl_id);
  r->kind = (int8_t)kind;
  snprintf(r->plan_id, sizeof(r->plan_id), "%s", plan_id);
  snprintf(r->psn_no, sizeof(r->psn_no), "%s", psn_no);
  snprintf(r->policy_no, sizeof(r->policy_no), "P-%s", psn_no);
  r->setl_time = date_time(date_from_ymd(2025, 3, 4)) + 37800;
  r->eligible = payout * 2;
  r->payout = payout;
  r->family_adjust = -12;
  r->contrib_len = 5;
  memcpy(r->contrib, "\x01\x00\x02\xff\x03", 5);
  r->created_at = r->setl_time + 5;
}

static void put_plan(struct store *s, const char *plan_id)
{
  static const char json[] = "{\"plan_id\":\"x\"}";
  OK(s->ops->plan_put(s, plan_id, json, sizeof(json) - 1, &E));
}

static void put_person(struct store *s, const char *psn_no, uint8_t seed, const char *family)
{
  struct store_person p;
  bool changed;
  mk_person(&p, psn_no, seed, family);
  OK(s->ops->person_put(s, &p, &changed, &E));
}

/* ---- schema ---- */

static void test_store__migrate_and_reopen(void **state)
{
  struct fx *f = *state;
  int version = 0;
  OK(store_schema_version(f->s, &version, &E));
  assert_int_equal(version, STORE_SCHEMA_VERSION);
  assert_string_equal(f->s->ops->name, f->pg ? "postgres" : "sqlite");
  store_close(f->s);
  f->s = NULL;

  OK(store_open(&f->s, f->path, &E));
  OK(store_schema_version(f->s, &version, &E));
  assert_int_equal(version, 1);
  /* reopening migrated nothing again */
  assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 1);
  store_close(f->s);
  f->s = NULL;
  if (f->pg) {
    /* the "postgres://" form of the URL opens the same database */
    char url[600];
    assert_int_equal(strncmp(f->path, "postgresql://", 13), 0);
    snprintf(url, sizeof(url), "postgres://%s", f->path + 13);
    OK(store_open(&f->s, url, &E));
    assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 1);
    return;
  }
  assert_int_equal(raw_count(f, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
  /* the "sqlite:" URL form opens the same file */
  {
    char url[600];
    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    OK(store_open(&f->s, url, &E));
  }
}

static void test_store__newer_schema_refused(void **state)
{
  struct fx *f = *state;
  struct store *s2 = (struct store *)&E; /* any non-NULL value: must be reset */
  raw_exec(f, "INSERT INTO schema_version(version) VALUES(99)");
  IS(HMB_UNSUPPORTED, store_open(&s2, f->path, &E));
  assert_null(s2);
  assert_string_equal(E.code, "store.schema_newer");
  assert_non_null(strstr(E.message, "99"));
}

static void test_store__open_errors(void **state)
{
  struct store *s2;
  (void)state;
  IS(HMB_INVALID, store_open(&s2, "", &E));
  IS(HMB_IO, store_open(&s2, "/nonexistent-dir-hmb/x/y.db", &E));
  assert_null(s2);
}

struct opener {
  const char *path;
  enum hmb_status result;
  int version;
  struct hmb_err err;
};

static void *open_thread(void *arg)
{
  struct opener *o = arg;
  struct store *s = NULL;
  hmb_err_init(&o->err);
  o->result = store_open(&s, o->path, &o->err);
  if (!o->result)
    o->result = store_schema_version(s, &o->version, &o->err);
  store_close(s);
  return NULL;
}

/* Several handles opening one new file at once: exactly one migrates. */
static void test_store__concurrent_open(void **state)
{
  struct fx *f = *state;
  struct fx g = {0};
  struct opener o[6];
  pthread_t t[6];
  size_t i;

  snprintf(g.dir, sizeof(g.dir), "%s", f->dir);
  snprintf(g.path, sizeof(g.path), "%s/new.db", f->dir);
  for (i = 0; i < ARRAY_SIZE(o); i++) {
    o[i].path = g.path;
    o[i].result = HMB_IO;
    assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
  }
  for (i = 0; i < ARRAY_SIZE(o); i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < ARRAY_SIZE(o); i++) {
    if (o[i].result)
      fail_msg("open %zu: %s %s %s", i, o[i].err.code, o[i].err.field, o[i].err.message);
    assert_int_equal(o[i].version, STORE_SCHEMA_VERSION);
  }
  assert_int_equal(raw_count(&g, "SELECT count(*) FROM schema_version"), 1);
  {
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char p[600];
    for (i = 0; i < ARRAY_SIZE(sfx); i++) {
      snprintf(p, sizeof(p), "%s%s", g.path, sfx[i]);
      unlink(p);
    }
  }
}

/* PostgreSQL: several handles opening one empty database at once: one migrates. */
static void test_store__pg_concurrent_migrate(void **state)
{
  struct fx *f = *state;
  struct opener o[8];
  pthread_t t[8];
  size_t i;

  store_close(f->s);
  f->s = NULL;
  assert_true(pg_empty());
  assert_int_equal(raw_count(f, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
  for (i = 0; i < ARRAY_SIZE(o); i++) {
    o[i].path = f->path;
    o[i].result = HMB_IO;
    assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
  }
  for (i = 0; i < ARRAY_SIZE(o); i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < ARRAY_SIZE(o); i++) {
    if (o[i].result)
      fail_msg("open %zu: %s %s %s", i, o[i].err.code, o[i].err.field, o[i].err.message);
    assert_int_equal(o[i].version, STORE_SCHEMA_VERSION);
  }
  assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 1);
  OK(store_open(&f->s, f->path, &E));
}

static void test_store__pg_open_errors(void **state)
{
  struct store *s2 = (struct store *)&E;
  (void)state;
  /* port 1 on loopback: nobody listens */
  IS(HMB_IO, store_open(&s2, "postgresql://hmb@127.0.0.1:1/hmb?connect_timeout=5", &E));
  assert_null(s2);
  assert_string_equal(E.code, "store.connection");
}

/* ---- meta and plans ---- */

static void test_store__meta_and_plans(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct buf b = BUF_INIT(1 << 20);

  IS(HMB_NOT_FOUND, s->ops->meta_get(s, "k", &b, &E));
  assert_string_equal(E.field, "key");
  OK(s->ops->meta_put(s, "k", "v1", &E));
  OK(s->ops->meta_put(s, "k", "值2", &E));
  OK(s->ops->meta_get(s, "k", &b, &E));
  assert_string_equal(b.ptr, "值2");
  buf_reset(&b);

  OK(s->ops->plan_ids(s, &b, &E));
  assert_int_equal(b.len, 0);
  put_plan(s, "zj-2025");
  put_plan(s, "hz-2025");
  OK(s->ops->plan_put(s, "hz-2025", "{\"v\":2}", 7, &E));
  OK(s->ops->plan_ids(s, &b, &E));
  assert_string_equal(b.ptr, "hz-2025;zj-2025");
  buf_reset(&b);
  OK(s->ops->plan_get(s, "hz-2025", &b, &E));
  assert_string_equal(b.ptr, "{\"v\":2}");
  IS(HMB_NOT_FOUND, s->ops->plan_get(s, "nope", &b, &E));
  assert_string_equal(E.code, "plan.not_found");
  assert_string_equal(E.field, "plan_id");
  buf_release(&b);
}

/* ---- persons ---- */

enum person_edit { ED_NONE, ED_NAME, ED_GROUPS, ED_STATUS };

static const struct {
  enum person_edit edit;
  int status;
  int ymd[3]; /* status date */
  bool changed;
} person_steps[] = {
    {ED_NONE, PSN_ACTIVE, {2024, 1, 1}, true},      /* insert */
    {ED_NONE, PSN_ACTIVE, {2024, 1, 1}, false},     /* identical */
    {ED_NAME, PSN_ACTIVE, {2024, 1, 1}, true},      /* name ciphertext differs */
    {ED_NAME, PSN_ACTIVE, {2024, 1, 1}, false},     /* same again */
    {ED_GROUPS, PSN_ACTIVE, {2024, 1, 1}, true},    /* groups differ, no history row */
    {ED_STATUS, PSN_SUSPENDED, {2024, 6, 1}, true}, /* history row */
    {ED_STATUS, PSN_ENDED, {2024, 6, 1}, true},     /* same day: replaces */
    {ED_STATUS, PSN_ENDED, {2024, 6, 1}, false},    {ED_STATUS, PSN_ACTIVE, {2025, 1, 1}, true},
};

static const struct {
  int ymd[3];
  enum hmb_status result;
  int status;
} status_at[] = {
    {{2023, 12, 31}, HMB_NOT_FOUND, 0},  {{2024, 1, 1}, HMB_OK, PSN_ACTIVE},
    {{2024, 5, 31}, HMB_OK, PSN_ACTIVE}, {{2024, 6, 1}, HMB_OK, PSN_ENDED},
    {{2024, 12, 31}, HMB_OK, PSN_ENDED}, {{2025, 1, 1}, HMB_OK, PSN_ACTIVE},
    {{2199, 1, 1}, HMB_OK, PSN_ACTIVE},
};

static void test_store__person_put_and_history(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_person p, got;
  size_t i;
  int64_t n;

  mk_person(&p, "33010000000001", 7, "");
  for (i = 0; i < ARRAY_SIZE(person_steps); i++) {
    bool changed = !person_steps[i].changed;
    if (person_steps[i].edit == ED_NAME)
      p.name_enc[3] = 0x42;
    if (person_steps[i].edit == ED_GROUPS) {
      memset(p.groups, 0, sizeof(p.groups)); /* the comparison below is bytewise */
      snprintf(p.groups, sizeof(p.groups), "veteran;disabled");
    }
    p.status = (int8_t)person_steps[i].status;
    p.status_date =
        date_from_ymd(person_steps[i].ymd[0], person_steps[i].ymd[1], person_steps[i].ymd[2]);
    OK(s->ops->begin(s, STORE_TX_WRITE, &E));
    OK(s->ops->person_put(s, &p, &changed, &E));
    OK(s->ops->commit(s, &E));
    if (changed != person_steps[i].changed)
      fail_msg("step %zu: changed = %d", i, changed);
    OK(s->ops->person_get(s, p.psn_no, &got, &E));
    if (memcmp(&got, &p, sizeof(p)))
      fail_msg("step %zu: stored person differs", i);
  }
  for (i = 0; i < ARRAY_SIZE(status_at); i++) {
    int st = -1;
    hmb_date d = date_from_ymd(status_at[i].ymd[0], status_at[i].ymd[1], status_at[i].ymd[2]);
    IS(status_at[i].result, s->ops->person_status_at(s, p.psn_no, d, &st, &E));
    if (st != status_at[i].status)
      fail_msg("status_at %d-%d-%d = %d", status_at[i].ymd[0], status_at[i].ymd[1],
               status_at[i].ymd[2], st);
  }
  assert_int_equal(raw_count(f, "SELECT count(*) FROM person_status"), 3);
  {
    int st;
    IS(HMB_NOT_FOUND, s->ops->person_status_at(s, "nobody", 30000, &st, &E));
    assert_string_equal(E.field, "psn_no");
  }

  OK(s->ops->person_by_bidx(s, p.certno_bidx, &got, &E));
  assert_string_equal(got.psn_no, p.psn_no);
  {
    uint8_t other[STORE_BIDX_LEN] = {0};
    IS(HMB_NOT_FOUND, s->ops->person_by_bidx(s, other, &got, &E));
    assert_string_equal(E.code, "person.not_found");
  }
  IS(HMB_NOT_FOUND, s->ops->person_get(s, "nobody", &got, &E));
  assert_string_equal(E.code, "person.not_found");
  assert_string_equal(E.field, "psn_no");
  assert_string_equal(E.message, "人员不存在");

  /* another person with the same ID number (blind index) */
  {
    struct store_person q;
    bool changed = true;
    mk_person(&q, "33010000000002", 7, "");
    IS(HMB_CONFLICT, s->ops->person_put(s, &q, &changed, &E));
    assert_false(changed);
    assert_string_equal(E.code, unique_code(f));
    assert_non_null(strstr(E.field, "certno_bidx"));
  }
  OK(s->ops->person_count(s, &n, &E));
  assert_int_equal(n, 1);
}

static void test_store__person_rejects(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_person p;
  bool changed;

  /* an unterminated string is refused, not truncated */
  mk_person(&p, "x", 1, "");
  memset(p.admdvs, '3', sizeof(p.admdvs));
  IS(HMB_INVALID, s->ops->person_put(s, &p, &changed, &E));
  assert_string_equal(E.code, "store.too_long");
  /* a value outside the schema's CHECK */
  mk_person(&p, "x", 1, "");
  p.status = 7;
  IS(HMB_IO, s->ops->person_put(s, &p, &changed, &E));
  assert_string_equal(E.code, db_error_code(f));
  /* a stored text longer than its field is corruption, never truncated */
  put_person(s, "y", 2, "");
  raw_exec(f, "UPDATE persons SET admdvs = '3301000000' WHERE psn_no = 'y'");
  IS(HMB_IO, s->ops->person_get(s, "y", &p, &E));
  assert_string_equal(E.code, "store.corrupt");
}

static void test_store__family(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_person out[STORE_LIST_MAX];
  size_t n = 99;

  put_person(s, "c", 3, "F1");
  put_person(s, "a", 1, "F1");
  put_person(s, "d", 4, "F2");
  put_person(s, "b", 2, "F1");
  put_person(s, "e", 5, "");
  OK(s->ops->family(s, "F1", out, ARRAY_SIZE(out), &n, &E));
  assert_int_equal(n, 3);
  assert_string_equal(out[0].psn_no, "a");
  assert_string_equal(out[1].psn_no, "b");
  assert_string_equal(out[2].psn_no, "c");
  assert_string_equal(out[2].family_id, "F1");
  OK(s->ops->family(s, "F1", out, 2, &n, &E));
  assert_int_equal(n, 2);
  assert_string_equal(out[1].psn_no, "b");
  OK(s->ops->family(s, "F9", out, ARRAY_SIZE(out), &n, &E));
  assert_int_equal(n, 0);
  OK(s->ops->family(s, "", out, ARRAY_SIZE(out), &n, &E));
  assert_int_equal(n, 0);
}

/* ---- enrollments, policy numbers, payments ---- */

static void test_store__enrollments(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_enrollment e, got, list[STORE_LIST_MAX];
  struct store_payment pay;
  size_t n;

  put_plan(s, "hz-2024");
  put_plan(s, "hz-2025");
  put_person(s, "p1", 1, "");
  put_person(s, "p2", 2, "");

  mk_enrollment(&e, "HZ2024-1", "hz-2024", "p1", 2024);
  OK(s->ops->enrollment_put(s, &e, &E));
  mk_enrollment(&e, "HZ2025-1", "hz-2025", "p1", 2025);
  OK(s->ops->enrollment_put(s, &e, &E));
  OK(s->ops->enrollment_get(s, "hz-2025", "p1", &got, &E));
  assert_memory_equal(&got, &e, sizeof(e));

  /* update by policy_no */
  e.status = ENR_ACTIVE;
  e.paid = 8900;
  snprintf(e.group, sizeof(e.group), "senior");
  OK(s->ops->enrollment_put(s, &e, &E));
  OK(s->ops->enrollment_by_policy(s, "HZ2025-1", &got, &E));
  assert_memory_equal(&got, &e, sizeof(e));

  OK(s->ops->enrollments_of(s, "p1", list, ARRAY_SIZE(list), &n, &E));
  assert_int_equal(n, 2);
  assert_int_equal(list[0].year, 2025);
  assert_int_equal(list[1].year, 2024);
  OK(s->ops->enrollments_of(s, "p1", list, 1, &n, &E));
  assert_int_equal(n, 1);
  OK(s->ops->enrollments_of(s, "p2", list, ARRAY_SIZE(list), &n, &E));
  assert_int_equal(n, 0);

  /* one policy per person and plan */
  mk_enrollment(&e, "HZ2025-2", "hz-2025", "p1", 2025);
  IS(HMB_CONFLICT, s->ops->enrollment_put(s, &e, &E));
  assert_string_equal(E.code, unique_code(f));
  /* unknown person or plan */
  mk_enrollment(&e, "HZ2025-3", "hz-2025", "ghost", 2025);
  IS(HMB_NOT_FOUND, s->ops->enrollment_put(s, &e, &E));
  assert_string_equal(E.code, "store.reference");
  mk_enrollment(&e, "HZ2025-3", "nope", "p2", 2025);
  IS(HMB_NOT_FOUND, s->ops->enrollment_put(s, &e, &E));

  IS(HMB_NOT_FOUND, s->ops->enrollment_get(s, "hz-2025", "p2", &got, &E));
  assert_string_equal(E.code, "enrollment.not_found");
  IS(HMB_NOT_FOUND, s->ops->enrollment_by_policy(s, "none", &got, &E));
  assert_string_equal(E.field, "policy_no");

  memset(&pay, 0, sizeof(pay));
  snprintf(pay.policy_no, sizeof(pay.policy_no), "HZ2025-1");
  pay.channel = CH_PERSONAL_ACCOUNT;
  snprintf(pay.payer, sizeof(pay.payer), "p1");
  pay.amount = 8900;
  pay.at = 1700000000;
  OK(s->ops->payment_add(s, &pay, &E));
  assert_true(pay.id > 0);
  {
    int64_t first = pay.id;
    pay.amount = -8900;
    OK(s->ops->payment_add(s, &pay, &E));
    assert_true(pay.id > first);
  }
  snprintf(pay.policy_no, sizeof(pay.policy_no), "none");
  IS(HMB_NOT_FOUND, s->ops->payment_add(s, &pay, &E));
}

static void test_store__policy_seq(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  static const struct {
    const char *plan;
    int64_t want;
  } steps[] = {{"A", 1}, {"A", 2}, {"B", 1}, {"A", 3}, {"B", 2}};
  size_t i;
  int64_t v;

  put_plan(s, "A");
  put_plan(s, "B");
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  for (i = 0; i < ARRAY_SIZE(steps); i++) {
    OK(s->ops->policy_seq_next(s, steps[i].plan, &v, &E));
    if (v != steps[i].want)
      fail_msg("step %zu: %s -> %" PRId64, i, steps[i].plan, v);
  }
  OK(s->ops->commit(s, &E));

  /* a rolled-back transaction gives its numbers back */
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->policy_seq_next(s, "A", &v, &E));
  assert_int_equal(v, 4);
  s->ops->rollback(s);
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->policy_seq_next(s, "A", &v, &E));
  assert_int_equal(v, 4);
  OK(s->ops->commit(s, &E));
  IS(HMB_NOT_FOUND, s->ops->policy_seq_next(s, "unknown-plan", &v, &E));
}

/* ---- sponsors ---- */

static void test_store__sponsor_spend(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_sponsor sp, got;
  static const struct {
    hmb_fen amount;
    enum hmb_status result;
    hmb_fen spent; /* afterwards */
  } steps[] = {
      {40000, HMB_OK, 40000},    {60000, HMB_OK, 100000}, /* exactly the budget */
      {1, HMB_CONFLICT, 100000}, {-100000, HMB_OK, 0},    /* refund */
      {-1, HMB_CONFLICT, 0},     {100001, HMB_CONFLICT, 0}, {HMB_FEN_LIMIT + 1, HMB_OVERFLOW, 0},
  };
  size_t i;

  memset(&sp, 0, sizeof(sp));
  snprintf(sp.id, sizeof(sp.id), "red-cross");
  snprintf(sp.name, sizeof(sp.name), "红十字会");
  sp.budget = 100000;
  OK(s->ops->sponsor_put(s, &sp, &E));
  for (i = 0; i < ARRAY_SIZE(steps); i++) {
    OK(s->ops->begin(s, STORE_TX_WRITE, &E));
    IS(steps[i].result, s->ops->sponsor_spend(s, "red-cross", steps[i].amount, &E));
    if (steps[i].result == HMB_CONFLICT) {
      assert_string_equal(E.code, "sponsor.budget");
      assert_non_null(strstr(E.message, "资助资金预算不足"));
    }
    OK(s->ops->commit(s, &E));
    OK(s->ops->sponsor_get(s, "red-cross", &got, &E));
    if (got.spent != steps[i].spent)
      fail_msg("step %zu: spent %" PRId64, i, got.spent);
  }
  assert_string_equal(got.name, "红十字会");
  assert_int_equal(got.budget, 100000);

  /* an update keeps the ledger; a budget below spent is refused */
  OK(s->ops->sponsor_spend(s, "red-cross", 500, &E));
  sp.budget = 1000;
  OK(s->ops->sponsor_put(s, &sp, &E));
  OK(s->ops->sponsor_get(s, "red-cross", &got, &E));
  assert_int_equal(got.spent, 500);
  assert_int_equal(got.budget, 1000);
  sp.budget = 499;
  IS(HMB_CONFLICT, s->ops->sponsor_put(s, &sp, &E));
  assert_string_equal(E.code, "sponsor.budget");

  IS(HMB_NOT_FOUND, s->ops->sponsor_spend(s, "nobody", 1, &E));
  IS(HMB_NOT_FOUND, s->ops->sponsor_get(s, "nobody", &got, &E));
}

/* ---- settlements ---- */

static void test_store__setl_put_get(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_setl r, rev, got;
  struct buf resp = BUF_INIT(1 << 20);
  int64_t n;

  mk_setl(&r, "S1", SETL_SETTLE, "hz-2025", "p1", 12345);
  OK(s->ops->setl_put(s, &r, "{\"req\":1}", "{\"resp\":\"一\"}", &E));
  assert_true(r.seq > 0);
  OK(s->ops->setl_get(s, "S1", SETL_SETTLE, &got, &resp, &E));
  assert_memory_equal(&got, &r, sizeof(r));
  assert_string_equal(resp.ptr, "{\"resp\":\"一\"}");
  OK(s->ops->setl_get(s, "S1", SETL_SETTLE, &got, NULL, &E));

  /* the same request twice */
  IS(HMB_CONFLICT, s->ops->setl_put(s, &r, "{}", "{}", &E));
  assert_string_equal(E.code, unique_code(f));
  IS(HMB_NOT_FOUND, s->ops->setl_get(s, "S1", SETL_REVERSAL, &got, NULL, &E));
  assert_string_equal(E.field, "setl_id");

  /* its reversal: same setl_id, other kind */
  mk_setl(&rev, "S1", SETL_REVERSAL, "hz-2025", "p1", -12345);
  OK(s->ops->setl_put(s, &rev, "{}", "{}", &E));
  assert_true(rev.seq > r.seq);
  OK(s->ops->setl_mark_reversed(s, "S1", &E));
  OK(s->ops->setl_get(s, "S1", SETL_SETTLE, &got, NULL, &E));
  assert_int_equal(got.reversed, 1);
  OK(s->ops->setl_get(s, "S1", SETL_REVERSAL, &got, NULL, &E));
  assert_int_equal(got.reversed, 0);
  assert_int_equal(got.payout, -12345);
  IS(HMB_NOT_FOUND, s->ops->setl_mark_reversed(s, "S404", &E));
  OK(s->ops->setl_count(s, &n, &E));
  assert_int_equal(n, 2);
  buf_release(&resp);
}

static void test_store__setl_of_person(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  static const struct {
    const char *id, *plan, *psn;
  } put[] = {
      {"S1", "A", "p1"}, {"S2", "A", "p2"}, {"S3", "A", "p1"}, {"S4", "B", "p1"}, {"S5", "A", "p1"},
  };
  struct store_setl r, out[STORE_LIST_MAX];
  struct buf req = BUF_INIT(1 << 20);
  int64_t seq[ARRAY_SIZE(put)];
  char text[32];
  size_t i, n;

  for (i = 0; i < ARRAY_SIZE(put); i++) {
    mk_setl(&r, put[i].id, SETL_SETTLE, put[i].plan, put[i].psn, 100);
    snprintf(text, sizeof(text), "{\"id\":\"%s\"}", put[i].id);
    OK(s->ops->setl_put(s, &r, text, "{}", &E));
    seq[i] = r.seq;
  }
  OK(s->ops->setl_of_person(s, "A", "p1", 0, out, ARRAY_SIZE(out), &n, &req, &E));
  assert_int_equal(n, 3);
  assert_string_equal(out[0].setl_id, "S1");
  assert_string_equal(out[1].setl_id, "S3");
  assert_string_equal(out[2].setl_id, "S5");
  assert_int_equal(out[2].seq, seq[4]);
  assert_string_equal(req.ptr, "{\"id\":\"S1\"}\n{\"id\":\"S3\"}\n{\"id\":\"S5\"}");

  buf_reset(&req);
  OK(s->ops->setl_of_person(s, "A", "p1", seq[2], out, ARRAY_SIZE(out), &n, &req, &E));
  assert_int_equal(n, 1);
  assert_string_equal(out[0].setl_id, "S5");
  assert_string_equal(req.ptr, "{\"id\":\"S5\"}");

  OK(s->ops->setl_of_person(s, "A", "p1", 0, out, 2, &n, NULL, &E));
  assert_int_equal(n, 2);
  assert_string_equal(out[1].setl_id, "S3");
  OK(s->ops->setl_of_person(s, "A", "p1", seq[4], out, ARRAY_SIZE(out), &n, NULL, &E));
  assert_int_equal(n, 0);
  OK(s->ops->setl_of_person(s, "B", "p2", 0, out, ARRAY_SIZE(out), &n, NULL, &E));
  assert_int_equal(n, 0);

  /* a request that does not fit leaves the buffer as it was */
  {
    struct buf small = BUF_INIT(16);
    OK(buf_addstr(&small, "x"));
    IS(HMB_TOO_LARGE, s->ops->setl_of_person(s, "A", "p1", 0, out, 3, &n, &small, &E));
    assert_int_equal(n, 0);
    assert_string_equal(small.ptr, "x");
    buf_release(&small);
  }
  buf_release(&req);
}

/* ---- year states ---- */

static void test_store__state(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct buf b = BUF_INIT(1 << 20);
  static const uint8_t v1[] = {0, 1, 2, 0, 255};
  static const uint8_t v2[] = {9, 0};

  IS(HMB_NOT_FOUND, s->ops->state_get(s, "A", "p1", &b, &E));
  OK(s->ops->state_put(s, "A", "p1", v1, sizeof(v1), &E));
  OK(s->ops->state_put(s, "B", "p1", v2, sizeof(v2), &E));
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_int_equal(b.len, sizeof(v1));
  assert_memory_equal(b.ptr, v1, sizeof(v1));
  buf_reset(&b);
  OK(s->ops->state_put(s, "A", "p1", v2, sizeof(v2), &E));
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_int_equal(b.len, sizeof(v2));
  assert_memory_equal(b.ptr, v2, sizeof(v2));
  buf_reset(&b);
  /* an empty state is no state (a settlement links its person first) */
  OK(s->ops->state_put(s, "C", "p1", NULL, 0, &E));
  IS(HMB_NOT_FOUND, s->ops->state_get(s, "C", "p1", &b, &E));
  buf_release(&b);
}

/* ---- transactions ---- */

static bool meta_has(struct store *s, const char *key)
{
  struct buf b = BUF_INIT(1024);
  enum hmb_status result = s->ops->meta_get(s, key, &b, NULL);
  buf_release(&b);
  if (result && result != HMB_NOT_FOUND)
    fail_msg("meta_get %s: %s", key, hmb_status_name(result));
  return !result;
}

static void test_store__savepoint(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;

  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "before", "1", &E));
  OK(s->ops->savepoint(s, &E));
  OK(s->ops->meta_put(s, "job1", "1", &E));
  s->ops->rollback_to(s);
  /* the savepoint is gone */
  IS(HMB_IO, s->ops->release(s, &E));
  OK(s->ops->savepoint(s, &E));
  OK(s->ops->meta_put(s, "job2", "1", &E));
  OK(s->ops->release(s, &E));
  OK(s->ops->commit(s, &E));

  OK(s->ops->begin(s, STORE_TX_READ, &E));
  assert_true(meta_has(s, "before"));
  assert_false(meta_has(s, "job1"));
  assert_true(meta_has(s, "job2"));
  OK(s->ops->commit(s, &E));
}

static void test_store__rollback(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_setl r;
  int64_t n;

  s->ops->rollback(s); /* no transaction: harmless */
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "a", "1", &E));
  put_person(s, "p1", 1, "");
  mk_setl(&r, "S1", SETL_SETTLE, "A", "p1", 1);
  OK(s->ops->setl_put(s, &r, "{}", "{}", &E));
  OK(s->ops->savepoint(s, &E));
  OK(s->ops->meta_put(s, "b", "1", &E));
  s->ops->rollback(s);

  assert_false(meta_has(s, "a"));
  assert_false(meta_has(s, "b"));
  OK(s->ops->person_count(s, &n, &E));
  assert_int_equal(n, 0);
  OK(s->ops->setl_count(s, &n, &E));
  assert_int_equal(n, 0);
  /* the handle is usable again */
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "c", "1", &E));
  OK(s->ops->commit(s, &E));
  assert_true(meta_has(s, "c"));
}

/*
 * Deferred writes (store.h pipeline()): whether a backend runs a write at
 * once or with the next call that reads, a job sees its own writes, a
 * failed write is reported by release() at the latest and undone by
 * rollback_to(), and a rollback with a failing write still queued leaves
 * the handle usable.
 */
static void test_store__pipeline(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_setl r, got;
  struct buf b = BUF_INIT(1 << 20);
  static const uint8_t v1[] = {1, 2, 3};
  static const uint8_t v2[] = {4, 5};
  enum hmb_status st;
  int64_t n;

  put_plan(s, "A");
  put_person(s, "p1", 1, "");
  OK(s->ops->pipeline(s, true, &E));
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->lock_keys(s, (int64_t[]){7, 3}, 2, &E));
  /* job 1: stored */
  OK(s->ops->savepoint(s, &E));
  IS(HMB_NOT_FOUND, s->ops->setl_get(s, "S1", SETL_SETTLE, &got, NULL, &E));
  IS(HMB_NOT_FOUND, s->ops->state_get(s, "A", "p1", &b, &E));
  mk_setl(&r, "S1", SETL_SETTLE, "A", "p1", 100);
  OK(s->ops->setl_put(s, &r, "{}", "{\"n\":1}", &E));
  OK(s->ops->state_put(s, "A", "p1", v1, sizeof(v1), &E));
  OK(s->ops->release(s, &E));
  /* job 2: a duplicate record, found now or at release */
  OK(s->ops->savepoint(s, &E));
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_memory_equal(b.ptr, v1, sizeof(v1));
  buf_reset(&b);
  OK(s->ops->state_put(s, "A", "p1", v2, sizeof(v2), &E));
  hmb_err_init(&E);
  st = s->ops->setl_put(s, &r, "{}", "{}", &E);
  if (!st)
    st = s->ops->release(s, &E);
  assert_int_equal(st, HMB_CONFLICT);
  assert_string_equal(E.code, unique_code(f));
  s->ops->rollback_to(s);
  /* job 3: fails in the caller after queuing a write */
  OK(s->ops->savepoint(s, &E));
  OK(s->ops->state_put(s, "A", "p1", v2, sizeof(v2), &E));
  s->ops->rollback_to(s);
  /* what jobs 2 and 3 wrote is gone, job 1's is there */
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_int_equal(b.len, sizeof(v1));
  assert_memory_equal(b.ptr, v1, sizeof(v1));
  buf_reset(&b);
  OK(s->ops->commit(s, &E));

  OK(s->ops->begin(s, STORE_TX_READ, &E));
  OK(s->ops->setl_get(s, "S1", SETL_SETTLE, &got, &b, &E));
  assert_string_equal(b.ptr, "{\"n\":1}");
  buf_reset(&b);
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_memory_equal(b.ptr, v1, sizeof(v1));
  buf_reset(&b);
  OK(s->ops->setl_count(s, &n, &E));
  assert_int_equal(n, 1);
  OK(s->ops->commit(s, &E));

  /* a rollback with a failing write queued */
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->state_put(s, "A", "p1", v2, sizeof(v2), &E));
  (void)s->ops->setl_put(s, &r, "{}", "{}", &E);
  s->ops->rollback(s);
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "after", "1", &E));
  OK(s->ops->commit(s, &E));
  assert_true(meta_has(s, "after"));
  OK(s->ops->begin(s, STORE_TX_READ, &E));
  OK(s->ops->state_get(s, "A", "p1", &b, &E));
  assert_memory_equal(b.ptr, v1, sizeof(v1));
  OK(s->ops->commit(s, &E));
  OK(s->ops->pipeline(s, false, &E));
  buf_release(&b);
}

/* setl_reads is the four reads it names, whether pipelined or not. */
static void test_store__setl_reads(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_setl r;
  struct store_enrollment e;
  struct store_setl_reads got;
  struct buf resp = BUF_INIT(1 << 20), blob = BUF_INIT(1 << 20);
  static const uint8_t v1[] = {7, 0, 7};

  put_plan(s, "A");
  put_person(s, "p1", 1, "");
  mk_enrollment(&e, "POL1", "A", "p1", 2025);
  OK(s->ops->enrollment_put(s, &e, &E));
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  mk_setl(&r, "S1", SETL_SETTLE, "A", "p1", 100);
  OK(s->ops->setl_put(s, &r, "{}", "{\"a\":1}", &E));
  OK(s->ops->state_put(s, "A", "p1", v1, sizeof(v1), &E));
  OK(s->ops->commit(s, &E));
  for (int piped = 0; piped < 2; piped++) {
    OK(s->ops->pipeline(s, piped, &E));
    OK(s->ops->begin(s, STORE_TX_WRITE, &E));
    OK(s->ops->savepoint(s, &E));
    OK(s->ops->setl_reads(s, "S1", SETL_SETTLE, "A", "p1", date_from_ymd(2025, 6, 1), &got, &resp,
                          &blob, &E));
    assert_true(got.prior_found);
    assert_int_equal(got.prior.payout, 100);
    assert_string_equal(resp.ptr, "{\"a\":1}");
    assert_true(got.enr_found);
    assert_string_equal(got.enr.policy_no, "POL1");
    assert_int_equal(got.status, PSN_ACTIVE);
    assert_true(got.state_found);
    assert_int_equal(blob.len, sizeof(v1));
    assert_memory_equal(blob.ptr, v1, sizeof(v1));
    buf_reset(&resp);
    buf_reset(&blob);
    /* nothing of it: every flag down, no error */
    OK(s->ops->setl_reads(s, "S2", SETL_REVERSAL, "B", "p9", date_from_ymd(2025, 6, 1), &got, &resp,
                          &blob, &E));
    assert_false(got.prior_found);
    assert_false(got.enr_found);
    assert_int_equal(got.status, 0);
    assert_false(got.state_found);
    assert_int_equal(resp.len, 0);
    assert_int_equal(blob.len, 0);
    OK(s->ops->release(s, &E));
    s->ops->rollback(s);
  }
  OK(s->ops->pipeline(s, false, &E));
  buf_release(&resp);
  buf_release(&blob);
}

/* ---- keys ---- */

static void test_store__keys(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_key k, got;

  memset(&k, 0, sizeof(k));
  memset(k.hash, 0xab, sizeof(k.hash));
  snprintf(k.name, sizeof(k.name), "hospital-1");
  k.role = ROLE_HOSPITAL;
  IS(HMB_NOT_FOUND, s->ops->key_get(s, k.hash, &got, &E));
  assert_string_equal(E.code, "key.not_found");
  OK(s->ops->key_put(s, &k, &E));
  OK(s->ops->key_get(s, k.hash, &got, &E));
  assert_memory_equal(&got, &k, sizeof(k));
  k.revoked = 1;
  OK(s->ops->key_put(s, &k, &E));
  OK(s->ops->key_get(s, k.hash, &got, &E));
  assert_int_equal(got.revoked, 1);

  k.hash[0] = 1;
  k.role = ROLE_SPONSOR;
  snprintf(k.sponsor, sizeof(k.sponsor), "red-cross");
  k.revoked = 0;
  OK(s->ops->key_put(s, &k, &E));
  OK(s->ops->key_get(s, k.hash, &got, &E));
  assert_string_equal(got.sponsor, "red-cross");
  k.role = 9;
  IS(HMB_IO, s->ops->key_put(s, &k, &E));
}

/* ---- several handles ---- */

static void test_store__second_handle(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s, *t = NULL;

  OK(store_open(&t, f->path, &E));
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "k", "v", &E));
  /* not visible before commit */
  OK(t->ops->begin(t, STORE_TX_READ, &E));
  assert_false(meta_has(t, "k"));
  OK(t->ops->commit(t, &E));
  OK(s->ops->commit(s, &E));

  OK(t->ops->begin(t, STORE_TX_READ, &E));
  assert_true(meta_has(t, "k"));
  OK(t->ops->commit(t, &E));
  store_close(t);
}

/* ---- PostgreSQL: several servers on one database ---- */

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct locker {
  struct store *s;
  const char *plan, *psn;
  atomic_int done;
  uint64_t t_got;
  enum hmb_status result;
  struct hmb_err err;
  struct buf blob;
};

/* Begin a write transaction, read (and lock) one state, commit or roll back. */
static void *locker_thread(void *arg)
{
  struct locker *l = arg;
  struct store *s = l->s;
  hmb_err_init(&l->err);
  l->result = s->ops->begin(s, STORE_TX_WRITE, &l->err);
  if (!l->result)
    l->result = s->ops->state_get(s, l->plan, l->psn, &l->blob, &l->err);
  l->t_got = now_ns();
  atomic_store(&l->done, 1);
  if (!l->result)
    l->result = s->ops->commit(s, &l->err);
  else
    s->ops->rollback(s);
  return NULL;
}

/*
 * Two connections settling the same person: A reads the state in a write
 * transaction (and so locks it); B's read in its own write transaction
 * waits until A commits, then sees A's state. A read transaction does not
 * wait.
 */
static void test_store__pg_state_lock(void **state)
{
  struct fx *f = *state;
  struct store *a = f->s, *b = NULL, *c = NULL;
  static const uint8_t v0[] = {1, 2, 3}, v1[] = {4, 5, 6, 7};
  struct buf got = BUF_INIT(1 << 20);
  struct locker l = {.plan = "A", .psn = "p1", .blob = BUF_INIT(1 << 20)};
  pthread_t t;
  uint64_t t_commit;

  OK(a->ops->state_put(a, "A", "p1", v0, sizeof(v0), &E));
  OK(store_open(&b, f->path, &E));
  OK(store_open(&c, f->path, &E));
  l.s = b;

  OK(a->ops->begin(a, STORE_TX_WRITE, &E));
  OK(a->ops->state_get(a, "A", "p1", &got, &E));
  assert_memory_equal(got.ptr, v0, sizeof(v0));
  assert_int_equal(pthread_create(&t, NULL, locker_thread, &l), 0);
  usleep(300 * 1000);
  assert_int_equal(atomic_load(&l.done), 0); /* B waits for A */

  /* a reader does not wait, and sees the committed state */
  buf_reset(&got);
  OK(c->ops->begin(c, STORE_TX_READ, &E));
  OK(c->ops->state_get(c, "A", "p1", &got, &E));
  assert_memory_equal(got.ptr, v0, sizeof(v0));
  OK(c->ops->commit(c, &E));

  OK(a->ops->state_put(a, "A", "p1", v1, sizeof(v1), &E));
  t_commit = now_ns();
  OK(a->ops->commit(a, &E));
  pthread_join(t, NULL);
  if (l.result)
    fail_msg("B: %s %s", l.err.code, l.err.message);
  assert_true(l.t_got >= t_commit);
  assert_int_equal(l.blob.len, sizeof(v1));
  assert_memory_equal(l.blob.ptr, v1, sizeof(v1));

  /* a person without a state: the first write transaction's row locks too */
  buf_reset(&l.blob);
  l.psn = "p2";
  atomic_store(&l.done, 0);
  OK(a->ops->begin(a, STORE_TX_WRITE, &E));
  IS(HMB_NOT_FOUND, a->ops->state_get(a, "A", "p2", &got, &E));
  assert_int_equal(pthread_create(&t, NULL, locker_thread, &l), 0);
  usleep(300 * 1000);
  assert_int_equal(atomic_load(&l.done), 0);
  OK(a->ops->state_put(a, "A", "p2", v0, sizeof(v0), &E));
  t_commit = now_ns();
  OK(a->ops->commit(a, &E));
  pthread_join(t, NULL);
  if (l.result)
    fail_msg("B: %s %s", l.err.code, l.err.message);
  assert_true(l.t_got >= t_commit);
  assert_memory_equal(l.blob.ptr, v0, sizeof(v0));

  store_close(b);
  store_close(c);
  buf_release(&l.blob);
  buf_release(&got);
}

struct dl {
  struct store *s;
  atomic_int step; /* 1: B holds y; 2: A holds x, go */
  enum hmb_status result;
  struct hmb_err err;
};

/* B: lock y, then x. */
static void *dl_thread(void *arg)
{
  struct dl *d = arg;
  struct store *s = d->s;
  struct buf b = BUF_INIT(1 << 20);
  hmb_err_init(&d->err);
  d->result = s->ops->begin(s, STORE_TX_WRITE, &d->err);
  if (!d->result && s->ops->state_get(s, "A", "y", &b, &d->err) != HMB_NOT_FOUND)
    d->result = HMB_IO;
  atomic_store(&d->step, 1);
  while (atomic_load(&d->step) != 2)
    usleep(1000);
  if (!d->result) {
    d->result = s->ops->state_get(s, "A", "x", &b, &d->err);
    if (d->result == HMB_NOT_FOUND)
      d->result = HMB_OK;
  }
  if (!d->result)
    d->result = s->ops->commit(s, &d->err);
  else
    s->ops->rollback(s);
  buf_release(&b);
  return NULL;
}

/* Two servers locking two people in opposite orders: one of them gets
 * HMB_CONFLICT "store.retry" (a deadlock), the other goes on. */
static void test_store__pg_deadlock_retry(void **state)
{
  struct fx *f = *state;
  struct store *a = f->s;
  struct buf got = BUF_INIT(1 << 20);
  struct dl d = {0};
  struct hmb_err ea;
  enum hmb_status ra;
  pthread_t t;

  OK(store_open(&d.s, f->path, &E));
  OK(a->ops->begin(a, STORE_TX_WRITE, &E));
  IS(HMB_NOT_FOUND, a->ops->state_get(a, "A", "x", &got, &E));
  assert_int_equal(pthread_create(&t, NULL, dl_thread, &d), 0);
  while (atomic_load(&d.step) != 1)
    usleep(1000);
  atomic_store(&d.step, 2);
  usleep(200 * 1000); /* B now waits for x */
  hmb_err_init(&ea);
  ra = a->ops->state_get(a, "A", "y", &got, &ea);
  if (ra == HMB_NOT_FOUND)
    ra = a->ops->commit(a, &ea);
  else
    a->ops->rollback(a);
  pthread_join(t, NULL);
  if (ra == HMB_OK) {
    assert_int_equal(d.result, HMB_CONFLICT);
    assert_string_equal(d.err.code, "store.retry");
  } else {
    assert_int_equal(ra, HMB_CONFLICT);
    assert_string_equal(ea.code, "store.retry");
    assert_int_equal(d.result, HMB_OK);
  }
  store_close(d.s);
  buf_release(&got);
}

/*
 * After a failed statement the server aborts the transaction (unlike
 * SQLite); the expected refusals do not, and a commit after a failure
 * says that nothing was committed.
 */
static void test_store__pg_errors_in_tx(void **state)
{
  struct fx *f = *state;
  struct store *s = f->s;
  struct store_setl r;
  struct store_enrollment e;
  struct store_person p;
  struct store_sponsor sp;
  bool changed;

  put_plan(s, "A");
  put_person(s, "p1", 1, "");
  memset(&sp, 0, sizeof(sp));
  snprintf(sp.id, sizeof(sp.id), "sp");
  sp.budget = 10;
  OK(s->ops->sponsor_put(s, &sp, &E));

  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  mk_setl(&r, "S1", SETL_SETTLE, "A", "p1", 1);
  OK(s->ops->setl_put(s, &r, "{}", "{}", &E));
  IS(HMB_CONFLICT, s->ops->setl_put(s, &r, "{}", "{}", &E));
  assert_string_equal(E.code, "store.unique");
  IS(HMB_CONFLICT, s->ops->sponsor_spend(s, "sp", 11, &E));
  assert_string_equal(E.code, "sponsor.budget");
  mk_person(&p, "p2", 1, ""); /* p1's ID number */
  IS(HMB_CONFLICT, s->ops->person_put(s, &p, &changed, &E));
  assert_string_equal(E.code, "store.unique");
  OK(s->ops->meta_put(s, "k", "v", &E)); /* still usable */
  OK(s->ops->commit(s, &E));
  assert_true(meta_has(s, "k"));

  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "k2", "v", &E));
  mk_enrollment(&e, "P1", "A", "ghost", 2025);
  IS(HMB_NOT_FOUND, s->ops->enrollment_put(s, &e, &E));
  assert_string_equal(E.code, "store.reference");
  IS(HMB_IO, s->ops->meta_put(s, "k3", "v", &E));
  assert_string_equal(E.code, "store.aborted");
  IS(HMB_IO, s->ops->commit(s, &E));
  assert_string_equal(E.code, "store.aborted");
  assert_false(meta_has(s, "k2"));

  /* a failure inside the savepoint is undone by rollback_to alone */
  OK(s->ops->begin(s, STORE_TX_WRITE, &E));
  OK(s->ops->meta_put(s, "k4", "v", &E));
  OK(s->ops->savepoint(s, &E));
  IS(HMB_NOT_FOUND, s->ops->enrollment_put(s, &e, &E));
  s->ops->rollback_to(s);
  OK(s->ops->meta_put(s, "k5", "v", &E));
  OK(s->ops->commit(s, &E));
  assert_true(meta_has(s, "k4"));
  assert_true(meta_has(s, "k5"));
}

/* ---- the PostgreSQL run ---- */

/* The URL of database `name` on the server of `url` (same host, user, options). */
static bool pg_url_with_db(const char *url, const char *name, char *out, size_t cap)
{
  const char *host = strstr(url, "://"), *path, *query;
  int n;
  if (!host)
    return false;
  host += 3;
  path = host + strcspn(host, "/?");
  query = strchr(path, '?');
  n = snprintf(out, cap, "%.*s/%s%s", (int)(path - url), url, name, query ? query : "");
  return n > 0 && (size_t)n < cap;
}

static char pg_dbname[40];

static bool pg_server_exec(const char *sql)
{
  PGconn *c = PQconnectdb(getenv("HMB_TEST_PG"));
  PGresult *res = NULL;
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    res = PQexec(c, sql);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
  }
  if (!ok)
    print_error("%s: %s\n", sql, PQerrorMessage(c));
  PQclear(res);
  PQfinish(c);
  return ok;
}

static void pg_quiet(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

/* A database of this run, with a random name, on the server of HMB_TEST_PG. */
static int pg_group_setup(void **state)
{
  const char *url = getenv("HMB_TEST_PG");
  uint8_t rnd[8];
  char sql[128];
  (void)state;
  randombytes_buf(rnd, sizeof(rnd));
  snprintf(pg_dbname, sizeof(pg_dbname), "hmb_test_");
  for (size_t i = 0; i < sizeof(rnd); i++)
    snprintf(pg_dbname + 9 + 2 * i, 3, "%02x", rnd[i]);
  if (!pg_url_with_db(url, pg_dbname, pg_url, sizeof(pg_url))) {
    print_error("HMB_TEST_PG: not a postgresql:// URL\n");
    return -1;
  }
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_dbname);
  if (!pg_server_exec(sql))
    return -1;
  pg_admin = PQconnectdb(pg_url);
  if (PQstatus(pg_admin) != CONNECTION_OK) {
    print_error("%s: %s\n", pg_url, PQerrorMessage(pg_admin));
    return -1;
  }
  PQsetNoticeProcessor(pg_admin, pg_quiet, NULL);
  return 0;
}

static int pg_group_teardown(void **state)
{
  char sql[128];
  (void)state;
  PQfinish(pg_admin);
  pg_admin = NULL;
  snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_dbname);
  return pg_server_exec(sql) ? 0 : -1;
}

static void test_store__pg_skipped(void **state)
{
  (void)state;
  print_message("HMB_TEST_PG is not set: the PostgreSQL cases are skipped "
                "(scripts/pg.sh start DIR; HMB_TEST_PG=$(scripts/pg.sh url DIR))\n");
  skip();
}

/* The cases that hold for every backend. */
#define COMMON_CASES(T)                                                                            \
  T(test_store__migrate_and_reopen), T(test_store__newer_schema_refused),                          \
      T(test_store__meta_and_plans), T(test_store__person_put_and_history),                        \
      T(test_store__person_rejects), T(test_store__family), T(test_store__enrollments),            \
      T(test_store__policy_seq), T(test_store__sponsor_spend), T(test_store__setl_put_get),        \
      T(test_store__setl_of_person), T(test_store__state), T(test_store__savepoint),               \
      T(test_store__rollback), T(test_store__pipeline), T(test_store__setl_reads),                 \
      T(test_store__keys), T(test_store__second_handle)

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define P(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_pg, fx_teardown)
  const struct CMUnitTest sqlite_tests[] = {
      COMMON_CASES(T),
      cmocka_unit_test(test_store__open_errors),
      T(test_store__concurrent_open),
  };
  const struct CMUnitTest pg_tests[] = {
      COMMON_CASES(P),
      cmocka_unit_test(test_store__pg_open_errors),
      P(test_store__pg_concurrent_migrate),
      P(test_store__pg_state_lock),
      P(test_store__pg_deadlock_retry),
      P(test_store__pg_errors_in_tx),
  };
  const struct CMUnitTest pg_skipped[] = {cmocka_unit_test(test_store__pg_skipped)};
#undef T
#undef P
  int rc = cmocka_run_group_tests_name("store_sqlite", sqlite_tests, NULL, NULL);
  if (getenv("HMB_TEST_PG") && *getenv("HMB_TEST_PG"))
    rc |=
        cmocka_run_group_tests_name("store_postgres", pg_tests, pg_group_setup, pg_group_teardown);
  else
    rc |= cmocka_run_group_tests_name("store_postgres", pg_skipped, NULL, NULL);
  return rc;
}

/*
 * test_svc.c - the service on a real SQLite store in a temporary
 * directory: roster import, enrollment, one-stop settlement (trial,
 * idempotent settlement, reversal), cover checks on the settlement date,
 * concurrent settlements of one person, and the recomputation check.
 * With HMB_TEST_DB_URL set (an empty PostgreSQL database) the store is
 * that database.
 */
#include "compat.h"
#include "svc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

static char dir[64];
static char db[512];
static char keyfile[128];

/* A valid GB 11643 number for region 371502, a birth date and sequence. */
static void certno(char out[19], const char *ymd, unsigned seq)
{
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  snprintf(out, 19, "371502%s%03u", ymd, seq);
  for (int i = 0; i < 17; i++)
    sum += (out[i] - '0') * w[i];
  out[17] = "10X98765432"[sum % 11];
  out[18] = '\0';
}

static struct svc *open_svc(void)
{
  struct svc_opts o;
  struct svc *svc = NULL;
  struct hmb_err err;
  memset(&o, 0, sizeof(o));
  o.db_url = db;
  o.key_file = keyfile;
  o.today = date_from_ymd(2023, 12, 10);
  hmb_err_init(&err);
  if (svc_open(&svc, &o, &err))
    fail_msg("svc_open: %s %s", err.code, err.message);
  return svc;
}

static void add_plan(struct svc *svc)
{
  struct buf json = BUF_INIT(16u << 20), id = BUF_INIT(64), path = BUF_INIT(4096);
  struct hmb_err err;
  const char *home = getenv("HMB_HOME");
  hmb_err_init(&err);
  buf_addf(&path, "%s/plans/liaocheng-2024.json", home ? home : ".");
  assert_int_equal(buf_read_file(&json, path.ptr, &err), HMB_OK);
  buf_reset(&path);
  buf_addf(&path, "%s/plans", home ? home : ".");
  if (svc_plan_add(svc, json.ptr, json.len, path.ptr, &id, &err))
    fail_msg("plan add: %s %s", err.code, err.message);
  assert_string_equal(id.ptr, "liaocheng-2024");
  /* the same plan again is accepted (idempotent) */
  buf_reset(&id);
  assert_int_equal(svc_plan_add(svc, json.ptr, json.len, path.ptr, &id, &err), HMB_OK);
  buf_release(&json);
  buf_release(&id);
  buf_release(&path);
}

static void import(struct svc *svc, const char *csv, struct svc_import_report *rep)
{
  struct hmb_err err;
  hmb_err_init(&err);
  svc_import_report_init(rep);
  if (svc_roster_import(svc, "roster.csv", csv, strlen(csv), rep, &err))
    fail_msg("import: %s %s", err.code, err.message);
}

static int setup(void **state)
{
  struct svc *svc;
  struct svc_import_report rep;
  struct buf csv = BUF_INIT(1 << 20);
  char c1[19], c2[19], c3[19], c4[19], c5[19], bad[19];
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/hmb-test-svc-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  if (getenv("HMB_TEST_DB_URL"))
    snprintf(db, sizeof(db), "%s", getenv("HMB_TEST_DB_URL"));
  else
    snprintf(db, sizeof(db), "%s/t.db", dir);
  snprintf(keyfile, sizeof(keyfile), "%s/pii.key", dir);
  svc = open_svc();
  add_plan(svc);
  certno(c1, "19800101", 1);
  certno(c2, "19820202", 2);
  certno(c3, "20100303", 3);
  certno(c4, "19700404", 5);
  certno(c5, "19900505", 7);
  certno(bad, "19900505", 9);
  bad[17] = bad[17] == '0' ? '1' : '0';
  buf_addstr(&csv, "psn_no,certno,psn_name,insutype,admdvs,status,status_date,emp_uscc,"
                   "family_id,relation\n");
  buf_addf(&csv, "P1,%s,张三,310,371502,active,2023-01-01,,F1,head\n", c1);
  buf_addf(&csv, "P2,%s,李四,390,371502,active,2023-01-01,,F1,spouse\n", c2);
  buf_addf(&csv, "P3,%s,张小,390,371502,active,2023-01-01,,F1,child\n", c3);
  buf_addf(&csv, "P4,%s,王五,390,371502,suspended,2023-01-01,,,\n", c4);
  buf_addf(&csv, "P5,%s,赵六,390,371502,active,2023-01-01,,,\n", c5);
  buf_addf(&csv, "P6,%s,钱七,390,371502,active,2023-01-01,,,\n", bad);
  buf_addf(&csv, "P7,%s,孙八,390,37150,active,2023-01-01,,,\n", c5);
  import(svc, csv.ptr, &rep);
  assert_int_equal(rep.rows, 7);
  assert_int_equal(rep.accepted, 5);
  assert_int_equal(rep.rejected, 2);
  assert_non_null(strstr(rep.errors_json.ptr, "\"line\":7"));
  assert_non_null(strstr(rep.errors_json.ptr, "idno.check"));
  assert_non_null(strstr(rep.errors_json.ptr, "\"line\":8"));
  svc_import_report_release(&rep);
  buf_release(&csv);
  *state = svc;
  return 0;
}

static int teardown(void **state)
{
  char cmd[160];
  svc_close(*state);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static enum hmb_status enroll(struct svc *svc, const char *psn, int channel, const char *payer,
                              struct hmb_err *err)
{
  struct svc_enroll_req q;
  struct store_enrollment e;
  memset(&q, 0, sizeof(q));
  q.plan_id = "liaocheng-2024";
  q.psn_no = psn;
  q.channel = channel;
  q.payer = payer;
  q.on = date_from_ymd(2023, 12, 10);
  q.pay = true;
  q.preexisting = -1;
  hmb_err_init(err);
  return svc_enroll(svc, &q, &e, err);
}

static void test_svc__enroll(void **state)
{
  struct svc *svc = *state;
  struct hmb_err err;
  assert_int_equal(enroll(svc, "P1", CH_ONLINE, NULL, &err), HMB_OK);
  assert_int_equal(enroll(svc, "P2", CH_PERSONAL_ACCOUNT, "P1", &err), HMB_OK);
  assert_int_equal(enroll(svc, "P3", CH_PERSONAL_ACCOUNT, "P1", &err), HMB_OK);
  /* once per person and plan */
  assert_int_equal(enroll(svc, "P1", CH_ONLINE, NULL, &err), HMB_CONFLICT);
  assert_string_equal(err.code, "enroll.already");
  /* suspended basic insurance */
  assert_int_not_equal(enroll(svc, "P4", CH_ONLINE, NULL, &err), HMB_OK);
  /* a resident cannot pay from a personal account; P5 is not P1's relative */
  assert_int_not_equal(enroll(svc, "P5", CH_PERSONAL_ACCOUNT, "P2", &err), HMB_OK);
  assert_int_not_equal(enroll(svc, "P5", CH_PERSONAL_ACCOUNT, "P1", &err), HMB_OK);
}

/* An inpatient settlement whose in-scope self-pay is `selfpay` yuan. */
static void body(char *b, size_t cap, const char *setl, const char *psn, const char *day,
                 long selfpay)
{
  long fund = 20000;
  snprintf(b, cap,
           "{\"setl_id\":\"%s\",\"psn_no\":\"%s\",\"med_type\":\"21\",\"setl_time\":\"%s "
           "10:00:00\",\"medfee_sumamt\":\"%ld\",\"fulamt_ownpay_amt\":\"0\","
           "\"overlmt_selfpay\":\"0\",\"preselfpay_amt\":\"0\",\"inscp_scp_amt\":\"%ld\","
           "\"hifp_pay\":\"%ld\",\"fund_pay_sumamt\":\"%ld\",\"psn_part_amt\":\"%ld\"}",
           setl, psn, day, fund + selfpay, fund + selfpay, fund, fund, selfpay);
}

static hmb_fen payout_of(const struct buf *r)
{
  const char *p = strstr(r->ptr, "\"payout\":\"");
  const char *q = p ? strchr(p + 10, '"') : NULL;
  hmb_fen v = -1;
  assert_non_null(q);
  assert_int_equal(money_parse(p + 10, (size_t)(q - p - 10), &v, "payout", NULL), HMB_OK);
  return v;
}

static enum hmb_status run(struct svc *svc, enum svc_op op, const char *b, struct buf *out,
                           struct hmb_err *err)
{
  buf_reset(out);
  hmb_err_init(err);
  return svc_run(svc, op, b, strlen(b), out, err);
}

static void test_svc__settle_trial_reverse(void **state)
{
  struct svc *svc = *state;
  struct buf r1 = BUF_INIT(1 << 20), r2 = BUF_INIT(1 << 20);
  struct hmb_err err;
  char b[1024];

  body(b, sizeof(b), "S1", "P1", "2024-03-01", 30000);
  /* trial: (30000 - 16000) x 80% = 11200, twice the same, nothing kept */
  assert_int_equal(run(svc, SVC_TRIAL, b, &r1, &err), HMB_OK);
  assert_int_equal(payout_of(&r1), 1120000);
  assert_int_equal(run(svc, SVC_TRIAL, b, &r2, &err), HMB_OK);
  assert_int_equal(payout_of(&r2), 1120000);
  assert_int_equal(svc_setl_json(svc, "S1", &r2, &err), HMB_NOT_FOUND);

  assert_int_equal(run(svc, SVC_SETTLE, b, &r1, &err), HMB_OK);
  assert_int_equal(payout_of(&r1), 1120000);
  assert_non_null(strstr(r1.ptr, "免赔额"));
  /* the same request again: the same bytes, paid once */
  assert_int_equal(run(svc, SVC_SETTLE, b, &r2, &err), HMB_OK);
  assert_string_equal(r1.ptr, r2.ptr);
  /* the same setl_id with other amounts is not the same request */
  body(b, sizeof(b), "S1", "P1", "2024-03-01", 31000);
  assert_int_equal(run(svc, SVC_SETTLE, b, &r2, &err), HMB_CONFLICT);
  assert_string_equal(err.code, "setl.changed");
  /* a second stay pays fully at 80% now that the deductible is used */
  body(b, sizeof(b), "S2", "P1", "2024-04-01", 10000);
  assert_int_equal(run(svc, SVC_SETTLE, b, &r1, &err), HMB_OK);
  assert_int_equal(payout_of(&r1), 800000);

  /* reversal of S1: the year goes back to S2 alone (below the deductible) */
  snprintf(b, sizeof(b), "{\"setl_id\":\"S1\",\"psn_no\":\"P1\",\"txn\":\"2208\"}");
  assert_int_equal(run(svc, SVC_REVERSE, b, &r1, &err), HMB_OK);
  assert_int_equal(payout_of(&r1), -1920000);
  assert_int_equal(run(svc, SVC_REVERSE, b, &r2, &err), HMB_OK);
  assert_string_equal(r1.ptr, r2.ptr);
  buf_reset(&r2);
  assert_int_equal(svc_setl_json(svc, "S1", &r2, &err), HMB_OK);
  assert_non_null(strstr(r2.ptr, "\"reversed\":true"));

  /* refusals a hospital window sees */
  body(b, sizeof(b), "S3", "P9", "2024-03-01", 30000);
  assert_int_equal(run(svc, SVC_SETTLE, b, &r1, &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "person.not_found");
  body(b, sizeof(b), "S4", "P5", "2024-03-01", 30000);
  assert_int_equal(run(svc, SVC_SETTLE, b, &r1, &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "cover.not_enrolled");
  body(b, sizeof(b), "S5", "P1", "2025-03-01", 30000);
  assert_int_not_equal(run(svc, SVC_SETTLE, b, &r1, &err), HMB_OK);
  snprintf(b, sizeof(b), "{\"setl_id\":\"S1\",\"psn_no\":\"P2\",\"txn\":\"2208\"}");
  assert_int_not_equal(run(svc, SVC_REVERSE, b, &r1, &err), HMB_OK);
  buf_release(&r1);
  buf_release(&r2);
}

/* ---- concurrency: many threads settling for one person ---- */

struct racer {
  struct svc *svc;
  int id;
  hmb_fen paid;
  int failed;
};

static void *race(void *arg)
{
  struct racer *rc = arg;
  struct buf r = BUF_INIT(1 << 20);
  struct hmb_err err;
  char b[1024], id[32];
  for (int k = 0; k < 25; k++) {
    snprintf(id, sizeof(id), "R%d-%d", rc->id, k);
    body(b, sizeof(b), id, "P2", "2024-05-01", 5000);
    if (run(rc->svc, SVC_SETTLE, b, &r, &err))
      rc->failed++;
    else
      rc->paid += payout_of(&r);
  }
  buf_release(&r);
  return NULL;
}

static void test_svc__concurrent_same_person(void **state)
{
  struct svc *svc = *state;
  struct racer rc[4];
  pthread_t th[4];
  hmb_fen total = 0;
  int64_t people, setls, bad;
  struct buf report = BUF_INIT(1 << 20);
  struct hmb_err err;
  for (int i = 0; i < 4; i++) {
    rc[i] = (struct racer){svc, i, 0, 0};
    assert_int_equal(pthread_create(&th[i], NULL, race, &rc[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(rc[i].failed, 0);
    total += rc[i].paid;
  }
  /* 100 x 5000 = 500,000; (500,000 - 16,000) x 80% whatever the order */
  assert_int_equal(total, 38720000);
  hmb_err_init(&err);
  assert_int_equal(svc_verify(svc, &people, &setls, &bad, &report, &err), HMB_OK);
  assert_int_equal(bad, 0);
  assert_true(people >= 2);
  assert_true(setls >= 103);
  buf_release(&report);
}

/* Re-import: P1 suspended from 2024-06-01; cover follows on the settlement date. */
static void test_svc__suspension(void **state)
{
  struct svc *svc = *state;
  struct svc_import_report rep;
  struct buf csv = BUF_INIT(1 << 20), r = BUF_INIT(1 << 20);
  struct hmb_err err;
  char c1[19], b[1024];
  certno(c1, "19800101", 1);
  buf_addstr(&csv,
             "psn_no,certno,psn_name,insutype,admdvs,status,status_date,family_id,relation\n");
  buf_addf(&csv, "P1,%s,张三,310,371502,suspended,2024-06-01,F1,head\n", c1);
  import(svc, csv.ptr, &rep);
  assert_int_equal(rep.accepted, 1);
  assert_int_equal(rep.status_changes, 1);
  svc_import_report_release(&rep);
  body(b, sizeof(b), "S6", "P1", "2024-07-01", 1000);
  assert_int_not_equal(run(svc, SVC_SETTLE, b, &r, &err), HMB_OK);
  assert_string_equal(err.code, "cover.suspended");
  body(b, sizeof(b), "S7", "P1", "2024-05-01", 1000);
  assert_int_equal(run(svc, SVC_SETTLE, b, &r, &err), HMB_OK);
  buf_reset(&r);
  assert_int_equal(svc_person_json(svc, "P1", &r, &err), HMB_OK);
  /* personal data masked */
  assert_null(strstr(r.ptr, "张三"));
  assert_non_null(strstr(r.ptr, "\"status\":\"suspended\""));
  buf_release(&csv);
  buf_release(&r);
}

/* One file naming a person twice, and two people with one ID number:
 * the import means what storing the rows one by one means. */
static void test_svc__import_repeats(void **state)
{
  struct svc *svc = *state;
  struct svc_import_report rep;
  struct buf csv = BUF_INIT(1 << 20), r = BUF_INIT(1 << 20);
  struct hmb_err err;
  char c8[19];
  certno(c8, "19880808", 11);
  buf_addstr(&csv, "psn_no,certno,psn_name,insutype,admdvs,status,status_date\n");
  buf_addf(&csv, "P8,%s,周八,390,371502,active,2023-01-01\n", c8);
  buf_addf(&csv, "P9,%s,吴九,390,371502,active,2023-01-01\n", c8);
  buf_addf(&csv, "P8,%s,周八,390,371502,ended,2024-02-01\n", c8);
  import(svc, csv.ptr, &rep);
  assert_int_equal(rep.rows, 3);
  assert_int_equal(rep.inserted, 1);
  assert_int_equal(rep.updated, 1);
  assert_int_equal(rep.status_changes, 1);
  assert_int_equal(rep.rejected, 1);
  assert_non_null(strstr(rep.errors_json.ptr, "\"line\":3"));
  assert_non_null(strstr(rep.errors_json.ptr, "roster.certno_duplicate"));
  svc_import_report_release(&rep);
  hmb_err_init(&err);
  assert_int_equal(svc_person_json(svc, "P8", &r, &err), HMB_OK);
  assert_non_null(strstr(r.ptr, "\"status\":\"ended\""));
  assert_int_equal(svc_person_json(svc, "P9", &r, &err), HMB_NOT_FOUND);
  buf_release(&csv);
  buf_release(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_svc__enroll),
      cmocka_unit_test(test_svc__settle_trial_reverse),
      cmocka_unit_test(test_svc__concurrent_same_person),
      cmocka_unit_test(test_svc__suspension),
      cmocka_unit_test(test_svc__import_repeats),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

#include "compat.h"
#include "svc_int.h"

#include "idno.h"
#include "setl_reader.h"

/*
 * The bureau's roster. Columns (header names, any order, unknown ones
 * ignored):
 *   psn_no*, certno*, psn_name*, insutype*, admdvs*,
 *   status (active | suspended | ended, or 1/2/3; default active),
 *   status_date (YYYY-MM-DD; default the import date), gend, brdy
 *   (both optional: they must agree with the ID number), work_admdvs,
 *   emp_uscc, family_id, relation (head | spouse | child | parent |
 *   spouse_parent | other), veteran_year, groups (';'-separated ids).
 * Rows are committed in transactions of ROSTER_TX_ROWS rows, so a huge
 * file neither holds the write lock for long nor loses accepted rows to a
 * later bad one.
 */
#define ROSTER_TX_ROWS 5000

/* No status_date column value: a new person's status holds since birth,
 * a changed one since the import (today). */
#define STATUS_DATE_UNSET INT32_MIN

enum col {
  C_PSN_NO,
  C_CERTNO,
  C_NAME,
  C_INSUTYPE,
  C_ADMDVS,
  C_STATUS,
  C_STATUS_DATE,
  C_GEND,
  C_BRDY,
  C_WORK_ADMDVS,
  C_EMP_USCC,
  C_FAMILY_ID,
  C_RELATION,
  C_VETERAN_YEAR,
  C_GROUPS,
  C__COUNT
};

static const char *const col_names[C__COUNT] = {
    "psn_no",   "certno",      "psn_name", "insutype",     "admdvs",
    "status",   "status_date", "gend",     "brdy",         "work_admdvs",
    "emp_uscc", "family_id",   "relation", "veteran_year", "groups"};
static const bool col_required[C__COUNT] = {true, true, true, true, true};

void svc_import_report_init(struct svc_import_report *r)
{
  memset(r, 0, sizeof(*r));
  buf_init(&r->errors_json, 4u << 20);
}

void svc_import_report_release(struct svc_import_report *r)
{
  buf_release(&r->errors_json);
}

static bool digits(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return n > 0;
}

static bool id_chars(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
          c == '_'))
      return false;
  }
  return n > 0;
}

static int parse_status(const char *s, size_t n)
{
  static const struct {
    const char *t;
    int v;
  } tab[] = {{"active", PSN_ACTIVE},       {"1", PSN_ACTIVE},    {"正常", PSN_ACTIVE},
             {"suspended", PSN_SUSPENDED}, {"2", PSN_SUSPENDED}, {"暂停", PSN_SUSPENDED},
             {"ended", PSN_ENDED},         {"3", PSN_ENDED},     {"终止", PSN_ENDED}};
  for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
    if (strlen(tab[i].t) == n && !memcmp(tab[i].t, s, n))
      return tab[i].v;
  return 0;
}

static int parse_relation(const char *s, size_t n)
{
  static const char *const names[] = {"",       "head",          "spouse", "child",
                                      "parent", "spouse_parent", "other"};
  for (size_t i = 1; i < ARRAY_SIZE(names); i++)
    if (strlen(names[i]) == n && !memcmp(names[i], s, n))
      return (int)i;
  return -1;
}

#define FIELD(c) (map[c] >= 0 ? &f[map[c]] : NULL)

/* Validate one row into *p (certno and name sealed). */
static enum hmb_status row_person(struct svc *svc, const struct csvr_field *f, const int *map,
                                  struct store_person *p, struct hmb_err *err)
{
  const struct csvr_field *x;
  struct idno_info info;
  char certno[IDNO_LEN + 1], name[STORE_ENC_MAX];
  size_t len;
  int64_t v;
  enum hmb_status result;

  memset(p, 0, sizeof(*p));
  x = &f[map[C_PSN_NO]]; /* required: the header has it */
  if (!x->len || x->len >= sizeof(p->psn_no) || !id_chars(x->p, x->len))
    return hmb_err_set(err, HMB_INVALID, "roster.psn_no", "psn_no",
                       "人员编号应为 1–39 位字母、数字、- 或 _");
  memcpy(p->psn_no, x->p, x->len);
  x = &f[map[C_CERTNO]]; /* required: the header has it */
  result = idno_parse(x->p, x->len, &info, "certno", err);
  if (result)
    return result;
  memcpy(certno, x->p, IDNO_LEN);
  certno[IDNO_LEN] = '\0';
  if (certno[17] == 'x')
    certno[17] = 'X';
  p->birth = info.birth;
  p->gend = info.sex == 'M' ? 1 : 2;
  x = &f[map[C_NAME]]; /* required: the header has it */
  if (!x->len || x->len > 60 || !setl_text_ok(x->p, x->len))
    return hmb_err_set(err, HMB_INVALID, "roster.name", "psn_name",
                       "姓名为空、过长（最多 60 字节）或含有非法字符");
  memcpy(name, x->p, x->len);
  name[x->len] = '\0';
  x = &f[map[C_INSUTYPE]]; /* required: the header has it */
  if (!digits(x->p, x->len) || x->len > 3)
    return hmb_err_set(err, HMB_INVALID, "roster.insutype", "insutype",
                       "险种类型应为 3 位以内数字，如 310（职工）、390（居民）");
  p->insutype = (int32_t)strtol(x->p, NULL, 10);
  x = &f[map[C_ADMDVS]]; /* required: the header has it */
  if (x->len != 6 || !digits(x->p, 6))
    return hmb_err_set(err, HMB_INVALID, "roster.admdvs", "admdvs", "参保地区划应为 6 位数字");
  memcpy(p->admdvs, x->p, 6);
  p->status = PSN_ACTIVE;
  if ((x = FIELD(C_STATUS)) && x->len && !(p->status = (int8_t)parse_status(x->p, x->len)))
    return hmb_err_set(err, HMB_INVALID, "roster.status", "status",
                       "参保状态应为 active、suspended 或 ended");
  p->status_date = STATUS_DATE_UNSET;
  if ((x = FIELD(C_STATUS_DATE)) && x->len) {
    result = date_parse(x->p, x->len, &p->status_date, "status_date", err);
    if (result)
      return result;
  }
  if ((x = FIELD(C_GEND)) && x->len) {
    if (x->len != 1 || (x->p[0] != '1' && x->p[0] != '2'))
      return hmb_err_set(err, HMB_INVALID, "roster.gend", "gend", "性别应为 1（男）或 2（女）");
    if (x->p[0] - '0' != p->gend)
      return hmb_err_set(err, HMB_INVALID, "roster.gend_mismatch", "gend",
                         "性别与身份证号码不一致");
  }
  if ((x = FIELD(C_BRDY)) && x->len) {
    hmb_date b;
    result = date_parse(x->p, x->len, &b, "brdy", err);
    if (result)
      return result;
    if (b != p->birth)
      return hmb_err_set(err, HMB_INVALID, "roster.brdy_mismatch", "brdy",
                         "出生日期与身份证号码不一致");
  }
  if ((x = FIELD(C_WORK_ADMDVS)) && x->len) {
    if (x->len != 6 || !digits(x->p, 6))
      return hmb_err_set(err, HMB_INVALID, "roster.work_admdvs", "work_admdvs",
                         "工作或就学地区划应为 6 位数字");
    memcpy(p->work_admdvs, x->p, 6);
  }
  if ((x = FIELD(C_EMP_USCC)) && x->len) {
    result = uscc_parse(x->p, x->len, p->emp_uscc, "emp_uscc", err);
    if (result)
      return result;
  }
  if ((x = FIELD(C_FAMILY_ID)) && x->len) {
    if (x->len >= sizeof(p->family_id) || !id_chars(x->p, x->len))
      return hmb_err_set(err, HMB_INVALID, "roster.family_id", "family_id",
                         "家庭编号应为 1–39 位字母、数字、- 或 _");
    memcpy(p->family_id, x->p, x->len);
  }
  if ((x = FIELD(C_RELATION)) && x->len) {
    int r = parse_relation(x->p, x->len);
    if (r < 0)
      return hmb_err_set(err, HMB_INVALID, "roster.relation", "relation",
                         "与户主关系应为 head、spouse、child、parent、spouse_parent 或 other");
    if (!p->family_id[0])
      return hmb_err_set(err, HMB_INVALID, "roster.relation_family", "relation",
                         "填写了与户主关系但缺少家庭编号（family_id）");
    p->relation = (int8_t)r;
  } else if (p->family_id[0]) {
    return hmb_err_set(err, HMB_INVALID, "roster.relation_missing", "relation",
                       "有家庭编号（family_id）时须填写与户主关系");
  }
  if ((x = FIELD(C_VETERAN_YEAR)) && x->len) {
    result = str_to_i64(x->p, x->len, 1950, 2100, &v, "veteran_year", err);
    if (result)
      return result;
    p->veteran_year = (int16_t)v;
  }
  if ((x = FIELD(C_GROUPS)) && x->len) {
    if (x->len >= sizeof(p->groups) || !setl_text_ok(x->p, x->len))
      return hmb_err_set(err, HMB_INVALID, "roster.groups", "groups", "人群标识过长或含非法字符");
    memcpy(p->groups, x->p, x->len);
  }
  pii_bidx(&svc->pii, certno, IDNO_LEN, p->certno_bidx);
  result = pii_seal(&svc->pii, "certno", p->psn_no, certno, IDNO_LEN, p->certno_enc,
                    sizeof(p->certno_enc), &len, err);
  if (result)
    return result;
  p->certno_enc_len = (uint16_t)len;
  result = pii_seal(&svc->pii, "name", p->psn_no, name, strlen(name), p->name_enc,
                    sizeof(p->name_enc), &len, err);
  p->name_enc_len = (uint16_t)len;
  memset(certno, 0, sizeof(certno));
  memset(name, 0, sizeof(name));
  return result;
}

static void report_error(struct svc_import_report *rep, unsigned long line, const struct hmb_err *e)
{
  struct buf *b = &rep->errors_json;
  rep->rejected++;
  if (rep->rejected > SVC_IMPORT_ERRORS)
    return;
  buf_addch(b, b->len ? ',' : '[');
  buf_addf(b, "{\"line\":%lu,\"field\":", line);
  buf_add_json_str(b, e->field, strlen(e->field));
  buf_addstr(b, ",\"code\":");
  buf_add_json_str(b, e->code, strlen(e->code));
  buf_addstr(b, ",\"message\":");
  buf_add_json_str(b, e->message, strlen(e->message));
  buf_addch(b, '}');
}

/*
 * A batch of validated rows, stored in one transaction with two bulk
 * calls (store.h person_get_many / person_put_many: on PostgreSQL one
 * query and one COPY). Within a batch every psn_no and ID number is
 * distinct: a row repeating one closes the batch first, so the batch
 * means the same as storing its rows one by one.
 */
#define BATCH_SLOTS 16384 /* power of two, > 2 * ROSTER_TX_ROWS */

struct batch_err {
  unsigned long line;
  struct hmb_err err;
};

struct batch {
  struct store_person p[ROSTER_TX_ROWS], old[ROSTER_TX_ROWS], w[ROSTER_TX_ROWS];
  char psn[ROSTER_TX_ROWS][SETL_ID_MAX];
  bool found[ROSTER_TX_ROWS];
  int8_t outcome[ROSTER_TX_ROWS];
  size_t widx[ROSTER_TX_ROWS];
  unsigned long line[ROSTER_TX_ROWS];
  size_t n;
  uint64_t seen[BATCH_SLOTS]; /* hashes of the batch's psn_no and ID numbers, 0 empty */
  struct batch_err *errs;     /* rows refused since the last flush */
  size_t nerrs, aerrs;
};

static bool seen_add(struct batch *b, uint64_t h)
{
  size_t j = h & (BATCH_SLOTS - 1);
  h |= 1;
  while (b->seen[j]) {
    if (b->seen[j] == h)
      return false;
    j = (j + 1) & (BATCH_SLOTS - 1);
  }
  b->seen[j] = h;
  return true;
}

static bool batch_takes(struct batch *b, const struct store_person *p)
{
  /* both keys are checked before either is added: a refused row adds nothing */
  uint64_t hp = hmb_hash64(p->psn_no, strlen(p->psn_no));
  uint64_t hb = hmb_hash64((const char *)p->certno_bidx, STORE_BIDX_LEN) ^ 0x5bd1e995u;
  size_t j;
  for (j = hp & (BATCH_SLOTS - 1); b->seen[j]; j = (j + 1) & (BATCH_SLOTS - 1))
    if (b->seen[j] == (hp | 1))
      return false;
  for (j = hb & (BATCH_SLOTS - 1); b->seen[j]; j = (j + 1) & (BATCH_SLOTS - 1))
    if (b->seen[j] == (hb | 1))
      return false;
  seen_add(b, hp);
  seen_add(b, hb);
  return true;
}

static enum hmb_status batch_err_add(struct batch *b, unsigned long line, const struct hmb_err *e)
{
  if (b->nerrs == b->aerrs) {
    size_t na = b->aerrs ? b->aerrs * 2 : 64;
    struct batch_err *ne = hmb_reallocarray(b->errs, na, sizeof(*ne));
    if (!ne)
      return HMB_NOMEM;
    b->errs = ne;
    b->aerrs = na;
  }
  b->errs[b->nerrs].line = line;
  b->errs[b->nerrs].err = *e;
  b->nerrs++;
  return HMB_OK;
}

static int err_cmp(const void *x, const void *y)
{
  unsigned long a = ((const struct batch_err *)x)->line, c = ((const struct batch_err *)y)->line;
  return (a > c) - (a < c);
}

/* Report the refused rows collected so far, in line order. */
static void batch_report(struct batch *b, struct svc_import_report *rep)
{
  if (!b->nerrs)
    return;
  qsort(b->errs, b->nerrs, sizeof(*b->errs), err_cmp);
  for (size_t i = 0; i < b->nerrs; i++)
    report_error(rep, b->errs[i].line, &b->errs[i].err);
  b->nerrs = 0;
}

/* Store the batch in one transaction; counts what changed. */
static enum hmb_status batch_flush(struct svc *svc, struct store *s, struct batch *b,
                                   struct svc_import_report *rep, struct hmb_err *err)
{
  size_t nw = 0;
  enum hmb_status result;
  struct hmb_err e;

  if (!b->n)
    goto done;
  for (size_t i = 0; i < b->n; i++)
    memcpy(b->psn[i], b->p[i].psn_no, SETL_ID_MAX);
  result = s->ops->begin(s, STORE_TX_WRITE, err);
  if (result)
    return result;
  result =
      s->ops->person_get_many(s, (const char(*)[SETL_ID_MAX])b->psn, b->n, b->old, b->found, err);
  for (size_t i = 0; i < b->n && !result; i++) {
    struct store_person *p = &b->p[i];
    if (p->status_date == STATUS_DATE_UNSET)
      p->status_date = b->found[i] ? svc_today(svc) : p->birth;
    if (b->found[i] && memcmp(b->old[i].certno_bidx, p->certno_bidx, STORE_BIDX_LEN)) {
      hmb_err_set(&e, HMB_CONFLICT, "roster.certno_changed", "certno",
                  "同一人员编号的身份证号码与已有记录不同");
      if (batch_err_add(b, b->line[i], &e))
        result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      continue;
    }
    b->w[nw] = *p;
    /* an unchanged status keeps its original date */
    if (b->found[i] && b->old[i].status == p->status)
      b->w[nw].status_date = b->old[i].status_date;
    b->widx[nw++] = i;
  }
  if (!result)
    result = s->ops->person_put_many(s, b->w, nw, b->outcome, err);
  if (!result)
    result = s->ops->commit(s, err);
  if (result) {
    s->ops->rollback(s);
    return result;
  }
  for (size_t k = 0; k < nw; k++) {
    size_t i = b->widx[k];
    if (b->outcome[k] < 0) {
      hmb_err_set(&e, HMB_CONFLICT, "roster.certno_duplicate", "certno",
                  "该身份证号码已属于另一人员编号");
      if (batch_err_add(b, b->line[i], &e))
        return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      continue;
    }
    rep->accepted++;
    if (!b->found[i])
      rep->inserted++;
    else if (b->outcome[k])
      rep->updated++;
    if (b->found[i] && b->old[i].status != b->p[i].status)
      rep->status_changes++;
  }
done:
  batch_report(b, rep);
  b->n = 0;
  memset(b->seen, 0, sizeof(b->seen));
  return HMB_OK;
}

enum hmb_status svc_roster_import(struct svc *svc, const char *name, const char *data, size_t len,
                                  struct svc_import_report *rep, struct hmb_err *err)
{
  struct csvr *c = NULL;
  struct store *s = NULL;
  struct batch *b = NULL;
  const struct csvr_field *f;
  int map[C__COUNT];
  bool eof = false;
  enum hmb_status result;

  result = csvr_open_mem(&c, name, data, len, err);
  if (result)
    return result;
  for (int i = 0; i < C__COUNT; i++) {
    map[i] = -1;
    for (size_t k = 0; k < csvr_ncols(c); k++)
      if (!strcmp(csvr_colname(c, k), col_names[i]))
        map[i] = (int)k;
    if (map[i] < 0 && col_required[i]) {
      result = hmb_err_set(err, HMB_INVALID, "roster.column_missing", col_names[i],
                           "名单缺少必需的列 %s", col_names[i]);
      goto out;
    }
  }
  b = hmb_calloc(1, sizeof(*b));
  if (!b) {
    result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    goto out;
  }
  result = svc_store_take(svc, &s, err);
  if (result)
    goto out;
  for (;;) {
    struct hmb_err rowerr;
    unsigned long line;
    hmb_err_init(&rowerr);
    result = csvr_next(c, &f, &eof, &rowerr);
    line = csvr_line(c);
    if (result == HMB_IO || result == HMB_NOMEM) {
      *err = rowerr;
      break;
    }
    if (eof) {
      result = batch_flush(svc, s, b, rep, err);
      break;
    }
    rep->rows++;
    if (!result)
      result = row_person(svc, f, map, &b->p[b->n], &rowerr);
    if (result) {
      if (batch_err_add(b, line, &rowerr)) {
        result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
        break;
      }
      result = HMB_OK;
      continue;
    }
    if (!batch_takes(b, &b->p[b->n])) {
      /* a psn_no or ID number already in the batch: store the batch first */
      struct store_person keep = b->p[b->n];
      result = batch_flush(svc, s, b, rep, err);
      if (result)
        break;
      b->p[0] = keep;
      batch_takes(b, &b->p[0]);
    }
    b->line[b->n++] = line;
    if (b->n == ROSTER_TX_ROWS) {
      result = batch_flush(svc, s, b, rep, err);
      if (result)
        break;
    }
  }
  if (b && b->nerrs)
    batch_report(b, rep);
  if (rep->errors_json.len)
    buf_addch(&rep->errors_json, ']');
out:
  svc_store_give(svc, s);
  if (b)
    free(b->errs);
  free(b);
  csvr_free(c);
  return result;
}

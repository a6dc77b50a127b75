#include "compat.h"
#include "svc_int.h"

#include <sodium.h>
#include <time.h>

#include "setl_reader.h"

/*
 * The settlement writer. One thread takes every queued job at once (up to
 * group_max), runs them in one write transaction, each inside a savepoint,
 * and commits: one fsync for the group. Completion callbacks run only
 * after the commit, so no caller is told "settled" before it is durable.
 * A person's state is read from the store inside the transaction, so jobs
 * of one person in one group see each other's effects in queue order.
 */

struct svc_writer {
  int64_t *keys; /* the group's people, for lock_keys */
  size_t nkeys_alloc;
  /* the group's people read at once (prefetch_people) */
  char (*psn)[SETL_ID_MAX];
  struct store_person *persons;
  bool *found;
  size_t npsn_alloc;
  struct buf blob;
  struct buf text;
  const char *cur_req;         /* the current job's request as stored */
  const uint8_t *cur_req_hash; /* and its hash */
};

/* A request parsed by svc_submit() on the caller's thread. */
struct svc_parsed {
  enum hmb_status status; /* of parsing and validation */
  struct hmb_err err;
  struct settlement st;
  struct buf req; /* the body on one line, as stored */
  uint8_t req_hash[16];
  /* the roster's record of st.psn_no, read with the group's others:
   * 1 found, -1 not in the roster, 0 not read */
  int8_t person_known;
  struct store_person person;
  struct setl_line lines[];
};

/* Parse scratch of each thread that submits, freed when the thread ends. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_make(void)
{
  if (pthread_key_create(&scratch_key, free))
    BUG("pthread_key_create failed");
}

static struct svc_parsed *parse_request(const struct svc_job *job)
{
  struct svc_parsed *pp, tmp;
  struct setl_line *tl_lines;
  enum hmb_status result;
  pthread_once(&scratch_once, scratch_key_make);
  tl_lines = pthread_getspecific(scratch_key);
  if (!tl_lines) {
    tl_lines = hmb_calloc(SETL_MAX_LINES, sizeof(*tl_lines));
    if (!tl_lines || pthread_setspecific(scratch_key, tl_lines)) {
      free(tl_lines);
      return NULL;
    }
  }
  memset(&tmp, 0, sizeof(tmp));
  settlement_init(&tmp.st);
  result = setl_parse_json_line(job->body, job->len, &tmp.st, tl_lines, SETL_MAX_LINES, &tmp.err);
  if (!result)
    result = settlement_validate(&tmp.st, &tmp.err);
  if (!result && (job->op == SVC_REVERSE) != (tmp.st.kind == SETL_REVERSAL))
    result = hmb_err_set(&tmp.err, HMB_INVALID, "txn.mismatch", "txn",
                         job->op == SVC_REVERSE ? "冲销请求须为 2208/2305 交易"
                                                : "结算请求不能是冲销交易（2208/2305）");
  if (result)
    tmp.st.nlines = 0;
  pp = hmb_malloc(sizeof(*pp) + tmp.st.nlines * sizeof(struct setl_line));
  if (!pp)
    return NULL;
  *pp = tmp;
  pp->status = result;
  if (tmp.st.nlines)
    memcpy(pp->lines, tl_lines, tmp.st.nlines * sizeof(struct setl_line));
  pp->st.lines = pp->lines;
  buf_init(&pp->req, 4u << 20);
  if (!result) {
    if (buf_add(&pp->req, job->body, job->len)) {
      pp->status = hmb_err_set(&pp->err, HMB_TOO_LARGE, "body.too_large", "", "请求过大");
    } else {
      /* stored as one line (JSON allows no raw line break inside a string) */
      for (size_t i = 0; i < pp->req.len; i++)
        if (pp->req.ptr[i] == '\n' || pp->req.ptr[i] == '\r')
          pp->req.ptr[i] = ' ';
      crypto_generichash(pp->req_hash, sizeof(pp->req_hash), (const unsigned char *)pp->req.ptr,
                         pp->req.len, NULL, 0);
    }
  }
  return pp;
}

static void parsed_free(struct svc_parsed *pp)
{
  if (!pp)
    return;
  buf_release(&pp->req);
  free(pp);
}

/* ---- JSON helpers ---- */

static void add_money_field(struct buf *b, const char *name, hmb_fen v)
{
  buf_addf(b, ",\"%s\":", name);
  buf_addch(b, '"');
  buf_add_money(b, v);
  buf_addch(b, '"');
}

static hmb_fen bpfen_to_fen(int64_t v)
{
  return money_round_bpfen((hmb_i128)v);
}

static const char *op_name(enum svc_op op)
{
  return op == SVC_TRIAL ? "trial" : op == SVC_SETTLE ? "settle" : "reversal";
}

/* The answer to a settlement request: what a hospital window shows. */
static enum hmb_status response_json(const struct plan *p, enum svc_op op,
                                     const struct settlement *s, const char *policy_no,
                                     const struct adj_result *res, const struct adj_state *st,
                                     hmb_time now, struct buf *text, struct buf *out)
{
  char t[32];
  buf_addstr(out, "{\"setl_id\":");
  buf_add_json_str(out, s->setl_id, strlen(s->setl_id));
  buf_addstr(out, ",\"psn_no\":");
  buf_add_json_str(out, s->psn_no, strlen(s->psn_no));
  buf_addf(out, ",\"op\":\"%s\",\"status\":\"%s\",\"plan_id\":", op_name(op),
           op == SVC_TRIAL    ? "trial"
           : op == SVC_SETTLE ? "settled"
                              : "reversed");
  buf_add_json_str(out, p->id, strlen(p->id));
  buf_addstr(out, ",\"policy_no\":");
  buf_add_json_str(out, policy_no, strlen(policy_no));
  if (op != SVC_REVERSE) {
    datetime_format(s->setl_time, t);
    buf_addf(out, ",\"setl_time\":\"%s\"", t);
  }
  add_money_field(out, "eligible", res->eligible);
  add_money_field(out, "payout", res->payout);
  add_money_field(out, "family_adjust", res->family_adjust);
  add_money_field(out, "year_paid", adj_paid_total(p, st));
  buf_addstr(out, ",\"responsibilities\":[");
  for (int r = 0; r < p->nresp; r++) {
    const struct adj_resp_result *rr = &res->r[r];
    if (r)
      buf_addch(out, ',');
    buf_addstr(out, "{\"id\":");
    buf_add_json_str(out, p->resp[r].id, strlen(p->resp[r].id));
    buf_addstr(out, ",\"name\":");
    buf_add_json_str(out, p->resp[r].name ? p->resp[r].name : "",
                     p->resp[r].name ? strlen(p->resp[r].name) : 0);
    add_money_field(out, "eligible", bpfen_to_fen(rr->eligible));
    add_money_field(out, "deductible_used", bpfen_to_fen(rr->ded_after - rr->ded_before));
    add_money_field(out, "payout", rr->payout);
    add_money_field(out, "year_paid", rr->paid_after);
    buf_addch(out, '}');
  }
  buf_addstr(out, "],\"explanation\":");
  buf_reset(text);
  if (adj_explain(p, st, res, text))
    buf_addstr(text, "");
  buf_add_json_str(out, text->ptr, text->len);
  datetime_format(now, t);
  buf_addf(out, ",\"at\":\"%s\"}", t);
  return out->len ? HMB_OK : HMB_NOMEM;
}

/* ---- one job ---- */

struct member {
  struct adj_state *st;
  struct adj_terms terms;
  struct store_person person;
  struct store_enrollment enr;
  char psn_no[SETL_ID_MAX];
};

static void members_release(struct member *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (m[i].st) {
      adj_state_release(m[i].st);
      free(m[i].st);
      m[i].st = NULL;
    }
}

/* Start member m's year state under plan p (its terms, nothing yet). */
static enum hmb_status member_start(const struct plan *p, struct member *m, struct hmb_err *err)
{
  struct adj_person who;
  enum hmb_status result;
  svc_adj_person(p, &m->person, &m->enr, &who);
  result = adj_terms_resolve(p, &who, &m->terms, err);
  if (result)
    return result;
  m->st = hmb_calloc(1, adj_state_size(p));
  if (!m->st)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  adj_state_init(p, m->st, &m->terms);
  return HMB_OK;
}

/* Load (or start) the year state of member m under plan p. */
static enum hmb_status load_member(struct store *s, struct svc_writer *w, const struct plan *p,
                                   struct member *m, struct hmb_err *err)
{
  enum hmb_status result = member_start(p, m, err);
  if (result)
    return result;
  buf_reset(&w->blob);
  result = s->ops->state_get(s, p->id, m->psn_no, &w->blob, err);
  if (result == HMB_NOT_FOUND) {
    hmb_err_init(err);
    return HMB_OK;
  }
  if (result)
    return result;
  return adj_state_unpack(p, (const uint8_t *)w->blob.ptr, w->blob.len, m->st, err);
}

static enum hmb_status save_member(struct store *s, struct svc_writer *w, const struct plan *p,
                                   const struct member *m, struct hmb_err *err)
{
  buf_reset(&w->blob);
  if (adj_state_pack(p, m->st, &w->blob))
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  return s->ops->state_put(s, p->id, m->psn_no, w->blob.ptr, w->blob.len, err);
}

/*
 * The account a settlement is judged on: the person alone, or their
 * enrolled family when the plan shares amounts within a family.
 */
static enum hmb_status load_account(struct store *s, struct svc_writer *w, const struct plan *p,
                                    const struct store_person *person,
                                    const struct store_enrollment *enr, struct member *m, size_t *n,
                                    size_t *who, struct hmb_err *err)
{
  enum hmb_status result;
  *n = 0;
  *who = 0;
  if (p->has_family_scope && person->family_id[0]) {
    struct store_person fam[PLAN_MAX_FAMILY];
    size_t nf = 0;
    result = s->ops->family(s, person->family_id, fam, PLAN_MAX_FAMILY, &nf, err);
    if (result)
      return result;
    for (size_t i = 0; i < nf; i++) {
      struct store_enrollment e;
      result = s->ops->enrollment_get(s, p->id, fam[i].psn_no, &e, err);
      if (result == HMB_NOT_FOUND) {
        hmb_err_init(err);
        continue;
      }
      if (result)
        return result;
      if (e.status != ENR_ACTIVE)
        continue;
      m[*n].person = fam[i];
      m[*n].enr = e;
      memcpy(m[*n].psn_no, fam[i].psn_no, sizeof(m[*n].psn_no));
      m[*n].psn_no[sizeof(m[*n].psn_no) - 1] = '\0';
      if (!strcmp(fam[i].psn_no, person->psn_no))
        *who = *n;
      ++*n;
    }
    if (*n && !strcmp(m[*who].psn_no, person->psn_no)) {
      for (size_t i = 0; i < *n; i++) {
        result = load_member(s, w, p, &m[i], err);
        if (result)
          return result;
      }
      return HMB_OK;
    }
    members_release(m, *n);
    *n = 0;
  }
  m[0].person = *person;
  m[0].enr = *enr;
  snprintf(m[0].psn_no, sizeof(m[0].psn_no), "%s", person->psn_no);
  *n = 1;
  return load_member(s, w, p, &m[0], err);
}

/*
 * The plan and enrollment covering a person on `day`: first the plan of
 * the person's own region (one indexed lookup, the common case), else any
 * plan they enrolled in whose coverage holds the day (people insured
 * elsewhere in the province who work or study in the city).
 */
static enum hmb_status find_cover(struct svc *svc, struct store *s,
                                  const struct store_person *person, hmb_date day,
                                  const struct plan **plan, struct store_enrollment *enr,
                                  struct hmb_err *err)
{
  struct store_enrollment list[8];
  size_t n = 0;
  const struct plan *p = svc_plan_for(svc, person->admdvs, day);
  enum hmb_status result;
  *plan = NULL;
  memset(enr, 0, sizeof(*enr));
  if (p) {
    *plan = p;
    result = svc_cover_check(svc, s, p, person->psn_no, day, enr, err);
    if (result != HMB_NOT_FOUND || strcmp(err->code, "cover.not_enrolled"))
      return result;
    hmb_err_init(err);
  }
  result = s->ops->enrollments_of(s, person->psn_no, list, ARRAY_SIZE(list), &n, err);
  if (result)
    return result;
  for (size_t i = 0; i < n; i++) {
    p = svc_plan(svc, list[i].plan_id);
    if (p && day >= p->cover_start && day <= p->cover_end) {
      *plan = p;
      return svc_cover_check(svc, s, p, person->psn_no, day, enr, err);
    }
  }
  return hmb_err_set(err, HMB_NOT_FOUND, "cover.not_enrolled", "psn_no",
                     "参保人在结算日期没有有效的惠民保保单");
}

/* The stored record of an accepted request (its contribution aside). */
static void make_record(struct store_setl *rec, const struct svc_writer *w, const struct plan *p,
                        const struct settlement *st, enum setl_kind kind, const char *policy_no,
                        hmb_time setl_time, const struct adj_result *res, hmb_time now)
{
  memset(rec, 0, sizeof(*rec));
  snprintf(rec->setl_id, sizeof(rec->setl_id), "%s", st->setl_id);
  rec->kind = (int8_t)kind;
  snprintf(rec->plan_id, sizeof(rec->plan_id), "%s", p->id);
  snprintf(rec->psn_no, sizeof(rec->psn_no), "%s", st->psn_no);
  snprintf(rec->policy_no, sizeof(rec->policy_no), "%s", policy_no);
  rec->setl_time = setl_time;
  rec->eligible = res->eligible;
  rec->payout = res->payout;
  rec->family_adjust = res->family_adjust;
  memcpy(rec->request_hash, w->cur_req_hash, sizeof(rec->request_hash));
  rec->created_at = now;
}

/* The roster's record of the job's person: the group's read, else one read. */
static enum hmb_status job_person(struct store *s, const struct svc_job *job, const char *psn_no,
                                  struct store_person *out, struct hmb_err *err)
{
  const struct svc_parsed *pp = job->parsed;
  if (pp->person_known > 0) {
    *out = pp->person;
    return HMB_OK;
  }
  if (pp->person_known < 0)
    return hmb_err_set(err, HMB_NOT_FOUND, "person.not_found", "psn_no", "人员不存在");
  return s->ops->person_get(s, psn_no, out, err);
}

/*
 * Judge and record a settlement on its account (members m[0..n), the
 * settling person m[who]); the caller releases the members.
 */
static enum hmb_status settle_account(struct store *s, struct svc_writer *w, struct svc_job *job,
                                      struct settlement *st, hmb_time now, const struct plan *p,
                                      const struct store_enrollment *enr, struct member *m,
                                      size_t n, size_t who)
{
  struct hmb_err *err = &job->err;
  struct adj_state *states[PLAN_MAX_FAMILY];
  struct adj_result res;
  struct store_setl rec;
  enum hmb_status result;

  for (size_t i = 0; i < n; i++)
    states[i] = m[i].st;
  plan_mark_lines(p, st->lines, st->nlines);
  result = adj_settle(p, states, n, who, st, job->op == SVC_TRIAL ? ADJ_TRIAL : 0, &res, err);
  if (result)
    return result;
  buf_reset(&job->response);
  result =
      response_json(p, job->op, st, enr->policy_no, &res, m[who].st, now, &w->text, &job->response);
  if (result || job->op != SVC_SETTLE)
    return result;
  make_record(&rec, w, p, st, SETL_SETTLE, enr->policy_no, st->setl_time, &res, now);
  rec.contrib_len = (uint16_t)adj_contrib_pack(p, &res.contrib, rec.contrib);
  result = s->ops->setl_put(s, &rec, w->cur_req, job->response.ptr, err);
  for (size_t i = 0; i < n && !result; i++)
    result = save_member(s, w, p, &m[i], err);
  return result;
}

static enum hmb_status do_settle(struct svc *svc, struct store *s, struct svc_writer *w,
                                 struct svc_job *job, struct settlement *st, hmb_time now)
{
  struct hmb_err *err = &job->err;
  struct store_person person;
  struct store_enrollment enr;
  const struct plan *p = NULL;
  struct member m[PLAN_MAX_FAMILY];
  size_t n = 0, who = 0;
  enum hmb_status result;

  memset(m, 0, sizeof(m));
  result = job_person(s, job, st->psn_no, &person, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "person.not_found", "psn_no",
                       "参保人不在基本医保名单中");
  if (result)
    return result;
  result = find_cover(svc, s, &person, time_date(st->setl_time), &p, &enr, err);
  if (result)
    return result;
  if (!p)
    BUG("cover found without a plan");
  result = load_account(s, w, p, &person, &enr, m, &n, &who, err);
  if (!result)
    result = settle_account(s, w, job, st, now, p, &enr, m, n, who);
  members_release(m, n);
  return result;
}

/*
 * A settlement whose reads came in one go (run_job): the person alone
 * under the plan of their region. A person not enrolled in it may hold
 * another plan of the province: the general path looks.
 */
static enum hmb_status do_settle_read(struct svc *svc, struct store *s, struct svc_writer *w,
                                      struct svc_job *job, struct settlement *st, hmb_time now,
                                      const struct plan *p, const struct store_setl_reads *rd)
{
  struct hmb_err *err = &job->err;
  struct member m[1];
  enum hmb_status result;

  result = svc_cover_judge(p, st->psn_no, time_date(st->setl_time), rd->enr_found ? &rd->enr : NULL,
                           rd->status, err);
  if (result == HMB_NOT_FOUND && !strcmp(err->code, "cover.not_enrolled")) {
    hmb_err_init(err);
    return do_settle(svc, s, w, job, st, now);
  }
  if (result)
    return result;
  memset(m, 0, sizeof(m));
  m[0].person = job->parsed->person;
  m[0].enr = rd->enr;
  snprintf(m[0].psn_no, sizeof(m[0].psn_no), "%s", st->psn_no);
  result = member_start(p, &m[0], err);
  if (!result && rd->state_found)
    result = adj_state_unpack(p, (const uint8_t *)w->blob.ptr, w->blob.len, m[0].st, err);
  if (!result)
    result = settle_account(s, w, job, st, now, p, &rd->enr, m, 1, 0);
  members_release(m, 1);
  return result;
}

static enum hmb_status do_reverse(struct svc *svc, struct store *s, struct svc_writer *w,
                                  struct svc_job *job, struct settlement *st, hmb_time now)
{
  struct hmb_err *err = &job->err;
  struct store_setl orig, rec;
  struct store_person person;
  struct store_enrollment enr;
  const struct plan *p;
  struct member m[PLAN_MAX_FAMILY];
  struct adj_state *states[PLAN_MAX_FAMILY];
  struct adj_contrib c;
  struct adj_result res;
  size_t n = 0, who = 0;
  enum hmb_status result;

  memset(m, 0, sizeof(m));
  result = s->ops->setl_get(s, st->setl_id, SETL_SETTLE, &orig, NULL, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "reversal.unknown", "setl_id",
                       "冲销的结算不存在（该 setl_id 未曾结算）");
  if (result)
    return result;
  if (strcmp(orig.psn_no, st->psn_no))
    return hmb_err_set(err, HMB_INVALID, "reversal.person", "psn_no",
                       "冲销请求的人员编号与原结算不一致");
  if (orig.reversed)
    return hmb_err_set(err, HMB_CONFLICT, "reversal.repeated", "setl_id", "该结算已冲销");
  p = svc_plan(svc, orig.plan_id);
  if (!p)
    return hmb_err_set(err, HMB_NOT_FOUND, "plan.not_loaded", "plan_id", "原结算的产品未加载");
  result = job_person(s, job, st->psn_no, &person, err);
  if (!result)
    result = s->ops->enrollment_get(s, p->id, st->psn_no, &enr, err);
  if (result)
    return result;
  result = load_account(s, w, p, &person, &enr, m, &n, &who, err);
  if (result)
    goto out;
  for (size_t i = 0; i < n; i++)
    states[i] = m[i].st;
  memset(&c, 0, sizeof(c));
  if (orig.contrib_len && !adj_contrib_unpack(p, orig.contrib, orig.contrib_len, &c)) {
    result = hmb_err_set(err, HMB_IO, "store.corrupt", "contrib", "原结算的记录无法读取");
    goto out;
  }
  result = adj_reverse(p, states, n, who, &c, 0, &res, err);
  if (result)
    goto out;
  make_record(&rec, w, p, st, SETL_REVERSAL, orig.policy_no, orig.setl_time, &res, now);
  buf_reset(&job->response);
  result = response_json(p, SVC_REVERSE, st, orig.policy_no, &res, m[who].st, now, &w->text,
                         &job->response);
  if (!result)
    result = s->ops->setl_put(s, &rec, w->cur_req, job->response.ptr, err);
  if (!result)
    result = s->ops->setl_mark_reversed(s, st->setl_id, err);
  for (size_t i = 0; i < n && !result; i++)
    result = save_member(s, w, p, &m[i], err);
out:
  members_release(m, n);
  return result;
}

/* A stored record of the job's (setl_id, kind): the answer to a repeat,
 * or the refusal of another request under the same setl_id. */
static void judge_prior(struct svc_job *job, const struct store_setl *prior)
{
  const struct svc_parsed *pp = job->parsed;
  const struct settlement *stp = &pp->st;
  struct hmb_err *err = &job->err;
  if (strcmp(prior->psn_no, stp->psn_no)) {
    buf_reset(&job->response);
    job->status = hmb_err_set(err, HMB_CONFLICT, "setl.id_conflict", "setl_id",
                              "该 setl_id 已用于另一参保人的结算");
    return;
  }
  if (memcmp(prior->request_hash, pp->req_hash, sizeof(pp->req_hash))) {
    /* a corrected resend must not be answered as if it were the original */
    buf_reset(&job->response);
    job->status = hmb_err_set(err, HMB_CONFLICT, "setl.changed", "setl_id",
                              "该 setl_id 已%s，但本次请求内容与原请求不同；如需更正请先冲销",
                              stp->kind == SETL_REVERSAL ? "冲销" : "结算");
    return;
  }
  job->repeated = true;
  job->status = HMB_OK;
}

/*
 * The plan a settlement of the job's person reads everything for at once
 * (store setl_reads: one round trip on a server): a settlement (not a
 * reversal) of a person in the roster, under the plan of their region,
 * judged on their own account. NULL: the general path.
 */
static const struct plan *read_at_once(struct svc *svc, const struct svc_parsed *pp)
{
  const struct plan *p;
  if (pp->st.kind != SETL_SETTLE || pp->person_known <= 0)
    return NULL;
  p = svc_plan_for(svc, pp->person.admdvs, time_date(pp->st.setl_time));
  if (!p || (p->has_family_scope && pp->person.family_id[0]))
    return NULL;
  return p;
}

static void run_job(struct svc *svc, struct store *s, struct svc_writer *w, struct svc_job *job,
                    hmb_time now)
{
  struct svc_parsed *pp = job->parsed;
  struct settlement *stp;
  struct store_setl prior;
  struct store_setl_reads rd;
  const struct plan *p;
  struct hmb_err *err = &job->err;
  enum hmb_status result;

  if (!pp) {
    job->status = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    return;
  }
  if (pp->status) {
    *err = pp->err;
    job->status = pp->status;
    return;
  }
  stp = &pp->st;
  w->cur_req = pp->req.ptr;
  w->cur_req_hash = pp->req_hash;
  buf_reset(&job->response);
  p = read_at_once(svc, pp);
  if (p) {
    buf_reset(&w->blob);
    result = s->ops->setl_reads(s, stp->setl_id, stp->kind, p->id, stp->psn_no,
                                time_date(stp->setl_time), &rd, &job->response, &w->blob, err);
    if (!result && rd.prior_found) {
      judge_prior(job, &rd.prior);
      return;
    }
    buf_reset(&job->response);
    job->status = result ? result : do_settle_read(svc, s, w, job, stp, now, p, &rd);
    return;
  }
  /* idempotency: the same request again gets the stored answer */
  result = s->ops->setl_get(s, stp->setl_id, stp->kind, &prior, &job->response, err);
  if (result == HMB_OK) {
    judge_prior(job, &prior);
    return;
  }
  buf_reset(&job->response);
  if (result != HMB_NOT_FOUND) {
    job->status = result;
    return;
  }
  hmb_err_init(err);
  if (stp->kind == SETL_REVERSAL)
    result = do_reverse(svc, s, w, job, stp, now);
  else
    result = do_settle(svc, s, w, job, stp, now);
  job->status = result;
}

/* ---- the writer thread ---- */

static void finish_jobs(struct svc *svc, struct svc_job *head, uint64_t ns, size_t njobs)
{
  struct svc_stats d;
  memset(&d, 0, sizeof(d));
  for (struct svc_job *j = head; j; j = j->next) {
    if (j->status)
      d.rejected++;
    else if (j->repeated)
      d.repeated++;
    else if (j->op == SVC_TRIAL)
      d.trials++;
    else if (j->op == SVC_SETTLE)
      d.settled++;
    else
      d.reversed++;
  }
  pthread_mutex_lock(&svc->stats_mu);
  svc->stats.jobs += njobs;
  svc->stats.rejected += d.rejected;
  svc->stats.repeated += d.repeated;
  svc->stats.trials += d.trials;
  svc->stats.settled += d.settled;
  svc->stats.reversed += d.reversed;
  svc->stats.groups++;
  svc->stats.commit_ns_total += ns;
  if (njobs > svc->stats.queue_max)
    svc->stats.queue_max = njobs;
  pthread_mutex_unlock(&svc->stats_mu);
  while (head) {
    struct svc_job *next = head->next;
    head->next = NULL;
    parsed_free(head->parsed);
    head->parsed = NULL;
    head->done(head); /* may free the job */
    head = next;
  }
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The syncer: the writer commits without waiting for the disk (deferred
 * sync) and goes on with the next group; this thread makes the committed
 * groups durable with one sync and only then answers their jobs. Every
 * answer, a repeat or a trial included, waits for a sync that follows its
 * group's commit, so nothing is acknowledged that a crash could undo.
 */
struct svc_group {
  struct svc_job *head;
  size_t njobs;
  uint64_t t0;
  struct svc_group *next;
};

static void hand_to_syncer(struct svc *svc, struct svc_job *head, size_t njobs, uint64_t t0)
{
  struct svc_group *g = hmb_malloc(sizeof(*g));
  if (!g) {
    /* cannot queue: answer after a sync of our own */
    struct hmb_err err;
    hmb_err_init(&err);
    if (svc->wstore->ops->sync(svc->wstore, &err))
      for (struct svc_job *j = head; j; j = j->next)
        if (!j->status) {
          j->status = err.status;
          j->err = err;
          buf_reset(&j->response);
        }
    finish_jobs(svc, head, now_ns() - t0, njobs);
    return;
  }
  g->head = head;
  g->njobs = njobs;
  g->t0 = t0;
  g->next = NULL;
  pthread_mutex_lock(&svc->sync_mu);
  if (svc->sync_tail)
    svc->sync_tail->next = g;
  else
    svc->sync_head = g;
  svc->sync_tail = g;
  pthread_cond_signal(&svc->sync_cv);
  pthread_mutex_unlock(&svc->sync_mu);
}

static void *syncer_main(void *arg)
{
  struct svc *svc = arg;
  struct store *s = NULL;
  struct hmb_err open_err;
  pthread_setname_np(pthread_self(), "hmb-sync");
  hmb_err_init(&open_err);
  store_open(&s, svc->db_url, &open_err);
  for (;;) {
    struct svc_group *g;
    struct hmb_err err;
    enum hmb_status result;
    pthread_mutex_lock(&svc->sync_mu);
    while (!svc->sync_head && !svc->writer_done)
      pthread_cond_wait(&svc->sync_cv, &svc->sync_mu);
    g = svc->sync_head;
    svc->sync_head = svc->sync_tail = NULL;
    pthread_mutex_unlock(&svc->sync_mu);
    if (!g)
      break;
    hmb_err_init(&err);
    result = s ? s->ops->sync(s, &err)
               : hmb_err_set(&err, HMB_IO, "store.sync", "db", "%s", open_err.message);
    while (g) {
      struct svc_group *next = g->next;
      if (result)
        for (struct svc_job *j = g->head; j; j = j->next)
          if (!j->status) {
            j->status = result;
            j->err = err;
            buf_reset(&j->response);
          }
      finish_jobs(svc, g->head, now_ns() - g->t0, g->njobs);
      free(g);
      g = next;
    }
  }
  store_close(s);
  return NULL;
}

/*
 * Failures that another writer on the same database causes and that go
 * away when the job runs again: a deadlock or lock timeout between two
 * servers, or a setl_id inserted by another server between this job's
 * idempotency check and its insert (run again, the job finds it and
 * answers as a repeat). SQLite with one writer never produces them.
 */
#define SVC_JOB_RETRIES 5

static bool job_retryable(const struct svc_job *j)
{
  return j->status == HMB_CONFLICT &&
         (!strcmp(j->err.code, "store.retry") || !strcmp(j->err.code, "store.unique"));
}

/*
 * Lock the group's people up front, in one order every server shares
 * (store.h lock_keys): two servers' groups with people in common then
 * wait for each other instead of deadlocking row by row.
 */
static enum hmb_status lock_people(struct store *s, struct svc_writer *w, struct svc_job *head,
                                   size_t njobs, struct hmb_err *err)
{
  size_t n = 0;
  if (njobs > w->nkeys_alloc) {
    int64_t *k = hmb_reallocarray(w->keys, njobs, sizeof(*k));
    if (!k)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    w->keys = k;
    w->nkeys_alloc = njobs;
  }
  for (struct svc_job *j = head; j; j = j->next)
    if (j->parsed && !j->parsed->status)
      w->keys[n++] = (int64_t)hmb_hash64(j->parsed->st.psn_no, strlen(j->parsed->st.psn_no));
  return s->ops->lock_keys(s, w->keys, n, err);
}

/*
 * Read the group's people from the roster at once (store person_get_many:
 * one round trip on a server) into their jobs; a settlement does not
 * change the roster, so the records hold for the whole transaction.
 */
static enum hmb_status prefetch_people(struct store *s, struct svc_writer *w, struct svc_job *head,
                                       size_t njobs, struct hmb_err *err)
{
  size_t n = 0, i = 0;
  enum hmb_status result;
  if (njobs > w->npsn_alloc) {
    char(*psn)[SETL_ID_MAX] = hmb_reallocarray(w->psn, njobs, sizeof(*psn));
    struct store_person *persons;
    bool *found;
    if (psn)
      w->psn = psn;
    persons = hmb_reallocarray(w->persons, njobs, sizeof(*persons));
    if (persons)
      w->persons = persons;
    found = hmb_reallocarray(w->found, njobs, sizeof(*found));
    if (found)
      w->found = found;
    if (!psn || !persons || !found)
      return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    w->npsn_alloc = njobs;
  }
  for (struct svc_job *j = head; j; j = j->next)
    if (j->parsed && !j->parsed->status) {
      j->parsed->person_known = 0;
      memcpy(w->psn[n], j->parsed->st.psn_no, SETL_ID_MAX);
      n++;
    }
  if (!n)
    return HMB_OK;
  result =
      s->ops->person_get_many(s, (const char(*)[SETL_ID_MAX])w->psn, n, w->persons, w->found, err);
  if (result)
    return result;
  for (struct svc_job *j = head; j; j = j->next)
    if (j->parsed && !j->parsed->status) {
      j->parsed->person_known = w->found[i] ? 1 : -1;
      if (w->found[i])
        j->parsed->person = w->persons[i];
      i++;
    }
  return HMB_OK;
}

static void run_group(struct svc *svc, struct svc_job *head, size_t njobs)
{
  struct store *s = svc->wstore;
  struct svc_writer *w = svc->w;
  struct hmb_err err;
  uint64_t t0 = now_ns();
  hmb_time now = (hmb_time)time(NULL) + 8 * 3600;
  bool writes = false;
  enum hmb_status result;

  hmb_err_init(&err);
  result = s->ops->begin(s, STORE_TX_WRITE, &err);
  if (!result)
    result = lock_people(s, w, head, njobs, &err);
  if (!result)
    result = prefetch_people(s, w, head, njobs, &err);
  for (struct svc_job *j = head; j; j = j->next) {
    if (result) {
      j->status = result;
      j->err = err;
      continue;
    }
    bool no_savepoint = false;
    for (int attempt = 0;; attempt++) {
      if (s->ops->savepoint(s, &j->err)) {
        j->status = j->err.status;
        no_savepoint = true;
        break;
      }
      run_job(svc, s, w, j, now);
      /* with deferred writes (store pipeline) a write's failure, such as
       * another server's duplicate, comes back here; the savepoint then
       * stays open for rollback_to() */
      if (!j->status && s->ops->release(s, &j->err))
        j->status = j->err.status;
      if (!j->status || !job_retryable(j) || attempt == SVC_JOB_RETRIES)
        break;
      /* another server settled the same person or setl_id at the same
       * time: undo this job and run it again; it then waits for or sees
       * the other's commit */
      s->ops->rollback_to(s);
      buf_reset(&j->response);
      j->status = HMB_OK;
      j->repeated = false;
      hmb_err_init(&j->err);
    }
    if (no_savepoint) {
      continue;
    } else if (j->status) {
      s->ops->rollback_to(s);
      buf_reset(&j->response);
    } else if (j->op != SVC_TRIAL && !j->repeated) {
      writes = true;
    }
  }
  if (!result) {
    if (writes)
      result = s->ops->commit(s, &err);
    else
      s->ops->rollback(s);
    if (result) {
      /* nothing of the group is durable: every write job fails */
      s->ops->rollback(s);
      for (struct svc_job *j = head; j; j = j->next)
        if (!j->status && j->op != SVC_TRIAL && !j->repeated) {
          j->status = result;
          j->err = err;
          buf_reset(&j->response);
        }
    }
  }
  hand_to_syncer(svc, head, njobs, t0);
}

static void *writer_main(void *arg)
{
  struct svc *svc = arg;
  pthread_setname_np(pthread_self(), "hmb-writer");
  for (;;) {
    struct svc_job *head, *tail;
    size_t n = 0;
    pthread_mutex_lock(&svc->q_mu);
    while (!svc->q_head && !svc->closing)
      pthread_cond_wait(&svc->q_cv, &svc->q_mu);
    if (!svc->q_head) {
      pthread_mutex_unlock(&svc->q_mu);
      return NULL;
    }
    head = tail = svc->q_head;
    n = 1;
    while (tail->next && n < svc->group_max) {
      tail = tail->next;
      n++;
    }
    svc->q_head = tail->next;
    if (!svc->q_head)
      svc->q_tail = NULL;
    svc->q_len -= n;
    tail->next = NULL;
    pthread_mutex_unlock(&svc->q_mu);
    run_group(svc, head, n);
  }
}

/*
 * The writer's commits never checkpoint (that would stall every request
 * of a group behind it); this thread copies the log into the database a
 * few times a second instead, on its own connection, without blocking
 * the writer.
 */
static void *checkpointer_main(void *arg)
{
  struct svc *svc = arg;
  struct store *s = NULL;
  struct hmb_err err;
  uint64_t seen = 0;
  pthread_setname_np(pthread_self(), "hmb-checkpoint");
  hmb_err_init(&err);
  if (store_open(&s, svc->db_url, &err))
    return NULL;
  pthread_mutex_lock(&svc->q_mu);
  while (!svc->closing) {
    struct timespec ts;
    uint64_t groups;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&svc->ckpt_cv, &svc->q_mu, &ts);
    pthread_mutex_unlock(&svc->q_mu);
    pthread_mutex_lock(&svc->stats_mu);
    groups = svc->stats.groups;
    pthread_mutex_unlock(&svc->stats_mu);
    if (groups != seen) {
      seen = groups;
      s->ops->checkpoint(s, &err);
    }
    pthread_mutex_lock(&svc->q_mu);
  }
  pthread_mutex_unlock(&svc->q_mu);
  s->ops->checkpoint(s, &err);
  store_close(s);
  return NULL;
}

enum hmb_status svc_writer_start(struct svc *svc, struct hmb_err *err)
{
  enum hmb_status result;
  svc->w = hmb_calloc(1, sizeof(*svc->w));
  if (!svc->w)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  buf_init(&svc->w->blob, 64u << 20);
  buf_init(&svc->w->text, 1u << 20);
  result = store_open(&svc->wstore, svc->db_url, err);
  if (!result)
    result = svc->wstore->ops->autocheckpoint(svc->wstore, false, err);
  if (!result)
    result = svc->wstore->ops->deferred_sync(svc->wstore, true, err);
  if (!result)
    result = svc->wstore->ops->pipeline(svc->wstore, !svc->no_pipeline, err);
  if (result)
    return result;
  if (pthread_create(&svc->syncer, NULL, syncer_main, svc))
    return hmb_err_set(err, HMB_IO, "thread", "", "无法启动同步线程");
  svc->syncer_started = true;
  if (pthread_create(&svc->writer, NULL, writer_main, svc))
    return hmb_err_set(err, HMB_IO, "thread", "", "无法启动结算写线程");
  svc->writer_started = true;
  if (pthread_create(&svc->ckpt, NULL, checkpointer_main, svc))
    return hmb_err_set(err, HMB_IO, "thread", "", "无法启动日志检查点线程");
  svc->ckpt_started = true;
  return HMB_OK;
}

void svc_writer_stop(struct svc *svc)
{
  pthread_mutex_lock(&svc->q_mu);
  svc->closing = true;
  pthread_cond_broadcast(&svc->q_cv);
  pthread_cond_broadcast(&svc->ckpt_cv);
  pthread_mutex_unlock(&svc->q_mu);
  if (svc->writer_started)
    pthread_join(svc->writer, NULL);
  svc->writer_started = false;
  /* the syncer answers what the writer committed, then ends */
  pthread_mutex_lock(&svc->sync_mu);
  svc->writer_done = true;
  pthread_cond_broadcast(&svc->sync_cv);
  pthread_mutex_unlock(&svc->sync_mu);
  if (svc->syncer_started)
    pthread_join(svc->syncer, NULL);
  svc->syncer_started = false;
  if (svc->ckpt_started)
    pthread_join(svc->ckpt, NULL);
  svc->ckpt_started = false;
  store_close(svc->wstore);
  svc->wstore = NULL;
  if (svc->w) {
    free(svc->w->keys);
    free(svc->w->psn);
    free(svc->w->persons);
    free(svc->w->found);
    buf_release(&svc->w->blob);
    buf_release(&svc->w->text);
    free(svc->w);
    svc->w = NULL;
  }
}

enum hmb_status svc_submit(struct svc *svc, struct svc_job *job)
{
  job->status = HMB_OK;
  job->repeated = false;
  job->next = NULL;
  hmb_err_init(&job->err);
  buf_init(&job->response, 1u << 20);
  job->parsed = parse_request(job);
  pthread_mutex_lock(&svc->q_mu);
  if (svc->closing) {
    pthread_mutex_unlock(&svc->q_mu);
    parsed_free(job->parsed);
    job->parsed = NULL;
    return HMB_UNSUPPORTED;
  }
  if (svc->q_tail)
    svc->q_tail->next = job;
  else
    svc->q_head = job;
  svc->q_tail = job;
  svc->q_len++;
  pthread_cond_signal(&svc->q_cv);
  pthread_mutex_unlock(&svc->q_mu);
  return HMB_OK;
}

/* ---- synchronous use ---- */

struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
};

static void wake(struct svc_job *job)
{
  struct waiter *wt = job->ctx;
  pthread_mutex_lock(&wt->mu);
  wt->done = true;
  pthread_cond_signal(&wt->cv);
  pthread_mutex_unlock(&wt->mu);
}

enum hmb_status svc_run(struct svc *svc, enum svc_op op, const char *body, size_t len,
                        struct buf *response, struct hmb_err *err)
{
  struct waiter wt = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
  struct svc_job job;
  enum hmb_status result;
  memset(&job, 0, sizeof(job));
  job.op = op;
  job.body = body;
  job.len = len;
  job.done = wake;
  job.ctx = &wt;
  result = svc_submit(svc, &job);
  if (result)
    return hmb_err_set(err, result, "svc.closing", "", "服务正在关闭");
  pthread_mutex_lock(&wt.mu);
  while (!wt.done)
    pthread_cond_wait(&wt.cv, &wt.mu);
  pthread_mutex_unlock(&wt.mu);
  if (job.status) {
    if (err)
      *err = job.err;
  } else if (response && job.response.len) {
    buf_add(response, job.response.ptr, job.response.len);
  }
  result = job.status;
  buf_release(&job.response);
  return result;
}

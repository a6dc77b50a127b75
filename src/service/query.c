#include "compat.h"
#include "svc_int.h"

#include "idno.h"
#include "setl_reader.h"

/* Queries and the consistency check. Each runs in one read transaction
 * on a pooled handle, so it sees one committed snapshot. */

enum hmb_status svc_setl_json(struct svc *svc, const char *setl_id, struct buf *out,
                              struct hmb_err *err)
{
  struct store *s = NULL;
  struct store_setl rec, rev;
  struct buf a = BUF_INIT(4u << 20), b = BUF_INIT(4u << 20);
  enum hmb_status result = svc_read_begin(svc, &s, err);
  if (result)
    return result;
  result = s->ops->setl_get(s, setl_id, SETL_SETTLE, &rec, &a, err);
  if (result == HMB_NOT_FOUND)
    result = hmb_err_set(err, HMB_NOT_FOUND, "setl.not_found", "setl_id", "结算不存在");
  if (!result && rec.reversed)
    result = s->ops->setl_get(s, setl_id, SETL_REVERSAL, &rev, &b, err);
  svc_read_end(svc, s);
  if (result)
    goto out;
  buf_addstr(out, "{\"settlement\":");
  buf_add(out, a.ptr, a.len);
  buf_addf(out, ",\"seq\":%" PRId64 ",\"reversed\":%s,\"reversal\":", rec.seq,
           rec.reversed ? "true" : "false");
  if (rec.reversed)
    buf_add(out, b.ptr, b.len);
  else
    buf_addstr(out, "null");
  if (buf_addch(out, '}'))
    result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
out:
  buf_release(&a);
  buf_release(&b);
  return result;
}

static const char *status_name(int st)
{
  return st == PSN_ACTIVE ? "active" : st == PSN_SUSPENDED ? "suspended" : "ended";
}

/* A name shown with only its first character: 张** */
static void mask_name(const char *name, char *out, size_t cap)
{
  size_t n = 1, o;
  unsigned char c = (unsigned char)name[0];
  if (!c) {
    out[0] = '\0';
    return;
  }
  if (c >= 0xf0)
    n = 4;
  else if (c >= 0xe0)
    n = 3;
  else if (c >= 0xc0)
    n = 2;
  if (strlen(name) < n || n + 3 > cap) {
    snprintf(out, cap, "*");
    return;
  }
  memcpy(out, name, n);
  o = n;
  out[o++] = '*';
  out[o++] = '*';
  out[o] = '\0';
}

static enum hmb_status person_state_json(struct svc *svc, struct store *s, const struct plan *p,
                                         const char *psn_no, struct buf *out, struct hmb_err *err)
{
  struct buf blob = BUF_INIT(64u << 20);
  struct adj_terms terms;
  struct adj_state *st = hmb_calloc(1, adj_state_size(p));
  struct store_setl recs[STORE_LIST_MAX];
  size_t n = 0;
  int64_t after = 0;
  enum hmb_status result;
  (void)svc;
  if (!st)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  memset(&terms, 0, sizeof(terms));
  adj_state_init(p, st, &terms);
  result = s->ops->state_get(s, p->id, psn_no, &blob, err);
  if (result == HMB_NOT_FOUND) {
    hmb_err_init(err);
    result = HMB_OK;
  } else if (!result) {
    result = adj_state_unpack(p, (const uint8_t *)blob.ptr, blob.len, st, err);
  }
  if (result)
    goto out;
  buf_addstr(out, ",\"year\":{\"paid\":\"");
  buf_add_money(out, adj_paid_total(p, st));
  buf_addstr(out, "\",\"responsibilities\":[");
  for (int r = 0; r < p->nresp; r++) {
    if (r)
      buf_addch(out, ',');
    buf_addstr(out, "{\"id\":");
    buf_add_json_str(out, p->resp[r].id, strlen(p->resp[r].id));
    buf_addstr(out, ",\"eligible\":\"");
    buf_add_money(out, money_round_bpfen((hmb_i128)adj_acc(st)[r]));
    buf_addstr(out, "\",\"paid\":\"");
    buf_add_money(out, adj_paid(p, st)[r]);
    buf_addstr(out, "\"}");
  }
  buf_addstr(out, "]},\"settlements\":[");
  for (bool first = true;;) {
    result = s->ops->setl_of_person(s, p->id, psn_no, after, recs, STORE_LIST_MAX, &n, NULL, err);
    if (result)
      goto out;
    for (size_t i = 0; i < n; i++) {
      char t[32];
      if (!first)
        buf_addch(out, ',');
      first = false;
      datetime_format(recs[i].setl_time, t);
      buf_addf(out, "{\"seq\":%" PRId64 ",\"setl_id\":", recs[i].seq);
      buf_add_json_str(out, recs[i].setl_id, strlen(recs[i].setl_id));
      buf_addf(out, ",\"kind\":\"%s\",\"setl_time\":\"%s\",\"payout\":\"",
               recs[i].kind == SETL_REVERSAL ? "reversal" : "settle", t);
      buf_add_money(out, recs[i].payout);
      buf_addf(out, "\",\"reversed\":%s}", recs[i].reversed ? "true" : "false");
      after = recs[i].seq;
    }
    if (n < STORE_LIST_MAX)
      break;
  }
  buf_addch(out, ']');
out:
  adj_state_release(st);
  free(st);
  buf_release(&blob);
  return result;
}

enum hmb_status svc_person_json(struct svc *svc, const char *psn_no, struct buf *out,
                                struct hmb_err *err)
{
  struct store *s = NULL;
  struct store_person p;
  struct store_enrollment e[16];
  size_t ne = 0;
  char certno[32], masked[IDNO_MASK_MAX], name[128], mname[16], d[16];
  char since[16];
  enum hmb_status result = svc_read_begin(svc, &s, err);
  if (result)
    return result;
  result = s->ops->person_get(s, psn_no, &p, err);
  if (result == HMB_NOT_FOUND)
    result = hmb_err_set(err, HMB_NOT_FOUND, "person.not_found", "psn_no", "参保人不在名单中");
  if (!result)
    result = pii_open(&svc->pii, "certno", p.psn_no, p.certno_enc, p.certno_enc_len, certno,
                      sizeof(certno), err);
  if (!result)
    result =
        pii_open(&svc->pii, "name", p.psn_no, p.name_enc, p.name_enc_len, name, sizeof(name), err);
  if (!result)
    result = s->ops->enrollments_of(s, psn_no, e, ARRAY_SIZE(e), &ne, err);
  if (result)
    goto done;
  idno_mask(certno, strlen(certno), masked, sizeof(masked));
  mask_name(name, mname, sizeof(mname));
  buf_addstr(out, "{\"psn_no\":");
  buf_add_json_str(out, p.psn_no, strlen(p.psn_no));
  buf_addstr(out, ",\"certno\":");
  buf_add_json_str(out, masked, strlen(masked));
  buf_addstr(out, ",\"name\":");
  buf_add_json_str(out, mname, strlen(mname));
  date_format(p.birth, d);
  date_format(p.status_date, since);
  buf_addf(out,
           ",\"birth\":\"%s\",\"insutype\":%" PRId32
           ",\"status\":\"%s\",\"status_since\":\"%s\",\"admdvs\":\"%s\"",
           d, p.insutype, status_name(p.status), since, p.admdvs);
  buf_addstr(out, ",\"enrollments\":[");
  for (size_t i = 0; i < ne && !result; i++) {
    const struct plan *pl = svc_plan(svc, e[i].plan_id);
    if (i)
      buf_addch(out, ',');
    buf_addstr(out, "{\"enrollment\":");
    svc_enrollment_json(&e[i], out);
    if (pl)
      result = person_state_json(svc, s, pl, psn_no, out, err);
    buf_addch(out, '}');
  }
  buf_addstr(out, "]}");
done:
  svc_read_end(svc, s);
  memset(certno, 0, sizeof(certno));
  memset(name, 0, sizeof(name));
  return result;
}

/* ---- verify: recompute every state from the stored settlements ---- */

struct replay {
  const struct plan *p;
  struct adj_state *st;
  struct adj_terms terms;
  struct setl_line *lines;
  struct buf blob;
  struct buf req;
};

/* Replay one person's records of plan p; 0 when the state and every
 * payout agree, else a description in why. */
static enum hmb_status replay_person(struct svc *svc, struct store *s, struct replay *rp,
                                     const char *psn_no, char *why, size_t cap, bool *same,
                                     int64_t *nsetl, struct hmb_err *err)
{
  const struct plan *p = rp->p;
  struct store_person person;
  struct store_enrollment enr;
  struct adj_person who;
  struct adj_state *stored;
  struct store_setl recs[STORE_LIST_MAX];
  size_t n;
  int64_t after = 0;
  enum hmb_status result;

  *same = true;
  result = s->ops->person_get(s, psn_no, &person, err);
  if (!result)
    result = s->ops->enrollment_get(s, p->id, psn_no, &enr, err);
  if (result)
    return result;
  svc_adj_person(p, &person, &enr, &who);
  result = adj_terms_resolve(p, &who, &rp->terms, err);
  if (result)
    return result;
  adj_state_release(rp->st);
  adj_state_init(p, rp->st, &rp->terms);
  for (;;) {
    const char *line;
    buf_reset(&rp->req);
    result =
        s->ops->setl_of_person(s, p->id, psn_no, after, recs, STORE_LIST_MAX, &n, &rp->req, err);
    if (result)
      return result;
    line = rp->req.ptr;
    for (size_t i = 0; i < n; i++) {
      const char *nl = line ? strchr(line, '\n') : NULL;
      size_t len = nl ? (size_t)(nl - line) : line ? strlen(line) : 0;
      struct settlement st;
      struct adj_result res;
      struct adj_state *m[1] = {rp->st};
      settlement_init(&st);
      ++*nsetl;
      if (recs[i].kind == SETL_SETTLE) {
        result = setl_parse_json_line(line, len, &st, rp->lines, SETL_MAX_LINES, err);
        if (!result) {
          plan_mark_lines(p, st.lines, st.nlines);
          result = adj_settle(p, m, 1, 0, &st, 0, &res, err);
        }
      } else {
        /* the contribution taken back is the one stored with the settlement */
        struct store_setl orig;
        struct adj_contrib c;
        memset(&c, 0, sizeof(c));
        result = s->ops->setl_get(s, recs[i].setl_id, SETL_SETTLE, &orig, NULL, err);
        if (!result && orig.contrib_len &&
            !adj_contrib_unpack(p, orig.contrib, orig.contrib_len, &c))
          result = hmb_err_set(err, HMB_IO, "store.corrupt", "contrib", "结算记录无法读取");
        if (!result)
          result = adj_reverse(p, m, 1, 0, &c, 0, &res, err);
      }
      if (result) {
        snprintf(why, cap, "seq %" PRId64 ": %s", recs[i].seq, err->code);
        *same = false;
        hmb_err_init(err);
        return HMB_OK;
      }
      if (res.payout != recs[i].payout) {
        snprintf(why, cap, "seq %" PRId64 ": payout stored %" PRId64 " recomputed %" PRId64,
                 recs[i].seq, recs[i].payout, res.payout);
        *same = false;
        return HMB_OK;
      }
      after = recs[i].seq;
      line = nl ? nl + 1 : NULL;
    }
    if (n < STORE_LIST_MAX)
      break;
  }
  stored = hmb_calloc(1, adj_state_size(p));
  if (!stored)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  adj_state_init(p, stored, &rp->terms);
  buf_reset(&rp->blob);
  result = s->ops->state_get(s, p->id, psn_no, &rp->blob, err);
  if (!result)
    result = adj_state_unpack(p, (const uint8_t *)rp->blob.ptr, rp->blob.len, stored, err);
  if (!result && !adj_state_equal(p, stored, rp->st)) {
    snprintf(why, cap, "stored state differs from the recomputed one");
    *same = false;
  }
  (void)svc;
  adj_state_release(stored);
  free(stored);
  return result;
}

enum hmb_status svc_verify(struct svc *svc, int64_t *people, int64_t *settlements, int64_t *bad,
                           struct buf *report, struct hmb_err *err)
{
  struct store *s = NULL;
  struct replay rp;
  char(*psn)[SETL_ID_MAX] = NULL;
  enum hmb_status result;
  int nplans;

  *people = *settlements = *bad = 0;
  memset(&rp, 0, sizeof(rp));
  buf_init(&rp.blob, 64u << 20);
  buf_init(&rp.req, 256u << 20);
  rp.lines = hmb_calloc(SETL_MAX_LINES, sizeof(*rp.lines));
  psn = hmb_calloc(1000, sizeof(*psn));
  if (!rp.lines || !psn) {
    result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    goto out;
  }
  result = svc_store_take(svc, &s, err);
  if (result)
    goto out;
  result = s->ops->begin(s, STORE_TX_READ, err);
  if (result)
    goto out;
  pthread_mutex_lock(&svc->plans_mu);
  nplans = svc->nplans;
  pthread_mutex_unlock(&svc->plans_mu);
  for (int i = 0; i < nplans && !result; i++) {
    char after[SETL_ID_MAX] = "";
    rp.p = &svc->plans[i]->plan;
    if (rp.p->has_family_scope) {
      buf_addf(report, "plan %s: family-scope plan, not replayed\n", rp.p->id);
      continue;
    }
    if (rp.st)
      adj_state_release(rp.st);
    free(rp.st);
    rp.st = hmb_calloc(1, adj_state_size(rp.p));
    if (!rp.st) {
      result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
      break;
    }
    for (;;) {
      size_t n = 0;
      result = s->ops->state_people(s, rp.p->id, after, psn, 1000, &n, err);
      for (size_t k = 0; k < n && !result; k++) {
        char why[160];
        bool same;
        ++*people;
        result = replay_person(svc, s, &rp, psn[k], why, sizeof(why), &same, settlements, err);
        if (!result && !same) {
          ++*bad;
          buf_addf(report, "plan %s person #%" PRId64 ": %s\n", rp.p->id, *people, why);
        }
      }
      if (result || n < 1000)
        break;
      snprintf(after, sizeof(after), "%s", psn[n - 1]);
    }
  }
  s->ops->rollback(s);
out:
  svc_store_give(svc, s);
  if (rp.st) {
    adj_state_release(rp.st);
    free(rp.st);
  }
  free(rp.lines);
  free(psn);
  buf_release(&rp.blob);
  buf_release(&rp.req);
  return result;
}

enum hmb_status svc_enrollment_get(struct svc *svc, const char *policy_no,
                                   struct store_enrollment *out, struct hmb_err *err)
{
  struct store *s = NULL;
  enum hmb_status result = svc_read_begin(svc, &s, err);
  if (result)
    return result;
  result = s->ops->enrollment_by_policy(s, policy_no, out, err);
  svc_read_end(svc, s);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "enrollment.not_found", "policy_no", "保单不存在");
  return result;
}

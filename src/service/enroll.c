/*
 * enroll.c - enrollment and premiums over the store: svc_enroll, svc_pay,
 * svc_cancel, the cover check the settlement path runs, and the adj_person
 * of an enrollment.
 *
 * The rules are domain/enroll.c's; this file gathers the facts they need
 * inside one write transaction (so two requests for the same person are
 * serialised by the store's write lock and "one policy per person and
 * plan" holds), writes the enrollment, its payment and any sponsor spend,
 * and commits. Every failure path rolls back: nothing is half-written.
 */
#include "compat.h"
#include "svc_int.h"

#include <time.h>

#include "enroll.h"

/* The domain mirrors the store's codes; the casts keep -Wenum-compare quiet. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(CH_ONLINE, ENROLL_CH_ONLINE) && SAME(CH_COUNTER, ENROLL_CH_COUNTER) &&
                   SAME(CH_PERSONAL_ACCOUNT, ENROLL_CH_PERSONAL_ACCOUNT) &&
                   SAME(CH_EMPLOYER, ENROLL_CH_EMPLOYER) && SAME(CH_SPONSOR, ENROLL_CH_SPONSOR) &&
                   SAME(CH_FREE, ENROLL_CH_FREE),
               "store and domain channels differ");
_Static_assert(SAME(REL_NONE, ENROLL_REL_NONE) && SAME(REL_HEAD, ENROLL_REL_HEAD) &&
                   SAME(REL_SPOUSE, ENROLL_REL_SPOUSE) && SAME(REL_CHILD, ENROLL_REL_CHILD) &&
                   SAME(REL_PARENT, ENROLL_REL_PARENT) &&
                   SAME(REL_SPOUSE_PARENT, ENROLL_REL_SPOUSE_PARENT) &&
                   SAME(REL_OTHER, ENROLL_REL_OTHER),
               "store and domain relations differ");
_Static_assert(SAME(PSN_ACTIVE, ENROLL_PSN_ACTIVE) && SAME(PSN_SUSPENDED, ENROLL_PSN_SUSPENDED) &&
                   SAME(PSN_ENDED, ENROLL_PSN_ENDED),
               "store and domain person statuses differ");

#define SETL_BATCH 16

struct pay_args {
  const char *policy_no;
  int channel;
  const char *payer;
  hmb_fen amount;
  hmb_date today;
};

/* Everything one call reads, kept off the stack (families are up to
 * STORE_LIST_MAX people of a few hundred bytes each). */
struct ectx {
  struct store_person person, payer;
  struct store_person family[STORE_LIST_MAX];
  size_t nfamily;
  struct store_enrollment hist[STORE_LIST_MAX];
  size_t nhist;
  struct enroll_person who, pay, efam[STORE_LIST_MAX];
  struct enroll_year past[STORE_LIST_MAX];
  size_t npast;
  struct store_setl setl[SETL_BATCH];
};

static hmb_time now_cst(void)
{
  /* China Standard Time, like svc_today() */
  return (hmb_time)time(NULL) + 8 * 3600;
}

static bool empty(const char *s)
{
  return !s || !*s;
}

static void to_domain(const struct store_person *sp, int status, struct enroll_person *out)
{
  memset(out, 0, sizeof(*out));
  out->psn_no = sp->psn_no;
  out->birth = sp->birth;
  out->insutype = sp->insutype;
  out->status = status;
  out->admdvs = sp->admdvs;
  out->work_admdvs = sp->work_admdvs;
  out->family_id = sp->family_id;
  out->relation = sp->relation;
  out->veteran_year = sp->veteran_year;
  out->groups = sp->groups;
}

/* Basic-insurance status on day; 0 when none is recorded. */
static enum hmb_status status_at(struct store *s, const char *psn_no, hmb_date day, int *status,
                                 struct hmb_err *err)
{
  struct hmb_err tmp;
  enum hmb_status result;
  hmb_err_init(&tmp);
  *status = 0;
  result = s->ops->person_status_at(s, psn_no, day, status, &tmp);
  if (result == HMB_NOT_FOUND) {
    *status = 0;
    return HMB_OK;
  }
  if (result && err)
    *err = tmp;
  return result;
}

/* The person's enrollment in a plan; *found false when there is none. */
static enum hmb_status enrollment_find(struct store *s, const char *plan_id, const char *psn_no,
                                       struct store_enrollment *e, bool *found, struct hmb_err *err)
{
  struct hmb_err tmp;
  enum hmb_status result;
  hmb_err_init(&tmp);
  *found = false;
  result = s->ops->enrollment_get(s, plan_id, psn_no, e, &tmp);
  if (result == HMB_NOT_FOUND)
    return HMB_OK;
  if (result) {
    if (err)
      *err = tmp;
    return result;
  }
  *found = true;
  return HMB_OK;
}

/* Did a settlement of this plan pay the person anything that stands? */
static enum hmb_status plan_claimed(struct store *s, struct store_setl *batch, const char *plan_id,
                                    const char *psn_no, bool *claimed, struct hmb_err *err)
{
  int64_t after = 0;
  size_t n, i;
  enum hmb_status result;
  *claimed = false;
  do {
    result = s->ops->setl_of_person(s, plan_id, psn_no, after, batch, SETL_BATCH, &n, NULL, err);
    if (result)
      return result;
    for (i = 0; i < n; i++) {
      if (batch[i].kind == SETL_SETTLE && batch[i].payout != 0 && !batch[i].reversed) {
        *claimed = true;
        return HMB_OK;
      }
      after = batch[i].seq;
    }
  } while (n == SETL_BATCH);
  return HMB_OK;
}

/* "<PLAN ID upper-case, no dashes>-<8-digit sequence>" */
static enum hmb_status policy_make(struct store *s, const struct plan *p,
                                   char out[STORE_POLICY_MAX], struct hmb_err *err)
{
  char prefix[PLAN_ID_MAX];
  size_t n = 0, max = STORE_POLICY_MAX - 10; /* '-', 8 digits, NUL */
  int64_t seq;
  const char *c;
  int len;
  enum hmb_status result = s->ops->policy_seq_next(s, p->id, &seq, err);
  if (result)
    return result;
  for (c = p->id; *c && n < max && n < sizeof(prefix) - 1; c++)
    if (*c != '-')
      prefix[n++] = (char)((*c >= 'a' && *c <= 'z') ? *c - 'a' + 'A' : *c);
  prefix[n] = '\0';
  len = snprintf(out, STORE_POLICY_MAX, "%s-%08" PRId64, prefix, seq);
  if (len < 0 || len >= STORE_POLICY_MAX)
    return hmb_err_set(err, HMB_OVERFLOW, "enroll.policy_seq", "policy_no", "保单号序列已用尽");
  return HMB_OK;
}

/* A personal-account payer as the rules see it (may be the person). */
static enum hmb_status load_payer(struct store *s, struct ectx *c, const char *payer, hmb_date on,
                                  struct hmb_err *err)
{
  int status;
  enum hmb_status result;
  if (!strcmp(payer, c->person.psn_no)) {
    c->pay = c->who;
    return HMB_OK;
  }
  result = s->ops->person_get(s, payer, &c->payer, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "enroll.payer_unknown", "payer", "花名册中没有缴费人 %s",
                       payer);
  if (result)
    return result;
  result = status_at(s, payer, on, &status, err);
  if (result)
    return result;
  to_domain(&c->payer, status, &c->pay);
  return HMB_OK;
}

/* The person's family with who of it is enrolled (paid) in plan p. */
static enum hmb_status load_family(struct store *s, struct ectx *c, const struct plan *p,
                                   int *parents, struct hmb_err *err)
{
  struct store_enrollment e;
  size_t i;
  bool found;
  enum hmb_status result;
  *parents = 0;
  c->nfamily = 0;
  if (empty(c->person.family_id))
    return HMB_OK;
  result = s->ops->family(s, c->person.family_id, c->family, STORE_LIST_MAX, &c->nfamily, err);
  if (result == HMB_NOT_FOUND) {
    hmb_err_init(err);
    c->nfamily = 0;
    return HMB_OK;
  }
  if (result)
    return result;
  for (i = 0; i < c->nfamily; i++) {
    to_domain(&c->family[i], 0, &c->efam[i]);
    if (!strcmp(c->family[i].psn_no, c->person.psn_no))
      continue;
    result = enrollment_find(s, p->id, c->family[i].psn_no, &e, &found, err);
    if (result)
      return result;
    c->efam[i].enrolled = found && e.status == ENR_ACTIVE;
  }
  *parents = enroll_parents_enrolled(&c->who, c->efam, c->nfamily);
  return HMB_OK;
}

/* Earlier active enrollments of plans of the same region, for loyalty. */
static enum hmb_status load_history(struct svc *svc, struct store *s, struct ectx *c,
                                    const struct plan *p, struct hmb_err *err)
{
  size_t i;
  enum hmb_status result;
  c->npast = 0;
  result = s->ops->enrollments_of(s, c->person.psn_no, c->hist, STORE_LIST_MAX, &c->nhist, err);
  if (result == HMB_NOT_FOUND) {
    hmb_err_init(err);
    return HMB_OK;
  }
  if (result)
    return result;
  for (i = 0; i < c->nhist; i++) {
    const struct store_enrollment *h = &c->hist[i];
    const struct plan *hp;
    struct enroll_year *y;
    bool claimed;
    if (h->status != ENR_ACTIVE || h->year >= p->year)
      continue;
    hp = svc_plan(svc, h->plan_id);
    if (!hp || strcmp(hp->region_code, p->region_code))
      continue;
    result = plan_claimed(s, c->setl, h->plan_id, c->person.psn_no, &claimed, err);
    if (result)
      return result;
    y = &c->past[c->npast++];
    y->year = h->year;
    y->preexisting = h->preexisting;
    y->claimed = claimed;
  }
  return HMB_OK;
}

static enum hmb_status budget_spend(struct store *s, const char *sponsor, hmb_fen amount,
                                    struct hmb_err *err)
{
  enum hmb_status result = s->ops->sponsor_spend(s, sponsor, amount, err);
  if (result == HMB_CONFLICT)
    return hmb_err_set(err, HMB_CONFLICT, "sponsor.budget", "payer",
                       "资助方 %s 的剩余预算不足以支付保费", sponsor);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "sponsor.unknown", "payer", "没有资助方 %s", sponsor);
  return result;
}

static enum hmb_status pay_record(struct store *s, const struct store_enrollment *e, hmb_fen amount,
                                  struct hmb_err *err)
{
  struct store_payment pm;
  memset(&pm, 0, sizeof(pm));
  snprintf(pm.policy_no, sizeof(pm.policy_no), "%s", e->policy_no);
  pm.channel = e->channel;
  snprintf(pm.payer, sizeof(pm.payer), "%s", e->payer);
  pm.amount = amount;
  pm.at = now_cst();
  return s->ops->payment_add(s, &pm, err);
}

static enum hmb_status enroll_tx(struct svc *svc, struct store *s, struct ectx *c,
                                 const struct plan *p, const struct svc_enroll_req *req,
                                 hmb_date on, struct store_enrollment *out, struct hmb_err *err)
{
  struct store_enrollment e;
  struct store_sponsor sp;
  struct enroll_input in;
  struct enroll_result r;
  char payer[SETL_ID_MAX] = "";
  int status, parents;
  bool found, paid;
  enum hmb_status result;

  result = s->ops->person_get(s, req->psn_no, &c->person, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "enroll.person", "psn_no", "花名册中没有参保人 %s",
                       req->psn_no);
  if (result)
    return result;
  result = enrollment_find(s, p->id, req->psn_no, &e, &found, err);
  if (result)
    return result;
  if (found)
    return hmb_err_set(err, HMB_CONFLICT, "enroll.already", "psn_no",
                       "参保人 %s 已投保本产品（一人一单），保单号 %s", req->psn_no, e.policy_no);
  result = status_at(s, req->psn_no, on, &status, err);
  if (result)
    return result;
  to_domain(&c->person, status, &c->who);
  result = load_family(s, c, p, &parents, err);
  if (!result)
    result = load_history(svc, s, c, p, err);
  if (!result && req->channel == CH_PERSONAL_ACCOUNT && !empty(req->payer))
    result = load_payer(s, c, req->payer, on, err);
  if (result)
    return result;

  memset(&in, 0, sizeof(in));
  in.plan = p;
  in.person = &c->who;
  in.channel = req->channel;
  in.payer = req->payer;
  in.payer_person = req->channel == CH_PERSONAL_ACCOUNT && !empty(req->payer) ? &c->pay : NULL;
  in.group = req->group;
  in.on = on;
  in.preexisting = req->preexisting;
  in.parents_enrolled = parents;
  in.past = c->past;
  in.npast = c->npast;
  result = enroll_decide(&in, &r, err);
  if (result)
    return result;

  /* Who pays, in the form the records keep. */
  if (r.channel == CH_EMPLOYER) {
    char uscc[USCC_LEN + 1];
    result = uscc_parse(req->payer, strlen(req->payer), uscc, "payer", err);
    if (result)
      return result;
    snprintf(payer, sizeof(payer), "%s", uscc);
  } else if (r.channel == CH_SPONSOR) {
    result = s->ops->sponsor_get(s, req->payer, &sp, err);
    if (result == HMB_NOT_FOUND)
      return hmb_err_set(err, HMB_NOT_FOUND, "sponsor.unknown", "payer", "没有资助方 %s",
                         req->payer);
    if (result)
      return result;
    snprintf(payer, sizeof(payer), "%s", req->payer);
  } else if (r.channel != CH_FREE) {
    snprintf(payer, sizeof(payer), "%s", empty(req->payer) ? req->psn_no : req->payer);
  }

  memset(&e, 0, sizeof(e));
  result = policy_make(s, p, e.policy_no, err);
  if (result)
    return result;
  snprintf(e.plan_id, sizeof(e.plan_id), "%s", p->id);
  snprintf(e.psn_no, sizeof(e.psn_no), "%s", req->psn_no);
  e.year = p->year;
  e.channel = (int8_t)r.channel;
  snprintf(e.payer, sizeof(e.payer), "%s", payer);
  snprintf(e.group, sizeof(e.group), "%s", r.group);
  e.premium = r.premium;
  e.enrolled_on = on;
  e.cover_start = r.cover_start;
  e.preexisting = r.preexisting;
  e.loyalty_years = r.loyalty_years;
  e.claim_free_years = r.claim_free_years;
  e.created_at = e.updated_at = now_cst();
  /* Online and counter requests may leave the premium due; the other
   * channels take it with the request. */
  paid = r.premium == 0 || (r.channel != CH_ONLINE && r.channel != CH_COUNTER) || req->pay;
  e.status = paid ? ENR_ACTIVE : ENR_PENDING;
  e.paid = paid ? r.premium : 0;

  if (paid && r.premium && r.channel == CH_SPONSOR) {
    result = budget_spend(s, e.payer, r.premium, err);
    if (result)
      return result;
  }
  result = s->ops->enrollment_put(s, &e, err);
  if (result)
    return result;
  if (paid && r.premium) {
    result = pay_record(s, &e, r.premium, err);
    if (result)
      return result;
  }
  *out = e;
  return HMB_OK;
}

/* One call's work inside a write transaction. */
struct tx_call {
  enum { TX_ENROLL, TX_PAY, TX_CANCEL } kind;
  struct ectx *c;
  const struct plan *p;
  const struct svc_enroll_req *req;
  const struct pay_args *pay;
  const char *policy_no;
  hmb_date on;
  struct store_enrollment *out;
};

static enum hmb_status tx_body(struct svc *svc, struct store *s, const struct tx_call *t,
                               struct hmb_err *err);

/* Run t in one write transaction on a pooled handle: commit on success,
 * roll back on any failure (a failed commit included). */
static enum hmb_status in_write_tx(struct svc *svc, const struct tx_call *t, struct hmb_err *err)
{
  struct store *s = NULL;
  enum hmb_status result = svc_store_take(svc, &s, err);
  if (result)
    return result;
  result = s->ops->begin(s, STORE_TX_WRITE, err);
  if (!result) {
    result = tx_body(svc, s, t, err);
    if (!result)
      result = s->ops->commit(s, err);
    if (result)
      s->ops->rollback(s);
  }
  svc_store_give(svc, s);
  return result;
}

static enum hmb_status check_text(const char *s, size_t max, const char *code, const char *field,
                                  bool required, struct hmb_err *err)
{
  if ((required && empty(s)) || (s && strlen(s) >= max))
    return hmb_err_set(err, HMB_INVALID, code, field, required && empty(s) ? "缺少 %s" : "%s 过长",
                       field);
  return HMB_OK;
}

enum hmb_status svc_enroll(struct svc *svc, const struct svc_enroll_req *req,
                           struct store_enrollment *out, struct hmb_err *err)
{
  struct store_enrollment e;
  struct tx_call t;
  const struct plan *p;
  struct ectx *c;
  enum hmb_status result;

  if ((result = check_text(req->plan_id, PLAN_ID_MAX, "enroll.plan", "plan_id", true, err)) ||
      (result = check_text(req->psn_no, SETL_ID_MAX, "enroll.psn_no", "psn_no", true, err)) ||
      (result = check_text(req->payer, SETL_ID_MAX, "enroll.payer", "payer", false, err)) ||
      (result = check_text(req->group, PLAN_ID_MAX, "enroll.group", "group", false, err)))
    return result;
  p = svc_plan(svc, req->plan_id);
  if (!p)
    return hmb_err_set(err, HMB_NOT_FOUND, "enroll.plan", "plan_id", "没有这一产品");
  if (req->only_sponsor &&
      (req->channel != CH_SPONSOR || empty(req->payer) || strcmp(req->payer, req->only_sponsor)))
    return hmb_err_set(err, HMB_INVALID, "enroll.only_sponsor", "payer",
                       "资助方只能用自己的资金为参保人投保（渠道 sponsor，缴费方为本资助方）");
  c = hmb_calloc(1, sizeof(*c));
  if (!c)
    return hmb_err_set(err, HMB_NOMEM, "enroll.nomem", "", "内存不足");
  memset(&t, 0, sizeof(t));
  t.kind = TX_ENROLL;
  t.c = c;
  t.p = p;
  t.req = req;
  t.on = req->on ? req->on : svc_today(svc);
  t.out = &e;
  result = in_write_tx(svc, &t, err);
  free(c);
  if (!result && out)
    *out = e;
  return result;
}

/* ---- paying a pending enrollment ---- */

static enum hmb_status pay_tx(struct svc *svc, struct store *s, struct ectx *c,
                              const struct pay_args *a, struct store_enrollment *out,
                              struct hmb_err *err)
{
  struct store_enrollment e;
  const struct plan *p;
  char payer[SETL_ID_MAX];
  char due[HMB_MONEY_TEXT_MAX];
  enum hmb_status result;

  result = s->ops->enrollment_by_policy(s, a->policy_no, &e, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "pay.not_found", "policy_no", "没有保单 %s",
                       a->policy_no);
  if (result)
    return result;
  if (e.status != ENR_PENDING)
    return hmb_err_set(err, HMB_CONFLICT, "pay.not_pending", "policy_no",
                       e.status == ENR_ACTIVE ? "保单 %s 已缴费" : "保单 %s 已退保", e.policy_no);
  money_format(e.premium - e.paid, due);
  if (a->amount != e.premium - e.paid)
    return hmb_err_set(err, HMB_INVALID, "pay.amount", "amount", "缴费金额应为应缴保费 %s 元", due);
  p = svc_plan(svc, e.plan_id);
  if (!p)
    return hmb_err_set(err, HMB_NOT_FOUND, "pay.plan", "policy_no", "保单所属的产品未加载");
  /* Cover is bought ahead: a premium paid on or after the day cover was
   * to start covers from the next day, never backwards. */
  if (a->today >= e.cover_start)
    e.cover_start = a->today + 1;
  if (e.cover_start > p->cover_end)
    return hmb_err_set(err, HMB_INVALID, "pay.plan_ended", "policy_no",
                       "本产品的保障期已结束，不能再缴费");

  snprintf(payer, sizeof(payer), "%s", empty(a->payer) ? e.psn_no : a->payer);
  switch (a->channel) {
  case CH_ONLINE:
  case CH_COUNTER: break;
  case CH_EMPLOYER: {
    char uscc[USCC_LEN + 1];
    if (!uscc_valid(payer, strlen(payer)))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_uscc", "payer",
                         "单位的统一社会信用代码无效");
    result = uscc_parse(payer, strlen(payer), uscc, "payer", err);
    if (result)
      return result;
    snprintf(payer, sizeof(payer), "%s", uscc);
    break;
  }
  case CH_SPONSOR:
    if (empty(a->payer))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_missing", "payer",
                         "资助投保须给出资助方编号");
    result = budget_spend(s, payer, a->amount, err);
    if (result)
      return result;
    break;
  case CH_PERSONAL_ACCOUNT: {
    int status;
    if (empty(a->payer))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_missing", "payer",
                         "个人账户缴费须指明缴费的职工（个人编号）");
    result = s->ops->person_get(s, e.psn_no, &c->person, err);
    if (!result)
      result = status_at(s, e.psn_no, a->today, &status, err);
    if (result)
      return result;
    to_domain(&c->person, status, &c->who);
    result = load_payer(s, c, a->payer, a->today, err);
    if (!result)
      result = enroll_check_account(p, &c->pay, &c->who, err);
    if (result)
      return result;
    break;
  }
  default: return hmb_err_set(err, HMB_INVALID, "pay.channel", "channel", "这一渠道不能缴纳保费");
  }
  e.channel = (int8_t)a->channel;
  snprintf(e.payer, sizeof(e.payer), "%s", payer);
  e.paid += a->amount;
  e.status = ENR_ACTIVE;
  e.updated_at = now_cst();
  result = s->ops->enrollment_put(s, &e, err);
  if (!result && a->amount)
    result = pay_record(s, &e, a->amount, err);
  if (!result)
    *out = e;
  return result;
}

enum hmb_status svc_pay(struct svc *svc, const char *policy_no, int channel, const char *payer,
                        hmb_fen amount, struct store_enrollment *out, struct hmb_err *err)
{
  struct store_enrollment e;
  struct pay_args a = {policy_no, channel, payer, amount, 0};
  struct tx_call t;
  struct ectx *c;
  enum hmb_status result;

  if ((result = check_text(policy_no, STORE_POLICY_MAX, "pay.policy_no", "policy_no", true, err)) ||
      (result = check_text(payer, SETL_ID_MAX, "pay.payer", "payer", false, err)))
    return result;
  if (amount < 0 || amount > HMB_FEN_LIMIT)
    return hmb_err_set(err, HMB_INVALID, "pay.amount", "amount", "缴费金额无效");
  a.today = svc_today(svc);
  c = hmb_calloc(1, sizeof(*c));
  if (!c)
    return hmb_err_set(err, HMB_NOMEM, "pay.nomem", "", "内存不足");
  memset(&t, 0, sizeof(t));
  t.kind = TX_PAY;
  t.c = c;
  t.pay = &a;
  t.out = &e;
  result = in_write_tx(svc, &t, err);
  free(c);
  if (!result && out)
    *out = e;
  return result;
}

/* ---- cancelling ---- */

static enum hmb_status cancel_tx(struct svc *svc, struct store *s, struct store_setl *batch,
                                 const char *policy_no, hmb_date on, struct store_enrollment *out,
                                 struct hmb_err *err)
{
  struct store_enrollment e;
  const struct plan *p;
  hmb_fen refund = 0;
  enum hmb_status result;

  result = s->ops->enrollment_by_policy(s, policy_no, &e, err);
  if (result == HMB_NOT_FOUND)
    return hmb_err_set(err, HMB_NOT_FOUND, "cancel.not_found", "policy_no", "没有保单 %s",
                       policy_no);
  if (result)
    return result;
  if (e.status == ENR_CANCELLED)
    return hmb_err_set(err, HMB_CONFLICT, "cancel.already", "policy_no", "保单 %s 已退保",
                       e.policy_no);
  p = svc_plan(svc, e.plan_id);
  if (!p)
    return hmb_err_set(err, HMB_NOT_FOUND, "cancel.plan", "policy_no", "保单所属的产品未加载");
  if (e.paid - e.refunded > 0) {
    hmb_fen held = e.paid - e.refunded;
    if (on < e.cover_start) {
      refund = held;
    } else {
      bool claimed;
      int64_t total = (int64_t)p->cover_end - e.cover_start + 1;
      int64_t left = (int64_t)p->cover_end - on + 1; /* the cancelling day is not covered */
      result = plan_claimed(s, batch, e.plan_id, e.psn_no, &claimed, err);
      if (result)
        return result;
      if (claimed)
        return hmb_err_set(err, HMB_CONFLICT, "cancel.claimed", "policy_no",
                           "保单 %s 已有理赔，保障期开始后不能退保", e.policy_no);
      if (left < 0)
        left = 0;
      /* floor to the fen; held <= 10^14 and left <= total < 10^5 keep
       * the product far inside int64 */
      refund = total > 0 ? held * left / total : 0;
    }
  }
  if (refund) {
    if (e.channel == CH_SPONSOR) {
      result = s->ops->sponsor_spend(s, e.payer, -refund, err);
      if (result)
        return result;
    }
    result = pay_record(s, &e, -refund, err);
    if (result)
      return result;
  }
  e.refunded += refund;
  e.status = ENR_CANCELLED;
  e.updated_at = now_cst();
  result = s->ops->enrollment_put(s, &e, err);
  if (!result)
    *out = e;
  return result;
}

enum hmb_status svc_cancel(struct svc *svc, const char *policy_no, hmb_date on,
                           struct store_enrollment *out, struct hmb_err *err)
{
  struct store_enrollment e;
  struct tx_call t;
  struct ectx *c;
  enum hmb_status result;

  result = check_text(policy_no, STORE_POLICY_MAX, "cancel.policy_no", "policy_no", true, err);
  if (result)
    return result;
  if (!on)
    on = svc_today(svc);
  c = hmb_calloc(1, sizeof(*c));
  if (!c)
    return hmb_err_set(err, HMB_NOMEM, "cancel.nomem", "", "内存不足");
  memset(&t, 0, sizeof(t));
  t.kind = TX_CANCEL;
  t.c = c;
  t.policy_no = policy_no;
  t.on = on;
  t.out = &e;
  result = in_write_tx(svc, &t, err);
  free(c);
  if (!result && out)
    *out = e;
  return result;
}

static enum hmb_status tx_body(struct svc *svc, struct store *s, const struct tx_call *t,
                               struct hmb_err *err)
{
  switch (t->kind) {
  case TX_ENROLL: return enroll_tx(svc, s, t->c, t->p, t->req, t->on, t->out, err);
  case TX_PAY: return pay_tx(svc, s, t->c, t->pay, t->out, err);
  case TX_CANCEL: return cancel_tx(svc, s, t->c->setl, t->policy_no, t->on, t->out, err);
  }
  BUG("tx kind %d", (int)t->kind);
}

/* ---- cover ---- */

/* The enrollment's part of the cover check (en NULL: not enrolled). */
static enum hmb_status cover_enrollment(const struct plan *p, const char *psn_no, hmb_date day,
                                        const struct store_enrollment *en, struct hmb_err *err)
{
  char when[HMB_DATE_TEXT_MAX];
  if (!en)
    return hmb_err_set(err, HMB_NOT_FOUND, "cover.not_enrolled", "psn_no", "参保人 %s 未投保本产品",
                       psn_no);
  if (en->status == ENR_PENDING)
    return hmb_err_set(err, HMB_CONFLICT, "cover.unpaid", "psn_no",
                       "参保人 %s 已登记投保但尚未缴费，不享受保障", psn_no);
  if (en->status == ENR_CANCELLED)
    return hmb_err_set(err, HMB_CONFLICT, "cover.cancelled", "psn_no",
                       "参保人 %s 的保单已退保，不享受保障", psn_no);
  if (day < en->cover_start) {
    date_format(en->cover_start, when);
    return hmb_err_set(err, HMB_CONFLICT, "cover.not_started", "psn_no",
                       "参保人 %s 的保障自 %s 起生效，就诊日尚未生效", psn_no, when);
  }
  if (day > p->cover_end)
    return hmb_err_set(err, HMB_CONFLICT, "cover.ended", "psn_no",
                       "就诊日已过本产品的保障期（参保人 %s）", psn_no);
  return HMB_OK;
}

/* The basic insurance's part: the roster status on the day (0: none). */
static enum hmb_status cover_status(const char *psn_no, int status, struct hmb_err *err)
{
  if (status == PSN_ACTIVE)
    return HMB_OK;
  return hmb_err_set(err, HMB_CONFLICT, "cover.suspended", "psn_no",
                     status == PSN_ENDED ? "参保人 %s 的基本医疗保险已终止，本保障随之终止"
                     : status == PSN_SUSPENDED
                         ? "参保人 %s 的基本医疗保险处于暂停状态，本保障随之暂停"
                         : "参保人 %s 在就诊日没有基本医疗保险参保记录，不享受保障",
                     psn_no);
}

enum hmb_status svc_cover_judge(const struct plan *p, const char *psn_no, hmb_date day,
                                const struct store_enrollment *en, int status, struct hmb_err *err)
{
  enum hmb_status result = cover_enrollment(p, psn_no, day, en, err);
  return result ? result : cover_status(psn_no, status, err);
}

enum hmb_status svc_cover_check(struct svc *svc, struct store *s, const struct plan *p,
                                const char *psn_no, hmb_date day, struct store_enrollment *e,
                                struct hmb_err *err)
{
  struct store_enrollment en;
  int status;
  bool found;
  enum hmb_status result;
  (void)svc;

  result = enrollment_find(s, p->id, psn_no, &en, &found, err);
  if (!result)
    result = cover_enrollment(p, psn_no, day, found ? &en : NULL, err);
  if (!result)
    result = status_at(s, psn_no, day, &status, err);
  if (!result)
    result = cover_status(psn_no, status, err);
  if (!result && e)
    *e = en;
  return result;
}

void svc_adj_person(const struct plan *p, const struct store_person *person,
                    const struct store_enrollment *e, struct adj_person *out)
{
  memset(out, 0, sizeof(*out));
  out->insutype = person->insutype;
  out->preexisting = e->preexisting;
  out->loyalty_years = e->loyalty_years;
  out->claim_free_years = e->claim_free_years;
  out->age = (int16_t)enroll_age(p, person->birth);
  out->groups = person->groups;
}

/* ---- JSON ---- */

static const char *status_name(int status)
{
  switch (status) {
  case ENR_PENDING: return "pending";
  case ENR_ACTIVE: return "active";
  case ENR_CANCELLED: return "cancelled";
  default: return "unknown";
  }
}

static enum hmb_status json_field(struct buf *b, const char *key, const char *value)
{
  enum hmb_status result = buf_addf(b, ",\"%s\":", key);
  return result ? result : buf_add_json_str(b, value, strlen(value));
}

static enum hmb_status json_money(struct buf *b, const char *key, hmb_fen v)
{
  char text[HMB_MONEY_TEXT_MAX];
  money_format(v, text);
  return json_field(b, key, text);
}

static enum hmb_status json_date(struct buf *b, const char *key, hmb_date v)
{
  char text[HMB_DATE_TEXT_MAX];
  date_format(v, text);
  return json_field(b, key, text);
}

enum hmb_status svc_enrollment_json(const struct store_enrollment *e, struct buf *out)
{
  size_t start = out->len;
  enum hmb_status result = buf_addstr(out, "{\"policy_no\":");
  if (!result)
    result = buf_add_json_str(out, e->policy_no, strlen(e->policy_no));
  if (!result)
    result = json_field(out, "plan_id", e->plan_id);
  if (!result)
    result = json_field(out, "psn_no", e->psn_no);
  if (!result)
    result = buf_addf(out, ",\"year\":%d", e->year);
  if (!result)
    result = json_field(out, "status", status_name(e->status));
  if (!result)
    result = json_field(out, "channel", enroll_channel_name(e->channel));
  if (!result)
    result = json_field(out, "payer", e->payer);
  if (!result)
    result = json_field(out, "group", e->group);
  if (!result)
    result = json_money(out, "premium", e->premium);
  if (!result)
    result = json_money(out, "paid", e->paid);
  if (!result)
    result = json_money(out, "refunded", e->refunded);
  if (!result)
    result = json_date(out, "enrolled_on", e->enrolled_on);
  if (!result)
    result = json_date(out, "cover_start", e->cover_start);
  if (!result)
    result = buf_addf(out, ",\"preexisting\":%s,\"loyalty_years\":%d,\"claim_free_years\":%d}",
                      e->preexisting ? "true" : "false", e->loyalty_years, e->claim_free_years);
  if (result && out->alloc) {
    out->len = start; /* leave the buffer as it was */
    out->ptr[start] = '\0';
  }
  return result;
}

#include "compat.h"
#include "enroll.h"

#include "uscc.h"

static const char *const channel_names[] = {
    NULL, "online", "counter", "personal_account", "employer", "sponsor", "free",
};

const char *enroll_channel_name(int channel)
{
  if (channel < ENROLL_CH_ONLINE || channel > ENROLL_CH_FREE)
    return "unknown";
  return channel_names[channel];
}

int enroll_channel_parse(const char *name)
{
  int i;
  for (i = ENROLL_CH_ONLINE; i <= ENROLL_CH_FREE; i++)
    if (name && !strcmp(name, channel_names[i]))
      return i;
  return 0;
}

int enroll_age(const struct plan *p, hmb_date birth)
{
  int age = date_age_on(birth, p->age_basis_end ? p->cover_end : p->cover_start);
  return age < 0 ? 0 : age;
}

static bool empty(const char *s)
{
  return !s || !*s;
}

/* Does region code a start with the first n digits of b? */
static bool same_prefix(const char *a, const char *b, int n)
{
  if (empty(a) || empty(b) || n <= 0 || strlen(a) < (size_t)n || strlen(b) < (size_t)n)
    return false;
  return !strncmp(a, b, (size_t)n);
}

static bool same_family(const struct enroll_person *a, const struct enroll_person *b)
{
  return !empty(a->family_id) && !empty(b->family_id) && !strcmp(a->family_id, b->family_id);
}

int enroll_parents_enrolled(const struct enroll_person *who, const struct enroll_person *family,
                            size_t n)
{
  int parents = 0, enrolled = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    const struct enroll_person *m = &family[i];
    bool parent;
    if (!same_family(who, m) || (who->psn_no && m->psn_no && !strcmp(who->psn_no, m->psn_no)))
      continue;
    switch (who->relation) {
    case ENROLL_REL_CHILD:
      parent = m->relation == ENROLL_REL_HEAD || m->relation == ENROLL_REL_SPOUSE;
      break;
    case ENROLL_REL_HEAD: parent = m->relation == ENROLL_REL_PARENT; break;
    case ENROLL_REL_SPOUSE: parent = m->relation == ENROLL_REL_SPOUSE_PARENT; break;
    default: parent = false; break;
    }
    if (parent) {
      parents++;
      enrolled += m->enrolled;
    }
  }
  /* More than two "parents" is a roster error: never take it for both. */
  if (parents != 2 && enrolled > 1)
    enrolled = 1;
  return enrolled;
}

uint32_t enroll_payer_relation(const struct enroll_person *payer,
                               const struct enroll_person *beneficiary)
{
  int a = payer->relation, b = beneficiary->relation;
  if (payer->psn_no && beneficiary->psn_no && !strcmp(payer->psn_no, beneficiary->psn_no))
    return PLAN_REL_SELF;
  if (!same_family(payer, beneficiary))
    return 0;
  if (a == ENROLL_REL_HEAD) {
    switch (b) {
    case ENROLL_REL_SPOUSE: return PLAN_REL_SPOUSE;
    case ENROLL_REL_CHILD: return PLAN_REL_CHILD;
    case ENROLL_REL_PARENT: return PLAN_REL_PARENT;
    case ENROLL_REL_SPOUSE_PARENT: return PLAN_REL_SPOUSE_PARENT;
    default: return 0;
    }
  }
  if (a == ENROLL_REL_SPOUSE) {
    switch (b) {
    case ENROLL_REL_HEAD: return PLAN_REL_SPOUSE;
    case ENROLL_REL_CHILD: return PLAN_REL_CHILD;
    case ENROLL_REL_SPOUSE_PARENT: return PLAN_REL_PARENT;
    case ENROLL_REL_PARENT: return PLAN_REL_SPOUSE_PARENT;
    default: return 0;
    }
  }
  if (a == ENROLL_REL_CHILD && (b == ENROLL_REL_HEAD || b == ENROLL_REL_SPOUSE))
    return PLAN_REL_PARENT;
  return 0;
}

static const char *relation_text(uint32_t rel)
{
  switch (rel) {
  case PLAN_REL_SELF: return "本人";
  case PLAN_REL_SPOUSE: return "配偶";
  case PLAN_REL_CHILD: return "子女";
  case PLAN_REL_PARENT: return "父母";
  case PLAN_REL_SPOUSE_PARENT: return "配偶的父母";
  default: return "非直系亲属";
  }
}

enum hmb_status enroll_check_account(const struct plan *p, const struct enroll_person *payer,
                                     const struct enroll_person *beneficiary, struct hmb_err *err)
{
  uint32_t rel;
  if (payer->insutype != ENROLL_INSUTYPE_EMPLOYEE)
    return hmb_err_set(err, HMB_INVALID, "enroll.payer_not_employee", "payer",
                       "只有参加职工基本医疗保险的人员可以用个人账户缴费");
  if (payer->status != ENROLL_PSN_ACTIVE)
    return hmb_err_set(err, HMB_INVALID, "enroll.payer_inactive", "payer",
                       "缴费人的职工基本医疗保险不在正常参保状态，个人账户不能缴费");
  rel = enroll_payer_relation(payer, beneficiary);
  if (!rel || !(p->enrollment.account_relations & rel))
    return hmb_err_set(err, HMB_INVALID, "enroll.relation", "payer",
                       "本产品不允许用个人账户为%s（参保人 %s）缴费", relation_text(rel),
                       empty(beneficiary->psn_no) ? "" : beneficiary->psn_no);
  if (p->enrollment.account_province) {
    if (!same_prefix(payer->admdvs, p->region_code, 2))
      return hmb_err_set(err, HMB_INVALID, "enroll.account_scope", "payer",
                         "个人账户缴费人须在本省参加基本医疗保险");
  } else if (!same_prefix(payer->admdvs, p->region_code, p->region_prefix_len)) {
    return hmb_err_set(err, HMB_INVALID, "enroll.account_scope", "payer",
                       "个人账户缴费人须在本市参加基本医疗保险");
  }
  return HMB_OK;
}

static enum hmb_status check_insured(const struct plan *p, const struct enroll_person *who,
                                     hmb_date on, struct hmb_err *err)
{
  const char *psn = empty(who->psn_no) ? "" : who->psn_no;
  bool in_city, in_province;
  if (on < who->birth)
    return hmb_err_set(err, HMB_INVALID, "enroll.not_born", "psn_no",
                       "参保人 %s 的出生日期晚于申请日期", psn);
  switch (who->status) {
  case ENROLL_PSN_ACTIVE: break;
  case ENROLL_PSN_SUSPENDED:
    return hmb_err_set(err, HMB_INVALID, "enroll.suspended", "psn_no",
                       "参保人 %s 的基本医疗保险在申请日处于暂停状态，不能投保", psn);
  case ENROLL_PSN_ENDED:
    return hmb_err_set(err, HMB_INVALID, "enroll.ended", "psn_no",
                       "参保人 %s 的基本医疗保险在申请日已终止，不能投保", psn);
  default:
    return hmb_err_set(err, HMB_INVALID, "enroll.no_status", "psn_no",
                       "参保人 %s 在申请日没有基本医疗保险参保记录", psn);
  }
  in_city =
      p->enrollment.city_insured && same_prefix(who->admdvs, p->region_code, p->region_prefix_len);
  in_province = p->enrollment.province_workers_students &&
                same_prefix(who->admdvs, p->region_code, 2) &&
                same_prefix(who->work_admdvs, p->region_code, p->region_prefix_len);
  if (!in_city && !in_province)
    return hmb_err_set(
        err, HMB_INVALID, "enroll.not_eligible", "psn_no",
        p->enrollment.province_workers_students
            ? "参保人 %s 不在本市参加基本医疗保险，也不是在本市工作或就学的省内参保人员"
            : "参保人 %s 不在本市参加基本医疗保险",
        psn);
  return HMB_OK;
}

static enum hmb_status check_payer(const struct enroll_input *in, struct hmb_err *err)
{
  switch (in->channel) {
  case ENROLL_CH_ONLINE:
  case ENROLL_CH_COUNTER: return HMB_OK;
  case ENROLL_CH_PERSONAL_ACCOUNT:
    if (empty(in->payer) || !in->payer_person)
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_missing", "payer",
                         "个人账户缴费须指明缴费的职工（个人编号）");
    return enroll_check_account(in->plan, in->payer_person, in->person, err);
  case ENROLL_CH_EMPLOYER:
    if (empty(in->payer))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_missing", "payer",
                         "单位团体投保须给出单位的统一社会信用代码");
    if (!uscc_valid(in->payer, strlen(in->payer)))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_uscc", "payer",
                         "单位的统一社会信用代码无效");
    return HMB_OK;
  case ENROLL_CH_SPONSOR:
    if (empty(in->payer))
      return hmb_err_set(err, HMB_INVALID, "enroll.payer_missing", "payer",
                         "资助投保须给出资助方编号");
    return HMB_OK;
  default: BUG("channel %d", in->channel);
  }
}

/* Continuous years before the plan's year, and which carried a claim. */
static void count_loyalty(const struct enroll_input *in, struct enroll_result *r)
{
  int y = in->plan->year - 1;
  size_t i;
  bool found = true;
  r->loyalty_years = 0;
  r->claim_free_years = 0;
  r->preexisting = in->preexisting > 0;
  while (found && r->loyalty_years < INT16_MAX) {
    found = false;
    for (i = 0; i < in->npast; i++)
      if (in->past[i].year == y) {
        if (y == in->plan->year - 1)
          r->preexisting = in->past[i].preexisting > 0; /* kept while continuous */
        if (!in->past[i].claimed)
          r->claim_free_years++;
        r->loyalty_years++;
        found = true;
        y--;
        break;
      }
  }
}

enum hmb_status enroll_decide(const struct enroll_input *in, struct enroll_result *out,
                              struct hmb_err *err)
{
  const struct plan *p = in->plan;
  const struct plan_enrollment *en = &p->enrollment;
  const struct enroll_person *who = in->person;
  const char *psn = empty(who->psn_no) ? "" : who->psn_no;
  struct enroll_result r;
  bool both_parents = in->parents_enrolled >= 2, in_window, veteran;
  enum hmb_status result;

  memset(&r, 0, sizeof(r));
  if (in->channel < ENROLL_CH_ONLINE || in->channel > ENROLL_CH_FREE)
    return hmb_err_set(err, HMB_INVALID, "enroll.channel", "channel", "未知的缴费渠道 %d",
                       in->channel);
  if (in->preexisting < -1 || in->preexisting > 1)
    return hmb_err_set(err, HMB_INVALID, "enroll.preexisting", "preexisting",
                       "既往症状态只能是 -1（未评估）、0 或 1");
  result = check_insured(p, who, in->on, err);
  if (result)
    return result;

  /* When: the window, or one of its exceptions. */
  if (in->on > p->cover_end)
    return hmb_err_set(err, HMB_INVALID, "enroll.plan_ended", "on",
                       "本产品的保障期已结束，不能再投保");
  r.age = enroll_age(p, who->birth);
  r.newborn = en->newborn_both_parents && both_parents && who->birth >= en->window_start &&
              who->birth <= p->cover_end;
  veteran = en->veterans_any_time && who->veteran_year &&
            (who->veteran_year == p->year || who->veteran_year == p->year - 1);
  in_window = in->on >= en->window_start && in->on <= en->window_end;
  if (!in_window && !r.newborn && !veteran)
    return hmb_err_set(err, HMB_INVALID, "enroll.window_closed", "on",
                       in->on < en->window_start ? "投保期尚未开始" : "投保期已结束");
  r.outside_window = !in_window;

  if (r.newborn)
    r.cover_start = who->birth > p->cover_start ? who->birth : p->cover_start;
  else if (in->on < p->cover_start)
    r.cover_start = p->cover_start;
  else
    r.cover_start = in->on + 1;
  if (r.cover_start > p->cover_end)
    return hmb_err_set(err, HMB_INVALID, "enroll.plan_ended", "on",
                       "本产品的保障期已结束，不能再投保");

  /* How much, paid by whom. */
  r.free_cover = en->free_minor_both_parents && both_parents && r.age < ENROLL_MINOR_AGE;
  if (in->channel == ENROLL_CH_FREE && !r.free_cover)
    return hmb_err_set(err, HMB_INVALID, "enroll.not_free", "channel",
                       "参保人 %s 不是父母均已投保的未成年人，不能免费投保", psn);
  if (!empty(in->group) && !r.free_cover) {
    int i;
    bool known = false;
    for (i = 0; i < p->npremium_groups; i++)
      known |= !strcmp(p->premium_groups[i].id, in->group);
    if (!known)
      return hmb_err_set(err, HMB_INVALID, "enroll.group_unknown", "group",
                         "本产品没有这一保费人群");
    if (!plan_flag_present(who->groups, in->group))
      return hmb_err_set(err, HMB_INVALID, "enroll.group", "group",
                         "参保人 %s 不在花名册登记的这一人群中，不能按该人群缴费", psn);
  }
  if (r.free_cover) {
    r.premium = 0;
    r.channel = ENROLL_CH_FREE;
    snprintf(r.group, sizeof(r.group), "%s", "free_minor");
  } else {
    r.channel = in->channel;
    result = check_payer(in, err);
    if (result)
      return result;
    result = plan_premium(p, r.age, empty(in->group) ? NULL : in->group, &r.premium, err);
    if (result)
      return result;
    if (!empty(in->group))
      snprintf(r.group, sizeof(r.group), "%s", in->group);
  }
  count_loyalty(in, &r);
  *out = r;
  return HMB_OK;
}

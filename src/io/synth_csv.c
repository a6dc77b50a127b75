#include "compat.h"
#include "synth_csv.h"

const char synth_csv_roster_header[] =
    "psn_no,certno,psn_name,insutype,admdvs,status,status_date,gend,brdy,emp_uscc,family_id,"
    "relation,veteran_year,groups\n";
const char synth_csv_people_header[] = "psn_no,insutype,brdy,gend,preexisting,loyalty_years,"
                                       "claim_free_years,groups,family_id\n";
const char synth_csv_setl_header[] =
    "setl_id,mdtrt_id,psn_no,insutype,psn_type,med_type,setl_time,medfee_sumamt,"
    "fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,act_pay_dedc,"
    "hifp_pay,hifmi_pay,hifob_pay,maf_pay,fund_pay_sumamt,psn_part_amt,acct_pay,"
    "psn_cash_pay\n";
const char synth_csv_detail_header[] = "setl_id,med_list_codg,chrgitm_lv,det_item_fee_sumamt,"
                                       "fulamt_ownpay_amt,overlmt_amt,preselfpay_amt,"
                                       "inscp_scp_amt,cnt\n";

static char *put_str(char *p, const char *s)
{
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

char *synth_csv_put_date(char *p, hmb_date d)
{
  int y, m, day;
  date_to_ymd(d, &y, &m, &day);
  p = synth_csv_put_digits(p, (uint64_t)y, 4);
  *p++ = '-';
  p = synth_csv_put_digits(p, (uint64_t)m, 2);
  *p++ = '-';
  return synth_csv_put_digits(p, (uint64_t)day, 2);
}

void synth_csv_init(struct synth_csv *w, const struct synth_config *c)
{
  memset(w, 0, sizeof(*w));
  w->cfg = c;
  for (int d = 0; d < c->days; d++) {
    char *p = synth_csv_put_date(w->day_text[d], c->year_start + d);
    *p = ' ';
  }
}

static const char *const relation_names[] = {"",       "head",          "spouse", "child",
                                             "parent", "spouse_parent", "other"};
static const char *const status_names[] = {"", "active", "suspended", "ended"};

char *synth_csv_roster(const struct synth_csv *w, const struct synth_person *p, char *out)
{
  const struct synth_config *c = w->cfg;
  char *q = out;
  q += synth_psn_no(c, p->index, q);
  *q++ = ',';
  memcpy(q, p->certno, IDNO_LEN);
  q += IDNO_LEN;
  *q++ = ',';
  q = put_str(q, p->name);
  *q++ = ',';
  q = synth_csv_put_u64(q, (uint64_t)synth_insutype(p));
  *q++ = ',';
  memcpy(q, c->admdvs, 6);
  q += 6;
  *q++ = ',';
  q = put_str(q, status_names[p->status]);
  *q++ = ',';
  if (p->status != SYNTH_ACTIVE)
    q = synth_csv_put_date(q, p->status_date);
  *q++ = ',';
  *q++ = (char)('0' + p->gend);
  *q++ = ',';
  q = synth_csv_put_date(q, p->birth);
  *q++ = ',';
  if (p->employer) {
    synth_uscc(c, p->employer, q);
    q += 18;
  }
  *q++ = ',';
  if (p->household_size > 1)
    q += synth_family_id(c, p->household, q);
  *q++ = ',';
  if (p->household_size > 1)
    q = put_str(q, relation_names[p->relation]);
  *q++ = ',';
  if (p->veteran_year)
    q = synth_csv_put_u64(q, (uint64_t)p->veteran_year);
  *q++ = ',';
  if (p->assistance)
    q = put_str(q, "medical_assistance");
  *q++ = '\n';
  return q;
}

char *synth_csv_people(const struct synth_csv *w, const struct synth_person *p, char *out)
{
  const struct synth_config *c = w->cfg;
  char *q = out;
  q += synth_psn_no(c, p->index, q);
  *q++ = ',';
  q = synth_csv_put_u64(q, (uint64_t)synth_insutype(p));
  *q++ = ',';
  q = synth_csv_put_date(q, p->birth);
  *q++ = ',';
  *q++ = (char)('0' + p->gend);
  *q++ = ',';
  *q++ = p->preexisting ? '1' : '0';
  *q++ = ',';
  q = synth_csv_put_u64(q, p->loyalty_years);
  *q++ = ',';
  q = synth_csv_put_u64(q, p->claim_free_years);
  *q++ = ',';
  if (p->assistance)
    q = put_str(q, "medical_assistance");
  *q++ = ',';
  if (p->household_size > 1)
    q += synth_family_id(c, p->household, q);
  *q++ = '\n';
  return q;
}

char *synth_csv_setl(const struct synth_csv *w, const struct synth_setl *s, char *out)
{
  const struct synth_config *c = w->cfg;
  char *q = out;
  uint32_t day = s->time / 86400, sec = s->time % 86400;
  const int64_t amounts[] = {s->medfee, s->ful,   s->ovl, s->pre,  s->inscp,    s->dedc, s->hifp,
                             s->hifmi,  s->hifob, s->maf, s->fund, s->psn_part, s->acct, s->cash};
  ASSERT(day < (uint32_t)c->days);
  q += synth_setl_id(c, s->member, s->seq, q);
  *q++ = ',';
  q += synth_mdtrt_id(c, s->member, s->episode, q);
  *q++ = ',';
  q += synth_psn_no(c, s->person, q);
  *q++ = ',';
  q = synth_csv_put_u64(q, (uint64_t)s->insutype);
  *q++ = ',';
  q = synth_csv_put_u64(q, (uint64_t)s->psn_type);
  *q++ = ',';
  q = synth_csv_put_u64(q, (uint64_t)s->med_type);
  *q++ = ',';
  memcpy(q, w->day_text[day], 11);
  q += 11;
  q = synth_csv_put_clock(q, sec);
  for (size_t k = 0; k < ARRAY_SIZE(amounts); k++) {
    *q++ = ',';
    q = synth_csv_put_money(q, amounts[k]);
  }
  *q++ = '\n';
  return q;
}

char *synth_csv_details(const struct synth_csv *w, const struct synth_setl *s, char *out)
{
  char id[SYNTH_ID_MAX];
  size_t idlen;
  char *q = out;
  if (!s->nlines)
    return q;
  idlen = synth_setl_id(w->cfg, s->member, s->seq, id);
  for (size_t k = 0; k < s->nlines; k++) {
    const struct synth_line *l = &s->lines[k];
    const int64_t la[] = {l->ful + l->ovl + l->pre + l->inscp, l->ful, l->ovl, l->pre, l->inscp};
    memcpy(q, id, idlen);
    q += idlen;
    *q++ = ',';
    memcpy(q, l->code, l->code_len);
    q += l->code_len;
    *q++ = ',';
    memcpy(q, l->lv, 2);
    q += 2;
    for (size_t j = 0; j < ARRAY_SIZE(la); j++) {
      *q++ = ',';
      q = synth_csv_put_money(q, la[j]);
    }
    *q++ = ',';
    q = synth_csv_put_u64(q, l->cnt);
    *q++ = '\n';
  }
  return q;
}

#include "compat.h"
#include "settlement.h"

void settlement_init(struct settlement *s)
{
  memset(s, 0, sizeof(*s));
  s->kind = SETL_SETTLE;
  s->out_filed = -1;
}

uint64_t hmb_hash64(const char *s, size_t n)
{
  /* Eight bytes at a time with a multiply-xorshift mix, then a splitmix64
   * finaliser so the low bits index tables well. Ids are short (~20 bytes):
   * this is a few multiplies instead of one per byte. */
  uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n, w;
  while (n >= 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    s += 8;
    n -= 8;
  }
  if (n) {
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * UINT64_C(0x94d049bb133111eb);
    h ^= h >> 29;
  }
  h ^= h >> 30;
  h *= UINT64_C(0xbf58476d1ce4e5b9);
  h ^= h >> 27;
  h *= UINT64_C(0x94d049bb133111eb);
  h ^= h >> 31;
  return h;
}

static enum hmb_status check_amount(hmb_fen v, const char *field, struct hmb_err *err)
{
  if (v < 0)
    return hmb_err_set(err, HMB_INVALID, "setl.negative", field, "金额不能为负数");
  if (v > HMB_FEN_LIMIT)
    return hmb_err_set(err, HMB_INVALID, "setl.range", field, "金额超出允许范围");
  return HMB_OK;
}

/* The amounts every settle row is checked to hold in [0, HMB_FEN_LIMIT]. */
#define AMOUNT(f)                                                                                  \
  {                                                                                                \
    offsetof(struct settlement, f), #f                                                             \
  }
static const struct {
  size_t off;
  const char *name;
} amounts[] = {
    AMOUNT(medfee_sumamt),  AMOUNT(fulamt_ownpay_amt), AMOUNT(overlmt_selfpay),
    AMOUNT(preselfpay_amt), AMOUNT(inscp_scp_amt),     AMOUNT(act_pay_dedc),
    AMOUNT(hifp_pay),       AMOUNT(hifmi_pay),         AMOUNT(hifob_pay),
    AMOUNT(maf_pay),        AMOUNT(cvlserv_pay),       AMOUNT(hifes_pay),
    AMOUNT(oth_pay),        AMOUNT(fund_pay_sumamt),   AMOUNT(psn_part_amt),
    AMOUNT(acct_pay),       AMOUNT(psn_cash_pay),
};
#undef AMOUNT

/* The table's amounts are the struct's from medfee_sumamt on, in order. */
_Static_assert(offsetof(struct settlement, psn_cash_pay) -
                       offsetof(struct settlement, medfee_sumamt) ==
                   16 * sizeof(hmb_fen),
               "amounts contiguous");

/* Whether any of the table's amounts is outside [0, HMB_FEN_LIMIT]. */
static bool amounts_out_of_range(const struct settlement *s)
{
  const char *base = (const char *)&s->medfee_sumamt;
  uint64_t bad = 0;
  size_t i;
  for (i = 0; i < ARRAY_SIZE(amounts); i++) {
    hmb_fen v;
    memcpy(&v, base + i * sizeof(v), sizeof(v));
    bad |= (uint64_t)v > (uint64_t)HMB_FEN_LIMIT; /* a negative one too */
  }
  return bad != 0;
}

enum hmb_status settlement_validate(const struct settlement *s, struct hmb_err *err)
{
  enum hmb_status result;
  char a[HMB_MONEY_TEXT_MAX], b[HMB_MONEY_TEXT_MAX];
  hmb_fen funds;
  size_t i;

  if (!s->setl_id[0])
    return hmb_err_set(err, HMB_INVALID, "setl.missing", "setl_id", "缺少结算ID");
  if (!s->psn_no[0])
    return hmb_err_set(err, HMB_INVALID, "setl.missing", "psn_no", "缺少人员编号");
  if (s->kind == SETL_REVERSAL)
    return HMB_OK;
  if (!amounts_out_of_range(s))
    goto in_range; /* the usual row: one pass without a branch per amount */
  for (i = 0; i < ARRAY_SIZE(amounts); i++) {
    hmb_fen v;
    memcpy(&v, (const char *)s + amounts[i].off, sizeof(v));
    result = check_amount(v, amounts[i].name, err);
    if (result)
      return result;
  }
in_range:
  if (s->fulamt_ownpay_amt + s->overlmt_selfpay + s->preselfpay_amt + s->inscp_scp_amt !=
      s->medfee_sumamt) {
    money_format(s->fulamt_ownpay_amt + s->overlmt_selfpay + s->preselfpay_amt + s->inscp_scp_amt,
                 a);
    money_format(s->medfee_sumamt, b);
    return hmb_err_set(err, HMB_INVALID, "setl.medfee_mismatch", "medfee_sumamt",
                       "医疗费总额 %s 与 全自费+超限价+乙类先行自付+符合范围 之和 %s 不一致", b, a);
  }
  if (s->fund_pay_sumamt > s->medfee_sumamt)
    return hmb_err_set(err, HMB_INVALID, "setl.fund_exceeds", "fund_pay_sumamt",
                       "基金支付总额超过医疗费总额");
  if (s->medfee_sumamt - s->fund_pay_sumamt != s->psn_part_amt) {
    money_format(s->medfee_sumamt - s->fund_pay_sumamt, a);
    money_format(s->psn_part_amt, b);
    return hmb_err_set(err, HMB_INVALID, "setl.psn_part_mismatch", "psn_part_amt",
                       "个人负担总额 %s 应等于 医疗费总额-基金支付总额 = %s", b, a);
  }
  funds = s->hifp_pay + s->hifmi_pay + s->hifob_pay + s->maf_pay + s->cvlserv_pay + s->hifes_pay +
          s->oth_pay;
  if (funds && funds != s->fund_pay_sumamt) {
    money_format(funds, a);
    money_format(s->fund_pay_sumamt, b);
    return hmb_err_set(err, HMB_INVALID, "setl.fund_mismatch", "fund_pay_sumamt",
                       "基金支付总额 %s 与各项基金支付之和 %s 不一致", b, a);
  }
  if ((s->acct_pay || s->psn_cash_pay) && s->acct_pay + s->psn_cash_pay != s->psn_part_amt)
    return hmb_err_set(err, HMB_INVALID, "setl.cash_mismatch", "psn_cash_pay",
                       "个人账户支付与现金支付之和应等于个人负担总额");
  if (s->act_pay_dedc > s->inscp_scp_amt)
    return hmb_err_set(err, HMB_INVALID, "setl.dedc_exceeds", "act_pay_dedc",
                       "起付线自付金额超过符合政策范围金额");
  for (i = 0; i < s->nlines; i++) {
    const struct setl_line *l = &s->lines[i];
    char field[64];
    if (l->det_item_fee_sumamt < 0 || l->fulamt_ownpay_amt < 0 || l->overlmt_amt < 0 ||
        l->preselfpay_amt < 0 || l->inscp_scp_amt < 0 || l->cnt_e4 < 0) {
      snprintf(field, sizeof(field), "details[%zu]", i);
      return hmb_err_set(err, HMB_INVALID, "setl.line_negative", field, "费用明细金额不能为负数");
    }
    if (l->det_item_fee_sumamt > HMB_FEN_LIMIT || l->fulamt_ownpay_amt > HMB_FEN_LIMIT ||
        l->overlmt_amt > HMB_FEN_LIMIT || l->preselfpay_amt > HMB_FEN_LIMIT ||
        l->inscp_scp_amt > HMB_FEN_LIMIT) {
      snprintf(field, sizeof(field), "details[%zu]", i);
      return hmb_err_set(err, HMB_INVALID, "setl.line_range", field, "费用明细金额超出允许范围");
    }
  }
  return HMB_OK;
}

void settlement_parts(const struct settlement *s, struct setl_parts *out)
{
  hmb_fen excess = s->fund_pay_sumamt - s->inscp_scp_amt, take;
  out->fulamt_ownpay = s->fulamt_ownpay_amt;
  out->overlmt_selfpay = s->overlmt_selfpay;
  out->preselfpay = s->preselfpay_amt;
  if (excess <= 0) {
    out->inscp_selfpay = -excess;
    return;
  }
  /* Funds paid beyond the in-scope amount (e.g. medical assistance paying
   * out-of-scope costs): the person did not bear that part. */
  out->inscp_selfpay = 0;
  take = excess < out->preselfpay ? excess : out->preselfpay;
  out->preselfpay -= take;
  excess -= take;
  take = excess < out->overlmt_selfpay ? excess : out->overlmt_selfpay;
  out->overlmt_selfpay -= take;
  excess -= take;
  take = excess < out->fulamt_ownpay ? excess : out->fulamt_ownpay;
  out->fulamt_ownpay -= take;
}

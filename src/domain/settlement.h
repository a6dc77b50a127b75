/*
 * settlement.h - one settlement of the national medical insurance platform
 * (setlinfo of transactions 2207/2304, reversals 2208/2305) with its fee
 * detail lines (2204/2301), as the engine reads it.
 *
 * Field names follow the national interface. Amounts are fen. A settlement
 * owns nothing: `lines` is borrowed from whoever filled it (a parser's
 * buffer) and must stay valid while the engine runs on it.
 */
#ifndef HMB_SETTLEMENT_H
#define HMB_SETTLEMENT_H

#include <stddef.h>

#include "date.h"
#include "money.h"

#define SETL_ID_MAX    40 /* setl_id, mdtrt_id, psn_no: 30 in the interface */
#define SETL_CODE_MAX  52 /* med_list_codg: 50 */
#define SETL_SHORT_MAX 24
#define SETL_FLAGS_MAX 128
#define SETL_MAX_LINES 4096 /* fee detail lines of one settlement */

struct setl_line {
  char med_list_codg[SETL_CODE_MAX]; /* national catalogue code */
  char chrgitm_lv[4];                /* "01" 甲 / "02" 乙 / "03" 丙 */
  char med_chrgitm_type[8];          /* charge item type code */
  hmb_fen det_item_fee_sumamt;       /* line total */
  hmb_fen fulamt_ownpay_amt;         /* fully self-paid part */
  hmb_fen overlmt_amt;               /* above the price limit */
  hmb_fen preselfpay_amt;            /* Class-B first self-pay */
  hmb_fen inscp_scp_amt;             /* inside policy scope */
  int64_t cnt_e4;                    /* quantity x 10^4 (4 decimals) */
  uint32_t list_mask;                /* filled by plan_mark_lines() */
};

enum setl_kind {
  SETL_SETTLE = 0,  /* 2207 / 2304 */
  SETL_REVERSAL = 1 /* 2208 / 2305: setl_id names the settlement reversed */
};

struct settlement {
  enum setl_kind kind;
  char setl_id[SETL_ID_MAX];
  char mdtrt_id[SETL_ID_MAX]; /* defaults to setl_id when absent */
  char psn_no[SETL_ID_MAX];
  int32_t insutype; /* 310 employees, 390 residents, ... */
  int32_t med_type; /* 11 outpatient, 14 chronic, 21 inpatient, 52 maternity ... */
  int32_t psn_type; /* 0 when absent */
  int32_t hosp_lv;  /* hospital level code, 0 when absent */
  hmb_time setl_time;
  char mdtrtarea_admvs[8]; /* place of care (医保区划), "" = local */
  int8_t out_filed;        /* 异地备案: 1 filed, 0 not, -1 unknown */

  hmb_fen medfee_sumamt;
  hmb_fen fulamt_ownpay_amt;
  hmb_fen overlmt_selfpay;
  hmb_fen preselfpay_amt;
  hmb_fen inscp_scp_amt;
  hmb_fen act_pay_dedc;
  hmb_fen hifp_pay;
  hmb_fen hifmi_pay;
  hmb_fen hifob_pay;
  hmb_fen maf_pay;
  hmb_fen cvlserv_pay;
  hmb_fen hifes_pay;
  hmb_fen oth_pay;
  hmb_fen fund_pay_sumamt;
  hmb_fen psn_part_amt;
  hmb_fen acct_pay;
  hmb_fen psn_cash_pay;

  struct setl_line *lines; /* borrowed */
  size_t nlines;

  /* Last, because usually empty: a reader then writes only their first
   * bytes, in one cache line, and the record a reading thread hands to
   * an adjudicating one spans six lines instead of seven (SETL_HOT_BYTES). */
  char dise_codg[SETL_SHORT_MAX]; /* main diagnosis (ICD-10), may be "" */
  char flags[SETL_FLAGS_MAX];     /* hmb extension: ';'-separated markers */
};

/* The bytes of a settlement that a reader writes for a usual row (the
 * fields up to the first bytes of dise_codg and flags): what is worth
 * fetching ahead. */
#define SETL_HOT_BYTES (offsetof(struct settlement, flags) + 8)

/* Zero a settlement (kind settle, out_filed unknown, no lines). */
void settlement_init(struct settlement *s);

/*
 * Check a settlement's internal consistency: identifiers present, amounts
 * non-negative and inside the money limit, medfee_sumamt equal to the sum of
 * its four parts (全自费 + 超限价 + 乙类先行自付 + 符合范围), psn_part_amt equal
 * to medfee_sumamt - fund_pay_sumamt, the named funds adding up to
 * fund_pay_sumamt when any is given, acct_pay + psn_cash_pay equal to
 * psn_part_amt when either is given, and each line's amounts non-negative.
 * Reversals need only setl_id and psn_no. On failure err names the field.
 */
enum hmb_status settlement_validate(const struct settlement *s, struct hmb_err *err);

/*
 * The four parts of what the person bore, after the funds' payment has been
 * taken from the in-scope amount first and any excess from 乙类先行自付,
 * 超限价 and 全自费 in that order. They always add up to psn_part_amt for a
 * valid settlement.
 */
struct setl_parts {
  hmb_fen fulamt_ownpay;
  hmb_fen overlmt_selfpay;
  hmb_fen preselfpay;
  hmb_fen inscp_selfpay;
};
void settlement_parts(const struct settlement *s, struct setl_parts *out);

/* 64-bit hash of a string (for ids and codes in hash tables). */
uint64_t hmb_hash64(const char *s, size_t n);

#endif /* HMB_SETTLEMENT_H */

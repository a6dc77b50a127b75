/*
 * fuzz_plan_json: plan files (and regulatory profiles) from arbitrary bytes.
 * Every input must either be rejected with an error naming a path or yield
 * a plan that plan_finish() accepted; nothing may crash or leak. An accepted
 * plan is also exercised: terms resolved and one settlement adjudicated.
 */
#include "compat.h"
#include "adjudicate.h"
#include "plan_json.h"
#include "profile.h"
#include "profile_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *ctx, const struct hmb_err *e)
{
  (void)ctx;
  if (e->status == HMB_OK)
    BUG("a reported problem carries no status");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct plan p;
  struct profile pr;
  struct hmb_err err;
  const char *text = (const char *)data;

  hmb_err_init(&err);
  plan_init(&p);
  if (!plan_parse_json(&p, text, size, NULL, ignore, NULL, &err)) {
    struct adj_person who = {390, 0, 0, 0, 40, NULL};
    struct adj_terms terms;
    if (!adj_terms_resolve(&p, &who, &terms, &err)) {
      struct adj_state *st = calloc(1, adj_state_size(&p));
      struct settlement s;
      struct adj_result res;
      if (st) {
        adj_state_init(&p, st, &terms);
        settlement_init(&s);
        memcpy(s.setl_id, "S1", 3);
        memcpy(s.mdtrt_id, "M1", 3);
        memcpy(s.psn_no, "P1", 3);
        s.insutype = 390;
        s.med_type = 21;
        s.fulamt_ownpay_amt = 2000000;
        s.preselfpay_amt = 300000;
        s.inscp_scp_amt = 5000000;
        s.fund_pay_sumamt = 3000000;
        s.medfee_sumamt = 7300000;
        s.psn_part_amt = 4300000;
        if (!adj_settle(&p, &st, 1, 0, &s, 0, &res, &err) && res.payout < 0)
          BUG("a settlement paid a negative amount");
        adj_state_release(st);
        free(st);
      }
    }
  } else if (!err.code[0]) {
    BUG("a rejected plan left no error code");
  }
  plan_release(&p);

  regprofile_init(&pr);
  hmb_err_init(&err);
  regprofile_parse_json(&pr, text, size, &err);
  regprofile_release(&pr);
  return 0;
}

/*
 * fuzz_price_json: search spaces of hmb price from arbitrary bytes, against
 * a fixed plan (聊惠保 2024 in its shape, inline). Every input must either
 * be rejected with an error or yield a space that price_space_check()
 * accepted; an accepted space is exercised: its first and last variants
 * applied to a copy of the plan. Nothing may crash, leak or overflow.
 */
#include "compat.h"
#include "plan_json.h"
#include "price_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char plan_text[] =
    "{\"format\":\"hmb-plan/1\",\"id\":\"f\",\"name\":\"F\",\"source\":\"fuzz\",\"year\":2024,"
    "\"coverage\":{\"start\":\"2024-01-01\",\"end\":\"2024-12-31\"},"
    "\"enrollment\":{\"window\":{\"start\":\"2023-12-01\",\"end\":\"2023-12-31\"}},"
    "\"premiums\":{\"bands\":[{\"age_max\":59,\"amount\":\"60\"},{\"age_min\":60,\"amount\":"
    "\"120\"}],"
    " \"groups\":[{\"id\":\"medical_assistance\",\"name\":\"救助\",\"amount\":\"0\"}]},"
    "\"responsibilities\":["
    " {\"id\":\"in\",\"name\":\"内\",\"when\":{\"med_type\":[\"21\"]},\"sources\":[{\"component\":"
    "\"inscp_selfpay\"}],"
    "  \"deductible\":{\"pool\":\"stay\"},"
    "  "
    "\"bands\":[{\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"60%\"},{\"from\":\"50000\",\"ratio\":"
    "\"80%\"}],"
    "  \"cap\":\"200000\"},"
    " {\"id\":\"out\",\"name\":\"外\",\"when\":{\"med_type\":[\"21\"]},\"sources\":[{\"component\":"
    "\"fulamt_ownpay_amt\"}],"
    "  \"deductible\":{\"pool\":\"stay\"},\"ratio\":\"40%\"},"
    " {\"id\":\"clinic\",\"name\":\"门\",\"when\":{\"med_type\":[\"11\"]},\"sources\":[{"
    "\"component\":\"psn_part_amt\"}],"
    "  \"deductible\":\"3000\",\"ratio\":\"50%\"}],"
    "\"deductible_pools\":[{\"id\":\"stay\",\"amount\":\"10000\",\"members\":[\"in\",\"out\"]}],"
    "\"shared_caps\":[{\"id\":\"all\",\"amount\":\"300000\",\"members\":[\"in\",\"out\",\"clinic\"]"
    "}]}";

static struct plan plan;
static bool loaded;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct price_space sp;
  static struct plan q;
  struct hmb_err err;
  hmb_err_init(&err);
  if (!loaded) {
    plan_init(&plan);
    if (plan_parse_json(&plan, plan_text, strlen(plan_text), NULL, NULL, NULL, &err))
      BUG("the fuzz target's plan: %s", err.message);
    loaded = true;
  }
  if (!price_space_parse_json(&sp, &plan, (const char *)data, size, &err)) {
    uint64_t n = price_space_count(&sp);
    if (!n || n > PRICE_MAX_VARIANTS)
      BUG("an accepted space has %llu variants", (unsigned long long)n);
    q = plan;
    (void)price_variant_apply(&sp, 0, &q, &err);
    q = plan;
    (void)price_variant_apply(&sp, n - 1, &q, &err);
  } else if (err.status == HMB_OK || !err.code[0]) {
    BUG("a rejected space carries no error");
  }
  return 0;
}

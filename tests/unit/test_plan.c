/*
 * Plan files: every problem is reported with its JSON path and a stable
 * code, all problems of a file are reported (not just the first), and the
 * shipped plans are valid.
 */
#include "compat.h"
#include "plan_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define HEAD                                                                                       \
  "{\"format\":\"hmb-plan/1\",\"id\":\"t\",\"name\":\"测试\",\"source\":\"test\","               \
  "\"year\":2024,\"coverage\":{\"start\":\"2024-01-01\",\"end\":\"2024-12-31\"},"                  \
  "\"enrollment\":{\"window\":{\"start\":\"2023-10-01\",\"end\":\"2023-12-31\"}},"
#define PREM "\"premiums\":{\"bands\":[{\"amount\":\"89\"}]},"
#define R(extra)                                                                                   \
  "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":[{\"component\":"              \
  "\"inscp_selfpay\"}],\"ratio\":\"80%\",\"cap\":\"1000000\"" extra "}]"

struct collected {
  int n;
  char codes[32][HMB_ERR_CODE_MAX];
  char fields[32][HMB_ERR_FIELD_MAX];
};

static void collect(void *ctx, const struct hmb_err *e)
{
  struct collected *c = ctx;
  if (c->n < 32) {
    snprintf(c->codes[c->n], HMB_ERR_CODE_MAX, "%s", e->code);
    snprintf(c->fields[c->n], HMB_ERR_FIELD_MAX, "%s", e->field);
  }
  c->n++;
}

static bool has(const struct collected *c, const char *code, const char *field)
{
  int i;
  for (i = 0; i < c->n && i < 32; i++)
    if (!strcmp(c->codes[i], code) && !strcmp(c->fields[i], field))
      return true;
  return false;
}

static const struct {
  const char *name, *json, *code, *field;
} bad[] = {
    {"not JSON", "{", "plan.json", "line 1, column 1"},
    {"wrong format", "{\"format\":\"x\"}", "plan.format", "format"},
    {"unknown key (typo)", HEAD PREM R(",\"ratoi\":\"1%\""), "plan.unknown_key",
     "responsibilities[0].ratoi"},
    {"three decimals", HEAD PREM R(",\"deductible\":\"100.123\""), "money.decimals",
     "responsibilities[0].deductible"},
    {"ratio over 100%",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
               "[{\"component\":\"inscp_selfpay\"}],\"ratio\":\"120%\",\"cap\":\"1\"}]",
     "ratio.range", "responsibilities[0].ratio"},
    {"ratio without %",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
               "[{\"component\":\"inscp_selfpay\"}],\"ratio\":\"0.8\",\"cap\":\"1\"}]",
     "ratio.syntax", "responsibilities[0].ratio"},
    {"number not exact", HEAD PREM R(",\"deductible\":0.123"), "money.decimals",
     "responsibilities[0].deductible"},
    {"unknown component",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
               "[{\"component\":\"hifp_pay\"}],\"ratio\":\"80%\",\"cap\":\"1\"}]",
     "plan.component", "responsibilities[0].sources[0].component"},
    {"unknown list",
     HEAD PREM
     "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
     "[{\"component\":\"fulamt_ownpay_amt\",\"lines\":{\"in\":[\"nope\"]}}],\"ratio\":\"80%\","
     "\"cap\":\"1\"}]",
     "plan.ref", "responsibilities[0].sources[0].lines.in[0]"},
    {"bands out of order",
     HEAD PREM
     "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
     "[{\"component\":\"inscp_selfpay\"}],\"bands\":[{\"from\":\"0\",\"to\":\"5000\",\"ratio\":"
     "\"10%\"},{\"from\":\"4000\",\"ratio\":\"20%\"}],\"cap\":\"1\"}]",
     "plan.band_order", "responsibilities[0].bands[1]"},
    {"no cap",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":"
               "[{\"component\":\"inscp_selfpay\"}],\"ratio\":\"80%\"}]",
     "plan.cap_missing", "responsibilities[0].cap"},
    {"premium gap",
     HEAD "\"premiums\":{\"bands\":[{\"age_max\":22,\"amount\":\"39\"},"
          "{\"age_min\":24,\"amount\":\"89\"}]}," R(""),
     "plan.premium_gap", "premiums.bands"},
    {"premium overlap",
     HEAD "\"premiums\":{\"bands\":[{\"age_max\":30,\"amount\":\"39\"},"
          "{\"age_min\":20,\"amount\":\"89\"}]}," R(""),
     "plan.premium_overlap", "premiums.bands"},
    {"same cost counted twice",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":[{\"component\":"
               "\"inscp_selfpay\"}],\"ratio\":\"80%\",\"cap\":\"1\"},{\"id\":\"b\",\"name\":\"乙\","
               "\"sources\":[{\"component\":\"psn_part_amt\"}],\"ratio\":\"10%\",\"cap\":\"1\"}]",
     "plan.overlap", "responsibilities[0].sources[0]"},
    {"pool member twice",
     HEAD PREM R(",\"deductible\":{\"pool\":\"d\"}") ",\"deductible_pools\":[{\"id\":\"d\","
                                                     "\"amount\":\"1\",\"members\":[\"a\",\"a\"]}]",
     "plan.member_twice", "pools[0].members[1]"},
    {"family pool varied per person",
     HEAD PREM R(
         ",\"deductible\":{\"pool\":\"d\"}") ",\"deductible_pools\":[{\"id\":\"d\",\"amount\":"
                                             "\"1\",\"scope\":\"family\",\"members\":"
                                             "[\"a\"]}],\"variants\":[{\"when\":{\"preexisting\":"
                                             "true},\"pool\":\"d\",\"deductible\":\"9\"}]",
     "plan.variant_family", "variants[0]"},
    {"parameter without a value", HEAD PREM "\"parameters\":{\"mi\":{\"name\":\"大病\"}}," R(""),
     "plan.param_value", "parameters.mi"},
    {"undefined parameter", HEAD PREM R(",\"deductible\":{\"param\":\"mi\"}"), "plan.ref",
     "responsibilities[0].deductible.param"},
    {"duplicate responsibility id",
     HEAD PREM "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":[{\"component\":"
               "\"inscp_selfpay\"}],\"ratio\":\"80%\",\"cap\":\"1\"},{\"id\":\"a\",\"name\":\"乙\","
               "\"sources\":[{\"component\":\"preselfpay_amt\"}],\"ratio\":\"10%\",\"cap\":\"1\"}]",
     "plan.duplicate_id", "responsibilities[1].id"},
    {"med_type not a code", HEAD PREM R(",\"when\":{\"med_type\":[\"住院\"]}"), "plan.code",
     "responsibilities[0].when.med_type[0]"},
    {"date that does not exist",
     "{\"format\":\"hmb-plan/1\",\"id\":\"t\",\"name\":\"测试\","
     "\"source\":\"x\",\"year\":2024,\"coverage\":{\"start\":\"2024-02-30\",\"end\":"
     "\"2024-12-31\"},\"enrollment\":{\"window\":{\"start\":\"2023-10-01\",\"end\":\"2023-12-31\"}}"
     "," PREM R(""),
     "date.invalid", "coverage.start"},
};

static void test_plan__problems_named_by_path(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(bad); i++) {
    struct plan p;
    struct collected c;
    struct hmb_err err;
    char json[4096];
    /* the table's objects after the first two leave the top level open */
    snprintf(json, sizeof(json), "%s%s", bad[i].json, i < 2 ? "" : "}");
    memset(&c, 0, sizeof(c));
    hmb_err_init(&err);
    plan_init(&p);
    if (plan_parse_json(&p, json, strlen(json), NULL, collect, &c, &err) == HMB_OK)
      fail_msg("%s: accepted", bad[i].name);
    if (!has(&c, bad[i].code, bad[i].field)) {
      int k;
      for (k = 0; k < c.n && k < 32; k++)
        print_message("  got %s at %s\n", c.codes[k], c.fields[k]);
      fail_msg("%s: want %s at %s", bad[i].name, bad[i].code, bad[i].field);
    }
    assert_int_not_equal(err.status, HMB_OK); /* the first problem is in err */
    plan_release(&p);
  }
}

static void test_plan__every_problem_reported(void **state)
{
  struct plan p;
  struct collected c;
  struct hmb_err err;
  const char *json = HEAD PREM
      "\"responsibilities\":[{\"id\":\"a\",\"name\":\"甲\",\"sources\":[{\"component\":"
      "\"inscp_selfpay\",\"weight\":\"50\"}],\"ratio\":\"80%\",\"cap\":\"1.001\",\"typo\":1}]}";
  (void)state;
  memset(&c, 0, sizeof(c));
  hmb_err_init(&err);
  plan_init(&p);
  assert_int_equal(plan_parse_json(&p, json, strlen(json), NULL, collect, &c, &err), HMB_INVALID);
  assert_true(has(&c, "plan.unknown_key", "responsibilities[0].typo"));
  assert_true(has(&c, "ratio.syntax", "responsibilities[0].sources[0].weight"));
  assert_true(has(&c, "money.decimals", "responsibilities[0].cap"));
  assert_int_equal(c.n, 3);
  plan_release(&p);
}

static void test_plan__shipped_plans_valid(void **state)
{
  static const char *const files[] = {"plans/liaocheng-2024.json", "plans/weihai-2024.json",
                                      "plans/shanghai-2021.json"};
  const char *home = getenv("HMB_HOME");
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(files); i++) {
    struct plan p;
    struct hmb_err err;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", home ? home : ".", files[i]);
    hmb_err_init(&err);
    plan_init(&p);
    if (plan_load(&p, path, NULL, NULL, &err))
      fail_msg("%s: %s: %s", files[i], err.field, err.message);
    assert_true(p.nresp >= 3);
    assert_non_null(p.source);
    plan_release(&p);
  }
}

static void test_plan__liaocheng_as_seed_001_states(void **state)
{
  struct plan p;
  struct hmb_err err;
  char path[512];
  const char *home = getenv("HMB_HOME");
  hmb_fen premium;
  static const struct {
    const char *id;
    hmb_fen deductible, cap;
    hmb_bp ratio;
  } want[] = {{"inpatient_in_scope", 1600000, 100000000, 8000},
              {"inpatient_out_of_scope", 1600000, 100000000, 1000},
              {"special_drugs", 1600000, 100000000, 8000},
              {"special_efficacy_drugs", 1000000, 30000000, 8000}};
  size_t i;
  (void)state;
  snprintf(path, sizeof(path), "%s/plans/liaocheng-2024.json", home ? home : ".");
  hmb_err_init(&err);
  plan_init(&p);
  assert_int_equal(plan_load(&p, path, NULL, NULL, &err), HMB_OK);
  assert_int_equal(p.nresp, 4);
  for (i = 0; i < ARRAY_SIZE(want); i++) {
    int r = plan_find_resp(&p, want[i].id);
    assert_true(r >= 0);
    assert_int_equal(p.pools[p.resp[r].pool].amount.value, want[i].deductible);
    assert_int_equal(p.resp[r].cap.value, want[i].cap);
    assert_int_equal(p.resp[r].nbands, 1);
    assert_int_equal(p.resp[r].bands[0].ratio, want[i].ratio);
  }
  assert_int_equal(plan_premium(&p, 40, NULL, &premium, &err), HMB_OK);
  assert_int_equal(premium, 8900);
  assert_int_equal(p.loss_ratio_target, 8000);
  assert_int_equal(p.term_years, 3);
  assert_true(p.enrollment.veterans_any_time && p.enrollment.newborn_both_parents);
  plan_release(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan__problems_named_by_path),
      cmocka_unit_test(test_plan__every_problem_reported),
      cmocka_unit_test(test_plan__shipped_plans_valid),
      cmocka_unit_test(test_plan__liaocheng_as_seed_001_states),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_profile.c - regulatory profiles (domain/profile.c, io/profile_json.c)
 * and the shipped plans.
 *
 * The Yunnan profile is run against the Liaocheng plan, whose figures were
 * compared with the rules by hand: deductibles 16000 > 15000 on the three
 * responsibilities that have them (the special-efficacy one has 10000), the
 * out-of-scope ratio 10% < 30%, caps 1,000,000 x 3 + 300,000 = 3,300,000 >=
 * 2,000,000, flat premium 89 <= 100 on a basic plan, loss ratio target 80% >=
 * 70%, term 3 >= 3. Each check then runs on small inline plans, once on each
 * side of its limit, with the expected violations written out in full.
 */
#include "compat.h"
#include "plan_json.h"
#include "profile_json.h"
#include "buf.h"

#include <setjmp.h>
#include <cmocka.h>

/* ---- helpers ---- */

#define MAX_SEEN 32

struct seen {
  int n;
  struct hmb_err v[MAX_SEEN];
};

static void collect(void *ctx, const struct hmb_err *e)
{
  struct seen *s = ctx;
  if (s->n < MAX_SEEN)
    s->v[s->n] = *e;
  s->n++;
}

static void print_problem(void *ctx, const struct hmb_err *e)
{
  (void)ctx;
  print_message("  %s %s: %s\n", e->code, e->field, e->message);
}

/* "code@field;code@field" of what was seen, in report order. */
static void seen_text(const struct seen *s, struct buf *out)
{
  int i;
  buf_reset(out);
  for (i = 0; i < s->n && i < MAX_SEEN; i++)
    assert_int_equal(buf_addf(out, "%s%s@%s", i ? ";" : "", s->v[i].code, s->v[i].field), HMB_OK);
}

static const char *home(void)
{
  const char *h = getenv("HMB_HOME");
  return h && *h ? h : ".";
}

static void repo_path(struct buf *b, const char *rel)
{
  buf_reset(b);
  assert_int_equal(buf_addf(b, "%s/%s", home(), rel), HMB_OK);
}

static void load_plan(struct plan *p, const char *rel)
{
  struct buf path = BUF_INIT(4096);
  struct hmb_err err;
  enum hmb_status result;
  hmb_err_init(&err);
  repo_path(&path, rel);
  plan_init(p);
  result = plan_load(p, path.ptr, print_problem, NULL, &err);
  if (result)
    print_message("%s: %s %s %s\n", path.ptr, err.code, err.field, err.message);
  assert_int_equal(result, HMB_OK);
  buf_release(&path);
}

static void load_yunnan(struct profile *pr)
{
  struct buf path = BUF_INIT(4096);
  struct hmb_err err;
  enum hmb_status result;
  hmb_err_init(&err);
  repo_path(&path, "profiles/yunnan-2023.json");
  regprofile_init(pr);
  result = regprofile_load(pr, path.ptr, &err);
  if (result)
    print_message("%s: %s %s %s\n", path.ptr, err.code, err.field, err.message);
  assert_int_equal(result, HMB_OK);
  buf_release(&path);
}

/* ---- the shipped profile ---- */

static void test_profile__yunnan_rules(void **state)
{
  struct profile pr;
  static const struct {
    const char *id;
    enum profile_check_kind check;
  } want[] = {
      {"deductible_max", PROFILE_DEDUCTIBLE_MAX},
      {"ratio_min", PROFILE_RATIO_MIN},
      {"cap_total_min", PROFILE_CAP_MIN},
      {"premium_basic_avg_max", PROFILE_PREMIUM_AVG_MAX},
      {"premium_upgraded_avg_max", PROFILE_PREMIUM_AVG_MAX},
      {"loss_ratio_target_min", PROFILE_LOSS_RATIO_TARGET_MIN},
      {"term_years_min", PROFILE_TERM_YEARS_MIN},
  };
  size_t i;
  (void)state;
  load_yunnan(&pr);
  assert_string_equal(pr.id, "yunnan-2023");
  assert_int_equal(pr.nrules, (int)ARRAY_SIZE(want));
  for (i = 0; i < ARRAY_SIZE(want); i++) {
    assert_string_equal(pr.rules[i].id, want[i].id);
    assert_int_equal(pr.rules[i].check, want[i].check);
    assert_non_null(strstr(pr.rules[i].message, "云医保〔2023〕152号"));
  }
  assert_int_equal(pr.rules[0].amount, 1500000);
  assert_int_equal(pr.rules[1].ratio, 3000);
  assert_int_equal(pr.rules[2].amount, 200000000);
  assert_int_equal(pr.rules[2].scope, PROFILE_CAP_TOTAL);
  assert_int_equal(pr.rules[3].tier, TIER_BASIC);
  assert_int_equal(pr.rules[3].amount, 10000);
  assert_int_equal(pr.rules[4].tier, TIER_UPGRADED);
  assert_int_equal(pr.rules[4].amount, 20000);
  assert_int_equal(pr.rules[5].ratio, 7000);
  assert_int_equal(pr.rules[6].years, 3);
  regprofile_release(&pr);
  regprofile_release(&pr); /* released twice is fine */
}

static void test_profile__load_named(void **state)
{
  struct profile pr;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);
  regprofile_init(&pr);
  assert_int_equal(regprofile_load_named(&pr, "yunnan-2023", &err), HMB_OK);
  assert_int_equal(pr.nrules, 7);
  regprofile_release(&pr);
  assert_int_equal(regprofile_load_named(&pr, "no-such-profile", &err), HMB_NOT_FOUND);
  assert_string_equal(err.code, "profile.not_found");
  regprofile_release(&pr);
  assert_int_equal(regprofile_load_named(&pr, "../etc/x", &err), HMB_IO);
  regprofile_release(&pr);
}

static void test_profile__yunnan_vs_liaocheng(void **state)
{
  struct profile pr;
  struct plan p;
  struct seen s = {0};
  struct buf text = BUF_INIT(1 << 16);
  int violations = -1;
  (void)state;
  load_yunnan(&pr);
  load_plan(&p, "plans/liaocheng-2024.json");
  assert_int_equal(regprofile_check(&pr, &p, collect, &s, &violations), HMB_OK);
  assert_int_equal(violations, 4);
  seen_text(&s, &text);
  assert_string_equal(text.ptr, "profile.deductible_max@responsibilities[0].deductible;"
                                "profile.deductible_max@responsibilities[1].deductible;"
                                "profile.deductible_max@responsibilities[2].deductible;"
                                "profile.ratio_min@responsibilities[1].ratio");
  assert_string_equal(s.v[0].message,
                      "责任“基本医疗保险范围内住院自付医疗费用”的起付线 16000.00 元高于上限 "
                      "15000.00 元（云医保〔2023〕152号（九）：合理设定个人负担医疗费用保障政策，"
                      "起付线不高于15000元）");
  assert_string_equal(s.v[3].message,
                      "责任“基本医疗保险范围外住院医疗费用”赔付比例 10% 低于下限 30%"
                      "（云医保〔2023〕152号（九）：报销比例不低于30%）");
  for (int i = 0; i < 4; i++)
    assert_int_equal(s.v[i].status, HMB_INVALID);
  /* a NULL report function and NULL count are allowed */
  assert_int_equal(regprofile_check(&pr, &p, NULL, NULL, NULL), HMB_OK);
  buf_release(&text);
  plan_release(&p);
  regprofile_release(&pr);
}

/* ---- the shipped plans ---- */

static void test_profile__shipped_plans(void **state)
{
  struct plan p;
  hmb_fen fee;
  struct hmb_err err;
  (void)state;
  hmb_err_init(&err);

  load_plan(&p, "plans/liaocheng-2024.json");
  assert_int_equal(p.nresp, 4);
  plan_release(&p);

  load_plan(&p, "plans/weihai-2024.json");
  assert_string_equal(p.id, "weihai-2024");
  assert_string_equal(p.region_code, "371000");
  assert_int_equal(p.term_years, 3);
  assert_int_equal(p.loss_ratio_target, 8000);
  assert_int_equal(p.tier, TIER_BASIC);
  assert_true(p.enrollment.city_insured);
  assert_true(p.enrollment.province_workers_students);
  assert_true(p.enrollment.veterans_any_time);
  assert_true(p.enrollment.newborn_both_parents);
  assert_true(p.enrollment.free_minor_both_parents);
  assert_true(p.enrollment.account_province);
  assert_int_equal(p.enrollment.account_relations,
                   PLAN_REL_SELF | PLAN_REL_SPOUSE | PLAN_REL_CHILD | PLAN_REL_PARENT);
  {
    static const struct {
      int age;
      const char *group;
      hmb_fen fee;
    } fees[] = {
        {0, NULL, 3900},
        {22, NULL, 3900},
        {23, NULL, 8900},
        {59, NULL, 8900},
        {60, NULL, 13900},
        {150, NULL, 13900},
        {45, "medical_assistance", 3900},
        {10, "free_minor", 0},
    };
    size_t i;
    for (i = 0; i < ARRAY_SIZE(fees); i++) {
      assert_int_equal(plan_premium(&p, fees[i].age, fees[i].group, &fee, &err), HMB_OK);
      assert_int_equal(fee, fees[i].fee);
    }
  }
  assert_int_equal(p.nresp, 4);
  assert_string_equal(p.resp[0].id, "inpatient_in_scope");
  assert_string_equal(p.resp[1].id, "inpatient_out_of_scope");
  assert_string_equal(p.resp[2].id, "outpatient");
  assert_string_equal(p.resp[3].id, "special_drugs");
  assert_int_equal(p.resp[0].pool, p.resp[1].pool); /* one inpatient deductible */
  assert_int_equal(p.resp[0].nbands, 3);
  assert_int_equal(p.nvariants, 2);
  assert_int_equal(p.variants[0].when.loyalty_min, 3);
  assert_int_equal(p.nexclusions, 6);
  assert_int_not_equal(p.excl_lines_mask, 0);
  plan_release(&p);

  load_plan(&p, "plans/shanghai-2021.json");
  assert_string_equal(p.id, "shanghai-2021");
  assert_int_equal(p.nresp, 3);
  assert_int_equal(p.pools[p.resp[0].pool].amount.value, 2000000);
  assert_int_equal(p.pools[p.resp[1].pool].amount.value, 0);
  assert_int_equal(p.pools[p.resp[2].pool].amount.value, 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(p.resp[i].bands[0].ratio, 7000);
    assert_int_equal(p.resp[i].cap.value, 100000000);
    assert_int_equal(p.variants[i].when.preexisting, 1);
    assert_int_equal(p.variants[i].resp, i);
    assert_int_equal(p.variants[i].ratio, 3000);
  }
  assert_int_equal(plan_premium(&p, 90, NULL, &fee, &err), HMB_OK);
  assert_int_equal(fee, 11500);
  plan_release(&p);
}

/* Yunnan against the other shipped plans: what the rules say about them. */
static void test_profile__yunnan_vs_others(void **state)
{
  struct profile pr;
  struct plan p;
  struct seen s = {0};
  struct buf text = BUF_INIT(1 << 16);
  (void)state;
  load_yunnan(&pr);

  load_plan(&p, "plans/shanghai-2021.json");
  assert_int_equal(regprofile_check(&pr, &p, collect, &s, NULL), HMB_OK);
  seen_text(&s, &text);
  assert_string_equal(text.ptr, "profile.deductible_max@responsibilities[0].deductible;"
                                "profile.premium_basic_avg_max@premiums.bands[0].amount;"
                                "profile.loss_ratio_target_min@loss_ratio_target;"
                                "profile.term_years_min@term_years");
  assert_non_null(strstr(s.v[1].message, "基础保障统一保费 115.00 元高于平均保费上限 100.00 元"));
  assert_non_null(strstr(s.v[2].message, "未载明目标赔付率"));
  plan_release(&p);

  s.n = 0;
  load_plan(&p, "plans/weihai-2024.json");
  assert_int_equal(regprofile_check(&pr, &p, collect, &s, NULL), HMB_OK);
  seen_text(&s, &text);
  /* the highest band (139) is above 100 and no shares are stated */
  assert_string_equal(text.ptr, "profile.premium_basic_avg_max@premiums.bands[2].amount");
  assert_non_null(strstr(s.v[0].message, "按最高档保守判断"));
  plan_release(&p);

  buf_release(&text);
  regprofile_release(&pr);
}

/*
 * Every pattern docs/plan-format.md shows, in one plan: the keys the
 * reference documents parse and pass plan_finish() together.
 */
static const char *const doc_patterns_plan[] = {
    "{\"format\":\"hmb-plan/1\",\"id\":\"doc-patterns\",\"name\":\"文档示例\",\"city\":\"测试市\",",
    "\"region_code\":\"371000\",\"year\":2024,\"source\":\"docs/plan-format.md\",",
    "\"coverage\":{\"start\":\"2024-01-01\",\"end\":\"2024-12-31\"},\"term_years\":3,",
    "\"loss_ratio_target\":\"80%\",\"tier\":\"upgraded\",",
    "\"enrollment\":{\"window\":{\"start\":\"2023-11-10\",\"end\":\"2023-12-31\"},",
    " \"eligible\":[\"city_insured\",\"province_workers_students\"],\"veterans_any_time\":true,",
    " \"newborn_both_parents\":true,\"free_minor_both_parents\":true,",
    " \"personal_account\":{\"relations\":[\"self\",\"spouse\",\"child\",\"parent\",\"spouse_"
    "parent\"],\"scope\":\"province\"}},",
    "\"premiums\":{\"age_basis\":\"coverage_end\",\"bands\":[",
    " {\"age_max\":22,\"amount\":\"39\",\"expected_share\":\"30%\"},",
    " {\"age_min\":23,\"age_max\":59,\"amount\":\"89\",\"expected_share\":\"50%\"},",
    " {\"age_min\":60,\"amount\":\"139\",\"expected_share\":\"20%\"}],",
    " \"groups\":[{\"id\":\"medical_assistance\",\"name\":\"医疗救助对象\",\"amount\":\"39\"}]},",
    "\"lists\":{\"special_drugs\":{\"name\":\"特药\",\"codes\":[\"XL01FF*\"]},",
    " \"car_t\":{\"name\":\"CAR-T\",\"codes\":[\"XL01XL*\"]},",
    " \"pet_ct\":{\"name\":\"PET-CT\",\"codes\":[\"250300001*\"]},",
    " \"implants\":{\"name\":\"植入材料\",\"codes\":[\"C*\"]},",
    " \"tonic_cosmetic\":{\"name\":\"滋补保健\",\"codes\":[\"XA13*\"]}},",
    "\"parameters\":{\"major_illness_threshold\":{\"name\":\"大病保险起付线\",\"value\":\"15000\",",
    " \"by_scheme\":{\"310\":\"20000\",\"390\":\"15000\"}}},",
    "\"responsibilities\":[",
    " {\"id\":\"inpatient_local\",\"name\":\"住院（本地）\",\"when\":{\"med_type\":[\"21\"],\"in_"
    "region\":true},",
    "  "
    "\"sources\":[{\"component\":\"inscp_selfpay\",\"lines\":{\"except\":[\"special_drugs\",\"car_"
    "t\"]}},",
    "   "
    "{\"component\":\"preselfpay_amt\",\"weight\":\"50%\",\"lines\":{\"except\":[\"special_drugs\","
    "\"car_t\"]}},",
    "   {\"component\":\"overlmt_selfpay\",\"weight\":\"50%\"}],",
    "  \"deductible\":{\"pool\":\"inpatient\"},\"band_basis\":\"gross\",\"bands\":[",
    "   "
    "{\"from\":\"13000\",\"to\":\"30000\",\"ratio\":\"10%\"},{\"from\":\"30000\",\"to\":\"50000\","
    "\"ratio\":\"20%\"},",
    "   {\"from\":\"50000\",\"ratio\":\"50%\"}],",
    "  \"cap\":\"1000000\",\"stay_limit\":\"300000\",",
    "  "
    "\"item_limits\":[{\"list\":\"pet_ct\",\"max_count\":1},{\"list\":\"implants\",\"per\":"
    "\"code\",\"max_amount\":\"50000\"}]},",
    " {\"id\":\"inpatient_elsewhere\",\"name\":\"住院（异地）\",\"when\":{\"med_type\":[\"21\"],"
    "\"in_region\":false},",
    "  "
    "\"sources\":[{\"component\":\"inscp_selfpay\",\"lines\":{\"except\":[\"special_drugs\",\"car_"
    "t\"]}},",
    "   "
    "{\"component\":\"preselfpay_amt\",\"weight\":\"50%\",\"lines\":{\"except\":[\"special_drugs\","
    "\"car_t\"]}},",
    "   {\"component\":\"overlmt_selfpay\",\"weight\":\"60%\",\"when\":{\"in_region\":false}}],",
    "  \"deductible\":{\"pool\":\"inpatient\"},\"ratio\":\"70%\",\"cap\":\"1000000\"},",
    " {\"id\":\"out_of_scope\",\"name\":\"住院范围外\",\"when\":{\"med_type\":[\"21\"],\"in_"
    "region\":true},",
    "  "
    "\"sources\":[{\"component\":\"fulamt_ownpay_amt\",\"lines\":{\"except\":[\"special_drugs\","
    "\"car_t\"]}},",
    "   "
    "{\"component\":\"preselfpay_amt\",\"weight\":\"50%\",\"lines\":{\"except\":[\"special_drugs\","
    "\"car_t\"]}},",
    "   {\"component\":\"overlmt_selfpay\",\"weight\":\"50%\"}],",
    "  "
    "\"deductible\":{\"pool\":\"inpatient\"},\"band_basis\":\"net\",\"ratio\":\"30%\",\"cap\":"
    "\"1000000\"},",
    " {\"id\":\"outpatient\",\"name\":\"门诊\",\"when\":{\"med_type\":[\"11\"]},",
    "  "
    "\"sources\":[{\"component\":\"psn_part_amt\",\"lines\":{\"except\":[\"special_drugs\",\"car_"
    "t\"]}}],",
    "  "
    "\"deductible\":{\"pool\":\"family_outpatient\"},\"ratio\":\"50%\",\"cap\":\"5000\",\"max_"
    "visits\":20},",
    " {\"id\":\"special_drugs\",\"name\":\"特药\",\"sources\":[{\"component\":\"fulamt_ownpay_"
    "amt\",\"lines\":{\"in\":[\"special_drugs\"]}}],",
    "  "
    "\"deductible\":{\"param\":\"major_illness_threshold\"},\"ratio\":\"80%\",\"cap\":\"1000000\"}"
    ",",
    " {\"id\":\"car_t\",\"name\":\"CAR-T\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\","
    "\"lines\":{\"in\":[\"car_t\"]}}],",
    "  \"deductible\":\"0\",\"ratio\":\"80%\",\"cap\":{\"param\":\"major_illness_threshold\"}},",
    " {\"id\":\"car_t_allowance\",\"name\":\"CAR-T "
    "治疗津贴\",\"kind\":\"lump_sum\",\"amount\":\"5000\",",
    "  \"max_times\":1,\"trigger_lines\":[\"car_t\"],\"when\":{\"med_type\":[\"21\"]}},",
    " {\"id\":\"act_dedc\",\"name\":\"基本医保起付线\",\"when\":{\"med_type\":[\"14\"],\"dise_"
    "codg\":[\"C\",\"I21\"],",
    "  "
    "\"insutype\":[\"310\"],\"psn_type\":[\"11\"],\"hosp_lv\":[\"1\"],\"flags_none\":[\"x\"],\"out_"
    "filed\":true},",
    "  "
    "\"sources\":[{\"component\":\"act_pay_dedc\",\"lines\":\"all\"}],\"ratio\":\"100%\",\"cap\":"
    "\"2000\"}],",
    "\"deductible_pools\":[",
    " {\"id\":\"inpatient\",\"amount\":\"13000\",\"scope\":\"person\",\"members\":[\"inpatient_"
    "local\",\"inpatient_elsewhere\",\"out_of_scope\"]},",
    " {\"id\":\"family_outpatient\",\"amount\":\"1000\",\"scope\":\"family\",\"members\":["
    "\"outpatient\"]}],",
    "\"shared_caps\":[{\"id\":\"drugs\",\"amount\":\"1000000\",\"scope\":\"person\",\"members\":["
    "\"special_drugs\",\"car_t\"]}],",
    "\"exclusive\":[{\"id\":\"one_of\",\"members\":[\"inpatient_local\",\"inpatient_elsewhere\"]}]"
    ",",
    "\"band_axes\":[{\"id\":\"burden\",\"members\":[\"inpatient_local\",\"out_of_scope\"]}],",
    "\"variants\":[",
    " {\"when\":{\"preexisting\":true},\"responsibility\":\"inpatient_local\",\"ratio\":\"30%\","
    "\"note\":\"既往症\"},",
    " {\"when\":{\"preexisting\":true},\"responsibility\":\"out_of_scope\",\"deductible_delta\":"
    "\"10000\"},",
    " {\"when\":{\"preexisting\":true},\"responsibility\":\"car_t\",\"excluded\":true},",
    " {\"when\":{\"loyalty_years_min\":2},\"responsibility\":\"inpatient_local\",\"ratio_delta\":"
    "\"+5%\"},",
    " {\"when\":{\"claim_free_years_min\":1},\"pool\":\"inpatient\",\"deductible_delta\":\"-1000\"}"
    ",",
    " {\"when\":{\"age_min\":80,\"age_max\":150,\"insutype\":[\"390\"],\"groups_any\":[\"medical_"
    "assistance\"]},",
    "  \"responsibility\":\"special_drugs\",\"cap\":\"500000\",\"deductible\":\"0\"}],",
    "\"exclusions_comment\":\"已经由基本医疗保险统筹基金支付的费用: structural\",",
    "\"exclusions\":[",
    " {\"id\":\"work_injury\",\"name\":\"应当由工伤保险基金支付的\",\"when\":{\"flags_any\":["
    "\"work_injury\"]}},",
    " {\"id\":\"third_party\",\"name\":\"应当由第三人负担的\",\"when\":{\"flags_any\":[\"third_"
    "party\"]}},",
    " {\"id\":\"public_health\",\"name\":\"应当由公共卫生负担的\",\"when\":{\"flags_any\":["
    "\"public_health\"]}},",
    " {\"id\":\"abroad\",\"name\":\"在境外就医的\",\"when\":{\"flags_any\":[\"abroad\"]}},",
    " {\"id\":\"tonic_cosmetic\",\"name\":\"滋补保健、整形美容等\",\"lines\":[\"tonic_cosmetic\"]}"
    ",",
    " {\"id\":\"unfiled\",\"name\":\"未备案异地就医\",\"when\":{\"in_region\":false,\"out_filed\":"
    "false},",
    "  \"responsibilities\":[\"inpatient_elsewhere\"]}]}",
};

static void test_profile__doc_patterns(void **state)
{
  struct plan p;
  struct hmb_err err;
  struct seen s = {0};
  struct profile pr;
  struct buf text = BUF_INIT(1 << 16);
  enum hmb_status result;
  (void)state;
  hmb_err_init(&err);
  for (size_t i = 0; i < ARRAY_SIZE(doc_patterns_plan); i++)
    assert_int_equal(buf_addstr(&text, doc_patterns_plan[i]), HMB_OK);
  plan_init(&p);
  result = plan_parse_json(&p, text.ptr, text.len, NULL, print_problem, NULL, &err);
  if (result)
    print_message("%s %s %s\n", err.code, err.field, err.message);
  assert_int_equal(result, HMB_OK);
  assert_int_equal(p.nresp, 8);
  assert_int_equal(p.npools, 6); /* 2 explicit + 4 own (special, car_t, lump sum, act_dedc) */
  assert_true(p.has_family_scope);
  assert_true(p.has_path_rules);
  assert_int_equal(p.ncaps, 1);
  assert_int_equal(p.ngroups, 1);
  assert_int_equal(p.nvariants, 6);
  assert_int_equal(p.nexclusions, 6);
  assert_int_equal(p.age_basis_end, 1);
  assert_int_equal(p.resp[0].axis, p.resp[2].axis);
  assert_true(p.resp[2].bands_net);
  assert_int_equal(p.resp[1].terms[2].weight, 6000);
  assert_int_equal(p.variants[4].deductible_delta, -100000);
  assert_int_equal(p.variants[3].ratio_delta, 500);

  /* what Yunnan says about it: explicit pools' paths, parameter deductibles,
   * bands and variants are all reported where they are written */
  load_yunnan(&pr);
  assert_int_equal(regprofile_check(&pr, &p, collect, &s, NULL), HMB_OK);
  seen_text(&s, &text);
  assert_string_equal(text.ptr, "profile.deductible_max@responsibilities[4].deductible;"
                                "profile.deductible_max@variants[1];"
                                "profile.ratio_min@responsibilities[0].bands[0].ratio;"
                                "profile.ratio_min@responsibilities[0].bands[1].ratio;"
                                "profile.ratio_min@variants[3]");
  assert_non_null(strstr(s.v[0].message, "20000.00 元（参数“major_illness_threshold”，险种 310）"));
  assert_non_null(strstr(s.v[1].message, "调整为 23000.00 元"));
  buf_release(&text);
  regprofile_release(&pr);
  plan_release(&p);
}

/* ---- each check on inline plans ---- */

#define HEAD                                                                                       \
  "{\"format\":\"hmb-plan/1\",\"id\":\"t\",\"name\":\"测试\",\"year\":2024,\"source\":\"test\"," \
  "\"coverage\":{\"start\":\"2024-01-01\",\"end\":\"2024-12-31\"},"                                \
  "\"enrollment\":{\"window\":{\"start\":\"2023-12-01\",\"end\":\"2023-12-31\"}},"
#define PREM89 "\"premiums\":{\"bands\":[{\"amount\":\"89\"}]},"
/* a responsibility on component `comp` with deductible, ratio and cap */
#define RESP(id, comp, ded, ratio, cap)                                                            \
  "{\"id\":\"" id "\",\"name\":\"" id "\",\"sources\":[{\"component\":\"" comp "\"}],"             \
  "\"deductible\":\"" ded "\",\"ratio\":\"" ratio "\",\"cap\":\"" cap "\"}"
#define ONE(ded, ratio, cap)                                                                       \
  HEAD PREM89 "\"responsibilities\":[" RESP("a", "inscp_selfpay", ded, ratio, cap) "]"
#define TWO(capa, capb, rest)                                                                      \
  HEAD PREM89 "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", capa) "," RESP(      \
      "b", "fulamt_ownpay_amt", "0", "80%", capb) "]" rest

#define DED                                                                                        \
  "{\"id\":\"ded\",\"check\":\"deductible_max\",\"amount\":\"15000\",\"message\":"                 \
  "\"起付线不高于15000元\"}"
#define RATIO                                                                                      \
  "{\"id\":\"ratio\",\"check\":\"ratio_min\",\"ratio\":\"30%\",\"message\":\"报销比例不低于30%\"}"
#define CAPT                                                                                       \
  "{\"id\":\"cap\",\"check\":\"cap_min\",\"scope\":\"total\",\"amount\":\"2000000\",\"message\":"  \
  "\"封顶线不低于200万元\"}"
#define CAPE                                                                                       \
  "{\"id\":\"cape\",\"check\":\"cap_min\",\"scope\":\"each\",\"amount\":\"1000000\",\"message\":"  \
  "\"每项封顶线不低于100万元\"}"
#define PREMB                                                                                      \
  "{\"id\":\"prem\",\"check\":\"premium_avg_max\",\"tier\":\"basic\",\"amount\":\"100\","          \
  "\"message\":\"基础保障平均保费不超过100元\"}"
#define PREMU                                                                                      \
  "{\"id\":\"premu\",\"check\":\"premium_avg_max\",\"tier\":\"upgraded\",\"amount\":\"200\","      \
  "\"message\":\"升级保障平均保费不超过200元\"}"
#define LOSS                                                                                       \
  "{\"id\":\"loss\",\"check\":\"loss_ratio_target_min\",\"ratio\":\"70%\",\"message\":"            \
  "\"满期赔付率不低于70%\"}"
#define TERM                                                                                       \
  "{\"id\":\"term\",\"check\":\"term_years_min\",\"years\":3,\"message\":\"服务期限不少于3年\"}"

static const struct check_case {
  const char *name;
  const char *rule;    /* one rule of a profile */
  const char *plan;    /* plan JSON without its closing brace */
  const char *expect;  /* "code@field;..." in report order, "" for none */
  const char *message; /* substring of the first violation's message, or NULL */
} check_cases[] = {
    /* deductible_max */
    {"deductible at the limit", DED, ONE("15000", "80%", "1000000"), "", NULL},
    {"deductible above", DED, ONE("15000.01", "80%", "1000000"),
     "profile.ded@responsibilities[0].deductible",
     "起付线 15000.01 元高于上限 15000.00 元（起付线不高于15000元）"},
    {"shared pool above", DED,
     HEAD PREM89
     "\"responsibilities\":["
     "{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":\"inscp_selfpay\"}],\"deductible\":{"
     "\"pool\":\"p\"},\"ratio\":\"80%\",\"cap\":\"1000000\"},"
     "{\"id\":\"b\",\"name\":\"b\",\"sources\":[{\"component\":\"fulamt_ownpay_amt\"}],"
     "\"deductible\":{\"pool\":\"p\"},\"ratio\":\"50%\",\"cap\":\"1000000\"}],"
     "\"deductible_pools\":[{\"id\":\"p\",\"amount\":\"20000\",\"members\":[\"a\",\"b\"]}]",
     "profile.ded@deductible_pools[0].amount", "共用起付线“p” 20000.00 元"},
    {"parameter, one scheme above", DED,
     HEAD PREM89 "\"parameters\":{\"th\":{\"name\":\"大病起付线\",\"by_scheme\":{\"310\":\"12000\","
                 "\"390\":\"16000\"}}},"
                 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"deductible\":{\"param\":\"th\"},\"ratio\":\"80%\",\"cap\":\"1000000\"}]",
     "profile.ded@responsibilities[0].deductible", "16000.00 元（参数“th”，险种 390）"},
    {"parameter, all within", DED,
     HEAD PREM89 "\"parameters\":{\"th\":{\"name\":\"大病起付线\",\"value\":\"15000\",\"by_"
                 "scheme\":{\"310\":\"12000\"}}},"
                 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"deductible\":{\"param\":\"th\"},\"ratio\":\"80%\",\"cap\":\"1000000\"}]",
     "", NULL},
    {"variant replaces the deductible", DED,
     ONE("10000", "80%",
         "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},\"responsibility\":\"a\","
                    "\"deductible\":\"20000\",\"note\":\"既往症\"}]",
     "profile.ded@variants[0]", "既往症：责任“a”的起付线调整为 20000.00 元"},
    {"variant adds to the deductible", DED,
     ONE("14000", "80%", "1000000") ",\"variants\":[{\"when\":{\"age_min\":60},\"responsibility\":"
                                    "\"a\",\"deductible_delta\":\"2000\"}]",
     "profile.ded@variants[0]", "16000.00"},
    {"variant lowers a deductible above", DED,
     ONE("16000", "80%", "1000000") ",\"variants\":[{\"when\":{\"loyalty_years_min\":2},"
                                    "\"responsibility\":\"a\",\"deductible_delta\":\"-2000\"}]",
     "profile.ded@responsibilities[0].deductible", NULL},
    {"ratio variant is not a deductible variant", DED,
     ONE("15000", "80%", "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},"
                                    "\"responsibility\":\"a\",\"ratio\":\"40%\"}]",
     "", NULL},

    /* ratio_min */
    {"ratio at the limit", RATIO, ONE("0", "30%", "1000000"), "", NULL},
    {"ratio below", RATIO, ONE("0", "29.99%", "1000000"), "profile.ratio@responsibilities[0].ratio",
     "责任“a”赔付比例 29.99% 低于下限 30%（报销比例不低于30%）"},
    {"zero ratio band is not a ratio", RATIO,
     HEAD PREM89 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"bands\":[{\"from\":\"0\",\"to\":\"10000\",\"ratio\":\"0%\"},{\"from\":"
                 "\"10000\",\"ratio\":\"40%\"}],\"cap\":\"1000000\"}]",
     "", NULL},
    {"bands, the low one reported", RATIO,
     HEAD PREM89 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"bands\":[{\"from\":\"0\",\"to\":\"50000\",\"ratio\":\"20%\"},{\"from\":"
                 "\"50000\",\"to\":\"80000\",\"ratio\":\"25%\"},"
                 "{\"from\":\"80000\",\"ratio\":\"50%\"}],\"cap\":\"1000000\"}]",
     "profile.ratio@responsibilities[0].bands[0].ratio;profile.ratio@responsibilities[0].bands[1]."
     "ratio",
     "第 1 段赔付比例 20% 低于下限 30%"},
    {"one band not from zero", RATIO,
     HEAD PREM89 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"bands\":[{\"from\":\"1000\",\"ratio\":\"20%\"}],\"cap\":\"1000000\"}]",
     "profile.ratio@responsibilities[0].bands[0].ratio", NULL},
    {"variant replaces the ratio", RATIO,
     ONE("0", "70%", "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},"
                                "\"responsibility\":\"a\",\"ratio\":\"20%\",\"note\":\"既往症\"}]",
     "profile.ratio@variants[0]", "既往症：责任“a”赔付比例调整为 20%，低于下限 30%"},
    {"variant subtracts from the ratio", RATIO,
     ONE("0", "40%", "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},"
                                "\"responsibility\":\"a\",\"ratio_delta\":\"-15%\"}]",
     "profile.ratio@variants[0]", "25%"},
    {"variant raises a ratio below", RATIO,
     ONE("0", "25%", "1000000") ",\"variants\":[{\"when\":{\"loyalty_years_min\":3},"
                                "\"responsibility\":\"a\",\"ratio_delta\":\"+10%\"}]",
     "profile.ratio@responsibilities[0].ratio", NULL},
    {"excluding variant is not a ratio", RATIO,
     ONE("0", "70%", "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},"
                                "\"responsibility\":\"a\",\"excluded\":true}]",
     "", NULL},
    {"variant at 30% passes", RATIO,
     ONE("0", "70%", "1000000") ",\"variants\":[{\"when\":{\"preexisting\":true},"
                                "\"responsibility\":\"a\",\"ratio\":\"30%\"}]",
     "", NULL},

    /* cap_min total */
    {"total at the limit", CAPT, TWO("1000000", "1000000", ""), "", NULL},
    {"total below", CAPT, TWO("1000000", "999999.99", ""), "profile.cap@responsibilities",
     "一人全年最高可获赔付合计 1999999.99 元低于下限 2000000.00 元"},
    {"shared cap limits the sum", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "1000000") "," RESP("c", "preselfpay_amt", "0", "80%",
                             "400000") "],\"shared_caps\":[{\"id\":\"s\",\"amount\":\"1500000\","
                                       "\"members\":[\"a\",\"b\"]}]",
     "profile.cap@responsibilities", "1900000.00"},
    {"shared cap above the sum counts the sum", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "900000") "," RESP("c", "preselfpay_amt", "0", "80%",
                            "100000") "],\"shared_caps\":[{\"id\":\"s\",\"amount\":\"5000000\","
                                      "\"members\":[\"a\",\"b\"]}]",
     "", NULL},
    {"exclusive group counts the largest", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1500000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "1000000") "," RESP("c", "preselfpay_amt", "0", "80%",
                             "600000") "],\"exclusive\":[{\"id\":\"g\",\"members\":[\"b\",\"a\"]}]",
     "", NULL},
    {"exclusive group below", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1500000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "1000000") "," RESP("c", "preselfpay_amt", "0", "80%",
                             "400000") "],\"exclusive\":[{\"id\":\"g\",\"members\":[\"a\",\"b\"]}]",
     "profile.cap@responsibilities", "1900000.00"},
    /* members with own caps above the shared one: the shared cap binds */
    {"shared cap below its members' caps", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "5000000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "5000000") "],\"shared_caps\":[{\"id\":\"s\",\"amount\":\"1800000\",\"members\":[\"a\","
                    "\"b\"]}]",
     "profile.cap@responsibilities", "1800000.00"},
    {"lump sum counts amount x times", CAPT,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%",
                                   "1900000") ","
                                              "{\"id\":\"l\",\"name\":\"l\",\"kind\":\"lump_sum\","
                                              "\"amount\":\"50000\",\"max_times\":2}]",
     "", NULL},
    {"lump sum once is not enough", CAPT,
     HEAD PREM89 "\"responsibilities\":[" RESP(
         "a", "inscp_selfpay", "0", "80%",
         "1900000") ","
                    "{\"id\":\"l\",\"name\":\"l\",\"kind\":\"lump_sum\",\"amount\":\"50000\"}]",
     "profile.cap@responsibilities", "1950000.00"},
    {"variant excluding a responsibility", CAPT,
     TWO("1000000", "1000000",
         ",\"variants\":[{\"when\":{\"preexisting\":true},\"responsibility\":\"b\",\"excluded\":"
         "true,\"note\":\"既往症\"}]"),
     "profile.cap@variants[0]", "既往症：一人全年最高可获赔付合计降为 1000000.00 元"},
    {"variant lowering a cap", CAPT,
     TWO("1000000", "1000000",
         ",\"variants\":[{\"when\":{\"age_min\":80},\"responsibility\":\"a\",\"cap\":\"500000\"}]"),
     "profile.cap@variants[0]", "1500000.00"},
    {"cap parameter, one scheme below", CAPT,
     HEAD PREM89 "\"parameters\":{\"c\":{\"name\":\"限额\",\"by_scheme\":{\"310\":\"2000000\","
                 "\"390\":\"1000000\"}}},"
                 "\"responsibilities\":[{\"id\":\"a\",\"name\":\"a\",\"sources\":[{\"component\":"
                 "\"inscp_selfpay\"}],"
                 "\"ratio\":\"80%\",\"cap\":{\"param\":\"c\"}}]",
     "profile.cap@responsibilities", "1000000.00 元（险种 390）"},

    /* cap_min each */
    {"each at the limit", CAPE, TWO("1000000", "1000000", ""), "", NULL},
    {"each below", CAPE, TWO("1000000", "500000", ""), "profile.cape@responsibilities[1].cap",
     "责任“b”封顶线 500000.00 元低于下限 1000000.00 元"},
    {"each, shared cap below", CAPE,
     HEAD PREM89
     "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "2000000") "," RESP(
         "b", "fulamt_ownpay_amt", "0", "80%",
         "2000000") "],\"shared_caps\":[{\"id\":\"s\",\"amount\":\"800000\",\"members\":[\"a\","
                    "\"b\"]}]",
     "profile.cape@shared_caps[0].amount", "共享封顶线“s” 800000.00 元"},
    {"each, variant lowering a cap", CAPE,
     TWO("1000000", "1000000",
         ",\"variants\":[{\"when\":{\"age_min\":80},\"responsibility\":\"a\",\"cap\":\"500000\"}]"),
     "profile.cape@variants[0]", NULL},

    /* premium_avg_max */
    {"flat premium within", PREMB, ONE("0", "80%", "1000000"), "", NULL},
    {"upgraded rule skips a basic plan", PREMU,
     HEAD "\"premiums\":{\"bands\":[{\"amount\":\"250\"}]},\"responsibilities\":[" RESP(
         "a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},
    {"upgraded plan above", PREMU,
     HEAD "\"tier\":\"upgraded\",\"premiums\":{\"bands\":[{\"amount\":\"250\"}]},"
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.premu@premiums.bands[0].amount",
     "升级保障统一保费 250.00 元高于平均保费上限 200.00 元（升级保障平均保费不超过200元）"},
    {"basic rule skips an upgraded plan", PREMB,
     HEAD "\"tier\":\"upgraded\",\"premiums\":{\"bands\":[{\"amount\":\"150\"}]},"
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},
    {"bands without shares: the highest", PREMB,
     HEAD "\"premiums\":{\"bands\":[{\"age_max\":22,\"amount\":\"39\"},{\"age_min\":23,\"age_max\":"
          "59,\"amount\":\"89\"},"
          "{\"age_min\":60,\"amount\":\"139\"}]},\"responsibilities\":[" RESP(
              "a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.prem@premiums.bands[2].amount", "各档未载明参保人占比，按最高档保守判断"},
    {"weighted average within", PREMB,
     HEAD
     "\"premiums\":{\"bands\":[{\"age_max\":22,\"amount\":\"39\",\"expected_share\":\"30%\"},"
     "{\"age_min\":23,\"age_max\":59,\"amount\":\"89\",\"expected_share\":\"50%\"},"
     "{\"age_min\":60,\"amount\":\"139\",\"expected_share\":\"20%\"}]},\"responsibilities\":[" RESP(
         "a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},
    {"weighted average above", PREMB,
     HEAD
     "\"premiums\":{\"bands\":[{\"age_max\":22,\"amount\":\"39\",\"expected_share\":\"10%\"},"
     "{\"age_min\":23,\"age_max\":59,\"amount\":\"89\",\"expected_share\":\"50%\"},"
     "{\"age_min\":60,\"amount\":\"139\",\"expected_share\":\"40%\"}]},\"responsibilities\":[" RESP(
         "a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.prem@premiums.bands",
     "基础保障平均保费 104.00 元（按各档参保人占比加权）高于上限 100.00 元"},
    {"weighted average exactly at the limit", PREMB,
     HEAD
     "\"premiums\":{\"bands\":[{\"age_max\":40,\"amount\":\"100.01\",\"expected_share\":\"50%\"},"
     "{\"age_min\":41,\"amount\":\"99.99\",\"expected_share\":\"50%\"}]},\"responsibilities\":"
     "[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},
    {"weighted average a fraction of a fen above", PREMB,
     HEAD "\"premiums\":{\"bands\":[{\"age_max\":40,\"amount\":\"100.01\",\"expected_share\":\"50."
          "01%\"},"
          "{\"age_min\":41,\"amount\":\"99.99\",\"expected_share\":\"49.99%\"}]},"
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.prem@premiums.bands", "平均保费 100.000002 元"},
    {"incomplete shares: the highest", PREMB,
     HEAD "\"premiums\":{\"bands\":[{\"age_max\":40,\"amount\":\"80\",\"expected_share\":\"60%\"},"
          "{\"age_min\":41,\"amount\":\"120\"}]},\"responsibilities\":[" RESP(
              "a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.prem@premiums.bands[1].amount", "各档参保人占比不完整或合计不为100%"},

    /* loss_ratio_target_min */
    {"loss ratio missing", LOSS, ONE("0", "80%", "1000000"), "profile.loss@loss_ratio_target",
     "未载明目标赔付率"},
    {"loss ratio below", LOSS,
     HEAD "\"loss_ratio_target\":\"69.99%\"," PREM89
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.loss@loss_ratio_target", "目标赔付率 69.99% 低于下限 70%（满期赔付率不低于70%）"},
    {"loss ratio at the limit", LOSS,
     HEAD "\"loss_ratio_target\":\"70%\"," PREM89
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},

    /* term_years_min */
    {"term missing", TERM, ONE("0", "80%", "1000000"), "profile.term@term_years", "未载明承保期限"},
    {"term short", TERM,
     HEAD "\"term_years\":2," PREM89
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "profile.term@term_years", "承保期限 2 年少于 3 年"},
    {"term at the limit", TERM,
     HEAD "\"term_years\":3," PREM89
          "\"responsibilities\":[" RESP("a", "inscp_selfpay", "0", "80%", "1000000") "]",
     "", NULL},
};

static void test_profile__checks(void **state)
{
  struct buf plan_text = BUF_INIT(1 << 16), prof_text = BUF_INIT(1 << 16), got = BUF_INIT(1 << 16);
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(check_cases); i++) {
    const struct check_case *c = &check_cases[i];
    struct plan p;
    struct profile pr;
    struct seen s = {0};
    struct hmb_err err;
    enum hmb_status result;
    int violations = -1;

    print_message("case %zu: %s\n", i, c->name);
    hmb_err_init(&err);
    buf_reset(&plan_text);
    buf_reset(&prof_text);
    assert_int_equal(buf_addf(&plan_text, "%s}", c->plan), HMB_OK);
    assert_int_equal(buf_addf(&prof_text,
                              "{\"format\":\"hmb-profile/1\",\"id\":\"t\",\"name\":\"测试\","
                              "\"source\":\"test\",\"rules\":[%s]}",
                              c->rule),
                     HMB_OK);
    plan_init(&p);
    result = plan_parse_json(&p, plan_text.ptr, plan_text.len, NULL, print_problem, NULL, &err);
    if (result)
      print_message("plan: %s %s %s\n", err.code, err.field, err.message);
    assert_int_equal(result, HMB_OK);
    regprofile_init(&pr);
    result = regprofile_parse_json(&pr, prof_text.ptr, prof_text.len, &err);
    if (result)
      print_message("profile: %s %s %s\n", err.code, err.field, err.message);
    assert_int_equal(result, HMB_OK);

    assert_int_equal(regprofile_check(&pr, &p, collect, &s, &violations), HMB_OK);
    assert_int_equal(violations, s.n);
    seen_text(&s, &got);
    if (strcmp(got.ptr, c->expect)) {
      int k;
      for (k = 0; k < s.n && k < MAX_SEEN; k++)
        print_message("  got %s %s: %s\n", s.v[k].code, s.v[k].field, s.v[k].message);
    }
    assert_string_equal(got.ptr, c->expect);
    if (c->message) {
      assert_true(s.n > 0);
      if (!strstr(s.v[0].message, c->message))
        print_message("  message: %s\n", s.v[0].message);
      assert_non_null(strstr(s.v[0].message, c->message));
    }
    regprofile_release(&pr);
    plan_release(&p);
  }
  buf_release(&plan_text);
  buf_release(&prof_text);
  buf_release(&got);
}

/* ---- profile file errors ---- */

#define PHEAD "{\"format\":\"hmb-profile/1\",\"id\":\"t\",\"name\":\"n\",\"source\":\"s\","

static const struct {
  const char *text;
  enum hmb_status status;
  const char *code;
  const char *field;
} parse_cases[] = {
    {"[", HMB_INVALID, "profile.json", NULL},
    {"[]", HMB_INVALID, "profile.type", ""},
    {"{\"format\":\"hmb-profile/2\",\"id\":\"t\",\"name\":\"n\",\"source\":\"s\",\"rules\":[]}",
     HMB_INVALID, "profile.format", "format"},
    {PHEAD "\"rules\":[], \"extra\":1}", HMB_INVALID, "profile.unknown_key", "extra"},
    {PHEAD "\"rules\":[]}", HMB_INVALID, "profile.missing", "rules"},
    {"{\"format\":\"hmb-profile/1\",\"id\":\"t\",\"source\":\"s\",\"rules\":[" DED "]}",
     HMB_INVALID, "profile.missing", "name"},
    {PHEAD
     "\"rules\":[{\"id\":\"x\",\"check\":\"deductible_min\",\"amount\":\"1\",\"message\":\"m\"}]}",
     HMB_INVALID, "profile.check", "rules[0].check"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"deductible_max\",\"message\":\"m\"}]}",
     HMB_INVALID, "profile.missing", "rules[0].amount"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"deductible_max\",\"amount\":\"1\",\"ratio\":\"1%"
           "\",\"message\":\"m\"}]}",
     HMB_INVALID, "profile.param", "rules[0].ratio"},
    {PHEAD
     "\"rules\":[{\"id\":\"x\",\"check\":\"deductible_max\",\"amount\":15000,\"message\":\"m\"}]}",
     HMB_INVALID, "profile.type", "rules[0].amount"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"deductible_max\",\"amount\":\"1.234\",\"message\":"
           "\"m\"}]}",
     HMB_INVALID, "money.decimals", "rules[0].amount"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"ratio_min\",\"ratio\":\"30\",\"message\":\"m\"}]}",
     HMB_INVALID, NULL, "rules[0].ratio"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"cap_min\",\"amount\":\"1\",\"scope\":\"all\","
           "\"message\":\"m\"}]}",
     HMB_INVALID, "profile.enum", "rules[0].scope"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"premium_avg_max\",\"amount\":\"1\",\"tier\":"
           "\"gold\",\"message\":\"m\"}]}",
     HMB_INVALID, "profile.enum", "rules[0].tier"},
    {PHEAD
     "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":\"3\",\"message\":\"m\"}]}",
     HMB_INVALID, "profile.type", "rules[0].years"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":0,\"message\":\"m\"}]}",
     HMB_INVALID, "profile.range", "rules[0].years"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":3}]}", HMB_INVALID,
     "profile.missing", "rules[0].message"},
    {PHEAD "\"rules\":[" TERM "," TERM "]}", HMB_INVALID, "profile.duplicate_id", "rules[1].id"},
    {PHEAD
     "\"rules\":[{\"id\":\"Bad Id\",\"check\":\"term_years_min\",\"years\":3,\"message\":\"m\"}]}",
     HMB_INVALID, "profile.id", "rules[0].id"},
    {PHEAD "\"rules\":[{\"id\":\"a_rule_id_that_is_far_too_long_x\",\"check\":\"term_years_min\","
           "\"years\":3,\"message\":\"m\"}]}",
     HMB_INVALID, "profile.id_length", "rules[0].id"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":3,\"typo\":1,"
           "\"message\":\"m\"}]}",
     HMB_INVALID, "profile.unknown_key", "rules[0].typo"},
    {PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":3,\"message\":\"m\"}],"
           "\"rules\":[]}",
     HMB_INVALID, "profile.json", NULL},
    /* comments are allowed anywhere */
    {PHEAD "\"comment\":\"c\",\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\",\"years\":3,"
           "\"message\":\"m\","
           "\"years_comment\":\"c\",\"x_note\":1}]}",
     HMB_OK, NULL, NULL},
};

static void test_profile__parse_errors(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
    struct profile pr;
    struct hmb_err err;
    enum hmb_status result;
    print_message("parse case %zu\n", i);
    hmb_err_init(&err);
    regprofile_init(&pr);
    result = regprofile_parse_json(&pr, parse_cases[i].text, strlen(parse_cases[i].text), &err);
    if (result != parse_cases[i].status)
      print_message("  got %s %s %s\n", err.code, err.field, err.message);
    assert_int_equal(result, parse_cases[i].status);
    if (parse_cases[i].code)
      assert_string_equal(err.code, parse_cases[i].code);
    if (parse_cases[i].field)
      assert_string_equal(err.field, parse_cases[i].field);
    regprofile_release(&pr);
  }
}

static void test_profile__long_message(void **state)
{
  struct profile pr;
  struct hmb_err err;
  struct buf text = BUF_INIT(1 << 16);
  int i;
  (void)state;
  hmb_err_init(&err);
  assert_int_equal(buf_addstr(&text, PHEAD "\"rules\":[{\"id\":\"x\",\"check\":\"term_years_min\","
                                           "\"years\":3,\"message\":\""),
                   HMB_OK);
  for (i = 0; i < PROFILE_MESSAGE_MAX / 3 + 1; i++)
    assert_int_equal(buf_addstr(&text, "长"), HMB_OK);
  assert_int_equal(buf_addstr(&text, "\"}]}"), HMB_OK);
  regprofile_init(&pr);
  assert_int_equal(regprofile_parse_json(&pr, text.ptr, text.len, &err), HMB_INVALID);
  assert_string_equal(err.code, "profile.message_length");
  assert_string_equal(err.field, "rules[0].message");
  regprofile_release(&pr);
  buf_release(&text);
}

static void test_profile__vocabulary(void **state)
{
  int k;
  (void)state;
  for (k = 0; k < PROFILE__COUNT; k++) {
    assert_int_equal(regprofile_check_find(regprofile_check_name((enum profile_check_kind)k)), k);
    assert_int_not_equal(regprofile_check_params((enum profile_check_kind)k), 0);
  }
  assert_int_equal(regprofile_check_find("nope"), -1);
  assert_string_equal(regprofile_check_name(PROFILE__COUNT), "?");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_profile__vocabulary),
      cmocka_unit_test(test_profile__yunnan_rules),
      cmocka_unit_test(test_profile__load_named),
      cmocka_unit_test(test_profile__yunnan_vs_liaocheng),
      cmocka_unit_test(test_profile__shipped_plans),
      cmocka_unit_test(test_profile__yunnan_vs_others),
      cmocka_unit_test(test_profile__doc_patterns),
      cmocka_unit_test(test_profile__checks),
      cmocka_unit_test(test_profile__parse_errors),
      cmocka_unit_test(test_profile__long_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

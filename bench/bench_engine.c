/*
 * bench_engine: the pure claims engine, in memory, on one core.
 *
 * Generates N settlements of 聊惠保 2024 for N/7 people (same mix as
 * gen_settlements: mostly outpatient, ~9% inpatient with heavy tails, a few
 * with special-drug lines), then times adj_settle() over them in time order
 * with each person's state found by index. The peer run in the same process
 * is the cheapest loop that touches the same data: adding each settlement's
 * psn_part_amt into its person's slot. Usage: bench_engine [N] [plan]
 */
#include "compat.h"
#include "adjudicate.h"
#include "plan_json.h"

#include <time.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static hmb_fen heavy(int max_shift)
{
  int k = (int)(rnd() % (uint64_t)max_shift);
  return (hmb_fen)(rnd() % ((uint64_t)1 << k)) + 100;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000000;
  const char *plan_path = argc > 2 ? argv[2] : HMB_SOURCE_DIR "/plans/liaocheng-2024.json";
  size_t npeople = n / 7 + 1, i;
  struct plan p;
  struct hmb_err err;
  struct settlement *s;
  uint32_t *who;
  struct setl_line *lines;
  struct adj_terms terms;
  struct adj_person person = {390, 0, 0, 0, 40, NULL};
  char *states;
  size_t ssz;
  int64_t *peer;
  hmb_fen paid = 0, peer_sum = 0;
  double t0, t_engine, t_peer;
  int rep;

  hmb_err_init(&err);
  plan_init(&p);
  if (plan_load(&p, plan_path, NULL, NULL, &err)) {
    fprintf(stderr, "%s: %s %s\n", plan_path, err.field, err.message);
    return 2;
  }
  s = calloc(n, sizeof(*s));
  who = calloc(n, sizeof(*who));
  lines = calloc(n / 100 + 1, sizeof(*lines));
  if (!s || !who || !lines)
    return 2;
  for (i = 0; i < n; i++) {
    struct settlement *x = &s[i];
    uint64_t kind = rnd() % 1000;
    hmb_fen is, ps, fa, ol = 0, fund;
    settlement_init(x);
    snprintf(x->setl_id, sizeof(x->setl_id), "S%012zu", i);
    memcpy(x->mdtrt_id, x->setl_id, sizeof(x->setl_id));
    who[i] = (uint32_t)(rnd() % npeople);
    snprintf(x->psn_no, sizeof(x->psn_no), "P%010u", who[i]);
    x->insutype = rnd() % 3 ? 390 : 310;
    if (kind < 90) {
      x->med_type = 21;
      is = heavy(24);
      ps = heavy(21);
      fa = heavy(23);
      fund = is * 2;
    } else {
      x->med_type = kind < 700 ? 11 : kind < 850 ? 14 : 41;
      is = heavy(14);
      ps = heavy(10);
      fa = heavy(12);
      fund = is / 2;
    }
    x->fulamt_ownpay_amt = fa;
    x->overlmt_selfpay = ol;
    x->preselfpay_amt = ps;
    x->inscp_scp_amt = is + fund;
    x->fund_pay_sumamt = fund;
    x->medfee_sumamt = fa + ol + ps + is + fund;
    x->psn_part_amt = x->medfee_sumamt - fund;
    if (kind >= 995 && i / 100 < n / 100 + 1) {
      struct setl_line *l = &lines[i / 100];
      snprintf(l->med_list_codg, SETL_CODE_MAX, "XL01XL03A0010101%05zu", i % 100000);
      l->det_item_fee_sumamt = l->fulamt_ownpay_amt = fa;
      x->lines = l;
      x->nlines = 1;
    }
  }
  if (adj_terms_resolve(&p, &person, &terms, &err))
    return 2;
  ssz = adj_state_size(&p);
  states = calloc(npeople, ssz);
  peer = calloc(npeople, sizeof(int64_t));
  if (!states || !peer)
    return 2;

  printf("bench_engine: plan %s, %zu settlements, %zu people, 1 core\n", p.id, n, npeople);
  for (rep = 0; rep < 2; rep++) {
    struct adj_result res;
    for (i = 0; i < npeople; i++)
      adj_state_init(&p, (struct adj_state *)(states + i * ssz), &terms);
    memset(peer, 0, npeople * sizeof(int64_t));
    paid = peer_sum = 0;
    t0 = now();
    for (i = 0; i < n; i++) {
      struct adj_state *st = (struct adj_state *)(states + (size_t)who[i] * ssz);
      /* a batch knows its next people: fetch their states ahead */
      if (i + 8 < n)
        __builtin_prefetch(states + (size_t)who[i + 8] * ssz, 1);
      if (adj_settle(&p, &st, 1, 0, &s[i], 0, &res, &err)) {
        fprintf(stderr, "settle %s: %s\n", s[i].setl_id, err.message);
        return 2;
      }
      paid += res.payout;
    }
    t_engine = now() - t0;
    t0 = now();
    for (i = 0; i < n; i++) {
      peer[who[i]] += s[i].psn_part_amt;
      peer_sum += s[i].psn_part_amt;
    }
    t_peer = now() - t0;
    if (rep == 1) {
      /* The same engine on only the settlements that reach a responsibility
       * (inpatient stays and drug lines): no fast path for these. */
      size_t m = 0;
      double t_heavy;
      for (i = 0; i < npeople; i++)
        adj_state_init(&p, (struct adj_state *)(states + i * ssz), &terms);
      t0 = now();
      for (i = 0; i < n; i++) {
        struct adj_state *st;
        if (s[i].med_type != 21 && !s[i].nlines)
          continue;
        if (i + 64 < n)
          __builtin_prefetch(states + (size_t)who[i + 64] * ssz, 1);
        st = (struct adj_state *)(states + (size_t)who[i] * ssz);
        if (adj_settle(&p, &st, 1, 0, &s[i], 0, &res, &err))
          return 2;
        m++;
      }
      t_heavy = now() - t0;
      printf("engine on the %zu settlements that change a state: %.3f s, %.2f M/s/core\n", m,
             t_heavy, (double)m / t_heavy / 1e6);
    }
    if (rep == 1) {
      char t[HMB_MONEY_TEXT_MAX];
      money_format(paid, t);
      printf("engine: %.3f s, %.2f M settlements/s/core (paid %s yuan)\n", t_engine,
             (double)n / t_engine / 1e6, t);
      printf("peer (add psn_part_amt per person): %.3f s, %.2f M/s\n", t_peer,
             (double)n / t_peer / 1e6);
      printf("ratio engine/peer time: %.1fx; goal >= 5 M/s/core: %s\n", t_engine / t_peer,
             (double)n / t_engine >= 5e6 ? "met" : "NOT met");
    }
  }
  (void)peer_sum;
  free(states);
  free(peer);
  free(s);
  free(who);
  free(lines);
  plan_release(&p);
  return 0;
}

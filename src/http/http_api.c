#include "compat.h"
#include "http_api.h"
#include "http_json.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define KEY_CACHE_SLOTS 16
#define KEY_MAX         128 /* longer keys are refused without a lookup */
#define PARAM_MAX       64  /* a path parameter (ids of the API are shorter) */

#define JSON_TYPE       "application/json; charset=utf-8"
#define METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"

#define R_OPERATOR      (1u << ROLE_OPERATOR)
#define R_HOSPITAL      (1u << ROLE_HOSPITAL)
#define R_BUREAU        (1u << ROLE_BUREAU)
#define R_SPONSOR       (1u << ROLE_SPONSOR)
#define R_ANY           (R_OPERATOR | R_HOSPITAL | R_BUREAU | R_SPONSOR)

struct key_slot {
  char key[KEY_MAX];
  size_t len;
  struct store_key who;
  uint64_t until_ms; /* 0: empty */
};

struct http_api {
  struct svc *svc;
  char *plans_dir;
  pthread_mutex_t keys_mu;
  struct key_slot keys[KEY_CACHE_SLOTS];
  unsigned next_slot;
  _Atomic uint64_t by_class[6]; /* [0] other, [1..5] 1xx..5xx */
};

/* One routed call: the request, who made it and the path parameters. */
struct call {
  struct http_api *api;
  struct http_req *r;
  const struct store_key *who; /* NULL on routes without a key */
  char p[2][PARAM_MAX];
};

typedef enum http_api_next (*handler_fn)(struct call *c);

struct route {
  const char *method;
  const char *pattern; /* segments; "{name}" matches one; also the log template */
  unsigned roles;      /* 0: no key needed */
  handler_fn fn;
};

/* ---- requests and responses ---- */

void http_req_init(struct http_req *r)
{
  memset(r, 0, sizeof(*r));
  buf_init(&r->resp, HTTP_API_RESP_MAX);
  buf_init(&r->job_body, HTTP_API_JSON_MAX);
  buf_init(&r->job.response, HTTP_API_RESP_MAX);
  r->content_type = JSON_TYPE;
  r->route = "(unknown)";
}

void http_req_release(struct http_req *r)
{
  buf_release(&r->resp);
  buf_release(&r->job_body);
  buf_release(&r->job.response);
}

void http_api_fail(struct http_req *r, int status, const char *code, const char *field,
                   const char *message)
{
  struct hmb_err err;

  hmb_err_init(&err);
  hmb_err_set(&err, HMB_INVALID, code, field, "%s", message);
  buf_reset(&r->resp);
  r->status = status;
  r->content_type = JSON_TYPE;
  r->replay = false;
  if (http_json_error(&r->resp, &err)) {
    /* Only an allocation failure gets here: answer without a body. */
    buf_release(&r->resp);
  }
}

/* Answer a service error: its own status mapping, its own err. */
static enum http_api_next fail_err(struct http_req *r, enum hmb_status st,
                                   const struct hmb_err *err)
{
  buf_reset(&r->resp);
  r->status = svc_http_status(st);
  r->content_type = JSON_TYPE;
  r->replay = false;
  if (!err->code[0]) {
    struct hmb_err e;
    hmb_err_init(&e);
    hmb_err_set(&e, st, hmb_status_name(st), "", "服务内部错误（%s）", hmb_status_name(st));
    http_json_error(&r->resp, &e);
  } else {
    http_json_error(&r->resp, err);
  }
  return HTTP_API_RESPOND;
}

static enum http_api_next ok(struct http_req *r, int status, enum hmb_status built)
{
  if (built) {
    http_api_fail(r, 503, "server.nomem", NULL, "服务器内存不足，请稍后重试");
    return HTTP_API_RESPOND;
  }
  r->status = status;
  return HTTP_API_RESPOND;
}

void http_api_count(struct http_api *api, int status)
{
  unsigned cls = status >= 100 && status < 600 ? (unsigned)(status / 100) : 0;
  atomic_fetch_add_explicit(&api->by_class[cls], 1, memory_order_relaxed);
}

/* ---- setup ---- */

enum hmb_status http_api_new(struct http_api **out, struct svc *svc, const char *plans_dir,
                             struct hmb_err *err)
{
  struct http_api *api = hmb_calloc(1, sizeof(*api));

  *out = NULL;
  if (!api)
    return hmb_err_set(err, HMB_NOMEM, "server.nomem", NULL, "内存不足");
  api->plans_dir = hmb_strndup(plans_dir, strlen(plans_dir));
  if (!api->plans_dir) {
    free(api);
    return hmb_err_set(err, HMB_NOMEM, "server.nomem", NULL, "内存不足");
  }
  api->svc = svc;
  pthread_mutex_init(&api->keys_mu, NULL);
  *out = api;
  return HMB_OK;
}

void http_api_free(struct http_api *api)
{
  if (!api)
    return;
  pthread_mutex_destroy(&api->keys_mu);
  /* The cache holds secrets: wipe them before the memory is reused. */
  memset(api->keys, 0, sizeof(api->keys));
  free(api->plans_dir);
  free(api);
}

/* ---- authentication ---- */

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Compare without an early exit, so timing does not reveal a prefix. */
static bool same_key(const char *a, const char *b, size_t n)
{
  unsigned char d = 0;
  size_t i;
  for (i = 0; i < n; i++)
    d |= (unsigned char)(a[i] ^ b[i]);
  return !d;
}

static bool cache_get(struct http_api *api, const char *key, size_t len, struct store_key *out)
{
  uint64_t now = now_ms();
  bool hit = false;
  size_t i;

  pthread_mutex_lock(&api->keys_mu);
  for (i = 0; i < KEY_CACHE_SLOTS; i++) {
    struct key_slot *s = &api->keys[i];
    if (s->until_ms > now && s->len == len && same_key(s->key, key, len)) {
      *out = s->who;
      hit = true;
      break;
    }
  }
  pthread_mutex_unlock(&api->keys_mu);
  return hit;
}

static void cache_put(struct http_api *api, const char *key, size_t len,
                      const struct store_key *who)
{
  struct key_slot *s;

  pthread_mutex_lock(&api->keys_mu);
  s = &api->keys[api->next_slot++ % KEY_CACHE_SLOTS];
  memcpy(s->key, key, len);
  s->len = len;
  s->who = *who;
  s->until_ms = now_ms() + HTTP_API_KEY_CACHE_MS;
  pthread_mutex_unlock(&api->keys_mu);
}

/* Who holds the request's key; on failure the response is set. */
static bool authenticate(struct http_api *api, struct http_req *r, struct store_key *who)
{
  struct hmb_err err;
  enum hmb_status result;

  if (!r->key || !r->key_len) {
    http_api_fail(r, 401, "auth.missing", "X-API-Key", "缺少 API 密钥（请求头 X-API-Key）");
    return false;
  }
  if (r->key_len >= KEY_MAX) {
    http_api_fail(r, 401, "auth.key", "X-API-Key", "API 密钥无效或已吊销");
    return false;
  }
  if (cache_get(api, r->key, r->key_len, who))
    return true;
  hmb_err_init(&err);
  result = svc_key_check(api->svc, r->key, r->key_len, who, &err);
  if (result == HMB_NOT_FOUND) {
    http_api_fail(r, 401, "auth.key", "X-API-Key", "API 密钥无效或已吊销");
    return false;
  }
  if (result) {
    fail_err(r, result, &err);
    return false;
  }
  cache_put(api, r->key, r->key_len, who);
  return true;
}

/* ---- small helpers ---- */

static const char *const channel_names[] = {
    [CH_ONLINE] = "online",
    [CH_COUNTER] = "counter",
    [CH_PERSONAL_ACCOUNT] = "personal_account",
    [CH_EMPLOYER] = "employer",
    [CH_SPONSOR] = "sponsor",
    [CH_FREE] = "free",
};

static enum hmb_status parse_channel(json_t *obj, bool required, int *out, struct hmb_err *err)
{
  const char *s;
  enum hmb_status result = http_json_str(obj, "channel", required, 32, &s, err);
  size_t i;

  if (result || !s)
    return result;
  for (i = 1; i < ARRAY_SIZE(channel_names); i++) {
    if (!strcmp(s, channel_names[i])) {
      *out = (int)i;
      return HMB_OK;
    }
  }
  return hmb_err_set(err, HMB_INVALID, "enroll.channel", "channel",
                     "渠道应为 online、counter、personal_account、employer、sponsor 或 free");
}

static enum http_api_next json_body(struct call *c, json_t **obj, const char *const *keys)
{
  struct hmb_err err;
  enum hmb_status result;

  hmb_err_init(&err);
  result = http_json_object(c->r->body, c->r->body_len, obj, &err);
  if (!result && keys)
    result = http_json_only(*obj, keys, &err);
  if (result) {
    if (*obj)
      json_decref(*obj);
    *obj = NULL;
    return fail_err(c->r, result, &err);
  }
  return HTTP_API_RESPOND;
}

static enum http_api_next enrollment_answer(struct call *c, int status,
                                            const struct store_enrollment *e)
{
  return ok(c->r, status, svc_enrollment_json(e, &c->r->resp));
}

/* ---- handlers ---- */

static enum http_api_next h_health(struct call *c)
{
  return ok(c->r, 200, buf_addstr(&c->r->resp, "{\"status\":\"ok\"}\n"));
}

static enum http_api_next h_metrics(struct call *c)
{
  struct svc_stats st;
  struct buf *o = &c->r->resp;
  enum hmb_status result = HMB_OK;
  static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  static const struct {
    const char *name, *help;
    size_t off;
  } ctr[] = {
      {"hmb_settle_jobs_total", "Settlement jobs run by the writer.",
       offsetof(struct svc_stats, jobs)},
      {"hmb_settled_total", "Settlements accepted.", offsetof(struct svc_stats, settled)},
      {"hmb_reversed_total", "Reversals accepted.", offsetof(struct svc_stats, reversed)},
      {"hmb_trials_total", "Trial settlements computed.", offsetof(struct svc_stats, trials)},
      {"hmb_repeated_total", "Requests answered from a stored record.",
       offsetof(struct svc_stats, repeated)},
      {"hmb_rejected_total", "Settlement jobs refused.", offsetof(struct svc_stats, rejected)},
      {"hmb_commit_groups_total", "Group commits.", offsetof(struct svc_stats, groups)},
  };
  size_t i;

  svc_stats(c->api->svc, &st);
  c->r->content_type = METRICS_TYPE;
  for (i = 0; i < ARRAY_SIZE(ctr) && !result; i++) {
    uint64_t v;
    memcpy(&v, (const char *)&st + ctr[i].off, sizeof(v));
    result = buf_addf(o, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", ctr[i].name,
                      ctr[i].help, ctr[i].name, ctr[i].name, v);
  }
  if (!result)
    result =
        buf_addf(o,
                 "# HELP hmb_settle_queue_max Longest settlement queue seen.\n"
                 "# TYPE hmb_settle_queue_max gauge\nhmb_settle_queue_max %" PRIu64 "\n"
                 "# HELP hmb_commit_seconds_total Time spent in group commits.\n"
                 "# TYPE hmb_commit_seconds_total counter\n"
                 "hmb_commit_seconds_total %" PRIu64 ".%09" PRIu64 "\n"
                 "# HELP hmb_http_responses_total HTTP responses by status class.\n"
                 "# TYPE hmb_http_responses_total counter\n",
                 st.queue_max, st.commit_ns_total / 1000000000u, st.commit_ns_total % 1000000000u);
  for (i = 0; i < ARRAY_SIZE(cls) && !result; i++)
    result = buf_addf(o, "hmb_http_responses_total{class=\"%s\"} %" PRIu64 "\n", cls[i],
                      atomic_load_explicit(&c->api->by_class[i], memory_order_relaxed));
  return ok(c->r, 200, result);
}

static enum http_api_next h_plans_get(struct call *c)
{
  return ok(c->r, 200, svc_plans_json(c->api->svc, &c->r->resp));
}

static enum http_api_next h_plans_post(struct call *c)
{
  struct buf id = BUF_INIT(PLAN_ID_MAX * 2);
  struct hmb_err err;
  enum hmb_status result;
  enum http_api_next next;

  hmb_err_init(&err);
  result = svc_plan_add(c->api->svc, c->r->body, c->r->body_len, c->api->plans_dir, &id, &err);
  if (result) {
    buf_release(&id);
    return fail_err(c->r, result, &err);
  }
  result = buf_addstr(&c->r->resp, "{\"plan_id\":");
  if (!result)
    result = buf_add_json_str(&c->r->resp, id.ptr, id.len);
  if (!result)
    result = buf_addstr(&c->r->resp, "}\n");
  next = ok(c->r, 201, result);
  buf_release(&id);
  return next;
}

static enum http_api_next h_roster(struct call *c)
{
  struct svc_import_report rep;
  struct hmb_err err;
  enum hmb_status result;
  struct buf *o = &c->r->resp;

  hmb_err_init(&err);
  svc_import_report_init(&rep);
  result = svc_roster_import(c->api->svc, "roster.csv", c->r->body, c->r->body_len, &rep, &err);
  if (result) {
    svc_import_report_release(&rep);
    return fail_err(c->r, result, &err);
  }
  result = buf_addf(
      o,
      "{\"rows\":%" PRId64 ",\"accepted\":%" PRId64 ",\"inserted\":%" PRId64 ",\"updated\":%" PRId64
      ",\"status_changes\":%" PRId64 ",\"rejected\":%" PRId64 ",\"errors\":",
      rep.rows, rep.accepted, rep.inserted, rep.updated, rep.status_changes, rep.rejected);
  if (!result)
    result = rep.errors_json.len ? buf_add(o, rep.errors_json.ptr, rep.errors_json.len)
                                 : buf_addstr(o, "[]");
  if (!result)
    result = buf_addstr(o, "}\n");
  svc_import_report_release(&rep);
  return ok(c->r, 200, result);
}

static enum http_api_next h_enroll(struct call *c)
{
  static const char *const keys[] = {"plan_id", "psn_no", "channel",     "payer", "group",
                                     "date",    "pay",    "preexisting", NULL};
  struct svc_enroll_req req;
  struct store_enrollment e;
  struct hmb_err err;
  enum hmb_status result;
  int64_t pre = -1;
  json_t *obj = NULL;
  enum http_api_next next;

  next = json_body(c, &obj, keys);
  if (!obj)
    return next;
  memset(&req, 0, sizeof(req));
  req.channel = CH_ONLINE;
  hmb_err_init(&err);
  result = http_json_str(obj, "plan_id", true, PLAN_ID_MAX, &req.plan_id, &err);
  if (!result)
    result = http_json_str(obj, "psn_no", true, SETL_ID_MAX, &req.psn_no, &err);
  if (!result)
    result = parse_channel(obj, false, &req.channel, &err);
  if (!result)
    result = http_json_str(obj, "payer", false, SETL_ID_MAX, &req.payer, &err);
  if (!result)
    result = http_json_str(obj, "group", false, PLAN_ID_MAX, &req.group, &err);
  if (!result)
    result = http_json_date(obj, "date", &req.on, &err);
  if (!result)
    result = http_json_int(obj, "preexisting", -1, 1, &pre, &err);
  if (!result)
    result = http_json_bool(obj, "pay", &req.pay, &err);
  if (result) {
    json_decref(obj);
    return fail_err(c->r, result, &err);
  }
  req.preexisting = (int)pre;
  if (c->who->role == ROLE_SPONSOR) {
    /* A sponsor spends only its own budget. */
    if (req.channel != CH_SPONSOR || (req.payer && strcmp(req.payer, c->who->sponsor))) {
      json_decref(obj);
      http_api_fail(c->r, 403, "auth.sponsor", "channel",
                    "资助方密钥只能以 sponsor 渠道、用本资助方的预算办理参保");
      return HTTP_API_RESPOND;
    }
    req.payer = c->who->sponsor;
    req.only_sponsor = c->who->sponsor;
  }
  memset(&e, 0, sizeof(e));
  result = svc_enroll(c->api->svc, &req, &e, &err);
  json_decref(obj);
  if (result)
    return fail_err(c->r, result, &err);
  return enrollment_answer(c, 201, &e);
}

static enum http_api_next h_enrollment_get(struct call *c)
{
  struct store_enrollment e;
  struct hmb_err err;
  enum hmb_status result;

  hmb_err_init(&err);
  memset(&e, 0, sizeof(e));
  result = svc_enrollment_get(c->api->svc, c->p[0], &e, &err);
  if (result)
    return fail_err(c->r, result, &err);
  return enrollment_answer(c, 200, &e);
}

static enum http_api_next h_pay(struct call *c)
{
  static const char *const keys[] = {"amount", "channel", "payer", NULL};
  struct store_enrollment e;
  struct hmb_err err;
  enum hmb_status result;
  hmb_fen amount = 0;
  bool present;
  int channel = CH_ONLINE;
  const char *payer = NULL;
  json_t *obj = NULL;
  enum http_api_next next;

  next = json_body(c, &obj, keys);
  if (!obj)
    return next;
  hmb_err_init(&err);
  result =
      http_json_money(obj, c->r->body, c->r->body_len, "amount", true, &amount, &present, &err);
  if (!result)
    result = parse_channel(obj, false, &channel, &err);
  if (!result)
    result = http_json_str(obj, "payer", false, SETL_ID_MAX, &payer, &err);
  if (!result) {
    memset(&e, 0, sizeof(e));
    result = svc_pay(c->api->svc, c->p[0], channel, payer, amount, &e, &err);
  }
  json_decref(obj);
  if (result)
    return fail_err(c->r, result, &err);
  return enrollment_answer(c, 200, &e);
}

static enum http_api_next h_cancel(struct call *c)
{
  static const char *const keys[] = {"date", NULL};
  struct store_enrollment e;
  struct hmb_err err;
  enum hmb_status result = HMB_OK;
  hmb_date on = 0;
  json_t *obj = NULL;

  hmb_err_init(&err);
  /* An empty body cancels as of today. */
  if (c->r->body_len) {
    enum http_api_next next = json_body(c, &obj, keys);
    if (!obj)
      return next;
    result = http_json_date(obj, "date", &on, &err);
    json_decref(obj);
  }
  if (!result) {
    memset(&e, 0, sizeof(e));
    result = svc_cancel(c->api->svc, c->p[0], on, &e, &err);
  }
  if (result)
    return fail_err(c->r, result, &err);
  return enrollment_answer(c, 200, &e);
}

static enum http_api_next sponsor_answer(struct call *c, const struct store_sponsor *sp)
{
  struct buf *o = &c->r->resp;
  enum hmb_status result;

  result = buf_addstr(o, "{\"id\":");
  if (!result)
    result = buf_add_json_str(o, sp->id, strlen(sp->id));
  if (!result)
    result = buf_addstr(o, ",\"name\":");
  if (!result)
    result = buf_add_json_str(o, sp->name, strlen(sp->name));
  if (!result)
    result = buf_addstr(o, ",\"budget\":\"");
  if (!result)
    result = buf_add_money(o, sp->budget);
  if (!result)
    result = buf_addstr(o, "\",\"spent\":\"");
  if (!result)
    result = buf_add_money(o, sp->spent);
  if (!result)
    result = buf_addstr(o, "\",\"remaining\":\"");
  if (!result)
    result = buf_add_money(o, sp->budget - sp->spent);
  if (!result)
    result = buf_addstr(o, "\"}\n");
  return ok(c->r, 200, result);
}

static enum http_api_next h_sponsor_put(struct call *c)
{
  static const char *const keys[] = {"name", "budget", NULL};
  struct store_sponsor sp;
  struct hmb_err err;
  enum hmb_status result;
  const char *name = NULL;
  bool present;
  json_t *obj = NULL;
  enum http_api_next next;

  next = json_body(c, &obj, keys);
  if (!obj)
    return next;
  memset(&sp, 0, sizeof(sp));
  hmb_err_init(&err);
  result = http_json_str(obj, "name", true, sizeof(sp.name), &name, &err);
  if (!result)
    result = http_json_money(obj, c->r->body, c->r->body_len, "budget", true, &sp.budget, &present,
                             &err);
  if (!result) {
    snprintf(sp.id, sizeof(sp.id), "%s", c->p[0]);
    snprintf(sp.name, sizeof(sp.name), "%s", name);
    result = svc_sponsor_put(c->api->svc, &sp, &err);
  }
  json_decref(obj);
  if (!result)
    result = svc_sponsor_get(c->api->svc, c->p[0], &sp, &err);
  if (result)
    return fail_err(c->r, result, &err);
  return sponsor_answer(c, &sp);
}

static enum http_api_next h_sponsor_get(struct call *c)
{
  struct store_sponsor sp;
  struct hmb_err err;
  enum hmb_status result;

  if (c->who->role == ROLE_SPONSOR && strcmp(c->who->sponsor, c->p[0])) {
    http_api_fail(c->r, 403, "auth.sponsor", "id", "资助方密钥只能查询本资助方的预算");
    return HTTP_API_RESPOND;
  }
  hmb_err_init(&err);
  memset(&sp, 0, sizeof(sp));
  result = svc_sponsor_get(c->api->svc, c->p[0], &sp, &err);
  if (result)
    return fail_err(c->r, result, &err);
  return sponsor_answer(c, &sp);
}

static enum http_api_next job(struct call *c, enum svc_op op, const char *body, size_t len)
{
  c->r->job.op = op;
  c->r->job.body = body;
  c->r->job.len = len;
  c->r->job_queued = true;
  return HTTP_API_JOB;
}

static enum http_api_next h_trial(struct call *c)
{
  return job(c, SVC_TRIAL, c->r->body, c->r->body_len);
}

static enum http_api_next h_settle(struct call *c)
{
  return job(c, SVC_SETTLE, c->r->body, c->r->body_len);
}

static enum http_api_next h_reverse(struct call *c)
{
  static const char *const keys[] = {"psn_no", "setl_id", "txn", NULL};
  struct hmb_err err;
  enum hmb_status result;
  const char *psn_no = NULL, *setl_id = NULL;
  struct buf *b = &c->r->job_body;
  json_t *obj = NULL;
  enum http_api_next next;

  next = json_body(c, &obj, keys);
  if (!obj)
    return next;
  hmb_err_init(&err);
  result = http_json_str(obj, "psn_no", true, SETL_ID_MAX, &psn_no, &err);
  if (!result)
    result = http_json_str(obj, "setl_id", false, SETL_ID_MAX, &setl_id, &err);
  if (!result && setl_id && strcmp(setl_id, c->p[0]))
    result = hmb_err_set(&err, HMB_INVALID, "setl.id_mismatch", "setl_id",
                         "请求体中的 setl_id 与路径中的不一致");
  if (result) {
    json_decref(obj);
    return fail_err(c->r, result, &err);
  }
  /* The shape setl_parse_json_line() reads as a reversal (txn 2208). */
  result = buf_addstr(b, "{\"setl_id\":");
  if (!result)
    result = buf_add_json_str(b, c->p[0], strlen(c->p[0]));
  if (!result)
    result = buf_addstr(b, ",\"psn_no\":");
  if (!result)
    result = buf_add_json_str(b, psn_no, strlen(psn_no));
  if (!result)
    result = buf_addstr(b, ",\"txn\":\"2208\"}");
  json_decref(obj);
  if (result)
    return ok(c->r, 503, result);
  return job(c, SVC_REVERSE, b->ptr, b->len);
}

static enum http_api_next h_setl_get(struct call *c)
{
  struct hmb_err err;
  enum hmb_status result;

  hmb_err_init(&err);
  result = svc_setl_json(c->api->svc, c->p[0], &c->r->resp, &err);
  if (result)
    return fail_err(c->r, result, &err);
  return ok(c->r, 200, HMB_OK);
}

static enum http_api_next h_person(struct call *c)
{
  struct hmb_err err;
  enum hmb_status result;

  hmb_err_init(&err);
  result = svc_person_json(c->api->svc, c->p[0], &c->r->resp, &err);
  if (result)
    return fail_err(c->r, result, &err);
  return ok(c->r, 200, HMB_OK);
}

/* ---- routing ---- */

/* Literal routes come before the parameterised ones they overlap. */
static const struct route routes[] = {
    {"GET", "/health", 0, h_health},
    {"GET", "/metrics", 0, h_metrics},
    {"GET", "/v1/plans", R_ANY, h_plans_get},
    {"POST", "/v1/plans", R_OPERATOR, h_plans_post},
    {"POST", "/v1/roster", R_OPERATOR | R_BUREAU, h_roster},
    {"POST", "/v1/enrollments", R_OPERATOR | R_SPONSOR, h_enroll},
    {"GET", "/v1/enrollments/{policy_no}", R_OPERATOR | R_BUREAU, h_enrollment_get},
    {"POST", "/v1/enrollments/{policy_no}/payments", R_OPERATOR, h_pay},
    {"POST", "/v1/enrollments/{policy_no}/cancel", R_OPERATOR, h_cancel},
    {"PUT", "/v1/sponsors/{id}", R_OPERATOR, h_sponsor_put},
    {"GET", "/v1/sponsors/{id}", R_OPERATOR | R_SPONSOR, h_sponsor_get},
    {"POST", "/v1/settlements/trial", R_OPERATOR | R_HOSPITAL, h_trial},
    {"POST", "/v1/settlements", R_OPERATOR | R_HOSPITAL, h_settle},
    {"POST", "/v1/settlements/{setl_id}/reversal", R_OPERATOR | R_HOSPITAL, h_reverse},
    {"GET", "/v1/settlements/{setl_id}", R_OPERATOR | R_HOSPITAL | R_BUREAU, h_setl_get},
    {"GET", "/v1/persons/{psn_no}", R_OPERATOR | R_BUREAU, h_person},
};

static bool param_ok(const char *s, size_t n)
{
  size_t i;
  if (!n || n >= PARAM_MAX)
    return false;
  for (i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          ch == '-' || ch == '_' || ch == '.'))
      return false;
  }
  return true;
}

/*
 * Match url against pattern segment by segment; "{name}" takes one
 * segment into c->p. A parameter that is not a plausible id makes the
 * path unknown (404) rather than reach the service.
 */
static bool match(const char *pattern, const char *url, struct call *c)
{
  const char *p = pattern, *u = url;
  int np = 0;

  while (*p && *u) {
    const char *pe, *ue;
    if (*p != '/' || *u != '/')
      return false;
    p++;
    u++;
    pe = strchr(p, '/');
    ue = strchr(u, '/');
    if (!pe)
      pe = p + strlen(p);
    if (!ue)
      ue = u + strlen(u);
    if (*p == '{') {
      size_t n = (size_t)(ue - u);
      if (np == 2 || !param_ok(u, n))
        return false;
      memcpy(c->p[np], u, n);
      c->p[np][n] = '\0';
      np++;
    } else if (pe - p != ue - u || memcmp(p, u, (size_t)(pe - p))) {
      return false;
    }
    p = pe;
    u = ue;
  }
  /* A trailing slash is not a different resource. */
  if (!*p && u[0] == '/' && !u[1])
    return true;
  return !*p && !*u;
}

size_t http_api_body_limit(const char *method, const char *url)
{
  if (!strcmp(method, "POST") && !strcmp(url, "/v1/roster"))
    return HTTP_API_CSV_MAX;
  return HTTP_API_JSON_MAX;
}

enum http_api_next http_api_dispatch(struct http_api *api, struct http_req *r)
{
  struct call c;
  struct store_key who;
  const struct route *found = NULL;
  bool path_known = false;
  size_t i;

  memset(&c, 0, sizeof(c));
  c.api = api;
  c.r = r;
  for (i = 0; i < ARRAY_SIZE(routes); i++) {
    if (!match(routes[i].pattern, r->url, &c))
      continue;
    path_known = true;
    r->route = routes[i].pattern;
    if (!strcmp(routes[i].method, r->method)) {
      found = &routes[i];
      break;
    }
  }
  if (!found) {
    if (path_known)
      http_api_fail(r, 405, "http.method", NULL, "该路径不支持此请求方法");
    else
      http_api_fail(r, 404, "http.not_found", NULL, "没有这个接口");
    return HTTP_API_RESPOND;
  }
  if (found->roles) {
    memset(&who, 0, sizeof(who));
    if (!authenticate(api, r, &who))
      return HTTP_API_RESPOND;
    if (who.role < ROLE_OPERATOR || who.role > ROLE_SPONSOR || !(found->roles & (1u << who.role))) {
      http_api_fail(r, 403, "auth.forbidden", NULL, "此 API 密钥的角色无权调用该接口");
      return HTTP_API_RESPOND;
    }
    c.who = &who;
  }
  return found->fn(&c);
}

void http_api_job_finish(struct http_api *api, struct http_req *r)
{
  (void)api;
  if (r->job.status) {
    fail_err(r, r->job.status, &r->job.err);
    return;
  }
  buf_release(&r->resp);
  r->resp = r->job.response;
  buf_init(&r->job.response, HTTP_API_RESP_MAX);
  r->status = 200;
  r->content_type = JSON_TYPE;
  r->replay = r->job.repeated;
}

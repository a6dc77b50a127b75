#include "compat.h"
#include "svc_int.h"

#include <jansson.h>
#include <sodium.h>
#include <time.h>

#include "plan_json.h"

/* ---- store handles ---- */

enum hmb_status svc_store_take(struct svc *svc, struct store **out, struct hmb_err *err)
{
  pthread_mutex_lock(&svc->pool_mu);
  if (svc->npool) {
    *out = svc->pool[--svc->npool];
    pthread_mutex_unlock(&svc->pool_mu);
    return HMB_OK;
  }
  pthread_mutex_unlock(&svc->pool_mu);
  return store_open(out, svc->db_url, err);
}

void svc_store_give(struct svc *svc, struct store *s)
{
  if (!s)
    return;
  pthread_mutex_lock(&svc->pool_mu);
  if (svc->npool < SVC_POOL_MAX) {
    svc->pool[svc->npool++] = s;
    s = NULL;
  }
  pthread_mutex_unlock(&svc->pool_mu);
  store_close(s);
}

enum hmb_status svc_read_begin(struct svc *svc, struct store **out, struct hmb_err *err)
{
  enum hmb_status result = svc_store_take(svc, out, err);
  if (result)
    return result;
  result = (*out)->ops->begin(*out, STORE_TX_READ, err);
  if (result) {
    svc_store_give(svc, *out);
    *out = NULL;
  }
  return result;
}

void svc_read_end(struct svc *svc, struct store *s)
{
  s->ops->rollback(s);
  svc_store_give(svc, s);
}

/* ---- status mapping ---- */

int svc_http_status(enum hmb_status st)
{
  switch (st) {
  case HMB_OK: return 200;
  case HMB_INVALID: return 400;
  case HMB_NOT_FOUND: return 404;
  case HMB_CONFLICT: return 409;
  case HMB_TOO_LARGE: return 413;
  case HMB_OVERFLOW: return 422;
  case HMB_UNSUPPORTED: return 501;
  case HMB_NOMEM:
  case HMB_IO: return 503;
  }
  return 500;
}

hmb_date svc_today(const struct svc *svc)
{
  /* China Standard Time, UTC+8 all year: the date a hospital window sees */
  if (svc->fixed_today)
    return svc->fixed_today;
  return (hmb_date)((time(NULL) + 8 * 3600) / 86400);
}

/* ---- plans ---- */

const struct plan *svc_plan(struct svc *svc, const char *plan_id)
{
  const struct plan *p;
  pthread_mutex_lock(&svc->plans_mu);
  p = NULL;
  for (int i = 0; i < svc->nplans; i++)
    if (!strcmp(svc->plans[i]->plan.id, plan_id)) {
      p = &svc->plans[i]->plan;
      break;
    }
  pthread_mutex_unlock(&svc->plans_mu);
  return p;
}

const struct plan *svc_plan_for(struct svc *svc, const char *admdvs, hmb_date day)
{
  struct svc *m = svc;
  const struct plan *found = NULL;
  pthread_mutex_lock(&m->plans_mu);
  for (int i = 0; i < m->nplans && !found; i++) {
    const struct plan *p = &m->plans[i]->plan;
    size_t n = (size_t)p->region_prefix_len;
    if (day >= p->cover_start && day <= p->cover_end && strlen(admdvs) >= n &&
        !memcmp(admdvs, p->region_code, n))
      found = p;
  }
  pthread_mutex_unlock(&m->plans_mu);
  return found;
}

/*
 * A stored plan must not depend on files beside it: replace every list's
 * "file" by its "codes" as loaded (prefixes get their '*' back).
 */
static enum hmb_status inline_lists(const struct plan *p, const char *text, size_t len,
                                    struct buf *out, struct hmb_err *err)
{
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *lists;
  const char *key;
  json_t *val;
  char *dump;
  if (!root)
    return hmb_err_set(err, HMB_INVALID, "json.syntax", "", "产品 JSON 格式错误：第 %d 行第 %d 列",
                       je.line, je.column);
  lists = json_object_get(root, "lists");
  json_object_foreach(lists, key, val)
  {
    int li = plan_find_list(p, key);
    json_t *codes;
    if (li < 0 || !json_object_get(val, "file"))
      continue;
    codes = json_array();
    for (size_t i = 0; i < p->lists[li].ncodes; i++)
      json_array_append_new(codes, json_string(p->lists[li].codes[i]));
    for (size_t i = 0; i < p->lists[li].nprefixes; i++) {
      char b[SETL_CODE_MAX + 2];
      snprintf(b, sizeof(b), "%s*", p->lists[li].prefixes[i]);
      json_array_append_new(codes, json_string(b));
    }
    json_object_del(val, "file");
    json_object_set_new(val, "codes", codes);
  }
  dump = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (!dump || buf_addstr(out, dump)) {
    free(dump);
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  }
  free(dump);
  return HMB_OK;
}

static enum hmb_status plan_adopt(struct svc *svc, const char *json, size_t len,
                                  const char *base_dir, struct svc_plan **out, struct hmb_err *err)
{
  struct svc_plan *sp = hmb_calloc(1, sizeof(*sp));
  enum hmb_status result;
  *out = NULL;
  (void)svc;
  if (!sp)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  plan_init(&sp->plan);
  result = plan_parse_json(&sp->plan, json, len, base_dir ? base_dir : ".", NULL, NULL, err);
  if (result) {
    plan_release(&sp->plan);
    free(sp);
    return result;
  }
  *out = sp;
  return HMB_OK;
}

static void plan_drop(struct svc_plan *sp)
{
  if (!sp)
    return;
  plan_release(&sp->plan);
  free(sp->json);
  free(sp);
}

enum hmb_status svc_plan_add(struct svc *svc, const char *json, size_t len, const char *base_dir,
                             struct buf *plan_id, struct hmb_err *err)
{
  struct svc_plan *sp = NULL;
  struct buf text = BUF_INIT(PLAN_FILE_MAX * 2), old = BUF_INIT(PLAN_FILE_MAX * 2);
  struct store *s = NULL;
  enum hmb_status result;
  const struct plan *have;
  char id[PLAN_ID_MAX];

  result = plan_adopt(svc, json, len, base_dir, &sp, err);
  if (result)
    return result;
  ASSERT(sp);
  snprintf(id, sizeof(id), "%s", sp->plan.id);
  if (sp->plan.draft) {
    result = hmb_err_set(err, HMB_INVALID, "plan.draft", "status",
                         "草案产品（status: draft）的数字未定，不能用于理赔");
    goto out;
  }
  result = inline_lists(&sp->plan, json, len, &text, err);
  if (result)
    goto out;
  have = svc_plan(svc, sp->plan.id);
  result = svc_store_take(svc, &s, err);
  if (result)
    goto out;
  result = s->ops->begin(s, STORE_TX_WRITE, err);
  if (result)
    goto out;
  result = s->ops->plan_get(s, sp->plan.id, &old, err);
  if (result == HMB_OK) {
    /* plans are immutable once stored: settlements were judged by them */
    s->ops->rollback(s);
    if (old.len == text.len && !memcmp(old.ptr, text.ptr, text.len))
      result = HMB_OK;
    else
      result =
          hmb_err_set(err, HMB_CONFLICT, "plan.exists", "id",
                      "产品 %s 已存在且内容不同：已生效的产品不可修改，请用新的 id", sp->plan.id);
    if (!result && !have)
      goto adopt; /* stored by another process: load it here too */
    goto out;
  }
  if (result != HMB_NOT_FOUND) {
    s->ops->rollback(s);
    goto out;
  }
  hmb_err_init(err);
  result = s->ops->plan_put(s, sp->plan.id, text.ptr, text.len, err);
  if (!result)
    result = s->ops->commit(s, err);
  if (result) {
    s->ops->rollback(s);
    goto out;
  }
adopt:
  pthread_mutex_lock(&svc->plans_mu);
  if (svc->nplans == SVC_MAX_PLANS) {
    pthread_mutex_unlock(&svc->plans_mu);
    result =
        hmb_err_set(err, HMB_TOO_LARGE, "plan.too_many", "", "产品数量超过上限 %d", SVC_MAX_PLANS);
    goto out;
  }
  sp->json = buf_detach(&text, NULL);
  svc->plans[svc->nplans++] = sp;
  pthread_mutex_unlock(&svc->plans_mu);
  sp = NULL;
out:
  if (!result && plan_id)
    buf_addstr(plan_id, id);
  svc_store_give(svc, s);
  plan_drop(sp);
  buf_release(&text);
  buf_release(&old);
  return result;
}

static enum hmb_status load_plans(struct svc *svc, struct store *s, struct hmb_err *err)
{
  struct buf ids = BUF_INIT(1 << 20), json = BUF_INIT(PLAN_FILE_MAX * 2);
  enum hmb_status result = s->ops->begin(s, STORE_TX_READ, err);
  char *p, *save = NULL;
  if (result)
    return result;
  result = s->ops->plan_ids(s, &ids, err);
  for (p = ids.len ? strtok_r(ids.ptr, ";", &save) : NULL; p && !result;
       p = strtok_r(NULL, ";", &save)) {
    struct svc_plan *sp;
    buf_reset(&json);
    result = s->ops->plan_get(s, p, &json, err);
    if (result)
      break;
    result = plan_adopt(svc, json.ptr, json.len, NULL, &sp, err);
    if (result) {
      hmb_err_prefix(err, p);
      break;
    }
    ASSERT(sp);
    if (svc->nplans == SVC_MAX_PLANS) {
      plan_drop(sp);
      result = hmb_err_set(err, HMB_TOO_LARGE, "plan.too_many", "", "产品数量超过上限");
      break;
    }
    sp->json = buf_detach(&json, NULL);
    svc->plans[svc->nplans++] = sp;
  }
  s->ops->rollback(s);
  buf_release(&ids);
  buf_release(&json);
  return result;
}

enum hmb_status svc_plans_json(struct svc *svc, struct buf *out)
{
  char d1[16], d2[16];
  pthread_mutex_lock(&svc->plans_mu);
  buf_addch(out, '[');
  for (int i = 0; i < svc->nplans; i++) {
    const struct plan *p = &svc->plans[i]->plan;
    date_format(p->cover_start, d1);
    date_format(p->cover_end, d2);
    if (i)
      buf_addch(out, ',');
    buf_addstr(out, "{\"id\":");
    buf_add_json_str(out, p->id, strlen(p->id));
    buf_addstr(out, ",\"name\":");
    buf_add_json_str(out, p->name ? p->name : "", p->name ? strlen(p->name) : 0);
    buf_addstr(out, ",\"city\":");
    buf_add_json_str(out, p->city ? p->city : "", p->city ? strlen(p->city) : 0);
    buf_addf(out,
             ",\"region_code\":\"%s\",\"year\":%d,\"coverage\":{\"start\":\"%s\",\"end\":\"%s\"}",
             p->region_code, p->year, d1, d2);
    buf_addstr(out, ",\"responsibilities\":[");
    for (int r = 0; r < p->nresp; r++) {
      if (r)
        buf_addch(out, ',');
      buf_add_json_str(out, p->resp[r].id, strlen(p->resp[r].id));
    }
    buf_addstr(out, "]}");
  }
  buf_addch(out, ']');
  pthread_mutex_unlock(&svc->plans_mu);
  return out->len ? HMB_OK : HMB_NOMEM;
}

/* ---- sponsors and keys ---- */

enum hmb_status svc_sponsor_put(struct svc *svc, const struct store_sponsor *sp,
                                struct hmb_err *err)
{
  struct store *s = NULL;
  struct store_sponsor cur;
  enum hmb_status result;
  if (!plan_valid_id(sp->id))
    return hmb_err_set(err, HMB_INVALID, "sponsor.id", "id",
                       "资助方 id 只能由小写字母、数字、_ 和 - 组成");
  if (sp->budget < 0)
    return hmb_err_set(err, HMB_INVALID, "sponsor.budget", "budget", "预算不能为负");
  result = svc_store_take(svc, &s, err);
  if (result)
    return result;
  result = s->ops->begin(s, STORE_TX_WRITE, err);
  if (!result) {
    result = s->ops->sponsor_get(s, sp->id, &cur, err);
    if (result == HMB_NOT_FOUND) {
      hmb_err_init(err);
      cur = *sp;
      cur.spent = 0;
      result = HMB_OK;
    } else if (!result) {
      if (sp->budget < cur.spent)
        result =
            hmb_err_set(err, HMB_CONFLICT, "sponsor.budget", "budget", "新预算低于已使用的金额");
      snprintf(cur.name, sizeof(cur.name), "%s", sp->name);
      cur.budget = sp->budget;
    }
    if (!result)
      result = s->ops->sponsor_put(s, &cur, err);
    if (!result)
      result = s->ops->commit(s, err);
    if (result)
      s->ops->rollback(s);
  }
  svc_store_give(svc, s);
  return result;
}

enum hmb_status svc_sponsor_get(struct svc *svc, const char *id, struct store_sponsor *out,
                                struct hmb_err *err)
{
  struct store *s = NULL;
  enum hmb_status result = svc_read_begin(svc, &s, err);
  if (result)
    return result;
  result = s->ops->sponsor_get(s, id, out, err);
  svc_read_end(svc, s);
  return result;
}

static void key_hash(const char *key, size_t len, uint8_t out[32])
{
  crypto_generichash(out, 32, (const unsigned char *)key, len, NULL, 0);
}

enum hmb_status svc_key_add(struct svc *svc, const char *name, int role, const char *sponsor,
                            char key_out[65], struct hmb_err *err)
{
  unsigned char raw[32];
  struct store_key k;
  struct store *s = NULL;
  enum hmb_status result;
  memset(&k, 0, sizeof(k));
  if (role < ROLE_OPERATOR || role > ROLE_SPONSOR)
    return hmb_err_set(err, HMB_INVALID, "key.role", "role",
                       "角色应为 operator、hospital、bureau 或 sponsor");
  if (!name || !*name || strlen(name) >= sizeof(k.name))
    return hmb_err_set(err, HMB_INVALID, "key.name", "name", "密钥名称为空或过长");
  if (role == ROLE_SPONSOR && (!sponsor || !plan_valid_id(sponsor)))
    return hmb_err_set(err, HMB_INVALID, "key.sponsor", "sponsor", "资助方密钥须指定资助方 id");
  randombytes_buf(raw, sizeof(raw));
  sodium_bin2hex(key_out, 65, raw, sizeof(raw));
  sodium_memzero(raw, sizeof(raw));
  key_hash(key_out, 64, k.hash);
  snprintf(k.name, sizeof(k.name), "%s", name);
  k.role = (int8_t)role;
  if (role == ROLE_SPONSOR)
    snprintf(k.sponsor, sizeof(k.sponsor), "%s", sponsor);
  result = svc_store_take(svc, &s, err);
  if (result)
    return result;
  result = s->ops->begin(s, STORE_TX_WRITE, err);
  if (!result) {
    result = s->ops->key_put(s, &k, err);
    if (!result)
      result = s->ops->commit(s, err);
    if (result)
      s->ops->rollback(s);
  }
  svc_store_give(svc, s);
  if (result)
    sodium_memzero(key_out, 65);
  return result;
}

enum hmb_status svc_key_check(struct svc *svc, const char *key, size_t len, struct store_key *out,
                              struct hmb_err *err)
{
  uint8_t h[32];
  struct store *s = NULL;
  enum hmb_status result;
  if (len != 64)
    return hmb_err_set(err, HMB_NOT_FOUND, "auth.key", "X-API-Key", "API 密钥无效");
  key_hash(key, len, h);
  result = svc_read_begin(svc, &s, err);
  if (result)
    return result;
  result = s->ops->key_get(s, h, out, err);
  svc_read_end(svc, s);
  if (result == HMB_NOT_FOUND || (!result && out->revoked))
    return hmb_err_set(err, HMB_NOT_FOUND, "auth.key", "X-API-Key", "API 密钥无效或已吊销");
  return result;
}

/* ---- stats ---- */

void svc_stats(struct svc *svc, struct svc_stats *out)
{
  pthread_mutex_lock(&svc->stats_mu);
  *out = svc->stats;
  pthread_mutex_unlock(&svc->stats_mu);
}

/* ---- open and close ---- */

enum hmb_status svc_open(struct svc **out, const struct svc_opts *o, struct hmb_err *err)
{
  struct svc *svc = hmb_calloc(1, sizeof(*svc));
  struct store *s = NULL;
  enum hmb_status result;
  struct buf keyf = BUF_INIT(4096);
  const char *path;

  *out = NULL;
  if (!svc)
    return hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
  pthread_mutex_init(&svc->plans_mu, NULL);
  pthread_mutex_init(&svc->pool_mu, NULL);
  pthread_mutex_init(&svc->q_mu, NULL);
  pthread_cond_init(&svc->q_cv, NULL);
  pthread_cond_init(&svc->ckpt_cv, NULL);
  pthread_mutex_init(&svc->sync_mu, NULL);
  pthread_cond_init(&svc->sync_cv, NULL);
  pthread_mutex_init(&svc->stats_mu, NULL);
  svc->fixed_today = o->today;
  svc->group_max = o->group_max ? o->group_max : 512;
  svc->no_pipeline = o->no_pipeline;
  svc->db_url = hmb_strndup(o->db_url ? o->db_url : "", o->db_url ? strlen(o->db_url) : 0);
  if (!svc->db_url) {
    result = hmb_err_set(err, HMB_NOMEM, "nomem", "", "内存不足");
    goto fail;
  }
  path = !strncmp(svc->db_url, "sqlite:", 7) ? svc->db_url + 7 : svc->db_url;
  if (o->key_file)
    buf_addstr(&keyf, o->key_file);
  else if (getenv("HMB_KEY_FILE") && *getenv("HMB_KEY_FILE"))
    buf_addstr(&keyf, getenv("HMB_KEY_FILE"));
  else if (strstr(path, "://"))
    buf_addstr(&keyf, "hmb-pii.key"); /* a server database: the key stays with the operator */
  else
    buf_addf(&keyf, "%s.key", path);
  result = pii_init(&svc->pii, keyf.ptr, err);
  if (result)
    goto fail;
  result = store_open(&s, svc->db_url, err);
  if (result)
    goto fail;
  result = load_plans(svc, s, err);
  if (result)
    goto fail;
  svc_store_give(svc, s);
  s = NULL;
  result = svc_writer_start(svc, err);
  if (result)
    goto fail;
  buf_release(&keyf);
  *out = svc;
  return HMB_OK;
fail:
  store_close(s);
  buf_release(&keyf);
  svc_close(svc);
  return result;
}

void svc_close(struct svc *svc)
{
  if (!svc)
    return;
  svc_writer_stop(svc);
  for (int i = 0; i < svc->npool; i++)
    store_close(svc->pool[i]);
  for (int i = 0; i < svc->nplans; i++)
    plan_drop(svc->plans[i]);
  if (svc->pii.ready)
    pii_release(&svc->pii);
  pthread_mutex_destroy(&svc->plans_mu);
  pthread_mutex_destroy(&svc->pool_mu);
  pthread_mutex_destroy(&svc->q_mu);
  pthread_cond_destroy(&svc->q_cv);
  pthread_cond_destroy(&svc->ckpt_cv);
  pthread_mutex_destroy(&svc->sync_mu);
  pthread_cond_destroy(&svc->sync_cv);
  pthread_mutex_destroy(&svc->stats_mu);
  free(svc->db_url);
  free(svc);
}

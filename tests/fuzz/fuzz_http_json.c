/*
 * fuzz_http_json: API request bodies (src/http/http_json.h) from arbitrary
 * bytes. The body is decoded the way each handler of http_api.c decodes it
 * (enrollment, payment, cancellation, sponsor, reversal), then every typed
 * getter is tried on every key the API knows. Nothing may crash or leak;
 * every refusal must carry a status and a code, and its error body must be
 * valid JSON naming that code. An amount given as a JSON integer must be
 * read exactly.
 */
#include "compat.h"
#include "http_json.h"
#include "plan.h"
#include "settlement.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys of the API's JSON bodies (see the handlers of http_api.c). */
static const char *const enroll_keys[] = {"plan_id", "psn_no", "channel",     "payer", "group",
                                          "date",    "pay",    "preexisting", NULL};
static const char *const pay_keys[] = {"amount", "channel", "payer", NULL};
static const char *const cancel_keys[] = {"date", NULL};
static const char *const sponsor_keys[] = {"name", "budget", NULL};
static const char *const reversal_keys[] = {"psn_no", "setl_id", "txn", NULL};
static const char *const all_keys[] = {"plan_id", "psn_no",  "channel",     "payer",  "group",
                                       "date",    "pay",     "preexisting", "amount", "name",
                                       "budget",  "setl_id", "txn",         NULL};

/* A refusal must be complete, and its error body valid JSON with its code. */
static void refused(enum hmb_status result, const struct hmb_err *err)
{
  struct buf b = BUF_INIT(1 << 20);
  json_error_t je;
  json_t *j, *code;

  if (!result)
    return;
  if (err->status == HMB_OK || !err->code[0])
    BUG("a refusal without a status or code");
  if (http_json_error(&b, err))
    BUG("error body not written");
  j = json_loadb(b.ptr, b.len, 0, &je);
  if (!j)
    BUG("error body is not JSON: %s", je.text);
  code = json_object_get(json_object_get(j, "error"), "code");
  if (!json_is_string(code) || strcmp(json_string_value(code), err->code))
    BUG("error body does not carry the code");
  json_decref(j);
  buf_release(&b);
}

static void str(json_t *obj, const char *key, bool required, size_t max)
{
  struct hmb_err err;
  const char *s = NULL;
  enum hmb_status result;

  hmb_err_init(&err);
  result = http_json_str(obj, key, required, max, &s, &err);
  refused(result, &err);
  if (!result && s && strlen(s) >= max)
    BUG("a string longer than its limit was accepted");
  if (!result && required && !s)
    BUG("a required string is missing");
}

static void money(json_t *obj, const char *body, size_t len, const char *key, bool required)
{
  struct hmb_err err;
  hmb_fen v = 0;
  bool present = false;
  enum hmb_status result;
  json_t *m = json_object_get(obj, key);

  hmb_err_init(&err);
  result = http_json_money(obj, body, len, key, required, &v, &present, &err);
  refused(result, &err);
  if (!result && required && !present)
    BUG("a required amount is missing");
  /* An integer amount of sane size is read exactly. */
  if (json_is_integer(m) && json_integer_value(m) > -1000000000000 &&
      json_integer_value(m) < 1000000000000) {
    if (result)
      BUG("integer amount %" PRId64 " refused: %s", (int64_t)json_integer_value(m), err.code);
    if (v != (hmb_fen)json_integer_value(m) * 100)
      BUG("integer amount read as %" PRId64 " fen", (int64_t)v);
  }
}

static void date(json_t *obj, const char *key)
{
  struct hmb_err err;
  hmb_date d = 0;

  hmb_err_init(&err);
  refused(http_json_date(obj, key, &d, &err), &err);
}

static void integer(json_t *obj, const char *key, int64_t min, int64_t max)
{
  struct hmb_err err;
  int64_t v = min;
  enum hmb_status result;

  hmb_err_init(&err);
  result = http_json_int(obj, key, min, max, &v, &err);
  refused(result, &err);
  if (!result && (v < min || v > max))
    BUG("integer out of its range accepted");
}

static void boolean(json_t *obj, const char *key)
{
  struct hmb_err err;
  bool b = false;

  hmb_err_init(&err);
  refused(http_json_bool(obj, key, &b, &err), &err);
}

static void only(json_t *obj, const char *const *keys)
{
  struct hmb_err err;

  hmb_err_init(&err);
  refused(http_json_only(obj, keys, &err), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *body = (const char *)data;
  struct hmb_err err;
  json_t *obj = NULL;
  enum hmb_status result;
  size_t i;

  hmb_err_init(&err);
  result = http_json_object(body, size, &obj, &err);
  refused(result, &err);
  if (result) {
    if (obj)
      BUG("a refused body left an object");
    return 0;
  }
  if (!json_is_object(obj))
    BUG("a body that is not an object was accepted");

  /* POST /v1/enrollments */
  only(obj, enroll_keys);
  str(obj, "plan_id", true, PLAN_ID_MAX);
  str(obj, "psn_no", true, SETL_ID_MAX);
  str(obj, "channel", false, 32);
  str(obj, "payer", false, SETL_ID_MAX);
  str(obj, "group", false, PLAN_ID_MAX);
  date(obj, "date");
  integer(obj, "preexisting", -1, 1);
  boolean(obj, "pay");
  /* POST /v1/enrollments/{policy_no}/payments */
  only(obj, pay_keys);
  money(obj, body, size, "amount", true);
  /* POST /v1/enrollments/{policy_no}/cancel */
  only(obj, cancel_keys);
  /* PUT /v1/sponsors/{id} */
  only(obj, sponsor_keys);
  str(obj, "name", true, sizeof(((struct store_sponsor *)0)->name));
  money(obj, body, size, "budget", true);
  /* POST /v1/settlements/{setl_id}/reversal */
  only(obj, reversal_keys);
  str(obj, "psn_no", true, SETL_ID_MAX);
  str(obj, "setl_id", false, SETL_ID_MAX);

  /* Every getter on every key, and the raw text of each member. */
  for (i = 0; all_keys[i]; i++) {
    const char *raw;
    size_t n;
    str(obj, all_keys[i], false, 64);
    money(obj, body, size, all_keys[i], false);
    date(obj, all_keys[i]);
    integer(obj, all_keys[i], INT64_MIN, INT64_MAX);
    boolean(obj, all_keys[i]);
    if (http_json_raw_member(body, size, all_keys[i], &raw, &n)) {
      if (raw < body || n > size || (size_t)(raw - body) > size - n)
        BUG("raw member outside the body");
      if (!json_object_get(obj, all_keys[i]))
        BUG("raw member found for a key the object does not have");
    }
  }
  json_decref(obj);
  return 0;
}

/*
 * http_json.h - decoding of API request bodies and encoding of error bodies.
 *
 * Request bodies are one JSON object, decoded with jansson (duplicate keys
 * rejected, NUL in strings rejected, nesting at most HTTP_JSON_DEPTH_MAX).
 * Money never passes through a double: an amount is a string ("89.00") or
 * a JSON number whose raw text is taken from the body and given to
 * money_parse(), so "89.001" is refused and "89.1" is exactly 8910 fen.
 *
 * Errors are HMB_INVALID with err->code "json.*" (json.syntax names the
 * byte position as field "@N"), or the code of the parser of the value
 * (money.*, date.*), and a Chinese message. Nothing here allocates except
 * http_json_object(), whose result the caller releases with json_decref().
 *
 * Thread-safe: no global state.
 */
#ifndef HMB_HTTP_JSON_H
#define HMB_HTTP_JSON_H

#include <jansson.h>

#include "buf.h"
#include "date.h"
#include "money.h"

#define HTTP_JSON_DEPTH_MAX 32

/*
 * Decode body[0..len) as one JSON object into *out (a new reference, the
 * caller's to json_decref()). On failure *out is NULL.
 */
enum hmb_status http_json_object(const char *body, size_t len, json_t **out, struct hmb_err *err);

/*
 * Refuse keys of obj that are not in keys (NULL-terminated), with code
 * json.unknown_key naming the key: a misspelt field must not be ignored.
 */
enum hmb_status http_json_only(json_t *obj, const char *const *keys, struct hmb_err *err);

/*
 * A string member: *out borrowed from obj (valid while obj lives), NULL
 * when absent or null and not required. Text must be valid UTF-8 without
 * control characters and at most max - 1 bytes (max is the size of the
 * array it will be copied into).
 */
enum hmb_status http_json_str(json_t *obj, const char *key, bool required, size_t max,
                              const char **out, struct hmb_err *err);

/*
 * A money member: a string or a number with at most two decimals, read
 * exactly from the raw text of body (the same bytes obj was decoded
 * from). *present tells whether it was given (absent or null: false, and
 * *out untouched); required makes absence an error.
 */
enum hmb_status http_json_money(json_t *obj, const char *body, size_t len, const char *key,
                                bool required, hmb_fen *out, bool *present, struct hmb_err *err);

/* A date member "YYYY-MM-DD"; *out untouched when absent or null. */
enum hmb_status http_json_date(json_t *obj, const char *key, hmb_date *out, struct hmb_err *err);

/* An integer member in [min, max] (a digit string is accepted too); *out
 * untouched when absent or null. */
enum hmb_status http_json_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out,
                              struct hmb_err *err);

/* A boolean member (true/false, or 0/1); *out untouched when absent or null. */
enum hmb_status http_json_bool(json_t *obj, const char *key, bool *out, struct hmb_err *err);

/*
 * Find the raw text of the top-level member `key` of the JSON object in
 * body[0..len), which must already be known to be valid JSON. Returns true
 * with *p and *n set to the value's bytes (a string keeps its quotes).
 * Keys written with escapes are not matched.
 */
bool http_json_raw_member(const char *body, size_t len, const char *key, const char **p, size_t *n);

/* Append {"error":{"code":..,"field":..,"message":..}} for err to out. */
enum hmb_status http_json_error(struct buf *out, const struct hmb_err *err);

#endif /* HMB_HTTP_JSON_H */

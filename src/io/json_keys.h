/*
 * json_keys.h - what the JSON file formats of hmb (plan files, regulatory
 * profiles, search spaces) share: how a file's text is parsed, and the one
 * rule for which members they accept: the keys a format names, plus comment
 * keys ("comment", keys ending in "_comment", keys starting with "x_"),
 * which every format ignores. Anything else is a typo and an error, so that
 * a misspelt key never passes silently.
 */
#ifndef HMB_JSON_KEYS_H
#define HMB_JSON_KEYS_H

#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Parse text[0..len) of a format whose files hold at most max bytes (what:
 * the file's name in messages, "产品文件"): HMB_TOO_LARGE ("<prefix>.too_large")
 * or HMB_INVALID ("<prefix>.json", field "line L, column C"; a repeated key
 * is a syntax error) with err set, else HMB_OK and *root, which the caller
 * releases with json_decref().
 */
enum hmb_status json_file_parse(const char *text, size_t len, size_t max, const char *prefix,
                                const char *what, json_t **root, struct hmb_err *err);

/* Is key one of known (NULL-terminated) or a comment key? */
bool json_key_allowed(const char *key, const char *const *known);

#endif /* HMB_JSON_KEYS_H */

/*
 * json_keys.h - the one rule for which members the JSON file formats of hmb
 * accept (plan files, regulatory profiles, search spaces): the keys a format
 * names, plus comment keys ("comment", keys ending in "_comment", keys
 * starting with "x_"), which every format ignores. Anything else is a typo
 * and an error, so that a misspelt key never passes silently.
 */
#ifndef HMB_JSON_KEYS_H
#define HMB_JSON_KEYS_H

#include <stdbool.h>

/* Is key one of known (NULL-terminated) or a comment key? */
bool json_key_allowed(const char *key, const char *const *known);

#endif /* HMB_JSON_KEYS_H */

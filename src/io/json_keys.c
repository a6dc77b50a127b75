#include "compat.h"
#include "json_keys.h"

bool json_key_allowed(const char *key, const char *const *known)
{
  size_t n = strlen(key);
  if (!strcmp(key, "comment") || !strncmp(key, "x_", 2) ||
      (n >= 8 && !strcmp(key + n - 8, "_comment")))
    return true;
  for (const char *const *k = known; *k; k++)
    if (!strcmp(*k, key))
      return true;
  return false;
}

#include "compat.h"
#include "store.h"

#include "store_pg.h"
#include "store_sqlite.h"

enum hmb_status store_open(struct store **out, const char *url, struct hmb_err *err)
{
  *out = NULL;
  if (!url || !*url)
    return hmb_err_set(err, HMB_INVALID, "store.url", "db", "未指定数据库（--db）");
  if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
    return store_pg_open(out, url, err);
  if (!strncmp(url, "sqlite:", 7))
    url += 7;
  return store_sqlite_open(out, url, err);
}

void store_close(struct store *s)
{
  if (s)
    s->ops->close(s);
}

enum hmb_status store_schema_version(struct store *s, int *version, struct hmb_err *err)
{
  return s->ops->schema_version(s, version, err);
}

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

/* A NOT_FOUND of one part is that part's flag, not a failure. */
static enum hmb_status found_or(enum hmb_status result, bool *found, struct hmb_err *err)
{
  *found = result == HMB_OK;
  if (result == HMB_NOT_FOUND) {
    if (err)
      hmb_err_init(err);
    return HMB_OK;
  }
  return result;
}

enum hmb_status store_setl_reads_each(struct store *s, const char *setl_id, int kind,
                                      const char *plan_id, const char *psn_no, hmb_date day,
                                      struct store_setl_reads *out, struct buf *response,
                                      struct buf *blob, struct hmb_err *err)
{
  bool has_status;
  enum hmb_status result;
  memset(out, 0, sizeof(*out));
  result = found_or(s->ops->setl_get(s, setl_id, kind, &out->prior, response, err),
                    &out->prior_found, err);
  if (!result)
    result =
        found_or(s->ops->enrollment_get(s, plan_id, psn_no, &out->enr, err), &out->enr_found, err);
  if (!result)
    result =
        found_or(s->ops->person_status_at(s, psn_no, day, &out->status, err), &has_status, err);
  if (!result && !has_status)
    out->status = 0;
  if (!result)
    result = found_or(s->ops->state_get(s, plan_id, psn_no, blob, err), &out->state_found, err);
  return result;
}

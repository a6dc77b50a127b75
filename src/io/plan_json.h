/*
 * plan_json.h - reading plan files (docs/plan-format.md) into struct plan.
 *
 * plan_parse_json() fills an initialised plan from JSON text, loads list
 * files relative to base_dir, then runs plan_finish(). Every problem found
 * is passed to `report` (may be NULL) with its JSON path; the first one is
 * also left in err. On failure the plan may be partly filled: the caller
 * still calls plan_release(). Amounts must be strings ("16000", "89.50") or
 * JSON numbers whose value is unambiguous within 15 significant digits (a
 * number is read by jansson as a double; hmb recovers its decimal text and
 * rejects it when that is not exact).
 */
#ifndef HMB_PLAN_JSON_H
#define HMB_PLAN_JSON_H

#include "plan.h"

#define PLAN_FILE_MAX      (8u << 20) /* a plan file is at most 8 MiB */
#define PLAN_LIST_FILE_MAX (64u << 20)

enum hmb_status plan_parse_json(struct plan *p, const char *text, size_t len, const char *base_dir,
                                plan_report_fn report, void *ctx, struct hmb_err *err);

/* Read path and parse it; lists are looked up beside the file. */
enum hmb_status plan_load(struct plan *p, const char *path, plan_report_fn report, void *ctx,
                          struct hmb_err *err);

/* Override a parameter: "name=amount" or "name.SCHEME=amount" (--param). */
enum hmb_status plan_set_param(struct plan *p, const char *assignment, struct hmb_err *err);

#endif /* HMB_PLAN_JSON_H */

/*
 * profile_json.h - reading regulatory profile files (profiles/<id>.json,
 * format "hmb-profile/1", docs/plan-format.md "Regulatory profiles") into
 * struct profile.
 *
 *   {"format": "hmb-profile/1", "id": "yunnan-2023", "name": "...",
 *    "source": "...",
 *    "rules": [{"id": "deductible_max", "check": "deductible_max",
 *               "amount": "15000", "message": "..."}, ...]}
 *
 * Amounts are strings of yuan ("15000"), ratios percentage strings ("70%"),
 * years integers. Unknown keys are errors, except "comment", keys ending in
 * "_comment" and keys starting with "x_", as in plan files. Each check takes
 * exactly the parameters regprofile_check_params() names.
 *
 * On failure err names the first problem with its JSON path and the profile
 * may be partly filled: the caller still calls regprofile_release().
 */
#ifndef HMB_PROFILE_JSON_H
#define HMB_PROFILE_JSON_H

#include "profile.h"

#define PROFILE_FILE_MAX (1u << 20) /* a profile file is at most 1 MiB */

/* Fill an initialised profile from JSON text, then regprofile_validate() it. */
enum hmb_status regprofile_parse_json(struct profile *pr, const char *text, size_t len,
                                      struct hmb_err *err);

/* Read the file at path and parse it. */
enum hmb_status regprofile_load(struct profile *pr, const char *path, struct hmb_err *err);

/*
 * Load a profile by name or path: a name containing '/' or ending in
 * ".json" is a path; otherwise it is an id looked up as
 * $HMB_HOME/profiles/<id>.json, then <source dir>/profiles/<id>.json.
 * HMB_NOT_FOUND when no such file exists.
 */
enum hmb_status regprofile_load_named(struct profile *pr, const char *name, struct hmb_err *err);

#endif /* HMB_PROFILE_JSON_H */

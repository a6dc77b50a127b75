/*
 * price_json.h - reading search spaces for hmb price ("hmb-price/1",
 * docs/actuarial.md "hmb price") into struct price_space, with every target
 * resolved against the plan the space varies.
 *
 *   {"format": "hmb-price/1",
 *    "target_loss_ratio": {"min": "80%", "max": "90%"},
 *    "axes": [
 *      {"deductible": ["inpatient_in_scope", "special_drugs"],
 *       "values": ["10000", "12000", "15000"]},
 *      {"ratio": ["inpatient_in_scope"], "range": {"from": "60%", "to": "90%", "step": "5%"}},
 *      {"band_edge": ["inpatient_in_scope.bands[1]"], "values": ["50000"]},
 *      {"cap": ["inpatient_in_scope"], "values": ["2000000"]},
 *      {"premium": ["bands[0]", "medical_assistance"], "values": ["69", "79"]}]}
 *
 * Targets: a deductible pool's id (a responsibility's own deductible has
 * the responsibility's id); a responsibility, or "id.bands[N]" for one
 * band's ratio; "id.bands[N]" (N >= 1) for where band N starts; a
 * responsibility's own cap or a shared cap's id; "bands[N]" of the
 * premiums or a premium group's id. Amounts are yuan strings ("15000",
 * "89.50") or integers, ratios percentage strings ("80%"). A range is
 * inclusive (from, from + step, ... up to to). Unknown keys are errors,
 * except "comment", keys ending in "_comment" and keys starting with "x_".
 * err names the first problem with its JSON path ("axes[1].range.step").
 */
#ifndef HMB_PRICE_JSON_H
#define HMB_PRICE_JSON_H

#include "price.h"

#define PRICE_FILE_MAX (1u << 20) /* a space file is at most 1 MiB */

/* A loss ratio "85%" or "212.5%" (0 .. 1000%, at most 2 decimals) in bp:
 * unlike ratio_parse() not capped at 100%. */
enum hmb_status price_loss_ratio_parse(const char *s, size_t len, hmb_bp *out, const char *field,
                                       struct hmb_err *err);

/* Fill sp from JSON text; then price_space_check() it against p. */
enum hmb_status price_space_parse_json(struct price_space *sp, const struct plan *p,
                                       const char *text, size_t len, struct hmb_err *err);
/* Read the file at path and parse it. */
enum hmb_status price_space_load(struct price_space *sp, const struct plan *p, const char *path,
                                 struct hmb_err *err);

#endif /* HMB_PRICE_JSON_H */

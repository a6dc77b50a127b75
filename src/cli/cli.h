/*
 * cli.h - the `hmb` command's subcommands (git builtin/ style: cmd_foo()).
 *
 * Each takes argc/argv after the subcommand name and returns the process
 * exit status: 0 success, 1 the input had problems (reported on stderr),
 * 2 usage or a fatal error.
 */
#ifndef HMB_CLI_H
#define HMB_CLI_H

#include "err.h"

int cmd_plan(int argc, char **argv);
int cmd_adjudicate(int argc, char **argv);
int cmd_backtest(int argc, char **argv); /* cmd_backtest.c: loss ratios of plans on a history */
int cmd_workdays(int argc, char **argv);
/* A deterministic synthetic city (cmd_gen.c, docs/gen.md). */
int cmd_gen(int argc, char **argv);
int cmd_project(int argc, char **argv); /* cmd_project.c: chain-ladder projection */
int cmd_price(int argc, char **argv);   /* cmd_price.c: search of plan variants */
/* Commands on a store (cmd_db.c, cmd_demo.c, cmd_serve.c, cmd_key.c). */
int cmd_roster(int argc, char **argv);
int cmd_plan_add(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_key(int argc, char **argv);

/*
 * The fast two-thread run of hmb adjudicate (cmd_adjudicate.c), for commands
 * that need each person's year rather than each row's result (hmb backtest,
 * hmb price). The settlements file is judged under plan in file order with
 * the same rules as hmb adjudicate: a repeated setl_id is rejected, a
 * reversal takes back what its settlement added. Rows of people not in
 * people are skipped and counted (the product pays only the enrolled).
 * Bad rows are printed (the first 1,000) and counted. Plans with family
 * scope are refused (HMB_UNSUPPORTED).
 *
 * After the run, fn is called once for every enrolled person with a
 * settlement, in no particular order; its error stops the calls and is
 * returned. Its arrays are borrowed for the call only.
 */
struct people;
struct plan;
struct year_person {
  size_t people_index; /* people_at(people, i) */
  const int64_t *acc;  /* the year's amounts per responsibility (adj_acc()) */
  const int64_t *paid; /* fen: paid per responsibility (adj_paid()) */
  int64_t own_cost;    /* fen: psn_part_amt of its settlements not reversed */
};
struct year_totals {
  int64_t rows, settled, reversals, rejected, repeated, not_enrolled, out_of_order;
  int64_t eligible, paid; /* fen, as hmb adjudicate's summary */
  int32_t last_day;       /* date of the latest settlement, INT32_MIN if none */
};
typedef enum hmb_status (*year_person_fn)(void *ctx, const struct year_person *yp,
                                          struct hmb_err *err);
/*
 * A year run of setl_path (and details, NULL for none) begun ahead, on a
 * thread of its own, of what the caller does first (loading the people):
 * the file opened and faulted in, the settlement index made. The paths are
 * borrowed until the prep is freed. NULL when no thread could be started
 * or a path is "-" (the run then does it all itself). year_prep_free() frees one that is
 * not passed to adjudicate_year(); NULL is a no-op.
 */
struct year_prep;
struct year_prep *adjudicate_year_prepare(const char *setl_path, const char *details);
void year_prep_free(struct year_prep *prep);
/*
 * Give the preparing thread job(ctx) to run once its own work is done: the
 * run starts meanwhile, and adjudicate_year() waits for the job before it
 * hands out the persons. With prep NULL, or a thread closed (its run has
 * started) or given a job already, the job runs now, on the caller's
 * thread.
 */
void year_prep_then(struct year_prep *prep, void (*job)(void *), void *ctx);
/* who names the command in messages. prep: from adjudicate_year_prepare()
 * with the same setl_path and details, or NULL; freed by the call. HMB_OK,
 * or the error that stopped the run (printed already). */
enum hmb_status adjudicate_year(const char *who, const struct plan *plan,
                                const struct people *people, const char *setl_path,
                                const char *details, struct year_prep *prep, year_person_fn fn,
                                void *ctx, struct year_totals *out);

/* Directory holding data/, profiles/ and plans/: $HMB_HOME, else the source tree. */
const char *cli_home(void);
/* Print "where: message (code)" for an error to stderr. */
void cli_print_err(const char *where, const struct hmb_err *err);
/* Report callbacks for the loaders (plan_load(), people_load()): print the
 * problem; cli_report_path takes ctx = a const char ** naming the file. */
void cli_report_path(void *ctx, const struct hmb_err *e);
void cli_report(void *ctx, const struct hmb_err *e);

#endif /* HMB_CLI_H */

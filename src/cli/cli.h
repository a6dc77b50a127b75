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
/* Commands on a store (cmd_db.c, cmd_demo.c, cmd_serve.c, cmd_key.c). */
int cmd_roster(int argc, char **argv);
int cmd_plan_add(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_key(int argc, char **argv);

/* Directory holding data/, profiles/ and plans/: $HMB_HOME, else the source tree. */
const char *cli_home(void);
/* Print "where: message (code)" for an error to stderr. */
void cli_print_err(const char *where, const struct hmb_err *err);
/* Report callbacks for the loaders (plan_load(), people_load()): print the
 * problem; cli_report_path takes ctx = a const char ** naming the file. */
void cli_report_path(void *ctx, const struct hmb_err *e);
void cli_report(void *ctx, const struct hmb_err *e);

#endif /* HMB_CLI_H */

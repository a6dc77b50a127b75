#include "compat.h"
#include "buf.h"
#include "cli.h"
#include "plan_json.h"
#include "profile.h"
#include "profile_json.h"

struct check_ctx {
  const char *file;
  int problems;
};

static void report(void *ctx, const struct hmb_err *e)
{
  struct check_ctx *c = ctx;
  c->problems++;
  cli_print_err(c->file, e);
}

/* A profile argument is a file path when it contains '/' or ends in .json,
 * else the id of a shipped profile under $HMB_HOME/profiles. */
static void profile_path(const char *arg, struct buf *out)
{
  size_t n = strlen(arg);
  if (strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".json")))
    buf_addstr(out, arg);
  else
    buf_addf(out, "%s/profiles/%s.json", cli_home(), arg);
}

int cmd_plan(int argc, char **argv)
{
  const char *file = NULL, *profiles[16];
  size_t nprofiles = 0, k;
  struct plan plan;
  struct hmb_err err;
  struct check_ctx ctx = {NULL, 0};
  int i, rc = 0;

  if (argc < 2 || strcmp(argv[0], "check")) {
    fprintf(stderr, "用法: hmb plan check FILE [--profile ID|FILE]...\n");
    return 2;
  }
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--profile")) {
      if (i + 1 >= argc || nprofiles == ARRAY_SIZE(profiles)) {
        fprintf(stderr, "hmb plan check: --profile 需要一个参数\n");
        return 2;
      }
      profiles[nprofiles++] = argv[++i];
    } else if (!file) {
      file = argv[i];
    } else {
      fprintf(stderr, "hmb plan check: 多余的参数“%s”\n", argv[i]);
      return 2;
    }
  }
  if (!file) {
    fprintf(stderr, "用法: hmb plan check FILE [--profile ID|FILE]...\n");
    return 2;
  }
  ctx.file = file;
  hmb_err_init(&err);
  plan_init(&plan);
  if (plan_load(&plan, file, report, &ctx, &err)) {
    fprintf(stderr, "%s: 方案无效，共 %d 个问题\n", file, ctx.problems ? ctx.problems : 1);
    plan_release(&plan);
    return 1;
  }
  printf("%s: 方案有效 — %s %d（%d 项责任）%s\n", file, plan.name, plan.year, plan.nresp,
         plan.draft ? "；草案（status: draft）：部分数字未经核实，不可用于理赔" : "");
  for (k = 0; k < nprofiles; k++) {
    struct profile pr;
    struct buf path = BUF_INIT(4096);
    int violations = 0;
    profile_path(profiles[k], &path);
    regprofile_init(&pr);
    if (regprofile_load(&pr, path.ptr, &err)) {
      cli_print_err(path.ptr, &err);
      rc = 2;
    } else {
      ctx.problems = 0;
      fflush(stdout);
      regprofile_check(&pr, &plan, report, &ctx, &violations);
      if (violations) {
        printf("%s: 不符合监管规则“%s”，共 %d 处\n", file, pr.name, violations);
        rc = rc ? rc : 1;
      } else {
        printf("%s: 符合监管规则“%s”\n", file, pr.name);
      }
    }
    regprofile_release(&pr);
    buf_release(&path);
  }
  plan_release(&plan);
  return rc;
}

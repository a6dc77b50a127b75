#include "compat.h"
#include "cli.h"

static const char usage[] =
    "用法 / usage: hmb <command> [options]\n"
    "\n"
    "  plan check FILE [--profile ID|FILE]   校验产品方案（及监管规则）\n"
    "  adjudicate --plan P --settlements F [--details D] [--people F]\n"
    "             [--out F] [--format csv|jsonl] [--summary-json F] [--explain]\n"
    "             [--param NAME[.SCHEME]=AMOUNT] [--allow-draft]   批量理算一年的结算数据\n"
    "  backtest --plan P [--plan Q ...] --settlements F [--details D] --people F\n"
    "             [--json OUT] [--top 20] [--data-end DATE]   回测方案的赔付率与受益情况\n"
    "  price --plan P --space S --settlements F [--details D] --people F\n"
    "        [--profile ID] [--target 80%-90%] [--top 10] [--json OUT]   搜索满足目标赔付率的方案\n"
    "  workdays add DATE N | count FROM TO   按法定节假日计算工作日\n"
    "  gen --out-dir DIR [--seed N] [--people N] [--enroll-rate BP] [--settlements N]\n"
    "      [--year Y] [--admdvs CODE]   生成合成城市（名单、投保人、结算）\n"
    "  project --claims F --premium AMOUNT --valuation YYYY-MM   链梯法预测全年赔付率\n"
    "  serve --db PATH [--port 8080] [--bind 127.0.0.1] [--threads 2] [--key-file F]\n"
    "        [--today YYYY-MM-DD]   运行 HTTP API 服务（docs/api.md）\n"
    "  key add --db PATH --role operator|hospital|bureau|sponsor --name NAME [--sponsor ID]\n"
    "        新建 API 密钥（只显示一次）\n"
    "  demo [--db PATH] [--people N] [--settlements M] [--seed S]   "
    "建立演示城市（名单、参保、结算）\n"
    "  roster import FILE [--db PATH]   导入医保局参保名单\n"
    "  plan add FILE [--db PATH]        保存产品方案到数据库\n"
    "  verify [--db PATH]               按结算记录重算每人年度状态并核对\n"
    "  version\n";

const char *cli_home(void)
{
  const char *h = getenv("HMB_HOME");
  return h && *h ? h : HMB_SOURCE_DIR;
}

void cli_print_err(const char *where, const struct hmb_err *err)
{
  if (err->field[0])
    fprintf(stderr, "%s%s%s: %s (%s)\n", where ? where : "", where && *where ? ": " : "",
            err->field, err->message, err->code);
  else
    fprintf(stderr, "%s%s%s (%s)\n", where ? where : "", where && *where ? ": " : "", err->message,
            err->code);
}

void cli_report_path(void *ctx, const struct hmb_err *e)
{
  cli_print_err(*(const char **)ctx, e);
}

void cli_report(void *ctx, const struct hmb_err *e)
{
  (void)ctx;
  cli_print_err("", e);
}

int main(int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
    printf("hmb 0.1.0\n");
    return 0;
  }
  if (!strcmp(argv[1], "plan") && argc > 2 && !strcmp(argv[2], "add"))
    return cmd_plan_add(argc - 3, argv + 3);
  if (!strcmp(argv[1], "plan"))
    return cmd_plan(argc - 2, argv + 2);
  if (!strcmp(argv[1], "adjudicate"))
    return cmd_adjudicate(argc - 2, argv + 2);
  if (!strcmp(argv[1], "backtest"))
    return cmd_backtest(argc - 2, argv + 2);
  if (!strcmp(argv[1], "price"))
    return cmd_price(argc - 2, argv + 2);
  if (!strcmp(argv[1], "gen"))
    return cmd_gen(argc - 2, argv + 2);
  if (!strcmp(argv[1], "workdays"))
    return cmd_workdays(argc - 2, argv + 2);
  if (!strcmp(argv[1], "project"))
    return cmd_project(argc - 2, argv + 2);
  if (!strcmp(argv[1], "serve"))
    return cmd_serve(argc - 2, argv + 2);
  if (!strcmp(argv[1], "key"))
    return cmd_key(argc - 2, argv + 2);
  if (!strcmp(argv[1], "demo"))
    return cmd_demo(argc - 2, argv + 2);
  if (!strcmp(argv[1], "roster"))
    return cmd_roster(argc - 2, argv + 2);
  if (!strcmp(argv[1], "verify"))
    return cmd_verify(argc - 2, argv + 2);
  fprintf(stderr, "hmb: 未知命令“%s”\n\n%s", argv[1], usage);
  return 2;
}

#include "compat.h"
#include "buf.h"
#include "cli.h"
#include "money.h"
#include "workday.h"

int cmd_workdays(int argc, char **argv)
{
  struct workday_cal cal;
  struct hmb_err err;
  struct buf path = BUF_INIT(4096);
  hmb_date a, b, out;
  int64_t n;
  int count, rc = 0;
  char t[HMB_DATE_TEXT_MAX];

  hmb_err_init(&err);
  if (argc != 3 || (strcmp(argv[0], "add") && strcmp(argv[0], "count"))) {
    fprintf(stderr, "用法: hmb workdays add DATE N | hmb workdays count FROM TO\n");
    return 2;
  }
  workday_cal_init(&cal);
  buf_addf(&path, "%s/data/holidays-cn.tsv", cli_home());
  if (workday_cal_load(&cal, path.ptr, &err) ||
      date_parse(argv[1], strlen(argv[1]), &a, "DATE", &err)) {
    cli_print_err("hmb workdays", &err);
    rc = 2;
  } else if (!strcmp(argv[0], "add")) {
    if (str_to_i64(argv[2], strlen(argv[2]), 0, 3650, &n, "N", &err) ||
        workday_add(&cal, a, (int)n, &out, &err)) {
      cli_print_err("hmb workdays", &err);
      rc = 2;
    } else {
      date_format(out, t);
      printf("%s\n", t);
    }
  } else {
    if (date_parse(argv[2], strlen(argv[2]), &b, "TO", &err) ||
        workday_count(&cal, a, b, &count, &err)) {
      cli_print_err("hmb workdays", &err);
      rc = 2;
    } else {
      printf("%d\n", count);
    }
  }
  workday_cal_release(&cal);
  buf_release(&path);
  return rc;
}

#include "compat.h"
#include "cli.h"

#include "svc.h"

/*
 * Commands on a store: `hmb roster import`, `hmb plan add`, `hmb verify`.
 * Each opens the service on --db (default hmb.db), does one thing, closes.
 */

struct db_args {
  const char *db;
  const char *key_file;
  hmb_date today;
  const char *file;
};

/* Parse --db, --key-file, --today and one positional FILE (when want_file). */
static int db_args_parse(int argc, char **argv, bool want_file, struct db_args *a,
                         const char *usage)
{
  memset(a, 0, sizeof(*a));
  a->db = getenv("HMB_DB");
  if (!a->db || !*a->db)
    a->db = "hmb.db";
  for (int i = 0; i < argc; i++) {
    struct hmb_err err;
    if (!strcmp(argv[i], "--db") && i + 1 < argc) {
      a->db = argv[++i];
    } else if (!strcmp(argv[i], "--key-file") && i + 1 < argc) {
      a->key_file = argv[++i];
    } else if (!strcmp(argv[i], "--today") && i + 1 < argc) {
      i++;
      if (date_parse(argv[i], strlen(argv[i]), &a->today, "--today", &err)) {
        cli_print_err("hmb", &err);
        return 2;
      }
    } else if (want_file && !a->file && argv[i][0] != '-') {
      a->file = argv[i];
    } else {
      fprintf(stderr, "%s", usage);
      return 2;
    }
  }
  if (want_file && !a->file) {
    fprintf(stderr, "%s", usage);
    return 2;
  }
  return 0;
}

static int open_svc(const struct db_args *a, struct svc **svc)
{
  struct svc_opts o;
  struct hmb_err err;
  memset(&o, 0, sizeof(o));
  o.db_url = a->db;
  o.key_file = a->key_file;
  o.today = a->today;
  hmb_err_init(&err);
  if (svc_open(svc, &o, &err)) {
    cli_print_err(a->db, &err);
    return 2;
  }
  return 0;
}

int cmd_roster(int argc, char **argv)
{
  static const char usage[] =
      "用法: hmb roster import FILE [--db DB] [--key-file F] [--today YYYY-MM-DD]\n";
  struct db_args a;
  struct svc *svc;
  struct svc_import_report rep;
  struct buf data = BUF_INIT((size_t)16 << 30);
  struct hmb_err err;
  int rc;
  if (argc < 1 || strcmp(argv[0], "import")) {
    fprintf(stderr, "%s", usage);
    return 2;
  }
  rc = db_args_parse(argc - 1, argv + 1, true, &a, usage);
  if (rc)
    return rc;
  hmb_err_init(&err);
  if (buf_read_file(&data, a.file, &err)) {
    cli_print_err(a.file, &err);
    return 2;
  }
  rc = open_svc(&a, &svc);
  if (rc) {
    buf_release(&data);
    return rc;
  }
  svc_import_report_init(&rep);
  if (svc_roster_import(svc, a.file, data.ptr, data.len, &rep, &err)) {
    cli_print_err(a.file, &err);
    rc = 2;
  } else {
    printf("{\"rows\":%" PRId64 ",\"accepted\":%" PRId64 ",\"inserted\":%" PRId64
           ",\"updated\":%" PRId64 ",\"status_changes\":%" PRId64 ",\"rejected\":%" PRId64
           ",\"errors\":%s}\n",
           rep.rows, rep.accepted, rep.inserted, rep.updated, rep.status_changes, rep.rejected,
           rep.errors_json.len ? rep.errors_json.ptr : "[]");
    rc = rep.rejected ? 1 : 0;
  }
  svc_import_report_release(&rep);
  svc_close(svc);
  buf_release(&data);
  return rc;
}

int cmd_plan_add(int argc, char **argv)
{
  static const char usage[] = "用法: hmb plan add FILE [--db DB] [--key-file F]\n";
  struct db_args a;
  struct svc *svc;
  struct buf data = BUF_INIT(16u << 20), id = BUF_INIT(256), dir = BUF_INIT(4096);
  struct hmb_err err;
  const char *slash;
  int rc = db_args_parse(argc, argv, true, &a, usage);
  if (rc)
    return rc;
  hmb_err_init(&err);
  if (buf_read_file(&data, a.file, &err)) {
    cli_print_err(a.file, &err);
    return 2;
  }
  slash = strrchr(a.file, '/');
  if (slash)
    buf_add(&dir, a.file, (size_t)(slash - a.file));
  else
    buf_addch(&dir, '.');
  rc = open_svc(&a, &svc);
  if (!rc) {
    if (svc_plan_add(svc, data.ptr, data.len, dir.ptr, &id, &err)) {
      cli_print_err(a.file, &err);
      rc = err.status == HMB_INVALID ? 1 : 2;
    } else {
      printf("产品 %s 已保存到 %s\n", id.ptr, a.db);
    }
    svc_close(svc);
  }
  buf_release(&data);
  buf_release(&id);
  buf_release(&dir);
  return rc;
}

/* Every setl_id listed in path (one per line) must be stored as settled. */
static int check_acked(struct svc *svc, const char *path, int64_t *listed, int64_t *missing)
{
  struct buf ids = BUF_INIT((size_t)1 << 32), out = BUF_INIT(4u << 20);
  struct hmb_err err;
  char *p, *save = NULL;
  *listed = *missing = 0;
  hmb_err_init(&err);
  if (buf_read_file(&ids, path, &err)) {
    cli_print_err(path, &err);
    return 2;
  }
  for (p = strtok_r(ids.ptr, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
    buf_reset(&out);
    ++*listed;
    if (svc_setl_json(svc, p, &out, &err) || !strstr(out.ptr, "\"reversed\":false")) {
      if (++*missing <= 10)
        fprintf(stderr, "hmb verify: acknowledged settlement %s is not stored as settled\n", p);
    }
  }
  buf_release(&ids);
  buf_release(&out);
  return 0;
}

int cmd_verify(int argc, char **argv)
{
  static const char usage[] = "用法: hmb verify [--db DB] [--key-file F] [--acked FILE]\n";
  struct db_args a;
  struct svc *svc;
  struct buf report = BUF_INIT(64u << 20);
  struct hmb_err err;
  int64_t people, setls, bad, listed = 0, missing = 0;
  const char *acked = NULL;
  int rc;
  for (int i = 0; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--acked")) {
      acked = argv[i + 1];
      memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof(*argv));
      argc -= 2;
      break;
    }
  rc = db_args_parse(argc, argv, false, &a, usage);
  if (rc)
    return rc;
  rc = open_svc(&a, &svc);
  if (rc)
    return rc;
  if (acked && (rc = check_acked(svc, acked, &listed, &missing))) {
    svc_close(svc);
    return rc;
  }
  hmb_err_init(&err);
  if (svc_verify(svc, &people, &setls, &bad, &report, &err)) {
    cli_print_err(a.db, &err);
    rc = 2;
  } else {
    fputs(report.ptr, stdout);
    printf("{\"people\":%" PRId64 ",\"settlements\":%" PRId64 ",\"mismatched\":%" PRId64
           ",\"acked\":%" PRId64 ",\"acked_missing\":%" PRId64 "}\n",
           people, setls, bad, listed, missing);
    rc = bad || missing ? 1 : 0;
  }
  svc_close(svc);
  buf_release(&report);
  return rc;
}

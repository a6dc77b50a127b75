#include "compat.h"
#include "cli.h"

#include <signal.h>
#include <pthread.h>

#include "http_server.h"
#include "money.h"
#include "svc.h"

/*
 * `hmb serve`: the HTTP API (docs/api.md) over one store. SIGINT and
 * SIGTERM are blocked in every thread before any is started and taken by
 * sigwait() here, so a signal never interrupts a server thread: the main
 * thread then stops the server (queued settlements finish first) and
 * closes the service.
 */

static const char serve_usage[] =
    "用法: hmb serve --db PATH [--key-file PATH] [--port 8080] [--bind 127.0.0.1]\n"
    "                [--threads 2] [--today YYYY-MM-DD] [--max-conns 1024]\n"
    "                [--max-per-ip 512] [--timeout 30] [--quiet] [--log-probes]\n"
    "                [--no-pipeline]\n"
    "  --db         SQLite 文件路径或 postgresql://… 连接串（默认 $HMB_DB）\n"
    "  --key-file   个人信息主密钥文件（默认 $HMB_KEY_FILE，否则 PATH.key；不存在时创建）\n"
    "  --port 0     由系统选择空闲端口\n"
    "  --quiet      不逐条记录请求日志\n"
    "  --no-pipeline  PostgreSQL：结算写入不使用流水线，每条语句单独往返（用于对比与诊断）\n";

static int num_arg(const char *opt, const char *v, int64_t min, int64_t max, int64_t *out)
{
  struct hmb_err err;
  hmb_err_init(&err);
  if (str_to_i64(v, strlen(v), min, max, out, opt, &err)) {
    cli_print_err("hmb serve", &err);
    return 2;
  }
  return 0;
}

int cmd_serve(int argc, char **argv)
{
  struct svc_opts so;
  struct http_server_opts ho;
  struct svc *svc = NULL;
  struct http_api *api = NULL;
  struct http_server *srv = NULL;
  struct hmb_err err;
  struct buf plans_dir = BUF_INIT(4096);
  const char *home;
  sigset_t sigs;
  int64_t v;
  int i, sig = 0, rc = 0;

  memset(&so, 0, sizeof(so));
  memset(&ho, 0, sizeof(ho));
  ho.port = 8080;
  ho.log_requests = true;
  hmb_err_init(&err);
  for (i = 0; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--quiet")) {
      ho.log_requests = false;
      continue;
    }
    if (!strcmp(a, "--log-probes")) {
      ho.log_probes = true;
      continue;
    }
    if (!strcmp(a, "--no-pipeline")) {
      so.no_pipeline = true;
      continue;
    }
    if (!val || a[0] != '-') {
      fputs(serve_usage, stderr);
      return 2;
    }
    i++;
    if (!strcmp(a, "--db")) {
      so.db_url = val;
    } else if (!strcmp(a, "--key-file")) {
      so.key_file = val;
    } else if (!strcmp(a, "--bind")) {
      ho.bind = val;
    } else if (!strcmp(a, "--port")) {
      if (num_arg(a, val, 0, 65535, &v))
        return 2;
      ho.port = (unsigned)v;
    } else if (!strcmp(a, "--threads")) {
      if (num_arg(a, val, 1, 64, &v))
        return 2;
      ho.threads = (unsigned)v;
    } else if (!strcmp(a, "--max-conns")) {
      if (num_arg(a, val, 1, 100000, &v))
        return 2;
      ho.max_conns = (unsigned)v;
    } else if (!strcmp(a, "--max-per-ip")) {
      if (num_arg(a, val, 1, 100000, &v))
        return 2;
      ho.max_per_ip = (unsigned)v;
    } else if (!strcmp(a, "--timeout")) {
      if (num_arg(a, val, 1, 3600, &v))
        return 2;
      ho.timeout_s = (unsigned)v;
    } else if (!strcmp(a, "--today")) {
      if (date_parse(val, strlen(val), &so.today, "--today", &err)) {
        cli_print_err("hmb serve", &err);
        return 2;
      }
    } else {
      fputs(serve_usage, stderr);
      return 2;
    }
  }
  if (!so.db_url && getenv("HMB_DB") && *getenv("HMB_DB"))
    so.db_url = getenv("HMB_DB");
  if (!so.db_url) {
    fputs(serve_usage, stderr);
    return 2;
  }
  /* no --key-file: the service's default ($HMB_KEY_FILE, else PATH.key) */
  home = getenv("HMB_HOME");
  if (buf_addf(&plans_dir, "%s/plans", home && *home ? home : ".")) {
    return 2;
  }

  /* Before any thread exists, so that every thread inherits the mask. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if (svc_open(&svc, &so, &err)) {
    cli_print_err(so.db_url, &err);
    rc = 2;
    goto out;
  }
  if (http_api_new(&api, svc, plans_dir.ptr, &err) ||
      http_server_start(&srv, api, svc, &ho, &err)) {
    cli_print_err("hmb serve", &err);
    rc = 2;
    goto out;
  }
  printf("hmb serve: 正在监听 http://%s:%u/ （%u 个线程；Ctrl-C 停止）\n",
         ho.bind ? ho.bind : "127.0.0.1", http_server_port(srv), ho.threads ? ho.threads : 2);
  fflush(stdout);
  while (sigwait(&sigs, &sig))
    ;
  fprintf(stderr, "hmb serve: 收到信号 %d，正在停止（等待已受理的结算完成）\n", sig);

out:
  http_server_stop(srv);
  http_api_free(api);
  if (svc)
    svc_close(svc);
  if (!rc)
    fprintf(stderr, "hmb serve: 已停止\n");
  buf_release(&plans_dir);
  return rc;
}

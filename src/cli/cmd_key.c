#include "compat.h"
#include "cli.h"

#include "svc.h"

/*
 * `hmb key add`: make an API key. The key is printed once on stdout and
 * never stored (the store keeps only its hash), so it cannot be shown
 * again: a lost key is replaced by a new one.
 */

static const char key_usage[] =
    "用法: hmb key add --db PATH --role operator|hospital|bureau|sponsor --name NAME\n"
    "                  [--sponsor ID] [--key-file PATH]\n";

static int role_of(const char *s)
{
  static const struct {
    const char *name;
    int role;
  } roles[] = {{"operator", ROLE_OPERATOR},
               {"hospital", ROLE_HOSPITAL},
               {"bureau", ROLE_BUREAU},
               {"sponsor", ROLE_SPONSOR}};
  size_t i;
  for (i = 0; i < ARRAY_SIZE(roles); i++)
    if (!strcmp(s, roles[i].name))
      return roles[i].role;
  return 0;
}

int cmd_key(int argc, char **argv)
{
  struct svc_opts so;
  struct svc *svc = NULL;
  struct hmb_err err;
  const char *name = NULL, *sponsor = NULL;
  char key[65];
  int i, role = 0, rc = 0;

  if (argc < 1 || strcmp(argv[0], "add")) {
    fputs(key_usage, stderr);
    return 2;
  }
  memset(&so, 0, sizeof(so));
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!val) {
      fputs(key_usage, stderr);
      return 2;
    }
    i++;
    if (!strcmp(a, "--db")) {
      so.db_url = val;
    } else if (!strcmp(a, "--key-file")) {
      so.key_file = val;
    } else if (!strcmp(a, "--name")) {
      name = val;
    } else if (!strcmp(a, "--sponsor")) {
      sponsor = val;
    } else if (!strcmp(a, "--role")) {
      role = role_of(val);
      if (!role) {
        fprintf(stderr, "hmb key add: 角色应为 operator、hospital、bureau 或 sponsor\n");
        return 2;
      }
    } else {
      fputs(key_usage, stderr);
      return 2;
    }
  }
  if (!so.db_url && getenv("HMB_DB") && *getenv("HMB_DB"))
    so.db_url = getenv("HMB_DB");
  if (!so.db_url || !role || !name) {
    fputs(key_usage, stderr);
    return 2;
  }
  if (role == ROLE_SPONSOR && !sponsor) {
    fprintf(stderr, "hmb key add: 资助方密钥须用 --sponsor 指定资助方 id\n");
    return 2;
  }
  if (role != ROLE_SPONSOR && sponsor) {
    fprintf(stderr, "hmb key add: 只有 sponsor 角色的密钥才能指定 --sponsor\n");
    return 2;
  }
  /* no --key-file: the service's default ($HMB_KEY_FILE, else PATH.key) */
  hmb_err_init(&err);
  if (svc_open(&svc, &so, &err)) {
    cli_print_err(so.db_url, &err);
    return 2;
  }
  if (svc_key_add(svc, name, role, sponsor, key, &err)) {
    cli_print_err("hmb key add", &err);
    rc = 1;
  } else {
    /* The only time the key is shown: stdout alone, for scripts. */
    printf("%s\n", key);
    fflush(stdout);
    fprintf(stderr, "hmb key add: 已创建密钥“%s”；密钥只显示这一次，请妥善保存\n", name);
    memset(key, 0, sizeof(key));
  }
  svc_close(svc);
  return rc;
}

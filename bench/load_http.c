/*
 * load_http.c - a closed-loop HTTP/1.1 load generator for `hmb serve`.
 *
 * Usage:
 *   load_http [--host 127.0.0.1] [--port 8080] [--key KEY] [--connections 64]
 *             [--threads 2] [--count N] [--seconds S]
 *             [--path /health | --settle PSN_PREFIX:COUNT] [--run-id ID]
 *             [--record FILE]
 *
 * C keep-alive connections are spread over T threads; each thread drives
 * its connections with poll(), one request in flight per connection, the
 * next sent as soon as the answer is read. The run ends after N requests
 * or S seconds, whichever comes first (neither given: 10 seconds);
 * requests in flight at the deadline are still awaited and counted.
 *
 * --settle P:K posts generated settlements to /v1/settlements: setl_id
 * "L<run-id>-<n>" (unique per request of a run), psn_no P followed by an
 * 8-digit index in [0, K), med_type 11/14/21/41, every amount consistent
 * (medfee_sumamt = the four parts, fund_pay_sumamt = hifp_pay <=
 * inscp_scp_amt, psn_part_amt = medfee - fund), setl_time within 2024.
 * --record FILE writes the setl_id of every 200 answer, one per line,
 * each written with one write(2) as soon as the answer is read (the crash
 * test compares this file with the store after kill -9).
 *
 * Reports requests, errors by status, requests per second and latency
 * percentiles in microseconds (from a timestamp per request). It never
 * judges the figures: exit status 0 unless the setup failed.
 *
 * Only libc and pthreads.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX    8192
#define IN_MAX     (1024 * 1024)
#define STATUS_MAX 600

struct opts {
  const char *host;
  int port;
  const char *key;
  int connections, threads;
  uint64_t count; /* 0: unbounded */
  uint64_t seconds;
  const char *path;
  char psn_prefix[32];
  uint64_t psn_count;
  char run_id[24];
  int record_fd;
};

struct conn {
  int fd;
  bool busy;
  uint64_t n; /* request number in flight */
  uint64_t t0;
  char out[OUT_MAX];
  size_t out_len, out_off;
  char *in;
  size_t in_len;
};

struct worker {
  pthread_t th;
  int first, nconns;
  struct conn *conns;
  uint64_t *lat;
  size_t nlat, cap;
  uint64_t status[STATUS_MAX];
  uint64_t conn_errors;
};

static struct opts o;
static atomic_uint_fast64_t issued;
static uint64_t deadline_ns;
static struct sockaddr_in target;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix64(uint64_t x)
{
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

/* A uniform draw in [lo, hi] from the hash state. */
static uint64_t draw(uint64_t *st, uint64_t lo, uint64_t hi)
{
  *st = mix64(*st);
  return lo + *st % (hi - lo + 1);
}

static int money(char *p, size_t cap, uint64_t fen)
{
  return snprintf(p, cap, "\"%" PRIu64 ".%02" PRIu64 "\"", fen / 100, fen % 100);
}

/* The settlement body of request n; returns its length. */
static size_t settle_body(uint64_t n, char *b, size_t cap)
{
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  uint64_t st = n ^ 0x5eed5eed5eedu, kind = draw(&st, 0, 99), day, month = 0;
  uint64_t inscp, fulamt, overlmt, presel, medfee, fund;
  int med_type;
  char a[6][32];
  int len;

  if (kind < 45) {
    med_type = 11;
    inscp = draw(&st, 2000, 50000);
  } else if (kind < 65) {
    med_type = 14;
    inscp = draw(&st, 10000, 200000);
  } else if (kind < 90) {
    med_type = 41;
    inscp = draw(&st, 1000, 40000);
  } else {
    med_type = 21;
    inscp = draw(&st, 300000, 5000000);
  }
  fulamt = draw(&st, 0, inscp / 5);
  overlmt = draw(&st, 0, 3) ? 0 : draw(&st, 0, inscp / 20);
  presel = draw(&st, 0, inscp / 10);
  medfee = fulamt + overlmt + presel + inscp;
  fund = inscp * draw(&st, 40, 75) / 100;
  day = draw(&st, 0, 365); /* 2024 has 366 days */
  while (day >= (uint64_t)mdays[month])
    day -= (uint64_t)mdays[month++];
  money(a[0], sizeof(a[0]), medfee);
  money(a[1], sizeof(a[1]), fulamt);
  money(a[2], sizeof(a[2]), overlmt);
  money(a[3], sizeof(a[3]), presel);
  money(a[4], sizeof(a[4]), inscp);
  money(a[5], sizeof(a[5]), fund);
  len = snprintf(
      b, cap,
      "{\"setl_id\":\"L%s-%" PRIu64 "\",\"psn_no\":\"%s%08" PRIu64 "\","
      "\"setl_time\":\"2024-%02d-%02d %02d:%02d:%02d\",\"med_type\":%d,"
      "\"insutype\":390,\"medfee_sumamt\":%s,\"fulamt_ownpay_amt\":%s,"
      "\"overlmt_selfpay\":%s,\"preselfpay_amt\":%s,\"inscp_scp_amt\":%s,"
      "\"fund_pay_sumamt\":%s,\"hifp_pay\":%s,\"psn_part_amt\":\"%" PRIu64 ".%02" PRIu64 "\"}",
      o.run_id, n, o.psn_prefix, mix64(n) % o.psn_count, (int)month + 1, (int)day + 1,
      (int)draw(&st, 7, 20), (int)draw(&st, 0, 59), (int)draw(&st, 0, 59), med_type, a[0], a[1],
      a[2], a[3], a[4], a[5], a[5], (medfee - fund) / 100, (medfee - fund) % 100);
  return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

static void build_request(struct conn *c, uint64_t n)
{
  char body[2048];
  size_t blen;
  int len;

  c->n = n;
  c->out_off = 0;
  if (!o.path) {
    blen = settle_body(n, body, sizeof(body));
    len = snprintf(c->out, sizeof(c->out),
                   "POST /v1/settlements HTTP/1.1\r\nHost: %s:%d\r\nX-API-Key: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
                   o.host, o.port, o.key ? o.key : "", blen, (int)blen, body);
  } else if (o.key) {
    len =
        snprintf(c->out, sizeof(c->out), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nX-API-Key: %s\r\n\r\n",
                 o.path, o.host, o.port, o.key);
  } else {
    len = snprintf(c->out, sizeof(c->out), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", o.path, o.host,
                   o.port);
  }
  c->out_len = len > 0 && (size_t)len < sizeof(c->out) ? (size_t)len : 0;
}

static int conn_open(struct conn *c)
{
  int one = 1;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0)
    return -1;
  if (connect(c->fd, (struct sockaddr *)&target, sizeof(target))) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  c->in_len = 0;
  return 0;
}

static void conn_close(struct conn *c)
{
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->busy = false;
  c->in_len = 0;
}

/* Take the next request number, or false when the run is over. */
static bool ticket(uint64_t *n)
{
  if (now_ns() >= deadline_ns)
    return false;
  *n = atomic_fetch_add(&issued, 1);
  return !o.count || *n < o.count;
}

static void record(struct worker *w, struct conn *c, int status)
{
  uint64_t us = (now_ns() - c->t0) / 1000u;
  if (w->nlat == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 65536;
    uint64_t *p = realloc(w->lat, cap * sizeof(*p));
    if (p) {
      w->lat = p;
      w->cap = cap;
    }
  }
  if (w->nlat < w->cap)
    w->lat[w->nlat++] = us;
  w->status[status > 0 && status < STATUS_MAX ? status : 0]++;
  if (status == 200 && !o.path && o.record_fd >= 0) {
    char line[64];
    int len = snprintf(line, sizeof(line), "L%s-%" PRIu64 "\n", o.run_id, c->n);
    if (len > 0 && write(o.record_fd, line, (size_t)len) != len)
      w->conn_errors++;
  }
}

/*
 * Parse a complete response in c->in; returns its status and sets *used,
 * 0 when incomplete, -1 when malformed. *close when the server closes.
 */
static int parse_response(struct conn *c, size_t *used, bool *close_after)
{
  char *end, *p;
  size_t hlen, clen = 0;
  int status;

  c->in[c->in_len] = '\0';
  end = strstr(c->in, "\r\n\r\n");
  if (!end)
    return c->in_len >= IN_MAX - 1 ? -1 : 0;
  hlen = (size_t)(end - c->in) + 4;
  if (strncmp(c->in, "HTTP/1.", 7) || c->in_len < 12)
    return -1;
  status = (c->in[9] - '0') * 100 + (c->in[10] - '0') * 10 + (c->in[11] - '0');
  *close_after = false;
  for (p = strstr(c->in, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
    char *h = p + 2;
    if (!strncasecmp(h, "Content-Length:", 15))
      clen = (size_t)strtoull(h + 15, NULL, 10);
    else if (!strncasecmp(h, "Connection:", 11) && strstr(h, "close") &&
             strstr(h, "close") < strstr(h, "\r\n"))
      *close_after = true;
  }
  if (hlen + clen >= IN_MAX)
    return -1;
  if (c->in_len < hlen + clen)
    return 0;
  *used = hlen + clen;
  return status;
}

static void *run(void *arg)
{
  struct worker *w = arg;
  struct pollfd *pf = calloc((size_t)w->nconns, sizeof(*pf));
  int i, active;

  if (!pf)
    return NULL;
  for (;;) {
    active = 0;
    for (i = 0; i < w->nconns; i++) {
      struct conn *c = &w->conns[i];
      uint64_t n;
      if (!c->busy && ticket(&n)) {
        if (c->fd < 0 && conn_open(c)) {
          w->conn_errors++;
          continue;
        }
        build_request(c, n);
        c->busy = true;
        c->t0 = now_ns();
      }
      if (c->busy && c->out_off < c->out_len) {
        ssize_t k = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (k > 0)
          c->out_off += (size_t)k;
        else if (k < 0 && errno != EAGAIN && errno != EINTR) {
          w->conn_errors++;
          conn_close(c);
          continue;
        }
      }
      pf[i].fd = c->busy ? c->fd : -1;
      pf[i].events = (short)(POLLIN | (c->out_off < c->out_len ? POLLOUT : 0));
      pf[i].revents = 0;
      active += c->busy;
    }
    if (!active)
      break;
    if (poll(pf, (nfds_t)w->nconns, 1000) < 0 && errno != EINTR)
      break;
    for (i = 0; i < w->nconns; i++) {
      struct conn *c = &w->conns[i];
      ssize_t k;
      size_t used = 0;
      bool close_after = false;
      int status;
      if (!c->busy || !(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
        continue;
      k = read(c->fd, c->in + c->in_len, IN_MAX - 1 - c->in_len);
      if (k <= 0) {
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
          continue;
        w->conn_errors++;
        conn_close(c);
        continue;
      }
      c->in_len += (size_t)k;
      status = parse_response(c, &used, &close_after);
      if (!status)
        continue;
      if (status < 0) {
        w->conn_errors++;
        conn_close(c);
        continue;
      }
      record(w, c, status);
      c->busy = false;
      memmove(c->in, c->in + used, c->in_len - used);
      c->in_len -= used;
      if (close_after)
        conn_close(c);
    }
  }
  free(pf);
  return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void usage(void)
{
  fprintf(stderr, "usage: load_http [--host 127.0.0.1] [--port 8080] [--key KEY]\n"
                  "                 [--connections 64] [--threads 2] [--count N] [--seconds S]\n"
                  "                 [--path /health | --settle PSN_PREFIX:COUNT] [--run-id ID]\n"
                  "                 [--record FILE]\n");
  exit(2);
}

static uint64_t num(const char *s)
{
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s || *end)
    usage();
  return (uint64_t)v;
}

int main(int argc, char **argv)
{
  struct worker *w;
  uint64_t t0, t1, total = 0, errors, *all;
  uint64_t status[STATUS_MAX] = {0}, conn_errors = 0;
  size_t nall = 0, k;
  const char *record_path = NULL;
  int i;
  double secs;

  o.host = "127.0.0.1";
  o.port = 8080;
  o.connections = 64;
  o.threads = 2;
  o.record_fd = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    i++;
    if (!strcmp(a, "--host"))
      o.host = v;
    else if (!strcmp(a, "--port"))
      o.port = (int)num(v);
    else if (!strcmp(a, "--key"))
      o.key = v;
    else if (!strcmp(a, "--connections"))
      o.connections = (int)num(v);
    else if (!strcmp(a, "--threads"))
      o.threads = (int)num(v);
    else if (!strcmp(a, "--count"))
      o.count = num(v);
    else if (!strcmp(a, "--seconds"))
      o.seconds = num(v);
    else if (!strcmp(a, "--path"))
      o.path = v;
    else if (!strcmp(a, "--run-id"))
      snprintf(o.run_id, sizeof(o.run_id), "%s", v);
    else if (!strcmp(a, "--record"))
      record_path = v;
    else if (!strcmp(a, "--settle")) {
      const char *colon = strrchr(v, ':');
      if (!colon || (size_t)(colon - v) >= sizeof(o.psn_prefix))
        usage();
      memcpy(o.psn_prefix, v, (size_t)(colon - v));
      o.psn_count = num(colon + 1);
      if (!o.psn_count || o.psn_count > 100000000u)
        usage();
    } else
      usage();
  }
  if (o.psn_count && o.path)
    usage();
  if (!o.psn_count && !o.path)
    o.path = "/health";
  if (o.connections < 1 || o.threads < 1 || o.port < 1 || o.port > 65535)
    usage();
  if (o.threads > o.connections)
    o.threads = o.connections;
  if (!o.count && !o.seconds)
    o.seconds = 10;
  if (!o.run_id[0])
    snprintf(o.run_id, sizeof(o.run_id), "%lx%x", (unsigned long)time(NULL) & 0xffffffu,
             (unsigned)getpid() & 0xfffu);
  if (record_path) {
    o.record_fd = open(record_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (o.record_fd < 0) {
      fprintf(stderr, "load_http: %s: %s\n", record_path, strerror(errno));
      return 2;
    }
  }
  memset(&target, 0, sizeof(target));
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)o.port);
  if (inet_pton(AF_INET, o.host, &target.sin_addr) != 1) {
    fprintf(stderr, "load_http: --host must be a numeric IPv4 address\n");
    return 2;
  }

  w = calloc((size_t)o.threads, sizeof(*w));
  if (!w)
    return 2;
  for (i = 0; i < o.threads; i++) {
    int j;
    w[i].nconns = o.connections / o.threads + (i < o.connections % o.threads);
    w[i].conns = calloc((size_t)w[i].nconns, sizeof(struct conn));
    if (!w[i].conns)
      return 2;
    for (j = 0; j < w[i].nconns; j++) {
      struct conn *c = &w[i].conns[j];
      c->in = malloc(IN_MAX);
      if (!c->in)
        return 2;
      if (conn_open(c)) {
        fprintf(stderr, "load_http: connect %s:%d: %s\n", o.host, o.port, strerror(errno));
        return 2;
      }
    }
  }
  t0 = now_ns();
  deadline_ns = o.seconds ? t0 + o.seconds * 1000000000u : UINT64_MAX;
  for (i = 0; i < o.threads; i++)
    pthread_create(&w[i].th, NULL, run, &w[i]);
  for (i = 0; i < o.threads; i++)
    pthread_join(w[i].th, NULL);
  t1 = now_ns();

  for (i = 0; i < o.threads; i++) {
    for (k = 0; k < STATUS_MAX; k++)
      status[k] += w[i].status[k];
    conn_errors += w[i].conn_errors;
    nall += w[i].nlat;
  }
  all = malloc((nall ? nall : 1) * sizeof(*all));
  if (!all)
    return 2;
  nall = 0;
  for (i = 0; i < o.threads; i++) {
    if (w[i].nlat)
      memcpy(all + nall, w[i].lat, w[i].nlat * sizeof(*all));
    nall += w[i].nlat;
  }
  qsort(all, nall, sizeof(*all), cmp_u64);
  for (k = 0; k < STATUS_MAX; k++)
    total += status[k];
  errors = total - status[200] - status[201] + conn_errors;
  secs = (double)(t1 - t0) / 1e9;
  printf("load_http: %s %s, %d connections, %d threads, run %s\n", o.path ? "GET" : "POST",
         o.path ? o.path : "/v1/settlements", o.connections, o.threads, o.run_id);
  printf("requests     %" PRIu64 " in %.3f s\n", total, secs);
  printf("req/s        %.1f\n", secs > 0 ? (double)total / secs : 0.0);
  for (k = 0; k < STATUS_MAX; k++)
    if (status[k])
      printf("status %3zu   %" PRIu64 "\n", k, status[k]);
  printf("errors       %" PRIu64 " (non-2xx %" PRIu64 ", connection %" PRIu64 ")\n", errors,
         errors - conn_errors, conn_errors);
  if (nall)
    printf("latency us   p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  max %" PRIu64 "\n",
           all[nall * 50 / 100], all[nall * 90 / 100], all[nall * 99 / 100], all[nall - 1]);
  if (o.record_fd >= 0)
    close(o.record_fd);
  return 0;
}

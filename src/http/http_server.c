#include "compat.h"
#include "http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

enum req_state {
  Q_READING = 0, /* receiving the body */
  Q_WAITING,     /* job queued, connection suspended */
  Q_DONE         /* job completed, connection resumed: answer it */
};

/* Everything one request owns; freed by on_completed(). */
struct srv_req {
  struct http_server *srv;
  struct MHD_Connection *conn;
  struct buf body;
  bool too_large, nomem, submit_failed;
  _Atomic int state;
  uint64_t t0_ns;
  struct http_req req;
};

struct http_server {
  struct MHD_Daemon *mhd;
  struct http_api *api;
  struct svc *svc;
  unsigned port;
  bool log_requests, log_probes;

  /* Jobs between svc_submit() and their done callback. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned long pending;
  bool stopping;
};

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void log_request(struct srv_req *q)
{
  struct http_server *srv = q->srv;
  const char *route = q->req.route;
  uint64_t us = (now_ns() - q->t0_ns) / 1000u;

  if (!srv->log_requests)
    return;
  if (!srv->log_probes && (!strcmp(route, "/health") || !strcmp(route, "/metrics")))
    return;
  /* Route templates only: ids in the path may be personal data. */
  fprintf(stderr, "http: %s %s %d %" PRIu64 "us%s\n", q->req.method, route, q->req.status, us,
          q->req.replay ? " replay" : "");
}

static enum MHD_Result queue(struct srv_req *q)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  size_t len;
  char *body = buf_detach(&q->req.resp, &len);

  resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, q->req.content_type);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (q->req.replay)
    MHD_add_response_header(resp, "Idempotent-Replay", "true");
  if (q->req.status == 401)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  if (q->req.status == 503)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  ret = MHD_queue_response(q->conn, (unsigned)q->req.status, resp);
  MHD_destroy_response(resp);
  http_api_count(q->srv->api, q->req.status);
  log_request(q);
  return ret;
}

/*
 * The job's completion, on the service's writer thread. After
 * MHD_resume_connection() the request may be answered and freed at once
 * by an MHD thread, so q is not touched after it.
 */
static void job_done(struct svc_job *job)
{
  struct srv_req *q = job->ctx;
  struct http_server *srv = q->srv;
  struct MHD_Connection *conn = q->conn;

  atomic_store_explicit(&q->state, Q_DONE, memory_order_release);
  MHD_resume_connection(conn);
  pthread_mutex_lock(&srv->mu);
  if (--srv->pending == 0 && srv->stopping)
    pthread_cond_broadcast(&srv->cv);
  pthread_mutex_unlock(&srv->mu);
}

static enum MHD_Result submit(struct srv_req *q)
{
  struct http_server *srv = q->srv;
  enum hmb_status result;

  pthread_mutex_lock(&srv->mu);
  if (srv->stopping) {
    pthread_mutex_unlock(&srv->mu);
    http_api_fail(&q->req, 503, "server.stopping", NULL, "服务正在停止，请稍后重试");
    return queue(q);
  }
  srv->pending++;
  pthread_mutex_unlock(&srv->mu);

  q->req.job.done = job_done;
  q->req.job.ctx = q;
  atomic_store_explicit(&q->state, Q_WAITING, memory_order_relaxed);
  /* Suspend before queueing: done may run before svc_submit() returns. */
  MHD_suspend_connection(q->conn);
  result = svc_submit(srv->svc, &q->req.job);
  if (result) {
    /* done will not be called: complete the job here. */
    q->submit_failed = true;
    job_done(&q->req.job);
  }
  return MHD_YES;
}

static enum MHD_Result dispatch(struct srv_req *q, struct MHD_Connection *conn)
{
  struct http_req *r = &q->req;
  const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");

  if (!key) {
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
      key = auth + 7;
      while (*key == ' ')
        key++;
    }
  }
  r->key = key;
  r->key_len = key ? strlen(key) : 0;
  r->body = q->body.ptr;
  r->body_len = q->body.len;
  if (q->too_large) {
    char msg[128];
    snprintf(msg, sizeof(msg), "请求体超过上限 %zu 字节", q->body.limit);
    http_api_fail(r, 413, "http.too_large", NULL, msg);
    r->route = "(body too large)";
    return queue(q);
  }
  if (q->nomem) {
    http_api_fail(r, 503, "server.nomem", NULL, "服务器内存不足，请稍后重试");
    return queue(q);
  }
  if (http_api_dispatch(q->srv->api, r) == HTTP_API_JOB)
    return submit(q);
  return queue(q);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
  struct http_server *srv = cls;
  struct srv_req *q = *con_cls;

  (void)version;
  if (!q) {
    /* First call: headers only. Never answer here (MHD would close). */
    q = hmb_calloc(1, sizeof(*q));
    if (!q)
      return MHD_NO;
    q->srv = srv;
    q->conn = conn;
    q->t0_ns = now_ns();
    buf_init(&q->body, http_api_body_limit(method, url));
    http_req_init(&q->req);
    q->req.method = method;
    q->req.url = url;
    *con_cls = q;
    return MHD_YES;
  }
  if (*upload_size) {
    if (!q->too_large && !q->nomem) {
      enum hmb_status result = buf_add(&q->body, upload, *upload_size);
      if (result == HMB_TOO_LARGE) {
        q->too_large = true;
        buf_release(&q->body); /* the rest is read and dropped */
      } else if (result) {
        q->nomem = true;
        buf_release(&q->body);
      }
    }
    *upload_size = 0;
    return MHD_YES;
  }
  switch (atomic_load_explicit(&q->state, memory_order_acquire)) {
  case Q_READING: return dispatch(q, conn);
  case Q_WAITING: return MHD_YES; /* not resumed yet */
  default: break;
  }
  if (q->submit_failed)
    http_api_fail(&q->req, 503, "server.stopping", NULL, "服务正在停止，请稍后重试");
  else
    http_api_job_finish(srv->api, &q->req);
  return queue(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct srv_req *q = *con_cls;

  (void)cls;
  (void)conn;
  (void)toe;
  if (!q)
    return;
  /* A suspended request is never completed: stop waits for its job. */
  ASSERT(atomic_load(&q->state) != Q_WAITING);
  buf_release(&q->body);
  http_req_release(&q->req);
  free(q);
  *con_cls = NULL;
}

enum hmb_status http_server_start(struct http_server **out, struct http_api *api, struct svc *svc,
                                  const struct http_server_opts *o, struct hmb_err *err)
{
  struct http_server *srv;
  struct sockaddr_storage sa;
  const char *bind = o->bind ? o->bind : "127.0.0.1";
  unsigned flags =
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;

  *out = NULL;
  if (o->port > 65535)
    return hmb_err_set(err, HMB_INVALID, "http.port", "port", "端口应在 0 到 65535 之间");
  memset(&sa, 0, sizeof(sa));
  if (inet_pton(AF_INET, bind, &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
    struct sockaddr_in *in = (struct sockaddr_in *)&sa;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)o->port);
  } else if (inet_pton(AF_INET6, bind, &((struct sockaddr_in6 *)&sa)->sin6_addr) == 1) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)o->port);
    flags |= MHD_USE_IPv6;
  } else {
    return hmb_err_set(err, HMB_INVALID, "http.bind", "bind",
                       "监听地址应为数字形式的 IPv4 或 IPv6 地址（如 127.0.0.1）");
  }
  srv = hmb_calloc(1, sizeof(*srv));
  if (!srv)
    return hmb_err_set(err, HMB_NOMEM, "server.nomem", NULL, "内存不足");
  srv->api = api;
  srv->svc = svc;
  srv->log_requests = o->log_requests;
  srv->log_probes = o->log_probes;
  pthread_mutex_init(&srv->mu, NULL);
  pthread_cond_init(&srv->cv, NULL);
  srv->mhd = MHD_start_daemon(
      flags, (uint16_t)o->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 2),
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s ? o->timeout_s : 30),
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)(o->max_conns ? o->max_conns : 1024),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(o->max_per_ip ? o->max_per_ip : 512),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(o->conn_memory ? o->conn_memory : 64 * 1024),
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
      MHD_OPTION_END);
  if (!srv->mhd) {
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    return hmb_err_set(err, HMB_IO, "http.listen", "bind",
                       "无法在 %s:%u 上监听（端口被占用或无权限）", bind, o->port);
  }
  info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = info ? info->port : o->port;
  *out = srv;
  return HMB_OK;
}

unsigned http_server_port(const struct http_server *srv)
{
  return srv->port;
}

void http_server_stop(struct http_server *srv)
{
  if (!srv)
    return;
  /* MHD refuses to stop with suspended connections: let every queued
   * job finish and resume its connection first. New jobs get 503. */
  pthread_mutex_lock(&srv->mu);
  srv->stopping = true;
  while (srv->pending)
    pthread_cond_wait(&srv->cv, &srv->mu);
  pthread_mutex_unlock(&srv->mu);
  MHD_stop_daemon(srv->mhd);
  pthread_cond_destroy(&srv->cv);
  pthread_mutex_destroy(&srv->mu);
  free(srv);
}

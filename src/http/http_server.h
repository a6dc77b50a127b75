/*
 * http_server.h - the `hmb serve` HTTP engine on libmicrohttpd.
 *
 * Model: MHD's internal poll threads (a pool of opts.threads; never epoll,
 * which stalls at multiples of 128 ready connections in 0.9.75). Each
 * request gets one heap struct on MHD's first call, which only sets it up
 * (queueing a response there would force "Connection: close"); the next
 * calls append the body to a capped buffer (http_api_body_limit(): 1 MiB
 * JSON, 64 MiB roster CSV; beyond it the rest is read and dropped and the
 * answer is 413); the last call dispatches through http_api. Settlement
 * jobs are handed to the service's writer with the connection suspended;
 * the job's completion (on the writer thread) resumes it and the response
 * is queued on MHD's next call. Everything the request made is freed when
 * MHD reports the request completed.
 *
 * Logging: one line per request on stderr with the method, the route
 * template (never ids from the path), the status and the duration; probes
 * (/health, /metrics) are not logged unless opts.log_probes.
 *
 * Threads: http_server_start() and http_server_stop() are called by one
 * thread. The caller blocks SIGINT/SIGTERM (and handles them) itself;
 * SIGPIPE is ignored by MHD.
 */
#ifndef HMB_HTTP_SERVER_H
#define HMB_HTTP_SERVER_H

#include "http_api.h"

struct http_server_opts {
  const char *bind;    /* numeric IPv4 or IPv6 address; NULL: 127.0.0.1 */
  unsigned port;       /* 0: any free port (see http_server_port()) */
  unsigned threads;    /* MHD poll threads; 0: 2 */
  unsigned timeout_s;  /* idle connection timeout; 0: 30 */
  unsigned max_conns;  /* connections in all; 0: 1024 */
  unsigned max_per_ip; /* connections from one address; 0: 512 */
  size_t conn_memory;  /* MHD's per-connection memory for headers; 0: 64 KiB */
  bool log_requests;   /* one stderr line per request */
  bool log_probes;     /* also for /health and /metrics */
};

struct http_server;

/*
 * Listen and serve api (borrowed: it and its svc must outlive the
 * server). On failure *out is NULL and err says why (http.listen when the
 * address cannot be bound).
 */
enum hmb_status http_server_start(struct http_server **out, struct http_api *api, struct svc *svc,
                                  const struct http_server_opts *o, struct hmb_err *err);

/* The port actually bound. */
unsigned http_server_port(const struct http_server *srv);

/*
 * Stop: refuse new settlement jobs (503), wait until every queued job has
 * completed and resumed its connection, then stop MHD (closing every
 * connection) and free the server. The service must still be open.
 */
void http_server_stop(struct http_server *srv);

#endif /* HMB_HTTP_SERVER_H */

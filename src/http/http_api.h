/*
 * http_api.h - the routes of hmb's HTTP API (docs/api.md), independent of
 * the HTTP engine: the server (http_server.c) hands over a parsed request
 * and gets back either a response or a settlement job to queue, so the
 * router can also be driven in-process by tests without sockets.
 *
 * Authentication: the API key of the request (X-API-Key, or
 * "Authorization: Bearer KEY", extracted by the server) is checked with
 * svc_key_check(). A positive answer is cached for at most
 * HTTP_API_KEY_CACHE_MS so that a revoked key stops working within that
 * time; unknown keys are never cached.
 *
 * Errors: every error body is {"error":{"code","field","message"}} with a
 * stable English code and a Chinese message; service errors get the
 * status of svc_http_status().
 *
 * Personal data: nothing here logs. http_req.route is the path template
 * ("/v1/persons/{psn_no}"), never the path itself, for the server's log.
 *
 * Threads: one struct http_api is shared by every server thread; a struct
 * http_req belongs to one request and is used by one thread at a time.
 */
#ifndef HMB_HTTP_API_H
#define HMB_HTTP_API_H

#include "svc.h"

#define HTTP_API_JSON_MAX     (1024u * 1024u)       /* JSON request bodies */
#define HTTP_API_CSV_MAX      (64u * 1024u * 1024u) /* the roster CSV upload */
#define HTTP_API_RESP_MAX     (256u * 1024u * 1024u)
#define HTTP_API_KEY_CACHE_MS 1000

struct http_api;

/*
 * One request. The server sets the inputs (all borrowed for the request's
 * lifetime; body NUL-terminated at body[body_len]); the router fills the
 * results. Initialise with http_req_init(), free what the router made with
 * http_req_release().
 */
struct http_req {
  /* inputs */
  const char *method;
  const char *url; /* path only, percent-decoded */
  const char *key; /* API key, NULL when none was sent */
  size_t key_len;
  const char *body;
  size_t body_len;

  /* results */
  const char *route; /* static path template for logs */
  int status;
  const char *content_type; /* static */
  struct buf resp;          /* response body */
  bool replay;              /* add "Idempotent-Replay: true" */
  bool job_queued;          /* http_api_dispatch() returned HTTP_API_JOB */
  struct svc_job job;       /* the settlement job (ctx and done are the server's) */
  struct buf job_body;      /* a body rebuilt for the job (reversal) */
};

void http_req_init(struct http_req *r);
void http_req_release(struct http_req *r);

enum http_api_next {
  HTTP_API_RESPOND = 0, /* r->status, r->resp and r->content_type are set */
  HTTP_API_JOB          /* r->job.op, body and len are set: submit it, then call
                         * http_api_job_finish() once done has run */
};

/*
 * Make the router over svc. plans_dir is where list files named by plans
 * are looked up (copied). Free with http_api_free().
 */
enum hmb_status http_api_new(struct http_api **out, struct svc *svc, const char *plans_dir,
                             struct hmb_err *err);
void http_api_free(struct http_api *api);

/* The largest body accepted for this method and path. */
size_t http_api_body_limit(const char *method, const char *url);

/* Route, authenticate and run the request (synchronously, except
 * settlement jobs). */
enum http_api_next http_api_dispatch(struct http_api *api, struct http_req *r);

/* Turn a completed job (r->job results) into the response. */
void http_api_job_finish(struct http_api *api, struct http_req *r);

/* Make r an error response (status, code, field may be NULL, message). */
void http_api_fail(struct http_req *r, int status, const char *code, const char *field,
                   const char *message);

/* Count a response by its status class for /metrics. */
void http_api_count(struct http_api *api, int status);

#endif /* HMB_HTTP_API_H */

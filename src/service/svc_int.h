/*
 * svc_int.h - what the service's modules (svc.c, settle.c, roster.c,
 * enroll.c) share. Not for the faces: they use svc.h.
 */
#ifndef HMB_SVC_INT_H
#define HMB_SVC_INT_H

#include <pthread.h>

#include "pii.h"
#include "svc.h"

#define SVC_MAX_PLANS 64
#define SVC_POOL_MAX  32 /* idle store handles kept */

struct svc_plan {
  struct plan plan;
  char *json; /* as stored */
};

struct svc {
  char *db_url;
  hmb_date fixed_today;
  unsigned group_max;
  bool no_pipeline;
  struct pii pii;

  /* plans: appended under plans_mu, never removed while open */
  pthread_mutex_t plans_mu;
  struct svc_plan *plans[SVC_MAX_PLANS];
  int nplans;

  /* idle store handles */
  pthread_mutex_t pool_mu;
  struct store *pool[SVC_POOL_MAX];
  int npool;

  /* the settlement writer (settle.c) */
  pthread_mutex_t q_mu;
  pthread_cond_t q_cv;
  struct svc_job *q_head, *q_tail;
  size_t q_len;
  bool closing;
  bool writer_started;
  pthread_t writer;
  pthread_cond_t ckpt_cv; /* with q_mu: wakes the checkpointer at close */
  /* committed groups waiting for their sync (settle.c) */
  pthread_mutex_t sync_mu;
  pthread_cond_t sync_cv;
  struct svc_group *sync_head, *sync_tail;
  bool writer_done;
  pthread_t syncer;
  bool syncer_started;
  pthread_t ckpt;
  bool ckpt_started;
  struct store *wstore; /* the writer's own handle */
  struct svc_writer *w; /* the writer's caches (settle.c) */

  pthread_mutex_t stats_mu;
  struct svc_stats stats;
};

/* Take a store handle for this call (opened when the pool is empty) and
 * give it back afterwards (outside any transaction). */
enum hmb_status svc_store_take(struct svc *svc, struct store **out, struct hmb_err *err);
void svc_store_give(struct svc *svc, struct store *s);

/* A read transaction on a pooled handle, and its end (rollback + give
 * back). After a failed svc_read_begin() there is nothing to end. */
enum hmb_status svc_read_begin(struct svc *svc, struct store **out, struct hmb_err *err);
void svc_read_end(struct svc *svc, struct store *s);

/* settle.c: start and stop the writer thread. */
enum hmb_status svc_writer_start(struct svc *svc, struct hmb_err *err);
void svc_writer_stop(struct svc *svc);

/* enroll.c: is the person covered by plan p on `day` (enrolled and paid,
 * not cancelled, cover started, basic insurance not suspended or ended)?
 * Returns HMB_OK and fills *e, or the refusal (cover.* codes). Runs inside
 * the caller's transaction on s. */
enum hmb_status svc_cover_check(struct svc *svc, struct store *s, const struct plan *p,
                                const char *psn_no, hmb_date day, struct store_enrollment *e,
                                struct hmb_err *err);

/* svc_cover_check() on what is already read: the enrollment (NULL when
 * none) and the roster status on the day (0 when none recorded). */
enum hmb_status svc_cover_judge(const struct plan *p, const char *psn_no, hmb_date day,
                                const struct store_enrollment *en, int status, struct hmb_err *err);

/* The adj_person of an enrollment (variants: preexisting, loyalty, age,
 * scheme, groups) for adj_terms_resolve(). groups points into person. */
void svc_adj_person(const struct plan *p, const struct store_person *person,
                    const struct store_enrollment *e, struct adj_person *out);

#endif /* HMB_SVC_INT_H */

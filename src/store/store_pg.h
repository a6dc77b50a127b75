/*
 * store_pg.h - the PostgreSQL implementation of store.h (libpq).
 *
 * One handle is one server connection (used by one thread at a time),
 * opened from a "postgres://" or "postgresql://" URL handed to libpq as
 * is. The session runs with synchronous_commit=on (a commit returns when
 * it is durable on the server), client_encoding UTF8, a statement timeout
 * of 30 s and a lock timeout of 10 s. The schema mirrors store_sqlite.c
 * (same tables, columns, constraints and migration numbers); migrations
 * run under a transaction-level advisory lock, so servers starting at once
 * migrate once. Statements are prepared per connection on first use.
 *
 * Several processes may share one database. In a write transaction
 * state_get() locks the person's state row until commit or rollback, so
 * two servers settling the same person run one after the other; deadlocks,
 * serialization failures and lock timeouts come back as HMB_CONFLICT with
 * code "store.retry", a concurrent duplicate insert as "store.unique".
 * Unlike SQLite, a failed statement aborts the whole transaction (or the
 * open savepoint): the caller rolls back, as store.h requires anyway. The
 * expected refusals (a repeated settlement, an overspent sponsor budget, an
 * ID number held by another person) are detected without an error, so the
 * transaction stays usable after them as with SQLite.
 *
 * With pipeline() on, a write transaction runs in libpq's pipeline mode:
 * BEGIN, SAVEPOINT, lock_keys, the state row's creation, setl_put (then
 * failing on a duplicate with a server error, "store.unique", so that the
 * server skips the rest of the job's statements) and state_put are queued
 * and sent with the next call that reads; setl_reads sends its reads in
 * one round trip; release and commit sync. Other calls work as before,
 * each syncing what is queued; person_put_many (COPY) is refused.
 *
 * checkpoint, autocheckpoint, deferred_sync and sync are no-ops: the server
 * manages its own log and every commit is durable.
 */
#ifndef HMB_STORE_PG_H
#define HMB_STORE_PG_H

#include "store.h"

/* Connect to url and migrate the schema; HMB_IO "store.connection" when the
 * server cannot be reached. The handle is freed with store_close(). */
enum hmb_status store_pg_open(struct store **out, const char *url, struct hmb_err *err);

#endif /* HMB_STORE_PG_H */

/*
 * store_sqlite.h - the embedded SQLite implementation of store.h.
 *
 * One database file in WAL mode with synchronous=FULL (every commit is
 * durable), foreign keys on, STRICT tables, money as INTEGER fen, the
 * schema version in table schema_version, prepared statements cached per
 * handle. A handle is one connection (SQLITE_OPEN_NOMUTEX): one thread at
 * a time. Opening creates the file and migrates the schema as needed.
 */
#ifndef HMB_STORE_SQLITE_H
#define HMB_STORE_SQLITE_H

#include "store.h"

enum hmb_status store_sqlite_open(struct store **out, const char *path, struct hmb_err *err);

#endif /* HMB_STORE_SQLITE_H */

#!/usr/bin/env bash
# House rules clang-format cannot express (curl's checksrc.pl in spirit).
# Exits non-zero and names file:line for every violation.
set -u
cd "$(dirname "$0")/.."
rc=0
fail() { echo "checksrc: $*"; rc=1; }

# Layers: core includes nothing above it; domain never includes I/O, database or HTTP headers.
while IFS= read -r hit; do fail "$hit: core must not include a higher layer"; done < <(
  grep -nE '#include "(plan|adjudicate|settlement|profile|plan_json|setl_reader|people|cli)\.h"' src/core/*.[ch])
while IFS= read -r hit; do fail "$hit: domain must not include I/O, database or HTTP headers"; done < <(
  grep -nE '#include [<"](sqlite3|libpq-fe|microhttpd|jansson|csv|plan_json|setl_reader|people|cli)\.h[>"]' src/domain/*.[ch])
# store knows no service or face; service knows no HTTP; only store/ talks to a database.
while IFS= read -r hit; do fail "$hit: store must not include service, HTTP or CLI headers"; done < <(
  grep -nE '#include [<"](svc|svc_int|pii|http_[a-z]+|cli|microhttpd)\.h[>"]' src/store/*.[ch])
while IFS= read -r hit; do fail "$hit: service must not include HTTP or CLI headers"; done < <(
  grep -nE '#include [<"](http_[a-z]+|cli|microhttpd)\.h[>"]' src/service/*.[ch])
while IFS= read -r hit; do fail "$hit: only store/ may include a database client"; done < <(
  grep -nE '#include [<"](sqlite3|libpq-fe)\.h[>"]' src/core/*.[ch] src/domain/*.[ch] src/io/*.[ch] src/service/*.[ch] src/http/*.[ch] src/cli/*.[ch])
# Every .c includes compat.h first.
for f in src/*/*.c; do
  [ -f "$f" ] || continue
  first=$(grep -m1 -E '^#include' "$f")
  [ "$first" = '#include "compat.h"' ] || fail "$f: first include must be \"compat.h\" (is: $first)"
done
# No C++ comments, no '== NULL', no double or float next to money in core/domain.
while IFS= read -r hit; do fail "$hit: use /* */ comments"; done < <(grep -nE '^\s*//' src/*/*.[ch])
while IFS= read -r hit; do fail "$hit: write !p instead of p == NULL"; done < <(grep -nE '== NULL' src/*/*.[ch] | grep -vE '^[^:]+:[0-9]+:\s*/?\*')
while IFS= read -r hit; do fail "$hit: money is int64 fen, never floating point"; done < <(
  grep -nwE 'double|float' src/core/*.[ch] src/domain/*.[ch])
exit $rc

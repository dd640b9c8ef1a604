#!/usr/bin/env bash
# bench/audit.sh: audit log appends under concurrency, and what circulation appends.
#
#   bench/audit.sh [--clients N] [--duration SEC]
#
# In a throwaway cluster (the extension must be installed):
#   1. N sessions (default 8) append entries through pals_privacy._audit() for SEC seconds:
#      entries per second, and verify_audit() over the result (the chain must stay intact);
#   2. the circulation mix (bench/circulation.sql, as ils_app) on the bound sample consortium
#      (scale 0.2): the number of audit entries it appended (expected: none).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
CLIENTS=8; DURATION=10; INNER=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --inner) INNER=1 ;;
        *) echo "audit.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    exec pg_virtualenv -t -o shared_preload_libraries=pals_privacy -o synchronous_commit=off \
        bash "$0" "${ARGS[@]}" --inner
fi
export PGOPTIONS='-c client_min_messages=warning'
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
script=$(mktemp); trap 'rm -f "$script"' EXIT
echo "SELECT pals_privacy._audit('bench.append', jsonb_build_object('client', :client_id::int));" >"$script"

createdb lib
q -d lib -f "$ROOT/demo/schema.sql" >/dev/null
q -d lib -v scale=0.2 -f "$ROOT/demo/generate.sql" >/dev/null
q -d lib -f "$ROOT/demo/roles.sql" >/dev/null
q -d lib -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" -c 'CALL pals_privacy.sever_backlog()' >/dev/null

before=$(psql -XAtq -d lib -c 'SELECT count(*) FROM pals_privacy.audit_log')
tps=$(pgbench -n -f "$script" -c "$CLIENTS" -j 2 -T "$DURATION" -M prepared lib 2>&1 |
      awk '/^tps = / && /without initial/ {print $3}')
after=$(psql -XAtq -d lib -c 'SELECT count(*) FROM pals_privacy.audit_log')
bad=$(psql -XAtq -d lib -c 'SELECT coalesce(pals_privacy.verify_audit()::text, $$none$$)')

pass="bench_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
q -d postgres -c "ALTER ROLE ils_app LOGIN PASSWORD '$pass'" >/dev/null
n0=$(psql -XAtq -d lib -c 'SELECT count(*) FROM pals_privacy.audit_log')
circ=$(PGUSER=ils_app PGPASSWORD="$pass" pgbench -n -f "$HERE/circulation.sql" -c 4 -j 2 -T "$DURATION" -M prepared \
        -D nitems="$(psql -XAtq -d lib -c 'SELECT max(id) FROM demo.items')" \
        -D npatrons="$(psql -XAtq -d lib -c 'SELECT max(id) FROM demo.patrons')" lib 2>&1 |
       awk '/number of transactions actually processed/ {print $NF}')
n1=$(psql -XAtq -d lib -c 'SELECT count(*) FROM pals_privacy.audit_log')

echo
echo "pals_privacy audit bench: $CLIENTS sessions, ${DURATION}s"
printf '%-52s %s\n' "audit entries appended per second" "$tps"
printf '%-52s %s\n' "entries appended in the run" "$((after - before))"
printf '%-52s %s\n' "first entry that fails verify_audit()" "$bad"
printf '%-52s %s\n' "circulation transactions run (4 clients)" "$circ"
printf '%-52s %s\n' "audit entries appended by circulation" "$((n1 - n0))"

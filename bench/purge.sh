#!/usr/bin/env bash
# bench/purge.sh: the purge of expired cardholders, measured on the sample consortium.
#
#   bench/purge.sh [--quick] [--scale S] [--clients C] [--duration SEC]
#
# In a throwaway cluster (pg_virtualenv -t, the extension must be installed), from one generated
# template (scale 10 by default: 100,000 patrons, about a tenth of them expired with nothing
# owed; --quick: scale 1):
#   1. purge rate: pals_privacy.purge_expired() on one copy, and the per-patron PL/pgSQL loop a
#      DBA would write (bench/plpgsql_purge.sql) on another; patrons purged per second, and the
#      ratio;
#   2. circulation while a purge runs: the circulation mix (bench/circulation.sql, as ils_app)
#      alone, then again on a fresh copy while purge_expired() runs; the p99 latency of each
#      (the second over the transactions that ran during the purge), and their ratio.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
SCALE=10; CLIENTS=4; DURATION=20; INNER=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SCALE=1; DURATION=10 ;;
        --scale) SCALE="$2"; shift ;;
        --clients) CLIENTS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --inner) INNER=1 ;;
        *) echo "purge.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    exec pg_virtualenv -t -o shared_preload_libraries=pals_privacy -o synchronous_commit=off \
        -o shared_buffers=256MB -o max_wal_size=2GB bash "$0" "${ARGS[@]}" --inner
fi

t0=$(date +%s)
say() { printf '[%4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
LOG=$(mktemp -d /tmp/pals_purge.XXXXXX); chmod 777 "$LOG"; trap 'rm -rf "$LOG"' EXIT
export PGOPTIONS='-c client_min_messages=warning'

createdb tpl
q -d tpl -f "$ROOT/demo/schema.sql" >/dev/null
q -d tpl -v scale="$SCALE" -f "$ROOT/demo/generate.sql" >/dev/null
q -d tpl -f "$ROOT/demo/roles.sql" >/dev/null
say "generated scale $SCALE: $(psql -XAtq -d tpl -c "SELECT count(*) || ' patrons, ' || count(*) FILTER (WHERE expires_on < now() - interval '90 days') || ' expired past the grace' FROM demo.patrons")"
for db in ext plp circ_alone circ_purge; do createdb -T tpl "$db"; done
# "ext" and "plp" purge the same identified history; the circulation copies first sever the
# backlog, as a library would right after installing, to measure the steady state.
q -d ext -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
for db in circ_alone circ_purge; do
    q -d "$db" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" -c 'CALL pals_privacy.sever_backlog(batch_size => 5000)' >/dev/null
done
q -d plp -f "$HERE/plpgsql_purge.sql" >/dev/null
for db in ext plp circ_alone circ_purge; do q -d "$db" -c 'VACUUM ANALYZE' >/dev/null; done
dropdb tpl

# 1. purge rate
s=$(date +%s.%N)
n_ext=$(psql -XAtq -d ext -c "CALL pals_privacy.purge_expired(batch_size => 500)" | sed 's/.*"purged": \([0-9]*\).*/\1/')
e=$(date +%s.%N); t_ext=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')
s=$(date +%s.%N)
n_plp=$(psql -XAtq -d plp -c "SELECT demo.purge_expired_loop()")
e=$(date +%s.%N); t_plp=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')
say "purge_expired: $n_ext patrons in ${t_ext}s; PL/pgSQL loop: $n_plp patrons in ${t_plp}s"

# 2. circulation p99, alone and during a purge
pass="bench_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
q -d postgres -c "ALTER ROLE ils_app LOGIN PASSWORD '$pass'" >/dev/null
NITEMS=$(psql -XAtq -d circ_alone -c 'SELECT max(id) FROM demo.items')
NPATRONS=$(psql -XAtq -d circ_alone -c 'SELECT max(id) FROM demo.patrons')
circ() {   # database duration logprefix
    (cd "$LOG" && PGUSER=ils_app PGPASSWORD="$pass" pgbench -n -f "$HERE/circulation.sql" -c "$CLIENTS" -j 2 -T "$2" \
        -M prepared -D nitems="$NITEMS" -D npatrons="$NPATRONS" -l --log-prefix="$3" "$1" >/dev/null 2>&1)
}
p99() {    # logprefix [from_epoch to_epoch]: p99 latency in ms of the logged transactions
    cat "$LOG"/"$1".* | awk -v from="${2:-0}" -v to="${3:-9999999999}" \
        '$5 + $6 / 1e6 >= from && $5 + $6 / 1e6 <= to {print $3}' | sort -n | \
        awk '{a[NR] = $1} END {if (NR == 0) {print "n/a"; exit} i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}'
}
circ circ_alone "$DURATION" alone
circ circ_purge "$DURATION" during &
sleep 3
ps=$(date +%s.%N)
psql -XAtq -d circ_purge -c "CALL pals_privacy.purge_expired(batch_size => 500)" >/dev/null
pe=$(date +%s.%N)
wait
p_alone=$(p99 alone); p_during=$(p99 during "$ps" "$pe")
say "circulation p99 alone ${p_alone} ms; during the purge ($(awk -v a="$ps" -v b="$pe" 'BEGIN {printf "%.1f", b - a}') s) ${p_during} ms"

echo
echo "pals_privacy purge bench: scale $SCALE, $CLIENTS clients"
printf '%-40s %12s %12s %10s\n' "measurement" "pals_privacy" "baseline" "ratio"
awk -v a="$n_ext" -v ta="$t_ext" -v b="$n_plp" -v tb="$t_plp" 'BEGIN {
    ra = a / ta; rb = b / tb;
    printf "%-40s %12.1f %12.1f %10.2f\n", "patrons purged per second (vs PL/pgSQL)", ra, rb, ra / rb }'
awk -v a="$p_during" -v b="$p_alone" 'BEGIN {
    printf "%-40s %12s %12s %10s\n", "circulation p99 ms (during purge vs alone)", a, b, (b > 0 && a != "n/a") ? sprintf("%.2f", a / b) : "n/a" }'

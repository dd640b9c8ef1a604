#!/usr/bin/env bash
# bench/purge.sh: the purge of expired cardholders, measured on the sample consortium.
#
#   bench/purge.sh [--quick] [--scale S] [--clients C] [--duration SEC] [--repeat N] [--install]
#
# In a throwaway cluster (pg_virtualenv -t, the extension must be installed, or --install), from
# one generated template (scale 10 by default: 100,000 patrons, about a tenth of them expired with
# nothing owed; --quick: scale 1), each repeat (default 3) measures on fresh copies:
#   1. purge rate with the ILS's per-patron purge function (demo.purge_patron, bound as
#      purge_function): pals_privacy.purge_expired() against the per-patron PL/pgSQL loop a DBA
#      would write (demo.purge_expired_loop, bench/plpgsql_purge.sql); patrons per second, their
#      ratio, and the share of purge_expired()'s time spent inside the ILS's function
#      (pg_stat_user_functions, track_functions = pl);
#   2. purge rate with a DELETE-method binding (no purge function: purge_expired() deletes the
#      patron rows itself, set-based; the demo's other foreign keys to the patron table made
#      ON DELETE CASCADE, as an ILS that deletes patrons has them) against the same loop deleting
#      one patron at a time (demo.purge_expired_loop_delete), and the floor of any purge of these
#      rows: the loop's rules and row changes, set-based, one statement per table
#      (demo.purge_expired_set_delete);
#   3. circulation while a purge runs: the circulation mix (bench/circulation.sql, as ils_app)
#      alone, then on another copy while purge_expired() runs; the p99 latency of each (the second
#      over the transactions that ran during the purge), and their ratio.
# The order of the sides of 1 and 2 alternates from repeat to repeat.  Rates are given per second of
# wall time and (CPU) per second of the CPU time of the backend that ran the purge.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}:$PATH"
. "$HERE/lib.sh"
SCALE=10; CLIENTS=4; DURATION=20; REPEAT=3; INNER=0; INSTALL=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SCALE=1; DURATION=10; REPEAT=1 ;;
        --scale) SCALE="$2"; shift ;;
        --clients) CLIENTS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --repeat) REPEAT="$2"; shift ;;
        --install) INSTALL=1 ;;
        --inner) INNER=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "purge.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    if [ -n "${PALS_PGBIN:-}" ]; then INSTALL=0; a=(); for x in "${ARGS[@]}"; do [ "$x" = --install ] || a+=("$x"); done; ARGS=("${a[@]}"); fi   # private copy: no lock
    if [ "$INSTALL" = 1 ]; then
        exec 8>/tmp/pals_privacy.install.lock; flock 8; bash "$ROOT/tools/setup.sh" >&2
    fi
    exec "$HERE/cluster.sh" -o shared_preload_libraries=pals_privacy -o synchronous_commit=off \
        -o shared_buffers=256MB -o max_wal_size=2GB -o track_functions=pl bash "$0" "${ARGS[@]}" --inner
fi

t0=$(date +%s)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
LOG=$(mktemp -d /tmp/pals_purge.XXXXXX); chmod 777 "$LOG"; trap 'rm -rf "$LOG"' EXIT
export PGOPTIONS='-c client_min_messages=warning'
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

bench_demo_template tpl "$SCALE"
say "generated scale $SCALE: $(psql -XAtq -d tpl -c "SELECT count(*) || ' patrons, ' || count(*) FILTER (WHERE expires_on < now() - interval '90 days') || ' expired past the grace' FROM demo.patrons")"
for db in tpl_ext tpl_plp tpl_extdel tpl_plpdel tpl_circ; do createdb -T tpl "$db"; done
# the DELETE-method databases: the other foreign keys to the patron table cascade
for db in tpl_extdel tpl_plpdel; do bench_cascade_patron_fks "$db"; done
# "ext" and "plp" purge the same identified history; the circulation copies first sever the
# backlog, as a library would right after installing, to measure the steady state.
q -d tpl_ext -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
sed '/purge_function/d' "$ROOT/demo/bind.sql" >"$LOG/bind_delete.sql"
q -d tpl_extdel -c 'CREATE EXTENSION pals_privacy' -f "$LOG/bind_delete.sql" >/dev/null
q -d tpl_circ -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" -c 'CALL pals_privacy.sever_backlog(batch_size => 5000)' >/dev/null
for db in tpl_plp tpl_plpdel; do q -d "$db" -f "$HERE/plpgsql_purge.sql" >/dev/null; done
for db in tpl_ext tpl_plp tpl_extdel tpl_plpdel tpl_circ; do q -d "$db" -c 'VACUUM ANALYZE' >/dev/null; done
dropdb tpl
say "templates ready"
[ "$INSTALL" = 1 ] && { flock -u 8; say "released the install lock"; }
[ -n "${READY_FILE:-}" ] && touch "$READY_FILE"

pass="bench_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
q -d postgres -c "ALTER ROLE ils_app LOGIN PASSWORD '$pass'" >/dev/null
NITEMS=$(psql -XAtq -d tpl_circ -c 'SELECT max(id) FROM demo.items')
NPATRONS=$(psql -XAtq -d tpl_circ -c 'SELECT max(id) FROM demo.patrons')

# the CPU time (clock ticks) this backend has used: /proc/self/stat's utime + stime (steadier on a
# shared machine than wall time, which other tenants take away)
CPU_SQL="SELECT split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint
           FROM (SELECT regexp_replace(pg_read_file('/proc/self/stat'), '^.*\) ', '') AS s) x"
TICKS=$(getconf CLK_TCK)
purge_ext() {   # db -> "patrons seconds function_ms cpu_seconds"
    local s e n f out
    createdb -T "tpl_${1%%_*}" "$1"
    s=$(date +%s.%N)
    out=$(psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$CPU_SQL" -c "CALL pals_privacy.purge_expired(batch_size => 500)" -c "$CPU_SQL")
    e=$(date +%s.%N)
    n=$(echo "$out" | sed -n 2p | sed 's/.*"purged": \([0-9]*\).*/\1/')
    sleep 0.6   # (the session's function statistics reach the shared counters when it ends)
    f=$(psql -XAtq -d "$1" -c "SELECT coalesce(sum(total_time), 0) FROM pg_stat_user_functions WHERE schemaname = 'demo'")
    dropdb "$1"
    echo "$n $(secs "$s" "$e") $f $(echo "$out" | awk -v t="$TICKS" 'NR == 1 {a = $1} NR == 3 {printf "%.2f", ($1 - a) / t}')"
}
purge_loop() {  # db function -> "patrons seconds cpu_seconds"
    local s e out
    createdb -T "tpl_${1%%_*}" "$1"
    s=$(date +%s.%N)
    out=$(psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$CPU_SQL" -c "SELECT demo.$2()" -c "$CPU_SQL")
    e=$(date +%s.%N)
    dropdb "$1"
    echo "$(echo "$out" | sed -n 2p) $(secs "$s" "$e") $(echo "$out" | awk -v t="$TICKS" 'NR == 1 {a = $1} NR == 3 {printf "%.2f", ($1 - a) / t}')"
}
circ() {   # database duration logprefix
    (cd "$LOG" && PGUSER=ils_app PGPASSWORD="$pass" pgbench -n -f "$HERE/circulation.sql" -c "$CLIENTS" -j 2 -T "$2" \
        -M prepared -D nitems="$NITEMS" -D npatrons="$NPATRONS" -l --log-prefix="$3" "$1" >/dev/null 2>&1)
}
p99() {    # logprefix [from_epoch to_epoch]: p99 latency in ms of the logged transactions
    cat "$LOG"/"$1".* | awk -v from="${2:-0}" -v to="${3:-9999999999}" \
        '$5 + $6 / 1e6 >= from && $5 + $6 / 1e6 <= to {print $3}' | sort -n | \
        awk '{a[NR] = $1} END {if (NR == 0) {print "n/a"; exit} i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}'
}

RES="$LOG/results.txt"; : >"$RES"
for ((r = 1; r <= REPEAT; r++)); do
    # 1. with the ILS's purge function; 2. DELETE method
    if (( r % 2 )); then a=$(purge_ext ext_r); b=$(purge_loop plp_r purge_expired_loop)
    else b=$(purge_loop plp_r purge_expired_loop); a=$(purge_ext ext_r); fi
    echo "function $r $a $b" >>"$RES"
    say "round $r, purge function: purge_expired $a (patrons, s, ms in the function); PL/pgSQL loop $b"
    if (( r % 2 )); then a=$(purge_ext extdel_r); b=$(purge_loop plpdel_r purge_expired_loop_delete); c=$(purge_loop plpdel_r purge_expired_set_delete)
    else c=$(purge_loop plpdel_r purge_expired_set_delete); b=$(purge_loop plpdel_r purge_expired_loop_delete); a=$(purge_ext extdel_r); fi
    echo "delete $r $a $b $c" >>"$RES"
    say "round $r, DELETE method: purge_expired $a; PL/pgSQL loop $b; set-based floor $c"
    # 3. circulation p99, alone and during a purge
    createdb -T tpl_circ circ_alone; createdb -T tpl_circ circ_purge
    rm -f "$LOG"/alone.* "$LOG"/during.*
    la=$(cut -d' ' -f1 /proc/loadavg)   # the machine's load (1-minute average) before each run
    circ circ_alone "$DURATION" alone
    ld=$(cut -d' ' -f1 /proc/loadavg)
    circ circ_purge "$DURATION" during &
    sleep 3
    ps=$(date +%s.%N)
    psql -XAtq -d circ_purge -c "CALL pals_privacy.purge_expired(batch_size => 500)" >/dev/null
    pe=$(date +%s.%N)
    wait
    dropdb circ_alone; dropdb circ_purge
    p_alone=$(p99 alone); p_during=$(p99 during "$ps" "$pe")
    echo "p99 $r $p_alone $p_during $(secs "$ps" "$pe") $la $ld $(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
    say "round $r, circulation p99 alone ${p_alone} ms; during the purge ($(secs "$ps" "$pe") s) ${p_during} ms; load $la / $ld"
done

echo
echo "pals_privacy purge bench: scale $SCALE, $CLIENTS clients, $REPEAT repeats"
awk '
# function: r, ours (patrons s fn_ms cpu), loop (patrons s cpu); delete: r, ours, loop, floor (patrons s cpu)
$1 == "function" {ra = $3 / $4; rb = $7 / $8; share = 100 * $5 / 1000 / $4
    printf "with purge function, repeat %s: purge_expired %.1f patrons/s, PL/pgSQL loop %.1f/s, ratio %.2f (CPU %.2f); %.0f%% of purge_expired in the ILS function, %.0f%% ours\n", $2, ra, rb, ra / rb, ($6 > 0 ? ($3 / $6) / ($7 / $9) : 0), share, 100 - share}
$1 == "delete" {ra = $3 / $4; rb = $7 / $8; rc = $10 / $11
    printf "DELETE method,       repeat %s: purge_expired %.1f patrons/s, PL/pgSQL loop %.1f/s, ratio %.2f (CPU %.2f); set-based floor %.1f/s, %.2f of the loop (CPU %.2f)\n", $2, ra, rb, ra / rb, ($6 > 0 ? ($3 / $6) / ($7 / $9) : 0), rc, rc / rb, ($12 > 0 ? ($10 / $12) / ($7 / $9) : 0)}
$1 == "p99" {printf "circulation p99,     repeat %s: alone %s ms, during a %.1f s purge %s ms, ratio %s; load %s before alone, %s before during, %s after\n", $2, $3, $5, $4,
    ($3 > 0 && $4 != "n/a") ? sprintf("%.2f", $4 / $3) : "n/a", $6, $7, $8}' "$RES"

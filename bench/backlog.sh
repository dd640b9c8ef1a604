#!/usr/bin/env bash
# bench/backlog.sh: sever_backlog() against its floor, the plain set-based UPDATE of the same rows
# (bench/backlog_floor.sql), on the sample consortium.
#
#   bench/backlog.sh [--scale S] [--repeat N] [--shapes LIST] [--batch N] [--statements] [--install]
#
# In a throwaway cluster (pg_virtualenv -t; the extension must be installed, or --install), the
# demo data is generated once per shape into a template; each repeat copies it twice and times,
# on one copy, CREATE EXTENSION + demo/bind.sql + CALL sever_backlog() (the binding is a few
# milliseconds: the time is the backlog's), and on the other the floor script, alternating which
# goes first.  Rows per second of each, and their ratio (sever_backlog over floor: 1.0 is the
# floor), in wall time and in the CPU time of the backend that ran it (/proc/self/stat: steadier on
# a shared machine, where other tenants take wall time away, not CPU time per row).
# --batch N: sever_backlog(batch_size => N) (default 10000, the procedure's: rows per batch; items per batch before 0.2.0).
# --statements: pg_stat_statements (track = all) in the backlog's databases, and the statements
# that took most of its time printed per shape (where the cost goes).
# Shapes (--shapes, default plain,nullitems,triggers):
#   plain      the demo data as generated;
#   nullitems  loans.item_id made nullable and NULL on one closed loan in 20 (no item: no last
#              borrower, every such row is severed);
#   triggers   eight row triggers of an ILS on demo.loans (four BEFORE UPDATE that touch the row,
#              three AFTER UPDATE that do nothing, one AFTER UPDATE that writes an audit row):
#              both sides fire them for every severed row.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}:$PATH"
SCALE=1; REPEAT=3; SHAPES=plain,nullitems,triggers; INNER=0; INSTALL=0; STATEMENTS=0; BATCH=10000; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --repeat) REPEAT="$2"; shift ;;
        --shapes) SHAPES="$2"; shift ;;
        --batch) BATCH="$2"; shift ;;
        --install) INSTALL=1 ;;
        --statements) STATEMENTS=1 ;;
        --inner) INNER=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "backlog.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    if [ -n "${PALS_PGBIN:-}" ]; then INSTALL=0; a=(); for x in "${ARGS[@]}"; do [ "$x" = --install ] || a+=("$x"); done; ARGS=("${a[@]}"); fi   # private copy: no lock
    if [ "$INSTALL" = 1 ]; then
        exec 8>/tmp/pals_privacy.install.lock; flock 8; bash "$ROOT/tools/setup.sh" >&2
    fi
    PRELOAD=pals_privacy; [ "$STATEMENTS" = 1 ] && PRELOAD=pals_privacy,pg_stat_statements
    exec "$HERE/cluster.sh" -o shared_preload_libraries=$PRELOAD -o pg_stat_statements.track=all -o synchronous_commit=off \
        -o shared_buffers=256MB -o max_wal_size=4GB -o checkpoint_timeout=30min bash "$0" "${ARGS[@]}" --inner
fi

. "$HERE/lib.sh"
t0=$(date +%s)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
export PGOPTIONS='-c client_min_messages=warning'
now() { date +%s.%N; }
IFS=, read -r -a SHAPE_LIST <<<"$SHAPES"

for shape in "${SHAPE_LIST[@]}"; do
    bench_demo_template "tpl_$shape" "$SCALE"
    bench_backlog_shape "tpl_$shape" "$shape" || exit 2
    q -d "tpl_$shape" -c 'VACUUM ANALYZE' >/dev/null
    say "generated scale $SCALE, shape $shape"
done
[ "$INSTALL" = 1 ] && { flock -u 8; say "released the install lock"; }
[ -n "${READY_FILE:-}" ] && touch "$READY_FILE"

RES=$(mktemp /tmp/pals_backlog.XXXXXX)
STMTS="$RES.statements"
trap 'rm -f "$RES" "$STMTS".*' EXIT
# the CPU time (clock ticks) this backend has used: /proc/self/stat's utime + stime
CPU_SQL="SELECT split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint
           FROM (SELECT regexp_replace(pg_read_file('/proc/self/stat'), '^.*\) ', '') AS s) x"
TICKS=$(getconf CLK_TCK)
cpu_seconds() { # file whose first and last lines are tick counts -> seconds between them
    awk -v t="$TICKS" 'NR == 1 {a = $1} {b = $1} END {printf "%.2f", (b - a) / t}' "$1"
}
run_ext() {   # db shape -> "rows seconds cpu-seconds"
    local s e n c
    q -d "$1" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
    if [ "$STATEMENTS" = 1 ]; then q -d "$1" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c 'SELECT pg_stat_statements_reset()' >/dev/null; fi
    q -d "$1" -c CHECKPOINT >/dev/null
    c=$(mktemp /tmp/pals_backlog_cpu.XXXXXX)
    s=$(now)
    psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$CPU_SQL" -c "CALL pals_privacy.sever_backlog(batch_size => $BATCH)" -c "$CPU_SQL" >"$c"
    e=$(now)
    n=$(psql -XAtq -d "$1" -c 'SELECT sum(rows_severed + rows_kept) FROM pals_privacy.backlog_progress')
    if [ "$STATEMENTS" = 1 ]; then
        psql -XAtq -d "$1" -F ' | ' >>"$STMTS.$2" -c "SELECT round(total_exec_time::numeric, 0) || ' ms', calls,
                   regexp_replace(left(query, 110), '\s+', ' ', 'g')
              FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY total_exec_time DESC LIMIT 8"
        echo "--" >>"$STMTS.$2"
    fi
    echo "$n $(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}') $(cpu_seconds "$c")"
    rm -f "$c"
}
run_floor() { # db -> "rows seconds cpu-seconds" of part 1 (loans, holds), then of parts 1 and 2
    # (the same work: device loans and derived copies too); the script prints "rows|ticks|epoch"
    # at its start and after each part
    q -d "$1" -c CHECKPOINT >/dev/null
    psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -f "$HERE/backlog_floor.sql" |
        awk -F'|' -v t="$TICKS" 'NR == 1 {c0 = $2; e0 = $3} NR > 1 {printf "%s %.3f %.2f ", $1, $3 - e0, ($2 - c0) / t} END {print ""}'
}
for ((r = 1; r <= REPEAT; r++)); do
    for shape in "${SHAPE_LIST[@]}"; do
        createdb -T "tpl_$shape" ext; createdb -T "tpl_$shape" floor
        if (( r % 2 )); then a=$(run_ext ext "$shape"); b=$(run_floor floor)
        else b=$(run_floor floor); a=$(run_ext ext "$shape"); fi
        dropdb ext; dropdb floor
        echo "$shape $r $a $b" >>"$RES"
        read -r na ta ca <<<"$a"; read -r nb tb cb nf tf cf <<<"$b"
        say "round $r $shape: sever_backlog $na rows in ${ta}s (CPU ${ca}s); floor $nb rows in ${tb}s (CPU ${cb}s), the same work $nf rows in ${tf}s (CPU ${cf}s)"
    done
done

echo
echo "pals_privacy backlog bench: scale $SCALE, batch_size $BATCH, $REPEAT repeats: rows per second of sever_backlog, and its ratio"
echo "to the floor's (1.0 = the floor's rate), per second of wall time and per second of the CPU time of"
echo "the backend that ran it.  floor: the plain set-based UPDATEs of the loans and holds (the issue's floor);"
echo "same work: the floor doing all the backlog does (device loans, fines unlinked, notices deleted, summaries)"
printf '%-10s %3s %8s %9s %7s %7s %9s %7s %7s\n' shape rep rows backlog/s floor same backlog/cpu-s floor same
awk '{ra = $3 / $4; rb = $6 / $7; rf = $9 / $10; ca = $3 / $5; cb = $6 / $8; cf = $9 / $11;
      printf "%-10s %3s %8s %9.0f %7.3f %7.3f %9.0f %7.3f %7.3f\n", $1, $2, $3, ra, ra / rb, ra / rf, ca, ca / cb, ca / cf}' "$RES"
if [ "$STATEMENTS" = 1 ]; then
    for shape in "${SHAPE_LIST[@]}"; do
        echo; echo "where sever_backlog's time goes ($shape; pg_stat_statements: total ms | calls | statement; per repeat):"
        cat "$STMTS.$shape"
    done
fi

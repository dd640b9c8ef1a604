#!/usr/bin/env bash
# bench/backlog_callgrind.sh: sever_backlog() against its floor in instructions, counted by valgrind
# (callgrind) in a single-user backend: no other process, no scheduler, no cache of another
# tenant, so the counts repeat to a fraction of a percent where the CPU time of bench/backlog.sh
# moves by tens of percent on a loaded machine.
#
#   bench/backlog_callgrind.sh [--scale S] [--batch N] [--keep DIR]
#
# Runs as root (the server runs as user postgres) against $PALS_PGBIN (default the system's
# PostgreSQL 15; a private copy from bench/private-install.sh needs no lock) with the extension
# installed.  Generates the demo data (scale 0.2 by default) in a private cluster, then counts, each
# in `postgres --single` on its own copy of the data: an empty session (subtracted from the
# others), the floor's first part (bench/backlog_floor.sql: the plain set-based UPDATEs of the
# loans and holds, the issue's floor) and CALL sever_backlog(batch_size => N) (default 10000, the procedure's) after
# CREATE EXTENSION and demo/bind.sql.  Prints instructions per row of each and the ratio (floor's
# over sever_backlog's: 1.0 is the floor's rate).  --keep DIR: the callgrind files, for
# callgrind_annotate.  Scale 0.2 takes a few minutes; scale 1 about five times as long.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}"
SCALE=0.2; BATCH=10000; KEEP=
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --batch) BATCH="$2"; shift ;;
        --keep) KEEP="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "backlog_callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v valgrind >/dev/null || { echo "backlog_callgrind.sh: valgrind is not installed" >&2; exit 1; }
D=$(mktemp -d /tmp/pals_backlog_cg.XXXXXX); chmod 755 "$D"; chown postgres: "$D"
PORT=$((20000 + RANDOM % 20000))
pg() { runuser -u postgres -- "$@"; }
GUCS=(-c synchronous_commit=off -c shared_buffers=256MB -c max_wal_size=4GB)
start() { pg "$BIN/pg_ctl" -D "$D/data" -l "$D/log" -w -o "-c shared_preload_libraries=pals_privacy -c port=$PORT -c listen_addresses='' -c unix_socket_directories=$D ${GUCS[*]}" start >/dev/null; }
stop() { pg "$BIN/pg_ctl" -D "$D/data" -w stop >/dev/null; }
cleanup() { pg "$BIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$D"; }
trap cleanup EXIT
q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$D" -p "$PORT" -U postgres "$@"; }
export PGOPTIONS='-c client_min_messages=warning'
. "$HERE/lib.sh"
t0=$(date +%s)

pg "$BIN/initdb" -D "$D/data" -A trust --no-sync >/dev/null
start
bench_demo_template tpl "$SCALE"
q -d tpl -c 'VACUUM ANALYZE' >/dev/null
q -d postgres -c 'CREATE DATABASE cg_floor TEMPLATE tpl' -c 'CREATE DATABASE cg_ext TEMPLATE tpl' >/dev/null
q -d cg_ext -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null 2>&1
# the rows each will change: the floor's part 1 (loans, holds), and what the backlog reports
FLOOR_ROWS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_floor -c "
    SELECT (SELECT count(*) FROM (SELECT l.*, row_number() OVER (PARTITION BY l.item_id
                                      ORDER BY l.returned_at DESC, l.tableoid DESC, l.ctid DESC) AS rn
                                    FROM demo.loans l WHERE l.returned_at IS NOT NULL) l
             WHERE (l.item_id IS NULL OR l.rn > 1) AND l.fines_settled_at IS NOT NULL AND l.patron_id <> 0)
         + (SELECT count(*) FROM demo.holds WHERE (fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL) AND patron_id <> 0)")
q -d cg_floor -c CHECKPOINT >/dev/null; q -d cg_ext -c CHECKPOINT >/dev/null
stop
say "data ready (scale $SCALE)"

# statements for single-user mode with -j (a statement ends with ";" and an empty line): the
# floor's part 1 without psql's meta-commands and its timing lines
grep -v '^\\set\|(:cpu)' "$ROOT/bench/backlog_floor.sql" | sed 's/^--.*//' |
    awk 'BEGIN {RS = ";\n"} /floor_devices/ {exit} NF {print $0 ";\n"}' >"$D/floor.sql"
printf 'CALL pals_privacy.sever_backlog(batch_size => %s);\n\n' "$BATCH" >"$D/ext.sql"
printf 'SELECT 1;\n\n' >"$D/empty.sql"
chmod 644 "$D"/*.sql
count() {  # name database script -> instructions
    pg valgrind --tool=callgrind --callgrind-out-file="$D/cg.$1" "$BIN/postgres" --single -j -D "$D/data" \
        -c shared_preload_libraries=pals_privacy "${GUCS[@]}" -c client_min_messages=error "$2" \
        <"$3" >"$D/out.$1" 2>"$D/vg.$1.log"
    grep -o 'Collected : [0-9]*' "$D/vg.$1.log" | grep -o '[0-9]*$'
}
E=$(count empty tpl "$D/empty.sql"); say "empty session: $E instructions"
F=$(count floor cg_floor "$D/floor.sql"); say "floor: $F instructions"
X=$(count ext cg_ext "$D/ext.sql"); say "sever_backlog: $X instructions"
start
EXT_ROWS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_ext -c 'SELECT sum(rows_severed + rows_kept) FROM pals_privacy.backlog_progress')
stop
[ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D"/cg.* "$KEEP"/; }
echo
echo "pals_privacy backlog in instructions: scale $SCALE, batch_size $BATCH (an empty session's $E subtracted)"
awk -v e="$E" -v f="$F" -v x="$X" -v fr="$FLOOR_ROWS" -v xr="$EXT_ROWS" 'BEGIN {
    fp = (f - e) / fr; xp = (x - e) / xr;
    printf "floor (loans and holds): %d rows, %.1f M instructions, %.0f per row\n", fr, (f - e) / 1e6, fp;
    printf "sever_backlog:           %d rows, %.1f M instructions, %.0f per row\n", xr, (x - e) / 1e6, xp;
    printf "ratio (floor per row over sever_backlog per row): %.3f\n", fp / xp }'

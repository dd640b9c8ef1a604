#!/usr/bin/env bash
# bench/backlog_callgrind.sh: sever_backlog() against its floor in instructions, counted by valgrind
# (callgrind) in a single-user backend: no other process, no scheduler, no cache of another
# tenant, so the counts repeat to a fraction of a percent where the CPU time of bench/backlog.sh
# moves by tens of percent on a loaded machine.
#
#   bench/backlog_callgrind.sh [--scale S] [--batch N] [--shape SHAPE] [--parts LIST] [--keep DIR]
#
# Runs as root (the server runs as user postgres) against $PALS_PGBIN (default the system's
# PostgreSQL 15; a private copy from bench/private-install.sh needs no lock) with the extension
# installed.  Generates the demo data (scale 0.2 by default) in a private cluster, then counts, each
# in `postgres --single` on its own copy of the data: an empty session (subtracted from the
# others), the floor's first part (bench/backlog_floor.sql: the plain set-based UPDATEs of the
# loans and holds, the issue's floor), the whole floor script ("same": also the device loans and the
# derived copies of what it severed, all the backlog does) and CALL sever_backlog(batch_size => N)
# (default 10000, the procedure's) after CREATE EXTENSION and demo/bind.sql.  Prints instructions
# per row of each and the ratios (a floor's over sever_backlog's: 1.0 is the floor's rate).
# --shape plain (default), nullitems or triggers: the shapes of bench/backlog.sh (bench/lib.sh,
# bench_backlog_shape).  --parts: which to count, default floor,same,ext (the empty session
# always).  --keep DIR: the callgrind files, for callgrind_annotate.  Scale 0.2 takes a few
# minutes; scale 1 about five times as long.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}"
SCALE=0.2; BATCH=10000; KEEP=; SHAPE=plain; PARTS=floor,same,ext
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --batch) BATCH="$2"; shift ;;
        --keep) KEEP="$2"; shift ;;
        --shape) SHAPE="$2"; shift ;;
        --parts) PARTS="$2"; shift ;;
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
bench_backlog_shape tpl "$SHAPE" || exit 2
q -d tpl -c 'VACUUM ANALYZE' >/dev/null
q -d postgres -c 'CREATE DATABASE cg_floor TEMPLATE tpl' -c 'CREATE DATABASE cg_same TEMPLATE tpl' \
  -c 'CREATE DATABASE cg_ext TEMPLATE tpl' >/dev/null
q -d cg_ext -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null 2>&1
# the rows each will change: the floor's part 1 (loans, holds), and what the backlog reports
FLOOR_ROWS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_floor -c "
    SELECT (SELECT count(*) FROM (SELECT l.*, row_number() OVER (PARTITION BY l.item_id
                                      ORDER BY l.returned_at DESC, l.tableoid DESC, l.ctid DESC) AS rn
                                    FROM demo.loans l WHERE l.returned_at IS NOT NULL) l
             WHERE (l.item_id IS NULL OR l.rn > 1) AND l.fines_settled_at IS NOT NULL AND l.patron_id <> 0)
         + (SELECT count(*) FROM demo.holds WHERE (fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL) AND patron_id <> 0)")
# and the device loans the whole floor script severs too (its floor_devices)
SAME_ROWS=$(( FLOOR_ROWS + $(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_floor -c "
    SELECT count(*) FROM (SELECT d.*, row_number() OVER (PARTITION BY d.device_id
                                      ORDER BY GREATEST(d.checkin_time, d.xact_finish) DESC, d.ctid DESC) AS rn
                            FROM demo.device_loans d
                           WHERE d.checkin_time IS NOT NULL OR (d.stop_reason IN ('LOST', 'CLAIMSRETURNED') AND d.xact_finish IS NOT NULL)) d
     WHERE d.rn > 1 AND d.xact_finish IS NOT NULL AND d.patron_id <> 0") ))
for db in cg_floor cg_same cg_ext; do q -d $db -c CHECKPOINT >/dev/null; done
stop
say "data ready (scale $SCALE)"

# statements for single-user mode with -j (a statement ends with ";" and an empty line): the
# floor's part 1 without psql's meta-commands and its timing lines
grep -v '^\\set\|(:cpu)' "$ROOT/bench/backlog_floor.sql" | sed 's/^--.*//' |
    awk 'BEGIN {RS = ";\n"} /floor_devices/ {exit} NF {print $0 ";\n"}' >"$D/floor.sql"
# the whole script (the same work)
grep -v '^\\set\|(:cpu)' "$ROOT/bench/backlog_floor.sql" | sed 's/^--.*//' |
    awk 'BEGIN {RS = ";\n"} NF {print $0 ";\n"}' >"$D/same.sql"
printf 'CALL pals_privacy.sever_backlog(batch_size => %s);\n\n' "$BATCH" >"$D/ext.sql"
printf 'SELECT 1;\n\n' >"$D/empty.sql"
chmod 644 "$D"/*.sql
count() {  # name database script -> instructions
    pg valgrind --tool=callgrind --callgrind-out-file="$D/cg.$1" "$BIN/postgres" --single -j -D "$D/data" \
        -c shared_preload_libraries=pals_privacy "${GUCS[@]}" -c client_min_messages=error "$2" \
        <"$3" >"$D/out.$1" 2>"$D/vg.$1.log"
    grep -o 'Collected : [0-9]*' "$D/vg.$1.log" | grep -o '[0-9]*$'
}
has() { case ",$PARTS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
E=$(count empty tpl "$D/empty.sql"); say "empty session: $E instructions"
F=0; S=0; X=0
if has floor; then F=$(count floor cg_floor "$D/floor.sql"); say "floor: $F instructions"; fi
if has same; then S=$(count same cg_same "$D/same.sql"); say "floor, the same work: $S instructions"; fi
if has ext; then X=$(count ext cg_ext "$D/ext.sql"); say "sever_backlog: $X instructions"; fi
start
EXT_ROWS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_ext -c 'SELECT sum(rows_severed + rows_kept) FROM pals_privacy.backlog_progress')
stop
[ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D"/cg.* "$KEEP"/; }
echo
echo "pals_privacy backlog in instructions: scale $SCALE, shape $SHAPE, batch_size $BATCH (an empty session's $E subtracted)"
awk -v e="$E" -v f="$F" -v s="$S" -v x="$X" -v fr="$FLOOR_ROWS" -v sr="$SAME_ROWS" -v xr="${EXT_ROWS:-0}" 'BEGIN {
    if (f > 0) { fp = (f - e) / fr; printf "floor (loans and holds): %d rows, %.1f M instructions, %.0f per row\n", fr, (f - e) / 1e6, fp }
    if (s > 0) { sp = (s - e) / sr; printf "floor, the same work:    %d rows, %.1f M instructions, %.0f per row\n", sr, (s - e) / 1e6, sp }
    if (x > 0) { xp = (x - e) / xr; printf "sever_backlog:           %d rows, %.1f M instructions, %.0f per row\n", xr, (x - e) / 1e6, xp }
    if (x > 0 && f > 0) printf "ratio (floor per row over sever_backlog per row): %.3f\n", fp / xp
    if (x > 0 && s > 0) printf "ratio against the same work (per row):            %.3f\n", sp / xp }'

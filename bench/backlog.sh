#!/usr/bin/env bash
# bench/backlog.sh: sever_backlog() against its floor, the plain set-based UPDATE of the same rows
# (bench/backlog_floor.sql), on the sample consortium.
#
#   bench/backlog.sh [--scale S] [--repeat N] [--shapes LIST] [--statements] [--install]
#
# In a throwaway cluster (pg_virtualenv -t; the extension must be installed, or --install), the
# demo data is generated once per shape into a template; each repeat copies it twice and times,
# on one copy, CREATE EXTENSION + demo/bind.sql + CALL sever_backlog() (the binding is a few
# milliseconds: the time is the backlog's), and on the other the floor script, alternating which
# goes first.  Rows per second of each, and their ratio (sever_backlog over floor: 1.0 is the
# floor).  --statements: pg_stat_statements (track = all) in the backlog's databases, and the
# statements that took most of its time printed per shape (where the cost goes).
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
SCALE=1; REPEAT=3; SHAPES=plain,nullitems,triggers; INNER=0; INSTALL=0; STATEMENTS=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --repeat) REPEAT="$2"; shift ;;
        --shapes) SHAPES="$2"; shift ;;
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

t0=$(date +%s)
say() { printf '[%4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
export PGOPTIONS='-c client_min_messages=warning'
now() { date +%s.%N; }
IFS=, read -r -a SHAPE_LIST <<<"$SHAPES"

for shape in "${SHAPE_LIST[@]}"; do
    createdb "tpl_$shape"
    q -d "tpl_$shape" -f "$ROOT/demo/schema.sql" >/dev/null
    q -d "tpl_$shape" -v scale="$SCALE" -f "$ROOT/demo/generate.sql" >/dev/null
    q -d "tpl_$shape" -f "$ROOT/demo/roles.sql" >/dev/null
    case "$shape" in
        plain) ;;
        nullitems)
            q -d "tpl_$shape" -c 'ALTER TABLE demo.loans ALTER COLUMN item_id DROP NOT NULL' \
              -c 'UPDATE demo.loans SET item_id = NULL WHERE id % 20 = 0 AND returned_at IS NOT NULL' >/dev/null ;;
        triggers)
            q -d "tpl_$shape" >/dev/null <<'SQL'
CREATE TABLE demo.loan_audit (loan_id bigint, changed_at timestamptz DEFAULT now(), old_patron bigint, new_patron bigint);
CREATE FUNCTION demo.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.renewal_count := NEW.renewal_count; RETURN NEW; END $$;
CREATE FUNCTION demo.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION demo.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO demo.loan_audit (loan_id, old_patron, new_patron) VALUES (NEW.id, OLD.patron_id, NEW.patron_id);
      RETURN NULL; END $$;
DO $$ BEGIN
    FOR i IN 1..4 LOOP
        EXECUTE format('CREATE TRIGGER ils_before_%s BEFORE UPDATE ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.touch()', i);
    END LOOP;
    FOR i IN 1..3 LOOP
        EXECUTE format('CREATE TRIGGER ils_after_%s AFTER UPDATE ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.noop()', i);
    END LOOP;
END $$;
CREATE TRIGGER ils_audit AFTER UPDATE OF patron_id ON demo.loans FOR EACH ROW EXECUTE FUNCTION demo.audit();
SQL
            ;;
        *) echo "backlog.sh: unknown shape $shape" >&2; exit 2 ;;
    esac
    q -d "tpl_$shape" -c 'VACUUM ANALYZE' >/dev/null
    say "generated scale $SCALE, shape $shape"
done
[ "$INSTALL" = 1 ] && { flock -u 8; say "released the install lock"; }
[ -n "${READY_FILE:-}" ] && touch "$READY_FILE"

RES=$(mktemp /tmp/pals_backlog.XXXXXX)
STMTS="$RES.statements"
trap 'rm -f "$RES" "$STMTS".*' EXIT
run_ext() {   # db shape -> "rows seconds"
    local s e n
    q -d "$1" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
    if [ "$STATEMENTS" = 1 ]; then q -d "$1" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c 'SELECT pg_stat_statements_reset()' >/dev/null; fi
    q -d "$1" -c CHECKPOINT >/dev/null
    s=$(now)
    q -d "$1" -c 'CALL pals_privacy.sever_backlog(batch_size => 1000)' >/dev/null
    e=$(now)
    n=$(psql -XAtq -d "$1" -c 'SELECT sum(rows_severed + rows_kept) FROM pals_privacy.backlog_progress')
    if [ "$STATEMENTS" = 1 ]; then
        psql -XAtq -d "$1" -F ' | ' >>"$STMTS.$2" -c "SELECT round(total_exec_time::numeric, 0) || ' ms', calls,
                   regexp_replace(left(query, 110), '\s+', ' ', 'g')
              FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY total_exec_time DESC LIMIT 8"
        echo "--" >>"$STMTS.$2"
    fi
    echo "$n $(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')"
}
run_floor() { # db -> "rows seconds"
    local s e n
    q -d "$1" -c CHECKPOINT >/dev/null
    s=$(now)
    n=$(psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -f "$HERE/backlog_floor.sql" | tail -1)
    e=$(now)
    echo "$n $(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')"
}
for ((r = 1; r <= REPEAT; r++)); do
    for shape in "${SHAPE_LIST[@]}"; do
        createdb -T "tpl_$shape" ext; createdb -T "tpl_$shape" floor
        if (( r % 2 )); then a=$(run_ext ext "$shape"); b=$(run_floor floor)
        else b=$(run_floor floor); a=$(run_ext ext "$shape"); fi
        dropdb ext; dropdb floor
        echo "$shape $r $a $b" >>"$RES"
        read -r na ta <<<"$a"; read -r nb tb <<<"$b"
        say "round $r $shape: sever_backlog $na rows in ${ta}s; floor $nb rows in ${tb}s"
    done
done

echo
echo "pals_privacy backlog bench: scale $SCALE, $REPEAT repeats (rows per second; ratio = sever_backlog / floor)"
printf '%-10s %6s %10s %12s %12s %8s\n' shape repeat rows backlog/s floor/s ratio
awk '{ra = $3 / $4; rb = $5 / $6; printf "%-10s %6s %10s %12.0f %12.0f %8.3f\n", $1, $2, $3, ra, rb, ra / rb}' "$RES"
if [ "$STATEMENTS" = 1 ]; then
    for shape in "${SHAPE_LIST[@]}"; do
        echo; echo "where sever_backlog's time goes ($shape; pg_stat_statements: total ms | calls | statement; per repeat):"
        cat "$STMTS.$shape"
    done
fi

#!/usr/bin/env bash
# bench/history_load.sh: a bulk load of historical loans into the bound loans table, in
# instructions counted by valgrind (callgrind) in a single-user backend.  An ILS migrating from
# another system, or merging a member library's records into the consortium, loads years of closed
# loans with COPY; every one of them is closed, settled and names a patron, so every one fires the
# severing trigger, and all but the item's latest closed loan must lose its patron.
#
#   bench/history_load.sh [--scale S] [--rows N] [--variants LIST] [--keep DIR]
#
# Runs as root (the server runs as user postgres) against $PALS_PGBIN (default the system's
# PostgreSQL 15; a private copy from bench/private-install.sh needs no lock) with the extension
# installed.  Generates the demo data (scale 0.2 by default: 10,000 items, 40,000 loans of 2025-26)
# and N (default 20,000; the bound count takes about 11 minutes at load 7) closed, settled loans of 2019-2024 (one an hour, items and patrons spread
# over all), then counts `COPY demo.loans (...) FROM STDIN (FORMAT csv)` of those rows as ils_app
# in `postgres --single` on a copy of the data per variant:
#   base   the demo data, no extension: the load alone (its foreign-key checks, indexes, the
#          default partition); nothing severed
#   bound  CREATE EXTENSION, demo/bind.sql, sever_backlog() (steady state), then the load: the
#          severing trigger per row (tracker, sever of the row or the item's previous entry,
#          opted-in patrons' rows copied to private_history, the derived copies' probes)
#   floor  bound's severed data with the extension dropped (as callgrind.sh's severed), the load,
#          then (a second session, counted too) the same end state reached by plain set-based
#          statements as the superuser
#          (backlog_floor.sql's loans part: every closed, settled, identified loan but its item's
#          latest loses its patron, opted-in patrons' rows copied first; the fines and notices of
#          those loans unlinked / deleted): what a DBA would run after a load into an unbound table
# Prints instructions per loaded row (an empty session subtracted), base/V and floor/V, and the
# loaded rows still naming a patron after each (bound and floor must agree: the items' latest).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}:$PATH"
. "$HERE/lib.sh"
SCALE=0.2; ROWS=20000; VARIANTS=base,bound,floor; KEEP=; INSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --rows) ROWS="$2"; shift ;;
        --variants) VARIANTS="$2"; shift ;;
        --keep) KEEP="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "history_load.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bench_callgrind_cluster history_load.sh pals_history_load
export PGOPTIONS='-c client_min_messages=warning'
bench_demo_template tpl "$SCALE"
NPAT=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(id) FROM demo.patrons')
NITEMS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(id) FROM demo.items')
# the history: one loan an hour from 2019 on, returned after 14 days, settled then
q -d tpl -c "COPY (SELECT 1 + (k * 7919) % $NPAT, 1 + (k * 104729) % $NITEMS, 1 + k % 5, t, t + interval '21 days',
                          t + interval '14 days', t + interval '14 days'
                     FROM (SELECT k, timestamptz '2019-01-01 00:00+00' + k * interval '1 hour' + (k * 37) % 3600 * interval '1 second' AS t
                             FROM generate_series(1::bigint, $ROWS) k) s) TO '$D/history.csv' (FORMAT csv)" >/dev/null
IFS=, read -r -a VLIST <<<"$VARIANTS"
for v in "${VLIST[@]}"; do
    q -d postgres -c "CREATE DATABASE hl_$v TEMPLATE tpl" >/dev/null
    case "$v" in
        base) ;;
        bound|floor)
            q -d "hl_$v" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null 2>&1
            q -d "hl_$v" -c 'CALL pals_privacy.sever_backlog()' >/dev/null 2>&1
            if [ "$v" = floor ]; then
                q -d "hl_$v" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
                  -c "DO \$\$ DECLARE t regclass; BEGIN
                        FOR t IN SELECT polrelid FROM pg_policy WHERE polname = 'pals_privacy_redaction' LOOP
                            EXECUTE format('DROP POLICY pals_privacy_redaction ON %s', t);
                            EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
                        END LOOP; END \$\$" \
                  -c 'CREATE TABLE public.floor_history (patron text, relation regclass, item text, row_data jsonb,
                                                         copied_at timestamptz NOT NULL DEFAULT now())' >/dev/null
            fi ;;
        *) echo "history_load.sh: unknown variant $v" >&2; exit 2 ;;
    esac
    q -d "hl_$v" -c 'VACUUM ANALYZE' -c CHECKPOINT >/dev/null
done
bench_cluster_stop
say "databases ready (scale $SCALE, $ROWS historical loans)"

# single-user mode: a statement per line; COPY FROM STDIN reads the backend's own stdin to "\."
COLS='patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at'
{
    echo "SET ROLE ils_app;"
    echo "COPY demo.loans ($COLS) FROM STDIN (FORMAT csv);"
    cat "$D/history.csv"
    echo '\.'
} >"$D/load.sql"
# (a session of its own: COPY reads stdin in blocks and drops what follows its "\.")
{
    # backlog_floor.sql's loans part, a statement per line (the holds and device loans the load does not touch)
    echo "CREATE TEMP TABLE floor_target AS SELECT l.id, l.checked_out_at, p.keep_history AS optin FROM (SELECT l.*, row_number() OVER (PARTITION BY l.item_id ORDER BY l.returned_at DESC, l.tableoid DESC, l.ctid DESC) AS rn FROM demo.loans l WHERE l.returned_at IS NOT NULL) l LEFT JOIN demo.patrons p ON p.id = l.patron_id WHERE (l.item_id IS NULL OR l.rn > 1) AND l.fines_settled_at IS NOT NULL AND l.patron_id <> 0;"
    echo "INSERT INTO public.floor_history (patron, relation, item, row_data) SELECT l.patron_id::text, 'demo.loans'::regclass, l.item_id::text, to_jsonb(l) FROM demo.loans l JOIN floor_target t ON t.id = l.id AND t.checked_out_at = l.checked_out_at WHERE t.optin;"
    echo "UPDATE demo.loans l SET patron_id = 0 FROM floor_target t WHERE l.id = t.id AND l.checked_out_at = t.checked_out_at;"
    echo "UPDATE demo.fines f SET loan_id = NULL, loan_checked_out_at = NULL FROM floor_target t WHERE f.loan_id = t.id;"
    echo "DELETE FROM demo.loan_events e USING floor_target t WHERE e.loan_id = t.id;"
} >"$D/sever.sql"
echo "SET ROLE ils_app;" >"$D/empty.sql"
chmod 644 "$D"/*.sql "$D/history.csv"

declare -A IR LEFT
for v in "${VLIST[@]}"; do
    e=$(bench_single_count history_load.sh "hl_$v" "$D/empty.sql" "$D/cg.$v.empty")
    t=$(bench_single_count history_load.sh "hl_$v" "$D/load.sql" "$D/cg.$v.load")
    if [ "$v" = floor ]; then   # the set-based sever after the load, as the superuser
        t=$(( t - e + $(bench_single_count history_load.sh "hl_$v" "$D/sever.sql" "$D/cg.$v.sever") ))
        [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D/cg.$v.sever" "$KEEP/callgrind.history_load.floor_sever"; }
    fi
    IR[$v]=$(( (t - e) / ROWS ))
    [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D/cg.$v.load" "$KEEP/callgrind.history_load.$v"; }
    say "$v: $(( t - e )) instructions for $ROWS rows"
done
# what each left identified among the loaded rows (psql: a server again, after the counts)
pg "$(command -v pg_ctl)" -D "$D/data" -l "$D/log" -w -o "-c shared_preload_libraries=pals_privacy -c port=$PORT -c listen_addresses='' -c unix_socket_directories=$D" start >/dev/null
for v in "${VLIST[@]}"; do
    LEFT[$v]=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d "hl_$v" -c \
        "SELECT count(*) FILTER (WHERE patron_id <> 0) || ' of ' || count(*) FROM demo.loans WHERE checked_out_at < '2025-01-01'")
done
bench_cluster_stop
echo
echo "pals_privacy history load: scale $SCALE, $ROWS closed loans by COPY as ils_app, single-user backend"
printf '%-8s %14s %8s %8s   %s\n' variant "instr/row" "base/V" "floor/V" "loaded rows still naming a patron"
for v in "${VLIST[@]}"; do
    printf '%-8s %14s %8s %8s   %s\n' "$v" "${IR[$v]}" \
        "$(awk -v a="${IR[base]:-0}" -v b="${IR[$v]}" 'BEGIN {printf (a ? "%.3f" : "-"), a / b}')" \
        "$(awk -v a="${IR[floor]:-0}" -v b="${IR[$v]}" 'BEGIN {printf (a ? "%.3f" : "-"), a / b}')" "${LEFT[$v]}"
done

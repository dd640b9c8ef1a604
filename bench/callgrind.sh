#!/usr/bin/env bash
# bench/callgrind.sh: instructions per circulation transaction, counted by valgrind (callgrind) in a
# single-user backend: no other process, no scheduler, no cache of another tenant, so the counts
# repeat to a fraction of a percent where tps on a shared machine varies by tens.
#
#   bench/callgrind.sh [--scale S] [--items N] [--variants LIST] [--workload W] [--install]
#                      [--annotate] [--keep DIR]   (DIR: the callgrind files, for callgrind_annotate)
#                      [--plans]   (prepared workloads: after the count, the same script again in
#                                   `postgres --single` without valgrind, then pg_prepared_statements'
#                                   generic_plans / custom_plans of each statement; not counted)
#
# Runs as root (the server runs as user postgres) with the extension installed (or --install).
# Generates the demo data (scale 0.2 by default) once in a private cluster, copies it per variant
# (base: no extension; bound: demo/bind.sql and the backlog severed; fkcheck: bound with the
# placeholder guard disabled, so that every sever goes through the foreign-key check; plpgsql, not
# in the default list: the floor, bound's severed data with the extension dropped and the severing
# rule as a PL/pgSQL trigger, bench/plpgsql_sever.sql), stops the
# server, then for each variant runs the same script in `postgres --single` under callgrind:
# for items 1..N (default 300), a return of the item's open loan if any, a checkout to a patron,
# and the return of that loan (which severs the previous last borrower), each statement its own
# transaction, as ils_app.  --workload staff: instead, N staff reads as branch_staff, cycling
# through the six query shapes of bench/staff_shapes.sql (variants base,bound,severed: severed is
# bound's data with the extension dropped); --workload staff_busy: the same with a return (as
# ils_app, committed) before each read, so that no answer is kept from one read to the next;
# --workload copies: N staff reads of the derived copies (demo.fines, demo.loan_events,
# demo.xact_summaries: by patron, by loan, whole-table counts), variants base,bound;
# --workload staff_prepared: the six staff shapes prepared once and executed with their
# parameters (plancache: a custom plan at each execution, or a generic one after five);
# --workload staff_read: N runs of bench/run.sh's staff mix (bench/staff_read.sql: 12/20 a
# patron's account, three statements; 7/20 an item's history; 1/20 the two report queries);
# --workload staff_read_prepared: the same, each statement prepared once (bench/run.sh's default
# -M prepared); --workload overdue: N runs of a branch's nightly overdue-notices list (its open
# loans past due, joined to patron, contact, item and title; the five libraries in turn).
# Prints instructions per item (three transactions), after subtracting a
# run of the same session with no statements, and the ratio to base; and, with --annotate, the
# extension's own functions' inclusive share.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}:$PATH"
. "$HERE/lib.sh"
SCALE=0.2; ITEMS=300; VARIANTS=; INSTALL=0; ANNOTATE=0; WORKLOAD=circulation; KEEP=; PLANS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --items) ITEMS="$2"; shift ;;
        --variants) VARIANTS="$2"; shift ;;
        --install) INSTALL=1 ;;
        --annotate) ANNOTATE=1 ;;
        --plans) PLANS=1 ;;
        --workload) WORKLOAD="$2"; shift ;;
        --keep) KEEP="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$WORKLOAD" in
    circulation) VARIANTS="${VARIANTS:-base,bound,fkcheck}" ;;
    staff|staff_busy|staff_prepared|staff_read|staff_read_prepared|overdue) VARIANTS="${VARIANTS:-base,bound,severed}" ;;
    copies|copies_prepared) VARIANTS="${VARIANTS:-base,bound}" ;;
    *) echo "callgrind.sh: unknown workload $WORKLOAD" >&2; exit 2 ;;
esac
bench_callgrind_cluster callgrind.sh pals_callgrind
export PGOPTIONS='-c client_min_messages=warning'
bench_demo_template tpl "$SCALE"
case "$WORKLOAD" in staff|staff_busy|staff_prepared) q -d tpl -v scale="$SCALE" -f "$HERE/shapes.sql" >/dev/null ;; esac
IFS=, read -r -a VLIST <<<"$VARIANTS"
for v in "${VLIST[@]}"; do
    q -d postgres -c "CREATE DATABASE cg_$v TEMPLATE tpl" >/dev/null
    case "$v" in
        base) ;;
        bound|fkcheck|severed|plpgsql)
            q -d "cg_$v" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
            case "$WORKLOAD" in staff|staff_busy|staff_prepared) q -d "cg_$v" -f "$HERE/shapes_bind.sql" >/dev/null ;; esac
            q -d "cg_$v" -c 'CALL pals_privacy.sever_backlog()' >/dev/null
            [ "$v" = fkcheck ] && q -d "cg_$v" -c 'ALTER TABLE demo.patrons DISABLE TRIGGER pals_privacy_placeholder_guard' >/dev/null
            if [ "$v" = plpgsql ]; then   # the floor: the severed data, the rule as a PL/pgSQL trigger
                q -d "cg_$v" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
                  -f "$HERE/plpgsql_sever.sql" >/dev/null
            fi
            if [ "$v" = severed ]; then
                q -d "cg_$v" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
                  -c "DO \$\$ DECLARE t regclass; BEGIN
                        FOR t IN SELECT polrelid FROM pg_policy WHERE polname = 'pals_privacy_redaction' LOOP
                            EXECUTE format('DROP POLICY pals_privacy_redaction ON %s', t);
                            EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
                        END LOOP; END \$\$" >/dev/null
            fi ;;
        *) echo "callgrind.sh: unknown variant $v" >&2; exit 2 ;;
    esac
    q -d "cg_$v" -c 'VACUUM ANALYZE' >/dev/null
done
NPAT=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(id) FROM demo.patrons')
NHOT=1
NITEMS=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(id) FROM demo.items')
NLOAN=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(id) FROM demo.loans')
case "$WORKLOAD" in staff|staff_busy|staff_prepared) NHOT=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d tpl -c 'SELECT max(item) FROM shapes.issues') ;; esac
bench_cluster_stop
bench_install_unlock
say "databases ready (scale $SCALE); counting $ITEMS items per variant"

# the script: one statement per line (single-user mode ends a statement at a newline)
staff_read() {  # i: one of the six shapes of bench/staff_shapes.sql, with fixed parameters
    local i="$1" hot=$(( 1 + (i * 37) % NHOT )) patron=$(( 1 + (i * 7919) % NPAT )) lib=$(( 1 + i % 5 ))
    case $(( i % 6 )) in
        0) echo "SELECT i.issued, i.returned, i.settled, p.id, p.name, p.card_number FROM shapes.issues i LEFT JOIN demo.patrons p ON p.id = i.borrower WHERE i.item = $hot ORDER BY i.issued DESC LIMIT 20;" ;;
        1) echo "SELECT t.issued, t.returned, t.settled, p.id, p.name, p.card_number FROM shapes.text_issues t LEFT JOIN demo.patrons p ON p.id = t.borrower WHERE t.barcode = 'B' || lpad(($hot)::text, 10, '0') ORDER BY t.issued DESC LIMIT 20;" ;;
        2) echo "SELECT p.name, count(*) FROM shapes.issues i JOIN demo.patrons p ON p.id = i.borrower WHERE i.item = $hot GROUP BY p.name ORDER BY count(*) DESC, p.name LIMIT 10;" ;;
        3) echo "SELECT p.library_id, (extract(year FROM age(current_date, p.birth_date))::int / 10) * 10, count(*) FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id WHERE l.library_id = $lib AND l.checked_out_at >= timestamptz '2026-10-18 00:00+00' AND l.checked_out_at < timestamptz '2026-11-01 00:00+00' GROUP BY 1, 2 ORDER BY 1, 2;" ;;
        4) echo "SELECT i.item, i.issued, i.due FROM shapes.issues i WHERE i.borrower = $patron AND i.returned IS NULL ORDER BY i.due;" ;;
        5) echo "SELECT l.checked_out_at, l.returned_at, p.id, p.name FROM demo.loans l LEFT JOIN demo.patrons p ON p.id = l.patron_id WHERE l.item_id = $hot ORDER BY l.checked_out_at DESC LIMIT 5;" ;;
    esac
}
# staff_read: the three branches of bench/staff_read.sql (the pgbench mix of bench/run.sh), each
# statement on one line, the pgbench variables replaced by fixed values (pick, patron, item as
# pgbench draws them, from i)
mix_block() {  # n: 1 the \if branch (a patron's account), 2 the \elif (an item's history), 3 the \else (report)
    awk -v n="$1" '/^\\if/ {b=1; next} /^\\elif/ {b=2; next} /^\\else/ {b=3; next} /^\\endif/ {b=0; next}
        b == n { line = line " " $0; if ($0 ~ /;[ ]*$/) { sub(/^ /, "", line); print line; line = "" } }' "$HERE/staff_read.sql"
}
MIX1=$(mix_block 1); MIX2=$(mix_block 2); MIX3=$(mix_block 3)
mix_read() {  # i: one run of bench/staff_read.sql (12/20 account, 7/20 item history, 1/20 report)
    local i="$1" pick=$(( 1 + (i * 13) % 20 )) patron=$(( 1 + (i * 7919) % NPAT )) u=$(( (i * 104729) % 1000001 )) block
    local item=$(( 1 + (NITEMS - 1) * u / 1000000 * u / 1000000 ))
    if [ "$pick" -le 12 ]; then block=$MIX1; elif [ "$pick" -le 19 ]; then block=$MIX2; else block=$MIX3; fi
    sed -E "s/:patron\b/$patron/g; s/:item\b/$item/g" <<<"$block"
}
mix_prepare() {  # PREPARE m<block>_<k> for each statement of the mix, :patron and :item as $1 (pgbench -M prepared)
    local b k line
    for b in 1 2 3; do
        k=0
        while IFS= read -r line; do
            k=$((k + 1))
            echo "PREPARE m${b}_$k AS $(sed -E 's/:patron\b/$1/g; s/:item\b/$1/g' <<<"$line")"
        done <<<"$(mix_block "$b")"
    done
}
mix_execute() {  # i: one run of the mix, as EXECUTEs of mix_prepare's statements
    local i="$1" pick=$(( 1 + (i * 13) % 20 )) patron=$(( 1 + (i * 7919) % NPAT )) u=$(( (i * 104729) % 1000001 ))
    local item=$(( 1 + (NITEMS - 1) * u / 1000000 * u / 1000000 ))
    if [ "$pick" -le 12 ]; then echo "EXECUTE m1_1($patron);"; echo "EXECUTE m1_2($patron);"; echo "EXECUTE m1_3($patron);"
    elif [ "$pick" -le 19 ]; then echo "EXECUTE m2_1($item);"
    else echo "EXECUTE m3_1;"; echo "EXECUTE m3_2;"; fi
}
copy_read() {  # i: one of four reads of the derived copies, with fixed parameters
    local i="$1" patron=$(( 1 + (i * 7919) % NPAT )) loan=$(( 1 + (i * 104729) % NLOAN ))
    case $(( i % 4 )) in
        0) echo "SELECT f.id, f.patron_id, f.loan_id, f.amount, f.created_at FROM demo.fines f WHERE f.patron_id = $patron;" ;;
        1) echo "SELECT count(*), count(patron_id), count(loan_id), count(created_at) FROM demo.fines;" ;;
        2) echo "SELECT e.loan_id, e.patron_id, e.kind FROM demo.loan_events e WHERE e.loan_id BETWEEN $loan AND $loan + 200;" ;;
        3) echo "SELECT count(*), count(patron_id) FROM demo.loan_events UNION ALL SELECT count(*), count(patron_id) FROM demo.xact_summaries;" ;;
    esac
}
{
    case "$WORKLOAD" in
        circulation)
            echo "SET ROLE ils_app;"
            for ((i = 1; i <= ITEMS; i++)); do
                p=$(( 1 + (i * 7919) % NPAT ))
                echo "UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE item_id = $i AND returned_at IS NULL;"
                echo "INSERT INTO demo.loans (patron_id, item_id, library_id, checked_out_at, due_at) VALUES ($p, $i, 1, now(), now() + interval '21 days');"
                echo "UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE item_id = $i AND returned_at IS NULL;"
            done ;;
        staff)
            echo "SET ROLE branch_staff;"
            for ((i = 1; i <= ITEMS; i++)); do staff_read "$i"; done ;;
        staff_read)
            echo "SET ROLE branch_staff;"
            for ((i = 1; i <= ITEMS; i++)); do mix_read "$i"; done ;;
        staff_read_prepared)   # the same, each statement prepared once, as pgbench -M prepared runs it
            echo "SET ROLE branch_staff;"
            mix_prepare
            for ((i = 1; i <= ITEMS; i++)); do mix_execute "$i"; done ;;
        copies)
            echo "SET ROLE branch_staff;"
            for ((i = 1; i <= ITEMS; i++)); do copy_read "$i"; done ;;
        overdue)   # a branch's nightly overdue-notices list: its open loans past due, with patron, contact, item, title
            echo "SET ROLE branch_staff;"
            for ((i = 1; i <= ITEMS; i++)); do
                echo "SELECT p.id, p.name, p.card_number, a.email, a.phone, i.barcode, t.title, l.checked_out_at, l.due_at, now() - l.due_at AS late FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id JOIN demo.items i ON i.id = l.item_id JOIN demo.titles t ON t.id = i.title_id LEFT JOIN demo.addresses a ON a.patron_id = p.id WHERE l.returned_at IS NULL AND l.due_at < now() AND l.library_id = $(( 1 + i % 5 )) ORDER BY p.name, l.due_at;"
            done ;;
        copies_prepared)   # the same reads, each shape prepared once (planned once, or five times and generic)
            echo "SET ROLE branch_staff;"
            echo "PREPARE c0(bigint) AS SELECT f.id, f.patron_id, f.loan_id, f.amount, f.created_at FROM demo.fines f WHERE f.patron_id = \$1;"
            echo "PREPARE c1 AS SELECT count(*), count(patron_id), count(loan_id), count(created_at) FROM demo.fines;"
            echo "PREPARE c2(bigint) AS SELECT e.loan_id, e.patron_id, e.kind FROM demo.loan_events e WHERE e.loan_id BETWEEN \$1 AND \$1 + 200;"
            echo "PREPARE c3 AS SELECT count(*), count(patron_id) FROM demo.loan_events UNION ALL SELECT count(*), count(patron_id) FROM demo.xact_summaries;"
            for ((i = 1; i <= ITEMS; i++)); do
                patron=$(( 1 + (i * 7919) % NPAT )) loan=$(( 1 + (i * 104729) % NLOAN ))
                case $(( i % 4 )) in
                    0) echo "EXECUTE c0($patron);" ;;
                    1) echo "EXECUTE c1;" ;;
                    2) echo "EXECUTE c2($loan);" ;;
                    3) echo "EXECUTE c3;" ;;
                esac
            done ;;
        staff_prepared)   # the six shapes of staff, each prepared once (plancache: custom or generic)
            echo "SET ROLE branch_staff;"
            # (staff_read reads $i as it is expanded: give it one)
            for i in 0 1 2 3 4 5; do
                case $i in
                    0|2) param='s/i\.item = [0-9]+/i.item = $1/'; type=bigint ;;
                    1) param='s/lpad\(\([0-9]+\)/lpad(($1)/'; type=bigint ;;
                    3) param='s/l\.library_id = [0-9]+/l.library_id = $1/'; type=int ;;
                    4) param='s/i\.borrower = [0-9]+/i.borrower = $1/'; type=bigint ;;
                    5) param='s/l\.item_id = [0-9]+/l.item_id = $1/'; type=bigint ;;
                esac
                staff_read "$i" | sed -E "s/^SELECT/PREPARE s$i($type) AS SELECT/; $param"
            done
            for ((i = 1; i <= ITEMS; i++)); do
                hot=$(( 1 + (i * 37) % NHOT )) patron=$(( 1 + (i * 7919) % NPAT )) lib=$(( 1 + i % 5 ))
                case $(( i % 6 )) in
                    0|1|2|5) echo "EXECUTE s$(( i % 6 ))($hot);" ;;
                    3) echo "EXECUTE s3($lib);" ;;
                    4) echo "EXECUTE s4($patron);" ;;
                esac
            done ;;
        staff_busy)
            for ((i = 1; i <= ITEMS; i++)); do
                echo "SET ROLE ils_app;"
                echo "UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE item_id = (SELECT item_id FROM demo.loans WHERE returned_at IS NULL AND item_id > $i * 7 % 5000 ORDER BY item_id LIMIT 1) AND returned_at IS NULL;"
                echo "SET ROLE branch_staff;"
                staff_read "$i"
            done ;;
    esac
} >"$D/script.sql"
head -1 "$D/script.sql" >"$D/empty.sql"
chmod 644 "$D"/*.sql

count() {  # variant script -> total instructions
    bench_single_count callgrind.sh "cg_$1" "$2" "$D/cg.$1.$(basename "$2" .sql)"
}
declare -A IR
for v in "${VLIST[@]}"; do
    e=$(count "$v" "$D/empty.sql"); t=$(count "$v" "$D/script.sql")
    IR[$v]=$(( (t - e) / ITEMS ))
    [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D/cg.$v.script" "$KEEP/callgrind.$WORKLOAD.$v"; }
    say "$v: $(( t - e )) instructions for $ITEMS items"
    if [ "$PLANS" = 1 ]; then   # the plan cache's choices, in a pass of its own (not counted)
        { cat "$D/script.sql"
          echo "SELECT name || ' generic=' || generic_plans || ' custom=' || custom_plans AS plans FROM pg_prepared_statements ORDER BY name;"
        } >"$D/plans.sql"; chmod 644 "$D/plans.sql"
        pg "$(command -v postgres)" --single -D "$D/data" -c shared_preload_libraries=pals_privacy -c fsync=off \
            -c synchronous_commit=off -c autovacuum=off "cg_$v" <"$D/plans.sql" 2>&1 |
            sed -n 's/^[[:space:]]*1: plans = "\(.*\)".*/\1/p' | sed "s/^/[plans] $v: /" >&2
    fi
    if [ "$ANNOTATE" = 1 ] && [ "$v" != base ]; then
        callgrind_annotate --inclusive=yes "$D/cg.$v.script" 2>/dev/null | grep -E 'pals_privacy' | head -15 >&2 || true
    fi
done
echo
echo "pals_privacy callgrind: scale $SCALE, workload $WORKLOAD, $ITEMS items per variant, single-user backend"
printf '%-10s %16s %10s\n' variant "instr/item" "base/V"
for v in "${VLIST[@]}"; do
    printf '%-10s %16s %10s\n' "$v" "${IR[$v]}" "$(awk -v a="${IR[${VLIST[0]}]}" -v b="${IR[$v]}" 'BEGIN {printf "%.3f", a / b}')"
done

#!/usr/bin/env bash
# bench/purge_callgrind.sh: instructions per purged patron, counted by valgrind (callgrind) in a
# single-user backend, for the purge of expired cardholders (bench/purge.sh measures wall time,
# which on a shared machine varies by tens of percent; these counts repeat within a percent).
#
#   bench/purge_callgrind.sh [--scale S] [--variants LIST] [--batch N] [--expired N] [--install] [--keep DIR]
#
# Runs as root (the server runs as user postgres) with the extension installed (or --install; or
# PALS_PGBIN of bench/private-install.sh).  Generates the demo data (scale 0.5 by default) once
# in a private cluster and makes one database per variant, then stops the server and runs each
# variant's purge in `postgres --single` under callgrind, once with the purge and once without
# (the difference is the purge's):
#   ext_delete     CALL pals_privacy.purge_expired() with a DELETE-method binding (demo/bind.sql
#                  without purge_function; the demo's other foreign keys to the patron table made
#                  ON DELETE CASCADE, as bench/purge.sh does)
#   loop_delete    the per-patron PL/pgSQL loop of bench/plpgsql_purge.sql on the same data without
#                  the extension (demo.purge_expired_loop_delete)
#   set_delete     the floor: the same rules and row changes as the loop, set-based, one statement
#                  per table (demo.purge_expired_set_delete)
#   ext_function   purge_expired() with the ILS's purge function (demo/bind.sql as it is)
#   loop_function  the loop calling that function per patron (demo.purge_expired_loop)
#   fn_only        the ILS's function alone, called once per patron that ext_function purged,
#                  on a copy of ext_function's data: its share of ext_function's instructions
# --expired N: only the N lowest-numbered patrons past the grace period (90 days) stay expired, the
# others' cards are renewed first (the daily worker's run, which finds a few patrons to purge; of
# the N, those the purge's rules let go are purged).
# Prints instructions per purged patron (each variant's own count of patrons), and each over the
# loop of the same method.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${PALS_PGBIN:-/usr/lib/postgresql/15/bin}:$PATH"
. "$HERE/lib.sh"
SCALE=0.5; VARIANTS=ext_delete,loop_delete,set_delete,ext_function,loop_function,fn_only; INSTALL=0; KEEP=; BATCH=500; EXPIRED=
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift ;;
        --variants) VARIANTS="$2"; shift ;;
        --batch) BATCH="$2"; shift ;;
        --expired) EXPIRED="$2"; shift ;;
        --install) INSTALL=1 ;;
        --keep) KEEP="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
        *) echo "purge_callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bench_callgrind_cluster purge_callgrind.sh pals_purge_cg
export PGOPTIONS='-c client_min_messages=error'
bench_demo_template tpl "$SCALE"
if [ -n "$EXPIRED" ]; then
    q -d tpl -c "UPDATE demo.patrons SET expires_on = current_date + 365
                  WHERE expires_on < now() - interval '90 days' AND id <> 0
                    AND id NOT IN (SELECT id FROM demo.patrons WHERE expires_on < now() - interval '90 days' AND id <> 0
                                    ORDER BY id LIMIT $EXPIRED)" >/dev/null
fi
sed '/purge_function/d' "$ROOT/demo/bind.sql" >"$D/bind_delete.sql"
IFS=, read -r -a VLIST <<<"$VARIANTS"
declare -A STMT
for v in "${VLIST[@]}"; do
    db="cg_$v"
    case "$v" in fn_only) src=cg_ext_function ;; *) src=tpl ;; esac
    [ "$v" = fn_only ] && continue   # made after ext_function's purge is known
    q -d postgres -c "CREATE DATABASE $db TEMPLATE $src" >/dev/null
    case "$v" in
        ext_delete)
            bench_cascade_patron_fks "$db"   # a DELETE-method ILS
            q -d "$db" -c 'CREATE EXTENSION pals_privacy' -f "$D/bind_delete.sql" >/dev/null
            STMT[$v]="CALL pals_privacy.purge_expired(batch_size => $BATCH);" ;;
        ext_function)
            q -d "$db" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" >/dev/null
            STMT[$v]="CALL pals_privacy.purge_expired(batch_size => $BATCH);" ;;
        loop_delete|set_delete)
            bench_cascade_patron_fks "$db"; q -d "$db" -f "$HERE/plpgsql_purge.sql" >/dev/null
            STMT[$v]="SELECT demo.purge_expired_${v%_delete}_delete();"
            [ "$v" = set_delete ] && STMT[$v]="SELECT demo.purge_expired_set_delete();" ;;
        loop_function)
            q -d "$db" -f "$HERE/plpgsql_purge.sql" >/dev/null
            STMT[$v]="SELECT demo.purge_expired_loop();" ;;
        *) echo "purge_callgrind.sh: unknown variant $v" >&2; exit 2 ;;
    esac
    q -d "$db" -c 'VACUUM ANALYZE' >/dev/null
done
# fn_only: the patrons ext_function purges (a purge of a scratch copy; the function soft-deletes,
# so pals_privacy.purged_patrons lists them), the function called once for each on a fresh copy
if [[ ",$VARIANTS," == *,fn_only,* ]]; then
    [[ ",$VARIANTS," == *,ext_function,* ]] || { echo "purge_callgrind.sh: fn_only needs ext_function" >&2; exit 2; }
    q -d postgres -c "CREATE DATABASE cg_scratch TEMPLATE cg_ext_function" -c "CREATE DATABASE cg_fn_only TEMPLATE cg_ext_function" >/dev/null
    q -d cg_scratch -c "CALL pals_privacy.purge_expired(batch_size => $BATCH)" >/dev/null
    ids=$(psql -XAtq -h "$D" -p "$PORT" -U postgres -d cg_scratch -c 'SELECT array_agg(patron ORDER BY patron::bigint) FROM pals_privacy.purged_patrons')
    STMT[fn_only]="SELECT count(demo.purge_patron(x::bigint)) FROM unnest('$ids'::text[]) x;"
    q -d postgres -c "DROP DATABASE cg_scratch" >/dev/null
fi
bench_cluster_stop
bench_install_unlock
say "databases ready (scale $SCALE)"

count() {  # variant script -> total instructions (and the log)
    bench_single_count purge_callgrind.sh "cg_$1" "$2" "$D/cg.$1.$(basename "$2" .sql)" -c client_min_messages=error
}
declare -A IR NP
for v in "${VLIST[@]}"; do
    echo "SELECT 1;" >"$D/empty.$v.sql"
    echo "${STMT[$v]}" >"$D/purge.$v.sql"
    chmod 644 "$D"/*.sql
    e=$(count "$v" "$D/empty.$v.sql"); t=$(count "$v" "$D/purge.$v.sql")
    # the patrons purged: the procedure's result or the function's count, from the single-user output
    n=$( (grep -oE '"purged": [0-9]+|(purge_expired_[a-z_]*|count) = "[0-9]+"' "$D/cg.$v.purge.$v.log" || true) | grep -oE '[0-9]+' | tail -1 || true)
    IR[$v]=$(( t - e )); NP[$v]=${n:-0}
    [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$D/cg.$v.purge.$v" "$KEEP/callgrind.purge.$v"; cp "$D/cg.$v.purge.$v.log" "$KEEP/purge.$v.log"; }
    say "$v: $(( t - e )) instructions, ${NP[$v]} patrons"
done
echo
echo "pals_privacy purge callgrind: scale $SCALE, batch $BATCH${EXPIRED:+, $EXPIRED expired}, single-user backend"
printf '%-14s %9s %16s %18s %12s\n' variant patrons instructions "instr/patron" "loop/V"
for v in "${VLIST[@]}"; do
    per=$(awk -v a="${IR[$v]}" -v n="${NP[$v]}" 'BEGIN {printf "%.0f", (n > 0 ? a / n : 0)}')
    case "$v" in *_delete) ref=loop_delete ;; ext_function|loop_function) ref=loop_function ;; *) ref= ;; esac
    ratio=-
    if [ -n "$ref" ] && [ -n "${IR[$ref]:-}" ] && [ "${NP[$v]}" -gt 0 ]; then
        ratio=$(awk -v a="${IR[$ref]}" -v na="${NP[$ref]}" -v b="${IR[$v]}" -v nb="${NP[$v]}" 'BEGIN {printf "%.3f", (a / na) / (b / nb)}')
    fi
    printf '%-14s %9s %16s %18s %12s\n' "$v" "${NP[$v]}" "${IR[$v]}" "$per" "$ratio"
done
if [ -n "${IR[fn_only]:-}" ] && [ -n "${IR[ext_function]:-}" ]; then
    awk -v f="${IR[fn_only]}" -v e="${IR[ext_function]}" 'BEGIN {printf "ILS function alone over the same patrons: %.1f %% of ext_function'"'"'s instructions (ours: %.1f %%)\n", 100 * f / e, 100 - 100 * f / e}'
fi

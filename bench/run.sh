#!/usr/bin/env bash
# bench/run.sh: what pals_privacy costs the ILS, measured with pgbench on the sample consortium.
#
#   bench/run.sh [--quick] [options]          (as root or any user that may run pg_virtualenv)
#
# Starts a throwaway cluster with `pg_virtualenv -t` (a private temporary directory, so it can run
# next to other pg_virtualenv clusters; shared_preload_libraries=pals_privacy; the
# extension must already be installed with `make install`), generates the demo data once
# (demo/schema.sql + demo/generate.sql + demo/roles.sql) into a template database, and copies it
# into one database per VARIANT:
#   base   demo data, no extension
#   bound  demo data + CREATE EXTENSION pals_privacy + demo/bind.sql
# Then, for several short rounds, runs every WORKLOAD against every variant, alternating the
# order of the variants from round to round (the machine is shared and noisy), and prints, per
# workload, the median tps and latency of each variant and the ratio to base.
#
# Options (environment variables of the same name in capitals work too):
#   --quick            scale 0.2, 2 rounds of 6 s, variants base, bound and plpgsql (under 2 minutes)
#   --scale S          data scale (default 1; see demo/generate.sql)
#   --rounds N         rounds per workload and variant (default 5)
#   --duration SEC     seconds per pgbench run (default 30)
#   --clients C        pgbench clients (default 4); a comma-separated list (4,16,32) runs every
#                      workload at each count, as workloads named name/cN, within the same rounds
#   --jobs J           pgbench threads (default 2)
#   --protocol P       pgbench query mode: simple|extended|prepared (default prepared); a list
#                      (prepared,simple) runs each, as workloads named name/P
#   --hot N            only items 1..N circulate and are read (concentrates history on N items;
#                      default: all items)
#   --workloads LIST   comma-separated subset of workload names: circulation, staff_read,
#                      staff_report, staff_shapes (bench/staff_shapes.sql: inheritance child,
#                      bigint and text keys, deep histories with LIMIT, GROUP BY patron
#                      attributes), staff_busy (staff_shapes while the circulation mix runs
#                      alongside) (default: all; --quick: circulation and staff_read)
#   --variants LIST    comma-separated subset of variants (default: base,bound,plpgsql,hooks,severed;
#                      fkcheck, not in the default, is bound with the placeholder guard disabled, so
#                      that severing to the placeholder goes through the foreign-key check; plpgsql
#                      is the severing rule as a PL/pgSQL trigger, run for circulation only;
#                      hooks is the extension installed with no loan relation bound: the cost of
#                      the hooks to operational sessions, circulation only; severed is the
#                      severed data with the extension dropped, staff reads only: bound against
#                      severed is the cost of redaction alone)
#   --history N        before binding, give each circulating item (see --hot) N more closed,
#                      settled, identified past loans: the long histories of a twenty-year-old
#                      consortium, which the severing cost must not grow with (default 0)
#   --as-superuser     run every workload as the bootstrap superuser instead of its role
#   --no-backlog       do not CALL pals_privacy.sever_backlog() after binding (measures the
#                      catch-up cost of the first returns of items with identified history)
#   --waits            sample the wait events of the run's backends (pg_stat_activity, every
#                      0.1 s) and print, per workload and variant, the share of samples in each
#                      (lock contention: a hot row shows as Lock:tuple / Lock:transactionid /
#                      MultiXact*; "CPU" = active and not waiting)
#   --private          build this checkout (incrementally) and install it into a private copy of
#                      PostgreSQL in a temporary directory (bench/private-install.sh), removed at the
#                      end: no machine-wide lock, no wait for other checkouts (make bench-quick)
#   --install          build and install the extension first (tools/setup.sh), holding the
#                      machine-wide install lock (/tmp/pals_privacy.install.lock) until every
#                      variant database is set up, not during the measurements: a preloaded
#                      library stays mapped, so a later install by someone else changes nothing here
#   --keep-logs DIR    keep pgbench outputs in DIR, with per-statement latencies (pgbench -r)
#                      (default: a temporary directory, removed)
#
# Extending: add a workload with one line in WORKLOADS below (name, script, role, in-quick); add a
# comparison database with a name in VARIANTS and a function setup_variant_<name> that turns a
# fresh copy of the template into that variant (for example a PL/pgSQL trigger implementation).
#
# Settings that reduce noise: the cluster runs with synchronous_commit=off (WAL flush time would
# otherwise dominate and hide the extension's CPU cost, which is what is being compared), and a
# CHECKPOINT precedes every run.  Circulation history accumulates across rounds in every variant
# alike.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PGBIN="${PALS_PGBIN:-${PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}}"
export PALS_PGBIN="$PGBIN"
export PATH="$PGBIN:$PATH"

# ---------------------------------------------------------------------------------------------
# Registry of workloads: "name script role in-quick [background]".  Roles are created by
# demo/roles.sql; in-quick=no leaves a workload out of --quick (which must stay under two
# minutes).  background (script:role) runs alongside for the same duration, with the same number
# of clients, and is not measured itself: its transactions only count in the CPU column (server
# CPU per transaction of both scripts together).  A script that reads schema shapes makes the
# bench generate bench/shapes.sql's tables (and bind them with bench/shapes_bind.sql).
WORKLOADS=(
    "circulation   circulation.sql   ils_app       yes"
    "staff_read    staff_read.sql    branch_staff  yes"
    "staff_report  staff_report.sql  report_user   no"
    "staff_shapes  staff_shapes.sql  branch_staff  no"
    "staff_busy    staff_shapes.sql  branch_staff  no   circulation.sql:ils_app"
)
# Variants that only make sense for some workloads: "variant workload,workload".
VARIANT_ONLY_FOR=(
    "plpgsql circulation"
    "fkcheck circulation"
    "hooks circulation"
    "severed staff_read,staff_report,staff_shapes,staff_busy"
)
# Variants (databases) compared; the first one is the baseline of the ratios.
VARIANTS=(base bound plpgsql hooks severed)

setup_variant_base() {   # $1 = database (a copy of the template): nothing to add
    :
}
# The severing rule as a PL/pgSQL trigger (bench/plpgsql_sever.sql), the comparison a DBA would
# otherwise write.  It starts from the same severed history as "bound": the extension severs the
# backlog, then is dropped, and the PL/pgSQL trigger takes over.
setup_variant_plpgsql() {  # $1 = database
    setup_variant_bound "$1"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
        -f "$HERE/plpgsql_sever.sql" >/dev/null
}
# "bound" with the placeholder guard disabled: every sever to the placeholder patron then goes
# through the foreign-key check, which KEY SHARE-locks the placeholder row (src/placeholder_guard.c):
# what returns cost before the guard.  Circulation only.
setup_variant_fkcheck() {  # $1 = database
    setup_variant_bound "$1"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
        -c 'ALTER TABLE demo.patrons DISABLE TRIGGER pals_privacy_placeholder_guard' >/dev/null
}
after_vacuum_fkcheck() { after_vacuum_bound "$1"; }
# VACUUM FULL moved every row, so the last-borrower tracker is rebuilt (rebuild_tracker(), as
# docs/severing.md tells a DBA to do after VACUUM FULL or CLUSTER).
after_vacuum_bound() {  # $1 = database
    if [ "$BACKLOG" = 1 ]; then
        PGOPTIONS='-c client_min_messages=warning' \
            psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SELECT pals_privacy.rebuild_tracker()' \
                 -c 'VACUUM ANALYZE' >/dev/null
    fi
}
# The extension installed and bound, but with no loan relation bound: the ILS's operational
# sessions pay for the hooks (planner, utility) and nothing else.  What "hooks loaded" costs.
setup_variant_hooks() {  # $1 = database
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql" \
        -c "SELECT pals_privacy.unbind_copy(c.relation) FROM pals_privacy.copy_binding c WHERE c.source = 'demo.loans'::regclass" \
        -c "SELECT pals_privacy.unbind('demo.loans'), pals_privacy.unbind('demo.holds')" >/dev/null
}
# The severed data of "bound" with the extension dropped: the same rows, no redaction.  Staff
# reads on it against "bound" are what redaction itself costs; against "base", what severing
# the history (patron ids re-pointed to the placeholder) does to the ILS's own plans.
setup_variant_severed() {  # $1 = database [copy: $1 is a copy of bound's already]
    [ "${2:-}" = copy ] || setup_variant_bound "$1"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
        -c "DO \$\$ DECLARE t regclass; BEGIN
              FOR t IN SELECT polrelid FROM pg_policy WHERE polname = 'pals_privacy_redaction' LOOP
                  EXECUTE format('DROP POLICY pals_privacy_redaction ON %s', t);
                  EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
              END LOOP; END \$\$" >/dev/null
}
# Variants made from bound's finished database when it is set up first (the function turns a copy
# of it into the variant): the same data, without binding and severing the template again.
declare -A FROM_BOUND=([plpgsql]=from_bound_plpgsql [severed]=from_bound_severed [fkcheck]=from_bound_fkcheck)
from_bound_plpgsql() {  # $1 = database
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET pals_privacy.allow_drop_with_evidence = on' -c 'DROP EXTENSION pals_privacy CASCADE' \
        -f "$HERE/plpgsql_sever.sql" >/dev/null
}
from_bound_severed() {  # $1 = database
    setup_variant_severed "$1" copy
}
from_bound_fkcheck() {  # $1 = database
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
        -c 'ALTER TABLE demo.patrons DISABLE TRIGGER pals_privacy_placeholder_guard' >/dev/null
}
setup_variant_bound() {  # $1 = database
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'CREATE EXTENSION pals_privacy' -f "$ROOT/demo/bind.sql"
    if [ "$SHAPES" = 1 ]; then psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$HERE/shapes_bind.sql"; fi
    # Sever the identified history the demo data starts with, as a DBA would right after
    # installing, so that the runs measure the steady state rather than the one-time catch-up.
    if [ "$BACKLOG" = 1 ]; then
        PGOPTIONS='-c client_min_messages=warning' \
            psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'CALL pals_privacy.sever_backlog()'
    fi
}
# ---------------------------------------------------------------------------------------------

SCALE="${SCALE:-}"
ROUNDS="${ROUNDS:-}"
DURATION="${DURATION:-}"
CLIENTS="${CLIENTS:-4}"
JOBS="${JOBS:-2}"
PROTOCOL="${PROTOCOL:-prepared}"
HOT="${HOT:-}"
HISTORY="${HISTORY:-0}"
ONLY_WORKLOADS="${WORKLOADS_ONLY:-}"
ONLY_VARIANTS="${VARIANTS_ONLY:-}"
AS_SUPERUSER="${AS_SUPERUSER:-0}"
KEEP_LOGS="${KEEP_LOGS:-}"
BACKLOG="${BACKLOG:-1}"
QUICK="${QUICK:-0}"
INSTALL="${INSTALL:-0}"
PRIVATE="${PRIVATE:-0}"
WAITS="${WAITS:-0}"
INNER=0
ARGS=("$@")

usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --scale) SCALE="$2"; shift ;;
        --rounds) ROUNDS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --clients) CLIENTS="$2"; shift ;;
        --jobs) JOBS="$2"; shift ;;
        --protocol) PROTOCOL="$2"; shift ;;
        --hot) HOT="$2"; shift ;;
        --history) HISTORY="$2"; shift ;;
        --workloads) ONLY_WORKLOADS="$2"; shift ;;
        --variants) ONLY_VARIANTS="$2"; shift ;;
        --as-superuser) AS_SUPERUSER=1 ;;
        --no-backlog) BACKLOG=0 ;;
        --keep-logs) KEEP_LOGS="$2"; shift ;;
        --install) INSTALL=1 ;;
        --private) PRIVATE=1 ;;
        --waits) WAITS=1 ;;
        --inner) INNER=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
# Defaults (explicit options and environment variables win over --quick).
if [ "$QUICK" = 1 ]; then
    SCALE="${SCALE:-0.2}"; ROUNDS="${ROUNDS:-2}"; DURATION="${DURATION:-6}"
else
    SCALE="${SCALE:-1}"; ROUNDS="${ROUNDS:-5}"; DURATION="${DURATION:-30}"
fi

# --private: this checkout's build in a private copy of PostgreSQL, then the bench against it.
if [ "$INNER" = 0 ] && [ "$PRIVATE" = 1 ]; then
    PRIV=$(mktemp -d /tmp/pals_bench_pg.XXXXXX)
    chmod 755 "$PRIV"
    trap 'rm -rf "$PRIV"' EXIT
    t=$(date +%s)
    line=$(bash "$HERE/private-install.sh" "$PRIV" | tail -1)
    echo "[bench] built and installed into a private copy of PostgreSQL ($(( $(date +%s) - t )) s)" >&2
    a=(); for x in "${ARGS[@]}"; do case "$x" in --private|--install) ;; *) a+=("$x") ;; esac; done
    PALS_PGBIN="${line#PALS_PGBIN=}" bash "$0" ${a[@]+"${a[@]}"}
    exit $?
fi
# Outside the throwaway cluster: start one and run ourselves inside it.
if [ "$INNER" = 0 ] && [ "$INSTALL" = 1 ] && [ "$PGBIN" != /usr/lib/postgresql/15/bin ]; then
    INSTALL=0; a=(); for x in "${ARGS[@]}"; do [ "$x" = --install ] || a+=("$x"); done; ARGS=("${a[@]}")   # a private copy (bench/private-install.sh): no lock
fi
if [ "$INNER" = 0 ] && [ "$INSTALL" = 1 ]; then
    exec 8>/tmp/pals_privacy.install.lock   # inherited by the inner run, which releases it
    flock 8
    bash "$ROOT/tools/setup.sh" >&2
fi
if [ "$INNER" = 0 ]; then
    PRELOAD=(-o shared_preload_libraries=pals_privacy)
    if [ ! -f "$(pg_config --sharedir)/extension/pals_privacy.control" ]; then
        case ",${ONLY_VARIANTS:-${VARIANTS[*]}}," in
            *bound*) echo "run.sh: pals_privacy is not installed (run make install first)" >&2; exit 1 ;;
        esac
        PRELOAD=()   # only extension-free variants were asked for
    fi
    # --quick: no fsync (a throwaway cluster; the checkpoint before each run writes the set-up's
    # pages without waiting for the disk, which other tenants keep busy)
    [ "$QUICK" = 1 ] && PRELOAD+=(-o fsync=off)
    exec "$HERE/cluster.sh" "${PRELOAD[@]}" -o synchronous_commit=off \
        -o shared_buffers=256MB -o max_wal_size=2GB -o checkpoint_timeout=30min \
        bash "$0" "${ARGS[@]}" --inner
fi

# ---------------------------------------------------------------------------------------------
# Inside pg_virtualenv: PGHOST/PGPORT/PGUSER/PGPASSWORD point at the bootstrap superuser.
SUPERUSER="$PGUSER"; SUPERPASS="$PGPASSWORD"
LOGDIR="${KEEP_LOGS:-$(mktemp -d /tmp/pals_bench.XXXXXX)}"
mkdir -p "$LOGDIR"
chmod 755 "$LOGDIR" 2>/dev/null || true
[ -z "$KEEP_LOGS" ] && trap 'rm -rf "$LOGDIR"' EXIT

if [ -n "$ONLY_VARIANTS" ]; then IFS=, read -r -a VARIANTS <<<"$ONLY_VARIANTS"; fi
# --quick keeps to two minutes: the baseline, the extension and the floor (no diagnostic variants)
if [ -z "$ONLY_VARIANTS" ] && [ "$QUICK" = 1 ]; then VARIANTS=(base bound plpgsql); fi
if [ -z "$ONLY_WORKLOADS" ] && [ "$QUICK" = 1 ]; then
    sel=()
    for w in "${WORKLOADS[@]}"; do read -r _ _ _ q <<<"$w"; [ "$q" = yes ] && sel+=("$w"); done
    WORKLOADS=("${sel[@]}")
fi
if [ -n "$ONLY_WORKLOADS" ]; then
    sel=()
    for w in "${WORKLOADS[@]}"; do
        name="${w%% *}"
        case ",$ONLY_WORKLOADS," in *",$name,"*) sel+=("$w") ;; esac
    done
    WORKLOADS=("${sel[@]}")
fi

t0=$(date +%s)
say() { printf '[%4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }

say "scale $SCALE, $ROUNDS rounds x ${DURATION}s, -c $CLIENTS -j $JOBS -M $PROTOCOL, variants: ${VARIANTS[*]}"
createdb bench_template
psql -X -q -v ON_ERROR_STOP=1 -d bench_template -f "$ROOT/demo/schema.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d bench_template -v scale="$SCALE" -f "$ROOT/demo/generate.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d bench_template -f "$ROOT/demo/roles.sql" >/dev/null
if [ "$HISTORY" -gt 0 ]; then
    # N more past loans per circulating item, one a day back from 2025-12-31 at most (2025
    # partition), each with a random identified patron, all closed and settled.
    psql -X -q -v ON_ERROR_STOP=1 -d bench_template -v n="$HISTORY" -v hot="${HOT:-0}" >/dev/null <<'SQL'
INSERT INTO demo.loans (patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at)
SELECT 1 + (hashint8(i.id * 100003 + g) & 2147483647) % (SELECT max(id) FROM demo.patrons),
       i.id, i.library_id, d, d + interval '21 days', d + interval '7 days', d + interval '7 days'
  FROM demo.items i
 CROSS JOIN generate_series(1, :n) g
 CROSS JOIN LATERAL (SELECT timestamptz '2025-12-20 00:00+00' - g * interval '12 hours' AS d) x
 WHERE :hot = 0 OR i.id <= :hot;
ANALYZE demo.loans;
SQL
    say "added $HISTORY past loans to each circulating item"
fi
SHAPES=0
for w in "${WORKLOADS[@]}"; do
    read -r _ script _ <<<"$w"
    grep -q 'shapes\.' "$HERE/$script" && SHAPES=1
done
if [ "$SHAPES" = 1 ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d bench_template -v scale="$SCALE" -f "$HERE/shapes.sql" >/dev/null
    say "generated the shapes tables (bench/shapes.sql)"
fi
# compacted once: base is a plain copy of it (the variants that change the data are compacted
# again below, after their change)
psql -X -q -d bench_template -c 'VACUUM (FULL, ANALYZE)' >/dev/null
say "generated the template database"

# Throwaway passwords for the workload roles (password auth over TCP in pg_virtualenv).
declare -A ROLEPASS
for w in "${WORKLOADS[@]}"; do
    read -r _ _ role _ bg <<<"$w"
    for role in "$role" ${bg:+"${bg#*:}"}; do
    if [ -z "${ROLEPASS[$role]:-}" ]; then
        ROLEPASS[$role]="bench_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
        psql -X -q -v ON_ERROR_STOP=1 -d postgres \
            -c "ALTER ROLE \"$role\" LOGIN PASSWORD '${ROLEPASS[$role]}'" >/dev/null
    fi
    done
done

ready=" "
for v in "${VARIANTS[@]}"; do
    if [ -n "${FROM_BOUND[$v]:-}" ] && [[ "$ready" == *" bound "* ]]; then
        # bound's finished database (bound, severed, compacted), copied: the same data as
        # setting it up from the template again, without binding and severing it twice
        createdb -T bench_bound "bench_$v"
        ${FROM_BOUND[$v]} "bench_$v"
        psql -X -q -d "bench_$v" -c 'VACUUM ANALYZE' >/dev/null
    else
        createdb -T bench_template "bench_$v"
        "setup_variant_$v" "bench_$v"
        # VACUUM FULL: the backlog rewrote most loan rows once; without compacting, "bound" would
        # carry twice the table and index pages of "base", and the comparison would measure that
        # one-time bloat instead of the extension.  Every variant is compacted alike (base, which
        # changes nothing, is a copy of the compacted template).
        [ "$v" = base ] || psql -X -q -d "bench_$v" -c 'VACUUM (FULL, ANALYZE)' >/dev/null
        if declare -F "after_vacuum_$v" >/dev/null; then "after_vacuum_$v" "bench_$v"; fi
    fi
    ready="$ready$v "
    say "database bench_$v ready"
done

NITEMS=$(psql -X -Atq -d bench_template -c 'SELECT max(id) FROM demo.items')
NPATRONS=$(psql -X -Atq -d bench_template -c 'SELECT max(id) FROM demo.patrons')
NHOT=1
[ "$SHAPES" = 1 ] && NHOT=$(psql -X -Atq -d bench_template -c 'SELECT max(item) FROM shapes.issues')
[ -n "$HOT" ] && NITEMS="$HOT"
dropdb bench_template
if [ "$INSTALL" = 1 ]; then flock -u 8; say "released the install lock"; fi
[ -n "${READY_FILE:-}" ] && touch "$READY_FILE"   # (bench/all.sh: set-up done)

# Server CPU per transaction: the CPU time of the postmaster's exited children (the backends of a
# pgbench run, and any parallel or autovacuum worker that ends meanwhile), which the kernel adds
# to the postmaster's cutime/cstime when they are reaped.  Steadier than tps on a shared machine,
# where other tenants take CPU time from the run but not CPU time per transaction.  "-" where
# /proc does not show it.
PMSTAT="/proc/$(head -1 "$(psql -X -Atq -d postgres -c 'SHOW data_directory')/postmaster.pid" 2>/dev/null)/stat"
children_cpu_ticks() {
    awk '{print $16 + $17}' "$PMSTAT" 2>/dev/null || echo -
}

# run_one WORKLOAD SCRIPT ROLE VARIANT ROUND CLIENTS PROTOCOL [BACKGROUND]: one pgbench run
# (with BACKGROUND = script:role, a second pgbench alongside); prints "tps latency_ms cpu_ms"
run_one() {
    local name="$1" script="$2" role="$3" v="$4" r="$5" c="$6" m="$7" bg="${8:-}" user pass out t0 t1
    local bgpid="" bgout="" nbg=0
    if [ "$AS_SUPERUSER" = 1 ]; then user="$SUPERUSER"; pass="$SUPERPASS"
    else user="$role"; pass="${ROLEPASS[$role]}"; fi
    out="$LOGDIR/${name//\//_}.$v.r$r.log"
    psql -X -q -d "bench_$v" -c CHECKPOINT >/dev/null
    local mx0=""
    [ "$WAITS" = 1 ] && mx0=$(psql -X -Atq -d postgres -c 'SELECT next_multixact_id FROM pg_control_checkpoint()')
    sleep 0.2; t0=$(children_cpu_ticks)
    if [ -n "$bg" ]; then
        local bgrole="${bg#*:}" bguser bgpass
        bgout="$out.background"
        if [ "$AS_SUPERUSER" = 1 ]; then bguser="$SUPERUSER"; bgpass="$SUPERPASS"
        else bguser="$bgrole"; bgpass="${ROLEPASS[$bgrole]}"; fi
        PGUSER="$bguser" PGPASSWORD="$bgpass" pgbench -n -f "$HERE/${bg%%:*}" \
            -c "$c" -j "$JOBS" -T "$DURATION" -M "$m" \
            -D nitems="$NITEMS" -D npatrons="$NPATRONS" -D nhot="$NHOT" "bench_$v" >"$bgout" 2>&1 &
        bgpid=$!
    fi
    local wpid=""
    if [ "$WAITS" = 1 ]; then
        # one sample every 0.1 s for the run's duration, in one session
        for ((i = 0; i < DURATION * 10; i++)); do
            echo "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
                   WHERE datname = 'bench_$v' AND state = 'active' AND backend_type = 'client backend'
                     AND pid <> pg_backend_pid(); SELECT pg_sleep(0.1);"
        done | psql -X -Atq -d postgres >"$out.waits" 2>/dev/null &
        wpid=$!
    fi
    if ! PGUSER="$user" PGPASSWORD="$pass" pgbench -n -f "$HERE/$script" \
            -c "$c" -j "$JOBS" -T "$DURATION" -M "$m" -r \
            -D nitems="$NITEMS" -D npatrons="$NPATRONS" -D nhot="$NHOT" "bench_$v" >"$out" 2>&1 \
       || grep -q 'Run was aborted' "$out"; then
        echo "run.sh: pgbench failed for $name on bench_$v (round $r):" >&2
        tail -20 "$out" >&2
        exit 1
    fi
    if grep -q 'number of failed transactions: [1-9]' "$out"; then
        say "warning: failed transactions in $name/$v round $r: $(grep 'failed transactions' "$out")"
    fi
    if [ -n "$wpid" ]; then
        wait "$wpid" || true
        sort "$out.waits" | grep -v '^$' | uniq -c | sort -rn | awk -v w="$name" -v v="$v" -v r="$r" \
            '{n[NR] = $1; e[NR] = $2; t += $1} END {for (i = 1; i <= NR; i++) printf "%s %s %s %s %.1f\n", w, v, r, e[i], 100 * n[i] / t}' \
            >>"$LOGDIR/waits.txt"
        # MultiXacts created by the run (next id at the checkpoints before and after), per 1000 transactions
        psql -X -q -d "bench_$v" -c CHECKPOINT >/dev/null
        awk -v w="$name" -v v="$v" -v r="$r" -v a="$mx0" -v b="$(psql -X -Atq -d postgres -c 'SELECT next_multixact_id FROM pg_control_checkpoint()')" \
            '/^number of transactions actually processed: / {n=$NF} END {if (n) printf "%s %s %s MultiXacts/1000tx %.1f\n", w, v, r, 1000 * (b - a) / n}' \
            "$out" >>"$LOGDIR/waits.txt"
    fi
    if [ -n "$bgpid" ]; then
        if ! wait "$bgpid" || grep -q 'Run was aborted' "$bgout"; then
            echo "run.sh: background pgbench ($bg) failed for $name on bench_$v (round $r):" >&2
            tail -20 "$bgout" >&2
            exit 1
        fi
        nbg=$(awk '/^number of transactions actually processed: / {n=$NF} END {print n + 0}' "$bgout")
    fi
    sleep 0.5; t1=$(children_cpu_ticks)   # (the run's backends have exited and been reaped)
    awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v nbg="$nbg" '
         /^tps = / && /without initial connection time/ {tps=$3}
         /^latency average = / {lat=$4}
         /^number of transactions actually processed: / {n=$NF + nbg}
         END {if (tps == "" || lat == "") exit 1
              cpu = (t0 == "-" || t1 == "-" || n == 0) ? "-" : sprintf("%.4f", (t1 - t0) * 1000 / hz / n)
              print tps, lat, cpu}' "$out"
}

RESULTS="$LOGDIR/results.txt"   # lines: workload variant round tps latency cpu_ms_per_transaction
: >"$RESULTS"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a PROTOCOL_LIST <<<"$PROTOCOL"
# label NAME CLIENTS PROTOCOL: the workload's name in results, with the dimensions that vary
label() {
    local l="$1"
    [ "${#CLIENT_LIST[@]}" -gt 1 ] && l="$l/c$2"
    [ "${#PROTOCOL_LIST[@]}" -gt 1 ] && l="$l/$3"
    echo "$l"
}
for ((r = 1; r <= ROUNDS; r++)); do
    for w in "${WORKLOADS[@]}"; do
      read -r name script role _ bg <<<"$w"
      for c in "${CLIENT_LIST[@]}"; do
       for m in "${PROTOCOL_LIST[@]}"; do
        lname=$(label "$name" "$c" "$m")
        # alternate the variant order each round: base,bound then bound,base ...
        order=("${VARIANTS[@]}")
        if (( r % 2 == 0 )); then
            order=(); for ((i = ${#VARIANTS[@]} - 1; i >= 0; i--)); do order+=("${VARIANTS[$i]}"); done
        fi
        for v in "${order[@]}"; do
            skip=0
            for vo in "${VARIANT_ONLY_FOR[@]}"; do
                read -r vn vw <<<"$vo"
                [ "$vn" = "$v" ] && case ",$vw," in *",$name,"*) ;; *) skip=1 ;; esac
            done
            [ "$skip" = 1 ] && continue
            res=$(run_one "$lname" "$script" "$role" "$v" "$r" "$c" "$m" "${bg:-}")
            echo "$lname $v $r $res" >>"$RESULTS"
            read -r tps lat cpu <<<"$res"
            say "round $r/$ROUNDS $lname on $v${bg:+ (with ${bg%%:*} alongside)} as $([ "$AS_SUPERUSER" = 1 ] && echo "$SUPERUSER" || echo "$role"): tps $tps, latency $lat ms, server CPU $cpu ms/transaction"
        done
       done
      done
    done
done

# Summary: median over rounds per workload and variant; ratio of medians to the first variant.
echo
echo "pals_privacy bench: scale $SCALE, items circulating $NITEMS, $ROUNDS rounds x ${DURATION}s, -c $CLIENTS -j $JOBS -M $PROTOCOL (median of rounds)"
wl_names=()
for w in "${WORKLOADS[@]}"; do
    for c in "${CLIENT_LIST[@]}"; do for m in "${PROTOCOL_LIST[@]}"; do wl_names+=("$(label "${w%% *}" "$c" "$m")"); done; done
done
awk -v variants="${VARIANTS[*]}" -v workloads="${wl_names[*]}" '
function median(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j+1] = arr[j]; arr[j+1] = t }
    return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
{ k = $1 SUBSEP $2; n[k]++; tps[k, n[k]] = $4; lat[k, n[k]] = $5; cpu[k, n[k]] = $6; if ($6 == "-") nocpu = 1 }
END {
    nv = split(variants, V, " "); nw = split(workloads, W, " ")
    hdr = sprintf("%-22s", "workload")
    for (i = 1; i <= nv; i++) hdr = hdr sprintf(" %11s", "tps " V[i])
    for (i = 2; i <= nv; i++) hdr = hdr sprintf(" %11s", V[i] "/" V[1])
    for (i = 1; i <= nv; i++) hdr = hdr sprintf(" %13s", "lat ms " V[i])
    if (!nocpu) for (i = 2; i <= nv; i++) hdr = hdr sprintf(" %13s", "cpu " V[i] "/" V[1])
    print hdr
    for (w = 1; w <= nw; w++) {
        line = sprintf("%-22s", W[w])
        for (i = 1; i <= nv; i++) {
            k = W[w] SUBSEP V[i]; m = n[k]
            delete a; delete b; delete c
            for (j = 1; j <= m; j++) { a[j] = tps[k, j]; b[j] = lat[k, j]; c[j] = cpu[k, j] }
            T[i] = m ? median(a, m) : 0; L[i] = m ? median(b, m) : 0; C[i] = (m && !nocpu) ? median(c, m) : 0
            line = line (m ? sprintf(" %11.1f", T[i]) : sprintf(" %11s", "-"))
        }
        for (i = 2; i <= nv; i++) line = line (T[1] && T[i] ? sprintf(" %11.3f", T[i] / T[1]) : sprintf(" %11s", "-"))
        for (i = 1; i <= nv; i++) line = line (L[i] ? sprintf(" %13.3f", L[i]) : sprintf(" %13s", "-"))
        # read like the tps ratio: CPU per transaction of the base over that of the variant
        if (!nocpu) for (i = 2; i <= nv; i++) line = line (C[1] && C[i] ? sprintf(" %13.3f", C[1] / C[i]) : sprintf(" %13s", "-"))
        print line
    }
}' "$RESULTS"
if ! grep -q ' -$' "$RESULTS"; then
    echo "(cpu V/base: the base's server CPU time per transaction over the variant's, medians of rounds)"
fi
# Per round: each variant over the first, tps and CPU, within the same round (the runs of one
# round are minutes apart at most; the rounds show how far the figure moves from run to run).
echo
echo "per round (V/${VARIANTS[0]}: tps ratio / cpu ratio):"
awk -v variants="${VARIANTS[*]}" -v workloads="${wl_names[*]}" '
{ tps[$1, $2, $3] = $4; cpu[$1, $2, $3] = $6; if ($3 > nr) nr = $3 }
END {
    nv = split(variants, V, " "); nw = split(workloads, W, " ")
    for (w = 1; w <= nw; w++) for (i = 2; i <= nv; i++) {
        line = sprintf("%-22s %-9s", W[w], V[i]); any = 0
        for (r = 1; r <= nr; r++) {
            b = tps[W[w], V[1], r]; t = tps[W[w], V[i], r]; cb = cpu[W[w], V[1], r]; cv = cpu[W[w], V[i], r]
            if (b == "" || t == "") { line = line sprintf("  %13s", "-"); continue }
            any = 1
            line = line sprintf("  %5.3f / %5s", t / b, (cb != "-" && cv != "-" && cv > 0) ? sprintf("%.3f", cb / cv) : "-")
        }
        if (any) print line
    }
}' "$RESULTS"
if [ "$WAITS" = 1 ] && [ -s "$LOGDIR/waits.txt" ]; then
    echo
    echo "wait events (% of samples of active backends, mean over rounds; top 6 per workload and variant):"
    awk '{k = $1 " " $2; s[k, $4] += $5; if (!(k in seen)) {seen[k] = 1; keys[++nk] = k}; r[k, $3] = 1}
         END {for (k in r) {split(k, a, SUBSEP); nr[a[1]]++}
              for (i = 1; i <= nk; i++) {k = keys[i]; line = sprintf("%-30s", k); m = 0
                  mx = ""
                  for (ke in s) {split(ke, a, SUBSEP); if (a[1] != k) continue
                      if (a[2] ~ /^MultiXacts/) mx = sprintf(" | %s %.1f", a[2], s[ke] / nr[k])
                      else {ev[++m] = a[2]; val[m] = s[ke] / nr[k]}}
                  for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (val[y] > val[x]) {t = val[x]; val[x] = val[y]; val[y] = t; t = ev[x]; ev[x] = ev[y]; ev[y] = t}
                  for (x = 1; x <= m && x <= 6; x++) line = line sprintf(" %s %.1f%%", ev[x], val[x])
                  print line mx; delete ev; delete val}}' "$LOGDIR/waits.txt"
fi
echo
say "done (per-round results in $RESULTS${KEEP_LOGS:+, kept})"

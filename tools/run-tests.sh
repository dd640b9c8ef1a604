#!/usr/bin/env bash
# `make test`: set up, then run every suite against real PostgreSQL 15 servers
# with the extension installed as a user installs it:
#   1. pg_regress (with pgTAP inside) and isolation specs, in a throwaway
#      cluster from pg_virtualenv with shared_preload_libraries = pals_privacy;
#   2. TAP tests (they start their own servers), as the postgres user on a
#      copy of the tree it can write.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
#
# `make test PG=18` (or PG=18-assert) runs the same suites against a private
# PostgreSQL built from source by tools/build-pg.sh (cached outside the
# repository): a copy of that installation and of the tree in a scratch
# directory, a cluster made with initdb and started with pg_ctl (pg_virtualenv
# only knows Debian's packages).  It writes no system directory, so it takes
# no lock and any number of runs can go side by side.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
pg=${PG:-15}
log=$(mktemp -d /tmp/pals_test.XXXXXX)
chmod 755 "$log"
passed=0
failed=0
# pg_regress reports "test name ... ok" / "... FAILED" up to 15, and TAP
# style "ok 1 - name" / "not ok 1 - name" from 16
okline='^((test |     )?[a-z0-9_-]+ +\.\.\. ok|ok [0-9]+ +[-+] )'
badline='\.\.\. (FAILED|failed)|^not ok [0-9]+ '
count() {   # count passed / failed tests of pg_regress output
    local f=$1 ok bad
    ok=$(grep -cE "$okline" "$f" || true)
    bad=$(grep -cE "$badline" "$f" || true)
    passed=$((passed + ok)); failed=$((failed + bad))
}

# the pg_regress and isolation runs, in the current directory, against the
# server the environment points at
installchecks="
    make -s installcheck ISOLATION= TAP_TESTS= > '$log/regress.out' 2>&1; echo \$? > '$log/regress.rc'
    if [ -f regression.diffs ]; then cp regression.diffs '$log/regress.diffs'; fi
    make -s installcheck REGRESS= TAP_TESTS= > '$log/isolation.out' 2>&1; echo \$? > '$log/isolation.rc'
    if [ -f output_iso/regression.diffs ]; then cp output_iso/regression.diffs '$log/isolation.diffs'; fi
"
if [ "$pg" = 15 ]; then
    # `make install` writes into the system PostgreSQL directories: one run at
    # a time on a machine (another checkout's run waits here rather than
    # testing a build that is not its own).
    exec 9>/tmp/pals_privacy.install.lock
    flock 9
    bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
    bindir=/usr/lib/postgresql/15/bin
    tap=$log/tap
    echo "== pg_regress and isolation tests (PostgreSQL 15)"
    pg_virtualenv -t -o shared_preload_libraries=pals_privacy -o max_prepared_transactions=10 \
        bash -c "cd '$top'; $installchecks" > "$log/virtualenv.out" 2>&1
    rsync -a --exclude .git --exclude results --exclude output_iso --exclude tmp_check "$top/" "$tap/"
else
    # a private server: build (or reuse) it, then copy it and the tree
    major=${pg%%-*}
    flags=()
    [ "$major" != "$pg" ] && flags=(--"${pg#*-}")
    t=$(date +%s)
    cached=$(bash tools/build-pg.sh "${flags[@]}" "$major" | tail -1) \
        || { echo "!! could not build PostgreSQL $pg"; echo "0 passed, 1 failed"; exit 1; }
    echo "== PostgreSQL $pg from $cached ($(( $(date +%s) - t )) s)"
    bindir=$log/pg/bin
    tap=$log/tree
    cp -a "$cached" "$log/pg"       # relocatable: pg_config answers for the copy
    rsync -a --exclude .git --exclude results --exclude output_iso --exclude tmp_check \
        --exclude '*.o' --exclude '*.so' --exclude '*.bc' "$top/" "$tap/"
    echo "== building pals_privacy against $("$bindir/pg_config" --version) (warnings are errors)"
    if ! (cd "$tap" && make -s clean PG_CONFIG="$bindir/pg_config" >/dev/null &&
          make -s werror PG_CONFIG="$bindir/pg_config" >/dev/null &&
          make -s install PG_CONFIG="$bindir/pg_config" >/dev/null) > "$log/build.out" 2>&1; then
        cat "$log/build.out"; echo "0 passed, 1 failed"; exit 1
    fi
    chown -R postgres: "$log"
    pgrun() { runuser -u postgres -- env PATH="$bindir:$PATH" PGHOST="$log" PGPORT=5432 "$@"; }
    pgrun initdb -D "$log/data" -A trust -U postgres --no-sync > "$log/initdb.out" 2>&1 \
        || { cat "$log/initdb.out"; echo "0 passed, 1 failed"; exit 1; }
    cat >> "$log/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$log'
port = 5432
fsync = off
shared_preload_libraries = 'pals_privacy'
max_prepared_transactions = 10
CONF
    stop_server() { pgrun pg_ctl -D "$log/data" -m immediate stop > /dev/null 2>&1 || true; }
    trap stop_server EXIT
    pgrun pg_ctl -D "$log/data" -l "$log/server.log" -w start > /dev/null \
        || { tail -20 "$log/server.log"; echo "0 passed, 1 failed"; exit 1; }
    echo "== pg_regress and isolation tests (PostgreSQL $pg)"
    (cd "$tap" && pgrun bash -c "$installchecks") > "$log/virtualenv.out" 2>&1
    stop_server
    trap - EXIT
fi
for suite in regress isolation; do
    cat "$log/$suite.out" 2>/dev/null | grep -E "\.\.\. |^(=|#)|$okline|$badline" | grep -v '^=* *$' || true
    count "$log/$suite.out"
    rc=$(cat "$log/$suite.rc" 2>/dev/null || echo 1)
    if [ "$rc" != 0 ] && ! grep -qE "$badline" "$log/$suite.out" 2>/dev/null; then
        echo "!! $suite suite did not run (exit $rc):"; tail -20 "$log/$suite.out" "$log/virtualenv.out" 2>/dev/null
        failed=$((failed + 1))
    fi
    [ -f "$log/$suite.diffs" ] && { echo "-- $suite diffs (first 60 lines):"; head -60 "$log/$suite.diffs"; }
done

echo "== TAP tests"
chown -R postgres: "$tap"
(cd "$tap" && runuser -u postgres -- env PATH="$bindir:$PATH" \
    make -s installcheck REGRESS= ISOLATION= PROVE_FLAGS=--timer PG_CONFIG="$bindir/pg_config") > "$log/tap.out" 2>&1
grep -E '^test/t/|^\[' "$log/tap.out" | sed 's/^/  /'
ok=$(grep -cE '^(\[[0-9:]+\] )?test/t/.*\.\. ok' "$log/tap.out" || true)
bad=$(grep -cE '^(\[[0-9:]+\] )?test/t/.*\.\. (Failed|Dubious|No subtests)' "$log/tap.out" || true)
passed=$((passed + ok)); failed=$((failed + bad))
if ! grep -q "Result: PASS" "$log/tap.out"; then
    [ "$bad" = 0 ] && failed=$((failed + 1))
    echo "-- TAP output (last 40 lines):"; tail -40 "$log/tap.out"
    for f in "$tap"/tmp_check/log/regress_log_*; do [ -f "$f" ] && { echo "-- $f"; tail -30 "$f"; }; done
fi

echo "(logs in $log)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

#!/usr/bin/env bash
# `make test`: set up, then run every suite against real PostgreSQL 15 servers
# with the extension installed as a user installs it (into a private copy of
# the system's PostgreSQL, see below):
#   1. pg_regress (with pgTAP inside) and isolation specs, in a throwaway
#      cluster with shared_preload_libraries = pals_privacy;
#   2. TAP tests (they start their own servers), as the postgres user on a
#      copy of the tree it can write.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
#
# `make test PG=18` (or PG=18-assert) runs the same suites against
# PostgreSQL 18 built from source by tools/build-pg.sh (cached outside the
# repository, built on first use): a copy of that installation, and the
# extension built in a copy of the tree.
#
# `make test ONLY="suite ..."` runs only the named suites (a test/sql or
# test/specs name, or the number or name of a test/t file) and the checks
# that need no server; for working on a change, never for CI.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
pgversion=${PG:-15}
# The compliance report test renders the report in Debian's chromium
# (test/t/050_compliance_report.pl); without it that test fails, never skips.
if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium (the compliance report test renders in it)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium >/dev/null; } \
        || echo "!! could not install chromium: test/t/050_compliance_report.pl will fail"
fi

only_regress= only_iso= only_tap=
for s in ${ONLY:-}; do
    if [ -f "test/sql/$s.sql" ]; then only_regress+=" $s"
    elif [ -f "test/specs/$s.spec" ]; then only_iso+=" $s"
    elif t=$(compgen -G "test/t/$s*.pl" || compgen -G "test/t/*_$s.pl"); then only_tap+=" ${t%%$'\n'*}"
    else echo "!! ONLY: no suite named $s in test/sql, test/specs or test/t"; echo "0 passed, 1 failed"; exit 1
    fi
done
# what each harness runs: everything (no ONLY), or the named suites, or nothing
regress_args=() iso_args=() tap_args=()
if [ -n "${ONLY:-}" ]; then
    regress_args=("REGRESS=${only_regress# }") iso_args=("ISOLATION=${only_iso# }") tap_args=("PROVE_TESTS=${only_tap# }")
fi

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
    [ -f "$f" ] || return 0   # a kind of suite ONLY= did not select
    ok=$(grep -cE "$okline" "$f" || true)
    bad=$(grep -cE "$badline" "$f" || true)
    passed=$((passed + ok)); failed=$((failed + bad))
}

# The build is installed, as a user installs it, into a private copy of the
# system PostgreSQL 15 (the server finds its files relative to its own
# binary), so runs from several checkouts never test each other's builds and
# nothing waits for a lock; the copy is removed at the end.
pg=$log/pg
if [ "$pgversion" = 15 ]; then
    bash tools/setup.sh --no-install || { echo "0 passed, 1 failed"; exit 1; }
    mkdir -p "$pg/usr/lib/postgresql" "$pg/usr/share/postgresql"
    cp -a /usr/lib/postgresql/15 "$pg/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$pg/usr/share/postgresql/"
    # scripts an older build installed into the system PostgreSQL are not this build's
    rm -f "$pg"/usr/share/postgresql/15/extension/pals_privacy[.-]*
    make -s install DESTDIR="$pg" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
    bindir=$pg/usr/lib/postgresql/15/bin
    tree=$top
else
    # PostgreSQL built from source (cached), copied; the extension is built
    # in a copy of the tree, so the checkout's own build (for 15) stays
    major=${pgversion%%-*}
    flags=()
    [ "$major" != "$pgversion" ] && flags=(--"${pgversion#*-}")
    t=$(date +%s)
    cached=$(bash tools/build-pg.sh "${flags[@]}" "$major" | tail -1) \
        || { echo "!! could not build PostgreSQL $pgversion"; echo "0 passed, 1 failed"; exit 1; }
    echo "== PostgreSQL $pgversion from $cached ($(( $(date +%s) - t )) s)"
    cp -a "$cached" "$pg"
    rm -f "$pg"/share/postgresql/extension/pals_privacy[.-]*
    bindir=$pg/bin
    tree=$log/tree
    rsync -a --exclude .git --exclude results --exclude output_iso --exclude tmp_check \
        --exclude '*.o' --exclude '*.so' --exclude '*.bc' "$top/" "$tree/"
    echo "== building pals_privacy against $("$bindir/pg_config" --version) (warnings are errors)"
    if ! (cd "$tree" && make -s clean PG_CONFIG="$bindir/pg_config" &&
          make -s werror PG_CONFIG="$bindir/pg_config" &&
          make -s install PG_CONFIG="$bindir/pg_config") > "$log/build.out" 2>&1; then
        cat "$log/build.out"; echo "0 passed, 1 failed"; exit 1
    fi
fi
trap 'runuser -u postgres -- "$bindir/pg_ctl" -D "$log/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pg"' EXIT

# a throwaway cluster owned by postgres, on a free port, socket in $log
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chown postgres: "$log"
runuser -u postgres -- "$bindir/initdb" -D "$log/data" -A trust -U postgres >/dev/null
cat >> "$log/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$log'
shared_preload_libraries = 'pals_privacy'
max_prepared_transactions = 10
CONF
runuser -u postgres -- "$bindir/pg_ctl" -D "$log/data" -l "$log/server.log" -w start >/dev/null \
    || { echo "!! the test server did not start:"; tail -20 "$log/server.log"; echo "0 passed, 1 failed"; exit 1; }

echo "== pg_regress and isolation tests ($("$bindir/pg_config" --version))"
(
    cd "$tree"
    export PGHOST=$log PGPORT=$port PGUSER=postgres
    if [ -z "${ONLY:-}" ] || [ -n "$only_regress" ]; then
        make -s installcheck PG_CONFIG="$bindir/pg_config" ISOLATION= TAP_TESTS= "${regress_args[@]}" > "$log/regress.out" 2>&1; echo $? > "$log/regress.rc"
    else echo 0 > "$log/regress.rc"; fi
    if [ -f regression.diffs ]; then cp regression.diffs "$log/regress.diffs"; fi
    if [ -z "${ONLY:-}" ] || [ -n "$only_iso" ]; then
        make -s installcheck PG_CONFIG="$bindir/pg_config" REGRESS= TAP_TESTS= "${iso_args[@]}" > "$log/isolation.out" 2>&1; echo $? > "$log/isolation.rc"
    else echo 0 > "$log/isolation.rc"; fi
    if [ -f output_iso/regression.diffs ]; then cp output_iso/regression.diffs "$log/isolation.diffs"; fi
)
runuser -u postgres -- "$bindir/pg_ctl" -D "$log/data" -w stop >/dev/null 2>&1
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

# pgTAP runs inside pg_regress (test/README.md): a failing assertion or a plan
# mismatch written into an expected file would pass the diff silently, so no
# expected file may hold one, and every pgTAP file must plan and finish.
baked=$(grep -lE '^ *(not ok [0-9]+|# Looks like you|# Failed test)' test/expected/*.out 2>/dev/null)
unfinished=$(for f in test/sql/*.sql; do grep -q 'plan(' "$f" && ! grep -q 'finish()' "$f" && echo "$f"; done)
if [ -n "$baked$unfinished" ]; then
    echo "expected files hold no pgTAP failure ... FAILED: ${baked:-} ${unfinished:-}"; failed=$((failed + 1))
else
    echo "expected files hold no pgTAP failure ... ok"; passed=$((passed + 1))
fi

# The layering src/pals_privacy.h claims, checked against the objects just built.
if layers=$(cd "$tree" && bash tools/layers.sh 2>&1); then
    echo "C files use only lower layers (tools/layers.sh) ... ok"; passed=$((passed + 1))
else
    echo "C files use only lower layers (tools/layers.sh) ... FAILED"; echo "$layers"; failed=$((failed + 1))
fi

# docs/troubleshooting.md claims every error a DBA can meet: each message of
# the C code and of the SQL must be on it (issue 18).
if errors=$(cd "$tree" && bash tools/errors-documented.sh 2>&1); then
    echo "every error message is in docs/troubleshooting.md (tools/errors-documented.sh) ... ok"; passed=$((passed + 1))
else
    echo "every error message is in docs/troubleshooting.md (tools/errors-documented.sh) ... FAILED"; echo "$errors"
    failed=$((failed + 1))
fi

echo "== TAP tests"
tap=$log/tap
rsync -a --exclude .git --exclude results --exclude output_iso --exclude tmp_check "$tree/" "$tap/"
chown -R postgres: "$tap"
# test/t/060_upgrade.pl puts the released 0.1.0 install script, which it reads
# from git history in this checkout, into the private installation's
# extension directory for its length
chown postgres: "$("$bindir/pg_config" --sharedir)/extension"
if [ -z "${ONLY:-}" ] || [ -n "$only_tap" ]; then
    (cd "$tap" && runuser -u postgres -- env PATH="$bindir:$PATH" PALS_SOURCE_TREE="$top" \
        make -s installcheck PG_CONFIG="$bindir/pg_config" REGRESS= ISOLATION= PROVE_FLAGS=--timer "${tap_args[@]}") > "$log/tap.out" 2>&1
else echo "Result: PASS (ONLY: no TAP test named)" > "$log/tap.out"; fi
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

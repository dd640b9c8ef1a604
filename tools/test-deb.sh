#!/usr/bin/env bash
# Build the Debian package (debian/, pg_buildext) and install it into a clean
# cluster: `make deb-test`.  Ends with one line "N passed, N failed".
#
#   1. dpkg-buildpackage in a scratch copy of the tree: one
#      postgresql-NN-pals-privacy per PostgreSQL server version with headers
#      installed (here 15; Debian 12 has no server package for 18, so no
#      postgresql-18-pals-privacy is built);
#   2. the package unpacked (dpkg-deb -x) over a private copy of the system
#      PostgreSQL 15, a clean cluster with the library preloaded, CREATE
#      EXTENSION from the package's files, a binding and a redacted read.
#      (Not dpkg -i: that writes the system directories other checkouts'
#      demos and benchmarks install into under a lock.)
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
passed=0
failed=0
check() {   # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then echo "ok - $1"; passed=$((passed + 1))
    else echo "not ok - $1 (wanted '$2', got '$3')"; failed=$((failed + 1)); fi
}
done_() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ] && [ "$passed" -gt 0 ]; exit $?; }

need=()
for p in debhelper postgresql-server-dev-all dpkg-dev fakeroot libssl-dev postgresql-15 rsync; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
fi

work=$(mktemp -d /tmp/pals_deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
rsync -a --exclude .git --exclude results --exclude output_iso --exclude tmp_check \
    --exclude '*.o' --exclude '*.so' --exclude '*.bc' "$top/" "$work/pals-privacy/"
t=$(date +%s)
echo "== dpkg-buildpackage"
if ! (cd "$work/pals-privacy" && make -s clean >/dev/null 2>&1 &&
      dpkg-buildpackage -us -uc -b -j"$(nproc)") > "$work/build.log" 2>&1; then
    tail -40 "$work/build.log"; check "the package builds" 0 1; done_
fi
debs=$(cd "$work" && ls *.deb | grep -v -- -dbgsym_)
echo "   built in $(( $(date +%s) - t )) s: $debs"
check "one package, for the one server version installed (15)" "postgresql-15-pals-privacy" \
    "$(for d in $debs; do dpkg-deb -f "$work/$d" Package; done | tr '\n' ' ' | sed 's/ $//')"
deb=$work/$(cd "$work" && ls postgresql-15-pals-privacy_*.deb | head -1)
check "the package holds the library, the control file and the install script" "3" \
    "$(dpkg-deb -c "$deb" | grep -cE 'lib/pals_privacy\.so$|extension/pals_privacy\.control$|extension/pals_privacy--0\.2\.0\.sql$')"
check "the package declares the upgrade script" "1" \
    "$(dpkg-deb -c "$deb" | grep -c 'extension/pals_privacy--0\.1\.0--0\.2\.0\.sql$')"
check "the package depends on the PostgreSQL 15 server" "1" \
    "$(dpkg-deb -f "$deb" Depends | grep -c 'postgresql-15')"

# Install: the package's files unpacked over a private copy of the system
# PostgreSQL 15 (relocatable, as `make test` does), so nothing is written to
# the system directories and no lock is needed; then a clean cluster.
root=$work/root
mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
rm -f "$root"/usr/lib/postgresql/15/lib/pals_privacy.so "$root"/usr/share/postgresql/15/extension/pals_privacy*
echo "== dpkg-deb -x $(basename "$deb")"
dpkg-deb -x "$deb" "$root"
check "the package unpacks the library where the server looks" "1" \
    "$(ls "$root"/usr/lib/postgresql/15/lib/pals_privacy.so 2>/dev/null | wc -l)"
bindir=$root/usr/lib/postgresql/15/bin
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chown -R postgres: "$work"
chmod 755 "$work"
runuser -u postgres -- "$bindir/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'pals_privacy'
CONF
trap 'runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1; rm -rf "$work"' EXIT
runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null \
    || { tail -20 "$work/server.log"; check "a cluster starts with the packaged library preloaded" 0 1; done_; }
out=$(runuser -u postgres -- "$bindir/psql" -h "$work" -p "$port" -XAtq -v ON_ERROR_STOP=1 postgres <<'SQL' 2>"$work/psql.err"
SET client_min_messages = warning;
CREATE EXTENSION pals_privacy;
SELECT extversion FROM pg_extension WHERE extname = 'pals_privacy';
CREATE TABLE patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO patrons (id, name) VALUES (1, 'Ann'), (2, 'Bob');
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires') IS NOT NULL;
CREATE ROLE deb_auditor;
GRANT SELECT ON patrons TO deb_auditor;
SELECT pals_privacy.classify_role('deb_auditor', 'auditor') IS NOT NULL;
SET ROLE deb_auditor;
SELECT count(*) || ' ' || count(name) FROM patrons;
SQL
)
echo "$out" | sed 's/^/   /'
check "CREATE EXTENSION from the package in a clean cluster gives 0.2.0" "0.2.0" "$(echo "$out" | sed -n 1p)"
check "an auditor reads the bound patrons, not their names" "2 0" "$(echo "$out" | tail -1)"
[ "$failed" = 0 ] || cat "$work/psql.err"
done_

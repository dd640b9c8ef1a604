#!/usr/bin/env bash
# Everything `make test`, `make demo` and `make bench` need on a fresh Debian
# machine, as root: packages (installed with apt only where missing), then a
# warnings-as-errors build and `make install` into the system PostgreSQL 15
# (not with --no-install: `make test` installs into a private copy instead).
set -euo pipefail
install=1
[ "${1:-}" = --no-install ] && install=0
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-15-pgtap
          libssl-dev libipc-run-perl make gcc rsync)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

export PATH="/usr/lib/postgresql/15/bin:$PATH"
echo "== building pals_privacy (warnings are errors)"
make -s clean >/dev/null
make -s werror >/dev/null
[ $install = 1 ] || exit 0
make -s install >/dev/null
echo "== installed $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" pals_privacy.control) into $(pg_config --sharedir)/extension"

#!/usr/bin/env bash
# bench/private-install.sh DIR: a private, relocated copy of the system's PostgreSQL 15 in DIR
# (made once), with this checkout's build of pals_privacy installed into it (every time); prints
# the line to run the benches against it:  PALS_PGBIN=DIR/usr/lib/postgresql/15/bin bench/...
# No machine-wide lock is needed: nothing outside DIR is written.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
if [ ! -x "$DIR/usr/lib/postgresql/15/bin/postgres" ]; then
    mkdir -p "$DIR/usr/lib/postgresql" "$DIR/usr/share/postgresql"
    cp -a /usr/lib/postgresql/15 "$DIR/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$DIR/usr/share/postgresql/"
fi
cd "$ROOT"
make -s werror >/dev/null
make -s install DESTDIR="$DIR" >/dev/null
chmod -R a+rX "$DIR"
echo "PALS_PGBIN=$DIR/usr/lib/postgresql/15/bin"

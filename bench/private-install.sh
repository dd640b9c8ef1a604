#!/usr/bin/env bash
# bench/private-install.sh [--pg MAJOR] DIR: a private, relocated copy of PostgreSQL in DIR (made
# once), with this checkout's build of pals_privacy installed into it (every time); prints the
# line to run the benches against it:  PALS_PGBIN=... bench/...
#   --pg 15 (default): a copy of the system's PostgreSQL 15; the extension is built in this tree.
#   --pg 18: a copy of the cached source build of tools/build-pg.sh (/var/cache/pals_privacy/pg18,
#            built there if missing); the extension is built in a copy of the tree (DIR/tree), so
#            that this checkout's own build (for 15) stays as it is.
# No machine-wide lock is needed: nothing outside DIR is written.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MAJOR=15
if [ "${1:-}" = --pg ]; then MAJOR="$2"; shift 2; fi
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$ROOT"
if [ "$MAJOR" = 15 ]; then
    if [ ! -x "$DIR/usr/lib/postgresql/15/bin/postgres" ]; then
        mkdir -p "$DIR/usr/lib/postgresql" "$DIR/usr/share/postgresql"
        cp -a /usr/lib/postgresql/15 "$DIR/usr/lib/postgresql/"
        cp -a /usr/share/postgresql/15 "$DIR/usr/share/postgresql/"
    fi
    make -s werror >/dev/null
    make -s install DESTDIR="$DIR" >/dev/null
    chmod -R a+rX "$DIR"
    echo "PALS_PGBIN=$DIR/usr/lib/postgresql/15/bin"
else
    if [ ! -x "$DIR/pg/bin/postgres" ]; then
        cached=$(bash tools/build-pg.sh "$MAJOR" | tail -1)
        mkdir -p "$DIR"; cp -a "$cached" "$DIR/pg"
    fi
    rsync -a --delete --exclude .git --exclude results --exclude output_iso --exclude tmp_check \
        --exclude '*.o' --exclude '*.so' --exclude '*.bc' "$ROOT/" "$DIR/tree/"
    (cd "$DIR/tree" && make -s clean PG_CONFIG="$DIR/pg/bin/pg_config" >/dev/null &&
        make -s werror PG_CONFIG="$DIR/pg/bin/pg_config" >/dev/null &&
        make -s install PG_CONFIG="$DIR/pg/bin/pg_config" >/dev/null)
    chmod -R a+rX "$DIR"
    echo "PALS_PGBIN=$DIR/pg/bin"
fi

#!/usr/bin/env bash
# Build a private PostgreSQL (and pgTAP for it) from Debian's source package,
# into a cache outside the repository, for `make test PG=<major>`.
#
#   tools/build-pg.sh [--assert] [MAJOR]      (MAJOR defaults to 18)
#
# Prints the installed prefix on its last line.  The cache is
#   $PALS_PG_CACHE/pg<MAJOR>          (default /var/cache/pals_privacy/pg18)
#   $PALS_PG_CACHE/pg<MAJOR>-assert   (--assert: --enable-cassert --enable-debug)
# and is reused when warm: a finished build leaves $prefix/.pals_build_ok
# recording what it was built from; nothing is rebuilt while that stamp exists
# (delete the prefix to force a rebuild).  The contrib modules the tests and
# benchmarks load (auto_explain, pgcrypto, ...) are built against the
# installed server with PGXS, with a stamp of their own
# ($prefix/.pals_contrib_ok), so a cache from before they were added gets
# them without rebuilding the server.  Builds take a lock, so two CI runs
# on one machine build once.  Only Debian's *source* packages are used, through
# a private apt source list: the machine's apt configuration is not touched.
# The build dependencies (bison, flex, ...) are installed with apt-get if missing.
set -euo pipefail
# Run from `make test`, this script inherits MAKELEVEL and MAKEFLAGS: PostgreSQL's
# own make then takes itself for a sub-make and skips its generated headers
# (utils/errcodes.h: "No such file or directory").  Build as from a shell.
unset MAKELEVEL MAKEFLAGS MFLAGS

assert=0
if [ "${1:-}" = --assert ]; then assert=1; shift; fi
major=${1:-18}
cache=${PALS_PG_CACHE:-/var/cache/pals_privacy}
prefix=$cache/pg$major$([ $assert = 1 ] && echo -assert || true)
stamp=$prefix/.pals_build_ok
contrib=(auto_explain pgcrypto pg_stat_statements pageinspect pgstattuple pg_buffercache amcheck
         pg_visibility pg_prewarm)
contrib_stamp=$prefix/.pals_contrib_ok
log() { echo "build-pg: $*" >&2; }
warm() { [ -f "$stamp" ] && [ "$(cat "$contrib_stamp" 2>/dev/null)" = "${contrib[*]}" ]; }

if warm; then
    log "warm cache: $prefix ($(head -1 "$stamp"))"
    echo "$prefix"; exit 0
fi

mkdir -p "$cache"
exec 8>"$cache/build.lock"
flock 8
if warm; then echo "$prefix"; exit 0; fi   # built while we waited
start=$(date +%s)

# Build dependencies (only what is missing; apt-get needs root).
need=()
for p in bison flex libreadline-dev zlib1g-dev libssl-dev libicu-dev pkg-config \
         libipc-run-perl make gcc rsync; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing build dependencies: ${need[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; then
        apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
    fi
fi

# Source packages, via a private source list pointing at the mirror this
# machine already uses (only downloaded once: kept in $cache/src).
src=$cache/src
mkdir -p "$src/lists/partial"
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v "^ *#" \
         | grep -oE '(https?://[^ ]+/debian)/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
mirror=${mirror%/}
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
echo "deb-src $mirror sid main" > "$src/src.list"
A=(-o Dir::Etc::sourcelist="$src/src.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$src/lists"
   -o APT::Sandbox::User=root)
if ! ls "$src"/postgresql-"$major"_*.orig.tar.* >/dev/null 2>&1 || ! ls "$src"/pgtap_*.orig.tar.* >/dev/null 2>&1; then
    log "downloading postgresql-$major and pgtap sources from $mirror (sid)"
    apt-get "${A[@]}" update -q >&2
    # Only the upstream tarballs are used: a missing .dsc or Debian diff on
    # the mirror is not an error as long as the orig tarball arrived.
    for p in "postgresql-$major" pgtap; do
        (cd "$src" && apt-get "${A[@]}" source --download-only -q "$p" >&2) || true
    done
fi
pgtar=$(ls "$src"/postgresql-"$major"_*.orig.tar.* | sort -V | tail -1)
taptar=$(ls "$src"/pgtap_*.orig.tar.* | sort -V | tail -1)

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ ! -f "$stamp" ]; then
    # Build in a scratch directory, install into the prefix.
    log "building $(basename "$pgtar") into $prefix (assert=$assert)"
    tar -C "$work" -xf "$pgtar"
    pgsrc=$(echo "$work"/postgresql-*)
    opts=(--prefix="$prefix" --enable-tap-tests --with-openssl --with-readline --with-icu)
    [ $assert = 1 ] && opts+=(--enable-cassert --enable-debug CFLAGS="-O1 -g")
    rm -rf "$prefix"
    t=$(date +%s)
    (cd "$pgsrc" && ./configure -q "${opts[@]}") > "$work/configure.log" 2>&1 \
        || { tail -30 "$work/configure.log" >&2; exit 1; }
    log "configure: $(( $(date +%s) - t )) s"; t=$(date +%s)
    # a parallel build that fails is tried once more serially (it finishes
    # what the parallel one left, and tells a race from a real error); the
    # log of a failed build is kept as $cache/build-failed.log
    if ! make -C "$pgsrc" -s -j"$(nproc)" > "$work/make.log" 2>&1; then
        cp "$work/make.log" "$cache/build-failed.log"
        log "parallel make failed ($(grep -m1 -E 'error|Error' "$work/make.log" || true)); once more with -j1"
        make -C "$pgsrc" -s -j1 > "$work/make.log" 2>&1 \
            || { cp "$work/make.log" "$cache/build-failed.log"; tail -40 "$work/make.log" >&2; exit 1; }
    fi
    log "make: $(( $(date +%s) - t )) s"; t=$(date +%s)
    make -C "$pgsrc" -s install > "$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
    log "install: $(( $(date +%s) - t )) s"; t=$(date +%s)

    # pgTAP, built against this server (pure SQL after make).
    tar -C "$work" -xf "$taptar"
    tapsrc=$(ls -d "$work"/pgtap-*/ | head -1)
    make -C "$tapsrc" -s PG_CONFIG="$prefix/bin/pg_config" > "$work/pgtap.log" 2>&1 \
        && make -C "$tapsrc" -s PG_CONFIG="$prefix/bin/pg_config" install >> "$work/pgtap.log" 2>&1 \
        || { tail -30 "$work/pgtap.log" >&2; exit 1; }
    log "pgtap: $(( $(date +%s) - t )) s"

    chmod -R a+rX "$prefix"
    echo "$(basename "$pgtar") + $(basename "$taptar"), assert=$assert, built $(date -u +%FT%TZ) in $(( $(date +%s) - start )) s" > "$stamp"
fi

# Contrib modules, with PGXS against the installed server.
rm -f "$contrib_stamp"
t=$(date +%s)
tar -C "$work" -xf "$pgtar" --wildcards '*/contrib/*'
pgsrc=$(echo "$work"/postgresql-*)
for m in "${contrib[@]}"; do
    make -C "$pgsrc/contrib/$m" -s -j"$(nproc)" USE_PGXS=1 PG_CONFIG="$prefix/bin/pg_config" install \
        > "$work/contrib-$m.log" 2>&1 || { tail -20 "$work/contrib-$m.log" >&2; exit 1; }
done
log "contrib (${contrib[*]}): $(( $(date +%s) - t )) s"
echo "${contrib[*]}" > "$contrib_stamp"

# The test servers run as the postgres user: the tree must be readable.
chmod -R a+rX "$prefix"
log "done in $(( $(date +%s) - start )) s: $(du -sh "$prefix" | cut -f1)"
echo "$prefix"

#!/usr/bin/env bash
# bench/all.sh: run several benches at once against one build of the extension.
#
#   bench/all.sh OUTDIR 'bench/run.sh ARGS' 'bench/backlog.sh ARGS' ...
#
# Takes the machine-wide install lock, builds and installs (tools/setup.sh), starts every command
# (in its own throwaway cluster) and releases the lock once all of them have set up their
# databases (each touches $READY_FILE), so that no other checkout's install can change the build
# under them.  Each command's output goes to OUTDIR/N.out.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$1"; shift
mkdir -p "$OUT"
exec 8>/tmp/pals_privacy.install.lock
flock 8
bash "$ROOT/tools/setup.sh" >&2
pids=(); i=0
for cmd in "$@"; do
    i=$((i + 1))
    rm -f "$OUT/$i.ready"
    echo "$cmd" >"$OUT/$i.cmd"
    (cd "$ROOT" && READY_FILE="$OUT/$i.ready" bash -c "$cmd" >"$OUT/$i.out" 2>&1; echo $? >"$OUT/$i.rc") 8>&- &
    pids+=($!)
    sleep 15   # (pg_virtualenv picks its port when it starts: two at once can pick the same)
done
# release the lock when every command is set up (or has ended)
while :; do
    n=0
    for ((j = 1; j <= i; j++)); do [ -e "$OUT/$j.ready" ] || [ -e "$OUT/$j.rc" ] && n=$((n + 1)); done
    [ "$n" = "$i" ] && break
    sleep 2
done
flock -u 8; exec 8>&-
echo "all.sh: set up; install lock released" >&2
wait "${pids[@]}" || true
for ((j = 1; j <= i; j++)); do echo "== $(cat "$OUT/$j.cmd") (exit $(cat "$OUT/$j.rc"))"; done

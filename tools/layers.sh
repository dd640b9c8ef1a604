#!/usr/bin/env bash
# tools/layers.sh: is the layering claimed in src/pals_privacy.h true?
# Which file uses which is read from the built objects (a symbol one object
# leaves undefined and another defines); each file may use only files listed
# above it in the "Layers" list of pals_privacy.h's header comment.
# Usage: make && bash tools/layers.sh [-v]   (-v: print every use; exit 1 on
# an upward use or a file missing from the list)
set -uo pipefail
cd "$(dirname "$0")/.."
verbose=${1:-}
order=$(sed -n '/^ \* Layers/,/^ \*\//p' src/pals_privacy.h | grep -oE '^ \*     [a-z_]+\.c' | awk '{print $2}')
declare -A rank def
i=0
for f in $order; do i=$((i + 1)); rank[$f]=$i; done
for c in src/*.c; do
    o=${c%.c}.o
    [ -f "$o" ] || { echo "no $o: build first (make)"; exit 2; }
    for s in $(nm --defined-only -g "$o" | awk '$2 ~ /[TDBR]/ {print $3}'); do def[$s]=$(basename "$c"); done
done
bad=0
for c in src/*.c; do
    f=$(basename "$c")
    [ -n "${rank[$f]:-}" ] || { echo "UNLISTED $f: add it to the Layers list of src/pals_privacy.h, above every file that uses it"; bad=1; continue; }
    for g in $(for s in $(nm -u "${c%.c}.o" | awk '{print $2}'); do echo "${def[$s]:-}"; done | sort -u); do
        [ "$g" = "$f" ] && continue
        if [ "${rank[$g]:-0}" -ge "${rank[$f]}" ]; then
            echo "UPWARD   $f -> $g:" $(for s in $(nm -u "${c%.c}.o" | awk '{print $2}'); do [ "${def[$s]:-}" = "$g" ] && echo "$s"; done) \
                "(list $g above $f if it uses nothing listed below it, or have $g hand $f a callback)"
            bad=1
        elif [ -n "$verbose" ]; then
            echo "         $f -> $g"
        fi
    done
done
if [ $bad = 0 ]; then
    echo "ok: each of the $(echo $order | wc -w) files uses only files listed above it in src/pals_privacy.h"
fi
exit $bad

#!/usr/bin/env bash
# bench/outbox.sh: notice generation with the consent check, against the same without it.
#
#   bench/outbox.sh [--rows N] [--rounds R]
#
# In a throwaway cluster (the extension must be installed): a patron table of 10,000 patrons who
# all consented to notices by e-mail, and two outbox tables alike but for the binding (only
# "checked" is bound with bind_outbox).  Each round inserts N rows (default 100,000) into each,
# alternating the order, with one INSERT ... SELECT; prints rows per second of each and the ratio.
set -euo pipefail
export PATH="/usr/lib/postgresql/15/bin:$PATH"
ROWS=100000; ROUNDS=7; INNER=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift ;;
        --rounds) ROUNDS="$2"; shift ;;
        --inner) INNER=1 ;;
        *) echo "outbox.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    exec pg_virtualenv -t -o shared_preload_libraries=pals_privacy -o synchronous_commit=off bash "$0" "${ARGS[@]}" --inner
fi
export PGOPTIONS='-c client_min_messages=warning'
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pals_privacy;
CREATE TABLE patrons (id bigint PRIMARY KEY, expires date NOT NULL);
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires');
INSERT INTO patrons SELECT g, 'infinity' FROM generate_series(1, 10000) g;   -- default consent: notices by e-mail
CREATE TABLE plain   (id bigserial PRIMARY KEY, patron_id bigint NOT NULL, channel text NOT NULL, body text NOT NULL);
CREATE TABLE checked (LIKE plain INCLUDING ALL);
SELECT pals_privacy.bind_outbox('checked', 'patron_id', 'channel', 'notices');
SQL
run() {   # table -> seconds
    local s e
    s=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO $1 (patron_id, channel, body)
        SELECT 1 + g % 10000, 'email', 'Your loan is due' FROM generate_series(1, $ROWS) g" >/dev/null
    e=$(date +%s.%N)
    awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}'
}
tp=0; tc=0
for ((r = 1; r <= ROUNDS; r++)); do
    if (( r % 2 )); then a=$(run plain); b=$(run checked); else b=$(run checked); a=$(run plain); fi
    tp=$(awk -v x="$tp" -v y="$a" 'BEGIN {print x + y}'); tc=$(awk -v x="$tc" -v y="$b" 'BEGIN {print x + y}')
    psql -X -q -c 'TRUNCATE plain, checked' >/dev/null
done
echo
echo "pals_privacy outbox bench: $ROUNDS rounds of $ROWS rows"
awk -v n="$((ROWS * ROUNDS))" -v tp="$tp" -v tc="$tc" 'BEGIN {
    printf "%-34s %12.0f\n", "rows/s without the check", n / tp;
    printf "%-34s %12.0f\n", "rows/s with the consent check", n / tc;
    printf "%-34s %12.2f\n", "ratio (target >= 0.80)", tp / tc }'

#!/usr/bin/env bash
# bench/login.sh: how long a patron's login takes at the default PIN iteration count.
#
#   bench/login.sh [--logins N]
#
# In a throwaway cluster (the extension must be installed): a bound patron table with a card
# column and one patron with a PIN.  One client logs in N times (default 200) with the right PIN
# (a prepared statement, pgbench -M prepared), and, as the baseline of the same run, calls
# pals_privacy.session_patron() N times (a round trip that hashes nothing).
# Prints both latencies and the PIN iteration count in force.
set -euo pipefail
export PATH="/usr/lib/postgresql/15/bin:$PATH"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOGINS=200; INNER=0; ARGS=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --logins) LOGINS="$2"; shift ;;
        --inner) INNER=1 ;;
        *) echo "login.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$INNER" = 0 ]; then
    exec pg_virtualenv -t -o shared_preload_libraries=pals_privacy bash "$0" "${ARGS[@]}" --inner
fi
export PGOPTIONS='-c client_min_messages=warning'
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pals_privacy;
CREATE TABLE patrons (id bigint PRIMARY KEY, card text UNIQUE NOT NULL, expires date NOT NULL);
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires', card_column => 'card');
INSERT INTO patrons VALUES (4711, '29876543210987', 'infinity');
SELECT pals_privacy.set_pin('4711', '2580');
SQL
iterations=$(psql -X -Atq -c 'SHOW pals_privacy.pin_iterations')
latency() {   # script -> average latency in ms
    pgbench -n -M prepared -c 1 -t "$LOGINS" -f "$1" 2>&1 | awk '/^latency average/ {print $4}'
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "SELECT pals_privacy.login('29876543210987', '2580');" > "$tmp/login.sql"
echo "SELECT pals_privacy.session_patron();" > "$tmp/baseline.sql"
base=$(latency "$tmp/baseline.sql")
login=$(latency "$tmp/login.sql")
ok=$(psql -X -Atq -c "SELECT pals_privacy.login('29876543210987', '2580')")
[ "$ok" = t ] || { echo "login.sh: the login failed" >&2; exit 1; }
echo
echo "pals_privacy login bench: $LOGINS logins, pals_privacy.pin_iterations = $iterations"
printf '%-44s %10s ms\n' "a round trip (session_patron())" "$base"
printf '%-44s %10s ms\n' "login(card, pin), right PIN" "$login"

#!/usr/bin/env bash
# `make demo`: set up, start a throwaway cluster, load the sample consortium,
# bind the extension to it, and print the walkthrough (demo/walkthrough.sql),
# which ends with the compliance report and writes it as HTML.
#   DEMO_SCALE=1 by default (10,000 patrons, 50,000 items, 200,000 loans).
#   REPORT=path of the HTML report (default compliance-report.html);
#   --report-only: print only the report's path (`make report`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/pals_privacy.install.lock   # one install of the system PostgreSQL at a time
flock 9
bash tools/setup.sh
top=$(pwd)
scale=${DEMO_SCALE:-1}
report=$(realpath -m "${REPORT:-compliance-report.html}")
quiet=false
[ "${1:-}" = --report-only ] && quiet=true
touch "$report" && chmod 666 "$report"   # the cluster's psql may run as postgres
pg_virtualenv -t -o shared_preload_libraries=pals_privacy bash -c "
    set -euo pipefail
    cd '$top'
    export PGOPTIONS='-c client_min_messages=warning'
    echo '== loading the sample consortium (scale $scale)'
    psql -X -q -v ON_ERROR_STOP=1 -f demo/schema.sql >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -v scale=$scale -f demo/generate.sql >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -f demo/roles.sql >/dev/null
    echo '== CREATE EXTENSION pals_privacy, and the bindings of demo/bind.sql'
    psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION pals_privacy' -f demo/bind.sql >/dev/null
    unset PGOPTIONS
    if $quiet; then
        psql -X -q -v ON_ERROR_STOP=1 -v report_file='$report' -f demo/walkthrough.sql >/dev/null
    else
        psql -X -q -v ON_ERROR_STOP=1 -v report_file='$report' -f demo/walkthrough.sql
    fi
"
echo "== compliance report written to $report"

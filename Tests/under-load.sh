#!/usr/bin/env bash
# The suite under load (issue 13): `CI=true swift test`, as .ci/run runs it, N times in a row (default 10) while two
# busy loops load both cores. Prints one line per run; exits non-zero on the first run that fails or passes 10 minutes.
#
#   Tests/under-load.sh [N]        (from the repository root, after `swift build --build-tests`)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
logs=$(mktemp -d /tmp/sde-under-load-XXXXXX)
burners=()
for _ in 1 2; do sh -c 'while :; do :; done' & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    CI=true timeout 600 swift test --skip-build >"$logs/run-$i.log" 2>&1
    status=$?
    echo "run $i: exit $status in $(($(date +%s) - start)) s, load average $(cut -d' ' -f1 /proc/loadavg): $(grep -o 'Test run with [0-9]* tests in [0-9]* suites [a-z]*' "$logs/run-$i.log")"
    [ $status -eq 0 ] || { echo "log: $logs/run-$i.log"; exit 1; }
done
echo "$runs runs in a row passed (logs in $logs)"

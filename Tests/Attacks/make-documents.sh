#!/usr/bin/env bash
# Dev loop for the attacker test (issue 11): run the vetted queries an adversary would combine, write the released
# protected-table documents and a manifest, then (with --attack) run attack.py over them.
#
#   Tests/Attacks/make-documents.sh BROKER STATE_DIR OUT_DIR [--attack]
#
# BROKER is an sde-broker binary; STATE_DIR holds its embedded PostgreSQL (.sde) and audit mirror (AuditLogs), as
# made by `BROKER quickstart --state-dir STATE_DIR/.sde --audit-dir STATE_DIR/AuditLogs` (run from the repository
# root, which has Sql/ and Policies/). Run this from the repository root too. The documents go to OUT_DIR. Each
# researcher's runs use a token the quickstart's operator (STATE_DIR/.sde/operator.token) issues them.
# Every run is recorded by the broker's differencing ledger, so the order below is the order of release.
set -euo pipefail

if [ $# -lt 3 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
broker=$1
state=$2
out=$3
attack=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
today=${SDE_TODAY:-2026-11-26}
mkdir -p "$out"
rm -f "$out"/*.json

declare -A tokens=()
broker_at() { "$broker" "$@" --state-dir "$state/.sde" --audit-dir "$state/AuditLogs" --today "$today"; }

entries=()
run() { # FILE MECHANISMS USER PROJECT QUERY PARAM...
    local file=$1 mechanisms=$2 user=$3 project=$4 query=$5
    shift 5
    local params=()
    for p in "$@"; do params+=(--param "$p"); done
    [ -n "${tokens[$user]:-}" ] || tokens[$user]=$(broker_at token issue --user "$user" 2>/dev/null)
    if ! broker_at query run --token "${tokens[$user]}" --project "$project" --query "$query" "${params[@]}" --format json >"$out/$file"; then
        echo "make-documents: $query $* was not released" >&2
        rm -f "$out/$file"
        return 0
    fi
    entries+=("{\"file\": \"$file\", \"mechanisms\": [$mechanisms], \"query\": \"$query\", \"project\": \"$project\"}")
}

A=(from=2023Q2 to=2023Q4)     # A
B=(from=2023Q3 to=2024Q1)     # B, overlapping A without nesting
U=(from=2023Q2 to=2024Q1)     # their union
I=(from=2023Q3 to=2023Q4)     # their intersection

# Mechanisms 1, 5, 6: people requesting support by LA and quarter over four windows (P2025-002, k = 15).
run m1-requests-A.json "1, 5, 6" r-priya-shah P2025-002 requests-by-la-quarter "${A[@]}"
run m1-requests-B.json "1, 5, 6" r-priya-shah P2025-002 requests-by-la-quarter "${B[@]}"
run m1-requests-U.json "1, 5, 6" r-priya-shah P2025-002 requests-by-la-quarter "${U[@]}"
run m1-requests-I.json "1, 5, 6" r-priya-shah P2025-002 requests-by-la-quarter "${I[@]}"
# Mechanisms 1, 2: a rate beside a rounded count pins both (reablement by LA, P2025-001, k = 10), four windows.
run m2-reablement-A.json "1, 2, 6" r-priya-shah P2025-001 discharge-reablement-by-la "${A[@]}"
run m2-reablement-B.json "1, 2, 6" r-priya-shah P2025-001 discharge-reablement-by-la "${B[@]}"
run m2-reablement-U.json "1, 2, 6" r-priya-shah P2025-001 discharge-reablement-by-la "${U[@]}"
run m2-reablement-I.json "1, 2, 6" r-priya-shah P2025-001 discharge-reablement-by-la "${I[@]}"
# Mechanisms 1, 2, 4: the assessed rate by region, support reason and age band (its numerator is the population of
# waits-by-la-quarter's persons), four windows.
run m2-assessed-rate-A.json "1, 2, 4" r-priya-shah P2025-002 waits-by-region-support-reason "${A[@]}"
run m2-assessed-rate-B.json "1, 2, 4" r-priya-shah P2025-002 waits-by-region-support-reason "${B[@]}"
run m2-assessed-rate-U.json "1, 2, 4" r-priya-shah P2025-002 waits-by-region-support-reason "${U[@]}"
run m2-assessed-rate-I.json "1, 2, 4" r-priya-shah P2025-002 waits-by-region-support-reason "${I[@]}"
# Mechanisms 2, 3, 4, 5: mean waits beside rounded person counts, by LA and quarter (people assessed), two windows.
run m3-waits-A.json "2, 3, 4, 5" r-priya-shah P2025-002 waits-by-la-quarter "${A[@]}"
run m3-waits-U.json "2, 3, 4, 5" r-priya-shah P2025-002 waits-by-la-quarter "${U[@]}"
# Mechanisms 2, 3: a total and a mean cost pin the record count; regions partition the total (P2025-003, k = 10).
run m3-home-care-U.json "2, 3" r-amara-bello P2025-003 home-care-cost-by-support-reason "${U[@]}"
# Mechanism 6: one small council's services: the rows that exist and their labels (P2025-003).
run m6-services-E06000017.json "5, 6" r-amara-bello P2025-003 services-by-type-quarter "${U[@]}" la_code=E06000017
run m6-services-E08000025.json "5, 6" r-amara-bello P2025-003 services-by-type-quarter "${U[@]}" la_code=E08000025

{
    echo '{"documents": ['
    for i in "${!entries[@]}"; do
        sep=,
        [ "$i" -eq $((${#entries[@]} - 1)) ] && sep=
        echo "  ${entries[$i]}$sep"
    done
    echo ']}'
} >"$out/manifest.json"
echo "make-documents: ${#entries[@]} documents in $out"

if [ "$attack" = "--attack" ]; then
    exec python3 "$here/attack.py" "$out"
fi

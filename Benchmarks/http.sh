#!/usr/bin/env bash
# Benchmark: the HTTP API under load, on loopback, against the 1,000,000-person benchmark database.
#
#   Benchmarks/http.sh [PERSONS] [SECONDS]      (defaults 1000000 and 15; run from the repository root)
#
# Prepares (or reuses) the benchmark database of Benchmarks/bench-db.sh, issues a researcher token, starts `sde-broker
# serve` on it (release build, audit on) and drives a small vetted query (services by type and quarter for one local
# authority) with wrk (Debian package `wrk`) at 1 and 32 connections: requests per second and p50/p99 latency; once
# as serve runs by default, once without its statistics cache. Then SDE_BENCH=1 runs HTTPBenchmarkTests: a national
# query over HTTP (no cache: the statement runs every time) against PostgreSQL executing its SQL alone.
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-1000000}
seconds=${2:-15}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

# shellcheck source=Benchmarks/bench-db.sh
source Benchmarks/bench-db.sh "$persons"   # sets bin, state, data, url

# Drives the small query at 1 and 32 connections against a server started with `serve` options "$@".
small_query() {
    local port server target
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    DATABASE_URL=$url "$bin" serve --port "$port" --state-dir "$state" --audit-dir "$data/audit" "$@" >"$data/serve.log" 2>&1 &
    server=$!
    trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    target="http://127.0.0.1:$port/v1/projects/P2025-003/queries/services-by-type-quarter/runs"
    curl -sf -o /dev/null -H "Authorization: Bearer $SDE_TOKEN" -H 'Content-Type: application/json' \
        -d '{"parameters": {"from": "2024Q1", "to": "2024Q4", "la_code": "E06000001"}}' "$target" \
        || { echo "the small query was not released; see $data/serve.log" >&2; exit 1; }
    for connections in 1 32; do
        threads=$(( connections < 2 ? 1 : 2 ))
        wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s Benchmarks/small-query.lua "$target" \
            | awk -v c="$connections" '
                /Requests\/sec/ {rps=$2}
                /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
                /Non-2xx/ {bad=$5}
                END {printf "  %2d connection(s): %8.0f requests/s, p50 %s, p99 %s%s\n", c, rps, p50, p99, (bad ? ", NON-2xx: " bad : "")}'
    done
    kill -TERM $server && wait $server || true
    trap - EXIT
}

export SDE_TOKEN
SDE_TOKEN=$(DATABASE_URL=$url "$bin" token issue --user r-amara-bello --state-dir "$state" --audit-dir "$data/audit" \
    --token-file "$data/operator.token" 2>/dev/null)
echo "small vetted query (one local authority, audit on), ${seconds}s each:"
echo " repeated on unchanged data (serve's statistics cache; the ledger read and the audit event on every request):"
small_query
echo " every request runs the statement and disclosure control (--statistics-cache-cells 0):"
small_query --statistics-cache-cells 0

SDE_BENCH=1 DATABASE_URL=$url SDE_BENCH_STATE_DIR=$state SDE_BENCH_AUDIT_DIR=$data/audit \
    swift test -c release --skip-build --filter HTTPBenchmarkTests 2>&1 | grep -E '^bench: |passed|failed|error' | sed 's/^bench: //'

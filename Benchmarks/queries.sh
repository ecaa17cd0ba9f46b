#!/usr/bin/env bash
# Benchmark: every example vetted query, broker end to end against PostgreSQL executing the same SQL alone.
#
#   Benchmarks/queries.sh [PERSONS]      (default 1000000; run from the repository root)
#
# Uses the benchmark database of Benchmarks/bench-db.sh (made on the first run, then reused). Then it runs QueryBenchmarkTests
# against that database and prints, per query, the medians of both sides and their ratio, and the time of
# disclosure control plus the audit release for a ~2,000-cell table. Set SDE_BENCH_REPETITIONS (default 7) and
# SDE_BENCH_QUERIES=id,id (a subset of the queries).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=Benchmarks/bench-db.sh
source Benchmarks/bench-db.sh "${1:-1000000}"   # sets bin, state, data, url

SDE_BENCH=1 DATABASE_URL=$url SDE_BENCH_STATE_DIR=$state SDE_BENCH_AUDIT_DIR=$data/audit \
    swift test -c release --skip-build --filter QueryBenchmarkTests 2>&1 | grep -E '^bench: |passed|failed|error' | sed 's/^bench: //'

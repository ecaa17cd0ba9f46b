#!/usr/bin/env bash
# Benchmark: every example vetted query, broker end to end against PostgreSQL executing the same SQL alone.
#
#   Benchmarks/queries.sh [PERSONS]      (default 1000000; run from the repository root)
#
# Uses the embedded cluster under .sde-bench/ (started if needed) and a release build. The first run synthesises
# PERSONS people (seed 7) and ingests them into the database bench_queries_PERSONS (4 to 6 minutes for 1,000,000);
# later runs reuse it, after `db migrate` (so changed indexes and views apply). Then it runs QueryBenchmarkTests
# against that database and prints, per query, the medians of both sides and their ratio, and the time of
# disclosure control plus the audit release for a ~2,000-cell table. Set SDE_BENCH_REPETITIONS (default 7) and
# SDE_BENCH_QUERIES=id,id (a subset of the queries).
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-1000000}
state=.sde-bench
data=$state/queries-$persons
db=bench_queries_$persons

# One release build with testable imports (as `swift test` makes it) serves both the CLI and the suite; without
# SDE_BENCH the suite is disabled, so this only builds.
SDE_BENCH=0 swift test -c release --filter QueryBenchmarkTests >/dev/null
bin=.build/release/sde-broker

"$bin" db start --state-dir "$state" >/dev/null
read -r port password < <(python3 -c "import json;d=json.load(open('$state/postgres.json'));print(d['port'],d['password'])")
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=sde_admin PGPASSWORD=$password
url="postgres://sde_admin:$password@127.0.0.1:$port/$db"

if [ ! -f "$data/loaded" ] || ! psql -q -d "$db" -c "SELECT 1" >/dev/null 2>&1; then
    echo "preparing $db: $persons persons (synth, then ingest; a few minutes)"
    rm -rf "$data"
    mkdir -p "$data"
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL=$url "$bin" db migrate >/dev/null
    "$bin" data synth --persons "$persons" --seed 7 --out "$data/extracts" >/dev/null
    "$bin" data keygen --out "$data/key" >/dev/null
    DATABASE_URL=$url "$bin" data ingest --key-file "$data/key" --quarantine "$data/quarantine.csv" \
        --state-dir "$state" --audit-dir "$data/audit" "$data/extracts"
    rm -rf "$data/extracts"
    touch "$data/loaded"
fi
DATABASE_URL=$url "$bin" db migrate

SDE_BENCH=1 DATABASE_URL=$url SDE_BENCH_STATE_DIR=$state SDE_BENCH_AUDIT_DIR=$data/audit \
    swift test -c release --skip-build --filter QueryBenchmarkTests 2>&1 | grep -E '^bench: |passed|failed|error' | sed 's/^bench: //'

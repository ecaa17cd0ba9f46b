#!/usr/bin/env bash
# Sourced by the benchmarks: a release build, and the benchmark database of PERSONS synthetic people (default
# 1,000,000) in the embedded cluster under .sde-bench/, made once (synth, then ingest: 4 to 6 minutes for 1,000,000)
# and reused, after `db migrate` (so changed indexes and views apply). Sets bin, state, data and url (the database's
# DATABASE_URL), and PGHOST/PGPORT/PGUSER/PGPASSWORD for psql.
#
#   source Benchmarks/bench-db.sh [PERSONS]
persons=${1:-1000000}
state=.sde-bench
data=$state/queries-$persons
db=bench_queries_$persons

# One release build with testable imports (as `swift test` makes it) serves both the CLI and the benchmark suites;
# without SDE_BENCH those suites are disabled, so this only builds.
SDE_BENCH=0 swift test -c release --filter QueryBenchmarkTests >/dev/null
bin=.build/release/sde-broker

"$bin" db start --state-dir "$state" >/dev/null
read -r port password < <(python3 -c "import json;d=json.load(open('$state/postgres.json'));print(d['port'],d['password'])")
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=sde_admin PGPASSWORD=$password
url="postgres://sde_admin:$password@127.0.0.1:$port/$db"

# A database prepared before record keys (no perturbation key beside it) is prepared again.
if [ ! -f "$data/loaded" ] || [ ! -f "$data/perturbation.key" ] || ! psql -q -d "$db" -c "SELECT 1" >/dev/null 2>&1; then
    echo "preparing $db: $persons persons (synth, then ingest; a few minutes)"
    rm -rf "$data"
    mkdir -p "$data"
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL=$url "$bin" db migrate >/dev/null
    "$bin" data synth --persons "$persons" --seed 7 --out "$data/extracts" >/dev/null
    "$bin" data keygen --out "$data/key" >/dev/null
    "$bin" data keygen --out "$data/perturbation.key" >/dev/null
    # The benchmark database's first operator token (ingest and token issues act as that operator).
    (umask 077; DATABASE_URL=$url "$bin" token bootstrap --user op-dan-wright --state-dir "$state" --audit-dir "$data/audit" \
        >"$data/operator.token" 2>/dev/null)
    DATABASE_URL=$url "$bin" data ingest --key-file "$data/key" --perturbation-key-file "$data/perturbation.key" --quarantine "$data/quarantine.csv" \
        --state-dir "$state" --audit-dir "$data/audit" --token-file "$data/operator.token" "$data/extracts"
    rm -rf "$data/extracts"
    touch "$data/loaded"
fi
DATABASE_URL=$url "$bin" db migrate >/dev/null

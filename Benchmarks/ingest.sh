#!/usr/bin/env bash
# Benchmark: `data synth` and `data ingest` at scale, against a plain COPY of the same rows already pseudonymised.
#
#   Benchmarks/ingest.sh [PERSONS]      (default 1000000; run from the repository root)
#
# Uses the embedded cluster under .sde-bench/ (started if needed) with two scratch databases, and a release build.
# Prints rows/second for synth and ingest, the plain COPY time, the ratio ingest / COPY, and ingest's peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-1000000}
work=$(mktemp -d /tmp/sde-bench-XXXXXX)
state=.sde-bench
trap 'rm -rf "$work"' EXIT

swift build -c release --product sde-broker >/dev/null
bin=.build/release/sde-broker
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

"$bin" db start --state-dir "$state" >/dev/null
read -r port password < <(python3 -c "import json;d=json.load(open('$state/postgres.json'));print(d['port'],d['password'])")
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=sde_admin PGPASSWORD=$password
for db in bench_ingest bench_copy; do
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL="postgres://sde_admin:$password@127.0.0.1:$port/$db" "$bin" db migrate >/dev/null
done

t0=$(now)
"$bin" data synth --persons "$persons" --seed 7 --out "$work/extracts" >"$work/synth.txt"
t1=$(now)
rows=$(cat "$work"/extracts/*.csv | wc -l)
rows=$((rows - $(ls "$work"/extracts/*.csv | wc -l)))
echo "synth: $persons persons, $rows rows in $(secs "$t0" "$t1") s = $(python3 -c "print(round($rows/($t1-$t0)))") rows/s"

"$bin" data keygen --out "$work/key" >/dev/null
"$bin" data keygen --out "$work/perturbation.key" >/dev/null
(umask 077; DATABASE_URL="postgres://sde_admin:$password@127.0.0.1:$port/bench_ingest" "$bin" token bootstrap --user op-dan-wright \
    --state-dir "$state" --audit-dir "$work/audit" >"$work/operator.token" 2>/dev/null)
t0=$(now)
DATABASE_URL="postgres://sde_admin:$password@127.0.0.1:$port/bench_ingest" \
    /usr/bin/time -f "%M" -o "$work/rss" "$bin" data ingest --key-file "$work/key" --perturbation-key-file "$work/perturbation.key" --quarantine "$work/q.csv" \
        --state-dir "$state" --audit-dir "$work/audit" --token-file "$work/operator.token" "$work/extracts" >"$work/ingest.txt"
t1=$(now)
ingest=$(secs "$t0" "$t1")
echo "ingest: $rows rows in $ingest s = $(python3 -c "print(round($rows/$ingest))") rows/s, peak RSS $(( $(cat "$work/rss") / 1024 )) MiB"
grep "rows read" "$work/ingest.txt"

# The same rows, already pseudonymised, as plain COPY text files, then COPY into an identical fresh schema.
for t in person care_event hospital_spell; do
    cols=$(psql -At -d bench_ingest -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
                                         WHERE table_schema = 'linked' AND table_name = '$t' AND column_name NOT IN ('event_id','spell_id')")
    echo "$cols" >"$work/$t.cols"
    psql -q -d bench_ingest -c "\\copy (SELECT $cols FROM linked.$t) TO '$work/$t.copy'"
done
t0=$(now)
for t in person care_event hospital_spell; do
    cols=$(cat "$work/$t.cols")
    psql -q -d bench_copy -c "\\copy linked.$t ($cols) FROM '$work/$t.copy'"
done
t1=$(now)
copy=$(secs "$t0" "$t1")
echo "plain COPY of the same rows (pseudonymised, same schema, constraints and indexes): $copy s"
echo "ratio ingest / plain COPY: $(python3 -c "print(f'{$ingest/$copy:.2f}')")"

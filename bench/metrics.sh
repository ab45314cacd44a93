#!/usr/bin/env bash
# The bucketed metric query at ten million samples (PostgreSQL): one component's metric over one
# day, by the minute and by the hour, with EXPLAIN (ANALYZE, BUFFERS), then the same with the
# index turned off for comparison. The SQL is the repository's own, read from
# crates/orchestore-sea/src/observability/metrics.rs (QUERY_POSTGRES) and run as a prepared
# statement, as sqlx runs it.
#
#   bash bench/metrics.sh          # ROWS=10000000 COMPONENTS=10 NAMES=2 DAYS=30 RUNS=5 TIMED=500
#
# p50 and p99 come from pgbench running the same query TIMED times (prepared, one client, its
# per-query latency log), after the EXPLAIN runs have warmed the cache; not for the run without
# the index, whose EXPLAIN runs say enough.
#
# Needs PostgreSQL on 127.0.0.1:5432 as user postgres without a password (PGBASE changes the
# server URL), psql, python3 and a Rust toolchain (the schema comes from the migrations).
set -euo pipefail
cd "$(dirname "$0")/.."

PGBASE="${PGBASE:-postgres://postgres@127.0.0.1:5432}"
DB="${DB:-orchestore_metrics_bench}"
ROWS="${ROWS:-10000000}"
COMPONENTS="${COMPONENTS:-10}"
NAMES="${NAMES:-2}"
DAYS="${DAYS:-30}"
RUNS="${RUNS:-5}"
TIMED="${TIMED:-500}"
RESULTS="${RESULTS:-target/bench-results}"
mkdir -p "$RESULTS"
OUT="$RESULTS/metrics.txt"
psql_db() { psql "$PGBASE/$DB" -v ON_ERROR_STOP=1 -X "$@"; }

echo "== fresh database $DB, migrated"
psql "$PGBASE/postgres" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
DATABASE_URL="$PGBASE/$DB" cargo run -q -p orchestore-migration -- up >/dev/null

ORG=0190a000-0000-7000-8000-00000000000a
echo "== one organization, $COMPONENTS components, $ROWS samples ($NAMES metrics each, over $DAYS days)"
# Samples are generated in time order with time-ordered (UUIDv7-shaped) ids, as the store
# writes them. The load skips the foreign-key triggers (every sample names one of the
# components just made): a check per row would time the loader, not the query.
time psql_db -q <<SQL
INSERT INTO organizations (id, slug, name, settings, created_at, updated_at)
VALUES ('$ORG', 'bench', 'Bench', '{}', now(), now());
INSERT INTO components (organization_id, id, name, name_key, kind, status, metadata, created_at, updated_at)
SELECT '$ORG', ('0190a000-0000-7000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       'component-' || c, 'component-' || c, 'service', 'active', '{}', now(), now()
FROM generate_series(1, $COMPONENTS) AS c;
ALTER TABLE metrics DISABLE TRIGGER ALL;
INSERT INTO metrics (organization_id, id, component_id, name, value, unit, tags, recorded_at)
SELECT '$ORG',
       (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
        || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
       ('0190a000-0000-7000-8000-' || lpad(to_hex(i % $COMPONENTS + 1), 12, '0'))::uuid,
       'metric-' || (i / $COMPONENTS) % $NAMES,
       random() * 100, 'ms', '{}', at
FROM generate_series(0, $ROWS - 1) AS i,
     LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00'
                     + (i / ($COMPONENTS * $NAMES)) * (interval '1 day' * $DAYS / ($ROWS / ($COMPONENTS * $NAMES)))
                     AS at) AS t;
ALTER TABLE metrics ENABLE TRIGGER ALL;
VACUUM (ANALYZE) metrics;
SQL
psql_db -Atc "SELECT 'rows: ' || count(*) || ', table ' || pg_size_pretty(pg_table_size('metrics')) \
  || ', series index ' || pg_size_pretty(pg_relation_size('idx_metrics_series')) FROM metrics" | tee "$OUT"

SQL_TEXT="$(python3 - <<'PY'
import re
source = open("crates/orchestore-sea/src/observability/metrics.rs").read()
body = re.search(r'const QUERY_POSTGRES: &str = "\\\n(.*?)";', source, re.S).group(1)
print(re.sub(r'\\\n\s*', '', body))
PY
)"

run() {
  local bucket="$1" width="$2" label="$3" settings="$4"
  local sql="${SQL_TEXT//\{width\}/$width}"
  echo "== one day of one component's metric, by the $bucket$label" | tee -a "$OUT"
  for run in $(seq 1 "$RUNS"); do
    psql_db -q <<SQL
$settings
PREPARE bucketed(uuid, uuid, text, timestamptz, timestamptz) AS $sql;
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON)
EXECUTE bucketed('$ORG', '0190a000-0000-7000-8000-000000000003', 'metric-1',
                 '2026-01-15 00:00:00+00', '2026-01-16 00:00:00+00');
SQL
  done >"$RESULTS/metrics-$bucket$label.plans"
  # The last plan in full, and each run's execution time.
  awk '/QUERY PLAN/{plan=""} {plan=plan $0 "\n"} END{printf "%s", plan}' \
    "$RESULTS/metrics-$bucket$label.plans" | tee -a "$OUT"
  grep -h "Execution Time" "$RESULTS/metrics-$bucket$label.plans" | tee -a "$OUT"
  # The comparison without the index is slow enough that its EXPLAIN runs tell it all.
  [ -z "$settings" ] && timed "$sql"
  return 0
}

# The query TIMED times through pgbench (prepared, one client); p50 and p99 of its latency log.
timed() {
  local sql="$1" dir
  dir="$(mktemp -d)"
  python3 - "$sql" "$ORG" >"$dir/query.sql" <<'PY'
import re, sys
sql, org = sys.argv[1], sys.argv[2]
values = {1: f"'{org}'", 2: "'0190a000-0000-7000-8000-000000000003'", 3: "'metric-1'",
          4: "'2026-01-15 00:00:00+00'", 5: "'2026-01-16 00:00:00+00'"}
print(re.sub(r"\$(\d+)", lambda m: values[int(m.group(1))], sql) + ";")
PY
  pgbench -n -M prepared -c 1 -t "$TIMED" -f "$dir/query.sql" --log --log-prefix="$dir/log" \
    "$PGBASE/$DB" >/dev/null
  cat "$dir"/log* | python3 -c '
import sys
lat = sorted(int(line.split()[2]) for line in sys.stdin)
at = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] / 1000
print(f"pgbench, {len(lat)} queries: p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms")' | tee -a "$OUT"
  rm -rf "$dir"
}

run minute 60 "" ""
run hour 3600 "" ""
run minute 60 " without the index" \
  "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;"
echo "== written to $OUT"

#!/usr/bin/env bash
# Full-text search at 100,000 knowledge entries, on PostgreSQL and on SQLite, through the
# repository: p50/p99 of searches for words from rare to common (with and without a tag
# filter) and the plan of the ranking query (`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL,
# `EXPLAIN QUERY PLAN` on SQLite).
#
#   bash bench/knowledge.sh     # ENTRIES=100000 READS=500 by default; PROFILE=dev for a debug build
#
# Needs PostgreSQL on 127.0.0.1:5432 reachable as user postgres without a password (PGBASE
# changes the server URL), and psql. The SQLite database is a file under RESULTS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
DB=orchestore_knowledge_bench
export ENTRIES="${ENTRIES:-100000}" READS="${READS:-500}"
PROFILE="${PROFILE:-release}"
RESULTS="${RESULTS:-$ROOT/target/bench-results}"
mkdir -p "$RESULTS"
OUT="$RESULTS/knowledge.txt"
cd "$ROOT"
cargo build --quiet --profile "$PROFILE" --example knowledge_bench
psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
rm -f "$RESULTS/knowledge.db"*
{
  cargo run --quiet --profile "$PROFILE" --example knowledge_bench -- "$PGBASE/$DB"
  cargo run --quiet --profile "$PROFILE" --example knowledge_bench -- \
    "sqlite://$RESULTS/knowledge.db?mode=rwc"
} | tee "$OUT"
echo "== written to $OUT"

#!/usr/bin/env bash
# Leaderboard benchmark: the top-100 read with 100,000 agents on PostgreSQL, through the
# repository, by points, rating, reputation and combined (after one snapshot of it), with
# p50/p99 and EXPLAIN (ANALYZE, BUFFERS).
#
#   bash bench/leaderboard.sh     # AGENTS=100000 READS=1000 by default; PROFILE=dev for a debug build
#   AGENTS=500 READS=20 PROFILE=dev bash bench/leaderboard.sh     # a quick check that it runs
#
# Needs PostgreSQL on 127.0.0.1:5432 reachable as user postgres without a password, and psql.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
DB=orchestore_leaderboard_bench
export AGENTS="${AGENTS:-100000}" READS="${READS:-1000}"
PROFILE="${PROFILE:-release}"
psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
cd "$ROOT"
cargo run --quiet --profile "$PROFILE" --example leaderboard_bench -- "$PGBASE/$DB"

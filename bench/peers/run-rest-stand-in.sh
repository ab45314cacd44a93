#!/usr/bin/env bash
# The REST peer (PostgREST is not packaged in Debian 12): build the minimal actix-web + sqlx
# server in rest-stand-in/, run it on 127.0.0.1:3001 with a pool of 10 connections
# (PostgREST's default db-pool), and drive it with wrk-tasks.sh (same calls, same wrk settings).
# Creates and fills the `tasks` table (tasks-table.sql) if the database has none.
#
#   PGURL=postgresql://postgres@127.0.0.1:5432/bench bash bench/peers/run-rest-stand-in.sh
#
# Cargo target: $PEERS_TARGET_DIR (default target/bench-peers at the repository root).
# Server log: $RESULTS/rest-stand-in.log (default target/bench-results).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export RESULTS="${RESULTS:-$ROOT/target/bench-results}"; mkdir -p "$RESULTS"
export PGURL="${PGURL:-postgresql://postgres@127.0.0.1:5432/bench}"
BIND="${BIND:-127.0.0.1:3001}"
export CARGO_TARGET_DIR="${PEERS_TARGET_DIR:-$ROOT/target/bench-peers}"
(cd "$HERE/rest-stand-in" && cargo build --release --locked)
psql "$PGURL" -qAt -c "select to_regclass('public.tasks') is not null" | grep -q t || psql "$PGURL" -q -f "$HERE/tasks-table.sql"
DATABASE_URL="$PGURL" BIND="$BIND" POOL="${POOL:-10}" \
  "$CARGO_TARGET_DIR/release/rest-stand-in" > "$RESULTS/rest-stand-in.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
PROBE="http://$BIND/tasks?id=eq.00000000-0000-0000-0000-000000000000"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$PROBE" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "$PROBE" || { echo "stand-in did not start; see $RESULTS/rest-stand-in.log" >&2; exit 1; }
bash "$HERE/wrk-tasks.sh" "http://$BIND" "${LABEL:-actix-sqlx}"

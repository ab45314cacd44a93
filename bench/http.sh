#!/usr/bin/env bash
# HTTP benchmark: Orchestore's `GET /api/v1/tasks/{id}` and `POST /api/v1/tasks` on PostgreSQL,
# measured in the same run as its peers in bench/peers/: the actix-web + sqlx stand-in
# (no ORM, no auth, no audit) and the pgbench ceiling for the same statements.
#
#   bash bench/http.sh            # RUNS=3 DUR=15s by default; results in target/bench-results
#   ORCHESTORE_BIN=path bash bench/http.sh   # a release binary built before, not rebuilt
#
# Needs PostgreSQL on 127.0.0.1:5432 reachable as user postgres without a password
# (bench/setup-postgres.sh sets one up on Debian 12). Installs wrk, psql and pgbench from
# Debian packages when missing (as root). See bench/README.md.
#
# Same load for everyone: wrk, 2 threads, 32 connections, a 100,000-row tasks table.
# Orchestore runs its default pool (10 connections, like the stand-in), bcrypt and JWT on.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="$ROOT/bench/peers"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
DB=orchestore_bench
PORT="${PORT:-3002}"
export RESULTS="${RESULTS:-$ROOT/target/bench-results}"
export RUNS="${RUNS:-3}" DUR="${DUR:-15s}"
THREADS=2 CONNS=32
mkdir -p "$RESULTS"

# Missing tools come from Debian packages. pgbench ships with the server package on Debian 12
# (postgresql-15), with the client package on later releases: try the client first.
APT_UPDATED=
apt_install() {
  [ -n "$APT_UPDATED" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v wrk >/dev/null || apt_install wrk
command -v psql >/dev/null || apt_install postgresql-client
command -v pgbench >/dev/null || apt_install postgresql-client
command -v pgbench >/dev/null || apt_install postgresql
command -v pgbench >/dev/null || { echo "pgbench is missing and could not be installed" >&2; exit 1; }

# ORCHESTORE_BIN measures a binary built before (e.g. of an earlier commit) instead.
if [ -n "${ORCHESTORE_BIN:-}" ]; then
  BIN="$ORCHESTORE_BIN"
else
  echo "==> building orchestore (release)"
  (cd "$ROOT" && cargo build --release -p orchestore-server)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/orchestore"
fi

echo "==> fresh database $DB"
psql "$PGBASE/postgres" -q -c "drop database if exists $DB with (force)" -c "create database $DB"

LOG="$RESULTS/orchestore-server.log"
# Plain TCP like the stand-in, whose sqlx is built without TLS: with the default
# `sslmode=prefer`, Orchestore would encrypt every loopback message (about 20% of GET throughput).
DATABASE_URL="$PGBASE/$DB?sslmode=disable" \
ORCHESTORE__SERVER__PORT="$PORT" \
ORCHESTORE__BOOTSTRAP__ADMIN_EMAIL=bench@localhost \
ORCHESTORE__BOOTSTRAP__ADMIN_PASSWORD=bench-password \
ORCHESTORE__AUTH__ACCESS_TOKEN_TTL=2h \
ORCHESTORE__LOG__LEVEL=warn \
  "$BIN" > "$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$BASE/health/ready" && break; sleep 0.2; done
curl -fsS -o /dev/null "$BASE/health/ready"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN="$(curl -fsS "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"organization":"default","email":"bench@localhost","password":"bench-password"}' | json '["access_token"]')"
PROJECT="$(curl -fsS "$BASE/api/v1/projects" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"name":"bench"}' | json '["id"]')"
ORG="$(curl -fsS "$BASE/api/v1/organization" -H "authorization: Bearer $TOKEN" | json '["id"]')"

echo "==> seeding 100,000 tasks (the peers' table shape, bench/peers/tasks-table.sql)"
psql "$PGBASE/$DB" -q <<SQL
insert into tasks (id, organization_id, project_id, title, description, status, priority,
                   payload, required_capabilities, metadata, created_at, updated_at)
select gen_random_uuid(), '$ORG', '$PROJECT', 'task ' || i, '', 'queued', i % 10,
       jsonb_build_object('i', i, 'kind', 'seed', 'tags', jsonb_build_array('a', 'b')),
       '[]'::jsonb, '{}'::jsonb, now(), now()
from generate_series(1, 100000) as i;
vacuum analyze tasks;
SQL
ID="$(psql "$PGBASE/$DB" -qAt -c "select id from tasks where title = 'task 1'")"

POST_LUA="$RESULTS/orchestore-post.lua"
cat > "$POST_LUA" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"project_id":"$PROJECT","title":"bench-post","priority":5,"payload":{"k":"v","n":1}}'
LUA
GET_LUA="$RESULTS/orchestore-get.lua"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" > "$GET_LUA"

OUT="$RESULTS/rest-orchestore.txt"; : > "$OUT"
echo "commit probe before:" | tee -a "$OUT"; PGURL="$PGBASE/$DB" bash "$PEERS/commit-probe.sh" | tee -a "$OUT"
curl -fsS "$BASE/api/v1/tasks/$ID" -H "authorization: Bearer $TOKEN" | tee -a "$OUT"; echo | tee -a "$OUT"
for kind in get post; do
  for r in $(seq 1 "$RUNS"); do
    psql "$PGBASE/$DB" -q -c "delete from tasks where title = 'bench-post'" -c "delete from audit_logs where action = 'task.create'" -c "vacuum analyze tasks"
    if [ "$kind" = get ]; then
      echo "== get run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency GET /api/v1/tasks/{id}" | tee -a "$OUT"
      wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$GET_LUA" "$BASE/api/v1/tasks/$ID" | tee -a "$OUT"
    else
      echo "== post run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency POST /api/v1/tasks" | tee -a "$OUT"
      wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$POST_LUA" "$BASE/api/v1/tasks" | tee -a "$OUT"
    fi
  done
done
kill "$PID" 2>/dev/null || true

echo "==> peers, same machine, same PostgreSQL"
psql "$PGBASE/postgres" -qAt -c "select 1 from pg_database where datname = 'bench'" | grep -q 1 \
  || psql "$PGBASE/postgres" -q -c "create database bench"
PGURL="$PGBASE/bench" bash "$PEERS/run-rest-stand-in.sh" > "$RESULTS/rest-stand-in.out" 2>&1
PGURL="$PGBASE/bench" bash "$PEERS/run-pgbench.sh" > "$RESULTS/pgbench.out" 2>&1

echo
echo "orchestore (actix + SeaORM, JWT auth, tenant scoping, audit row per write):"
python3 "$PEERS/summarize-wrk.py" "$OUT"
echo "actix + sqlx stand-in (no ORM, no auth, no audit):"
python3 "$PEERS/summarize-wrk.py" "$RESULTS/rest-actix-sqlx.txt"
echo "pgbench ceiling (same statements, 32 clients):"
tail -n 2 "$RESULTS/pgbench.out"

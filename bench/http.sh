#!/usr/bin/env bash
# HTTP benchmark: Orchestore's `GET /api/v1/tasks/{id}` and `POST /api/v1/tasks` on PostgreSQL,
# measured in the same run as its peers in bench/peers/: the actix-web + sqlx stand-in
# (no ORM, no auth, no audit), the two taking turns run by run, and then the pgbench ceiling
# for the same statements.
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
  BIN="$(bash "$ROOT/scripts/cargo-target-dir.sh")/release/orchestore"
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

echo "==> the stand-in (bench/peers/rest-stand-in) on database bench, beside orchestore"
psql "$PGBASE/postgres" -qAt -c "select 1 from pg_database where datname = 'bench'" | grep -q 1 \
  || psql "$PGBASE/postgres" -q -c "create database bench"
SDB="$PGBASE/bench"
SBIND=127.0.0.1:3001
PEERS_TARGET="${PEERS_TARGET_DIR:-$ROOT/target/bench-peers}"
(cd "$PEERS/rest-stand-in" && CARGO_TARGET_DIR="$PEERS_TARGET" cargo build --release --locked)
psql "$SDB" -qAt -c "select to_regclass('public.tasks') is not null" | grep -q t || psql "$SDB" -q -f "$PEERS/tasks-table.sql"
DATABASE_URL="$SDB" BIND="$SBIND" POOL=10 "$PEERS_TARGET/release/rest-stand-in" > "$RESULTS/rest-stand-in.log" 2>&1 &
SPID=$!
trap 'kill "$PID" "$SPID" 2>/dev/null || true' EXIT
SBASE="http://$SBIND"
SID="$(psql "$SDB" -qAt -c "select id from tasks where title = 'task 1'")"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$SBASE/tasks?id=eq.$SID" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "$SBASE/tasks?id=eq.$SID" \
  || { echo "the stand-in did not start; see $RESULTS/rest-stand-in.log" >&2; exit 1; }

OUT="$RESULTS/rest-orchestore.txt"; : > "$OUT"
SOUT="$RESULTS/rest-actix-sqlx.txt"; : > "$SOUT"
echo "commit probe before:" | tee -a "$OUT" "$SOUT"; PGURL="$PGBASE/$DB" bash "$PEERS/commit-probe.sh" | tee -a "$OUT" "$SOUT"
curl -fsS "$BASE/api/v1/tasks/$ID" -H "authorization: Bearer $TOKEN" | tee -a "$OUT"; echo | tee -a "$OUT"
curl -fsS "$SBASE/tasks?id=eq.$SID" | tee -a "$SOUT"; echo | tee -a "$SOUT"
curl -fsS -o /dev/null -w 'POST status %{http_code}\n' -X POST -H 'Content-Type: application/json' \
  -d '{"title":"bench-post","status":"queued","priority":5,"payload":{"k":"v","n":1}}' "$SBASE/tasks" | tee -a "$SOUT"

# After each run, and before the other side's: Orchestore's audit sealer is let finish sealing
# what the run wrote (it yields to requests, so under load it seals little); then each side's
# written rows are deleted, the tables the deletes touched vacuumed (Orchestore: the tasks,
# their history and audit rows) and a checkpoint taken, so that every run starts from the
# seeded rows and none of this falls into the other side's measured window.
clean_orchestore() {
  local sealed=
  for _ in $(seq 1 240); do
    [ "$(psql "$PGBASE/$DB" -qAt -c "select count(*) from audit_logs where seq is null")" = 0 ] && { sealed=1; break; }
    sleep 0.5
  done
  [ -n "$sealed" ] || echo "warning: audit rows still unsealed after 120 s" | tee -a "$OUT" >&2
  psql "$PGBASE/$DB" -q -c "delete from tasks where title = 'bench-post'" \
    -c "delete from audit_logs where action = 'task.create'" \
    -c "vacuum analyze tasks, task_events, audit_logs" -c "checkpoint"
}
clean_stand_in() {
  psql "$SDB" -q -c "delete from tasks where title = 'bench-post'" -c "vacuum analyze tasks" -c "checkpoint"
}

run_orchestore() {
  local kind="$1" r="$2"
  if [ "$kind" = get ]; then
    echo "== get run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency GET /api/v1/tasks/{id}" | tee -a "$OUT"
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$GET_LUA" "$BASE/api/v1/tasks/$ID" | tee -a "$OUT"
  else
    echo "== post run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency POST /api/v1/tasks" | tee -a "$OUT"
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$POST_LUA" "$BASE/api/v1/tasks" | tee -a "$OUT"
  fi
  clean_orchestore
}
run_stand_in() {
  local kind="$1" r="$2"
  if [ "$kind" = get ]; then
    echo "== get run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency $SBASE/tasks?id=eq.$SID" | tee -a "$SOUT"
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$SBASE/tasks?id=eq.$SID" | tee -a "$SOUT"
  else
    echo "== post run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency -s wrk-post.lua $SBASE/tasks" | tee -a "$SOUT"
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$PEERS/wrk-post.lua" "$SBASE/tasks" | tee -a "$SOUT"
  fi
  clean_stand_in
}

# The two sides take turns run by run, the first alternating (Orchestore first in odd runs), so
# that the machine's drift (the disk's speed moves by tens of percent within minutes) falls on
# both alike. Orchestore's idle background work (the sweepers' ticks) still runs while the
# stand-in is measured.
clean_orchestore
clean_stand_in
for kind in get post; do
  for r in $(seq 1 "$RUNS"); do
    if [ $((r % 2)) = 1 ]; then
      run_orchestore "$kind" "$r"; run_stand_in "$kind" "$r"
    else
      run_stand_in "$kind" "$r"; run_orchestore "$kind" "$r"
    fi
  done
done
echo "commit probe after:" | tee -a "$OUT" "$SOUT"; PGURL="$PGBASE/$DB" bash "$PEERS/commit-probe.sh" | tee -a "$OUT" "$SOUT"
kill "$PID" "$SPID" 2>/dev/null || true
wait "$PID" "$SPID" 2>/dev/null || true

echo "==> the pgbench ceiling, same PostgreSQL"
PGURL="$SDB" bash "$PEERS/run-pgbench.sh" > "$RESULTS/pgbench.out" 2>&1

echo
echo "orchestore (actix + SeaORM, JWT auth, tenant scoping, audit row per write):"
python3 "$PEERS/summarize-wrk.py" "$OUT"
echo "actix + sqlx stand-in (no ORM, no auth, no audit):"
python3 "$PEERS/summarize-wrk.py" "$RESULTS/rest-actix-sqlx.txt"
echo "pgbench ceiling (same statements, 32 clients):"
tail -n 2 "$RESULTS/pgbench.out"

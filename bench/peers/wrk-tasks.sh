#!/usr/bin/env bash
# Drive a PostgREST-shaped endpoint with wrk: GET /tasks?id=eq.<uuid> and POST /tasks.
# Usage: wrk-tasks.sh BASE_URL LABEL   (e.g. http://127.0.0.1:3001 actix-sqlx)
# 2 threads, 32 connections, 15 s, 3 runs each (THREADS, CONNS, DUR, RUNS);
# output in $RESULTS/rest-LABEL.txt (default target/bench-results); medians printed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RES="${RESULTS:-$ROOT/target/bench-results}"
BASE="$1"; LABEL="$2"
export PGURL="${PGURL:-postgresql://postgres@127.0.0.1:5432/bench}"
RUNS="${RUNS:-3}"; THREADS="${THREADS:-2}"; CONNS="${CONNS:-32}"; DUR="${DUR:-15s}"
mkdir -p "$RES"
OUT="$RES/rest-$LABEL.txt"; : > "$OUT"
ID="$(psql "$PGURL" -qAt -c "select id from tasks where title = 'task 1'")"
echo "commit probe before:" | tee -a "$OUT"; bash "$HERE/commit-probe.sh" | tee -a "$OUT"
echo "fixed id: $ID" | tee -a "$OUT"
curl -fsS "$BASE/tasks?id=eq.$ID" | tee -a "$OUT"; echo | tee -a "$OUT"
curl -fsS -o /dev/null -w 'POST status %{http_code}\n' -X POST -H 'Content-Type: application/json' \
  -d '{"title":"bench-post","status":"queued","priority":5,"payload":{"k":"v","n":1}}' "$BASE/tasks" | tee -a "$OUT"
for kind in get post; do
  for r in $(seq 1 "$RUNS"); do
    psql "$PGURL" -q -c "delete from tasks where title = 'bench-post'" -c "vacuum analyze tasks"
    if [ "$kind" = get ]; then
      echo "== get run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency $BASE/tasks?id=eq.$ID" | tee -a "$OUT"
      wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$BASE/tasks?id=eq.$ID" | tee -a "$OUT"
    else
      echo "== post run $r: wrk -t$THREADS -c$CONNS -d$DUR --latency -s wrk-post.lua $BASE/tasks" | tee -a "$OUT"
      wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$HERE/wrk-post.lua" "$BASE/tasks" | tee -a "$OUT"
    fi
  done
done
psql "$PGURL" -q -c "delete from tasks where title = 'bench-post'" -c "vacuum analyze tasks"
python3 "$HERE/summarize-wrk.py" "$OUT"

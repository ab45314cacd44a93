#!/usr/bin/env bash
# Physical ceiling for the REST calls: pgbench with the same single-row SELECT by
# primary key and the same INSERT, 32 clients, 2 threads, 15 s, prepared protocol
# (CLIENTS, THREADS, SECS, RUNS). 3 runs each; medians printed.
# Output in $RESULTS/pgbench.txt (default target/bench-results).
# Creates and fills the `tasks` table (tasks-table.sql) if the database has none.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RES="${RESULTS:-$ROOT/target/bench-results}"
export PGURL="${PGURL:-postgresql://postgres@127.0.0.1:5432/bench}"
RUNS="${RUNS:-3}"; CLIENTS="${CLIENTS:-32}"; THREADS="${THREADS:-2}"; SECS="${SECS:-15}"
mkdir -p "$RES"
OUT="$RES/pgbench.txt"; : > "$OUT"
psql "$PGURL" -qAt -c "select to_regclass('public.tasks') is not null" | grep -q t \
  || psql "$PGURL" -q -f "$HERE/tasks-table.sql"
ID="$(psql "$PGURL" -qAt -c "select id from tasks where title = 'task 1'")"
echo "commit probe before:" | tee -a "$OUT"; bash "$HERE/commit-probe.sh" | tee -a "$OUT"
echo "fixed id: $ID" | tee -a "$OUT"
for kind in select insert; do
  for r in $(seq 1 "$RUNS"); do
    psql "$PGURL" -q -c "delete from tasks where title = 'bench-post'" -c "vacuum analyze tasks"
    echo "== $kind run $r: pgbench -n -M prepared -c $CLIENTS -j $THREADS -T $SECS -f pgbench-$kind.sql" | tee -a "$OUT"
    pgbench -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$SECS" -P 5 -D id="$ID" \
      -f "$HERE/pgbench-$kind.sql" "$PGURL" 2>&1 | grep -E 'latency|tps|progress' | tee -a "$OUT"
  done
done
psql "$PGURL" -q -c "delete from tasks where title = 'bench-post'" -c "vacuum analyze tasks"
python3 - "$OUT" <<'PY'
import re, statistics, sys
cur = None; tps = {}; lat = {}
for line in open(sys.argv[1]):
    m = re.match(r"== (\w+) run", line)
    if m: cur = m.group(1); continue
    m = re.match(r"tps = ([\d.]+) \(without", line)
    if m: tps.setdefault(cur, []).append(float(m.group(1)))
    m = re.match(r"latency average = ([\d.]+) ms", line)
    if m: lat.setdefault(cur, []).append(float(m.group(1)))
for k in tps:
    print(f"{k}: median tps {statistics.median(tps[k]):.0f} (runs {', '.join(f'{x:.0f}' for x in tps[k])}); "
          f"median avg latency {statistics.median(lat[k]):.2f} ms")
PY

#!/usr/bin/env bash
# Design probe for the queue's next step (not part of bench/queue.sh): how fast could a drain be
# if the claimable tasks lived in a narrow table apart from the task rows? Plain SQL through
# pgbench on a database of its own, variants of the same claim and completion, each with its
# history rows:
#   current  today's tables: the claim and the completion each update the wide task row under
#            all of its indexes;
#   queue    the claimable tasks in a narrow queue_items table (deleted on claim) in place of
#            tasks' three partial indexes on queued rows; the claim and the completion still
#            update the task row as today;
#   hot      a narrow queue_items table (deleted on claim) and task_leases (inserted on claim,
#            deleted on completion); tasks keeps only indexes on columns a claim or a completion
#            never change, so both update its row in place (HOT) — an upper bound;
#   leases   the same narrow tables and a claim that writes no task row at all; the completion
#            updates it once under today's indexes;
#   append   nor does the completion: it inserts a narrow outcome row. The task row is written
#            once, at creation (a task's state would be read from its lease and its outcome).
# The statements are simplified alike (one organization, no capabilities, fairness, rate limits
# or concurrency keys): compare the variants with one another, not with bench/queue.sh's figures.
#
#   bash bench/probes/narrow-queue.sh     # N=20000 C=8 BATCHES="1 50" RUNS=1
set -euo pipefail
HERE="$(cd "$(dirname "$0")/narrow-queue" && pwd)"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
N="${N:-20000}" C="${C:-8}" BATCHES="${BATCHES:-1 50}" RUNS="${RUNS:-1}"
VARIANTS="${VARIANTS:-current queue hot leases append}"
DB=orchestore_narrow_probe
URL="$PGBASE/$DB?sslmode=disable"
ADMIN="$PGBASE/postgres?sslmode=disable"

wal() { psql "$URL" -Atqc "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }

printf '%-8s %6s %4s %10s %12s\n' variant batch run "jobs/s" "WAL B/job"
for run in $(seq "$RUNS"); do
  for batch in $BATCHES; do
    for variant in $VARIANTS; do
      psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
      psql "$URL" -q -v ON_ERROR_STOP=1 -f "$HERE/schema.sql" >/dev/null
      if [[ $variant != current ]]; then
        psql "$URL" -q -v ON_ERROR_STOP=1 -f "$HERE/$variant.sql" >/dev/null
      fi
      # Enough tasks that no claim comes back empty at the end, when the last ones are locked.
      psql "$URL" -q -v ON_ERROR_STOP=1 -v n=$((N + 2 * C * batch)) -f "$HERE/seed.sql" >/dev/null
      per_client=$((N / (C * batch)))
      before=$(wal)
      out=$(pgbench -n -M prepared -c "$C" -j 2 -t "$per_client" -D batch="$batch" \
        -f "$HERE/drain-$variant.sql" "$URL" 2>&1) || { echo "$out" >&2; exit 1; }
      after=$(wal)
      if [[ $variant == append ]]; then
        done_jobs=$(psql "$URL" -Atqc "SELECT count(*) FROM task_outcomes WHERE status = 'succeeded'")
      else
        done_jobs=$(psql "$URL" -Atqc "SELECT count(*) FROM tasks WHERE status = 'succeeded'")
      fi
      events=$(psql "$URL" -Atqc "SELECT count(*) FROM task_events WHERE to_status = 'succeeded'")
      expected=$((per_client * C * batch))
      if [[ $done_jobs -ne $expected || $events -ne $expected ]]; then
        echo "$variant batch $batch: $done_jobs tasks and $events events succeeded, expected $expected" >&2
        exit 1
      fi
      tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
      printf '%-8s %6s %4s %10.0f %12.0f\n' "$variant" "$batch" "$run" \
        "$(echo "$tps * $batch" | bc -l)" "$(echo "($after - $before) / $done_jobs" | bc -l)"
    done
  done
done
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null

// pg-boss in the modes of bench/queue.sh, one mode per process:
//   node pgboss.mjs <reset|enqueue-one|enqueue-bulk|drain-one|drain-batch|latency>
// Settings from the environment (common.mjs). Prints one JSON line per mode.
//
// pg-boss keeps a completed job (state `completed`) until its retention ends: the job row is
// its record of the run. Queue `bench` has the default policy and no NOTIFY (as created by
// default); queue `bench_notify` has `notify: true`, for the latency mode.
import { PgBoss } from "pg-boss";
import {
  BATCH, BULK, C, DB, N, latencyFields, line, now, walPerJob, walPosition, settle, sleep, sql, throughput, trickle, until,
} from "./common.mjs";

const TOOL = "pg-boss";
const SCHEMA = "pgboss";
const Q = "bench";
const QN = "bench_notify";
const mode = process.argv[2];

async function boss(options = {}) {
  const b = new PgBoss({ connectionString: DB, schema: SCHEMA, max: C + 2, schedule: false, ...options });
  b.on("error", (e) => console.error("pg-boss error:", e.message));
  await b.start();
  return b;
}
const count = async (state) =>
  (await sql(`select count(*)::int AS n from ${SCHEMA}.job where name = $1 and state = $2`, [Q, state]))[0].n;

async function clear() {
  const b = await boss({ supervise: false });
  for (const q of [Q, QN]) await b.deleteAllJobs(q);
  await b.stop({ graceful: false });
  await settle();
}

async function seed(n) {
  const b = await boss({ supervise: false });
  for (let from = 0; from < n; from += 5000) {
    const jobs = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) jobs.push({ data: { i } });
    await b.insert(Q, jobs);
  }
  await b.stop({ graceful: false });
}

if (mode === "reset") {
  await sql(`drop schema if exists ${SCHEMA} cascade`);
  const b = await boss({ supervise: false });
  await b.createQueue(Q);
  await b.createQueue(QN, { notify: true });
  await b.stop({ graceful: false });
} else if (mode === "enqueue-one") {
  // N send calls, C in flight.
  await clear();
  const b = await boss({ supervise: false });
  let next = 0;
  const calls = [];
  const wal = await walPosition();
  const t0 = now();
  await Promise.all(Array.from({ length: C }, async () => {
    for (let i = next++; i < N; i = next++) {
      const t = now();
      await b.send(Q, { i });
      calls.push(now() - t);
    }
  }));
  const ms = now() - t0;
  const walBytes = walPerJob(wal, await walPosition(), N);
  await b.stop({ graceful: false });
  line(TOOL, mode, { ...throughput(N, C, ms), wal_bytes_per_job: walBytes, ...latencyFields("call_", calls), written: { jobs: await count("created") } });
} else if (mode === "enqueue-bulk") {
  // N jobs in insert calls of BULK, one call in flight.
  await clear();
  const b = await boss({ supervise: false });
  const calls = [];
  const wal = await walPosition();
  const t0 = now();
  for (let from = 0; from < N; from += BULK) {
    const jobs = [];
    for (let i = from; i < Math.min(N, from + BULK); i++) jobs.push({ data: { i } });
    const t = now();
    await b.insert(Q, jobs);
    calls.push(now() - t);
  }
  const ms = now() - t0;
  const walBytes = walPerJob(wal, await walPosition(), N);
  await b.stop({ graceful: false });
  line(TOOL, mode, { ...throughput(N, 1, ms), wal_bytes_per_job: walBytes, bulk: BULK, bulk_call: "insert", ...latencyFields("call_", calls), written: { jobs: await count("created") } });
} else if (mode === "drain-one" || mode === "drain-batch") {
  // work() with C local workers and a no-op handler. drain-one: batchSize 1, fetching again at
  // once while the queue's cached backlog exceeds 1 (burstWhenReadyExceeds; the stats behind it
  // refreshed every second, and given time to see the backlog before the clock starts), else a
  // worker waits its polling interval between fetches. drain-batch: batchSize BATCH, fetching
  // again at once while batches come back full (burstWhenBatchFull); a batch is completed in one
  // statement. Timed from the first job's start until every job is marked completed.
  await clear();
  await seed(N);
  await settle();
  const batched = mode === "drain-batch";
  const b = await boss(batched ? {} : { monitorIntervalSeconds: 1, queueCacheIntervalSeconds: 1, superviseIntervalSeconds: 1 });
  if (!batched) await sleep(3000);
  let done = 0, first = null;
  const wal = await walPosition();
  const tWork = now();
  await b.work(Q,
    batched
      ? { localConcurrency: C, batchSize: BATCH, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }
      : { localConcurrency: C, batchSize: 1, pollingIntervalSeconds: 0.5, burstWhenReadyExceeds: 1 },
    async (jobs) => { if (first === null) first = now(); done += jobs.length; });
  await until(() => done >= N);
  const tEnd = await until(async () => (await count("completed")) >= N);
  const walEnd = await walPosition();
  await b.stop({ graceful: true, timeout: 5000 });
  line(TOOL, mode, {
    ...throughput(N, C, tEnd - first), wal_bytes_per_job: walPerJob(wal, walEnd, N), claim_limit: batched ? BATCH : 1,
    seconds_from_work_call: Math.round(tEnd - tWork) / 1000,
    written: { completed: await count("completed") },
  });
} else if (mode === "latency") {
  // C local workers, batchSize 1, on the notify queue with LISTEN/NOTIFY on (pg-boss's fastest
  // wake-up; without it a worker polls every 0.5 s at best); a producer instance with its own
  // pool enqueues at TRICKLE_RATE.
  await clear();
  const t = trickle();
  const b = await boss({ useListenNotify: true });
  const producer = await boss({ supervise: false });
  await b.work(QN, { localConcurrency: C, batchSize: 1, pollingIntervalSeconds: 0.5 },
    async ([job]) => t.started(job.id));
  await sleep(1000);
  await t.run((i) => producer.send(QN, { i }));
  await producer.stop({ graceful: false });
  await b.stop({ graceful: true, timeout: 5000 });
  line(TOOL, mode, t.fields());
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.exit(0);

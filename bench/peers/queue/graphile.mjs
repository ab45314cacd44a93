// graphile-worker in the modes of bench/queue.sh, one mode per process:
//   node graphile.mjs <reset|enqueue-one|enqueue-bulk|drain-one|drain-batch|latency>
// Settings from the environment (common.mjs). Prints one JSON line per mode.
//
// graphile-worker deletes a job when it completes: it keeps no history of its runs.
import { run, makeWorkerUtils, Logger } from "graphile-worker";
import {
  BATCH, BULK, C, DB, N, latencyFields, line, now, walPerJob, walPosition, settle, sql, throughput, trickle, until,
} from "./common.mjs";

const TOOL = "graphile-worker";
const logger = new Logger(() => () => {}); // quiet: counts are checked instead
const mode = process.argv[2];

const jobCount = async () =>
  (await sql("select count(*)::int AS n from graphile_worker._private_jobs"))[0].n;

async function clear() {
  await sql("delete from graphile_worker._private_jobs");
  await settle();
}

async function utils() {
  return makeWorkerUtils({ connectionString: DB, logger, maxPoolSize: C + 2 });
}

async function seed(n) {
  const wu = await utils();
  for (let from = 0; from < n; from += 5000) {
    const specs = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) specs.push({ identifier: "noop", payload: { i } });
    await wu.addJobs(specs);
  }
  await wu.release();
}

if (mode === "reset") {
  await sql("drop schema if exists graphile_worker cascade");
  const wu = await utils();
  await wu.migrate();
  await wu.release();
} else if (mode === "enqueue-one") {
  // N addJob calls, C in flight.
  await clear();
  const wu = await utils();
  let next = 0;
  const calls = [];
  const wal = await walPosition();
  const t0 = now();
  await Promise.all(Array.from({ length: C }, async () => {
    for (let i = next++; i < N; i = next++) {
      const t = now();
      await wu.addJob("noop", { i });
      calls.push(now() - t);
    }
  }));
  const ms = now() - t0;
  const walBytes = walPerJob(wal, await walPosition(), N);
  await wu.release();
  line(TOOL, mode, { ...throughput(N, C, ms), wal_bytes_per_job: walBytes, ...latencyFields("call_", calls), written: { jobs: await jobCount() } });
} else if (mode === "enqueue-bulk") {
  // N jobs in addJobs calls of BULK, one call in flight.
  await clear();
  const wu = await utils();
  const calls = [];
  const wal = await walPosition();
  const t0 = now();
  for (let from = 0; from < N; from += BULK) {
    const specs = [];
    for (let i = from; i < Math.min(N, from + BULK); i++) specs.push({ identifier: "noop", payload: { i } });
    const t = now();
    await wu.addJobs(specs);
    calls.push(now() - t);
  }
  const ms = now() - t0;
  const walBytes = walPerJob(wal, await walPosition(), N);
  await wu.release();
  line(TOOL, mode, { ...throughput(N, 1, ms), wal_bytes_per_job: walBytes, bulk: BULK, bulk_call: "addJobs", ...latencyFields("call_", calls), written: { jobs: await jobCount() } });
} else if (mode === "drain-one" || mode === "drain-batch") {
  // A runner with concurrency C and a no-op task. drain-one: the default worker (each job
  // fetched, then completed, on its own). drain-batch: a local queue of BATCH jobs per fetch and
  // completions batched (completeJobBatchDelay 0). Timed from the first job's start until the
  // table is empty (every completion committed).
  await clear();
  await seed(N);
  await settle();
  const batched = mode === "drain-batch";
  const worker = batched
    ? { localQueue: { size: BATCH }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
    : {};
  let done = 0, first = null;
  const wal = await walPosition();
  const tRun = now();
  const runner = await run({
    connectionString: DB, concurrency: C, maxPoolSize: C + 2, noHandleSignals: true,
    pollInterval: 1000, logger, preset: { worker },
    taskList: { noop: async () => { if (first === null) first = now(); done++; } },
  });
  await until(() => done >= N);
  const tEnd = await until(async () => (await jobCount()) === 0);
  const walEnd = await walPosition();
  await runner.stop();
  line(TOOL, mode, {
    ...throughput(N, C, tEnd - first), wal_bytes_per_job: walPerJob(wal, walEnd, N), claim_limit: batched ? BATCH : 1,
    seconds_from_run_call: Math.round(tEnd - tRun) / 1000,
    written: { jobs_left: await jobCount() },
  });
} else if (mode === "latency") {
  // A runner with concurrency C, woken by LISTEN/NOTIFY (its default); a producer with its
  // own pool enqueues at TRICKLE_RATE.
  await clear();
  const t = trickle();
  const runner = await run({
    connectionString: DB, concurrency: C, maxPoolSize: C + 2, noHandleSignals: true, logger,
    taskList: { noop: async (_payload, helpers) => t.started(helpers.job.id) },
  });
  const wu = await utils();
  await new Promise((r) => setTimeout(r, 1000));
  await t.run(async (i) => (await wu.addJob("noop", { i })).id);
  await wu.release();
  await runner.stop();
  line(TOOL, mode, t.fields());
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.exit(0);

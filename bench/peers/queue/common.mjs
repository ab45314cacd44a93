// What graphile.mjs and pgboss.mjs share: the settings (from the environment, set by
// bench/queue.sh), the JSON line every mode prints, percentiles, and SQL on a scratch client.
import pg from "pg";
import { performance } from "node:perf_hooks";

export const DB = process.env.DATABASE_URL;
if (!DB) throw new Error("DATABASE_URL is not set");
export const N = +(process.env.N || 20000);
export const C = +(process.env.C || 8);
export const BATCH = +(process.env.BATCH || 50);
export const BULK = +(process.env.BULK || 1000);
export const TRICKLE_N = +(process.env.TRICKLE_N || 300);
export const TRICKLE_RATE = +(process.env.TRICKLE_RATE || 10);

export const now = () => performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Nearest rank, as the Rust side computes it.
export function percentile(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1];
}
const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
export function latencyFields(prefix, values) {
  return {
    [`${prefix}p50_ms`]: r3(percentile(values, 50)),
    [`${prefix}p99_ms`]: r3(percentile(values, 99)),
    [`${prefix}mean_ms`]: values.length ? r3(values.reduce((a, b) => a + b, 0) / values.length) : null,
    [`${prefix}max_ms`]: values.length ? r3(Math.max(...values)) : null,
  };
}
export function throughput(jobs, c, ms) {
  return { n: jobs, c, seconds: r3(ms / 1000), jobs_per_s: Math.round(jobs / (ms / 1000)) };
}

// One JSON line per mode; peak_rss_kib is the process's peak resident set (getrusage maxrss).
export function line(tool, mode, fields) {
  console.log(JSON.stringify({ tool, mode, ...fields, peak_rss_kib: process.resourceUsage().maxRSS }));
}

export async function sql(text, values) {
  const client = new pg.Client({ connectionString: DB });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

// The server's WAL position in bytes: the difference over a mode is the WAL it wrote (the whole
// server's, so the machine should have no other database work).
export async function walPosition() {
  return Number((await sql("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS b"))[0].b);
}
export const walPerJob = (from, to, jobs) => Math.round((to - from) / Math.max(1, jobs));

// Fresh statistics and a checkpoint before each measurement, as for Orchestore.
export async function settle() {
  await sql("vacuum analyze");
  await sql("checkpoint");
}

// Waits until `check()` is true, looking every 5 ms; the time it became true.
export async function until(check, timeoutMs = 120000) {
  const deadline = now() + timeoutMs;
  while (!(await check())) {
    if (now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
  return now();
}

// Enqueues TRICKLE_N jobs at TRICKLE_RATE per second with `enqueue(i)` (which returns the job's
// id); `started(id)` is called by the worker's handler. Latency from the enqueue call's return
// (its commit acknowledged) to the handler starting, and from the enqueue call's start.
export function trickle() {
  const sent = new Map();
  const startedAt = new Map();
  return {
    started(id) {
      startedAt.set(String(id), now());
    },
    get count() {
      return startedAt.size;
    },
    async run(enqueue) {
      const gap = 1000 / TRICKLE_RATE;
      const t0 = now();
      for (let i = 0; i < TRICKLE_N; i++) {
        const wait = t0 + i * gap - now();
        if (wait > 0) await sleep(wait);
        const before = now();
        const id = await enqueue(i);
        sent.set(String(id), [before, now()]);
      }
      await until(() => startedAt.size >= TRICKLE_N, 30000).catch(() => {});
    },
    fields() {
      const afterCommit = [], fromCall = [];
      let early = 0;
      for (const [id, [before, after]] of sent) {
        const at = startedAt.get(id);
        if (at === undefined) continue;
        if (at < after) early++;
        afterCommit.push(Math.max(0, at - after));
        fromCall.push(at - before);
      }
      return {
        n: TRICKLE_N, c: C, rate_per_s: TRICKLE_RATE, claimed: afterCommit.length,
        ...latencyFields("", afterCommit), ...latencyFields("from_call_", fromCall),
        claimed_before_call_returned: early,
      };
    },
  };
}

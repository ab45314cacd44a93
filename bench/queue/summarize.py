#!/usr/bin/env python3
"""The summary of a bench/queue.sh run: reads the JSON lines in the results folder (argument)
and prints the comparison, the targets of the queue issue, and the checks of what was written.
A mode run several times (RUNS) counts with the median of its runs (peak memory: the largest)."""
import json
import statistics
import sys
from pathlib import Path

res = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-results/queue")


def load(name):
    path = res / name
    if not path.exists():
        return {}
    runs = {}
    for line in path.read_text().splitlines():
        if line.strip().startswith("{"):
            row = json.loads(line)
            runs.setdefault(row["mode"], []).append(row)
    return {mode: merged(rows) for mode, rows in runs.items()}


def merged(rows):
    """The first run's row with every number the median over the runs (peak RSS the maximum),
    and `runs_jobs_per_s` listing each run's rate."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
            if len(set(values)) > 1:
                out[key] = max(values) if key == "peak_rss_kib" else statistics.median(values)
    out["runs"] = len(rows)
    out["runs_jobs_per_s"] = [r.get("jobs_per_s") for r in rows]
    out["all"] = rows
    return out


orch, gw, boss, ceil = (load(f) for f in ("orchestore.jsonl", "graphile-worker.jsonl", "pg-boss.jsonl", "ceiling.jsonl"))

control = {}
control_path = res / "control.jsonl"
if control_path.exists():
    grouped = {}
    for line in control_path.read_text().splitlines():
        if line.strip().startswith("{"):
            row = json.loads(line)
            grouped.setdefault((row["mode"].removesuffix("-fair"), row["variant"]), []).append(row)
    control = {key: merged(rows) for key, rows in grouped.items()}


def rate(rows, mode):
    row = rows.get(mode)
    return row.get("jobs_per_s") if row else None


def runs(rows, mode):
    row = rows.get(mode)
    if not row or row["runs"] < 2:
        return ""
    return " (" + ", ".join(f"{x:,.0f}" for x in row["runs_jobs_per_s"]) + ")"


def fmt(x, unit=""):
    if x is None:
        return "–"
    if isinstance(x, float) and x < 100:
        return f"{x:.2f}{unit}"
    return f"{x:,.0f}{unit}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


# A run of the queue-control section alone has no throughput rows: its plain drains say N and C.
any_row = next(iter(orch.values()), None) or next(iter(control.values()), {})
n = orch.get("drain-one", any_row).get("n")
c = orch.get("drain-one", any_row).get("c")
# A mode left out of the run (MODES) has no figure to show its setting: "–", as in its rows.
batch = (orch.get("drain-batch") or control.get(("drain-batch", "plain")) or {}).get("claim_limit", "–")
bulk = orch.get("enqueue-bulk", {}).get("bulk", "–")
runs_n = orch.get("drain-one", any_row).get("runs", 1)
print(f"Queue benchmark, one run: N={n or 0:,} jobs per mode, concurrency C={c}, batch {batch}, bulk {bulk};"
      f" medians of {runs_n} run(s) per mode (each run's figure in brackets)")
for when in ("before", "after"):
    probe = res / f"commit-probe-{when}.txt"
    if probe.exists():
        print(f"commit probe {when}: " + "; ".join(probe.read_text().split("\n")).strip("; "))
print()

if orch:
    print("Throughput (jobs/s; target: Orchestore at least 2x graphile-worker in every mode)")
    rows = []
    for mode, label, peer_mode in [
        ("enqueue-one", f"enqueue one by one, {c} in flight", "enqueue-one"),
        ("enqueue-bulk", f"enqueue in bulk, calls of {bulk}", "enqueue-bulk"),
        ("drain-one", "drain, claim 1 at a time", "drain-one"),
        ("drain-batch", f"drain, claim {batch}, complete the batch in 1 call", "drain-batch"),
        ("drain-batch-each", f"drain, claim {batch}, complete each in its own call", "drain-batch"),
    ]:
        o, g, b, k = rate(orch, mode), rate(gw, peer_mode), rate(boss, peer_mode), rate(ceil, mode)
        target = "–" if not (o and g) else ("met" if o >= 2 * g else "short")
        rows.append([label, fmt(o) + runs(orch, mode), fmt(g) + runs(gw, peer_mode), fmt(b) + runs(boss, peer_mode),
                     ratio(o, g), target, fmt(k) + runs(ceil, mode), ratio(o, k)])
    table(["mode", "orchestore", "graphile-worker", "pg-boss", "orch/graphile", "2x target",
           "plain-SQL ceiling", "orch/ceiling"], rows)
    print("(peers in drain-batch: graphile-worker local queue of BATCH with batched completions;"
          " pg-boss batchSize BATCH, a batch completed in one statement)")
    print()

    print("WAL written per job (bytes, median; the whole server's WAL over the timed section)")
    rows = []
    for mode, peer_mode in [("enqueue-one", "enqueue-one"), ("enqueue-bulk", "enqueue-bulk"), ("drain-one", "drain-one"),
                            ("drain-batch", "drain-batch"), ("drain-batch-each", "drain-batch")]:
        w = lambda rows_, m: (rows_.get(m) or {}).get("wal_bytes_per_job")
        rows.append([mode, fmt(w(orch, mode)), fmt(w(gw, peer_mode)), fmt(w(boss, peer_mode)), fmt(w(ceil, mode))])
    table(["mode", "orchestore", "graphile-worker", "pg-boss", "plain-SQL ceiling"], rows)
    print()

    print("Enqueue-to-claim latency at a trickle (ms, from the enqueue call's return; target p50 <= 2 ms)")
    rows = []
    for rows_, mode, label in [
        (orch, "latency", "orchestore, producer in the same process (in-process wake-up)"),
        (orch, "latency-notify", "orchestore, producer on its own store (NOTIFY)"),
        (gw, "latency", "graphile-worker (LISTEN/NOTIFY)"),
        (boss, "latency", "pg-boss (notify queue, useListenNotify)"),
    ]:
        r = rows_.get(mode)
        if not r:
            continue
        target = "met" if rows_ is orch and r["p50_ms"] is not None and r["p50_ms"] <= 2 else ("short" if rows_ is orch else "")
        rows.append([label, fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["from_call_p50_ms"]), fmt(r["from_call_p99_ms"]),
                     f'{r["claimed"]}/{r["n"]}', target])
    table(["", "p50", "p99", "p50 from call", "p99 from call", "claimed", "target"], rows)
    print()

    print("Peak memory of the process while draining (MiB; target for Orchestore < 64 MiB)")
    rows = []
    for mode in ("drain-one", "drain-batch", "drain-batch-each"):
        mib = lambda rows_: (rows_.get(mode) or {}).get("peak_rss_kib")
        vals = [mib(orch), mib(gw), mib(boss)]
        rows.append([mode] + [fmt(v / 1024 if v else None) for v in vals]
                    + ["met" if vals[0] and vals[0] < 64 * 1024 else "short"])
    table(["mode", "orchestore", "graphile-worker", "pg-boss", "target"], rows)
    print()

s = orch.get("scale")
if s:
    print("Claim latency at scale (Orchestore, one worker, claim limit 1, the two tables in alternating rounds, ms;"
          " target: large p50 within 2x of base)")
    rows = []
    for label in ("base", "large"):
        rows.append([f'{s[f"{label}_finished"]:,} finished + {s[f"{label}_queued"]:,} queued ({s[f"{label}_table_mib"]:,} MiB)',
                     fmt(s[f"{label}_claim_p50_ms"]), fmt(s[f"{label}_claim_p99_ms"]),
                     fmt(s[f"{label}_complete_p50_ms"]), fmt(s[f"{label}_complete_p99_ms"]),
                     fmt(s[f"{label}_server_planning_p50_ms"] + s[f"{label}_server_execution_p50_ms"])])
    table(["tasks table", "claim p50", "claim p99", "complete p50", "complete p99", "claim statement in server p50"], rows)
    ratio_ = s["claim_p50_ratio"]
    print(f'claim p50 large/base: {ratio_:.2f} ({"met" if ratio_ <= 2 else "short"}); the statement alone in the server'
          f' (planning + execution, no commit): {s["server_ratio"]:.2f}. A single-row commit took {s["commit_p50_ms"]:.2f} ms'
          f' (p50; {s["commit_p50_before_seeding_ms"]:.2f} ms before seeding, {s["settle_wait_s"]:.0f} s waited for it);'
          f' shared_buffers {s["shared_buffers"]}. EXPLAIN: {s["explain"]}')
    print()

large = [(label, orch.get(mode)) for mode, label in (("drain-large", "stored out of the row"),
                                                       ("drain-large-inline", "kept in the row"))]
if any(r for _, r in large):
    print("Draining tasks with large payloads (Orchestore, claims of their batch, each claim carrying"
          " its payloads; ms)")
    rows = []
    for label, r in large:
        if r:
            rows.append([f'{r["payload_bytes"]:,}-byte payloads {label}', fmt(r["jobs_per_s"]),
                         fmt(r["claim_p50_ms"]), fmt(r["claim_p99_ms"]), fmt(r["peak_rss_kib"] / 1024)])
    table(["", "jobs/s", "claim p50", "claim p99", "peak MiB"], rows)
    print()

if control:
    print("Queue control: what concurrency keys and fairness cost the drains (jobs/s, medians;"
          " ratio to the plain drain of the same run)")
    rows = []
    for variant, label in [
        ("plain", "orchestore, no keys"),
        ("keys-1000x1", "concurrency keys: 1,000 of limit 1 (never binding)"),
        ("keys-100x2", "concurrency keys: 100 of limit 2 (binding in the batch drain)"),
        ("fair-orgs", "fairness across organizations (shared fleet)"),
        ("fair-keys", "fairness keys within the organization"),
        ("graphile-worker", "graphile-worker (no such feature)"),
    ]:
        cells = [label]
        for mode in ("drain-one", "drain-batch"):
            row, plain = control.get((mode, variant)), control.get((mode, "plain"))
            o, p = (row or {}).get("jobs_per_s"), (plain or {}).get("jobs_per_s")
            cells += [fmt(round(o) if o else o) + (runs({mode: row}, mode) if row else ""), ratio(o, p)]
            cells.append(fmt((row or {}).get("claim_p50_ms")))
        rows.append(cells)
    table(["", "drain one at a time", "/ plain", "claim p50 ms", f"drain {batch or 50} at a time", "/ plain",
           "claim p50 ms"], rows)
    print()

problems = []
each = lambda rows_: [(mode, r) for mode, m in rows_.items() for r in m["all"]]
for mode, row in each(orch):
    w = row.get("written")
    if w and mode.startswith("enqueue") and not (w["tasks"] == w["events"] == w["task_audit_rows"] == row["n"]):
        problems.append(f"orchestore {mode}: wrote {w} for {row['n']} tasks")
    if w and mode.startswith("drain") and not (w["tasks"] == w["events"] == row["n"]):
        problems.append(f"orchestore {mode}: {w} for {row['n']} tasks")
for mode, row in each(gw):
    w = row.get("written", {})
    if "jobs" in w and w["jobs"] != row["n"]:
        problems.append(f"graphile-worker {mode}: {w}")
    if w.get("jobs_left"):
        problems.append(f"graphile-worker {mode}: {w}")
for mode, row in each(boss):
    w = row.get("written", {})
    for key in ("jobs", "completed"):
        if key in w and w[key] != row["n"]:
            problems.append(f"pg-boss {mode}: {w}")
for mode, row in each(ceil):
    w = row["written"]
    expected = w["queued"] if mode.startswith("enqueue") else w["succeeded"]
    if row["transactions"] != row["of"] or expected != row["n"]:
        problems.append(f"pgbench {mode}: {row['transactions']}/{row['of']} transactions, {w}")
for (mode, variant), merged_row in control.items():
    for row in merged_row["all"]:
        written = row.get("written")
        if variant == "graphile-worker":
            if (written or {}).get("jobs_left"):
                problems.append(f"graphile-worker {mode} (control): {written}")
            continue
        # Fairness across organizations writes one count per organization.
        counts = written if isinstance(written, list) else [written]
        if sum(w["tasks"] for w in counts) != row["n"] or sum(w["events"] for w in counts) != row["n"]:
            problems.append(f"orchestore {mode} ({variant}): {written} for {row['n']} tasks")
for rows_, tool in ((orch, "orchestore"), (gw, "graphile-worker"), (boss, "pg-boss")):
    for mode, r in each(rows_):
        if mode.startswith("latency") and r["claimed"] != r["n"]:
            problems.append(f"{tool} {mode}: {r['claimed']} of {r['n']} claimed")
print("checks: " + ("every mode wrote what it should" if not problems else "; ".join(problems)))

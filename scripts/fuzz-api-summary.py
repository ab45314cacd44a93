"""Summarises one schemathesis run of scripts/fuzz-api.sh from its NDJSON report.

Usage: fuzz-api-summary.py BACKEND REPORT_DIR EXAMPLES

Prints the operations tested, the requests sent per operation (fewest, median, most, and the
operations below EXAMPLES), the answers by status class, and every failed check by operation.
"""

import collections
import json
import pathlib
import statistics
import sys

backend, report_dir, wanted = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
reports = sorted(report_dir.glob("*.ndjson"))
if not reports:
    sys.exit(f"{backend}: no NDJSON report in {report_dir}")

cases = collections.Counter()
failures = collections.defaultdict(collections.Counter)
statuses = collections.Counter()
for line in reports[-1].open():
    event = json.loads(line)
    finished = event.get("ScenarioFinished")
    if not finished:
        continue
    recorder = finished["recorder"]
    label = recorder["label"]
    cases[label] += len(recorder.get("cases", {}))
    for checks in recorder.get("checks", {}).values():
        for check in checks:
            if check["status"] == "failure":
                failures[label][check["name"]] += 1
    for interaction in recorder.get("interactions", {}).values():
        response = interaction.get("response") or {}
        status = response.get("status_code")
        statuses[f"{status // 100}xx" if status else "no answer"] += 1

counts = sorted(cases.values())
print(f"## {backend}")
print(f"operations tested: {len(cases)}")
if counts:
    print(
        f"requests per operation: fewest {counts[0]}, median {statistics.median(counts):g}, "
        f"most {counts[-1]}, in all {sum(counts)}"
    )
below = sorted(label for label, n in cases.items() if n < wanted)
print(f"operations with fewer than {wanted}: {len(below)}")
for label in below:
    print(f"  {label}: {cases[label]}")
print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
print(f"operations with failed checks: {len(failures)}")
for label, checks in sorted(failures.items()):
    print(f"  {label}: " + ", ".join(f"{name} ×{n}" for name, n in sorted(checks.items())))

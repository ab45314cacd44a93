"""Summarises the schemathesis runs of one backend of scripts/fuzz-api.sh from their NDJSON reports.

Usage: fuzz-api-summary.py BACKEND REPORT_DIR EXAMPLES

Reads every NDJSON report in REPORT_DIR (the run of every phase, then the fuzzing run on drawn
values alone) and prints the operations tested, the requests sent per operation (fewest, median,
most, and the operations below EXAMPLES with how many different requests they were, in all and
in each report), the stateful scenarios' requests, the answers by status class, the errors of
the fuzzer itself, and every failed check by operation.
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

# Sequences of calls across operations, not one operation's requests.
STATEFUL = "Stateful tests"


def request_key(case):
    """What makes a request different from another, the credential aside."""
    value = case.get("value", case)
    if not isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    headers = {k: v for k, v in (value.get("headers") or {}).items() if k.lower() != "authorization"}
    parts = [value.get(k) for k in ("method", "path_parameters", "query", "cookies", "body")]
    return json.dumps([parts, headers, value.get("media_type")], sort_keys=True, default=str)


cases = collections.Counter()
per_report = collections.defaultdict(collections.Counter)
distinct = collections.defaultdict(set)
failures = collections.defaultdict(collections.Counter)
statuses = collections.Counter()
errors = []
for report in reports:
    for line in report.open():
        event = json.loads(line)
        error = event.get("NonFatalError")
        if error:
            # An error of the fuzzer itself (drawing a case, say), not an answer of the server.
            errors.append(f"{error.get('label')} ({error.get('phase')}): {error.get('value')}")
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        label = recorder["label"]
        recorded = recorder.get("cases", {})
        cases[label] += len(recorded)
        per_report[report.name][label] += len(recorded)
        distinct[label].update(request_key(case) for case in recorded.values())
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check["status"] == "failure":
                    failures[label][check["name"]] += 1
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            statuses[f"{status // 100}xx" if status else "no answer"] += 1

stateful = cases.pop(STATEFUL, 0)
counts = sorted(cases.values())
print(f"## {backend}")
print(f"reports: {len(reports)}; operations tested: {len(cases)}")
if counts:
    print(
        f"requests per operation: fewest {counts[0]}, median {statistics.median(counts):g}, "
        f"most {counts[-1]}, in all {sum(counts)}; in stateful scenarios besides: {stateful}"
    )
below = sorted(label for label, n in cases.items() if n < wanted)
print(f"operations with fewer than {wanted}: {len(below)}")
for label in below:
    print(f"  {label}: {cases[label]} requests, {len(distinct[label])} different")
for name, counted in sorted(per_report.items()):
    counted.pop(STATEFUL, None)
    short = sum(1 for n in counted.values() if n < wanted)
    print(f"  {name} alone: {len(counted)} operations, {short} with fewer than {wanted}")
print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
print(f"errors of the fuzzer itself: {len(errors)}")
for error in errors:
    print(f"  {error}")
print(f"operations with failed checks: {len(failures)}")
for label, checks in sorted(failures.items()):
    print(f"  {label}: " + ", ".join(f"{name} ×{n}" for name, n in sorted(checks.items())))

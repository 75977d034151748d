"""Summarises a schemathesis NDJSON report: test cases, and responses by operation and status.

Usage: summary.py REPORT.ndjson
"""
import collections
import json
import sys

by_operation = collections.defaultdict(collections.Counter)
cases = set()
failed_checks = collections.Counter()
with open(sys.argv[1], encoding="utf-8") as events:
    for line in events:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, interaction in recorder.get("interactions", {}).items():
            response = interaction.get("response")
            request = interaction.get("request", {})
            label = f"{request.get('method', '?')} {recorder['cases'].get(case_id, {}).get('value', {}).get('path', recorder['label'])}"
            by_operation[label][response["status_code"] if response else "no response"] += 1
            cases.add(case_id)
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check["status"] != "success":
                    failed_checks[check["name"]] += 1
print(f"{len(cases)} test cases with a response recorded")
for label in sorted(by_operation):
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(by_operation[label].items(), key=str))
    print(f"  {label:50} {statuses}")
if failed_checks:
    print("failed checks: " + ", ".join(f"{name} ×{count}" for name, count in failed_checks.items()))

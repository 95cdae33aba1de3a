"""Reads a schemathesis run (scripts/schemathesis) and prints what CI may see: one line per operation, the
warnings, and on failure the failures from st.log without schemathesis's pytest-style banners, which a
reader of the whole test run would take for a runner's closing line. Writes a jest-style summary (one test
per operation, passed when it had no failure) when given a path.

Usage: schemathesis-summary.py OPENAPI_JSON REPORT_DIR ST_LOG EXIT_CODE [RESULT_JSON]
"""
import collections
import glob
import json
import os
import re
import sys

document, report_dir, st_log, exit_code = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
result_path = sys.argv[5] if len(sys.argv) > 5 else ""
# The document's operations: schemathesis also tries undocumented methods, whose cases count in the totals only.
with open(document) as f:
    operations = {f"{method.upper()} {path}" for path, item in json.load(f)["paths"].items() for method in item if method != "parameters"}


def latest(pattern):
    found = sorted(glob.glob(os.path.join(report_dir, pattern)), key=os.path.getmtime)
    return found[-1] if found else None


def label_of(case):
    method, path = case.get("method"), case.get("path")
    return f"{method.upper()} {path}" if method and path else None


cases = collections.Counter()
statuses = collections.defaultdict(collections.Counter)
ndjson = latest("*.ndjson")
if ndjson:
    with open(ndjson) as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            finished = event.get("ScenarioFinished") if isinstance(event, dict) else None
            recorder = (finished or {}).get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            for case_id, node in (recorder.get("cases") or {}).items():
                label = label_of((node or {}).get("value") or {})
                if not label:
                    continue
                cases[label] += 1
                response = ((interactions.get(case_id) or {}).get("response")) or {}
                if response.get("status_code") is not None:
                    statuses[label][response["status_code"]] += 1

report_path = latest("*.json")
report = json.load(open(report_path)) if report_path else {}
failed = collections.Counter()
for group in report.get("failures", []):
    # Each group is one kind of failure and the operations it was seen on.
    seen_on = group.get("operations") or {}
    items = seen_on.items() if isinstance(seen_on, dict) else ((o, 1) for o in seen_on)
    for label, n in items:
        label = label if isinstance(label, str) else str((label or {}).get("label", "?"))
        failed[label] += n if isinstance(n, int) else 1
    if not seen_on:
        failed["?"] += int(group.get("count") or 1)
labels = sorted(operations | set(failed), key=lambda l: (l.split(" ", 1)[-1], l))

for label in labels:
    codes = ", ".join(f"{code}×{n}" for code, n in sorted(statuses[label].items()))
    verdict = f"{failed[label]} FAILED" if failed[label] else "ok" if cases[label] else "not reached"
    print(f"[schemathesis] {label}: {cases[label]} cases, {verdict}; statuses {codes or 'none recorded'}")

ops, totals = report.get("operations", {}), report.get("test_cases", {})
if report:
    print(
        f"[schemathesis] operations: {ops.get('tested')} tested of {ops.get('total')} ({ops.get('errored')} errored); "
        f"cases: {totals.get('generated')} generated, {totals.get('with_failures')} with failures; seed {report.get('seed')}"
    )
for kind, names in sorted((report.get("warnings") or {}).items()):
    if names:
        print(f"[schemathesis] warning {kind}: {', '.join(names)}")

# Banner lines, and any line that tallies results ("2 failures, 3 warnings in 6.10s", "27 passed").
BANNER = re.compile(r"^\s*[=_\-]{3,}.*$|\b\d+ (passed|failed|skipped|failures?|errors?|warnings?)\b")
if exit_code != 0 or failed:
    print("[schemathesis] failures (from st.log):")
    with open(st_log, errors="replace") as f:
        text = f.read().splitlines()
    start = next((i for i, l in enumerate(text) if re.search(r"\bFAILURES\b|\bERRORS\b", l)), max(0, len(text) - 60))
    end = next((i for i, l in enumerate(text) if i > start and re.search(r"\b(WARNINGS|SUMMARY)\b", l)), len(text))
    for line in text[start:end]:
        # `____ POST /x ____` heads each operation's failures: its name is kept, its rule is not.
        heading = re.match(r"^_{3,}\s*(.+?)\s*_{3,}$", line)
        if heading:
            print(f"  {heading.group(1)}:")
        elif line.strip() and not BANNER.search(line):
            print(f"    {line}")

if result_path:
    os.makedirs(os.path.dirname(os.path.abspath(result_path)), exist_ok=True)
    broken = sum(1 for label in labels if failed[label])
    # An operation no case reached was not tested: pending, not passed.
    pending = sum(1 for label in labels if not failed[label] and not cases[label])
    passed = len(labels) - broken - pending
    # Errors of the run itself (the schema could not be loaded, an operation could not be tested) fail it.
    broken += len(report.get("errors") or []) + int(ops.get("errored") or 0)
    with open(result_path, "w") as f:
        json.dump({"numPassedTests": passed, "numFailedTests": broken, "numPendingTests": pending, "numTodoTests": 0}, f)
        f.write("\n")

if not report:
    print("[schemathesis] no report was written", file=sys.stderr)
    sys.exit(1)

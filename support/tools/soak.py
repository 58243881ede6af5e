"""`python -m support.tools.soak --runs N`: the default suite N times in a row, each run on a
fresh embedded stack, and every scenario's pass and fail counts at the end.

A flake shows as a scenario that failed in some runs and passed in others; it is fixed at its
root (a condition waited for), never by a retry. The figures go to docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from support.report.behave_json import results

OUT = Path("reports/soak")


def outcomes(report: list[dict[str, Any]]) -> dict[str, str]:
    """Each scenario's status in one behave JSON report, keyed "feature: scenario"."""
    return {result.name: result.status for result in results(report)}


def read_report(report: Path) -> dict[str, str]:
    """A run's outcomes; a report behave could not finish counts as one failed run."""
    try:
        return outcomes(json.loads(report.read_text()))
    except (OSError, json.JSONDecodeError) as error:
        return {f"(the run's report could not be read: {error})": "failed"}


def tally(runs: list[dict[str, str]]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for run in runs:
        for scenario, status in run.items():
            counts.setdefault(scenario, Counter())[status] += 1
    return counts


def table(counts: dict[str, Counter[str]], runs: int) -> str:
    lines = [f"{'passed':>6} {'failed':>6} {'other':>6}  scenario ({runs} runs)"]
    for scenario, seen in sorted(counts.items(), key=lambda item: (-item[1]["failed"], item[0])):
        other = sum(seen.values()) - seen["passed"] - seen["failed"]
        lines.append(f"{seen['passed']:>6} {seen['failed']:>6} {other:>6}  {scenario}")
    return "\n".join(lines)


def run_behave(args: list[str]) -> int:
    behave = subprocess.Popen([sys.executable, "-m", "behave", *args])
    try:
        return behave.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached behave too, which stops its stack: let it finish, then stop soaking.
        behave.wait()
        raise


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tools.soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("behave_args", nargs="*", help="passed on to behave")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results, began = [], time.monotonic()
    for run in range(1, args.runs + 1):
        report = OUT / f"run-{run}.json"
        started = time.monotonic()
        code = run_behave(["-f", "json", "-o", str(report), "-f", "progress", *args.behave_args])
        run_outcomes = read_report(report)
        failed = [name for name, status in run_outcomes.items() if status == "failed"]
        print(f"run {run}: exit {code}, {len(run_outcomes)} scenarios, {len(failed)} failed, "
              f"{time.monotonic() - started:.0f} s {failed}", flush=True)  # fmt: skip
        results.append(run_outcomes)
    counts = tally(results)
    print(table(counts, args.runs))
    failures = sum(seen["failed"] for seen in counts.values())
    print(f"{args.runs} runs in {time.monotonic() - began:.0f} s: {failures} scenario failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

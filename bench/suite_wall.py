"""Benchmark: the whole default suite's wall time, serial and parallel, side by side.

    .venv/bin/python bench/suite_wall.py [--runs 3] [--jobs 2]

Each run is cold in the sense that matters: it boots its own embedded stack(s) and stops them.
Serial and parallel runs alternate, so both meet the machine in the same state; the figure is
the median of --runs each. Where the time goes, by the last serial run's behave JSON report:
the slowest scenarios and each feature's total.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from support.report.behave_json import results

OUT = Path("reports/bench")


def timed(command: list[str]) -> tuple[float, int]:
    began = time.monotonic()
    code = subprocess.run(command, check=False, stdout=subprocess.DEVNULL).returncode
    return time.monotonic() - began, code


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / "serial.json"
    serial: list[float] = []
    parallel: list[float] = []
    failed = 0
    for run in range(1, args.runs + 1):
        seconds, code = timed([sys.executable, "-m", "behave", "-f", "json", "-o", str(report)])
        serial.append(seconds)
        failed += code != 0
        seconds, code = timed(
            [sys.executable, "-m", "support.tools.parallel", "--jobs", str(args.jobs)]
        )
        parallel.append(seconds)
        failed += code != 0
        print(f"run {run}: serial {serial[-1]:.1f} s, {args.jobs} workers {parallel[-1]:.1f} s",
              flush=True)  # fmt: skip
    middle = statistics.median
    print(f"median of {args.runs}: serial {middle(serial):.1f} s, "
          f"{args.jobs} workers {middle(parallel):.1f} s; {failed} runs failed")  # fmt: skip
    found = results(json.loads(report.read_text()))
    by_feature: dict[str, float] = {}
    for result in found:
        feature = result.location.split(":")[0]
        by_feature[feature] = by_feature.get(feature, 0.0) + result.seconds
    print("\nfeatures (serial, seconds of scenarios):")
    for feature, seconds in sorted(by_feature.items(), key=lambda item: -item[1]):
        print(f"  {seconds:6.1f} s  {feature}")
    print("\nslowest scenarios:")
    for result in sorted(found, key=lambda r: -r.seconds)[:12]:
        print(f"  {result.seconds:6.1f} s  {result.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

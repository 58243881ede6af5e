"""`python -m support.parallel --jobs N [behave args]`: the suite over N behave processes.

Each worker is an ordinary behave run over its share of the feature files, with its own embedded
stack (or the configured target, which the workers share: scenarios are independent). The
features are dealt longest first to the least loaded worker, by the durations of the last
parallel run (reports/parallel/durations.json; in a fresh checkout features/durations.json,
measured and committed; a feature in neither weighs its number of scenarios).
Whole features, not single scenarios: behave reports a scenario left out of a run as skipped,
which would put every scenario in the report once per worker. Every worker writes
its Allure results into the one directory (its files are uuid-named: the set is merged as it
is written) and a behave JSON report; this process prints one summary of all of them.

Ctrl-C reaches the workers too (they share the terminal's process group): each stops its
stack, and this process waits for them before it stops.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behave.__main__ import run_behave
from behave.configuration import Configuration
from behave.formatter.base import StreamOpener

from support.report.behave_json import ScenarioResult, results

OUT = Path("reports/parallel")
DURATIONS = OUT / "durations.json"
# Seconds of scenarios per feature, measured and committed, for a checkout with no run of its own.
MEASURED = Path("features/durations.json")


@dataclass(frozen=True)
class Planned:
    path: str  # features/x.feature
    scenarios: int


@dataclass
class Share:
    features: list[Planned] = field(default_factory=list)
    load: float = 0.0


def planned(report: list[dict[str, Any]]) -> list[Planned]:
    """The features of a behave --dry-run JSON report that have scenarios to run, in order."""
    found = []
    for feature in report:
        count = sum(
            element.get("type") == "scenario" and element.get("status") != "skipped"
            for element in feature.get("elements", [])
        )
        if count:
            found.append(Planned(feature["location"].split(":")[0], count))
    return found


def deal(features: list[Planned], jobs: int, durations: dict[str, float]) -> list[list[Planned]]:
    """Longest first, each to the least loaded worker. A feature never timed weighs its
    scenarios times the mean seconds per scenario of those that were (1 without any)."""
    timed = [f for f in features if f.path in durations]
    per_scenario = (
        sum(durations[f.path] for f in timed) / sum(f.scenarios for f in timed) if timed else 1.0
    )

    def weight(feature: Planned) -> float:
        return durations.get(feature.path, feature.scenarios * per_scenario)

    shares = [Share() for _ in range(max(1, min(jobs, len(features))))]
    for feature in sorted(features, key=weight, reverse=True):
        lightest = min(shares, key=lambda share: share.load)
        lightest.features.append(feature)
        lightest.load += weight(feature)
    return [share.features for share in shares]


def read_results(report: Path, log: Path) -> list[ScenarioResult]:
    """A worker's results; a report it could not finish is one failure pointing at its log."""
    try:
        return results(json.loads(report.read_text()))
    except (OSError, json.JSONDecodeError) as error:
        return [ScenarioResult(f"(worker report {report} unreadable: {error})", str(log),
                               "failed", 0.0, f"see {log}")]  # fmt: skip


def dry_run(behave_args: list[str]) -> list[Planned]:
    """The scenarios behave would run with these arguments, listed without running them.
    In this process and with the JSON formatter only: the configured Allure formatter would
    report every scenario as skipped."""
    listing = OUT / "planned.json"
    config = Configuration(["--dry-run", "--no-summary", *behave_args])
    config.format, config.outputs = ["json"], [StreamOpener(str(listing))]
    with contextlib.redirect_stdout(io.StringIO()):
        if run_behave(config) != 0:
            raise SystemExit(f"behave could not list the scenarios of {behave_args or 'the suite'}")
    return planned(json.loads(listing.read_text()))


def start_worker(index: int, share: list[Planned]) -> subprocess.Popen[bytes]:
    log = (OUT / f"worker-{index}.log").open("wb")
    return subprocess.Popen(
        # The Allure formatter comes from the configuration ([tool.behave] in pyproject.toml).
        [sys.executable, "-m", "behave", "-f", "json", "-o", str(OUT / f"worker-{index}.json"),
         "-f", "progress", "-o", str(OUT / f"worker-{index}.txt"),
         *(feature.path for feature in share)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NOVA_WORKER": str(index)},
    )  # fmt: skip


def summary(found: list[ScenarioResult], seconds: float, jobs: int) -> str:
    counts: dict[str, int] = {}
    for result in found:
        counts[result.status] = counts.get(result.status, 0) + 1
    lines = []
    failed = [result for result in found if result.status not in ("passed", "skipped")]
    if failed:
        lines.append("\nFailing scenarios:")
        for result in failed:
            lines.append(f"  {result.location}  {result.name} ({result.status})")
            if result.failure:
                lines.extend("      " + line for line in result.failure.splitlines()[:8])
    tally = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    lines.append(f"\n{len(found)} scenarios over {jobs} workers: {tally}")
    lines.append(f"Took {seconds // 60:.0f}min {seconds % 60:.1f}s (wall, stack boots included)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.parallel", description=__doc__)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2)
    parser.add_argument("behave_args", nargs="*", help="passed on to behave (tags, paths)")
    args = parser.parse_args(argv)
    began = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUT.glob("worker-*")]:
        old.unlink()
    known = DURATIONS if DURATIONS.exists() else MEASURED
    durations = json.loads(known.read_text()) if known.exists() else {}
    shares = deal(dry_run(args.behave_args), args.jobs, durations)
    workers = [start_worker(index, share) for index, share in enumerate(shares, 1)]
    scenarios = sum(feature.scenarios for share in shares for feature in share)
    print(f"{scenarios} scenarios over {len(workers)} workers "
          f"(their output: {OUT}/worker-N.log)", flush=True)  # fmt: skip
    try:
        codes = [worker.wait() for worker in workers]
    except KeyboardInterrupt:
        for worker in workers:
            with contextlib.suppress(KeyboardInterrupt):
                worker.wait()  # each stops its own stack on the same Ctrl-C
        print("interrupted: every worker has stopped its stack", file=sys.stderr)
        return 130
    found = []
    for index, code in enumerate(codes, 1):
        mine = read_results(OUT / f"worker-{index}.json", OUT / f"worker-{index}.log")
        print(f"worker {index}: exit {code}, {len(mine)} scenarios, "
              f"{sum(r.status == 'failed' for r in mine)} failed, "
              f"{sum(r.seconds for r in mine):.0f} s of scenarios", flush=True)  # fmt: skip
        found += mine
    timed: dict[str, float] = {}
    for result in found:
        path = result.location.split(":")[0]
        timed[path] = round(timed.get(path, 0.0) + result.seconds, 2)
    DURATIONS.write_text(json.dumps(timed, indent=1))
    print(summary(found, time.monotonic() - began, len(workers)))
    ok = all(code == 0 for code in codes) and all(r.status != "failed" for r in found)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # before any worker started
        sys.exit(130)

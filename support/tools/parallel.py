"""`python -m support.tools.parallel --jobs N [behave args]`: the suite over N behave processes.

Each worker is an ordinary behave run over its share of the scenarios (given to it as
`features/x.feature:LINE` locations), with its own embedded stack, or the configured target,
which the workers share: scenarios are independent. The scenarios are dealt longest first to
the least loaded worker, by the durations of the last parallel run
(reports/parallel/durations.json; in a fresh checkout features/durations.json, measured and
committed; a scenario in neither weighs the mean of those that are).

behave reports a scenario outside a worker's locations as skipped; the workers run with
`--no-skipped`, so that the Allure formatter drops those and each scenario is reported once.
A scenario the arguments' tags leave out (`@load` by default) is counted as skipped in the
summary, from the plan. Every worker writes its Allure results into the one directory (its
files are uuid-named: the set is merged as it is written) and a behave JSON report; this
process prints one summary of all of them.

What a person reads is what a serial run prints: every worker also writes behave's pretty
output (reports/parallel/worker-N.pretty), and once they are done it is printed worker by
worker, before the one summary.

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
from dataclasses import dataclass, field, replace
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
# The scenarios mostly wait on the platform's real time, so two workers per core keep it busy
# (measured: docs/performance.md); more than 8 stacks at once only compete for memory and disk.
WORKERS_PER_CORE, MOST_WORKERS = 2, 8


def machine_jobs() -> int:
    return max(1, min(MOST_WORKERS, WORKERS_PER_CORE * (os.cpu_count() or 1)))


@dataclass(frozen=True)
class Planned:
    location: str  # features/x.feature:LINE, as behave's JSON report gives a scenario's


@dataclass
class Share:
    scenarios: list[Planned] = field(default_factory=list)
    load: float = 0.0


@dataclass(frozen=True)
class Plan:
    scenarios: list[Planned]
    left_out: int  # scenarios the arguments' tags leave out


def planned(report: list[dict[str, Any]]) -> Plan:
    """The scenarios of a behave --dry-run JSON report that would run, in order: those whose
    steps the dry run marked untested (a scenario the tags leave out is marked skipped, or,
    under a Rule, not at all)."""
    chosen, left_out = [], 0
    for feature in report:
        for element in feature.get("elements", []):
            if element.get("type") != "scenario":
                continue
            steps = element.get("steps", [])
            if any(step.get("result", {}).get("status") == "untested" for step in steps):
                chosen.append(Planned(element["location"]))
            else:
                left_out += 1
    return Plan(chosen, left_out)


def deal(scenarios: list[Planned], jobs: int, durations: dict[str, float]) -> list[list[Planned]]:
    """Longest first, each to the least loaded worker; a scenario never timed weighs the mean
    of those that were (1 s without any). Each share keeps the plan's order."""
    timed = [durations[s.location] for s in scenarios if s.location in durations]
    mean = sum(timed) / len(timed) if timed else 1.0

    def weight(scenario: Planned) -> float:
        return durations.get(scenario.location, mean)

    shares = [Share() for _ in range(max(1, min(jobs, len(scenarios))))]
    for scenario in sorted(scenarios, key=weight, reverse=True):
        lightest = min(shares, key=lambda share: share.load)
        lightest.scenarios.append(scenario)
        lightest.load += weight(scenario)
    order = {scenario.location: index for index, scenario in enumerate(scenarios)}
    return [sorted(share.scenarios, key=lambda s: order[s.location]) for share in shares]


def options(behave_args: list[str]) -> list[str]:
    """The arguments that are not paths (tags, userdata, -i's regex...), for workers given
    locations: behave's own parser says which arguments are paths."""
    kept = list(behave_args)
    for path in Configuration(list(behave_args)).paths:
        if path in kept:
            del kept[len(kept) - 1 - kept[::-1].index(path)]  # the last: a path is positional
    return kept


def read_results(report: Path, log: Path, share: list[Planned]) -> list[ScenarioResult]:
    """A worker's results for its share (behave reports the rest as skipped); a report it could
    not finish is one failure, and a scenario of its share it did not report is another, each
    pointing at its log."""
    try:
        reported = {r.location: r for r in results(json.loads(report.read_text()))}
    except (OSError, json.JSONDecodeError) as error:
        return [ScenarioResult(f"(worker report {report} unreadable: {error})", str(log),
                               "failed", 0.0, f"see {log}")]  # fmt: skip
    missing = ScenarioResult("(not reported by its worker)", "", "failed", 0.0, f"see {log}")
    return [reported.get(s.location, replace(missing, location=s.location)) for s in share]


def dry_run(behave_args: list[str]) -> Plan:
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


def start_worker(
    index: int, share: list[Planned], behave_args: list[str]
) -> subprocess.Popen[bytes]:
    log = (OUT / f"worker-{index}.log").open("wb")
    return subprocess.Popen(
        # The Allure formatter comes from the configuration ([tool.behave] in pyproject.toml).
        [sys.executable, "-m", "behave", "--no-skipped", *options(behave_args),
         "-f", "json", "-o", str(OUT / f"worker-{index}.json"),
         "-f", "pretty", "-o", str(OUT / f"worker-{index}.pretty"),
         *(scenario.location for scenario in share)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NOVA_WORKER": str(index)},
    )  # fmt: skip


def summary(found: list[ScenarioResult], seconds: float, jobs: int, left_out: int = 0) -> str:
    counts: dict[str, int] = {"skipped": left_out} if left_out else {}
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
    lines.append(f"\n{len(found) + left_out} scenarios over {jobs} workers: {tally}")
    lines.append(f"Took {seconds // 60:.0f}min {seconds % 60:.1f}s (wall, stack boots included)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tools.parallel", description=__doc__)
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help=f"worker processes (default: {WORKERS_PER_CORE} per core, at most "
                             f"{MOST_WORKERS}); every other argument is behave's")  # fmt: skip
    args, behave_args = parser.parse_known_args(argv)
    jobs = args.jobs or machine_jobs()
    chosen = "" if args.jobs else f", {WORKERS_PER_CORE} per core of this machine; JOBS=1 is serial"
    began = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUT.glob("worker-*")]:
        old.unlink()
    known = DURATIONS if DURATIONS.exists() else MEASURED
    durations = json.loads(known.read_text()) if known.exists() else {}
    plan = dry_run(behave_args)
    shares = deal(plan.scenarios, jobs, durations)
    workers = [start_worker(index, share, behave_args) for index, share in enumerate(shares, 1)]
    print(f"{len(plan.scenarios)} scenarios over {len(workers)} workers{chosen} "
          f"(their output: {OUT}/worker-N.log)", flush=True)  # fmt: skip
    try:
        codes = [worker.wait() for worker in workers]
    except KeyboardInterrupt:
        for worker in workers:
            with contextlib.suppress(KeyboardInterrupt):
                worker.wait()  # each stops its own stack on the same Ctrl-C
        print("interrupted: every worker has stopped its stack", file=sys.stderr)
        return 130
    for index in range(1, len(workers) + 1):
        print(f"\n---- worker {index} ----")
        with contextlib.suppress(OSError):
            print((OUT / f"worker-{index}.pretty").read_text(errors="replace"), end="")
    found = []
    for index, code in enumerate(codes, 1):
        mine = read_results(OUT / f"worker-{index}.json", OUT / f"worker-{index}.log",
                            shares[index - 1])  # fmt: skip
        print(f"worker {index}: exit {code}, {len(mine)} scenarios, "
              f"{sum(r.status == 'failed' for r in mine)} failed, "
              f"{sum(r.seconds for r in mine):.0f} s of scenarios", flush=True)  # fmt: skip
        found += mine
    # This run's times over the known ones: a run of a few scenarios keeps the others' times.
    timed = durations | {r.location: round(r.seconds, 2) for r in found if r.seconds}
    DURATIONS.write_text(json.dumps(timed, indent=1, sort_keys=True))
    print(summary(found, time.monotonic() - began, len(workers), plan.left_out))
    ok = all(code == 0 for code in codes) and all(r.status != "failed" for r in found)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # before any worker started
        sys.exit(130)

"""`python -m support.tools.mutants`: every Then, seen to fail when the platform breaks.

A mutant is one small change to the platform (the reference service, or the embedded stack's
nginx configuration) that breaks exactly the behaviour one Then names. The catalogue,
tests/mutants.toml, has one or more for every Then step definition in features/steps/
(tests/test_mutants.py fails when a Then has none, or when a mutant's text is no longer in its
file). This runs each mutant's scenario on a copy of the repository with the change made, each
on its own embedded stack, and reads behave's JSON report:

- killed: the scenario failed at the Then the mutant names: that Then can fail;
- survived: the scenario passed with the platform broken: the Then cannot see this fault;
- elsewhere: it failed, but at another step: the Then was never reached, so it proves nothing;
- unrun: behave did not report the scenario (a wrong location, a crash; see the log).

Results go to reports/mutants/ and, with --record, to a Markdown table (docs/mutants.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.report.behave_json import results
from support.report.proofs import Edit, Mutant, catalogue, recorded_row, table_head

OUT = Path("reports/mutants")
STEPS = Path("features/steps")
THEN = re.compile(r"""^@then\((['"])(.*)\1\)\s*$""")
DECORATOR = re.compile(r"^@(given|when|then|step)\(")


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    verdict: str  # killed, survived, elsewhere, unrun
    seconds: float
    detail: str  # the failing step and its message, or why there is none


def then_patterns(steps: Path = STEPS) -> dict[str, str]:
    """Every @then pattern of the step files, with its definition's "file:line" as behave
    reports a step's match: the line of the function's first decorator."""
    found: dict[str, str] = {}
    for path in sorted(steps.glob("*.py")):
        first, pending = 0, list[str]()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if DECORATOR.match(line):
                first = first or number
                if match := THEN.match(line):
                    pending.append(match.group(2))
            elif line.startswith("def "):
                found.update((pattern, f"{path}:{first}") for pattern in pending)
                first, pending = 0, []
            else:
                first, pending = 0, []
    return found


def mutate(text: str, edit: Edit) -> str:
    """The file's text with the edit made; its old text must stand there exactly once."""
    count = text.count(edit.old)
    if count != 1:
        raise ValueError(f"{edit.old[:60]!r} stands {count} times in {edit.file}, not once")
    return text.replace(edit.old, edit.new)


def judge(mutant: Mutant, report: list[dict[str, Any]], definition: str) -> tuple[str, str]:
    """The verdict on one mutant from behave's JSON report of its scenario: killed only when it
    failed at the Then the mutant names (definition: that step's "file:line")."""
    ran = [r for r in results(report) if r.status not in ("skipped", "untested")]
    if not ran:
        return "unrun", f"behave ran no scenario at {mutant.where}"
    failing = [r for r in ran if r.status != "passed"]
    if not failing:
        return "survived", f"{len(ran)} scenario(s) passed with the platform broken"
    hit = next((r for r in failing if r.failed_at == definition), None)
    if hit:
        return "killed", hit.failure
    first = failing[0]
    return "elsewhere", f"failed at {first.failed_at or 'no step'}: {first.failure}"


@dataclass
class Copy:
    """A copy of the repository in which one mutant at a time is made and unmade."""

    root: Path

    @classmethod
    def of(cls, repository: Path, into: Path) -> Copy:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=repository, check=True, capture_output=True,
        ).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, listed):
            source = repository / name
            if source.is_file():
                (into / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, into / name)
        if (repository / "node_modules").exists():  # the player page's hls.js
            (into / "node_modules").symlink_to((repository / "node_modules").resolve())
        return cls(into)

    def run(self, mutant: Mutant, definition: str, out: Path) -> Outcome:
        originals = {edit.file: (self.root / edit.file).read_text() for edit in mutant.edits}
        began = time.monotonic()
        report, log = out / f"{slug(mutant.name)}.json", out / f"{slug(mutant.name)}.log"
        report.unlink(missing_ok=True)
        try:
            for edit in mutant.edits:
                target = self.root / edit.file
                target.write_text(mutate(target.read_text(), edit))
            with log.open("wb") as sink:
                subprocess.run(
                    [sys.executable, "-m", "behave", "--no-summary", "-f", "json",
                     "-o", str(report.resolve()), *mutant.args, mutant.where],
                    check=False, cwd=self.root, stdout=sink, stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONPATH": str(self.root)},
                )  # fmt: skip
        except ValueError as error:
            return Outcome(mutant, "unrun", 0.0, f"the mutant no longer applies: {error}")
        finally:
            for name, text in originals.items():
                (self.root / name).write_text(text)
        seconds = time.monotonic() - began
        try:
            verdict, detail = judge(mutant, json.loads(report.read_text()), definition)
        except (OSError, json.JSONDecodeError) as error:
            verdict, detail = "unrun", f"no report ({error}); see {log}"
        return Outcome(mutant, verdict, seconds, detail)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def table(outcomes: list[Outcome]) -> str:
    ordered = sorted(outcomes, key=lambda o: (o.mutant.then, o.mutant.name))
    return "\n".join([*table_head(), *(recorded_row(o.mutant, o.verdict) for o in ordered)])


def shares(items: list[Mutant], jobs: int) -> Iterator[list[Mutant]]:
    for index in range(jobs):
        yield items[index::jobs]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m support.tools.mutants",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--only", default="", help="run the mutants whose Then or name holds this")
    parser.add_argument("--record", type=Path, help="write the results table into this file")
    args = parser.parse_args(argv)
    if args.record and args.only:
        raise SystemExit("--record takes the whole catalogue's results, not --only's")
    definitions = then_patterns()
    chosen = [m for m in catalogue() if args.only in m.then or args.only in m.name]
    unknown = [m.then for m in chosen if m.then not in definitions]
    if unknown:
        raise SystemExit(f"no @then step is defined as {unknown[0]!r}")
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    print(f"{len(chosen)} mutants over {args.jobs} copies of the repository", flush=True)

    def work(share: list[Mutant]) -> list[Outcome]:
        done = []
        with tempfile.TemporaryDirectory(prefix="nova-mutant-") as scratch:
            copy = Copy.of(Path.cwd(), Path(scratch))
            for mutant in share:
                outcome = copy.run(mutant, definitions[mutant.then], OUT)
                why = "" if outcome.verdict == "killed" else f"\n{' ' * 10}{outcome.detail[:300]}"
                print(f"{outcome.verdict:>9} {outcome.seconds:5.1f} s  {mutant.name}{why}",
                      flush=True)  # fmt: skip
                done.append(outcome)
        return done

    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = [o for done in pool.map(work, shares(chosen, args.jobs)) for o in done]
    killed = sum(o.verdict == "killed" for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} mutants killed at their Then "
          f"in {time.monotonic() - began:.0f} s")  # fmt: skip
    (OUT / "results.md").write_text(table(outcomes) + "\n")
    if args.record:
        when = time.strftime("%Y-%m-%d")
        record(args.record, table(outcomes), f"{killed} of {len(outcomes)} killed ({when}, "
               f"{time.monotonic() - began:.0f} s over {args.jobs} jobs).")  # fmt: skip
    return 0 if killed == len(outcomes) else 1


def record(path: Path, rows: str, tally: str) -> None:
    """Replace the table in path (below its marker line) with this run's."""
    marker = "<!-- results: written by python -m support.tools.mutants --record -->"
    head = path.read_text().split(marker)[0] if path.exists() else ""
    path.write_text(f"{head}{marker}\n\n{tally}\n\n{rows}\n")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)

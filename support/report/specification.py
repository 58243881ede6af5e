"""The living specification: one HTML page, readable without a server, that lists every
feature, rule and scenario in the feature files' own words with what the last run made of it.

For each scenario it shows the latest verdict (one per example row), the SHOULD rules the
platform broke there (the warnings the HLS checks attach, each with its RFC section), the rules
of the contract it covers (docs/contract/coverage.md), the mutants that prove its Thens can fail
(tests/mutants.toml, with the verdict docs/mutants.md last recorded), and what changed: its
verdict in the previous run of the same history, and whether it flakes across that history.

Sources, each read as it is: the feature files (behave's own parser), the generated Allure
report (`data/test-cases/*.json`: each result's status, message, attachments and the history
Allure keeps, whichever way the run was made: one behave or the parallel workers), the coverage
table and the mutant catalogue. A small Jinja2 template renders it (specification.html.j2).
Allure's own Behaviors view lists the same scenarios, but without the features' prose, the
steps, the contract or the mutants; the Cucumber HTML formatter needs Cucumber's message stream,
which behave does not write.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behave.parser import parse_file
from jinja2 import Environment, FileSystemLoader, select_autoescape

from support.core.contract import coverage
from support.report.proofs import catalogue, recorded

TEMPLATE = "specification.html.j2"
FAILING = frozenset({"failed", "broken"})
ORDER = ("passed", "skipped", "not run", "unknown", "broken", "failed")  # best first


def location_of(scenario: Any) -> str:
    """`features/x.feature:LINE` of a scenario (an outline's example: its row's line), relative
    to the working directory when the file is under it, else absolute."""
    path = Path.cwd() / scenario.location.filename  # behave gives it relative, or absolute
    path = Path(os.path.normpath(path))
    if path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())
    return f"{path.as_posix()}:{scenario.location.line}"


def anchor(location: str) -> str:
    """The page's id for a location: `features/x.feature:12` is `x-feature-12`."""
    return re.sub(r"[^a-z0-9]+", "-", location.rpartition("/")[2].lower()).strip("-")


@dataclass(frozen=True)
class Verdict:
    """One result of the run: a scenario, or one example row of an outline."""

    name: str
    status: str  # passed, failed, broken, skipped, unknown; "not run" when the run left it out
    message: str = ""  # why it failed or was skipped
    earlier: tuple[str, ...] = ()  # its statuses in the runs the history keeps, newest first
    warnings: tuple[str, ...] = ()  # broken SHOULD rules, one line each
    uid: str = ""  # the Allure test case, for a link into the report

    @property
    def previous(self) -> str | None:
        return self.earlier[0] if self.earlier else None

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.status

    @property
    def flaky(self) -> bool:
        """Passed and failed within the history kept (this run included)."""
        seen = {self.status, *self.earlier}
        return "passed" in seen and bool(seen & FAILING)


NOT_RUN = Verdict("", "not run")


@dataclass(frozen=True)
class Proof:
    """A mutant of the platform that one of the scenario's Thens must catch."""

    name: str
    then: str
    recorded: str  # its verdict in docs/mutants.md's last table, or "not recorded yet"


@dataclass
class Step:
    keyword: str
    text: str
    table: tuple[tuple[str, ...], ...] = ()  # headings first
    docstring: str = ""


@dataclass
class Example:
    cells: tuple[str, ...]
    location: str
    verdict: Verdict


@dataclass
class Scenario:
    keyword: str
    name: str
    location: str
    tags: tuple[str, ...]
    steps: list[Step]
    headings: tuple[str, ...] = ()
    examples: list[Example] = field(default_factory=list)
    verdict: Verdict = NOT_RUN  # a plain scenario's; an outline's are its examples'
    contract: list[str] = field(default_factory=list)
    proofs: list[Proof] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return anchor(self.location)

    @property
    def verdicts(self) -> list[Verdict]:
        return [example.verdict for example in self.examples] if self.examples else [self.verdict]

    @property
    def status(self) -> str:
        return overall(v.status for v in self.verdicts)

    @property
    def warnings(self) -> list[str]:
        return sorted({line for verdict in self.verdicts for line in verdict.warnings})


@dataclass
class Rule:
    name: str  # "" for the scenarios a feature has outside any Rule
    description: list[Block]
    background: list[Step]
    scenarios: list[Scenario]


@dataclass
class Feature:
    name: str
    location: str
    tags: tuple[str, ...]
    description: list[Block]
    background: list[Step]
    rules: list[Rule]

    @property
    def anchor(self) -> str:
        return anchor(self.location)

    @property
    def scenarios(self) -> list[Scenario]:
        return [scenario for rule in self.rules for scenario in rule.scenarios]

    @property
    def status(self) -> str:
        return overall(s.status for s in self.scenarios)

    def tally(self) -> dict[str, int]:
        """How many results (an outline's examples each) ended how."""
        return tally(v.status for s in self.scenarios for v in s.verdicts)


@dataclass(frozen=True)
class Block:
    """A piece of a description: a paragraph, or a list of points."""

    text: str = ""
    points: tuple[str, ...] = ()
    heading: bool = False  # a line of capitals, such as SPECIFICATION:


def overall(statuses: Iterable[str]) -> str:
    """The worst of several verdicts, in ORDER's reverse."""
    seen = set(statuses)
    return max(seen, key=ORDER.index) if seen else "not run"


def tally(statuses: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: ORDER.index(item[0])))


def prose(lines: Sequence[str]) -> list[Block]:
    """A Gherkin description as paragraphs and lists: a line starting "* " or "- " is a point
    (the lines after it carry it on), a line ending ":" closes its paragraph, and a line of
    capitals is a heading of its own."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    points: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(Block(text=" ".join(paragraph)))
        if points:
            blocks.append(Block(points=tuple(points)))
        paragraph.clear()
        points.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            close()
        elif line.isupper():
            close()
            blocks.append(Block(text=line, heading=True))
        elif line[:2] in ("* ", "- "):
            if paragraph:
                close()
            points.append(line[2:])
        elif points:
            points[-1] += " " + line
        else:
            paragraph.append(line)
            if line.endswith(":"):
                close()
    close()
    return blocks


def steps_of(steps: Iterable[Any]) -> list[Step]:
    found = []
    for step in steps:
        table: tuple[tuple[str, ...], ...] = ()
        if step.table is not None:
            table = (tuple(step.table.headings), *(tuple(row.cells) for row in step.table.rows))
        found.append(Step(step.keyword, step.name, table, step.text or ""))
    return found


# --- the run, as the generated Allure report holds it ----------------------------------------


def run_verdicts(report: Path) -> tuple[dict[str, Verdict], list[Verdict]]:
    """Each result of the report by its location label, and the results that have none (not a
    feature's scenario: chaos runs, or results written before the label existed)."""
    located: dict[str, tuple[int, Verdict]] = {}
    others = []
    for path in sorted((report / "data" / "test-cases").glob("*.json")):
        case = json.loads(path.read_text())
        history = case.get("extra", {}).get("history", {}).get("items", [])
        verdict = Verdict(
            case.get("name", "").split(" -- @")[0],
            case.get("status", "unknown"),
            first_line((case.get("statusDetails") or {}).get("message", "")),
            tuple(item["status"] for item in history),
            tuple(warnings_in(case.get("testStage", {}), report / "data" / "attachments")),
            case.get("uid", ""),
        )
        labels = {label["name"]: label["value"] for label in case.get("labels", [])}
        where = labels.get("location")
        if where is None:
            others.append(verdict)
            continue
        stop = case.get("time", {}).get("stop", 0)
        if where not in located or located[where][0] < stop:  # the last of retries
            located[where] = (stop, verdict)
    return {where: verdict for where, (_, verdict) in located.items()}, others


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def warnings_in(stage: Mapping[str, Any], attachments: Path) -> Iterable[str]:
    """The lines of the warnings attachments (support/report/warnings.py) in a result's steps."""
    for step in stage.get("steps", []):
        for attachment in step.get("attachments", []):
            if attachment.get("name", "").startswith("warnings:"):
                source = attachments / attachment["source"]
                if source.exists():
                    yield from source.read_text().splitlines()
        yield from warnings_in(step, attachments)


# --- the proofs: the contract's rules and the mutants ---------------------------------------


def scenario_at(features: list[Feature], where: str) -> Scenario | None:
    """The scenario a location falls in: its own line, an example row, or one of its steps."""
    path, _, line = where.rpartition(":")
    within = [s for f in features for s in f.scenarios if s.location.rpartition(":")[0] == path]
    before = [s for s in within if int(s.location.rpartition(":")[2]) <= int(line)]
    return max(before, key=lambda s: int(s.location.rpartition(":")[2]), default=None)


# --- the page ---------------------------------------------------------------------------------


@dataclass
class Specification:
    features: list[Feature]
    others: list[Verdict]  # results of the run that are no feature's scenario
    run: Mapping[str, Any]  # executor.json: which run this was

    def verdicts(self) -> list[tuple[str, Verdict]]:
        """Every result with the name a reader knows it by."""
        named = []
        for feature in self.features:
            for scenario in feature.scenarios:
                if scenario.examples:
                    for example in scenario.examples:
                        named.append((f"{feature.name}: {example.verdict.name or scenario.name}",
                                      example.verdict))  # fmt: skip
                else:
                    named.append((f"{feature.name}: {scenario.name}", scenario.verdict))
        return named + [(other.name, other) for other in self.others]

    def tally(self) -> dict[str, int]:
        return tally(verdict.status for _, verdict in self.verdicts())

    def changed(self) -> list[tuple[str, Verdict]]:
        return [(name, v) for name, v in self.verdicts() if v.changed]

    def flaky(self) -> list[tuple[str, Verdict]]:
        return [(name, v) for name, v in self.verdicts() if v.flaky]

    def runs_kept(self) -> int:
        return 1 + max((len(v.earlier) for _, v in self.verdicts()), default=0)

    def warning_count(self) -> int:
        return sum(len(s.warnings) for f in self.features for s in f.scenarios)


def build(feature_files: Iterable[Path], report: Path, run: Mapping[str, Any]) -> Specification:
    results, others = run_verdicts(report)
    features = [feature_of(parse_file(str(path)), results) for path in feature_files]
    covered: dict[str, list[str]] = {}
    for rule, references in coverage().items():
        for reference in references:
            covered.setdefault(reference, []).append(rule)
    for feature in features:
        for scenario in feature.scenarios:
            path = scenario.location.rpartition(":")[0]
            scenario.contract = sorted(covered.get(f"{path}: {scenario.name}", []))
    verdicts = recorded()
    for mutant in catalogue():
        found = scenario_at(features, mutant.where)
        if found is not None:
            verdict = verdicts.get(mutant.name, "not recorded yet")
            found.proofs.append(Proof(mutant.name, mutant.then, verdict))
    return Specification(features, others, run)


def feature_of(parsed: Any, results: Mapping[str, Verdict]) -> Feature:
    def scenario_of(parsed_scenario: Any) -> Scenario:
        outline = hasattr(parsed_scenario, "scenarios")
        scenario = Scenario(
            parsed_scenario.keyword,
            parsed_scenario.name,
            location_of(parsed_scenario),
            tuple(str(tag) for tag in parsed_scenario.tags),
            steps_of(parsed_scenario.steps),
        )
        if outline:
            scenario.headings = tuple(parsed_scenario.examples[0].table.headings)
            for example in parsed_scenario.scenarios:
                where = location_of(example)
                scenario.examples.append(
                    Example(tuple(example._row.cells), where, results.get(where, NOT_RUN))
                )
        else:
            scenario.verdict = results.get(scenario.location, NOT_RUN)
        return scenario

    rules = []
    if parsed.scenarios:
        rules.append(Rule("", [], [], [scenario_of(s) for s in parsed.scenarios]))
    for rule in getattr(parsed, "rules", ()):
        background = steps_of(rule.background.steps) if rule.background else []
        rules.append(Rule(rule.name, prose(rule.description), background,
                          [scenario_of(s) for s in rule.scenarios]))  # fmt: skip
    return Feature(
        parsed.name,
        location_of(parsed),
        tuple(str(tag) for tag in parsed.tags),
        prose(parsed.description),
        steps_of(parsed.background.steps) if parsed.background else [],
        rules,
    )


def render(specification: Specification) -> str:
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["anchor"] = anchor
    return environment.get_template(TEMPLATE).render(spec=specification)


def console(specification: Specification, page: Path) -> str:
    """What make report prints: where the page is, the tally, what changed and what flakes."""
    counts = ", ".join(f"{count} {status}" for status, count in specification.tally().items())
    lines = [f"living specification: {page} ({counts}; {specification.warning_count()} warnings)"]
    changed, flaky = specification.changed(), specification.flaky()
    if specification.runs_kept() == 1:
        lines.append("  no earlier run in this history: nothing to compare with yet")
    else:
        lines.append(f"  changed verdict since the previous run: {len(changed) or 'none'}")
        lines += [f"    {v.previous} -> {v.status}: {name}" for name, v in changed]
        lines.append(
            f"  flaky across the last {specification.runs_kept()} runs: {len(flaky) or 'none'}"
        )
        lines += [f"    {' '.join(reversed((v.status, *v.earlier)))}: {name}" for name, v in flaky]
    return "\n".join(lines)


def write(feature_dir: Path, report: Path) -> str:
    """Write report/specification.html from the generated report; what to print."""
    if not (report / "data" / "test-cases").is_dir():
        raise FileNotFoundError(
            f"no generated Allure report in {report}: run allure generate first"
        )
    executor = report / "widgets" / "executors.json"
    runs = json.loads(executor.read_text()) if executor.exists() else []
    specification = build(sorted(feature_dir.glob("*.feature")), report, runs[0] if runs else {})
    page = report / "specification.html"
    page.write_text(render(specification))
    return console(specification, page)

"""The living specification (support/report/specification.py): the feature files' own words
with the verdicts a generated Allure report holds, what changed since the previous run, the
warnings, the contract rules and the mutants; and the formatter's labels it matches them by."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from allure_commons.model2 import TestResult as AllureResult
from behave.parser import parse_file

from support.report.allure_formatter import enrich
from support.report.proofs import catalogue
from support.report.specification import (
    Block,
    anchor,
    build,
    console,
    location_of,
    prose,
    render,
    scenario_at,
    write,
)

FEATURE = """\
@epic:demo
Feature: Demo platform
  What the demo does.
  SPECIFICATION:
  * A stream waits for its broadcaster,
    and then goes live.
  * Viewers are counted.

  Scenario: Nobody watches
    Then the count is 0

  Rule: Streams go live
    Only with the right key.

    Scenario: Ada goes live
      Given Ada has a stream
      When she goes live
      Then her stream is live

    Scenario Outline: Ada is refused <attempt>
      When Ada goes live <attempt>
      Then she is refused

      Examples:
        | attempt       |
        | with no key   |
        | with a forged |
"""


def case(location: str | None, status: str, earlier: list[str], **extra: Any) -> dict[str, Any]:
    labels = [{"name": "location", "value": location}] if location else []
    return {
        "uid": f"uid-{location or extra.get('name')}",
        "name": extra.get("name", "a scenario"),
        "status": status,
        "statusDetails": {"message": extra.get("message", "")},
        "time": {"stop": extra.get("stop", 1)},
        "labels": labels,
        "extra": {"history": {"items": [{"status": s} for s in earlier]}},
        "testStage": extra.get("stage", {}),
    }


def report_with(tmp_path: Path, cases: list[dict[str, Any]]) -> Path:
    report = tmp_path / "report"
    (report / "data" / "test-cases").mkdir(parents=True)
    (report / "data" / "attachments").mkdir()
    for index, found in enumerate(cases):
        (report / "data" / "test-cases" / f"{index}.json").write_text(json.dumps(found))
    return report


def feature_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.feature"
    path.write_text(FEATURE)
    return path


def test_a_description_reads_as_paragraphs_and_points() -> None:
    lines = ["What it does,", "in two lines.", "SPECIFICATION:", "* one", "  carried on", "* two"]
    assert prose(lines) == [
        Block(text="What it does, in two lines."),
        Block(text="SPECIFICATION:", heading=True),
        Block(points=("one carried on", "two")),
    ]  # fmt: skip
    assert prose(["First.", "", "Second:", "Third."]) == [
        Block(text="First."), Block(text="Second:"), Block(text="Third.")
    ]  # fmt: skip


def test_each_scenario_and_example_gets_its_verdict_and_what_changed(tmp_path: Path) -> None:
    path = feature_file(tmp_path)
    where = f"{path.as_posix()}"
    warning = {"steps": [{"attachments": [{"name": "warnings: x broke 1", "source": "w.txt"}]}]}
    report = report_with(tmp_path, [
        case(f"{where}:15", "passed", ["failed", "passed"], stage=warning),
        case(f"{where}:15", "failed", [], stop=0),  # an earlier retry of the same scenario
        case(f"{where}:26", "failed", ["passed"], message="refused: no\nmore detail"),
        case(f"{where}:27", "passed", ["passed"]),
        case(None, "passed", ["broken"], name="chaos.seed-1"),
    ])  # fmt: skip
    (report / "data" / "attachments" / "w.txt").write_text("EXT-X-VERSION (SHOULD, RFC 8216 7)")
    spec = build([path], report, {"buildName": "local run 3"})

    [feature] = spec.features
    assert [rule.name for rule in feature.rules] == ["", "Streams go live"]
    nobody, live, refused = feature.scenarios
    assert live.verdict.status == "passed"
    assert live.verdict.previous == "failed"
    assert live.verdict.changed
    assert live.verdict.flaky
    assert live.warnings == ["EXT-X-VERSION (SHOULD, RFC 8216 7)"]
    assert [e.cells for e in refused.examples] == [("with no key",), ("with a forged",)]
    assert [e.verdict.status for e in refused.examples] == ["failed", "passed"]
    assert refused.examples[0].verdict.message == "refused: no"
    assert refused.status == "failed"
    assert feature.status == "failed"
    assert nobody.verdict.status == "not run"
    assert [o.name for o in spec.others] == ["chaos.seed-1"]
    assert spec.tally() == {"passed": 3, "not run": 1, "failed": 1}
    assert list(spec.tally()) == ["passed", "not run", "failed"]
    assert feature.tally() == {"passed": 2, "not run": 1, "failed": 1}

    changed = {name for name, _ in spec.changed()}
    assert changed == {
        "Demo platform: Ada goes live",
        "Demo platform: a scenario",  # the row that failed after passing
        "chaos.seed-1",
    }
    summary = console(spec, Path("spec.html"))
    assert "3 passed, 1 not run, 1 failed; 1 warnings" in summary
    assert "failed -> passed: Demo platform: Ada goes live" in summary
    assert "flaky across the last 3 runs: 3" in summary
    assert "passed failed passed: Demo platform: Ada goes live" in summary


def test_the_page_shows_the_words_the_verdicts_and_the_links(tmp_path: Path) -> None:
    path = feature_file(tmp_path)
    report = report_with(
        tmp_path, [case(f"{path.as_posix()}:15", "failed", ["passed"], message="boom")]
    )
    page = render(build([path], report, {"buildName": "acceptance #7", "buildUrl": "https://ci/7"}))
    assert f'id="{anchor(f"{path.as_posix()}:15")}"' in page
    assert 'href="index.html#testresult/uid-' in page
    assert "A stream waits for its broadcaster, and then goes live." in page
    assert "<b>Then</b> her stream is live" in page
    assert "was passed" in page
    assert "failed: boom" in page
    assert '<a href="https://ci/7">acceptance #7</a>' in page
    assert "<li>with no key" not in page  # rows are a table, not points


def test_a_first_run_says_there_is_nothing_to_compare_with(tmp_path: Path) -> None:
    path = feature_file(tmp_path)
    spec = build([path], report_with(tmp_path, []), {})
    assert "nothing to compare with yet" in console(spec, Path("x"))
    assert "first run in this history" in render(spec)


def test_the_real_features_contract_and_mutants_are_all_placed(tmp_path: Path) -> None:
    features = sorted(Path("features").glob("*.feature"))
    spec = build(features, report_with(tmp_path, []), {})
    scenarios = [s for f in spec.features for s in f.scenarios]
    assert sum(len(s.proofs) for s in scenarios) == len(catalogue())
    assert all(s.status == "not run" for s in scenarios)
    smoke = next(s for s in scenarios if s.name == "A stream needs a title")
    assert "POST /api/v1/streams 400" in smoke.contract
    outline = next(s for s in scenarios if s.name == "A visitor with <credentials> is refused")
    assert "GET /api/v1/streams 401" in outline.contract
    assert len(outline.examples) == 4


def test_a_mutant_on_a_step_line_belongs_to_the_scenario_around_it(tmp_path: Path) -> None:
    path = feature_file(tmp_path)
    spec = build([path], report_with(tmp_path, []), {})
    where = path.as_posix()
    assert scenario_at(spec.features, f"{where}:17").name == "Ada goes live"  # type: ignore[union-attr]
    assert scenario_at(spec.features, f"{where}:26").name == "Ada is refused <attempt>"  # type: ignore[union-attr]
    assert scenario_at(spec.features, f"{where}:10").name == "Nobody watches"  # type: ignore[union-attr]
    assert scenario_at(spec.features, f"{where}:2") is None


def test_write_needs_a_generated_report(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no generated Allure report"):
        write(Path("features"), tmp_path)


def test_results_name_their_scenario_and_link_to_it(tmp_path: Path) -> None:
    parsed = parse_file(str(feature_file(tmp_path)))
    row = parsed.rules[0].scenarios[1].scenarios[1]
    result = AllureResult()
    enrich(result, row, "docs/contract/README.md")
    labels = {label.name: label.value for label in result.labels}
    assert labels["location"] == location_of(row)
    assert location_of(row).endswith(":27")
    assert labels["story"] == "Streams go live"  # an outline's example, under its Rule
    assert labels["epic"] == "demo"
    assert result.links[-1].url == f"specification.html#{anchor(location_of(row))}"

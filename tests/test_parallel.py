"""The parallel runner's planning and its reading of the workers' reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.report.behave_json import ScenarioResult, results
from support.tools import parallel
from support.tools.parallel import Plan, Planned, deal, options, planned, read_results, summary


def feature(path: str, *statuses: str | None) -> dict[str, object]:
    """A feature of a dry run's JSON report: each scenario's steps marked with this status
    (None: no result at all, as behave leaves a Rule's scenario the tags exclude)."""
    elements: list[dict[str, object]] = [{"type": "background", "name": "b"}]
    for i, status in enumerate(statuses):
        result = {"result": {"status": status}} if status else {}
        elements.append({"type": "scenario", "name": f"s{i}", "status": None,
                         "location": f"{path}:{10 + i}",
                         "steps": [{"keyword": "Given", "name": "x", **result}]})  # fmt: skip
    return {"name": path, "location": f"{path}:2", "elements": elements}


def test_the_plan_holds_the_scenarios_to_run_and_counts_those_left_out() -> None:
    report = [feature("a.feature", "untested", None, "skipped", "untested"),
              feature("b.feature", "skipped")]  # fmt: skip
    assert planned(report) == Plan([Planned("a.feature:10"), Planned("a.feature:13")], 3)


def test_scenarios_go_longest_first_to_the_least_loaded_worker_in_plan_order() -> None:
    scenarios = [Planned("a"), Planned("b"), Planned("c"), Planned("d")]
    shares = deal(scenarios, 2, {"a": 40.0, "b": 30.0, "c": 20.0, "d": 10.0})
    assert [[s.location for s in share] for share in shares] == [["a", "d"], ["b", "c"]]
    shares = deal(scenarios, 2, {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0})
    assert [[s.location for s in share] for share in shares] == [["a", "d"], ["b", "c"]]


def test_a_scenario_never_timed_weighs_the_mean_of_the_others() -> None:
    scenarios = [Planned("timed"), Planned("new"), Planned("small")]
    shares = deal(scenarios, 2, {"timed": 8.0, "small": 2.0})  # new weighs 5
    assert [[s.location for s in share] for share in shares] == [["timed"], ["new", "small"]]


def test_no_more_workers_than_scenarios() -> None:
    assert len(deal([Planned("a:1")], 4, {})) == 1


def test_workers_are_given_the_options_but_not_the_paths() -> None:
    args = ["--tags=@load", "-D", "crowd=200", "features/x.feature", "features/y.feature:3",
            "features"]  # fmt: skip
    assert options(args) == ["--tags=@load", "-D", "crowd=200"]
    assert options(["-i", "security.feature", "--no-capture"]) == ["-i", "security.feature",
                                                                   "--no-capture"]  # fmt: skip


def test_a_scenario_its_worker_did_not_report_is_a_failure(tmp_path: Path) -> None:
    report = tmp_path / "worker-1.json"
    report.write_text(json.dumps([{"name": "F", "elements": [
        {"type": "scenario", "name": "S", "status": "passed", "location": "f.feature:5",
         "steps": []},
        {"type": "scenario", "name": "T", "status": "skipped", "location": "f.feature:9",
         "steps": []},
    ]}]))  # fmt: skip
    share = [Planned("f.feature:5"), Planned("f.feature:12")]
    found = read_results(report, tmp_path / "worker-1.log", share)
    assert [(r.location, r.status) for r in found] == [("f.feature:5", "passed"),
                                                      ("f.feature:12", "failed")]  # fmt: skip


def test_a_workers_report_gives_each_scenarios_status_time_and_failure() -> None:
    report = [{
        "name": "F", "location": "f.feature:1",
        "elements": [{
            "type": "scenario", "name": "S", "status": "failed", "location": "f.feature:5",
            "steps": [
                {"keyword": "Given", "name": "a", "result": {"status": "passed", "duration": 1.5}},
                {"keyword": "Then", "name": "b", "result": {
                    "status": "failed", "duration": 0.5, "error_message": ["no", " luck"]}},
            ],
        }],
    }]  # fmt: skip
    assert results(report) == [
        ScenarioResult("F: S", "f.feature:5", "failed", 2.0, "Then b: no luck")
    ]


def test_the_summary_names_each_failure_and_the_wall_time() -> None:
    found = [
        ScenarioResult("F: S", "f.feature:5", "failed", 2.0, "Then b: no luck"),
        ScenarioResult("F: T", "f.feature:9", "passed", 1.0),
    ]
    text = summary(found, 75.0, 2, left_out=1)
    assert "f.feature:5  F: S (failed)" in text
    assert "Then b: no luck" in text
    assert "3 scenarios over 2 workers: 1 failed, 1 passed, 1 skipped" in text
    assert "Took 1min 15.0s" in text


def test_a_scenario_the_report_left_without_status_takes_its_steps_status() -> None:
    def scenario(*statuses: str) -> dict[str, object]:
        steps = [{"keyword": "Given", "name": "x", "result": {"status": s, "duration": 0.1}}
                 for s in statuses]  # fmt: skip
        return {"type": "scenario", "name": "S", "status": None, "location": "f:1", "steps": steps}

    report = [{"name": "F", "elements": [scenario("passed", "passed"),
                                         scenario("passed", "failed", "skipped"),
                                         scenario("skipped")]}]  # fmt: skip
    assert [r.status for r in results(report)] == ["passed", "failed", "skipped"]


@pytest.mark.parametrize(("cores", "jobs"), [(1, 2), (2, 4), (3, 6), (16, 8), (None, 2)])
def test_the_machine_chooses_two_workers_per_core_and_at_most_eight(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, jobs: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert parallel.machine_jobs() == jobs

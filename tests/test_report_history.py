"""The report's memory across runs: history carried over, the executor named and numbered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.report.history import executor, prepare


def a_report(tmp_path: Path, orders: list[int]) -> Path:
    history = tmp_path / "report" / "history"
    history.mkdir(parents=True)
    trend = [{"buildOrder": o, "data": {"passed": 1}} for o in orders]
    (history / "history-trend.json").write_text(json.dumps(trend))
    (history / "history.json").write_text("{}")
    return tmp_path / "report"


def test_the_previous_reports_history_goes_into_the_results(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    said = prepare(results, a_report(tmp_path, [2, 1]), env={})
    assert (results / "history" / "history.json").exists()
    run = json.loads((results / "executor.json").read_text())
    assert (run["type"], run["buildOrder"]) == ("local", 3)
    assert "remembers 2 earlier run(s)" in said


def test_a_first_run_remembers_nothing_and_is_run_1(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    assert "remembers 0 earlier" in prepare(results, tmp_path / "no-report", env={})
    assert json.loads((results / "executor.json").read_text())["buildOrder"] == 1


def test_a_ci_run_is_named_with_its_number_and_page() -> None:
    env = {
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_NUMBER": "7",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "team/nova",
        "GITHUB_WORKFLOW": "acceptance",
        "GITHUB_REF_NAME": "main",
    }
    run = executor(env, [{"buildOrder": 6}])
    assert run["buildOrder"] == 7
    assert run["buildName"] == "acceptance #7"
    assert run["buildUrl"] == "https://github.example/team/nova/actions/runs/42"


def test_without_results_it_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run make accept first"):
        prepare(tmp_path / "none", tmp_path, env={})


def test_a_run_reported_twice_is_one_point_of_the_trend(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    report = a_report(tmp_path, [1])
    prepare(results, report, env={})
    a_report(tmp_path / "later", [2, 1])  # the report just generated from these results
    assert "reported again" in prepare(results, tmp_path / "later" / "report", env={})
    assert json.loads((results / "executor.json").read_text())["buildOrder"] == 2
    trend = json.loads((results / "history" / "history-trend.json").read_text())
    assert [run["buildOrder"] for run in trend] == [1]

"""The parallel runner's planning and its reading of the workers' reports."""

from __future__ import annotations

from support.parallel import Planned, deal, planned, summary
from support.report.behave_json import ScenarioResult, results


def feature(path: str, *statuses: str | None) -> dict[str, object]:
    elements: list[dict[str, object]] = [{"type": "background", "name": "b"}]
    elements += [{"type": "scenario", "name": f"s{i}", "status": status,
                  "location": f"{path}:{10 + i}"} for i, status in enumerate(statuses)]  # fmt: skip
    return {"name": path, "location": f"{path}:2", "elements": elements}


def test_the_plan_holds_the_features_with_scenarios_to_run() -> None:
    report = [feature("a.feature", "untested", None, "skipped"), feature("b.feature", "skipped")]
    assert planned(report) == [Planned("a.feature", 2)]


def test_features_go_longest_first_to_the_least_loaded_worker() -> None:
    features = [Planned("a", 1), Planned("b", 1), Planned("c", 1), Planned("d", 1)]
    shares = deal(features, 2, {"a": 40.0, "b": 30.0, "c": 20.0, "d": 10.0})
    assert [[f.path for f in share] for share in shares] == [["a", "d"], ["b", "c"]]


def test_a_feature_never_timed_weighs_its_scenarios_at_the_mean_of_the_others() -> None:
    features = [Planned("timed", 2), Planned("new", 10), Planned("small", 1)]
    shares = deal(features, 2, {"timed": 8.0, "small": 2.0})  # 10 s over 3 scenarios
    assert [[f.path for f in share] for share in shares] == [["new"], ["timed", "small"]]


def test_no_more_workers_than_features() -> None:
    assert len(deal([Planned("a", 3)], 4, {})) == 1


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
    text = summary(found, 75.0, 2)
    assert "f.feature:5  F: S (failed)" in text
    assert "Then b: no luck" in text
    assert "2 scenarios over 2 workers: 1 failed, 1 passed" in text
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

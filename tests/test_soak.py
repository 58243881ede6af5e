"""The soak run's tally: each scenario's outcomes across runs, failures first."""

from __future__ import annotations

from pathlib import Path

from support.tools.soak import outcomes, read_report, table, tally

REPORT = [
    {
        "name": "Faults",
        "elements": [
            {"type": "background", "name": "", "status": "passed"},
            {"type": "scenario", "name": "Redis restarts", "status": "passed"},
            {"type": "scenario", "name": "Kafka restarts", "status": "failed"},
        ],
    }
]


def test_a_report_gives_each_scenario_its_status() -> None:
    assert outcomes(REPORT) == {
        "Faults: Redis restarts": "passed",
        "Faults: Kafka restarts": "failed",
    }


def test_the_table_puts_the_flaky_scenarios_first() -> None:
    second = {"Faults: Redis restarts": "passed", "Faults: Kafka restarts": "passed"}
    counts = tally([outcomes(REPORT), second])
    lines = table(counts, 2).splitlines()
    assert lines[1].split() == ["1", "1", "0", "Faults:", "Kafka", "restarts"]
    assert lines[2].split() == ["2", "0", "0", "Faults:", "Redis", "restarts"]


def test_a_report_behave_could_not_finish_is_a_failed_run(tmp_path: Path) -> None:
    broken = tmp_path / "run-1.json"
    broken.write_text('[{"name": "Faults", "elements": [')
    ((name, status),) = read_report(broken).items()
    assert status == "failed"
    assert "could not be read" in name

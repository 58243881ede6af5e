"""The chaos checker on hand-made histories: a history the contract allows has no violation,
and each fault the checker guards against is named by its rule. The plan of faults is a pure
function of its seed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from support.chaos.checker import Observed, Violation, check
from support.chaos.history import FAILED, OK, UNKNOWN, Fault, History, Op
from support.chaos.nemesis import LONGEST, SERVERS, plan

T0 = 1_800_000_000.0
S = "stream-1"


def stamp(at: float) -> str:
    return (
        datetime.fromtimestamp(T0 + at, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def event(kind: str, at: float, n: int, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"e{n}", "event_type": kind, "stream_id": S, "timestamp": stamp(at),
            **fields}  # fmt: skip


def op(history: History, kind: str, at: float, took: float, outcome: str, **fields: Any) -> Op:
    done = Op(len(history.ops), fields.pop("actor", "a"), kind, fields.pop("stream", S), T0 + at,
              T0 + at + took, outcome, **fields)  # type: ignore[arg-type]  # fmt: skip
    history.ops.append(done)
    return done


def a_run() -> tuple[History, Observed]:
    """Published, Ben joins and leaves, Cy joins, the broadcaster stops, the platform ends it."""
    history = History(1, T0, ended=T0 + 60)
    op(history, "create", 0.0, 0.01, OK)
    op(history, "publish", 0.1, 0.05, OK)
    op(history, "join", 1.0, 0.01, OK, user="ben", actor="v1")
    op(history, "join", 1.5, 0.01, OK, user="cy", actor="v2")
    op(history, "leave", 2.0, 0.01, OK, user="ben", actor="v1")
    op(history, "stop", 5.0, 0.1, OK)
    op(history, "health", 20.0, 0.01, OK, stream=None, actor="checker")
    events = [
        event("stream.started", 0.12, 1),
        event("viewer.joined", 1.005, 2, user_id="ben", viewer_count=1),
        event("viewer.joined", 1.505, 3, user_id="cy", viewer_count=2),
        event("viewer.left", 2.005, 4, user_id="ben", viewer_count=1),
        event("stream.ended", 5.05, 5, peak_viewers=2),
    ]
    observed = Observed({S: events}, {S: {e["event_id"] for e in events}},
                        {S: {"peak_viewers": 2}})  # fmt: skip
    return history, observed


def rules(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def test_a_history_the_contract_allows_has_no_violation() -> None:
    assert check(*a_run()) == []


def test_a_join_that_timed_out_may_or_may_not_have_been_done() -> None:
    history, observed = a_run()
    history.ops[3].outcome = UNKNOWN  # Cy's join: no answer, and it was done
    assert check(history, observed) == []
    observed.events[S] = [e for e in observed.events[S] if e.get("user_id") != "cy"]
    for e in observed.events[S]:  # ...or it was not done
        if e["event_type"] == "viewer.left":
            e["viewer_count"] = 0
        if e["event_type"] == "stream.ended":
            e["peak_viewers"] = 1
    observed.rows[S]["peak_viewers"] = 1
    observed.analytics[S] = {e["event_id"] for e in observed.events[S]}
    assert check(history, observed) == []


def test_a_refused_join_that_appears_is_a_violation() -> None:
    history, observed = a_run()
    history.ops[3].outcome, history.ops[3].status = FAILED, 503
    history.faults.append(Fault("redis", "pause", T0 + 1.4, T0 + 1.6))
    assert rules(check(history, observed)) == ["joins and leaves, each once"]


def test_an_acknowledged_join_missing_from_kafka_is_a_violation() -> None:
    history, observed = a_run()
    del observed.events[S][2]  # Cy's viewer.joined
    found = check(history, observed)
    assert "joins and leaves, each once" in rules(found)
    assert any("op #3" in v.message for v in found), [v.describe() for v in found]


def test_an_event_twice_and_clickhouse_behind_are_violations() -> None:
    history, observed = a_run()
    observed.events[S].insert(2, dict(observed.events[S][1]))
    observed.analytics[S].discard("e5")
    found = rules(check(history, observed))
    assert "once in Kafka" in found
    assert "ClickHouse holds Kafka's events" in found


def test_counts_and_peaks_follow_the_events() -> None:
    history, observed = a_run()
    observed.events[S][2]["viewer_count"] = 3
    observed.rows[S]["peak_viewers"] = 3
    found = rules(check(history, observed))
    assert found.count("counts follow the events") == 1
    assert found.count("the peak follows the events") == 1


def test_a_500_is_a_violation_and_a_503_only_outside_an_outage() -> None:
    history, observed = a_run()
    op(history, "join", 3.0, 0.01, UNKNOWN, user="dan", actor="v3", status=500)
    op(history, "join", 4.0, 0.01, FAILED, user="eve", actor="v4", status=503)
    assert rules(check(history, observed)) == ["only 503", "503 only in an outage"]
    history.faults.append(Fault("postgres", "kill", T0 + 3.5, T0 + 3.9))
    assert rules(check(history, observed)) == ["only 503"]


def test_a_stream_left_live_and_a_broadcaster_dropped_are_violations() -> None:
    history, observed = a_run()
    observed.events[S].pop()  # never ended
    observed.rows[S]["peak_viewers"] = 2
    observed.analytics[S].discard("e5")
    assert rules(check(history, observed)) == ["no stream live without its publisher"]
    history, observed = a_run()
    op(history, "lost", 4.0, 0.0, OK)  # the ingest closed the broadcaster's connection
    assert rules(check(history, observed)) == ["no broadcaster dropped for the platform's outage"]
    history.faults.append(Fault("nginx", "restart", T0 + 3.8, T0 + 4.2))
    assert check(history, observed) == []


def test_an_end_delayed_by_an_outage_is_allowed_its_bound() -> None:
    history, observed = a_run()
    observed.events[S][-1]["timestamp"] = stamp(35.0)
    assert rules(check(history, observed)) == ["no stream live without its publisher"]
    # Down from 6 to 20 s: the end may come 10 s after its return, plus the 6 s of grace.
    history.faults.append(Fault("service", "kill", T0 + 6.0, T0 + 20.0))
    assert check(history, observed) == []
    observed.events[S][-1]["timestamp"] = stamp(38.0)
    assert rules(check(history, observed)) == ["no stream live without its publisher"]


def test_an_end_refused_while_redis_was_down_is_allowed_its_bound() -> None:
    history, observed = a_run()
    observed.events[S][-1]["timestamp"] = stamp(35.0)
    history.faults.append(Fault("redis", "kill", T0 + 4.5, T0 + 18.0))
    assert check(history, observed) == []
    history.faults.append(Fault("kafka", "kill", T0 + 4.5, T0 + 18.0))
    history.faults.remove(history.faults[-2])  # the broker's outage delays no end
    assert rules(check(history, observed)) == ["no stream live without its publisher"]


def test_a_start_by_a_refused_publish_is_a_violation() -> None:
    history, observed = a_run()
    history.ops[1].outcome = FAILED
    assert "no refused change appears" in rules(check(history, observed))


def test_no_health_after_the_last_fault_is_a_violation() -> None:
    history, observed = a_run()
    history.ops[-1].outcome = FAILED
    assert rules(check(history, observed)) == ["back after the last fault"]


def test_a_history_is_saved_and_read_back(tmp_path: Path) -> None:
    history, _ = a_run()
    history.faults.append(Fault("redis", "pause", T0 + 1.0, T0 + 2.0))
    history.save(tmp_path / "h.jsonl")
    assert History.load(tmp_path / "h.jsonl") == history


def test_the_plan_is_the_seeds_and_reaches_past_every_timer() -> None:
    assert plan(7, 600) == plan(7, 600)
    assert plan(7, 600) != plan(8, 600)
    faults = plan(7, 600)
    assert {s for f in faults for s in f.servers} == set(SERVERS)
    assert {f.action for f in faults} == {"kill", "pause", "restart"}
    lasting = [f.duration for f in faults if f.action != "restart"]
    assert min(lasting) < 1.0 < 6.0 < max(lasting) <= LONGEST
    assert any(len(f.servers) > 1 for f in faults)
    assert sum(f.after + f.duration for f in faults) <= 600


@pytest.mark.parametrize("seconds", [0.0, 0.9])
def test_a_run_too_short_for_a_fault_plans_none(seconds: float) -> None:
    assert plan(1, seconds) == []

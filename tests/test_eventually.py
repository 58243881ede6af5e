"""Polling to a deadline: returns what the check returned, or says everything it saw."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from support.core.contract import ContractViolation, check_response
from support.core.eventually import eventually
from support.harness import polling


def test_returns_as_soon_as_the_check_holds() -> None:
    attempts = itertools.count(1)

    def third_time_lucky() -> int:
        attempt = next(attempts)
        assert attempt >= 3, f"attempt {attempt}"
        return attempt

    assert eventually(third_time_lucky, within=2, every=0.01) == 3


def test_a_timeout_lists_each_distinct_failure_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOVA_TIMEOUT_FACTOR", "1")
    states = iter(["missing", "missing", "preparing"] + ["live"] * 1000)

    def ended() -> None:
        state = next(states)
        raise AssertionError(f"the stream is {state}")

    with pytest.raises(AssertionError) as late:
        eventually(ended, within=0.2, every=0.01, what="the stream's end")
    assert "the stream's end did not hold within 0.2 s" in str(late.value)
    assert "- the stream is missing\n  - the stream is preparing\n  - the stream is live" in str(
        late.value
    )


def test_the_timeout_factor_scales_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOVA_TIMEOUT_FACTOR", "3")

    def never() -> None:
        raise AssertionError("no")

    with pytest.raises(AssertionError, match=r"within 0\.3 s"):
        eventually(never, within=0.1, every=0.01)


def answered_wrong_then_right() -> tuple[list[int], Callable[[], None]]:
    """A stream answered with a status the contract does not know, then a good one."""
    answers = iter([{"status": "streaming"}, {"status": "live"}])
    polls: list[int] = []

    def live() -> None:
        polls.append(1)
        body = next(answers)
        if body["status"] != "live":
            check_response("GET", "/api/v1/streams/abc", 404, body)

    return polls, live


def test_a_failure_the_caller_calls_conclusive_ends_the_polling_at_once() -> None:
    polls, live = answered_wrong_then_right()
    with pytest.raises(ContractViolation, match="answered 404 against the contract"):
        eventually(live, within=5, every=0.01, conclusive=(ContractViolation,))
    assert len(polls) == 1, "the violation was retried"


def test_without_being_told_polling_retries_any_failure() -> None:
    polls, live = answered_wrong_then_right()
    eventually(live, within=5, every=0.01)
    assert len(polls) == 2


def test_the_harness_polls_with_a_contract_violation_conclusive() -> None:
    polls, live = answered_wrong_then_right()
    with pytest.raises(ContractViolation):
        polling.eventually(live, within=5, every=0.01)
    assert len(polls) == 1, "the violation was retried"

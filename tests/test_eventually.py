"""Polling to a deadline: returns what the check returned, or says everything it saw."""

from __future__ import annotations

import itertools

import pytest

from support.contract import ContractViolation, check_response
from support.eventually import eventually


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


def test_a_contract_violation_seen_while_polling_fails_at_once() -> None:
    """A stream answered with a status the contract does not know, then a good one."""
    answers = iter([{"status": "streaming"}, {"status": "live"}])
    polls = []

    def live() -> None:
        polls.append(1)
        body = next(answers)
        check_response("GET", "/api/v1/streams/abc", 404, body)
        assert body["status"] == "live"

    with pytest.raises(ContractViolation, match="answered 404 against the contract"):
        eventually(live, within=5, every=0.01)
    assert len(polls) == 1, "the violation was retried"

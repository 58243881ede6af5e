"""Polling to a deadline instead of sleeping: the suite's only way to wait for something.

On timeout the error lists every distinct failure seen while polling, in order, so a report says
"first the stream was missing, then it was preparing" rather than only the last word. The caller
says which failures are conclusive (an answer the contract forbids): those are raised at once,
since a later poll that happens to pass cannot undo them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timeout_factor() -> float:
    """NOVA_TIMEOUT_FACTOR scales every deadline of the suite (slow machines, remote targets)."""
    return float(os.environ.get("NOVA_TIMEOUT_FACTOR", "1"))


def scaled(seconds: float) -> float:
    return seconds * timeout_factor()


def eventually(
    check: Callable[[], T],
    *,
    within: float,
    every: float = 0.05,
    what: str = "",
    conclusive: tuple[type[AssertionError], ...] = (),
) -> T:
    """Call `check` until it returns without raising AssertionError; return what it returned.

    A failure of a `conclusive` type ends the polling at once.
    """
    deadline = time.monotonic() + scaled(within)
    seen: list[str] = []
    while True:
        try:
            return check()
        except conclusive:
            raise
        except AssertionError as failure:
            message = str(failure) or repr(failure)
            if not seen or seen[-1] != message:
                seen.append(message)
        if time.monotonic() >= deadline:
            history = "\n".join(f"  - {message}" for message in seen)
            subject = what or getattr(check, "__name__", "the check")
            raise AssertionError(
                f"{subject} did not hold within {scaled(within):.1f} s; "
                f"what was seen, in order:\n{history}"
            )
        time.sleep(every)


def throughout(
    check: Callable[[], None], *, until: float, every: float = 0.25, what: str = ""
) -> int:
    """Call `check` until the wall-clock instant `until` (time.time()), at least once; the first
    AssertionError fails at once. For "never": a thing that must not appear within a window.
    Returns how many times it held."""
    held = 0
    while True:
        try:
            check()
        except AssertionError as failure:
            subject = what or getattr(check, "__name__", "the check")
            raise AssertionError(
                f"{subject} stopped holding after {held} checks: {failure}"
            ) from None
        held += 1
        if time.time() >= until:
            return held
        time.sleep(min(every, max(0.0, until - time.time())))

"""The harness's polling: `eventually`, with an answer the contract forbids conclusive.

A scenario that sees the platform break its contract fails at that sight; a later poll that
happens to pass cannot undo it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from support.core import eventually as polling
from support.core.contract import ContractViolation

T = TypeVar("T")
CONCLUSIVE = (ContractViolation,)


def eventually(check: Callable[[], T], *, within: float, every: float = 0.05, what: str = "") -> T:
    """`support.core.eventually.eventually`, failing at once on a contract violation."""
    return polling.eventually(check, within=within, every=every, what=what, conclusive=CONCLUSIVE)

"""The run's closing summary tells the real wall time.

behave 1.3's summary reporter starts its clock when the first feature has finished, so a 50 s
run ends with "Took 0min 0.05s". The suite times the run itself, stack boot included.
"""

from __future__ import annotations

from collections.abc import Iterable

from behave.reporter.summary import AbstractSummaryReporter


def tell_wall_time(reporters: Iterable[object], seconds: float) -> None:
    for reporter in reporters:
        if isinstance(reporter, AbstractSummaryReporter):
            reporter.duration = seconds

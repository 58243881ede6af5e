"""behave's JSON report read once for every tool that needs it: each scenario's status, time
and failing step (the soak, the parallel runner, the wall-time benchmark)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    location: str
    status: str
    seconds: float
    failure: str = ""  # the failing step and its message
    failed_at: str = ""  # the failing step's definition, "features/steps/x.py:LINE"


def results(report: list[dict[str, Any]]) -> list[ScenarioResult]:
    found = []
    for feature in report:
        for element in feature.get("elements", []):
            if element.get("type") != "scenario":
                continue
            steps = element.get("steps", [])
            seconds = sum(step.get("result", {}).get("duration", 0.0) for step in steps)
            failed = next(
                (step for step in steps if step.get("result", {}).get("status") == "failed"), None
            )
            failure = (
                f"{failed['keyword']} {failed['name']}: "
                + "".join(failed["result"].get("error_message", "")).strip()
                if failed else ""
            )  # fmt: skip
            failed_at = failed.get("match", {}).get("location", "") if failed else ""
            found.append(
                ScenarioResult(
                    f"{feature['name']}: {element['name']}",
                    element.get("location", ""),
                    element.get("status") or status_of(steps),
                    seconds,
                    failure,
                    failed_at,
                )
            )
    return found


def status_of(steps: list[dict[str, Any]]) -> str:
    """A scenario's status from its steps, where behave's JSON report left it out (null)."""
    statuses = {step.get("result", {}).get("status", "untested") for step in steps}
    for status in ("failed", "error", "undefined"):
        if status in statuses:
            return "failed"
    return "passed" if statuses == {"passed"} else "skipped"

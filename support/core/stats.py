"""Latency figures the suite and the benchmarks report the same way."""

from __future__ import annotations

import math


def percentiles(values: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles, plus the maximum."""
    ordered = sorted(values)
    if not ordered:
        return {}
    result = {f"p{p}": ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in points}
    result["max"] = ordered[-1]
    return result

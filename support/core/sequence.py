"""A stream's events as scenarios tabulate them: (event, viewers, peak), a blank cell being a
field the event does not carry. One shape for what rooms tell viewers and what Kafka holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Told = tuple[str, int | None, int | None]


def expected_events(rows: Iterable[Mapping[str, str]]) -> list[Told]:
    """A table with columns event, viewers and peak."""

    def number(text: str) -> int | None:
        return int(text) if text.strip() else None

    return [(row["event"], number(row["viewers"]), number(row["peak"])) for row in rows]


def told(name: str | None, data: Mapping[str, Any]) -> Told:
    """One event, from its name and its fields (WebSocket data or a Kafka payload)."""
    return (str(name), data.get("viewer_count"), data.get("peak_viewers"))

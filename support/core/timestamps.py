"""RFC 3339 timestamps as the platform writes them ("2026-12-02T09:30:00.123Z")."""

from __future__ import annotations

from datetime import datetime


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime; "Z" is UTC (Python 3.11's fromisoformat takes it, 3.10's did not).
    ValueError if the text is not such a timestamp."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"an RFC 3339 timestamp names its offset; {text!r} does not")
    return moment

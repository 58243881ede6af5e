"""Where a secret turns up: the servers' logs, and what the platform gave out."""

from __future__ import annotations

from support.stack import EmbeddedStack


def lines_with(stack: EmbeddedStack, secret: str) -> list[str]:
    """Every log line of every server that holds `secret`, as "server: file: line"."""
    found = []
    for server, logs in stack.logs().items():
        for log in logs:
            if not log.exists():
                continue
            for line in log.read_text(errors="replace").splitlines():
                if secret in line:
                    found.append(f"{server}: {log.name}: {line[:200]}")
    return found


def places_holding(secret: str, places: dict[str, str]) -> list[str]:
    """The places (name: what it held) whose text holds `secret`, with a little context."""
    found = []
    for place, text in places.items():
        at = text.find(secret)
        if at >= 0:
            found.append(f"{place}: ...{text[max(0, at - 60) : at + len(secret) + 20]}...")
    return found

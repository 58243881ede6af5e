"""Where a secret turns up: the servers' logs, and what the platform gave out."""

from __future__ import annotations

from pathlib import Path


def lines_with(servers_logs: dict[str, list[Path]], secret: str) -> list[str]:
    """Every log line of every server that holds `secret`, as "server: file: line"."""
    found = []
    for server, logs in servers_logs.items():
        for log in logs:
            if not log.exists():
                continue
            for line in log.read_text(errors="replace").splitlines():
                if secret in line:
                    found.append(f"{server}: {log.name}: {line[:200]}")
    return found


def ingest_logged_session(servers_logs: dict[str, list[Path]], stream_id: str) -> bool:
    """nginx-rtmp has written the access-log line of a publisher's session to this stream
    (it does when the session closes): until then, its logs are not complete."""
    return any(
        "PUBLISH" in line.upper() and stream_id in line
        for log in servers_logs.get("nginx", [])
        if log.name == "rtmp_access.log" and log.exists()
        for line in log.read_text(errors="replace").splitlines()
    )


def places_holding(secret: str, places: dict[str, str]) -> list[str]:
    """The places (name: what it held) whose text holds `secret`, with a little context."""
    found = []
    for place, text in places.items():
        at = text.find(secret)
        if at >= 0:
            found.append(f"{place}: ...{text[max(0, at - 60) : at + len(secret) + 20]}...")
    return found

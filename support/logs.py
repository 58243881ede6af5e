"""What the servers of the embedded stack wrote to their logs, searched for a secret."""

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

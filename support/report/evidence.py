"""What a failed scenario leaves behind, so it can be understood without running it again: the
servers' logs for the scenario's time window, what every client saw, what the stores hold."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from support.harness.world import World
from support.stack import EmbeddedStack

LOG_LIMIT = 200_000  # bytes of each log, from the end of the window


def log_marks(stack: EmbeddedStack | None) -> dict[Path, int]:
    """How long every server log is now: the start of the scenario's window."""
    if stack is None:
        return {}
    return {
        log: log.stat().st_size if log.exists() else 0
        for logs in stack.logs().values()
        for log in logs
    }


def logs_since(stack: EmbeddedStack, marks: dict[Path, int]) -> Iterator[tuple[str, str]]:
    for server, logs in stack.logs().items():
        for log in logs:
            if not log.exists():
                continue
            with log.open("rb") as file:
                file.seek(max(marks.get(log, 0), log.stat().st_size - LOG_LIMIT))
                text = file.read().decode(errors="replace")
            if text:
                yield f"{server}: {log.name} (this scenario)", text


def evidence(world: World) -> Iterator[tuple[str, str]]:
    for name, viewer in [*world.viewers.items(), *((v.name, v) for v in world.crowd[:3])]:
        yield f"{name}'s WebSocket transcript", viewer.describe()
    for name, reply in world.replies.items():
        yield f"last answer to {name}", reply.describe()
    for name, report in world.watching.reports.items():
        yield f"what {name} downloaded over HLS", report.describe()
    for name, playback in world.watching.playbacks.items():
        yield f"{name}'s browser", json.dumps(playback.samples[-5:], indent=1, default=str)
    stream_ids = {s.stream_id for s in world.streams.values()} | world.phantom_stream_ids
    if stream_ids:
        yield "what the stores hold", stores(world, stream_ids)
    if world.run.stack is not None:
        yield from logs_since(world.run.stack, world.marks.logs)


def stores(world: World, stream_ids: set[str]) -> str:
    lines = []
    for stream_id in sorted(stream_ids):
        lines.append(f"stream {stream_id}")
        lines.append(f"  PostgreSQL: {guarded(world.run.postgres.stream, stream_id)}")
        lines.append(f"  ClickHouse: {guarded(world.run.clickhouse.stream, stream_id)}")
    lines.append("Kafka events of these streams since the scenario began:")
    events = guarded(world.run.kafka.events_since, world.marks.kafka, stream_ids)
    if isinstance(events, list):
        lines += [f"  {e.partition}/{e.offset} {json.dumps(e.payload)}" for e in events]
    else:
        lines.append(f"  {events}")
    return "\n".join(lines)


def guarded(read: Callable[..., object], *args: object) -> object:
    """What a store says, or why it could not be read: evidence never hides the real failure."""
    try:
        return read(*args)
    except Exception as error:
        return f"could not read: {error!r}"

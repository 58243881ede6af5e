"""A WebSocket viewer of a stream's room: every frame kept with its receive time, each checked
against the contract, and a closed or refused connection reported as a value."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import aiohttp

from support.core.contract import event_problems
from support.core.sequence import Told, told
from support.core.timestamps import parse_rfc3339
from support.hls.latency import Delay, Delays

CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Frame:
    received_at: float  # time.time(), to compare with event timestamps
    text: str
    event: str | None
    data: dict[str, Any]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Watching:
    """The room accepted the viewer."""


@dataclass(frozen=True)
class RoomRefused:
    """The platform answered the upgrade with an HTTP error status."""

    status: int
    body: str


@dataclass(frozen=True)
class RoomUnreachable:
    """No answer to the upgrade: the connection failed or timed out."""

    reason: str


CLOSE_NORMAL = 1000  # RFC 6455 7.4.1
RoomOutcome = Watching | RoomRefused | RoomUnreachable


@dataclass
class Viewer:
    name: str
    url: str
    transcript: list[Frame] = field(default_factory=list)
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _socket: aiohttp.ClientWebSocketResponse | None = None
    _reader: asyncio.Task[None] | None = None

    async def connect(self, session: aiohttp.ClientSession) -> RoomOutcome:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                self._socket = await session.ws_connect(self.url, autoping=True)
        except aiohttp.WSServerHandshakeError as refused:
            self.closed.set()
            return RoomRefused(refused.status, refused.message)
        except (aiohttp.ClientError, TimeoutError) as error:
            self.closed.set()
            return RoomUnreachable(f"no answer from {self.url}: {error!r}")
        self._reader = asyncio.create_task(self._read(self._socket), name=f"viewer-{self.name}")
        return Watching()

    async def reconnect(self, session: aiohttp.ClientSession) -> RoomOutcome:
        """What a page does when the platform went away: open the room again, transcript kept."""
        if not self.closed.is_set():
            return Watching()
        self.closed.clear()
        return await self.connect(session)

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.transcript.append(parse_frame(message.data))
        finally:
            self.close_code = socket.close_code
            self.closed.set()

    def events(self, name: str | None = None) -> list[Frame]:
        return [frame for frame in self.transcript if name is None or frame.event == name]

    def heard(self, stream_id: str, name: str | None = None) -> list[Frame]:
        """The frames this viewer was told about one stream (of one kind, if `name`)."""
        return [f for f in self.events(name) if f.data.get("stream_id") == stream_id]

    def told_about(self, stream_id: str) -> list[Told]:
        """What this viewer was told about one stream, as scenarios tabulate it."""
        return [told(f.event, f.data) for f in self.heard(stream_id)]

    def describe(self) -> str:
        lines = [
            f"{self.name} at {self.url} (closed: {self.closed.is_set()}, code {self.close_code})"
        ]
        lines += [f"  {frame.received_at:.3f} {frame.text}" for frame in self.transcript]
        return "\n".join(lines)

    async def close(self) -> None:
        """Close the page: a close frame, then the platform's answering one (RFC 6455 5.5.1);
        `close_code` is then the code the platform answered, 1006 if it never did."""
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            self.close_code = self._socket.close_code
        self.closed.set()


def parse_frame(text: str) -> Frame:
    received = time.time()
    event, data, problems = interpret(text)
    return Frame(received, text, event, data, problems)


@lru_cache(maxsize=1024)
def interpret(text: str) -> tuple[str | None, dict[str, Any], tuple[str, ...]]:
    """Event, data and contract problems of a frame's text; a room sends every viewer the same
    text, so a crowd checks each event once."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        return None, {}, (f"not JSON: {error}",)
    if not isinstance(message, dict):
        return None, {}, ("not a JSON object",)
    data = message.get("data")
    event = message.get("event")
    return (
        event if isinstance(event, str) else None,
        data if isinstance(data, dict) else {},
        tuple(event_problems("ws", message)),
    )


async def open_pages(
    session: aiohttp.ClientSession, url: str, names: list[str], at_once: int = 200
) -> tuple[list[Viewer], list[str]]:
    """Open many viewers' pages, `at_once` connecting at a time; the viewers and any refusals."""
    viewers = [Viewer(name, url) for name in names]
    gate = asyncio.Semaphore(at_once)

    async def open_one(viewer: Viewer) -> RoomOutcome:
        async with gate:
            return await viewer.connect(session)

    outcomes = await asyncio.gather(*(open_one(viewer) for viewer in viewers))
    # A crowd is a great many long-lived objects; left to the collector, each full collection
    # walks them all and stalls the loop for hundreds of milliseconds while events arrive.
    # close_pages() hands them back.
    gc.collect()
    gc.freeze()
    refusals = [
        f"{v.name}: {o}"
        for v, o in zip(viewers, outcomes, strict=True)
        if not isinstance(o, Watching)
    ]
    return viewers, refusals


async def close_pages(viewers: list[Viewer]) -> None:
    for viewer in viewers:
        await viewer.close()
    gc.unfreeze()


def delivery_seconds(frame: Frame) -> float | None:
    """From the event's own timestamp to its arrival (same clock on the embedded stack)."""
    stamp = frame.data.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        happened = parse_rfc3339(stamp).timestamp()
    except ValueError:
        return None
    return frame.received_at - happened


def room_delays(frames: list[Frame]) -> Delays:
    """How long after the instant each event describes a viewer's page received it."""
    seen = [Delay(f.received_at, d) for f in frames if (d := delivery_seconds(f)) is not None]
    return Delays("sent to told (room event)", seen, [] if seen else ["no timed event arrived"])

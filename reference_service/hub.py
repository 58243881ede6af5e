"""The WebSocket hub: one room per stream, each room's events sent in order to all its viewers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

from reference_service.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass
class Room:
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    queue: asyncio.Queue[tuple[str, float]] = field(default_factory=asyncio.Queue)
    sender: asyncio.Task[None] | None = None


class Hub:
    def __init__(self, metrics: Metrics, send_timeout: float = 5.0) -> None:
        self.metrics = metrics
        self.send_timeout = send_timeout
        self.rooms: dict[uuid.UUID, Room] = {}

    def enter(self, stream_id: uuid.UUID, socket: web.WebSocketResponse) -> None:
        room = self.rooms.get(stream_id)
        if room is None:
            room = self.rooms[stream_id] = Room()
            room.sender = asyncio.create_task(self._send_forever(room), name=f"room-{stream_id}")
        room.sockets.add(socket)
        self.metrics.websocket_connections.inc()

    def exit(self, stream_id: uuid.UUID, socket: web.WebSocketResponse) -> None:
        room = self.rooms.get(stream_id)
        if room is None or socket not in room.sockets:
            return
        room.sockets.discard(socket)
        self.metrics.websocket_connections.dec()
        if not room.sockets and room.queue.empty() and room.sender:
            room.sender.cancel()
            del self.rooms[stream_id]

    def broadcast(
        self, stream_id: uuid.UUID, name: str, data: dict[str, Any], since: float
    ) -> None:
        """Queue an event for the room; `since` is when it happened (time.perf_counter)."""
        room = self.rooms.get(stream_id)
        if room is None:
            return
        room.queue.put_nowait((json.dumps({"event": name, "data": data}), since))

    async def _send_forever(self, room: Room) -> None:
        while True:
            payload, since = await room.queue.get()
            sockets = list(room.sockets)
            await asyncio.gather(*(self._send(socket, payload) for socket in sockets))
            if sockets:
                self.metrics.fanout_latency.observe(time.perf_counter() - since)

    async def _send(self, socket: web.WebSocketResponse, payload: str) -> None:
        try:
            await asyncio.wait_for(socket.send_str(payload), self.send_timeout)
        except (ConnectionError, TimeoutError, RuntimeError) as error:
            self.metrics.broadcast_errors.inc()
            log.warning("could not send to a viewer: %r", error)

    async def close(self) -> None:
        """Say goodbye to every viewer (1001 going away) and stop the rooms."""
        for room in list(self.rooms.values()):
            if room.sender:
                room.sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await room.sender
            for socket in list(room.sockets):
                await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self.rooms.clear()

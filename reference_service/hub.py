"""The WebSocket hub: one room per stream, each room's events sent in order to all its viewers.

An event is encoded into one WebSocket frame once and written to every viewer's transport, as
python-websockets' broadcast() does: no coroutine and no copy per viewer, so a room of ten
thousand costs one loop over transports. A viewer too slow to drain its buffer is disconnected
rather than allowed to hold everyone back.
"""

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

TEXT_FRAME = 0x81  # FIN + opcode 1
MAX_BUFFERED = 1024 * 1024  # per viewer, before it counts as too slow


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented RFC 6455 text frame, as a server sends."""
    size = len(payload)
    if size < 126:
        header = bytes([TEXT_FRAME, size])
    elif size < 1 << 16:
        header = bytes([TEXT_FRAME, 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([TEXT_FRAME, 127]) + size.to_bytes(8, "big")
    return header + payload


@dataclass
class Room:
    viewers: dict[web.WebSocketResponse, asyncio.Transport] = field(default_factory=dict)
    queue: asyncio.Queue[tuple[bytes, float]] = field(default_factory=asyncio.Queue)
    sender: asyncio.Task[None] | None = None


class Hub:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.rooms: dict[uuid.UUID, Room] = {}

    def enter(
        self, stream_id: uuid.UUID, socket: web.WebSocketResponse, transport: asyncio.Transport
    ) -> None:
        room = self.rooms.get(stream_id)
        if room is None:
            room = self.rooms[stream_id] = Room()
            room.sender = asyncio.create_task(self._send_forever(room), name=f"room-{stream_id}")
        room.viewers[socket] = transport
        self.metrics.websocket_connections.inc()

    def exit(self, stream_id: uuid.UUID, socket: web.WebSocketResponse) -> None:
        room = self.rooms.get(stream_id)
        if room is None or room.viewers.pop(socket, None) is None:
            return
        self.metrics.websocket_connections.dec()
        if not room.viewers:  # what is still queued was for nobody
            if room.sender:
                room.sender.cancel()
            del self.rooms[stream_id]

    def broadcast(
        self, stream_id: uuid.UUID, name: str, data: dict[str, Any], since: float
    ) -> None:
        """Queue an event for the room; `since` is when it happened (time.perf_counter)."""
        room = self.rooms.get(stream_id)
        if room is None:
            return
        payload = json.dumps({"event": name, "data": data}).encode()
        room.queue.put_nowait((text_frame(payload), since))

    async def _send_forever(self, room: Room) -> None:
        while True:
            frame, since = await room.queue.get()
            for transport in list(room.viewers.values()):
                if transport.is_closing():
                    continue  # the socket's own handler removes it
                if transport.get_write_buffer_size() > MAX_BUFFERED:
                    self.metrics.broadcast_errors.inc()
                    log.warning(
                        "a viewer is too slow (%d bytes waiting); disconnecting it",
                        transport.get_write_buffer_size(),
                    )
                    transport.abort()
                    continue
                transport.write(frame)
            if room.viewers:
                self.metrics.fanout_latency.observe(time.perf_counter() - since)
            # Let the loop flush the transports before the next frame: a burst of queued events
            # written back to back would fill even a reading viewer's buffer past the bound.
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Say goodbye to every viewer (1001 going away) and stop the rooms."""
        for room in list(self.rooms.values()):
            if room.sender:
                room.sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await room.sender
            for socket in list(room.viewers):
                await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self.rooms.clear()

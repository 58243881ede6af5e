"""The room's fan-out over real loopback sockets: a viewer that never reads is disconnected and
counted once its buffer passes the bound, and the viewer beside it is told everything."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid

from aiohttp import web

from reference_service.hub import MAX_BUFFERED, Hub, text_frame
from reference_service.metrics import Metrics

EVENTS = 200
PADDING = "x" * 10_000  # 200 events of 10 KB: about twice the bound


async def fan_out() -> tuple[float | None, bool, int, int]:
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[asyncio.Transport] = asyncio.Queue()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            # A small kernel buffer, so the transport's own buffer is what fills up.
            transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            arrived.put_nowait(transport)

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.setblocking(False)
    await loop.sock_connect(silent, ("127.0.0.1", port))
    silent_side = await arrived.get()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    reading_side = await arrived.get()

    metrics = Metrics()
    hub, stream_id = Hub(metrics), uuid.uuid4()
    pages = [web.WebSocketResponse(), web.WebSocketResponse()]
    hub.enter(stream_id, pages[0], silent_side)
    hub.enter(stream_id, pages[1], reading_side)
    data = {"stream_id": str(stream_id), "padding": PADDING}
    for _ in range(EVENTS):
        hub.broadcast(stream_id, "viewer_count_changed", data, time.perf_counter())
    frame = text_frame(json.dumps({"event": "viewer_count_changed", "data": data}).encode())
    received = await asyncio.wait_for(reader.readexactly(len(frame) * EVENTS), timeout=20)
    errors = metrics.registry.get_sample_value("nova_streaming_broadcast_errors_total")
    aborted = silent_side.is_closing()
    writer.close()
    silent.close()
    server.close()
    for page in pages:
        hub.exit(stream_id, page)
    return errors, aborted, received.count(frame), len(frame) * EVENTS


def test_a_viewer_that_never_reads_is_disconnected_and_counted_and_the_others_are_told() -> None:
    errors, aborted, told, sent = asyncio.run(fan_out())
    assert sent > MAX_BUFFERED + 64 * 1024  # past the bound, whatever the kernel buffers hold
    assert aborted, "the viewer that never reads is still connected"
    assert errors == 1.0, f"nova_streaming_broadcast_errors counted {errors}"
    assert told == EVENTS, f"the reading viewer was told {told} of {EVENTS} events"


async def left_with_events_queued() -> tuple[int, bool]:
    """A viewer leaves while events are still queued for its room, before the sender ran."""
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[asyncio.Transport] = asyncio.Queue()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            arrived.put_nowait(transport)

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    _, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    hub, stream_id, page = Hub(Metrics()), uuid.uuid4(), web.WebSocketResponse()
    hub.enter(stream_id, page, await arrived.get())
    room = hub.rooms[stream_id]
    hub.broadcast(stream_id, "viewer_count_changed", {"stream_id": str(stream_id)}, 0.0)
    hub.exit(stream_id, page)
    await asyncio.sleep(0.05)
    writer.close()
    server.close()
    return len(hub.rooms), room.sender is not None and room.sender.done()


def test_a_room_is_removed_when_its_last_viewer_leaves_even_with_events_queued() -> None:
    """Events queued for a room nobody is in are for nobody: the room and its sender go, or
    memory grows with every stream ever watched."""
    rooms, stopped = asyncio.run(left_with_events_queued())
    assert rooms == 0, "the room outlived its last viewer"
    assert stopped, "the room's sender still runs"

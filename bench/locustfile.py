"""Locust viewers: each user opens one stream's page and listens, as the suite's viewers do.

Run by bench/crowd.py (`make load`), which makes the stream live, starts a Locust master and its
workers (here, or on other machines: docs/running.md), waits for every page to be open, makes
the events, and reads the merged figures. Configured by environment variables:

    NOVA_ROOM_URL      the room's ws:// URL (the stream is live before the first user starts)
    NOVA_EXPECTED      the events every viewer must be told, comma-separated, in order

Each frame is checked against the contract (support.clients.viewer.interpret). Locust merges, across
its workers, two kinds of request entry: "deliver <event>" (response time = from the event's
timestamp to its arrival, in ms) and "transcript" (one per viewer once the last expected event
came: a failure names what was missing, doubled, out of order or against the contract).
"""

from __future__ import annotations

import os
import time
from typing import Any

import gevent
import websocket
from locust import User, between, events, task

from support.clients.viewer import delivery_seconds, parse_frame
from support.tools.crowd import transcript_problems

ROOM_URL = os.environ.get("NOVA_ROOM_URL", "")
EXPECTED = [name for name in os.environ.get("NOVA_EXPECTED", "").split(",") if name]


class Viewer(User):
    """One open page: connects once, then listens until the expected events are all in."""

    wait_time = between(3600, 3600)  # a viewer does one thing: listen

    def on_start(self) -> None:
        self.heard: list[str] = []
        self.problems: list[str] = []
        self.socket: websocket.WebSocket | None = None
        began = time.perf_counter()
        try:
            self.socket = websocket.create_connection(ROOM_URL, timeout=30, enable_multithread=True)
        except (OSError, websocket.WebSocketException) as error:
            self.fire("connect", began, error)
            raise
        self.fire("connect", began, None)
        self.listener = gevent.spawn(self.listen)

    def fire(self, name: str, began: float, error: BaseException | None, ms: float = 0.0) -> None:
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type="WS",
            name=name,
            response_time=ms or (time.perf_counter() - began) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def listen(self) -> None:
        socket = self.socket
        while socket is not None and len(self.heard) < len(EXPECTED):
            try:
                text = socket.recv()
            except (OSError, websocket.WebSocketException) as error:
                self.problems.append(f"the page closed after {self.heard}: {error!r}")
                break
            if not isinstance(text, str) or not text:
                continue
            frame = parse_frame(text)
            self.problems += list(frame.problems)
            self.heard.append(str(frame.event))
            delay = delivery_seconds(frame)
            if delay is not None:
                self.fire(f"deliver {frame.event}", 0.0, None, ms=max(delay * 1000, 0.001))
        problems = self.problems + transcript_problems(self.heard, EXPECTED)
        self.fire("transcript", 0.0, AssertionError("; ".join(problems)) if problems else None,
                  ms=0.001)  # fmt: skip

    @task
    def listen_on(self) -> None:
        self.listener.join()

    def on_stop(self) -> None:
        if self.socket is not None:
            self.socket.close()


def on_init(environment: Any, **_: Any) -> None:
    if not ROOM_URL or not EXPECTED:
        raise SystemExit("set NOVA_ROOM_URL and NOVA_EXPECTED (bench/crowd.py does)")


events.init.add_listener(on_init)  # type: ignore[no-untyped-call]

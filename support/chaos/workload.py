"""The workload of a chaos run: real broadcasters and viewers, each operation recorded.

Broadcasters create a stream, publish the media fixture to it over RTMP, stay live for a while
and stop (an encoder's Stop, or a dropped connection); viewers join and leave the live streams
and open their pages (WebSocket rooms). Every actor draws its choices from its own generator,
seeded from the run's seed, and does one thing at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import aiohttp

from support.chaos.history import FAILED, OK, UNKNOWN, History, Op, Outcome
from support.clients.api import ApiClient, ApiUnreachable, Reply, room_url
from support.clients.broadcaster import Broadcast, publish_url
from support.clients.viewer import RoomRefused, Viewer, Watching
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.rtmp.session import Published, Refused, Unreachable

LIVE_FOR = (6.0, 25.0)  # seconds a broadcast lasts
WATCH_FOR = (0.3, 3.0)  # seconds a viewer stays
PUBLISH_TRIES = 3
ANSWER_WITHIN = 8.0  # seconds the publisher waits for the ingest's answer


def api_outcome(reply: Reply) -> Outcome:
    """2xx was done; 4xx and 503 were refused with nothing changed (the contract's 503);
    any other answer is a fault of the service, and what it did is unknown."""
    if reply.status < 300:
        return OK
    return FAILED if reply.status < 500 or reply.status == 503 else UNKNOWN


@dataclass
class Workload:
    target: Target
    history: History
    seed: int
    broadcasters: int = 3
    viewers: int = 6
    live: dict[str, str] = field(default_factory=dict)  # stream id -> its owner's actor name

    async def run(self, seconds: float) -> None:
        until = time.time() + seconds
        api = ApiClient(self.target.api_url)
        issuer = TokenIssuer(self.target.jwt_private_key)
        try:
            async with aiohttp.ClientSession() as pages:
                await asyncio.gather(
                    *(self._broadcaster(f"owner-{n}", api, issuer, until)
                      for n in range(self.broadcasters)),
                    *(self._viewer(f"viewer-{n}", api, issuer, pages, until)
                      for n in range(self.viewers)),
                )  # fmt: skip
        finally:
            await api.close()

    async def call(self, op: Op, request: Awaitable[Reply]) -> Reply | None:
        """Await an API call and record its outcome: refused connections failed, silence unknown."""
        try:
            reply = await request
        except ApiUnreachable as error:
            self.history.complete(op, FAILED if error.refused else UNKNOWN, detail=str(error))
            return None
        except AssertionError as error:  # an answer that breaks the contract
            self.history.complete(op, UNKNOWN, detail=f"breaks the contract: {error}"[:300])
            return None
        self.history.complete(op, api_outcome(reply), reply.status, reply.error or "")
        return reply

    async def _broadcaster(self, name: str, api: ApiClient, issuer: TokenIssuer, until: float
                           ) -> None:  # fmt: skip
        draw = random.Random(f"{self.seed}:{name}")  # noqa: S311 - reproducible on purpose
        owner = Person(name)
        while time.time() < until:
            token = issuer.token_for(owner)
            op = self.history.invoke(name, "create", None, user=str(owner.user_id))
            reply = await self.call(op, api.create_stream(token, {"title": f"{name}'s stream"}))
            if reply is None or op.outcome != OK:
                await asyncio.sleep(1.0)
                continue
            stream, key = reply.body["stream_id"], reply.body["stream_key"]
            op.stream = stream
            broadcast = await self._publish(name, stream, key)
            if broadcast is not None:
                await self._stay_live(name, stream, broadcast, draw, until)
            await asyncio.sleep(draw.uniform(0.5, 2.0))

    async def _publish(self, name: str, stream: str, key: str) -> Broadcast | None:
        url = publish_url(self.target.rtmp_url, stream, key)
        for _ in range(PUBLISH_TRIES):
            op = self.history.invoke(name, "publish", stream)
            broadcast = await Broadcast.start(url, answer_within=ANSWER_WITHIN)
            outcome = broadcast.outcome
            if isinstance(outcome, Published):
                self.history.complete(op, OK)
                return broadcast
            # Refused, or never past the handshake: the ingest never asked the platform.
            done = FAILED if isinstance(outcome, Refused | Unreachable) else UNKNOWN
            self.history.complete(op, done, detail=f"{type(outcome).__name__}: {outcome.reason}")
            await broadcast.publisher.drop()
            if done == UNKNOWN:
                return None  # it may be live: another publish would meet "already publishing"
            await asyncio.sleep(1.0)
        return None

    async def _stay_live(self, name: str, stream: str, broadcast: Broadcast,
                         draw: random.Random, until: float) -> None:  # fmt: skip
        self.live[stream] = name
        leave_at = min(time.time() + draw.uniform(*LIVE_FOR), until)
        try:
            while time.time() < leave_at:
                if broadcast.media_error is not None:
                    op = self.history.invoke(name, "lost", stream)
                    self.history.complete(op, OK, detail=repr(broadcast.media_error)[:200])
                    await broadcast.drop()
                    return
                await asyncio.sleep(0.2)
            how = "drop" if draw.random() < 0.3 else "stop"
            op = self.history.invoke(name, how, stream)
            await (broadcast.drop() if how == "drop" else broadcast.end())
            self.history.complete(op, OK)
        finally:
            self.live.pop(stream, None)

    async def _viewer(self, name: str, api: ApiClient, issuer: TokenIssuer,
                      pages: aiohttp.ClientSession, until: float) -> None:  # fmt: skip
        draw = random.Random(f"{self.seed}:{name}")  # noqa: S311 - reproducible on purpose
        person = Person(name)
        user = str(person.user_id)
        while time.time() < until:
            if not self.live:
                await asyncio.sleep(0.3)
                continue
            stream = draw.choice(sorted(self.live))
            token = issuer.token_for(person)
            join = self.history.invoke(name, "join", stream, user=user)
            await self.call(join, api.join(token, stream))
            page = await self._open_page(name, stream, pages) if draw.random() < 0.5 else None
            await asyncio.sleep(draw.uniform(*WATCH_FOR))
            leave = self.history.invoke(name, "leave", stream, user=user)
            await self.call(leave, api.leave(token, stream))
            if page is not None:
                await page.close()
            await asyncio.sleep(draw.uniform(0.2, 1.0))

    async def _open_page(self, name: str, stream: str, pages: aiohttp.ClientSession
                         ) -> Viewer | None:  # fmt: skip
        op = self.history.invoke(name, "page", stream)
        viewer = Viewer(name, room_url(self.target.api_url, stream))
        opened = await viewer.connect(pages)
        if isinstance(opened, Watching):
            self.history.complete(op, OK)
            return viewer
        if isinstance(opened, RoomRefused):
            self.history.complete(op, FAILED, opened.status, opened.body[:200])
        else:
            self.history.complete(op, UNKNOWN, detail=opened.reason[:200])
        return None

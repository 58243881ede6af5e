"""The typed state of a run and of one scenario, kept on behave's context as `context.world`."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from support.clients.api import ApiClient, Reply
from support.clients.attack import AbusivePage, AttackOutcome, IdleCrowd
from support.clients.broadcaster import Broadcast, Encoder
from support.clients.ffmpeg import FfmpegPublisher
from support.clients.metrics import Scrape
from support.clients.viewer import RoomOutcome, Viewer
from support.core.loop import RunLoop
from support.core.target import Target, check_stream_urls
from support.harness.identity import Person, TokenIssuer
from support.hls.browser import Playback, Player, PlayerPage
from support.hls.latency import Delays
from support.hls.live import LiveReport
from support.hls.multivariant import LadderWatch
from support.stack import EmbeddedStack
from support.stores.clickhouse import ClickHouseChecker
from support.stores.kafka import KafkaChecker
from support.stores.postgres import PostgresChecker
from support.stores.redis import RedisChecker

T = TypeVar("T")
V = TypeVar("V")


def known(things: dict[str, V], name: str, otherwise: str) -> V:
    """What the scenario holds under a name, or a failure that says the scenario never made it."""
    if name not in things:
        raise AssertionError(otherwise)
    return things[name]


@dataclass
class Run:
    """What lives for the whole run: the target, the loop, the clients."""

    began: float  # time.monotonic() when the run started, before the stack booted
    target: Target
    loop: RunLoop
    api: ApiClient
    pages: aiohttp.ClientSession  # the viewers' WebSocket connections
    tokens: TokenIssuer
    postgres: PostgresChecker
    redis: RedisChecker
    kafka: KafkaChecker
    clickhouse: ClickHouseChecker
    crowd_size: int = 1000
    stack: EmbeddedStack | None = None

    def embedded(self) -> EmbeddedStack:
        """The embedded stack, for steps that stop and start its servers (tag them @fault)."""
        if self.stack is None:
            raise AssertionError("this step stops and starts servers: only on the embedded stack")
        return self.stack

    def close(self) -> None:
        self.loop.run(self.api.close())
        self.loop.run(self.pages.close())
        self.redis.close()
        self.loop.close()


@dataclass(frozen=True)
class StreamRef:
    owner: str
    stream_id: str
    stream_key: str
    publish_url: str
    hls_url: str
    ladder_url: str | None = None  # contract: ladder; None where the target has none
    created_at: float = field(default_factory=time.time)

    def wait_until_aged(self, seconds: float) -> None:
        """Real time between creating a stream and going live, so that a duration counted from
        the creation is told apart from one counted from the start (more than the tolerance)."""
        time.sleep(max(0.0, self.created_at + seconds - time.time()))


@dataclass
class Marks:
    """Where the sources the checks read stood when the scenario began (or asked)."""

    kafka: dict[int, int] = field(default_factory=dict)  # partition -> offset
    logs: dict[Path, int] = field(default_factory=dict)  # server log -> size
    metrics: Scrape | None = None  # the scrape a scenario compares later ones with


@dataclass
class Watching:
    """What viewers downloaded and played: the HLS watcher's reports and browser playbacks."""

    reports: dict[str, LiveReport] = field(default_factory=dict)
    playbacks: dict[str, Playback] = field(default_factory=dict)
    page: PlayerPage | None = None  # the player page, served for @browser scenarios
    players: dict[str, Player] = field(default_factory=dict)  # browsers playing meanwhile
    jobs: dict[str, concurrent.futures.Future[LiveReport]] = field(default_factory=dict)
    delays: dict[str, Delays] = field(default_factory=dict)  # a broadcaster's segments, timed
    ladders: dict[str, LadderWatch] = field(default_factory=dict)  # every rendition, watched


@dataclass
class Attacker:
    """What an attacker holds: an attack under way or over, silent connections, a page."""

    attack: concurrent.futures.Future[AttackOutcome] | None = None
    idle_crowd: IdleCrowd | None = None  # connections that never speak
    silent_page: AbusivePage | None = None  # a page that never reads


@dataclass
class World:
    """One scenario: its people, their streams, broadcasts and viewers, and what they were told."""

    run: Run
    marks: Marks = field(default_factory=Marks)
    people: dict[str, Person] = field(default_factory=dict)
    streams: dict[str, StreamRef] = field(default_factory=dict)
    # Streams the scenario names without creating them, such as one that does not exist.
    phantom_stream_ids: set[str] = field(default_factory=set)
    replies: dict[str, Reply] = field(default_factory=dict)
    broadcasts: dict[str, Broadcast] = field(default_factory=dict)
    encoders: dict[str, Encoder] = field(default_factory=dict)  # with their automatic reconnect
    ffmpegs: dict[str, FfmpegPublisher] = field(default_factory=dict)
    lost_at: float = 0.0  # time.time() when a broadcaster's connection dropped or went silent
    back_at: float = 0.0  # time.time() when she came back (went live again, restarted ffmpeg)
    attempts: dict[str, Broadcast] = field(default_factory=dict)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    crowd: list[Viewer] = field(default_factory=list)
    room_outcomes: dict[str, RoomOutcome] = field(default_factory=dict)
    watching: Watching = field(default_factory=Watching)
    attacker: Attacker = field(default_factory=Attacker)

    def person(self, name: str) -> Person:
        if name not in self.people:
            self.people[name] = Person(name)
        return self.people[name]

    def token(self, name: str) -> str:
        return self.run.tokens.token_for(self.person(name))

    def add_stream(self, owner: str, created: dict[str, Any]) -> StreamRef:
        """The stream the API just created for `owner`, once its addresses are the target's."""
        urls = [created["hls_url"], *([created["ladder_url"]] if created.get("ladder_url") else [])]
        check_stream_urls(self.run.target, created["publish_url"], *urls)
        stream = StreamRef(
            owner=owner,
            stream_id=created["stream_id"],
            stream_key=created["stream_key"],
            publish_url=created["publish_url"],
            hls_url=created["hls_url"],
            ladder_url=created.get("ladder_url"),
        )
        self.streams[owner] = stream
        return stream

    def stream_of(self, owner: str) -> StreamRef:
        return known(self.streams, owner, f"{owner} has no stream in this scenario")

    def last_attempt_answered(self) -> float:
        """When the last publish attempt of the scenario was answered (0 if there was none)."""
        return max((attempt.answered_at for attempt in self.attempts.values()), default=0.0)

    def phantom_stream(self) -> str:
        """The id of a stream that does not exist, remembered so checks can look for it too."""
        stream_id = str(uuid.uuid4())
        self.phantom_stream_ids.add(stream_id)
        return stream_id

    def broadcast_of(self, name: str) -> Broadcast:
        return known(self.broadcasts, name, f"{name} has not gone live in this scenario")

    def attempt_of(self, name: str) -> Broadcast:
        return known(self.attempts, name, f"{name} has not tried to go live in this scenario")

    def viewer(self, name: str) -> Viewer:
        return known(self.viewers, name, f"{name} is not watching anything in this scenario")

    def audience_of(self, owner: str) -> list[Viewer]:
        """Everyone who has the owner's stream page open (named viewers and the crowd)."""
        stream_id = self.stream_of(owner).stream_id
        everyone = [*self.viewers.values(), *self.crowd]
        return [v for v in everyone if v.url.endswith(f"/{stream_id}/ws") and not v.closed.is_set()]

    def ladder_watch(self, name: str) -> LadderWatch:
        return known(
            self.watching.ladders, name, f"{name} has not watched a ladder in this scenario"
        )

    def hls_report(self, name: str) -> LiveReport:
        return known(
            self.watching.reports,
            name,
            f"{name} has not watched any stream over HLS in this scenario",
        )

    def playback_of(self, name: str) -> Playback:
        return known(
            self.watching.playbacks,
            name,
            f"{name} has not played anything in a browser in this scenario",
        )

    def reply_to(self, name: str) -> Reply:
        return known(
            self.replies, name, f"{name} has not asked the platform anything in this scenario"
        )

    def attack_outcome(self, timeout: float) -> AttackOutcome:
        if self.attacker.attack is None:
            raise AssertionError("nobody has attacked in this scenario")
        return self.attacker.attack.result(timeout)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return self.run.loop.run(coroutine, timeout)


def world_of(context: Any) -> World:
    """The scenario's world, the one typed way in from behave's context."""
    world = getattr(context, "world", None)
    if not isinstance(world, World):
        raise TypeError(f"behave's context holds no World (found {type(world).__name__})")
    return world

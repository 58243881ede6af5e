"""The typed state of a run and of one scenario, kept on behave's context as `context.world`."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from support.api import ApiClient, Reply
from support.identity import Person, TokenIssuer
from support.loop import RunLoop
from support.stack import EmbeddedStack
from support.stores.postgres import PostgresChecker
from support.stores.redis import RedisChecker
from support.target import Target

T = TypeVar("T")


@dataclass
class Run:
    """What lives for the whole run: the target, the loop, the clients."""

    target: Target
    loop: RunLoop
    api: ApiClient
    tokens: TokenIssuer
    postgres: PostgresChecker
    redis: RedisChecker
    stack: EmbeddedStack | None = None

    def close(self) -> None:
        self.loop.run(self.api.close())
        self.redis.close()
        self.loop.close()


@dataclass(frozen=True)
class StreamRef:
    owner: str
    stream_id: str
    stream_key: str
    publish_url: str
    hls_url: str


@dataclass
class World:
    """One scenario: its people, their streams and the last answer each of them got."""

    run: Run
    people: dict[str, Person] = field(default_factory=dict)
    streams: dict[str, StreamRef] = field(default_factory=dict)
    replies: dict[str, Reply] = field(default_factory=dict)

    def person(self, name: str) -> Person:
        if name not in self.people:
            self.people[name] = Person(name)
        return self.people[name]

    def token(self, name: str) -> str:
        return self.run.tokens.token_for(self.person(name))

    def stream_of(self, owner: str) -> StreamRef:
        if owner not in self.streams:
            raise AssertionError(f"{owner} has no stream in this scenario")
        return self.streams[owner]

    def reply_to(self, name: str) -> Reply:
        if name not in self.replies:
            raise AssertionError(f"{name} has not asked the platform anything in this scenario")
        return self.replies[name]

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.run.loop.run(coroutine)

"""The reference service against a model of the contract (docs/contract/rules.json), driven by
hypothesis: create, publish, report, done, join, leave and look, by several people, in any
order, through the API and the webhooks as nginx-rtmp calls them. After every step the answer
is checked against the model, and so are PostgreSQL's row and Redis's counts; at the end of
each run, the events Kafka holds for its streams, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.harness.polling import eventually
from support.stores.kafka import KafkaChecker
from support.stores.postgres import PostgresChecker
from support.stores.redis import RedisChecker
from tests.conftest import Http

pytestmark = pytest.mark.stack

PEOPLE = ("ada", "ben", "cy")
CLIENTS = ("1", "2")  # nginx-rtmp's client ids: the publisher's, and another connection's


@dataclass
class Model:
    """What the contract says one stream is."""

    owner: str
    key: str
    status: str = "preparing"
    publisher: str | None = None
    viewers: set[str] = field(default_factory=set)
    peak: int = 0
    events: list[tuple[str, int | None]] = field(default_factory=list)  # (type, viewer_count)


class Platform(RuleBasedStateMachine):
    http: Http
    target: Target
    people: dict[str, tuple[Person, str]]
    kafka_marks: dict[int, int]

    streams = Bundle("streams")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, Model] = {}
        self.postgres = PostgresChecker(self.target.pg_dsn)
        self.redis = RedisChecker(self.target.redis_url)

    def token(self, who: str) -> str:
        return self.people[who][1]

    def user(self, who: str) -> str:
        return str(self.people[who][0].user_id)

    def webhook(self, call: str, stream: str, client: str, **form: str) -> tuple[int, Any]:
        path = {"publish": "auth", "publish_done": "done", "update_publish": "update"}[call]
        fields = {"call": call, "name": stream, "clientid": client, "app": "live", **form}
        return self.http.call("POST", f"/api/v1/streams/{path}", form=fields)

    @initialize(target=streams, who=st.sampled_from(PEOPLE))
    def first(self, who: str) -> str:
        return self.new_stream(who)

    @rule(target=streams, who=st.sampled_from(PEOPLE))
    def create(self, who: str) -> str:
        return self.new_stream(who)

    def new_stream(self, who: str) -> str:
        status, body = self.http.call("POST", "/api/v1/streams", token=self.token(who),
                                      body={"title": f"{who}'s stream"})  # fmt: skip
        assert status == 201, body
        assert body["status"] == "preparing"
        self.model[body["stream_id"]] = Model(who, body["stream_key"])
        return str(body["stream_id"])

    @rule(stream=streams, right_key=st.sampled_from([True, True, False]),
          client=st.sampled_from(CLIENTS))  # fmt: skip
    def publish(self, stream: str, right_key: bool, client: str) -> None:
        model = self.model[stream]
        key = model.key if right_key else "not-the-key"
        status, body = self.webhook("publish", stream, client, key=key)
        if right_key and model.status == "preparing":
            assert status == 200, body
            model.status, model.publisher = "live", client
            model.events.append(("stream.started", None))
            event("published")
        else:
            assert status == 403, f"a publish with {'the' if right_key else 'a wrong'} key to a "\
                f"{model.status} stream: {status} {body}"  # fmt: skip

    @rule(stream=streams, client=st.sampled_from(CLIENTS))
    def report(self, stream: str, client: str) -> None:
        model = self.model[stream]
        status, body = self.webhook("update_publish", stream, client)
        if model.status == "live" and client == model.publisher:
            assert (status, body) == (200, {"status": "live"})
        elif model.status == "preparing":
            assert (status, body) == (200, {"status": "waiting"})
        else:
            assert status == 403, body

    @rule(stream=streams, client=st.sampled_from(CLIENTS))
    def done(self, stream: str, client: str) -> None:
        model = self.model[stream]
        status, body = self.webhook("publish_done", stream, client)
        assert status == 200, body
        if model.status == "live" and client == model.publisher:
            assert body == {"status": "ended"}
            model.status = "ended"
            model.viewers.clear()
            model.events.append(("stream.ended", None))
        else:
            assert body == {"status": "unchanged"}

    @rule(stream=streams, who=st.sampled_from(PEOPLE))
    def join(self, stream: str, who: str) -> None:
        model = self.model[stream]
        status, body = self.http.call("POST", f"/api/v1/streams/{stream}/join",
                                      token=self.token(who))  # fmt: skip
        if model.status != "live":
            assert (status, body["error"]) == (409, "not_live"), body
            return
        assert status == 200, body
        event("joined twice" if who in model.viewers else "joined")
        if who not in model.viewers:
            model.viewers.add(who)
            model.peak = max(model.peak, len(model.viewers))
            model.events.append(("viewer.joined", len(model.viewers)))
        assert body["current_viewers"] == len(model.viewers), body

    @rule(stream=streams, who=st.sampled_from(PEOPLE))
    def leave(self, stream: str, who: str) -> None:
        model = self.model[stream]
        status, body = self.http.call("POST", f"/api/v1/streams/{stream}/leave",
                                      token=self.token(who))  # fmt: skip
        assert status == 202, body
        if model.status == "live" and who in model.viewers:
            model.viewers.discard(who)
            model.events.append(("viewer.left", len(model.viewers)))
        assert body["current_viewers"] == len(model.viewers), body

    @rule(stream=streams, who=st.sampled_from(PEOPLE))
    def look(self, stream: str, who: str) -> None:
        model = self.model[stream]
        status, body = self.http.call("GET", f"/api/v1/streams/{stream}", token=self.token(who))
        assert status == 200, body
        assert (body["status"], body["current_viewers"], body["peak_viewers"]) == (
            model.status, len(model.viewers), model.peak), body  # fmt: skip
        assert ("stream_key" in body) == (who == model.owner), "the key is its creator's only"

    @rule(stream=consumes(streams))
    def forget(self, stream: str) -> None:
        """Stop acting on a stream (its checks go on): later rules pick among the others."""

    @invariant()
    def the_stores_agree_with_the_model(self) -> None:
        for stream, model in self.model.items():
            row = self.postgres.stream(stream)
            assert row is not None, f"no row for {stream}"
            assert (row["status"], row["peak_viewers"]) == (model.status, model.peak), row
            if model.status == "live":
                counted = (self.redis.viewers(stream) or 0, self.redis.peak(stream) or 0)
                assert counted == (len(model.viewers), model.peak), f"Redis counts {counted}"
                assert self.redis.is_active(stream), "Redis's set of live streams"
            else:
                assert not self.redis.is_active(stream), "an ended stream in Redis's live set"

    def teardown(self) -> None:
        expected = {s: m.events for s, m in self.model.items()}
        kafka = KafkaChecker(self.target.kafka_bootstrap)

        def published() -> None:
            found: dict[str, list[tuple[str, int | None]]] = {s: [] for s in expected}
            for e in kafka.events_since(self.kafka_marks, set(expected)):
                count = e.payload.get("viewer_count")
                found[str(e.payload["stream_id"])].append((e.event_type, count))
            assert found == expected, f"Kafka holds {found}, the model says {expected}"

        if any(expected.values()):
            eventually(published, within=5, every=0.3, what="the events on Kafka")
        self.redis.close()


def test_the_service_follows_the_model_of_its_contract(http: Http, target: Target,
                                                       issuer: TokenIssuer) -> None:  # fmt: skip
    people = {}
    for name in PEOPLE:
        person = Person(name)
        people[name] = (person, issuer.token_for(person))
    Platform.http, Platform.target, Platform.people = http, target, people
    Platform.kafka_marks = KafkaChecker(target.kafka_bootstrap).mark()
    run_state_machine_as_test(
        Platform,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

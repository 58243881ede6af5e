"""The reference service's rules, against the real stores of the embedded stack.

Webhooks are called the way nginx-rtmp calls them (form-encoded POSTs with name, key, clientid),
so the lifecycle rules are tested here without a publisher; the acceptance suite does it for real.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, LiteralString, TypeVar

import psutil
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from support.clients.api import room_url
from support.core.contract import CONTRACT_DIR
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer, forged_token
from support.harness.polling import eventually
from support.stack import EmbeddedStack
from support.stores.clickhouse import ClickHouseChecker
from support.stores.kafka import KafkaChecker
from support.stores.postgres import PostgresChecker
from tests.conftest import Http

T = TypeVar("T")
pytestmark = pytest.mark.stack


def create(http: Http, token: str, title: str = "Morning run") -> dict[str, Any]:
    status, body = http.call("POST", "/api/v1/streams", token=token, body={"title": title})
    assert status == 201, body
    assert isinstance(body, dict)
    return body


def publish(http: Http, stream: dict[str, Any], key: str | None = None, client: str = "1") -> int:
    form = {"call": "publish", "name": stream["stream_id"], "clientid": client, "app": "live"}
    form["key"] = stream["stream_key"] if key is None else key
    return http.call("POST", "/api/v1/streams/auth", form=form)[0]


def publish_done(http: Http, stream: dict[str, Any], client: str = "1") -> tuple[int, Any]:
    form = {"call": "publish_done", "name": stream["stream_id"], "clientid": client}
    return http.call("POST", "/api/v1/streams/done", form=form)


def row(target: Target, stream_id: str) -> dict[str, Any]:
    found = PostgresChecker(target.pg_dsn).stream(stream_id)
    assert found is not None, f"no row for {stream_id}"
    return found


@pytest.fixture(scope="module")
def store(target: Target) -> redis.Redis:
    return redis.Redis.from_url(target.redis_url, decode_responses=True)


def test_health_reports_every_dependency(http: Http) -> None:
    status, body = http.call("GET", "/health")
    assert status == 200
    assert body == {
        "status": "ok",
        "dependencies": {"postgres": "ok", "redis": "ok", "kafka": "ok"},
    }


def test_a_created_stream_is_preparing_and_its_key_is_its_creators(
    http: Http, target: Target, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    person, token = ada
    created = create(http, token)
    assert created["status"] == "preparing"
    assert created["publish_url"].endswith(f"/{created['stream_id']}?key={created['stream_key']}")
    assert created["stream_key"] not in created["hls_url"]
    assert row(target, created["stream_id"])["creator_id"] == person.user_id
    _, mine = http.call("GET", f"/api/v1/streams/{created['stream_id']}", token=token)
    assert mine["stream_key"] == created["stream_key"]
    ben = issuer.token_for(Person("Ben"))
    _, theirs = http.call("GET", f"/api/v1/streams/{created['stream_id']}", token=ben)
    assert "stream_key" not in theirs


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "error"),
    [
        ("GET", "/api/v1/streams", {}, 401, "unauthorized"),
        ("GET", "/api/v1/streams", {"token": "nope"}, 401, "unauthorized"),
        ("GET", "/api/v1/streams", {"token": forged_token(Person("Eve"))}, 401, "unauthorized"),
        ("GET", f"/api/v1/streams/{uuid.uuid4()}", {"valid": True}, 404, "not_found"),
        ("GET", "/api/v1/streams/not-a-uuid", {"valid": True}, 404, "not_found"),
        ("GET", "/api/v1/streams?status=paused", {"valid": True}, 400, "validation_error"),
        ("POST", "/api/v1/streams", {"valid": True, "raw": b"{"}, 400, "invalid_json"),
        (
            "POST",
            "/api/v1/streams",
            {"valid": True, "raw": b'{"title": ' + b"9" * 5000 + b"}"},
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/streams",
            {"valid": True, "raw": b'{"title": "t"}', "content_type": "text/plain"},
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/v1/streams",
            {"valid": True, "body": {"title": "a\u0000b"}},
            400,
            "validation_error",
        ),
        (
            "POST",
            "/api/v1/streams",
            {"valid": True, "body": {"title": ""}},
            400,
            "validation_error",
        ),
        ("POST", f"/api/v1/streams/{uuid.uuid4()}/join", {"valid": True}, 404, "not_found"),
        ("POST", f"/api/v1/streams/{uuid.uuid4()}/end", {}, 401, "unauthorized"),
        ("DELETE", "/api/v1/streams", {"valid": True}, 405, "method_not_allowed"),
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("POST", "/api/v1/streams/auth", {"form": {"key": "k"}}, 400, "validation_error"),
        ("POST", "/api/v1/streams/done", {"form": {"key": "k"}}, 400, "validation_error"),
        (
            "POST",
            "/api/v1/streams/auth",
            {"form": {"name": "x", "key": "k", "clientid": "1"}},
            403,
            "forbidden",
        ),
        ("GET", f"/api/v1/streams/{uuid.uuid4()}/ws", {}, 404, "not_found"),
    ],
)
def test_client_mistakes_get_honest_json_errors(
    http: Http,
    ada: tuple[Person, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    error: str,
) -> None:
    if kwargs.pop("valid", False):
        kwargs["token"] = ada[1]
    got, body = http.call(method, path, **kwargs)
    assert (got, body["error"]) == (status, error), body
    assert body["message"]


@contextmanager
def at_commit(target: Target, action: LiteralString, *undo: LiteralString) -> Iterator[None]:
    """For the block, a deferred trigger runs `action` when a join commits (checked at COMMIT,
    after every statement of the join); `undo` puts right what it did."""
    import psycopg

    with psycopg.connect(target.pg_dsn, autocommit=True) as connection:
        connection.execute(
            "CREATE FUNCTION nova_test_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN " + action + "; RETURN NULL; END $$; "
            "CREATE CONSTRAINT TRIGGER nova_test_at_commit AFTER INSERT ON viewers "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION nova_test_at_commit();"
        )
        try:
            yield
        finally:
            for statement in undo:
                connection.execute(statement)
            connection.execute("DROP TRIGGER nova_test_at_commit ON viewers")
            connection.execute("DROP FUNCTION nova_test_at_commit()")


def test_redis_shows_nothing_of_a_join_whose_commit_failed(
    http: Http, target: Target, store: redis.Redis, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    """Redis is written inside the join's transaction; when PostgreSQL then refuses the commit
    (here a deferred trigger, checked at COMMIT), the join fails and Redis must not
    keep the viewer PostgreSQL rolled back. Before, it kept it until some later rebuild."""
    stream = create(http, ada[1])
    sid = stream["stream_id"]
    assert publish(http, stream) == 200
    with at_commit(target, "RAISE EXCEPTION 'the test refuses this commit'"):
        status, body = http.call(
            "POST", f"/api/v1/streams/{sid}/join", token=issuer.token_for(Person("Ben"))
        )
    assert status in (500, 503), body  # the database's refusal, not the client's mistake
    assert row(target, sid)["peak_viewers"] == 0

    def redis_agrees() -> None:
        assert store.get(f"stream:{sid}:viewers") in (None, "0"), "Redis counts the viewer"
        assert store.get(f"stream:{sid}:peak") in (None, "0"), "Redis keeps the peak"

    eventually(redis_agrees, within=3, what="Redis repaired from PostgreSQL")


def test_a_committed_join_is_answered_as_done_whatever_fails_after_it(
    http: Http, target: Target, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    """Once PostgreSQL committed a join, its answer says it was done: nothing read after the
    commit may turn it into an error. Here the commit itself hides the streams table (a
    deferred trigger), so any read after it fails. Before, the answer re-read the stream and
    a completed join was answered as a failure (a client then retries a change that was made)."""
    stream = create(http, ada[1])
    sid = stream["stream_id"]
    assert publish(http, stream) == 200
    hide = "ALTER TABLE streams RENAME TO nova_test_hidden"
    with at_commit(target, hide, "ALTER TABLE IF EXISTS nova_test_hidden RENAME TO streams"):
        status, body = http.call(
            "POST", f"/api/v1/streams/{sid}/join", token=issuer.token_for(Person("Cy"))
        )
    assert status == 200, body
    assert body["current_viewers"] == 1
    assert body["hls_url"].endswith(f"/{sid}/index.m3u8"), body
    assert row(target, sid)["peak_viewers"] == 1


def connections_to(port: int) -> set[int]:
    """The local ports of every TCP connection to the port, closed ones (TIME_WAIT) included."""
    found = set()
    for connection in psutil.net_connections(kind="tcp"):
        local, remote = connection.laddr, connection.raddr
        if len(remote) == 2 and remote[1] == port and len(local) == 2:
            found.add(local[1])
    return found


def test_an_idle_relay_opens_no_connection_to_the_broker(target: Target) -> None:
    """With nothing to publish, the relay leaves the broker alone. Before, it opened a fresh
    consumer (and made two metadata requests) every idle half second: 6 new connections in 3 s."""
    port = int(target.kafka_bootstrap.rsplit(":", 1)[1])
    time.sleep(1.0)  # what an earlier test made is published by now
    before = connections_to(port)
    time.sleep(3.0)
    opened = connections_to(port) - before
    assert not opened, f"{len(opened)} connections to the broker opened in 3 idle seconds"


def test_every_stream_can_be_listed_a_page_at_a_time(http: Http, ada: tuple[Person, str]) -> None:
    """More than one page of streams: following next_cursor lists each once, newest first.
    Before, the list stopped at 100 streams with no way to the rest."""
    _, token = ada
    created = {create(http, token, f"page test {n}")["stream_id"] for n in range(105)}
    listed: list[str] = []
    cursor: str | None = ""
    pages = 0
    while cursor is not None:
        query = "status=preparing&limit=40" + (f"&cursor={cursor}" if cursor else "")
        status, body = http.call("GET", f"/api/v1/streams?{query}", token=token)
        assert status == 200, body
        assert len(body["streams"]) <= 40
        listed += [s["stream_id"] for s in body["streams"]]
        cursor, pages = body["next_cursor"], pages + 1
    assert created <= set(listed), f"{len(created - set(listed))} streams were never listed"
    assert len(listed) == len(set(listed)), "a stream was listed twice"
    assert pages >= 3


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=not-ours"])
def test_a_bad_page_is_a_client_mistake(http: Http, ada: tuple[Person, str], query: str) -> None:
    status, body = http.call("GET", f"/api/v1/streams?{query}", token=ada[1])
    assert status == 400, body
    assert body["error"] == "validation_error"


def test_joining_a_stream_that_is_not_live_is_a_conflict(
    http: Http, ada: tuple[Person, str]
) -> None:
    stream = create(http, ada[1])
    status, body = http.call("POST", f"/api/v1/streams/{stream['stream_id']}/join", token=ada[1])
    assert (status, body["error"]) == (409, "not_live")


def test_a_refused_publish_changes_nothing(
    http: Http, target: Target, store: redis.Redis, ada: tuple[Person, str]
) -> None:
    stream = create(http, ada[1])
    assert publish(http, stream, key="wrong") == 403
    assert publish(http, stream, key="") == 403
    assert row(target, stream["stream_id"])["status"] == "preparing"
    assert not store.sismember("streams:active", stream["stream_id"])


def test_the_lifecycle_counts_viewers_once_and_keeps_the_peak(
    http: Http, target: Target, store: redis.Redis, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    stream = create(http, ada[1])
    sid = stream["stream_id"]
    assert publish(http, stream, client="7") == 200
    assert row(target, sid)["status"] == "live"
    assert store.sismember("streams:active", sid)
    assert publish(http, stream, client="8") == 403, "a second publisher is refused"

    ben, cleo = issuer.token_for(Person("Ben")), issuer.token_for(Person("Cleo"))
    for token, expected in ((ben, 1), (ben, 1), (cleo, 2)):
        status, body = http.call("POST", f"/api/v1/streams/{sid}/join", token=token)
        assert (status, body["current_viewers"]) == (200, expected)
    assert store.get(f"stream:{sid}:viewers") == "2"
    outsider = issuer.token_for(Person("Dan"))
    assert http.call("POST", f"/api/v1/streams/{sid}/leave", token=outsider) == (
        202,
        {"current_viewers": 2},
    )
    assert http.call("POST", f"/api/v1/streams/{sid}/leave", token=ben) == (
        202,
        {"current_viewers": 1},
    )
    assert http.call("POST", f"/api/v1/streams/{sid}/leave", token=ben) == (
        202,
        {"current_viewers": 1},
    )
    _, live = http.call("GET", f"/api/v1/streams/{sid}", token=ada[1])
    assert (live["current_viewers"], live["peak_viewers"]) == (1, 2)

    assert publish_done(http, stream, client="8") == (200, {"status": "unchanged"})
    assert row(target, sid)["status"] == "live", "another client's publish_done must not end it"
    assert publish_done(http, stream, client="7") == (200, {"status": "ended"})
    ended = row(target, sid)
    assert (ended["status"], ended["peak_viewers"]) == ("ended", 2)
    assert ended["ended_at"] >= ended["started_at"]
    assert not store.sismember("streams:active", sid)
    assert store.exists(f"stream:{sid}:viewers", f"stream:{sid}:peak", f"stream:{sid}:members") == 0
    assert publish(http, stream, client="9") == 403, "an ended stream's key no longer publishes"
    _, after = http.call("GET", f"/api/v1/streams/{sid}", token=ada[1])
    assert (after["status"], after["current_viewers"], after["peak_viewers"]) == ("ended", 0, 2)


def test_events_reach_the_socket_kafka_and_clickhouse_in_order(
    http: Http, target: Target, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    kafka = KafkaChecker(target.kafka_bootstrap)
    marks = kafka.mark()
    stream = create(http, ada[1])
    sid = stream["stream_id"]
    ben = issuer.token_for(Person("Ben"))
    with connect(room_url(target.api_url, sid), open_timeout=5) as socket:
        publish(http, stream)
        http.call("POST", f"/api/v1/streams/{sid}/join", token=ben)
        http.call("POST", f"/api/v1/streams/{sid}/leave", token=ben)
        publish_done(http, stream)
        received = [json.loads(socket.recv(timeout=5)) for _ in range(4)]
    assert [m["event"] for m in received] == [
        "stream_started",
        "viewer_count_changed",
        "viewer_count_changed",
        "stream_ended",
    ]
    assert [m["data"].get("viewer_count") for m in received[1:3]] == [1, 0]
    assert all(m["data"]["stream_id"] == sid for m in received)

    events = eventually(lambda: _count(4, kafka.events_since(marks, {sid})), within=10)
    assert [e.event_type for e in events] == [
        "stream.started",
        "viewer.joined",
        "viewer.left",
        "stream.ended",
    ]
    assert [p for e in events for p in e.problems] == []
    assert {e.key for e in events} == {sid}
    assert len({e.payload["event_id"] for e in events}) == len(events)
    assert stream["stream_key"] not in json.dumps([e.payload for e in events])

    analytics = ClickHouseChecker(target.clickhouse_url)

    def stored() -> None:
        seen = analytics.stream(sid)
        counts = (seen.starts, seen.joins, seen.leaves, seen.ends, seen.events)
        assert counts == (1, 1, 1, 1, 4), seen.describe()

    eventually(stored, within=15)


def _count(expected: int, events: list[T]) -> list[T]:
    assert len(events) == expected, f"{len(events)} events so far"
    return events


def test_connecting_to_a_room_does_not_make_a_viewer(
    http: Http, target: Target, store: redis.Redis, ada: tuple[Person, str]
) -> None:
    stream = create(http, ada[1])
    publish(http, stream)
    with connect(room_url(target.api_url, stream["stream_id"]), open_timeout=5):
        _, body = http.call("GET", f"/api/v1/streams/{stream['stream_id']}", token=ada[1])
        assert body["current_viewers"] == 0
    publish_done(http, stream)


def test_an_unknown_room_is_refused_at_the_upgrade(target: Target) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(room_url(target.api_url, str(uuid.uuid4())), open_timeout=5)
    assert refused.value.response.status_code == 404


def test_metrics_are_prefixed_and_carry_no_stream_ids(http: Http, target: Target) -> None:
    import urllib.request

    with urllib.request.urlopen(target.metrics_url, timeout=5) as response:
        text = response.read().decode()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert samples
    assert all(line.startswith("nova_streaming_") for line in samples)
    contract = json.loads((CONTRACT_DIR / "metrics.json").read_text())["families"]
    families = text_string_to_metric_families(text)
    exposed = {f.name for f in families if not f.name.endswith("_created")}  # prometheus_client's
    assert exposed == set(contract), "the service exposes the families metrics.json names"
    assert not any(
        len(part) == 36 and part.count("-") == 4
        for line in samples
        for part in line.replace('"', " ").split()
    ), "a metric carries a stream id"


def test_every_webhook_result_counted_is_one_the_contract_names(
    http: Http, target: Target, ada: tuple[Person, str]
) -> None:
    """A publish_done that ends nothing is counted as the result metrics.json names for it."""
    import urllib.request

    _, token = ada
    stream = create(http, token)
    assert publish_done(http, stream, client="nobody")[0] == 200
    with urllib.request.urlopen(target.metrics_url, timeout=5) as response:
        text = response.read().decode()
    contract = json.loads((CONTRACT_DIR / "metrics.json").read_text())["families"]
    results = contract["nova_streaming_webhook_requests"]["results"]
    counted = {
        (sample.labels["call"], sample.labels["result"])
        for family in text_string_to_metric_families(text)
        if family.name == "nova_streaming_webhook_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    assert ("publish_done", "unchanged") in counted
    assert {
        (call, result) for call, result in counted if result not in results.get(call, [])
    } == set()


def test_the_service_serves_the_contract_it_implements(http: Http) -> None:
    status, served = http.call("GET", "/api/v1/openapi.json")
    assert status == 200
    assert served == json.loads(
        (Path(__file__).parent.parent / "docs/contract/openapi.json").read_text()
    )


def update(
    http: Http, stream: dict[str, Any], client: str = "1", call: str = "update_publish"
) -> tuple[int, Any]:
    form = {"call": call, "name": stream["stream_id"], "clientid": client}
    return http.call("POST", "/api/v1/streams/update", form=form)


def test_the_ingest_reports_keep_a_live_publisher_and_drop_any_other(
    http: Http, ada: tuple[Person, str]
) -> None:
    """A report comes every 2 s from the publish command on, even while the platform is still
    deciding the publish (its on_publish is answered later): such a publisher is waiting, not
    gone. Before, it was answered 403 and nginx dropped a broadcaster whose go-live was merely
    slow (a Redis paused by `make chaos`), and the stream then went live without it."""
    stream = create(http, ada[1])
    assert update(http, stream) == (200, {"status": "waiting"}), "a publish being decided"
    assert publish(http, stream) == 200
    assert update(http, stream) == (200, {"status": "live"})
    assert update(http, stream, client="someone else")[0] == 403
    assert update(http, stream, client="a player", call="update_play") == (
        200,
        {"status": "ignored"},
    )
    status, body = http.call("POST", "/api/v1/streams/update", form={"call": "update_publish"})
    assert (status, body["error"]) == (400, "validation_error")
    publish_done(http, stream)
    assert update(http, stream)[0] == 403, "an ended stream's publisher is dropped"


def test_a_stalled_service_does_not_end_the_streams_it_could_not_hear(
    http: Http, stack: EmbeddedStack, ada: tuple[Person, str]
) -> None:
    """A service stopped for longer than UNSEEN_FOR (SIGSTOP: a stalled host, a long pause of
    its process) missed the ingest's reports for its own reason; its streams get UNSEEN_FOR
    again once it runs. Before, its first reaper round ended them and nginx then dropped the
    broadcaster (found by `make chaos`: the service paused for 6.2 s)."""
    stream = create(http, ada[1])
    assert publish(http, stream) == 200
    assert update(http, stream) == (200, {"status": "live"})
    service = stack.servers["service"].pid
    assert service is not None
    os.killpg(service, signal.SIGSTOP)
    try:
        time.sleep(7.0)
    finally:
        os.killpg(service, signal.SIGCONT)
    time.sleep(1.5)  # a reaper round or more
    assert update(http, stream) == (200, {"status": "live"}), "the stream was ended"


def test_every_operation_answers_503_while_the_database_is_down(
    http: Http, stack: EmbeddedStack, target: Target, ada: tuple[Person, str]
) -> None:
    """Contract: faults. A store that is down is an honest 503, never a 500 or a hang; the
    ingest's periodic report is the exception: a publisher is never dropped for it."""
    stream = create(http, ada[1])
    webhook = {"name": stream["stream_id"], "clientid": "1", "key": stream["stream_key"]}
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/streams", {"token": ada[1], "body": {"title": "t"}}),
        ("GET", "/api/v1/streams?status=live", {"token": ada[1]}),
        ("GET", f"/api/v1/streams/{stream['stream_id']}", {"token": ada[1]}),
        ("POST", f"/api/v1/streams/{stream['stream_id']}/join", {"token": ada[1]}),
        ("POST", f"/api/v1/streams/{stream['stream_id']}/leave", {"token": ada[1]}),
        ("POST", f"/api/v1/streams/{stream['stream_id']}/end", {"token": ada[1]}),
        (
            "PATCH",
            f"/api/v1/streams/{stream['stream_id']}",
            {"token": ada[1], "body": {"reconnect_window_seconds": 5}},
        ),
        ("POST", "/api/v1/streams/auth", {"form": webhook}),
        ("POST", "/api/v1/streams/done", {"form": webhook}),
        ("GET", f"/api/v1/streams/{stream['stream_id']}/ws", {}),
    ]
    stack.stop_server("postgres")
    try:
        answers = {f"{method} {path}": http.call(method, path, **kw) for method, path, kw in calls}
        kept = http.call(
            "POST", "/api/v1/streams/update", form={**webhook, "call": "update_publish"}
        )
    finally:
        stack.start_server("postgres")
        eventually(lambda: healthy(http), within=20, what="the service recovering")
    wrong = {
        call: answer
        for call, answer in answers.items()
        if answer[0] != 503 or answer[1]["error"] != "unavailable"
    }
    assert wrong == {}
    assert kept == (200, {"status": "unchecked"})


def healthy(http: Http) -> None:
    status, report = http.call("GET", "/health")
    assert status == 200, report


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_a_forged_webhook_call_is_refused_and_changes_nothing(
    http: Http, target: Target, ada: tuple[Person, str], token: str
) -> None:
    """Contract: ingest. Only the ingest, which presents the token, may call the webhooks."""
    stream = create(http, ada[1])
    assert publish(http, stream) == 200
    form = {"name": stream["stream_id"], "clientid": "1", "key": stream["stream_key"]}
    for hook in ("done", "auth", "update"):
        status, body = http.call("POST", f"/api/v1/streams/{hook}?token={token}", form=form)
        assert (status, body["error"]) == (403, "forbidden"), (hook, body)
    assert row(target, stream["stream_id"])["status"] == "live"


def test_a_webhook_call_without_a_clientid_is_refused(http: Http, ada: tuple[Person, str]) -> None:
    stream = create(http, ada[1])
    assert publish(http, stream) == 200
    for hook in ("done", "update", "auth"):
        status, body = http.call(
            "POST", f"/api/v1/streams/{hook}", form={"name": stream["stream_id"]}
        )
        assert (status, body["error"]) == (400, "validation_error"), (hook, body)
        assert "clientid" in body["message"]


def test_a_405_names_the_methods_the_resource_allows(http: Http) -> None:
    """RFC 9110 section 15.5.6: a 405 MUST carry Allow. A webhook's path is not a stream id."""
    request = urllib.request.Request(f"{http.base_url}/api/v1/streams/done", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    assert refused.value.headers["Allow"] == "POST"


@pytest.mark.parametrize("hook", ["auth", "done", "update", "rendition"])
def test_a_webhook_call_that_is_not_a_form_is_unsupported(http: Http, hook: str) -> None:
    status, body = http.call(
        "POST", f"/api/v1/streams/{hook}", raw=b"name=x", content_type="multipart/form-data"
    )
    assert (status, body["error"]) == (415, "unsupported_media_type"), body


def test_a_room_opened_without_an_upgrade_is_a_bad_request(
    http: Http, ada: tuple[Person, str]
) -> None:
    """RFC 6455 section 4.2.1: a request that is not an opening handshake is answered 400."""
    stream = create(http, ada[1])
    status, body = http.call("GET", f"/api/v1/streams/{stream['stream_id']}/ws")
    assert (status, body["error"]) == (400, "bad_request"), body


def test_an_oversized_header_is_a_client_error_logged_without_its_bytes(
    http: Http, stack: EmbeddedStack
) -> None:
    secret = "eyJ" + "s3cr3t" * 2000  # over aiohttp's 8190-byte header line
    request = urllib.request.Request(
        f"{http.base_url}/api/v1/streams", headers={"Authorization": f"Bearer {secret}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    log = stack.run_dir / "service" / "service.log"

    def warned() -> str:
        said = [line for line in log.read_text().splitlines() if "malformed request" in line]
        assert said, "the malformed request is not in the service's log"
        return said[-1]

    assert " WARNING " in eventually(warned, within=5)
    assert "s3cr3t" not in log.read_text(), "the header's bytes are in the service's log"


def test_every_pooled_redis_connection_works_again_after_redis_restarts(
    http: Http, stack: EmbeddedStack, ada: tuple[Person, str]
) -> None:
    """Contract: faults. Connections the service pooled before Redis restarted are stale; a
    change that meets one is retried on a fresh one, not answered 503 (an ingest's notice of
    an end is never sent again)."""
    streams = [create(http, ada[1]) for _ in range(8)]
    with ThreadPoolExecutor(len(streams)) as pool:  # one pooled connection each, at once
        assert set(pool.map(lambda s: publish(http, s), streams)) == {200}
    stack.stop_server("redis")
    stack.start_server("redis")
    eventually(lambda: healthy(http), within=10, what="the service seeing Redis again")
    with ThreadPoolExecutor(len(streams)) as pool:
        ends = list(pool.map(lambda s: publish_done(http, s), streams))
    assert [status for status, _ in ends] == [200] * len(streams), ends


def test_the_analytics_consumer_starts_while_clickhouse_is_down(stack: EmbeddedStack) -> None:
    """A consumer (re)started while its store is down waits for it. Before, its first DDL
    statement failed, it exited with code 1 and stayed down for good (found by `make chaos`)."""
    stack.stop_server("analytics")
    stack.stop_server("clickhouse")
    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(stack.start_server, "analytics")
        time.sleep(2.0)
        assert not started.done() or started.exception() is None, started.exception()
        stack.start_server("clickhouse")
        started.result(timeout=30)
    assert stack.servers["analytics"].running()


def test_a_report_does_not_wait_for_a_change_of_its_stream(
    http: Http, target: Target, ada: tuple[Person, str]
) -> None:
    """The ingest's report is recorded at once, whatever holds the stream's row. Before, a join
    waiting on a paused Redis held the row for 6 s; the reports queued behind it went
    unrecorded and the reaper ended the stream once Redis was back (`make chaos`, seed 4)."""
    import psycopg

    stream = create(http, ada[1])
    assert publish(http, stream) == 200
    pool = ThreadPoolExecutor(1)
    with psycopg.connect(target.pg_dsn) as change:  # a change of the stream, in progress
        change.execute("SELECT 1 FROM streams WHERE id = %s FOR UPDATE", (stream["stream_id"],))
        try:
            answer = pool.submit(update, http, stream).result(timeout=3)
        finally:
            change.rollback()
            pool.shutdown()
    assert answer == (200, {"status": "live"})


def test_a_publish_not_decided_before_the_ingest_lets_the_publisher_go_is_refused(
    http: Http, target: Target, ada: tuple[Person, str]
) -> None:
    """The ingest drops a publisher that has sent nothing for 2 s, and a publisher sends nothing
    until it is let in. A publish that cannot be decided in time (its stream's row held by
    another change: here a transaction of the test's) is answered 503 and changes nothing.
    Before, it waited, went live after nginx had let the broadcaster go, and the stream was
    ended later as unreported (`make chaos`, seed 7: Redis paused for 8 s)."""
    import psycopg

    stream = create(http, ada[1])
    pool = ThreadPoolExecutor(1)
    with psycopg.connect(target.pg_dsn) as change:
        change.execute("SELECT 1 FROM streams WHERE id = %s FOR UPDATE", (stream["stream_id"],))
        try:
            began = time.monotonic()
            answer = pool.submit(publish, http, stream).result(timeout=5)
            took = time.monotonic() - began
        finally:
            change.rollback()
            pool.shutdown()
    assert answer == 503, f"the publish was answered {answer} after {took:.1f} s"
    assert took < 2.0, f"the refusal came {took:.1f} s late, after the ingest's 2 s"
    time.sleep(0.5)
    assert row(target, stream["stream_id"])["status"] == "preparing"


def create_with_window(http: Http, token: str, seconds: int) -> dict[str, Any]:
    body = {"title": "Hill climb", "reconnect_window_seconds": seconds}
    status, created = http.call("POST", "/api/v1/streams", token=token, body=body)
    assert status == 201, created
    assert created["reconnect_window_seconds"] == seconds
    return dict(created)


@pytest.mark.parametrize("window", [-1, 1801, 2.5, True, "5", None, 1800.5])
def test_a_reconnect_window_is_whole_seconds_from_0_to_1800(
    http: Http, ada: tuple[Person, str], window: object
) -> None:
    body = {"title": "x", "reconnect_window_seconds": window}
    status, answer = http.call("POST", "/api/v1/streams", token=ada[1], body=body)
    assert (status, answer["error"]) == (400, "validation_error"), answer
    assert "reconnect_window_seconds" in answer["message"]


def test_an_interrupted_stream_keeps_its_viewers_and_resumes_within_its_window(
    http: Http, target: Target, store: redis.Redis, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    stream = create_with_window(http, ada[1], 3)
    sid = stream["stream_id"]
    ben, cleo = issuer.token_for(Person("Ben")), issuer.token_for(Person("Cleo"))
    assert publish(http, stream, client="1") == 200
    assert http.call("POST", f"/api/v1/streams/{sid}/join", token=ben)[0] == 200
    assert publish_done(http, stream, client="1") == (200, {"status": "interrupted"})
    assert row(target, sid)["status"] == "interrupted"
    assert store.sismember("streams:interrupted", sid)
    assert not store.sismember("streams:active", sid)
    _, seen = http.call("GET", f"/api/v1/streams/{sid}", token=ben)
    assert (seen["status"], seen["current_viewers"]) == ("interrupted", 1)
    assert (seen["interrupted_at"] is None, seen["ended_at"]) == (False, None)
    assert http.call("POST", f"/api/v1/streams/{sid}/join", token=cleo)[0] == 200, (
        "an interrupted stream can be joined"
    )
    assert update(http, stream, client="2") == (200, {"status": "waiting"})
    assert publish(http, stream, key="not-the-key", client="2") == 403
    assert publish(http, stream, client="2") == 200, "the same key is back within the window"
    _, back = http.call("GET", f"/api/v1/streams/{sid}", token=ben)
    assert (back["status"], back["current_viewers"], back["peak_viewers"]) == ("live", 2, 2)
    assert back["interrupted_at"] is None
    assert store.sismember("streams:active", sid)
    assert publish(http, stream, client="3") == 403, "a second broadcaster is refused"

    assert publish_done(http, stream, client="2") == (200, {"status": "interrupted"})
    interrupted_at = http.call("GET", f"/api/v1/streams/{sid}", token=ben)[1]["interrupted_at"]
    eventually(
        lambda: _is(row(target, sid)["status"], "ended"), within=6, what="the window running out"
    )
    _, after = http.call("GET", f"/api/v1/streams/{sid}", token=ada[1])
    assert after["ended_at"] == interrupted_at, "dated when its publisher went away"
    assert (after["current_viewers"], after["peak_viewers"]) == (0, 2)
    assert not store.sismember("streams:interrupted", sid)
    assert publish(http, stream, client="4") == 403, "the key after the window"


def _is(value: object, expected: object) -> None:
    assert value == expected, f"{value!r}, expected {expected!r}"


def test_its_creator_ends_a_stream_on_air_at_once(
    http: Http, target: Target, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    stream = create_with_window(http, ada[1], 600)
    sid, ben = stream["stream_id"], issuer.token_for(Person("Ben"))
    assert http.call("POST", f"/api/v1/streams/{sid}/end", token=ada[1])[0] == 409, "preparing"
    assert publish(http, stream) == 200
    assert publish_done(http, stream) == (200, {"status": "interrupted"})
    status, refused = http.call("POST", f"/api/v1/streams/{sid}/end", token=ben)
    assert (status, refused["error"]) == (403, "forbidden")
    status, ended = http.call("POST", f"/api/v1/streams/{sid}/end", token=ada[1])
    assert (status, ended["status"]) == (200, "ended"), ended
    assert row(target, sid)["status"] == "ended"
    assert http.call("POST", f"/api/v1/streams/{sid}/end", token=ada[1])[0] == 409
    assert publish(http, stream, client="2") == 403
    assert http.call("POST", f"/api/v1/streams/{uuid.uuid4()}/end", token=ada[1])[0] == 404

    live = create(http, ada[1])
    assert publish(http, live, client="5") == 200
    assert http.call("POST", f"/api/v1/streams/{live['stream_id']}/end", token=ada[1])[0] == 200
    assert update(http, live, client="5")[0] == 403, "the ingest drops its publisher"


def test_its_creator_changes_the_window_until_the_stream_ends(
    http: Http, target: Target, issuer: TokenIssuer, ada: tuple[Person, str]
) -> None:
    """Contract: reconnect. PATCH changes the window alone, for its creator, until the end; an
    interrupted stream's new window runs from when it was interrupted."""
    stream = create(http, ada[1])
    sid, ben = stream["stream_id"], issuer.token_for(Person("Ben"))
    path = f"/api/v1/streams/{sid}"

    def change(body: Any, token: str = ada[1], **kw: Any) -> tuple[int, Any]:
        return http.call("PATCH", path, token=token, body=body, **kw)

    status, changed = change({"reconnect_window_seconds": 600})
    assert (status, changed["reconnect_window_seconds"]) == (200, 600), changed

    def window() -> int:
        return int(http.call("GET", path, token=ada[1])[1]["reconnect_window_seconds"])

    assert window() == 600
    refusals = {
        "anyone else": change({"reconnect_window_seconds": 5}, token=ben),
        "a title": change({"title": "new", "reconnect_window_seconds": 5}),
        "no window": change({}),
        "too long": change({"reconnect_window_seconds": 1801}),
        "a list": change([5]),
        "text": http.call("PATCH", path, token=ada[1], raw=b"{}", content_type="text/plain"),
        "no token": http.call("PATCH", path, body={"reconnect_window_seconds": 5}),
        "no stream": http.call(
            "PATCH",
            f"/api/v1/streams/{uuid.uuid4()}",
            token=ada[1],
            body={"reconnect_window_seconds": 5},
        ),
    }
    assert {why: answer[0] for why, answer in refusals.items()} == {
        "anyone else": 403, "a title": 400, "no window": 400, "too long": 400, "a list": 400,
        "text": 415, "no token": 401, "no stream": 404,
    }  # fmt: skip
    assert window() == 600, "a refused change changed it"

    assert publish(http, stream) == 200
    assert publish_done(http, stream) == (200, {"status": "interrupted"})
    assert change({"reconnect_window_seconds": 1})[0] == 200

    def ended() -> None:
        assert row(target, sid)["status"] == "ended", "a window run out ends the stream"

    # Within 10 s: a service just started first gives every stream UNSEEN_FOR to be reported.
    eventually(ended, within=10, what="the stream ended by its shortened window")
    status, refused = change({"reconnect_window_seconds": 60})
    assert (status, refused["error"]) == (409, "ended"), refused


def test_an_interrupted_streams_playlist_and_segments_are_kept_from_cleanup(
    http: Http, stack: EmbeddedStack, ada: tuple[Person, str]
) -> None:
    """nginx-rtmp deletes a playlist not written for its playlist length (4 s), checking every
    8 s: the service marks an interrupted stream's playlist and the segments it lists as fresh
    every second, and leaves everything else (a file the playlist does not list) alone."""
    stream = create_with_window(http, ada[1], 60)
    directory = stack.run_dir / "nginx" / "hls" / stream["stream_id"]
    directory.mkdir(parents=True)
    (directory / "index.m3u8").write_text("#EXTM3U\n#EXTINF:1.000,\n7.ts\n#EXTINF:1.000,\n8.ts\n")
    # Written 2 s before the drop, as the ingest left them: old enough for cleanup soon, not
    # yet (files planted older could be cleaned up before the service's first round).
    planted = time.time() - 2
    for name in ("index.m3u8", "7.ts", "8.ts", "6.ts"):
        (directory / name).touch()
        os.utime(directory / name, (planted, planted))
    assert publish(http, stream) == 200
    assert publish_done(http, stream) == (200, {"status": "interrupted"})

    def kept() -> None:
        for name in ("index.m3u8", "7.ts", "8.ts"):
            marked = (directory / name).stat().st_mtime
            assert marked > planted + 1, f"{name} was not marked since it was written"

    eventually(kept, within=3, what="the playlist and its segments kept fresh")
    unlisted = directory / "6.ts"
    untouched = not unlisted.exists() or abs(unlisted.stat().st_mtime - planted) < 0.01
    assert untouched, "an unlisted file was kept"


def test_only_the_transcoder_may_publish_a_rendition(http: Http, ada: tuple[Person, str]) -> None:
    """Contract: ladder. The transcoder presents the ingest's token as its swfUrl; a publisher
    without it, or with the stream's own key, is refused; a name that is no rendition is invalid."""
    stream = create(http, ada[1])
    rendition = f"{stream['stream_id']}_180p"
    status, body = http.call(
        "POST", "/api/v1/streams/rendition", form={"name": rendition, "swfurl": http.webhook_token}
    )
    assert (status, body) == (200, {"status": "accepted"})
    for swfurl in ("", stream["stream_key"], "not-the-token"):
        status, body = http.call(
            "POST", "/api/v1/streams/rendition", form={"name": rendition, "swfurl": swfurl}
        )
        assert (status, body["error"]) == (403, "forbidden"), swfurl
    status, body = http.call(
        "POST",
        "/api/v1/streams/rendition",
        form={"name": stream["stream_id"], "swfurl": http.webhook_token},
    )
    assert (status, body["error"]) == (400, "validation_error"), "the source is no rendition"

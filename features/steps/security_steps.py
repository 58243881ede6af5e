# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Security: forged calls of the ingest, secrets kept out of logs, and attackers who hold
connections open or send what no client should."""

import json

import allure
from behave import register_type, then, when
from behave.runner import Context

from support.clients.api import room_url
from support.clients.attack import (
    RTMP_ABUSES,
    WEBSOCKET_ABUSES,
    AbusivePage,
    Dropped,
    IdleCrowd,
    Unreachable,
    abuse_rtmp,
)
from support.clients.metrics import scrape
from support.harness.logs import ingest_logged_session, lines_with, places_holding
from support.harness.phrases import one_of
from support.harness.polling import eventually
from support.harness.world import World, world_of
from support.hls.fetch import served_segments

PATIENCE = 30.0  # how long an attack waits for the server before it reports the connection held


register_type(RtmpAbuse=one_of(RTMP_ABUSES), WebSocketAbuse=one_of(WEBSOCKET_ABUSES))


@when("someone forges the ingest's notice that {owner:Name} stopped")
def forged_end(context: Context, owner: str) -> None:
    world = world_of(context)
    form = {"name": world.stream_of(owner).stream_id, "clientid": "1", "call": "publish_done"}
    world.replies["the forger"] = world.call(world.run.api.ingest_call("done", form))


@then("the forger is refused")
def forger_refused(context: Context) -> None:
    reply = world_of(context).reply_to("the forger")
    assert reply.status == 403, (
        f"a call without the ingest's token should be refused: {reply.describe()}"
    )


@then("no server's log holds {owner:Name}'s stream key or the ingest's token")
def secrets_in_no_log(context: Context, owner: str) -> None:
    world = world_of(context)
    embedded, stream = world.run.embedded(), world.stream_of(owner)
    logs = embedded.logs()

    def session_logged() -> None:
        assert ingest_logged_session(logs, stream.stream_id), (
            f"the ingest has not logged {owner}'s broadcast to {stream.stream_id}"
        )

    eventually(session_logged, within=5, what=f"the ingest logging {owner}'s broadcast")
    found = lines_with(logs, stream.stream_key)
    assert not found, "the stream key is in the logs:\n" + "\n".join(found[:10])
    found = lines_with(logs, embedded.webhook_token)
    assert not found, "the ingest's webhook token is in the logs:\n" + "\n".join(found[:10])


@then("{owner:Name}'s stream key is in nothing anyone else was given")
def key_given_to_nobody_else(context: Context, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    eventually(
        lambda: assert_ended_in_analytics(world, stream.stream_id),
        within=15,
        what="the analytics of the ended stream",
    )
    others = [name for name in world.people if name != owner]
    places = {
        f"the events {name} was told": "\n".join(frame.text for frame in viewer.events())
        for name, viewer in world.viewers.items()
    }
    for name in others:
        token = world.token(name)
        shown = world.call(world.run.api.get_stream(token, stream.stream_id))
        listed = world.call(world.run.api.streams(token, "ended"))
        for reply in (shown, listed):  # an error page would hold no key, and prove nothing
            assert reply.status == 200, f"{name} could not look: {reply.describe()}"
        places[f"the stream as {name} sees it"] = json.dumps(shown.body)
        places[f"the ended streams listed to {name}"] = json.dumps(listed.body)
    events = world.run.kafka.events_since(world.marks.kafka, {stream.stream_id})
    assert events, f"no event of {owner}'s stream was found on Kafka to look in"
    places["the events on Kafka"] = "\n".join(json.dumps(event.payload) for event in events)
    places["the metrics"] = world.call(
        scrape(world.run.api.session, world.run.target.metrics_url)
    ).text
    found = places_holding(stream.stream_key, places)
    rows = world.run.clickhouse.rows_holding(stream.stream_key)
    if rows:
        found.append(f"{rows} analytics rows")
    assert not found, "the stream key was given out:\n" + "\n".join(found)


def assert_ended_in_analytics(world: World, stream_id: str) -> None:
    assert world.run.clickhouse.stream(stream_id).ends == 1, "the end is not in the analytics yet"


# ---- Connections held open and broken RTMP -----------------------------------------------------


@when("an attacker holds {count:d} idle connections to the ingest")
def idle_connections(context: Context, count: int) -> None:
    world = world_of(context)
    crowd = world.call(IdleCrowd.open(world.run.target.rtmp_url, count), timeout=60)
    context.add_cleanup(crowd.close)
    world.attacker.idle_crowd = crowd
    allure.attach(str(crowd), name="the attacker's connections")


@then("the ingest drops the attacker's idle connections within {seconds:d} seconds")
def idle_dropped(context: Context, seconds: int) -> None:
    world = world_of(context)
    if world.attacker.idle_crowd is None:
        raise AssertionError("no attacker holds connections in this scenario")
    crowd = world.attacker.idle_crowd
    assert crowd.connections, f"the ingest took none of the attacker's connections ({crowd})"
    dropped, held = world.call(crowd.dropped_within(seconds), timeout=seconds + 30)
    assert held == 0, (
        f"the ingest still held {held} of {dropped + held} silent connections {seconds} s "
        "after they were opened"
    )


@when("an attacker sends {abuse:RtmpAbuse} to the ingest")
def rtmp_abuse(context: Context, abuse: str) -> None:
    world = world_of(context)
    world.attacker.attack = world.run.loop.submit(
        abuse_rtmp(world.run.target.rtmp_url, RTMP_ABUSES[abuse], PATIENCE)
    )


@then("the ingest drops the attacker within {seconds:d} seconds")
def attacker_dropped(context: Context, seconds: int) -> None:
    outcome = world_of(context).attack_outcome(PATIENCE + 10)
    failure = f"the attacker should be dropped within {seconds} s: {outcome}"
    assert isinstance(outcome, Dropped), failure
    assert outcome.after <= seconds, failure


@then("{owner:Name}'s broadcast carries on")
def broadcast_carries_on(context: Context, owner: str) -> None:
    world = world_of(context)
    broadcast, stream = world.broadcast_of(owner), world.stream_of(owner)
    assert broadcast.media_error is None, f"{owner}'s publisher failed: {broadcast.media_error!r}"

    def newest() -> str:
        return world.call(served_segments(world.run.api.session, stream.hls_url))[-1]

    first = eventually(newest, within=10, what=f"{owner}'s playlist")

    def grown() -> None:
        assert newest() != first, "no new segment yet"

    eventually(grown, within=5, what=f"a new segment of {owner}'s stream")
    assert broadcast.media_error is None, f"{owner}'s publisher failed: {broadcast.media_error!r}"


# ---- Abusive pages -------------------------------------------------------------------------


def open_abusive_page(world: World, owner: str, *, reading: bool) -> AbusivePage:
    url = room_url(world.run.target.api_url, world.stream_of(owner).stream_id)
    page = world.call(AbusivePage.open(url, reading=reading))
    assert not isinstance(page, Unreachable), f"the attacker could not open a page: {page}"
    return page


@when("an attacker's page in {owner:Name}'s room sends {abuse:WebSocketAbuse}")
def page_abuse(context: Context, owner: str, abuse: str) -> None:
    world = world_of(context)
    page = open_abusive_page(world, owner, reading=True)
    world.attacker.attack = world.run.loop.submit(page.send(WEBSOCKET_ABUSES[abuse](), PATIENCE))


@when("an attacker's page in {owner:Name}'s room never reads")
def page_never_reads(context: Context, owner: str) -> None:
    world = world_of(context)
    world.attacker.silent_page = open_abusive_page(world, owner, reading=False)


@then("the platform has closed the attacker's page within {seconds:d} seconds")
def silent_page_closed(context: Context, seconds: int) -> None:
    world = world_of(context)
    if world.attacker.silent_page is None:
        raise AssertionError("no attacker's page has stopped reading in this scenario")
    outcome = world.call(world.attacker.silent_page.dropped_within(seconds), timeout=seconds + 10)
    assert isinstance(outcome, Dropped), (
        f"a page that never reads should be closed within {seconds} s: {outcome}"
    )


@then("the attacker's page is closed with code {code:d}")
def page_closed_with(context: Context, code: int) -> None:
    outcome = world_of(context).attack_outcome(PATIENCE + 10)
    failure = f"the attacker's page should be closed with code {code}: {outcome}"
    assert isinstance(outcome, Dropped), failure
    assert outcome.close_code == code, failure

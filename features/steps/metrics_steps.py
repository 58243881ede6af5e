# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""What the platform reports: Prometheus metrics, the Kafka event stream, the analytics."""

import json

from behave import given, then
from behave.runner import Context

from support.clients.metrics import Scrape, counters_went_back, exposition_problems, scrape
from support.core.sequence import expected_events, told
from support.harness.polling import eventually
from support.harness.world import StreamRef, World, world_of
from support.stores.kafka import KafkaEvent


def announced_once(world: World, owner: str, event_type: str) -> KafkaEvent:
    stream = world.stream_of(owner)

    def published() -> KafkaEvent:
        events = world.run.kafka.events_since(world.marks.kafka, {stream.stream_id})
        matching = [e for e in events if e.event_type == event_type]
        assert len(matching) == 1, (
            f"expected one {event_type} for {owner}'s stream, found {len(matching)} among "
            f"{[e.event_type for e in events]}"
        )
        return matching[0]

    event = eventually(published, within=10, what=f"the {event_type} event")
    assert_well_formed([event], stream)
    return event


def assert_well_formed(events: list[KafkaEvent], stream: StreamRef) -> None:
    """Valid by the contract, keyed by the stream, never carrying its key."""
    problems = [f"{e.event_type}: {p}" for e in events for p in e.problems]
    assert not problems, f"events break the contract: {problems}"
    keys = {e.key for e in events}
    assert keys == {stream.stream_id}, f"events are keyed {keys}, not by the stream id"
    payloads = json.dumps([e.payload for e in events])
    assert stream.stream_key not in payloads, "an event carries the stream key"


@then("the platform announces that {owner:Name}'s stream started")
def announced_started(context: Context, owner: str) -> None:
    world = world_of(context)
    event = announced_once(world, owner, "stream.started")
    stream_id = world.stream_of(owner).stream_id
    stream = world.call(world.run.api.get_stream(world.token(owner), stream_id)).body
    told = (event.payload["creator_id"], event.payload["title"])
    assert told == (str(world.person(owner).user_id), stream["title"]), (
        f"stream.started names creator and title {told}, not {owner}'s stream: {stream}"
    )


@then("the platform announces that {owner:Name}'s stream ended after as long as she was live")
def announced_ended(context: Context, owner: str) -> None:
    world = world_of(context)
    event = announced_once(world, owner, "stream.ended")
    world.broadcast_of(owner).check_duration(
        float(event.payload["duration_seconds"]), "the stream.ended event"
    )


@given("the platform's metrics have been read")
def metrics_read(context: Context) -> None:
    world = world_of(context)
    world.marks.metrics = world.call(scrape(world.run.pages, world.run.target.metrics_url))


def metrics_now(world: World) -> tuple[Scrape, Scrape]:
    if world.marks.metrics is None:
        raise AssertionError("the scenario never read the metrics before")
    return world.marks.metrics, world.call(scrape(world.run.pages, world.run.target.metrics_url))


@then("the metrics have changed by:")
def metrics_changed(context: Context) -> None:
    world = world_of(context)
    expected = {row["metric"]: float(row["change"]) for row in context.table}

    def changed() -> None:
        before, after = metrics_now(world)
        actual = {name: after.named(name) - before.named(name) for name in expected}
        wrong = {name: change for name, change in actual.items() if change != expected[name]}
        assert not wrong, f"expected changes {expected}, got {actual}"

    eventually(changed, within=5, what="the metrics changing")


@then("the metrics count failed rounds of event publishing")
def failed_publishing_counted(context: Context) -> None:
    world = world_of(context)

    def counted() -> None:
        before, after = metrics_now(world)
        grown = after.named("failed rounds of event publishing") - before.named(
            "failed rounds of event publishing"
        )
        assert grown >= 1, f"failed rounds of event publishing grew by {grown}, not 1 or more"

    eventually(counted, within=5, what="failed event publishing being counted")


@then("the stream durations have gained one observation of about as long as {owner:Name} was live")
def duration_observed(context: Context, owner: str) -> None:
    world = world_of(context)
    broadcast = world.broadcast_of(owner)

    def observed() -> None:
        before, after = metrics_now(world)
        count = after.named("stream durations observed") - before.named("stream durations observed")
        seconds = after.named("seconds of streams observed") - before.named(
            "seconds of streams observed"
        )
        assert count == 1, f"the duration histogram gained {count} observations"
        broadcast.check_duration(seconds, "the duration histogram")

    eventually(observed, within=5, what="the stream's duration being observed")


@then("the metrics are well formed, with no stream or user in any label")
def metrics_well_formed(context: Context) -> None:
    world = world_of(context)
    _, after = metrics_now(world)
    problems = exposition_problems(after)
    assert not problems, "the metrics break the rules:\n" + "\n".join(problems)
    for name, person in world.people.items():
        assert str(person.user_id) not in after.text, f"a metric names {name}'s user id"
    for owner, stream in world.streams.items():
        assert stream.stream_id not in after.text, f"a metric names {owner}'s stream"


@then("no counter has gone back")
def counters_monotonic(context: Context) -> None:
    before, after = metrics_now(world_of(context))
    went_back = counters_went_back(before, after)
    assert not went_back, "counters decreased:\n" + "\n".join(went_back)


@then("the platform has published, in order, for {owner:Name}'s stream:")
def published_in_order(context: Context, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    expected = expected_events(context.table)

    def published() -> list[KafkaEvent]:
        marks = world.marks.kafka or world.run.kafka.beginning()
        events = world.run.kafka.events_since(marks, {stream.stream_id})
        seen = [told(e.event_type, e.payload) for e in events]
        where = [(e.partition, e.offset, e.payload.get("event_id", "")[:8]) for e in events]
        assert seen == expected, f"Kafka has {seen} at {where}, expected {expected}"
        return events

    events = eventually(published, within=10, what=f"the events of {owner}'s stream on Kafka")
    assert_well_formed(events, stream)
    assert len({e.payload["event_id"] for e in events}) == len(events), "event ids repeat"
    assert len({e.partition for e in events}) == 1, "one stream's events are spread over partitions"


@then("the analytics record {owner:Name}'s stream as:")
def analytics_record(context: Context, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    row = context.table[0]
    wanted = {column: int(row[column]) for column in context.table.headings}

    def recorded() -> None:
        seen = vars(world.run.clickhouse.stream(stream.stream_id))
        differing = {column: seen[column] for column in wanted if seen[column] != wanted[column]}
        assert not differing, f"the analytics have {seen}; expected {wanted}"

    eventually(recorded, within=15, what=f"the analytics of {owner}'s stream")


@then("the platform announces that {owner:Name}'s stream was interrupted and then resumed")
def announced_interrupted_and_resumed(context: Context, owner: str) -> None:
    world = world_of(context)
    interrupted = announced_once(world, owner, "stream.interrupted")
    resumed = announced_once(world, owner, "stream.resumed")
    assert interrupted.offset < resumed.offset, (
        f"stream.resumed (offset {resumed.offset}) came before stream.interrupted "
        f"(offset {interrupted.offset})"
    )
    started = world.run.kafka.events_since(world.marks.kafka, {world.stream_of(owner).stream_id})
    kinds = [e.event_type for e in started]
    assert kinds.count("stream.started") == 1, f"the stream started more than once: {kinds}"

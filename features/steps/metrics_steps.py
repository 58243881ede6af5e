"""What the platform reports to other teams: the Kafka event stream."""

import json

from behave import then
from behave.runner import Context

from support.eventually import eventually
from support.stores.kafka import KafkaEvent
from support.world import World


def announced_once(world: World, owner: str, event_type: str) -> KafkaEvent:
    stream = world.stream_of(owner)

    def published() -> KafkaEvent:
        events = world.run.kafka.events_since(world.kafka_marks, {stream.stream_id})
        matching = [e for e in events if e.event_type == event_type]
        assert len(matching) == 1, (
            f"expected one {event_type} for {owner}'s stream, found {len(matching)} among "
            f"{[e.event_type for e in events]}"
        )
        return matching[0]

    event = eventually(published, within=10, what=f"the {event_type} event")
    assert not event.problems, f"{event_type} breaks the contract: {event.problems}"
    assert event.key == stream.stream_id, (
        f"{event_type} is keyed {event.key!r}, not by the stream id"
    )
    assert stream.stream_key not in json.dumps(event.payload), (
        f"{event_type} carries the stream key"
    )
    return event


@then("the platform announces that {owner:Name}'s stream started")
def announced_started(context: Context, owner: str) -> None:
    world: World = context.world
    event = announced_once(world, owner, "stream.started")
    creator = str(world.person(owner).user_id)
    assert event.payload["creator_id"] == creator, (
        f"stream.started names creator {event.payload['creator_id']}"
    )


@then("the platform announces that {owner:Name}'s stream ended after as long as she was live")
def announced_ended(context: Context, owner: str) -> None:
    world: World = context.world
    event = announced_once(world, owner, "stream.ended")
    broadcast = world.broadcast_of(owner)
    assert broadcast.live_since is not None
    assert broadcast.ended_at is not None
    live_for = broadcast.ended_at - broadcast.live_since
    reported = float(event.payload["duration_seconds"])
    assert abs(reported - live_for) <= 1.0, (
        f"stream.ended reports {reported:.2f} s; {owner} was live for {live_for:.2f} s"
    )

"""Broadcasters and their streams: creating, looking at, and the state a stream is in."""

from behave import given, then, when
from behave.runner import Context

from support.world import StreamRef, World


@given("{name:Name} is a broadcaster")
def a_broadcaster(context: Context, name: str) -> None:
    context.world.person(name)


@given('{name:Name} has created a stream called "{title}"')
@when('{name:Name} creates a stream called "{title}"')
def create_stream(context: Context, name: str, title: str) -> None:
    world: World = context.world
    reply = world.call(world.run.api.create_stream(world.token(name), {"title": title}))
    assert reply.status == 201, f"{name} could not create a stream: {reply.describe()}"
    body = reply.body
    world.streams[name] = StreamRef(
        owner=name,
        stream_id=body["stream_id"],
        stream_key=body["stream_key"],
        publish_url=body["publish_url"],
        hls_url=body["hls_url"],
    )


@when("{name:Name} creates a stream without a title")
def create_untitled_stream(context: Context, name: str) -> None:
    world: World = context.world
    world.replies[name] = world.call(
        world.run.api.create_stream(world.token(name), {"description": "no title given"})
    )


@when("{name:Name} looks at {owner:Name}'s stream")
def look_at_stream(context: Context, name: str, owner: str) -> None:
    world: World = context.world
    stream = world.stream_of(owner)
    world.replies[name] = world.call(world.run.api.get_stream(world.token(name), stream.stream_id))


@then("{owner:Name}'s stream is waiting to go live")
def waiting_to_go_live(context: Context, owner: str) -> None:
    world: World = context.world
    stream = world.stream_of(owner)
    reply = world.call(world.run.api.get_stream(world.token(owner), stream.stream_id))
    assert reply.status == 200, f"{owner} cannot read the stream: {reply.describe()}"
    assert reply.body["status"] == "preparing", (
        f"the API should show the stream as preparing, but shows {reply.body['status']!r}"
    )
    assert reply.body["started_at"] is None, (
        f"a preparing stream has started_at {reply.body['started_at']}"
    )
    row = world.run.postgres.stream(stream.stream_id)
    assert row is not None, f"PostgreSQL has no row for stream {stream.stream_id}"
    assert row["status"] == "preparing", (
        f"PostgreSQL has the stream as {row['status']!r}, not preparing"
    )
    assert not world.run.redis.is_active(stream.stream_id), (
        "Redis counts the stream among active streams"
    )


@then("{owner:Name}'s stream is not among the live streams")
def not_among_live(context: Context, owner: str) -> None:
    world: World = context.world
    stream = world.stream_of(owner)
    reply = world.call(world.run.api.streams(world.token(owner), status="live"))
    assert reply.status == 200, f"the live streams could not be listed: {reply.describe()}"
    live = [listed["stream_id"] for listed in reply.body["streams"]]
    assert stream.stream_id not in live, f"stream {stream.stream_id} is listed as live"


@then("{name:Name} is not shown the stream key")
def not_shown_key(context: Context, name: str) -> None:
    world: World = context.world
    reply = world.reply_to(name)
    assert reply.status == 200, f"{name} could not look at the stream: {reply.describe()}"
    owner_stream = next(s for s in world.streams.values() if s.stream_id == reply.body["stream_id"])
    assert owner_stream.stream_key not in reply.describe(), f"{name} was shown the stream key"


@then("{name:Name}, its creator, is shown the stream key")
def creator_shown_key(context: Context, name: str) -> None:
    world: World = context.world
    stream = world.stream_of(name)
    reply = world.call(world.run.api.get_stream(world.token(name), stream.stream_id))
    assert reply.status == 200, f"{name} could not look at the stream: {reply.describe()}"
    shown = reply.body.get("stream_key")
    assert shown == stream.stream_key, f"{name} should see the key of her own stream, saw {shown!r}"


@then("{name:Name} is told the stream needs a title")
def told_title_needed(context: Context, name: str) -> None:
    reply = context.world.reply_to(name)
    assert reply.status == 400, (
        f"a stream without a title should be refused with 400: {reply.describe()}"
    )
    assert reply.error == "validation_error", f"expected a validation_error, got {reply.describe()}"
    assert "title" in reply.body["message"], (
        f"the refusal does not mention the title: {reply.describe()}"
    )

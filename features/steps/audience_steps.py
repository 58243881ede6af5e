# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""The audience: viewers joining and leaving a stream, and the counts the platform keeps."""

from behave import given, then, when
from behave.runner import Context

from support.clients.api import STREAM_ACTIONS
from support.harness.identity import Person
from support.harness.polling import eventually
from support.harness.world import World, world_of


def join(world: World, viewer: str, owner: str) -> None:
    stream_id = world.stream_of(owner).stream_id
    reply = world.call(world.run.api.join(world.token(viewer), stream_id))
    world.replies[viewer] = reply
    assert reply.status == 200, f"{viewer} could not join {owner}'s stream: {reply.describe()}"


def leave(world: World, viewer: str, owner: str) -> None:
    stream_id = world.stream_of(owner).stream_id
    reply = world.call(world.run.api.leave(world.token(viewer), stream_id))
    world.replies[viewer] = reply
    assert reply.status == 202, f"{viewer} could not leave {owner}'s stream: {reply.describe()}"


@given("{viewer:Name} has joined {owner:Name}'s stream")
@when("{viewer:Name} joins {owner:Name}'s stream")
@when("{viewer:Name} joins {owner:Name}'s stream again")
def joins(context: Context, viewer: str, owner: str) -> None:
    join(world_of(context), viewer, owner)


@when("{viewer:Name} tries to {action:StreamAction} {owner:Name}'s stream")
def tries_to(context: Context, viewer: str, action: str, owner: str) -> None:
    world = world_of(context)
    act = STREAM_ACTIONS[action](world.run.api)
    world.replies[viewer] = world.call(act(world.token(viewer), world.stream_of(owner).stream_id))


@then("{viewer:Name} is told the stream is not live")
def told_not_live(context: Context, viewer: str) -> None:
    reply = world_of(context).reply_to(viewer)
    assert reply.status == 409, f"{viewer} should be told 409, not live: {reply.describe()}"


@given("{viewer:Name} has left {owner:Name}'s stream")
@when("{viewer:Name} leaves {owner:Name}'s stream")
@when("{viewer:Name} leaves {owner:Name}'s stream again")
@when("{viewer:Name}, who never joined, leaves {owner:Name}'s stream")
def leaves(context: Context, viewer: str, owner: str) -> None:
    leave(world_of(context), viewer, owner)


@when("they all join {owner:Name}'s stream")
def crowd_joins(context: Context, owner: str) -> None:
    world = world_of(context)
    tokens = [world.run.tokens.token_for(Person(viewer.name)) for viewer in world.crowd]
    replies = world.call(
        world.run.api.join_all(tokens, world.stream_of(owner).stream_id), timeout=120
    )
    failed = [reply.describe() for reply in replies if reply.status != 200]
    assert not failed, f"{len(failed)} of {len(replies)} joins failed: {failed[:3]}"


@then("{owner:Name}'s stream has {count:d} viewers and a peak of {peak:d} everywhere")
@then("{owner:Name}'s stream has {count:d} viewer and a peak of {peak:d} everywhere")
def counted_everywhere(context: Context, owner: str, count: int, peak: int) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)

    def agree() -> None:
        reply = world.call(world.run.api.get_stream(world.token(owner), stream.stream_id))
        assert reply.status == 200, f"the stream could not be read: {reply.describe()}"
        api = (reply.body["current_viewers"], reply.body["peak_viewers"])
        assert api == (count, peak), f"the API says {api[0]} viewers, peak {api[1]}"
        redis = (world.run.redis.viewers(stream.stream_id), world.run.redis.peak(stream.stream_id))
        assert redis == (count, peak), f"Redis says {redis[0]} viewers, peak {redis[1]}"
        live = reply.body["status"] == "live"
        assert world.run.redis.is_active(stream.stream_id) == live, (
            f"Redis {'does not list' if live else 'still lists'} the {reply.body['status']}"
            " stream among the live ones"
        )
        row = world.run.postgres.stream(stream.stream_id)
        assert row is not None, "PostgreSQL has no row for the stream"
        if not live:  # the contract persists the peak when the stream ends (stores.json)
            assert row["peak_viewers"] == peak, f"PostgreSQL keeps a peak of {row['peak_viewers']}"
        for watcher in world.audience_of(owner):
            changes = [
                f
                for f in watcher.events("viewer_count_changed")
                if f.data["stream_id"] == stream.stream_id
            ]
            assert changes, f"{watcher.name}'s page was never told the count"
            last = (changes[-1].data["viewer_count"], changes[-1].data["peak_viewers"])
            assert last == (count, peak), (
                f"{watcher.name}'s page shows {last[0]} viewers, peak {last[1]}"
            )

    eventually(agree, within=10, what=f"{owner}'s stream counting {count} viewers, peak {peak}")


@then("{owner:Name}'s ended stream keeps a peak of {peak:d} viewers")
def peak_kept(context: Context, owner: str, peak: int) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)

    def kept() -> None:
        row = world.run.postgres.stream(stream.stream_id)
        assert row is not None, f"the database has no row for {owner}'s stream"
        assert row["status"] == "ended", f"the database has the stream {row['status']}"
        assert row["peak_viewers"] == peak, f"the database keeps a peak of {row['peak_viewers']}"
        reply = world.call(world.run.api.get_stream(world.token(owner), stream.stream_id))
        shown = (reply.body["status"], reply.body["current_viewers"], reply.body["peak_viewers"])
        assert shown == ("ended", 0, peak), f"the API shows status, viewers, peak = {shown}"

    eventually(kept, within=5, what=f"{owner}'s ended stream keeping its peak")

"""Viewers: people watching a stream's page, and what its room tells them."""

from behave import given, then
from behave.runner import Context

from support.api import room_url
from support.eventually import eventually
from support.viewer import Frame, Viewer, Watching
from support.world import World


@given("{viewer:Name} is watching {owner:Name}'s stream page")
def watching(context: Context, viewer: str, owner: str) -> None:
    world: World = context.world
    watcher = Viewer(viewer, room_url(world.run.target.api_url, world.stream_of(owner).stream_id))
    world.viewers[viewer] = watcher
    context.add_cleanup(lambda: world.call(watcher.close()))
    outcome = world.call(watcher.connect(world.run.api.session))
    assert isinstance(outcome, Watching), (
        f"{viewer} could not open {owner}'s stream page: {outcome}"
    )


def told_once(world: World, viewer: str, owner: str, event: str) -> Frame:
    watcher, stream_id = world.viewer(viewer), world.stream_of(owner).stream_id

    def received() -> Frame:
        frames = [f for f in watcher.events(event) if f.data.get("stream_id") == stream_id]
        assert frames, f"{viewer} has not received {event}; transcript:\n{watcher.describe()}"
        assert len(frames) == 1, (
            f"{viewer} received {event} {len(frames)} times:\n{watcher.describe()}"
        )
        return frames[0]

    frame = eventually(received, within=5, what=f"{viewer} being told {event}")
    assert not frame.problems, f"{event} breaks the contract: {frame.problems}"
    return frame


@then("{viewer:Name} is told that {owner:Name}'s stream started")
def told_started(context: Context, viewer: str, owner: str) -> None:
    told_once(context.world, viewer, owner, "stream_started")


@then("{viewer:Name} is told that {owner:Name}'s stream ended")
def told_ended(context: Context, viewer: str, owner: str) -> None:
    told_once(context.world, viewer, owner, "stream_ended")

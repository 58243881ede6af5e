# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Viewers: people with a stream's page open, and what its room tells them."""

import allure
from behave import given, then, when
from behave.runner import Context

from support.clients.api import room_url
from support.clients.viewer import (
    CLOSE_NORMAL,
    Frame,
    RoomRefused,
    Viewer,
    Watching,
    close_pages,
    delivery_seconds,
    open_pages,
)
from support.core.sequence import expected_events
from support.core.stats import percentiles
from support.harness.polling import eventually
from support.harness.world import World, world_of
from support.report.plots import latency_histogram


def page_of(world: World, owner: str) -> str:
    return room_url(world.run.target.api_url, world.stream_of(owner).stream_id)


@given("{viewer:Name} is watching {owner:Name}'s stream page")
@when("{viewer:Name} opens {owner:Name}'s stream page")
def watching(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    watcher = Viewer(viewer, page_of(world, owner))
    world.viewers[viewer] = watcher
    context.add_cleanup(lambda: world.call(watcher.close()))
    outcome = world.call(watcher.connect(world.run.pages))
    assert isinstance(outcome, Watching), (
        f"{viewer} could not open {owner}'s stream page: {outcome}"
    )


@given("{count:d} viewers are watching {owner:Name}'s stream page")
def crowd_watching(context: Context, count: int, owner: str) -> None:
    world = world_of(context)
    names = [f"viewer {number}" for number in range(1, count + 1)]
    context.add_cleanup(lambda: world.call(close_pages(world.crowd), timeout=60))
    viewers, refusals = world.call(
        open_pages(world.run.pages, page_of(world, owner), names), timeout=120
    )
    world.crowd.extend(viewers)
    assert not refusals, (
        f"{len(refusals)} of {count} viewers could not open the page: {refusals[:5]}"
    )


@given("a crowd is watching {owner:Name}'s stream page")
def big_crowd_watching(context: Context, owner: str) -> None:
    crowd_watching(context, world_of(context).run.crowd_size, owner)


@when("{viewer:Name} closes {owner:Name}'s stream page")
def closes_page(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    watcher = world.viewer(viewer)
    world.call(watcher.close())


@when("{viewer:Name} opens the page of a stream that does not exist")
def opens_missing_page(context: Context, viewer: str) -> None:
    world = world_of(context)
    watcher = Viewer(viewer, room_url(world.run.target.api_url, world.phantom_stream()))
    context.add_cleanup(lambda: world.call(watcher.close()))
    world.room_outcomes[viewer] = world.call(watcher.connect(world.run.pages))


@then("{viewer:Name} is turned away as the stream is not found")
def turned_away(context: Context, viewer: str) -> None:
    outcome = world_of(context).room_outcomes.get(viewer)
    assert isinstance(outcome, RoomRefused), (
        f"{viewer} should have been turned away by the platform, but: {outcome}"
    )
    assert outcome.status == 404, (
        f"{viewer} was turned away with {outcome.status}, not 404 not found"
    )


def told_once(world: World, viewer: str, owner: str, event: str) -> Frame:
    watcher, stream_id = world.viewer(viewer), world.stream_of(owner).stream_id

    def received() -> Frame:
        frames = watcher.heard(stream_id, event)
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
    told_once(world_of(context), viewer, owner, "stream_started")


@then("{viewer:Name} is told that {owner:Name}'s stream ended")
def told_ended(context: Context, viewer: str, owner: str) -> None:
    told_once(world_of(context), viewer, owner, "stream_ended")


@then("{viewer:Name} is told that the viewer count changed to {count:d}")
def told_count(context: Context, viewer: str, count: int) -> None:
    watcher = world_of(context).viewer(viewer)

    def received() -> None:
        counts = [f.data.get("viewer_count") for f in watcher.events("viewer_count_changed")]
        assert count in counts, (
            f"{viewer} was told counts {counts}; transcript:\n{watcher.describe()}"
        )

    eventually(received, within=5, what=f"{viewer} being told the count is {count}")


@then("{viewer:Name} has been told nothing")
def told_nothing(context: Context, viewer: str) -> None:
    watcher = world_of(context).viewer(viewer)
    assert not watcher.transcript, f"{viewer} was told things:\n{watcher.describe()}"


@then("the platform let {viewer:Name}'s page go cleanly")
def let_go(context: Context, viewer: str) -> None:
    watcher = world_of(context).viewer(viewer)
    assert watcher.close_code == CLOSE_NORMAL, (
        f"the platform did not answer {viewer}'s close with its own close frame "
        f"(RFC 6455 5.5.1); close code {watcher.close_code}:\n{watcher.describe()}"
    )


@then("{viewer:Name} has not been told that {owner:Name}'s stream started")
def not_told_started(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    frames = world.viewer(viewer).heard(world.stream_of(owner).stream_id, "stream_started")
    assert not frames, f"{viewer} was told of a start that happened before arriving: {frames}"


@then("everyone watching {owner:Name}'s stream page is told, in order:")
def told_in_order(context: Context, owner: str) -> None:
    world = world_of(context)
    expected = expected_events(context.table)
    stream_id = world.stream_of(owner).stream_id
    audience = world.audience_of(owner)
    assert audience, f"nobody is watching {owner}'s stream page"
    for watcher in audience:

        def received(watcher: Viewer = watcher) -> list[Frame]:
            frames = watcher.heard(stream_id)
            seen = watcher.told_about(stream_id)
            assert seen == expected, f"{watcher.name} was told {seen}, expected {expected}"
            return frames

        frames = eventually(received, within=5, what=f"{watcher.name} hearing every event")
        problems = [p for f in frames for p in f.problems]
        assert not problems, f"events to {watcher.name} break the contract: {problems}"
        assert len(watcher.transcript) == len(frames), (
            f"{watcher.name} heard more:\n{watcher.describe()}"
        )


@then("every viewer is told that {owner:Name}'s stream ended")
def everyone_told_ended(context: Context, owner: str) -> None:
    world = world_of(context)
    stream_id = world.stream_of(owner).stream_id

    def everyone_heard() -> None:
        missing = [v.name for v in world.crowd if len(v.heard(stream_id, "stream_ended")) != 1]
        assert not missing, (
            f"{len(missing)} of {len(world.crowd)} viewers were not told once: {missing[:5]}"
        )

    eventually(everyone_heard, within=10, what="the end reaching every viewer")


@then("every viewer is told every event of {owner:Name}'s stream")
def everyone_told_everything(context: Context, owner: str) -> None:
    world = world_of(context)
    stream_id = world.stream_of(owner).stream_id
    expected = [("viewer_count_changed", 1, 1), ("stream_ended", None, None)]

    def everyone_heard() -> None:
        wrong = [v for v in world.crowd if v.told_about(stream_id) != expected]
        assert not wrong, (
            f"{len(wrong)} of {len(world.crowd)} viewers did not hear {expected}; "
            f"e.g. {wrong[0].name}: {wrong[0].told_about(stream_id)}"
        )

    eventually(everyone_heard, within=30, what="every event reaching the crowd")


@then("the delivery times are reported")
def delivery_times(context: Context) -> None:
    world = world_of(context)
    frames = [frame for viewer in world.crowd for frame in viewer.transcript]
    delays = [d for d in map(delivery_seconds, frames) if d is not None]
    assert len(delays) == len(frames), f"{len(frames) - len(delays)} events had no usable timestamp"
    table = percentiles(delays)
    text = f"{len(world.crowd)} viewers, {len(delays)} deliveries\n" + "\n".join(
        f"{name:>4}: {seconds * 1000:8.1f} ms" for name, seconds in table.items()
    )
    allure.attach(text, name="delivery latency", attachment_type=allure.attachment_type.TEXT)
    plot = latency_histogram(delays, f"{len(world.crowd)} viewers, {len(delays)} deliveries", table)
    allure.attach(
        plot, name="delivery latency histogram", attachment_type=allure.attachment_type.PNG
    )
    print(text)


@then("{viewer:Name} is told that {owner:Name}'s stream was interrupted")
def told_interrupted(context: Context, viewer: str, owner: str) -> None:
    told_once(world_of(context), viewer, owner, "stream_interrupted")


@then("{viewer:Name} is told that {owner:Name}'s stream resumed")
def told_resumed(context: Context, viewer: str, owner: str) -> None:
    told_once(world_of(context), viewer, owner, "stream_resumed")

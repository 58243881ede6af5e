# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Delay behind the camera: the publisher's stamps read where a viewer meets the video."""

import allure
from behave import then, when
from behave.runner import Context

from support.clients.viewer import room_delays
from support.harness.world import World, world_of
from support.hls.latency import Delays, timed_segments
from support.report.plots import delays_over_time


@when("{owner:Name}'s video is timed for {seconds:d} seconds")
def video_timed(context: Context, owner: str, seconds: int) -> None:
    world = world_of(context)
    url = world.stream_of(owner).hls_url
    delays = world.call(timed_segments(world.run.api.session, url, seconds), timeout=seconds + 30)
    world.watching.delays[owner] = delays


@then("every segment of {owner:Name}'s video was listed within the promised delay of her camera")
def segments_within(context: Context, owner: str) -> None:
    world = world_of(context)
    delays = world.watching.delays.get(owner)
    assert delays is not None, f"{owner}'s video has not been timed in this scenario"
    judge(context, [delays], world.run.target.segment_delay_bound, "segment_delay_bound")


@then("{viewer:Name}'s browser was never further behind {owner:Name}'s camera than promised")
def picture_within(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    playback = world.playback_of(viewer)
    errors = playback.samples[-1].get("errors", []) if playback.samples else []
    assert not errors, f"hls.js reported errors playing the stamped media: {errors}"
    behind = playback.behind()
    judge(context, [behind, *pages_told(world)], world.run.target.playback_delay_bound,
          "playback_delay_bound", judged=behind)  # fmt: skip


@then("{viewer:Name}'s browser is back within the promised delay of {owner:Name}'s camera")
def picture_within_after_return(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    playback = world.watching.players[viewer].playback
    moved = playback.after_stall(world.back_at)
    assert moved is not None, f"{viewer}'s browser never played on after {owner} came back"
    judge(context, [playback.behind().since(moved)], world.run.target.playback_delay_bound,
          "playback_delay_bound")  # fmt: skip


def pages_told(world: World) -> list[Delays]:
    """The room's delays, beside the video's, for every page open in the scenario."""
    frames = [frame for viewer in world.viewers.values() for frame in viewer.transcript]
    return [room_delays(frames)] if frames else []


def judge(
    context: Context,
    delays: list[Delays],
    bound: float | None,
    setting: str,
    judged: Delays | None = None,
) -> None:
    """Attach every delay measured (figures and a plot), then hold the first (or `judged`) to
    the bound the target promises; a target that promises none is reported, not judged."""
    allure.attach("\n".join(d.describe() for d in delays), name="delays behind the camera")
    allure.attach(
        delays_over_time(delays, "behind the camera", {setting: bound} if bound else None),
        name="delays behind the camera over time",
        attachment_type=allure.attachment_type.PNG,
    )
    if bound is None:
        context.scenario.skip(f"the target declares no {setting}: its delays are reported only")
        return
    problems = (judged or delays[0]).beyond(bound)
    assert not problems, "\n".join(problems)

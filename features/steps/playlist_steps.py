# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Playlists and segments: what a viewer downloads over HLS, and what a browser makes of it."""

import time

import allure
from behave import given, then, when
from behave.runner import Context

from support.harness.observe import playlist_status
from support.harness.polling import eventually
from support.harness.world import world_of
from support.hls.browser import Playback, Player, play
from support.hls.continuity import across_interruption
from support.hls.fetch import fetch, served_segments
from support.hls.live import watch
from support.hls.multivariant import (
    ALIGNMENT_RULES,
    BIT_RATE_RULES,
    PLAYLIST_RULES,
    MultivariantReport,
    variants_of,
    watch_ladder,
)
from support.hls.reloads import unchanged_before_gone
from support.media.ffprobe import decoded_frames
from support.report.warnings import attach_warnings


@given("{owner:Name}'s stream can be watched within {seconds:d} seconds")
@then("{owner:Name}'s stream can be watched within {seconds:d} seconds")
def watchable_within(context: Context, owner: str, seconds: int) -> None:
    world = world_of(context)
    stream, broadcast = world.stream_of(owner), world.broadcast_of(owner)

    def playlist_with_a_segment() -> float:
        world.call(served_segments(world.run.api.session, stream.hls_url))
        return time.time()

    ready_at = eventually(
        playlist_with_a_segment, within=seconds + 5, every=0.05, what="the first segment"
    )
    assert broadcast.live_since is not None
    took = ready_at - broadcast.live_since
    allure.attach(f"{took:.2f} s", name="from going live to the first segment")
    assert took <= seconds, (
        f"the first segment came {took:.2f} s after {owner} went live, over {seconds} s"
    )


@then("{viewer:Name} still gets new segments of {owner:Name}'s stream")
def still_growing(context: Context, viewer: str, owner: str) -> None:
    """contract: HLS: the video path does not need the service (nginx serves the playlist as
    written when the service does not answer)."""
    world = world_of(context)
    url = world.stream_of(owner).hls_url
    first = eventually(
        lambda: world.call(served_segments(world.run.api.session, url)),
        within=3,
        what=f"{owner}'s playlist for {viewer}",
    )

    def a_new_segment() -> None:
        now = world.call(served_segments(world.run.api.session, url))
        assert now[-1] != first[-1], f"{viewer} still gets {now[-1]}, the newest before"

    eventually(a_new_segment, within=3, what=f"a new segment of {owner}'s stream for {viewer}")


@when("{viewer:Name} watches {owner:Name}'s stream for {seconds:d} seconds")
def watches(context: Context, viewer: str, owner: str, seconds: int) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)

    def playlist_served() -> None:
        status = playlist_status(world.run, stream.hls_url)
        assert status == 200, f"the playlist answers {status}"

    eventually(playlist_served, within=10, what=f"{owner}'s playlist appearing")
    report = world.call(
        watch(world.run.api.session, stream.hls_url, seconds=seconds, secret=stream.stream_key),
        timeout=seconds + 60,
    )
    world.watching.reports[viewer] = report
    allure.attach(
        report.describe(),
        name=f"what {viewer} downloaded",
        attachment_type=allure.attachment_type.TEXT,
    )


@then("everything {viewer:Name} downloaded was a valid live HLS stream")
def valid_hls(context: Context, viewer: str) -> None:
    report = world_of(context).hls_report(viewer)
    assert report.reloads >= 3, f"only {report.reloads} reloads; the rules across reloads need 3"
    assert len(report.segments) >= 3, f"only {len(report.segments)} segments were checked"
    attach_warnings(report.warnings(), f"what {viewer} downloaded")
    broken = report.failures()
    assert not broken, "the HLS stream breaks the rules:\n" + "\n".join(map(str, broken[:15]))


@when("{viewer:Name} watches every rendition of {owner:Name}'s stream for {seconds:d} seconds")
def watches_ladder(context: Context, viewer: str, owner: str, seconds: int) -> None:
    """Each rendition watched live at once, then the ladder judged over its newest segments."""
    world = world_of(context)
    stream = world.stream_of(owner)
    url = stream.ladder_url
    if url is None:
        context.scenario.skip("the target's streams have no ladder_url: it serves no ladder")
        return

    every_rendition_listed(context, owner, url)
    ladder = world.call(
        watch_ladder(world.run.api.session, url, seconds=seconds, secret=stream.stream_key),
        timeout=seconds + 60,
    )
    world.watching.ladders[viewer] = ladder
    described = [ladder.judged.describe(), *(r.describe() for r in ladder.renditions.values())]
    allure.attach(
        "\n\n".join(described),
        name=f"every rendition {viewer} downloaded",
        attachment_type=allure.attachment_type.TEXT,
    )


def every_rendition_listed(context: Context, owner: str, url: str) -> None:
    """contract: ladder. The source and at least two lower renditions, once each is written."""
    world = world_of(context)

    def listed() -> None:
        found = world.call(variants_of(world.run.api.session, url))
        assert len(found) >= 3, f"the ladder lists {len(found)} renditions: {found}"

    eventually(listed, within=10, what=f"{owner}'s ladder listing 3 renditions")


@then("every rendition {viewer:Name} downloaded was valid live HLS, as the ladder declares")
def valid_ladder(context: Context, viewer: str) -> None:
    ladder = world_of(context).ladder_watch(viewer)
    attach_warnings(ladder.judged.warnings(PLAYLIST_RULES), f"the ladder {viewer} downloaded")
    broken = ladder.judged.failures(PLAYLIST_RULES)
    for url, report in ladder.renditions.items():
        assert report.reloads >= 3, f"{url}: only {report.reloads} reloads"
        attach_warnings(report.warnings(), url)
        broken += report.failures()
    assert not broken, "the ladder breaks the rules:\n" + "\n".join(map(str, broken[:15]))


@then("the bit rates {owner:Name}'s ladder declares are those its segments measure")
def honest_bit_rates(context: Context, owner: str) -> None:
    ladder = only_ladder(context)
    attach_warnings(ladder.warnings(BIT_RATE_RULES), f"{owner}'s declared bit rates")
    judged = ladder.of(BIT_RATE_RULES)
    assert len(judged) >= 2 * len(ladder.variants), f"bit rates judged: {judged}"
    broken = ladder.failures(BIT_RATE_RULES)
    assert not broken, "declared bit rates are not honest:\n" + "\n".join(map(str, broken))


@then("the renditions of {owner:Name}'s ladder line up, so that a player can switch")
def lined_up(context: Context, owner: str) -> None:
    ladder = only_ladder(context)
    attach_warnings(ladder.warnings(ALIGNMENT_RULES), f"{owner}'s renditions lined up")
    judged = ladder.of(ALIGNMENT_RULES)
    assert len(judged) > 3, f"too little was lined up to judge: {judged}"
    broken = ladder.failures(ALIGNMENT_RULES)
    assert not broken, "the renditions do not line up:\n" + "\n".join(map(str, broken[:15]))


def only_ladder(context: Context) -> MultivariantReport:
    """The ladder of the scenario's one viewer who watched one."""
    ladders = list(world_of(context).watching.ladders.values())
    assert len(ladders) == 1, f"{len(ladders)} viewers watched a ladder in this scenario"
    return ladders[0].judged


@then("nothing {viewer:Name} downloaded reveals {owner:Name}'s stream key")
def key_not_revealed(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    report, key = world.hls_report(viewer), world.stream_of(owner).stream_key
    leaking = [url for url in report.urls if key in url]
    assert not leaking, f"HLS addresses carry the stream key: {leaking[:3]}"
    assert key not in report.last_playlist, "the playlist carries the stream key"


@then("what {viewer:Name} downloaded decodes at the frame rate {owner:Name} published, with sound")
def decodes(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    report = world.hls_report(viewer)
    rate = world.broadcast_of(owner).frame_rate
    assert report.segments, f"{viewer} downloaded no segment"
    video, audio = decoded_frames(report.media())
    expected = round(report.seconds * rate)
    assert abs(video - expected) <= 1, (
        f"{len(report.segments)} segments, {report.seconds:.3f} s by the playlist, decode to "
        f"{video} video frames; at the {rate:g} frames a second {owner} published, {expected}"
    )
    assert audio > 0, "the segments carry no decodable sound"


@then("{owner:Name}'s playlist stops growing and then disappears")
def playlist_ends(context: Context, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    seen: list[tuple[float, int, str]] = []

    def gone() -> None:
        status, text = world.call(fetch(world.run.api.session, stream.hls_url))
        seen.append((time.monotonic(), status, text))
        assert status == 404, f"the playlist still answers {status}"

    eventually(gone, within=30, every=0.25, what=f"{owner}'s playlist disappearing")
    still_for = unchanged_before_gone(seen)
    assert still_for >= 2.0, (
        f"the playlist changed {still_for:.2f} s before it disappeared, not 2 s or more"
    )


def player_url(context: Context, owner: str) -> str:
    world = world_of(context)
    page = world.watching.page
    assert page is not None, "a browser scenario needs the @browser tag, which serves the player"
    return page.url_for(world.stream_of(owner).hls_url)


def attach_playback(viewer: str, playback: Playback) -> None:
    allure.attach(playback.summary(), name="playback")
    allure.attach(playback.stalls(), name=f"what {viewer}'s player reported")
    if playback.screenshot:
        allure.attach(
            playback.screenshot,
            name=f"{viewer}'s browser",
            attachment_type=allure.attachment_type.PNG,
        )


@when("{viewer:Name} plays {owner:Name}'s stream in a browser for {seconds:d} seconds")
def plays_in_browser(context: Context, viewer: str, owner: str, seconds: int) -> None:
    playback = play(player_url(context, owner), seconds)
    world_of(context).watching.playbacks[viewer] = playback
    attach_playback(viewer, playback)


@then("{viewer:Name} sees the video play")
def sees_video(context: Context, viewer: str) -> None:
    problems = world_of(context).playback_of(viewer).problems()
    assert not problems, f"{viewer}'s browser did not play the stream: {problems}"


@given("{viewer:Name} is playing {owner:Name}'s ladder in a browser")
def playing_ladder(context: Context, viewer: str, owner: str) -> None:
    """hls.js picks a rendition of the multivariant playlist, relayed on the player page's own
    origin so that Chromium's network emulation applies to it (support/hls/browser.py)."""
    world = world_of(context)
    url, page = world.stream_of(owner).ladder_url, world.watching.page
    assert page is not None, "a browser scenario needs the @browser tag, which serves the player"
    if url is None:
        context.scenario.skip("the target's streams have no ladder_url: it serves no ladder")
        return
    every_rendition_listed(context, owner, url)
    relayed = page.media_url(url.removeprefix(world.run.target.hls_url.rstrip("/") + "/"))
    player = world.watching.players[viewer] = Player(page.url_for(relayed))
    assert player.wait_until(lambda p: bool(p.switches()) and len(p.playing) >= 4, within=20), (
        f"{viewer}'s browser did not play {owner}'s ladder: {player.playback.summary()}"
    )


@when("{viewer:Name}'s network slows to {kbit:d} kbit/s")
def network_slows(context: Context, viewer: str, kbit: int) -> None:
    world_of(context).watching.players[viewer].throttle(kbit)


@then("{viewer:Name}'s browser settles on a lower rendition and plays on for {seconds:d} seconds")
def settles_lower(context: Context, viewer: str, seconds: int) -> None:
    player = world_of(context).watching.players[viewer]
    assert player.throttled is not None, f"{viewer}'s network was never slowed"
    top = player.playback.top_height()
    settled = player.wait_until(lambda p: p.below(top, time.time()), within=20)
    settled_at = time.time()
    player.wait_until(lambda p: p.played_on_for(settled_at) >= seconds, within=seconds + 10)
    playback = player.stop()
    attach_playback(viewer, playback)
    allure.attach(
        "\n".join(map(str, playback.switches())) or "no switch",
        name=f"{viewer}'s renditions, from {top} lines down ({player.throttled[1]} kbit/s)",
    )
    assert settled, f"hls.js stayed on the top rendition at {top} lines: {playback.switches()}"
    problems = playback.between(settled_at).problems(ratio=0.0)
    played = playback.played_on_for(settled_at)
    assert not problems, f"the lower rendition did not play on: {problems}"
    assert played >= seconds, f"it played {played:.2f} s on the lower rendition, not {seconds}"


WATCH_FOR = 16.0  # seconds: the broadcast before, the window's gap, and the media after it


@given("{viewer:Name} is watching {owner:Name}'s video")
def watching_video(context: Context, viewer: str, owner: str) -> None:
    """Ben's player keeps reloading the playlist in the background, whatever happens meanwhile."""
    world = world_of(context)
    stream = world.stream_of(owner)
    job = world.run.loop.submit(
        watch(world.run.api.session, stream.hls_url, seconds=WATCH_FOR, secret=stream.stream_key)
    )
    world.watching.jobs[viewer] = job


@then("{owner:Name}'s video carried on across the interruption for {viewer:Name}")
def carried_on(context: Context, owner: str, viewer: str) -> None:
    world = world_of(context)
    report = world.watching.jobs[viewer].result(timeout=WATCH_FOR + 30)
    world.watching.reports[viewer] = report
    allure.attach(
        report.describe(),
        name=f"what {viewer} downloaded",
        attachment_type=allure.attachment_type.TEXT,
    )
    problems = across_interruption(report)
    assert not problems, f"{owner}'s video did not carry on for {viewer}:\n" + "\n".join(problems)


PLAYS_ON = 3.0  # seconds of video after the interruption: the player did come back


@given("{viewer:Name} is playing {owner:Name}'s stream in a browser")
def playing_in_browser(context: Context, viewer: str, owner: str) -> None:
    """Ben's browser keeps playing in the background, whatever happens meanwhile."""
    player = Player(player_url(context, owner))
    world_of(context).watching.players[viewer] = player
    if not player.wait_until(lambda p: p.played_on_for(0) >= 2.0, within=20):
        problems = player.stop().problems()  # stop() says so if the browser itself failed
        raise AssertionError(f"{viewer}'s browser did not start playing: {problems}")


@then("{viewer:Name}'s browser plays {owner:Name}'s video again without a reload of the page")
def plays_again(context: Context, viewer: str, owner: str) -> None:
    world = world_of(context)
    player = world.watching.players[viewer]
    resumed_at = world.back_at
    assert resumed_at, f"{owner} has not come back in this scenario"
    player.wait_until(lambda p: p.played_on_for(resumed_at) >= PLAYS_ON, within=20)
    playback = player.stop()
    attach_playback(viewer, playback)
    moved = playback.after_stall(resumed_at)
    if moved is not None:
        allure.attach(f"{moved - resumed_at:.2f} s", name=f"from {owner}'s return to playing on")
    problems = playback.problems_across(world.lost_at, resumed_at, plays_on=PLAYS_ON)
    assert not problems, f"{viewer}'s browser did not play on across the interruption: {problems}"

# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Broadcasters and their streams: creating, looking at, and the state a stream is in."""

import time
from collections.abc import Callable

import allure
from behave import given, register_type, then, when
from behave.runner import Context

from support.clients.api import STREAM_ACTIONS
from support.clients.broadcaster import Broadcast, Encoder, publish_url
from support.clients.ffmpeg import FfmpegPublisher
from support.core.eventually import scaled, throughout
from support.harness.netcut import Cut
from support.harness.observe import StreamEverywhere, hls_url_of, never_served, observe
from support.harness.phrases import one_of
from support.harness.polling import eventually
from support.harness.world import World, world_of
from support.rtmp.session import Published, Refused

# How long a stream must stay as it was for "is still live" or "is still ended" to hold.
STILL_FOR = 2.0


@given("{name:Name} is a broadcaster")
def a_broadcaster(context: Context, name: str) -> None:
    world_of(context).person(name)


@given('{name:Name} has created a stream called "{title}"')
@when('{name:Name} creates a stream called "{title}"')
def create_stream(context: Context, name: str, title: str) -> None:
    world = world_of(context)
    reply = world.call(world.run.api.create_stream(world.token(name), {"title": title}))
    assert reply.status == 201, f"{name} could not create a stream: {reply.describe()}"
    world.add_stream(name, reply.body)


@given("{name:Name}'s stream has waited {seconds:d} seconds to go live")
def waited_to_go_live(context: Context, name: str, seconds: int) -> None:
    world_of(context).stream_of(name).wait_until_aged(seconds)


@when("{name:Name} tries to create a stream")
def try_to_create(context: Context, name: str) -> None:
    world = world_of(context)
    world.replies[name] = world.call(world.run.api.create_stream(world.token(name), {"title": "x"}))


@when("{name:Name} creates a stream without a title")
def create_untitled_stream(context: Context, name: str) -> None:
    world = world_of(context)
    world.replies[name] = world.call(
        world.run.api.create_stream(world.token(name), {"description": "no title given"})
    )


@when("{name:Name} looks at {owner:Name}'s stream")
def look_at_stream(context: Context, name: str, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    world.replies[name] = world.call(world.run.api.get_stream(world.token(name), stream.stream_id))


@then("{owner:Name}'s stream is waiting to go live")
def waiting_to_go_live(context: Context, owner: str) -> None:
    world = world_of(context)
    seen = observe(world.run, world.token(owner), world.stream_of(owner).stream_id)
    assert (seen.api_status, seen.db_status) == ("preparing", "preparing"), (
        f"{owner}'s stream should be waiting to go live: {seen.describe()}"
    )
    assert seen.api_started_at is None, f"a waiting stream has a start time: {seen.describe()}"
    assert not seen.active_in_redis, f"a waiting stream is counted active: {seen.describe()}"


@then("{owner:Name}'s stream is not among the live streams")
def not_among_live(context: Context, owner: str) -> None:
    world = world_of(context)
    stream = world.stream_of(owner)
    reply = world.call(world.run.api.streams(world.token(owner), status="live"))
    assert reply.status == 200, f"the live streams could not be listed: {reply.describe()}"
    live = [listed["stream_id"] for listed in reply.body["streams"]]
    assert stream.stream_id not in live, f"stream {stream.stream_id} is listed as live"


@then("{name:Name} is not shown the stream key")
def not_shown_key(context: Context, name: str) -> None:
    world = world_of(context)
    reply = world.reply_to(name)
    assert reply.status == 200, f"{name} could not look at the stream: {reply.describe()}"
    owner_stream = next(s for s in world.streams.values() if s.stream_id == reply.body["stream_id"])
    assert owner_stream.stream_key not in reply.describe(), f"{name} was shown the stream key"


@then("{name:Name}, its creator, is shown the stream key")
def creator_shown_key(context: Context, name: str) -> None:
    world = world_of(context)
    stream = world.stream_of(name)
    reply = world.call(world.run.api.get_stream(world.token(name), stream.stream_id))
    assert reply.status == 200, f"{name} could not look at the stream: {reply.describe()}"
    shown = reply.body.get("stream_key")
    assert shown == stream.stream_key, f"{name} should see the key of her own stream, saw {shown!r}"


@when("{name:Name} {action:StreamAction} a stream that does not exist")
def act_on_missing_stream(context: Context, name: str, action: str) -> None:
    world = world_of(context)
    act = STREAM_ACTIONS[action](world.run.api)
    world.replies[name] = world.call(act(world.token(name), world.phantom_stream()))


@then("{name:Name} is told the stream is not found")
def told_not_found(context: Context, name: str) -> None:
    reply = world_of(context).reply_to(name)
    assert reply.status == 404, f"{name} should be told 404 not found: {reply.describe()}"


@when('{name:Name} asks for the streams that are "{status}"')
def list_by_status(context: Context, name: str, status: str) -> None:
    world = world_of(context)
    world.replies[name] = world.call(world.run.api.streams(world.token(name), status=status))


@then("{name:Name} is told there is no such status")
def told_no_such_status(context: Context, name: str) -> None:
    reply = world_of(context).reply_to(name)
    assert reply.status == 400, f"{name} should be told 400, a bad request: {reply.describe()}"
    assert "status" in reply.body["message"], (
        f"the refusal does not name the status: {reply.describe()}"
    )


@then("{name:Name} is told the stream needs a title")
def told_title_needed(context: Context, name: str) -> None:
    reply = world_of(context).reply_to(name)
    assert reply.status == 400, (
        f"a stream without a title should be refused with 400: {reply.describe()}"
    )
    assert reply.error == "validation_error", f"expected a validation_error, got {reply.describe()}"
    assert "title" in reply.body["message"], (
        f"the refusal does not mention the title: {reply.describe()}"
    )


def start_broadcast(context: Context, url: str) -> Broadcast:
    world = world_of(context)
    broadcast = world.call(Broadcast.start(url))
    context.add_cleanup(lambda: world.call(broadcast.end()))
    return broadcast


@given("{name:Name} has gone live")
@when("{name:Name} goes live")
def go_live(context: Context, name: str) -> None:
    world = world_of(context)
    broadcast = start_broadcast(context, world.stream_of(name).publish_url)
    world.broadcasts[name] = broadcast
    assert isinstance(broadcast.outcome, Published), (
        f"{name} could not go live: {broadcast.outcome}"
    )


@given("{name:Name} has broadcast {seconds:d} seconds of video")
@given("{name:Name} has broadcast {seconds:d} second of video")
def broadcast_for(context: Context, name: str, seconds: int) -> None:
    go_live(context, name)
    broadcast = world_of(context).broadcast_of(name)

    def sent_enough() -> None:
        assert broadcast.media_error is None, f"{name}'s media stopped: {broadcast.media_error!r}"
        sent = broadcast.publisher.media_sent_ms
        assert sent >= seconds * 1000 - 40, f"{name} has sent {sent} ms of media"

    eventually(sent_enough, within=seconds + 5, what=f"{name} broadcasting {seconds} s of video")


@when("{name:Name} ends the broadcast")
def end_broadcast(context: Context, name: str) -> None:
    world_of(context).call(world_of(context).broadcast_of(name).end())


@given("{name:Name} has ended the broadcast")
def has_ended(context: Context, name: str) -> None:
    end_broadcast(context, name)
    ended_everywhere(context, name)


@when("{name:Name}'s connection drops")
def connection_drops(context: Context, name: str) -> None:
    world = world_of(context)
    world.lost_at = time.time()
    world.call(world.broadcast_of(name).drop())


ATTEMPTS: dict[str, Callable[[World, str], tuple[str, str | None]]] = {
    "with a wrong key": lambda world, name: (world.stream_of(name).stream_id, "not-the-key"),
    "without a key": lambda world, name: (world.stream_of(name).stream_id, None),
    "on a stream that does not exist": lambda world, name: (
        world.phantom_stream(),
        world.stream_of(name).stream_key,
    ),
    "again with the same key": lambda world, name: (
        world.stream_of(name).stream_id,
        world.stream_of(name).stream_key,
    ),
}


@when("{name:Name} tries to go live on {owner:Name}'s stream")
def try_someone_elses_stream(context: Context, name: str, owner: str) -> None:
    world = world_of(context)
    url = publish_url(
        world.run.target.rtmp_url,
        world.stream_of(owner).stream_id,
        world.stream_of(name).stream_key,
    )
    world.attempts[name] = start_broadcast(context, url)


register_type(Attempt=one_of(ATTEMPTS))


@when("{name:Name} tries to go live {attempt:Attempt}")
def try_to_go_live(context: Context, name: str, attempt: str) -> None:
    world = world_of(context)
    stream_id, key = ATTEMPTS[attempt](world, name)
    world.attempts[name] = start_broadcast(
        context, publish_url(world.run.target.rtmp_url, stream_id, key)
    )


@when("{name:Name} tries to go live again with the same key {seconds:d} seconds later")
def try_again_later(context: Context, name: str, seconds: int) -> None:
    time.sleep(seconds)  # the broadcaster's own pause, as a person takes it
    try_to_go_live(context, name, "again with the same key")


@when("someone else tries to go live with {owner:Name}'s key")
def someone_else_tries(context: Context, owner: str) -> None:
    world = world_of(context)
    world.attempts["someone else"] = start_broadcast(context, world.stream_of(owner).publish_url)


@then("{name:Name} is refused")
@then("they are refused")
def refused(context: Context, name: str = "someone else") -> None:
    outcome = world_of(context).attempt_of(name).outcome
    assert isinstance(outcome, Refused), (
        f"{name} should have been refused, but was let in: {outcome}"
    )


@then("no stream has gone live")
def no_stream_live(context: Context) -> None:
    world = world_of(context)
    for owner, stream in world.streams.items():
        seen = observe(world.run, world.token(owner), stream.stream_id)
        assert seen.api_status == "preparing", f"{owner}'s stream changed: {seen.describe()}"
        assert seen.db_status == "preparing", f"{owner}'s stream changed: {seen.describe()}"
        assert not seen.active_in_redis, f"{owner}'s stream is counted active: {seen.describe()}"
    since = world.last_attempt_answered()
    for stream_id in {s.stream_id for s in world.streams.values()} | world.phantom_stream_ids:
        never_served(world.run, hls_url_of(world.run.target, stream_id), since=since)
    stream_ids = {s.stream_id for s in world.streams.values()} | world.phantom_stream_ids
    events = world.run.kafka.events_since(world.marks.kafka, stream_ids)
    assert not events, f"a refused publish produced events: {[e.payload for e in events]}"


@then("{name:Name}'s stream is live everywhere")
def live_everywhere(context: Context, name: str) -> None:
    world = world_of(context)
    stream = world.stream_of(name)

    def live() -> None:
        seen = observe(world.run, world.token(name), stream.stream_id)
        assert seen.api_status == "live", f"API: {seen.describe()}"
        assert seen.api_started_at is not None, f"no started_at: {seen.describe()}"
        assert seen.db_status == "live", f"database: {seen.describe()}"
        assert seen.active_in_redis, f"not counted among active streams: {seen.describe()}"
        assert seen.listed_live, f"not listed among live streams: {seen.describe()}"

    eventually(live, within=5, what=f"{name}'s stream being live everywhere")


@then("{name:Name}'s stream is ended by the platform within {seconds:d} seconds")
def ended_by_platform(context: Context, name: str, seconds: int) -> None:
    """An end the platform had to notice itself: dated at the ingest's last report of the
    publisher, so its duration is not the broadcaster's to check."""
    ended_everywhere(context, name, seconds, check_duration=False)


@then("{name:Name}'s stream has ended everywhere")
@then("{name:Name}'s stream has ended everywhere within {seconds:d} seconds")
def ended_everywhere(
    context: Context, name: str, seconds: int = 5, *, check_duration: bool = True
) -> None:
    world = world_of(context)
    stream, broadcast = world.stream_of(name), world.broadcast_of(name)

    def ended() -> StreamEverywhere:
        seen = observe(world.run, world.token(name), stream.stream_id)
        assert seen.api_status == "ended", f"API: {seen.describe()}"
        assert seen.db_status == "ended", f"database: {seen.describe()}"
        assert not seen.active_in_redis, f"still counted among active streams: {seen.describe()}"
        assert not seen.listed_live, f"still listed among live streams: {seen.describe()}"
        return seen

    seen = eventually(ended, within=seconds, what=f"{name}'s stream ending everywhere")
    assert seen.api_duration is not None, f"no start and end times: {seen.describe()}"
    if check_duration:
        broadcast.check_duration(seen.api_duration, "the API (ended_at - started_at)")


def assert_still(world: World, name: str, expected: str, seconds: float = STILL_FOR) -> None:
    """The stream stays as it was for `seconds`: a change the platform makes a moment after the
    step before (an ingest's notice, a reaper's round) is seen."""

    def unchanged() -> None:
        seen = observe(world.run, world.token(name), world.stream_of(name).stream_id)
        assert (seen.api_status, seen.db_status) == (expected, expected), (
            f"{name}'s stream should still be {expected}: {seen.describe()}"
        )
        assert seen.active_in_redis is (expected == "live"), (
            f"active in Redis is wrong: {seen.describe()}"
        )

    def answered() -> None:  # a 503 (a store just back) says nothing of the stream's state
        seen = observe(world.run, world.token(name), world.stream_of(name).stream_id)
        assert seen.api_status is not None, f"the API does not answer: {seen.describe()}"

    eventually(answered, within=5, what=f"the API answering for {name}'s stream")
    throughout(unchanged, until=time.time() + scaled(seconds), what=f"{name}'s stream {expected}")


@then("{name:Name}'s stream is still ended")
def still_ended(context: Context, name: str) -> None:
    assert_still(world_of(context), name, "ended")


@then("{name:Name}'s stream is still live")
def still_live(context: Context, name: str) -> None:
    assert_still(world_of(context), name, "live")


@then("{name:Name}'s stream stays live for {seconds:d} seconds")
def stays_live(context: Context, name: str, seconds: int) -> None:
    assert_still(world_of(context), name, "live", seconds)


@then("{name:Name}'s stream has no video to watch")
def no_video(context: Context, name: str) -> None:
    world = world_of(context)
    never_served(world.run, world.stream_of(name).hls_url, since=world.last_attempt_answered())


@given("{name:Name} has created a stream with a reconnect window of {seconds:d} seconds")
def create_with_window(context: Context, name: str, seconds: int) -> None:
    world = world_of(context)
    body = {"title": "Hill climb", "reconnect_window_seconds": seconds}
    reply = world.call(world.run.api.create_stream(world.token(name), body))
    assert reply.status == 201, f"{name} could not create a stream: {reply.describe()}"
    assert reply.body.get("reconnect_window_seconds") == seconds, (
        f"the stream was created with another window: {reply.describe()}"
    )
    world.add_stream(name, reply.body)
    end_at_cleanup(context, name)


def end_at_cleanup(context: Context, name: str) -> None:
    """A stream with a window outlives its broadcast (interrupted, it ends when the window runs
    out): the scenario ends it at once when it is over, after the broadcast's own cleanup, so
    that it ends in no later scenario on the same platform (a gauge that scenario reads)."""
    world = world_of(context)
    stream = world.stream_of(name)
    context.add_cleanup(
        lambda: world.call(world.run.api.end_stream(world.token(name), stream.stream_id))
    )


@given("{name:Name}'s connection has dropped")
def has_dropped(context: Context, name: str) -> None:
    connection_drops(context, name)
    interrupted_everywhere(context, name)


@then("{name:Name}'s stream is interrupted everywhere")
@then("{name:Name}'s stream is interrupted everywhere within {seconds:d} seconds")
def interrupted_everywhere(context: Context, name: str, seconds: int = 5) -> None:
    world = world_of(context)
    stream = world.stream_of(name)

    def interrupted() -> None:
        seen = observe(world.run, world.token(name), stream.stream_id)
        assert (seen.api_status, seen.db_status) == ("interrupted", "interrupted"), (
            f"{name}'s stream should be interrupted: {seen.describe()}"
        )
        assert seen.api_interrupted_at is not None, f"no interrupted_at: {seen.describe()}"
        assert (seen.interrupted_in_redis, seen.active_in_redis) == (True, False), (
            f"Redis should hold it among the interrupted streams: {seen.describe()}"
        )
        assert not seen.listed_live, f"still listed among live streams: {seen.describe()}"

    eventually(interrupted, within=seconds, what=f"{name}'s stream being interrupted everywhere")


@then("{name:Name}'s stream is still interrupted")
def still_interrupted(context: Context, name: str) -> None:
    assert_still(world_of(context), name, "interrupted")


@given("{name:Name} has gone live again with the same key")
@when("{name:Name} goes live again with the same key")
@when("{name:Name} goes live again with the same key {seconds:d} seconds later")
def live_again(context: Context, name: str, seconds: int = 0) -> None:
    time.sleep(seconds)  # the broadcaster's own pause, as a person takes it
    go_live(context, name)
    world_of(context).back_at = world_of(context).broadcast_of(name).live_since or time.time()


@when("{name:Name} ends her stream through the platform")
def ends_through_api(context: Context, name: str) -> None:
    world = world_of(context)
    stream = world.stream_of(name)
    reply = world.call(world.run.api.end_stream(world.token(name), stream.stream_id))
    assert reply.status == 200, f"{name} could not end her stream: {reply.describe()}"


@given("{name:Name} has changed her stream's reconnect window to {seconds:d} seconds")
@when("{name:Name} changes her stream's reconnect window to {seconds:d} seconds")
def changes_window(context: Context, name: str, seconds: int) -> None:
    world = world_of(context)
    stream = world.stream_of(name)
    reply = world.call(
        world.run.api.change_stream(
            world.token(name), stream.stream_id, {"reconnect_window_seconds": seconds}
        )
    )
    assert reply.status == 200, f"{name} could not change her stream: {reply.describe()}"
    assert reply.body["reconnect_window_seconds"] == seconds, reply.describe()
    end_at_cleanup(context, name)


@given("{name:Name}'s encoder retries every {seconds:d} second")
@given("{name:Name}'s encoder retries every {seconds:d} seconds")
def encoder_retries(context: Context, name: str, seconds: int) -> None:
    world = world_of(context)
    world.encoders[name] = Encoder(world.stream_of(name).publish_url, retry_every=seconds)


@given("{name:Name} is broadcasting through her encoder")
def broadcasting_through_encoder(context: Context, name: str) -> None:
    world = world_of(context)
    encoder = world.encoders[name]
    outcome = world.call(encoder.start())
    context.add_cleanup(lambda: world.call(encoder.stop()))
    assert isinstance(outcome, Published), f"{name}'s encoder could not go live: {outcome}"
    assert encoder.broadcast is not None
    world.broadcasts[name] = encoder.broadcast

    def sent_a_second() -> None:
        sent = encoder.broadcast.publisher.media_sent_ms if encoder.broadcast else 0
        assert sent >= 1000, f"{name}'s encoder has sent {sent} ms of media"

    eventually(sent_a_second, within=5, what=f"{name}'s encoder sending a second of video")


@when("{name:Name}'s network goes silent")
def network_silent(context: Context, name: str) -> None:
    world = world_of(context)
    broadcast = world.broadcast_of(name)
    port = broadcast.publisher.local_port
    assert port is not None, f"{name}'s broadcast has no connection to cut"
    cut = Cut(port)
    cut.apply()
    context.add_cleanup(cut.restore)
    world.lost_at = time.time()


@then("{name:Name}'s encoder is back within {seconds:d} seconds of the loss")
def encoder_back(context: Context, name: str, seconds: int) -> None:
    world = world_of(context)
    encoder = world.encoders[name]

    def back() -> float:
        assert encoder.back_at is not None, f"{name}'s encoder is not back: {encoder.describe()}"
        return encoder.back_at

    back_at = eventually(back, within=seconds + 5, what=f"{name}'s encoder getting back in")
    took = back_at - world.lost_at
    allure.attach(
        encoder.describe(), name=f"{name}'s encoder", attachment_type=allure.attachment_type.TEXT
    )
    assert took <= seconds, (
        f"{name}'s encoder got back {took:.1f} s after the loss: {encoder.describe()}"
    )
    assert encoder.broadcast is not None
    world.broadcasts[name] = encoder.broadcast


@given("{name:Name} is broadcasting with ffmpeg")
def broadcasting_with_ffmpeg(context: Context, name: str) -> None:
    ffmpeg_again(context, name)
    live_everywhere(context, name)


@when("ffmpeg is killed")
def ffmpeg_killed(context: Context) -> None:
    world = world_of(context)
    world.lost_at = time.time()
    for ffmpeg in world.ffmpegs.values():
        ffmpeg.kill()


@when("{name:Name} starts ffmpeg again with the same key")
def ffmpeg_again(context: Context, name: str) -> None:
    world = world_of(context)
    ffmpeg = FfmpegPublisher(world.stream_of(name).publish_url)
    ffmpeg.start()
    context.add_cleanup(ffmpeg.kill)
    world.ffmpegs[name] = ffmpeg
    world.back_at = time.time()

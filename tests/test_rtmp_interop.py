"""The publisher against the real nginx-rtmp of the embedded stack."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

import pytest

from support.clients.api import ApiClient
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.media.ffprobe import streams
from support.media.fixture import FRAME_RATE, clip, looped
from support.rtmp.client import RtmpPublisher
from support.rtmp.session import Published, Refused

pytestmark = pytest.mark.stack


async def new_stream(target: Target, issuer: TokenIssuer) -> tuple[ApiClient, str, dict[str, Any]]:
    api = ApiClient(target.api_url)
    token = issuer.token_for(Person("Ada"))
    reply = await api.create_stream(token, {"title": "interop"})
    return api, token, reply.body


# Fewer seconds than the playlist's 4 s window, so that every fragment is still listed.
SECONDS = 3.5


def test_nginx_packages_every_frame_the_publisher_sent(target: Target, issuer: TokenIssuer) -> None:
    async def scenario() -> tuple[int, str]:
        api, _, stream = await new_stream(target, issuer)
        publisher = RtmpPublisher(stream["publish_url"])
        outcome = await publisher.publish()
        assert isinstance(outcome, Published), outcome
        fixture = clip()
        await publisher.send_media(
            fixture.metadata, fixture.headers, looped(fixture, SECONDS), realtime=False
        )
        await publisher.finish()
        await api.close()
        return publisher.video_frames_sent, stream["hls_url"]

    sent, playlist_url = asyncio.run(scenario())
    deadline = time.monotonic() + 10
    while True:  # the last fragment is written when nginx sees the publisher go
        with urllib.request.urlopen(playlist_url, timeout=5) as response:
            playlist = response.read().decode()
        segments = [line for line in playlist.splitlines() if line.endswith(".ts")]
        if "#EXTINF:0." in playlist or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    base = playlist_url.rsplit("/", 1)[0]
    packaged = b"".join(download(f"{base}/{segment}") for segment in segments)
    video = next(s for s in streams(packaged, count_frames=True) if s["codec_type"] == "video")
    assert video["profile"] == "Constrained Baseline"
    assert int(video["nb_read_frames"]) == sent
    assert sent >= SECONDS * FRAME_RATE - 1, f"only {sent} frames were sent"


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def test_a_wrong_key_is_refused_by_a_closed_connection(target: Target, issuer: TokenIssuer) -> None:
    async def scenario() -> object:
        api, _, stream = await new_stream(target, issuer)
        wrong = stream["publish_url"].replace(stream["stream_key"], "guessed")
        outcome = await RtmpPublisher(wrong).publish()
        await api.close()
        return outcome

    outcome = asyncio.run(scenario())
    assert isinstance(outcome, Refused)
    assert "closed the connection while we waited for publish" in outcome.reason


def test_a_second_publisher_is_refused_while_the_first_is_live(
    target: Target, issuer: TokenIssuer
) -> None:
    async def scenario() -> tuple[object, object, str]:
        api, token, stream = await new_stream(target, issuer)
        first = RtmpPublisher(stream["publish_url"])
        second = RtmpPublisher(stream["publish_url"])
        outcomes = (await first.publish(), await second.publish())
        status = (await api.get_stream(token, stream["stream_id"])).body["status"]
        await first.finish()
        await api.close()
        return *outcomes, status

    first, second, status = asyncio.run(scenario())
    assert isinstance(first, Published)
    assert isinstance(second, Refused)
    assert status == "live", "the refused second publisher must not end the stream"


def test_a_malformed_url_is_rejected_with_what_was_expected() -> None:
    with pytest.raises(
        ValueError, match=r"expected rtmp://host\[:port\]/app/stream-name, got 'http://x/y'"
    ):
        RtmpPublisher("http://x/y")

"""The suite's side of the reconnect window: the verdict on HLS across an interruption, and the
silent network cut (nftables) with the encoder's send timeout that notices it."""

from __future__ import annotations

import socket
import threading
import time
from typing import cast

import pytest

from support.harness.netcut import Cut, why_not
from support.hls.continuity import across_interruption
from support.hls.live import Downloaded, LiveReport
from support.hls.playlist import Segment
from support.hls.reloads import KEEPS_GROWING, SEGMENT_UNCHANGED
from support.media.segments import Timeline


def report_of(*segments: Segment) -> LiveReport:
    report = LiveReport("http://hls/index.m3u8")
    for segment in segments:
        report.segments[segment.sequence] = Downloaded(segment, b"", cast(Timeline, None))
    return report


def seg(number: int, *, discontinuity: bool = False) -> Segment:
    return Segment(number, f"{number}.ts", 1.0, discontinuity=discontinuity)


def test_a_stream_that_carried_on_passes_though_it_stalled_meanwhile() -> None:
    report = report_of(seg(0, discontinuity=True), seg(1), seg(2, discontinuity=True), seg(3))
    report.checks.append(KEEPS_GROWING.check(False, "unchanged for 6 s"))
    assert across_interruption(report) == []


@pytest.mark.parametrize(
    ("segments", "problem"),
    [
        ((seg(0, discontinuity=True), seg(1), seg(2)), "no segment after the first was marked"),
        ((seg(0), seg(1), seg(3, discontinuity=True), seg(4)), "skipped segments [2]"),
        ((seg(0), seg(1), seg(2, discontinuity=True)), "only 1 segment(s) after"),
        ((), "no segment was downloaded"),
    ],
)
def test_a_stream_that_did_not_carry_on_is_named(
    segments: tuple[Segment, ...], problem: str
) -> None:
    problems = across_interruption(report_of(*segments))
    assert any(problem in p for p in problems), problems


def test_any_other_broken_rule_still_fails_the_verdict() -> None:
    report = report_of(seg(0), seg(1), seg(2, discontinuity=True), seg(3))
    report.checks.append(SEGMENT_UNCHANGED.check(False, "1.ts changed its duration"))
    assert len(across_interruption(report)) == 1


def send_for(connection: socket.socket, *, seconds: float) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        connection.send(b"x" * 65536)
        time.sleep(0.05)  # a sender's pace, not a wait for a condition


@pytest.mark.skipif(why_not() is not None, reason=f"no silent cut here: {why_not()}")
def test_a_cut_connection_goes_silent_and_the_send_timeout_notices() -> None:
    """Both ways dropped, no RST: the sender's unacknowledged data times out (TCP_USER_TIMEOUT),
    and a connection made afterwards on another port is untouched; the rules go with restore."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(
        target=lambda: accepted.extend(server.accept()[0] for _ in range(2)), daemon=True
    ).start()
    client = socket.create_connection(server.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 1000)
    cut = Cut(client.getsockname()[1])
    cut.apply()
    try:
        began = time.monotonic()
        with pytest.raises(OSError, match="timed out"):
            send_for(client, seconds=10)
        assert time.monotonic() - began < 5, "the send timeout took too long to notice the cut"
        other = socket.create_connection(server.getsockname(), timeout=2)
        other.sendall(b"still here")
        other.close()
    finally:
        cut.restore()
        client.close()
        server.close()
        for connection in accepted:
            connection.close()

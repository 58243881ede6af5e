"""The asyncio RTMP publisher: feeds the sans-I/O session from a socket and flushes it.

The session (session.py) decides everything RTMP: what to send, what it waits for and what the
outcome is. This shell owns the socket and the clock: it connects (a failed TCP connect is
`Unreachable`), feeds the session what arrives, tells it when the connection closes or the
deadline passes, and paces the media at real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterable
from typing import Any

from support.media import sei
from support.media.flv import VIDEO, FlvTag
from support.rtmp.session import (
    Connected,
    ProbeOutcome,
    Published,
    PublishOutcome,
    PublishSession,
    PublishTarget,
    Unreachable,
)

AHEAD = 0.05  # seconds: how early a real-time publisher may send a frame, with those before it


class RtmpPublisher:
    def __init__(
        self, url: str, *, timeout: float = 10.0, send_timeout: float | None = None
    ) -> None:
        self.target = PublishTarget.parse(url)
        self.timeout = timeout
        # Like ffmpeg's rw_timeout: the connection counts as lost once sent data has gone
        # unacknowledged this long (TCP_USER_TIMEOUT), as when the network vanishes silently.
        self.send_timeout = send_timeout
        self.session = PublishSession(self.target)
        self.video_frames_sent = 0
        self.media_sent_ms = 0
        self.closed = asyncio.Event()
        self._decided = asyncio.Event()
        self._reader_task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._began = 0.0

    @property
    def local_port(self) -> int | None:
        """The port this end of the connection uses: what identifies it on the network."""
        sockname = self._writer.get_extra_info("sockname") if self._writer else None
        return int(sockname[1]) if sockname else None

    @property
    def close_reason(self) -> str:
        return self.session.closed or ""

    # ---- the publish sequence --------------------------------------------------------------

    async def publish(self) -> PublishOutcome:
        """Connect and ask to publish; Published once the server says NetStream.Publish.Start."""
        outcome = await self._run()
        if isinstance(outcome, Published):
            return outcome
        await self.drop()
        if isinstance(outcome, Connected):
            raise TypeError("only a probing session answers Connected")
        return outcome

    async def probe(self) -> ProbeOutcome:
        """Handshake and connect only, then hang up: is an RTMP server answering there?"""
        self.session = PublishSession(self.target, probe=True)
        outcome = await self._run()
        await self.drop()
        if isinstance(outcome, Published):
            raise TypeError("a probing session never publishes")
        return outcome

    async def _run(self) -> PublishOutcome | Connected:
        self._began = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.target.host, self.target.port), self.timeout
            )
        except TimeoutError:
            return Unreachable(
                f"no TCP connection to {self.target.tc_url} within {self.timeout} s",
                self._elapsed(),
            )
        except OSError as error:
            return Unreachable(f"cannot connect to {self.target.tc_url}: {error}", self._elapsed())
        self._writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.send_timeout is not None:
                milliseconds = int(self.send_timeout * 1000)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, milliseconds)
        self._ack_quickly()
        self.session.start()
        await self._flush()
        self._reader_task = asyncio.create_task(self._read_forever(reader), name="rtmp-reader")
        try:
            await asyncio.wait_for(self._decided.wait(), self.timeout)
        except TimeoutError:
            self.session.deadline_passed(self.timeout, self._elapsed())
        if self.session.outcome is None:
            raise AssertionError("the session passed its deadline without an outcome")
        return self.session.outcome

    # ---- media -----------------------------------------------------------------------------

    async def send_media(
        self,
        metadata: dict[str, Any],
        headers: Iterable[FlvTag],
        frames: Iterable[FlvTag],
        *,
        realtime: bool = True,
        stamps: bool = False,
    ) -> None:
        """Metadata, sequence headers, then frames; paced by their timestamps when realtime.
        With `stamps`, each video frame carries the wall-clock instant it was due to go out (when
        a camera would have taken it; support/media/sei.py)."""
        self.session.send_metadata(metadata)
        length_size = 4
        for tag in headers:
            self.session.send_media(tag, timestamp=0)
            if tag.kind == VIDEO:
                length_size = sei.nal_length_size(tag)
        await self._flush()
        started, wall = time.perf_counter(), time.time()
        for frame in frames:
            if self.closed.is_set():
                raise ConnectionError(f"the server closed the connection: {self.close_reason}")
            if realtime:
                # Frames due within AHEAD go out together, in one write: a wake-up per frame
                # (some 70 a second) cost more CPU than all the RTMP work.
                due = started + frame.timestamp / 1000 - time.perf_counter()
                if due > AHEAD:
                    await self._flush()
                    await asyncio.sleep(due)  # pacing media, not waiting for a condition
            sent_at = wall + frame.timestamp / 1000 if realtime else time.time()
            tag = sei.stamped(frame, sent_at, length_size) if stamps else frame
            self.session.send_media(tag)
            if not realtime:
                await self._flush()
            self.video_frames_sent += tag.is_video_frame
            self.media_sent_ms = tag.timestamp
        await self._flush()

    # ---- endings ---------------------------------------------------------------------------

    async def finish(self) -> None:
        """A clean end: FCUnpublish and deleteStream, then close the connection."""
        if self._writer is None or self.closed.is_set():
            await self.drop()
            return
        self.session.finish()
        with contextlib.suppress(ConnectionError):
            await self._flush()
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        await self._stop_reader()

    async def drop(self) -> None:
        """An abrupt end: the TCP connection goes, with no goodbye."""
        if self._writer is not None:
            self._writer.transport.abort()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self.closed.set()

    # ---- plumbing --------------------------------------------------------------------------

    async def _flush(self) -> None:
        data = self.session.data_to_send()
        if data and self._writer is not None:
            self._writer.write(data)
            await self._writer.drain()

    async def _read_forever(self, reader: asyncio.StreamReader) -> None:
        why = "end of stream"
        try:
            while self.session.closed is None and (data := await reader.read(65536)):
                self._ack_quickly()
                self.session.receive_data(data, self._elapsed())
                self._note_outcome()
                await self._flush()
        except OSError as error:  # reset, or timed out (TCP_USER_TIMEOUT: a silent network)
            why = f"connection error: {error!r}"
        except asyncio.CancelledError:
            why = "closed by the publisher"
            raise
        finally:
            if self.session.closed is None:  # not already ended by a protocol error
                self.session.connection_closed(why, self._elapsed())
            self._note_outcome()
            self.closed.set()

    def _note_outcome(self) -> None:
        if self.session.outcome is not None:
            self._decided.set()

    def _ack_quickly(self) -> None:
        """Acknowledge at once (Linux resets TCP_QUICKACK after reads, so set it again each time).

        nginx-rtmp writes its replies as several small segments without TCP_NODELAY; with our
        delayed ACKs each exchange would stall about 40 ms on Nagle's algorithm.
        """
        sock = self._writer.get_extra_info("socket") if self._writer else None
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _elapsed(self) -> float:
        return time.perf_counter() - self._began

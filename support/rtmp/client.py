"""The asyncio RTMP publisher: feeds the sans-I/O connection from a socket and flushes it.

It sends what an encoder (OBS, ffmpeg) sends: connect, releaseStream, FCPublish, createStream,
publish(name, "live"), `@setDataFrame onMetaData`, the AVC and AAC sequence headers, then media at
real-time pace (or as fast as possible), and FCUnpublish + deleteStream at a clean end; or it drops
the TCP connection without a goodbye. Outcomes are values that say what happened: `Published`,
`Refused` (the server said no), `Unreachable` (no RTMP server answered), `Unanswered` (it went
silent) or `ProtocolViolation` (and whose). A scenario accepts only the outcome it names.

Like ffmpeg's client, it ignores what it does not use: notifications without a transaction id,
unknown commands, user-control events and message types.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from support.media.flv import FlvTag
from support.rtmp import amf0
from support.rtmp.connection import ClientConnection
from support.rtmp.errors import LocalProtocolError, RemoteProtocolError
from support.rtmp.messages import CommandMessage, DataMessage, MediaMessage, Message, SetChunkSize

T = TypeVar("T")
CHUNK_SIZE = 4096
FLASH_VERSION = "FMLE/3.0 (compatible; NovaSuite)"


@dataclass(frozen=True)
class Published:
    """The server said NetStream.Publish.Start; times are from the start of the TCP connect."""

    name: str
    connected_after: float
    started_after: float


@dataclass(frozen=True)
class Connected:
    """The server answered connect with _result: an RTMP server is there (a probe's success)."""

    after: float


@dataclass(frozen=True)
class Refused:
    """The server said no: an error status, or it closed the connection after the handshake."""

    reason: str
    after: float


@dataclass(frozen=True)
class Unreachable:
    """No RTMP server answered: the connect failed or timed out, or the handshake never finished."""

    reason: str
    after: float


@dataclass(frozen=True)
class Unanswered:
    """The server finished the handshake, then went silent: no answer to a command in time."""

    waiting_for: str
    after: float

    @property
    def reason(self) -> str:
        return f"no answer to {self.waiting_for} within {self.after:.1f} s"


@dataclass(frozen=True)
class ProtocolViolation:
    """RTMP itself was broken, by the server (bytes that cannot be RTMP) or by the suite."""

    by: str  # "server" or "suite"
    reason: str
    after: float


Failure = Refused | Unreachable | Unanswered | ProtocolViolation
PublishOutcome = Published | Failure
ProbeOutcome = Connected | Failure


@dataclass(frozen=True)
class PublishTarget:
    host: str
    port: int
    app: str
    name: str

    @property
    def tc_url(self) -> str:
        return f"rtmp://{self.host}:{self.port}/{self.app}"

    @classmethod
    def parse(cls, url: str) -> PublishTarget:
        parts = urlsplit(url)
        app, _, name = parts.path.lstrip("/").partition("/")
        if parts.scheme != "rtmp" or not parts.hostname or not app or not name:
            raise ValueError(f"expected rtmp://host[:port]/app/stream-name, got {url!r}")
        # nginx-rtmp hands the query of the stream name to its on_publish webhook (the key).
        return cls(
            parts.hostname,
            parts.port or 1935,
            app,
            f"{name}?{parts.query}" if parts.query else name,
        )


AHEAD = 0.05  # seconds: how early a real-time publisher may send a frame, with those before it


class RtmpPublisher:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.target = PublishTarget.parse(url)
        self.timeout = timeout
        self.connection = ClientConnection()
        self.video_frames_sent = 0
        self.media_sent_ms = 0
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.protocol_error: RemoteProtocolError | None = None
        self._waiting_for = "the TCP connection"
        self._commands: asyncio.Queue[CommandMessage] = asyncio.Queue()
        self._handshaken = asyncio.Event()
        self._reader_task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._stream_id = 0
        self._began = 0.0

    # ---- the publish sequence --------------------------------------------------------------

    async def publish(self) -> PublishOutcome:
        """Connect and ask to publish; Published once the server says NetStream.Publish.Start."""
        outcome = await self._run(self._negotiate())
        if not isinstance(outcome, Published):
            await self.drop()
        return outcome

    async def probe(self) -> ProbeOutcome:
        """Handshake and connect only, then hang up: is an RTMP server answering there?"""
        outcome = await self._run(self._connect())
        await self.drop()
        return Connected(outcome) if isinstance(outcome, float) else outcome

    async def _run(self, negotiation: Coroutine[Any, Any, T]) -> T | Failure:
        self._began = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.target.host, self.target.port), self.timeout
            )
        except TimeoutError:
            negotiation.close()
            return Unreachable(
                f"no TCP connection to {self.target.tc_url} within {self.timeout} s",
                self._elapsed(),
            )
        except OSError as error:
            negotiation.close()
            return Unreachable(f"cannot connect to {self.target.tc_url}: {error}", self._elapsed())
        self._writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ack_quickly()
        self._reader_task = asyncio.create_task(self._read_forever(reader), name="rtmp-reader")
        return await self._outcome(negotiation)

    async def _outcome(self, negotiation: Coroutine[Any, Any, T]) -> T | Failure:
        try:
            return await asyncio.wait_for(negotiation, self.timeout)
        except TimeoutError:
            if not self._handshaken.is_set():
                return Unreachable(
                    f"{self.target.tc_url} accepted the TCP connection but did not finish "
                    f"the RTMP handshake within {self.timeout} s",
                    self._elapsed(),
                )
            return Unanswered(self._waiting_for, self._elapsed())
        except RemoteProtocolError as error:
            return ProtocolViolation("server", f"{error} (while waiting for {self._waiting_for})",
                                     self._elapsed())  # fmt: skip
        except LocalProtocolError as error:
            return ProtocolViolation("suite", str(error), self._elapsed())
        except ConnectionError as error:
            return self._closed_outcome(f"connection error: {error!r}")

    def _closed_outcome(self, why: str) -> Refused | Unreachable:
        """The server hung up: before the handshake no RTMP server answered; after, it said no."""
        if not self._handshaken.is_set():
            return Unreachable(
                f"{self.target.tc_url} closed the connection during the RTMP handshake ({why})",
                self._elapsed(),
            )
        return Refused(
            f"the server closed the connection while we waited for {self._waiting_for} ({why})",
            self._elapsed(),
        )

    async def _connect(self) -> float | Failure:
        """Handshake, then connect to the application; seconds it took, or what went wrong."""
        self.connection.start()
        await self._flush()
        self._waiting_for = "the handshake"
        if not await self._first(self._handshaken):
            self._raise_protocol_error()
            return self._closed_outcome(self.close_reason)
        self._send(SetChunkSize(CHUNK_SIZE))
        self._send(
            CommandMessage(
                "connect",
                1.0,
                {
                    "app": self.target.app,
                    "type": "nonprivate",
                    "flashVer": FLASH_VERSION,
                    "tcUrl": self.target.tc_url,
                },
            )
        )
        await self._flush()
        self._waiting_for = "connect"
        answer = await self._reply(1.0)
        if not isinstance(answer, CommandMessage):
            return answer
        return self._elapsed()

    async def _negotiate(self) -> PublishOutcome:
        connected_after = await self._connect()
        if not isinstance(connected_after, float):
            return connected_after
        self._send(CommandMessage("releaseStream", 2.0, None, (self.target.name,)))
        self._send(CommandMessage("FCPublish", 3.0, None, (self.target.name,)))
        self._send(CommandMessage("createStream", 4.0, None))
        await self._flush()
        self._waiting_for = "createStream"
        created = await self._reply(4.0)
        if not isinstance(created, CommandMessage):
            return created
        self._stream_id = int(created.arguments[0]) if created.arguments else 1
        self._send(
            CommandMessage("publish", 5.0, None, (self.target.name, "live"), self._stream_id)
        )
        await self._flush()
        self._waiting_for = "publish"
        while True:
            status = await self._status()
            if not isinstance(status, dict):
                return status
            if status.get("code") == "NetStream.Publish.Start":
                return Published(self.target.name, connected_after, self._elapsed())
            if status.get("level") == "error":
                return Refused(
                    f"{status.get('code')}: {status.get('description')}", self._elapsed()
                )

    async def _reply(self, transaction: float) -> CommandMessage | Refused | Unreachable:
        while True:
            command = await self._command()
            if not isinstance(command, CommandMessage):
                return command
            if command.transaction_id != transaction:
                continue
            if command.name == "_result":
                return command
            return Refused(f"{command.name}: {command.arguments}", self._elapsed())

    async def _status(self) -> dict[str, Any] | Refused | Unreachable:
        while True:
            command = await self._command()
            if not isinstance(command, CommandMessage):
                return command
            if (
                command.name == "onStatus"
                and command.arguments
                and isinstance(command.arguments[0], dict)
            ):
                return command.arguments[0]

    async def _command(self) -> CommandMessage | Refused | Unreachable:
        """The server's next command, or what its closing the connection first means."""
        getting = asyncio.ensure_future(self._commands.get())
        closing = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait({getting, closing}, return_when=asyncio.FIRST_COMPLETED)
        closing.cancel()
        if getting in done:
            return getting.result()
        getting.cancel()
        self._raise_protocol_error()
        return self._closed_outcome(self.close_reason)

    def _raise_protocol_error(self) -> None:
        """A connection closed because the server broke RTMP is a violation, not a refusal."""
        if self.protocol_error is not None:
            raise self.protocol_error

    # ---- media -----------------------------------------------------------------------------

    async def send_media(
        self,
        metadata: dict[str, Any],
        headers: Iterable[FlvTag],
        frames: Iterable[FlvTag],
        *,
        realtime: bool = True,
    ) -> None:
        """Metadata, sequence headers, then frames; paced by their timestamps when realtime."""
        self._send(
            DataMessage(("@setDataFrame", "onMetaData", amf0.EcmaArray(metadata)), self._stream_id)
        )
        for tag in headers:
            self._send(MediaMessage(tag.kind, 0, tag.data, self._stream_id))
        await self._flush()
        started = time.perf_counter()
        for tag in frames:
            if self.closed.is_set():
                raise ConnectionError(f"the server closed the connection: {self.close_reason}")
            if realtime:
                # Frames due within AHEAD go out together, in one write: a wake-up per frame
                # (some 70 a second) cost more CPU than all the RTMP work.
                due = started + tag.timestamp / 1000 - time.perf_counter()
                if due > AHEAD:
                    await self._flush()
                    await asyncio.sleep(due)  # pacing media, not waiting for a condition
            self._send(MediaMessage(tag.kind, tag.timestamp, tag.data, self._stream_id))
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
        self._send(CommandMessage("FCUnpublish", 6.0, None, (self.target.name,)))
        self._send(CommandMessage("deleteStream", 7.0, None, (float(self._stream_id),)))
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

    def _send(self, message: Message) -> None:
        self.connection.send(message)

    async def _flush(self) -> None:
        data = self.connection.data_to_send()
        if data and self._writer is not None:
            self._writer.write(data)
            await self._writer.drain()

    async def _first(self, event: asyncio.Event) -> bool:
        """Wait for `event` or the connection's end, whichever comes first; True if `event`."""
        waiting = asyncio.ensure_future(event.wait())
        closing = asyncio.ensure_future(self.closed.wait())
        await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        closing.cancel()
        return event.is_set()

    async def _read_forever(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(65536):
                self._ack_quickly()
                for message in self.connection.receive_data(data):
                    if isinstance(message, CommandMessage):
                        self._commands.put_nowait(message)
                if self.connection.handshake.done:
                    self._handshaken.set()
                await self._flush()
            self.close_reason = "end of stream"
        except RemoteProtocolError as error:
            self.protocol_error = error
            self.close_reason = f"protocol error: {error}"
        except ConnectionError as error:
            self.close_reason = f"connection error: {error!r}"
        finally:
            self.closed.set()

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

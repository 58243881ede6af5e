"""A publisher's RTMP session, sans-I/O: what it sends, what it waits for, and what happened.

It sends what an encoder (OBS, ffmpeg) sends: connect, releaseStream, FCPublish, createStream,
publish(name, "live"), then media once the server said NetStream.Publish.Start, and FCUnpublish +
deleteStream at a clean end. It never touches a socket or a clock: the shell feeds it bytes, tells
it the connection closed or a deadline passed, and says when (`now`, seconds since the shell began
connecting); the session decides the outcome, a value that says what happened:

- `Published` (or `Connected`, for a probe): the server accepted;
- `Refused`: the server said no (an error status, an `_error`, or it hung up after the handshake);
- `Unreachable`: no RTMP server answered (the shell's failed TCP connect, or no handshake);
- `Unanswered`: the server finished the handshake, then went silent;
- `ProtocolViolation`: RTMP itself was broken, by the server or by the suite.

Like ffmpeg's client, it ignores what it does not use: notifications without the transaction id
it waits for, unknown commands, user-control events and message types.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from support.media import amf0
from support.media.flv import FlvTag
from support.rtmp.connection import ClientConnection
from support.rtmp.errors import LocalProtocolError, RemoteProtocolError
from support.rtmp.messages import CommandMessage, DataMessage, MediaMessage, SetChunkSize

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


class Stage(Enum):
    """Where the session is; the value is what it waits for there."""

    HANDSHAKE = "the handshake"
    CONNECT = "connect"
    CREATE_STREAM = "createStream"
    PUBLISH = "publish"
    PUBLISHING = "nothing (publishing)"
    FINISHED = "nothing (finished)"


class PublishSession:
    def __init__(
        self,
        target: PublishTarget,
        *,
        probe: bool = False,
        connection: ClientConnection | None = None,
    ) -> None:
        self.target = target
        self.probe = probe  # stop at connect's answer: is an RTMP server there?
        self.connection = connection or ClientConnection()
        self.stage = Stage.HANDSHAKE
        self.outcome: PublishOutcome | Connected | None = None
        self.closed: str | None = None  # why the connection ended, once it has
        self.stream_id = 0
        self._transactions = itertools.count(1)
        self._awaiting = 0.0  # the transaction id whose answer the stage waits for
        self._connected_after = 0.0

    @property
    def waiting_for(self) -> str:
        return self.stage.value

    # ---- inputs ----------------------------------------------------------------------------

    def start(self) -> None:
        """The first bytes to send: C0 and C1."""
        self.connection.start()

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the server; the outcome is decided once an answer settles it."""
        if self.closed is not None:
            raise LocalProtocolError(f"data received after the connection ended ({self.closed})")
        try:
            messages = self.connection.receive_data(data)
            if self.stage is Stage.HANDSHAKE and self.connection.handshake.done:
                self.stage = Stage.CONNECT
                self.connection.send(SetChunkSize(CHUNK_SIZE))
                self._awaiting = self._call("connect", self._connect_object())
            for message in messages:
                if isinstance(message, CommandMessage):
                    self._on_command(message, now)
        except RemoteProtocolError as error:
            self._decide(
                ProtocolViolation("server", f"{error} (while waiting for {self.waiting_for})", now)
            )
            self.closed = f"protocol error: {error}"
        except LocalProtocolError as error:
            self._decide(ProtocolViolation("suite", str(error), now))
            self.closed = f"protocol error: {error}"

    def connection_closed(self, why: str, now: float) -> None:
        """The server hung up: before the handshake no RTMP server answered; after, it said no."""
        if self.stage is Stage.HANDSHAKE:
            self._decide(
                Unreachable(
                    f"{self.target.tc_url} closed the connection during the RTMP handshake ({why})",
                    now,
                )
            )
        else:
            self._decide(
                Refused(
                    f"the server closed the connection while we waited for {self.waiting_for} "
                    f"({why})",
                    now,
                )
            )
        self.closed = self.closed or why

    def deadline_passed(self, waited: float, now: float) -> None:
        """No outcome within `waited` seconds: no RTMP server, or one that went silent."""
        if self.stage is Stage.HANDSHAKE:
            self._decide(
                Unreachable(
                    f"{self.target.tc_url} accepted the TCP connection but did not finish "
                    f"the RTMP handshake within {waited} s",
                    now,
                )
            )
        else:
            self._decide(Unanswered(self.waiting_for, now))

    # ---- what the publisher sends once published ------------------------------------------

    def send_metadata(self, metadata: dict[str, Any]) -> None:
        self._require_publishing("metadata")
        self.connection.send(
            DataMessage(("@setDataFrame", "onMetaData", amf0.EcmaArray(metadata)), self.stream_id)
        )

    def send_media(self, tag: FlvTag, timestamp: int | None = None) -> None:
        self._require_publishing("media")
        stamp = tag.timestamp if timestamp is None else timestamp
        self.connection.send(MediaMessage(tag.kind, stamp, tag.data, self.stream_id))

    def finish(self) -> None:
        """A clean end: FCUnpublish and deleteStream (no answer is awaited)."""
        if self.stage is not Stage.PUBLISHING:
            return
        self._call("FCUnpublish", None, self.target.name)
        self._call("deleteStream", None, float(self.stream_id))
        self.stage = Stage.FINISHED

    def data_to_send(self) -> bytes:
        return self.connection.data_to_send()

    # ---- the state machine -----------------------------------------------------------------

    def _on_command(self, command: CommandMessage, now: float) -> None:
        if self.outcome is not None:
            return
        if self._awaiting and command.transaction_id == self._awaiting:
            if command.name != "_result":
                self._decide(Refused(f"{command.name}: {command.arguments}", now))
            elif self.stage is Stage.CONNECT:
                self._connected(now)
            elif self.stage is Stage.CREATE_STREAM:
                self._stream_created(command)
        elif self.stage is Stage.PUBLISH and command.name == "onStatus":
            status = command.arguments[0] if command.arguments else None
            if not isinstance(status, dict):
                return
            if status.get("code") == "NetStream.Publish.Start":
                self.stage = Stage.PUBLISHING
                self._decide(Published(self.target.name, self._connected_after, now))
            elif status.get("level") == "error":
                self._decide(Refused(f"{status.get('code')}: {status.get('description')}", now))

    def _connected(self, now: float) -> None:
        self._connected_after = now
        if self.probe:
            self._decide(Connected(now))
            return
        self._call("releaseStream", None, self.target.name)
        self._call("FCPublish", None, self.target.name)
        self._awaiting = self._call("createStream", None)
        self.stage = Stage.CREATE_STREAM

    def _stream_created(self, answer: CommandMessage) -> None:
        self.stream_id = int(answer.arguments[0]) if answer.arguments else 1
        self._awaiting = 0.0
        self.connection.send(
            CommandMessage(
                "publish",
                self._next_transaction(),
                None,
                (self.target.name, "live"),
                self.stream_id,
            )
        )
        self.stage = Stage.PUBLISH

    def _connect_object(self) -> dict[str, Any]:
        return {
            "app": self.target.app,
            "type": "nonprivate",
            "flashVer": FLASH_VERSION,
            "tcUrl": self.target.tc_url,
        }

    def _call(self, name: str, command_object: dict[str, Any] | None, *arguments: Any) -> float:
        transaction = self._next_transaction()
        self.connection.send(CommandMessage(name, transaction, command_object, arguments))
        return transaction

    def _next_transaction(self) -> float:
        return float(next(self._transactions))

    def _require_publishing(self, what: str) -> None:
        if self.stage is not Stage.PUBLISHING:
            raise LocalProtocolError(f"cannot send {what} while waiting for {self.waiting_for}")

    def _decide(self, outcome: PublishOutcome | Connected) -> None:
        """The first outcome stands: what happens after it cannot undo it."""
        if self.outcome is None:
            self.outcome = outcome

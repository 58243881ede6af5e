"""The publisher's session on bytes alone: every outcome, with no socket and no clock.

The server's half is built from the codec (its handshake answer and its chunk stream); the
session is fed those bytes with the instant they "arrived" and says what happened.
"""

from __future__ import annotations

from typing import Any

import pytest

from support.media.flv import FlvTag
from support.rtmp.chunks import ChunkReader, ChunkWriter
from support.rtmp.errors import LocalProtocolError
from support.rtmp.handshake import SIZE
from support.rtmp.messages import CommandMessage, SetChunkSize, from_raw, to_raw
from support.rtmp.session import (
    Connected,
    ProtocolViolation,
    Published,
    PublishSession,
    PublishTarget,
    Refused,
    Stage,
    Unanswered,
    Unreachable,
)

TARGET = PublishTarget("127.0.0.1", 1935, "live", "abc?key=k")


class Server:
    """The server's side of a session: answers built with the codec; what the client sent."""

    def __init__(self, session: PublishSession) -> None:
        self.session = session
        self.writer = ChunkWriter(128)
        self.reader = ChunkReader(128)
        self.received: list[Any] = []
        session.start()
        self.c0c1 = session.data_to_send()

    def handshake(self) -> bytes:
        return b"\x03" + bytes(SIZE) + self.c0c1[1:]

    def command(self, name: str, transaction: float, *arguments: Any) -> bytes:
        return self.writer.write(to_raw(CommandMessage(name, transaction, None, arguments)), 3)

    def feed(self, data: bytes, now: float = 0.1) -> None:
        self.session.receive_data(data, now)
        sent = self.session.data_to_send()
        if self.session.connection.handshake.done and len(self.received) == 0:
            sent = sent[SIZE:]  # C2
        for raw in self.reader.feed(sent):
            message = from_raw(raw)
            if isinstance(message, SetChunkSize):
                self.reader.chunk_size = message.size
            self.received.append(message)

    def sent(self, name: str) -> CommandMessage:
        commands = [m for m in self.received if isinstance(m, CommandMessage) and m.name == name]
        assert commands, f"the client never sent {name}: {self.received}"
        return commands[-1]

    def names(self) -> list[str]:
        return [m.name for m in self.received if isinstance(m, CommandMessage)]


def connected(probe: bool = False) -> Server:
    server = Server(PublishSession(TARGET, probe=probe))
    server.feed(server.handshake())
    server.feed(server.command("_result", server.sent("connect").transaction_id), now=0.2)
    return server


def test_publishing_sends_what_an_encoder_sends_and_is_published_at_publish_start() -> None:
    server = connected()
    create = server.sent("createStream")
    server.feed(server.command("_result", create.transaction_id, 1.0), now=0.3)
    publish = server.sent("publish")
    assert publish.arguments == ("abc?key=k", "live")
    assert publish.stream_id == 1
    started = {"level": "status", "code": "NetStream.Publish.Start"}
    server.feed(server.command("onStatus", 0.0, started), now=0.4)
    assert server.session.outcome == Published("abc?key=k", connected_after=0.2, started_after=0.4)
    assert server.names() == ["connect", "releaseStream", "FCPublish", "createStream", "publish"]
    ids = [m.transaction_id for m in server.received if isinstance(m, CommandMessage)]
    assert ids == sorted(set(ids)), f"transaction ids repeat or go back: {ids}"
    server.session.finish()
    server.feed(b"")
    assert server.names()[-2:] == ["FCUnpublish", "deleteStream"]


def test_an_answer_to_another_transaction_is_not_taken_for_the_awaited_one() -> None:
    server = connected()
    create = server.sent("createStream")
    server.feed(server.command("_error", create.transaction_id - 1, "releaseStream unknown"))
    assert server.session.outcome is None
    assert server.session.stage is Stage.CREATE_STREAM


def test_a_probe_is_connected_at_connects_answer_and_sends_nothing_more() -> None:
    server = connected(probe=True)
    assert server.session.outcome == Connected(0.2)
    assert server.names() == ["connect"]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (("_error", "connect"), "_error"),
        (("onStatus", "publish"), "NetStream.Publish.BadName: already publishing"),
    ],
)
def test_the_server_saying_no_is_refused(answer: tuple[str, str], says: str) -> None:
    name, at = answer
    server = Server(PublishSession(TARGET))
    server.feed(server.handshake())
    if at == "connect":
        server.feed(server.command("_error", server.sent("connect").transaction_id))
    else:
        server.feed(server.command("_result", server.sent("connect").transaction_id))
        server.feed(server.command("_result", server.sent("createStream").transaction_id, 1.0))
        bad = {
            "level": "error",
            "code": "NetStream.Publish.BadName",
            "description": "already publishing",
        }
        server.feed(server.command(name, 0.0, bad), now=0.5)
    outcome = server.session.outcome
    assert isinstance(outcome, Refused), outcome
    assert says in outcome.reason


def test_a_hang_up_during_the_handshake_is_unreachable_and_after_it_a_refusal() -> None:
    early = PublishSession(TARGET)
    early.start()
    early.connection_closed("end of stream", 0.05)
    assert isinstance(early.outcome, Unreachable)
    assert "closed the connection during the RTMP handshake" in early.outcome.reason

    server = Server(PublishSession(TARGET))
    server.feed(server.handshake())
    server.session.connection_closed("end of stream", 0.3)
    assert server.session.outcome == Refused(
        "the server closed the connection while we waited for connect (end of stream)", 0.3
    )


@pytest.mark.parametrize(
    ("answered", "waiting_for"), [(0, "connect"), (1, "createStream"), (2, "publish")]
)
def test_silence_after_the_handshake_is_unanswered_and_says_what_it_waited_for(
    answered: int, waiting_for: str
) -> None:
    server = Server(PublishSession(TARGET))
    server.feed(server.handshake())
    for name in ("connect", "createStream")[:answered]:
        server.feed(server.command("_result", server.sent(name).transaction_id, 1.0))
    server.session.deadline_passed(0.5, 0.51)
    assert server.session.outcome == Unanswered(waiting_for, 0.51)


def test_silence_during_the_handshake_is_unreachable() -> None:
    session = PublishSession(TARGET)
    session.start()
    session.deadline_passed(0.5, 0.5)
    assert isinstance(session.outcome, Unreachable)
    assert "did not finish the RTMP handshake within 0.5 s" in session.outcome.reason


def test_bytes_that_are_not_rtmp_are_the_servers_violation_and_end_the_reading() -> None:
    server = Server(PublishSession(TARGET))
    server.feed(b"\x06" + bytes(2 * SIZE))
    outcome = server.session.outcome
    assert isinstance(outcome, ProtocolViolation), outcome
    assert outcome.by == "server"
    assert "RTMP version 6, expected 3" in outcome.reason
    assert "while waiting for the handshake" in outcome.reason
    with pytest.raises(LocalProtocolError, match="after the connection ended"):
        server.session.receive_data(server.handshake(), 0.2)


def test_the_first_outcome_stands() -> None:
    server = connected(probe=True)
    server.session.connection_closed("end of stream", 0.9)
    server.session.deadline_passed(1.0, 1.0)
    assert server.session.outcome == Connected(0.2)


def test_media_before_publish_start_is_the_suites_error() -> None:
    server = connected()
    with pytest.raises(
        LocalProtocolError, match="cannot send media while waiting for createStream"
    ):
        server.session.send_media(FlvTag(9, 0, b"\x17\x01"))

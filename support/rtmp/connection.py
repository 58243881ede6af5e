"""A client's side of one RTMP connection, sans-I/O: bytes in, messages out, bytes to send.

It answers what the protocol itself asks for (pings, acknowledgements of the peer's window) and
applies the peer's chunk size, so the code above it only deals with commands and media. It says
whose a protocol error is, and once the peer has broken RTMP it reads nothing more from it (h11's
ERROR state): bytes after a broken chunk cannot be framed, so parsing them would only invent
messages.
"""

from __future__ import annotations

from support.media.amf0 import Amf0Error
from support.rtmp.chunks import ChunkReader, ChunkWriter
from support.rtmp.errors import LocalProtocolError, Malformed, RemoteProtocolError
from support.rtmp.handshake import ClientHandshake
from support.rtmp.messages import (
    AUDIO,
    PING_REQUEST,
    PING_RESPONSE,
    Acknowledgement,
    CommandMessage,
    DataMessage,
    MediaMessage,
    Message,
    SetChunkSize,
    UserControl,
    WindowAckSize,
    from_raw,
    to_raw,
)

CONTROL_CSID, COMMAND_CSID, STREAM_COMMAND_CSID, AUDIO_DATA_CSID, VIDEO_CSID = 2, 3, 8, 4, 6


def chunk_stream_for(message: Message) -> int:
    """The chunk streams encoders use: control 2, commands 3 (8 on a media stream), a/v 4 and 6."""
    if isinstance(message, CommandMessage):
        return STREAM_COMMAND_CSID if message.stream_id else COMMAND_CSID
    if isinstance(message, DataMessage):
        return AUDIO_DATA_CSID
    if isinstance(message, MediaMessage):
        return AUDIO_DATA_CSID if message.type_id == AUDIO else VIDEO_CSID
    return CONTROL_CSID


class ClientConnection:
    def __init__(
        self, *, max_message_size: int | None = 16 * 1024 * 1024, random: bytes | None = None
    ) -> None:
        self.handshake = ClientHandshake(random)
        self.reader = ChunkReader(max_message_size=max_message_size)
        self.writer = ChunkWriter()
        self.bytes_received = 0
        self.peer_window: int | None = None
        self._acknowledged = 0
        self._outgoing = bytearray()
        self.peer_error: RemoteProtocolError | None = None

    def start(self) -> None:
        self._outgoing += self.handshake.start()

    def receive_data(self, data: bytes) -> list[Message]:
        """The messages these bytes complete; RemoteProtocolError if they cannot be RTMP, and for
        every call after that."""
        if self.peer_error is not None:
            raise RemoteProtocolError(
                f"the server already broke RTMP ({self.peer_error}); nothing after it is read"
            )
        self.bytes_received += len(data)
        try:
            if not self.handshake.done:
                c2, data = self.handshake.receive(data)
                self._outgoing += c2
            messages = [from_raw(raw) for raw in self.reader.feed(data)] if data else []
        except (Malformed, Amf0Error) as error:
            self.peer_error = RemoteProtocolError(f"the server broke RTMP: {error}")
            raise self.peer_error from error
        for message in messages:
            if isinstance(message, WindowAckSize):
                self.peer_window = message.size
            elif isinstance(message, UserControl) and message.event == PING_REQUEST:
                self.send(UserControl(PING_RESPONSE, message.value))
        if self.peer_window and self.bytes_received - self._acknowledged >= self.peer_window:
            self._acknowledged = self.bytes_received
            self.send(Acknowledgement(self.bytes_received))
        return messages

    def send(self, message: Message, csid: int | None = None) -> None:
        if not self.handshake.done:
            raise LocalProtocolError(
                f"cannot send {type(message).__name__} before the handshake is done"
            )
        try:
            raw = to_raw(message)
        except (Malformed, Amf0Error) as error:
            raise LocalProtocolError(
                f"the suite cannot send {type(message).__name__}: {error}"
            ) from error
        self._outgoing += self.writer.write(raw, csid or chunk_stream_for(message))
        if isinstance(message, SetChunkSize):
            self.writer.chunk_size = message.size

    def data_to_send(self) -> bytes:
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

"""RTMP messages as frozen dataclasses, and their conversion to and from raw message payloads."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from support.media import amf0
from support.rtmp.errors import Malformed

SET_CHUNK_SIZE, ABORT, ACKNOWLEDGEMENT, USER_CONTROL = 1, 2, 3, 4
WINDOW_ACK_SIZE, SET_PEER_BANDWIDTH, AUDIO, VIDEO, DATA, COMMAND = 5, 6, 8, 9, 18, 20

STREAM_BEGIN, STREAM_EOF, STREAM_DRY, SET_BUFFER_LENGTH, STREAM_IS_RECORDED = 0, 1, 2, 3, 4
PING_REQUEST, PING_RESPONSE = 6, 7


@dataclass(frozen=True)
class RawMessage:
    """A message as the chunk stream carries it: header fields and an opaque payload."""

    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass(frozen=True)
class SetChunkSize:
    size: int


@dataclass(frozen=True)
class Abort:
    chunk_stream_id: int


@dataclass(frozen=True)
class Acknowledgement:
    sequence_number: int


@dataclass(frozen=True)
class WindowAckSize:
    size: int


@dataclass(frozen=True)
class SetPeerBandwidth:
    size: int
    limit_type: int


@dataclass(frozen=True)
class UserControl:
    """An event and its 4-byte value (stream id or ping time); SetBufferLength has a second."""

    event: int
    value: int
    buffer_length: int | None = None


@dataclass(frozen=True)
class CommandMessage:
    name: str
    transaction_id: float
    command_object: Any = None
    arguments: tuple[Any, ...] = ()
    stream_id: int = 0


@dataclass(frozen=True)
class DataMessage:
    values: tuple[Any, ...]
    stream_id: int = 0


@dataclass(frozen=True)
class UnknownMessage:
    """A message type the publisher has no use for (AMF3, shared objects, aggregates).

    Kept as it came, not an error: ffmpeg's client ignores such messages too.
    """

    type_id: int
    stream_id: int
    payload: bytes


@dataclass(frozen=True)
class MediaMessage:
    """Audio (type 8) or video (type 9): one FLV tag body."""

    type_id: int
    timestamp: int
    payload: bytes
    stream_id: int = 1


Message = (
    SetChunkSize
    | Abort
    | Acknowledgement
    | WindowAckSize
    | SetPeerBandwidth
    | UserControl
    | CommandMessage
    | DataMessage
    | MediaMessage
    | UnknownMessage
)


def to_raw(message: Message) -> RawMessage:
    """Serialise a message into what the chunk stream carries."""
    match message:
        case SetChunkSize(size):
            if not 1 <= size <= 0x7FFFFFFF:
                raise Malformed(f"chunk size {size} is outside 1..2^31-1")
            return RawMessage(SET_CHUNK_SIZE, 0, 0, struct.pack(">I", size))
        case Abort(chunk_stream_id):
            return RawMessage(ABORT, 0, 0, struct.pack(">I", chunk_stream_id))
        case Acknowledgement(sequence_number):
            return RawMessage(
                ACKNOWLEDGEMENT, 0, 0, struct.pack(">I", sequence_number & 0xFFFFFFFF)
            )
        case WindowAckSize(size):
            return RawMessage(WINDOW_ACK_SIZE, 0, 0, struct.pack(">I", size))
        case SetPeerBandwidth(size, limit_type):
            return RawMessage(SET_PEER_BANDWIDTH, 0, 0, struct.pack(">IB", size, limit_type))
        case UserControl(event, value, buffer_length):
            payload = struct.pack(">HI", event, value)
            if event == SET_BUFFER_LENGTH:
                payload += struct.pack(">I", buffer_length or 0)
            return RawMessage(USER_CONTROL, 0, 0, payload)
        case CommandMessage(name, transaction_id, command_object, arguments, stream_id):
            payload = amf0.encode(name, transaction_id, command_object, *arguments)
            return RawMessage(COMMAND, stream_id, 0, payload)
        case DataMessage(values, stream_id):
            return RawMessage(DATA, stream_id, 0, amf0.encode(*values))
        case MediaMessage(type_id, timestamp, payload, stream_id):
            return RawMessage(type_id, stream_id, timestamp, payload)
        case UnknownMessage(type_id, stream_id, payload):
            return RawMessage(type_id, stream_id, 0, payload)
    raise TypeError(f"not an RTMP message: {message!r}")


def from_raw(raw: RawMessage) -> Message:
    """Parse a raw message; a malformed payload raises Malformed, an unknown type is kept."""
    payload, kind = raw.payload, raw.type_id
    if kind in (SET_CHUNK_SIZE, ABORT, ACKNOWLEDGEMENT, WINDOW_ACK_SIZE):
        (value,) = struct.unpack(">I", exactly(payload, 4, kind))
        if kind == SET_CHUNK_SIZE:
            return SetChunkSize(value & 0x7FFFFFFF)
        if kind == ABORT:
            return Abort(value)
        if kind == ACKNOWLEDGEMENT:
            return Acknowledgement(value)
        return WindowAckSize(value)
    if kind == SET_PEER_BANDWIDTH:
        return SetPeerBandwidth(*struct.unpack(">IB", exactly(payload, 5, kind)))
    if kind == USER_CONTROL:
        if len(payload) < 6:
            raise Malformed(f"user control message of {len(payload)} bytes, expected at least 6")
        event, value = struct.unpack(">HI", payload[:6])
        if event == SET_BUFFER_LENGTH:
            (length,) = struct.unpack(">I", exactly(payload, 10, kind)[6:])
            return UserControl(event, value, length)
        return UserControl(event, value)
    if kind == COMMAND:
        values = amf0.decode(payload)
        if not values or not isinstance(values[0], str):
            raise Malformed(f"command message without a name: {values!r}")
        # Servers send notifications with no transaction id (ffmpeg's listener: onFCPublish).
        transaction = values[1] if len(values) > 1 and isinstance(values[1], float) else 0.0
        return CommandMessage(
            values[0],
            transaction,
            values[2] if len(values) > 2 else None,
            tuple(values[3:]),
            raw.stream_id,
        )
    if kind == DATA:
        return DataMessage(tuple(amf0.decode(payload)), raw.stream_id)
    if kind in (AUDIO, VIDEO):
        return MediaMessage(kind, raw.timestamp, payload, raw.stream_id)
    return UnknownMessage(kind, raw.stream_id, payload)


def exactly(payload: bytes, size: int, kind: int) -> bytes:
    if len(payload) != size:
        raise Malformed(f"message type {kind} has {len(payload)} bytes, expected {size}")
    return payload

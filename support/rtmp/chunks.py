"""The RTMP chunk stream: messages cut into chunks with compressed headers, and put back together.

Both directions are sans-I/O: `ChunkWriter.write` returns bytes, `ChunkReader.feed` takes bytes
and returns the messages they completed. All four header formats are written and read, with
extended timestamps (also repeated on type-3 continuation chunks, as the spec says).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from support.rtmp.errors import Malformed
from support.rtmp.messages import ABORT, SET_CHUNK_SIZE, RawMessage

DEFAULT_CHUNK_SIZE = 128
EXTENDED = 0xFFFFFF
MAX_CHUNK_STREAM_ID = 65599


def basic_header(fmt: int, csid: int) -> bytes:
    if not 2 <= csid <= MAX_CHUNK_STREAM_ID:
        raise Malformed(f"chunk stream id {csid} is outside 2..{MAX_CHUNK_STREAM_ID}")
    if csid <= 63:
        return bytes([fmt << 6 | csid])
    if csid <= 319:
        return bytes([fmt << 6, csid - 64])
    return bytes([fmt << 6 | 1]) + struct.pack("<H", csid - 64)


@dataclass
class ChunkState:
    """What a chunk stream remembers of its last message header, per direction."""

    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False


class ChunkWriter:
    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.chunk_size = chunk_size
        self._states: dict[int, ChunkState] = {}

    def write(self, message: RawMessage, csid: int) -> bytes:
        """Chunks of one message, with the smallest header the previous one on `csid` allows."""
        previous = self._states.get(csid)
        length = len(message.payload)
        timestamp = message.timestamp & 0xFFFFFFFF
        if (
            previous is None
            or message.stream_id != previous.stream_id
            or timestamp < previous.timestamp
        ):
            fmt, field = 0, timestamp
        else:
            delta = timestamp - previous.timestamp
            field = delta
            if length != previous.length or message.type_id != previous.type_id:
                fmt = 1
            elif delta != previous.delta or previous.extended or delta >= EXTENDED:
                # A type-3 header inherits "extended" from the one before; never leave it ambiguous.
                fmt = 2
            else:
                fmt = 3
        extended = field >= EXTENDED
        header = basic_header(fmt, csid)
        ts_bytes = (EXTENDED if extended else field).to_bytes(3, "big")
        if fmt == 0:
            header += ts_bytes + length.to_bytes(3, "big") + bytes([message.type_id])
            header += struct.pack("<I", message.stream_id)
        elif fmt == 1:
            header += ts_bytes + length.to_bytes(3, "big") + bytes([message.type_id])
        elif fmt == 2:
            header += ts_bytes
        extension = struct.pack(">I", field) if extended else b""
        out = bytearray(header + extension)
        out += message.payload[: self.chunk_size]
        continuation = basic_header(3, csid) + extension
        for start in range(self.chunk_size, length, self.chunk_size):
            out += continuation + message.payload[start : start + self.chunk_size]
        self._states[csid] = ChunkState(
            timestamp=timestamp,
            delta=timestamp - previous.timestamp if previous and fmt else 0,
            length=length,
            type_id=message.type_id,
            stream_id=message.stream_id,
            extended=extended,
        )
        return bytes(out)


@dataclass
class Assembly:
    """A message being put back together from its chunks."""

    state: ChunkState
    payload: bytearray


class ChunkReader:
    def __init__(
        self, chunk_size: int = DEFAULT_CHUNK_SIZE, max_message_size: int | None = 16 * 1024 * 1024
    ) -> None:
        self.chunk_size = chunk_size
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._offset = 0  # bytes consumed before the buffer's start, for error messages
        self._states: dict[int, ChunkState] = {}
        self._partial: dict[int, Assembly] = {}

    def feed(self, data: bytes) -> list[RawMessage]:
        """Messages completed by `data`; an incomplete chunk waits for more bytes."""
        self._buffer += data
        messages = []
        while (parsed := self._next_chunk()) is not None:
            if parsed.type_id == SET_CHUNK_SIZE and len(parsed.payload) == 4:
                # Applies to the very next chunk, which may already be in the buffer.
                size = struct.unpack(">I", parsed.payload)[0] & 0x7FFFFFFF
                if size == 0:  # RTMP 5.4.1: a chunk size is 1 to 2^31-1
                    raise Malformed(f"chunk size 0 set at byte {self._offset}")
                self.chunk_size = size
            elif parsed.type_id == ABORT and len(parsed.payload) == 4:
                self._partial.pop(struct.unpack(">I", parsed.payload)[0], None)
            messages.append(parsed)
        return messages

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _next_chunk(self) -> RawMessage | None:
        """Consume one whole chunk if buffered; return the message it completes, if any."""
        while True:
            buffer, at = self._buffer, 0
            if not buffer:
                return None
            fmt, csid = buffer[0] >> 6, buffer[0] & 0x3F
            at = 1
            if csid in (0, 1):
                width = 1 if csid == 0 else 2
                if len(buffer) < 1 + width:
                    return None
                csid = 64 + (buffer[1] if csid == 0 else int.from_bytes(buffer[1:3], "little"))
                at += width
            header_size = (11, 7, 3, 0)[fmt]
            if len(buffer) < at + header_size:
                return None
            previous = self._states.get(csid)
            if fmt != 0 and previous is None:
                raise Malformed(
                    f"chunk of format {fmt} on chunk stream {csid} at byte {self._offset} "
                    "has no previous header to refer to"
                )
            state = ChunkState(**vars(previous)) if previous else ChunkState()
            field = int.from_bytes(buffer[at : at + 3], "big") if fmt < 3 else None
            if fmt <= 1:
                state.length = int.from_bytes(buffer[at + 3 : at + 6], "big")
                state.type_id = buffer[at + 6]
            if fmt == 0:
                state.stream_id = struct.unpack("<I", buffer[at + 7 : at + 11])[0]
            at += header_size
            if field is not None:
                state.extended = field == EXTENDED
            if state.extended:
                if len(buffer) < at + 4:
                    return None
                extended_value = struct.unpack(">I", buffer[at : at + 4])[0]
                at += 4
                if field is not None:
                    field = extended_value
            assembly = self._partial.get(csid)
            if fmt == 0:
                state.timestamp, state.delta = field or 0, 0
            elif fmt in (1, 2):
                state.delta = field or 0
                state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF
            elif assembly is None:  # type 3 opening a new message: same delta again
                state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF
            if assembly is not None and fmt != 3:
                raise Malformed(
                    f"chunk stream {csid} got a format {fmt} header at byte {self._offset} "
                    f"while {len(assembly.payload)} of {assembly.state.length} bytes were pending"
                )
            if self.max_message_size is not None and state.length > self.max_message_size:
                raise Malformed(
                    f"message of {state.length} bytes on chunk stream {csid} exceeds the "
                    f"limit of {self.max_message_size}"
                )
            if assembly is None:
                assembly = Assembly(state, bytearray())
            wanted = min(self.chunk_size, assembly.state.length - len(assembly.payload))
            if len(buffer) < at + wanted:
                return None
            assembly.payload += buffer[at : at + wanted]
            consumed = at + wanted
            del self._buffer[:consumed]
            self._offset += consumed
            self._states[csid] = state if assembly.state is state else assembly.state
            if len(assembly.payload) < assembly.state.length:
                self._partial[csid] = assembly
                continue
            self._partial.pop(csid, None)
            done = assembly.state
            return RawMessage(done.type_id, done.stream_id, done.timestamp, bytes(assembly.payload))

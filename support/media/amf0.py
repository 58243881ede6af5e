"""AMF0 (Action Message Format 0): the encoding of RTMP commands and of FLV's script tags.

Python values map to AMF0 types: float/int -> number, bool -> boolean, str -> string (long string
past 65535 bytes), dict -> object, EcmaArray -> ECMA array, list -> strict array, None -> null,
UNDEFINED -> undefined, datetime -> date.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED_MARKER = 0x00, 0x01, 0x02, 0x03, 0x05, 0x06
ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = 0x08, 0x09, 0x0A, 0x0B, 0x0C
END_OF_OBJECT = b"\x00\x00\x09"


class Amf0Error(ValueError):
    """Bytes that are not AMF0, or a value AMF0 cannot hold; the text says what and where."""


class Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = Undefined()


@dataclass(frozen=True)
class EcmaArray:
    """An associative array (onMetaData is one); a dict encodes as an anonymous object instead."""

    items: dict[str, Any]


def encode(*values: Any) -> bytes:
    return b"".join(encode_value(value) for value in values)


def encode_value(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if value is UNDEFINED:
        return bytes([UNDEFINED_MARKER])
    if isinstance(value, bool):
        return bytes([BOOLEAN, value])
    if isinstance(value, int | float):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        data = value.encode()
        if len(data) > 0xFFFF:
            return bytes([LONG_STRING]) + struct.pack(">I", len(data)) + data
        return bytes([STRING]) + struct.pack(">H", len(data)) + data
    if isinstance(value, EcmaArray):
        return bytes([ECMA_ARRAY]) + struct.pack(">I", len(value.items)) + properties(value.items)
    if isinstance(value, dict):
        return bytes([OBJECT]) + properties(value)
    if isinstance(value, list | tuple):
        return bytes([STRICT_ARRAY]) + struct.pack(">I", len(value)) + encode(*value)
    if isinstance(value, datetime):
        milliseconds = value.astimezone(UTC).timestamp() * 1000
        return bytes([DATE]) + struct.pack(">dh", milliseconds, 0)
    raise TypeError(f"AMF0 cannot encode {type(value).__name__}: {value!r}")


def properties(items: dict[str, Any]) -> bytes:
    out = bytearray()
    for key, value in items.items():
        name = key.encode()
        out += struct.pack(">H", len(name)) + name + encode_value(value)
    return bytes(out) + END_OF_OBJECT


def decode(data: bytes) -> list[Any]:
    """Every value in `data`; trailing or truncated bytes are an error naming the offset."""
    values, offset = [], 0
    while offset < len(data):
        value, offset = decode_value(data, offset)
        values.append(value)
    return values


def decode_value(data: bytes, offset: int) -> tuple[Any, int]:
    marker = take(data, offset, 1, "type marker")[0]
    at = offset + 1
    if marker == NUMBER:
        return struct.unpack(">d", take(data, at, 8, "number"))[0], at + 8
    if marker == BOOLEAN:
        return take(data, at, 1, "boolean")[0] != 0, at + 1
    if marker == STRING:
        return read_string(data, at, 2)
    if marker == LONG_STRING:
        return read_string(data, at, 4)
    if marker == OBJECT:
        return read_properties(data, at)
    if marker == NULL:
        return None, at
    if marker == UNDEFINED_MARKER:
        return UNDEFINED, at
    if marker == ECMA_ARRAY:
        take(data, at, 4, "ECMA array count")  # a hint only; the end marker decides
        associative, end = read_properties(data, at + 4)
        return EcmaArray(associative), end
    if marker == STRICT_ARRAY:
        (count,) = struct.unpack(">I", take(data, at, 4, "strict array count"))
        elements: list[Any] = []
        at += 4
        for _ in range(count):
            element, at = decode_value(data, at)
            elements.append(element)
        return elements, at
    if marker == DATE:
        milliseconds, _zone = struct.unpack(">dh", take(data, at, 10, "date"))
        return datetime.fromtimestamp(milliseconds / 1000, UTC), at + 10
    raise Amf0Error(f"AMF0: unsupported type marker 0x{marker:02x} at offset {offset}")


def take(data: bytes, offset: int, size: int, what: str) -> bytes:
    if offset + size > len(data):
        raise Amf0Error(
            f"AMF0: {what} at offset {offset} needs {size} bytes, {len(data) - offset} left"
        )
    return data[offset : offset + size]


def read_string(data: bytes, offset: int, width: int) -> tuple[str, int]:
    (size,) = struct.unpack(
        ">H" if width == 2 else ">I", take(data, offset, width, "string length")
    )
    raw = take(data, offset + width, size, "string")
    try:
        return raw.decode(), offset + width + size
    except UnicodeDecodeError:
        raise Amf0Error(f"AMF0: string at offset {offset} is not UTF-8") from None


def read_properties(data: bytes, offset: int) -> tuple[dict[str, Any], int]:
    items: dict[str, Any] = {}
    while True:
        if data[offset : offset + 3] == END_OF_OBJECT:
            return items, offset + 3
        key, offset = read_string(data, offset, 2)
        items[key], offset = decode_value(data, offset)

"""The codec's exceptions (as h11): what was wrong and where, and, once the connection knows, whose.

The codec below the connection (handshake, chunks, messages, AMF0) cannot know which side broke
the protocol: it raises `Malformed` (RTMP) or `Amf0Error` (AMF0), naming the field and the offset.
The connection, which knows whether it was parsing the peer's bytes or encoding its own message,
turns them into a `RemoteProtocolError` or a `LocalProtocolError`. A bare `ProtocolError` cannot be
raised: every protocol error says whose it is.
"""

from __future__ import annotations

from typing import Any


class Malformed(ValueError):
    """Bytes or a message that do not follow RTMP; the text names the field and the offset."""


class ProtocolError(Exception):
    """RTMP broken by one side; only its two kinds exist."""

    def __new__(cls, *args: Any, **kwargs: Any) -> ProtocolError:
        if cls is ProtocolError:
            raise TypeError(
                "say whose protocol error it is: LocalProtocolError or RemoteProtocolError"
            )
        return super().__new__(cls, *args, **kwargs)


class LocalProtocolError(ProtocolError):
    """We broke the protocol: the suite tried to send something RTMP does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol: bytes it sent cannot be RTMP."""

"""The codec's exceptions: what was wrong, where, and which side broke the protocol (as h11)."""


class ProtocolError(ValueError):
    """Bytes that do not follow RTMP (or AMF0); the message names the field and the offset."""


class LocalProtocolError(ProtocolError):
    """We broke the protocol: the suite tried to send something RTMP does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol: bytes it sent cannot be RTMP."""

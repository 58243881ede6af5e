"""The one exception the codec raises: it says what was wrong and where."""


class ProtocolError(ValueError):
    """Bytes that do not follow RTMP (or AMF0); the message names the field and the offset."""

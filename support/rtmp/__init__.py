"""An RTMP publisher: a sans-I/O codec (handshake, chunk stream, AMF0) and an asyncio client."""

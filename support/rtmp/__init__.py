"""RTMP publishing: a sans-I/O codec and session (handshake, chunks, messages), an asyncio shell."""

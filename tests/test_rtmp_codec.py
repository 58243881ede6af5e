"""The RTMP codec on byte vectors: both directions, whole, byte by byte, and with trailing bytes."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from support.media import amf0
from support.rtmp.chunks import ChunkReader, ChunkWriter, basic_header
from support.rtmp.connection import ClientConnection
from support.rtmp.errors import LocalProtocolError, Malformed, ProtocolError, RemoteProtocolError
from support.rtmp.handshake import SIZE, ClientHandshake
from support.rtmp.messages import (
    PING_REQUEST,
    PING_RESPONSE,
    SET_BUFFER_LENGTH,
    STREAM_BEGIN,
    Abort,
    Acknowledgement,
    CommandMessage,
    DataMessage,
    MediaMessage,
    RawMessage,
    SetChunkSize,
    SetPeerBandwidth,
    UnknownMessage,
    UserControl,
    WindowAckSize,
    from_raw,
    to_raw,
)

# ---- AMF0 ---------------------------------------------------------------------------------

VECTORS = [
    (1.0, bytes.fromhex("003ff0000000000000")),
    (True, bytes.fromhex("0101")),
    (False, bytes.fromhex("0100")),
    ("connect", b"\x02\x00\x07connect"),
    (None, b"\x05"),
    (amf0.UNDEFINED, b"\x06"),
    ({"app": "live"}, b"\x03\x00\x03app\x02\x00\x04live\x00\x00\x09"),
    (
        amf0.EcmaArray({"width": 320.0}),
        b"\x08\x00\x00\x00\x01\x00\x05width\x00" + struct.pack(">d", 320) + b"\x00\x00\x09",
    ),
    ([1.0, "a"], b"\x0a\x00\x00\x00\x02\x00" + struct.pack(">d", 1) + b"\x02\x00\x01a"),
    (datetime(2026, 11, 25, tzinfo=UTC), b"\x0b" + struct.pack(">dh", 1795564800000.0, 0)),
]


@pytest.mark.parametrize(("value", "encoded"), VECTORS)
def test_amf0_encodes_and_decodes_each_type(value: object, encoded: bytes) -> None:
    assert amf0.encode(value) == encoded
    assert amf0.decode(encoded) == [value]


def test_amf0_long_strings_switch_type_past_65535_bytes() -> None:
    text = "x" * 70000
    encoded = amf0.encode(text)
    assert encoded[:5] == b"\x0c" + struct.pack(">I", 70000)
    assert amf0.decode(encoded) == [text]


def test_amf0_nested_command_round_trips() -> None:
    values = [
        "_result",
        1.0,
        {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
        {
            "level": "status",
            "code": "NetConnection.Connect.Success",
            "data": amf0.EcmaArray({"version": "3,5,7,7009"}),
        },
    ]
    assert amf0.decode(amf0.encode(*values)) == values


@pytest.mark.parametrize(
    ("encoded", "complaint"),
    [
        (vector[:cut], "offset")
        for _, vector in VECTORS[:4] + VECTORS[6:9]
        for cut in (1, len(vector) - 1)
        if cut < len(vector)
    ],
)
def test_amf0_truncated_input_names_the_offset(encoded: bytes, complaint: str) -> None:
    with pytest.raises(amf0.Amf0Error, match=complaint):
        amf0.decode(encoded)


def test_amf0_unknown_markers_and_trailing_bytes_are_errors() -> None:
    with pytest.raises(amf0.Amf0Error, match="unsupported type marker 0x11 at offset 0"):
        amf0.decode(b"\x11")
    with pytest.raises(amf0.Amf0Error, match="string length at offset 3"):
        amf0.decode(b"\x05\x05\x02\x00")


def test_amf0_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(TypeError, match="AMF0 cannot encode set"):
        amf0.encode({1})


# ---- messages -----------------------------------------------------------------------------

MESSAGES = [
    (SetChunkSize(4096), RawMessage(1, 0, 0, bytes.fromhex("00001000"))),
    (Abort(5), RawMessage(2, 0, 0, bytes.fromhex("00000005"))),
    (Acknowledgement(5000000), RawMessage(3, 0, 0, struct.pack(">I", 5000000))),
    (UserControl(STREAM_BEGIN, 1), RawMessage(4, 0, 0, bytes.fromhex("000000000001"))),
    (UserControl(PING_REQUEST, 77), RawMessage(4, 0, 0, bytes.fromhex("00060000004d"))),
    (
        UserControl(SET_BUFFER_LENGTH, 1, 3000),
        RawMessage(4, 0, 0, bytes.fromhex("00030000000100000bb8")),
    ),
    (WindowAckSize(5000000), RawMessage(5, 0, 0, struct.pack(">I", 5000000))),
    (SetPeerBandwidth(5000000, 2), RawMessage(6, 0, 0, struct.pack(">IB", 5000000, 2))),
    (
        CommandMessage("createStream", 4.0, None),
        RawMessage(20, 0, 0, amf0.encode("createStream", 4.0, None)),
    ),
    (
        CommandMessage("publish", 5.0, None, ("key", "live"), 1),
        RawMessage(20, 1, 0, amf0.encode("publish", 5.0, None, "key", "live")),
    ),
    (
        DataMessage(("@setDataFrame", "onMetaData", amf0.EcmaArray({"width": 320.0})), 1),
        RawMessage(
            18, 1, 0, amf0.encode("@setDataFrame", "onMetaData", amf0.EcmaArray({"width": 320.0}))
        ),
    ),
    (MediaMessage(9, 40, b"\x17\x01video"), RawMessage(9, 1, 40, b"\x17\x01video")),
]


@pytest.mark.parametrize(("message", "raw"), MESSAGES)
def test_messages_serialise_and_parse_back(message: object, raw: RawMessage) -> None:
    assert to_raw(message) == raw  # type: ignore[arg-type]
    assert from_raw(raw) == message


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (RawMessage(1, 0, 0, b"\x00\x10"), "type 1 has 2 bytes, expected 4"),
        (RawMessage(6, 0, 0, b"\x00" * 6), "type 6 has 6 bytes, expected 5"),
        (RawMessage(4, 0, 0, b"\x00\x06"), "user control message of 2 bytes"),
        (RawMessage(20, 0, 0, amf0.encode(1.0, "x")), "command message without a name"),
    ],
)
def test_malformed_messages_say_what_is_wrong(raw: RawMessage, complaint: str) -> None:
    with pytest.raises(Malformed, match=complaint):
        from_raw(raw)


def test_a_notification_without_a_transaction_id_is_a_command() -> None:
    """ffmpeg's RTMP listener sends a bare ['onFCPublish'] after FCPublish."""
    raw = RawMessage(20, 0, 0, amf0.encode("onFCPublish"))
    assert from_raw(raw) == CommandMessage("onFCPublish", 0.0)


def test_a_message_type_the_publisher_does_not_use_is_kept_not_refused() -> None:
    raw = RawMessage(22, 1, 40, b"aggregate")
    message = from_raw(raw)
    assert message == UnknownMessage(22, 1, b"aggregate")
    assert to_raw(message) == RawMessage(22, 1, 0, b"aggregate")


# ---- chunk stream -------------------------------------------------------------------------


def test_basic_headers_use_one_two_or_three_bytes() -> None:
    assert basic_header(0, 3) == b"\x03"
    assert basic_header(1, 64) == b"\x40\x00"
    assert basic_header(2, 319) == b"\x80\xff"
    assert basic_header(3, 320) == b"\xc1\x00\x01"
    assert basic_header(0, 65599) == b"\x01\xff\xff"
    with pytest.raises(Malformed):
        basic_header(0, 1)


def test_a_first_message_is_one_type_0_chunk() -> None:
    raw = RawMessage(20, 0, 0, amf0.encode("createStream", 4.0, None))
    chunk = ChunkWriter(128).write(raw, 3)
    assert (
        chunk[:12]
        == b"\x03"
        + b"\x00\x00\x00"
        + len(raw.payload).to_bytes(3, "big")
        + b"\x14"
        + b"\x00\x00\x00\x00"
    )
    assert chunk[12:] == raw.payload


def test_following_headers_shrink_through_types_1_2_and_3() -> None:
    writer = ChunkWriter(4096)
    frames = [
        RawMessage(9, 1, t, b"v" * size)
        for t, size in ((0, 10), (40, 12), (80, 12), (120, 12), (130, 12))
    ]
    formats = [writer.write(frame, 6)[0] >> 6 for frame in frames]
    assert formats == [0, 1, 3, 3, 2]


def test_a_long_message_continues_in_type_3_chunks() -> None:
    raw = RawMessage(9, 1, 0, bytes(range(256)) * 2)
    data = ChunkWriter(128).write(raw, 6)
    assert len(data) == 12 + 128 + 3 * (1 + 128)
    assert data[12 + 128] == 0xC6


def test_extended_timestamps_are_written_and_repeated_on_continuations() -> None:
    raw = RawMessage(8, 1, 0x01000000, b"a" * 200)
    data = ChunkWriter(128).write(raw, 4)
    assert data[1:4] == b"\xff\xff\xff"
    assert data[12:16] == b"\x01\x00\x00\x00"
    continuation = data[16 + 128 :]
    assert continuation[:5] == b"\xc4\x01\x00\x00\x00"
    assert ChunkReader(128).feed(data) == [raw]


STREAM = [
    RawMessage(20, 0, 0, amf0.encode("connect", 1.0, {"app": "live", "tcUrl": "rtmp://h/live"})),
    RawMessage(9, 1, 0, b"\x17\x00" + b"k" * 300),
    RawMessage(8, 1, 23, b"\xaf\x01" + b"a" * 20),
    RawMessage(8, 1, 46, b"\xaf\x01" + b"a" * 20),
    RawMessage(8, 1, 69, b"\xaf\x01" + b"a" * 20),
    RawMessage(9, 1, 40, b"\x27\x01" + b"p" * 150),
    RawMessage(9, 1, 0x01000028, b"\x27\x01" + b"p" * 150),
    RawMessage(9, 1, 0x01000050, b"\x27\x01" + b"p" * 150),
    RawMessage(20, 1, 0, amf0.encode("FCUnpublish", 6.0, None, "key")),
]


def stream_bytes(chunk_size: int = 128) -> bytes:
    writer = ChunkWriter(chunk_size)
    return b"".join(
        writer.write(raw, {20: 3, 9: 6, 8: 4}[raw.type_id] + raw.stream_id) for raw in STREAM
    )


def test_the_reader_puts_a_whole_stream_back_together() -> None:
    assert ChunkReader(128).feed(stream_bytes()) == STREAM


def test_the_reader_takes_the_stream_byte_by_byte() -> None:
    reader, got = ChunkReader(128), []
    for byte in stream_bytes():
        got += reader.feed(bytes([byte]))
    assert got == STREAM


def test_the_reader_keeps_trailing_bytes_for_later() -> None:
    data = stream_bytes()
    first = ChunkWriter(128).write(STREAM[0], 3)
    reader = ChunkReader(128)
    assert reader.feed(first + data[:5]) == [STREAM[0]]
    assert reader.buffered == 5


def test_a_chunk_size_change_applies_to_the_next_chunk_in_the_same_read() -> None:
    writer = ChunkWriter(128)
    data = writer.write(to_raw(SetChunkSize(4096)), 2)
    writer.chunk_size = 4096
    big = RawMessage(9, 1, 0, b"x" * 3000)
    data += writer.write(big, 6)
    reader = ChunkReader(128)
    assert reader.feed(data) == [to_raw(SetChunkSize(4096)), big]
    assert reader.chunk_size == 4096


def test_an_abort_drops_the_partial_message() -> None:
    writer = ChunkWriter(128)
    partial = writer.write(RawMessage(9, 1, 0, b"x" * 300), 6)[: 12 + 128]
    abort = ChunkWriter(128).write(to_raw(Abort(6)), 2)
    fresh = ChunkWriter(128).write(RawMessage(9, 1, 0, b"y" * 10), 6)
    assert ChunkReader(128).feed(partial + abort + fresh)[-1] == RawMessage(9, 1, 0, b"y" * 10)


def test_reader_errors_say_where() -> None:
    with pytest.raises(
        Malformed, match="format 1 on chunk stream 3 at byte 0 has no previous header"
    ):
        ChunkReader().feed(b"\x43" + b"\x00" * 7)
    with pytest.raises(Malformed, match="exceeds the limit of 100"):
        ChunkReader(max_message_size=100).feed(
            ChunkWriter().write(RawMessage(9, 1, 0, b"x" * 101), 6)
        )


# ---- handshake and connection --------------------------------------------------------------


def server_answer(c0c1: bytes, s1_random: bytes = b"s" * (SIZE - 8)) -> bytes:
    return b"\x03" + b"\x00" * 4 + b"\x0d\x0e\x0a\x0d" + s1_random + c0c1[1:]


def test_the_handshake_checks_s0_and_s2_and_echoes_s1() -> None:
    handshake = ClientHandshake(random=b"r" * (SIZE - 8))
    c0c1 = handshake.start()
    assert len(c0c1) == 1 + SIZE
    assert c0c1[0] == 3
    answer = server_answer(c0c1) + b"\x02trailing"
    c2, rest = b"", b""
    for byte in answer:
        reply, extra = handshake.receive(bytes([byte]))
        c2, rest = c2 + reply, rest + extra
    assert handshake.done
    assert c2 == answer[1 : 1 + SIZE]
    assert rest == b"\x02trailing"


def test_a_wrong_version_or_echo_fails_the_handshake() -> None:
    with pytest.raises(Malformed, match="answered RTMP version 6, expected 3"):
        ClientHandshake().receive(b"\x06")
    handshake = ClientHandshake()
    answer = bytearray(server_answer(handshake.start()))
    answer[-1] ^= 0xFF
    with pytest.raises(Malformed, match="S2 does not echo"):
        handshake.receive(bytes(answer))


def test_the_connection_answers_pings_and_acknowledges_the_window() -> None:
    connection = ClientConnection(random=b"r" * (SIZE - 8))
    connection.start()
    c0c1 = connection.data_to_send()
    server = ChunkWriter(128)
    data = server_answer(c0c1)
    data += server.write(to_raw(WindowAckSize(3000)), 2)
    data += server.write(to_raw(UserControl(PING_REQUEST, 99)), 2)
    messages = connection.receive_data(data)
    assert messages == [WindowAckSize(3000), UserControl(PING_REQUEST, 99)]
    replies = ChunkReader(128).feed(connection.data_to_send()[SIZE:])
    assert [from_raw(raw) for raw in replies] == [
        UserControl(PING_RESPONSE, 99),
        Acknowledgement(len(data)),
    ]


def test_nothing_is_sent_before_the_handshake() -> None:
    with pytest.raises(LocalProtocolError, match="before the handshake"):
        ClientConnection().send(SetChunkSize(4096))


def test_bytes_that_break_rtmp_are_the_servers_fault() -> None:
    connection = ClientConnection(random=bytes(SIZE - 8))
    connection.start()
    with pytest.raises(RemoteProtocolError, match=r"server broke RTMP: handshake: .* version 6"):
        connection.receive_data(b"\x06" + bytes(2 * SIZE))


def test_a_protocol_error_always_says_whose_it_is() -> None:
    with pytest.raises(TypeError, match="say whose"):
        ProtocolError("nobody's")
    assert isinstance(RemoteProtocolError("theirs"), ProtocolError)


def test_after_the_server_broke_rtmp_nothing_more_is_read() -> None:
    """h11's ERROR state: bytes after a broken frame are refused, not parsed into messages."""
    connection = ClientConnection(random=bytes(SIZE - 8))
    connection.start()
    c0c1 = connection.data_to_send()
    with pytest.raises(RemoteProtocolError, match="format 1 on chunk stream 3"):
        connection.receive_data(server_answer(c0c1) + b"\x43" + b"\x00" * 7)
    valid = ChunkWriter(128).write(to_raw(WindowAckSize(3000)), 2)
    with pytest.raises(
        RemoteProtocolError, match=r"already broke RTMP .* nothing after it is read"
    ):
        connection.receive_data(valid)
    assert connection.peer_window is None


def test_a_message_the_codec_cannot_encode_is_the_suites_error() -> None:
    connection = ClientConnection(random=bytes(SIZE - 8))
    connection.start()
    c0c1 = connection.data_to_send()
    connection.receive_data(server_answer(c0c1))
    with pytest.raises(LocalProtocolError, match="the suite cannot send SetChunkSize"):
        connection.send(SetChunkSize(0))


def test_a_chunk_size_of_zero_is_the_peers_protocol_error() -> None:
    """RTMP 5.4.1: the chunk size is 1 to 2^31-1; with 0 no message could ever complete."""
    writer = ChunkWriter()
    data = writer.write(RawMessage(1, 0, 0, struct.pack(">I", 0)), 2)
    with pytest.raises(Malformed, match="chunk size 0"):
        ChunkReader().feed(data + writer.write(RawMessage(20, 0, 0, b"abc"), 3))

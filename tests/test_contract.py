"""The contract checker catches what breaks the contract and passes what honours it."""

from __future__ import annotations

import uuid

import pytest

from support.core.contract import ContractViolation, check_response

CREATED = {
    "stream_id": str(uuid.uuid4()),
    "stream_key": "k" * 32,
    "rtmp_url": "rtmp://127.0.0.1:1935/live",
    "publish_url": "rtmp://127.0.0.1:1935/live/x?key=k",
    "hls_url": "http://127.0.0.1/hls/x/index.m3u8",
    "status": "preparing",
    "reconnect_window_seconds": 0,
    "created_at": "2026-11-25T08:00:00.000Z",
}


def test_an_answer_that_honours_the_contract_passes() -> None:
    check_response("POST", "/api/v1/streams", 201, CREATED)
    check_response(
        "GET", f"/api/v1/streams/{uuid.uuid4()}", 404, {"error": "not_found", "message": "no"}
    )


@pytest.mark.parametrize(
    ("status", "body", "complaint"),
    [
        (201, {**CREATED, "status": "live"}, "at $.status"),
        (
            201,
            {k: v for k, v in CREATED.items() if k != "stream_key"},
            "'stream_key' is a required property",
        ),
        (201, {**CREATED, "stream_id": "not-a-uuid"}, "at $.stream_id"),
        (
            500,
            {"error": "internal_error", "message": "boom"},
            "answered 500, which the contract does not allow",
        ),
        (401, {"detail": "no"}, "'error' is a required property"),
    ],
)
def test_an_answer_that_breaks_the_contract_says_where(
    status: int, body: object, complaint: str
) -> None:
    with pytest.raises(ContractViolation) as broken:
        check_response("POST", "/api/v1/streams", status, body)
    assert complaint in str(broken.value)


def test_an_undocumented_operation_is_a_violation() -> None:
    with pytest.raises(ContractViolation, match="PATCH /api/v1/streams is not an operation"):
        check_response("PATCH", "/api/v1/streams", 200, {})

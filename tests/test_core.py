"""The bottom floor's small helpers: RFC 3339 timestamps and the open-files limit."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from support.core.limits import allow_open_files
from support.core.timestamps import parse_rfc3339


def test_a_timestamp_ending_in_z_is_utc() -> None:
    assert parse_rfc3339("2026-12-02T09:30:00.250Z") == datetime(2026, 12, 2, 9, 30, 0, 250000, UTC)
    assert parse_rfc3339("2026-12-02T10:30:00+01:00") == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-12-02T09:30:00", "yesterday", ""])
def test_a_timestamp_without_an_offset_or_not_one_at_all_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"Invalid isoformat|names its offset"):
        parse_rfc3339(text)


@pytest.fixture
def limits() -> Iterator[tuple[int, int]]:
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield before
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_the_open_files_limit_rises_to_what_is_wanted_and_no_further(
    limits: tuple[int, int],
) -> None:
    _, hard = limits
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    allow_open_files(300)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 300
    allow_open_files(100)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 300, "the limit went down"
    if hard != resource.RLIM_INFINITY:
        allow_open_files(hard + 1)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        allow_open_files()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard

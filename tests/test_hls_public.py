"""Public playlists from other HLS parsers' test fixtures, each with the verdict RFC 8216 gives.

Sources, commits and licences: tests/fixtures/hls/public/README.md. A verdict names the rules
that fail (MUST) and warn (SHOULD); every other rule passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.core.verdict import Rule, failures, warnings
from support.hls import playlist as rules
from support.hls.playlist import check_playlist

PUBLIC = Path(__file__).parent / "fixtures" / "hls" / "public"

VERDICTS: dict[str, tuple[set[Rule], set[Rule]]] = {
    # (failing MUSTs, warning SHOULDs)
    "grafov-m3u8/media-playlist-with-byterange": (set(), set()),
    "grafov-m3u8/media-playlist-with-discontinuity-seq": (set(), set()),
    # Two comment lines before #EXTM3U, which MUST be the first line (4.3.1.1).
    "grafov-m3u8/media-playlist-with-discontinuity": ({rules.EXTM3U_FIRST}, set()),
    # A date without milliseconds (4.3.2.6 SHOULD).
    "grafov-m3u8/media-playlist-with-program-date-time": (set(), {rules.DATE_TIME_PRECISE}),
    # Tags the RFC does not know, and comments, are ignored (4.1).
    "grafov-m3u8/media-playlist-with-custom-tags": (set(), set()),
    "grafov-m3u8/media-playlist-with-start-time": (set(), set()),
    # Titles with spaces after EXTINF's comma are allowed (4.3.2.1).
    "grafov-m3u8/wowza-vod-chunklist": (set(), set()),
    # The file ends on an EXTINF with no URI after it (4.3.2.1).
    "grafov-m3u8/media-playlist-with-cue-out-in-without-oatcls": ({rules.EXTINF_THEN_URI}, set()),
    "globocom-m3u8/simple-playlist": (set(), set()),
    "globocom-m3u8/sliding-window-playlist": (set(), set()),
    "globocom-m3u8/playlist-with-encrypted-segments": (set(), set()),
    "globocom-m3u8/playlist-using-byteranges": (set(), set()),
    "globocom-m3u8/map-uri-playlist-with-byterange": (set(), set()),
    "globocom-m3u8/multiple-map-uri-playlist": (set(), set()),
    "globocom-m3u8/playlist-with-keyformat-and-keyformatversions": (set(), set()),
    "globocom-m3u8/simple-playlist-with-discontinuity-sequence": (set(), set()),
    "globocom-m3u8/discontinuity-playlist-with-program-date-time": (set(), set()),
    "globocom-m3u8/simple-playlist-with-program-date-time": (set(), {rules.DATE_TIME_PRECISE}),
    # A floating-point EXTINF needs version 3; no EXT-X-VERSION means version 1 (7).
    "globocom-m3u8/playlist-with-non-integer-duration": ({rules.VERSION_COVERS}, set()),
    # "URI=...", IV=...": a space in an attribute list (4.2: no whitespace).
    "globocom-m3u8/playlist-with-encrypted-segments-and-iv": ({rules.NO_WHITESPACE}, set()),
    # A line "JUNK" is a URI with no EXTINF (4.3.2.1).
    "globocom-m3u8/simple-playlist-messy": ({rules.URI_HAS_EXTINF}, set()),
    # No EXT-X-TARGETDURATION, which is REQUIRED (4.3.3.1).
    "globocom-m3u8/simple-playlist-title-comma": ({rules.ONE_TARGET}, set()),
    "globocom-m3u8/simple-playlist-with-event-playlist-type": (
        {rules.ONE_TARGET, rules.VERSION_COVERS}, set(),
    ),
    "globocom-m3u8/simple-playlist-with-vod-playlist-type": (
        {rules.ONE_TARGET, rules.VERSION_COVERS}, set(),
    ),
    "globocom-m3u8/simple-playlist-commaless-extinf": ({rules.EXTINF_FORMAT}, set()),
    # -2680 is not a decimal-integer, and a client cannot number the segments (4.2, 4.3.3.2).
    "globocom-m3u8/playlist-with-negative-media-sequence": ({rules.INTEGERS, rules.PARSES}, set()),
}  # fmt: skip


def test_every_public_playlist_has_a_verdict() -> None:
    files = {str(path.relative_to(PUBLIC).with_suffix("")) for path in PUBLIC.glob("*/*.m3u8")}
    assert files == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_a_public_playlist_gets_the_rfcs_verdict(name: str) -> None:
    checks = check_playlist((PUBLIC / f"{name}.m3u8").read_text())
    failing, warning = VERDICTS[name]
    assert {c.rule for c in failures(checks)} == failing, [str(c) for c in failures(checks)]
    assert {c.rule for c in warnings(checks)} == warning, [str(c) for c in warnings(checks)]

"""The service's playlists carry the EXT-X-DISCONTINUITY-SEQUENCE nginx-rtmp omits."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from reference_service import playlists
from support.core.verdict import failures
from support.hls.playlist import Playlist, check_playlist
from support.hls.reloads import compare


def written(sequence: int, discontinuous: set[int], count: int = 4) -> str:
    """A playlist as nginx-rtmp writes it: no EXT-X-DISCONTINUITY-SEQUENCE."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-MEDIA-SEQUENCE:{sequence}",
             "#EXT-X-TARGETDURATION:1"]  # fmt: skip
    for n in range(sequence, sequence + count):
        lines += ["#EXT-X-DISCONTINUITY"] if n in discontinuous else []
        lines += ["#EXTINF:1.000,", f"{n}.ts"]
    return "\n".join(lines) + "\n"


def served(directory: Path, text: str) -> Playlist:
    (directory / playlists.PLAYLIST).write_text(text)
    observed = playlists.observe(directory)
    assert observed is not None
    assert failures(check_playlist(observed)) == []
    return Playlist.parse(observed)


def test_each_discontinuity_that_leaves_raises_the_sequence(tmp_path: Path) -> None:
    """A first fragment's discontinuity, and a later one (a publisher that came back), slide
    out of the window: each kept segment keeps its discontinuity number (RFC 8216 6.2.2)."""
    breaks = {0, 6}
    reloads = [served(tmp_path, written(first, breaks)) for first in range(9)]
    assert [p.discontinuity_sequence for p in reloads] == [0, 1, 1, 1, 1, 1, 1, 2, 2]
    for before, after in pairwise(reloads):
        assert failures(compare(before, after)) == []


def test_nginx_rtmps_own_playlist_breaks_the_rule_the_service_keeps(tmp_path: Path) -> None:
    """Without the service, the same two reloads fail: the check is not vacuous here."""
    before, after = Playlist.parse(written(0, {0})), Playlist.parse(written(1, {0}))
    assert failures(compare(before, after)) != []
    assert (
        failures(compare(served(tmp_path, written(0, {0})), served(tmp_path, written(1, {0}))))
        == []
    )


def test_the_record_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    served(tmp_path, written(0, {0}))
    assert playlists.recorded(tmp_path) == {0}
    assert served(tmp_path, written(5, set())).discontinuity_sequence == 1


def test_no_playlist_is_none(tmp_path: Path) -> None:
    assert playlists.observe(tmp_path / "not-live") is None

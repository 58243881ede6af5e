"""The analytics consumer's supervisor: a crash is started again, an exit is final."""

from __future__ import annotations

import sys
from pathlib import Path

from reference_service.supervise import supervise

CRASH_ONCE = """
import os, signal, sys, pathlib
marker = pathlib.Path(sys.argv[1])
if not marker.exists():
    marker.write_text("crashed")
    os.kill(os.getpid(), signal.SIGSEGV)
sys.exit(3)
"""


def test_a_consumer_killed_by_a_signal_is_started_again(tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    assert supervise([sys.executable, "-c", CRASH_ONCE, str(marker)]) == 3
    assert marker.read_text() == "crashed"


def test_a_consumer_that_exits_is_not_started_again(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    count = f"import pathlib; p = pathlib.Path({str(runs)!r}); p.write_text(p.read_text() + 'x')"
    runs.write_text("")
    assert supervise([sys.executable, "-c", count]) == 0
    assert runs.read_text() == "x"

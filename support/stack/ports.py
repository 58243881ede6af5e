"""Free ports for an embedded stack, claimed so that stacks booting side by side never share one.

port_for picks a port nobody listens on *now*; two stacks booting at once (parallel workers,
the mutant runner) can both pick a port before either binds it, and the later server then
finds it taken. A claim is an exclusive flock on a file named after the port, held until the
stack stops or its process dies (the kernel drops the lock), so a port another stack claimed is
skipped.
"""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path
from typing import IO

import port_for

CLAIMS = Path(tempfile.gettempdir()) / "nova-acceptance-ports"


class PortClaims:
    def __init__(self, directory: Path = CLAIMS) -> None:
        self.directory = directory
        self.held: list[IO[str]] = []

    def claim(self, count: int) -> list[int]:
        """`count` distinct ports free now and claimed by no other stack."""
        self.directory.mkdir(parents=True, exist_ok=True)
        chosen: list[int] = []
        tried: set[int] = set()
        while len(chosen) < count:
            port = port_for.select_random(exclude_ports=tried)
            tried.add(port)
            handle = (self.directory / str(port)).open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.held.append(handle)
            chosen.append(port)
        return chosen

    def release(self) -> None:
        for handle in self.held:
            handle.close()
        self.held.clear()

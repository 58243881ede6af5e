"""ffmpeg as a broadcaster's encoder: an RTMP publisher nobody here wrote.

It sends the suite's media fixture in a loop, in real time (-re), copied as it is, for as long
as it runs; `kill` is a crash (SIGKILL: no goodbye on the connection).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from support.media.fixture import fixture_path


class FfmpegUnavailable(RuntimeError):
    """ffmpeg is not installed."""


@dataclass
class FfmpegPublisher:
    url: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if shutil.which("ffmpeg") is None:
            raise FfmpegUnavailable("the ffmpeg scenarios need ffmpeg; run make bootstrap")
        self.process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
             "-i", str(fixture_path()), "-c", "copy", "-f", "flv", self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

"""A supervisor for the analytics consumer.

librdkafka has crashed (SIGSEGV) inside the consumer, about once in ten restarts of a broker
that came back without its topics. The consumer commits its offsets only after ClickHouse has
the rows and the rows are keyed by event id, so starting it again loses nothing and counts
nothing twice: a consumer killed by a signal is started again, and the crash is logged at
ERROR. One that exits by itself (or is told to stop) ends the supervisor with its exit code.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from types import FrameType

log = logging.getLogger("reference_service.supervise")

SUPERVISOR_PID = "NOVA_SUPERVISOR_PID"  # the pid the supervised consumer reports as its own
RESTART_AFTER = 0.5


def supervise(command: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        child = subprocess.Popen(command, env={**os.environ, SUPERVISOR_PID: str(os.getpid())})
        code = child.wait()
        if stopping:
            return 0
        if code >= 0:
            return code
        log.error("the analytics consumer died of signal %d; starting it again", -code)
        time.sleep(RESTART_AFTER)

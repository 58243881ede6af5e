"""One server of the embedded stack: start, readiness, crash detection, stop.

Built on mirakuru's Executor: it refuses to start when a port is already held, polls a readiness
check, and notices a process that dies while starting. What this adds is the message: whatever goes
wrong names the server and quotes the last lines of its log.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from mirakuru import AlreadyRunning, Executor, ProcessExitedWithError, TimeoutExpired

LOG_TAIL_LINES = 15


class StackError(RuntimeError):
    """A server of the stack could not be started, or stopped badly."""


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    last = text.rstrip("\n").splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in last) if last else f"(empty log at {path})"


class Server(Executor):
    """A server process with its log file, its ports and a readiness probe."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        log: Path,
        ports: Sequence[int],
        ready: Callable[[], bool],
        extra_logs: Sequence[Path] = (),
        timeout: float = 20.0,
        stop_signal: int = signal.SIGTERM,
        env: dict[str, str] | None = None,
        user: str | None = None,
    ) -> None:
        popen_kwargs: dict[str, Any] = {}
        if user is not None:
            popen_kwargs.update(user=user, group=user, extra_groups=[])
        self.name = name
        self.log = log
        self.logs = (log, *extra_logs)
        self.ports = tuple(ports)
        self._ready = ready
        self._log_file: IO[bytes] | None = None
        super().__init__(
            list(command),
            timeout=timeout,
            sleep=0.02,
            stop_signal=stop_signal,
            envvars=env or {},
            stdin=subprocess.DEVNULL,
            stdout=None,
            stderr=None,
            popen_kwargs=popen_kwargs,
        )

    def pre_start_check(self) -> bool:
        return any(port_is_open(port) for port in self.ports)

    def after_start_check(self) -> bool:
        return self._ready()

    def start(self) -> Server:
        self._log_file = self.log.open("ab")
        self._stdout = self._stderr = self._log_file
        try:
            super().start()
        except AlreadyRunning:
            self._close_log()
            held = [port for port in self.ports if port_is_open(port)]
            raise StackError(
                f"{self.name}: port {held} is already in use by another process; refusing to start"
            ) from None
        except ProcessExitedWithError as error:
            self._close_log()
            raise StackError(
                f"{self.name} exited with code {error.exit_code} while starting "
                f"({self.command}). Last lines of {self.log}:\n{self.last_log_lines()}"
            ) from None
        except TimeoutExpired:
            self._close_log()
            raise StackError(
                f"{self.name} did not get ready within {self._timeout:.0f} s "
                f"({self.command}). Last lines of {self.log}:\n{self.last_log_lines()}"
            ) from None
        return self

    def stop(
        self, stop_signal: int | None = None, expected_returncode: int | None = None
    ) -> Server:
        try:
            super().stop(stop_signal, expected_returncode)
        finally:
            self._close_log()
        return self

    def last_log_lines(self) -> str:
        return "\n".join(tail(log) for log in self.logs)

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

"""One server of the embedded stack: start, readiness, crash detection, stop.

Built on mirakuru's executors, which refuse to start when a port is already held, poll a
readiness check, and notice a process that dies while starting: `HttpServer` is ready when a
URL answers (mirakuru's HTTPExecutor), `TcpServer` when a port accepts (TCPExecutor),
`CheckedServer` when a check of its own holds (a database login, a Redis PING). What `Server`
adds is the message: whatever goes wrong names the server and quotes the last lines of its log.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mirakuru import (
    AlreadyRunning,
    Executor,
    HTTPExecutor,
    ProcessExitedWithError,
    TCPExecutor,
    TimeoutExpired,
)

LOG_TAIL_LINES = 15


class StackError(RuntimeError):
    """A server of the stack could not be started, or stopped badly."""


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts connections on the port (what mirakuru's TCPExecutor checks too)."""
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
    """What every server of the stack adds to its executor: a name, a log file its output goes
    to (kept open across restarts), the ports it must find free, and errors that say why."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        log: Path,
        ports: Sequence[int],
        extra_logs: Sequence[Path] = (),
        timeout: float = 20.0,
        stop_signal: int = signal.SIGTERM,
        env: dict[str, str] | None = None,
        user: str | None = None,
        **executor: Any,
    ) -> None:
        popen_kwargs: dict[str, Any] = {}
        if user is not None:
            popen_kwargs.update(user=user, group=user, extra_groups=[])
        self.name = name
        self.log = log
        self.logs = (log, *extra_logs)
        self.ports = tuple(ports)
        self.timeout = timeout
        self.log_file = log.open("ab")
        super().__init__(
            list(command),
            timeout=timeout,
            sleep=0.02,
            stop_signal=stop_signal,
            envvars=env or {},
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=self.log_file,
            popen_kwargs=popen_kwargs,
            **executor,
        )

    def pre_start_check(self) -> bool:
        """Someone already listens on one of the ports (mirakuru then refuses to start)."""
        return any(port_is_open(port) for port in self.ports)

    def start(self) -> Server:
        try:
            super().start()
        except AlreadyRunning:
            held = [port for port in self.ports if port_is_open(port)]
            raise StackError(
                f"{self.name}: port {held} is already in use by another process; refusing to start"
            ) from None
        except ProcessExitedWithError as error:
            raise StackError(
                f"{self.name} exited with code {error.exit_code} while starting "
                f"({self.command}). Last lines of {self.log}:\n"
                f"{self.last_log_lines()}"
            ) from None
        except TimeoutExpired:
            raise StackError(
                f"{self.name} did not get ready within {self.timeout:.0f} s "
                f"({self.command}). Last lines of {self.log}:\n"
                f"{self.last_log_lines()}"
            ) from None
        return self

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (for a profiler to attach to)."""
        return self.process.pid if self.process is not None else None

    def last_log_lines(self) -> str:
        return "\n".join(tail(log) for log in self.logs)

    def close(self) -> None:
        """After the last stop: the log file goes."""
        self.log_file.close()


class CheckedServer(Server):
    """Ready when a check of its own holds: a database login, a Redis PING, a file written."""

    def __init__(self, name: str, command: Sequence[str], *, ready: Callable[[], bool],
                 **managed: Any) -> None:  # fmt: skip
        self.ready = ready
        super().__init__(name, command, **managed)

    def after_start_check(self) -> bool:
        return self.ready()


class HttpServer(Server, HTTPExecutor):
    """Ready when `url` answers 200 to a GET (mirakuru's HTTPExecutor)."""

    def __init__(self, name: str, command: Sequence[str], *, url: str, **managed: Any) -> None:
        super().__init__(name, command, url=url, status=200, method="GET", **managed)


class TcpServer(Server, TCPExecutor):
    """Ready when its first port accepts a connection (mirakuru's TCPExecutor)."""

    def after_start_check(self) -> bool:
        # TCPExecutor's readiness calls pre_start_check, which Server answers for every port.
        return bool(TCPExecutor.pre_start_check(self))

    def __init__(self, name: str, command: Sequence[str], **managed: Any) -> None:
        super().__init__(name, command, host="127.0.0.1", port=managed["ports"][0], **managed)

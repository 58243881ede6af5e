"""The nemesis: faults drawn from a seed, done to the servers of the embedded stack.

`plan` is pure: from the seed it draws when each fault begins, which servers it takes (one, or
several at once), what it does to them and for how long, from under a second to longer than any
of the platform's timers. `Nemesis` carries a plan out on an `EmbeddedStack`: `kill` stops the
server (its own stop signal) and starts it again after the duration, `pause` sends SIGSTOP to
its whole process group and SIGCONT after, `restart` stops and starts it at once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass

from support.chaos.history import OK, Fault, History
from support.stack import EmbeddedStack

SERVERS = ("postgres", "redis", "kafka", "clickhouse", "nginx", "service", "analytics")
ACTIONS = ("kill", "pause", "restart")
SHORTEST, LONGEST = 0.3, 14.0  # seconds a fault lasts: from a blip to past every timer (6 s)
GAPS = (1.0, 6.0)  # seconds between one fault healed and the next
SEVERAL = 0.3  # how often a fault takes two servers at once


@dataclass(frozen=True)
class Planned:
    after: float  # seconds after the previous fault healed
    servers: tuple[str, ...]
    action: str
    duration: float

    def describe(self) -> str:
        servers = ", ".join(self.servers)
        return f"+{self.after:.1f} s: {self.action} {servers} for {self.duration:.1f} s"


def plan(seed: int, seconds: float, servers: tuple[str, ...] = SERVERS) -> list[Planned]:
    """Faults that fill `seconds` of a run, the same for the same seed."""
    draw = random.Random(seed)  # noqa: S311 - reproducible on purpose
    faults: list[Planned] = []
    used = 0.0
    while True:
        after = draw.uniform(*GAPS)
        many = 2 if draw.random() < SEVERAL else 1
        taken = tuple(sorted(draw.sample(servers, many)))
        action = draw.choice(ACTIONS)
        # Log-uniform: as many blips under a second as outages longer than the timers.
        duration = 0.0 if action == "restart" else SHORTEST * (LONGEST / SHORTEST) ** draw.random()
        if used + after + duration > seconds:
            return faults
        faults.append(Planned(after, taken, action, round(duration, 2)))
        used += after + duration


class Nemesis:
    def __init__(self, stack: EmbeddedStack, history: History) -> None:
        self.stack = stack
        self.history = history

    async def run(self, planned: list[Planned]) -> None:
        for fault in planned:
            await asyncio.sleep(fault.after)
            await asyncio.gather(*(self._do(server, fault) for server in fault.servers))

    async def _do(self, server: str, planned: Planned) -> None:
        fault = Fault(server, planned.action, time.time())
        self.history.faults.append(fault)
        try:
            if planned.action == "pause":
                self._signal(server, signal.SIGSTOP)
                await asyncio.sleep(planned.duration)
                self._signal(server, signal.SIGCONT)
            else:
                await self._stop(server)
                await asyncio.sleep(planned.duration)
                await self._start(server)
        finally:
            fault.healed = time.time()

    async def _stop(self, server: str) -> None:
        """Stop it; one that had already exited by itself is recorded as a crash."""
        try:
            await asyncio.to_thread(self.stack.stop_server, server)
        except Exception as error:
            crash = self.history.invoke("nemesis", "crash", None)
            self.history.complete(crash, OK, detail=f"{server}: {error}"[:300])

    async def _start(self, server: str) -> None:
        """Start it; one that does not start is recorded and tried again until it does."""
        while True:
            try:
                await asyncio.to_thread(self.stack.start_server, server)
            except Exception as error:
                failed = self.history.invoke("nemesis", "crash", None)
                self.history.complete(failed, OK, detail=f"{server} did not start: {error}"[:300])
                await asyncio.sleep(1.0)
            else:
                return

    def _signal(self, server: str, sig: signal.Signals) -> None:
        pid = self.stack.servers[server].pid
        if pid is not None:
            os.killpg(pid, sig)

    def heal(self) -> None:
        """Every server running and none paused: after the run, or when it is interrupted."""
        for server in SERVERS:
            self._signal(server, signal.SIGCONT)
            self.stack.ensure_running(server)
